"""Muller bands: clones as nested bands over time, shared by the Muller and fish plots.

Each clone is a band whose height is its share (or cells) plus its descendants', drawn
inside its parent's band (children centred in the parent). :func:`muller_layout` computes
the band edges; :func:`muller_bands` draws them with their labels, hatching (for marked
clones) and markers; :func:`clone_key` is the matching legend sample. The evolve Muller
plot (:mod:`oncoresist.evolve.plots`) and the clone fish plot of the report
(:mod:`oncoresist.report._clone_svg`) both draw with them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from oncoresist import figures as fg
from oncoresist.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

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
