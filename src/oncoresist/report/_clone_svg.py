"""SVG figures of clonal evolution: fish (Muller) plot, clone tree and CCF lines.

Drawn with the shared figure layer (:mod:`oncoresist.figures`): every figure is an
:class:`~oncoresist.figures.Svg` (``xmlns``, ``role="img"``, a ``<title>`` and a ``<desc>``
that states the numbers shown, no script) and no URL or ``url(...)`` reference, so hatching
is drawn as clipped line segments rather than an SVG pattern. Each clone keeps one style
(:func:`oncoresist.figures.assign` of its name: Okabe-Ito colour, marker shape and dash) in
all three figures and wherever else the layer draws that label; 8 clones get 8 colours and
up to 64 distinct (colour, marker) pairs; the marker is drawn on every band, node and point
and bands and nodes are labelled with the clone's name, so nothing depends on colour alone.

The fish plot takes CCFs (or prevalences) and a tree: CCFs are first projected onto the
tree's sum rule (:func:`oncoresist.clones._tree.project_to_tree`), so noisy inputs never
fail (fishplot #18, #21), and every clone is drawn inside its parent (fishplot #19). The
band layout is :func:`oncoresist.evolve.plots.muller_layout`, fed each clone's own cells
(its prevalence: CCF minus its children's), with bands centred vertically.

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

from oncoresist.clones._tree import clone_prevalence, descendant_matrix, project_to_tree
from oncoresist.errors import InputError
from oncoresist.figures import (
    GRID,
    INK,
    LinearScale,
    Style,
    Svg,
    assign,
    el,
    fmt,
    legend,
    legend_height,
    marker,
    points,
    series_key,
    text,
    tip,
    x_axis,
    y_axis,
)
from oncoresist.figures._embed import SvgText, svg_text

__all__ = ["HIGHLIGHT_TEXT", "clone_ccf_svg", "fish_svg", "hatch_path", "tree_svg"]

#: Legend text of hatched (highlighted) clones.
HIGHLIGHT_TEXT = "carries a known resistance alteration"
DETECTED_TEXT = "first detected (CCF clearly above 0)"
HATCH_SPACING = 9.0  # px between hatch lines, measured along y
HALO = {"stroke": "#ffffff", "stroke_width": 3.5, "paint_order": "stroke",
        "stroke_linejoin": "round"}  # fmt: skip
WIDTH, LEFT, RIGHT = 1000, 96, 24
TOP, BOTTOM = 30.0, 430.0  # plot area of the fish and CCF plots: CCF 1 is 400 px
LEGEND_ROW = 30


# ----------------------------------------------------------------------- checks
def _matrix(values, name: str) -> np.ndarray:
    try:
        x = np.array(values, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a numeric K x S matrix", field=name) from None
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or 0 in x.shape:
        raise InputError(f"{name} has shape {x.shape}; expected K clones x S samples", field=name)
    if not np.isfinite(x).all():
        raise InputError(f"{name} holds NaN or infinite values; expected numbers", field=name)
    return x


def _names(names: Sequence[str], k: int) -> list[str]:
    if isinstance(names, str) or len(names) != k:
        got = 1 if isinstance(names, str) else len(names)
        raise InputError(f"{got} names for {k} clones; expected one per clone", field="names")
    return [str(n) for n in names]


def _highlight(highlight: Iterable[int] | None, k: int) -> set[int]:
    out = set() if highlight is None else {int(i) for i in highlight}
    bad = sorted(i for i in out if not 0 <= i < k)
    if bad:
        raise InputError(
            f"highlight holds clone index {bad[0]}; expected indices in 0..{k - 1}",
            field="highlight",
        )
    return out


def _clones(
    values, field: str, names: Sequence[str], highlight: Iterable[int] | None
) -> tuple[np.ndarray, list[str], dict[str, Style], set[int]]:
    """The checked K x S matrix, clone names, their styles and highlighted clones."""
    x = _matrix(values, field)
    labels = _names(names, x.shape[0])
    return x, labels, assign(labels), _highlight(highlight, x.shape[0])


def _times(times: Sequence[float] | None, n_s: int) -> tuple[np.ndarray, list[str], bool]:
    """Sample x values, their tick labels, and whether they are times (else sample numbers)."""
    if times is None:
        return np.arange(n_s, dtype=float), [str(i + 1) for i in range(n_s)], False
    t = np.array(times, dtype=float).ravel()
    if t.size != n_s:
        raise InputError(
            f"{t.size} times for {n_s} samples; expected one per sample", field="times"
        )
    if not np.isfinite(t).all() or (np.diff(t) <= 0).any():
        raise InputError("times must be finite and strictly increasing", field="times")
    return t, [f"{v:g}" for v in t], True


def _x_scale(t: np.ndarray) -> LinearScale:
    """Sample time to pixel x; a single sample sits in the middle."""
    return LinearScale((float(t[0]), float(t[-1])), (LEFT + 10.0, WIDTH - RIGHT - 10.0))


def _sample_axis(t: np.ndarray, ticks: list[str], title: str) -> list[str]:
    """Gridlines and labels at the samples (at most about 14 labelled)."""
    every = max(1, math.ceil(len(t) / 14))
    shown = [j for j in range(len(t)) if j % every == 0 or j == len(t) - 1]
    words = {float(t[j]): ticks[j] for j in shown}
    return x_axis(_x_scale(t), [float(t[j]) for j in shown], left=LEFT, right=WIDTH - RIGHT,
                  top=TOP, bottom=BOTTOM, label=title, tick_label=words.__getitem__,
                  font_size=15)  # fmt: skip


def _short(words: str, limit: int = 28) -> str:
    return words if len(words) <= limit else words[: limit - 1] + "\u2026"


def _legend(keys: list[tuple[str, str]], top: float) -> tuple[str, float]:
    """The legend at ``top`` and its height: 3 columns for short texts, 2 or 1 for longer."""
    longest = max((len(w) for _, w in keys), default=0)
    columns = 3 if longest <= 24 else 2 if longest <= 48 else 1
    limit = int(((WIDTH - LEFT - RIGHT) / columns - 62) / 7.6)
    shown = [(sample, _short(w, limit)) for sample, w in keys]
    return (
        legend(shown, x=LEFT, y=top, width=WIDTH - LEFT - RIGHT, columns=columns,
               row=LEGEND_ROW),
        legend_height(len(keys), columns=columns, row=LEGEND_ROW),
    )  # fmt: skip


# ----------------------------------------------------------------------- hatching
def _positive(f0: float, f1: float, x0: float, x1: float) -> tuple[float, float] | None:
    """Where the linear function with ends ``f0``, ``f1`` on [x0, x1] is >= 0."""
    if f0 >= 0 and f1 >= 0:
        return x0, x1
    if f0 < 0 and f1 < 0:
        return None
    xz = x0 + (x1 - x0) * f0 / (f0 - f1)
    return (x0, xz) if f0 >= 0 else (xz, x1)


def hatch_path(xs: Sequence[float], top: Sequence[float], bottom: Sequence[float]) -> str:
    """Path data of diagonal lines clipped to the region between two polylines.

    ``top`` and ``bottom`` are pixel y values (``top <= bottom``) at the pixel x values
    ``xs``; the lines run ``y = b - x`` at multiples of :data:`HATCH_SPACING`, so bands
    hatched separately line up.
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
                out.append(f"M{fmt(a)} {fmt(b - a)}L{fmt(z)} {fmt(b - z)}")
    return "".join(out)


