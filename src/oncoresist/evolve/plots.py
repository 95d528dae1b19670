"""Figures of evolution under therapy: Muller (fish) plots and Kaplan-Meier curves.

In a Muller plot each clone is a band whose height is its cells plus its descendants',
drawn inside its parent's band (children centred in the parent), so a resistant clone is
seen arising from the clone it came from and taking over. Time runs along x; the bands are
fractions of the tumour (``normalise=True``) or cells on a linear scale.

Both figures are drawn with the figure layer (:mod:`oncoresist.figures`): SVG with a title
and a description, every clone or strategy styled by :func:`oncoresist.figures.assign`
(so a clone keeps its colour and marker from figure to figure). A ``.png`` is rasterised
from that SVG by :func:`oncoresist.figures.write_png`. The bands, their labels, hatching
and legend keys (:mod:`oncoresist.figures._bands`) are shared with the clone fish plot of
the report (:mod:`oncoresist.report._clone_svg`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from oncoresist import figures as fg
from oncoresist.errors import InputError
from oncoresist.figures import _bands
from oncoresist.figures._bands import BOTTOM, LEFT, RIGHT, TOP, WIDTH

__all__ = ["km_svg", "muller_plot", "muller_svg", "parents_from_mutations", "plot_km"]


def parents_from_mutations(model) -> dict[str, str | None]:
    """Each clone's parent: the source of the first mutation into it (``None`` if none)."""
    parent: dict[str, str | None] = {c: None for c in model.clone_names}
    for m in model.mutations:
        if parent[m.target] is None:
            parent[m.target] = m.source
    return parent


def _chart(x, y, y_label: str, parts: list[str], keys: list[tuple[str, str]], shown, **fig) -> str:
    """A figure of ``parts`` over days, with axes, a legend of ``keys`` and a fitted title.

    ``shown`` is the title written at the top (none when empty); ``fig`` holds the
    :class:`~oncoresist.figures.Svg` keywords (``title``, ``desc``, ``ident``, ``cls``).
    """
    box = {"left": LEFT, "right": WIDTH - RIGHT, "top": TOP, "bottom": BOTTOM}
    height = BOTTOM + 78 + fg.legend_height(len(keys), columns=3, row=28)
    svg = fg.Svg(WIDTH, height, **fig)
    if shown:  # sized to fit: bold glyphs average 0.62 em, capitals more; textLength makes sure
        size = min(20.0, (WIDTH - 20) / (0.62 * len(shown)))
        fit = {"textLength": WIDTH - 20, "lengthAdjust": "spacingAndGlyphs"} if size < 20 else {}
        bold = {"text_anchor": "middle", "font_weight": 600, "class_": "figure-title"}
        svg.add(fg.text(WIDTH / 2, 30, shown, font_size=f"{size:.1f}", **bold, **fit))
    svg.extend(fg.y_axis(y, y.ticks(5), label=y_label, tick_label=lambda v: f"{v:.3g}", **box))
    svg.extend(fg.x_axis(x, x.ticks(8), label="days", **box))
    svg.extend(parts)
    width = WIDTH - LEFT - RIGHT
    svg.add(fg.legend(keys, x=LEFT, y=BOTTOM + 70, width=width, columns=3, row=28, font_size=14))
    return svg.standalone()


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
    edges = _bands.muller_layout(cells, parents, normalise=normalise)
    t = cells.index.to_numpy(dtype=float)
    top = 1.0 if normalise else max(float(np.max(hi)) for _, hi in edges.values()) or 1.0
    x = fg.LinearScale((float(t.min()), float(t.max())), (LEFT, WIDTH - RIGHT))
    y = fg.LinearScale((0.0, top), (BOTTOM, TOP))
    y_label = "fraction of tumour" if normalise else "cells"
    last = {c: f"{c} {float(hi[-1] - lo[-1]):.3g}" for c, (lo, hi) in edges.items()}
    tips = {c: f"{words} ({y_label}, day {t[-1]:g})" for c, words in last.items()}
    parts, _ = _bands.muller_bands(edges, parents, x(t), y, tips=tips)
    for label, day in (marks or {}).items():
        rule = fg.line(x(day), TOP, x(day), BOTTOM, stroke=fg.INK, stroke_dasharray="6 3")
        words = fg.text(x(day) + 4, TOP + 14, label, font_size=13)
        parts.append(fg.el("g", rule + words, class_="mark"))
    styles = fg.assign(edges)
    keys = [(_bands.clone_key(styles[c]), c) for c in edges]
    desc = (
        f"Muller plot of {len(edges)} clones over days {t.min():g} to {t.max():g}: each band "
        f"is a clone with its descendants, nested in its parent's band; y is the "
        f"{y_label}. Final shares: " + "; ".join(last.values()) + "."
    )
    fig = {"title": title or "Muller plot of clones over time", "desc": desc, "ident": ident}
    return _chart(x, y, y_label, parts, keys, title, cls="plot muller", **fig)


