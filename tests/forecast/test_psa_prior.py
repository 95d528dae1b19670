"""Saved PSA priors, the bundled prior and the readiness refusal."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from oncoresist.errors import InputError
from oncoresist.forecast import PSAForecaster, default_forecaster, readiness, simulate_cohort


@pytest.fixture(scope="module")
def fitted() -> PSAForecaster:
    sim = simulate_cohort(12, rng=3)
    return PSAForecaster(max_iter=3, calibrate=False).fit(sim.table)


def test_save_load_round_trip_gives_the_same_forecast(fitted, tmp_path):
    path = tmp_path / "prior.json"
    fitted.save(path)
    loaded = PSAForecaster.load(path)
    np.testing.assert_array_equal(loaded.mu_, fitted.mu_)
    np.testing.assert_array_equal(loaded.omega_, fitted.omega_)
    one = simulate_cohort(1, rng=9).table.iloc[:10]
    a = fitted.predict(one, {"S000": [300.0, 330.0]}, rng=0)
    b = loaded.predict(one, {"S000": [300.0, 330.0]}, rng=0)
    pd.testing.assert_frame_equal(a, b)
    # population quantities only: no patient identifier in the file
    assert "S0" not in path.read_text()


def test_the_segment_part_survives_a_round_trip_and_old_priors_still_load(fitted, tmp_path):
    fitted.segment_weight_, fitted.segment_scale_ = 300.0, 90.0
    try:
        data = fitted.to_dict()
    finally:
        fitted.segment_weight_, fitted.segment_scale_ = 0.0, 30.0
    loaded = PSAForecaster.from_dict(data)
    assert (loaded.segment_weight_, loaded.segment_scale_) == (300.0, 90.0)
    old = {k: v for k, v in data.items() if k not in ("segment_weight", "segment_scale")}
    old["format"] = "oncoresist.forecast.psa/2"  # written before the segment part
    assert PSAForecaster.from_dict(old).segment_weight_ == 0.0
    with pytest.raises(InputError):
        PSAForecaster.from_dict({**data, "segment_scale": 0.0})


def test_a_file_that_is_not_a_prior_is_refused(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(InputError, match="not an oncoresist PSA prior"):
        PSAForecaster.load(bad)
    bad.write_text("{not json")
    with pytest.raises(InputError, match="cannot read"):
        PSAForecaster.load(bad)


def test_a_prior_with_a_broken_covariance_is_refused(fitted, tmp_path):
    data = fitted.to_dict()
    data["omega"] = (-np.eye(6)).tolist()
    with pytest.raises(InputError, match="positive-definite"):
        PSAForecaster.from_dict(data)


def test_bundled_prior_carries_its_source_accuracy_and_assumptions():
    fc = default_forecaster("psa")
    assert fc.accuracy_["n_patients"] == 32
    # the backtest beat carrying the last value forward, and its intervals were calibrated
    assert fc.accuracy_["mae_log10"] < fc.accuracy_["mae_last_value"]
    assert 0.7 < fc.accuracy_["coverage_80"] < 0.9
    assert any("PCWG3" in a for a in fc.assumptions_)
    with pytest.raises(InputError, match="no bundled prior"):
        default_forecaster("cea")


def test_readiness_names_what_is_missing():
    few = pd.DataFrame({"day": [0.0, 28.0, 56.0], "value": [10.0, 5, 3], "on_treatment": 1})
    assert "3 PSA readings" in readiness(few)
    never = pd.DataFrame({"day": [0.0, 28, 56, 84], "value": [10.0, 11, 12, 13],
                          "on_treatment": [0, 0, 0, 1]})  # fmt: skip
    assert "no reading after a start of treatment" in readiness(never)
    ok = pd.DataFrame({"day": [0.0, 28, 56, 84], "value": [10.0, 5, 3, 2], "on_treatment": 1})
    assert readiness(ok) is None
