"""Fixtures of the store tests (``store_url``, a fresh database per backend, is in
``tests/conftest.py``)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ONCORESIST_DB", "ONCORESIST_KEY", "ONCORESIST_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
