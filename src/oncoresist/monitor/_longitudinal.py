"""Longitudinal calling: evidence pooled across a patient's draws, and the VAF trend.

For each patient and variant, draws in date order; at draw ``t`` the window holds draws
``1..t`` (or the last ``window`` draws).

**The call** uses one exactly calibrated statistic, the weighted alt count

    ``T_t = sum_i c_i k_i``,  ``c_i = round(L (1 - (d_t - d_i) / memory_days))`` clipped at 0,

with ``L = WEIGHT_LEVELS`` (4) for the current draw and linearly less for older ones (the
default ``memory_days`` of 112 gives 4, 3, 2, 1 to the last four monthly draws). Why this
shape: when mutant molecules are rare (the regime where calling is hard) the Neyman-Pearson
statistic for an allele whose VAF ``f_i`` grows exponentially is ``sum_i k_i log(1 + f_i /
e_i)``, whose weights fall *linearly* in time, not exponentially. The p-value is the exact
null tail ``P(T_t >= t_obs)``: each draw's count is ``BetaBinomial(n_i, a, b)`` under the
fitted background (independent draws), and the weighted sum's distribution is convolved on
the integer lattice up to the observed value (:func:`weighted_sum_tail`; above
:data:`LATTICE_CAP` by FFT where the background alone gives many counts).
A site's mean error is itself an estimate: from a panel with ``A`` error reads it is known to
about ``1 / sqrt(A)``, and a pooled test sums enough draws to feel that (with 20 normals a
plug-in estimate called 1.4 times its level at 1e-4). The tail is therefore averaged over
the error's uncertainty (:meth:`BackgroundModel.error_evidence`, Gauss quadrature in
:func:`rate_nodes`), shared by all draws of the site. So the test is valid at every level
for any window, needs no asymptotics, and with an empty history it is the draw's own exact
p-value: pooling almost never makes a call later than the per-draw caller at the same
level. (The earlier design, a likelihood-ratio trend test calibrated by a chi-square
mixture and combined with the current draw by Bonferroni, paid a factor of 2 and more
exactly at the first mutant molecule, and called later than per-draw calling at one site
in three.) P-values of one draw (``sample_id``) are then adjusted across
its variants exactly as in ``call_draws`` and called at ``fpr``.

**The trend** is reported, not tested: for draw ``i`` of the window with depth ``n_i``,
background mean error ``e_i`` and day ``d_i``, ``k_i ~ Poisson(n_i e_i + n_i f_i)`` with
``f_i = A exp(b (d_i - d_t))`` (``A`` the VAF at draw ``t``, ``b`` the slope per day). The
background's extra-Poisson tail enters through each draw's *Poisson-equivalent count* (the
count whose tail under ``Poisson(n_i e_i)`` equals the draw's exact beta-binomial p-value).
``A >= 0`` is fitted exactly (safeguarded Newton; concave) for each slope of a grid
(doubling or halving times of 7-180 days, and 0); the output gives the best slope, a
profile-likelihood 95 % interval over the grid (slopes whose ``LR = 2 (l(A, b) - l(0))`` is
within 3.84 of the best) and the doubling time ``ln 2 / b`` (days).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.fft import irfft, next_fast_len, rfft
from scipy.special import gammainc

from oncoresist.errors import InputError
from oncoresist.monitor._background import (
    BackgroundModel,
    betabinom_sf,
    pmf_table,
)
from oncoresist.monitor._calling import _site_labels, adjust_within_groups, prepare

_DOUBLING_DAYS = np.array([7.0, 10.0, 14.0, 21.0, 30.0, 45.0, 60.0, 90.0, 180.0])
#: Default slope grid (per day): ln 2 over doubling / halving times of 7-180 days, and 0.
SLOPE_GRID = np.concatenate([-np.log(2) / _DOUBLING_DAYS, [0.0], np.log(2) / _DOUBLING_DAYS[::-1]])
_CI_DROP = 3.841458820694124  # chi2_1 0.95 quantile
#: Weight of the current draw in the pooled statistic (older draws: 0..WEIGHT_LEVELS).
WEIGHT_LEVELS = 4
#: Lattice of the first, cheap pass; its tail bounds the exact one from above.
SCREEN_LATTICE = 32
#: Tails below this from the first pass are kept as (upper-bound) p-values.
NEGLIGIBLE_P = 1e-10
#: Largest weighted sum whose null distribution is convolved exactly.
LATTICE_CAP = 256


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


def lattice_weights(days_before, memory_days: float, levels: int = WEIGHT_LEVELS) -> np.ndarray:
    """Integer weights ``round(levels * (1 - days_before / memory_days))``, clipped at 0.

    The current draw (``days_before = 0``) weighs ``levels``; a draw ``memory_days`` or more
    before it weighs 0.
    """
    w = levels * (1.0 - np.asarray(days_before, dtype=float) / memory_days)
    return np.clip(np.rint(w), 0, levels).astype(np.int64)


def _tail_block(t_obs, c, n, a, b, m: int) -> np.ndarray:
    """``P(sum_j c_j K_j >= t_obs)`` for rows with ``t_obs <= m``; ``K_j ~ BetaBinomial``.

    Convolution of each term's pmf on the lattice ``0..m``, the last bin absorbing every
    outcome at or above ``m`` (all terms non-negative, so small tails keep full precision).
    """
    rows, width = c.shape
    dist = np.zeros((rows, m + 1))
    dist[:, 0] = 1.0
    for j in range(width):
        cj = c[:, j]
        for v in np.unique(cj[cj > 0]):
            r = np.flatnonzero(cj == v)
            top = -(-m // int(v))  # first count whose weighted value reaches m
            pk = pmf_table(n[r, j], a[r, j], b[r, j], top - 1)
            beyond = betabinom_sf(np.full(r.size, top), n[r, j], a[r, j], b[r, j])
            d = dist[r]
            suffix = np.cumsum(d[:, ::-1], axis=1)[:, ::-1]  # suffix[:, i] = P(sum so far >= i)
            new = np.zeros_like(d)
            new[:, m] = beyond
            for k in range(top):
                s = int(v) * k
                new[:, s:m] += d[:, : m - s] * pk[:, k, None]
                new[:, m] += suffix[:, m - s] * pk[:, k]
            dist[r] = new
    tail = np.cumsum(dist[:, ::-1], axis=1)[:, ::-1]
    return np.minimum(tail[np.arange(rows), t_obs], 1.0)


def _tail_fft(t_obs, c, n, a, b) -> np.ndarray:
    """``P(sum_j c_j K_j >= t_obs)`` as ``1 - P(T < t_obs)``, convolving by FFT.

    Each term's pmf is truncated at ``t_obs``, which leaves ``P(T < t_obs)`` exact.
    """
    rows, width = c.shape
    m = int(t_obs.max())
    size = next_fast_len(2 * m)
    dist = np.zeros((rows, m))
    dist[:, 0] = 1.0
    for j in range(width):
        cj = c[:, j]
        term = np.zeros((rows, m))
        term[cj == 0, 0] = 1.0
        for v in np.unique(cj[cj > 0]):
            r = np.flatnonzero(cj == v)
            top = -(-m // int(v))
            pk = pmf_table(n[r, j], a[r, j], b[r, j], top - 1)
            term[r[:, None], int(v) * np.arange(top)] = pk
        conv = irfft(rfft(dist, size, axis=1) * rfft(term, size, axis=1), size, axis=1)
        dist = np.clip(conv[:, :m], 0.0, None)
    cdf = np.cumsum(dist, axis=1)[np.arange(rows), t_obs - 1]
    return np.clip(1.0 - cdf, 0.0, 1.0)


def weighted_sum_tail(t_obs, c, n, a, b, *, cap: int = LATTICE_CAP) -> np.ndarray:
    """Exact null tail ``P(T >= t_obs)`` of ``T = sum_j c_j K_j``, rows vectorised.

    Parameters
    ----------
    t_obs : numpy.ndarray of int, shape (rows,)
        Observed weighted sums.
    c : numpy.ndarray of int, shape (rows, draws)
        Integer weights (0 for padding).
    n : numpy.ndarray, shape (rows, draws)
        Depths (reads or molecules).
    a, b : numpy.ndarray, shape (rows, draws)
        Beta shapes of each draw's background.
    cap : int
        Largest lattice convolved directly (each tail exact to relative precision). Above
        it, where the null mean of ``T`` is at least ``cap / 16`` (many background counts),
        the null CDF below ``t_obs`` is convolved by FFT (exact up to about 1e-13 in
        absolute terms); otherwise the exact tail at ``cap`` is returned (a valid upper
        bound, already tiny).

    Returns
    -------
    numpy.ndarray
        Tail probabilities; 1 where ``t_obs <= 0``. Exact wherever above
        :data:`NEGLIGIBLE_P`; below it, possibly the (larger) tail at
        :data:`SCREEN_LATTICE`, a valid upper bound.
    """
    t_obs = np.asarray(t_obs, dtype=np.int64)
    out = np.ones(t_obs.size)
    big = t_obs > cap
    todo = t_obs > 0
    if big.any():
        mean_t = np.sum(c * n * a / (a + b), axis=1)
        many = np.flatnonzero(big & (mean_t >= cap / 16))
        per_block = max(1, 20_000_000 // (c.shape[1] * int(t_obs[many].max(initial=1))))
        for s in range(0, many.size, per_block):
            r = many[s : s + per_block]
            out[r] = _tail_fft(t_obs[r], c[r], n[r], a[r], b[r])
        todo[many] = False
    clipped = np.where(big, cap, t_obs)
    # first the tail at a small lattice: where that upper bound is already negligible the
    # exact tail (smaller still) is not worth its cost
    first = np.minimum(clipped, SCREEN_LATTICE)
    _lattice_tails(out, todo, first, c, n, a, b)
    again = todo & (clipped > SCREEN_LATTICE) & (out > NEGLIGIBLE_P)
    _lattice_tails(out, again, clipped, c, n, a, b)
    return out


def _lattice_tails(out, todo, t, c, n, a, b) -> None:
    """Fill ``out[todo]`` with exact lattice tails at ``t``, rows grouped by lattice size."""
    lower, size, top = 0, 4, int(t[todo].max(initial=0))
    while lower < top:
        r = np.flatnonzero(todo & (t > lower) & (t <= size))
        if r.size:
            m = int(t[r].max())
            out[r] = _tail_block(t[r], c[r], n[r], a[r], b[r], m)
        lower, size = size, size * 2


def _marginal_tail(t_obs, c, n, a, b, mult, weight) -> np.ndarray:
    """:func:`weighted_sum_tail` averaged over each row's mean-error nodes.

    The nodes are shared by all draws of a row's window: one site, one uncertain rate.
    """
    out = np.zeros(t_obs.size)
    mean = a / (a + b)
    for q in range(mult.shape[1]):
        use = weight[:, q] > 0
        if not use.any():
            continue
        mu = np.minimum(mean[use] * mult[use, q, None], 0.5)
        tail = weighted_sum_tail(t_obs[use], c[use], n[use], a[use], a[use] * (1 - mu) / mu)
        out[use] += weight[use, q] * tail
    return np.minimum(out, 1.0)


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


#: Columns every caller over a patient's dated draws needs.
_DATED = ("patient_id", "sample_id", "collection_date")


def _dates(obs: pd.DataFrame) -> pd.Series:
    dates = pd.to_datetime(obs["collection_date"])
    if dates.isna().any():
        i = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise InputError("missing date", record=f"row {obs.index[i]}", field="collection_date")
    return dates


def _days(dates: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 (float)."""
    return (dates - pd.Timestamp("1970-01-01")).dt.total_seconds().to_numpy() / 86400.0


