"""Axes and gridlines: a bottom axis with ticks and a label, a left axis, a panel frame."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from oncoresist.figures._svg import GRID, INK, el, fmt, text

__all__ = ["x_axis", "y_axis"]


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
    out = []
    for v in ticks:
        x = scale(v)
        out.append(
            el(
                "line",
                x1=fmt(x),
                y1=fmt(top),
                x2=fmt(x),
                y2=fmt(bottom),
                stroke=GRID,
                stroke_width=1,
            )
        )
        out.append(text(x, bottom + 22, tick_label(v), text_anchor="middle", font_size=font_size))
    out.append(
        el(
            "line",
            x1=fmt(left),
            y1=fmt(bottom),
            x2=fmt(right),
            y2=fmt(bottom),
            stroke=INK,
            stroke_width=1.5,
        )
    )
    if label:
        out.append(
            text(
                (left + right) / 2,
                bottom + 48,
                label,
                text_anchor="middle",
                font_size=font_size + 1,
            )
        )
    return out


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
    out = []
    for v in ticks:
        y = scale(v)
        out.append(
            el(
                "line",
                x1=fmt(left),
                y1=fmt(y),
                x2=fmt(right),
                y2=fmt(y),
                stroke=GRID,
                stroke_width=1,
            )
        )
        out.append(text(left - 8, y + 5, tick_label(v), text_anchor="end", font_size=font_size))
    out.append(
        el(
            "line",
            x1=fmt(left),
            y1=fmt(top),
            x2=fmt(left),
            y2=fmt(bottom),
            stroke=INK,
            stroke_width=1.5,
        )
    )
    if label:
        mid = (top + bottom) / 2
        out.append(
            text(
                label_x,
                mid,
                label,
                text_anchor="middle",
                font_size=font_size + 1,
                transform=f"rotate(-90 {fmt(label_x)} {fmt(mid)})",
            )
        )
    return out
