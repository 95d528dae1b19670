"""Inline SVG figures for pooled CRISPR screens: rank plots, volcano, sgRNA strips and QC.

Drawn with the shared figure layer (:mod:`oncoresist.figures`): each figure is a standalone
:class:`~oncoresist.figures.Svg` (``xmlns``, ``role="img"``, ``<title>``, ``<desc>``, no
script, no URL) with the layer's scales, round ticks, axes, markers and legend. Colours come
from the Okabe-Ito palette and every encoding also has a shape, so the figures read in grey
scale: resistance (enriched under drug, MAGeCK's ``pos``) is vermillion with upward
triangles, sensitisation (depleted, ``neg``) blue with downward triangles, and genes the
knowledge base already knows are diamonds.

Large tables stay small on the page: the points that carry no label (for a genome-wide
library, nearly all of them) are merged per 2 x 2 px cell and drawn as one ``<path>`` of
dots, so a 20,000-gene volcano is a few hundred kilobytes at most however many genes it
holds. -log10 p-values are capped at :data:`P_CAP` (16): the p-values of the alpha-RRA
(``1 - survival``) are not resolved below about 1e-16, so ``p = 0`` means "below 1e-16"
and is drawn at the cap; every figure says in its description how many points sit there.

References
----------
Okabe M, Ito K. Color Universal Design (CUD): how to make figures and presentations that
are friendly to colorblind people. J*Fly, 2008.
Li W et al. MAGeCK enables robust identification of essential genes from genome-scale
CRISPR/Cas9 knockout screens. Genome Biol 2014 (PMID 25476604).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from oncoresist.errors import InputError
from oncoresist.figures import (
    INK,
    OKABE_ITO,
    LinearScale,
    LogScale,
    Svg,
    el,
    legend,
    legend_height,
    line,
    marker,
    nice_ticks,
    text,
    tip,
    x_axis,
    y_axis,
)
from oncoresist.figures import fmt as _f
from oncoresist.figures._embed import SvgText, svg_text

__all__ = [
    "P_CAP",
    "essential_svg",
    "rank_svg",
    "read_distribution_svg",
    "sgrna_lfc_svg",
    "volcano_svg",
]

#: -log10 p-values are drawn at most at this height (p below 1e-16 is not resolved).
P_CAP = 16.0
WIDTH = 1000
POS_INK = OKABE_ITO[1]  # vermillion: resistance (enriched under drug)
NEG_INK = OKABE_ITO[0]  # blue: sensitisation (depleted under drug)
BOX_FILL = OKABE_ITO[5]  # sky blue
BACK_INK = "#8c8c8c"  # merged background points
BACK_DARK = "#4d4d4d"  # merged cells holding several points
BAND = "#e6e6e6"  # library-wide LFC band
CELL = 2  # px: points that fall in one CELL x CELL square are merged
LABEL_FONT = 15
ROW_TOP = 20  # px: top of the plot area of the one-row-per-gene/sample figures
MINUS = "\u2212"
_MEDIAN = {"stroke": "#777777", "stroke_width": 1.5, "stroke_dasharray": "3 3"}  # all sgRNAs
_CAP = {"stroke": "#555555", "stroke_width": 1.5, "stroke_dasharray": "6 4"}  # -log10 p cap
_LABEL = {"class_": "gene-label", "font_size": LABEL_FONT, "font_weight": 600}

Direction = Literal["pos", "neg"]
_WORDS = {
    "pos": ("resistance", "enriched under drug", POS_INK, "triangle"),
    "neg": ("sensitisation", "depleted under drug", NEG_INK, "triangle-down"),
}
Scale = LinearScale | LogScale
Ticks = list[float]
Parts = list[str]  # SVG elements
Px = np.ndarray  # pixel positions


# ----------------------------------------------------------------------- small helpers
def fmt(value: float, digits: int = 3) -> str:
    """A number with ``digits`` significant digits and a true minus sign; ``n/a`` if NaN."""
    if value is None or value != value:
        return "n/a"
    if math.isinf(value):
        return ("" if value > 0 else MINUS) + "\u221e"
    mant, _, exp = f"{value + 0.0:.{digits}g}".partition("e")  # + 0.0: no "-0"
    return (mant + (f"e{int(exp)}" if exp else "")).replace("-", MINUS)


def fmt_p(p: float) -> str:
    """A p-value or FDR as plain text: ``<1e-16`` for 0, 2 significant digits otherwise."""
    if p is None or p != p:
        return "n/a"
    if p <= 0:
        return f"<1e{MINUS}{int(P_CAP)}"
    if p < 1e-3:
        mant, exp = f"{p:.1e}".split("e")
        return f"{mant}e{MINUS}{-int(exp)}"
    return f"{p:.2g}"


def _tick(value: float) -> str:
    """A tick label: the round value, thousands separated, with a true minus sign."""
    return f"{value + 0.0:,.6g}".replace("-", MINUS)


def _round_scale(
    lo: float, hi: float, span: tuple[float, float], target: int = 6
) -> tuple[LinearScale, Ticks]:
    """A linear scale onto ``span`` px whose domain is [lo, hi] widened to round ticks.

    The step is the layer's (:func:`~oncoresist.figures.nice_ticks`); the axis then starts
    and ends at a labelled tick. Returns the scale and its ticks.
    """
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    first, second = nice_ticks(lo, hi, target)[:2]
    step = second - first
    lo, hi = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
    ticks = [round(lo + k * step, 12) for k in range(round((hi - lo) / step) + 1)]
    return LinearScale((lo, hi), span), ticks


def _key(shape: str, x: float, fill: str, r: float = 7, **paint: object) -> str:
    """A legend sample: one marker at (x, 0), ink-edged unless ``stroke`` is given."""
    return marker(shape, x, 0, r, fill=fill, **{"stroke": INK, "width": 1.2, **paint})


def _figure(
    ident: str,
    title: str,
    desc: str,
    cls: str,
    parts: Parts,
    keys: list[tuple[str, str]],
    top: float,
    left: float = 24,
) -> SvgText:
    """The figure: ``parts`` and, from ``top``, the legend of ``keys`` (two per row of 34 px)."""
    key = legend(keys, x=left, y=top, width=WIDTH - left - 24)
    height = top + legend_height(len(keys)) + 10
    fig = Svg(WIDTH, height, title=title, desc=desc, ident=ident, cls=cls)
    fig.extend([*parts, key])
    return svg_text(fig)


def neg_log10(p: np.ndarray, *, cap: float = P_CAP) -> tuple[np.ndarray, np.ndarray]:
    """-log10 ``p`` capped at ``cap``; NaN where ``p`` is NaN, negative or above 1.

    Returns the heights and a mask of the values drawn at the cap (``p = 0`` included).
    """
    p = np.asarray(p, dtype=float)
    bad = ~np.isfinite(p) | (p < 0) | (p > 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = -np.log10(np.where(bad, np.nan, p))
    clipped = ~bad & (y > cap)
    return np.where(clipped, cap, y), clipped


def _cells(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel positions merged per CELL x CELL square: centres (x, y) and counts."""
    if x.size == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64)
    key = np.stack([np.floor(x / CELL), np.floor(y / CELL)], axis=1).astype(np.int64)
    cells, counts = np.unique(key, axis=0, return_counts=True)
    return (cells[:, 0] + 0.5) * CELL, (cells[:, 1] + 0.5) * CELL, counts


