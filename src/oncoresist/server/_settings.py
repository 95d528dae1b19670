"""What the web service needs to start: store, key, audit log, limits, HTTPS and monitoring.

The monitoring settings are the panel of normals the calls are tested against and the
false-alert budget per patient; the HTTPS settings are the service's own TLS certificate
and key, or a reverse proxy that terminates TLS, which turn on ``Secure`` cookies and HTTP
Strict Transport Security (RFC 6797). :class:`ServerSettings` validates every setting in
one place, and :func:`settings_from_env` reads those ``oncoresist serve`` passes on.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import os
import secrets
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

import platformdirs

from oncoresist.errors import InputError

__all__ = ["AUDIT_ENV", "ENVIRONMENT", "ServerSettings", "resolve_token_key", "settings_from_env"]

AUDIT_ENV = "ONCORESIST_AUDIT_LOG"
TOKEN_KEY_ENV = "ONCORESIST_TOKEN_KEY"
TOKEN_KEY_FILE_ENV = "ONCORESIST_TOKEN_KEY_FILE"
TOKEN_KEY_FILE = "token.key"
MIB = 1024 * 1024
#: the settings ``oncoresist serve`` passes to each uvicorn worker, by environment variable
ENVIRONMENT = {
    "max_upload_bytes": "ONCORESIST_MAX_UPLOAD_BYTES",
    "upload_workers": "ONCORESIST_UPLOAD_WORKERS",
    "parse_timeout": "ONCORESIST_PARSE_TIMEOUT",
    "max_decompressed_bytes": "ONCORESIST_MAX_DECOMPRESSED_BYTES",
    "max_decompression_ratio": "ONCORESIST_MAX_DECOMPRESSION_RATIO",
    "max_line_bytes": "ONCORESIST_MAX_LINE_BYTES",
    "spool_dir": "ONCORESIST_SPOOL_DIR",
    "normals": "ONCORESIST_NORMALS",
    "budget": "ONCORESIST_BUDGET",
    "trusted_proxies": "ONCORESIST_TRUSTED_PROXIES",
    "tls_cert": "ONCORESIST_TLS_CERT",
    "tls_key": "ONCORESIST_TLS_KEY",
    "behind_https_proxy": "ONCORESIST_BEHIND_HTTPS_PROXY",
    "hsts_seconds": "ONCORESIST_HSTS_SECONDS",
    "secure_cookies": "ONCORESIST_SECURE_COOKIES",
}
#: how errors name a setting that ``oncoresist serve`` takes as an option
_OPTIONS = {
    "tls_cert": "tls_cert (--tls-cert, ONCORESIST_TLS_CERT)",
    "tls_key": "tls_key (--tls-key, ONCORESIST_TLS_KEY)",
}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


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
        ``ONCORESIST_KEY_FILE``). It never reaches the database; the audit chain key is
        derived from it (the token-signing key is not: see ``token_key``).
    token_key
        The key that signs login tokens and CSRF tokens (at least 32 bytes; ``None``:
        ``ONCORESIST_TOKEN_KEY`` (hex), else the file ``ONCORESIST_TOKEN_KEY_FILE``, else
        ``token.key`` beside the audit log, made with 32 random bytes at the first start,
        mode 0600). Never the pseudonym key: whoever holds one does not hold the other.
        Every worker process (and host) of one service needs the same one.
    audit_log
        The append-only, hash-chained audit log (default ``ONCORESIST_AUDIT_LOG`` or
        ``audit.log`` in the user's data directory).
    max_upload_bytes
        Largest accepted upload request (bytes); larger ones get 413
        (``ONCORESIST_MAX_UPLOAD_BYTES``).
    max_body_bytes
        Largest accepted body of any other request (bytes).
    parse_timeout
        Seconds an upload may take to parse, store and rebuild its patients' pages (in its
        own worker process) before it is killed; time spent waiting for a free worker slot
        does not count (``ONCORESIST_PARSE_TIMEOUT``).
    max_decompressed_bytes
        Largest decompressed content of a compressed upload (bytes; 128 MiB); checked in
        the upload worker while it streams, before any reader runs; larger gets 413
        (``ONCORESIST_MAX_DECOMPRESSED_BYTES``).
    max_decompression_ratio
        Largest ratio of decompressed to compressed size of an upload (100, as Apache POI
        for zip entries; enforced beyond the first 16 MiB of output): a decompression bomb
        gets 413 (``ONCORESIST_MAX_DECOMPRESSION_RATIO``).
    max_line_bytes
        Longest line of an uploaded text table, after decompression (bytes; 1 MiB); longer
        gets 413 before a reader holds it (``ONCORESIST_MAX_LINE_BYTES``).
    spool_dir
        Private folder (mode 0700, files 0600) where uploads wait while they are parsed
        (``ONCORESIST_SPOOL_DIR``; ``None``: ``upload-spool`` beside the audit log, in the
        data directory); never the system temporary directory. Emptied of a stopped
        service's leftovers at start-up (:attr:`upload_spool`).
    upload_workers
        Upload worker processes that may run at once (default: half the CPUs, at least
        one); further uploads wait for a slot, so reads keep their share of the CPUs
        (``ONCORESIST_UPLOAD_WORKERS``).
    upload_nice
        Niceness added to upload workers (0 to 19): under load the kernel gives the
        service's reads the CPU first.
    token_seconds
        Lifetime of a login token (seconds): a session left idle this long ends; one in use
        is renewed (the browser's cookie as it is used, API clients through
        ``POST /api/v1/auth/refresh``). Also the server's cap: a token whose ``exp - iat``
        is longer is refused, however validly signed.
    session_max_seconds
        Absolute length of a session from its login (seconds; 12 h): no renewal goes
        past it.
    secure_cookies
        Mark the browser's cookies ``Secure``, so a browser sends them over HTTPS only
        (``ONCORESIST_SECURE_COOKIES``; ``None``: on when :attr:`https`, else off).
    tls_cert
        PEM certificate chain the service presents: it then speaks HTTPS only
        (``ONCORESIST_TLS_CERT``; ``None``: plain HTTP, for a loopback address or behind a
        proxy). It may hold the private key too.
    tls_key
        PEM private key of ``tls_cert`` (``ONCORESIST_TLS_KEY``; not encrypted; keep it
        mode 0600). Both are loaded at start-up: a missing, unreadable or mismatched file
        stops the service with its name.
    behind_https_proxy
        A reverse proxy in front terminates TLS, and clients reach the service over HTTPS
        only (``ONCORESIST_BEHIND_HTTPS_PROXY``): ``Secure`` cookies and HSTS without a
        local certificate. List the proxy in ``trusted_proxies`` too.
    hsts_seconds
        ``max-age`` of the ``Strict-Transport-Security`` header sent, with
        ``includeSubDomains``, on every response when :attr:`https` (seconds; a year;
        ``ONCORESIST_HSTS_SECONDS``); 0 sends none. Never sent over plain HTTP.
    login_limit
        Failed logins of one account from one address before back-off (429 with
        ``Retry-After``: a minute, doubling with each further failure, at most an hour);
        five times as many per account or per address refuse addresses the account has
        not signed in from.
    trusted_proxies
        Addresses or networks of reverse proxies whose ``X-Forwarded-For`` names the client
        (``ONCORESIST_TRUSTED_PROXIES``, comma-separated); from any other peer the header
        is ignored.
    normals
        Panel of normals (``read_normals`` format) whose fitted beta-binomial background
        every call and alert of the service is tested against; read and fitted once, at
        start-up (``ONCORESIST_NORMALS``). ``None``: the documented default background.
    budget
        Chance that a resistance-free patient's series ever raises a resistance alert,
        spent across the draws after the baseline (``ONCORESIST_BUDGET``; 0.02).

    Raises
    ------
    InputError
        A value out of range (naming the setting).
    """

    db: str | None = None
    key: bytes | None = None
    audit_log: Path = field(default_factory=_default_audit_log)
    max_upload_bytes: int = 20 * MIB
    max_body_bytes: int = 1 * MIB
    parse_timeout: float = 60.0
    max_decompressed_bytes: int = 128 * MIB
    max_decompression_ratio: float = 100.0
    max_line_bytes: int = 1 * MIB
    spool_dir: Path | None = None
    upload_workers: int = field(default_factory=lambda: max(1, (os.cpu_count() or 2) // 2))
    upload_nice: int = 19
    token_seconds: int = 30 * 60
    secure_cookies: bool | None = None
    login_limit: int = 10
    normals: Path | None = None
    budget: float = 0.02
    token_key: bytes | None = None
    session_max_seconds: int = 12 * 3600
    trusted_proxies: tuple[str, ...] = ()
    tls_cert: Path | None = None
    tls_key: Path | None = None
    behind_https_proxy: bool = False
    hsts_seconds: int = 365 * 24 * 3600

    def __post_init__(self) -> None:
        for name, ok, expected in _CHECKS:
            if not ok(getattr(self, name)):
                raise InputError(f"{getattr(self, name)!r}; expected {expected}", field=name)
        if self.normals is not None and not isinstance(self.normals, Path):
            object.__setattr__(self, "normals", Path(self.normals))
        if self.spool_dir is not None and not isinstance(self.spool_dir, Path):
            object.__setattr__(self, "spool_dir", Path(self.spool_dir))
        object.__setattr__(self, "trusted_proxies", tuple(self.trusted_proxies))
        _check_tls(self)
        if self.secure_cookies is None:
            object.__setattr__(self, "secure_cookies", self.https)
        if self.session_max_seconds < self.token_seconds:
            raise InputError(f"{self.session_max_seconds!r}; expected at least token_seconds "
                             f"({self.token_seconds})", field="session_max_seconds")  # fmt: skip
        if (
            self.token_key is not None
            and self.key is not None
            and hmac.compare_digest(self.token_key, self.key)
        ):
            raise InputError("the token-signing key must not be the pseudonym key; give "
                             "another (32 random bytes)", field="token_key")  # fmt: skip

    @property
    def https(self) -> bool:
        """Whether clients reach the service over HTTPS: its own TLS, or a proxy's."""
        return self.tls_cert is not None or self.behind_https_proxy

    @property
    def hsts(self) -> str | None:
        """The ``Strict-Transport-Security`` header's value (``None``: send none)."""
        if not self.https or self.hsts_seconds == 0:
            return None
        return f"max-age={self.hsts_seconds}; includeSubDomains"

    @property
    def upload_spool(self) -> Path:
        """The upload spool folder: ``spool_dir``, or ``upload-spool`` beside the audit log."""
        return self.spool_dir or Path(self.audit_log).parent / "upload-spool"


def _positive(x) -> bool:
    return x > 0 and math.isfinite(x)


def _networks(values) -> bool:
    try:
        for value in values:
            ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError:
        return False
    return not isinstance(values, str | bytes)


# (setting, test, what is expected): the one place where settings are validated
_CHECKS = (
    ("max_upload_bytes", _positive, "a positive number of bytes"),
    ("max_body_bytes", _positive, "a positive number of bytes"),
    ("parse_timeout", _positive, "a positive number of seconds"),
    ("max_decompressed_bytes", _positive, "a positive number of bytes"),
    ("max_decompression_ratio", lambda x: x >= 1 and math.isfinite(x), "a ratio of at least 1"),
    ("max_line_bytes", _positive, "a positive number of bytes"),
    ("upload_workers", lambda x: x >= 1, "at least 1"),
    ("upload_nice", lambda x: 0 <= x <= 19, "0 to 19"),
    ("budget", lambda x: 0 < x < 1, "a probability in (0, 1), such as 0.02"),
    ("token_seconds", lambda x: x >= 60, "at least 60 seconds"),
    ("token_key", lambda x: x is None or len(x) >= 32, "at least 32 bytes"),
    ("trusted_proxies", _networks, "IP addresses or networks, such as 10.0.0.5 or 10.0.0.0/24"),
    ("hsts_seconds", lambda x: x >= 0, "0 (no header) or more seconds, such as 31536000"),
)


def _check_tls(settings: ServerSettings) -> None:
    """Turn the TLS files into paths and load them once, so a bad one stops the start."""
    for name in ("tls_cert", "tls_key"):
        path = getattr(settings, name)
        if path is None:
            continue
        path = Path(path)
        object.__setattr__(settings, name, path)
        try:
            with path.open("rb") as handle:
                handle.read(1)
        except FileNotFoundError:
            raise InputError("no such file", file=path, field=_OPTIONS[name]) from None
        except OSError as exc:
            raise InputError(f"cannot be read ({exc.strerror or exc})", file=path,
                             field=_OPTIONS[name]) from None  # fmt: skip
    if settings.tls_cert is None:
        if settings.tls_key is not None:
            raise InputError("a key without a certificate; give the certificate too",
                             field=_OPTIONS["tls_key"])  # fmt: skip
        return

    def no_password() -> bytes:
        raise InputError("the private key is encrypted; give it unencrypted (mode 0600)",
                         file=settings.tls_key or settings.tls_cert,
                         field=_OPTIONS["tls_key" if settings.tls_key else "tls_cert"])  # fmt: skip

    try:  # what uvicorn will do at start-up, without its traceback
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(
            settings.tls_cert, settings.tls_key, password=no_password
        )
    except ssl.SSLError as exc:
        raise InputError(f"the certificate and key cannot be used ({exc.reason or exc}); "
                         "expected a PEM certificate chain and its unencrypted private key",
                         file=settings.tls_cert, field=_OPTIONS["tls_cert"]) from None  # fmt: skip


def settings_from_env(environ: Mapping[str, str] | None = None, **given) -> ServerSettings:
    """Settings from the environment variables of :data:`ENVIRONMENT` (and ``given``).

    Raises
    ------
    InputError
        A variable that does not hold a value of its setting's type, naming the variable.
    """
    environ = os.environ if environ is None else environ
    kinds = {f.name: f.type for f in fields(ServerSettings)}
    options = dict(given)
    for name, variable in ENVIRONMENT.items():
        text = environ.get(variable, "").strip()
        if not text or name in options:
            continue
        kind = kinds[name]
        if name == "trusted_proxies":
            options[name] = tuple(p.strip() for p in text.split(",") if p.strip())
            continue
        if kind.startswith("bool"):
            if text.lower() not in _TRUE + _FALSE:
                raise InputError(f"{text!r} is not true or false (1, true, yes; 0, false, no)",
                                 field=variable)  # fmt: skip
            options[name] = text.lower() in _TRUE
            continue
        try:
            options[name] = (int(text) if kind == "int" else float(text) if kind == "float"
                             else Path(text))  # fmt: skip
        except ValueError:
            raise InputError(f"{text!r} is not {'a whole number' if kind == 'int' else 'a number'}",
                             field=variable) from None  # fmt: skip
    return ServerSettings(**options)


def derived_secret(key: bytes, purpose: str) -> bytes:
    """A 32-byte secret for ``purpose`` derived from the site key (HMAC-SHA256)."""
    return hmac.new(key, f"oncoresist/{purpose}/v1".encode(), hashlib.sha256).digest()


def resolve_token_key(settings: ServerSettings, environ: Mapping[str, str] | None = None) -> bytes:
    """The token-signing key of ``settings`` (see :attr:`ServerSettings.token_key`).

    Raises
    ------
    InputError
        A key given in the environment or a file that is not at least 32 bytes of hex.
    """
    if settings.token_key is not None:
        return settings.token_key
    environ = os.environ if environ is None else environ
    text, where = environ.get(TOKEN_KEY_ENV, "").strip(), TOKEN_KEY_ENV
    path = Path(environ.get(TOKEN_KEY_FILE_ENV) or Path(settings.audit_log).parent / TOKEN_KEY_FILE)
    if not text:
        where = str(path)
        try:
            # made once, by whichever worker process starts first; the others read it
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        text = path.read_text().strip()
        if not text:  # another process is writing it this very moment
            import time

            time.sleep(0.2)
            text = path.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise InputError("expected the token-signing key as hex (64 digits)", file=where) from None
    if len(key) < 32:
        raise InputError(f"{len(key)} bytes; expected at least 32", file=where)
    if settings.key is not None and hmac.compare_digest(key, settings.key):
        raise InputError("the token-signing key must not be the pseudonym key", file=where)
    return key
