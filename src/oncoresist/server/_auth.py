"""Identity for the tumour-board service: password hashes, signed tokens, login throttling.

* Passwords are hashed with Argon2id (argon2-cffi's defaults: memory-hard, salted); a hash
  made with weaker parameters is flagged for re-hashing at the next login.
* Tokens are short-lived JWTs signed with HMAC-SHA256 under the service's secret. Decoding
  accepts that one algorithm only (so ``alg=none`` and algorithm-confusion tokens fail) and
  requires ``exp``, ``iat``, ``sub``, ``site`` and ``role``.
* Failed logins are counted per account and per client address in a sliding window; the
  11th failure within a minute is refused (HTTP 429) until the window moves on.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Literal

from oncoresist.errors import MissingExtraError, OncoresistError

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
    """What a valid token says: user, site, role, token id and expiry (Unix seconds)."""

    subject: str
    site: str
    role: str
    token_id: str
    expires: int


def issue_token(
    subject: str,
    *,
    site: str,
    role: Role,
    secret: bytes,
    seconds: int = TOKEN_SECONDS,
    now: float | None = None,
) -> str:
    """A signed token for ``subject`` at ``site`` with ``role``, valid for ``seconds``."""
    if role not in ROLES:
        raise AuthError(f"role {role!r}; expected one of {ROLES}")
    if len(secret) < 32:
        raise AuthError("the token secret must have at least 32 bytes")
    issued = int(time.time() if now is None else now)
    payload = {"sub": subject, "site": site, "role": role, "iat": issued, "nbf": issued,
               "exp": issued + int(seconds), "jti": secrets.token_hex(16)}  # fmt: skip
    return _jwt().encode(payload, secret, algorithm=ALGORITHM)


def decode_token(token: str, *, secret: bytes, now: float | None = None) -> Claims:
    """Check a token's signature, algorithm, expiry and claims; return what it says.

    Raises
    ------
    AuthError
        For any token that is malformed, signed otherwise (or not at all), expired, not yet
        valid, or missing a claim.
    """
    jwt = _jwt()
    options = {"require": ["exp", "iat", "sub", "site", "role", "jti"]}
    if now is not None:
        options["verify_exp"] = False  # checked below against the given clock
    try:
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM], options=options,
                             leeway=0)  # fmt: skip
    except jwt.PyJWTError as exc:
        raise AuthError(f"invalid token ({type(exc).__name__})") from None
    if now is not None and not (payload["iat"] <= now < payload["exp"]):
        raise AuthError("invalid token (expired or not yet valid)")
    if payload["role"] not in ROLES:
        raise AuthError("invalid token (unknown role)")
    return Claims(str(payload["sub"]), str(payload["site"]), str(payload["role"]),
                  str(payload["jti"]), int(payload["exp"]))  # fmt: skip


class LoginThrottle:
    """Failed logins per key (account or client address) in a sliding window.

    Parameters
    ----------
    limit : int
        Failures allowed in the window; the next attempt is refused.
    window : float
        Window length (seconds).
    """

    def __init__(self, *, limit: int = 10, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def allowed(self, key: str, *, now: float | None = None) -> bool:
        """Whether another attempt for ``key`` may be tried now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return len(self._trim(key, now)) < self.limit

    def failed(self, key: str, *, now: float | None = None) -> None:
        """Record one failed attempt for ``key``."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._trim(key, now).append(now)

    def succeeded(self, key: str) -> None:
        """Forget ``key``'s failures after a successful login."""
        with self._lock:
            self._failures.pop(key, None)

    def retry_after(self, key: str, *, now: float | None = None) -> float:
        """Seconds until ``key`` may try again (0 when it may now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._trim(key, now)
            if len(times) < self.limit:
                return 0.0
            return max(0.0, times[len(times) - self.limit] + self.window - now)