_DOTS = {"fill": "none", "stroke_width": 3.6, "stroke_linecap": "round"}  # round dots
_DOTS_KEY = el("path", d="M14 0h.1M22 0h.1M30 0h.1", stroke=BACK_INK, **_DOTS)


def _dot_path(x: np.ndarray, y: np.ndarray) -> str:
    """Merged background points as round-capped zero-length strokes: one path per shade."""
    cx, cy, n = _cells(x, y)
    out = []
    for shade, keep in ((BACK_INK, n == 1), (BACK_DARK, n > 1)):
        if keep.any():
            d = "".join(f"M{_f(a)} {_f(b)}h.1" for a, b in zip(cx[keep], cy[keep], strict=True))
            out.append(el("path", class_="background-points", d=d, stroke=shade, **_DOTS))
    return "".join(out)


def _triangle_path(x: np.ndarray, y: np.ndarray, d: Direction) -> str:
    """Merged hits as small filled triangles, up for ``pos``, down for ``neg``: one path."""
    cx, cy, _ = _cells(x, y)
    s = -1 if d == "pos" else 1  # apex 5 px beyond the centre, base 2 px short of it
    if cx.size == 0:
        return ""
    path = "".join(f"M{_f(a)} {_f(b + 5 * s)}l4 {-7 * s}h-8z" for a, b in zip(cx, cy, strict=True))
    return el("path", class_=f"hits-{d}", d=path, fill=_WORDS[d][2], fill_opacity=0.75)


# ----------------------------------------------------------------------- labels
def text_width(text: str, size: float = LABEL_FONT) -> float:
    """A generous estimate of the width (px) of ``text`` in the figures' sans-serif font."""
    return 0.62 * size * len(text) + 4


Box = tuple[float, float, float, float]


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@dataclass(frozen=True)
class _Placed:
    text: str
    box: Box
    anchor: tuple[float, float]  # the labelled point
    side: str


def place_labels(
    points: Sequence[tuple[float, float, str, str]],
    *,
    bounds: Box,
    obstacles: Sequence[Box] = (),
    size: float = LABEL_FONT,
    max_steps: int = 30,
) -> list[_Placed | None]:
    """Place one label per point, greedily in the order given, so that no two overlap.

    Each label is tried beside its point (on its preferred side, then the other) and then
    moved up and down in half-line steps; the first box inside ``bounds`` that overlaps
    neither a placed label nor an obstacle (the labelled markers) wins. A label that finds
    no room is ``None`` (the point keeps its tooltip).

    Parameters
    ----------
    points
        ``(x, y, text, side)`` per point, ``side`` "right" or "left".
    bounds
        ``(x0, y0, x1, y1)`` the labels must stay within.
    obstacles
        Boxes the labels must not cover.
    """
    height = size + 4
    shifts = [0.0] + [s * k * height / 2 for k in range(1, max_steps + 1) for s in (-1, 1)]
    bx0, by0, bx1, by1 = bounds
    placed: list[Box] = list(obstacles)
    out: list[_Placed | None] = []
    for px, py, words, side in points:
        width = text_width(words, size)
        others = [b for b in placed if not _own(b, px, py)]
        found = None
        for dy, s in itertools.product(shifts, (side, "left" if side == "right" else "right")):
            x0, y0 = px + 9 if s == "right" else px - 9 - width, py + dy - height / 2
            box = (x0, y0, x0 + width, y0 + height)
            fits = bx0 <= x0 <= bx1 - width and by0 <= y0 <= by1 - height
            if fits and not any(_overlaps(box, b) for b in others):
                found = _Placed(words, box, (px, py), s)
                placed.append(box)
                break
        out.append(found)
    return out


def _own(box: Box, px: float, py: float) -> bool:
    """Whether ``box`` is the marker obstacle of the point (px, py) itself."""
    return abs((box[0] + box[2]) / 2 - px) < 1e-6 and abs((box[1] + box[3]) / 2 - py) < 1e-6


