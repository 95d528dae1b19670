"""The app factory uvicorn imports: ``oncoresist.server._asgi:build``.

It is configured by the environment: ``ONCORESIST_DB``, ``ONCORESIST_KEY`` or
``ONCORESIST_KEY_FILE``, ``ONCORESIST_AUDIT_LOG``, and the variables of
:data:`oncoresist.server._settings.ENVIRONMENT` (``ONCORESIST_MAX_UPLOAD_BYTES``,
``ONCORESIST_UPLOAD_WORKERS``, ``ONCORESIST_PARSE_TIMEOUT``, ``ONCORESIST_NORMALS``,
``ONCORESIST_BUDGET``), which ``oncoresist serve`` sets from its options.
"""

from __future__ import annotations

from oncoresist.server._settings import settings_from_env


def build():
    """The app, for ``uvicorn --factory`` (one per worker process)."""
    from oncoresist.server._app import create_app

    return create_app(settings_from_env())
