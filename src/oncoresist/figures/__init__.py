"""One figure layer: every chart of oncoresist is hand-written SVG built with these parts.

- :mod:`._svg`: the document builder :class:`Svg` (``role="img"``, ``<title>``, ``<desc>``,
  escaped text, no script) and drawing helpers (:func:`el`, :func:`text`, :func:`marker`,
  :func:`line`, :func:`polyline`, and :func:`band` for a shaded interval).
- :mod:`._scales`: :class:`LinearScale`, :class:`LogScale`, :class:`DayScale` with round
  ticks.
- :mod:`._axes`: :func:`x_axis`, :func:`y_axis` with gridlines.
- :mod:`._legend`: :func:`legend` and :func:`series_key`.
- :mod:`._palette`: the Okabe-Ito colours, marker shapes and dash patterns, and
  :func:`assign`, the one series-label -> style assignment the report and the web page share.
- :mod:`._export`: :func:`write_svg` (standalone, atomic) and :func:`write_png`.

See ``docs/figures.md`` for why SVG by hand and how to add a figure.
"""

from __future__ import annotations

from oncoresist.figures._axes import x_axis, y_axis
from oncoresist.figures._export import atomic_write, write_png, write_svg
from oncoresist.figures._legend import legend, legend_height, series_key
from oncoresist.figures._palette import DASHES, OKABE_ITO, SHAPES, Style, assign, style
from oncoresist.figures._scales import DayScale, LinearScale, LogScale, day_ticks, nice_ticks
from oncoresist.figures._svg import (
    FONT,
    GRID,
    INK,
    SVG_NS,
    Svg,
    band,
    el,
    fmt,
    line,
    marker,
    points,
    polyline,
    text,
    tip,
)

__all__ = [
    "DASHES",
    "FONT",
    "GRID",
    "INK",
    "OKABE_ITO",
    "SHAPES",
    "SVG_NS",
    "DayScale",
    "LinearScale",
    "LogScale",
    "Style",
    "Svg",
    "assign",
    "atomic_write",
    "band",
    "day_ticks",
    "el",
    "fmt",
    "legend",
    "legend_height",
    "line",
    "marker",
    "nice_ticks",
    "points",
    "polyline",
    "series_key",
    "style",
    "text",
    "tip",
    "write_png",
    "write_svg",
    "x_axis",
    "y_axis",
]
