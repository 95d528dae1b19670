"""Figures of evolution under therapy: Muller (fish) plots and Kaplan-Meier curves.

In a Muller plot each clone is a band whose height is its cells plus its descendants',
drawn inside its parent's band (children centred in the parent), so a resistant clone is
seen arising from the clone it came from and taking over. Time runs along x; the bands are
fractions of the tumour (``normalise=True``) or cells on a linear scale.

Both figures are drawn with the figure layer (:mod:`oncoresist.figures`): SVG with a title
and a description, every clone or strategy styled by :func:`oncoresist.figures.assign`
(so a clone keeps its colour from figure to figure). A ``.png`` is rasterised from that SVG
by :func:`oncoresist.figures.write_png`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from oncoresist import figures as fg
from oncoresist.errors import InputError
from oncoresist.evolve.survival import kaplan_meier

__all__ = [
    "km_svg",
    "muller_layout",
    "muller_plot",
    "muller_svg",
    "parents_from_mutations",
    "plot_km",
]

#: Colour-blind-safe palette (Okabe and Ito 2008).
PALETTE = list(fg.OKABE_ITO)
WIDTH, HEIGHT = 1000, 560
LEFT, RIGHT, TOP = 96, 24, 64


def muller_layout(
    cells: pd.DataFrame, parents: Mapping[str, str | None], *, normalise: bool = True
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Lower and upper edge of every clone's band at each time.

    Parameters
    ----------
    cells : pandas.DataFrame
        Index: time (days); one column per clone (cells).
    parents : mapping of str to str or None
        Parent of each clone (``None`` for the founder).
    normalise : bool
        Bands as fractions of the total at each time.

    Returns
    -------
    dict of str to (numpy.ndarray, numpy.ndarray)
        ``clone -> (lower, upper)``, one value per time.
    """
    clones = list(cells.columns)
    for c in clones:
        if c not in parents:
            raise InputError(f"no parent given for clone {c!r}", field="parents")
        p = parents[c]
        if p is not None and p not in clones:
            raise InputError(f"parent {p!r} of {c!r} is not a clone", field="parents")
    children: dict[str | None, list[str]] = {}
    for c in clones:
        children.setdefault(parents[c], []).append(c)
    x = cells.to_numpy(dtype=float)
    if normalise:
        total = x.sum(axis=1, keepdims=True)
        x = np.divide(x, total, out=np.zeros_like(x), where=total > 0)
    own = {c: x[:, i] for i, c in enumerate(clones)}
    size: dict[str, np.ndarray] = {}

    def subtree(c: str) -> np.ndarray:
        if c not in size:
            size[c] = own[c] + sum((subtree(k) for k in children.get(c, [])), np.zeros(len(x)))
        return size[c]

    edges: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def place(c: str, lower: np.ndarray) -> None:
        edges[c] = (lower, lower + subtree(c))
        start = lower + own[c] / 2.0
        for k in children.get(c, []):
            place(k, start)
            start = start + subtree(k)

    roots = children.get(None, [])
    if not roots:
        raise InputError("no founder clone (a clone whose parent is None)", field="parents")
    base = np.zeros(len(x))
    for r in roots:
        place(r, base)
        base = base + subtree(r)
    return edges


def parents_from_mutations(model) -> dict[str, str | None]:
    """Each clone's parent: the source of the first mutation into it (``None`` if none)."""
    parent: dict[str, str | None] = {c: None for c in model.clone_names}
    for m in model.mutations:
        if parent[m.target] is None:
            parent[m.target] = m.source
    return parent


def _title(fig: list[str], title: str, width: float) -> None:
    """The title centred at the top, its size chosen so that it fits inside the width."""
    if title:
        size = min(20.0, 0.95 * width / (0.56 * max(len(title), 1)))
        fig.append(
            fg.text(
                width / 2,
                30,
                title,
                text_anchor="middle",
                font_size=f"{size:.1f}",
                font_weight=600,
                class_="figure-title",
            )
        )


def _legend_rows(n: int) -> float:
    return fg.legend_height(n, columns=3, row=28)


