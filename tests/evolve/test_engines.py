"""Exact engines: Kendall moments at 1e5-1e11 cells, step-size independence, agreement with
the Gillespie engine and the mean ODE, and Bozic 2013 dual-therapy eradication."""

import numpy as np
import pytest
from scipy.stats import ks_2samp

from oncoresist.errors import InputError
from oncoresist.evolve.analytic import bd_mean, bd_variance, prob_eradication
from oncoresist.evolve.engines import kendall_parameters, kendall_step, step
from oncoresist.evolve.simulate import mean_step

NO_MUTATION = np.zeros((1, 1))


@pytest.mark.parametrize("n0", [1e5, 1e9, 1e11])
def test_kendall_moments_after_a_year_match_the_closed_form(n0):
    rng = np.random.default_rng(int(np.log10(n0)))
    reps = 20_000
    one = kendall_step(np.full((reps, 1), n0), 0.14, 0.13, NO_MUTATION, 365.0, rng)[:, 0]
    mean, var = bd_mean(n0, 0.14, 0.13, 365.0), bd_variance(n0, 0.14, 0.13, 365.0)
    assert abs(one.mean() - mean) < 3 * np.sqrt(var / reps)
    # the sample variance: SE from the fourth moment (near-normal at these sizes)
    se_var = var * np.sqrt(2.0 / (reps - 1))
    assert abs(one.var(ddof=1) - var) < 3 * se_var
    # 365 steps of one day give the same distribution (no step-size bias)
    daily = np.full((reps, 1), n0)
    for _ in range(365):
        daily = kendall_step(daily, 0.14, 0.13, NO_MUTATION, 1.0, rng)
    assert ks_2samp(one, daily[:, 0]).pvalue > 0.001
    assert one.dtype == np.int64


def test_extinction_from_one_cell_is_d_over_b():
    rng = np.random.default_rng(3)
    reps = 200_000
    end = kendall_step(np.ones((reps, 1)), 0.14, 0.13, NO_MUTATION, 3000.0, rng)[:, 0]
    p = (end == 0).mean()
    assert abs(p - 0.13 / 0.14) < 3 * np.sqrt(p * (1 - p) / reps)


def test_kendall_parameters_limits():
    a, b, s = kendall_parameters(0.2, 0.2, 1.0)  # critical: g = t
    assert a == pytest.approx(0.2 / 1.2) and b == pytest.approx(0.2 / 1.2)
    a, b, s = kendall_parameters(0.0, 0.1, 2.0)  # pure death
    assert a == pytest.approx(1 - np.exp(-0.2)) and b == 0.0 and s == 1.0
    a, b, s = kendall_parameters(0.14, 0.13, 1e5)  # overflow of e^{rt}
    assert a == pytest.approx(0.13 / 0.14) and b == 1.0 and s == 0.0


def two_type(engine, h, reps, rng, days=20.0):
    u = np.array([[0.0, 1e-2], [0.0, 0.0]])
    b, d = np.array([[0.3, 0.35]]), np.array([[0.25, 0.2]])
    x = np.tile([[100, 0]], (reps, 1))
    for _ in range(round(days / h)):
        x = step(x, b, d, u, h, rng=rng, method=engine)
    return x


def test_kendall_agrees_with_gillespie_and_the_mean_with_mutation():
    rng = np.random.default_rng(4)
    k = two_type("kendall", 1.0, 20_000, rng)
    g = two_type("gillespie", 20.0, 600, rng)
    u = np.array([[0.0, 1e-2], [0.0, 0.0]])
    mean = mean_step(np.array([[100.0, 0.0]]), np.array([[0.3, 0.35]]),
                     np.array([[0.25, 0.2]]), u, 20.0)[0]  # fmt: skip
    for col in (0, 1):
        se_k = k[:, col].std() / np.sqrt(len(k))
        se_g = g[:, col].std() / np.sqrt(len(g))
        assert abs(k[:, col].mean() - mean[col]) < 3 * se_k
        assert abs(g[:, col].mean() - mean[col]) < 3 * se_g
        # variances agree (ratio within what 600 Gillespie runs can tell)
        assert k[:, col].var() / g[:, col].var() == pytest.approx(1.0, abs=0.3)
    pk, pg = (k[:, 1] > 0).mean(), (g[:, 1] > 0).mean()
    se = np.sqrt(pk * (1 - pk) / len(k) + pg * (1 - pg) / len(g))
    assert abs(pk - pg) < 3 * se + 1e-3


def test_bozic_dual_therapy_eradication_from_the_engine():
    """Bozic et al. 2013 (eq. 1; M = 1e9, b = 0.14, d = 0.13, d' = 0.17, u = 1e-9,
    n1 = n2 = 50, one cross-resistance site): a lesion grown from one cell to 1e9 cells,
    then treated with both drugs, is eradicated with probability about 0.26."""
    rng = np.random.default_rng(5)
    reps, big = 4000, 1e9
    u_site = 1e-9
    # types: S, resistant to A, to B, to both
    mut = np.zeros((4, 4))
    mut[0, 1] = mut[0, 2] = 50 * u_site
    mut[0, 3] = 1 * u_site
    mut[1, 3] = mut[2, 3] = 50 * u_site + u_site
    b = np.full(4, 0.14)
    x = np.zeros((reps, 4), dtype=np.int64)
    x[:, 0] = 1
    grown = np.zeros(reps, dtype=bool)
    while not (grown | (x.sum(axis=1) == 0)).all():
        todo = ~grown & (x.sum(axis=1) > 0)
        x[todo] = kendall_step(x[todo], b, np.full(4, 0.13), mut, 1.0, rng)
        grown |= x.sum(axis=1) >= big
    x, reps = x[grown], grown.sum()
    # treatment: cells sensitive to either drug die at 0.17 per day
    d_on = np.array([0.17, 0.17, 0.17, 0.13])
    for _ in range(40):  # 40 x 50 days: every sensitive lineage is gone
        x = kendall_step(x, b, d_on, mut, 50.0, rng)
    cured = (x.sum(axis=1) == 0).mean()
    sites = {("A",): 50, ("B",): 50, ("A", "B"): 1}
    want = prob_eradication(big, 0.14, 0.13, 0.17, u_site, sites)
    assert want == pytest.approx(0.263, abs=0.002)
    assert abs(cured - want) < 3 * np.sqrt(want * (1 - want) / reps) + 0.01


def test_bad_engine():
    rng = np.random.default_rng(0)
    with pytest.raises(InputError):
        step(np.ones((1, 1)), 0.1, 0.1, NO_MUTATION, 1.0, rng=rng, method="tau")
    with pytest.raises(InputError):
        step(np.ones((1, 1)), 0.1, 0.1, NO_MUTATION, 0.0, rng=rng)