def _draw_labels(labels: Sequence[_Placed | None]) -> Parts:
    """The placed labels, each with a leader line when it moved off its point's height."""
    out = []
    for lab in filter(None, labels):
        x0, y0, x1, y1 = lab.box
        cy, right = (y0 + y1) / 2, lab.side == "right"
        edge, anchor = (x0, "start") if right else (x1, "end")
        if abs(cy - lab.anchor[1]) > LABEL_FONT * 0.6:
            out.append(line(*lab.anchor, edge, cy, stroke="#555555", class_="leader"))
        x = edge + (2 if right else -2)
        out.append(text(x, cy + LABEL_FONT * 0.35, lab.text, text_anchor=anchor, **_LABEL))
    return out


# ----------------------------------------------------------------------- gene plots
class _GenePlot:
    """A gene scatter being drawn (rank plot, volcano): its parts, labelled hits and keys.

    ``px`` and ``py`` are every gene's pixel position on the scales ``xs`` and ``ys``.
    """

    def __init__(self, genes: pd.DataFrame, xs: Scale, ys: LinearScale, px: Px, py: Px) -> None:
        self.genes, self.xs, self.ys, self.px, self.py = genes, xs, ys, px, py
        self.known = _known(genes)
        self.parts: Parts = []
        self.hits: list[tuple[float, float, str, str]] = []
        self.n_cap = 0

    def axes(self, ticks: tuple[Ticks, Ticks], labels: tuple[str, str], n_cap: int) -> None:
        """The layer's y and x axes (``ticks``, ``labels``: y first) and the cap line.

        The dashed cap line is drawn when ``n_cap`` genes sit at :data:`P_CAP`.
        """
        (x0, x1), (bottom, top) = self.xs.range, self.ys.range
        box, parts = {"left": x0 - 10, "right": x1 + 10, "top": top, "bottom": bottom}, self.parts
        parts += y_axis(self.ys, ticks[0], **box, label=labels[0], label_x=22, tick_label=_tick)
        parts += x_axis(self.xs, ticks[1], **box, label=labels[1], tick_label=_tick)
        self.n_cap = n_cap
        if n_cap:
            yc = float(self.ys(P_CAP))
            cap = text(x0 - 18, yc + 5, "cap", font_size=13, text_anchor="end", class_="cap")
            parts += [line(x0 - 10, yc, x1 + 10, yc, class_="cap-line", **_CAP), cap]

    def mark(self, i: int, d: Direction, shape: str, r: float = 7, side: str = "", **paint) -> None:
        """Gene ``i``'s marker: ``data-gene`` and a tooltip (rank, p, FDR, LFC, knowledge base).

        With a ``side`` ("right", "left") the gene is labelled too.
        """
        name, row, known = str(self.genes.index[i]), self.genes.iloc[i], self.known[i]
        words = (
            f"{name}: {_WORDS[d][0]} rank {fmt(float(row[f'{d}|rank']), 6)}, "
            f"p = {fmt_p(float(row[f'{d}|p-value']))}, FDR = {fmt_p(float(row[f'{d}|fdr']))}"
        )
        if f"{d}|lfc" in row.index:
            words += f", LFC = {fmt(float(row[f'{d}|lfc']))}"
        if known:
            words += f"; in knowledge base: {known}"
        x, y = self.px[i], self.py[i]
        self.parts.append(marker(shape, x, y, r, **paint, data_gene=name, title=words))
        if side:
            self.hits.append((x, y, name, side))

    def figure(
        self, keys: list[tuple[str, str]], desc: str, ident: str, title: str, cls: str
    ) -> SvgText:
        """The figure: labels placed, the cap's key, and the description completed.

        The description gets the cap's count and how many labels did not fit.
        """
        (x0, x1), (bottom, top) = self.xs.range, self.ys.range
        labels = place_labels(
            self.hits,
            bounds=(x0 - 8, top, x1 + 10, bottom - 2),
            obstacles=[(x - 7, y - 7, x + 7, y + 7) for x, y, _, _ in self.hits],
        )
        missed = sum(lab is None for lab in labels)
        n, cap = self.n_cap, f"{MINUS}{int(P_CAP)}"
        if n:
            words = f"cap: {n} gene{'s' * (n > 1)} with p = 0 or < 1e{cap} drawn at {int(P_CAP)}"
            keys = [*keys, (line(0, 0, 44, 0, **_CAP), words)]
        desc += (
            f" {MINUS}log10 values are capped at {fmt(P_CAP)}; genes drawn at the cap (p = 0 or "
            f"below 1e{cap}): {n}."
            + (f" Labels that did not fit (see tooltips): {missed}." if missed else "")
        )
        parts = [*self.parts, *_draw_labels(labels)]
        return _figure(ident, title, desc, cls, parts, keys, bottom + 86, x0 - 10)


# ----------------------------------------------------------------------- inputs
def _need(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"the {what} lacks columns {missing}; it has {list(frame.columns)}", field=missing[0]
        )


def _known(genes: pd.DataFrame) -> np.ndarray:
    """The knowledge-base text per gene ('' where none), as an object array."""
    if "known" not in genes.columns:
        return np.full(len(genes), "", dtype=object)
    known = genes["known"].map(lambda v: "" if v is None or v != v else str(v).strip())
    return known.to_numpy(dtype=object)


def gene_lfc(genes: pd.DataFrame) -> pd.Series:
    """The gene-level LFC: ``lfc`` when the table has it, else ``pos|lfc``."""
    column = "lfc" if "lfc" in genes.columns else "pos|lfc"
    _need(genes, [column], "gene table")
    return pd.to_numeric(genes[column], errors="coerce").astype(float)