def _hatch(xs, top, bottom, *, width: float = 1.4) -> str:
    path = hatch_path(xs, top, bottom)
    return el("path", class_="hatch", d=path, fill="none", stroke=INK, stroke_width=width,
              stroke_linecap="round") if path else ""  # fmt: skip


def _swatch(s: Style, hatched: bool) -> str:
    """Legend sample of a clone: its colour as a block (hatched if highlighted), its marker."""
    out = el("rect", x=0, y=-9, width=44, height=18, fill=s.colour, stroke=INK,
             stroke_width=2.5 if hatched else 1.0)  # fmt: skip
    if hatched:
        out += _hatch([0, 44], [-9, -9], [9, 9], width=1.2)
    # white, so the marker shows on every colour (black and yellow included)
    return out + marker(s.marker, 22, 0, 5, fill="#ffffff", stroke=INK, width=1.2)


def _hatch_key() -> tuple[str, str]:
    box = el("rect", x=0, y=-9, width=44, height=18, fill="#ffffff", stroke=INK,
             stroke_width=2.5)  # fmt: skip
    return box + _hatch([0, 44], [-9, -9], [9, 9], width=1.2), HIGHLIGHT_TEXT


def _figure(
    ident: str, height: float, title: str, desc: str, cls: str, parts: list[str]
) -> SvgText:
    fig = Svg(WIDTH, height, title=title, desc=desc, ident=ident, cls=cls)
    fig.extend(parts)
    return svg_text(fig)


