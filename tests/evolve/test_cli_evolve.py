"""``oncoresist evolve`` from the shell: closed forms with files written, clear errors."""

import json
import subprocess
import sys

import pandas as pd
import pytest


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "oncoresist", "evolve", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_analytic_bozic_eradication(tmp_path):
    out = tmp_path / "e.json"
    args = ["-q", "eradication", "--drugs", "2", "--sites", "50", "--cross-sites", "1"]
    res = cli("analytic", *args, "--d-treated", "0.17", "--size", "1e9", "-o", str(out))
    assert res.returncode == 0, res.stderr
    got = json.loads(out.read_text())
    assert got["values"]["probability_eradication"] == pytest.approx(0.26, abs=0.02)
    assert "probability_eradication" in res.stdout


def test_analytic_resistance_at_detection():
    res = cli("analytic", "-q", "resistance-at-detection", "--b", "0.14", "--d", "0.13",
              "--u", "1e-9", "--sites", "50", "--size", "1e9")  # fmt: skip
    assert res.returncode == 0 and "expected_resistant_cells" in res.stdout


def test_analytic_errors_are_one_line():
    res = cli("analytic", "-q", "eradication")
    assert res.returncode == 2
    assert res.stderr.strip().startswith("error:") and "--d-treated" in res.stderr
    assert "Traceback" not in res.stderr
    res = cli("analytic", "-q", "extinction", "--b", "-1")
    assert res.returncode == 2 and "Traceback" not in res.stderr


EGFR = "src/oncoresist/evolve/examples/egfr_nsclc.yaml"


def test_simulate_writes_tables_summary_and_muller(tmp_path):
    res = cli("simulate", EGFR, "-s", "sequential:erlotinib>osimertinib", "-o", str(tmp_path),
              "--engine", "deterministic", "-n", "2", "--days", "1200")  # fmt: skip
    assert res.returncode == 0, res.stderr
    names = {p.name for p in tmp_path.iterdir()}
    assert {"trajectories.csv", "outcomes.csv", "summary.json", "muller.png"} <= names
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["replicates"] == 2 and summary["engine"] == "deterministic"


def test_compare_orders_strategies_as_given(tmp_path):
    strategies = ["-s", "continuous:erlotinib", "-s", "sequential:erlotinib>osimertinib"]
    options = ["--engine", "deterministic", "-n", "6", "--days", "3000", "--workers", "1"]
    res = cli("compare", EGFR, *strategies, "-o", str(tmp_path), *options, "--figure", "svg")
    assert res.returncode == 0, res.stderr

    summary = pd.read_csv(tmp_path / "summary.csv")
    assert summary["strategy"].tolist() == ["continuous:erlotinib",
                                            "sequential:erlotinib>osimertinib"]  # fmt: skip
    assert summary.loc[0, "hazard_ratio"] == 1.0
    med = summary.set_index("strategy")["median_ttp_days"]
    assert med["sequential:erlotinib>osimertinib"] > med["continuous:erlotinib"]
    assert (tmp_path / "km.svg").exists()


def test_bad_strategy_and_model_are_one_line_errors(tmp_path):
    res = cli("simulate", EGFR, "-s", "sometimes:erlotinib", "-o", str(tmp_path))
    assert res.returncode == 2 and "unknown strategy 'sometimes'" in res.stderr
    res = cli("simulate", EGFR, "-s", "continuous:aspirin", "-o", str(tmp_path),
              "--engine", "deterministic")  # fmt: skip
    assert res.returncode == 2 and "no drug 'aspirin'" in res.stderr
    bad = tmp_path / "m.yaml"
    bad.write_text("clones: []\n")
    res = cli("simulate", str(bad), "-s", "continuous:x", "-o", str(tmp_path))
    assert res.returncode == 2 and "m.yaml" in res.stderr and "Traceback" not in res.stderr
