"""Inline SVG figures for pooled CRISPR screens: rank plots, volcano, sgRNA strips and QC.

Drawn with the shared figure layer (:mod:`oncoresist.figures`): each figure is a standalone
:class:`~oncoresist.figures.Svg` (``xmlns``, ``role="img"``, ``<title>``, ``<desc>``, no
script, no URL) with the layer's axes and legend. Colours come from the
Okabe-Ito palette and every encoding also has a shape, so the figures read in grey scale:
resistance (enriched under drug, MAGeCK's ``pos``) is vermillion with upward triangles,
sensitisation (depleted, ``neg``) blue with downward triangles, and genes the knowledge base
already knows are diamonds.

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

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from oncoresist.errors import InputError
from oncoresist.figures import (
    INK,
    LinearScale,
    LogScale,
    Svg,
    el,
    legend,
    legend_height,
    marker,
    text,
    x_axis,
    y_axis,
)
from oncoresist.figures import fmt as _f
from oncoresist.figures import tip as _title
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
POS_INK = "#D55E00"  # vermillion: resistance (enriched under drug)
NEG_INK = "#0072B2"  # blue: sensitisation (depleted under drug)
BOX_FILL = "#56B4E9"  # sky blue
BACK_INK = "#8c8c8c"  # merged background points
BACK_DARK = "#4d4d4d"  # merged cells holding several points
BAND = "#e6e6e6"  # library-wide LFC band
CELL = 2  # px: points that fall in one CELL x CELL square are merged
LABEL_FONT = 15
MINUS = "\u2212"

Direction = Literal["pos", "neg"]
_WORDS = {
    "pos": ("resistance", "enriched under drug", POS_INK, "triangle"),
    "neg": ("sensitisation", "depleted under drug", NEG_INK, "triangle-down"),
}


# ----------------------------------------------------------------------- small helpers
def fmt(value: float, digits: int = 3) -> str:
    """A number with ``digits`` significant digits and a true minus sign; ``n/a`` if NaN."""
    if value is None or not math.isfinite(value):
        if value is None or value != value:
            return "n/a"
        return "\u221e" if value > 0 else MINUS + "\u221e"
    text = f"{value:.{digits}g}"
    if "e" in text:
        mant, exp = text.split("e")
        text = f"{mant}e{int(exp)}"
    return text.replace("-", MINUS)


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


def _tick_text(value: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if abs(step * 10**decimals - round(step * 10**decimals)) > 1e-6:
        decimals += 1  # a step of 2.5 x 10^k
    text = f"{value:.{decimals}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return text.replace("-", MINUS)


def _nice(lo: float, hi: float, target: int = 6) -> tuple[float, float, list[float], float]:
    """Round limits covering [lo, hi], their ticks and the tick step."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    raw = (hi - lo) / target
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-9))
    first = math.floor(lo / step + 1e-9)
    last = math.ceil(hi / step - 1e-9)
    ticks = [round(k * step, 12) for k in range(first, last + 1)]
    return ticks[0], ticks[-1], ticks, step


Scale = LinearScale | LogScale


def _px(scale: Scale, values) -> np.ndarray:
    """Pixel positions of an array of values (the layer's scales take one value each)."""
    return np.array([scale(float(v)) for v in np.ravel(values)], dtype=float)


def _figure(
    ident: str,
    title: str,
    desc: str,
    cls: str,
    parts: list[str],
    keys: list[tuple[str, str]],
    top: float,
    *,
    left: float = 24,
    per_row: int = 2,
) -> SvgText:
    """The figure: ``parts`` and, from ``top``, the legend of ``keys`` in rows of 34 px."""
    key = legend(keys, x=left, y=top, width=WIDTH - left - 24, columns=per_row)
    height = top + legend_height(len(keys), columns=per_row) + 10
    fig = Svg(WIDTH, height, title=title, desc=desc, ident=ident, cls=cls)
    fig.extend([*parts, key])
    return svg_text(fig)


def _line(
    x1: float,
    y1: float,
    x2: float,
    y2: float,
    *,
    stroke: str = INK,
    width: float = 1.0,
    **kw: object,
) -> str:
    return el("line", x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2), stroke=stroke,
              stroke_width=float(width), **kw)  # fmt: skip


def _x_axis(scale: Scale, ticks, top: float, bottom: float, label: str) -> list[str]:
    """The layer's x axis at ``(value, words)`` ticks; the scale's range spans the axis."""
    words = dict(ticks)
    left, right = scale.range
    return x_axis(scale, list(words), left=left, right=right, top=top, bottom=bottom,
                  label=label, tick_label=words.__getitem__)  # fmt: skip


def _y_axis(scale: Scale, ticks, left: float, right: float, label: str) -> list[str]:
    """The layer's y axis at ``(value, words)`` ticks; the scale's range spans the axis."""
    words = dict(ticks)
    bottom, top = scale.range
    return y_axis(scale, list(words), left=left, right=right, top=top, bottom=bottom,
                  label=label, label_x=22, tick_label=words.__getitem__)  # fmt: skip