def _steps(times: np.ndarray, v: np.ndarray, x, y) -> np.ndarray:
    """Points of a right-continuous step function (a survival curve) in px."""
    return np.c_[np.repeat(x(times), 2)[1:], np.repeat(y(v), 2)[:-1]]


def km_svg(results: pd.DataFrame, *, title: str = "", ident: str = "km-plot") -> str:
    """Kaplan-Meier curves per strategy as standalone SVG text (see :func:`plot_km`)."""
    from oncoresist.evolve.survival import kaplan_meier

    names = list(dict.fromkeys(results["strategy"]))
    styles = fg.assign(names)
    groups = results.groupby("strategy", sort=False)
    fits = {n: kaplan_meier(g["ttp_days"], g["progressed"]) for n, g in groups}
    t_max = max((float(np.max(k.times)) for k in fits.values() if len(k.times)), default=1.0)
    x = fg.LinearScale((0.0, t_max or 1.0), (LEFT, WIDTH - RIGHT))
    y = fg.LinearScale((0.0, 1.0), (BOTTOM, TOP))
    parts, described = [], []
    for name in names:
        km, st = fits[name], styles[name]
        times = np.r_[0.0, km.times]
        surv, lo, hi = (np.r_[1.0, a] for a in (km.survival, km.lower, km.upper))
        median = "not reached" if not math.isfinite(km.median) else f"{km.median:g} days"
        described.append(f"{name}: median {median}")
        body = fg.tip(f"{name}: median time to progression {median}")
        band = {"fill": st.colour, "fill_opacity": 0.15}
        body += fg.band(_steps(times, hi, x, y), _steps(times, lo, x, y), **band)
        line = {"stroke": st.colour, "stroke_width": 2.5, "stroke_dasharray": st.dash or None}
        body += fg.polyline(_steps(times, surv, x, y), **line)
        end = {"fill": st.colour, "stroke": fg.INK, "width": 1.2}
        body += fg.marker(st.marker, x(times[-1]), y(surv[-1]), 6, **end)
        parts.append(fg.el("g", body, class_="km-curve", data_strategy=name))
    keys = [(fg.series_key(styles[n]), n) for n in names]
    desc = (
        "Kaplan-Meier curves of time to progression with 95% confidence bands, one per "
        "strategy: " + "; ".join(described) + "."
    )
    fig = {"title": title or "Time to progression per strategy", "desc": desc, "ident": ident}
    return _chart(x, y, "progression-free", parts, keys, title, cls="plot km", **fig)


def _save(path: str | Path, draw: Callable[..., str], *args, **kw) -> Path:
    """Write the figure ``draw(*args, **kw)`` to a ``.svg`` or ``.png`` file, atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".png", ".svg"}:
        raise InputError("expected a .png or .svg file name", file=path)
    return (fg.write_svg if suffix == ".svg" else fg.write_png)(draw(*args, **kw), path)


def plot_km(results: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """Kaplan-Meier curves of time to progression per strategy, as PNG or SVG.

    ``results`` is the table of :func:`~oncoresist.evolve.cohort.compare_strategies`.
    """
    return _save(path, km_svg, results, title=title)


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
        As for :func:`oncoresist.figures._bands.muller_layout`.
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
    return _save(path, muller_svg, cells, parents, normalise=normalise, title=title, marks=marks)
