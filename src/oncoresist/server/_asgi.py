"""The app factory uvicorn imports: ``oncoresist.server._asgi:build``.

It is configured by the environment: ``ONCORESIST_DB``, ``ONCORESIST_KEY`` or
``ONCORESIST_KEY_FILE``, ``ONCORESIST_AUDIT_LOG``, ``ONCORESIST_MAX_UPLOAD_BYTES`` and
``ONCORESIST_UPLOAD_WORKERS``.
"""

from __future__ import annotations

import os

from oncoresist.server._settings import ServerSettings


def build():
    """The app, for ``uvicorn --factory`` (one per worker process)."""
    from oncoresist.server._app import create_app

    given = {"max_upload_bytes": "ONCORESIST_MAX_UPLOAD_BYTES",
             "upload_workers": "ONCORESIST_UPLOAD_WORKERS"}  # fmt: skip
    options = {name: int(os.environ[env]) for name, env in given.items() if os.environ.get(env)}
    return create_app(ServerSettings(**options))
