"""SVG figures of clonal evolution: fish (Muller) plot, clone tree and CCF lines.

Drawn with the shared figure layer (:mod:`oncoresist.figures`): every figure is an
:class:`~oncoresist.figures.Svg` (``xmlns``, ``role="img"``, a ``<title>`` and a ``<desc>``
that states the numbers shown, no script) and no URL or ``url(...)`` reference. Each clone
keeps one style (:func:`oncoresist.figures.assign` of its name: Okabe-Ito colour, marker
shape and dash) in all three figures and wherever else the layer draws that label; 8 clones
get 8 colours and up to 64 distinct (colour, marker) pairs; the marker is drawn on every
band, node and point and bands and nodes are labelled with the clone's name, so nothing
depends on colour alone.

The fish plot takes CCFs (or prevalences) and a tree: CCFs are first projected onto the
tree's sum rule (:func:`oncoresist.clones._tree.project_to_tree`), so noisy inputs never
fail (fishplot #18, #21), and every clone is drawn inside its parent (fishplot #19). Its
bands are those of the evolve Muller plot (:func:`oncoresist.figures._bands.muller_layout`
and :func:`~oncoresist.figures._bands.muller_bands`), fed each clone's own cells (its
prevalence: CCF minus its children's), centred vertically.

References
----------
Miller CA et al. Visualizing tumor evolution with the fishplot package for R. BMC Genomics
2016;17:880.
Okabe M, Ito K. Color Universal Design (CUD): how to make figures and presentations that
are friendly to colorblind people. J*Fly, 2008.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from oncoresist import figures as fg
from oncoresist.clones._tree import clone_prevalence, descendant_matrix, project_to_tree
from oncoresist.errors import InputError
from oncoresist.figures._bands import (
    HALO,
    LEFT,
    RIGHT,
    WIDTH,
    clone_key,
    hatch,
    hatch_path,
    muller_bands,
    muller_layout,
    shorten,
)
from oncoresist.figures._embed import SvgText, svg_text

__all__ = ["HIGHLIGHT_TEXT", "clone_ccf_svg", "fish_svg", "hatch_path", "tree_svg"]

#: Legend text of hatched (highlighted) clones.
HIGHLIGHT_TEXT = "carries a known resistance alteration"
DETECTED_TEXT = "first detected (CCF clearly above 0)"
TOP, BOTTOM = 30.0, 430.0  # plot area of the fish and CCF plots: CCF 1 is 400 px
BOX = {"left": LEFT, "right": WIDTH - RIGHT, "top": TOP, "bottom": BOTTOM, "font_size": 15}


def _matrix(values, name: str, shape: tuple[int | None, int | None] = (None, None)):
    """``values`` as a finite K x S matrix, of ``shape`` where it gives a number."""
    try:
        x = np.array(values, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a numeric K x S matrix", field=name) from None
    x = x[:, None] if x.ndim == 1 else x
    k, n_s = shape
    if x.ndim != 2 or 0 in x.shape or x.shape != (k or x.shape[0], n_s or x.shape[1]):
        expected = f"{k or 'K'} clones x {n_s or 'S'} samples"
        raise InputError(f"{name} has shape {x.shape}; expected {expected}", field=name)
    if not np.isfinite(x).all():
        raise InputError(f"{name} holds NaN or infinite values; expected numbers", field=name)
    return x


def _clones(values, field: str, names: Sequence[str], highlight, shape=(None, None)):
    """The checked K x S matrix, the clone names, their styles and the highlighted clones."""
    x = _matrix(values, field, shape)
    labels = [names] if isinstance(names, str) else [str(n) for n in names]
    if len(set(labels)) != len(labels) or len(labels) != x.shape[0]:
        raise InputError(
            f"{len(labels)} names ({len(set(labels))} distinct) for {x.shape[0]} clones; "
            "expected one distinct name per clone",
            field="names",
        )
    marked = set() if highlight is None else {int(i) for i in highlight}
    if bad := sorted(i for i in marked if not 0 <= i < x.shape[0]):
        raise InputError(
            f"highlight holds clone index {bad[0]}; expected indices in 0..{x.shape[0] - 1}",
            field="highlight",
        )
    return x, labels, fg.assign(labels), marked


def _samples(times: Sequence[float] | None, n_s: int, x_label: str | None,
             samples: Sequence[str] | None = None):  # fmt: skip
    """Pixel x of each sample, its name, their noun and the x axis.

    A sample's name is "day 60" or "sample 2", or its own name when ``samples`` gives it;
    without ``times`` the axis is labelled with those names.
    """
    t = np.arange(1.0, n_s + 1) if times is None else np.array(times, dtype=float).ravel()
    if t.size != n_s:
        raise InputError(
            f"{t.size} times for {n_s} samples; expected one per sample", field="times"
        )
    if not np.isfinite(t).all() or (np.diff(t) <= 0).any():
        raise InputError("times must be finite and strictly increasing", field="times")
    if samples is not None and len(samples) != n_s:
        raise InputError(f"{len(samples)} sample names for {n_s} samples", field="samples")
    word = "sample" if times is None else "day" if x_label is None else "time"
    label = x_label if x_label is not None else "Sample" if times is None else "Days"
    x = fg.LinearScale((t[0], t[-1]), (LEFT + 10.0, WIDTH - RIGHT - 10.0))
    every = max(1, math.ceil(n_s / 14))  # at most about 14 labelled
    shown = [v for j, v in enumerate(t) if j % every == 0 or j == n_s - 1]
    noun = "samples" if times is None else "time points"
    when = [f"{word} {v:g}" for v in t]
    tick = {}
    if samples is not None:
        pairs = zip(samples, when, strict=True)
        when = [f"{n} ({w})" if times is not None else str(n) for n, w in pairs]
        at = {float(v): str(n) for v, n in zip(t, samples, strict=True)}
        if times is None:  # the names themselves on the axis, cut to fit ~14 of them
            tick = {"tick_label": lambda v: shorten(at[float(v)], 14)}
        else:  # each sample's name and time, on the axis too
            tick = {"tick_label": lambda v: f"{shorten(at[float(v)], 10)} \u00b7 {v:g}"}
            label = f"Sample \u00b7 {label}"
    return x(t), when, noun, fg.x_axis(x, shown, label=label, **tick, **BOX)


def _marked(labels: list[str], marked: set[int], how: str) -> str:
    """The description's words for the highlighted clones: ``how`` they are drawn, which."""
    names = ", ".join(labels[i] for i in sorted(marked))
    return f" {how}, {HIGHLIGHT_TEXT}: {names}." if marked else ""


