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
  engine does beyond 200,000 founders.

The CPU numpy engine stays the default and is fully tested without this module.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from oncoresist.errors import MissingExtraError
from oncoresist.evolve.engines import _check, _counts

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
    r = b - d
    small = jnp.abs(r * h) < 1e-8
    g = jnp.where(small, h * (1 + 0.5 * r * h), jnp.expm1(r * h) / jnp.where(small, 1.0, r))
    denom = 1.0 + b * g
    return d * g / denom, 1.0 / denom  # alpha, 1 - beta


def _poisson(key, lam):
    k1, k2 = jax.random.split(key)
    big = lam > LARGE_MEAN
    small = jax.random.poisson(k1, jnp.where(big, 0.0, lam)).astype(jnp.float64)
    normal = jnp.maximum(jnp.round(lam + jnp.sqrt(lam) * jax.random.normal(k2, lam.shape)), 0.0)
    return jnp.where(big, normal, small)


def _grow(key, n, b, d, h):
    """Cells after ``h`` days from ``n`` (float64 holding integers), Kendall's law."""
    alpha, success = _kendall(b, d, h)
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
    return jnp.where(k > 0, k + extra, 0.0)


@partial(jax.jit, static_argnames=("pairs",))
def _step(key, n, birth, death, mutation, h, pairs):
    b_own = birth * (1.0 - mutation.sum(axis=1))
    key, sub = jax.random.split(key)
    new = _grow(sub, n, b_own, death, h)
    r = b_own - death
    edges = jnp.linspace(0.0, h, BINS + 1)
    lo, hi = edges[:-1], edges[1:]

    def seg(rate):  # int_lo^hi e^{rate s} ds, per patient and bin
        rate = rate[:, None]
        tiny = jnp.abs(rate) < 1e-12
        val = (jnp.exp(rate * hi) - jnp.exp(rate * lo)) / jnp.where(tiny, 1.0, rate)
        return jnp.where(tiny, hi - lo, val)

    for i, j in pairs:  # the mutation routes (static: one compiled step per model)
        u = mutation[i, j]
        key, k1, k2 = jax.random.split(key, 3)
        lam = (birth[:, i] * u * n[:, i])[:, None] * seg(r[:, i])
        founders = _poisson(k1, lam)
        g = (b_own[:, j] - death[:, j])[:, None]
        growth = jnp.exp(g * h) * seg(r[:, i] - g[:, 0]) / seg(r[:, i])
        start = jnp.where(jnp.abs(g) > 1e-12, h - jnp.log(growth) / g, 0.5 * (lo + hi))
        start = jnp.clip(start, lo, hi)
        bj = jnp.broadcast_to(b_own[:, j][:, None], founders.shape)
        dj = jnp.broadcast_to(death[:, j][:, None], founders.shape)
        grown = _grow(k2, founders, bj, dj, h - start)
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
