"""Writing figures to files: standalone SVG, and PNG where an offline renderer exists.

Files are written atomically (a temporary file beside the target, then a rename), so an
interrupted run never leaves half a figure. PNG needs a rasteriser for SVG. cairosvg (a full
one) is used when it is installed; it is no dependency because it needs the system cairo
library. Otherwise the figure is drawn again with matplotlib's Agg backend (the ``evolve``
extra) from the SVG's own elements: rectangles, circles, lines, polylines, polygons and
text, the vocabulary the figure layer writes. Gradients, clip paths and dash patterns other
than "dashed" are not reproduced; the SVG stays the figure of record.
"""

from __future__ import annotations

import io
import os
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from oncoresist.errors import MissingExtraError
from oncoresist.figures._svg import SVG_NS, Svg

__all__ = ["atomic_write", "write_png", "write_svg"]


def atomic_write(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide the figure from others
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
    """Rasterise a figure to ``.png``: cairosvg when installed, else matplotlib's Agg.

    Parameters
    ----------
    figure
        An :class:`Svg` or standalone SVG text.
    path
        The ``.png`` to write (atomically).
    scale
        Pixels per SVG unit.

    Raises
    ------
    MissingExtraError
        When neither cairosvg nor matplotlib is installed.
    """
    svg = figure.standalone() if isinstance(figure, Svg) else figure
    try:
        import cairosvg
    except (ImportError, OSError):
        return atomic_write(path, _png_with_matplotlib(svg, scale))
    return atomic_write(path, cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=scale))


def _num(node: ET.Element, name: str, default: float = 0.0) -> float:
    return float(node.get(name, default))


def _pairs(points: str) -> list[list[str]]:
    return [p.split(",") for p in points.split()]


def _png_with_matplotlib(svg: str, scale: float) -> bytes:
    """Draw the layer's SVG elements again with matplotlib and return PNG bytes."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.figure import Figure
        from matplotlib.patches import Circle, Polygon, Rectangle
    except ImportError:
        raise MissingExtraError("matplotlib", "evolve") from None
    ns = "{" + SVG_NS + "}"
    root = ET.fromstring(svg)
    w, h = (float(v) for v in root.get("viewBox", "0 0 800 600").split()[2:])
    dpi = 72.0 * scale
    fig = Figure(figsize=(w / 72.0, h / 72.0), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.axis("off")

    def stroke(node: ET.Element) -> dict[str, object]:
        return {
            "linewidth": _num(node, "stroke-width", 1.0) * 0.75,
            "linestyle": "--" if node.get("stroke-dasharray") else "-",
        }

    def paint(node: ET.Element) -> dict[str, object]:
        fill, edge = node.get("fill", "#000000"), node.get("stroke", "none")
        return {
            "facecolor": "none" if fill == "none" else fill,
            "edgecolor": "none" if edge == "none" else edge,
            "alpha": _num(node, "fill-opacity", 1.0) if edge == "none" else None,
            **stroke(node),
        }

    def plot(node: ET.Element, xy: list[tuple[float, float]]) -> None:
        colour, alpha = node.get("stroke", "#000000"), _num(node, "stroke-opacity", 1.0)
        ax.plot(*zip(*xy, strict=True), color=colour, alpha=alpha, **stroke(node))

    def walk(node: ET.Element, dx: float, dy: float) -> None:
        tr = node.get("transform", "")
        if tr.startswith("translate("):
            a, b = tr[len("translate(") : -1].replace(",", " ").split()
            dx, dy = dx + float(a), dy + float(b)
        tag = node.tag.removeprefix(ns)
        if tag in {"title", "desc"}:
            return
        if tag in {"polygon", "polyline"}:
            xy = [(float(x) + dx, float(y) + dy) for x, y in _pairs(node.get("points", ""))]
            if xy and tag == "polygon":
                ax.add_patch(Polygon(xy, closed=True, **paint(node)))
            elif xy:
                plot(node, xy)
        elif tag == "line":
            ends = [(_num(node, f"x{k}") + dx, _num(node, f"y{k}") + dy) for k in (1, 2)]
            plot(node, ends)
        elif tag == "rect":
            xy = (_num(node, "x") + dx, _num(node, "y") + dy)
            ax.add_patch(Rectangle(xy, _num(node, "width"), _num(node, "height"), **paint(node)))
        elif tag == "circle":
            xy = (_num(node, "cx") + dx, _num(node, "cy") + dy)
            ax.add_patch(Circle(xy, _num(node, "r"), **paint(node)))
        elif tag == "text":
            anchor = {"middle": "center", "end": "right"}.get(node.get("text-anchor", ""), "left")
            ax.text(
                _num(node, "x") + dx,
                _num(node, "y") + dy,
                "".join(node.itertext()),
                ha=anchor,
                va="baseline",
                color=node.get("fill", "#1a1a1a"),
                rotation=90 if "rotate(" in tr else 0,
                rotation_mode="anchor",
                fontsize=_num(node, "font-size", 16) * 0.75,
                fontweight="bold" if node.get("font-weight") in {"600", "bold"} else "normal",
            )
            return
        for child in node:
            walk(child, dx, dy)

    walk(root, 0.0, 0.0)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
