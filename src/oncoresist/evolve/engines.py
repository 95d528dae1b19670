"""Stochastic engines for multi-type linear birth-death populations with mutation.

Cells of type ``i`` divide at ``b_i`` and die at ``d_i`` per day; a division of ``i`` gives
one daughter of type ``j`` with probability ``U_ij`` (per division; the other daughter stays
``i``). Rates are constant within a step (a PK grid interval) and may differ per patient.

**Kendall engine** (``method="kendall"``), for any population size. Over a step of ``h``
days the lineage of type ``i`` (births ``b_i' = b_i (1 - sum_j U_ij)``, deaths ``d_i``)
evolves exactly as Kendall's linear birth-death process: from ``n`` cells,
``K ~ Binomial(n, 1 - alpha)`` lineages survive and the cells at the end number
``K + NegBin(K, 1 - beta)`` with ``alpha = d g / (1 + b' g)``, ``beta = b' g / (1 + b' g)``,
``g = (exp((b' - d) h) - 1) / (b' - d)``. This is exact in distribution for any ``h`` and
``n`` (float64 probabilities throughout: numpy's binomial and Poisson-gamma negative
binomial stay exact at 1e11 cells, where float32 sampling is not; see "Large counts").
Mutant founders of type ``j`` arrive as a Poisson process of intensity ``b_i U_ij N_i(s)``.
The parent's own lineage is drawn first (``n`` cells, ``K`` surviving lineages, ``m`` cells
at ``h``) and the founders per sub-interval of the step (``FOUNDER_BINS``) are Poisson with
mean ``b_i U_ij int E[N_i(s) | n, K, m] ds`` (closed-form bridge profiles, see
``_bridge_weights``), so a parent that died out early in the step seeds fewer founders and
one that grew fast more (parents above ``BRIDGE_MAX`` cells, which cannot die out within a
step and whose relative fluctuation is below 1 %, draw one Poisson total instead).
Drawing them from ``n`` alone kept the mean at a fixed time exact
but lost that covariance: the joint law of parent and mutants then depended on the step,
which biases whatever conditions on the parent's fate (a lesion grown from one cell in 2-day
steps at ``b = 1``, ``d = 0.5`` and stopped at 1000 cells had 10 % more resistant cells than
the event-by-event engine stopped on the same grid, 9 standard errors; from 100 cells in
one 6-day step, ``P(no mutant)`` was 0.0689 against the exact 0.0752). Given ``(n, K, m)``
the mean is exact, so every statistic linear in the mutants (their mean at a size, on
survival) no longer depends on the step; what remains is that the founders' count is
Poisson given ``(n, K, m)`` rather than mixed over the parent's path, a second-order term.
Each founder's arrival time within its sub-interval is drawn from the parent's expected
growth curve (density proportional to ``e^{r s}``) and its own lineage advanced exactly
(Kendall again) to the end of the step; beyond ``EXACT_FOUNDERS`` founders in one step
they are grouped per sub-interval, each group started at the time that gives its founders
their exact mean growth. Founders
arriving in a step do not mutate again within it (a second-order term, ``u^2`` per step).

**Large counts.** numpy's exact samplers stop short of the sizes a lesion can reach (its
Poisson sampler refuses means above about 9.2e18 and every count must fit in int64), so a
draw whose mean exceeds ``LARGE_MEAN`` (1e12) -- the surviving lineages, the
negative-binomial offspring (drawn as numpy does, a Poisson of a gamma, the gamma exact),
the mutant founders and their split over sub-intervals -- is taken from the normal
distribution with the replaced distribution's exact mean and variance, rounded and clipped
at 0. The mean and variance stay exact; what is lost is the shape, whose leading term, the
skewness, is at most ``1 / sqrt(mean) <= 1e-6`` for a Poisson and ``sqrt(2 / m) < 1.5e-6``
for a binomial drawn on its smaller side ``m`` (the other side is ``n`` minus it); the
standard deviation is itself at most ``sqrt(mean) <= 1e-6`` of the Poisson or binomial mean.
Below the threshold the exact samplers are used, except that a binomial with ``n`` beyond
int64 (``n > MAX_EXACT_N``) and a smaller side ``m = n min(q, 1 - q) <= 1e12`` has that side
drawn as ``Poisson(m)``, within total variation ``min(q, 1 - q) < 2.2e-7`` (Barbour and
Hall 1984). Counts are int64 while every one is
below ``MAX_EXACT_N`` (2**62) and float64 holding integers beyond (relative spacing 1e-16).
A non-finite or negative count, rate, mutation probability or step raises
:class:`~oncoresist.errors.InputError` naming the patient row and type.

**Gillespie engine** (``method="gillespie"``): the direct method, event by event, for
validation on small populations (each replicate in turn; slow above ~1e4 cells).

References
----------
Kendall DG. On the generalized "birth-and-death" process. Ann Math Stat 1948;19:1-15.
Gillespie DT. Exact stochastic simulation of coupled chemical reactions. J Phys Chem
1977;81:2340-2361.
Barbour AD, Hall P. On the rate of Poisson convergence. Math Proc Camb Phil Soc
1984;95:473-480.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np

from oncoresist.errors import InputError
from oncoresist.evolve.analytic import _growth_integral

#: Founders per step (all patients together) followed one by one from their arrival time.
EXACT_FOUNDERS = 200_000
#: Sub-intervals of a step over which founders are drawn (and grouped beyond EXACT_FOUNDERS).
FOUNDER_BINS = 32
#: Parents up to this size have their founders drawn given their own fate in the step
#: (``_bridge_weights``); above it a parent cannot die out within a step and the founders'
#: covariance with its size is a relative ``1 / sqrt(n) <= 1 %``, so one Poisson total over
#: the step with arrival times from its expected growth curve is used (10x cheaper).
BRIDGE_MAX = 1e4
#: Means above which a draw uses the normal approximation (exact mean and variance).
LARGE_MEAN = 1e12
#: Largest count handed to numpy's exact binomial, and returned as int64 (2**62).
MAX_EXACT_N = float(2**62)


def kendall_parameters(b, d, h) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(alpha, beta, 1 - beta)`` of the linear birth-death process over ``h`` days.

    ``1 - beta`` is returned as ``1 / (1 + b g)`` to keep its precision when ``beta`` is
    near 1 (large, long-growing clones).
    """
    b, d, h = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (b, d, h)))
    g = _growth_integral(b - d, h)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        denom = 1.0 + b * g
        alpha = np.where(np.isinf(g), np.minimum(d / np.where(b > 0, b, 1.0), 1.0), d * g / denom)
        beta = np.where(np.isinf(g), 1.0, b * g / denom)
        success = np.where(np.isinf(g), 0.0, 1.0 / denom)
    return alpha, beta, success


