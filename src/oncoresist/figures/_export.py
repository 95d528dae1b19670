"""Writing figures to files: standalone SVG, and PNG where an offline renderer exists.

Files are written atomically (a temporary file beside the target, then a rename), so an
interrupted run never leaves half a figure. PNG needs a rasteriser for SVG; the project has
none as a dependency (cairosvg needs the system cairo library), so :func:`write_png` uses
cairosvg when it is installed and otherwise raises :class:`MissingExtraError`. Figures that
are drawn from data rather than from SVG (the evolve package's Muller plot) render PNG
through matplotlib instead.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from oncoresist.errors import MissingExtraError
from oncoresist.figures._svg import Svg

__all__ = ["atomic_write", "write_png", "write_svg"]


def atomic_write(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_svg(figure: Svg | str, path: str | Path) -> Path:
    """Write a figure as a standalone ``.svg`` file (with ``xmlns`` and an XML declaration)."""
    svg = figure.standalone() if isinstance(figure, Svg) else figure
    if 'xmlns="' not in svg.split(">", 1)[0]:
        svg = svg.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"', 1)
    doc = '<?xml version="1.0" encoding="UTF-8"?>\n' + svg + "\n"
    return atomic_write(path, doc.encode("utf-8"))


def write_png(figure: Svg | str, path: str | Path, *, scale: float = 2.0) -> Path:
    """Rasterise a figure to ``.png`` with cairosvg (``pip install cairosvg``).

    Raises
    ------
    MissingExtraError
        When cairosvg (or the cairo library it loads) is not available.
    """
    try:
        import cairosvg
    except (ImportError, OSError):
        raise MissingExtraError("cairosvg", "png") from None
    svg = figure.standalone() if isinstance(figure, Svg) else figure
    data = cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=scale)
    return atomic_write(path, data)
