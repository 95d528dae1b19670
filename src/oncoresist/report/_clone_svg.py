"""Inline SVG figures of clonal evolution: fish (Muller) plot, clone tree and CCF lines.

Written as text, as :mod:`oncoresist.report._svg` is: no plotting library, no ``xmlns`` (the
HTML parser puts ``<svg>`` in the SVG namespace itself), no URL and no ``url(...)``
reference, so hatching is drawn as clipped line segments rather than an SVG pattern. Every
``<svg>`` has ``role="img"``, a ``<title>`` and a ``<desc>`` that states the numbers shown.
Clone ``i`` keeps one Okabe-Ito colour (and marker shape and dash) in all three figures;
bands and nodes are also labelled with the clone's name, so nothing depends on colour alone.

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
from html import escape
from typing import Literal

import numpy as np
import pandas as pd

from oncoresist.clones._tree import (
    clone_prevalence,
    descendant_matrix,
    project_to_tree,
)
from oncoresist.errors import InputError
from oncoresist.report._svg import GRID, INK, LEFT, RIGHT, WIDTH, _f, _open, marker, style

__all__ = ["HIGHLIGHT_TEXT", "clone_ccf_svg", "fish_svg", "tree_svg"]

#: Legend text of hatched (highlighted) clones.
HIGHLIGHT_TEXT = "carries a known resistance alteration"
DETECTED_TEXT = "first detected (CCF clearly above 0)"
HATCH_SPACING = 9.0  # px between hatch lines, measured along y
HALO = 'stroke="#ffffff" stroke-width="3.5" paint-order="stroke" stroke-linejoin="round"'
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


def _xs(t: np.ndarray) -> np.ndarray:
    """Pixel x of each sample; a single sample sits in the middle."""
    left, right = LEFT + 10, WIDTH - RIGHT - 10
    if t.size == 1:
        return np.array([(left + right) / 2])
    return left + (t - t[0]) / (t[-1] - t[0]) * (right - left)


def _x_axis(xs: np.ndarray, labels: list[str], top: float, bottom: float, title: str) -> str:
    out = []
    every = max(1, math.ceil(len(xs) / 14))  # at most about 14 labels
    for i, (x, text) in enumerate(zip(xs, labels, strict=True)):
        out.append(
            f'<line x1="{_f(x)}" y1="{_f(top)}" x2="{_f(x)}" y2="{_f(bottom)}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        if i % every == 0 or i == len(xs) - 1:
            out.append(
                f'<text x="{_f(x)}" y="{_f(bottom + 22)}" text-anchor="middle" font-size="15" '
                f'fill="{INK}">{escape(text)}</text>'
            )
    out.append(
        f'<line x1="{LEFT}" y1="{_f(bottom)}" x2="{WIDTH - RIGHT}" y2="{_f(bottom)}" '
        f'stroke="{INK}" stroke-width="1.5"/>'
    )
    out.append(
        f'<text x="{_f((LEFT + WIDTH - RIGHT) / 2)}" y="{_f(bottom + 46)}" '
        f'text-anchor="middle" font-size="16" fill="{INK}">{escape(title)}</text>'
    )
    return "".join(out)


def _short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


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
        lo = min(t0 + x0, t1 + x1)
        hi = max(b0 + x0, b1 + x1)
        for n in range(math.ceil(lo / HATCH_SPACING), math.floor(hi / HATCH_SPACING) + 1):
            b = n * HATCH_SPACING
            below_top = _positive(b - x0 - t0, b - x1 - t1, x0, x1)  # line under the top
            above_bot = _positive(b0 - b + x0, b1 - b + x1, x0, x1)  # and over the bottom
            if below_top is None or above_bot is None:
                continue
            a, z = max(below_top[0], above_bot[0]), min(below_top[1], above_bot[1])
            if z - a >= 0.5:
                out.append(f"M{_f(a)} {_f(b - a)}L{_f(z)} {_f(b - z)}")
    return "".join(out)


def _hatch(xs, top, bottom, *, width: float = 1.4) -> str:
    path = hatch_path(xs, top, bottom)
    if not path:
        return ""
    return (
        f'<path class="hatch" d="{path}" fill="none" stroke="{INK}" '
        f'stroke-width="{_f(width)}" stroke-linecap="round"/>'
    )


def _legend(keys: list[tuple[str, str]], top: float, *, columns: int = 3) -> str:
    """Legend items ``(sample drawing at 0..44 x -10..10, text)`` in a grid."""
    col_w = (WIDTH - LEFT - RIGHT) / columns
    limit = int((col_w - 62) / 7.6)
    out = [f'<g class="legend" transform="translate({LEFT} {_f(top)})">']
    for i, (sample, text) in enumerate(keys):
        x, y = (i % columns) * col_w, (i // columns) * LEGEND_ROW
        out.append(
            f'<g class="legend-item" transform="translate({_f(x)} {_f(y)})">{sample}'
            f'<text x="54" y="5" font-size="15" fill="{INK}">{escape(_short(text, limit))}'
            f"<title>{escape(text)}</title></text></g>"
        )
    out.append("</g>")
    return "".join(out)


def _columns(keys: list[tuple[str, str]]) -> int:
    """Three legend columns for short texts, two for longer, one for the longest."""
    longest = max((len(text) for _, text in keys), default=0)
    return 3 if longest <= 24 else 2 if longest <= 48 else 1


def _legend_height(n: int, columns: int = 3) -> float:
    return math.ceil(n / columns) * LEGEND_ROW


def _swatch(colour: str, hatched: bool) -> str:
    out = (
        f'<rect x="0" y="-9" width="44" height="18" fill="{colour}" stroke="{INK}" '
        f'stroke-width="{"2.5" if hatched else "1"}"/>'
    )
    if hatched:
        out += _hatch([0, 44], [-9, -9], [9, 9], width=1.2)
    return out


def _hatch_key() -> tuple[str, str]:
    return (
        f'<rect x="0" y="-9" width="44" height="18" fill="#ffffff" stroke="{INK}" '
        f'stroke-width="2.5"/>' + _hatch([0, 44], [-9, -9], [9, 9], width=1.2),
        HIGHLIGHT_TEXT,
    )


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
        One ``<svg>`` element.
    """
    raw = _matrix(prevalence_or_ccf, "prevalence_or_ccf")
    k, n_s = raw.shape
    labels = _names(names, k)
    marked = _highlight(highlight, k)
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

    top, bottom = 30.0, 430.0
    xs = _xs(t)
    root = list(parents).index(None)
    shift = (1.0 - ccf[root]) / 2.0  # centre the fish vertically

    def y(v: np.ndarray) -> np.ndarray:
        """Pixel y of band edges ``v`` (one per drawn x)."""
        return bottom - (v + shift) * (bottom - top)

    def y_at(v: float, j: int) -> float:
        return float(bottom - (v + shift[j]) * (bottom - top))

    if n_s == 1:  # one sample: a block across the plot
        xs = np.array([LEFT + 10.0, WIDTH - RIGHT - 10.0])
        edges = {c: (np.repeat(lo, 2), np.repeat(hi, 2)) for c, (lo, hi) in edges.items()}
        shift = np.repeat(shift, 2)
    kids = [[i for i, p in enumerate(parents) if p == c] for c in range(k)]
    mids: dict[int, np.ndarray] = {}  # own-cells centre of each band, per drawn x
    parts = [
        f'<rect x="{LEFT}" y="{_f(top)}" width="{WIDTH - LEFT - RIGHT}" '
        f'height="{_f(bottom - top)}" fill="#f7f7f7" stroke="{GRID}"/>'
    ]
    text_parts = []
    for key, (lower, upper) in edges.items():  # parents before children
        i = int(key[1:])
        colour = style(i)[0]
        y_top, y_bot = y(upper), y(lower)
        points = [f"{_f(a)},{_f(b)}" for a, b in zip(xs, y_top, strict=True)]
        points += [f"{_f(a)},{_f(b)}" for a, b in zip(xs[::-1], y_bot[::-1], strict=True)]
        hatched = i in marked
        summary = (
            f"{labels[i]}: CCF "
            + ", ".join(f"{v:.2f}" for v in ccf[i])
            + (f"; {HIGHLIGHT_TEXT}" if hatched else "")
        )
        parts.append(
            f'<g class="clone{" highlighted" if hatched else ""}" '
            f'data-clone="{escape(labels[i])}"><polygon points="{" ".join(points)}" '
            f'fill="{colour}" stroke="{INK if hatched else "#ffffff"}" '
            f'stroke-width="{"2.5" if hatched else "1"}" stroke-linejoin="round">'
            f"<title>{escape(summary)}</title></polygon>"
            + (_hatch(xs, y_top, y_bot) if hatched else "")
            + "</g>"
        )
        # The clone's own cells show below and above its children (muller_layout starts
        # the children half-way up the clone's own share): label the lower part.
        own = prev[i] if n_s > 1 else prev[i].repeat(2)
        inside = np.full(len(own), bool(kids[i]))
        mids[i] = lower + np.where(inside, own / 4, own / 2)
        room = np.where(inside, own / 2, own) * (bottom - top)
        j = int(np.argmax(room))
        if room[j] >= 15:
            anchor = "start" if j == 0 else "end" if j == len(xs) - 1 else "middle"
            dx = 6 if anchor == "start" else -6 if anchor == "end" else 0
            text_parts.append(
                f'<text x="{_f(xs[j] + dx)}" y="{_f(y_at(mids[i][j], j) + 5)}" '
                f'text-anchor="{anchor}" font-size="14" font-weight="600" fill="{INK}" {HALO}>'
                f"{escape(_short(labels[i]))}</text>"
            )
    parts.extend(text_parts)
    emerged = []  # clones first detected after the first sample
    if detected is not None and n_s > 1:
        for i, j in enumerate(detected):
            if j is None or int(j) == 0:
                continue
            j = int(j)
            when = f"{'day' if timed and x_label is None else 'time'} {ticks[j]}"
            when = when if timed else f"sample {ticks[j]}"
            emerged.append(f"{labels[i]} ({when})")
            parts.append(
                marker(
                    "triangle-down",
                    float(xs[j]),
                    y_at(mids[i][j], j) - 7,
                    6,
                    fill=INK,
                    stroke="#ffffff",
                    width=1.2,
                    attrs=f'class="first-detected" data-clone="{escape(labels[i])}"',
                    title=f"{labels[i]}: first detected at {when}",
                )
            )
    axis_title = x_label if x_label is not None else ("Days" if timed else "Sample")
    parts.append(_x_axis(_xs(t), ticks, top, bottom, axis_title))
    legend = [(_swatch(style(i)[0], i in marked), labels[i]) for i in range(k)]
    if marked:
        legend.append(_hatch_key())
    if emerged:
        legend.append((marker("triangle-down", 22, 0, 6, fill=INK, stroke=INK), DETECTED_TEXT))
    legend_top = bottom + 80
    columns = _columns(legend)
    parts.append(_legend(legend, legend_top, columns=columns))
    height = legend_top + _legend_height(len(legend), columns) + 6
    last = ", ".join(f"{labels[i]} {ccf[i, -1]:.2f}" for i in range(k))
    desc = (
        f"Fish plot of {k} clones over {n_s} "
        + ("time points" if timed else "samples")
        + "; each band is as tall as the clone's cancer-cell fraction and sits inside its "
        f"parent's band. CCF in the last sample: {last}."
    )
    if marked:
        desc += (
            " Hatched and outlined, "
            + HIGHLIGHT_TEXT
            + ": "
            + ", ".join(labels[i] for i in sorted(marked))
            + "."
        )
    if emerged:
        desc += " First detected after the first sample: " + ", ".join(emerged) + "."
    if moved > 0.005:
        desc += f" CCFs were adjusted by up to {moved:.2f} to satisfy the tree's sum rule."
    head = _open(ident, height, title, desc, "plot fish")
    return head + "".join(parts) + "</svg>"


