"""Exact engines: Kendall moments at 1e5-1e11 cells, step-size independence, agreement with
the Gillespie engine and the mean ODE, Bozic 2013 dual-therapy eradication, and the
large-count path (1e18-1e20 cells) against the ODE and the closed-form moments."""

import numpy as np
import pytest
from scipy.stats import ks_2samp

from oncoresist.errors import InputError
from oncoresist.evolve.analytic import bd_mean, bd_variance, prob_eradication
from oncoresist.evolve.engines import (
    LARGE_MEAN,
    _binomial,
    _negative_binomial,
    _poisson,
    kendall_parameters,
    kendall_step,
    step,
)
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


@pytest.mark.parametrize("n0", [1e18, 1e20])
def test_a_huge_lesion_treated_for_a_year_matches_the_ode(n0):
    """Issue 15 item 5: 1e18 and 1e20 sensitive cells (b = 0.14, d = 0.17 on treatment) that
    seed resistant cells (u = 1e-7 per division; b = 0.14, d = 0.13), 365 one-day steps, 200
    patients. Tolerance on each type's mean: 5 standard errors plus 1e-6 of the ODE mean (the
    bound on the normal approximation's error)."""
    rng = np.random.default_rng(int(np.log10(n0)))
    reps = 200
    u = np.array([[0.0, 1e-7], [0.0, 0.0]])
    b, d = np.array([[0.14, 0.14]]), np.array([[0.17, 0.13]])
    x = np.tile([[n0, 0.0]], (reps, 1))
    for _ in range(365):
        x = step(x, b, d, u, 1.0, rng=rng)
    want = mean_step(np.array([[n0, 0.0]]), b, d, u, 365.0)[0]
    assert np.isfinite(x).all() and (x >= 0).all()
    for col in (0, 1):
        se = x[:, col].std(ddof=1) / np.sqrt(reps)
        assert abs(x[:, col].mean() - want[col]) < 5 * se + 1e-6 * want[col]
    assert want[1] > LARGE_MEAN  # the resistant clone went through the large-count path


def _moments_match(draws, mean, var):
    n = len(draws)
    assert abs(draws.mean() - mean) < 5 * np.sqrt(var / n)
    # sample variance: SE var * sqrt(2 / (n - 1)) (near-normal draws)
    assert abs(draws.var(ddof=1) - var) < 5 * var * np.sqrt(2.0 / (n - 1))


def test_large_count_path_moments_match_the_closed_forms():
    rng = np.random.default_rng(11)
    reps = 20_000
    one = np.ones(reps)
    lam = 3e13
    _moments_match(_poisson(lam * one, rng), lam, lam)
    n, q = 1e20, 0.3  # beyond int64 and above LARGE_MEAN: normal
    _moments_match(_binomial(n * one, q, rng), n * q, n * q * (1 - q))
    n, q = 1e20, 1e-9  # beyond int64, mean 1e11: Poisson(n q)
    _moments_match(_binomial(n * one, q, rng), n * q, n * q * (1 - q))
    n, q = 1e20, 1 - 1e-10  # drawn on the smaller side, 1e10: Poisson, then n minus it
    _moments_match(_binomial(n * one, q, rng), n * q, n * q * (1 - q))
    k, beta = 4e12, 0.6  # NegBin(k, 1 - beta): mean k beta / (1 - beta), var that / (1 - beta)
    mean = k * beta / (1 - beta)
    _moments_match(_negative_binomial(k * one, beta, 1 - beta, rng), mean, mean / (1 - beta))
    # one lineage with a mean of 1e14 offspring: geometric (exponential) shape kept, since
    # only the Poisson layer over the exact gamma is approximated
    geo = _negative_binomial(one, 1 - 1e-14, 1e-14, rng)
    assert abs(geo.mean() - (1e14 - 1)) < 5 * np.sqrt(1e28 / reps)  # variance 1e28
    p_below = (geo < 1e14).mean()
    assert abs(p_below - (1 - np.exp(-1))) < 5 * np.sqrt(0.25 / reps)
    # below the threshold the exact samplers run (integers, int64 range)
    small = _poisson(np.full(reps, 5.0), rng)
    _moments_match(small, 5.0, 5.0)
    assert (small == np.rint(small)).all()


def test_counts_beyond_int64_are_float64_and_below_int64():
    rng = np.random.default_rng(12)
    big = kendall_step(np.full((3, 1), 1e20), 0.14, 0.13, NO_MUTATION, 30.0, rng)
    assert big.dtype == np.float64 and (big == np.rint(big)).all() and (big > 1e20).all()
    small = kendall_step(np.full((3, 1), 1e15), 0.14, 0.13, NO_MUTATION, 30.0, rng)
    assert small.dtype == np.int64


