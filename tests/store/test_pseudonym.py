"""Pseudonyms and keys: deterministic, key-dependent, from argument, environment or file."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from store_helpers import KEY, OTHER_KEY

from oncoresist.errors import OncoresistError
from oncoresist.store import StoreKeyError, new_key, pseudonym, resolve_key


def test_pseudonyms_are_deterministic_and_depend_on_the_key() -> None:
    a = pseudonym(KEY, "patient", "ILLUS-P1")
    assert a == pseudonym(KEY, "patient", "ILLUS-P1")
    assert a == pseudonym(KEY, "patient", "  ILLUS-P1 ")
    assert len(a) == 64 and int(a, 16) >= 0
    assert a != pseudonym(OTHER_KEY, "patient", "ILLUS-P1")
    assert a != pseudonym(KEY, "patient", "ILLUS-P2")
    assert a != pseudonym(KEY, "sample", "ILLUS-P1")  # separate name spaces
    assert "ILLUS" not in a
    # a known value: changing the construction would orphan every stored patient
    assert pseudonym(bytes(range(32)), "patient", "P1") == pseudonym(
        bytes.fromhex("".join(f"{i:02x}" for i in range(32))), "patient", "P1"
    )


def test_key_from_argument_environment_or_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert resolve_key(KEY) == KEY
    assert resolve_key(KEY.hex()) == KEY
    assert resolve_key(base64.b64encode(KEY).decode()) == KEY
    monkeypatch.setenv("ONCORESIST_KEY", KEY.hex().upper())
    assert resolve_key() == KEY
    monkeypatch.setenv("ONCORESIST_KEY", base64.b64encode(OTHER_KEY).decode())
    assert resolve_key() == OTHER_KEY
    monkeypatch.delenv("ONCORESIST_KEY")
    file = tmp_path / "key"
    file.write_text(f"{new_key()}\n")
    monkeypatch.setenv("ONCORESIST_KEY_FILE", str(file))
    assert len(resolve_key()) == 32
    file.write_bytes(bytes([0xFF, 0x80]) * 16)  # raw random bytes
    assert resolve_key() == bytes([0xFF, 0x80]) * 16


def test_no_key_or_a_bad_key_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(StoreKeyError, match=r"no pseudonymisation key.*ONCORESIST_KEY"):
        resolve_key()
    assert issubclass(StoreKeyError, OncoresistError)
    with pytest.raises(StoreKeyError, match="at least 16"):
        resolve_key(b"short")
    monkeypatch.setenv("ONCORESIST_KEY", "not a key!")
    with pytest.raises(StoreKeyError, match="neither hex nor base64"):
        resolve_key()
    monkeypatch.delenv("ONCORESIST_KEY")
    monkeypatch.setenv("ONCORESIST_KEY_FILE", str(tmp_path / "missing.key"))
    with pytest.raises(StoreKeyError, match="cannot read the key file"):
        resolve_key()
