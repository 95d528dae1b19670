"""``oncoresist screen analyze`` from the shell."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

A375 = (Path(__file__).resolve().parents[3] / "shared" / "data" / "crispr"
        / "shalem2014_A375_GeCKOv1_vemurafenib_counts.csv.gz")  # fmt: skip


def cli(*args):
    return subprocess.run([sys.executable, "-m", "oncoresist", "screen", *args],
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_bad_table_is_one_line_error(tmp_path):
    bad = tmp_path / "c.csv"
    bad.write_text("sgRNA,Gene,a,b\ns1,NF1,1,x\n")
    res = cli("analyze", str(bad), "-t", "a", "-c", "b", "-o", str(tmp_path / "o"))
    assert res.returncode == 2 and "line 2" in res.stderr and "field b" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.skipif(not A375.exists(), reason="needs ../shared/data/crispr")
def test_analyze_writes_mageck_style_tables(tmp_path):
    res = cli("analyze", str(A375), "-t", "PLX14_R1,PLX14_R2", "-c", "D14_R1,D14_R2",
              "-o", str(tmp_path))  # fmt: skip
    assert res.returncode == 0, res.stderr
    genes = pd.read_csv(tmp_path / "gene_summary.tsv", sep="\t", index_col="id")
    assert {"num", "pos|p-value", "pos|fdr", "neg|rank"} <= set(genes.columns)
    assert genes["pos|rank"].idxmin() in {"NF2", "MED12"}
    assert "NF2" in res.stdout
