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
fail (fishplot #18, #21), and every clone is drawn inside its parent (fishplot #19). The
projection is never silent: where it moves a CCF by more than :data:`SHOWN_ADJUSTMENT`, a
bracket marks the observed CCF beside the band, and the largest move is written under the
plot (the CCF figure draws the projected values beside the observed ones too). Its bands
are those of the evolve Muller plot (:func:`oncoresist.figures._bands.muller_layout` and
:func:`~oncoresist.figures._bands.muller_bands`), fed each clone's own cells (its
prevalence: CCF minus its children's), centred vertically.

The tree figure draws an edge that only some of the tied trees hold (support < 1, from
:func:`oncoresist.clones.enumerate_trees`) dashed, labelled with its support, and says so
in its legend. Node labels are laid out so that they are never cut or overlapped: the
figure widens with the number of leaves, and edges run from below a parent's label to the
top of its child's marker, so no edge crosses a label.

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
from html import escape
from typing import Literal

import numpy as np
import pandas as pd

from oncoresist import figures as fg
from oncoresist.clones._tree import (
    clone_prevalence,
    descendant_matrix,
    parse_parents,
    project_to_tree,
)
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

__all__ = [
    "HIGHLIGHT_TEXT",
    "SHOWN_ADJUSTMENT",
    "clone_ccf_svg",
    "fish_svg",
    "hatch_path",
    "tree_svg",
]

#: Legend text of hatched (highlighted) clones.
HIGHLIGHT_TEXT = "carries a known resistance alteration"
DETECTED_TEXT = "first detected (CCF clearly above 0)"
#: CCF moves (by the projection onto the tree) larger than this are marked on the figures.
SHOWN_ADJUSTMENT = 0.02
OBSERVED_TEXT = "observed CCF, where fitting the tree moved it by more than 0.02"
UNCERTAIN_TEXT = "dashed edge: in only some tied trees (label: its support)"
CERTAIN_TEXT = "solid edge: in every tied tree"
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


def _figure(
    ident, title, desc, cls, parts, keys: list[tuple[str, str]], top: float, total: float = WIDTH
) -> SvgText:
    """The figure, ``total`` px wide: ``parts`` and, from ``top`` down, a legend of ``keys``.

    The legend has 3 columns for short texts, 2 or 1 for longer.
    """
    longest = max((len(w) for _, w in keys), default=0)
    columns = 3 if longest <= 24 else 2 if longest <= 48 else 1
    width = total - LEFT - RIGHT
    limit = int((width / columns - 62) / 7.6)
    if keys:
        shown = [(sample, shorten(w, limit)) for sample, w in keys]
        parts = [*parts, fg.legend(shown, x=LEFT, y=top, width=width, columns=columns, row=30)]
    height = top + fg.legend_height(len(keys), columns=columns, row=30) + 6 if keys else top - 30
    fig = fg.Svg(total, height, title=title, desc=desc, ident=ident, cls=cls)
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
    layout = muller_layout(own, tree, normalise=False)
    bands, mids = muller_bands(layout, tree, drawn, y, tips=tips, hatched=hatched)
    frame = {"width": WIDTH - LEFT - RIGHT, "height": BOTTOM - TOP, "stroke": fg.GRID}
    parts = [fg.el("rect", x=LEFT, y=TOP, fill="#f7f7f7", **frame), *bands]
    at = xs if n_s > 1 else drawn[:1] + 12  # one sample: at the left end of its block

    def y_at(v: float, j: int) -> float:
        return BOTTOM - (v + lift[j]) * (BOTTOM - TOP)

    moves = _observed_marks(raw, ccf, labels, layout, at, y_at, when)
    parts += moves
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
    keys += [(_bracket(22, 9, -9), OBSERVED_TEXT)] if moves else []
    last = ", ".join(f"{labels[i]} {ccf[i, -1]:.2f}" for i in range(k))
    desc = (
        f"Fish plot of {k} clones over {n_s} {noun}; each band is as tall as the clone's "
        f"cancer-cell fraction and sits inside its parent's band. CCF in the last sample: {last}."
        + _marked(labels, marked, "Hatched and outlined")
    )
    if emerged:
        later = ", ".join(f"{n} ({when[j]})" for n, j in emerged)
        desc += f" First detected after the first sample: {later}."
    note = []
    if moved > 0.005:
        i, j = np.unravel_index(int(np.argmax(np.abs(ccf - raw))), raw.shape)
        words = (
            f"Bands: CCFs fitted to the tree's sum rule, adjusted by up to {moved:.2f} "
            f"({labels[i]} at {when[j]}: observed {raw[i, j]:.2f}, drawn {ccf[i, j]:.2f})."
        )
        desc += " " + words
        note = [fg.text(LEFT, BOTTOM + 76, words, font_size=14, class_="adjustment")]
    top = BOTTOM + (106 if note else 80)
    return _figure(ident, title, desc, "plot fish", parts + axis + note, keys, top)


def _bracket(x: float, y_low: float, y_high: float, **attrs) -> str:
    """A vertical bracket from ``y_low`` to ``y_high`` (px) at ``x``: an observed CCF."""
    d = "M{a} {lo}h6M{b} {lo}V{hi}h6".format(
        a=fg.fmt(x - 3), b=fg.fmt(x), lo=fg.fmt(y_low), hi=fg.fmt(y_high)
    )
    ink = {"fill": "none", "stroke": fg.INK, "stroke_width": 2, "stroke_linecap": "round"}
    return fg.el("path", attrs.pop("body", ""), class_="observed", d=d, **ink, **attrs)


def _observed_marks(raw, ccf, labels, layout, xs, y, when) -> list[str]:
    """Brackets as tall as the observed CCF, from each band's lower edge, where it moved."""
    out = []
    for i, j in np.argwhere(np.abs(ccf - raw) > SHOWN_ADJUSTMENT):
        name = labels[i]
        lower = layout[name][0][j]
        words = (
            f"{name} at {when[j]}: observed CCF {raw[i, j]:.2f}, drawn {ccf[i, j]:.2f} "
            "(fitted to the tree's sum rule)"
        )
        low, high = y(lower, j), y(lower + raw[i, j], j)
        out.append(_bracket(xs[j] + 4, low, high, body=fg.tip(words), data_clone=name))
    return out


def _tree_x(
    parents: Sequence[int | None], kids: list[list[int]], slot_px: float
) -> tuple[np.ndarray, int]:
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
    return LEFT + (slot + 0.5) * slot_px, len(leaves)


def _ccf_lines(values: np.ndarray) -> list[str]:
    """A node's CCF label: two samples a line, or a range for more than four samples.

    ``["CCF 0.60 / 0.50", " / 0.70 / 0.85"]``: the lines joined read "CCF a / b / c / d".
    """
    if values.size > 4:
        return [f"CCF {values.min():.2f}\u2013{values.max():.2f}"]
    words = [f"{v:.2f}" for v in values]
    lines = ["CCF " + " / ".join(words[:2])]
    if len(words) > 2:
        lines.append(" / " + " / ".join(words[2:]))
    return lines


def tree_svg(
    parents: Sequence[int | None],
    *,
    names: Sequence[str],
    ccf=None,
    highlight: Iterable[int] | None = None,
    support: Sequence[float | None] | None = None,
    n_ties: int | None = None,
    title: str = "Clone tree",
    ident: str = "clone-tree",
) -> str:
    """The clone tree drawn top-down, each node labelled with its name and CCF.

    Each node is the clone's marker (shape and colour, as in the fish and CCF plots). An
    edge held by only some of the tied trees (support below 1) is dashed and labelled with
    its support.

    Parameters
    ----------
    parents : sequence of int or None
        Parent of each clone (``None`` for the root).
    names : sequence of str
        Clone names (distinct).
    ccf : array-like, K x S, optional
        CCF per clone and sample: up to four samples are listed (two a line), more as a
        range.
    highlight : iterable of int, optional
        Clones to ring and hatch, e.g. those carrying a known resistance alteration.
    support : sequence of float, optional
        Per clone, the support of the edge from its parent (share of the tied trees holding
        it, :meth:`oncoresist.clones.TreeSearch.edge_support`); ignored for the root.
    n_ties : int, optional
        How many trees tied (said in the legend and the description).
    title, ident : str
        The figure's title and the ``id`` of its ``<svg>``.

    Returns
    -------
    str
        The tree as one standalone ``<svg>`` element (with ``xmlns``); it is 1000 px wide,
        or wider when the leaves' labels need it.
    """
    k = len(parents)
    parents = parse_parents(parents, k)
    values = np.zeros((k, 1)) if ccf is None else ccf
    c, labels, styles, marked = _clones(values, "ccf", names, highlight, (k, None))
    sup = _support(support, parents)
    depth = (descendant_matrix(parents).sum(axis=0) - 1).astype(int)  # ancestors of each clone
    kids = [[i for i, p in enumerate(parents) if p == j] for j in range(k)]
    font = 14
    lines = [[shorten(n, 24)] + ([] if ccf is None else _ccf_lines(c[i])) for i, n in
             enumerate(labels)]  # fmt: skip
    # a leaf's slot is as wide as its widest label line (about 0.6 em a glyph) plus a gap
    widest = max(len(w) for ws in lines for w in ws) * 0.6 * font + 22
    n_leaves = sum(1 for ks in kids if not ks)
    slot = max((WIDTH - LEFT - RIGHT) / n_leaves, widest)
    total = LEFT + RIGHT + slot * n_leaves
    x, _ = _tree_x(parents, kids, slot)
    r, top, line_h = 15.0, 40.0, 17.0
    label_h = 6 + line_h * max(len(ws) for ws in lines)
    row = 2 * r + label_h + 44  # edges run in the gap under the labels
    y = top + depth * row
    links = [(i, p) for i, p in enumerate(parents) if p is not None]
    parts = []
    for i, p in links:
        weak = sup[i] < 1 - 1e-6
        edge = {"class_": "edge uncertain" if weak else "edge", "stroke": fg.INK,
                "stroke_width": 2, "stroke_dasharray": "7 5" if weak else None,
                "data_support": f"{sup[i]:.3f}"}  # fmt: skip
        x0, y0, x1, y1 = x[p], y[p] + r + label_h, x[i], y[i] - r - 3
        what = f"{labels[p]} to {labels[i]}: support {sup[i]:.2f}"
        parts.append(fg.line(x0, y0, x1, y1, fg.tip(what), **edge))
        if weak:  # the support, on the edge near the child, where siblings are apart
            lx, ly = x0 + 0.62 * (x1 - x0), y0 + 0.62 * (y1 - y0)
            at = {"text_anchor": "middle", "font_size": 13, "class_": "support", **HALO}
            parts.append(fg.text(lx, ly + 4, f"{sup[i]:.2f}", **at))
    for i, name in enumerate(labels):
        s, ring = styles[name], i in marked
        paint = {"fill": s.colour, "stroke": fg.INK, "width": 3.0 if ring else 1.5}
        node = fg.marker(s.marker, x[i], y[i], r, **paint)
        if ring:  # hatch the square inside the marker, and ring it
            h = r * 0.6
            node += hatch([x[i] - h, x[i] + h], [y[i] - h] * 2, [y[i] + h] * 2, width=1.5)
            ring_ = {"fill": "none", "stroke": fg.INK, "width": 2, "stroke_dasharray": "4 3"}
            node += fg.marker("circle", x[i], y[i], r + 6, **ring_)
        words = {"text_anchor": "middle", "font_size": font, **HALO}
        node += fg.text(x[i], y[i] + r + 18, lines[i][0], font_weight=600, **words)
        if len(lines[i]) > 1:
            spans = "".join(
                fg.el("tspan", escape(w, quote=False), x=float(x[i]), dy="0" if n == 0 else line_h)
                for n, w in enumerate(lines[i][1:])
            )
            words["font_size"] = font - 1
            node += fg.el("text", spans, x=float(x[i]), y=float(y[i] + r + 18 + line_h),
                          fill=fg.INK, **words)  # fmt: skip
        values = "".join(lines[i][1:])
        tip = fg.tip(name + (f": {values}" if values else "") + (f"; {HIGHLIGHT_TEXT}" * ring))
        group = "node highlighted" if ring else "node"
        parts.append(fg.el("g", tip + node, class_=group, data_clone=name, data_shape=s.marker))
    keys = [(clone_key(None, hatched=True), HIGHLIGHT_TEXT)] if marked else []
    weak_edges = [(labels[p], labels[i], sup[i]) for i, p in links if sup[i] < 1 - 1e-6]
    if weak_edges:
        solid = fg.line(0, 0, 44, 0, stroke=fg.INK, stroke_width=2)
        dashed = fg.line(0, 0, 44, 0, stroke=fg.INK, stroke_width=2, stroke_dasharray="7 5")
        every = CERTAIN_TEXT if n_ties is None else f"solid edge: in all {n_ties} tied trees"
        keys += [(solid, every), (dashed, UNCERTAIN_TEXT)]
    edges = "; ".join(f"{labels[p]} to {labels[i]}" for i, p in links)
    desc = f"Clone tree of {k} clones rooted at {labels[parents.index(None)]}"
    desc += (f"; parent to child: {edges}." if edges else ".") + _marked(labels, marked, "Ringed")
    if n_ties is not None:
        desc += f" {n_ties} trees tie with the best under the sum rule."
    if weak_edges:
        desc += (
            " Edges in only some tied trees (support): "
            + "; ".join(f"{a} to {b} ({v:.2f})" for a, b, v in weak_edges)
            + "."
        )
    legend_top = top + int(depth.max()) * row + r + label_h + 40
    return _figure(ident, title, desc, "plot clone-tree", parts, keys, legend_top, total)


def _support(support, parents: list[int | None]) -> list[float]:
    """Per clone, the support of its edge (1 where not given; the root's is ignored)."""
    if support is None:
        return [1.0] * len(parents)
    values = list(support)
    if len(values) != len(parents):
        raise InputError(f"support has {len(values)} values for {len(parents)} clones; "
                         "expected one per clone", field="support")  # fmt: skip
    out = []
    for v, p in zip(values, parents, strict=True):
        v = 1.0 if p is None or v is None or v != v else float(v)
        if not 0.0 <= v <= 1.0:
            raise InputError(f"support {v}; expected a share in [0, 1]", field="support")
        out.append(v)
    return out


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
    projected=None,
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
    projected : array-like, K x S, optional
        The CCFs the fish plot draws (fitted to the tree's sum rule): where one differs from
        ``ccf`` by more than :data:`SHOWN_ADJUSTMENT`, it is drawn as a hollow marker joined
        to the observed one, and the largest difference is written under the plot.
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
    fitted = None if projected is None else _matrix(projected, "projected", c.shape)
    moved = [] if fitted is None else np.argwhere(np.abs(fitted - c) > SHOWN_ADJUSTMENT)
    for i, j in moved:  # the value the fish plot draws, joined to the observed one
        s, yy = styles[labels[i]], float(y(np.clip(fitted[i, j], 0.0, 1.0)))
        words = f"{labels[i]}, {when[j]}: observed CCF {c[i, j]:.2f}, fish plot {fitted[i, j]:.2f}"
        link = fg.line(xs[j] + 9, py[i, j], xs[j] + 9, yy, stroke=fg.INK, stroke_width=1.2,
                       stroke_dasharray="2 2")  # fmt: skip
        mark = fg.marker(s.marker, xs[j] + 9, yy, 5, fill="#ffffff", stroke=s.colour, width=2)
        parts.append(fg.el("g", fg.tip(words) + link + mark, class_="projected",
                           data_clone=labels[i]))  # fmt: skip
    keys = [(fg.series_key(styles[n], r=6), n) for n in labels]
    thick_key = fg.line(0, 0, 44, 0, stroke=fg.INK, stroke_width=4)
    keys += [(thick_key, f"thick line: {HIGHLIGHT_TEXT}")] if marked else []
    hollow = fg.marker("circle", 22, 0, 5, fill="#ffffff", stroke=fg.INK, width=2)
    keys += [(hollow, "hollow: CCF the fish plot draws (fitted to the tree)")] if len(moved) else []
    summary = "; ".join(f"{labels[i]} from {c[i, 0]:.2f} to {c[i, -1]:.2f}" for i in range(k))
    desc = (
        f"Cancer-cell fraction of {k} clones across {n_s} {noun}"
        + (", with interval bars" if bars else "")
        + f": {summary}."
        + _marked(labels, marked, "Drawn thick")
    )
    note = []
    if len(moved):
        gap = np.abs(fitted - c)
        i, j = np.unravel_index(int(np.argmax(gap)), gap.shape)
        words = (
            f"Fitting the tree moves {len(moved)} CCFs by more than {SHOWN_ADJUSTMENT:g}, at "
            f"most {gap[i, j]:.2f} ({labels[i]} at {when[j]}: {c[i, j]:.2f} -> {fitted[i, j]:.2f})."
        )
        desc += " " + words
        note = [fg.text(LEFT, BOTTOM + 76, words, font_size=14, class_="adjustment")]
    top = BOTTOM + (106 if note else 80)
    return _figure(ident, title, desc, "plot clone-ccf", parts + note, keys, top)