def _figure(ident, title, desc, cls, parts, keys: list[tuple[str, str]], top: float) -> SvgText:
    """The figure: ``parts`` and, from ``top`` down, a legend of ``keys`` (if any).

    The legend has 3 columns for short texts, 2 or 1 for longer.
    """
    longest = max((len(w) for _, w in keys), default=0)
    columns = 3 if longest <= 24 else 2 if longest <= 48 else 1
    width = WIDTH - LEFT - RIGHT
    limit = int((width / columns - 62) / 7.6)
    if keys:
        shown = [(sample, shorten(w, limit)) for sample, w in keys]
        parts = [*parts, fg.legend(shown, x=LEFT, y=top, width=width, columns=columns, row=30)]
    height = top + fg.legend_height(len(keys), columns=columns, row=30) + 6 if keys else top - 30
    fig = fg.Svg(WIDTH, height, title=title, desc=desc, ident=ident, cls=cls)
    fig.extend(parts)
    return svg_text(fig)


def fish_svg(
    prevalence_or_ccf,
    parents: Sequence[int | None],
    *,
    names: Sequence[str],
    kind: Literal["ccf", "prevalence"] = "ccf",
    times: Sequence[float] | None = None,
    x_label: str | None = None,
    samples: Sequence[str] | None = None,
    highlight: Iterable[int] | None = None,
    detected: Sequence[int | None] | None = None,
    title: str = "Clonal evolution (fish plot)",
    ident: str = "fish-plot",
) -> str:
    """A fish (Muller) plot: each clone a band as tall as its CCF, nested in its parent.

    Parameters
    ----------
    prevalence_or_ccf : array-like, K x S
        CCF per clone and sample (``kind="ccf"``; projected onto the tree's sum rule first)
        or each clone's own fraction of cells (``kind="prevalence"``; per sample the column
        sums to at most 1).
    parents : sequence of int or None
        Parent of each clone (``None`` for the root).
    names : sequence of str
        Clone names (distinct), shown on the bands and in the legend.
    kind : {"ccf", "prevalence"}
        What ``prevalence_or_ccf`` holds.
    times : sequence of float, optional
        Time of each sample (e.g. days), strictly increasing. Default: sample number.
    x_label : str, optional
        Axis title. Default: "Days" with ``times``, else "Sample".
    samples : sequence of str, optional
        The samples' names: on the x axis when there are no ``times`` (else beside the
        day in tooltips and the description). Default: "sample 1", "sample 2", ...
    highlight : iterable of int, optional
        Clones to hatch and outline, e.g. those carrying a known resistance alteration.
    detected : sequence of int or None, optional
        Per clone, the sample where it was first detected (from
        :func:`oncoresist.clones._tree.first_detected`), marked with a triangle.
    title, ident : str
        The figure's title (its ``<title>``) and the ``id`` of its ``<svg>``.

    Returns
    -------
    str
        The fish plot as one standalone ``<svg>`` element (with ``xmlns``).
    """
    raw, labels, styles, marked = _clones(prevalence_or_ccf, "prevalence_or_ccf", names, highlight)
    k, n_s = raw.shape
    xs, when, noun, axis = _samples(times, n_s, x_label, samples)
    if kind not in ("ccf", "prevalence"):
        raise InputError(f"kind is {kind!r}; expected 'ccf' or 'prevalence'", field="kind")
    if (raw < 0).any() or (kind == "prevalence" and (raw.sum(axis=0) > 1 + 1e-6).any()):
        rule = "prevalences must be >= 0 and sum to at most 1 per sample"
        raise InputError("CCFs must be >= 0" if kind == "ccf" else rule, field="prevalence_or_ccf")
    ccf = project_to_tree(raw, parents) if kind == "ccf" else descendant_matrix(parents) @ raw
    moved = float(np.abs(ccf - raw).max()) if kind == "ccf" else 0.0
    given = () if detected is None else list(detected)
    if detected is not None and (len(given) != k or set(given) - {None, *range(n_s)}):
        raise InputError(
            f"detected is {given}; expected per clone ({k}) a sample index in 0..{n_s - 1} or None",
            field="detected",
        )
    tree = {labels[i]: None if p is None else labels[p] for i, p in enumerate(parents)}
    wide = 1 if n_s > 1 else 2  # one sample: a block across the plot
    own = pd.DataFrame(clone_prevalence(ccf, parents).T.repeat(wide, axis=0), columns=labels)
    lift = (1.0 - ccf[list(parents).index(None)].repeat(wide)) / 2.0  # centre the fish
    drawn = xs if n_s > 1 else np.array([LEFT + 10.0, WIDTH - RIGHT - 10.0])

    def y(v: np.ndarray) -> np.ndarray:
        return BOTTOM - (v + lift) * (BOTTOM - TOP)

    tips = {n: f"{n}: CCF " + ", ".join(f"{v:.2f}" for v in ccf[i]) for i, n in enumerate(labels)}
    tips.update({labels[i]: f"{tips[labels[i]]}; {HIGHLIGHT_TEXT}" for i in marked})
    hatched = {labels[i] for i in marked}
    bands, mids = muller_bands(
        muller_layout(own, tree, normalise=False), tree, drawn, y, tips=tips, hatched=hatched
    )
    frame = {"width": WIDTH - LEFT - RIGHT, "height": BOTTOM - TOP, "stroke": fg.GRID}
    parts = [fg.el("rect", x=LEFT, y=TOP, fill="#f7f7f7", **frame), *bands]
    # clones first detected after the first sample
    emerged = [(n, j) for n, j in zip(labels, given, strict=False) if j and n_s > 1]
    tri = {"fill": fg.INK, "stroke": "#ffffff", "width": 1.2, "class_": "first-detected"}
    for n, j in emerged:
        at = {"title": f"{n}: first detected at {when[j]}", "data_clone": n, **tri}
        parts.append(fg.marker("triangle-down", xs[j], mids[n][j] - 7, 6, **at))
    keys = [(clone_key(styles[n], hatched=i in marked), n) for i, n in enumerate(labels)]
    keys += [(clone_key(None, hatched=True), HIGHLIGHT_TEXT)] if marked else []
    detect = fg.marker("triangle-down", 22, 0, 6, fill=fg.INK, stroke=fg.INK)
    keys += [(detect, DETECTED_TEXT)] if emerged else []
    last = ", ".join(f"{labels[i]} {ccf[i, -1]:.2f}" for i in range(k))
    desc = (
        f"Fish plot of {k} clones over {n_s} {noun}; each band is as tall as the clone's "
        f"cancer-cell fraction and sits inside its parent's band. CCF in the last sample: {last}."
        + _marked(labels, marked, "Hatched and outlined")
    )
    if emerged:
        later = ", ".join(f"{n} ({when[j]})" for n, j in emerged)
        desc += f" First detected after the first sample: {later}."
    if moved > 0.005:
        desc += f" CCFs were adjusted by up to {moved:.2f} to satisfy the tree's sum rule."
    return _figure(ident, title, desc, "plot fish", parts + axis, keys, BOTTOM + 80)


