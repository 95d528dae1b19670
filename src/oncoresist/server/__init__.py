"""The tumour-board web service (issue 7, in progress): identity and access.

So far: :mod:`oncoresist.server._auth` (Argon2id password hashes, short-lived HS256 tokens
that refuse ``alg=none`` and expired or forged tokens, login throttling). The audit log is
:func:`oncoresist.store.append_event`. Needs ``pip install 'oncoresist[server]'``.
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

__all__ = [
    "ROLES",
    "AuthError",
    "Claims",
    "LoginThrottle",
    "decode_token",
    "hash_password",
    "issue_token",
    "needs_rehash",
    "verify_password",
]
