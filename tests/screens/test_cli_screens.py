"""``oncoresist screen analyze`` and ``screen qc`` from the shell."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "crispr"
A375 = DATA / "shalem2014_A375_GeCKOv1_vemurafenib_counts.csv.gz"
CEG = DATA / "bagel_CEGv2_core_essentials.tsv"
NEG = DATA / "bagel_NEGv1_nonessentials.tsv"
needs_data = pytest.mark.skipif(not A375.exists(), reason="needs ../shared/data/crispr")


def cli(*args):
    return subprocess.run([sys.executable, "-m", "oncoresist", "screen", *args],
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def a375_sheet(tmp_path, days=(14,)):
    rows = ["sample,condition,replicate,day", "plasmid,T0,,0"]
    for d in (7, 14):
        for r in ("R1", "R2"):
            use = d in days
            rows += [f"D{d}_{r},{'vehicle' if use else 'unused'},{r},{d}",
                     f"PLX{d}_{r},{'drug' if use else 'unused'},{r},{d}"]  # fmt: skip
    path = tmp_path / "sheet.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_bad_table_is_one_line_error(tmp_path):
    bad = tmp_path / "c.csv"
    bad.write_text("sgRNA,Gene,a,b\ns1,NF1,1,x\n")
    res = cli("analyze", str(bad), "-t", "a", "-c", "b", "-o", str(tmp_path / "o"))
    assert res.returncode == 2 and "line 2" in res.stderr and "field b" in res.stderr
    assert "Traceback" not in res.stderr


def test_sheet_naming_a_missing_sample_is_one_line_error(tmp_path):
    counts = tmp_path / "c.csv"
    counts.write_text("sgRNA,Gene,a,b\ns1,NF1,1,2\n")
    sheet = tmp_path / "s.csv"
    sheet.write_text("sample,condition\na,drug\nb,vehicle\nzz,T0\n")
    res = cli("analyze", str(counts), "-s", str(sheet), "-o", str(tmp_path / "o"))
    assert res.returncode == 2 and "line 4" in res.stderr and "'zz'" in res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "o").exists()


@needs_data
def test_analyze_with_sheet_writes_tables_figures_report_and_knowledge(tmp_path):
    out = tmp_path / "out"
    res = cli("analyze", str(A375), "-s", str(a375_sheet(tmp_path)), "--drug", "vemurafenib",
              "-o", str(out))  # fmt: skip
    assert res.returncode == 0, res.stderr
    genes = pd.read_csv(out / "gene_summary.tsv", sep="\t", index_col="id",
                        keep_default_na=False)  # fmt: skip
    assert {"num", "pos|p-value", "pos|fdr", "neg|goodsgrna", "normZ", "fdr_supp", "known",
            "known_for_drug"} <= set(genes.columns)  # fmt: skip
    assert genes["normZ"].idxmax() in {"NF2", "MED12"}
    # NF1 loss is in the knowledge base as a BRAF-inhibitor bypass; NF2 and MED12 are new
    assert "BRAF" in genes.loc["NF1", "known"] and str(genes.loc["NF1", "known_for_drug"]) == "True"
    assert genes.loc["MED12", "known"] == ""
    for name in ("report.html", "volcano.svg", "rank_resistance.svg", "sgrna_lfc.svg",
                 "sgrna_summary.tsv"):  # fmt: skip
        assert (out / name).stat().st_size > 0, name
    assert "NF2" in (out / "report.html").read_text()
    run = json.loads((out / "run.json").read_text())
    assert run["comparison"] == "drug vs vehicle"
    assert "NF2" in res.stdout and "new" in res.stdout


@needs_data
def test_qc_reports_bottleneck_separation_and_clean_nulls(tmp_path):
    out = tmp_path / "qc"
    res = cli("qc", str(A375), "-s", str(a375_sheet(tmp_path, days=(14,))), "--essential",
              str(CEG), "--nonessential", str(NEG), "-o", str(out))  # fmt: skip
    assert res.returncode == 0, res.stderr
    samples = pd.read_csv(out / "qc_samples.tsv", sep="\t", index_col=0)
    assert samples.loc["PLX14_R1", "gini"] > 0.75 > samples.loc["D14_R1", "gini"]
    nulls = pd.read_csv(out / "qc_nulls.tsv", sep="\t")
    # both directions of both arms; at most one gene (SNRNP200, a core-essential gene whose
    # guides reach 0 reads in D14_R1 only: one infection depleted it further)
    assert len(nulls) == 4
    assert nulls[["resistance_fdr05", "sensitisation_fdr05"]].sum().sum() <= 1
    separation = pd.read_csv(out / "qc_separation.tsv", sep="\t", index_col=0)
    assert (separation.loc[["D14_R1", "D14_R2"], "roc_auc"] > 0.85).all()
    assert "bottleneck" in (out / "qc.html").read_text().lower()
