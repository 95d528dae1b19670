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
Mutant founders of type ``j`` arrive as a Poisson process of intensity ``b_i U_ij N_i(s)``;
their number over the step is drawn as Poisson with the parent's expected integral
``n (exp(r h) - 1) / r`` given its size at the start of the step (the mean is exact; the
parent's own fluctuation within one step, of relative order ``1 / sqrt(n)``, is ignored,
which matters only for parents of a few cells: from 100 parent cells and 20-day steps the
chance that a mutant clone exists after 20 days comes out 0.3 % high, with 1-day steps it
matches the Gillespie engine; tests check both).
Each founder's arrival time is drawn from the parent's expected growth curve
(density proportional to ``e^{r s}``) and its own lineage advanced exactly (Kendall again)
to the end of the step; beyond ``EXACT_FOUNDERS`` founders in one step they are grouped
into ``FOUNDER_BINS`` sub-intervals, each group started at the time that gives its founders
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

from typing import Literal

import numpy as np

from oncoresist.errors import InputError
from oncoresist.evolve.analytic import _growth_integral

#: Founders per step (all patients together) followed one by one from their arrival time.
EXACT_FOUNDERS = 200_000
#: Sub-intervals over which founders are grouped when there are more.
FOUNDER_BINS = 32
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


def _grow(n, b, d, h, rng) -> np.ndarray:
    """Kendall step of independent lineages: ``n`` cells -> cells after ``h`` (float64)."""
    alpha, beta, success = kendall_parameters(b, d, h)
    n = np.asarray(n, dtype=float)
    out = np.zeros(n.shape)
    live = n > 0
    if not live.any():
        return out
    k = _binomial(n[live], np.clip(1.0 - alpha[live], 0.0, 1.0), rng)
    out[live] = k + _negative_binomial(k, beta[live], success[live], rng)
    return out


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
    new = _grow(n, b_own, d, h, rng)
    pairs = np.argwhere(u > 0)
    if pairs.size == 0:
        return _counts(new)
    r = b_own - d
    for i, j in pairs:
        ni = n[:, i]
        if not (ni > 0).any():
            continue
        ri = r[:, i]
        lam = b[:, i] * u[i, j] * ni * _growth_integral(ri, h)  # expected founders
        founders = _poisson(lam, rng)
        total = founders.sum()
        if total == 0:
            continue
        if total <= EXACT_FOUNDERS:
            # each founder: arrival time from the density prop. to e^{r s} on [0, h], then
            # its own lineage, exactly, to the end of the step
            who = np.repeat(np.arange(len(n)), founders.astype(np.int64))
            total = len(who)
            s_arr = _arrival_times(ri[who], h, rng)
            grown = _grow(np.ones(total), b_own[who, j], d[who, j], h - s_arr, rng)
            new[:, j] += np.bincount(who, weights=grown, minlength=len(n))
        else:
            new[:, j] += _grow_binned(founders, ri, b_own[:, j], d[:, j], h, rng)
    return _counts(new)


def _arrival_times(r, h, rng) -> np.ndarray:
    """Times in ``[0, h]`` with density proportional to ``e^{r s}`` (inverse CDF)."""
    v = rng.random(r.shape)
    small = np.abs(r * h) < 1e-8
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        s = np.log1p(v * np.expm1(r * h)) / np.where(small, 1.0, r)
    return np.clip(np.where(small, v * h, s), 0.0, h)


def _grow_binned(founders, r, b, d, h, rng) -> np.ndarray:
    """Many founders, grouped: split over sub-intervals, each group grown from one time.

    The split is multinomial, in proportion to the parent's expected growth in each
    sub-interval; each group starts at the time that gives its founders their exact mean
    growth (the growth ``e^{g (h - s)}``, ``g = b - d``, averaged over arrivals with density
    ``e^{r s}`` in the sub-interval), so grouping adds no bias to the mean.
    """
    edges = np.linspace(0.0, h, FOUNDER_BINS + 1)
    lo, hi = edges[:-1][None, :], edges[1:][None, :]
    rr = r[:, None]
    g = (b - d)[:, None]
    weight = np.maximum(_segment_integral(rr, lo, hi), 0.0)
    weight /= weight.sum(axis=1, keepdims=True)
    counts = _multinomial(founders, weight, rng)
    # mean growth to h over the segment, then the start time with that growth
    mean_growth = np.exp(g * h) * _segment_integral(rr - g, lo, hi) / _segment_integral(rr, lo, hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        start = np.where(np.abs(g) > 1e-12, h - np.log(mean_growth) / g, 0.5 * (lo + hi))
    start = np.clip(start, lo, hi)
    grown = _grow(counts, np.repeat(b[:, None], FOUNDER_BINS, 1),
                  np.repeat(d[:, None], FOUNDER_BINS, 1), h - start, rng)  # fmt: skip
    return grown.sum(axis=1)


def _multinomial(total, weight, rng) -> np.ndarray:
    """Multinomial split of ``total`` (per row) over the columns of ``weight``.

    Sequential conditional binomials (exact), through :func:`_binomial` so that totals
    beyond int64 or above ``LARGE_MEAN`` take the large-count path.
    """
    left = np.asarray(total, dtype=float).copy()
    rest = np.ones(len(left))
    out = np.zeros(weight.shape)
    for c in range(weight.shape[1] - 1):
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(rest > 0, np.clip(weight[:, c] / rest, 0.0, 1.0), 0.0)
        out[:, c] = np.minimum(_binomial(left, q, rng), left)
        left -= out[:, c]
        rest -= weight[:, c]
    out[:, -1] = left
    return out


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
