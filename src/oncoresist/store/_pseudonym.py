"""Pseudonyms: keyed HMAC-SHA256 of the site's identifiers, with a key kept out of the database.

The key comes from the ``key`` argument, else the ``ONCORESIST_KEY`` environment variable
(hex or base64), else the file named by ``ONCORESIST_KEY_FILE`` (hex or base64 text, or at
least 16 raw bytes). Patient and sample identifiers are hashed under different labels, so a
patient and a sample with the same identifier get unrelated pseudonyms.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from oncoresist.store._errors import StoreKeyError

__all__ = ["KEY_ENV", "KEY_FILE_ENV", "key_check", "new_key", "pseudonym", "resolve_key"]

KEY_ENV = "ONCORESIST_KEY"
KEY_FILE_ENV = "ONCORESIST_KEY_FILE"
MIN_KEY_BYTES = 16
_HEX = re.compile(r"^[0-9a-fA-F]+$")


def new_key() -> str:
    """Return a new random 256-bit key as 64 hex digits (for ``ONCORESIST_KEY`` or a key file).

    Returns
    -------
    str
        The key, hex-encoded.
    """
    return secrets.token_hex(32)


def _decode(text: str, where: str) -> bytes:
    text = text.strip()
    if not text:
        raise StoreKeyError(f"the key in {where} is empty; expected hex or base64 text")
    if _HEX.match(text) and len(text) % 2 == 0:
        key = bytes.fromhex(text)
    else:
        try:
            key = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise StoreKeyError(
                f"the key in {where} is neither hex nor base64; expected e.g. 64 hex digits "
                "(python -c 'import secrets; print(secrets.token_hex(32))')"
            ) from None
    return _check_length(key, where)


def _check_length(key: bytes, where: str) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise StoreKeyError(
            f"the key in {where} has {len(key)} bytes; expected at least {MIN_KEY_BYTES} "
            "(32 random bytes recommended)"
        )
    return key


def resolve_key(key: bytes | str | None = None) -> bytes:
    """Find the pseudonymisation key: the argument, ``ONCORESIST_KEY``, ``ONCORESIST_KEY_FILE``.

    Parameters
    ----------
    key
        Raw key bytes, or hex/base64 text. ``None`` looks in the environment.

    Returns
    -------
    bytes
        The key (at least 16 bytes).

    Raises
    ------
    StoreKeyError
        No key anywhere, an unreadable key file, or a key that is malformed or too short.
    """
    if isinstance(key, bytes | bytearray):
        return _check_length(bytes(key), "the key argument")
    if isinstance(key, str):
        return _decode(key, "the key argument")
    text = os.environ.get(KEY_ENV)
    if text:
        return _decode(text, f"the environment variable {KEY_ENV}")
    file = os.environ.get(KEY_FILE_ENV)
    if file:
        path = Path(file).expanduser()
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise StoreKeyError(
                f"cannot read the key file {path} named by {KEY_FILE_ENV}: {exc.strerror}"
            ) from None
        try:
            return _decode(data.decode("ascii"), f"the key file {path}")
        except (UnicodeDecodeError, StoreKeyError):
            if len(data) >= 32 and not data.strip().isascii():
                return data  # raw random bytes
            raise
    raise StoreKeyError(
        "no pseudonymisation key: pass key=..., or set ONCORESIST_KEY to a hex or base64 key, "
        "or ONCORESIST_KEY_FILE to a file holding one (make one with "
        "python -c 'import secrets; print(secrets.token_hex(32))'); keep the key outside the "
        "database: without it the stored pseudonyms cannot be matched to patients"
    )


def pseudonym(key: bytes, kind: str, identifier: str) -> str:
    """Return the pseudonym of an identifier: HMAC-SHA256 over ``kind`` and the identifier.

    Parameters
    ----------
    key
        The secret key.
    kind
        ``"patient"`` or ``"sample"``: the label that keeps the two name spaces apart.
    identifier
        The site's identifier (leading and trailing spaces are ignored).

    Returns
    -------
    str
        64 lower-case hex digits.
    """
    message = f"oncoresist/{kind}\x00{identifier.strip()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def key_check(key: bytes) -> str:
    """Return a check value that tells whether a key is the one a store was written with."""
    return hmac.new(key, b"oncoresist/key-check", hashlib.sha256).hexdigest()[:16]
