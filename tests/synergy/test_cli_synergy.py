"""``oncoresist synergy score | fit | report | resistance`` from the shell.

Each format parses back with the block scores (and their intervals on a replicated file);
``--cells`` gives one row per dose pair; bad input is one located ``error:`` line, exit
status 2, no traceback and no output file left behind.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "synergy"
CI05 = DATA / "synthetic_ci0.5_6x6_3rep.csv"
BLISS = DATA / "synthetic_bliss_null_6x6.csv"
pytestmark = pytest.mark.skipif(not CI05.exists(), reason="needs ../shared/data/synergy")
SCORES = ["block_id", "drug_row", "drug_col", "bliss", "hsa", "loewe", "zip"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "oncoresist", "synergy", *map(str, args)],
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def bad_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plate.csv"
    path.write_text(text)
    return path


def test_score_csv_tsv_json_parse_back_with_intervals():
    outs = {fmt: cli("score", CI05, "--format", fmt) for fmt in ("csv", "tsv", "json")}
    for res in outs.values():
        assert res.returncode == 0, res.stderr
    csv = pd.read_csv(io.StringIO(outs["csv"].stdout))
    tsv = pd.read_csv(io.StringIO(outs["tsv"].stdout), sep="\t")
    doc = json.loads(outs["json"].stdout)
    js = pd.DataFrame(doc["blocks"])
    for frame in (csv, tsv, js):
        assert list(frame.columns[:3]) == SCORES[:3]
        assert set(SCORES) <= set(frame.columns)
        for m in ("bliss", "hsa", "loewe", "zip"):
            assert {f"{m}_lo", f"{m}_hi", f"{m}_p"} <= set(frame.columns)
        assert len(frame) == 1
    pd.testing.assert_frame_equal(csv, tsv)
    assert js["bliss"].iloc[0] == pytest.approx(csv["bliss"].iloc[0], abs=1e-8)
    # CI = 0.5 everywhere: synergy under every model, its interval above 0
    assert (csv[["bliss", "hsa", "loewe", "zip"]] > 0).all(axis=None)
    assert csv["bliss_lo"].iloc[0] > 0
    assert any("replicates" in n for n in doc["notes"])
    assert "note:" in outs["csv"].stderr  # notes on stderr, the table alone on stdout


def test_score_cells_and_out_file(tmp_path):
    target = tmp_path / "cells.tsv"
    res = cli("score", BLISS, "--cells", "--format", "tsv", "--out", target)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "" and f"wrote {target}" in res.stderr
    cells = pd.read_csv(target, sep="\t")
    assert len(cells) == 36 and {"conc_r", "conc_c", "response", "bliss"} <= set(cells.columns)
    assert cells["bliss"].abs().max() < 1e-6  # the Bliss-null surface


def test_fit_prints_one_row_per_drug():
    res = cli("fit", CI05, "--format", "json")
    assert res.returncode == 0, res.stderr
    fits = pd.DataFrame(json.loads(res.stdout)["fits"])
    assert list(fits["role"]) == ["row", "col"]
    assert {"drug", "min", "max", "ic50", "hill", "ic50_lo", "ic50_hi", "status"} <= set(fits)
    assert fits["ic50"].tolist() == pytest.approx([1.0, 4.0], rel=0.25)  # the true IC50s


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("block_id,drug1,drug2,conc1,conc2,response\n1,a,b,0,0,5\n1,a,b,0,1,x\n",
         ["line 3", "field response"]),
        ("block_id,drug1,drug2,conc1,conc2,response\n1,a,b,0,0,5\n1,a,b,1,1,40\n"
         "1,a,b,0,1,20\n", ["line", "monotherapy"]),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", ["score", "report"])
def test_bad_input_is_located_and_leaves_no_file(tmp_path, text, where, command):
    target = tmp_path / ("out.html" if command == "report" else "out.csv")
    res = cli(command, bad_file(tmp_path, text), "--out", target)
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith("error: ") and "Traceback" not in res.stderr
    for word in where:
        assert word in res.stderr
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plate.csv"]  # no temporary file


def test_bad_options_exit_2(tmp_path):
    res = cli("score", CI05, "--models", "bliss,magic")
    assert res.returncode == 2 and "field --models" in res.stderr
    res = cli("report", CI05, "--out", tmp_path / "r.html", "--rank-by", "ci")
    assert res.returncode == 2 and "field --rank-by" in res.stderr
    res = cli("score", tmp_path / "missing.csv")
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_report_writes_the_page(tmp_path):
    target = tmp_path / "report.html"
    res = cli("report", CI05, "--out", target, "--detail", "1")
    assert res.returncode == 0, res.stderr
    html = target.read_text()
    assert html.count("<svg") == 7 and 'id="resistance"' in html
    assert "unknown drug" in html  # drugA / drugB: said on the page, not an error


def test_resistance_json():
    res = cli("resistance", "osimertinib", "capmatinib", "--json", "--size", "1e8")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["params"]["detection_cells"] == 1e8
    rows = {r["therapy"]: r for r in doc["evolution"]}
    assert rows["osimertinib + capmatinib"]["p_preexisting"] < rows["osimertinib"]["p_preexisting"]
    met = [m for m in doc["mechanisms"] if m["gene"] == "MET" and m["biomarker"] == "amplification"]
    assert met and met[0]["status"] == "answered"


def test_score_on_dask_matches_in_process():
    pytest.importorskip("distributed")
    local = cli("score", CI05, "--format", "json")
    dask = cli("score", CI05, "--format", "json", "--dask", "--workers", "1")
    assert dask.returncode == 0, dask.stderr
    a, b = (pd.DataFrame(json.loads(r.stdout)["blocks"]) for r in (local, dask))
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=0, atol=1e-9)


def test_loewe_flat_and_zip_fit_reach_the_scores(tmp_path):
    """An inactive partner: SynergyFinder's summed-dose rule (default) reads it as Loewe
    antagonism; ``--loewe-flat constant`` scores it 0, as Loewe additivity says."""
    rows = ["block_id,drug_row,drug_col,conc_r,conc_c,response,conc_r_unit,conc_c_unit"]
    for a in (0, 0.05, 0.158, 0.5, 1.58, 5.0):
        for b in (0, 0.2, 0.632, 2.0, 6.32, 20.0):
            effect = 100 * a**1.2 / (a**1.2 + 0.5**1.2)  # drug B does nothing
            rows.append(f"1,active,inactive,{a},{b},{effect},uM,uM")
    plate = bad_file(tmp_path, "\n".join(rows) + "\n")
    scores = {}
    for rule in ("sham", "constant"):
        res = cli("score", plate, "--response", "inhibition", "--loewe-flat", rule,
                  "--zip-fit", "rising")  # fmt: skip
        assert res.returncode == 0, res.stderr
        scores[rule] = pd.read_csv(io.StringIO(res.stdout))["loewe"].iloc[0]
    assert scores["sham"] < -5 and abs(scores["constant"]) < 0.5
    res = cli("score", plate, "--loewe-flat", "grid")
    assert res.returncode == 2 and "--loewe-flat" in res.stderr
