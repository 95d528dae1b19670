"""The optional JAX Kendall engine (run on the CPU here) agrees with the closed forms and
with the numpy engine; it is never required."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")  # the gpu extra (also in the test extra)

from oncoresist.evolve.analytic import bd_mean, bd_variance  # noqa: E402
from oncoresist.evolve.engines import kendall_step  # noqa: E402
from oncoresist.evolve.engines_jax import kendall_step_jax  # noqa: E402


@pytest.mark.parametrize("n0", [1e5, 1e9, 1e11])
def test_jax_moments_match_the_closed_form(n0):
    reps = 8_000
    x = kendall_step_jax(np.full((reps, 1), n0), 0.14, 0.13, np.zeros((1, 1)), 365.0,
                         jax.random.key(int(np.log10(n0))))[:, 0]  # fmt: skip
    mean, var = bd_mean(n0, 0.14, 0.13, 365.0), bd_variance(n0, 0.14, 0.13, 365.0)
    assert abs(x.mean() - mean) < 3 * np.sqrt(var / reps)
    assert abs(x.var(ddof=1) - var) < 3 * var * np.sqrt(2.0 / reps)
    assert x.dtype == np.int64


def test_jax_agrees_with_numpy_with_mutation():
    reps = 8_000
    u = np.array([[0.0, 1e-7], [0.0, 0.0]])
    b, d = np.array([0.14, 0.14]), np.array([0.17, 0.13])
    x0 = np.tile([[1e9, 0]], (reps, 1))
    a = kendall_step_jax(x0, b, d, u, 365.0, jax.random.key(3))
    c = kendall_step(x0, b, d, u, 365.0, np.random.default_rng(3))
    for col in (0, 1):
        se = np.sqrt((a[:, col].var() + c[:, col].var()) / reps)
        assert abs(a[:, col].mean() - c[:, col].mean()) < 3 * se


def test_jax_mutants_keep_their_covariance_with_the_parent_within_a_step():
    """The JAX analogue of ``test_mutant_count_at_a_fixed_time_does_not_depend_on_the_step``
    (tests/evolve/test_engines.py): 100 sensitive cells (b = 1, d = 0.5, u = 1e-3 per
    division; resistant cells neutral) grown for T = 6 days. ``P(no resistant cell at T)``
    in one step must match the generating function's 0.07520 within 4 standard errors
    (founders drawn from the parent's start alone, not its fate within the step, gave
    0.0687 with this key, -6.3 standard errors at 64,000 patients), and ``E[R(T)] = n0 e^{(b-d) T}
    (1 - e^{-b u T})`` within 4 standard errors in steps of T (64,000 patients) and T/10
    (16,000). Patients go in batches of 8,000, the shape of the test above, so that the
    compiled step is reused (the JAX samplers compile and run slowly on a CPU)."""
    n0, b, d, u, days = 100, 1.0, 0.5, 1e-3, 6.0
    mut = np.array([[0.0, u], [0.0, 0.0]])
    want = n0 * np.exp((b - d) * days) * -np.expm1(-b * u * days)
    p0 = 0.07520  # from the generating function's ODE, checked in test_engines.py
    batch = 8_000
    for k, batches, seed in ((1, 8, 21), (10, 2, 22)):
        key = jax.random.key(seed)
        r = []
        for _ in range(batches):
            x = np.tile([[n0, 0]], (batch, 1))
            for _ in range(k):
                key, sub = jax.random.split(key)
                x = kendall_step_jax(x, b, d, mut, days / k, sub)
            r.append(x[:, 1])
        r = np.concatenate(r)
        assert abs(r.mean() - want) < 4 * r.std(ddof=1) / np.sqrt(r.size)
        if k == 1:
            assert abs((r == 0).mean() - p0) < 4 * np.sqrt(p0 * (1 - p0) / r.size)