def _normal(mean, var, rng) -> np.ndarray:
    """``N(mean, var)`` rounded and clipped at 0: the large-count path (float64)."""
    return np.maximum(np.rint(mean + np.sqrt(var) * rng.standard_normal(np.shape(mean))), 0.0)


def _poisson(lam, rng) -> np.ndarray:
    """``Poisson(lam)`` (float64): exact up to ``LARGE_MEAN``, normal ``(lam, lam)`` above."""
    lam = np.asarray(lam, dtype=float)
    big = lam > LARGE_MEAN
    out = np.empty(lam.shape)
    out[~big] = rng.poisson(lam[~big])
    out[big] = _normal(lam[big], lam[big], rng)
    return out


def _binomial(n, q, rng) -> np.ndarray:
    """``Binomial(n, q)`` (float64) for ``n`` of any size (float64 holding integers).

    Drawn on the smaller side (``n - Binomial(n, 1 - q)`` when ``q > 1/2``, the same law).
    With ``m = n min(q, 1 - q)``: normal ``(m, m max(q, 1 - q))`` when ``m > LARGE_MEAN``
    (skewness at most ``sqrt(2 / m) < 1.5e-6``); ``Poisson(m)`` when ``n`` is beyond int64
    (then ``min(q, 1 - q) < 1e12 / 2**62``, the total variation); exact otherwise.
    """
    n, q = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(q, dtype=float))
    flip = q > 0.5
    qq = np.where(flip, 1.0 - q, q)
    mean = n * qq
    big = mean > LARGE_MEAN
    wide = ~big & (n > MAX_EXACT_N)
    exact = ~big & ~wide
    draw = np.empty(n.shape)
    draw[exact] = rng.binomial(n[exact].astype(np.int64), qq[exact])
    draw[wide] = rng.poisson(mean[wide])
    draw[big] = _normal(mean[big], mean[big] * (1.0 - qq[big]), rng)
    draw = np.minimum(draw, n)
    return np.where(flip, n - draw, draw)