# ----------------------------------------------------------------------- tree
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
        One ``<svg>`` element.
    """
    k = len(parents)
    labels = _names(names, k)
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
    leaves: list[int] = []

    def walk(j: int) -> None:
        if not kids[j]:
            leaves.append(j)
        for i in kids[j]:
            walk(i)

    walk(root)
    slot = (WIDTH - LEFT - RIGHT) / len(leaves)
    x = np.zeros(k)

    def place(j: int) -> float:
        if not kids[j]:
            x[j] = LEFT + (leaves.index(j) + 0.5) * slot
        else:
            xs = [place(i) for i in kids[j]]
            x[j] = (xs[0] + xs[-1]) / 2
        return float(x[j])

    place(root)
    row, top, r = 96.0, 40.0, 15.0
    y = top + depth * row
    parts = []
    for child, p in enumerate(parents):
        if p is not None:
            parts.append(
                f'<line class="edge" x1="{_f(x[p])}" y1="{_f(y[p] + r)}" x2="{_f(x[child])}" '
                f'y2="{_f(y[child] - r)}" stroke="{INK}" stroke-width="2"/>'
            )

    def ccf_text(i: int) -> str:
        if c is None:
            return ""
        if c.shape[1] <= 4:
            return "CCF " + " / ".join(f"{v:.2f}" for v in c[i])
        return f"CCF {c[i].min():.2f}\u2013{c[i].max():.2f}"

    for i in range(k):
        colour = style(i)[0]
        hatched = i in marked
        tip = labels[i] + (f": {ccf_text(i)}" if c is not None else "")
        tip += f"; {HIGHLIGHT_TEXT}" if hatched else ""
        node = (
            f'<circle cx="{_f(x[i])}" cy="{_f(y[i])}" r="{_f(r)}" fill="{colour}" '
            f'stroke="{INK}" stroke-width="{"3" if hatched else "1.5"}"/>'
        )
        if hatched:
            s = r * 0.7  # hatch the square inside the circle
            node += _hatch([x[i] - s, x[i] + s], [y[i] - s] * 2, [y[i] + s] * 2, width=1.5)
            node += (
                f'<circle cx="{_f(x[i])}" cy="{_f(y[i])}" r="{_f(r + 5)}" fill="none" '
                f'stroke="{INK}" stroke-width="2" stroke-dasharray="4 3"/>'
            )
        font = 14 if len(leaves) <= 8 else 12
        limit = max(6, int(slot / (0.6 * font)))
        text = (
            f'<text x="{_f(x[i])}" y="{_f(y[i] + r + 20)}" text-anchor="middle" '
            f'font-size="{font}" font-weight="600" fill="{INK}" {HALO}>'
            f"{escape(_short(labels[i], limit))}</text>"
        )
        if c is not None:
            text += (
                f'<text x="{_f(x[i])}" y="{_f(y[i] + r + 36)}" text-anchor="middle" '
                f'font-size="{font - 1}" fill="{INK}" {HALO}>'
                f"{escape(_short(ccf_text(i), limit))}</text>"
            )
        parts.append(
            f'<g class="node{" highlighted" if hatched else ""}" '
            f'data-clone="{escape(labels[i])}"><title>{escape(tip)}</title>{node}{text}</g>'
        )
    legend_top = top + int(depth.max()) * row + r + 70
    legend = [_hatch_key()] if marked else []
    if legend:
        parts.append(_legend(legend, legend_top, columns=1))
    height = legend_top + _legend_height(len(legend), 1) + (0 if legend else -30)
    edges = "; ".join(f"{labels[p]} to {labels[i]}" for i, p in enumerate(parents) if p is not None)
    desc = f"Clone tree of {k} clones rooted at {labels[root]}" + (
        f"; parent to child: {edges}." if edges else "."
    )
    if marked:
        desc += f" {HIGHLIGHT_TEXT.capitalize()}: " + ", ".join(labels[i] for i in sorted(marked))
        desc += "."
    head = _open(ident, height, title, desc, "plot clone-tree")
    return head + "".join(parts) + "</svg>"


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
        One ``<svg>`` element.
    """
    c = _matrix(ccf, "ccf")
    k, n_s = c.shape
    labels = _names(names, k)
    marked = _highlight(highlight, k)
    bounds = []
    for arr, name in ((lo, "lo"), (hi, "hi")):
        if arr is None:
            bounds.append(None)
            continue
        b = _matrix(arr, name)
        if b.shape != c.shape:
            raise InputError(f"{name} has shape {b.shape}; expected {c.shape}", field=name)
        bounds.append(b)
    low, high = bounds
    t, ticks, timed = _times(times, n_s)
    xs = _xs(t)
    top, bottom = 30.0, 430.0

    def y(v: float) -> float:
        return bottom - min(max(v, 0.0), 1.0) * (bottom - top)

    parts = []
    for v in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line x1="{LEFT}" y1="{_f(y(v))}" x2="{WIDTH - RIGHT}" y2="{_f(y(v))}" '
            f'stroke="{GRID}" stroke-width="1"/><text x="{LEFT - 8}" y="{_f(y(v) + 5)}" '
            f'text-anchor="end" font-size="15" fill="{INK}">{v * 100:.0f}%</text>'
        )
    mid = (top + bottom) / 2
    parts.append(
        f'<text x="20" y="{_f(mid)}" text-anchor="middle" font-size="16" fill="{INK}" '
        f'transform="rotate(-90 20 {_f(mid)})">Cancer-cell fraction</text>'
    )
    axis_title = x_label if x_label is not None else ("Days" if timed else "Sample")
    parts.append(_x_axis(xs, ticks, top, bottom, axis_title))
    for i in range(k):
        colour, shape, dash = style(i)
        hatched = i in marked
        parts.append(
            f'<g class="series{" highlighted" if hatched else ""}" '
            f'data-clone="{escape(labels[i])}" data-shape="{shape}">'
        )
        if n_s > 1:
            pts = " ".join(f"{_f(a)},{_f(y(v))}" for a, v in zip(xs, c[i], strict=True))
            parts.append(
                f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                f'stroke-width="{"4" if hatched else "2.5"}"'
                + (f' stroke-dasharray="{dash}"' if dash else "")
                + "/>"
            )
        for j in range(n_s):
            interval = ""
            if low is not None and high is not None:
                y0, y1 = y(low[i, j]), y(high[i, j])
                parts.append(
                    f'<path class="interval" d="M{_f(xs[j])} {_f(y0)}V{_f(y1)}'
                    f'M{_f(xs[j] - 4)} {_f(y0)}h8M{_f(xs[j] - 4)} {_f(y1)}h8" '
                    f'stroke="{colour}" stroke-width="1.5" fill="none"/>'
                )
                interval = f" ({low[i, j]:.2f} to {high[i, j]:.2f})"
            tip = f"{labels[i]}, {'time' if timed else 'sample'} {ticks[j]}: CCF {c[i, j]:.2f}"
            parts.append(
                marker(
                    shape,
                    float(xs[j]),
                    y(c[i, j]),
                    6,
                    fill=colour,
                    stroke=INK,
                    width=1.2,
                    title=tip + interval,
                )
            )
        parts.append("</g>")
    legend = []
    for i in range(k):
        colour, shape, dash = style(i)
        sample = (
            f'<line x1="0" y1="0" x2="44" y2="0" stroke="{colour}" '
            f'stroke-width="{"4" if i in marked else "2.5"}"'
            + (f' stroke-dasharray="{dash}"' if dash else "")
            + "/>"
            + marker(shape, 22, 0, 6, fill=colour, stroke=INK, width=1.2)
        )
        legend.append((sample, labels[i]))
    if marked:
        legend.append(
            (
                f'<line x1="0" y1="0" x2="44" y2="0" stroke="{INK}" stroke-width="4"/>',
                f"thick line: {HIGHLIGHT_TEXT}",
            )
        )
    legend_top = bottom + 80
    columns = _columns(legend)
    parts.append(_legend(legend, legend_top, columns=columns))
    height = legend_top + _legend_height(len(legend), columns) + 6
    summary = "; ".join(f"{labels[i]} from {c[i, 0]:.2f} to {c[i, -1]:.2f}" for i in range(k))
    desc = (
        f"Cancer-cell fraction of {k} clones across {n_s} "
        + ("time points" if timed else "samples")
        + (", with interval bars" if low is not None and high is not None else "")
        + f": {summary}."
    )
    if marked:
        desc += f" {HIGHLIGHT_TEXT.capitalize()}: " + ", ".join(labels[i] for i in sorted(marked))
        desc += "."
    head = _open(ident, height, title, desc, "plot clone-ccf")
    return head + "".join(parts) + "</svg>"
