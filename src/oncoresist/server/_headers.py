"""Security headers and the access log, as plain ASGI middleware (no per-request task)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.requests import Request

from oncoresist.server._limits import Message, Receive, Scope, Send

__all__ = ["SECURITY_HEADERS", "SecurityHeaders"]

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
    """

    def __init__(self, app, *, log: logging.Logger,
                 template: Callable[[Request], str]) -> None:  # fmt: skip
        self.app = app
        self.log = log
        self.template = template

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
        if self.log.isEnabledFor(logging.INFO):  # False too when the log is disabled
            self.log.info("%s %s %d %.1f ms", scope["method"], self.template(Request(scope)),
                          status, 1000 * (time.perf_counter() - started))  # fmt: skip
