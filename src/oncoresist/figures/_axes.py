"""Axes and gridlines: a bottom axis with ticks and a label, a left axis."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from oncoresist.figures._svg import GRID, INK, fmt, line, text

__all__ = ["x_axis", "y_axis"]

#: How far (px) an x tick label may reach beyond the plot's left or right edge.
SLACK = 16.0


def _axis(
    across: bool,
    scale: Callable[[float], float],
    ticks: Sequence[float],
    box: tuple[float, float, float, float],
    label: str | None,
    label_x: float,
    tick_label: Callable[[float], str],
    font_size: int,
) -> list[str]:
    """Gridlines, tick labels, axis line and label of a y (``across``) or an x axis."""
    left, right, top, bottom = box
    out = []
    for v in ticks:
        p = scale(v)
        grid = (left, p, right, p) if across else (p, top, p, bottom)
        words = tick_label(v)
        x, y, anchor = (left - 8, p + 5, "end") if across else (p, bottom + 22, "middle")
        half = 0.3 * font_size * len(words)  # about half the label's width (px)
        if not across and p + half > right + SLACK:  # a long label at an end stays inside
            x, anchor = right + SLACK, "end"
        elif not across and p - half < left - SLACK:
            x, anchor = left - SLACK, "start"
        out.append(line(*grid, stroke=GRID, stroke_width=1))
        out.append(text(x, y, words, text_anchor=anchor, font_size=font_size))
    axis = (left, top, left, bottom) if across else (left, bottom, right, bottom)
    out.append(line(*axis, stroke=INK, stroke_width=1.5))
    if label:
        x, y = (label_x, (top + bottom) / 2) if across else ((left + right) / 2, bottom + 48)
        turn = f"rotate(-90 {fmt(x)} {fmt(y)})" if across else None
        out.append(text(x, y, label, text_anchor="middle", font_size=font_size + 1, transform=turn))
    return out


def x_axis(
    scale: Callable[[float], float],
    ticks: Sequence[float],
    *,
    left: float,
    right: float,
    top: float,
    bottom: float,
    label: str | None = None,
    tick_label: Callable[[float], str] = lambda v: f"{v:g}",
    font_size: int = 16,
) -> list[str]:
    """Vertical gridlines at ``ticks``, their labels, the axis line and the axis label.

    Gridlines run from ``top`` to ``bottom``; the axis line lies at ``bottom`` and the
    ``label``, when given, is centred below it.
    """
    return _axis(False, scale, ticks, (left, right, top, bottom), label, 0, tick_label, font_size)


def y_axis(
    scale: Callable[[float], float],
    ticks: Sequence[float],
    *,
    left: float,
    right: float,
    top: float,
    bottom: float,
    label: str | None = None,
    label_x: float = 20,
    tick_label: Callable[[float], str] = lambda v: f"{v:g}",
    font_size: int = 16,
) -> list[str]:
    """Horizontal gridlines at ``ticks``, their labels, the axis line and the axis label.

    Tick labels sit left of ``left``; the ``label``, when given, is written upwards at
    ``label_x``.
    """
    box = (left, right, top, bottom)
    return _axis(True, scale, ticks, box, label, label_x, tick_label, font_size)
