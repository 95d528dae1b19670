"""The app factory uvicorn imports: ``oncoresist.server._asgi:build``.

It is configured by the environment: ``ONCORESIST_DB``, ``ONCORESIST_KEY`` or
``ONCORESIST_KEY_FILE``, ``ONCORESIST_AUDIT_LOG`` and ``ONCORESIST_MAX_UPLOAD_BYTES``.
"""

from __future__ import annotations

import os

from oncoresist.server._settings import ServerSettings


def build():
    """The app, for ``uvicorn --factory`` (one per worker process)."""
    from oncoresist.server._app import create_app

    limit = os.environ.get("ONCORESIST_MAX_UPLOAD_BYTES")
    settings = ServerSettings(max_upload_bytes=int(limit)) if limit else ServerSettings()
    return create_app(settings)
