"""Closed forms of oncoresist.evolve.analytic against independent checks.

Three layers: hand-computed values; exact small-size computations (Kolmogorov forward
equations, branching-process ODEs) and seeded vectorised Gillespie simulations, compared
within 3 standard errors (plus, where stated, the formula's own asymptotic error); and the
published figures of Bozic et al. 2013 (eLife 2:e00747, PMID 23805382).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.integrate import solve_ivp

from oncoresist.errors import InputError
from oncoresist.evolve import analytic as an

# Bozic et al. 2013, Figure 3 and Table 1: b, d, d' per day, u per site per division.
BOZIC = {"b": 0.14, "d": 0.13, "d_treated": 0.17, "u": 1e-9}
DUAL = {("A",): 50, ("B",): 50}
DUAL_CROSS = {("A",): 50, ("B",): 50, ("A", "B"): 1}


# --------------------------------------------------------------------------------------
# Simulation helpers (tests only): vectorised jump chains, one array slot per run.
# --------------------------------------------------------------------------------------


def grow(rng, runs, m_cells, b, d, *, n0=1, decay_rates=(), mu=0.0):
    """Birth-death runs from n0 cells until they hit m_cells or 0.

    Returns a dict with, per run: ``reached`` (bool), ``T`` (time), ``births``,
    ``harmonic`` (sum over divisions of 1 / (size after division)), ``decay`` (per rate
    ``rho`` in ``decay_rates``, sum over divisions of exp(-rho t)) and, if ``mu > 0``,
    the run index and time of each division marked as a mutation with probability mu.
    """
    n = np.full(runs, n0, dtype=np.int64)
    t = np.zeros(runs)
    births = np.zeros(runs)
    harmonic = np.zeros(runs)
    rates = np.asarray(decay_rates, dtype=float)[:, None]
    decay = np.zeros((rates.shape[0], runs))
    mut_run, mut_time = [], []
    active = np.ones(runs, dtype=bool)
    p_birth = b / (b + d)
    while active.any():
        idx = np.flatnonzero(active)
        size = n[idx]
        t[idx] += rng.exponential(1.0, idx.size) / ((b + d) * size)
        birth = rng.random(idx.size) < p_birth
        born = idx[birth]
        births[born] += 1
        harmonic[born] += 1.0 / (n[born] + 1)
        if rates.size:
            decay[:, born] += np.exp(-rates * t[born])
        if mu:
            marked = rng.random(born.size) < mu
            mut_run.append(born[marked])
            mut_time.append(t[born[marked]])
        n[idx] = size + np.where(birth, 1, -1)
        active[idx] = (n[idx] > 0) & (n[idx] < m_cells)
    out = {"reached": n == m_cells, "T": t, "births": births, "harmonic": harmonic}
    out["decay"] = decay
    if mu:
        out["mut_run"] = np.concatenate(mut_run)
        out["mut_time"] = np.concatenate(mut_time)
    return out


def mean_and_se(x):
    x = np.asarray(x, dtype=float)
    return x.mean(), x.std(ddof=1) / math.sqrt(x.size)


def forward_kolmogorov(n0, b, d, t, n_max=400):
    """P(N(t) = n), n = 0..n_max, from the truncated forward equations (exact to ~1e-12)."""
    n = np.arange(n_max + 1, dtype=float)

    def rhs(_, p):
        dp = -(b + d) * n * p
        dp[1:] += b * n[:-1] * p[:-1]
        dp[:-1] += d * n[1:] * p[1:]
        return dp

    p0 = np.zeros(n_max + 1)
    p0[n0] = 1.0
    sol = solve_ivp(rhs, (0.0, t), p0, method="LSODA", rtol=1e-11, atol=1e-14)
    return sol.y[:, -1]


# --------------------------------------------------------------------------------------
# 1. Linear birth-death process
# --------------------------------------------------------------------------------------


def test_extinction_probability_hand_values():
    assert an.extinction_probability(0.14, 0.13) == pytest.approx(13 / 14, rel=1e-12)
    assert an.extinction_probability(2.0, 1.0, n0=3) == pytest.approx(0.125, rel=1e-12)
    assert an.extinction_probability(1.0, 1.0) == 1.0
    assert an.extinction_probability(1.0, 2.0, n0=5) == 1.0
    assert an.extinction_probability(1.0, 0.0) == 0.0
    out = an.extinction_probability(np.array([2.0, 1.0, 0.5]), 1.0)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, [0.5, 1.0, 1.0])


def test_extinction_probability_matches_gambler_ruin_simulation():
    # P(reach 0 before 60 cells) differs from eventual extinction by < 0.6**58 ~ 1e-13.
    rng = np.random.default_rng(11)
    sim = grow(rng, 4000, 60, 1.0, 0.6, n0=2)
    est, se = mean_and_se(~sim["reached"])
    assert abs(est - an.extinction_probability(1.0, 0.6, n0=2)) < 3 * se


@pytest.mark.parametrize(("b", "d", "t"), [(1.0, 0.6, 2.0), (1.0, 1.0, 1.5), (0.5, 0.8, 3.0)])
def test_kendall_distribution_matches_forward_equations(b, d, t):
    p = forward_kolmogorov(1, b, d, t)
    alpha, beta = an.kendall_alpha_beta(b, d, t)
    n = np.arange(1, 60)
    kendall = (1 - alpha) * (1 - beta) * beta ** (n - 1)
    assert p[0] == pytest.approx(alpha, abs=1e-9)
    np.testing.assert_allclose(p[1:60], kendall, atol=1e-9)


@pytest.mark.parametrize(("n0", "b", "d", "t"), [(3, 1.0, 0.6, 2.0), (2, 1.0, 1.0, 1.0)])
def test_mean_variance_and_extinction_by_time_match_forward_equations(n0, b, d, t):
    p = forward_kolmogorov(n0, b, d, t)
    n = np.arange(p.size)
    mean = np.sum(n * p)
    var = np.sum(n**2 * p) - mean**2
    assert an.bd_mean(n0, b, d, t) == pytest.approx(mean, rel=1e-7)
    assert an.bd_variance(n0, b, d, t) == pytest.approx(var, rel=1e-6)
    assert an.extinction_probability_by_time(t, b, d, n0=n0) == pytest.approx(p[0], abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    b=st.floats(0.01, 2.0),
    ratio=st.sampled_from([0.0, 0.3, 0.9, 1.0 - 1e-9, 1.0, 1.0 + 1e-9, 1.5]),
    t=st.floats(0.0, 8.0),
    n0=st.integers(1, 50),
)
def test_alpha_beta_imply_bd_mean_and_variance(b, ratio, t, n0):
    # From one cell: mean (1 - alpha)/(1 - beta); second moment (1 - alpha)(1 + beta)/(1 - beta)^2.
    d = b * ratio
    alpha, beta = an.kendall_alpha_beta(b, d, t)
    p = 1 - beta
    mean1 = (1 - alpha) / p
    var1 = (1 - alpha) * (1 + beta) / p**2 - mean1**2
    assert an.bd_mean(n0, b, d, t) == pytest.approx(n0 * mean1, rel=1e-8)
    assert an.bd_variance(n0, b, d, t) == pytest.approx(n0 * var1, rel=1e-6, abs=1e-9)


def test_alpha_beta_sampler_recipe_reproduces_mean_and_variance():
    # The engine's recipe: K ~ Binomial(n, 1 - alpha); size = K + NegBin(K, 1 - beta).
    rng = np.random.default_rng(5)
    n0, b, d, t = 4, 1.0, 0.7, 3.0
    alpha, beta = an.kendall_alpha_beta(b, d, t)
    k = rng.binomial(n0, 1 - alpha, size=200_000)
    size = k + rng.negative_binomial(np.maximum(k, 1), 1 - beta) * (k > 0)
    est, se = mean_and_se(size)
    assert abs(est - an.bd_mean(n0, b, d, t)) < 3 * se
    # Variance check: its standard error from the fourth moment, ~ sqrt((m4 - v^2) / n).
    centred = size - size.mean()
    v_se = math.sqrt((np.mean(centred**4) - np.var(size) ** 2) / size.size)
    assert abs(np.var(size) - an.bd_variance(n0, b, d, t)) < 3 * v_se


def test_bd_limits_and_large_times():
    assert an.bd_variance(1, 1.0, 1.0, 3.0) == pytest.approx(6.0)
    near = an.bd_variance(1, 1.0, 1.0 - 1e-9, 3.0)
    assert near == pytest.approx(6.0, rel=1e-6)
    alpha, beta = an.kendall_alpha_beta(1.0, 0.5, 5_000.0)  # exp(2500) overflows
    assert alpha == pytest.approx(0.5) and beta == pytest.approx(1.0)
    assert an.kendall_alpha_beta(1.0, 0.5, 0.0) == (0.0, 0.0)
    later = an.extinction_probability_by_time(200.0, 1.0, 0.5, n0=3)
    assert later == pytest.approx(an.extinction_probability(1.0, 0.5, n0=3), rel=1e-12)


# --------------------------------------------------------------------------------------
# 2. Resistance at detection
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lesions_to_1000():
    """3000-odd lesions grown from one cell to M = 1000 sensitive cells (b = 1, d = 0.5)."""
    rng = np.random.default_rng(2013)
    return grow(rng, 6000, 1000, 1.0, 0.5, decay_rates=(0.1,), mu=1e-3)


@pytest.mark.parametrize(
    ("b_r", "d_r"), [(1.0, 0.5), (0.8, 0.5), (1.2, 0.5), (0.5, 0.5), (0.4, 0.6)]
)
def test_prob_resistance_matches_simulation(lesions_to_1000, b_r, d_r):
    # Mutations marked at rate mu = 1e-3 per division; given them, a lesion has no
    # resistant cell at detection with probability prod alpha_r(T - t_i) (Kendall).
    sim = lesions_to_1000
    keep = sim["reached"][sim["mut_run"]]
    runs, times = sim["mut_run"][keep], sim["mut_time"][keep]
    alpha, _ = an.kendall_alpha_beta(b_r, d_r, sim["T"][runs] - times)
    none = np.ones(sim["T"].size)
    np.multiply.at(none, runs, alpha)
    est, se = mean_and_se(1 - none[sim["reached"]])
    for method in ("integral", "closed"):
        p = an.prob_resistance_at_detection(1000, 1.0, 0.5, 1e-3, b_r=b_r, d_r=d_r, method=method)
        assert abs(est - p) < 3 * se


def test_prob_resistance_closed_form_equals_integral_and_bozic_p1():
    M, b, d, u = 1e6, 0.14, 0.13, 1e-7
    for b_r, d_r in [(None, None), (0.2, 0.05), (0.2, 0.0), (0.1, 0.1), (0.05, 0.2)]:
        exact = an.prob_resistance_at_detection(M, b, d, u, n_sites=3, b_r=b_r, d_r=d_r)
        closed = an.prob_resistance_at_detection(
            M, b, d, u, n_sites=3, b_r=b_r, d_r=d_r, method="closed"
        )
        assert closed == pytest.approx(exact, rel=2e-3)
    s = 1 - d / b
    bozic_p1 = math.exp(M * 3 * u * math.log(s) / (1 - s))
    closed = an.prob_resistance_at_detection(M, b, d, u, n_sites=3, method="closed")
    assert closed == pytest.approx(1 - bozic_p1, rel=1e-12)


def test_prob_resistance_is_vectorised_and_increases_with_size():
    sizes = np.array([1e5, 1e7, 1e9])
    p = an.prob_resistance_at_detection(sizes, 0.14, 0.13, 1e-9, n_sites=50)
    assert p.shape == (3,)
    assert np.all(np.diff(p) > 0)
    assert p[-1] == pytest.approx(1.0)


def test_expected_resistant_exact_matches_simulation(lesions_to_1000):
    # Neutral case, detection at total size M: E[R] = M mu E[sum over divisions 1/(z + 1)]
    # (z the size before division). The simulated sum checks the conditioned-chain solve.
    sim = lesions_to_1000
    est, se = mean_and_se(sim["harmonic"][sim["reached"]] * 1000 * 1e-4)
    exact = an.expected_resistant_at_detection(1000, 1.0, 0.5, 1e-4, method="exact")
    assert abs(est - exact) < 3 * se
    iwasa = an.expected_resistant_at_detection(1000, 1.0, 0.5, 1e-4)
    assert iwasa > est + 10 * se  # log M overestimates log(M s) + gamma - s
    bozic = an.expected_resistant_at_detection(1000, 1.0, 0.5, 1e-4, method="bozic")
    assert bozic < est - 3 * se  # log(M s) underestimates it


def test_expected_resistant_iwasa_matches_simulation_for_less_fit_resistance(lesions_to_1000):
    # b_r = 0.6, d_r = 0.5: kappa = 0.2. Given a lesion's path, the resistant cells expected
    # at detection are mu sum_i exp(r_r (T - t_i)). Tolerance: 3 SE plus 1 %, the order of
    # (M s)**(kappa - 1) = 0.7 % neglected by the deterministic trajectory.
    sim = lesions_to_1000
    per_lesion = 1e-4 * np.exp(0.1 * sim["T"]) * sim["decay"][0]
    est, se = mean_and_se(per_lesion[sim["reached"]])
    iwasa = an.expected_resistant_at_detection(1000, 1.0, 0.5, 1e-4, b_r=0.6, d_r=0.5)
    assert abs(est - iwasa) < 3 * se + 0.01 * iwasa


def test_expected_resistant_methods_agree_with_their_closed_forms():
    M, b, d, u, n = 1e9, 0.14, 0.13, 1e-9, 50
    s = 1 - d / b
    mu = u * n
    bozic = an.expected_resistant_at_detection(M, b, d, u, n_sites=n, method="bozic")
    assert bozic == pytest.approx(M * mu / s * math.log(M * s), rel=1e-12)
    iwasa = an.expected_resistant_at_detection(M, b, d, u, n_sites=n)
    assert iwasa == pytest.approx(M * mu / s * math.log(M), rel=1e-12)
    # The exact level sum converges to (M mu / s)(log(M s) + gamma - s).
    m_cells = 100_000
    exact = an.expected_resistant_at_detection(m_cells, b, d, u, n_sites=n, method="exact")
    asymptote = m_cells * mu / s * (math.log(m_cells * s) + np.euler_gamma - s)
    assert exact == pytest.approx(asymptote, rel=1e-4)
    fitter = an.expected_resistant_at_detection(1e4, 1.0, 0.5, 1e-4, b_r=1.0, d_r=0.25)
    assert fitter == pytest.approx(1e4 * 1e-4 / 0.5 * (1e4**0.5 - 1) / 0.5, rel=1e-12)


# --------------------------------------------------------------------------------------
# 3. Eradication: Bozic et al. 2013, eq. 1
# --------------------------------------------------------------------------------------


def test_bozic_acceptance_figures():
    # Figure 3 / Table 1 parameters at M = 1e9: dual therapy with one cross-resistance site
    # ~ 26 % (tolerance 0.26 +- 0.02), without ~ 99.9 % (+- 0.002), monotherapy ~ 0.
    cross = an.prob_eradication(1e9, **BOZIC, sites=DUAL_CROSS)
    clean = an.prob_eradication(1e9, **BOZIC, sites=DUAL)
    mono = an.prob_eradication_mono(1e9, **BOZIC, n_sites=50)
    assert cross == pytest.approx(0.26, abs=0.02)
    assert clean == pytest.approx(0.999, abs=0.002)
    assert mono < 1e-6


def test_bozic_table_1_single_lesion_patient():
    # Table 1, patient N22: one lesion of 8.5e8 cells. Probability of treatment failure:
    # monotherapy 1, dual with n12 = 1: 0.677, dual with n12 = 0: 0.001 (3 decimals).
    M = 8.5e8
    assert 1 - an.prob_eradication_mono(M, **BOZIC, n_sites=50) == pytest.approx(1.0)
    assert 1 - an.prob_eradication(M, **BOZIC, sites=DUAL_CROSS) == pytest.approx(0.677, abs=0.0015)
    assert 1 - an.prob_eradication(M, **BOZIC, sites=DUAL) == pytest.approx(0.001, abs=0.0006)


def test_k_drug_path_counting_reproduces_two_drug_formulas():
    # The paper's two-drug factors typed out with n1, n2, n12.
    M, b, d, dt, u = 3e9, 0.14, 0.13, 0.21, 2e-9
    n1, n2, n12 = 40, 70, 2
    s, st_ = 1 - d / b, 1 - dt / b
    k = (st_ - s) / (s * st_)
    expected = {
        "p1_up": math.exp(-M * u * n12),
        "p1_down": math.exp(M * u * n12 * s / st_),
        "p2_up": math.exp(
            M
            * u**2
            * k
            * (
                n1 * (n2 + n12) * math.log(1 / (s * M) + u * (n2 + n12) * k)
                + n2 * (n1 + n12) * math.log(1 / (s * M) + u * (n1 + n12) * k)
            )
        ),
        "p2_down": math.exp(-M * u**2 * (2 * n1 * n2 + n12 * (n1 + n2)) * s / st_**2),
    }
    sites = {("A",): n1, ("B",): n2, ("B", "A"): n12}
    got = an.eradication_factors(M, b, d, dt, u, sites)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-12), key


def test_triple_therapy_and_explicit_drug_list():
    # Three drugs, one site covering B and C: A-then-BC and BC-then-A are two-step paths.
    sites = {("A",): 50, ("B",): 50, ("C",): 50, ("B", "C"): 1}
    n_one, paths = an._resistance_paths(sites, None)
    assert n_one == 0
    assert sorted(paths) == [(1.0, 50.0), (50.0, 1.0)]
    p = an.prob_eradication(1e9, **BOZIC, sites=sites)
    assert 0.999 < p < 1.0
    # Mono therapy with drug A alone, written through the general function.
    mono = an.prob_eradication(1e8, **BOZIC, sites=DUAL, drugs=["A"])
    assert mono == pytest.approx(an.prob_eradication_mono(1e8, **BOZIC, n_sites=50))


def test_two_step_factors_against_branching_process_ode():
    # Independent numerical check: an intermediate (one-drug-resistant) cell born tau days
    # before treatment founds no surviving fully resistant lineage with probability Q(tau),
    # from the backward Kolmogorov (Riccati) equation; treatment-born intermediates use its
    # fixed point under treatment. Hazards are integrated along M exp(-r tau) down to 1/s
    # cells. p2_down agrees to 1e-5; p2_up's closed form approximates the intermediate's
    # success curve by x / (1 + x) and sits 5-7 % above the integral (tolerance 8 %).
    M, b, d, dt, u = 1e9, BOZIC["b"], BOZIC["d"], BOZIC["d_treated"], BOZIC["u"]
    s, r = 1 - d / b, b - d
    pre = post = 0.0
    for n_p, m_p in [(50, 51), (50, 51)]:  # DUAL_CROSS: n1 (n2 + n12) and n2 (n1 + n12)
        mu2 = u * m_p
        a2, b2 = b * (1 - mu2), b * mu2 * (1 - s) - (b + dt)
        q_star = (-b2 - math.sqrt(b2 * b2 - 4 * a2 * dt)) / (2 * a2)

        def rhs(tau, y, mu2=mu2, n_p=n_p):
            q = y[0]
            dq = b * ((1 - mu2) * q * q + mu2 * (1 - s) * q) + d - (b + d) * q
            return [dq, n_p * u * b * M * math.exp(-r * tau) * (1 - q)]

        tau_max = math.log(M * s) / r
        sol = solve_ivp(rhs, (0, tau_max), [q_star, 0.0], method="LSODA", rtol=1e-10, atol=1e-16)
        pre += sol.y[1, -1]
        post += n_p * u * b * M * (1 - q_star) / (dt - b)
    f = an.eradication_factors(M, b, d, dt, u, DUAL_CROSS)
    assert -math.log(f["p2_down"]) == pytest.approx(post, rel=1e-5)
    assert -math.log(f["p2_up"]) == pytest.approx(pre, rel=0.08)
    one_step = M * u * 1 * (1 + s / (dt / b - 1))  # M u n12 s (1/s + 1/|s'|)
    assert -math.log(f["p1_up"] * f["p1_down"]) == pytest.approx(one_step, rel=1e-12)


def test_mono_eradication_matches_simulation(lesions_to_1000):
    # One-step resistance, b = 1, d = 0.5, d' = 1.5 (s = 0.5, s' = -0.5), mu = u n = 1e-3.
    # Given a lesion's B divisions before treatment, it is eradicated with probability
    # (1 - mu s)^B * phi^M, phi the generating function of the divisions of one treated
    # cell's lineage (exact, subcritical). Tolerance: 3 SE plus 1 %, the asymptotic error
    # of exp(-M u n) at M = 1000 (it is 0.6 % here).
    sim = lesions_to_1000
    mu, s, m_cells = 1e-3, 0.5, 1000
    theta = mu * s
    p_up, p_down = 1 / 2.5, 1.5 / 2.5
    phi = (1 - math.sqrt(1 - 4 * p_up * p_down * (1 - theta))) / (2 * p_up * (1 - theta))
    per_lesion = np.exp(sim["births"] * math.log1p(-theta) + m_cells * math.log(phi))
    est, se = mean_and_se(per_lesion[sim["reached"]])
    p = an.prob_eradication_mono(m_cells, 1.0, 0.5, 1.5, 1e-4, 10)
    assert abs(est - p) < 3 * se + 0.01 * p


def test_eradication_vectorised_over_size():
    sizes = np.logspace(7, 11, 5)
    p = an.prob_eradication(sizes, **BOZIC, sites=DUAL)
    assert p.shape == (5,) and np.all(np.diff(p) < 0)


# --------------------------------------------------------------------------------------
# 4. Times
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("n0", [1, 5])
def test_mean_hitting_time_exact_matches_simulation(n0):
    rng = np.random.default_rng(100 + n0)
    sim = grow(rng, 4000, 200, 1.0, 0.5, n0=n0)
    est, se = mean_and_se(sim["T"][sim["reached"]])
    exact = an.mean_hitting_time(200, 1.0, 0.5, n0=n0, method="exact")
    assert abs(est - exact) < 3 * se


@pytest.mark.parametrize("n0", [1, 10, 100])
def test_mean_hitting_time_approximation_against_exact(n0):
    # Error of order 1/(M r) days: 3e-4 days at M = 1e4.
    exact = an.mean_hitting_time(10_000, 1.0, 0.5, n0=n0, method="exact")
    approx = an.mean_hitting_time(10_000, 1.0, 0.5, n0=n0)
    assert approx == pytest.approx(exact, abs=1e-3)
    if n0 == 1:
        assert approx == pytest.approx((math.log(10_000 * 0.5) + np.euler_gamma) / 0.5)


def test_mean_hitting_time_many_founders_tends_to_log_ratio():
    approx = an.mean_hitting_time(1e12, 1.0, 0.5, n0=1e8)
    assert approx == pytest.approx(math.log(1e12 / 1e8) / 0.5, abs=1e-6)


def _first_surviving_mutant_times(rng, runs, n0, b, d, mu, s_r):
    """Birth time of the first resistant daughter whose lineage survives; nan if none."""
    n = np.full(runs, n0, dtype=np.int64)
    t = np.zeros(runs)
    hit = np.full(runs, np.nan)
    active = np.ones(runs, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        t[idx] += rng.exponential(1.0, idx.size) / ((b + d) * n[idx])
        birth = rng.random(idx.size) < b / (b + d)
        mutant = birth & (rng.random(idx.size) < mu)
        survives = mutant & (rng.random(idx.size) < s_r)
        hit[idx[survives]] = t[idx[survives]]
        # A mutant division leaves the sensitive count unchanged (one daughter resistant).
        n[idx] += np.where(birth, np.where(mutant, 0, 1), -1)
        active[idx] = (n[idx] > 0) & ~survives
    return hit


@pytest.mark.parametrize(("n0", "b_r", "d_r"), [(1, None, None), (3, 1.2, 0.3)])
def test_mean_time_to_resistance_exact_matches_simulation(n0, b_r, d_r):
    b, d, mu = 1.0, 0.5, 0.01
    s_r = 0.5 if b_r is None else 1 - d_r / b_r
    rng = np.random.default_rng(7 + n0)
    hit = _first_surviving_mutant_times(rng, 4000, n0, b, d, mu, s_r)
    est, se = mean_and_se(hit[~np.isnan(hit)])
    exact = an.mean_time_to_resistance(b, d, mu, n0=n0, b_r=b_r, d_r=d_r)
    assert abs(est - exact) < 3 * se


def test_mean_time_to_resistance_limits():
    b, d, u = 1.0, 0.5, 1e-3
    s = 0.5
    one = an.mean_time_to_resistance(b, d, u)
    assert one == pytest.approx(math.log(s**2 / (u * s)) / 0.5, rel=2e-3)
    poisson_one = an.mean_time_to_resistance(b, d, u, method="poisson")
    assert poisson_one - one == pytest.approx(-(math.log(s) + np.euler_gamma) / 0.5, abs=0.01)
    many = an.mean_time_to_resistance(b, d, u, n0=1000)
    assert an.mean_time_to_resistance(b, d, u, n0=1000, method="poisson") == pytest.approx(
        many, rel=2e-3
    )
    tiny = an.mean_time_to_resistance(0.14, 0.13, 1e-12, n_sites=50)
    expected = math.log((1 / 14) ** 2 / (50e-12 * (1 / 14))) / 0.01
    assert tiny == pytest.approx(expected, rel=1e-6)


# --------------------------------------------------------------------------------------
# Bad arguments
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: an.extinction_probability(-0.1, 0.1), "b"),
        (lambda: an.extinction_probability(0.1, -0.1), "d"),
        (lambda: an.extinction_probability(0.2, 0.1, n0=0), "n0"),
        (lambda: an.extinction_probability(0.2, 0.1, n0=1.5), "n0"),
        (lambda: an.kendall_alpha_beta(0.2, 0.1, -1.0), "t"),
        (lambda: an.bd_mean(1, float("nan"), 0.1, 1.0), "b"),
        (lambda: an.prob_resistance_at_detection(1e6, 0.1, 0.2, 1e-9), "d"),
        (lambda: an.prob_resistance_at_detection(1e6, 0.2, 0.1, 1.0), "u"),
        (lambda: an.prob_resistance_at_detection(1e6, 0.2, 0.1, -1e-9), "u"),
        (lambda: an.prob_resistance_at_detection(1e6, 0.2, 0.1, 0.1, n_sites=20), "n_sites"),
        (lambda: an.prob_resistance_at_detection(1e6, 0.2, 0.1, 1e-9, method="x"), "method"),
        (lambda: an.prob_resistance_at_detection(0.5, 0.2, 0.1, 1e-9), "M"),
        (
            lambda: an.expected_resistant_at_detection(
                1e6, 0.2, 0.1, 1e-9, b_r=0.3, method="bozic"
            ),
            "b_r",
        ),
        (lambda: an.expected_resistant_at_detection(10.5, 0.2, 0.1, 1e-9, method="exact"), "M"),
        (lambda: an.prob_eradication(1e9, 0.14, 0.13, 0.10, 1e-9, DUAL), "d_treated"),
        (lambda: an.prob_eradication(1e9, 0.13, 0.14, 0.17, 1e-9, DUAL), "d"),
        (lambda: an.prob_eradication(1e9, **BOZIC, sites={}), "sites"),
        (lambda: an.prob_eradication(1e9, **BOZIC, sites={("A",): -1}), "n_sites"),
        (lambda: an.prob_eradication(1e9, **BOZIC, sites={(): 3}), "sites"),
        (lambda: an.prob_eradication(1e9, **BOZIC, sites={1: 3}), "sites"),
        (lambda: an.prob_eradication(1e9, **BOZIC, sites={("C",): 1}, drugs=["A"]), "sites"),
        (lambda: an.prob_eradication(1e9, **BOZIC, sites=DUAL, drugs=[]), "drugs"),
        (
            lambda: an.prob_eradication(1e9, **BOZIC, sites={("A",): 5, ("B",): 5, ("C",): 5}),
            "sites",
        ),
        (lambda: an.prob_eradication(10.0, **BOZIC, sites=DUAL), "M"),
        (lambda: an.mean_hitting_time(10, 0.2, 0.1, n0=20), "M"),
        (lambda: an.mean_hitting_time(2e6, 0.2, 0.1, method="exact"), "M"),
        (lambda: an.mean_hitting_time(1e3, 0.2, 0.2), "d"),
        (lambda: an.mean_time_to_resistance(0.2, 0.1, 0.0), "u"),
        (lambda: an.mean_time_to_resistance(0.2, 0.1, 1e-6, b_r=0.1, d_r=0.2), "d_r"),
    ],
)
def test_bad_arguments_raise_input_error_naming_the_field(call, field):
    with pytest.raises(InputError) as info:
        call()
    assert info.value.field == field


# --------------------------------------------------------------------------------------
# 5. Extinction time of a declining population
# --------------------------------------------------------------------------------------


def _extinction_time_by_quadrature(n0, b, d):
    """int_0^inf (1 - q(t)**n0) dt with 1 - q(t) = exp(r t) / (1 + b g) kept to full precision."""
    r = b - d

    def integrand(t):
        alive = math.exp(r * t) / (1 + b * math.expm1(r * t) / r)
        return -math.expm1(n0 * math.log1p(-alive))

    knee = math.log(n0) / -r
    value, _ = integrate.quad(integrand, 0, knee + 3000 / -r / 10, points=[knee], limit=500)
    return value


def test_mean_extinction_time_hand_values():
    # One cell: -log(1 - b/d) / b; no divisions: the harmonic number over d.
    assert an.mean_extinction_time(1, 0.14, 0.17) == pytest.approx(
        -math.log(1 - 0.14 / 0.17) / 0.14, rel=1e-12
    )
    harmonic_5 = 1 + 1 / 2 + 1 / 3 + 1 / 4 + 1 / 5
    assert an.mean_extinction_time(5, 0.0, 2.0) == pytest.approx(harmonic_5 / 2)
    sizes = np.array([1.0, 10.0, 1e9])
    assert an.mean_extinction_time(sizes, 0.14, 0.17).shape == (3,)


@pytest.mark.parametrize("n0", [1, 10, 1000, 1e9, 1e12])
def test_mean_extinction_time_matches_numerical_integration(n0):
    exact = an.mean_extinction_time(n0, 0.14, 0.17)
    assert exact == pytest.approx(_extinction_time_by_quadrature(n0, 0.14, 0.17), rel=1e-8)


def test_mean_extinction_time_asymptote():
    # (log n0 + gamma + log(1 - b/d)) / (d - b), error ~ (1/2 + c/(1 - c)) / (n0 (d - b)).
    b, d = 0.14, 0.17
    c = b / d
    for n0 in (1e3, 1e6, 1e9, 1e12):
        exact = an.mean_extinction_time(n0, b, d)
        approx = an.mean_extinction_time(n0, b, d, method="asymptotic")
        assert approx == pytest.approx((math.log(n0) + np.euler_gamma + math.log(1 - c)) / (d - b))
        assert exact - approx == pytest.approx((0.5 + c / (1 - c)) / (n0 * (d - b)), rel=0.01)


def test_mean_extinction_time_matches_jump_chain_simulation():
    # 4000 declining populations of 30 cells, event by event.
    rng = np.random.default_rng(15)
    b, d, n0, runs = 0.14, 0.17, 30, 4000
    n = np.full(runs, n0)
    t = np.zeros(runs)
    alive = np.ones(runs, dtype=bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        t[idx] += rng.exponential(1.0, idx.size) / ((b + d) * n[idx])
        n[idx] += np.where(rng.random(idx.size) < b / (b + d), 1, -1)
        alive[idx] = n[idx] > 0
    est, se = mean_and_se(t)
    assert abs(est - an.mean_extinction_time(n0, b, d)) < 3 * se


def test_mean_extinction_time_of_a_billion_cells_matches_kendall_engine():
    # 400 lesions of 1e9 cells under Bozic's treatment rates (b' = 0.14, d' = 0.17), advanced
    # by the exact Kendall engine in 1-day steps; extinction dated at the middle of its step
    # (bias under 0.5 day). Tolerance: 3 SE (about 2 days each) plus 0.5 day.
    from oncoresist.evolve.engines import kendall_step

    rng = np.random.default_rng(2013)
    state = np.full((400, 1), 10**9, dtype=np.int64)
    times = np.zeros(400)
    day = 0.0
    while (state > 0).any():
        alive = state[:, 0] > 0
        state = kendall_step(state, 0.14, 0.17, np.zeros((1, 1)), 1.0, rng)
        day += 1.0
        times[alive & (state[:, 0] == 0)] = day - 0.5
    est, se = mean_and_se(times)
    assert abs(est - an.mean_extinction_time(1e9, 0.14, 0.17)) < 3 * se + 0.5


# --------------------------------------------------------------------------------------
# 6. Combination therapy: X, exact lineage fates with a cost, sequential therapy
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n1", "n2", "n12"), [(50, 50, 1), (50, 50, 0), (3, 7, 2), (40, 10, 5)])
def test_expected_resistant_to_all_is_bozic_formula(n1, n2, n12):
    M, b, d, u = 1e9, 0.14, 0.13, 1e-9
    s = 1 - d / b
    mu = u / s * math.log(M * s)
    printed = M * (n12 * mu + (n1 * n2 + n12 / 2 * (n1 + n2 - n12)) * mu**2)
    sites = {("A",): n1, ("B",): n2, ("A", "B"): n12}
    assert an.expected_resistant_to_all(M, b, d, u, sites) == pytest.approx(printed, rel=1e-12)


def test_expected_resistant_to_all_reference_values_and_k_drugs():
    # M = 1e9, n12 = 1: X = 253 (ours; the paper's Figure 2E lesion shows "~100").
    assert round(an.expected_resistant_to_all(1e9, **_rates(), sites=DUAL_CROSS)) == 253
    s = 1 / 14
    mu = 1e-9 / s * math.log(1e9 * s)
    triple = {("A",): 50, ("B",): 40, ("C",): 30}
    x = an.expected_resistant_to_all(1e9, **_rates(), sites=triple)
    assert x == pytest.approx(1e9 * 50 * 40 * 30 * mu**3, rel=1e-12)  # M n1 n2 n3 mu^3
    mono = an.expected_resistant_to_all(1e9, **_rates(), sites={("A",): 50})
    assert mono == pytest.approx(1e9 * (50 * mu - 50**2 * mu**2 / 2), rel=1e-12)


def _rates():
    return {"b": 0.14, "d": 0.13, "u": 1e-9}


def test_prob_eradication_dual_agrees_with_eq_1_without_cost():
    for sites, n12, tol in ((DUAL_CROSS, 1, 5e-4), (DUAL, 0, 2e-4)):
        eq1 = an.prob_eradication(1e9, **BOZIC, sites=sites)
        assert an.prob_eradication_dual(1e9, **BOZIC, n12=n12) == pytest.approx(eq1, abs=tol)


# Bozic et al. 2013, Table 2: P(failure), n1 = n2 = 50, d = b - 0.01, d' = b + 0.03,
# u = 1e-9, for cost c = 0, 1 %, 5 %, 10 % (simulations, 1e6 runs, two decimals).
TABLE_2 = [
    (0, 1e9, 0.14, (0.0, 0.0, 0.0, 0.0)),
    (0, 1e9, 1.0, (0.01, 0.01, 0.01, 0.0)),
    (1, 1e9, 0.14, (0.74, 0.73, 0.72, 0.70)),
    (1, 1e9, 1.0, (0.74, 0.74, 0.72, 0.70)),
    (0, 1e11, 0.14, (0.12, 0.11, 0.08, 0.06)),
    (0, 1e11, 1.0, (0.53, 0.51, 0.42, 0.32)),
    (1, 1e11, 0.14, (1.0, 1.0, 1.0, 1.0)),
    (1, 1e11, 1.0, (1.0, 1.0, 1.0, 1.0)),
]


@pytest.mark.parametrize(("n12", "M", "b", "published"), TABLE_2)
def test_prob_eradication_dual_reproduces_bozic_table_2(n12, M, b, published):
    # Tolerance 0.007: the table's rounding (0.005) plus its Monte Carlo error.
    for cost, paper in zip((0.0, 0.01, 0.05, 0.10), published, strict=True):
        fail = 1 - an.prob_eradication_dual(M, b, b - 0.01, b + 0.03, 1e-9, n12=n12, cost=cost)
        assert fail == pytest.approx(paper, abs=0.007)


def test_sequential_split_is_simultaneous_eradication():
    # Bozic Figure 5A: sequential fails in 100 %; 73.7 % of failures from cells resistant
    # before drug 1, 26.3 % arising during drug 1 = 1 - p_erad and p_erad of eq. 1.
    out = an.sequential_therapy(1e9, **BOZIC, n12=1)
    p_erad = an.prob_eradication(1e9, **BOZIC, sites=DUAL_CROSS)
    assert out["p_failure"] == pytest.approx(1.0, abs=1e-12)
    assert out["from_before_drug_1"] == pytest.approx(1 - p_erad, rel=1e-12)
    assert out["from_before_drug_1"] == pytest.approx(0.737, abs=0.0005)
    assert out["from_during_drug_1"] == pytest.approx(0.263, abs=0.0005)
    # not p1_up alone: a surviving fully resistant lineage at the start in 63.2 %
    f = an.eradication_factors(1e9, **BOZIC, sites=DUAL_CROSS)
    assert 1 - f["p1_up"] * f["p1_down"] == pytest.approx(0.736, abs=0.0005)
    assert out["p_resistant_lineage_at_start"] == pytest.approx(0.632, abs=0.001)
    clean = an.sequential_therapy(1e9, **BOZIC, n12=0)
    assert clean["p_failure"] == pytest.approx(1.0, abs=1e-12)
    assert clean["p_eradication_simultaneous"] == pytest.approx(0.999, abs=0.001)


# --------------------------------------------------------------------------------------
# 7. The two methods of prob_resistance_at_detection
# --------------------------------------------------------------------------------------


def test_prob_resistance_methods_differ_by_the_trajectory_below_one_cell():
    # b = 1, d = 0.5, u = 1e-4, M = 1e3 (reference table: MC 0.1291 +- 0.0024). "integral"
    # starts the deterministic trajectory at one cell, "closed" extends it back to 0 cells;
    # the extra hazard is M mu (b / r) int_0^{1/M} S(x) dx ~ mu.
    M, b, d, mu = 1e3, 1.0, 0.5, 1e-4
    p_int = an.prob_resistance_at_detection(M, b, d, mu)
    p_closed = an.prob_resistance_at_detection(M, b, d, mu, method="closed")
    assert p_int == pytest.approx(0.129362, abs=5e-7)
    assert p_closed == pytest.approx(0.129449, abs=5e-7)
    c = d / b
    below, _ = integrate.quad(lambda x: (1 - c) / (1 - c * x), 0, 1 / M)
    extra = M * mu * b / (b - d) * below
    assert extra == pytest.approx(mu, rel=1e-3)
    assert p_closed - p_int == pytest.approx((1 - p_int) * -math.expm1(-extra), rel=1e-4)


@pytest.mark.parametrize("method", ["integral", "closed"])
def test_prob_resistance_each_method_matches_its_own_trajectory_by_simulation(method):
    # Poisson mutations at b mu N(t) along the method's trajectory, each clone alive at
    # detection with Kendall's 1 - alpha(age). M = 10 and mu = 0.1 make the two
    # trajectories differ by ~0.06 in P; 20 000 runs, 3 SE.
    rng = np.random.default_rng(4)
    M, b, d, mu, runs = 10.0, 1.0, 0.5, 0.1, 20000
    r = b - d
    ages_max = math.log(M) / r if method == "integral" else 60.0 / r
    expected = mu * b * M * -math.expm1(-r * ages_max) / r  # b mu int N, N = M e^{-r age}
    founders = rng.poisson(expected, runs)
    who = np.repeat(np.arange(runs), founders)
    v = rng.random(who.size)  # age density prop. to exp(-r age) on [0, ages_max]
    ages = -np.log1p(-v * -math.expm1(-r * ages_max)) / r
    alpha, _ = an.kendall_alpha_beta(b, d, ages)
    alive = rng.random(who.size) > alpha
    resistant = np.bincount(who[alive], minlength=runs) > 0
    est, se = mean_and_se(resistant)
    p = an.prob_resistance_at_detection(M, b, d, mu, method=method)
    assert abs(est - p) < 3 * se
    other = "closed" if method == "integral" else "integral"
    assert abs(est - an.prob_resistance_at_detection(M, b, d, mu, method=other)) > 8 * se


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: an.mean_extinction_time(10, 0.2, 0.1), "d"),
        (lambda: an.mean_extinction_time(0, 0.1, 0.2), "n0"),
        (lambda: an.mean_extinction_time(10, -0.1, 0.2), "b"),
        (lambda: an.mean_extinction_time(10, 0.1, 0.2, method="x"), "method"),
        (lambda: an.expected_resistant_to_all(1e9, 0.14, 0.13, 1e-9, {}), "sites"),
        (lambda: an.expected_resistant_to_all(10, 0.14, 0.13, 1e-9, DUAL), "M"),
        (lambda: an.prob_eradication_dual(1e9, **BOZIC, cost=1.0), "cost"),
        (lambda: an.prob_eradication_dual(1e9, **BOZIC, n12=-1), "n12"),
        (lambda: an.prob_eradication_dual(1e9, 0.14, 0.13, 0.1, 1e-9), "d_treated"),
        (lambda: an.sequential_therapy(1e9, **BOZIC, n1=-2), "n1"),
    ],
)
def test_new_closed_forms_reject_bad_input_naming_the_field(call, field):
    with pytest.raises(InputError) as info:
        call()
    assert info.value.field == field
