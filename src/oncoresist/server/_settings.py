"""What the web service needs to start: the store, the key, the audit log and its limits."""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

__all__ = ["AUDIT_ENV", "ServerSettings"]

AUDIT_ENV = "ONCORESIST_AUDIT_LOG"
MIB = 1024 * 1024


def _default_audit_log() -> Path:
    env = os.environ.get(AUDIT_ENV)
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("oncoresist")) / "audit.log"


@dataclass(frozen=True)
class ServerSettings:
    """Settings of one running service.

    Attributes
    ----------
    db
        Store URL or SQLite path (``None``: ``ONCORESIST_DB`` or the user's data directory).
    key
        The site's pseudonymisation key (bytes; ``None``: ``ONCORESIST_KEY`` or
        ``ONCORESIST_KEY_FILE``). It never reaches the database; the token-signing secret
        and the audit chain key are derived from it.
    audit_log
        The append-only, hash-chained audit log (default ``ONCORESIST_AUDIT_LOG`` or
        ``audit.log`` in the user's data directory).
    max_upload_bytes
        Largest accepted upload request (bytes); larger ones get 413.
    max_body_bytes
        Largest accepted body of any other request (bytes).
    parse_timeout
        Seconds an upload may take to parse and store (in its own worker process) before
        it is killed; time spent waiting for a free worker slot does not count.
    upload_workers
        Upload worker processes that may run at once (default: half the CPUs, at least
        one); further uploads wait for a slot, so reads keep their share of the CPUs.
    upload_nice
        Niceness added to upload workers (0 to 19): under load the kernel gives the
        service's reads the CPU first.
    token_seconds
        Lifetime of a login token (seconds).
    secure_cookies
        Mark the browser's session cookie ``Secure`` (behind HTTPS).
    login_limit
        Failed logins per account or client address per minute before 429.
    """

    db: str | None = None
    key: bytes | None = None
    audit_log: Path = field(default_factory=_default_audit_log)
    max_upload_bytes: int = 20 * MIB
    max_body_bytes: int = 1 * MIB
    parse_timeout: float = 60.0
    upload_workers: int = field(default_factory=lambda: max(1, (os.cpu_count() or 2) // 2))
    upload_nice: int = 19
    token_seconds: int = 15 * 60
    secure_cookies: bool = False
    login_limit: int = 10


def derived_secret(key: bytes, purpose: str) -> bytes:
    """A 32-byte secret for ``purpose`` derived from the site key (HMAC-SHA256)."""
    return hmac.new(key, f"oncoresist/{purpose}/v1".encode(), hashlib.sha256).digest()
