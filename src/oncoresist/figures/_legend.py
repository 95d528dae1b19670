"""Legends: rows of keys (a small sample drawing and its words) laid out in columns."""

from __future__ import annotations

import math

from oncoresist.figures._palette import Style
from oncoresist.figures._svg import INK, el, fmt, line, marker, text

__all__ = ["legend", "legend_height", "series_key"]


def series_key(s: Style, *, width: float = 44, r: float = 7) -> str:
    """A key sample for a series: its line (with its dash) and its marker in the middle."""
    sample = line(0, 0, width, 0, stroke=s.colour, stroke_width=3, stroke_dasharray=s.dash or None)
    return sample + marker(s.marker, width / 2, 0, r, fill=s.colour, stroke=INK, width=1.2)


def legend_height(n_keys: int, *, columns: int = 2, row: float = 34) -> float:
    """Height in px of a legend of ``n_keys`` keys."""
    return math.ceil(n_keys / max(columns, 1)) * row


def legend(
    keys: list[tuple[str, str]],
    *,
    x: float,
    y: float,
    width: float,
    columns: int = 2,
    row: float = 34,
    font_size: int = 15,
    cls: str = "legend",
    item_attrs: list[dict[str, object]] | None = None,
) -> str:
    """A legend group at (x, y): ``keys`` are ``(sample markup, words)`` pairs.

    Keys fill ``columns`` columns across ``width`` px, row by row; the words are escaped.
    ``item_attrs`` gives extra attributes per key (e.g. ``data_series``).
    """
    col_w = width / max(columns, 1)
    items = []
    for k, (sample, words) in enumerate(keys):
        cx, cy = (k % columns) * col_w, (k // columns) * row
        extra = item_attrs[k] if item_attrs and k < len(item_attrs) else {}
        items.append(
            el(
                "g",
                sample + text(54, 6, words, font_size=font_size),
                class_="legend-item",
                transform=f"translate({fmt(cx)} {fmt(cy)})",
                **extra,
            )
        )
    return el("g", "".join(items), class_=cls, transform=f"translate({fmt(x)} {fmt(y)})")
