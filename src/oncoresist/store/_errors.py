"""Errors of the store: all of them are :class:`~oncoresist.errors.OncoresistError`."""

from __future__ import annotations

from oncoresist.errors import OncoresistError

__all__ = ["StoreConflictError", "StoreError", "StoreKeyError"]


class StoreError(OncoresistError):
    """The store cannot do what was asked: a database that cannot be opened, stays locked, ..."""


class StoreKeyError(StoreError):
    """No pseudonymisation key is available, or it is malformed, or it is not the store's key."""


class StoreConflictError(StoreError):
    """A file gives other values for a sample, observation or therapy line already stored."""