def muller_svg(
    cells: pd.DataFrame,
    parents: Mapping[str, str | None],
    *,
    normalise: bool = True,
    title: str = "",
    marks: Mapping[str, float] | None = None,
    ident: str = "muller-plot",
) -> str:
    """A Muller plot as standalone SVG text (see :func:`muller_plot`)."""
    edges = muller_layout(cells, parents, normalise=normalise)
    t = cells.index.to_numpy(dtype=float)
    styles = fg.assign(list(edges))
    bottom = HEIGHT - 90
    top_value = max((float(np.max(hi)) for _, hi in edges.values()), default=1.0) or 1.0
    x = fg.LinearScale((float(t.min()), float(t.max())), (LEFT, WIDTH - RIGHT))
    y = fg.LinearScale((0.0, 1.0 if normalise else top_value), (bottom, TOP))
    parts: list[str] = []
    _title(parts, title, WIDTH)
    y_label = "fraction of tumour" if normalise else "cells"
    parts += fg.y_axis(
        y,
        y.ticks(5),
        left=LEFT,
        right=WIDTH - RIGHT,
        top=TOP,
        bottom=bottom,
        label=y_label,
        tick_label=lambda v: f"{v:.3g}",
    )
    parts += fg.x_axis(
        x,
        x.ticks(8),
        left=LEFT,
        right=WIDTH - RIGHT,
        top=TOP,
        bottom=bottom,
        label="days",
        tick_label=lambda v: f"{v:g}",
    )
    for c in edges:  # parents before children: children drawn on top
        lo, hi = edges[c]
        outline = list(zip(x(t), y(hi), strict=True)) + list(
            zip(x(t[::-1]), y(lo[::-1]), strict=True)
        )
        parts.append(
            fg.el(
                "polygon",
                fg.tip(f"clone {c}"),
                class_="clone-band",
                data_clone=c,
                points=fg.points(outline),
                fill=styles[c].colour,
                stroke="#ffffff",
                stroke_width=0.5,
            )
        )
    for label, day in (marks or {}).items():
        xm = x(day)
        rule = fg.el(
            "line",
            x1=fg.fmt(xm),
            y1=fg.fmt(TOP),
            x2=fg.fmt(xm),
            y2=fg.fmt(bottom),
            stroke=fg.INK,
            stroke_dasharray="6 3",
        )
        words = fg.text(xm + 4, TOP + 14, label, font_size=13)
        parts.append(fg.el("g", rule + words, class_="mark"))
    keys = [
        (fg.el("rect", x=0, y=-8, width=44, height=16, fill=styles[c].colour), c) for c in edges
    ]
    legend_top = bottom + 70
    parts.append(
        fg.legend(
            keys, x=LEFT, y=legend_top, width=WIDTH - LEFT - RIGHT, columns=3, row=28, font_size=14
        )
    )
    height = legend_top + _legend_rows(len(keys)) + 8
    desc = (
        f"Muller plot of {len(edges)} clones over days {t.min():g} to {t.max():g}: each band "
        f"is a clone with its descendants, nested in its parent's band; y is the "
        f"{y_label}. Final shares: "
        + "; ".join(f"{c} {float(edges[c][1][-1] - edges[c][0][-1]):.3g}" for c in edges)
        + "."
    )
    fig = fg.Svg(
        WIDTH,
        height,
        title=title or "Muller plot of clones over time",
        desc=desc,
        ident=ident,
        cls="plot muller",
    )
    fig.extend(parts)
    return fig.standalone()


def _steps(times: np.ndarray, v: np.ndarray, x, y) -> list[tuple[float, float]]:
    """Points of a right-continuous step function (a survival curve) in px."""
    pts = []
    for i, (tt, vv) in enumerate(zip(times, v, strict=True)):
        if i:
            pts.append((x(tt), y(v[i - 1])))
        pts.append((x(tt), y(vv)))
    return pts


