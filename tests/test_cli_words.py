"""Words for edge cases: no table says inf, nan or 1 (1-1); an undetected call reads ND.

The unit tests pin :mod:`oncoresist._words`; the others run the example commands a new user
runs first and grep what they print.
"""

from __future__ import annotations

import math
import re

import pytest
from typer.testing import CliRunner

from oncoresist._words import (
    below_lod,
    call_value,
    days,
    hazard_ratio,
    interval,
    number,
    percent,
)
from oncoresist.cli import app

runner = CliRunner()
INF, NAN = math.inf, math.nan
#: what no printed table may show: Python's inf/nan, a reference arm's "1 (1-1)"
BAD = re.compile(r"\b-?inf\b|\bnan\b|\b1(\.0+)? \(1(\.0+)?-1(\.0+)?\)", re.IGNORECASE)


def test_number_days_and_intervals():
    assert number(0.1234) == "0.123" and number(2.5, ".1f") == "2.5"
    assert number(INF) == "not reached" and number(-INF) == "not reached"
    assert number(NAN) == "not estimable" and number(None) == "not estimable"
    assert number(INF, infinite="infinite") == "infinite"
    assert days(391.6) == "392" and days(INF) == "not reached"
    assert interval(392, 364, 420) == "392 (364-420)"
    assert interval(812, 756, INF) == "812 (756-not reached)"
    assert interval(INF, INF, INF) == "not reached" and interval(INF, 700, INF) == "not reached"
    assert interval(NAN, 1, 2) == "not estimable"
    assert interval(5, NAN, NAN) == "5"


def test_hazard_ratio_words():
    assert hazard_ratio(0.45, 0.38, 0.53) == "0.45 (0.38-0.53)"
    assert hazard_ratio(1.0, 1.0, 1.0) == "reference"
    assert hazard_ratio(0.8, 0.5, 1.2, reference=True) == "reference"
    assert hazard_ratio(NAN, NAN, NAN) == "not estimable"
    assert hazard_ratio(INF, 0, INF) == "not estimable"
    assert hazard_ratio(1.0, 0.7, 1.4) == "1.00 (0.70-1.40)"  # an estimated 1 is a number


def test_percent_and_below_lod():
    assert percent(0.0057) == "0.57 %" and percent(0.0) == "0.00 %"
    assert percent(0.000012) == "0.0012 %"
    assert below_lod(0.0005) == "ND (< LoD 0.05 %)"
    assert below_lod(0.002242) == "ND (< LoD 0.22 %)"
    assert below_lod(INF) == "ND (LoD not reached)" and below_lod(None) == "ND"
    assert call_value(0.0586, 0.0022, detected=True) == "5.86 %"
    assert call_value(0.0005, 0.0022, detected=False) == "ND (< LoD 0.22 %)"


@pytest.fixture(autouse=True)
def _wide(monkeypatch):
    """Tables as wide as they need: a folded cell would split the words under test."""
    from oncoresist.cli import _common

    monkeypatch.setattr(_common.out, "_width", 240)


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args), terminal_width=240)
    assert result.exit_code == 0, result.output
    return result.output


def test_monitor_demo_reads_nd_below_the_lod_not_a_vaf():
    text = _run("monitor", "demo")
    assert not BAD.search(text), text
    assert "ND (< LoD 0.22 %)" in text  # C797S at baseline: 0 reads of 3311, LoD 0.224 %
    # an undetected call never shows as a VAF: before, 0 or 1 reads read "0.00%" or "0.05%"
    cells = [c.strip() for line in text.splitlines() for c in line.split("│")[2:-2]]
    assert cells and all(c.startswith("ND (") or c.endswith(("*", "*!")) for c in cells if c)


def test_demo_prints_no_inf_or_nan(tmp_path):
    text = _run("demo", "--out", str(tmp_path))
    assert not BAD.search(text), text


def test_evolve_compare_names_the_reference_arm(tmp_path):
    text = _run("evolve", "compare", "src/oncoresist/evolve/examples/egfr_nsclc.yaml",
                "-s", "continuous:erlotinib", "-s", "sequential:erlotinib>osimertinib",
                "--engine", "deterministic", "-n", "6", "--days", "3000", "--workers", "1",
                "-o", str(tmp_path), "--figure", "svg")  # fmt: skip
    assert not BAD.search(text), text
    assert "reference" in text and "not estimable" in text


@pytest.fixture(scope="module")
def psa_file(tmp_path_factory):
    from oncoresist.forecast.psa import simulate_cohort

    sim = simulate_cohort(3, rng=3).table
    path = tmp_path_factory.mktemp("words") / "psa.csv"
    columns = ["patient_id", "day", "marker", "value", "on_treatment"]
    sim.assign(marker="psa")[columns].to_csv(path, index=False)
    return path


def test_forecast_backtest_prints_no_inf_or_nan(monkeypatch, psa_file, tmp_path):
    """The backtest's table; a figure that cannot be computed (an AUC with no events of
    one kind) reads "not estimable", not nan."""
    import oncoresist.forecast.backtest as backtest

    real = backtest.summarise

    def without_cycle_auc(*args, **kwargs):
        summary = real(*args, **kwargs)
        for key in ("auc_cycle", "sens_at_spec85_cycle"):
            summary[key] = NAN
        return summary

    monkeypatch.setattr(backtest, "summarise", without_cycle_auc)
    text = _run("forecast", "backtest", str(psa_file), "--folds", "2", "-o", str(tmp_path))
    assert "forecast backtest: 3 patients" in text
    assert not BAD.search(text), text
    assert "not estimable" in text


def test_evolve_simulate_without_progression_says_not_reached(tmp_path):
    text = _run("evolve", "simulate", "src/oncoresist/evolve/examples/egfr_nsclc.yaml",
                "-s", "continuous:erlotinib", "--engine", "deterministic", "-n", "2",
                "--days", "10", "-o", str(tmp_path), "--figure", "svg")  # fmt: skip
    row = next(line for line in text.splitlines() if "median_ttp_days_of_progressed" in line)
    assert "not reached" in row and "None" not in text
    assert not BAD.search(text), text


def test_the_report_reads_nd_below_the_lod_for_an_undetected_call(tmp_path):
    result = CliRunner().invoke(app, ["monitor", "demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "illustrative_patient_report.html").read_text()
    table = html[html.index('id="trajectories"') :]
    table = table[: table.index("</section>")]
    assert "ND (&lt; LoD 0.22 %)" in table  # C797S at baseline: 0 reads of 3311