def _negative_binomial(k, beta, success, rng) -> np.ndarray:
    """``NegBin(k, success)`` failures (float64), ``beta = 1 - success`` given separately.

    As numpy draws it, ``Poisson(Gamma(k, beta / success))`` (mean ``k beta / success``,
    variance ``k beta / success^2``), with the gamma exact for any ``k`` and the Poisson
    through :func:`_poisson` (normal above ``LARGE_MEAN``: skewness at most 1e-6).
    """
    k, beta, success = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (k, beta, success))
    )
    out = np.zeros(k.shape)
    live = k > 0
    with np.errstate(over="ignore"):
        odds = beta[live] / np.clip(success[live], 1e-300, 1.0)
        lam = rng.gamma(k[live]) * odds
    out[live] = _poisson(lam, rng)
    return out


def _grow(n, b, d, h, rng, *, lineages: bool = False):
    """Kendall step of independent lineages: ``n`` cells -> cells after ``h`` (float64).

    With ``lineages=True`` also returns ``K``, the starting cells with descendants at ``h``.
    """
    alpha, beta, success = kendall_parameters(b, d, h)
    n = np.asarray(n, dtype=float)
    out = np.zeros(n.shape)
    kept = np.zeros(n.shape)
    live = n > 0
    if live.any():
        k = _binomial(n[live], np.clip(1.0 - alpha[live], 0.0, 1.0), rng)
        kept[live] = k
        out[live] = k + _negative_binomial(k, beta[live], success[live], rng)
    return (out, kept) if lineages else out


def _check(state, b, d, u, h) -> None:
    """Raise a located :class:`InputError` for counts, rates or a step no engine can use."""
    for name, arr, what in (
        ("state", state, "cells"),
        ("birth", b, "per day"),
        ("death", d, "per day"),
    ):
        bad = ~np.isfinite(arr) | (arr < 0)
        if bad.any():
            pos = tuple(int(i) for i in np.argwhere(bad)[0])
            where = f"patient row {pos[0]}, type {pos[1]}" if len(pos) == 2 else f"entry {pos}"
            raise InputError(
                f"{where}: {float(arr[pos])!r} {what}; expected a finite value >= 0", field=name
            )
    if (~np.isfinite(u) | (u < 0) | (u > 1)).any() or (u.sum(axis=1) > 1.0 + 1e-12).any():
        raise InputError(
            "mutation probabilities must be finite, in [0, 1] and sum to at most 1 per "
            "dividing type (row)",
            field="mutation",
        )
    if not (np.isfinite(h) and h > 0):
        raise InputError(f"{h!r}; expected a finite positive number of days", field="h")


def _counts(x) -> np.ndarray:
    """int64 while every count is below ``MAX_EXACT_N``, else float64 (integer-valued)."""
    if not np.isfinite(x).all():
        raise InputError(
            "the population overflows float64 (above 1.8e308 cells) within the step; "
            "shorten the step or lower the birth rates",
            field="state",
        )
    return x.astype(np.int64) if x.size == 0 or x.max() < MAX_EXACT_N else x


