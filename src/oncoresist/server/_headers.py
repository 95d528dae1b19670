"""Security headers and the access log, as plain ASGI middleware (no per-request task).

Over HTTPS (the service's own TLS, or a proxy's) the headers include HTTP Strict Transport
Security (RFC 6797), so a browser that has once reached the service goes on using HTTPS
for it, and an attacker on the network cannot strip TLS from a later visit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.requests import Request

from oncoresist.server._limits import Message, Receive, Scope, Send

__all__ = ["HSTS", "SECURITY_HEADERS", "SecurityHeaders"]

#: set on every response that does not set them itself
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'none'; form-action 'self'"
    ),
    "Cache-Control": "no-store",
}
HSTS = "Strict-Transport-Security"
_FROM_SETTINGS = object()


class SecurityHeaders:
    """Add :data:`SECURITY_HEADERS` to each response; log method, route template, status, time.

    Parameters
    ----------
    app
        The ASGI application to wrap.
    log
        The access log (INFO); it names the route's template (``template(request)``),
        never the path or query that was sent.
    template
        The route template of a routed request.
    hsts
        The ``Strict-Transport-Security`` value (:attr:`ServerSettings.hsts`; ``None``:
        none). Not given: read from the settings of the application that routes the
        request (``app.state.oncoresist.settings``), at its first request.
    """

    def __init__(self, app, *, log: logging.Logger, template: Callable[[Request], str],
                 hsts: str | object | None = _FROM_SETTINGS) -> None:  # fmt: skip
        self.app = app
        self.log = log
        self.template = template
        self.hsts = hsts

    def _hsts(self, scope: Scope) -> str | None:
        if self.hsts is _FROM_SETTINGS:
            # Starlette puts itself in the scope before its middleware runs
            state = getattr(getattr(scope.get("app"), "state", None), "oncoresist", None)
            if state is None:
                return None
            self.hsts = state.settings.hsts
        return self.hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        hsts = self._hsts(scope)

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers.append(name, value)
                if hsts is not None and HSTS not in headers:
                    headers.append(HSTS, hsts)
            await send(message)

        await self.app(scope, receive, send_with_headers)
        if self.log.isEnabledFor(logging.INFO):  # False too when the log is disabled
            self.log.info("%s %s %d %.1f ms", scope["method"], self.template(Request(scope)),
                          status, 1000 * (time.perf_counter() - started))  # fmt: skip
