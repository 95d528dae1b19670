"""The monitoring store: serial ctDNA results, therapy lines and events under pseudonyms.

:func:`open_store` opens a SQLite file (by default in the user's data directory) or a
PostgreSQL database and brings it to the newest schema with the packaged Alembic
migrations. Patients and samples are stored under keyed HMAC-SHA256 pseudonyms; the key
stays outside the database (``ONCORESIST_KEY`` or ``ONCORESIST_KEY_FILE``). Each file is
ingested in one transaction, idempotently. See ``docs/store.md``.
"""

from __future__ import annotations

from oncoresist.store._audit import AuditLog, AuditReport, append_event, verify_log
from oncoresist.store._engine import DB_ENV, default_url
from oncoresist.store._errors import StoreConflictError, StoreError, StoreKeyError
from oncoresist.store._ingest import IngestResult
from oncoresist.store._pseudonym import KEY_ENV, KEY_FILE_ENV, new_key, pseudonym, resolve_key
from oncoresist.store._store import Store, open_store

__all__ = [
    "DB_ENV",
    "KEY_ENV",
    "KEY_FILE_ENV",
    "AuditLog",
    "AuditReport",
    "IngestResult",
    "Store",
    "StoreConflictError",
    "StoreError",
    "StoreKeyError",
    "append_event",
    "default_url",
    "new_key",
    "open_store",
    "pseudonym",
    "resolve_key",
    "verify_log",
]
