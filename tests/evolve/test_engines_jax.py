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
