"""Inline SVG figures of a drug-combination block: curves, heat maps, isobologram, ranking.

Drawn with the shared figure layer (:mod:`oncoresist.figures`); each function returns an
:class:`~oncoresist.figures._embed.SvgText` (standalone SVG with ``xmlns``, ``role="img"``,
``<title>``, ``<desc>``; no script, no URL) that a page embeds as it is.

* :func:`dose_response_svg`: each drug's monotherapy wells (every replicate), its fitted
  4PL curve (drc's ``LL.4``) and its IC50 with the interval, one panel per drug.
* :func:`heatmap_svg`: the dose matrix coloured by % inhibition (sequential, white to
  dark blue) or by a synergy score (diverging and centred at 0: vermillion for synergy,
  blue for antagonism, so it reads without red-green), every cell labelled with its value,
  and the most synergistic area (SynergyFinder's 3 x 3 window of the highest mean score, as
  ``score_blocks`` found it) outlined.
* :func:`isobologram_svg`: the combinations that reach one effect level, in doses scaled
  by each drug's own dose for that effect (from its fitted curve): the Loewe-additive
  line is ``x + y = 1``; points below it are synergy, above it antagonism.
* :func:`ranking_svg`: block scores of one model with their intervals, best first.

Signs: every synergy score is observed minus expected inhibition, in percentage points;
above 0 is synergy.

References
----------
Berenbaum MC. What is synergy? Pharmacol Rev 1989;41:93-141 (the isobologram). PMID 2692037.
Ianevski A et al. SynergyFinder 2.0. Bioinformatics 2020;36:2645-2646 (the most synergistic
area). PMID 31943110.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from oncoresist.figures import (
    GRID,
    INK,
    OKABE_ITO,
    LinearScale,
    LogScale,
    Svg,
    el,
    line,
    marker,
    polyline,
    text,
    tip,
    x_axis,
    y_axis,
)
from oncoresist.figures._embed import SvgText, svg_text
from oncoresist.report._screen_svg import fmt, text_width

__all__ = [
    "MODEL_NAMES",
    "dose_response_svg",
    "heatmap_svg",
    "isobologram_svg",
    "ranking_svg",
]

MODEL_NAMES = {"bliss": "Bliss", "hsa": "HSA", "loewe": "Loewe", "zip": "ZIP"}
SYNERGY_INK = OKABE_ITO[1]  # vermillion
ANTAGONISM_INK = OKABE_ITO[0]  # blue
RESPONSE_DARK = (8, 48, 107)  # the darkest blue of the response scale
MINUS = "\u2212"
_PANEL = 470  # px: one heat map (two sit side by side on a 1000 px page)


# ----------------------------------------------------------------------- colours
def _mix(rgb: tuple[int, int, int], t: float) -> str:
    """White mixed with ``rgb``: ``t = 0`` white, ``t = 1`` the colour."""
    t = min(max(t, 0.0), 1.0)
    r, g, b = (round(255 + (c - 255) * t) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def diverging(value: float, limit: float) -> str:
    """Colour of a synergy score: vermillion above 0, blue below, white at 0."""
    if not math.isfinite(value):
        return "#eeeeee"
    t = value / limit if limit > 0 else 0.0
    return _mix(_rgb(SYNERGY_INK if t > 0 else ANTAGONISM_INK), abs(t))


def sequential(value: float) -> str:
    """Colour of a % inhibition: white at 0 or below, dark blue at 100 or above."""
    if not math.isfinite(value):
        return "#eeeeee"
    return _mix(RESPONSE_DARK, value / 100)


def _ink_on(fill: str) -> str:
    """Black or white text, whichever reads on ``fill`` (relative luminance)."""
    r, g, b = (c / 255 for c in _rgb(fill))
    return "#ffffff" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5 else INK


def symmetric_limit(values: np.ndarray, floor: float = 10.0) -> float:
    """The colour scale's half-range: the largest |value| rounded up to 10, at least ``floor``."""
    finite = np.abs(values[np.isfinite(values)])
    top = float(finite.max()) if finite.size else 0.0
    return max(floor, 10.0 * math.ceil(top / 10.0))