def _tree_x(parents: Sequence[int | None], kids: list[list[int]]) -> tuple[np.ndarray, int]:
    """Pixel x of every node (a parent centred over its children) and the leaf count."""
    slot = np.zeros(len(parents))  # leaves at 0, 1, 2, ...; parents between their children
    leaves: list[int] = []

    def place(j: int) -> float:
        below = [place(i) for i in kids[j]]
        if below:
            slot[j] = (below[0] + below[-1]) / 2
        else:
            slot[j] = len(leaves)
            leaves.append(j)
        return slot[j]

    place(list(parents).index(None))
    return LEFT + (slot + 0.5) * (WIDTH - LEFT - RIGHT) / len(leaves), len(leaves)


def tree_svg(
    parents: Sequence[int | None],
    *,
    names: Sequence[str],
    ccf=None,
    highlight: Iterable[int] | None = None,
    title: str = "Clone tree",
    ident: str = "clone-tree",
) -> str:
    """The clone tree drawn top-down, each node labelled with its name and CCF.

    Each node is the clone's marker (shape and colour, as in the fish and CCF plots).

    Parameters
    ----------
    parents : sequence of int or None
        Parent of each clone (``None`` for the root).
    names : sequence of str
        Clone names (distinct).
    ccf : array-like, K x S, optional
        CCF per clone and sample: up to four samples are listed, more as a range.
    highlight : iterable of int, optional
        Clones to ring and hatch, e.g. those carrying a known resistance alteration.
    title, ident : str
        The figure's title and the ``id`` of its ``<svg>``.

    Returns
    -------
    str
        The tree as one standalone ``<svg>`` element (with ``xmlns``).
    """
    k = len(parents)
    values = np.zeros((k, 1)) if ccf is None else ccf
    c, labels, styles, marked = _clones(values, "ccf", names, highlight, (k, None))
    depth = (descendant_matrix(parents).sum(axis=0) - 1).astype(int)  # ancestors of each clone
    kids = [[i for i, p in enumerate(parents) if p == j] for j in range(k)]
    x, n_leaves = _tree_x(parents, kids)
    row, top, r = 96.0, 40.0, 15.0
    y = top + depth * row
    edge = {"class_": "edge", "stroke": fg.INK, "stroke_width": 2}
    links = [(i, p) for i, p in enumerate(parents) if p is not None]
    parts = [fg.line(x[p], y[p] + r, x[i], y[i] - r, **edge) for i, p in links]
    font = 14 if n_leaves <= 8 else 12
    limit = max(6, int((WIDTH - LEFT - RIGHT) / n_leaves / (0.6 * font)))
    for i, name in enumerate(labels):
        s, ring = styles[name], i in marked
        if ccf is None:
            values = ""
        elif c.shape[1] <= 4:
            values = "CCF " + " / ".join(f"{v:.2f}" for v in c[i])
        else:
            values = f"CCF {c[i].min():.2f}\u2013{c[i].max():.2f}"
        paint = {"fill": s.colour, "stroke": fg.INK, "width": 3.0 if ring else 1.5}
        node = fg.marker(s.marker, x[i], y[i], r, **paint)
        if ring:  # hatch the square inside the marker, and ring it
            h = r * 0.6
            node += hatch([x[i] - h, x[i] + h], [y[i] - h] * 2, [y[i] + h] * 2, width=1.5)
            ring_ = {"fill": "none", "stroke": fg.INK, "width": 2, "stroke_dasharray": "4 3"}
            node += fg.marker("circle", x[i], y[i], r + 6, **ring_)
        words = {"text_anchor": "middle", "font_size": font, **HALO}
        node += fg.text(x[i], y[i] + r + 20, shorten(name, limit), font_weight=600, **words)
        if values:
            words["font_size"] = font - 1
            node += fg.text(x[i], y[i] + r + 36, shorten(values, limit), **words)
        tip = fg.tip(name + (f": {values}" if values else "") + (f"; {HIGHLIGHT_TEXT}" * ring))
        group = "node highlighted" if ring else "node"
        parts.append(fg.el("g", tip + node, class_=group, data_clone=name, data_shape=s.marker))
    keys = [(clone_key(None, hatched=True), HIGHLIGHT_TEXT)] if marked else []
    edges = "; ".join(f"{labels[p]} to {labels[i]}" for i, p in links)
    desc = f"Clone tree of {k} clones rooted at {labels[list(parents).index(None)]}"
    desc += (f"; parent to child: {edges}." if edges else ".") + _marked(labels, marked, "Ringed")
    legend_top = top + int(depth.max()) * row + r + 70
    return _figure(ident, title, desc, "plot clone-tree", parts, keys, legend_top)


