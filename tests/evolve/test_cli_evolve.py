"""``oncoresist evolve`` from the shell: closed forms with files written, clear errors."""

import json
import subprocess
import sys

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
