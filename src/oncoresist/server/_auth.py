"""Identity for the tumour-board service: password hashes, signed tokens, login throttling.

* Passwords are hashed with Argon2id (argon2-cffi's defaults: memory-hard, salted); a hash
  made with weaker parameters is flagged for re-hashing at the next login.
* Tokens are short-lived JWTs signed with HMAC-SHA256 under the service's own signing key
  (not the pseudonym key). Decoding accepts that one algorithm only (so ``alg=none`` and
  algorithm-confusion tokens fail), requires ``exp``, ``iat``, ``sub``, ``site``, ``role``,
  ``jti``, ``sid`` (the session) and ``auth_time`` (when the password was checked), and
  refuses a token whose lifetime exceeds the server's cap or that outlives its session's
  absolute maximum, however validly signed.
* Failed logins are counted in the store (so every worker process sees the same counts)
  for each account-address pair, each account and each address, with exponential
  back-off (OWASP Authentication Cheat Sheet, "Login Throttling"). A pair is refused after
  ``limit`` failures; the account-wide and address-wide counts, with a higher limit, refuse
  only addresses the account has not signed in from: so failures elsewhere never lock a
  correct password out of an address the user signed in from before.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from oncoresist.errors import MissingExtraError, OncoresistError

if TYPE_CHECKING:
    import sqlalchemy as sa

Role = Literal["clinician", "researcher", "admin"]
ROLES: tuple[str, ...] = ("clinician", "researcher", "admin")
ALGORITHM = "HS256"
TOKEN_SECONDS = 15 * 60


class AuthError(OncoresistError):
    """A credential that does not hold: wrong password, bad, expired or forged token."""


def _argon2():
    try:
        from argon2 import PasswordHasher, exceptions
    except ImportError:
        raise MissingExtraError("argon2-cffi", "server") from None
    return PasswordHasher(), exceptions


def _jwt():
    try:
        import jwt
    except ImportError:
        raise MissingExtraError("pyjwt", "server") from None
    return jwt


def hash_password(password: str) -> str:
    """Argon2id hash of ``password`` (a PHC string holding its own salt and parameters)."""
    if not password:
        raise AuthError("empty password")
    hasher, _ = _argon2()
    return hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash (constant time; never raises for a miss)."""
    hasher, exceptions = _argon2()
    try:
        return bool(hasher.verify(stored, password))
    except (exceptions.VerifyMismatchError, exceptions.InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash used weaker parameters than the current ones."""
    hasher, _ = _argon2()
    return bool(hasher.check_needs_rehash(stored))


@dataclass(frozen=True)
class Claims:
    """What a valid token says: user, site, role, token id, expiry, session and login time.

    ``expires``, ``issued`` and ``auth_time`` are Unix seconds; ``session`` is the id that
    every renewal of one login shares (and that logout revokes).
    """

    subject: str
    site: str
    role: str
    token_id: str
    expires: int
    issued: int = 0
    session: str = ""
    auth_time: int = 0


def issue_token(
    subject: str,
    *,
    site: str,
    role: Role,
    secret: bytes,
    seconds: int = TOKEN_SECONDS,
    now: float | None = None,
    session: str | None = None,
    auth_time: int | None = None,
) -> str:
    """A signed token for ``subject`` at ``site`` with ``role``, valid for ``seconds``.

    ``session`` and ``auth_time`` carry over from the token being renewed; a new login
    leaves them out (a new random session id; the login time is now).
    """
    if role not in ROLES:
        raise AuthError(f"role {role!r}; expected one of {ROLES}")
    if len(secret) < 32:
        raise AuthError("the token secret must have at least 32 bytes")
    issued = int(time.time() if now is None else now)
    payload = {"sub": subject, "site": site, "role": role, "iat": issued, "nbf": issued,
               "exp": issued + int(seconds), "jti": secrets.token_hex(16),
               "sid": session or secrets.token_hex(16),
               "auth_time": issued if auth_time is None else int(auth_time)}  # fmt: skip
    return _jwt().encode(payload, secret, algorithm=ALGORITHM)


def decode_token(
    token: str,
    *,
    secret: bytes,
    now: float | None = None,
    max_seconds: int | None = None,
    session_seconds: int | None = None,
) -> Claims:
    """Check a token's signature, algorithm, expiry and claims; return what it says.

    Parameters
    ----------
    token, secret
        The token and the signing key.
    now
        The time (Unix seconds; default: the clock).
    max_seconds
        Longest lifetime (``exp - iat``, seconds) accepted, whatever the token says.
    session_seconds
        Longest session (seconds from ``auth_time`` to ``exp``) accepted.

    Raises
    ------
    AuthError
        For any token that is malformed, signed otherwise (or not at all), expired, not yet
        valid, missing a claim, or longer-lived than the caps.
    """
    jwt = _jwt()
    options = {"require": ["exp", "iat", "sub", "site", "role", "jti", "sid", "auth_time"]}
    if now is not None:
        # checked below against the given clock
        options.update(verify_exp=False, verify_nbf=False, verify_iat=False)
    try:
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM], options=options,
                             leeway=0)  # fmt: skip
    except jwt.PyJWTError as exc:
        raise AuthError(f"invalid token ({type(exc).__name__})") from None
    if now is not None and not (payload["iat"] <= now < payload["exp"]):
        raise AuthError("invalid token (expired or not yet valid)")
    if payload["role"] not in ROLES:
        raise AuthError("invalid token (unknown role)")
    try:
        expires, issued, auth_time = (int(payload[k]) for k in ("exp", "iat", "auth_time"))
    except (TypeError, ValueError):
        raise AuthError("invalid token (malformed times)") from None
    if max_seconds is not None and expires - issued > max_seconds:
        raise AuthError("invalid token (lifetime above the server's maximum)")
    if auth_time > issued or (session_seconds is not None
                              and expires - auth_time > session_seconds):  # fmt: skip
        raise AuthError("invalid token (past the session's maximum)")
    return Claims(str(payload["sub"]), str(payload["site"]), str(payload["role"]),
                  str(payload["jti"]), expires, issued, str(payload["sid"]), auth_time)  # fmt: skip


def client_address(peer: str | None, forwarded: str | None, trusted: Sequence[str]) -> str:
    """The client's address: the peer, or what a trusted proxy says in X-Forwarded-For.

    Only when the peer is one of ``trusted`` (addresses or networks) is the header read,
    from the right: the first address that is not itself a trusted proxy is the client
    (entries further left were written by the client and are not believed). A header that
    does not parse leaves the peer.
    """
    peer = peer or "unknown"
    if not trusted or not forwarded or not _in(peer, trusted):
        return peer
    hops = [h.strip() for h in forwarded.split(",")]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer
        if not _in(hop, trusted):
            return hop
    return hops[0]


def _in(address: str, networks: Sequence[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)


class LoginThrottle:
    """Failed logins counted in the store, with exponential back-off.

    Three counts per attempt, each under a keyed hash (no account name or address is
    stored): the account-address pair, the account and the address. A count with ``hits``
    failures at or above its limit refuses attempts until ``last failure + window *
    2**(hits - limit)`` (at most ``cap`` seconds after it). The pair's limit is ``limit``;
    the account's and the address's, ``wide_limit``, and those two refuse only addresses
    the account has not signed in from within ``known_seconds``. Below its limit a count
    lapses when no failure came for ``window`` seconds; at or above it, after
    ``memory`` seconds.

    Parameters
    ----------
    engine
        The store's engine (every worker process shares the counts).
    secret
        Key of the hashes (at least 32 bytes).
    limit
        Failures of one account from one address before back-off.
    window
        First back-off (seconds), and the gap after which failures below the limit lapse.
    wide_limit
        Failures of one account (from any address), or from one address (on any account),
        before back-off for addresses the account has not signed in from (default: five
        times ``limit``).
    cap
        Longest back-off (seconds).
    memory
        Seconds after the last failure that a count at or above its limit is kept.
    known_seconds
        Seconds after a successful login that its address stays known for the account.
    """

    def __init__(self, engine: sa.Engine, *, secret: bytes, limit: int = 10,
                 window: float = 60.0, wide_limit: int | None = None, cap: float = 3600.0,
                 memory: float = 86400.0, known_seconds: float = 30 * 86400.0) -> None:  # fmt: skip
        self.engine = engine
        self._secret = secret
        self.limit = limit
        self.window = window
        self.wide_limit = 5 * limit if wide_limit is None else wide_limit
        self.cap = cap
        self.memory = memory
        self.known_seconds = known_seconds

    def _key(self, *parts: str) -> str:
        message = "\x1f".join(parts).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def _keys(self, account: str, address: str) -> dict[str, str]:
        return {"pair": self._key("pair", account, address),
                "account": self._key("account", account),
                "address": self._key("address", address),
                "known": self._key("known", account, address)}  # fmt: skip

    def _limit(self, kind: str) -> int:
        return self.limit if kind == "pair" else self.wide_limit

    def _blocked_until(self, hits: int, last_at: float, limit: int) -> float:
        if hits < limit:
            return 0.0
        return last_at + min(self.cap, self.window * 2.0 ** (hits - limit))

    def wait(self, account: str, address: str, *, now: float | None = None) -> float:
        """Seconds before ``account`` may try again from ``address`` (0: it may now)."""
        from oncoresist.store import _sessions

        now = time.time() if now is None else now
        keys = self._keys(account, address)
        rows = _sessions.key_rows(self.engine, keys.values())
        known = keys["known"] in rows and rows[keys["known"]][2] > now
        kinds = ("pair",) if known else ("pair", "account", "address")
        wait = 0.0
        for kind in kinds:
            if keys[kind] in rows:
                wait = max(wait, rows[keys[kind]][2] - now)
        return max(0.0, wait)

    def failed(self, account: str, address: str, *, now: float | None = None) -> None:
        """Count one failed login of ``account`` from ``address``."""
        from oncoresist.store import _sessions

        now = time.time() if now is None else now
        for kind, key in self._keys(account, address).items():
            if kind == "known":
                continue
            limit = self._limit(kind)

            def fresh(hits: int, last_at: float, until: float, limit: int = limit) -> bool:
                lapse = self.window if hits < limit else self.memory
                return hits == 0 or now - last_at > lapse

            _sessions.record_hit(self.engine, key, now=now, fresh=fresh,
                                 until=lambda hits, limit=limit: self._blocked_until(
                                     hits, now, limit))  # fmt: skip
        if secrets.randbelow(50) == 0:  # now and then, rows that lapsed long ago go
            _sessions.forget_old(self.engine, before=now - 2 * self.memory)

    def succeeded(self, account: str, address: str, *, now: float | None = None) -> None:
        """Forget the pair's failures and mark ``address`` as known for ``account``.

        The account's and the address's counts stay: an attacker's budget does not come
        back each time the real user signs in.
        """
        from oncoresist.store import _sessions

        now = time.time() if now is None else now
        keys = self._keys(account, address)
        _sessions.clear_key(self.engine, keys["pair"])
        _sessions.set_until(self.engine, keys["known"], now=now, until=now + self.known_seconds)
