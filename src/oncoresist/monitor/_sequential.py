"""Exact group-sequential boundaries for a discounted alt count (alpha spending on a lattice).

One patient's site is watched over its on-therapy draws ``t = 1..T``. The statistic is the
discounted, integer-valued alt count

    ``S_0 = 0``,   ``S_t = floor(gamma_t S_(t-1) + 1/2) + L k_t``,

with ``k_t`` the alt count of draw ``t``, ``L`` the lattice scale of one count and
``gamma_t = exp(-(d_t - d_(t-1)) / tau)`` the discount over the days since the previous
draw. ``S`` is Markov on the integers, so its null distribution *restricted to the series
that have not alerted yet* is propagated exactly, draw by draw, as in the recursive
computation of group-sequential designs (Armitage, McPherson & Rowe, J R Stat Soc A 1969;
Lan & DeMets, Biometrika 1983): decay (push the mass of ``s`` to ``floor(gamma s + 1/2)``),
convolve with the beta-binomial pmf of ``L k_t``, then choose the boundary ``c_t``, the
smallest value whose remaining null mass at or above it is at most the level available
at ``t``, and remove that mass (those series have alerted). The level available is the
level spent at ``t`` plus whatever the earlier draws' discrete boundaries left unused (it
is known before the draw's counts are, so recycling it keeps the size exact). So the
probability that a variant-free series *ever* alerts is exactly the sum of the masses
removed, at most the sum of the levels spent: the budget is used up to the lattice's
discreteness, with none of the waste of a union bound over correlated tests.

The site's mean error is uncertain (the panel pins it to about ``1 / sqrt(A)`` with ``A``
error counts): the propagation runs once per quadrature node of that uncertainty
(:func:`oncoresist.monitor._background.rate_nodes`) and the boundary is chosen on the
mixture, which is the null of a site whose error is drawn from the panel's posterior and
shared by all draws.

Mass that leaves the lattice (``S >= M``) is kept in an overflow bin and counted as
crossing at the next test (conservative). Counts of a draw whose null probability is
below 1e-14 are sent there too.
"""

from __future__ import annotations

import numpy as np
from scipy.fft import irfft, next_fast_len, rfft

from oncoresist.monitor._background import _with_mean, pmf_table

#: Null mass of one draw's counts left out of the convolution (sent to the overflow).
NEGLIGIBLE = 1e-14
#: Largest lattice (bins of ``S``) propagated.
MAX_LATTICE = 4096