@pytest.mark.parametrize(
    ("state", "birth", "death", "mutation", "h", "match"),
    [
        ([[1e3, np.nan]], 0.1, 0.1, np.zeros((2, 2)), 1.0, "field state: patient row 0, type 1"),
        ([[1e3, -5.0]], 0.1, 0.1, np.zeros((2, 2)), 1.0, "field state: patient row 0, type 1"),
        ([[np.inf, 1.0]], 0.1, 0.1, np.zeros((2, 2)), 1.0, "field state: patient row 0, type 0"),
        ([[1e3, 1.0]], 0.1, [[0.1, -0.2]], np.zeros((2, 2)), 1.0, "field death: patient row 0"),
        ([[1e3, 1.0]], np.inf, 0.1, np.zeros((2, 2)), 1.0, "field birth: patient row 0"),
        ([[1e3, 1.0]], 0.1, 0.1, [[0.0, 1.5], [0.0, 0.0]], 1.0, "field mutation"),
        ([[1e3, 1.0]], 0.1, 0.1, np.zeros((2, 2)), np.inf, "field h"),
    ],
)
@pytest.mark.parametrize("method", ["kendall", "gillespie"])
def test_invalid_input_is_a_located_input_error(state, birth, death, mutation, h, match, method):
    rng = np.random.default_rng(0)
    with pytest.raises(InputError, match=match):
        step(np.asarray(state), birth, death, np.asarray(mutation), h, rng=rng, method=method)


def test_a_population_overflowing_float64_is_an_input_error():
    rng = np.random.default_rng(0)
    with pytest.raises(InputError, match="field state: the population overflows float64"):
        kendall_step(np.array([[1e300]]), 1.0, 0.0, NO_MUTATION, 1000.0, rng)


def test_jax_engine_takes_a_lesion_beyond_int64():
    """The optional JAX engine: 1e20 cells treated for a year in one step, 200 patients,
    mean of each type within 5 standard errors plus 1e-6 of the ODE mean; counts float64."""
    jax = pytest.importorskip("jax")
    from oncoresist.evolve.engines_jax import kendall_step_jax

    u = np.array([[0.0, 1e-7], [0.0, 0.0]])
    b, d = np.array([[0.14, 0.14]]), np.array([[0.17, 0.13]])
    x = kendall_step_jax(np.tile([[1e20, 0.0]], (200, 1)), b, d, u, 365.0, jax.random.PRNGKey(1))
    want = mean_step(np.array([[1e20, 0.0]]), b, d, u, 365.0)[0]
    assert np.isfinite(x).all() and (x >= 0).all()
    for col in (0, 1):
        se = x[:, col].std(ddof=1) / np.sqrt(len(x))
        assert abs(x[:, col].mean() - want[col]) < 5 * se + 1e-6 * want[col]


def test_mutant_count_at_a_fixed_time_does_not_depend_on_the_step():
    """100 sensitive cells (b = 1, d = 0.5, u = 1e-3 per division, one daughter resistant;
    resistant cells neutral) grown for T = 6 days in steps of T (50,000 patients), T/10 and
    T/50 (20,000 each). The exact mean at T is ``n0 e^{(b-d) T} (1 - e^{-b u T})`` (sensitive
    cells grow at ``b (1 - u) - d``); each step size must match it within 4 standard errors.
    ``P(no resistant cell at T)`` from the generating function (0.07520) must match within 4
    standard errors in one 6-day step too: founders drawn from the parent's start alone,
    not its fate within the step, gave 0.0689 (-10 standard errors at 200,000 patients)."""
    from scipy.integrate import solve_ivp

    n0, b, d, u, days = 100, 1.0, 0.5, 1e-3, 6.0
    mut = np.array([[0.0, u], [0.0, 0.0]])
    want = n0 * np.exp((b - d) * days) * -np.expm1(-b * u * days)

    def no_mutant(tau, q):  # P(one sensitive cell leaves no resistant cell tau days on)
        alpha = kendall_parameters(b, d, tau)[0]
        return [b * (1 - u) * q[0] ** 2 + d + b * u * q[0] * alpha - (b + d) * q[0]]

    p0 = solve_ivp(no_mutant, (0.0, days), [1.0], rtol=1e-10, atol=1e-12).y[0, -1] ** n0
    assert p0 == pytest.approx(0.07520, abs=1e-5)
    for k, reps, seed in ((1, 50_000, 21), (10, 20_000, 22), (50, 20_000, 23)):
        rng = np.random.default_rng(seed)
        x = np.tile([[n0, 0]], (reps, 1))
        for _ in range(k):
            x = kendall_step(x, b, d, mut, days / k, rng)
        r = x[:, 1]
        assert abs(r.mean() - want) < 4 * r.std(ddof=1) / np.sqrt(reps)
        if k == 1:
            assert abs((r == 0).mean() - p0) < 4 * np.sqrt(p0 * (1 - p0) / reps)
