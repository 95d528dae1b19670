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


def small_screen(tmp_path, *, arms=False):
    """A simulated screen as a MAGeCK count table and a sheet (two drug arms with arms)."""
    import numpy as np

    from oncoresist.screens._simulate import simulate_screen

    counts, sheet, _ = simulate_screen(genes=300, hits=8, rng=5)
    table = counts.rename(columns={"gene": "Gene"})
    sheet = sheet.assign(arm=np.where(sheet["condition"] == "drug", "olaparib", ""))
    if arms:
        for r in (1, 2):
            table[f"tala_{r}"] = counts[f"drug_{r}"].to_numpy()[::-1]
        extra = pd.DataFrame({"sample": ["tala_1", "tala_2"], "condition": "drug",
                              "replicate": ["1", "2"], "day": 14.0, "doublings": 7.0,
                              "arm": "talazoparib"})  # fmt: skip
        sheet = pd.concat([sheet, extra], ignore_index=True)
    path = tmp_path / "counts.tsv"
    table.to_csv(path, sep="\t")
    sheet_path = tmp_path / "sheet.csv"
    sheet.to_csv(sheet_path, index=False)
    return path, sheet_path


def test_unknown_drug_is_an_error_with_suggestions(tmp_path):
    counts, sheet = small_screen(tmp_path)
    out = tmp_path / "o"
    res = cli("analyze", str(counts), "-s", str(sheet), "--drug", "vemurafenb", "-o", str(out))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "field --drug" in res.stderr and "did you mean vemurafenib" in res.stderr
    assert not out.exists()


def test_each_arm_of_a_multi_drug_sheet_gets_its_folder(tmp_path):
    counts, sheet = small_screen(tmp_path, arms=True)
    out = tmp_path / "o"
    res = cli("analyze", str(counts), "-s", str(sheet), "-o", str(out))
    assert res.returncode == 2 and "2 drug arms (olaparib, talazoparib)" in res.stderr
    res = cli("analyze", str(counts), "-s", str(sheet), "--arm", "olaparb", "-o", str(out))
    assert res.returncode == 2 and "did you mean olaparib" in res.stderr and not out.exists()
    res = cli("analyze", str(counts), "-s", str(sheet), "--arm", "all", "--norm", "none",
              "-o", str(out))  # fmt: skip
    assert res.returncode == 0, res.stderr
    for arm in ("olaparib", "talazoparib"):
        genes = pd.read_csv(out / arm / "gene_summary.tsv", sep="\t", index_col="id")
        cols = genes.columns.tolist()
        assert cols[cols.index("normZ") + 1] == "z_calibrated"
        run = json.loads((out / arm / "run.json").read_text())
        assert run["params"]["arm"] == arm and run["params"]["norm"] == "none"
        assert "not a z-score under the null" in run["normZ"]
    words = " ".join(res.stdout.split())
    assert "z_cal" in words and "a rank score, not a z-score under the null" in words


def test_control_guides_by_label_or_file_and_their_errors(tmp_path):
    """Guides labelled Non-Targeting are recognised, never scored and set the size factors
    with --norm control; a control file (MAGeCK's, one sgRNA id per line) names them too;
    a file naming nothing in the table, or a missing list, is an error naming the file."""
    counts, sheet = small_screen(tmp_path)
    table = pd.read_csv(counts, sep="\t", index_col=0)
    table.loc[table.index[:400], "Gene"] = "Non-Targeting"
    table.to_csv(counts, sep="\t")
    out = tmp_path / "o"
    res = cli("analyze", str(counts), "-s", str(sheet), "--norm", "control", "-o", str(out))
    assert res.returncode == 0, res.stderr
    params = json.loads((out / "run.json").read_text())["params"]
    assert params["norm"] == "control" and params["controls"]["guides"] == 400
    genes = pd.read_csv(out / "gene_summary.tsv", sep="\t", index_col="id")
    assert "Non-Targeting" not in genes.index
    assert "400 control guides" in " ".join(res.stdout.split())
    listed = tmp_path / "controls.txt"
    listed.write_text("# MAGeCK control sgRNAs\n" + "\n".join(table.index[:400]) + "\n")
    res = cli("analyze", str(counts), "-s", str(sheet), "--controls", str(listed),
              "--null", "controls", "-o", str(tmp_path / "o1"))  # fmt: skip
    assert res.returncode == 0, res.stderr
    bad = tmp_path / "bad.txt"
    bad.write_text("sg_typo\nother\n")
    for spec in (str(bad), str(tmp_path / "missing.txt")):
        res = cli("analyze", str(counts), "-s", str(sheet), "--controls", spec,
                  "-o", str(tmp_path / "o2"))  # fmt: skip
        assert res.returncode == 2 and spec in res.stderr, res.stderr
        assert "Traceback" not in res.stderr and not (tmp_path / "o2").exists()
    res = cli("analyze", str(counts), "-s", str(sheet), "--depth", "deep", "-o", str(out))
    assert res.returncode == 2 and "field --depth" in res.stderr


def test_h5ad_input_without_anndata_names_the_extra(tmp_path):
    pytest.importorskip("oncoresist")
    try:
        import anndata  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("anndata is installed")
    path = tmp_path / "screen.h5ad"
    path.write_bytes(b"")
    res = cli("analyze", str(path), "-o", str(tmp_path / "o"))
    assert res.returncode == 2 and "oncoresist[sc]" in res.stderr
    assert "Traceback" not in res.stderr


def test_qc_flags_a_replicate_at_a_third_of_the_depth(tmp_path):
    import numpy as np

    counts, sheet = small_screen(tmp_path)
    table = pd.read_csv(counts, sep="\t", index_col=0)
    table["vehicle_2"] = np.random.default_rng(1).binomial(table["vehicle_2"].to_numpy(), 0.3)
    table.to_csv(counts, sep="\t")
    out = tmp_path / "qc"
    res = cli("qc", str(counts), "-s", str(sheet), "-o", str(out))
    assert res.returncode == 0, res.stderr
    balance = pd.read_csv(out / "qc_balance.tsv", sep="\t", keep_default_na=False)
    flagged = balance[balance["flag"] != ""]
    assert flagged[["sample_a", "sample_b", "flag"]].values.tolist() == [
        ["vehicle_1", "vehicle_2", "depth"]
    ]
    assert "replicates differ enough to matter (depth): vehicle_1 vs vehicle_2" in res.stdout