def discounted_counts(k: np.ndarray, gamma: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The observed statistic ``S_t`` of each row (series), shape ``(rows, T)``."""
    s = np.zeros(k.shape[0])
    out = np.empty(k.shape)
    for t in range(k.shape[1]):
        s = np.floor(gamma[:, t] * s + 0.5) + scale * k[:, t]
        out[:, t] = s
    return out


def lattice_size(n, error, mult, a, scale) -> np.ndarray:
    """A lattice wide enough that the null rarely leaves it (per row, a power of two)."""
    top = error[:, None] * mult.max(axis=1)[:, None] * n  # per draw, at the largest node
    mean = top.sum(axis=1)
    var = (top * (1.0 + top / a[:, None])).sum(axis=1)
    need = scale * (mean + 10.0 * np.sqrt(var) + 4.0)
    size = 2.0 ** np.ceil(np.log2(np.maximum(need, 16.0)))
    return np.minimum(size, MAX_LATTICE).astype(np.int64)


def _decay(dist: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """Push the mass at ``s`` to ``floor(gamma s + 1/2)`` (rows, nodes, bins)."""
    rows, nodes, size = dist.shape
    if np.all(gamma >= 1.0):
        return dist
    target = np.floor(gamma[:, None] * np.arange(size)[None, :] + 0.5).astype(np.int64)
    flat = (np.arange(rows)[:, None] * size + target).ravel()
    out = np.empty_like(dist)
    for q in range(nodes):
        out[:, q, :] = np.bincount(
            flat, weights=dist[:, q, :].ravel(), minlength=rows * size
        ).reshape(rows, size)
    return out


def _convolve(dist, over, pmf, scale: int):
    """Add ``scale * K`` to ``S`` (pmf of ``K`` per row and node).

    Mass pushed past the lattice goes to ``over``. Short pmfs are added term by term (exact
    to rounding); long ones by FFT (absolute error about 1e-15 of the mass, far below any
    level a boundary is set at).
    """
    size = dist.shape[2]
    total = dist.sum(axis=2)
    terms = pmf.shape[2]
    if terms <= 8:
        new = np.zeros_like(dist)
        for j in range(terms):
            step = scale * j
            if step < size:
                new[:, :, step:] += dist[:, :, : size - step] * pmf[:, :, j, None]
    else:
        kernel = np.zeros(dist.shape)
        steps = scale * np.arange(terms)
        inside = steps < size
        kernel[:, :, steps[inside]] = pmf[:, :, inside]
        width = next_fast_len(2 * size)
        new = irfft(rfft(dist, width, axis=2) * rfft(kernel, width, axis=2), width, axis=2)
        new = np.clip(new[:, :, :size], 0.0, None)
    # what left the lattice: the mass before, less what is still on it
    over = over + np.maximum(total - new.sum(axis=2), 0.0)
    return new, over


def _count_pmf(n_t, a, b_nodes, kcap: int):
    """One draw's count: its pmf per row and node, truncated where negligible.

    The mass left out (at most :data:`NEGLIGIBLE`) is counted as leaving the lattice.
    """
    rows, nodes = b_nodes.shape
    nn = np.repeat(n_t, nodes)
    aa = np.repeat(a, nodes)
    bb = b_nodes.ravel()
    kmax = 4
    while True:
        pmf = pmf_table(nn, aa, bb, kmax)
        rest = np.clip(1.0 - pmf.sum(axis=1), 0.0, 1.0)
        if rest.max() <= NEGLIGIBLE or kmax >= kcap:
            break
        kmax = min(2 * kmax, kcap)
    return pmf.reshape(rows, nodes, kmax + 1)


def sequential_boundaries(
    n: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    mult: np.ndarray,
    weight: np.ndarray,
    gamma: np.ndarray,
    level: np.ndarray,
    scale: np.ndarray,
    s_obs: np.ndarray | None = None,
    *,
    vaf: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boundaries ``c_t`` of each series; the null tail at the observed statistic.

    Parameters
    ----------
    n : numpy.ndarray, shape (rows, T)
        Depth of each on-therapy draw (0 for padding).
    a, b : numpy.ndarray, shape (rows,)
        Beta shapes of the site's background.
    mult, weight : numpy.ndarray, shape (rows, nodes)
        Nodes over the site's uncertain mean error (multipliers, weights).
    gamma : numpy.ndarray, shape (rows, T)
        Discount applied to ``S`` before draw ``t`` is added.
    level : numpy.ndarray, shape (rows, T)
        Null probability spent at each draw (0: no test).
    scale : numpy.ndarray of int, shape (rows,)
        Lattice scale ``L`` of one count.
    s_obs : numpy.ndarray, shape (rows, T), optional
        Observed statistic (:func:`discounted_counts`).
    vaf : numpy.ndarray, shape (rows,), optional
        If given, also the probability that the series alerts by its last draw when the
        allele is present at this VAF throughout (counts ``Binomial(n, f + e (1 - f))``).

    Returns
    -------
    tuple of numpy.ndarray
        ``(crit, p, power, size)``: boundaries (``lattice + 1`` where no call is
        possible), null tail ``P(S_t >= s_obs, no earlier alert)`` under the mixture (NaN
        without ``s_obs``), the probability of an alert under ``vaf`` (NaN without it), and
        the exact null probability that the series ever alerts (the mass removed).
    """
    rows, draws = n.shape
    size = int(lattice_size(n, a / (a + b), mult, a, scale).max()) if rows else 16
    nodes = mult.shape[1]
    _, b_n = _with_mean(a[:, None], b[:, None], mult)
    b_n = np.broadcast_to(b_n, (rows, nodes))
    dist = np.zeros((rows, nodes, size))
    dist[:, :, 0] = 1.0
    over = np.zeros((rows, nodes))
    alt = alt_over = None
    if vaf is not None:
        alt = np.zeros((rows, 1, size))
        alt[:, 0, 0] = 1.0
        alt_over = np.zeros((rows, 1))
        e = a / (a + b)
        p_alt = vaf + e * (1.0 - vaf)
        conc = 1e9
        a_alt, b_alt = p_alt * conc, (1.0 - p_alt) * conc
    crit = np.full((rows, draws), size + 1, dtype=np.int64)
    size_total = np.zeros(rows)
    carry = np.zeros(rows)  # level not spent at earlier draws (their boundaries are discrete)
    p = np.full((rows, draws), np.nan)
    scale = np.asarray(scale, dtype=np.int64)
    kcap_all = -(-size // np.maximum(scale, 1))
    for t in range(draws):
        dist = _decay(dist, gamma[:, t])
        kcap = int(kcap_all.max())
        pmf = _count_pmf(n[:, t], a, b_n, kcap)
        for sc in np.unique(scale):
            r = np.flatnonzero(scale == sc)
            dist[r], over[r] = _convolve(dist[r], over[r], pmf[r], int(sc))
        tail = np.cumsum(dist[:, :, ::-1], axis=2)[:, :, ::-1] + over[:, :, None]
        mix = np.einsum("rq,rqs->rs", weight, tail)
        mix = np.concatenate([mix, (weight * over).sum(axis=1)[:, None]], axis=1)
        lvl = np.where(level[:, t] > 0, level[:, t] + carry, 0.0)
        ok = (mix[:, 1:] <= lvl[:, None]) & (lvl[:, None] > 0)
        has = ok.any(axis=1)
        c = np.where(has, np.argmax(ok, axis=1) + 1, size + 1)
        crit[:, t] = c
        spent = np.where(has, mix[np.arange(rows), np.minimum(c, size)], 0.0)
        size_total += spent
        carry = np.where(level[:, t] > 0, lvl - spent, carry)
        if s_obs is not None:
            idx = np.minimum(s_obs[:, t], size).astype(np.int64)
            p[:, t] = np.where(n[:, t] > 0, np.minimum(mix[np.arange(rows), idx], 1.0), 1.0)
        if alt is not None:
            alt = _decay(alt, gamma[:, t])
            apmf = _count_pmf(n[:, t], a_alt, b_alt[:, None], kcap)
            for sc in np.unique(scale):
                r = np.flatnonzero(scale == sc)
                alt[r], alt_over[r] = _convolve(alt[r], alt_over[r], apmf[r], int(sc))
        cut = np.where(has, c, size)
        keep = np.arange(size)[None, :] < cut[:, None]
        dist *= keep[:, None, :]
        over[has] = 0.0
        if alt is not None:
            alt *= keep[:, None, :]
            alt_over[has] = 0.0
    power = np.full(rows, np.nan)
    if alt is not None:
        power = 1.0 - alt.sum(axis=(1, 2)) - alt_over[:, 0]
    return crit, p, power, size_total