def neg_log10(p: np.ndarray, *, cap: float = P_CAP) -> tuple[np.ndarray, np.ndarray]:
    """-log10 ``p`` capped at ``cap``; NaN where ``p`` is NaN, negative or above 1.

    Returns the heights and a mask of the values drawn at the cap (``p = 0`` included).
    """
    p = np.asarray(p, dtype=float)
    bad = ~np.isfinite(p) | (p < 0) | (p > 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = -np.log10(np.where(bad, np.nan, p))
    clipped = ~bad & (y > cap)
    y = np.where(clipped, cap, y)
    return y, clipped


def _cells(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel positions merged per CELL x CELL square: centres (x, y) and counts."""
    ix = np.floor(x / CELL).astype(np.int64)
    iy = np.floor(y / CELL).astype(np.int64)
    if ix.size == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64)
    key = np.stack([ix, iy], axis=1)
    cells, counts = np.unique(key, axis=0, return_counts=True)
    return (cells[:, 0] + 0.5) * CELL, (cells[:, 1] + 0.5) * CELL, counts


_DOTS_KEY = el("path", d="M14 0h.1M22 0h.1M30 0h.1", stroke=BACK_INK, stroke_width=3.6,
              stroke_linecap="round")  # fmt: skip


def _dot_path(x: np.ndarray, y: np.ndarray, *, colour: str, dark: str, r: float, cls: str) -> str:
    """Merged points as round-capped zero-length strokes: one path per shade."""
    cx, cy, n = _cells(x, y)
    out = []
    for shade, keep in ((colour, n == 1), (dark, n > 1)):
        if not keep.any():
            continue
        d = "".join(f"M{_f(a)} {_f(b)}h.1" for a, b in zip(cx[keep], cy[keep], strict=True))
        out.append(el("path", class_=cls, d=d, fill="none", stroke=shade,
                      stroke_width=float(2 * r), stroke_linecap="round"))  # fmt: skip
    return "".join(out)


def _triangle_path(x: np.ndarray, y: np.ndarray, *, colour: str, up: bool, cls: str) -> str:
    """Merged points as small filled triangles (up or down), one path."""
    cx, cy, _ = _cells(x, y)
    if cx.size == 0:
        return ""
    if up:  # apex 5 px above the centre, base 2 px below: integer coordinates throughout
        d = "".join(f"M{_f(a)} {_f(b - 5)}l4 7h-8z" for a, b in zip(cx, cy, strict=True))
    else:
        d = "".join(f"M{_f(a)} {_f(b + 5)}l4 -7h-8z" for a, b in zip(cx, cy, strict=True))
    return el("path", class_=cls, d=d, fill=colour, fill_opacity=0.75, stroke="none")


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
    anchor_x: float
    anchor_y: float
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
    step = height / 2
    placed: list[Box] = list(obstacles)
    out: list[_Placed | None] = []
    for px, py, words, side in points:
        width = text_width(words, size)
        others = [b for b in placed if not _own(b, px, py)]
        sides = (side, "left" if side == "right" else "right")
        found = None
        for k in range(max_steps + 1):
            for dy in (0.0,) if k == 0 else (-k * step, k * step):
                for s in sides:
                    x0 = px + 9 if s == "right" else px - 9 - width
                    box = (x0, py + dy - height / 2, x0 + width, py + dy + height / 2)
                    inside = (
                        box[0] >= bounds[0]
                        and box[1] >= bounds[1]
                        and box[2] <= bounds[2]
                        and box[3] <= bounds[3]
                    )
                    if inside and not any(_overlaps(box, b) for b in others):
                        found = _Placed(words, box, px, py, s)
                        break
                if found:
                    break
            if found:
                break
        out.append(found)
        if found:
            placed.append(found.box)
            others.append(found.box)
    return out


def _own(box: Box, px: float, py: float) -> bool:
    """Whether ``box`` is the marker obstacle of the point (px, py) itself."""
    return abs((box[0] + box[2]) / 2 - px) < 1e-6 and abs((box[1] + box[3]) / 2 - py) < 1e-6


def _draw_labels(labels: Sequence[_Placed | None], size: float = LABEL_FONT) -> list[str]:
    out = []
    for lab in labels:
        if lab is None:
            continue
        x0, y0, x1, y1 = lab.box
        cy = (y0 + y1) / 2
        if lab.side == "right":
            tx, anchor, edge = x0 + 2, "start", x0
        else:
            tx, anchor, edge = x1 - 2, "end", x1
        if abs(cy - lab.anchor_y) > size * 0.6:
            out.append(
                _line(
                    lab.anchor_x,
                    lab.anchor_y,
                    edge,
                    cy,
                    stroke="#555555",
                    width=1,
                    class_="leader",
                )
            )
        out.append(text(tx, cy + size * 0.35, lab.text, class_="gene-label", font_size=_f(size),
                        font_weight=600, text_anchor=anchor))  # fmt: skip
    return out


def _marker_box(x: float, y: float, r: float = 7.0) -> Box:
    return (x - r, y - r, x + r, y + r)


def _cap_line(ys: Scale, left: float, right: float) -> list[str]:
    """The dashed line at the -log10 p cap, named "cap" beside the y axis (outside the plot)."""
    yc = float(ys(P_CAP))
    line = _line(
        left,
        yc,
        right,
        yc,
        stroke="#555555",
        width=1.5,
        stroke_dasharray="6 4",
        class_="cap-line",
    )
    return [line, text(left - 8, yc + 5, "cap", font_size=13, text_anchor="end", class_="cap")]


def _cap_key(n: int) -> tuple[str, str]:
    """The legend entry of the cap line."""
    return (
        _line(0, 0, 44, 0, stroke="#555555", width=1.5, stroke_dasharray="6 4"),
        f"cap: {n} gene{'' if n == 1 else 's'} with p = 0 or < 1e{MINUS}{int(P_CAP)} "
        f"drawn at {int(P_CAP)}",
    )


# ----------------------------------------------------------------------- inputs
def _need(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"the {what} lacks columns {missing}; it has {list(frame.columns)}", field=missing[0]
        )


def _known(genes: pd.DataFrame) -> pd.Series:
    """The knowledge-base text per gene ('' where none)."""
    if "known" not in genes.columns:
        return pd.Series("", index=genes.index, dtype=object)
    return genes["known"].map(lambda v: "" if v is None or v != v else str(v).strip())


def gene_lfc(genes: pd.DataFrame) -> pd.Series:
    """The gene-level LFC: ``lfc`` when the table has it, else ``pos|lfc``."""
    column = "lfc" if "lfc" in genes.columns else "pos|lfc"
    _need(genes, [column], "gene table")
    return pd.to_numeric(genes[column], errors="coerce").astype(float)


def _tip(gene: str, row: pd.Series, direction: Direction, known: str) -> str:
    d = direction
    text = (
        f"{gene}: {_WORDS[d][0]} rank {fmt(float(row[f'{d}|rank']), 6)}, "
        f"p = {fmt_p(float(row[f'{d}|p-value']))}, FDR = {fmt_p(float(row[f'{d}|fdr']))}"
    )
    if f"{d}|lfc" in row.index:
        text += f", LFC = {fmt(float(row[f'{d}|lfc']))}"
    if known:
        text += f"; in knowledge base: {known}"
    return text


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
    ...     {"num": 4, "pos|rank": [1, 2, 3], "pos|p-value": [1e-9, 1e-3, 0.6],
    ...      "pos|fdr": [3e-9, 1.5e-3, 0.6], "neg|rank": [3, 2, 1],
    ...      "neg|p-value": [0.9, 0.5, 0.0], "neg|fdr": [0.9, 0.75, 0.0],
    ...      "pos|lfc": [2.1, 0.8, -3.0], "known": ["MEK inhibitors: bypass", "", ""]},
    ...     index=pd.Index(["NF1", "KEAP1", "<b>X"], name="id"))
    >>> svg = rank_svg(genes, direction="pos", top=3)
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
    ident = ident or f"rank-{d}-plot"
    title = title or f"Gene ranking for {word} ({meaning})"
    rank = pd.to_numeric(genes[f"{d}|rank"], errors="coerce").to_numpy(float)
    y_all, clipped = neg_log10(pd.to_numeric(genes[f"{d}|{value}"], errors="coerce").to_numpy())
    known = _known(genes).to_numpy(dtype=object)
    ok = np.isfinite(rank) & (rank >= 1) & np.isfinite(y_all)
    dropped = int((~ok).sum())
    order = np.flatnonzero(ok)[np.argsort(rank[ok], kind="stable")]
    n = len(order)

    left, right, top_px, bottom = 96, WIDTH - 24, 30, 470
    max_rank = max(float(rank[order].max()) if n else 1.0, 2.0)
    if x_scale == "log":
        xs = LogScale((1.0, max_rank * 1.15), (left + 10, right - 10))
        x_ticks = [(10.0**k, f"{10**k:,}") for k in range(int(math.log10(max_rank)) + 1)]
    else:
        lo, hi, ticks, step = _nice(0, max_rank)
        xs = LinearScale((lo, hi), (left + 10, right - 10))
        x_ticks = [(t, f"{t:,.0f}") for t in ticks]
    y_hi = max(float(np.nanmax(y_all[order])) if n else 1.0, 1.0)
    lo, hi, ticks, step = _nice(0.0, y_hi * 1.08)
    ys = LinearScale((lo, hi), (bottom, top_px))
    what = "p-value" if value == "p-value" else "RRA score"
    parts = _y_axis(
        ys, [(t, _tick_text(t, step)) for t in ticks], left, right, f"{MINUS}log10 {what} ({word})"
    )
    parts += _x_axis(
        xs, x_ticks, top_px, bottom, f"Gene rank for {word} (1 = strongest; {x_scale} scale)"
    )

    px = _px(xs, np.where(ok, rank, 1.0))
    py = _px(ys, np.where(ok, y_all, 0.0))
    head = order[: max(top, 0)]
    is_head = np.zeros(len(genes), dtype=bool)
    is_head[head] = True
    is_known = np.array([bool(k) for k in known], dtype=bool)
    back = ok & ~is_head & ~is_known
    n_cap = int(clipped[ok].sum())
    if n_cap:
        parts += _cap_line(ys, left, right)
    parts.append(
        _dot_path(
            px[back], py[back], colour=BACK_INK, dark=BACK_DARK, r=1.8, cls="background-points"
        )
    )
    names = [str(g) for g in genes.index]
    for i in np.flatnonzero(ok & is_known & ~is_head):
        parts.append(
            marker(
                "diamond",
                px[i],
                py[i],
                5,
                fill="#ffffff",
                stroke=INK,
                width=1.5,
                class_="known",
                data_gene=names[i],
                title=_tip(names[i], genes.iloc[i], d, known[i]),
            )
        )
    points = []
    for i in head:
        shape = "diamond" if known[i] else "circle"
        cls = "hit known" if known[i] else "hit"
        parts.append(
            marker(
                shape,
                px[i],
                py[i],
                7,
                fill=colour,
                stroke=INK,
                width=1.2,
                class_=cls,
                data_gene=names[i],
                title=_tip(names[i], genes.iloc[i], d, known[i]),
            )
        )
        points.append((px[i], py[i], names[i], "right"))
    labels = place_labels(
        points,
        bounds=(left + 2, top_px, right, bottom - 2),
        obstacles=[_marker_box(x, y) for x, y, _, _ in points],
    )
    parts += _draw_labels(labels)

    keys = [
        (
            marker("circle", 22, 0, 7, fill=colour, stroke=INK, width=1.2),
            f"top {len(head)} by rank (labelled)",
        ),
        (
            marker("diamond", 12, 0, 6, fill=colour, stroke=INK, width=1.2)
            + marker("diamond", 32, 0, 5, fill="#ffffff", stroke=INK, width=1.5),
            "in knowledge base (filled: top hit)",
        ),
        (
            _DOTS_KEY,
            f"other genes (merged per {CELL} px; darker: several)",
        ),
    ]
    if n_cap:
        keys.append(_cap_key(n_cap))

    listed = "; ".join(
        f"{i + 1}. {names[j]} (p = {fmt_p(float(genes.iloc[j][f'{d}|p-value']))}"
        + (", in knowledge base" if known[j] else "")
        + ")"
        for i, j in enumerate(head)
    )
    n_known = int(is_known[head].sum()) if len(head) else 0
    desc = (
        f"{n} genes ordered by their {word} rank ({meaning}) on the x axis against "
        f"{MINUS}log10 of their {what} on the y axis. Top {len(head)}: {listed or 'none'}. "
        f"{n_known} of them are in the knowledge base. {MINUS}log10 values are capped at "
        f"{fmt(P_CAP)}; genes drawn at the cap (p = 0 or below 1e{MINUS}{int(P_CAP)}): "
        f"{int(clipped[ok].sum())}."
        + (f" Genes not drawn (no rank or {what}): {dropped}." if dropped else "")
        + (
            f" Labels that did not fit (see tooltips): {sum(lab is None for lab in labels)}."
            if any(lab is None for lab in labels)
            else ""
        )
    )
    return _figure(ident, title, desc, f"plot rank rank-{d}", parts, keys, bottom + 86, left=left)


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
    title
        Figure title.
    ident
        The ``id`` of the ``<svg>``.

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
    ...     {"num": 4, "pos|rank": [1, 2, 3], "pos|p-value": [1e-9, 1e-3, 0.6],
    ...      "pos|fdr": [3e-9, 1.5e-3, 0.6], "neg|rank": [3, 2, 1],
    ...      "neg|p-value": [0.9, 0.5, 0.0], "neg|fdr": [0.9, 0.75, 0.0],
    ...      "pos|lfc": [2.1, 0.8, -3.0], "known": ["MEK inhibitors: bypass", "", ""]},
    ...     index=pd.Index(["NF1", "KEAP1", "<b>X"], name="id"))
    >>> svg = volcano_svg(genes, fdr=0.05, top=1)
    >>> svg.count('class="gene-label"')  # NF1 (resistance) and <b>X (sensitisation, p = 0)
    2
    """
    if not 0 < fdr < 1:
        raise InputError(f"fdr {fdr!r}; expected a number in (0, 1)", field="fdr")
    cols = [f"{d}|{c}" for d in ("pos", "neg") for c in ("p-value", "fdr", "rank")]
    _need(genes, cols, "gene table")
    title = title or "Volcano plot: gene log2 fold change against significance"
    x = gene_lfc(genes).to_numpy(float)
    num = {c: pd.to_numeric(genes[c], errors="coerce").to_numpy(float) for c in cols}
    with np.errstate(invalid="ignore"):
        p_best = np.fmin(num["pos|p-value"], num["neg|p-value"])
    y, clipped = neg_log10(p_best)
    pos_better = ~(num["neg|p-value"] < num["pos|p-value"])
    sig_pos = (num["pos|fdr"] < fdr) & ~((num["neg|fdr"] < fdr) & ~pos_better)
    sig_neg = (num["neg|fdr"] < fdr) & ~sig_pos
    ok = ~np.isnan(x) & np.isfinite(y)
    dropped = int((~ok).sum())
    finite_x = x[ok & np.isfinite(x)]
    inf_x = int((ok & np.isinf(x)).sum())

    left, right, top_px, bottom = 96, WIDTH - 24, 30, 520
    span = float(np.max(np.abs(finite_x))) if finite_x.size else 1.0
    xlo, xhi, xticks, xstep = _nice(
        min(float(finite_x.min()) if finite_x.size else -1, -0.1 * span),
        max(float(finite_x.max()) if finite_x.size else 1, 0.1 * span),
        target=8,
    )
    xs = LinearScale((xlo, xhi), (left + 10, right - 10))
    y_hi = max(float(y[ok].max()) if ok.any() else 1.0, 1.0)
    ylo, yhi, yticks, ystep = _nice(0.0, y_hi * 1.08)
    ys = LinearScale((ylo, yhi), (bottom, top_px))
    parts = _y_axis(
        ys,
        [(t, _tick_text(t, ystep)) for t in yticks],
        left,
        right,
        f"{MINUS}log10 p-value (better direction)",
    )
    parts += _x_axis(
        xs,
        [(t, _tick_text(t, xstep)) for t in xticks],
        top_px,
        bottom,
        "Gene log2 fold change, drug vs control (log2 units)",
    )
    x0 = float(xs(0.0))
    parts.append(_line(x0, top_px, x0, bottom, width=1.5, class_="zero-line"))
    n_cap = int(clipped[ok].sum())
    if n_cap:
        parts += _cap_line(ys, left, right)

    px = _px(xs, np.clip(np.where(ok, x, 0.0), xlo, xhi))
    py = _px(ys, np.where(ok, y, 0.0))
    names = [str(g) for g in genes.index]
    known = _known(genes).to_numpy(dtype=object)
    heads: dict[str, np.ndarray] = {}
    labelled = np.zeros(len(genes), dtype=bool)
    for d in ("pos", "neg"):
        rank = num[f"{d}|rank"]
        cand = np.flatnonzero(ok & np.isfinite(rank) & ~labelled)
        heads[d] = cand[np.argsort(rank[cand], kind="stable")][: max(top, 0)]
        labelled[heads[d]] = True
    rest = ok & ~labelled
    parts.append(
        _dot_path(
            px[rest & ~sig_pos & ~sig_neg],
            py[rest & ~sig_pos & ~sig_neg],
            colour=BACK_INK,
            dark=BACK_DARK,
            r=1.8,
            cls="background-points",
        )
    )
    parts.append(
        _triangle_path(
            px[rest & sig_pos], py[rest & sig_pos], colour=POS_INK, up=True, cls="hits-pos"
        )
    )
    parts.append(
        _triangle_path(
            px[rest & sig_neg], py[rest & sig_neg], colour=NEG_INK, up=False, cls="hits-neg"
        )
    )
    points = []
    for d in ("pos", "neg"):
        _, _, colour, shape = _WORDS[d]
        sig = sig_pos if d == "pos" else sig_neg
        for i in heads[d]:
            fill = colour if sig[i] else "#ffffff"
            parts.append(
                marker(
                    shape,
                    px[i],
                    py[i],
                    7,
                    fill=fill,
                    stroke=INK if sig[i] else colour,
                    width=1.2 if sig[i] else 2.2,
                    class_=f"hit hit-{d}",
                    data_gene=names[i],
                    title=_tip(names[i], genes.iloc[i], d, known[i]),
                )
            )
            points.append((px[i], py[i], names[i], "right" if d == "pos" else "left"))
    labels = place_labels(
        points,
        bounds=(left + 2, top_px, right, bottom - 2),
        obstacles=[_marker_box(a, b) for a, b, _, _ in points],
    )
    parts += _draw_labels(labels)
    n_pos, n_neg = int((ok & sig_pos).sum()), int((ok & sig_neg).sum())
    keys = [
        (
            marker("triangle", 22, 0, 7, fill=POS_INK, stroke=INK, width=1.2),
            f"resistance hit: pos FDR < {fmt(fdr)} ({n_pos})",
        ),
        (
            marker("triangle-down", 22, 0, 7, fill=NEG_INK, stroke=INK, width=1.2),
            f"sensitisation hit: neg FDR < {fmt(fdr)} ({n_neg})",
        ),
        (
            _DOTS_KEY,
            f"not a hit (merged per {CELL} px; darker: several)",
        ),
        (
            marker("triangle", 12, 0, 7, fill=POS_INK, stroke=INK, width=1.2)
            + marker("triangle", 32, 0, 7, fill="#ffffff", stroke=POS_INK, width=2.2),
            f"labelled: top {top} by rank each way (open: not a hit)",
        ),
    ]
    if n_cap:
        keys.append(_cap_key(n_cap))
    desc = (
        f"{int(ok.sum())} genes: gene log2 fold change (drug vs control) on the x axis "
        f"against {MINUS}log10 of the smaller of the two directional p-values. "
        f"{n_pos} resistance hits (pos FDR < {fmt(fdr)}), top: "
        f"{', '.join(names[i] for i in heads['pos']) or 'none'}; {n_neg} sensitisation hits "
        f"(neg FDR < {fmt(fdr)}), top: {', '.join(names[i] for i in heads['neg']) or 'none'}. "
        f"{MINUS}log10 p is capped at {fmt(P_CAP)}; genes drawn at the cap (p = 0 or below "
        f"1e{MINUS}{int(P_CAP)}): {int(clipped[ok].sum())}. Unlabelled points are merged per "
        f"{CELL} px cell."
        + (f" Genes with an infinite LFC, drawn at the axis edge: {inf_x}." if inf_x else "")
        + (f" Genes not drawn (no LFC or p-value): {dropped}." if dropped else "")
    )
    return _figure(ident, title, desc, "plot volcano", parts, keys, bottom + 86, left=left)


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
    title
        Figure title.
    ident
        The ``id`` of the ``<svg>``.
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
    q_lo, q_mid, q_hi = (
        np.percentile(finite, [band[0], 50, band[1]]) if finite.size else (np.nan,) * 3
    )
    shown = [str(g) for g in genes_to_show]
    mine = lfc[gene.isin(shown)]
    mine_fin = mine[np.isfinite(mine)]
    lo = min([0.0, *([float(q_lo)] if finite.size else []), *mine_fin.tolist()])
    hi = max([0.0, *([float(q_hi)] if finite.size else []), *mine_fin.tolist()])
    pad = 0.05 * (hi - lo) if hi > lo else 1.0
    xlo, xhi, xticks, xstep = _nice(lo - pad, hi + pad, target=8)
    left, right, row = 170, WIDTH - 190, 34
    top_px = 20
    bottom = top_px + max(len(shown), 1) * row + 6
    xs = LinearScale((xlo, xhi), (left + 8, right - 8))
    parts = []
    if finite.size:
        parts.append(
            el(
                "rect",
                _title(
                    f"Library-wide sgRNA LFC, {fmt(band[0])}th to {fmt(band[1])}th "
                    f"percentile: {fmt(q_lo)} to {fmt(q_hi)}"
                ),
                class_="library-band",
                x=float(xs(q_lo)),
                y=float(top_px),
                width=float(xs(q_hi) - xs(q_lo)),
                height=float(bottom - top_px),
                fill=BAND,
            )
        )
        parts.append(
            _line(
                xs(q_mid),
                top_px,
                xs(q_mid),
                bottom,
                stroke="#777777",
                width=1.5,
                stroke_dasharray="3 3",
                class_="library-median",
            )
        )
    parts += _x_axis(
        xs,
        [(t, _tick_text(t, xstep)) for t in xticks],
        top_px,
        bottom,
        "sgRNA log2 fold change, drug vs control (log2 units)",
    )
    parts.append(_line(xs(0.0), top_px, xs(0.0), bottom, width=2, class_="zero-line"))
    groups = {g: lfc[gene == g] for g in shown}
    described = []
    n_inf = n_nan = 0
    for k, g in enumerate(shown):
        cy = top_px + k * row + row / 2
        label = g if len(g) <= 18 else g[:17] + "\u2026"
        values = groups[g]
        group: list[str] = []
        group.append(
            text(left - 10, cy + 6, label, font_size=16, text_anchor="end", font_weight=600)
        )
        if k % 2:
            group.append(_line(left, cy - row / 2, right, cy - row / 2, stroke="#eeeeee"))
        vals = values.to_numpy(float)
        n_nan += int(np.isnan(vals).sum())
        n_inf += int(np.isinf(vals).sum())
        vals_ok = vals[~np.isnan(vals)]
        if vals_ok.size == 0:
            group.append(
                text(
                    left + 12,
                    cy + 6,
                    "not in the sgRNA table",
                    font_size=15,
                    font_style="italic",
                )
            )
            described.append(f"{g}: no sgRNA")
            parts.append(el("g", "".join(group), class_="gene-row", data_gene=g))
            continue
        spread = np.linspace(-8, 8, vals_ok.size) if vals_ok.size > 1 else np.zeros(1)
        for j, (v, name) in enumerate(zip(vals_ok, values.index[~np.isnan(vals)], strict=True)):
            xv = float(xs(float(np.clip(v, xlo, xhi))))
            up = v > 0
            shape = "triangle" if up else "triangle-down"
            colour = POS_INK if up else NEG_INK
            edge = "; beyond the axis, drawn at its edge" if not math.isfinite(v) else ""
            group.append(
                marker(
                    shape,
                    xv,
                    cy + spread[j],
                    5.5,
                    fill=colour,
                    stroke=INK,
                    width=0.8,
                    class_="sgrna",
                    fill_opacity=0.85,
                    title=f"{name} ({g}): LFC {fmt(float(v))}{edge}",
                )
            )
        med = float(np.median(vals_ok))
        if math.isfinite(med):
            xm = float(xs(float(np.clip(med, xlo, xhi))))
            group.append(_line(xm, cy - 13, xm, cy + 13, width=3.5, class_="gene-median"))
        group.append(
            text(right + 10, cy + 6, f"median {fmt(med)}, n = {vals_ok.size}", font_size=15)
        )
        described.append(f"{g}: {vals_ok.size} sgRNAs, median LFC {fmt(med)}")
        parts.append(el("g", "".join(group), class_="gene-row", data_gene=g))
    keys = [
        (
            marker("triangle", 12, 0, 6, fill=POS_INK, stroke=INK, width=0.8)
            + marker("triangle-down", 32, 0, 6, fill=NEG_INK, stroke=INK, width=0.8),
            "one sgRNA (up: LFC > 0; down: LFC < 0)",
        ),
        (_line(22, -12, 22, 12, width=3.5), "gene median"),
        (
            el("rect", x=0, y=-10, width=44, height=20, fill=BAND)
            + _line(22, -10, 22, 10, stroke="#777777", width=1.5, stroke_dasharray="3 3"),
            f"all sgRNAs: {fmt(band[0])}\u2013{fmt(band[1])}th percentile, median (dashed)",
        ),
        (_line(22, -12, 22, 12, width=2), "zero (no change)"),
    ]
    desc = (
        f"sgRNA log2 fold changes (drug vs control) of {len(shown)} genes, one row each: "
        + ("; ".join(described) or "none")
        + ". The grey band is the library-wide "
        f"{fmt(band[0])}th to {fmt(band[1])}th percentile ({fmt(q_lo)} to {fmt(q_hi)}), the "
        f"dashed line its median ({fmt(q_mid)})."
        + (f" sgRNAs with an infinite LFC, drawn at the axis edge: {n_inf}." if n_inf else "")
        + (f" sgRNAs left out (no LFC): {n_nan}." if n_nan else "")
    )
    return _figure(ident, title, desc, "plot sgrna-strips", parts, keys, bottom + 84)


# ----------------------------------------------------------------------- QC figures
def _samples(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c != "gene" and pd.api.types.is_numeric_dtype(frame[c])]


def _box(
    xs: Scale,
    q: np.ndarray,
    cy: float,
    h: float,
    *,
    fill: str,
    cls: str,
    tip: str,
    opacity: float = 1.0,
) -> str:
    """A horizontal box: whiskers 5-95th, box 25-75th, median bar (q = 5, 25, 50, 75, 95)."""
    x5, x25, x50, x75, x95 = (float(xs(v)) for v in q)
    return (
        el("g", _title(tip)
           + _line(x5, cy, x25, cy, width=2)
           + _line(x75, cy, x95, cy, width=2)
           + _line(x5, cy - h / 3, x5, cy + h / 3, width=2)
           + _line(x95, cy - h / 3, x95, cy + h / 3, width=2)
           + el("rect", x=x25, y=cy - h / 2, width=max(x75 - x25, 1.0), height=float(h),
                fill=fill, fill_opacity=float(opacity), stroke=INK, stroke_width=1.5)
           + _line(x50, cy - h / 2, x50, cy + h / 2, width=4), class_=cls)
    )  # fmt: skip


_Q = (5, 25, 50, 75, 95)


def _box_key(colour: str) -> str:
    return el("rect", x=6, y=-8, width=32, height=16, fill=colour, fill_opacity=0.45, stroke=INK)


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
    title
        Figure title.
    ident
        The ``id`` of the ``<svg>``.

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
    top_px = 20
    bottom = top_px + len(samples) * row + 6
    data = {}
    for s in samples:
        v = pd.to_numeric(counts[s], errors="coerce").to_numpy(float)
        v = v[np.isfinite(v)]
        logv = v if log10 else np.log10(np.clip(v, 0, None) + 1.0)
        zero = float(np.mean(logv <= 0)) if logv.size else float("nan")
        data[s] = (np.percentile(logv, _Q) if logv.size else None, zero, logv.size)
    hi = max([float(q[-1]) for q, _, _ in data.values() if q is not None] + [1.0])
    xlo, xhi, xticks, xstep = _nice(0.0, hi * 1.05)
    xs = LinearScale((xlo, xhi), (left + 8, right - 8))
    parts = _x_axis(
        xs,
        [(t, _tick_text(t, xstep)) for t in xticks],
        top_px,
        bottom,
        "Reads per sgRNA, log10(reads + 1)",
    )
    described = []
    for k, s in enumerate(samples):
        cy = top_px + k * row + row / 2
        q, zero, n = data[s]
        name = s if len(s) <= 20 else s[:19] + "\u2026"
        group: list[str] = []
        group.append(text(left - 10, cy + 6, name, text_anchor="end", font_weight=600))
        if q is None:
            group.append(text(left + 12, cy + 6, "no reads", font_size=15))
            described.append(f"{s}: no values")
        else:
            med_reads = 10 ** float(q[2]) - 1
            tip = (
                f"{s}: log10(reads + 1) percentiles 5/25/50/75/95 = "
                + ", ".join(fmt(float(v)) for v in q)
                + f"; median {fmt(med_reads)} reads; {n} sgRNAs"
            )
            group.append(_box(xs, q, cy, 20, fill=BOX_FILL, cls="box", tip=tip))
            group.append(
                text(
                    right + 10,
                    cy + 6,
                    f"median {med_reads:,.0f} reads; zero: {zero:.1%}",
                    font_size=15,
                )
            )
            described.append(f"{s}: median {med_reads:,.0f} reads, {zero:.1%} sgRNAs at zero")
        parts.append(el("g", "".join(group), class_="sample-row", data_sample=s))
    keys = [
        (
            _box(
                LinearScale((0, 4), (0, 44)),
                np.array([0.0, 1, 2, 3, 4]),
                0,
                16,
                fill=BOX_FILL,
                cls="legend-box",
                tip="legend",
            ),
            "whiskers: 5th\u201395th percentile; box: 25th\u201375th; bar: median",
        )
    ]
    desc = (
        "Distribution of reads per sgRNA, log10(reads + 1), in each of "
        f"{len(samples)} samples: " + "; ".join(described) + "."
    )
    return _figure(ident, title, desc, "plot reads", parts, keys, bottom + 84, per_row=1)


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
    title
        Figure title.
    ident
        The ``id`` of the ``<svg>``.

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
    sets = {
        "essential": gene.isin({str(g) for g in essential}).to_numpy(),
        "non-essential": gene.isin({str(g) for g in nonessential}).to_numpy(),
    }
    style = {
        "essential": (POS_INK, "triangle-down"),
        "non-essential": (NEG_INK, "circle"),
    }
    values: dict[tuple[str, str], np.ndarray] = {}
    allv = []
    for s in samples:
        v = pd.to_numeric(guide_lfc[s], errors="coerce").to_numpy(float)
        for name, mask in sets.items():
            w = v[mask]
            w = w[np.isfinite(w)]
            values[(s, name)] = w
            if w.size:
                allv.append(np.percentile(w, [5, 95]))
    lo = min([0.0, *(float(a[0]) for a in allv)])
    hi = max([0.0, *(float(a[1]) for a in allv)])
    xlo, xhi, xticks, xstep = _nice(lo, hi if hi > lo else lo + 1, target=8)
    left, right = 190, WIDTH - 200
    row, pair_gap = 26, 16
    top_px = 20
    block = 2 * row + pair_gap
    bottom = top_px + len(samples) * block + 4
    xs = LinearScale((xlo, xhi), (left + 8, right - 8))
    parts = _x_axis(
        xs,
        [(t, _tick_text(t, xstep)) for t in xticks],
        top_px,
        bottom,
        "sgRNA log2 fold change vs T0/plasmid (log2 units)",
    )
    parts.append(_line(xs(0.0), top_px, xs(0.0), bottom, width=2, class_="zero-line"))
    described = []
    for k, s in enumerate(samples):
        y0 = top_px + k * block + pair_gap / 2
        name = s if len(s) <= 20 else s[:19] + "\u2026"
        group: list[str] = []
        group.append(text(left - 10, y0 + row + 6, name, text_anchor="end", font_weight=600))
        medians = {}
        for j, name_set in enumerate(("essential", "non-essential")):
            cy = y0 + j * row + row / 2
            w = values[(s, name_set)]
            colour, shape = style[name_set]
            if w.size == 0:
                group.append(text(left + 12, cy + 5, f"no {name_set} sgRNAs", font_size=14))
                continue
            q = np.percentile(w, _Q)
            medians[name_set] = float(q[2])
            tip = (
                f"{s}, {name_set} sgRNAs (n = {w.size}): LFC percentiles 5/25/50/75/95 = "
                + ", ".join(fmt(float(v)) for v in q)
            )
            group.append(
                _box(
                    xs,
                    np.clip(q, xlo, xhi),
                    cy,
                    16,
                    fill=colour,
                    opacity=0.45,
                    cls=f"box {name_set}",
                    tip=tip,
                )
            )
            group.append(
                marker(
                    shape,
                    float(xs(float(np.clip(q[2], xlo, xhi)))),
                    cy,
                    6,
                    fill=colour,
                    stroke=INK,
                    width=1.2,
                )
            )
        if len(medians) == 2:
            delta = medians["essential"] - medians["non-essential"]
            group.append(
                text(right + 10, y0 + row + 6, f"\u0394 median {fmt(delta)}", font_size=15)
            )
            described.append(
                f"{s}: median essential {fmt(medians['essential'])}, non-essential "
                f"{fmt(medians['non-essential'])}, difference {fmt(delta)}"
            )
        else:
            described.append(f"{s}: a reference set has no sgRNA in the table")
        parts.append(el("g", "".join(group), class_="sample-row", data_sample=s))
    keys = [
        (
            _box_key(POS_INK) + marker("triangle-down", 22, 0, 6, fill=POS_INK, stroke=INK),
            "essential genes' sgRNAs",
        ),
        (
            _box_key(NEG_INK) + marker("circle", 22, 0, 6, fill=NEG_INK, stroke=INK),
            "non-essential genes' sgRNAs",
        ),
        ("", "whiskers 5th\u201395th percentile, box 25th\u201375th, marker at the median"),
    ]
    desc = (
        "Log2 fold change vs T0 of the sgRNAs of essential and non-essential genes, per "
        "sample; essential genes' sgRNAs should be depleted (left). " + "; ".join(described) + "."
    )
    return _figure(ident, title, desc, "plot essential", parts, keys, bottom + 84)