# ----------------------------------------------------------------------- rank plot
def rank_svg(
    genes: pd.DataFrame,
    *,
    direction: Direction = "pos",
    top: int = 10,
    value: Literal["p-value", "score"] = "p-value",
    x_scale: Literal["log", "linear"] = "log",
    title: str | None = None,
    ident: str | None = None,
) -> str:
    """Genes by rank against -log10 p-value (or RRA score), the top ones labelled.

    Parameters
    ----------
    genes
        The gene table (index: gene symbols; columns ``{direction}|rank``,
        ``{direction}|p-value`` or ``{direction}|score``, ``{direction}|fdr``; optional
        ``known``, the knowledge-base text, '' where none).
    direction
        ``"pos"``: resistance (enriched under drug); ``"neg"``: sensitisation (depleted).
    top
        How many of the best-ranked genes to mark and label.
    value
        Plot -log10 of the p-value (default) or of the RRA score.
    x_scale
        Ranks on a log10 axis (default: spreads the top of the list) or a linear one.
    title
        Figure title (default names the direction).
    ident
        The ``id`` of the ``<svg>`` (default ``rank-{direction}-plot``).

    Returns
    -------
    str
        The ``<svg>`` element. Labelled genes carry a tooltip with rank, p, FDR and LFC;
        genes with a non-empty ``known`` are diamonds ("in knowledge base"). -log10 values
        are capped at :data:`P_CAP`; the description says how many points sit at the cap.

    Examples
    --------
    >>> import pandas as pd
    >>> genes = pd.DataFrame(
    ...     {"pos|rank": [1, 2], "pos|p-value": [1e-9, 0.0], "pos|fdr": [2e-9, 0.0],
    ...      "known": ["MEK inhibitors: bypass", ""]}, index=["NF1", "<b>X"])
    >>> svg = rank_svg(genes, direction="pos", top=2)
    >>> 'class="hit known" data-gene="NF1"' in svg, "&lt;b&gt;X" in svg
    (True, True)
    """
    if direction not in _WORDS:
        raise InputError(f"direction {direction!r}; expected 'pos' or 'neg'", field="direction")
    if value not in ("p-value", "score"):
        raise InputError(f"value {value!r}; expected 'p-value' or 'score'", field="value")
    d = direction
    word, meaning, colour, _ = _WORDS[d]
    _need(genes, [f"{d}|rank", f"{d}|{value}", f"{d}|fdr"], "gene table")
    rank = pd.to_numeric(genes[f"{d}|rank"], errors="coerce").to_numpy(float)
    y_all, clipped = neg_log10(pd.to_numeric(genes[f"{d}|{value}"], errors="coerce").to_numpy())
    ok = np.isfinite(rank) & (rank >= 1) & np.isfinite(y_all)
    order = np.flatnonzero(ok)[np.argsort(rank[ok], kind="stable")]

    max_rank = rank[order].max(initial=2.0)
    if x_scale == "log":
        xs = LogScale((1.0, max_rank * 1.15), (106, WIDTH - 34))
    else:
        xs = LinearScale((0.0, max_rank), (106, WIDTH - 34))
    ys, y_ticks = _round_scale(0.0, y_all[order].max(initial=1.0) * 1.08, (470, 30))
    plot = _GenePlot(genes, xs, ys, xs(np.where(ok, rank, 1.0)), ys(np.where(ok, y_all, 0.0)))
    what = "p-value" if value == "p-value" else "RRA score"
    labels = (
        f"{MINUS}log10 {what} ({word})",
        f"Gene rank for {word} (1 = strongest; {x_scale} scale)",
    )
    x_ticks = [t for t in xs.ticks() if t == int(t)]
    plot.axes((y_ticks, x_ticks), labels, int(clipped[ok].sum()))
    head = order[: max(top, 0)]
    is_known = plot.known.astype(bool)
    back = ok & ~is_known
    back[head] = False
    plot.parts.append(_dot_path(plot.px[back], plot.py[back]))
    for i in np.setdiff1d(np.flatnonzero(ok & is_known), head):
        plot.mark(i, d, "diamond", 5, fill="#ffffff", stroke=INK, width=1.5, class_="known")
    for i in head:
        shape, cls = ("diamond", "hit known") if is_known[i] else ("circle", "hit")
        plot.mark(i, d, shape, side="right", fill=colour, stroke=INK, width=1.2, class_=cls)
    keys = [
        (_key("circle", 22, colour), f"top {len(head)} by rank (labelled)"),
        (
            _key("diamond", 12, colour, 6) + _key("diamond", 32, "#ffffff", 5, width=1.5),
            "in knowledge base (filled: top hit)",
        ),
        (_DOTS_KEY, f"other genes (merged per {CELL} px; darker: several)"),
    ]
    listed = "; ".join(
        f"{k + 1}. {genes.index[i]} (p = {fmt_p(float(genes.iloc[i][f'{d}|p-value']))}"
        + (", in knowledge base" if is_known[i] else "")
        + ")"
        for k, i in enumerate(head)
    )
    dropped = int((~ok).sum())
    desc = (
        f"{len(order)} genes ordered by their {word} rank ({meaning}) on the x axis against "
        f"{MINUS}log10 of their {what} on the y axis. Top {len(head)}: {listed or 'none'}. "
        f"{int(is_known[head].sum())} of them are in the knowledge base."
        + (f" Genes not drawn (no rank or {what}): {dropped}." if dropped else "")
    )
    title = title or f"Gene ranking for {word} ({meaning})"
    return plot.figure(keys, desc, ident or f"rank-{d}-plot", title, f"plot rank rank-{d}")