def _num(value: float, digits: int = 1) -> str:
    if not math.isfinite(value):
        return "n/a"
    return f"{round(value, digits) + 0.0:.{digits}f}".replace("-", MINUS)  # never "-0.0"


def _dose(value: float, unit: str = "") -> str:
    return f"{fmt(float(value))} {unit}".strip()


# ----------------------------------------------------------------------- matrices
def dose_matrix(cells: pd.DataFrame, value: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(conc_r levels, conc_c levels, values)``: one block's cells as a matrix.

    Rows follow ``conc_r`` ascending, columns ``conc_c`` ascending; a missing cell is NaN.
    """
    rows = np.sort(cells["conc_r"].unique())
    cols = np.sort(cells["conc_c"].unique())
    grid = np.full((rows.size, cols.size), np.nan)
    means = cells.groupby(["conc_r", "conc_c"])[value].mean()
    i = np.searchsorted(rows, means.index.get_level_values(0))
    j = np.searchsorted(cols, means.index.get_level_values(1))
    grid[i, j] = means.to_numpy(dtype=float)
    return rows, cols, grid


# ----------------------------------------------------------------------- heat map
def heatmap_svg(
    cells: pd.DataFrame,
    value: str,
    *,
    drug_row: str,
    drug_col: str,
    unit_r: str = "",
    unit_c: str = "",
    title: str,
    ident: str,
    limit: float | None = None,
    msa: Sequence[float] | None = None,
) -> SvgText:
    """One block's dose matrix coloured by ``value`` (``response`` or a model's score).

    Parameters
    ----------
    cells
        The block's cells: ``conc_r``, ``conc_c`` and the column ``value`` (replicates are
        averaged).
    value
        ``"response"`` (% inhibition: sequential colours) or a synergy score column
        (diverging colours centred at 0, the most synergistic area outlined).
    drug_row, drug_col, unit_r, unit_c
        Names and units for the axes (rows: ``drug_row`` doses from the bottom up).
    title, ident
        The figure's title and ``id``.
    limit
        Half-range of the diverging scale (default from the data, a multiple of 10, at
        least 10): give the same limit to every model of a block so their colours compare.
    msa
        The most synergistic area to outline (scores only): ``(conc_r_lo, conc_r_hi,
        conc_c_lo, conc_c_hi, mean)``, the dose ranges of its cells and its mean score
        (``score_blocks``' ``<model>_msa*`` columns); ``None`` outlines nothing.
    """
    rows, cols, grid = dose_matrix(cells, value)
    score = value != "response"
    lim = limit if limit is not None else symmetric_limit(grid)
    left, top, right_pad, bottom_pad = 110, 30, 96, 96
    cell = min(56.0, (_PANEL - left - right_pad) / max(cols.size, 1))
    width = left + cell * cols.size + right_pad
    height = top + cell * rows.size + bottom_pad
    parts: list[str] = []
    x0, y_bottom = left, top + cell * rows.size
    small = cell < 44
    for i, cr in enumerate(rows):
        for j, cc in enumerate(cols):
            v = float(grid[i, j])
            fill = diverging(v, lim) if score else sequential(v)
            x, y = x0 + j * cell, y_bottom - (i + 1) * cell
            words = (f"{drug_row} {_dose(cr, unit_r)} + {drug_col} {_dose(cc, unit_c)}: "
                     f"{'% inhibition' if not score else MODEL_NAMES.get(value, value)} "
                     f"{_num(v)}")  # fmt: skip
            parts.append(el("rect", tip(words), x=x, y=y, width=cell, height=cell, fill=fill,
                            stroke="#ffffff", stroke_width=1, class_="cell",
                            data_value=_num(v, 2)))  # fmt: skip
            parts.append(text(x + cell / 2, y + cell / 2 + 5, _num(v, 0 if small else 1),
                              text_anchor="middle", font_size=12 if small else 14,
                              fill=_ink_on(fill), aria_hidden="true"))  # fmt: skip
    for j, cc in enumerate(cols):
        x = x0 + (j + 0.5) * cell
        parts.append(text(x, y_bottom + 8, fmt(float(cc)), font_size=13, text_anchor="end",
                          transform=f"rotate(-45 {x:.1f} {y_bottom + 8:.1f})"))  # fmt: skip
    for i, cr in enumerate(rows):
        parts.append(text(x0 - 6, y_bottom - (i + 0.5) * cell + 5, fmt(float(cr)),
                          font_size=13, text_anchor="end"))  # fmt: skip
    parts.append(text(x0 + cell * cols.size / 2, height - 10, _axis_name(drug_col, unit_c),
                      text_anchor="middle", font_size=15))  # fmt: skip
    ym = (top + y_bottom) / 2
    parts.append(text(18, ym, _axis_name(drug_row, unit_r), text_anchor="middle", font_size=15,
                      transform=f"rotate(-90 18 {ym:.1f})"))  # fmt: skip
    heading = "% inhibition" if not score else f"{MODEL_NAMES.get(value, value)} synergy"
    parts.append(text(x0, top - 2, heading, font_size=15, font_weight=700))
    desc = _heatmap_desc(grid, value, drug_row, drug_col, rows.size, cols.size)
    if score and msa is not None and all(math.isfinite(float(v)) for v in msa[:4]):
        r_lo, r_hi, c_lo, c_hi, mean = (float(v) for v in msa)
        i0, i1 = np.searchsorted(rows, [r_lo, r_hi])
        j0, j1 = np.searchsorted(cols, [c_lo, c_hi])
        h, w = int(i1 - i0 + 1), int(j1 - j0 + 1)
        x, y = x0 + j0 * cell, y_bottom - (i0 + h) * cell
        words = f"most synergistic area ({h} x {w} cells): mean {_num(mean)}"
        parts.append(el("rect", tip(words), x=x, y=y, width=w * cell, height=h * cell,
                        fill="none", stroke=INK, stroke_width=3.5, stroke_dasharray="8 4",
                        class_="msa"))  # fmt: skip
        desc += f" The most synergistic {h} x {w} area (outlined) has mean {_num(mean)}."
    parts += _colour_bar(x0 + cell * cols.size + 22, top, y_bottom, lim if score else None)
    fig = Svg(width, height, title=title, desc=desc, ident=ident, cls="synergy-heatmap")
    fig.extend(parts)
    return svg_text(fig)


def _axis_name(drug: str, unit: str) -> str:
    return f"{drug} ({unit})" if unit else drug


def _heatmap_desc(grid, value, drug_row, drug_col, n_rows, n_cols) -> str:
    what = "% inhibition" if value == "response" else f"{MODEL_NAMES.get(value, value)} score"
    finite = grid[np.isfinite(grid)]
    if finite.size == 0:
        return f"{n_rows} x {n_cols} doses of {drug_row} and {drug_col}: no {what} values."
    combo = grid[1:, 1:]
    mean = float(np.nanmean(combo)) if np.isfinite(combo).any() else float("nan")
    return (f"{what} of {drug_row} (rows, {n_rows} doses) with {drug_col} (columns, "
            f"{n_cols} doses): from {_num(float(finite.min()))} to "
            f"{_num(float(finite.max()))}; mean over combination cells "
            f"{_num(mean)}.")  # fmt: skip


def _colour_bar(x: float, top: float, bottom: float, limit: float | None) -> list[str]:
    """A stepped colour bar (11 steps) with its end and middle values."""
    steps = 11
    lo, hi = (-limit, limit) if limit is not None else (0.0, 100.0)
    h = (bottom - top) / steps
    out = []
    for k in range(steps):
        v = lo + (hi - lo) * (k + 0.5) / steps
        fill = diverging(v, limit) if limit is not None else sequential(v)
        out.append(el("rect", x=x, y=bottom - (k + 1) * h, width=16, height=h, fill=fill,
                      stroke=GRID, stroke_width=0.5))  # fmt: skip
    for v, y in ((hi, top), ((lo + hi) / 2, (top + bottom) / 2), (lo, bottom)):
        out.append(text(x + 22, y + 5, _num(v, 0), font_size=13))
    if limit is not None:
        out.append(text(x + 22, top - 2 + 22, "synergy", font_size=12, fill="#7a2e00"))
        out.append(text(x + 22, bottom - 14, "antag.", font_size=12, fill="#00497a"))
    return out


# ----------------------------------------------------------------------- dose response
def _curve_points(fit: Mapping[str, object], xs: LogScale, ys: LinearScale, lo: float,
                  hi: float) -> list[tuple[float, float]]:  # fmt: skip
    from oncoresist.synergy._doseresponse import ll4

    dose = np.geomspace(lo, hi, 120)
    y = ll4(dose, float(fit["min"]), float(fit["max"]), float(fit["ic50"]), float(fit["hill"]))
    y = np.ravel(y)
    ok = np.isfinite(y)
    return [(float(xs(d)), float(ys(v))) for d, v in zip(dose[ok], y[ok], strict=True)]


def dose_response_svg(
    panels: Sequence[Mapping[str, object]],
    *,
    title: str,
    ident: str,
) -> SvgText:
    """Each drug's monotherapy responses, fitted 4PL curve and IC50, one panel per drug.

    Parameters
    ----------
    panels
        One mapping per drug: ``drug`` (name), ``unit``, ``dose`` and ``response`` (arrays,
        every well at that drug alone, dose 0 included), and ``fit`` (a mapping with
        ``min, max, ic50, hill, ic50_lo, ic50_hi, status``, or ``None``).
    title, ident
        The figure's title and ``id``.
    """
    width, height = 1000, 430
    n = max(len(panels), 1)
    panel_w = width / n
    parts: list[str] = []
    descs = []
    styles = [OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[2]]
    all_y = np.concatenate([np.asarray(p["response"], dtype=float) for p in panels] or [[0.0]])
    finite_y = all_y[np.isfinite(all_y)]
    y_lo = min(-10.0, math.floor(float(finite_y.min()) / 10) * 10) if finite_y.size else -10.0
    y_hi = max(110.0, math.ceil(float(finite_y.max()) / 10) * 10) if finite_y.size else 110.0
    for k, p in enumerate(panels):
        colour = styles[k % len(styles)]
        parts_k, desc = _dose_panel(p, k * panel_w, panel_w, height, (y_lo, y_hi), colour)
        parts += parts_k
        descs.append(desc)
    fig = Svg(width, height, title=title, desc=" ".join(descs), ident=ident,
              cls="synergy-dose-response")  # fmt: skip
    fig.extend(parts)
    return svg_text(fig)


def _dose_panel(p, x_off, panel_w, height, y_range, colour) -> tuple[list[str], str]:
    drug, unit = str(p["drug"]), str(p.get("unit") or "")
    dose = np.asarray(p["dose"], dtype=float)
    resp = np.asarray(p["response"], dtype=float)
    fit = p.get("fit")
    pos = dose[(dose > 0) & np.isfinite(dose)]
    lo, hi = (float(pos.min()) / 3, float(pos.max()) * 3) if pos.size else (0.01, 100.0)
    left, right = x_off + 150, x_off + panel_w - 24
    zero_x = x_off + 104  # dose 0 sits left of the log axis, past a break
    top, bottom = 30, height - 80
    xs, ys = LogScale((lo, hi), (left, right)), LinearScale(y_range, (bottom, top))
    yt = [float(v) for v in range(math.ceil(y_range[0] / 20) * 20, int(y_range[1]) + 1, 20)]
    box = {"left": left, "right": right, "top": top, "bottom": bottom}
    parts = y_axis(ys, yt, left=zero_x - 14, right=right, top=top, bottom=bottom,
                   label="% inhibition", label_x=x_off + 22,
                   tick_label=lambda v: _num(v, 0))  # fmt: skip
    parts += x_axis(xs, xs.ticks(), **box, label=_axis_name(drug, unit),
                    tick_label=lambda v: fmt(v))  # fmt: skip
    parts.append(line(zero_x, bottom, zero_x, bottom + 6, stroke=INK))
    parts.append(text(zero_x, bottom + 22, "0", text_anchor="middle", font_size=16))
    parts.append(text(left - 12, bottom + 5, "//", text_anchor="middle", font_size=14))
    parts.append(text(x_off + panel_w / 2, 20, drug, text_anchor="middle", font_size=17,
                      font_weight=700))  # fmt: skip
    for d, r in zip(dose, resp, strict=True):
        if not math.isfinite(r):
            continue
        x = zero_x if d <= 0 else float(xs(d))
        parts.append(marker("circle", x, float(ys(r)), 5, fill=colour, stroke=INK, width=1,
                            fill_opacity=0.8, class_="well",
                            title=f"{drug} {_dose(d, unit)}: {_num(r)} % inhibition"))  # fmt: skip
    desc = f"{drug}: {int(np.isfinite(resp).sum())} wells."
    status = "" if fit is None else str(fit.get("status", ""))
    if fit is not None and status == "ok" and math.isfinite(float(fit["ic50"])):
        pts = _curve_points(fit, xs, ys, lo, hi)
        parts.append(polyline(pts, stroke=colour, stroke_width=3, class_="fit",
                              body=tip(f"{drug}: fitted 4PL curve")))  # fmt: skip
        ic50 = float(fit["ic50"])
        half = (float(fit["min"]) + float(fit["max"])) / 2
        xi, yi = float(xs(ic50)), float(ys(half))
        ci = [float(fit.get(k, float("nan"))) for k in ("ic50_lo", "ic50_hi")]
        words = f"IC50 {_dose(ic50, unit)}"
        if all(math.isfinite(c) and c > 0 for c in ci):
            words += f" (95 % CI {fmt(ci[0])} to {fmt(ci[1])})"
            parts.append(line(float(xs(ci[0])), yi, float(xs(ci[1])), yi, stroke=INK,
                              stroke_width=3, class_="ic50-ci", body=tip(words)))  # fmt: skip
        parts.append(line(xi, yi, xi, bottom, stroke=INK, stroke_width=1.5,
                          stroke_dasharray="5 4"))  # fmt: skip
        parts.append(marker("diamond", xi, yi, 8, fill="#ffffff", stroke=INK, width=2.5,
                            class_="ic50", title=words))  # fmt: skip
        # a rising curve leaves the lower right and the upper left of its IC50 empty
        rising = float(fit["max"]) >= float(fit["min"])
        right_side = xi < (left + right) / 2
        dy = (24 if right_side else -14) if rising else (-14 if right_side else 24)
        tx, anchor = (xi + 12, "start") if right_side else (xi - 12, "end")
        wide = text_width(words, 14)
        if anchor == "start" and tx + wide > right + 20:  # keep the label inside the panel
            tx, anchor = right + 20, "end"
        elif anchor == "end" and tx - wide < left + 4:
            tx, anchor = left + 4, "start"
        parts.append(text(tx, yi + dy, words, text_anchor=anchor, font_size=14))
        desc += (f" Fitted 4PL: {_num(float(fit['min']))} to {_num(float(fit['max']))} % "
                 f"inhibition, Hill slope {fmt(float(fit['hill']))}, {words}.")  # fmt: skip
    elif status == "flat" and math.isfinite(float(fit["min"])):  # type: ignore[index]
        level = float(fit["min"])  # type: ignore[index]
        words = f"{drug}: flat, no dose response (mean {_num(level)} % inhibition)"
        parts.append(line(left, float(ys(level)), right, float(ys(level)), stroke=colour,
                          stroke_width=3, stroke_dasharray="10 6", class_="flat",
                          body=tip(words)))  # fmt: skip
        parts.append(text(left + 8, top + 22, "flat: no dose response", font_size=13,
                          fill="#7a2e00"))  # fmt: skip
        desc += f" {words}."
    else:
        why = "no fit" if fit is None else (status or "no fit")
        for k, words in enumerate(["no curve drawn:", *textwrap.wrap(why, 40)]):
            parts.append(text(left + 8, top + 22 + 18 * k, words, font_size=13,
                              fill="#7a2e00"))  # fmt: skip
        desc += f" No curve drawn ({why})."
    return parts, desc


# ----------------------------------------------------------------------- isobologram
def isobologram_svg(
    cells: pd.DataFrame,
    fit_row: Mapping[str, object] | None,
    fit_col: Mapping[str, object] | None,
    *,
    drug_row: str,
    drug_col: str,
    title: str,
    ident: str,
    level: float | None = None,
) -> SvgText | None:
    """The doses that reach one effect level, scaled by each drug's own dose for it.

    For each row dose, the column dose at which the observed response crosses ``level``
    (linear interpolation in log dose between neighbouring cells) is found; both doses are
    divided by the single drugs' doses for ``level`` from their fitted curves, so the
    Loewe-additive isobole is the line ``x + y = 1``. A point below it reached the effect
    with less drug than additivity needs (synergy); above it, more (antagonism).

    Parameters
    ----------
    cells
        The block's cells: ``conc_r``, ``conc_c``, ``response`` (% inhibition).
    fit_row, fit_col
        The two drugs' 4PL fits (``min, max, ic50, hill, status``).
    drug_row, drug_col
        Names for the axes.
    title, ident
        The figure's title and ``id``.
    level
        Effect level, % inhibition (default 50, or halfway to the weaker drug's maximum
        when a drug does not reach 50).

    Returns
    -------
    SvgText or None
        ``None`` when a fit is missing or failed, or no combination reaches the level.
    """
    from oncoresist.synergy._doseresponse import inverse_ll4

    fits = [fit_row, fit_col]
    if any(f is None or str(f.get("status")) != "ok" for f in fits):
        return None
    tops = [float(f["max"]) for f in fits]  # type: ignore[index]
    bases = [float(f["min"]) for f in fits]  # type: ignore[index]
    if level is None:
        level = 50.0 if min(tops) > 50 else (max(bases) + min(tops)) / 2
    single = [float(inverse_ll4(level, float(f["min"]), float(f["max"]), float(f["ic50"]),
                                float(f["hill"]))) for f in fits]  # type: ignore[index]  # fmt: skip
    if not all(math.isfinite(s) and s > 0 for s in single):
        return None
    rows, cols, grid = dose_matrix(cells, "response")
    found = []
    for i, cr in enumerate(rows):
        if cr <= 0:
            continue
        cc = _crossing(cols, grid[i], level)
        if cc is not None:
            found.append((cr / single[0], cc / single[1], cr, cc))
    if not found:
        return None
    return _isobologram(found, level, single, drug_row, drug_col, title, ident)


def _crossing(doses: np.ndarray, values: np.ndarray, level: float) -> float | None:
    """The first dose (log-linear interpolation) at which ``values`` reach ``level``."""
    for j in range(1, doses.size):
        a, b = values[j - 1], values[j]
        if not (math.isfinite(a) and math.isfinite(b)):
            continue
        if a < level <= b:
            if doses[j - 1] <= 0:
                return float(doses[j]) * (level - a) / (b - a) if b > a else None
            t = (level - a) / (b - a)
            return float(math.exp(math.log(doses[j - 1]) + t * math.log(doses[j] / doses[j - 1])))
    return None


def _isobologram(found, level, single, drug_row, drug_col, title, ident) -> SvgText:
    width, height = 620, 560
    left, right, top, bottom = 96, width - 30, 30, height - 86
    xmax = max(1.5, max(f[1] for f in found) * 1.1)
    ymax = max(1.5, max(f[0] for f in found) * 1.1)
    lim = min(max(xmax, ymax), 10.0)
    xs, ys = LinearScale((0, lim), (left, right)), LinearScale((0, lim), (bottom, top))
    ticks = [t for t in xs.ticks(6)]
    box = {"left": left, "right": right, "top": top, "bottom": bottom}
    parts = y_axis(ys, ticks, **box, label=f"{drug_row} dose / its dose for {_num(level, 0)} %",
                   label_x=24)  # fmt: skip
    parts += x_axis(xs, ticks, **box, label=f"{drug_col} dose / its dose for {_num(level, 0)} %")
    parts.append(line(xs(0), ys(1), xs(1), ys(0), stroke=INK, stroke_width=2,
                      stroke_dasharray="8 5", class_="additive",
                      body=tip("Loewe additivity: x + y = 1")))  # fmt: skip
    parts.append(text(xs(1) + 8, ys(0) - 10, "additive", font_size=14))
    below = 0
    for y, x, cr, cc in found:
        ci = x + y
        below += ci < 1
        colour = SYNERGY_INK if ci < 1 else ANTAGONISM_INK
        shape = "triangle-down" if ci < 1 else "triangle"
        words = (
            f"{drug_row} {fmt(cr)} + {drug_col} {fmt(cc)} reach {_num(level, 0)} %: "
            f"x + y = {fmt(ci)} ({'synergy' if ci < 1 else 'antagonism or additive'})"
        )
        at = float(xs(min(x, lim))), float(ys(min(y, lim)))
        parts.append(marker(shape, *at, 8, fill=colour, stroke=INK, width=1.2, class_="iso",
                            title=words))  # fmt: skip
    desc = (
        f"Isobologram at {_num(level, 0)} % inhibition: {len(found)} combinations reach "
        f"it; {below} lie below the additive line (synergy: less drug than additivity "
        f"needs), {len(found) - below} on or above it. Single-drug doses for the level: "
        f"{drug_row} {fmt(single[0])}, {drug_col} {fmt(single[1])}."
    )
    fig = Svg(width, height, title=title, desc=desc, ident=ident, cls="synergy-isobologram")
    fig.extend(parts)
    return svg_text(fig)


# ----------------------------------------------------------------------- ranking
def ranking_svg(
    blocks: pd.DataFrame,
    model: str,
    *,
    title: str,
    ident: str,
    top: int = 30,
) -> SvgText:
    """Block scores of ``model`` with their intervals (``<model>_lo``/``_hi``), best first.

    Parameters
    ----------
    blocks
        One row per block: ``block_id``, ``drug_row``, ``drug_col``, ``model`` and, when
        known, ``<model>_lo`` and ``<model>_hi``.
    model
        ``bliss``, ``hsa``, ``loewe`` or ``zip``.
    title, ident
        The figure's title and ``id``.
    top
        Blocks drawn (the highest scores).
    """
    shown = blocks.sort_values(model, ascending=False, na_position="last").head(top)
    n = len(shown)
    row_h, top_px, left, right = 26, 20, 330, 970
    height = top_px + row_h * max(n, 1) + 70
    lo_col, hi_col = f"{model}_lo", f"{model}_hi"
    vals = shown[model].to_numpy(dtype=float)
    ends = [vals]
    for c in (lo_col, hi_col):
        if c in shown:
            ends.append(shown[c].to_numpy(dtype=float))
    every = np.concatenate(ends)
    every = every[np.isfinite(every)]
    lim = symmetric_limit(every * 1.05, floor=5.0)  # no mark on the frame
    xs = LinearScale((-lim, lim), (left, right))
    bottom = top_px + row_h * max(n, 1)
    parts = x_axis(xs, xs.ticks(8), left=left, right=right, top=top_px, bottom=bottom,
                   label=f"{MODEL_NAMES.get(model, model)} score (percentage points; > 0 synergy)",
                   tick_label=lambda v: _num(v, 0))  # fmt: skip
    parts.append(line(xs(0), top_px, xs(0), bottom, stroke=INK, stroke_width=1.5))
    for k, (_, r) in enumerate(shown.iterrows()):
        y = top_px + row_h * (k + 0.5)
        v = float(r[model])
        name = f"{r['block_id']}: {r['drug_row']} + {r['drug_col']}"
        if len(name) > 40:
            name = name[:39] + "\u2026"
        parts.append(text(left - 10, y + 5, name, text_anchor="end", font_size=14))
        lo = float(r[lo_col]) if lo_col in shown else float("nan")
        hi = float(r[hi_col]) if hi_col in shown else float("nan")
        interval = ""
        if math.isfinite(lo) and math.isfinite(hi):
            parts.append(line(xs(max(lo, -lim)), y, xs(min(hi, lim)), y, stroke=INK,
                              stroke_width=2))  # fmt: skip
            interval = f" (95 % CI {_num(lo)} to {_num(hi)})"
        if math.isfinite(v):
            colour = SYNERGY_INK if v > 0 else ANTAGONISM_INK
            parts.append(marker("circle" if v > 0 else "square", float(xs(max(min(v, lim), -lim))),
                                y, 6, fill=colour, stroke=INK, width=1, class_="block-score",
                                title=f"block {r['block_id']}: {_num(v)}{interval}"))  # fmt: skip
    n_syn = int((vals > 0).sum())
    desc = (
        f"{MODEL_NAMES.get(model, model)} block scores of the {n} highest-scoring blocks "
        f"of {len(blocks)}; {n_syn} above 0 (synergy). Lines are 95 % intervals where "
        "replicates or a bootstrap give them."
    )
    fig = Svg(1000, height, title=title, desc=desc, ident=ident, cls="synergy-ranking")
    fig.extend(parts)
    return svg_text(fig)