def _series_codes(obs: pd.DataFrame) -> np.ndarray:
    """One code per patient and site."""
    pair = pd.MultiIndex.from_arrays([obs["patient_id"], _site_labels(obs)])
    return pd.factorize(pair, use_na_sentinel=False)[0]


def pooled_tails(
    sk, sn, sd, start, length, s_codes, sa, sb, mult, weight, memory_days: float,
    rows: np.ndarray, chunk: int = 50_000,
) -> np.ndarray:  # fmt: skip
    """Exact pooled p-value of ``rows`` (rows sorted by series, then date); 1 elsewhere.

    Row ``r``'s window holds rows ``start[r]..r`` of its series; draw ``i`` of it weighs
    ``lattice_weights(d_r - d_i, memory_days)``. The null tail of the weighted alt count
    is averaged over the site's uncertain mean error (``mult``, ``weight`` per site code).
    """
    p = np.ones(sk.size)
    lmax = int(length.max()) if sk.size else 1
    for s in range(0, rows.size, chunk):
        r = rows[s : s + chunk]
        idx = start[r, None] + np.arange(lmax)[None, :]
        valid = idx <= r[:, None]
        idx = np.where(valid, idx, r[:, None])
        days_before = np.where(valid, sd[r, None] - sd[idx], 0.0)
        c = np.where(valid, lattice_weights(days_before, memory_days), 0)
        t_obs = np.sum(c * np.where(valid, sk[idx], 0), axis=1)
        cs = s_codes[idx]
        p[r] = _marginal_tail(t_obs, c, np.where(valid, sn[idx], 0.0), sa[cs], sb[cs],
                              mult[s_codes[r]], weight[s_codes[r]])  # fmt: skip
    return p


