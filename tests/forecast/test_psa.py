"""PSA under abiraterone: integrator parity with evolve, PCWG3 by hand, input errors, a
simulation check (recovery and coverage) and the real Zhang 2022 trial (skipped when
``../shared/data/evolve`` is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oncoresist.errors import InputError
from oncoresist.evolve.competition import LotkaVolterra
from oncoresist.evolve.zhang2022 import read_trial_psa
from oncoresist.forecast.backtest import (
    cycle_origins,
    next_cycle_targets,
    rolling_origin_backtest,
    summarise,
)
from oncoresist.forecast.psa import (
    PARAM_NAMES,
    STRATEGIES,
    PSAForecaster,
    _unpack,
    check_psa_table,
    pcwg3_progression,
    simulate_cohort,
    simulate_log_psa,
    zhang2022_table,
)

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "evolve"
TRIAL = DATA / "zhang2022_abiraterone_trial_psa.csv"
needs_data = pytest.mark.skipif(not TRIAL.exists(), reason="needs ../shared/data/evolve")


# ----------------------------------------------------------------------- integrator
def test_integrator_matches_evolve_lotka_volterra():
    """Split exact-logistic steps of one day agree with LotkaVolterra (LSODA) to 2e-3 in log."""
    theta = np.array([[np.log(10.0), 0.0, -4.0, np.log(0.05), np.log(0.01), 3.0, 0.0]])
    u = np.r_[np.ones(60), np.zeros(90), np.ones(60), np.zeros(90)].astype(np.int8)[None]
    s, r, r_s, r_r, delta, _ = _unpack(theta)
    lv = LotkaVolterra(
        growth=[r_s[0], r_r[0]],
        matrix=[[1.0, 1.0], [6.0, 1.0]],
        capacity=[1.0, 1.0],
        on_drug={"abi": [1.0 - delta[0], 1.0]},
        integrator="lsoda",
    )
    x = np.array([[s[0], r[0]]])
    total = [x.sum()]
    for d in range(u.shape[1]):
        x = lv.advance(x, {"abi": np.array([float(u[0, d])])}, d, d + 1)
        total.append(x.sum())
    ref = np.log(10.0) + np.log(np.array(total) / total[0])
    ours = simulate_log_psa(theta, u)[0]
    assert np.max(np.abs(ours - ref)) < 2e-3
    assert np.max(np.abs(simulate_log_psa(theta, u, steps_per_day=4)[0] - ref)) < 5e-4


def test_integrator_broadcasts_over_draws_and_patients():
    theta = np.tile(np.array([0.0, 0.0, -4.0, np.log(0.05), np.log(0.01), 3.0, 0.5]), (3, 2, 1))
    u = np.zeros((2, 10), dtype=np.int8)
    out = simulate_log_psa(theta, u)
    assert out.shape == (3, 2, 11)
    assert np.all(np.diff(out, axis=-1) > 0)  # off drug, below capacity: PSA rises


def test_psa_suppression_follows_the_schedule_with_a_seven_day_half_life():
    """gamma lowers log PSA by gamma (1 - 2^(-t / 7 d)) on treatment, and recovers off it."""
    base = np.array([np.log(10.0), 0.0, -4.0, np.log(0.05), np.log(0.01), 3.0, 0.0])
    u = np.r_[np.ones(30), np.zeros(40)].astype(np.int8)[None]
    plain = simulate_log_psa(base[None], u)[0]
    supp = simulate_log_psa(np.r_[base[:6], 0.8][None], u)[0]
    t = np.arange(31)
    np.testing.assert_allclose(plain[:31] - supp[:31], 0.8 * (1 - 2 ** (-t / 7.0)), atol=1e-12)
    # 40 days off: the suppression has decayed by 2^(-40/7) from its value at day 30
    assert plain[-1] - supp[-1] == pytest.approx(0.8 * (1 - 2 ** (-30 / 7)) * 2 ** (-40 / 7))


# ----------------------------------------------------------------------- PCWG3
def test_pcwg3_by_hand():
    days = np.array([30.0, 60.0, 90.0, 120.0])
    on = np.ones(4, dtype=bool)
    # nadir 1: 4 at day 60 (>= 1.25 and >= 3), confirmed at day 90
    assert pcwg3_progression(days, np.array([1.0, 4.0, 5.0, 6.0]), on, origin_day=0, nadir=1.0) == 1
    # not confirmed: falls back at day 90
    assert pcwg3_progression(days, np.array([1.0, 4.0, 1.0, 1.0]), on, origin_day=0, nadir=1.0) == 0
    # 25 % but < 2 ng/mL above the nadir: no progression
    assert pcwg3_progression(days, np.array([1.0, 2.5, 2.9, 2.9]), on, origin_day=0, nadir=1.0) == 0
    # readings after an off-treatment interval do not count
    off = np.array([True, False, False, True])
    assert (
        pcwg3_progression(days, np.array([1.0, 9.0, 9.0, 1.0]), off, origin_day=0, nadir=1.0) == 0
    )
    # a rise at the last reading cannot be confirmed: not evaluable
    assert np.isnan(pcwg3_progression(days, np.array([1, 1, 1, 9.0]), on, origin_day=0, nadir=1.0))
    # the rise must fall in the window
    assert (
        pcwg3_progression(days, np.array([1.0, 4.0, 5.0, 6.0]), on, origin_day=0, nadir=1.0,
                          window_days=45.0) == 0
    )  # fmt: skip
    # vectorised over sample paths
    paths = np.array([[1.0, 4.0, 5.0, 6.0], [1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(
        pcwg3_progression(days, paths, on, origin_day=0, nadir=1.0), [1.0, 0.0]
    )


# ----------------------------------------------------------------------- input
def _table():
    return pd.DataFrame(
        {"patient_id": "a", "day": [0.0, 28, 56], "value": [5.0, 1.0, 2.0],
         "on_treatment": [1, 0, 1]}
    )  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field", "line"),
    [
        ({"day": [0.0, 56, 28]}, "day", 4),
        ({"value": [5.0, -1.0, 2.0]}, "value", 3),
        ({"value": [5.0, 0.0, 2.0]}, "value", 3),
        ({"on_treatment": [1, 2, 1]}, "on_treatment", 3),
    ],
)
def test_bad_input_is_located(change, field, line):
    bad = _table().assign(**change)
    with pytest.raises(InputError) as err:
        check_psa_table(bad, source="psa.csv")
    assert err.value.field == field and err.value.record == line
    assert "psa.csv" in str(err.value)


def test_missing_column_and_too_few_readings():
    with pytest.raises(InputError, match="on_treatment"):
        check_psa_table(_table().drop(columns="on_treatment"))
    with pytest.raises(InputError, match="1 reading"):
        check_psa_table(_table().iloc[:1])
    with pytest.raises(InputError, match="not fitted"):
        PSAForecaster().predict(_table(), {"a": [90.0]})


def test_censored_zero_with_limit_is_accepted():
    t = _table().assign(value=[5.0, 0.0, 2.0], lower_limit_of_quantification=0.05)
    out = check_psa_table(t)
    assert out["value"].iloc[1] == 0.0


# ----------------------------------------------------------------------- simulation
@pytest.fixture(scope="module")
def sim_fit():
    sim = simulate_cohort(40, rng=3)
    fc = PSAForecaster().fit(sim.table)
    return sim, fc


def test_simulation_parameter_recovery(sim_fit):
    """Modes near the truth for the identified parameters (seed 3, 40 patients x 24 visits)."""
    sim, fc = sim_fit
    first = sim.table.groupby("patient_id", sort=False)["value"].first().to_numpy()
    true = sim.theta[list(PARAM_NAMES)].to_numpy().copy()
    true[:, 0] -= np.log(first)  # log PSA0 relative to the first reading
    err = np.abs(fc.patient_theta_ - true)
    assert np.median(err[:, 3]) < 0.15  # log r_S
    assert np.median(err[:, 5]) < 0.3  # logit delta
    assert abs(fc.error_sd_ - 0.15) < 0.1  # true error sd 0.15 on log PSA


def test_simulation_coverage_of_true_future_values(sim_fit):
    """Rolling-origin coverage on model-family patients within +-0.05 of nominal."""
    sim, _ = sim_fit
    res = rolling_origin_backtest(sim.table.drop(columns="true_log_psa"), PSAForecaster,
                                  n_folds=2, rng=0)  # fmt: skip
    s = summarise(res)
    assert abs(s["coverage_80"] - 0.80) <= 0.05
    assert abs(s["coverage_95"] - 0.95) <= 0.05
    assert s["ratio_last_value"] < 0.5


def test_strategies_and_predict(sim_fit):
    sim, fc = sim_fit
    one = sim.table[sim.table["patient_id"] == "S000"].iloc[:12]
    paths, summary = fc.forecast_strategies(one, "S000", rng=0, n_samples=200)
    assert summary["strategy"].tolist() == list(STRATEGIES)
    assert summary["prob_progression"].between(0, 1).all()
    q = paths.set_index(["strategy", "day"])["q50"]
    day = paths["day"].iloc[5]
    assert q[("stop", day)] > q[("continue", day)]
    assert (paths["q025"] <= paths["q50"]).all() and (paths["q50"] <= paths["q975"]).all()
    out = fc.predict(one, {"S000": [one["day"].iloc[-1] + 28.0]}, rng=0)
    assert (
        out[["q025", "q10", "q50", "q90", "q975"]]
        .apply(np.diff, axis=1)
        .map(lambda d: np.all(d >= 0))
        .all()
    )
    with pytest.raises(InputError, match="strategy"):
        fc.forecast_strategies(one, "S000", strategies=("sometimes",))


# ----------------------------------------------------------------------- real data
@needs_data
def test_real_trial_forecasts_beat_last_value():
    """Prior from 26 patients; 6 others forecast at every switch (fast settings)."""
    t = zhang2022_table(read_trial_psa(TRIAL))
    ids = t["patient_id"].unique()
    test_ids = ["P1001", "P1006", "P1011", "P1012", "C005", "C007"]
    train = t[~t["patient_id"].isin(test_ids)]
    assert len(ids) == 32
    fc = PSAForecaster(max_iter=4, calibrate=False).fit(train)
    test = t[t["patient_id"].isin(test_ids)]
    o = cycle_origins(test)
    tg = next_cycle_targets(test, o)
    o = o[o.set_index(["patient_id", "origin_day"]).index.isin(
        tg.set_index(["patient_id", "origin_day"]).index)]  # fmt: skip
    rows, per = fc.forecast_origins(test, o, tg, rng=0)
    obs = np.log10(rows["observed"])
    at = test.set_index(["patient_id", "day"])["value"]
    last = np.log10(
        at.loc[list(zip(rows["patient_id"], rows["origin_day"], strict=True))].to_numpy()
    )
    assert np.mean(np.abs(obs - np.log10(rows["q50"]))) < 0.8 * np.mean(np.abs(obs - last))
    assert per["prob_event"].between(0, 1).all()
    assert set(per["event"].dropna().unique()) <= {0.0, 1.0}


def test_calibration_marginals_equal_the_joint_gaussian():
    """The eigen-decomposed marginals used in calibration are the joint's diagonal."""
    sim = simulate_cohort(15, rng=2)
    fc = PSAForecaster(max_iter=3, calibrate=False).fit(sim.table)
    ids = sim.table["patient_id"].unique()
    post = fc.posterior(sim.table, [(p, 200.0) for p in ids])
    tt = np.array([[230.0, 260.0, 300.0, 400.0]]) - post.rows.t_first[:, None]
    parts = fc._parts(post, tt)
    marginals = fc._marginals(post, parts, tt)
    for s, c, kappa in [(0.02, 1.0, 1.0), (0.005, 2.0, 1.3), (0.0, 1.0, 1.0)]:
        mean, cov = fc._gauss_joint(post, parts, tt, s, c, kappa)
        m2, v2 = marginals(s, c, kappa)
        np.testing.assert_allclose(m2, mean, atol=1e-10)
        np.testing.assert_allclose(v2, np.diagonal(cov, axis1=1, axis2=2), rtol=1e-9)
    # with a trend part (integrated Brownian motion) in the discrepancy
    fc.trend_ratio_ = 1e-4
    marginals = fc._marginals(post, parts, tt)
    mean, cov = fc._gauss_joint(post, parts, tt, 0.01, 1.5, 1.0)
    m2, v2 = marginals(0.01, 1.5, 1.0)
    np.testing.assert_allclose(m2, mean, atol=1e-9)
    np.testing.assert_allclose(v2, np.diagonal(cov, axis1=1, axis2=2), rtol=1e-8)
    # and with the segment part (intermittent schedules: the sim has on and off segments)
    fc.segment_weight_, fc.segment_scale_ = 300.0, 30.0
    marginals = fc._marginals(post, parts, tt)
    mean, cov = fc._gauss_joint(post, parts, tt, 0.01, 1.5, 1.0)
    m2, v2 = marginals(0.01, 1.5, 1.0)
    np.testing.assert_allclose(m2, mean, atol=1e-9)
    np.testing.assert_allclose(v2, np.diagonal(cov, axis1=1, axis2=2), rtol=1e-8)


