"""The browser interface (server-rendered pages; small vendored scripts, no CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).with_name("static")


def mount_static(app: FastAPI) -> None:
    """Serve ``static/`` (scripts and styles shipped with the package) at ``/static``."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