def call_longitudinal(
    obs: pd.DataFrame,
    background: BackgroundModel | None = None,
    *,
    fpr: float = 0.05,
    correction: str = "bh",
    window: int | None = None,
    slopes: np.ndarray | None = None,
    memory_days: float = 112.0,
    unit: str = "auto",
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
    memory_days : float
        Reach of the pooled test (days): a draw ``d`` days before the current one weighs
        ``1 - d / memory_days`` of it (on a lattice of :data:`WEIGHT_LEVELS` steps); 112 days
        pools the last four monthly draws.
    chunk : int
        Windows fitted per block (memory).

    Returns
    -------
    pandas.DataFrame
        A copy of ``obs`` (same index and order) plus ``n_pooled`` (draws in the window),
        ``lr_stat`` (trend), ``combined_p_value`` (exact tail of the pooled weighted count),
        ``combined_q_value``, ``called`` (bool),
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
    if not memory_days > 0:
        raise InputError("must be positive (days)", field="memory_days")
    if window is not None and window < 1:
        raise InputError("must be at least 1", field="window")
    k, n, _, codes, sa, sb, mult, weight = prepare(obs, _DATED, background, unit)
    dates = _dates(obs)
    grid = np.asarray(SLOPE_GRID if slopes is None else slopes, dtype=float)
    err = (sa / (sa + sb))[codes]
    days = _days(dates)

    series = _series_codes(obs)
    order = np.lexsort((days, series))
    s_series = series[order]
    sk, sn, sd = k[order], n[order], days[order]
    s_codes = codes[order]
    s_a, s_b = sa[s_codes], sb[s_codes]
    smu = sn * err[order]
    p_now = betabinom_sf(sk, sn, s_a, s_b)
    s_eq = _poisson_equivalent(sk, smu, p_now)
    sw = np.where(sn > 0, 1.0, 0.0)
    start, length = _windows(s_series, window)
    # windows holding an alt count: the others have p = 1 and no trend
    csum = np.concatenate(([0.0], np.cumsum(sk)))
    active = np.flatnonzero(csum[np.arange(sk.size) + 1] - csum[start] > 0)
    p = pooled_tails(sk, sn, sd, start, length, s_codes, sa, sb, mult, weight, memory_days,
                     active, chunk)  # fmt: skip

    size = sk.size
    lr = np.zeros(size)
    amp = np.zeros(size)
    slope = np.full(size, np.nan)
    ci_lo = np.full(size, np.nan)
    ci_hi = np.full(size, np.nan)
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