# ----------------------------------------------------------------------- volcano
def volcano_svg(
    genes: pd.DataFrame,
    *,
    fdr: float = 0.05,
    top: int = 10,
    title: str | None = None,
    ident: str = "volcano-plot",
) -> str:
    """Gene LFC against -log10 of the better directional p-value, hits coloured.

    Parameters
    ----------
    genes
        The gene table: ``pos|p-value``, ``neg|p-value``, ``pos|fdr``, ``neg|fdr``,
        ``pos|rank``, ``neg|rank``, and ``lfc`` (else ``pos|lfc`` is used).
    fdr
        A gene is a hit when its FDR in a direction is below ``fdr``; a gene that is a hit
        both ways (rare) is drawn in the direction of its smaller p-value.
    top
        How many of the best-ranked genes each way to mark and label (filled markers when
        they are hits, open when not).
    title, ident
        The figure's title and the ``id`` of its ``<svg>``.

    Returns
    -------
    str
        The ``<svg>`` element. Unlabelled points are merged per 2 x 2 px cell (grey dots
        for non-hits, triangles for hits), so its size is bounded by the plot area, not
        by the number of genes.

    Examples
    --------
    >>> import pandas as pd
    >>> genes = pd.DataFrame(
    ...     {"pos|rank": [1, 2], "neg|rank": [2, 1], "pos|p-value": [1e-9, 0.7],
    ...      "neg|p-value": [0.8, 0.0], "pos|fdr": [2e-9, 0.7], "neg|fdr": [0.8, 0.0],
    ...      "lfc": [2.1, -3.0]}, index=["NF1", "<b>X"])
    >>> volcano_svg(genes, top=1).count('class="gene-label"')  # NF1 and <b>X (p = 0)
    2
    """
    if not 0 < fdr < 1:
        raise InputError(f"fdr {fdr!r}; expected a number in (0, 1)", field="fdr")
    cols = [f"{d}|{c}" for d in ("pos", "neg") for c in ("p-value", "fdr", "rank")]
    _need(genes, cols, "gene table")
    x = gene_lfc(genes).to_numpy(float)
    num = {c: pd.to_numeric(genes[c], errors="coerce").to_numpy(float) for c in cols}
    y, clipped = neg_log10(np.fmin(num["pos|p-value"], num["neg|p-value"]))
    pos_better = ~(num["neg|p-value"] < num["pos|p-value"])
    sig_pos = (num["pos|fdr"] < fdr) & ~((num["neg|fdr"] < fdr) & ~pos_better)
    sig = {"pos": sig_pos, "neg": (num["neg|fdr"] < fdr) & ~sig_pos}
    ok = ~np.isnan(x) & np.isfinite(y)
    fx = x[ok & np.isfinite(x)]
    span = float(np.abs(fx).max()) if fx.size else 10.0
    lo, hi = fx.min(initial=-0.1 * span), fx.max(initial=0.1 * span)
    xs, x_ticks = _round_scale(lo, hi, (106, WIDTH - 34), 8)
    ys, y_ticks = _round_scale(0.0, y[ok].max(initial=1.0) * 1.08, (520, 30))
    px = xs(np.clip(np.where(ok, x, 0.0), *xs.domain))
    plot = _GenePlot(genes, xs, ys, px, ys(np.where(ok, y, 0.0)))
    labels = (
        f"{MINUS}log10 p-value (better direction)",
        "Gene log2 fold change, drug vs control (log2 units)",
    )
    plot.axes((y_ticks, x_ticks), labels, int(clipped[ok].sum()))
    x0 = float(xs(0.0))
    plot.parts.append(line(x0, 30, x0, 520, stroke=INK, stroke_width=1.5, class_="zero-line"))
    heads: dict[str, np.ndarray] = {}
    labelled = np.zeros(len(genes), dtype=bool)
    for d in ("pos", "neg"):
        rank = num[f"{d}|rank"]
        cand = np.flatnonzero(ok & np.isfinite(rank) & ~labelled)
        heads[d] = cand[np.argsort(rank[cand], kind="stable")][: max(top, 0)]
        labelled[heads[d]] = True
    rest = ok & ~labelled
    back = rest & ~sig["pos"] & ~sig["neg"]
    plot.parts.append(_dot_path(plot.px[back], plot.py[back]))
    plot.parts += [_triangle_path(plot.px[rest & s], plot.py[rest & s], d) for d, s in sig.items()]
    for d, side in (("pos", "right"), ("neg", "left")):
        colour, shape = _WORDS[d][2:]
        for i in heads[d]:  # filled when a hit, open when only ranked high
            fill, stroke, width = (colour, INK, 1.2) if sig[d][i] else ("#ffffff", colour, 2.2)
            cls = f"hit hit-{d}"
            plot.mark(i, d, shape, side=side, fill=fill, stroke=stroke, width=width, class_=cls)
    n_pos, n_neg = int((ok & sig["pos"]).sum()), int((ok & sig["neg"]).sum())
    keys = [
        (_key("triangle", 22, POS_INK), f"resistance hit: pos FDR < {fmt(fdr)} ({n_pos})"),
        (_key("triangle-down", 22, NEG_INK), f"sensitisation hit: neg FDR < {fmt(fdr)} ({n_neg})"),
        (_DOTS_KEY, f"not a hit (merged per {CELL} px; darker: several)"),
        (
            _key("triangle", 12, POS_INK)
            + _key("triangle", 32, "#ffffff", stroke=POS_INK, width=2.2),
            f"labelled: top {top} by rank each way (open: not a hit)",
        ),
    ]
    n_inf, dropped = int((ok & np.isinf(x)).sum()), int((~ok).sum())
    tops = {d: ", ".join(str(genes.index[i]) for i in heads[d]) or "none" for d in heads}
    desc = (
        f"{int(ok.sum())} genes: gene log2 fold change (drug vs control) on the x axis "
        f"against {MINUS}log10 of the smaller of the two directional p-values. "
        f"{n_pos} resistance hits (pos FDR < {fmt(fdr)}), top: {tops['pos']}; {n_neg} "
        f"sensitisation hits (neg FDR < {fmt(fdr)}), top: {tops['neg']}. Unlabelled points "
        f"are merged per {CELL} px cell."
        + (f" Genes with an infinite LFC, drawn at the axis edge: {n_inf}." if n_inf else "")
        + (f" Genes not drawn (no LFC or p-value): {dropped}." if dropped else "")
    )
    title = title or "Volcano plot: gene log2 fold change against significance"
    return plot.figure(keys, desc, ident, title, "plot volcano")