def kendall_step(state, birth, death, mutation, h, rng) -> np.ndarray:
    """Advance ``state`` (patients x types, cells) by ``h`` days at constant rates.

    Parameters
    ----------
    state : numpy.ndarray
        Cells per patient and type (integers; floats are rounded).
    birth, death : numpy.ndarray
        Rates per day, shape of ``state`` (or broadcastable to it).
    mutation : numpy.ndarray
        ``U[i, j]`` per division, shape ``(types, types)``.
    h : float
        Days (> 0).
    rng : numpy.random.Generator
        Random source.

    Returns
    -------
    numpy.ndarray
        Cells after ``h`` days: int64 while every count is below ``MAX_EXACT_N`` (2**62),
        float64 holding integers beyond (see "Large counts" in the module docstring).

    Raises
    ------
    InputError
        A count or rate that is negative or not finite (naming the patient row and type),
        mutation probabilities outside [0, 1] or summing above 1, a step that is not a
        finite positive number of days, or a population that overflows float64.
    """
    n = np.rint(np.asarray(state, dtype=float))
    b = np.broadcast_to(np.asarray(birth, dtype=float), n.shape)
    d = np.broadcast_to(np.asarray(death, dtype=float), n.shape)
    u = np.asarray(mutation, dtype=float)
    _check(n, b, d, u, h)
    b_own = b * (1.0 - u.sum(axis=1))
    new, kept = _grow(n, b_own, d, h, rng, lineages=True)
    pairs = np.argwhere(u > 0)
    if pairs.size == 0:
        return _counts(new)
    ends = new.copy()  # each parent's own lineage at h, before founders are added
    r = b_own - d
    edges = np.linspace(0.0, h, FOUNDER_BINS + 1)
    for i, j in pairs:
        ni = n[:, i]
        if not (ni > 0).any():
            continue
        ri = r[:, i]
        rate = b[:, i] * u[i, j] * ni
        # small parents: founders per sub-interval given the parent's start, surviving
        # lineages and end (see _bridge_weights; Poisson per sub-interval is exact for a
        # Poisson process given its intensity); large ones: one Poisson total over the step
        small = np.flatnonzero((ni > 0) & (ni <= BRIDGE_MAX))
        large = np.flatnonzero(ni > BRIDGE_MAX)
        share = _bridge_weights(ni[small], kept[small, i], ends[small, i], b_own[small, i],
                                d[small, i], h)  # fmt: skip
        binned = _poisson(rate[small, None] * share, rng)
        totals = _poisson(rate[large] * _growth_integral(ri[large], h), rng)
        total = binned.sum() + totals.sum()
        if total == 0:
            continue
        if total <= EXACT_FOUNDERS:
            # each founder: arrival time in its sub-interval (or the step) with density
            # prop. to e^{r s}, then its own lineage, exactly, to the end of the step
            who, part = np.nonzero(binned)
            many = binned[who, part].astype(np.int64)
            who, part = small[np.repeat(who, many)], np.repeat(part, many)
            s_small = edges[part] + _arrival_times(ri[who], h / FOUNDER_BINS, rng)
            who_large = np.repeat(large, totals.astype(np.int64))
            who = np.concatenate([who, who_large])
            s_arr = np.concatenate([s_small, _arrival_times(ri[who_large], h, rng)])
            grown = _grow(np.ones(who.size), b_own[who, j], d[who, j],
                          np.maximum(h - s_arr, 0.0), rng)  # fmt: skip
            new[:, j] += np.bincount(who, weights=grown, minlength=len(n))
        else:
            # very many founders: grouped per sub-interval; the large parents' founders
            # are drawn per sub-interval afresh (the total only chose this path)
            founders = np.zeros((len(n), FOUNDER_BINS))
            founders[small] = binned
            plain = _segment_integral(ri[large, None], edges[None, :-1], edges[None, 1:])
            founders[large] = _poisson(rate[large, None] * plain, rng)
            new[:, j] += _grow_binned(founders, ri, b_own[:, j], d[:, j], h, rng)
    return _counts(new)


