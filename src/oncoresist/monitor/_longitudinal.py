"""Longitudinal calling: evidence pooled across a patient's draws under a VAF trend.

For each patient and variant, draws in date order; at draw ``t`` the window holds draws
``1..t`` (or the last ``window`` draws). Model, for draw ``i`` of the window with depth
``n_i``, background mean error ``e_i`` and day ``d_i`` (``d_t`` = day of draw ``t``):

* alternative: ``k_i ~ Poisson(n_i e_i + n_i f_i)`` with ``f_i = A exp(b (d_i - d_t))``
  (log-linear VAF; ``A`` is the VAF at draw ``t``, ``b`` the slope per day);
* null (background only): ``A = 0``.

The background's extra-Poisson tail is handled by a probability-integral transform: each
draw's count ``k_i`` enters as its *Poisson-equivalent count* ``s_i``, the (continuous)
count whose tail under ``Poisson(n_i e_i)`` equals the draw's exact beta-binomial p-value
``P(X >= k_i)`` (``s_i = k_i`` for a Poisson background, smaller for an overdispersed one;
a quasi-likelihood weight ``1 / phi`` was tried first and was anti-conservative up to 5x
at level 1e-4 against heavy-tailed backgrounds). ``A >= 0`` is fitted exactly
(safeguarded Newton; the log-likelihood is concave in ``A``) for each slope of a grid
(doubling or halving times of 7-180 days, and 0); ``LR = 2 (l(A, b) - l(0))`` is maximised
over the grid.

Null calibration: the trend p-value is the boundary mixture ``0.5 P(chi2_1 >= LR) + 0.5
P(chi2_2 >= LR)``; the draw's own exact p-value ``p_now`` is also a valid test, and the
combined p-value is ``min(1, 2 min(p_trend, p_now))`` (Bonferroni over the two). A window
of a single draw has no trend: its p-value is ``p_now``, as in
:func:`~oncoresist.monitor._calling.call_draws`. On simulated variant-free series
(backgrounds with beta shape 0.5-50, mean errors 2e-6 to 1e-3, windows of 1-8 draws) the
rate of combined p-values at or below levels 1e-4 to 0.05 was at most 0.9 times the level
(tests and ``benchmarks/bench_monitor.py`` check it). Combined p-values of one draw
(``sample_id``) are then adjusted across its variants exactly as in ``call_draws`` and
called at ``fpr``.

Per draw the output gives the fitted slope with a profile-likelihood 95 % interval over
the grid (slopes whose ``LR`` is within 3.84 of the best) and the doubling time
``ln 2 / b`` (days).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import gammainc
from scipy.stats import chi2

from oncoresist.errors import InputError
from oncoresist.monitor._background import BackgroundModel, betabinom_sf
from oncoresist.monitor._calling import (
    _backgrounds,
    _coordinate_fallback,
    _site_labels,
    _validate,
    adjust_within_groups,
)

_DOUBLING_DAYS = np.array([7.0, 10.0, 14.0, 21.0, 30.0, 45.0, 60.0, 90.0, 180.0])
#: Default slope grid (per day): ln 2 over doubling / halving times of 7-180 days, and 0.
SLOPE_GRID = np.concatenate([-np.log(2) / _DOUBLING_DAYS, [0.0], np.log(2) / _DOUBLING_DAYS[::-1]])
_CI_DROP = 3.841458820694124  # chi2_1 0.95 quantile


def _trend_tail(lr):
    """Null tail of the trend likelihood ratio: ``0.5 chi2_1 + 0.5 chi2_2``."""
    return 0.5 * chi2.sf(lr, 1) + 0.5 * chi2.sf(lr, 2)


def _poisson_equivalent(k, lam0, tail, iters: int = 48) -> np.ndarray:
    """Counts ``s`` with ``P(Poisson(lam0) >= s) = tail`` (continuous in ``s``), vectorised.

    ``tail`` is the draw's exact beta-binomial p-value ``P(X >= k)``: the count a Poisson
    background would need for the same evidence. Equals ``k`` for a Poisson background;
    smaller for an overdispersed one. Bisection on ``gammainc(s, lam0)``.
    """
    out = np.asarray(k, dtype=float).copy()
    todo = (out > 0) & (tail > 0) & (tail < 1)
    if not todo.any():
        return out
    lam = lam0[todo]
    target = tail[todo]
    lo = np.full(lam.size, 1e-9)
    hi = 2.0 * out[todo] + 20.0
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        above = gammainc(mid, lam) > target  # still too likely: need a larger count
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    out[todo] = np.minimum(0.5 * (lo + hi), out[todo])
    return out


def _fit_amplitude(k, mu0, m, w, iters: int = 12):
    """Maximise ``sum w [k log(mu0 + A m) - A m]`` over ``A >= 0``, row-wise.

    Returns ``(A, gain)`` with ``gain = l(A) - l(0)``. Padding has ``w = 0``.
    """
    wm = w * m
    with np.errstate(divide="ignore", invalid="ignore"):
        g0 = np.sum(np.where(w > 0, wm * (k / mu0 - 1.0), 0.0), axis=1)
        hi = np.sum(w * k, axis=1) / np.sum(wm, axis=1)
    pos = (g0 > 0) & np.isfinite(hi) & (hi > 0)
    a = np.where(pos, hi, 0.0)
    lo = np.zeros_like(a)
    hi = np.where(pos, hi, 0.0)
    if pos.any():
        ki, mi, wi, mui = k[pos], m[pos], w[pos], mu0[pos]
        ai, loi, hii = a[pos], lo[pos], hi[pos]
        for _ in range(iters):
            den = mui + ai[:, None] * mi
            g = np.sum(wi * (ki * mi / den - mi), axis=1)
            h = -np.sum(wi * ki * mi * mi / (den * den), axis=1)
            loi = np.where(g > 0, ai, loi)
            hii = np.where(g <= 0, ai, hii)
            with np.errstate(divide="ignore", invalid="ignore"):
                step = ai - g / h
            bad = ~np.isfinite(step) | (step <= loi) | (step >= hii)
            ai = np.where(bad, 0.5 * (loi + hii), step)
        a[pos] = ai
    with np.errstate(divide="ignore", invalid="ignore"):
        term = w * (k * np.log1p(a[:, None] * m / mu0) - a[:, None] * m)
    gain = np.sum(np.where(w > 0, term, 0.0), axis=1)
    return a, np.maximum(gain, 0.0)


def _windows(series: np.ndarray, window: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Start position of each row's window (rows sorted by series then date)."""
    size = series.size
    pos = np.arange(size)
    new = np.ones(size, dtype=bool)
    new[1:] = series[1:] != series[:-1]
    start = np.maximum.accumulate(np.where(new, pos, 0))
    if window is not None:
        start = np.maximum(start, pos - window + 1)
    return start, pos - start + 1


