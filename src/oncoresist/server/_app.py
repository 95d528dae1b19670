"""The FastAPI application: settings, identity, audit, errors and limits.

:func:`create_app` opens the store, loads the knowledge base and returns the app with the
versioned API (``/api/v1``, :mod:`oncoresist.server._api`) and the browser interface
(:mod:`oncoresist.server._ui`). Every route but ``/api/v1/health``, the two login routes
and the static files needs a valid token (``Authorization: Bearer`` or the browser's
session cookie). Errors never echo what was sent: a validation error names the field,
not its value, and an unexpected error says only that it happened.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from oncoresist import __version__
from oncoresist.errors import InputError
from oncoresist.kb import KnowledgeBase, load_kb
from oncoresist.server import _pages as pages
from oncoresist.server._auth import (
    AuthError,
    Claims,
    LoginThrottle,
    client_address,
    decode_token,
    issue_token,
)
from oncoresist.server._headers import SecurityHeaders
from oncoresist.server._limits import BodyLimit
from oncoresist.server._settings import ServerSettings, derived_secret, resolve_token_key
from oncoresist.server._spool import UploadSpool
from oncoresist.server._uploads import preload_store_driver, run_job
from oncoresist.server._users import User, authenticate, get_user
from oncoresist.server._views import MonitorConfig
from oncoresist.store import AuditLog, Store, StoreConflictError, _sessions, open_store, resolve_key
from oncoresist.store._audit import AuditUnavailable
from oncoresist.store._engine import for_single_reads

__all__ = ["COOKIE", "PUBLIC_PATHS", "Principal", "ServiceState", "create_app"]

T = TypeVar("T")
log = logging.getLogger("oncoresist.server")
access_log = logging.getLogger("oncoresist.server.access")
COOKIE = "oncoresist_session"
#: paths served without a token (exact, or prefixes ending in "/")
PUBLIC_PATHS = ("/api/v1/health", "/api/v1/auth/login", "/login", "/static/")
UPLOAD_PREFIXES = ("/api/v1/uploads", "/api/v1/interpret", "/upload")
#: shortest time limit of one batch of limits of detection (seconds)
LIMITS_TIMEOUT = 300.0


@dataclass(frozen=True)
class Principal:
    """Who is asking: user name, role, site, token from the cookie?, the token's claims."""

    username: str
    role: str
    site: str | None
    via_cookie: bool = False
    claims: Claims | None = None


