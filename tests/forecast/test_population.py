"""Population fits: input checks, censoring, recovery and calibration on simulated cohorts,
determinism, leave-one-out priors, stacking, and the Laleh 2022 lesions (skipped when absent).

Simulated cohorts are drawn from the model family itself (population N(mu, Omega) on the
unconstrained scale, additive Gaussian error on the cube-root scale) with fixed seeds.
Tolerances: population means within 0.15 (log units), coverage of true future readings
within +-0.05 of nominal.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oncoresist.errors import InputError
from oncoresist.forecast import (
    PopulationModel,
    StackedForecaster,
    as_batch,
    coverage,
    kfold_forecast,
    mae,
    split_last,
    stacking_weights,
)
from oncoresist.forecast.growth import MODELS

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "forecast"
LALEH = DATA / "laleh2022_lesion_volumes_flat.csv"
needs_data = pytest.mark.skipif(not LALEH.exists(), reason="needs ../shared/data/forecast")

DAYS = np.array([0.0, 42, 84, 126, 168, 210, 252, 294])


def simulate(model, mu, omega, n, *, sd=0.05, seed=0, lloq=None):
    rng = np.random.default_rng(seed)
    theta = rng.multivariate_normal(mu, omega, size=n)
    f = MODELS[model](np.tile(DAYS, (n, 1)), theta)
    z = f ** (1 / 3) + sd * rng.standard_normal(f.shape)
    y = np.maximum(z, 0.0) ** 3
    frame = pd.DataFrame(
        {
            "patient_id": np.repeat([f"p{i}" for i in range(n)], len(DAYS)),
            "day": np.tile(DAYS, n),
            "value": y.ravel(),
        }
    )
    if lloq is not None:
        frame["lower_limit_of_quantification"] = lloq
        frame.loc[frame["value"] < lloq, "value"] = 0.0
    return frame, theta


# ------------------------------------------------------------------------------ input
def test_bad_input_is_located():
    good = pd.DataFrame({"patient_id": ["a"] * 3, "day": [0.0, 10, 20], "value": [1.0, 2, 3]})
    unsorted = good.assign(day=[0.0, 20, 10])
    with pytest.raises(InputError, match="not in time order") as err:
        as_batch(unsorted, source="m.csv")
    assert err.value.record == 4 and err.value.field == "day" and err.value.file == "m.csv"
    with pytest.raises(InputError, match="not a size >= 0") as err:
        as_batch(good.assign(value=[1.0, -2, 3]))
    assert err.value.record == 3 and err.value.field == "value"
    with pytest.raises(InputError, match="has 1 reading"):
        as_batch(pd.concat([good, good.iloc[:1].assign(patient_id="b")]))
    with pytest.raises(InputError, match="missing column 'day'"):
        as_batch(good.drop(columns="day"))
    with pytest.raises(InputError, match="not fitted"):
        PopulationModel("gompertz").posterior(good)
    with pytest.raises(InputError, match="prior='flat'"):
        PopulationModel("gompertz", prior="flat").fit(good)


def test_ties_in_days_are_allowed_and_censoring_is_read():
    frame = pd.DataFrame(
        {
            "patient_id": ["a"] * 4,
            "day": [0.0, 10, 10, 20],
            "value": [1.0, 0.0, np.nan, 3],
            "lower_limit_of_quantification": [0.5, 0.5, 0.5, np.nan],
        }
    )
    batch = as_batch(frame)
    assert batch.censored[0].tolist() == [False, True, True, False]
    assert batch.t_last[0] == 20.0 and batch.last_lloq[0] == 0.5


# ------------------------------------------------------------------------------ censoring
def test_censored_readings_are_not_zeros():
    # shrinking lesions, many falling below the LLOQ: the Tobit fit recovers the decay rate,
    # reading the censored values as zeros would not
    mu = np.array([np.log(1.0), -0.012])
    omega = np.diag([0.1, 1e-6])
    frame, _ = simulate("exponential", mu, omega, 150, sd=0.03, seed=1, lloq=0.08)
    assert (frame["value"] == 0).mean() > 0.2
    tobit = PopulationModel("exponential", error="additive", discrepancy="none").fit(frame)
    zeros = PopulationModel("exponential", error="additive", discrepancy="none").fit(
        frame.drop(columns="lower_limit_of_quantification")
    )
    assert tobit.mu_[1] == pytest.approx(-0.012, abs=0.001)
    assert abs(zeros.mu_[1] + 0.012) > 3 * abs(tobit.mu_[1] + 0.012)
    pred = tobit.predict(frame[frame["day"] <= 126], {"p0": [400.0]}, rng=0, below_lloq=0.0)
    assert pred["prob_below_lloq"].iloc[0] > 0.5 and pred["q50"].iloc[0] == 0.0


# ------------------------------------------------------------------------------ simulation
@pytest.fixture(scope="module")
def gompertz_cohorts():
    mu = np.array([np.log(1.0), np.log(0.3), np.log(0.01)])
    omega = np.diag([0.2, 0.3, 0.1]) ** 2 * 4
    train, _ = simulate("gompertz", mu, omega, 300, seed=2)
    test, theta = simulate("gompertz", mu, omega, 300, seed=3)
    model = PopulationModel("gompertz", error="additive").fit(train)
    return mu, omega, model, test, theta


def test_population_parameters_are_recovered(gompertz_cohorts):
    mu, omega, model, _, _ = gompertz_cohorts
    np.testing.assert_allclose(model.mu_, mu, atol=0.15)
    np.testing.assert_allclose(np.sqrt(np.diag(model.omega_)), np.sqrt(np.diag(omega)), rtol=0.3)
    assert model.error_[0] == pytest.approx(0.05, rel=0.15)


def test_patient_parameters_are_recovered(gompertz_cohorts):
    _, _, model, test, theta = gompertz_cohorts
    post = model.posterior(test)
    # the posterior mode is closer to the truth than the population mean is
    err_post = np.abs(post.theta - theta).mean(axis=0)
    err_prior = np.abs(model.mu_ - theta).mean(axis=0)
    assert np.all(err_post < err_prior)
    # and the Laplace intervals cover the true log V0 about as often as they should
    z = (post.theta[:, 0] - theta[:, 0]) / np.sqrt(post.cov[:, 0, 0])
    assert np.mean(np.abs(z) < 1.2816) == pytest.approx(0.8, abs=0.05)


def test_forecast_coverage_of_true_future_readings(gompertz_cohorts):
    _, _, model, test, _ = gompertz_cohorts
    past, future = split_last(test, 2)
    pred = model.predict(past, future[["patient_id", "day"]], n_samples=2000, rng=4)
    obs = future["value"].to_numpy()
    assert coverage(obs, pred["q10"], pred["q90"]) == pytest.approx(0.80, abs=0.05)
    assert coverage(obs, pred["q025"], pred["q975"]) == pytest.approx(0.95, abs=0.05)


def test_forecasts_are_deterministic_with_a_seed(gompertz_cohorts):
    _, _, model, test, _ = gompertz_cohorts
    past, future = split_last(test.iloc[:80], 2)
    a = model.predict(past, future[["patient_id", "day"]], rng=7)
    b = model.predict(past, future[["patient_id", "day"]], rng=7)
    pd.testing.assert_frame_equal(a, b)


def test_leave_one_out_priors_downdate_the_statistics(gompertz_cohorts):
    _, _, model, _, _ = gompertz_cohorts
    mu, omega = model.loo_priors()
    post = model.posterior_
    n = len(post.ids)
    keep = np.arange(n) != 5
    np.testing.assert_allclose(mu[5], post.theta[keep].mean(axis=0))
    second = (post.theta[keep, :, None] * post.theta[keep, None, :] + post.cov[keep]).mean(0)
    np.testing.assert_allclose(omega[5], second - np.outer(mu[5], mu[5]), atol=1e-7)


# ------------------------------------------------------------------------------ stacking
def test_stacking_weights_pick_the_better_model():
    rng = np.random.default_rng(0)
    good = -0.5 * rng.standard_normal(500) ** 2
    bad = good - 2.0
    w = stacking_weights(np.column_stack([bad, good]))
    assert w[1] > 0.95 and w.sum() == pytest.approx(1.0)


def test_stacked_forecaster_runs_and_mixes(gompertz_cohorts):
    _, _, _, test, _ = gompertz_cohorts
    small = test[test["patient_id"].isin([f"p{i}" for i in range(60)])]
    past, future = split_last(small, 2)
    stack = StackedForecaster(("exponential", "gompertz"), error="additive").fit(small)
    assert stack.weights_.sum() == pytest.approx(1.0)
    pred = stack.predict(past, future[["patient_id", "day"]], rng=0)
    assert np.all(pred["q10"] <= pred["q50"]) and np.all(pred["q50"] <= pred["q90"])


# ------------------------------------------------------------------------------ real data
@needs_data
def test_laleh_subset_forecasts_are_calibrated():
    raw = pd.read_csv(LALEH)
    raw = raw[raw["readings"] >= 6]
    ids = raw["Pt_hashID"].drop_duplicates().sample(200, random_state=0)
    raw = raw[raw["Pt_hashID"].isin(ids)]
    data = pd.DataFrame(
        {
            "patient_id": raw["Pt_hashID"],
            "day": raw["T_days"].astype(float),
            "value": raw["Lesion_normvol"],
            "lower_limit_of_quantification": 1.0e-5,
        }
    )
    out = kfold_forecast(
        data,
        lambda: PopulationModel("gompertz", calibration="coverage"),
        n_folds=3,
        below_lloq=0.0,
        n_samples=500,
    )
    past, future = split_last(data, 2)
    last = future["patient_id"].map(past.groupby("patient_id", sort=False)["value"].last())
    assert len(out) == 400
    # calibrated, and within a factor of 1.5 of persistence on this subset
    assert coverage(out["observed"], out["q10"], out["q90"]) == pytest.approx(0.8, abs=0.08)
    assert mae(out["observed"], out["q50"]) < 1.5 * mae(future["value"], last)