def test_segment_phase_counts_days_from_the_segment_start():
    from oncoresist.forecast.psa import segment_phase

    visits = (np.array([0.0, 30.0, 90.0, 120.0, 200.0]), np.array([1, 1, 0, 0, 1]))
    phase, kind = segment_phase(visits, np.array([0.0, 45.0, 90.0, 150.0, 200.0, 260.0]))
    np.testing.assert_allclose(phase, [0.0, 45.0, 0.0, 60.0, 0.0, 60.0])
    assert kind.tolist() == [1, 1, 0, 0, 1, 1]


def test_segment_part_links_the_same_point_of_each_cycle_only():
    """A residual at day 20 of one on-segment moves the forecast at day 20 of the next
    on-segment, not at day 20 of an off-segment; unknown segments share nothing."""
    from oncoresist.forecast.psa import UNKNOWN_SEGMENT, _segment_kernel

    pa = np.array([20.0, 20.0, 20.0, 80.0])
    ka = np.array([1, 1, 0, 1])
    k = _segment_kernel(pa[:, None], ka[:, None], pa[None], ka[None], 30.0)
    assert k[0, 1] == 1.0 and k[0, 2] == 0.0
    assert k[0, 3] == pytest.approx(np.exp(-2.0))
    unknown = np.full(2, UNKNOWN_SEGMENT)
    cross = _segment_kernel(pa[:2, None], ka[:2, None], pa[None, :2], unknown[None], 30.0)
    assert not cross.any()
    assert np.all(np.linalg.eigvalsh(k) > -1e-12)  # a valid covariance


def test_trend_kernel_is_brownian_plus_integrated_brownian():
    """k(s, t) = min + rho min^2 (3 max - min) / 6: the covariance of W + sqrt(rho) int W."""
    from oncoresist.forecast.psa import _kernel

    rng = np.random.default_rng(0)
    dt, n = 0.5, 40_000
    steps = rng.standard_normal((n, 80)) * np.sqrt(dt)
    w = np.cumsum(steps, axis=1)
    v = np.cumsum(rng.standard_normal((n, 80)) * np.sqrt(dt), axis=1)
    v_left = np.concatenate([np.zeros((n, 1)), v[:, :-1]], axis=1)
    integral = np.cumsum(0.5 * (v + v_left), axis=1) * dt  # trapezoid rule
    x = w + np.sqrt(0.1) * integral  # W + sqrt(rho) * (integral of an independent W')
    t = dt * np.arange(1, 81)
    emp = np.cov(x[:, [19, 59]].T)
    want = _kernel(t[[19, 59]][:, None], t[[19, 59]][None, :], 0.1)
    # Monte Carlo (40,000 paths) and the trapezoid rule of the integral: 5 % tolerance
    np.testing.assert_allclose(emp, want, rtol=0.05)
