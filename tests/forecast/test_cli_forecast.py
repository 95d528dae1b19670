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
    assert "3 readings" in res.stderr and "at least 4" in res.stderr


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