def _bridge_weights(n, kept, ends, b, d, h) -> np.ndarray:
    """Founder intensity per sub-interval given the parent's path ends, per starting cell.

    Returns ``w[p, c] = int_c E[N(s) | n, K, m] ds / n`` over the ``FOUNDER_BINS``
    sub-intervals ``c`` of ``[0, h]``, for a parent of ``n`` cells of which ``K`` have
    descendants at ``h``, ``m`` cells at ``h`` (birth ``b``, death ``d``). Founders are a
    Poisson process of intensity ``b u N(s)`` and ``N(h)`` is drawn first, so this keeps
    their covariance with the parent's fate within the step: a parent that died out early
    seeds fewer founders, one that grew fast more. Unconditionally, ``int_c n e^{r s} ds``.

    With ``D``, ``U``, ``V`` the per-cell profiles of a doomed cell, a surviving lineage and
    each cell of ``m`` beyond ``K``, ``E[N(s) | n, K, m] = (n - K) D + K U + (m - K) V``
    (linear in ``m - K``: the surviving lineages form a pure-birth process whose births by
    ``s`` are binomial given ``m``). ``D = E[N(s); extinct] / alpha(h)`` from the generating
    function; ``U`` and ``V`` follow from ``E[N(s); survive]`` and ``E[N(s) N(h)] = e^{r (h -
    s)} E[N(s)^2]``, the geometric law of a surviving lineage at ``h`` fixing both. The
    sub-interval integrals are Simpson's rule, scaled by Simpson's rule on ``n e^{r s}`` so
    that averaged over ``(K, m)`` the intensity is the exact ``int_c n e^{r s} ds``: the
    mean number of mutants is exact whatever the quadrature error.
    """
    if n.size == 0:
        return np.zeros((0, FOUNDER_BINS))
    # the per-cell profiles depend on (b, d) only: computed once per distinct pair
    if b.min() == b.max() and d.min() == d.max():  # one rate pair (the usual case)
        rates, inverse = np.array([[b[0], d[0]]]), np.zeros(n.size, dtype=np.int64)
    else:
        rates, inverse = np.unique(np.column_stack([b, d]), axis=0, return_inverse=True)
        inverse = inverse.ravel()
    plain, doom, surv, extra, base = _bridge_profiles(rates.tobytes(), len(rates), float(h))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        prof = ((n - kept)[:, None] * doom[inverse] + kept[:, None] * surv[inverse]
                + np.maximum(ends - kept, 0.0)[:, None] * extra[inverse])  # fmt: skip
        ratio = np.maximum(prof, 0.0) / (n[:, None] * base[inverse])
    ok = np.isfinite(ratio).all(axis=1) & (n > 0)
    return np.where(ok[:, None], plain[inverse] * ratio, plain[inverse])


@lru_cache(maxsize=256)
def _bridge_profiles(rates: bytes, count: int, h: float):
    """Simpson sums per sub-interval of the profiles ``D``, ``U``, ``V`` and of ``e^{r s}``.

    For each distinct ``(b, d)`` (``rates``: the bytes of a ``(count, 2)`` float64 array,
    so that a cohort's repeated steps reuse them): the exact ``int_c e^{r s} ds`` per
    sub-interval, and Simpson's rule (without its ``h / 6`` factor, which cancels) of a
    doomed cell's, a surviving lineage's and each extra end cell's expected size, and of
    ``e^{r s}``.
    """
    pair = np.frombuffer(rates, dtype=float).reshape(count, 2)
    b, d = pair[:, 0], pair[:, 1]
    edges = np.linspace(0.0, h, FOUNDER_BINS + 1)
    lo, hi = edges[:-1][None, :], edges[1:][None, :]
    s = np.linspace(0.0, h, 2 * FOUNDER_BINS + 1)[None, :]
    bb, dd = b[:, None], d[:, None]
    rr = bb - dd
    plain = _segment_integral(rr, lo, hi)  # int_c e^{r s} ds
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        a_h, be_h, succ_h = kendall_parameters(bb, dd, h)
        a_s, be_s, succ_s = kendall_parameters(bb, dd, s)
        y = kendall_parameters(bb, dd, h - s)[0]  # extinction by h of a cell alive at s
        es = np.exp(rr * s)
        doom = y * (1.0 - a_s) * succ_s / (1.0 - be_s * y) ** 2  # E[N(s); extinct by h]
        surv = es - doom  # E[N(s); survives]
        cross = np.exp(rr * (h - s)) * (es**2 + (bb + dd) * es * _growth_integral(rr, s))
        p = 1.0 - a_h
        # E[N(s); survives] = p (U + V beta / (1 - beta)),
        # E[N(s) N(h)] = p (U / (1 - beta) + 2 V beta / (1 - beta)^2)
        v = np.where(be_h > 0, succ_h**2 * (cross - surv / succ_h) / (p * be_h), 0.0)
        u_ = surv / p - np.where(be_h > 0, v * be_h / succ_h, 0.0)
        dd_ = np.where(a_h > 0, doom / a_h, 0.0)

    def simpson(f):
        return f[:, :-1:2] + 4.0 * f[:, 1::2] + f[:, 2::2]

    return plain, simpson(dd_), simpson(u_), simpson(v), simpson(es)