def call_longitudinal(
    obs: pd.DataFrame,
    background: BackgroundModel | None = None,
    *,
    fpr: float = 0.05,
    correction: str = "bh",
    window: int | None = None,
    slopes: np.ndarray | None = None,
    chunk: int = 50_000,
) -> pd.DataFrame:
    """Call tracked variants on the pooled evidence of each patient's draws so far.

    Parameters
    ----------
    obs : pandas.DataFrame
        Tidy observations with ``patient_id, sample_id, collection_date, alt_reads,
        depth`` and ``site`` or ``alteration`` (``docs/monitor_design.md``).
    background : BackgroundModel, optional
        Fitted background; ``None``: the documented default.
    fpr : float
        Level of the within-draw correction of the combined p-values (0.05): the chance that a
        variant-free draw carries any false call; with 50 sites about 1e-3 per site-draw.
    correction : {"bh", "bonferroni", "none"}
        Multiple-testing control across the variants of one draw.
    window : int, optional
        Draws pooled (the last ``window`` up to and including the current one); ``None``:
        all draws so far.
    slopes : array_like, optional
        Slope grid (per day) of the trend; default :data:`SLOPE_GRID`.
    chunk : int
        Windows fitted per block (memory).

    Returns
    -------
    pandas.DataFrame
        A copy of ``obs`` (same index and order) plus ``n_pooled`` (draws in the window),
        ``lr_stat``, ``combined_p_value``, ``combined_q_value``, ``called`` (bool),
        ``first_called_date`` (per patient and variant; NaT if never), ``fitted_vaf``
        (VAF at this draw under the trend), ``slope_per_day`` with ``slope_ci_low`` and
        ``slope_ci_high`` (profile 95 % over the grid; NaN with one draw) and
        ``doubling_time_days`` (``ln 2 / slope``; negative for a falling allele).

    Raises
    ------
    InputError
        Missing columns, bad counts (field and row named), or undated draws.
    """
    if not 0 < fpr < 1:
        raise InputError("must lie in (0, 1)", field="fpr")
    if window is not None and window < 1:
        raise InputError("must be at least 1", field="window")
    k, n = _validate(obs, ("patient_id", "sample_id", "collection_date", "alt_reads", "depth"))
    dates = pd.to_datetime(obs["collection_date"])
    if dates.isna().any():
        i = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise InputError("missing date", record=f"row {obs.index[i]}", field="collection_date")
    grid = np.asarray(SLOPE_GRID if slopes is None else slopes, dtype=float)
    codes, sa, sb = _backgrounds(obs, background)
    _coordinate_fallback(obs, codes, sa, sb, background)
    err = (sa / (sa + sb))[codes]
    days = (dates - pd.Timestamp("1970-01-01")).dt.total_seconds().to_numpy() / 86400.0

    pair = pd.MultiIndex.from_arrays([obs["patient_id"], _site_labels(obs)])
    series, _ = pd.factorize(pair, use_na_sentinel=False)
    order = np.lexsort((days, series))
    s_series = series[order]
    sk, sn, sd = k[order], n[order], days[order]
    s_codes = codes[order]
    smu = sn * err[order]
    p_now = betabinom_sf(sk, sn, sa[s_codes], sb[s_codes])
    s_eq = _poisson_equivalent(sk, smu, p_now)
    sw = np.where(sn > 0, 1.0, 0.0)
    start, length = _windows(s_series, window)
    csum = np.concatenate(([0.0], np.cumsum(sk)))
    total = csum[np.arange(sk.size) + 1] - csum[start]

    size = sk.size
    lr = np.zeros(size)
    amp = np.zeros(size)
    slope = np.full(size, np.nan)
    ci_lo = np.full(size, np.nan)
    ci_hi = np.full(size, np.nan)
    active = np.flatnonzero(total > 0)
    lmax = int(length.max()) if size else 1
    for s in range(0, active.size, chunk):
        rows = active[s : s + chunk]
        idx = start[rows, None] + np.arange(lmax)[None, :]
        valid = idx <= rows[:, None]
        idx = np.where(valid, idx, rows[:, None])
        kk = np.where(valid, s_eq[idx], 0.0)
        mu = np.where(valid, smu[idx], 1.0)
        ww = np.where(valid, sw[idx], 0.0)
        nn = np.where(valid, sn[idx], 0.0)
        dd = np.where(valid, sd[idx] - sd[rows, None], 0.0)
        single = length[rows] == 1
        gains = np.empty((rows.size, grid.size))
        amps = np.empty((rows.size, grid.size))
        for j, b in enumerate(grid):
            amps[:, j], gains[:, j] = _fit_amplitude(kk, mu, nn * np.exp(b * dd), ww)
        lr_b = 2.0 * gains
        best = np.argmax(lr_b, axis=1)
        lr_r = lr_b[np.arange(rows.size), best]
        lr[rows] = lr_r
        amp[rows] = amps[np.arange(rows.size), best]
        inside = lr_b >= (lr_r - _CI_DROP)[:, None]
        lo_j = np.argmax(inside, axis=1)
        hi_j = grid.size - 1 - np.argmax(inside[:, ::-1], axis=1)
        fitted = ~single & (lr_r > 0)
        slope[rows[fitted]] = grid[best[fitted]]
        ci_lo[rows[fitted]] = grid[lo_j[fitted]]
        ci_hi[rows[fitted]] = grid[hi_j[fitted]]

    p_trend = np.where(lr > 0, _trend_tail(lr), 1.0)
    p = np.where(length == 1, p_now, np.minimum(1.0, 2.0 * np.minimum(p_trend, p_now)))

    # back to the caller's row order
    inv = np.empty(size, dtype=np.int64)
    inv[order] = np.arange(size)
    p_o, lr_o = p[inv], lr[inv]
    draw_codes, _ = pd.factorize(obs["sample_id"], use_na_sentinel=False)
    q, _ = adjust_within_groups(p_o, draw_codes.astype(np.int64), fpr, correction)
    called = q <= fpr
    call_day = pd.Series(np.where(called, dates.to_numpy(), np.datetime64("NaT")))
    first = call_day.groupby(series).transform("min").to_numpy()

    out = obs.copy()
    out["n_pooled"] = length[inv]
    out["lr_stat"] = lr_o
    out["combined_p_value"] = p_o
    out["combined_q_value"] = q
    out["called"] = called
    out["first_called_date"] = first
    out["fitted_vaf"] = amp[inv]
    out["slope_per_day"] = slope[inv]
    out["slope_ci_low"] = ci_lo[inv]
    out["slope_ci_high"] = ci_hi[inv]
    with np.errstate(divide="ignore"):
        out["doubling_time_days"] = np.where(
            np.isnan(slope[inv]) | (slope[inv] == 0), np.nan, np.log(2) / slope[inv]
        )
    return out