# ----------------------------------------------------------------------- row figures
def _row_axis(xs: LinearScale, ticks: Ticks, bottom: float, label: str, zero: bool = True) -> Parts:
    """The layer's x axis under the rows of a one-row-per-gene/sample figure, and the zero line."""
    left, right = xs.range
    box = {"left": left, "right": right, "top": ROW_TOP, "bottom": bottom}
    axis = x_axis(xs, ticks, **box, label=label, tick_label=_tick)
    return axis + [_vline(xs(0.0), ROW_TOP, bottom, class_="zero-line")] * zero


def _vline(x: float, y0: float, y1: float, width: float = 2, **kw: object) -> str:
    """A vertical ink line at ``x`` from ``y0`` to ``y1`` (zero line, medians, whisker ends)."""
    return line(x, y0, x, y1, **{"stroke": INK, "stroke_width": width, **kw})


def _row_name(left: float, y: float, name: str, limit: int = 20) -> str:
    """A row's name, bold, right-aligned 10 px left of ``left``, cut to ``limit`` characters."""
    short = name if len(name) <= limit else name[: limit - 1] + "\u2026"
    return text(left - 10, y + 6, short, text_anchor="end", font_weight=600)


# ----------------------------------------------------------------------- sgRNA strips
def sgrna_lfc_svg(
    sgrnas: pd.DataFrame,
    genes_to_show: Sequence[str],
    *,
    title: str = "sgRNA log2 fold changes of selected genes",
    ident: str = "sgrna-plot",
    band: tuple[float, float] = (5.0, 95.0),
) -> str:
    """One row per gene, each sgRNA's LFC as a marker, over the library-wide LFC band.

    Parameters
    ----------
    sgrnas
        The sgRNA table: ``gene`` and ``lfc`` (log2 fold change, drug vs control).
    genes_to_show
        Genes in the order of the rows.
    title, ident
        The figure's title and the ``id`` of its ``<svg>``.
    band
        Percentiles of the library-wide sgRNA LFC drawn as the grey band (default 5 to 95).

    Returns
    -------
    str
        The ``<svg>`` element. sgRNAs with a positive LFC are vermillion upward triangles,
        negative ones blue downward triangles; a black bar marks each gene's median. An
        infinite LFC is drawn at the axis edge; NaN LFCs are left out (both counted in the
        description).
    """
    _need(sgrnas, ["gene", "lfc"], "sgRNA table")
    lfc = pd.to_numeric(sgrnas["lfc"], errors="coerce").astype(float)
    gene = sgrnas["gene"].astype(str)
    finite = lfc[np.isfinite(lfc)]
    q = np.percentile(finite, [band[0], 50, band[1]]) if finite.size else [np.nan] * 3
    q_lo, q_mid, q_hi = q
    shown = [str(g) for g in genes_to_show]
    mine = lfc[gene.isin(shown)]
    edges = [0.0, *mine[np.isfinite(mine)], *([q_lo, q_hi] if finite.size else [])]
    lo, hi = min(edges), max(edges)
    pad = 0.05 * (hi - lo) if hi > lo else 1.0
    left, right, row = 170, WIDTH - 190, 34
    bottom = ROW_TOP + max(len(shown), 1) * row + 6
    xs, ticks = _round_scale(lo - pad, hi + pad, (left + 8, right - 8), 8)
    pct = f"{fmt(band[0])}th to {fmt(band[1])}th percentile"
    parts = []
    if finite.size:
        x_lo, x_hi = xs(q_lo), xs(q_hi)
        area = {"x": x_lo, "y": ROW_TOP, "width": x_hi - x_lo, "height": bottom - ROW_TOP}
        words = f"Library-wide sgRNA LFC, {pct}: {fmt(q_lo)} to {fmt(q_hi)}"
        parts.append(el("rect", tip(words), class_="library-band", **area, fill=BAND))
        parts.append(_vline(xs(q_mid), ROW_TOP, bottom, class_="library-median", **_MEDIAN))
    label = "sgRNA log2 fold change, drug vs control (log2 units)"
    parts += _row_axis(xs, ticks, bottom, label)
    sgrna = {"stroke": INK, "width": 0.8, "class_": "sgrna", "fill_opacity": 0.85}
    described = []
    n_inf = n_nan = 0
    for k, g in enumerate(shown):
        cy = ROW_TOP + k * row + row / 2
        values = lfc[gene == g]
        keep = values.notna().to_numpy()
        vals, names = values.to_numpy(float)[keep], values.index[keep]
        n_nan += int((~keep).sum())
        n_inf += int(np.isinf(vals).sum())
        group = [_row_name(left, cy, g, 18)]
        if k % 2:
            group.append(line(left, cy - row / 2, right, cy - row / 2, stroke="#eeeeee"))
        if vals.size == 0:
            words = "not in the sgRNA table"
            group.append(text(left + 12, cy + 6, words, font_size=15, font_style="italic"))
            described.append(f"{g}: no sgRNA")
        spread = np.linspace(-8, 8, vals.size) * (vals.size > 1)
        for v, name, dy in zip(vals, names, spread, strict=True):
            _, _, colour, shape = _WORDS["pos" if v > 0 else "neg"]
            edge = "" if math.isfinite(v) else "; beyond the axis, drawn at its edge"
            words = f"{name} ({g}): LFC {fmt(float(v))}{edge}"
            x = xs(np.clip(v, *xs.domain))
            group.append(marker(shape, x, cy + dy, 5.5, fill=colour, title=words, **sgrna))
        if vals.size:
            med = float(np.median(vals))
            if math.isfinite(med):
                xm = xs(np.clip(med, *xs.domain))
                group.append(_vline(xm, cy - 13, cy + 13, 3.5, class_="gene-median"))
            note = f"median {fmt(med)}, n = {vals.size}"
            group.append(text(right + 10, cy + 6, note, font_size=15))
            described.append(f"{g}: {vals.size} sgRNAs, median LFC {fmt(med)}")
        parts.append(el("g", "".join(group), class_="gene-row", data_gene=g))
    keys = [
        (
            _key("triangle", 12, POS_INK, 6, width=0.8)
            + _key("triangle-down", 32, NEG_INK, 6, width=0.8),
            "one sgRNA (up: LFC > 0; down: LFC < 0)",
        ),
        (_vline(22, -12, 12, 3.5), "gene median"),
        (
            el("rect", x=0, y=-10, width=44, height=20, fill=BAND) + _vline(22, -10, 10, **_MEDIAN),
            f"all sgRNAs: {fmt(band[0])}\u2013{fmt(band[1])}th percentile, median (dashed)",
        ),
        (_vline(22, -12, 12), "zero (no change)"),
    ]
    desc = (
        f"sgRNA log2 fold changes (drug vs control) of {len(shown)} genes, one row each: "
        + ("; ".join(described) or "none")
        + f". The grey band is the library-wide {pct} ({fmt(q_lo)} to {fmt(q_hi)}), the "
        f"dashed line its median ({fmt(q_mid)})."
        + (f" sgRNAs with an infinite LFC, drawn at the axis edge: {n_inf}." if n_inf else "")
        + (f" sgRNAs left out (no LFC): {n_nan}." if n_nan else "")
    )
    return _figure(ident, title, desc, "plot sgrna-strips", parts, keys, bottom + 84)


