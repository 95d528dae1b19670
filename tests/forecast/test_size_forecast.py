"""Tumour-size track: treatment-effect models (closed form = ODE), input errors, a
simulation check (recovery, coverage of future readings), strategies, the heavy-tailed
wrapper of PopulationModel."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import solve_ivp

from oncoresist.errors import InputError
from oncoresist.forecast.backtest import rolling_origin_backtest, summarise
from oncoresist.forecast.growth import EXPOSURE_MODELS, exposure_days, get_exposure_model
from oncoresist.forecast.size import (
    STRATEGIES,
    SizeForecaster,
    StudentTForecaster,
    check_marker_table,
    simulate_size_cohort,
)

THETA = {
    "stein_onoff": [np.log(50.0), -1.5, np.log(0.02), np.log(0.006)],
    "claret_onoff": [np.log(50.0), np.log(0.004), np.log(0.03), np.log(0.01)],
}


# ----------------------------------------------------------------------- models
def test_exposure_days_by_hand():
    got = exposure_days(np.array([-5.0, 10.0, 30.0, 50.0, 90.0]), np.array([0.0, 20.0, 40.0]),
                        np.array([1, 0, 1]))  # fmt: skip
    np.testing.assert_allclose(got, [0.0, 10.0, 20.0, 30.0, 70.0])


@pytest.mark.parametrize("name", sorted(EXPOSURE_MODELS))
def test_closed_form_matches_the_ode_under_a_schedule(name):
    """On 60 d, off 50 d, on 70 d: closed form = LSODA solution to 1e-6 (relative)."""
    model = EXPOSURE_MODELS[name]
    theta = np.array(THETA[name])
    nat = {k: float(v) for k, v in model.natural(theta).items()}
    change, status = np.array([0.0, 60.0, 110.0]), np.array([1, 0, 1])
    x = model.state0(nat["v0"], nat)
    days = np.linspace(0.0, 180.0, 37)
    ode = [model.size(x)]
    for a, b in itertools.pairwise(days):
        u = float(status[np.searchsorted(change, a, side="right") - 1])
        sol = solve_ivp(lambda t, y, u=u: model.ode(t, y, u, nat), (a, b), x, method="LSODA",
                        rtol=1e-10, atol=1e-12)  # fmt: skip
        x = sol.y[:, -1]
        ode.append(model.size(x))
    closed = model(days, exposure_days(days, change, status), theta)
    np.testing.assert_allclose(closed, ode, rtol=1e-6)


def test_models_broadcast_and_reduce_to_always_on_forms():
    m = EXPOSURE_MODELS["claret_onoff"]
    t = np.linspace(0, 100, 5)
    th = np.tile(np.array(THETA["claret_onoff"]), (3, 2, 1))
    assert m(t, t, th).shape == (3, 2, 5)
    # always on: the Claret curve of growth.MODELS
    from oncoresist.forecast.growth import MODELS

    np.testing.assert_allclose(
        m(t, t, np.array(THETA["claret_onoff"])),
        MODELS["claret"](t, np.array(THETA["claret_onoff"])),
    )
    with pytest.raises(InputError, match="unknown treatment-effect model"):
        get_exposure_model("nope")


# ----------------------------------------------------------------------- input
def _table(**change):
    t = pd.DataFrame(
        {"patient_id": ["a"] * 4 + ["b"] * 4, "day": [0, 42, 84, 126] * 2,
         "value": [50.0, 40.0, 38.0, 45.0, 30.0, 28.0, 29.0, 35.0], "on_treatment": 1}
    )  # fmt: skip
    for (row, col), v in change.get("cells", {}).items():
        if isinstance(v, str):
            t[col] = t[col].astype(object)
        t.loc[row, col] = v
    return t


@pytest.mark.parametrize(
    ("cells", "marker", "field", "line", "match"),
    [
        ({(2, "day"): 10}, "sum_of_diameters", "day", 4, "must increase"),
        ({(1, "value"): -3.0}, "sum_of_diameters", "value", 3, "not a value > 0"),
        ({(5, "value"): 1.3}, "ctdna_vaf", "value", 7, "percentage"),
        ({(6, "value"): 0.0}, "ctdna_mtm_per_ml", "value", 8, "lower_limit"),
        ({(3, "on_treatment"): 2}, "sum_of_diameters", "on_treatment", 5, "0 or 1"),
        ({(0, "day"): "x"}, "sum_of_diameters", "day", 2, "finite number"),
    ],
)
def test_bad_input_is_located(cells, marker, field, line, match):
    t = _table(cells=cells)
    if marker == "ctdna_vaf":
        t["value"] = t["value"] / 100.0
        t.loc[5, "value"] = 1.3
    with pytest.raises(InputError, match=match) as err:
        check_marker_table(t, marker=marker)
    assert err.value.field == field
    assert err.value.record == line


def test_unknown_marker_one_reading_missing_column():
    with pytest.raises(InputError, match=r"unknown marker 'psa'.*PSAForecaster"):
        check_marker_table(_table(), marker="psa")
    with pytest.raises(InputError, match="1 sum_of_diameters reading"):
        check_marker_table(_table().iloc[:5], marker="sum_of_diameters")
    with pytest.raises(InputError, match="on_treatment"):
        check_marker_table(_table().drop(columns="on_treatment"))
    with pytest.raises(InputError, match="not fitted"):
        SizeForecaster().forecast_strategies(_table(), "a")


def test_zero_sum_is_censored_at_five_mm_and_marker_rows_selected():
    t = _table(cells={(3, "value"): 0.0})
    t["marker"] = "sum_of_diameters"
    extra = t.iloc[:2].assign(marker="psa")
    out = check_marker_table(pd.concat([t, extra], ignore_index=True))
    assert len(out) == 8
    assert out["lower_limit_of_quantification"].iloc[3] == 5.0
    assert np.isnan(out["lower_limit_of_quantification"].iloc[2])


# ----------------------------------------------------------------------- simulation
@pytest.fixture(scope="module")
def sim_fit():
    sim = simulate_size_cohort(60, rng=5)
    return sim, SizeForecaster().fit(sim.table.drop(columns="true_value"))


def test_simulation_parameter_recovery(sim_fit):
    """Population mean and per-patient modes of the true family (seed 5, 60 x 10 scans)."""
    sim, fc = sim_fit
    stein = fc.members_[0]
    assert stein.model.name == "stein_onoff"
    assert fc.weights_[0] > 0.7  # stacking prefers the true family
    true = sim.theta[list(stein.model.param_names)].to_numpy().copy()
    first = sim.table.groupby("patient_id", sort=False)["value"].first().to_numpy()
    true[:, 0] -= np.log(first)
    # population means (truth: 0 relative, -2.2, log 0.015, log 0.004)
    np.testing.assert_allclose(stein.mu[1:], [-2.2, np.log(0.015), np.log(0.004)], atol=0.25)
    err = np.abs(stein.theta - true)
    assert np.median(err[:, 2]) < 0.2  # log kill rate
    assert np.median(err[:, 3]) < 0.2  # log growth rate
    assert np.corrcoef(stein.theta[:, 3], true[:, 3])[0, 1] > 0.6
    assert abs(stein.a - 0.08) < 0.02  # true error sd 0.08 on log size


def test_simulation_coverage_of_future_readings(sim_fit):
    """Rolling origins (every scan from the 3rd), 2-fold: coverage within +-0.05 of nominal."""
    sim, _ = sim_fit
    res = rolling_origin_backtest(sim.table.drop(columns="true_value"), SizeForecaster,
                                  rule="every", n_folds=2, rng=0)  # fmt: skip
    s = summarise(res)
    assert abs(s["coverage_80"] - 0.80) <= 0.05
    assert abs(s["coverage_95"] - 0.95) <= 0.05
    assert s["ratio_last_value"] < 0.8
    assert s["auc"] > 0.8  # RECIST progression within 180 days
    assert set(res.origins["event"].dropna().unique()) <= {0.0, 1.0}


def test_strategies_and_predict(sim_fit):
    sim, fc = sim_fit
    one = sim.table[sim.table["patient_id"] == "T001"].iloc[:5].drop(columns="true_value")
    paths, summary = fc.forecast_strategies(one, "T001", rng=0, new_drug_kill_per_day=0.01)
    assert summary["strategy"].tolist() == list(STRATEGIES)
    assert summary["prob_progression"].between(0, 1).all()
    assert "0.01/day" in summary.set_index("strategy").loc["switch", "assumption"]
    q = paths.set_index(["strategy", "day"])["q50"]
    day = paths["day"].iloc[-1]
    assert q[("stop", day)] > q[("continue", day)] > q[("add", day)]
    assert q[("switch", day)] < q[("stop", day)]
    p = summary.set_index("strategy")["prob_progression"]
    assert p["stop"] >= p["continue"] >= p["add"]
    assert (paths["q025"] <= paths["q50"]).all() and (paths["q50"] <= paths["q975"]).all()
    out = fc.predict(one, {"T001": [one["day"].iloc[-1] + 42.0, one["day"].iloc[-1] + 84.0]},
                     schedule={"T001": ([one["day"].iloc[-1]], [0])}, rng=0)  # fmt: skip
    qs = out[["q025", "q10", "q50", "q90", "q975"]].to_numpy()
    assert (np.diff(qs, axis=1) >= 0).all()
    with pytest.raises(InputError, match="strategy"):
        fc.forecast_strategies(one, "T001", strategies=("sometimes",))


def test_predict_is_deterministic_with_a_seed(sim_fit):
    sim, fc = sim_fit
    one = sim.table[sim.table["patient_id"] == "T002"].iloc[:6]
    a = fc.forecast_strategies(one, "T002", rng=3)[1]
    b = fc.forecast_strategies(one, "T002", rng=3)[1]
    pd.testing.assert_frame_equal(a, b)


# ----------------------------------------------------------------------- heavy tails
def test_student_t_wrapper_widens_tails_not_the_median():
    """Heavy-tailed errors (t with 2.5 df): the wrapper's nu is small and its 95 % interval
    wider than the Gaussian member's, with the same median."""
    from oncoresist.forecast.population import PopulationModel, kfold_forecast

    rng = np.random.default_rng(1)
    rows = []
    for p in range(60):
        v0, r = 100 * np.exp(0.3 * rng.standard_normal()), 0.004 * rng.standard_normal()
        for d in np.arange(8) * 42.0:
            rows.append((p, d, (v0 * np.exp(r * d)) ** (1 / 3) + 0.2 * rng.standard_t(2.5)))
    data = pd.DataFrame(rows, columns=["patient_id", "day", "value"])
    data["value"] = np.maximum(data["value"], 0.1) ** 3
    gauss = kfold_forecast(data, lambda: PopulationModel("exponential"), n_folds=2, rng=0)
    heavy = kfold_forecast(data, lambda: StudentTForecaster("exponential"), n_folds=2, rng=0)
    # same median up to the Gaussian member's Monte Carlo quantiles (1000 draws)
    assert np.median(np.abs(heavy["q50"] / gauss["q50"] - 1.0)) < 0.02
    fc = StudentTForecaster("exponential").fit(data)
    assert fc.nu_ < 8
    assert StudentTForecaster("exponential", nu_by="logscore").fit(data).nu_ < 30
    y = heavy["observed"]
    cov95 = np.mean((y >= heavy["q025"]) & (y <= heavy["q975"]))
    cov80 = np.mean((y >= heavy["q10"]) & (y <= heavy["q90"]))
    assert abs(cov80 - 0.80) <= 0.06
    assert 0.92 <= cov95 <= 0.99
