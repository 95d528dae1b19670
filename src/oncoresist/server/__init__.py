"""The tumour-board web service: API, browser interface, identity, consent and audit.

:func:`create_app` builds the FastAPI app on the store (SQLite by default, PostgreSQL for a
shared deployment); ``oncoresist serve`` runs it with uvicorn. Identity: Argon2id password
hashes, short-lived HS256 tokens, roles (clinician of a site, researcher, admin),
object-level authorisation (another site's patient is a 404), login throttling. Privacy:
keyed pseudonyms, consent as GA4GH DUO codes, an append-only hash-chained audit log. Needs
``pip install 'oncoresist[server]'``. See ``docs/server.md``.
"""

from __future__ import annotations

from oncoresist.server._auth import (
    ROLES,
    AuthError,
    Claims,
    LoginThrottle,
    decode_token,
    hash_password,
    issue_token,
    needs_rehash,
    verify_password,
)
from oncoresist.server._settings import ServerSettings

__all__ = [
    "ROLES",
    "AuthError",
    "Claims",
    "LoginThrottle",
    "ServerSettings",
    "create_app",
    "decode_token",
    "hash_password",
    "issue_token",
    "needs_rehash",
    "verify_password",
]


def create_app(settings: ServerSettings | None = None):
    """Build the FastAPI app (see :func:`oncoresist.server._app.create_app`)."""
    from oncoresist.server._app import create_app as _create

    return _create(settings)