# ----------------------------------------------------------------------- QC figures
def _samples(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c != "gene" and pd.api.types.is_numeric_dtype(frame[c])]


_Q = (5, 25, 50, 75, 95)


def _box(xs: LinearScale, q: Sequence[float], cy: float, h: float, words: str, **paint) -> str:
    """A horizontal box: whiskers 5-95th, box 25-75th, median bar (q = 5, 25, 50, 75, 95).

    ``paint`` gives the box's ``fill`` and ``fill_opacity`` and the group's ``class_``.
    """
    x5, x25, x50, x75, x95 = (float(xs(v)) for v in q)
    cls = paint.pop("class_")
    area = {"x": x25, "y": cy - h / 2, "width": max(x75 - x25, 1.0), "height": float(h)}
    rect = el("rect", **area, **paint, stroke=INK, stroke_width=1.5)
    ink = {"stroke": INK, "stroke_width": 2}
    whiskers = line(x5, cy, x25, cy, **ink) + line(x75, cy, x95, cy, **ink)
    ends = _vline(x5, cy - h / 3, cy + h / 3) + _vline(x95, cy - h / 3, cy + h / 3)
    median = _vline(x50, cy - h / 2, cy + h / 2, 4)
    return el("g", tip(words) + whiskers + ends + rect + median, class_=cls)


def _box_key(colour: str, shape: str) -> str:
    """A legend sample: a pale box and the median's marker."""
    box = el("rect", x=6, y=-8, width=32, height=16, fill=colour, fill_opacity=0.45, stroke=INK)
    return box + _key(shape, 22, colour, 6, width=2)


def read_distribution_svg(
    counts: pd.DataFrame,
    *,
    log10: bool = False,
    title: str = "Reads per sgRNA in each sample",
    ident: str = "read-distribution-plot",
) -> str:
    """Per-sample distribution of log10(reads + 1) per sgRNA as a box summary.

    Parameters
    ----------
    counts
        The count table: index sgRNA, an optional ``gene`` column, one numeric column of
        reads per sample.
    log10
        The columns already hold log10(reads + 1).
    title, ident
        The figure's title and the ``id`` of its ``<svg>``.

    Returns
    -------
    str
        The ``<svg>`` element: one row per sample, whiskers from the 5th to the 95th
        percentile, box from the 25th to the 75th, bar at the median; the share of sgRNAs
        with no read is written beside each row.

    Examples
    --------
    >>> import pandas as pd
    >>> counts = pd.DataFrame({"gene": ["A", "A", "B"], "T0": [120, 95, 300], "drug": [0, 4, 900]},
    ...                       index=pd.Index(["sgA1", "sgA2", "sgB1"], name="sgRNA"))
    >>> read_distribution_svg(counts).count('class="sample-row"')
    2
    """
    samples = _samples(counts)
    if not samples:
        raise InputError("the count table has no numeric sample column", field="counts")
    left, right, row = 190, WIDTH - 250, 40
    bottom = ROW_TOP + len(samples) * row + 6
    data = {}
    for s in samples:
        v = pd.to_numeric(counts[s], errors="coerce").to_numpy(float)
        v = v[np.isfinite(v)]
        logv = v if log10 else np.log10(np.clip(v, 0, None) + 1.0)
        zero = float(np.mean(logv <= 0)) if logv.size else float("nan")
        data[s] = (np.percentile(logv, _Q) if logv.size else None, zero, logv.size)
    hi = max([float(q[-1]) for q, _, _ in data.values() if q is not None] + [1.0])
    xs, ticks = _round_scale(0.0, hi * 1.05, (left + 8, right - 8))
    parts = _row_axis(xs, ticks, bottom, "Reads per sgRNA, log10(reads + 1)", zero=False)
    described = []
    for k, s in enumerate(samples):
        cy = ROW_TOP + k * row + row / 2
        q, zero, n = data[s]
        group = [_row_name(left, cy, s)]
        if q is None:
            group.append(text(left + 12, cy + 6, "no reads", font_size=15))
            described.append(f"{s}: no values")
        else:
            med_reads = 10 ** float(q[2]) - 1
            words = (
                f"{s}: log10(reads + 1) percentiles 5/25/50/75/95 = "
                + ", ".join(fmt(float(v)) for v in q)
                + f"; median {fmt(med_reads)} reads; {n} sgRNAs"
            )
            note = f"median {med_reads:,.0f} reads; zero: {zero:.1%}"
            group.append(_box(xs, q, cy, 20, words, fill=BOX_FILL, class_="box"))
            group.append(text(right + 10, cy + 6, note, font_size=15))
            described.append(f"{s}: median {med_reads:,.0f} reads, {zero:.1%} sgRNAs at zero")
        parts.append(el("g", "".join(group), class_="sample-row", data_sample=s))
    xs = LinearScale((0, 4), (0, 44))  # the legend's sample box
    sample = _box(xs, range(5), 0, 16, "legend", fill=BOX_FILL, class_="legend-box")
    keys = [(sample, "whiskers: 5th\u201395th percentile; box: 25th\u201375th; bar: median")]
    desc = (
        "Distribution of reads per sgRNA, log10(reads + 1), in each of "
        f"{len(samples)} samples: " + "; ".join(described) + "."
    )
    return _figure(ident, title, desc, "plot reads", parts, keys, bottom + 84)