class ServiceState:
    """What every request shares: settings, store, knowledge base, secrets, throttle.

    Also the monitoring settings (:attr:`monitor_config`: the panel of normals, read and
    fitted here, once, and the false-alert budget) and the queue of patient pages whose
    limits of detection are still to compute (:attr:`limits`).

    Raises
    ------
    InputError
        The panel of normals cannot be read or fitted (nothing is started).
    """

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.monitor_config = MonitorConfig.from_settings(settings)
        self.key = resolve_key(settings.key)
        self.store: Store = open_store(settings.db, key=self.key)
        #: the store's engine for single-statement reads (each request's account and page)
        self.reader = for_single_reads(self.store.engine)
        preload_store_driver(self.store.engine)  # imported once, not by every job
        self.kb: KnowledgeBase = load_kb()
        Path(settings.audit_log).parent.mkdir(parents=True, exist_ok=True)
        # tokens are signed under a key of their own, never derived from the pseudonym key
        self.token_secret = resolve_token_key(settings)
        self.csrf_secret = derived_secret(self.token_secret, "csrf")
        throttle_secret = derived_secret(self.token_secret, "throttle")
        self.throttle = LoginThrottle(self.store.engine, secret=throttle_secret,
                                      limit=settings.login_limit)  # fmt: skip
        #: the clock of tokens, sessions and the throttle (Unix seconds; tests move it)
        self.clock: Callable[[], float] = time.time
        # uploads wait here, in a queue of their own, not in the threads that serve reads
        self.uploads = ThreadPoolExecutor(max(1, settings.upload_workers), "oncoresist-upload")
        Path(settings.audit_log).parent.mkdir(parents=True, exist_ok=True)
        # anchored in the store: a log whose last events are removed no longer verifies
        self.audit_log = AuditLog(settings.audit_log, key=self.key, engine=self.store.engine)
        self.limits = pages.LimitQueue(self._complete_limits)
        #: private spool of this process's uploads; a stopped service's leftovers removed
        self.spool = UploadSpool(settings.upload_spool)

    def _complete_limits(self, pseudonyms: list[str]) -> None:
        """Compute and store the complete pages of ``pseudonyms`` in a worker process."""
        job = functools.partial(pages.complete_limits, pseudonyms, url=self.store.engine.url,
                                key=self.key, config=self.monitor_config)  # fmt: skip
        run_job(job, timeout=max(self.settings.parse_timeout, LIMITS_TIMEOUT),
                nice=self.settings.upload_nice, name="limits of detection")  # fmt: skip

    # ------------------------------------------------------------------ audit
    def audit(self, actor: str, action: str, *, pseudonym: str | None = None,
              **detail: Any) -> None:  # fmt: skip
        """Append one event to the audit log, chained under the site key.

        ``oncoresist audit verify --keyed`` checks the chain with the same key.
        """
        self.audit_log.append(actor=actor or "anonymous", action=action, pseudonym=pseudonym,
                              detail=detail or None)  # fmt: skip

    async def in_upload_worker(self, action: Callable[..., T], *args: Any) -> T:
        """Run ``action(*args)`` (which parses, and may store, an upload) in its turn.

        At most ``settings.upload_workers`` run at once; the others wait in a queue that
        holds neither a thread nor a place in the thread pool that serves reads.
        """
        return await asyncio.wrap_future(self.uploads.submit(action, *args))

    # ------------------------------------------------------------------ login
    def login(self, username: str, password: str, client: str) -> tuple[User, str]:
        """Check a password (throttled per account and per client); return user and token.

        Raises
        ------
        HTTPException
            429 with ``Retry-After`` when throttled; 401 for a wrong name or password.
        """

        def actor() -> str:  # an account name is logged only when the account exists
            return username if get_user(self.store.engine, username) else "unknown-account"

        now = self.clock()
        wait = self.throttle.wait(username, client, now=now)
        if wait > 0:
            self.audit(actor(), "login_throttled")
            raise HTTPException(429, "too many failed logins; try again later",
                                headers={"Retry-After": str(max(1, int(wait) + 1))})  # fmt: skip
        user = authenticate(self.store.engine, username, password)
        if user is None:
            self.throttle.failed(username, client, now=now)
            self.audit(actor(), "login_failed")
            raise HTTPException(401, "wrong user name or password")
        self.throttle.succeeded(username, client, now=now)
        token = issue_token(
            user.username,
            site=user.site or "",
            role=user.role,  # type: ignore[arg-type]
            secret=self.token_secret,
            seconds=self.settings.token_seconds,
            now=now,
        )
        self.audit(user.username, "login")
        return user, token

    def client(self, request: Request) -> str:
        """The client's address: the peer, or X-Forwarded-For from a trusted proxy."""
        peer = request.client.host if request.client else None
        return client_address(peer, request.headers.get("x-forwarded-for"),
                              self.settings.trusted_proxies)  # fmt: skip

    def renewed(self, claims: Claims) -> tuple[str, int] | None:
        """A new token of the same session and its lifetime (seconds), or ``None``.

        ``None`` when the new token would end no later than the old one (the session is
        at its absolute maximum). The new token lives ``token_seconds`` from now, or up to
        the session's end if that comes first.
        """
        now = int(self.clock())
        end = claims.auth_time + self.settings.session_max_seconds
        seconds = min(self.settings.token_seconds, end - now)
        if seconds <= 0 or now + seconds <= claims.expires:
            return None
        token = issue_token(claims.subject, site=claims.site, role=claims.role,  # type: ignore[arg-type]
                            secret=self.token_secret, seconds=seconds, now=now,
                            session=claims.session, auth_time=claims.auth_time)  # fmt: skip
        return token, seconds

    def logout(self, claims: Claims) -> None:
        """End the token's session: every token of it is refused from now on."""
        end = claims.auth_time + self.settings.session_max_seconds
        _sessions.revoke_session(self.store.engine, claims.session, expires_at=float(end))

    def principal(self, token: str | None, *, via_cookie: bool = False) -> Principal:
        """The user a token names, if the token is valid and the user still active.

        Raises
        ------
        HTTPException
            401 for a missing, malformed, forged, expired or revoked token.
        """
        if not token:
            raise HTTPException(401, "not authenticated", headers={"WWW-Authenticate": "Bearer"})
        try:
            claims = decode_token(token, secret=self.token_secret, now=self.clock(),
                                  max_seconds=self.settings.token_seconds,
                                  session_seconds=self.settings.session_max_seconds)  # fmt: skip
            if _sessions.is_revoked(self.reader, claims.session):
                raise AuthError("invalid token (logged out)")
        except AuthError:
            self.audit("anonymous", "auth_failed", reason="invalid token")
            raise HTTPException(401, "invalid or expired token",
                                headers={"WWW-Authenticate": "Bearer"}) from None  # fmt: skip
        user = get_user(self.reader, claims.subject)
        if (
            user is None
            or not user.active
            or user.role != claims.role
            or ((user.site or "") != claims.site)
        ):
            self.audit(claims.subject, "auth_failed", reason="account changed or disabled")
            raise HTTPException(401, "invalid or expired token",
                                headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        return Principal(user.username, user.role, user.site, via_cookie, claims)


def service(request: Request) -> ServiceState:
    """The shared state of the running app."""
    return request.app.state.oncoresist


async def state_of(request: Request) -> ServiceState:
    """Dependency: :func:`service` (async, so that it costs no hop to the thread pool)."""
    return request.app.state.oncoresist


def bearer(request: Request) -> tuple[str | None, bool]:
    """The token of a request: the Authorization header, else the session cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    cookie = request.cookies.get(COOKIE)
    return (cookie, True) if cookie else (None, False)


def current(request: Request) -> Principal:
    """Dependency: the authenticated principal (401 otherwise).

    A token from the session cookie is accepted for reads only on the API; the browser
    interface's forms carry their own CSRF token.
    """
    token, via_cookie = bearer(request)
    principal = service(request).principal(token, via_cookie=via_cookie)
    unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
    if via_cookie and unsafe and request.url.path.startswith("/api/"):
        raise HTTPException(401, "API writes need an Authorization: Bearer token")
    request.state.principal = principal
    renew_cookie(request, principal)
    return principal


#: key of ``request.state`` (the ASGI scope's ``state``) holding a renewed session cookie
RENEWED = "oncoresist_renewed_cookie"


def renew_cookie(request: Request, principal: Principal) -> None:
    """Sliding renewal: past half its life, a cookie's token is replaced by a fresh one.

    The new token (same session, same login time) goes out as a ``Set-Cookie`` header
    with the response (:class:`SessionRenewal`); a session never outlives its absolute
    maximum.
    """
    claims = principal.claims
    if not principal.via_cookie or claims is None:
        return
    state = service(request)
    if claims.expires - state.clock() > state.settings.token_seconds / 2:
        return
    renewed = state.renewed(claims)
    if renewed is not None:
        request.state.__setattr__(RENEWED, session_cookie(state, *renewed))


def session_cookie(state: ServiceState, token: str, seconds: int) -> str:
    """The ``Set-Cookie`` value of a session cookie holding ``token`` for ``seconds``."""
    secure = "; Secure" if state.settings.secure_cookies else ""
    return (f"{COOKIE}={token}; HttpOnly; Max-Age={int(seconds)}; Path=/; "
            f"SameSite=strict{secure}")  # fmt: skip


class SessionRenewal:
    """ASGI middleware: adds the renewed session cookie of :func:`renew_cookie`, if any."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_renewed(message) -> None:
            if message["type"] == "http.response.start":
                cookie = scope.get("state", {}).get(RENEWED)
                if cookie:
                    headers = list(message.get("headers", []))
                    headers.append((b"set-cookie", cookie.encode("latin-1")))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_renewed)