def km_svg(results: pd.DataFrame, *, title: str = "", ident: str = "km-plot") -> str:
    """Kaplan-Meier curves per strategy as standalone SVG text (see :func:`plot_km`)."""
    names = list(dict.fromkeys(results["strategy"]))
    styles = fg.assign(names)
    fits = {}
    for name in names:
        g = results[results["strategy"] == name]
        fits[name] = kaplan_meier(g["ttp_days"], g["progressed"])
    t_max = max((float(np.max(k.times)) for k in fits.values() if len(k.times)), default=1.0)
    bottom = HEIGHT - 90
    x = fg.LinearScale((0.0, t_max or 1.0), (LEFT, WIDTH - RIGHT))
    y = fg.LinearScale((0.0, 1.0), (bottom, TOP))
    parts: list[str] = []
    _title(parts, title, WIDTH)
    parts += fg.y_axis(
        y,
        y.ticks(5),
        left=LEFT,
        right=WIDTH - RIGHT,
        top=TOP,
        bottom=bottom,
        label="progression-free",
        tick_label=lambda v: f"{v:g}",
    )
    parts += fg.x_axis(
        x,
        x.ticks(8),
        left=LEFT,
        right=WIDTH - RIGHT,
        top=TOP,
        bottom=bottom,
        label="days",
        tick_label=lambda v: f"{v:g}",
    )
    described = []
    for name in names:
        km, st = fits[name], styles[name]
        times = np.r_[0.0, km.times]
        surv, lo, hi = (np.r_[1.0, a] for a in (km.survival, km.lower, km.upper))
        band = _steps(times, hi, x, y) + _steps(times, lo, x, y)[::-1]
        median = "not reached" if not math.isfinite(km.median) else f"{km.median:g} days"
        described.append(f"{name}: median {median}")
        body = fg.tip(f"{name}: median time to progression {median}")
        body += fg.el(
            "polygon", points=fg.points(band), fill=st.colour, fill_opacity=0.15, stroke="none"
        )
        body += fg.el(
            "polyline",
            points=fg.points(_steps(times, surv, x, y)),
            fill="none",
            stroke=st.colour,
            stroke_width=2.5,
            stroke_dasharray=st.dash or None,
        )
        body += fg.marker(
            st.marker, x(times[-1]), y(surv[-1]), 6, fill=st.colour, stroke=fg.INK, width=1.2
        )
        parts.append(fg.el("g", body, class_="km-curve", data_strategy=name))
    keys = [(fg.series_key(styles[n]), n) for n in names]
    legend_top = bottom + 70
    parts.append(
        fg.legend(
            keys, x=LEFT, y=legend_top, width=WIDTH - LEFT - RIGHT, columns=3, row=28, font_size=14
        )
    )
    height = legend_top + _legend_rows(len(keys)) + 8
    desc = (
        "Kaplan-Meier curves of time to progression with 95% confidence bands, one per "
        "strategy: " + "; ".join(described) + "."
    )
    fig = fg.Svg(
        WIDTH,
        height,
        title=title or "Time to progression per strategy",
        desc=desc,
        ident=ident,
        cls="plot km",
    )
    fig.extend(parts)
    return fig.standalone()


def _figure_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in {".png", ".svg"}:
        raise InputError("expected a .png or .svg file name", file=path)
    return path


def _write(svg: str, path: Path) -> Path:
    """Write ``svg`` to ``path`` (``.svg`` as is, ``.png`` rasterised), atomically."""
    if path.suffix.lower() == ".svg":
        return fg.write_svg(svg, path)
    return fg.write_png(svg, path)


def plot_km(results: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """Kaplan-Meier curves of time to progression per strategy, as PNG or SVG.

    ``results`` is the table of :func:`~oncoresist.evolve.cohort.compare_strategies`.
    """
    path = _figure_path(path)
    return _write(km_svg(results, title=title), path)


def muller_plot(
    cells: pd.DataFrame,
    parents: Mapping[str, str | None],
    path: str | Path,
    *,
    normalise: bool = True,
    title: str = "",
    marks: Mapping[str, float] | None = None,
) -> Path:
    """Draw a Muller plot to PNG or SVG.

    Parameters
    ----------
    cells, parents, normalise
        As for :func:`muller_layout`.
    path : str or Path
        ``.png`` or ``.svg`` output (written atomically).
    title : str
        Figure title, drawn at the top and sized to fit inside the figure.
    marks : mapping of str to float, optional
        Vertical lines at named days (e.g. a drug switch, detection).

    Returns
    -------
    Path
        The file written.
    """
    path = _figure_path(path)
    return _write(muller_svg(cells, parents, normalise=normalise, title=title, marks=marks), path)
