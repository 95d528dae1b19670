"""``oncoresist evolve`` from the shell: closed forms with files written, clear errors."""

import json
import os
import re
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
        env={**os.environ, "COLUMNS": "220"},  # table cells on one line each
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
    assert summary.loc[0, "hazard_ratio"] == 1.0 and summary.loc[0, "hr"] == "reference"
    med = summary.set_index("strategy")["median_ttp_days"]
    assert med["sequential:erlotinib>osimertinib"] > med["continuous:erlotinib"]
    # six deterministic patients (sizes drawn per patient): every sequential event comes
    # after every continuous one, which the Cox fit must call separation, not a number
    assert summary.loc[1, "hr"] == "not estimable (separation)"
    assert summary.loc[1, "rmst_diff_days"] > 0
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


EXAMPLES = {
    "mcrpc_abiraterone": ["continuous:abiraterone", "adaptive:abiraterone"],
    "egfr_nsclc": ["continuous:erlotinib", "sequential:erlotinib>osimertinib"],
    "braf_mek_melanoma": ["combination:dabrafenib+trametinib", "adaptive:dabrafenib+trametinib"],
}
BAD = re.compile(r"\binf\b|\bnan\b|e\+(1\d|[2-9]\d)", re.IGNORECASE)
MEDIAN = re.compile(
    r"^(not reached|\d+ \(\d+-(\d+|not reached)\)|not reached \(\d+-not reached\))$"
)
NUM = r"[\d.]+(e[+-]\d+)?"
HR = re.compile(rf"^(reference|not estimable \((separation|no events)\)|{NUM} \({NUM}-{NUM}\))$")


@pytest.mark.parametrize("rule", [["--progression", "nadir"], ["--progression", "pcwg3"]])
@pytest.mark.parametrize("example", EXAMPLES)
def test_compare_on_every_bundled_example_prints_numbers_or_words(tmp_path, example, rule):
    path = f"src/oncoresist/evolve/examples/{example}.yaml"
    strategies = [a for s in EXAMPLES[example] for a in ("-s", s)]
    res = cli("compare", path, *strategies, "-o", str(tmp_path), "-n", "60", "--workers", "1",
              *rule)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert not BAD.search(res.stdout), res.stdout
    text = (tmp_path / "summary.csv").read_text()
    assert not BAD.search(text), text
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert summary["median_ttp"].map(MEDIAN.match).all(), summary["median_ttp"]
    assert summary["hr"].map(HR.match).all(), summary["hr"]
    assert summary["hr"].iloc[0] == "reference" and summary["rmst"].notna().all()
    assert (summary["rmst_horizon_days"] == 1825).all()
    for value in (*summary["median_ttp"], *summary["hr"]):
        assert value in res.stdout
    assert summary["progression"].iloc[0].startswith("PCWG3" if "pcwg3" in rule else "> 1.2")


def test_compare_absolute_and_baseline_rules_and_horizon(tmp_path):
    path = "src/oncoresist/evolve/examples/mcrpc_abiraterone.yaml"
    base = ["-s", "continuous:abiraterone", "-s", "adaptive:abiraterone", "-n", "30",
            "--workers", "1"]  # fmt: skip
    res = cli("compare", path, *base, "-o", str(tmp_path / "a"), "--progression", "absolute",
              "--threshold", "9e9", "--horizon", "900")  # fmt: skip
    assert res.returncode == 0, res.stderr
    summary = pd.read_csv(tmp_path / "a" / "summary.csv")
    assert (summary["rmst_horizon_days"] == 900).all() and "RMST to day 900" in res.stdout
    assert summary["progression"].iloc[0] == ">= 9e+09, confirmed at the next visit"
    res = cli("compare", path, *base, "-o", str(tmp_path / "b"), "--progression", "baseline",
              "--factor", "1.5", "--confirm", "1")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "> 1.5 x baseline, at one visit" in res.stdout


def test_compare_rule_errors_name_the_flag(tmp_path):
    path = "src/oncoresist/evolve/examples/mcrpc_abiraterone.yaml"
    base = ["-s", "continuous:abiraterone", "-o", str(tmp_path), "-n", "5"]
    res = cli("compare", path, *base, "--progression", "absolute")
    assert res.returncode == 2 and "--threshold" in res.stderr and "Traceback" not in res.stderr
    res = cli("compare", path, *base, "--threshold", "1e9")
    assert res.returncode == 2 and "absolute rule" in res.stderr
    res = cli("compare", path, *base, "--horizon", "5000")
    assert res.returncode == 2 and "--horizon" in res.stderr


def test_analytic_new_questions_extinction_sequential_cost_resistant_to_all(tmp_path):
    common = ["--drugs", "2", "--sites", "50", "--cross-sites", "1", "--d-treated", "0.17"]
    expected = {
        "extinction-time": ("mean_days_to_extinction", 652.2, 0.1),
        "resistant-to-all": ("expected_cells_resistant_to_all", 253.3, 0.1),
        "sequential": ("from_before_drug_1", 0.737, 0.001),  # Bozic Figure 5A
        "dual-eradication": ("probability_eradication", 0.263, 0.001),
    }
    for question, (key, value, tol) in expected.items():
        out = tmp_path / f"{question}.json"
        res = cli("analytic", "-q", question, *common, "--size", "1e9", "-o", str(out))
        assert res.returncode == 0, res.stderr
        assert json.loads(out.read_text())["values"][key] == pytest.approx(value, abs=tol)
    # Bozic Table 2: 1e11 cells dividing daily, 10 % cost: eradication 0.68
    out = tmp_path / "cost.json"
    rates = ["--b", "1", "--d", "0.99", "--d-treated", "1.03", "--size", "1e11"]
    res = cli("analytic", "-q", "dual-eradication", *rates, "--sites", "50", "--cost", "0.1",
              "-o", str(out))  # fmt: skip
    assert res.returncode == 0, res.stderr
    got = json.loads(out.read_text())
    assert got["values"]["probability_eradication"] == pytest.approx(0.68, abs=0.01)
    assert got["inputs"]["cost"] == 0.1
    res = cli("analytic", "-q", "sequential")
    assert res.returncode == 2 and "--d-treated" in res.stderr and "Traceback" not in res.stderr
