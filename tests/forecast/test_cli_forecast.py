"""``oncoresist forecast``: backtest and predict from a measurements file, refusals, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from oncoresist.cli import app
from oncoresist.forecast.psa import simulate_cohort

runner = CliRunner()


def cli(*args: str) -> subprocess.CompletedProcess:
    """The installed command as a user runs it (exit status 2 for input errors)."""
    return subprocess.run([sys.executable, "-m", "oncoresist", "forecast", *args],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "220"})  # fmt: skip


@pytest.fixture(scope="module")
def measurements(tmp_path_factory):
    sim = simulate_cohort(10, rng=3).table
    path = tmp_path_factory.mktemp("forecast") / "psa.csv"
    sim.assign(marker="psa")[["patient_id", "day", "marker", "value", "on_treatment"]].to_csv(
        path, index=False
    )
    return path


def test_backtest_writes_one_row_per_target_and_prints_the_baselines(measurements, tmp_path):
    res = runner.invoke(app, ["forecast", "backtest", str(measurements), "--folds", "2",
                              "-o", str(tmp_path)])  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = pd.read_csv(tmp_path / "forecasts.csv")
    assert {"patient_id", "origin_day", "target_day", "observed", "median", "q10", "q90",
            "q025", "q975"} <= set(rows.columns)  # fmt: skip
    assert (rows["q025"] <= rows["median"]).all() and (rows["median"] <= rows["q975"]).all()
    origins = pd.read_csv(tmp_path / "origins.csv")
    assert origins["prob_progression_180d"].between(0, 1).all()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert {"mae_log10", "mae_last_value", "mae_repeat_cycle"} <= set(summary)
    assert "last value" in res.output and "repeat previous cycle" in res.output


def test_predict_refuses_too_little_data(measurements, tmp_path):
    table = pd.read_csv(measurements)
    first = table["patient_id"].iloc[0]
    short = table[(table["patient_id"] != first) | (table.groupby("patient_id").cumcount() < 3)]
    path = tmp_path / "short.csv"
    short.to_csv(path, index=False)
    res = cli("predict", str(path), "--patient", first, "-o", str(tmp_path / "p"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "3 PSA readings" in res.stderr and "at least 4" in res.stderr


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.drop(columns="on_treatment"), "on_treatment"),
        (lambda t: t.assign(marker="lesion_volume"), "no psa measurements"),
    ],
)
def test_bad_input_exits_2_with_a_located_message(measurements, tmp_path, edit, message):
    path = tmp_path / "bad.csv"
    edit(pd.read_csv(measurements)).to_csv(path, index=False)
    res = cli("backtest", str(path), "-o", str(tmp_path / "o"))
    assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr


def test_fit_writes_a_prior_that_predict_uses(measurements, tmp_path):
    prior = tmp_path / "prior.json"
    res = runner.invoke(app, ["forecast", "fit", str(measurements), "-o", str(prior)])
    assert res.exit_code == 0, res.output
    assert "population prior: 10 patients" in res.output
    data = json.loads(prior.read_text())
    assert data["n_patients"] == 10 and "S00" not in prior.read_text()
    # one patient alone in a file: the prior comes from --prior, not from the file
    one = pd.read_csv(measurements)
    one = one[one["patient_id"] == "S004"]
    path = tmp_path / "one.csv"
    one.to_csv(path, index=False)
    res = runner.invoke(app, ["forecast", "predict", str(path), "--patient", "S004",
                              "--prior", str(prior), "-o", str(tmp_path / "p")])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "prior in prior.json" in " ".join(res.output.split())
    paths = pd.read_csv(tmp_path / "p" / "paths.csv")
    assert (paths["q25"] <= paths["q50"]).all() and (paths["q50"] <= paths["q75"]).all()
    strategies = pd.read_csv(tmp_path / "p" / "strategies.csv")
    assert {"ttp_q25", "ttp_q75", "prob_progression_horizon"} <= set(strategies.columns)
    # without --prior and without 5 other patients: the bundled prior, said so
    res = runner.invoke(app, ["forecast", "predict", str(path), "--patient", "S004",
                              "-o", str(tmp_path / "q")])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "bundled prior" in " ".join(res.output.split())


def test_fit_refuses_a_cohort_too_small_for_a_prior(measurements, tmp_path):
    small = pd.read_csv(measurements)
    small = small[small["patient_id"].isin(["S000", "S001", "S002"])]
    path = tmp_path / "small.csv"
    small.to_csv(path, index=False)
    res = cli("fit", str(path), "-o", str(tmp_path / "prior.json"))
    assert res.returncode == 2 and "at least 5" in res.stderr
    assert not (tmp_path / "prior.json").exists()


def test_censored_readings_are_scored_as_below_their_limit(tmp_path):
    """A '<0.1' target is an error only by how far a forecast lies above 0.1."""
    from oncoresist.forecast.backtest import BacktestResult, summarise

    rows = pd.DataFrame({
        "observed": [0.0, 0.0, 5.0], "below_lloq": [0.1, 0.1, float("nan")],
        "q025": [0.01, 0.2, 1.0], "q10": [0.02, 0.3, 2.0], "q50": [0.05, 1.0, 5.0],
        "q90": [0.2, 2.0, 8.0], "q975": [0.5, 3.0, 20.0], "crps_log10": 0.0,
        "last_value_log10": [-1.0, 0.0, 0.0], "repeat_cycle_log10": [-2.0, -1.0, 0.0],
        "has_previous_cycle": True,
    })  # fmt: skip
    s = summarise(BacktestResult(rows, pd.DataFrame()))
    # errors: 0 (median below the limit), 1 (log10 1.0 - log10 0.1), 0
    assert s["mae_log10"] == pytest.approx(1.0 / 3.0)
    assert s["mae_last_value"] == pytest.approx((0.0 + 1.0 + 0.69897) / 3.0, abs=1e-4)
    assert s["mae_repeat_cycle"] == pytest.approx((0.0 + 0.0 + 0.69897) / 3.0, abs=1e-4)
    # covered: the first interval reaches below 0.1, the second does not
    assert s["coverage_80"] == pytest.approx(2.0 / 3.0)


@pytest.fixture(scope="module")
def sizes(tmp_path_factory):
    from oncoresist.forecast.size import simulate_size_cohort

    sim = simulate_size_cohort(14, rng=1).table
    path = tmp_path_factory.mktemp("size") / "sizes.csv"
    sim.assign(marker="sum_of_diameters")[
        ["patient_id", "day", "marker", "value", "on_treatment"]
    ].to_csv(path, index=False)
    return path


def test_size_backtest_and_predict_run_from_the_command_line(sizes, tmp_path):
    res = runner.invoke(app, ["forecast", "backtest", str(sizes), "--marker", "sum_of_diameters",
                              "--folds", "2", "-o", str(tmp_path / "b")])  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = pd.read_csv(tmp_path / "b" / "forecasts.csv")
    assert len(rows) > 0 and (rows["q10"] <= rows["q90"]).all()
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary["mae_log10"] < summary["mae_last_value"]  # simulated with real dynamics
    res = runner.invoke(app, ["forecast", "predict", str(sizes), "--marker", "sum_of_diameters",
                              "--patient", "T003", "-o", str(tmp_path / "p")])  # fmt: skip
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "RECIST 1.1" in text and "user-given" in text
    # stopping is assessed for size (RECIST counts growth off treatment)
    assert "not assessed" not in text


def test_fit_is_for_psa_and_says_so(sizes, tmp_path):
    res = cli("fit", str(sizes), "--marker", "sum_of_diameters", "-o", str(tmp_path / "p.json"))
    assert res.returncode == 2 and "'fit' writes PSA priors" in res.stderr
    res = cli("backtest", str(sizes), "--marker", "cea", "-o", str(tmp_path / "x"))
    assert res.returncode == 2 and "expected one of psa" in res.stderr