def clone_ccf_svg(
    ccf,
    *,
    names: Sequence[str],
    lo=None,
    hi=None,
    times: Sequence[float] | None = None,
    x_label: str | None = None,
    samples: Sequence[str] | None = None,
    highlight: Iterable[int] | None = None,
    title: str = "Cancer-cell fraction of each clone",
    ident: str = "clone-ccf",
) -> str:
    """CCF of every clone across samples, as lines with interval bars.

    Parameters
    ----------
    ccf : array-like, K x S
        CCF per clone and sample, in [0, 1].
    names : sequence of str
        Clone names (distinct).
    lo, hi : array-like, K x S, optional
        Lower and upper ends of each CCF's interval (e.g. 95 %), drawn as bars.
    times : sequence of float, optional
        Time of each sample (e.g. days), strictly increasing. Default: sample number.
    x_label : str, optional
        Axis title. Default: "Days" with ``times``, else "Sample".
    samples : sequence of str, optional
        The samples' names: on the x axis when there are no ``times`` (else beside the
        day in tooltips and the description). Default: "sample 1", "sample 2", ...
    highlight : iterable of int, optional
        Clones drawn with thicker lines and named in the legend as carrying a known
        resistance alteration.
    title, ident : str
        The figure's title and the ``id`` of its ``<svg>``.

    Returns
    -------
    str
        The lines as one standalone ``<svg>`` element (with ``xmlns``).
    """
    c, labels, styles, marked = _clones(ccf, "ccf", names, highlight)
    k, n_s = c.shape
    bounds = [None if b is None else _matrix(b, n, c.shape) for b, n in ((lo, "lo"), (hi, "hi"))]
    bars = all(b is not None for b in bounds)
    xs, when, noun, axis = _samples(times, n_s, x_label, samples)
    y = fg.LinearScale((0.0, 1.0), (BOTTOM, TOP))
    py, plo, phi = (y(np.clip(m, 0.0, 1.0)) for m in (c, *(bounds if bars else (c, c))))
    percent = {"label": "Cancer-cell fraction", "tick_label": lambda v: f"{v:.0%}"}
    parts = fg.y_axis(y, [0.0, 0.25, 0.5, 0.75, 1.0], **percent, **BOX) + axis
    for i, name in enumerate(labels):
        s, thick = styles[name], i in marked
        line = {"stroke": s.colour, "stroke_width": 4.0 if thick else 2.5}
        body = fg.polyline(np.c_[xs, py[i]], stroke_dasharray=s.dash or None, **line)
        for j in range(n_s):
            words = f"{name}, {when[j]}: CCF {c[i, j]:.2f}"
            if bars:
                at = map(fg.fmt, (xs[j], plo[i, j], phi[i, j], xs[j] - 4, plo[i, j], xs[j] - 4))
                d = "M{} {}V{}M{} {}h8M{} {}h8".format(*at, fg.fmt(phi[i, j]))
                bar = {"fill": "none", "stroke": s.colour, "stroke_width": 1.5}
                body += fg.el("path", class_="interval", d=d, **bar)
                words += f" ({bounds[0][i, j]:.2f} to {bounds[1][i, j]:.2f})"
            paint = {"fill": s.colour, "stroke": fg.INK, "width": 1.2, "title": words}
            body += fg.marker(s.marker, xs[j], py[i, j], 6, **paint)
        group = "series highlighted" if thick else "series"
        parts.append(fg.el("g", body, class_=group, data_clone=name, data_shape=s.marker))
    keys = [(fg.series_key(styles[n], r=6), n) for n in labels]
    thick_key = fg.line(0, 0, 44, 0, stroke=fg.INK, stroke_width=4)
    keys += [(thick_key, f"thick line: {HIGHLIGHT_TEXT}")] if marked else []
    summary = "; ".join(f"{labels[i]} from {c[i, 0]:.2f} to {c[i, -1]:.2f}" for i in range(k))
    desc = (
        f"Cancer-cell fraction of {k} clones across {n_s} {noun}"
        + (", with interval bars" if bars else "")
        + f": {summary}."
        + _marked(labels, marked, "Drawn thick")
    )
    return _figure(ident, title, desc, "plot clone-ccf", parts, keys, BOTTOM + 80)
