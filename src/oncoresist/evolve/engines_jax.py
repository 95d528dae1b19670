"""Optional JAX path for the Kendall engine (``pip install 'oncoresist[gpu]'``).

The same step as :func:`oncoresist.evolve.engines.kendall_step`, compiled with ``jax.jit``
for a GPU (or the CPU when none is present), in float64 (``jax_enable_x64`` is switched on
when this module is imported: at 1e11 cells float32 sampling is wrong). Differences from
the numpy engine, both stated in tests:

* negative-binomial and Poisson draws with a mean above ``LARGE_MEAN`` (1e6) use the normal
  limit ``m + sqrt(v) Z`` rounded (the large-n branch; its skewness error is below 1e-3 of a
  standard deviation there), because JAX's Poisson sampler is coarse at such means;
* mutant founders are drawn per sub-interval as independent Poisson counts (exact for a
  Poisson process) and grown from each sub-interval's mean-growth time, as the numpy
  engine does beyond 200,000 founders (below that it follows each founder from its own
  arrival time).

As in the numpy engine, a parent's own lineage is drawn first (``n`` cells, ``K``
surviving lineages, ``m`` cells at ``h``) and, for parents up to ``BRIDGE_MAX`` (1e4)
cells, the founders' mean per sub-interval is ``b u int E[N(s) | n, K, m] ds`` from the
closed-form bridge profiles of :func:`oncoresist.evolve.engines._bridge_weights`, so that
the founders keep their covariance with the parent's fate within the step (from 100 cells
in one 6-day step at ``b = 1``, ``d = 0.5``, ``u = 1e-3``, drawing them from ``n`` alone gave
``P(no mutant)`` 0.069 against the exact 0.0752). The profiles are computed per patient
inside the compiled step (the numpy engine caches them per distinct ``(b, d)``); larger
parents use the unconditional ``b u n int e^{r s} ds``, chosen with ``jnp.where``.

The CPU numpy engine stays the default and is fully tested without this module.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from oncoresist.errors import MissingExtraError
from oncoresist.evolve.engines import BRIDGE_MAX, _check, _counts

try:
    import jax
    import jax.numpy as jnp
except ImportError:  # pragma: no cover - the gpu extra
    raise MissingExtraError("jax", "gpu") from None

jax.config.update("jax_enable_x64", True)

#: Means above which Poisson and negative-binomial draws use the normal limit.
LARGE_MEAN = 1e6
BINS = 32


def _kendall(b, d, h):
    """``(alpha, beta, 1 - beta, g)`` of the linear birth-death process over ``h`` days.

    ``g = int_0^h e^{(b - d) s} ds``; where it overflows, the limits ``alpha = min(d / b,
    1)``, ``beta = 1`` (as :func:`oncoresist.evolve.engines.kendall_parameters`).
    """
    r = b - d
    small = jnp.abs(r * h) < 1e-8
    g = jnp.where(small, h * (1 + 0.5 * r * h), jnp.expm1(r * h) / jnp.where(small, 1.0, r))
    inf = jnp.isinf(g)
    gg = jnp.where(inf, 0.0, g)
    denom = 1.0 + b * gg
    alpha = jnp.where(inf, jnp.minimum(d / jnp.where(b > 0, b, 1.0), 1.0), d * gg / denom)
    beta = jnp.where(inf, 1.0, b * gg / denom)
    success = jnp.where(inf, 0.0, 1.0 / denom)
    return alpha, beta, success, g


def _poisson(key, lam):
    k1, k2 = jax.random.split(key)
    big = lam > LARGE_MEAN
    small = jax.random.poisson(k1, jnp.where(big, 0.0, lam)).astype(jnp.float64)
    normal = jnp.maximum(jnp.round(lam + jnp.sqrt(lam) * jax.random.normal(k2, lam.shape)), 0.0)
    return jnp.where(big, normal, small)


def _grow(key, n, b, d, h):
    """Kendall step: ``(cells after h days, K)`` from ``n`` cells (float64 holding integers).

    ``K`` is the number of the ``n`` starting cells with descendants at ``h``.
    """
    alpha, _, success, _ = _kendall(b, d, h)
    k1, k2, k3, k4 = jax.random.split(key, 4)
    k = jax.random.binomial(k1, n, jnp.clip(1.0 - alpha, 0.0, 1.0))
    k = jnp.where(n > 0, k, 0.0)
    # NegBin(k, success) = Poisson(Gamma(k) (1 - success) / success)
    odds = (1.0 - success) / jnp.maximum(success, 1e-300)
    mean = k * odds
    big = mean > LARGE_MEAN
    lam = jax.random.gamma(k2, jnp.maximum(k, 1e-300)) * odds
    small = _poisson(k3, jnp.where(big, 0.0, lam))
    var = mean * (1.0 + odds)
    normal = jnp.maximum(jnp.round(mean + jnp.sqrt(var) * jax.random.normal(k4, n.shape)), 0.0)
    extra = jnp.where(big, normal, small)
    return jnp.where(k > 0, k + extra, 0.0), k


def _bridge_sums(b, d, h):
    """Simpson sums per sub-interval of the bridge profiles, per patient.

    ``b``, ``d`` are the parent's own birth and death rates per patient. Returns ``(doom,
    surv, extra, base)``, each patients x ``BINS``: Simpson's rule (without its ``h / 6``
    factor, which cancels) of the expected size of a doomed cell, of a surviving lineage
    and of each end cell beyond the surviving lineages, and of ``e^{r s}``; the jnp form of
    :func:`oncoresist.evolve.engines._bridge_profiles` (derivation in ``_bridge_weights``).
    """
    s = jnp.linspace(0.0, h, 2 * BINS + 1)[None, :]
    bb, dd = b[:, None], d[:, None]
    rr = bb - dd
    a_h, be_h, succ_h, _ = _kendall(bb, dd, h)
    a_s, be_s, succ_s, g_s = _kendall(bb, dd, s)
    y = _kendall(bb, dd, h - s)[0]  # extinction by h of a cell alive at s
    es = jnp.exp(rr * s)
    doom = y * (1.0 - a_s) * succ_s / (1.0 - be_s * y) ** 2  # E[N(s); extinct by h]
    surv = es - doom  # E[N(s); survives]
    cross = jnp.exp(rr * (h - s)) * (es**2 + (bb + dd) * es * g_s)  # E[N(s) N(h)]
    p = 1.0 - a_h
    grows = be_h > 0
    v = jnp.where(
        grows, succ_h**2 * (cross - surv / succ_h) / (p * jnp.where(grows, be_h, 1.0)), 0.0
    )
    u = surv / p - jnp.where(grows, v * be_h / succ_h, 0.0)
    dead = jnp.where(a_h > 0, doom / jnp.where(a_h > 0, a_h, 1.0), 0.0)

    def simpson(f):
        return f[:, :-1:2] + 4.0 * f[:, 1::2] + f[:, 2::2]

    return simpson(dead), simpson(u), simpson(v), simpson(es)


def _bridge_share(n, kept, end, b, d, h, plain):
    """Founder intensity per sub-interval and starting cell, given the parent's path ends.

    ``int_c E[N(s) | n, K, m] ds / n`` for parents of ``0 < n <= BRIDGE_MAX`` cells (``K``
    surviving lineages, ``m`` cells at ``h``), scaled so that its mean over ``(K, m)`` is
    ``plain = int_c e^{r s} ds`` exactly (as ``engines._bridge_weights``); ``plain`` for
    larger parents and wherever a profile is not finite.
    """
    doom, surv, extra, base = _bridge_sums(b, d, h)
    prof = (
        (n - kept)[:, None] * doom
        + kept[:, None] * surv
        + jnp.maximum(end - kept, 0.0)[:, None] * extra
    )
    ratio = jnp.maximum(prof, 0.0) / (n[:, None] * base)
    ok = jnp.isfinite(ratio).all(axis=1) & (n > 0) & (n <= BRIDGE_MAX)
    return jnp.where(ok[:, None], plain * jnp.where(ok[:, None], ratio, 1.0), plain)


@partial(jax.jit, static_argnames=("pairs",))
def _step(key, n, birth, death, mutation, h, pairs):
    b_own = birth * (1.0 - mutation.sum(axis=1))
    key, sub = jax.random.split(key)
    new, kept = _grow(sub, n, b_own, death, h)
    ends = new  # each parent's own lineage at h, before founders are added
    r = b_own - death
    edges = jnp.linspace(0.0, h, BINS + 1)
    lo, hi = edges[:-1], edges[1:]

    def seg(rate):  # int_lo^hi e^{rate s} ds, per patient and bin
        rate = rate[:, None]
        tiny = jnp.abs(rate) < 1e-12
        val = (jnp.exp(rate * hi) - jnp.exp(rate * lo)) / jnp.where(tiny, 1.0, rate)
        return jnp.where(tiny, hi - lo, val)

    shares = {}  # per parent type: founders per sub-interval and starting cell
    for i, j in pairs:  # the mutation routes (static: one compiled step per model)
        if i not in shares:
            shares[i] = _bridge_share(n[:, i], kept[:, i], ends[:, i], b_own[:, i],
                                      death[:, i], h, seg(r[:, i]))  # fmt: skip
        u = mutation[i, j]
        key, k1, k2 = jax.random.split(key, 3)
        # a Poisson count per sub-interval is exact for a Poisson process given its intensity
        founders = _poisson(k1, (birth[:, i] * u * n[:, i])[:, None] * shares[i])
        g = (b_own[:, j] - death[:, j])[:, None]
        # each sub-interval's founders start at the time giving their mean growth to h
        # under arrivals with density prop. to e^{r s} within it
        growth = jnp.exp(g * h) * seg(r[:, i] - g[:, 0]) / seg(r[:, i])
        start = jnp.where(jnp.abs(g) > 1e-12, h - jnp.log(growth) / g, 0.5 * (lo + hi))
        start = jnp.clip(start, lo, hi)
        bj = jnp.broadcast_to(b_own[:, j][:, None], founders.shape)
        dj = jnp.broadcast_to(death[:, j][:, None], founders.shape)
        grown, _ = _grow(k2, founders, bj, dj, h - start)
        new = new.at[:, j].add(grown.sum(axis=1))
    return new


def kendall_step_jax(state, birth, death, mutation, h, key) -> np.ndarray:
    """Advance ``state`` (patients x types) by ``h`` days on JAX's default device.

    Parameters are those of :func:`oncoresist.evolve.engines.kendall_step`; ``key`` is a
    ``jax.random`` key. Returns a numpy array of counts with the numpy engine's rules: int64
    while every count is below 2**62, float64 holding integers beyond; invalid inputs and a
    population overflowing float64 raise the same located ``InputError``.
    """
    state = np.rint(np.asarray(state, dtype=float))
    shape = state.shape
    b_np = np.broadcast_to(np.asarray(birth, dtype=float), shape)
    d_np = np.broadcast_to(np.asarray(death, dtype=float), shape)
    _check(state, b_np, d_np, np.asarray(mutation, dtype=float), h)
    n = jnp.asarray(state, dtype=jnp.float64)
    b = jnp.asarray(b_np, dtype=jnp.float64)
    d = jnp.asarray(d_np, dtype=jnp.float64)
    u = jnp.asarray(mutation, dtype=jnp.float64)
    pairs = tuple((int(i), int(j)) for i, j in np.argwhere(np.asarray(mutation) > 0))
    out = _step(key, n, b, d, u, jnp.float64(h), pairs)
    return _counts(np.asarray(out))
