"""The reference models of drug synergy, on stacks of dose-response matrices.

Every function takes arrays of shape ``(n_blocks, n_r, n_c)`` (percent inhibition; row 0
and column 0 are the monotherapies, cell ``[0, 0]`` the untreated well) and returns the
*reference* (expected) response of each cell; the synergy score is observed - reference, in
percentage points (> 0 synergy, < 0 antagonism). In the monotherapy row and column the
reference is the observed response, so the score there is 0, as in SynergyFinder.

* Bliss independence (Bliss 1939): ``y1 + y2 - y1 y2 / 100`` from the *observed*
  monotherapies.
* Highest single agent (HSA; Berenbaum 1989): ``max(y1, y2)``, observed monotherapies.
* Loewe additivity (Loewe 1953): the effect ``y`` with ``x1 / X1(y) + x2 / X2(y) = 1`` on the
  fitted single-drug curves, solved exactly per cell by bisection (not on a grid); beside a
  drug whose curve does not rise, SynergyFinder's summed-dose rule by default.
* Zero interaction potency (ZIP; Yadav et al. 2015): the Bliss combination of the fitted
  monotherapy curves against the average of the row and column 4PL fits through the
  combination, each with its baseline fixed at the other drug's observed monotherapy response
  and rising or falling as its data trend (SynergyFinder 3.7.3's fits).
* Chou-Talalay combination index (Chou & Talalay 1984): ``CI = x1 / Dx1 + x2 / Dx2`` from
  median-effect fits; CI < 1 synergy, CI = 1 additivity, CI > 1 antagonism.

References
----------
Bliss C.I. (1939) Ann Appl Biol 26:585. Loewe S. (1953) Arzneimittelforschung 3:285.
Berenbaum M.C. (1989) Pharmacol Rev 41:93. Chou T.C., Talalay P. (1984) Adv Enzyme Regul
22:27. Yadav B. et al. (2015) Comput Struct Biotechnol J 13:504,
doi:10.1016/j.csbj.2015.09.001. Ianevski A. et al. (2017) Bioinformatics 33:2413;
(2020) NAR 48:W488. Zheng S. et al. (2022) Genomics Proteomics Bioinformatics 20:587.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from oncoresist.synergy._doseresponse import CurveFits, fit_curves, inverse_ll4, ll4

#: bisection steps of the Loewe root (the bracket shrinks 2**-60: exact in float64)
_BISECTIONS = 60


def mono_mask(shape: tuple[int, ...]) -> np.ndarray:
    """True on the monotherapy row and column (and the untreated cell)."""
    mask = np.zeros(shape[-2:], dtype=bool)
    mask[0, :] = True
    mask[:, 0] = True
    return mask


def _keep_mono(ref: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.where(mono_mask(y.shape), y, ref)


def bliss_reference(y: np.ndarray) -> np.ndarray:
    """Bliss-independence reference from the observed monotherapies (percent inhibition)."""
    y1 = y[:, :, :1]
    y2 = y[:, :1, :]
    return _keep_mono(y1 + y2 - y1 * y2 / 100.0, y)


def hsa_reference(y: np.ndarray) -> np.ndarray:
    """Highest-single-agent reference from the observed monotherapies."""
    return _keep_mono(np.maximum(y[:, :, :1], y[:, :1, :]), y)


def _rising(fit: CurveFits) -> np.ndarray:
    return (fit.max > fit.min) & ~np.isnan(fit.ic50)


def loewe_reference(
    y: np.ndarray,
    conc_r: np.ndarray,
    conc_c: np.ndarray,
    fit_r: CurveFits,
    fit_c: CurveFits,
    *,
    flat: Literal["constant", "sham"] = "sham",
) -> np.ndarray:
    """Loewe-additive reference: the exact root of the isobole equation in every cell.

    Parameters
    ----------
    y
        ``(n_blocks, n_r, n_c)`` observed mean inhibition (used for the monotherapy cells).
    conc_r, conc_c
        ``(n_blocks, n_r)`` and ``(n_blocks, n_c)`` concentrations (first = 0).
    fit_r, fit_c
        The single-drug 4PL fits of the row and column drug (one per block).
    flat
        What a drug without a rising curve contributes (see Notes): ``"sham"`` (default)
        SynergyFinder's summed-dose rule, ``"constant"`` its fitted effect at its own dose.

    Returns
    -------
    numpy.ndarray
        The reference effect ``y`` solving ``x1 / X1(y) + x2 / X2(y) = 1``, where ``Xi(y)`` is
        the dose of drug i alone that gives ``y``.

    Notes
    -----
    Beyond its maximum effect a drug cannot produce ``y`` at any dose (``Xi = inf``), so it
    contributes nothing to the isobole sum; below its baseline ``Xi = 0``. The sum then falls
    continuously from infinity to 0 between the larger baseline and the larger maximum, and
    the root is unique. SynergyFinder instead searches 100 effect levels where both inverses
    exist, so its reference stops at the weaker drug's maximum.

    A drug whose curve does not rise (flat, a failed step, or falling) has the same effect
    ``E`` at every positive dose: ``X(y) = 0`` up to ``E`` and infinite above, so the root is
    ``max(E, f_other(x_other))``, the larger fitted single-drug effect at its own dose (an
    inactive partner scores 0): ``flat="constant"``. The default, ``flat="sham"``, takes
    SynergyFinder's rule instead for parity, the larger single-drug prediction at the summed
    dose ``x1 + x2`` (a sham combination that treats the two drugs as one; it scores an
    inactive partner as antagonism).
    """
    x1 = np.broadcast_to(conc_r[:, :, None], y.shape)
    x2 = np.broadcast_to(conc_c[:, None, :], y.shape)
    rise_r = _rising(fit_r)[:, None, None]
    rise_c = _rising(fit_c)[:, None, None]

    def params(fit: CurveFits) -> tuple[np.ndarray, ...]:
        return tuple(np.asarray(p, float)[:, None, None] for p in
                     (fit.min, fit.max, fit.ic50, fit.hill))  # fmt: skip

    p_r, p_c = params(fit_r), params(fit_c)
    lo = np.maximum(np.where(rise_r, p_r[0], -np.inf), np.where(rise_c, p_c[0], -np.inf))
    hi = np.maximum(np.where(rise_r, p_r[1], -np.inf), np.where(rise_c, p_c[1], -np.inf))
    lo = np.broadcast_to(lo, y.shape).copy()
    hi = np.broadcast_to(hi, y.shape).copy()

    def isobole(level: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            t_r = np.where(rise_r, x1 / inverse_ll4(level, *p_r), 0.0)
            t_c = np.where(rise_c, x2 / inverse_ll4(level, *p_c), 0.0)
        return np.nan_to_num(t_r, nan=0.0) + np.nan_to_num(t_c, nan=0.0)

    both = rise_r & rise_c & np.isfinite(lo) & np.isfinite(hi)
    lo = np.where(both, lo, 0.0)
    hi = np.where(both, hi, 1.0)
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        above = isobole(mid) > 1.0  # the sum falls with the effect: the root lies higher
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    root = 0.5 * (lo + hi)
    q_r, q_c = (tuple(p[..., 0] for p in q) for q in (p_r, p_c))
    if flat == "sham":
        other = np.maximum(ll4(x1 + x2, *q_r), ll4(x1 + x2, *q_c))
    else:
        other = np.maximum(ll4(x1, *q_r), ll4(x2, *q_c))
    ref = np.where(both, root, other)
    return _keep_mono(ref, y)


#: a ZIP line fit whose change at the second-highest dose is below this share of its change at
#: the highest dose moves at the highest dose alone (a step above the tested range)
_TOP_STEP_SHARE = 0.01
#: ... and it is a jump back after a fall (not fitted) when the doses below the highest lie on
#: the other side of the baseline by more than this share of that change, on average
_TOP_STEP_FALL = 0.25


def _line_direction(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """+1 where a line's response rises with log dose over its nonzero doses, else -1.

    The sign of the weighted least-squares slope of response on log dose (dose 0 left out):
    the direction a fit started from the data's trend takes.
    """
    ok = (x > 0) & (w > 0) & ~np.isnan(y)
    wk = np.where(ok, w, 0.0)
    lx = np.log(np.where(ok, x, 1.0))
    yk = np.where(ok, y, 0.0)
    n = np.maximum(wk.sum(1, keepdims=True), 1e-300)
    mx = (wk * lx).sum(1, keepdims=True) / n
    my = (wk * yk).sum(1, keepdims=True) / n
    slope = (wk * (lx - mx) * (yk - my)).sum(1)
    return np.where(slope >= 0, 1.0, -1.0)


def _fit_lines(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, how: Literal["synergyfinder", "rising"]
) -> np.ndarray:
    """Predictions of the ZIP 4PL fits along lines (column 0 = dose 0, the fixed baseline)."""
    sign = np.ones(len(y)) if how == "rising" else _line_direction(x, y, w)
    ys = y * sign[:, None]
    fit = fit_curves(x, ys, w, fixed_min=ys[:, 0], flat_test=False, rising=True)
    pred = fit.predict(x)
    if how == "synergyfinder":
        # the curve moves at the highest dose alone after the doses below it fell the other
        # way: a fall, then a jump back (not a dose-response); it stays at its baseline
        base = ys[:, :1]
        order = np.argsort(np.where(w > 0, x, -np.inf), axis=1)
        rows = np.arange(len(y))
        top, second = order[:, -1], order[:, -2]
        rise_top = pred[rows, top] - base[:, 0]
        rise_second = pred[rows, second] - base[:, 0]
        below = (x > 0) & (w > 0) & ~np.isnan(ys)
        below[rows, top] = False
        gap = np.where(below, w * (base - np.where(below, ys, 0.0)), 0.0)
        fall = gap.sum(1) / np.maximum((w * below).sum(1), 1e-300)
        jump = ((rise_top > 0) & (rise_second <= _TOP_STEP_SHARE * rise_top)
                & (fall > _TOP_STEP_FALL * rise_top) & (below.sum(1) >= 2))  # fmt: skip
        pred = np.where(jump[:, None], base, pred)
    return pred * sign[:, None]


def zip_scores(
    y: np.ndarray,
    weight: np.ndarray,
    conc_r: np.ndarray,
    conc_c: np.ndarray,
    fit_r: CurveFits,
    fit_c: CurveFits,
    *,
    fit: Literal["synergyfinder", "rising"] = "synergyfinder",
) -> tuple[np.ndarray, np.ndarray]:
    """ZIP reference and fitted surface (Yadav et al. 2015, as in SynergyFinder 3).

    Parameters
    ----------
    y, weight
        ``(n_blocks, n_r, n_c)`` mean inhibition and replicate counts (0 = missing).
    conc_r, conc_c
        Concentrations, first = 0.
    fit_r, fit_c
        Single-drug fits.
    fit
        How the 4PL fits through the combination are made (see Notes):
        ``"synergyfinder"`` (default) or ``"rising"``.

    Returns
    -------
    (reference, fitted)
        Both ``(n_blocks, n_r, n_c)``; the ZIP delta score is ``fitted - reference``. The
        reference is the Bliss combination of the fitted monotherapy curves. The fitted
        surface averages, in each combination cell, the 4PL of the column drug along the
        cell's row (baseline fixed at the row drug's observed monotherapy response) and the
        4PL of the row drug along its column (baseline = the column drug's observed response).

    Notes
    -----
    ``fit="synergyfinder"`` reproduces SynergyFinder 3.7.3's fits: a line rises or falls
    from its baseline as its data trend (the sign of the least-squares slope of response on
    log dose over the nonzero doses), its upper asymptote free; a line that moves at the
    highest dose alone after the doses below it went the other way (a fall, then a jump back)
    stays at its baseline; a fit that collapses onto its baseline, or ends as a step below
    the lowest dose, is replaced by the line's mean. ``fit="rising"`` allows rising curves
    only (ZIP models a drug adding effect on top of the other's) and fits the jump.
    """
    n_b, n_r, n_c = y.shape
    f1 = ll4(conc_r, fit_r.min, fit_r.max, fit_r.ic50, fit_r.hill)
    f2 = ll4(conc_c, fit_c.min, fit_c.max, fit_c.ic50, fit_c.hill)
    ref = f1[:, :, None] + f2[:, None, :] - f1[:, :, None] * f2[:, None, :] / 100.0
    # along rows i >= 1: vary the column drug, baseline = y[i, 0]
    rows_x = np.repeat(conc_c[:, None, :], n_r - 1, axis=1).reshape(-1, n_c)
    rows_y = y[:, 1:, :].reshape(-1, n_c)
    rows_w = weight[:, 1:, :].reshape(-1, n_c)
    cols_x = np.repeat(conc_r[:, None, :], n_c - 1, axis=1).reshape(-1, n_r)
    cols_y = np.swapaxes(y[:, :, 1:], 1, 2).reshape(-1, n_r)
    cols_w = np.swapaxes(weight[:, :, 1:], 1, 2).reshape(-1, n_r)
    along_rows = _fit_lines(rows_x, rows_y, rows_w, fit).reshape(n_b, n_r - 1, n_c)
    along_cols = np.swapaxes(_fit_lines(cols_x, cols_y, cols_w, fit).reshape(n_b, n_c - 1, n_r),
                             1, 2)  # fmt: skip
    fitted = y.copy()
    fitted[:, 1:, 1:] = 0.5 * (along_rows[:, :, 1:] + along_cols[:, 1:, :])
    return _keep_mono(ref, y), _keep_mono(fitted, y)


def combination_index(y: np.ndarray, conc_r: np.ndarray, conc_c: np.ndarray) -> np.ndarray:
    """Chou-Talalay combination index per cell from median-effect fits of the monotherapies.

    Each drug's monotherapy points with 0 < inhibition < 100 % are fitted by least squares
    on ``log(fa / (1 - fa)) = m log(D) - m log(Dm)``; a combination cell with observed
    fraction affected ``fa`` has ``CI = x1 / Dx1(fa) + x2 / Dx2(fa)`` with
    ``Dx(fa) = Dm (fa / (1 - fa))^(1/m)``. CI < 1 is synergy, 1 additivity, > 1 antagonism.
    NaN where ``fa`` is outside (0, 1), in the monotherapy row and column, or where a drug
    has fewer than two usable points.
    """
    fa = y / 100.0

    def median_effect(dose: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ok = (dose > 0) & (f > 0) & (f < 1) & np.isfinite(f)
        with np.errstate(divide="ignore", invalid="ignore"):
            lx = np.where(ok, np.log(np.where(dose > 0, dose, 1.0)), 0.0)
            ly = np.where(ok, np.log(np.where(ok, f / (1 - f), 1.0)), 0.0)
            n = ok.sum(1)
            mx = lx.sum(1) / n
            my = ly.sum(1) / n
            sxx = (ok * (lx - mx[:, None]) ** 2).sum(1)
            sxy = (ok * (lx - mx[:, None]) * (ly - my[:, None])).sum(1)
            m = np.where(n >= 2, sxy / sxx, np.nan)
            log_dm = mx - my / m
        return m, log_dm

    m1, ldm1 = median_effect(conc_r, fa[:, :, 0])
    m2, ldm2 = median_effect(conc_c, fa[:, 0, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        logit = np.log(fa / (1 - fa))
        dx1 = np.exp(ldm1[:, None, None] + logit / m1[:, None, None])
        dx2 = np.exp(ldm2[:, None, None] + logit / m2[:, None, None])
        ci = conc_r[:, :, None] / dx1 + conc_c[:, None, :] / dx2
    ci = np.where((fa > 0) & (fa < 1), ci, np.nan)
    ci[:, 0, :] = np.nan
    ci[:, :, 0] = np.nan
    return ci


def nanmean_rows(values: np.ndarray) -> np.ndarray:
    """Mean of each row ignoring NaN; NaN (and no warning) for a row with no number."""
    ok = ~np.isnan(values)
    n = ok.sum(axis=1)
    total = np.where(ok, values, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def block_mean(score: np.ndarray) -> np.ndarray:
    """Mean score over the combination cells (both doses > 0) of each block."""
    return nanmean_rows(score[:, 1:, 1:].reshape(score.shape[0], -1))


def most_synergistic_area(
    score: np.ndarray,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, int, int]]:
    """Largest mean score over a 3x3 window of adjacent combination cells, per block.

    Windows run over the combination cells only (both doses > 0); a block with fewer than
    three doses of a drug uses the whole combination area on that axis.

    Returns
    -------
    (value, (i, j, height, width))
        The window's mean score and its position among the combination cells: rows
        ``i .. i + height - 1`` and columns ``j .. j + width - 1`` counted from the first
        nonzero dose.
    """
    combo = score[:, 1:, 1:]
    n_b, n_r, n_c = combo.shape
    wr, wc = min(3, n_r), min(3, n_c)
    best = np.full(n_b, -np.inf)
    at_i = np.zeros(n_b, dtype=int)
    at_j = np.zeros(n_b, dtype=int)
    for i in range(n_r - wr + 1):
        for j in range(n_c - wc + 1):
            win = nanmean_rows(combo[:, i : i + wr, j : j + wc].reshape(n_b, -1))
            better = win > best
            best = np.where(better, win, best)
            at_i = np.where(better, i, at_i)
            at_j = np.where(better, j, at_j)
    return np.where(np.isfinite(best), best, np.nan), (at_i, at_j, wr, wc)
