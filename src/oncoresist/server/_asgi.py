"""The app factory uvicorn imports: ``oncoresist.server._asgi:build``.

It is configured by the environment: ``ONCORESIST_DB``, ``ONCORESIST_KEY`` or
``ONCORESIST_KEY_FILE``, ``ONCORESIST_AUDIT_LOG``, and the variables of
:data:`oncoresist.server._settings.ENVIRONMENT` (``ONCORESIST_MAX_UPLOAD_BYTES``,
``ONCORESIST_UPLOAD_WORKERS``, ``ONCORESIST_PARSE_TIMEOUT``, ``ONCORESIST_NORMALS``,
``ONCORESIST_BUDGET``), which ``oncoresist serve`` sets from its options.
"""

from __future__ import annotations

import gc

from oncoresist.server._settings import settings_from_env


def build():
    """The app, for ``uvicorn --factory`` (one per worker process)."""
    from oncoresist.server._app import create_app

    app = create_app(settings_from_env())
    freeze_heap()
    return app


def freeze_heap() -> None:
    """Take what the process holds now out of the garbage collector's scans.

    The app, the knowledge base and the libraries (~180,000 objects) live as long as the
    worker. Left in the collector's oldest generation, each full collection walks them all,
    pausing every request of the worker for 0.1-0.5 s on 2 cores; frozen, it costs well
    under a millisecond. Only for a process that serves one app until it exits.
    """
    gc.collect()
    gc.freeze()
