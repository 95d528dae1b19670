"""Request body limits as plain ASGI middleware: 413 before a large body is read."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["BodyLimit"]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BodyLimit:
    """Refuse request bodies above a size with 413, whether announced or streamed.

    Parameters
    ----------
    app
        The ASGI application to wrap.
    default_bytes
        Limit for every request (bytes).
    upload_bytes
        Limit for paths that start with one of ``upload_prefixes`` (bytes).
    upload_prefixes
        Path prefixes of upload routes.
    """

    def __init__(self, app, *, default_bytes: int, upload_bytes: int,
                 upload_prefixes: tuple[str, ...]) -> None:  # fmt: skip
        self.app = app
        self.default_bytes = default_bytes
        self.upload_bytes = upload_bytes
        self.upload_prefixes = upload_prefixes

    def _limit(self, path: str) -> int:
        if path.startswith(self.upload_prefixes):
            return self.upload_bytes
        return self.default_bytes

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps(
            {"detail": f"request body too large; expected at most {limit} bytes"}
        ).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope.get("path", ""))
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    announced = int(value)
                except ValueError:
                    announced = -1
                if announced < 0 or announced > limit:
                    await self._refuse(send, limit)
                    return
                await self.app(scope, receive, send)
                return
        # no Content-Length (chunked): read the body up to the limit first, then replay it
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                await self._refuse(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
