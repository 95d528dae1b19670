"""Figures of evolution under therapy: Muller (fish) plots and Kaplan-Meier curves.

In a Muller plot each clone is a band whose height is its cells plus its descendants',
drawn inside its parent's band (children centred in the parent), so a resistant clone is
seen arising from the clone it came from and taking over. Time runs along x; the bands are
fractions of the tumour (``normalise=True``) or cells on a linear scale.

Both figures are drawn with the figure layer (:mod:`oncoresist.figures`): SVG with a title
and a description, every clone or strategy styled by :func:`oncoresist.figures.assign`
(so a clone keeps its colour and marker from figure to figure). A ``.png`` is rasterised
from that SVG by :func:`oncoresist.figures.write_png`. The bands, their labels, hatching
and legend keys (:func:`muller_bands`, :func:`hatch`, :func:`clone_key`) are shared with
the clone fish plot of the report (:mod:`oncoresist.report._clone_svg`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from oncoresist import figures as fg
from oncoresist.errors import InputError

__all__ = [
    "HALO",
    "clone_key",
    "hatch",
    "hatch_path",
    "km_svg",
    "muller_bands",
    "muller_layout",
    "muller_plot",
    "muller_svg",
    "parents_from_mutations",
    "plot_km",
    "shorten",
]

WIDTH, LEFT, RIGHT, TOP, BOTTOM = 1000, 96, 24, 64, 470
HATCH_SPACING = 9.0  # px between hatch lines, measured along y
Edge = Sequence[float]  # pixel x or y values along a band edge
#: A white outline under text, so that a label reads on any band colour.
HALO = dict(stroke="#ffffff", stroke_width=3.5, paint_order="stroke", stroke_linejoin="round")


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


def shorten(words: str, limit: int = 28) -> str:
    """``words`` cut to ``limit`` characters, the last an ellipsis when cut."""
    return words if len(words) <= limit else words[: limit - 1] + "\u2026"


def _positive(f0: float, f1: float, x0: float, x1: float) -> tuple[float, float] | None:
    """Where the linear function with ends ``f0``, ``f1`` on [x0, x1] is >= 0."""
    if f0 >= 0 and f1 >= 0:
        return x0, x1
    if f0 < 0 and f1 < 0:
        return None
    xz = x0 + (x1 - x0) * f0 / (f0 - f1)
    return (x0, xz) if f0 >= 0 else (xz, x1)


def hatch_path(xs: Edge, top: Edge, bottom: Edge) -> str:
    """Path data of diagonal lines clipped to the region between two polylines.

    ``top`` and ``bottom`` are pixel y values (``top <= bottom``) at the pixel x values
    ``xs``; the lines run ``y = b - x`` at multiples of :data:`HATCH_SPACING`, so bands
    hatched separately line up. Drawn as segments, not an SVG pattern, so a figure holds no
    ``url(...)`` reference.
    """
    out = []
    for j in range(len(xs) - 1):
        x0, x1 = float(xs[j]), float(xs[j + 1])
        if x1 - x0 <= 0:
            continue
        t0, t1, b0, b1 = float(top[j]), float(top[j + 1]), float(bottom[j]), float(bottom[j + 1])
        lo, hi = min(t0 + x0, t1 + x1), max(b0 + x0, b1 + x1)
        for n in range(math.ceil(lo / HATCH_SPACING), math.floor(hi / HATCH_SPACING) + 1):
            b = n * HATCH_SPACING
            below_top = _positive(b - x0 - t0, b - x1 - t1, x0, x1)  # line under the top
            above_bot = _positive(b0 - b + x0, b1 - b + x1, x0, x1)  # and over the bottom
            if below_top is None or above_bot is None:
                continue
            a, z = max(below_top[0], above_bot[0]), min(below_top[1], above_bot[1])
            if z - a >= 0.5:
                out.append(f"M{fg.fmt(a)} {fg.fmt(b - a)}L{fg.fmt(z)} {fg.fmt(b - z)}")
    return "".join(out)


def hatch(xs: Edge, top: Edge, bottom: Edge, width: float = 1.4) -> str:
    """A ``<path class="hatch">`` of :func:`hatch_path` lines, ``width`` px thick."""
    d = hatch_path(xs, top, bottom)
    ink = {"fill": "none", "stroke": fg.INK, "stroke_width": width, "stroke_linecap": "round"}
    return fg.el("path", class_="hatch", d=d, **ink) if d else ""


def clone_key(s: fg.Style | None, *, hatched: bool = False) -> str:
    """A legend sample of a clone: a block of its colour, hatched if marked, its marker.

    The marker is white, so it shows on every colour (black and yellow included); with no
    style ``s`` the block is white and has no marker (the key of hatching itself).
    """
    edge = {"stroke": fg.INK, "stroke_width": 2.5 if hatched else 1.0}
    out = fg.el("rect", x=0, y=-9, width=44, height=18, fill=s.colour if s else "#ffffff", **edge)
    out += hatch([0, 44], [-9, -9], [9, 9], 1.2) if hatched else ""
    mark = {"fill": "#ffffff", "stroke": fg.INK, "width": 1.2}
    return out + (fg.marker(s.marker, 22, 0, 5, **mark) if s else "")


def muller_bands(
    edges: Mapping[str, tuple[np.ndarray, np.ndarray]],
    parents: Mapping[str, str | None],
    xs: np.ndarray,
    y: Callable[[np.ndarray], np.ndarray],
    *,
    tips: Mapping[str, str],
    hatched: Collection[str] = (),
) -> tuple[list[str], dict[str, np.ndarray]]:
    """The bands of a Muller plot, each with its clone's marker and name where it is widest.

    Parameters
    ----------
    edges : mapping of str to (numpy.ndarray, numpy.ndarray)
        ``clone -> (lower, upper)`` at every x, parents first (:func:`muller_layout`).
    parents : mapping of str to str or None
        Parent of each clone.
    xs : numpy.ndarray
        Pixel x of the values.
    y : callable
        Values (an array) to pixel y.
    tips : mapping of str to str
        Each band's tooltip (its ``<title>``).
    hatched : collection of str
        Clones to hatch and outline.

    Returns
    -------
    parts : list of str
        A ``<g class="clone" data-clone data-shape>`` per clone holding its
        ``<polygon class="clone-band">`` (styled by :func:`oncoresist.figures.assign`),
        then the clones' names on top.
    mids : dict of str to numpy.ndarray
        Pixel y of the middle of each clone's own cells (below its children) at every x.
    """
    styles = fg.assign(edges)
    groups, words, mids = [], [], {}
    for c, (lower, upper) in edges.items():  # parents before children: children on top
        s, ring = styles[c], c in hatched
        ink, width = (fg.INK, 2.5) if ring else ("#ffffff", 1.0)
        paint = {"fill": s.colour, "stroke": ink, "stroke_width": width, "stroke_linejoin": "round"}
        outline = (np.c_[xs, y(upper)], np.c_[xs, y(lower)])
        band = fg.band(*outline, fg.tip(tips[c]), class_="clone-band", data_clone=c, **paint)
        band += hatch(xs, y(upper), y(lower)) if ring else ""
        # muller_layout starts the children half-way up a clone's own cells: label below them
        kids = [edges[k][1] - edges[k][0] for k in edges if parents[k] == c]
        own = (upper - lower - sum(kids, np.zeros(len(xs)))) / (2 if kids else 1)
        mids[c], room = y(lower + own / 2), np.abs(y(lower + own) - y(lower))
        j, name = int(np.argmax(room)), shorten(c)
        if room[j] >= 15:  # the clone's marker, then its name
            w = 9.0 * len(name) + 14  # marker and words, px (bold glyphs: about 0.62 em)
            x0 = xs[j] + 6 if j == 0 else xs[j] - 6 - w if j == len(xs) - 1 else xs[j] - w / 2
            mark = {"fill": "#ffffff", "stroke": fg.INK, "width": 1.2, "class_": "clone-marker"}
            band += fg.marker(s.marker, x0 + 5, mids[c][j], 5, **mark)
            words.append(
                fg.text(x0 + 14, mids[c][j] + 5, name, font_size=14, font_weight=600, **HALO)
            )
        group = "clone highlighted" if ring else "clone"
        groups.append(fg.el("g", band, class_=group, data_clone=c, data_shape=s.marker))
    return groups + words, mids


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
    edges = muller_layout(cells, parents, normalise=normalise)
    t = cells.index.to_numpy(dtype=float)
    top = 1.0 if normalise else max(float(np.max(hi)) for _, hi in edges.values()) or 1.0
    x = fg.LinearScale((float(t.min()), float(t.max())), (LEFT, WIDTH - RIGHT))
    y = fg.LinearScale((0.0, top), (BOTTOM, TOP))
    y_label = "fraction of tumour" if normalise else "cells"
    last = {c: f"{c} {float(hi[-1] - lo[-1]):.3g}" for c, (lo, hi) in edges.items()}
    tips = {c: f"{words} ({y_label}, day {t[-1]:g})" for c, words in last.items()}
    parts, _ = muller_bands(edges, parents, x(t), y, tips=tips)
    for label, day in (marks or {}).items():
        rule = fg.line(x(day), TOP, x(day), BOTTOM, stroke=fg.INK, stroke_dasharray="6 3")
        words = fg.text(x(day) + 4, TOP + 14, label, font_size=13)
        parts.append(fg.el("g", rule + words, class_="mark"))
    styles = fg.assign(edges)
    keys = [(clone_key(styles[c]), c) for c in edges]
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
    return _save(path, muller_svg, cells, parents, normalise=normalise, title=title, marks=marks)