def _marked_text(labels: list[str], marked: set[int]) -> str:
    if not marked:
        return ""
    return f" {HIGHLIGHT_TEXT.capitalize()}: " + ", ".join(labels[i] for i in sorted(marked)) + "."


# ----------------------------------------------------------------------- fish plot
def fish_svg(
    prevalence_or_ccf,
    parents: Sequence[int | None],
    *,
    names: Sequence[str],
    kind: Literal["ccf", "prevalence"] = "ccf",
    times: Sequence[float] | None = None,
    x_label: str | None = None,
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
        Clone names, shown on the bands and in the legend.
    kind : {"ccf", "prevalence"}
        What ``prevalence_or_ccf`` holds.
    times : sequence of float, optional
        Time of each sample (e.g. days), strictly increasing. Default: sample number.
    x_label : str, optional
        Axis title. Default: "Days" with ``times``, else "Sample".
    highlight : iterable of int, optional
        Clones to hatch and outline, e.g. those carrying a known resistance alteration.
    detected : sequence of int or None, optional
        Per clone, the sample where it was first detected (from
        :func:`oncoresist.clones._tree.first_detected`), marked with a triangle.
    title : str
        The figure's title (its ``<title>``).
    ident : str
        The ``id`` of the ``<svg>``.

    Returns
    -------
    str
        One standalone ``<svg>`` element (with ``xmlns``).
    """
    raw, labels, styles, marked = _clones(prevalence_or_ccf, "prevalence_or_ccf", names, highlight)
    k, n_s = raw.shape
    t, ticks, timed = _times(times, n_s)
    if kind == "ccf":
        if (raw < 0).any():
            raise InputError("CCFs must be >= 0", field="prevalence_or_ccf")
        ccf = project_to_tree(raw, parents)
        prev = clone_prevalence(ccf, parents)
        moved = float(np.abs(ccf - raw).max())
    elif kind == "prevalence":
        if (raw < 0).any() or (raw.sum(axis=0) > 1 + 1e-6).any():
            raise InputError(
                "prevalences must be >= 0 and sum to at most 1 per sample",
                field="prevalence_or_ccf",
            )
        prev = raw
        ccf = descendant_matrix(parents) @ prev
        moved = 0.0
    else:
        raise InputError(f"kind is {kind!r}; expected 'ccf' or 'prevalence'", field="kind")
    if detected is not None:
        if len(detected) != k:
            raise InputError(
                f"detected has {len(detected)} entries; expected one per clone ({k})",
                field="detected",
            )
        for i, j in enumerate(detected):
            if j is not None and not 0 <= int(j) < n_s:
                raise InputError(
                    f"detected[{i}] = {j}; expected a sample index in 0..{n_s - 1} or None",
                    field="detected",
                )

    from oncoresist.evolve.plots import muller_layout  # evolve is slow to import

    keys = [f"c{i}" for i in range(k)]
    cells = pd.DataFrame(prev.T, index=t, columns=keys)
    tree = {keys[i]: None if p is None else keys[p] for i, p in enumerate(parents)}
    edges = muller_layout(cells, tree, normalise=False)

    xs = np.array([_x_scale(t)(v) for v in t])
    root = list(parents).index(None)
    shift = (1.0 - ccf[root]) / 2.0  # centre the fish vertically
    if n_s == 1:  # one sample: a block across the plot
        xs = np.array([LEFT + 10.0, WIDTH - RIGHT - 10.0])
        edges = {c: (np.repeat(lo, 2), np.repeat(hi, 2)) for c, (lo, hi) in edges.items()}
        shift = np.repeat(shift, 2)

    def y(v: np.ndarray) -> np.ndarray:
        """Pixel y of band edges ``v`` (one per drawn x)."""
        return BOTTOM - (v + shift) * (BOTTOM - TOP)

    kids = [[i for i, p in enumerate(parents) if p == c] for c in range(k)]
    mids: dict[int, np.ndarray] = {}  # pixel y of each band's own-cells centre, per drawn x
    parts = [el("rect", x=LEFT, y=TOP, width=WIDTH - LEFT - RIGHT, height=BOTTOM - TOP,
                fill="#f7f7f7", stroke=GRID)]  # fmt: skip
    words = []
    for key, (lower, upper) in edges.items():  # parents before children
        i = int(key[1:])
        s = styles[labels[i]]
        y_top, y_bot = y(upper), y(lower)
        outline = list(zip(xs, y_top, strict=True)) + list(zip(xs[::-1], y_bot[::-1], strict=True))
        hatched = i in marked
        summary = f"{labels[i]}: CCF " + ", ".join(f"{v:.2f}" for v in ccf[i])
        summary += f"; {HIGHLIGHT_TEXT}" if hatched else ""
        band = el("polygon", tip(summary), points=points(outline), fill=s.colour,
                  stroke=INK if hatched else "#ffffff", stroke_width=2.5 if hatched else 1.0,
                  stroke_linejoin="round")  # fmt: skip
        # The clone's own cells show below and above its children (muller_layout starts
        # the children half-way up the clone's own share): label the lower part.
        own = prev[i] if n_s > 1 else prev[i].repeat(2)
        inside = np.full(len(own), bool(kids[i]))
        mids[i] = y(lower + np.where(inside, own / 4, own / 2))
        room = np.where(inside, own / 2, own) * (BOTTOM - TOP)
        j = int(np.argmax(room))
        sign = ""
        if room[j] >= 15:  # the clone's marker, then its name
            name = _short(labels[i])
            w = 8.0 * len(name) + 14  # marker and words, px (a generous estimate)
            x0 = xs[j] + 6 if j == 0 else xs[j] - 6 - w if j == len(xs) - 1 else xs[j] - w / 2
            sign = marker(s.marker, x0 + 5, float(mids[i][j]), 5, fill="#ffffff", stroke=INK,
                          width=1.2, class_="clone-marker")  # fmt: skip
            words.append(text(x0 + 14, mids[i][j] + 5, name, font_size=14, font_weight=600,
                              **HALO))  # fmt: skip
        parts.append(el("g", band + (_hatch(xs, y_top, y_bot) if hatched else "") + sign,
                        class_="clone highlighted" if hatched else "clone",
                        data_clone=labels[i], data_shape=s.marker))  # fmt: skip
    parts.extend(words)
    emerged = []  # clones first detected after the first sample
    if detected is not None and n_s > 1:
        for i, j in enumerate(detected):
            if j is None or int(j) == 0:
                continue
            j = int(j)
            when = f"{'day' if timed and x_label is None else 'time'} {ticks[j]}"
            when = when if timed else f"sample {ticks[j]}"
            emerged.append(f"{labels[i]} ({when})")
            parts.append(marker("triangle-down", float(xs[j]), float(mids[i][j]) - 7, 6, fill=INK,
                                stroke="#ffffff", width=1.2,
                                title=f"{labels[i]}: first detected at {when}",
                                class_="first-detected", data_clone=labels[i]))  # fmt: skip
    axis_title = x_label if x_label is not None else ("Days" if timed else "Sample")
    parts += _sample_axis(t, ticks, axis_title)
    keys_ = [(_swatch(styles[labels[i]], i in marked), labels[i]) for i in range(k)]
    if marked:
        keys_.append(_hatch_key())
    if emerged:
        keys_.append((marker("triangle-down", 22, 0, 6, fill=INK, stroke=INK), DETECTED_TEXT))
    key, key_height = _legend(keys_, BOTTOM + 80)
    parts.append(key)
    last = ", ".join(f"{labels[i]} {ccf[i, -1]:.2f}" for i in range(k))
    desc = (
        f"Fish plot of {k} clones over {n_s} "
        + ("time points" if timed else "samples")
        + "; each band is as tall as the clone's cancer-cell fraction and sits inside its "
        f"parent's band. CCF in the last sample: {last}."
    )
    if marked:
        desc += f" Hatched and outlined, {HIGHLIGHT_TEXT}: "
        desc += ", ".join(labels[i] for i in sorted(marked)) + "."
    if emerged:
        desc += " First detected after the first sample: " + ", ".join(emerged) + "."
    if moved > 0.005:
        desc += f" CCFs were adjusted by up to {moved:.2f} to satisfy the tree's sum rule."
    return _figure(ident, BOTTOM + 80 + key_height + 6, title, desc, "plot fish", parts)


# ----------------------------------------------------------------------- tree
def _tree_x(parents: Sequence[int | None], kids: list[list[int]]) -> tuple[np.ndarray, int]:
    """Pixel x of every node (a parent centred over its children) and the leaf count."""
    root = list(parents).index(None)
    leaves: list[int] = []

    def walk(j: int) -> None:
        if not kids[j]:
            leaves.append(j)
        for i in kids[j]:
            walk(i)

    walk(root)
    slot = (WIDTH - LEFT - RIGHT) / len(leaves)
    x = np.zeros(len(parents))

    def place(j: int) -> float:
        if not kids[j]:
            x[j] = LEFT + (leaves.index(j) + 0.5) * slot
        else:
            xs = [place(i) for i in kids[j]]
            x[j] = (xs[0] + xs[-1]) / 2
        return float(x[j])

    place(root)
    return x, len(leaves)


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
        Clone names.
    ccf : array-like, K x S, optional
        CCF per clone and sample: up to four samples are listed, more as a range.
    highlight : iterable of int, optional
        Clones to ring and hatch, e.g. those carrying a known resistance alteration.
    title : str
        The figure's title.
    ident : str
        The ``id`` of the ``<svg>``.

    Returns
    -------
    str
        One standalone ``<svg>`` element (with ``xmlns``).
    """
    k = len(parents)
    labels = _names(names, k)
    styles = assign(labels)  # the layer's one label -> (colour, marker, dash) assignment
    marked = _highlight(highlight, k)
    a = descendant_matrix(parents)  # checks the tree
    c = None
    if ccf is not None:
        c = _matrix(ccf, "ccf")
        if c.shape[0] != k:
            raise InputError(f"ccf has {c.shape[0]} rows for {k} clones", field="ccf")
    kids = [[i for i, p in enumerate(parents) if p == j] for j in range(k)]
    root = list(parents).index(None)
    depth = (a.sum(axis=0) - 1).astype(int)  # ancestors of each clone
    x, n_leaves = _tree_x(parents, kids)
    slot = (WIDTH - LEFT - RIGHT) / n_leaves
    row, top, r = 96.0, 40.0, 15.0
    y = top + depth * row
    parts = [
        el("line", class_="edge", x1=float(x[p]), y1=float(y[p] + r), x2=float(x[i]),
           y2=float(y[i] - r), stroke=INK, stroke_width=2)
        for i, p in enumerate(parents)
        if p is not None
    ]  # fmt: skip

    def ccf_text(i: int) -> str:
        if c is None:
            return ""
        if c.shape[1] <= 4:
            return "CCF " + " / ".join(f"{v:.2f}" for v in c[i])
        return f"CCF {c[i].min():.2f}\u2013{c[i].max():.2f}"

    font = 14 if n_leaves <= 8 else 12
    limit = max(6, int(slot / (0.6 * font)))
    for i in range(k):
        s = styles[labels[i]]
        hatched = i in marked
        words = labels[i] + (f": {ccf_text(i)}" if c is not None else "")
        words += f"; {HIGHLIGHT_TEXT}" if hatched else ""
        node = marker(s.marker, float(x[i]), float(y[i]), r, fill=s.colour, stroke=INK,
                      width=3.0 if hatched else 1.5)  # fmt: skip
        if hatched:
            h = r * 0.6  # hatch the square inside the marker
            node += _hatch([x[i] - h, x[i] + h], [y[i] - h] * 2, [y[i] + h] * 2, width=1.5)
            node += el("circle", cx=float(x[i]), cy=float(y[i]), r=r + 6, fill="none", stroke=INK,
                       stroke_width=2, stroke_dasharray="4 3")  # fmt: skip
        node += text(x[i], y[i] + r + 20, _short(labels[i], limit), text_anchor="middle",
                     font_size=font, font_weight=600, **HALO)  # fmt: skip
        if c is not None:
            node += text(x[i], y[i] + r + 36, _short(ccf_text(i), limit), text_anchor="middle",
                         font_size=font - 1, **HALO)  # fmt: skip
        parts.append(el("g", tip(words) + node, class_="node highlighted" if hatched else "node",
                        data_clone=labels[i], data_shape=s.marker))  # fmt: skip
    legend_top = top + int(depth.max()) * row + r + 70
    height = legend_top - 30
    if marked:
        key, key_height = _legend([_hatch_key()], legend_top)
        parts.append(key)
        height = legend_top + key_height
    edges = "; ".join(f"{labels[p]} to {labels[i]}" for i, p in enumerate(parents) if p is not None)
    desc = f"Clone tree of {k} clones rooted at {labels[root]}" + (
        f"; parent to child: {edges}." if edges else "."
    )
    desc += _marked_text(labels, marked)
    return _figure(ident, height, title, desc, "plot clone-tree", parts)


# ----------------------------------------------------------------------- CCF lines
def clone_ccf_svg(
    ccf,
    *,
    names: Sequence[str],
    lo=None,
    hi=None,
    times: Sequence[float] | None = None,
    x_label: str | None = None,
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
        Clone names.
    lo, hi : array-like, K x S, optional
        Lower and upper ends of each CCF's interval (e.g. 95 %), drawn as bars.
    times : sequence of float, optional
        Time of each sample (e.g. days), strictly increasing. Default: sample number.
    x_label : str, optional
        Axis title. Default: "Days" with ``times``, else "Sample".
    highlight : iterable of int, optional
        Clones drawn with thicker lines and named in the legend as carrying a known
        resistance alteration.
    title : str
        The figure's title.
    ident : str
        The ``id`` of the ``<svg>``.

    Returns
    -------
    str
        One standalone ``<svg>`` element (with ``xmlns``).
    """
    c, labels, styles, marked = _clones(ccf, "ccf", names, highlight)
    k, n_s = c.shape
    bounds = []
    for arr, name in ((lo, "lo"), (hi, "hi")):
        b = None if arr is None else _matrix(arr, name)
        if b is not None and b.shape != c.shape:
            raise InputError(f"{name} has shape {b.shape}; expected {c.shape}", field=name)
        bounds.append(b)
    low, high = bounds
    t, ticks, timed = _times(times, n_s)
    xs = [_x_scale(t)(v) for v in t]
    ys = LinearScale((0.0, 1.0), (BOTTOM, TOP))

    def y(v: float) -> float:
        return ys(min(max(float(v), 0.0), 1.0))

    parts = y_axis(ys, [0.0, 0.25, 0.5, 0.75, 1.0], left=LEFT, right=WIDTH - RIGHT, top=TOP,
                   bottom=BOTTOM, label="Cancer-cell fraction", tick_label=lambda v: f"{v:.0%}",
                   font_size=15)  # fmt: skip
    axis_title = x_label if x_label is not None else ("Days" if timed else "Sample")
    parts += _sample_axis(t, ticks, axis_title)
    for i in range(k):
        s = styles[labels[i]]
        hatched = i in marked
        body = ""
        if n_s > 1:
            line = [(a, y(v)) for a, v in zip(xs, c[i], strict=True)]
            body += el("polyline", points=points(line), fill="none", stroke=s.colour,
                       stroke_width=4.0 if hatched else 2.5,
                       stroke_dasharray=s.dash or None)  # fmt: skip
        for j in range(n_s):
            interval = ""
            if low is not None and high is not None:
                y0, y1 = y(low[i, j]), y(high[i, j])
                body += el("path", class_="interval", stroke=s.colour, stroke_width=1.5,
                           fill="none", d=f"M{fmt(xs[j])} {fmt(y0)}V{fmt(y1)}M{fmt(xs[j] - 4)} "
                           f"{fmt(y0)}h8M{fmt(xs[j] - 4)} {fmt(y1)}h8")  # fmt: skip
                interval = f" ({low[i, j]:.2f} to {high[i, j]:.2f})"
            words = f"{labels[i]}, {'time' if timed else 'sample'} {ticks[j]}: CCF {c[i, j]:.2f}"
            body += marker(s.marker, xs[j], y(c[i, j]), 6, fill=s.colour, stroke=INK, width=1.2,
                           title=words + interval)  # fmt: skip
        parts.append(el("g", body, class_="series highlighted" if hatched else "series",
                        data_clone=labels[i], data_shape=s.marker))  # fmt: skip
    keys = [(series_key(styles[labels[i]], r=6), labels[i]) for i in range(k)]
    if marked:
        thick = el("line", x1=0, y1=0, x2=44, y2=0, stroke=INK, stroke_width=4)
        keys.append((thick, f"thick line: {HIGHLIGHT_TEXT}"))
    key, key_height = _legend(keys, BOTTOM + 80)
    parts.append(key)
    summary = "; ".join(f"{labels[i]} from {c[i, 0]:.2f} to {c[i, -1]:.2f}" for i in range(k))
    desc = (
        f"Cancer-cell fraction of {k} clones across {n_s} "
        + ("time points" if timed else "samples")
        + (", with interval bars" if low is not None and high is not None else "")
        + f": {summary}."
    ) + _marked_text(labels, marked)
    return _figure(ident, BOTTOM + 80 + key_height + 6, title, desc, "plot clone-ccf", parts)