def _arrival_times(r, h, rng) -> np.ndarray:
    """Times in ``[0, h]`` with density proportional to ``e^{r s}`` (inverse CDF)."""
    v = rng.random(r.shape)
    small = np.abs(r * h) < 1e-8
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        s = np.log1p(v * np.expm1(r * h)) / np.where(small, 1.0, r)
    return np.clip(np.where(small, v * h, s), 0.0, h)


def _grow_binned(founders, r, b, d, h, rng) -> np.ndarray:
    """Many founders, grouped per sub-interval, each group grown from one time.

    ``founders`` is patients x ``FOUNDER_BINS``; each group starts at the time that gives
    its founders their exact mean growth (the growth ``e^{g (h - s)}``, ``g = b - d``,
    averaged over arrivals with density ``e^{r s}`` in the sub-interval), so grouping adds
    no bias to the mean.
    """
    edges = np.linspace(0.0, h, FOUNDER_BINS + 1)
    lo, hi = edges[:-1][None, :], edges[1:][None, :]
    rr = r[:, None]
    g = (b - d)[:, None]
    # mean growth to h over the segment, then the start time with that growth
    mean_growth = np.exp(g * h) * _segment_integral(rr - g, lo, hi) / _segment_integral(rr, lo, hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        start = np.where(np.abs(g) > 1e-12, h - np.log(mean_growth) / g, 0.5 * (lo + hi))
    start = np.clip(start, lo, hi)
    grown = _grow(founders, np.repeat(b[:, None], FOUNDER_BINS, 1),
                  np.repeat(d[:, None], FOUNDER_BINS, 1), h - start, rng)  # fmt: skip
    return grown.sum(axis=1)


def _segment_integral(r, lo, hi) -> np.ndarray:
    """``int_lo^hi e^{r s} ds``, elementwise (``hi - lo`` where ``r = 0``)."""
    small = np.abs(r) < 1e-12
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        val = (np.exp(r * hi) - np.exp(r * lo)) / np.where(small, 1.0, r)
    return np.where(small, hi - lo, val)


def gillespie_step(state, birth, death, mutation, h, rng) -> np.ndarray:
    """Exact event-by-event simulation over ``h`` days (direct method), patient by patient."""
    n = np.rint(np.asarray(state, dtype=float))
    b = np.broadcast_to(np.asarray(birth, dtype=float), n.shape)
    d = np.broadcast_to(np.asarray(death, dtype=float), n.shape)
    u = np.asarray(mutation, dtype=float)
    _check(n, b, d, u, h)
    n = n.astype(np.int64)
    types = n.shape[1]
    keep = 1.0 - u.sum(axis=1)
    for p in range(n.shape[0]):
        x = n[p]
        # channels: own birth of i, death of i, mutation i -> j
        base = np.concatenate([b[p] * keep, d[p], (b[p][:, None] * u).ravel()])
        t = 0.0
        while True:
            per_cell = np.concatenate([x, x, np.repeat(x, types)]).astype(float)
            rates = base * per_cell
            total = rates.sum()
            if total <= 0:
                break
            t += rng.exponential(1.0 / total)
            if t > h:
                break
            c = int(np.searchsorted(np.cumsum(rates), rng.random() * total, side="right"))
            c = min(c, rates.size - 1)
            if c < types:
                x[c] += 1
            elif c < 2 * types:
                x[c - types] -= 1
            else:
                x[(c - 2 * types) % types] += 1
    return n


def step(
    state,
    birth,
    death,
    mutation,
    h: float,
    *,
    rng: np.random.Generator,
    method: Literal["kendall", "gillespie"] = "kendall",
) -> np.ndarray:
    """Advance cells by ``h`` days at constant per-patient rates with the named engine."""
    if not (np.isfinite(h) and h > 0):
        raise InputError(f"{h!r}; expected a finite positive number of days", field="h")
    if method == "kendall":
        return kendall_step(state, birth, death, mutation, h, rng)
    if method == "gillespie":
        return gillespie_step(state, birth, death, mutation, h, rng)
    raise InputError(f"unknown engine {method!r}; expected kendall or gillespie", field="engine")