def _problem(status: int, detail: str, headers: dict | None = None, **where: Any) -> JSONResponse:
    body = {"detail": detail} | {k: v for k, v in where.items() if v is not None}
    return JSONResponse(body, status_code=status, headers=headers)


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(x) for x in first.get("loc", ())]
        field = ".".join(loc[1:]) if len(loc) > 1 else (loc[0] if loc else None)
        # the message only, never the value sent ("input"), which may be an identifier
        return _problem(422, f"invalid request: {first.get('msg', 'not valid')}", field=field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        if exc.status_code == 404:
            detail = "not found"  # one answer for "no such route" and "not yours"
        return _problem(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> JSONResponse:
        line = exc.record if isinstance(exc.record, int) else None
        return _problem(422, exc.message if line is not None or exc.file else str(exc),
                        file=exc.file, line=line, field=exc.field)  # fmt: skip

    @app.exception_handler(AuditUnavailable)
    async def _audit(request: Request, exc: AuditUnavailable) -> JSONResponse:
        # an audited request is refused when its event cannot be written; the client is
        # told nothing about the log (its path is for the operator's log only)
        log.error("audit log %s: %s", exc.path or "(anchor)", exc)
        return _problem(503, "the service cannot record this request; try again later")

    @app.exception_handler(StoreConflictError)
    async def _conflict(request: Request, exc: StoreConflictError) -> JSONResponse:
        return _problem(409, "the upload conflicts with stored values; nothing was stored")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error on %s %s: %s", request.method, request.url.path,
                  type(exc).__name__)  # fmt: skip
        return _problem(500, "internal error")


def route_template(request: Request) -> str:
    """The request's path with each path parameter replaced by ``{name}``."""
    if request.url.path.startswith("/static/"):
        return "/static/*"
    if request.scope.get("route") is None:
        return "(no route)"
    parts = request.url.path.split("/")
    names = {str(value): name for name, value in request.path_params.items()}
    return "/".join(f"{{{names[p]}}}" if p in names else p for p in parts)


def _openapi(app: FastAPI) -> dict:
    """The schema, with the error body and the bearer-token scheme declared once."""
    from fastapi.openapi.utils import get_openapi

    from oncoresist.server._schemas import Problem

    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                             routes=app.routes)  # fmt: skip
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {})["Problem"] = Problem.model_json_schema()
        components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer",
                                                    "bearerFormat": "JWT"}}  # fmt: skip
        schema["security"] = [{"bearer": []}]
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """Build the service on the store and key of ``settings``.

    Parameters
    ----------
    settings
        Store, key, audit log and limits (defaults: the environment, see
        :class:`ServerSettings`).

    Returns
    -------
    fastapi.FastAPI
        The application (serve it with uvicorn, or ``oncoresist serve``).
    """
    from oncoresist.server import _api, _ui

    settings = settings or ServerSettings()
    state = ServiceState(settings)
    app = FastAPI(
        title="oncoresist",
        version=__version__,
        summary="Targeted-therapy resistance: monitoring, interpretation and reports",
        openapi_url=None,  # served under /api/v1 behind authentication
        docs_url=None,
        redoc_url=None,
    )
    app.state.oncoresist = state
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.include_router(_api.router, prefix="/api/v1")
    app.include_router(_ui.router)
    _ui.mount_static(app)
    _install_errors(app)
    app.add_middleware(SessionRenewal)
    app.add_middleware(SecurityHeaders, log=access_log, template=route_template)
    app.add_middleware(BodyLimit, default_bytes=settings.max_body_bytes,
                       upload_bytes=settings.max_upload_bytes,
                       upload_prefixes=UPLOAD_PREFIXES)  # fmt: skip
    return app