def essential_svg(
    guide_lfc: pd.DataFrame,
    essential: Iterable[str],
    nonessential: Iterable[str],
    *,
    title: str = "Depletion of essential genes' sgRNAs (positive control)",
    ident: str = "essential-plot",
) -> str:
    """Per sample, the LFC of essential against non-essential genes' sgRNAs.

    Parameters
    ----------
    guide_lfc
        Index sgRNA; ``gene`` then one LFC column (log2, vs the T0/plasmid reference) per
        sample.
    essential, nonessential
        Gene symbols of the reference sets (e.g. core-essential and non-essential genes).
    title, ident
        The figure's title and the ``id`` of its ``<svg>``.

    Returns
    -------
    str
        The ``<svg>`` element: two box summaries per sample (5/25/50/75/95th percentiles),
        essential (vermillion, downward triangle at the median) and non-essential (blue,
        circle), and the difference of the medians beside them. A working screen shows the
        essential box well left of the non-essential one.
    """
    _need(guide_lfc, ["gene"], "guide LFC table")
    samples = _samples(guide_lfc)
    if not samples:
        raise InputError("the guide LFC table has no numeric sample column", field="guide_lfc")
    gene = guide_lfc["gene"].astype(str)
    sets = {  # name: (sgRNAs of the set, colour, median marker)
        "essential": (gene.isin({str(g) for g in essential}), POS_INK, "triangle-down"),
        "non-essential": (gene.isin({str(g) for g in nonessential}), NEG_INK, "circle"),
    }
    values: dict[tuple[str, str], np.ndarray] = {}
    for s in samples:
        v = pd.to_numeric(guide_lfc[s], errors="coerce").to_numpy(float)
        for name, (mask, _, _) in sets.items():
            w = v[mask.to_numpy()]
            values[(s, name)] = w[np.isfinite(w)]
    ends = [np.percentile(w, [5, 95]) for w in values.values() if w.size]
    lo, hi = min([0.0, *(a[0] for a in ends)]), max([0.0, *(a[1] for a in ends)])
    left, right = 190, WIDTH - 200
    row, pair_gap = 26, 16
    block = 2 * row + pair_gap
    bottom = ROW_TOP + len(samples) * block + 4
    xs, ticks = _round_scale(lo, hi if hi > lo else lo + 1, (left + 8, right - 8), 8)
    label = "sgRNA log2 fold change vs T0/plasmid (log2 units)"
    parts = _row_axis(xs, ticks, bottom, label)
    described = []
    for k, s in enumerate(samples):
        y0 = ROW_TOP + k * block + pair_gap / 2
        group = [_row_name(left, y0 + row, s)]
        medians = {}
        for j, (name, (_, colour, shape)) in enumerate(sets.items()):
            cy = y0 + j * row + row / 2
            w = values[(s, name)]
            if w.size == 0:
                group.append(text(left + 12, cy + 5, f"no {name} sgRNAs", font_size=14))
                continue
            q = np.clip(np.percentile(w, _Q), *xs.domain)
            medians[name] = float(np.median(w))
            words = (
                f"{s}, {name} sgRNAs (n = {w.size}): LFC percentiles 5/25/50/75/95 = "
                + ", ".join(fmt(float(v)) for v in np.percentile(w, _Q))
            )
            box = _box(xs, q, cy, 16, words, fill=colour, fill_opacity=0.45, class_=f"box {name}")
            mid = marker(shape, xs(q[2]), cy, 6, fill=colour, stroke=INK, width=1.2)
            group += [box, mid]
        if len(medians) == 2:
            delta = medians["essential"] - medians["non-essential"]
            note = f"\u0394 median {fmt(delta)}"
            group.append(text(right + 10, y0 + row + 6, note, font_size=15))
            described.append(
                f"{s}: median essential {fmt(medians['essential'])}, non-essential "
                f"{fmt(medians['non-essential'])}, difference {fmt(delta)}"
            )
        else:
            described.append(f"{s}: a reference set has no sgRNA in the table")
        parts.append(el("g", "".join(group), class_="sample-row", data_sample=s))
    keys = [
        (_box_key(POS_INK, "triangle-down"), "essential genes' sgRNAs"),
        (_box_key(NEG_INK, "circle"), "non-essential genes' sgRNAs"),
        ("", "whiskers 5th\u201395th percentile, box 25th\u201375th, marker at the median"),
    ]
    desc = (
        "Log2 fold change vs T0 of the sgRNAs of essential and non-essential genes, per "
        "sample; essential genes' sgRNAs should be depleted (left). " + "; ".join(described) + "."
    )
    return _figure(ident, title, desc, "plot essential", parts, keys, bottom + 84)
