"""Control guides: recognised by label or listed, left out of the gene table, a null on request."""

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oncoresist.errors import InputError
from oncoresist.screens import analyze, gene_summary
from oncoresist.screens._controls import control_kind, find_controls, read_control_list
from oncoresist.screens._simulate import simulate_screen

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "crispr"
HAP1 = DATA / "hart_HAP1_TKOv3_counts.tsv.gz"
A375 = DATA / "shalem2014_A375_GeCKOv1_vemurafenib_counts.csv.gz"

CONTROLS = ["Non-Targeting Control", "NonTargetingControlGuideForHuman_0001", "non_targeting",
            "NTC", "NTC_12", "NTC1", "no_target", "SAFE_HARBOR", "Safe-targeting", "safe_1",
            "AAVS1", "ROSA26", "intergenic_chr1_5", "CONTROL", "Control_1", "NegativeControl",
            "CTRL0001", "neg_ctrl", "EGFP", "LacZ", "luciferase"]  # fmt: skip
GENES = ["CTRL", "NT5E", "NTRK1", "SAFB", "GFPT1", "LUC7L", "LACTB", "CCR5", "NF1",
         "INTS1", "TP53", "NA"]  # fmt: skip


def test_control_labels_are_recognised_and_gene_symbols_are_not():
    assert [g for g in CONTROLS if control_kind(g) is None] == []
    assert [g for g in GENES if control_kind(g) is not None] == []
    assert control_kind("AAVS1") == "safe-harbour" and control_kind("LacZ") == "reporter"


@pytest.mark.skipif(not HAP1.exists(), reason="needs ../shared/data/crispr")
def test_real_libraries_controls_and_nothing_else():
    """TKOv3 (HAP1): its 142 EGFP, LacZ and luciferase guides; GeCKO v1 (A375): none."""
    hap1 = pd.read_csv(HAP1, sep="\t", usecols=[0, 1], index_col=0)
    hap1.columns = ["gene"]
    found = find_controls(hap1)
    assert found.labels == {"LacZ": 96, "luciferase": 24, "EGFP": 22}
    assert found.source == "label pattern" and found.n == 142
    with gzip.open(A375, "rt") as fh:
        a375 = pd.read_csv(fh, usecols=[0, 1], index_col=0)
    a375.columns = ["gene"]
    assert find_controls(a375).n == 0


def test_control_list_file_and_explicit_lists(tmp_path):
    table = pd.DataFrame({"gene": ["NF1", "NF1", "ctl", "ctl", "TP53"]},
                         index=["s1", "s2", "c1", "c2", "s5"])  # fmt: skip
    path = tmp_path / "controls.txt"
    path.write_text("# MAGeCK --control-sgrna\nc1\n\nc2\textra\nc9\n")
    names = read_control_list(path)
    assert names == ["c1", "c2", "c9"]
    found = find_controls(table, names, source=path)
    assert found.mask.tolist() == [False, False, True, True, False]
    assert found.unmatched == ["c9"] and found.source == "list"
    assert find_controls(table, ["TP53"]).mask.tolist() == [False] * 4 + [True]  # a label
    assert find_controls(table, []).n == 0
    with pytest.raises(InputError, match="none of the 1 control entries") as err:
        find_controls(table, ["zz"], source=path)
    assert err.value.file is not None and err.value.field == "controls"
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    for bad in (empty, tmp_path / "missing.txt"):
        with pytest.raises(InputError):
            read_control_list(bad)


def control_rich_screen(controls: int = 1500, seed: int = 3):
    """A simulated screen whose first null genes' guides are relabelled as one control."""
    counts, sheet, truth = simulate_screen(genes=1200 + controls // 4, guides_per_gene=4,
                                           hits=20, rng=seed)  # fmt: skip
    quiet = truth.index[(truth["drug_effect"] == 0) & ~truth["essential"]][: controls // 4]
    counts.loc[counts["gene"].isin(quiet), "gene"] = "Non-Targeting"
    return counts, sheet, truth


def test_a_1500_guide_control_label_analyses_end_to_end_with_finite_fdrs():
    counts, sheet, _ = control_rich_screen()
    assert (counts["gene"] == "Non-Targeting").sum() == 1500
    res = analyze(counts, sheet)
    genes = res.genes
    assert "Non-Targeting" not in genes.index
    fdrs = genes[["pos|fdr", "neg|fdr", "fdr_supp", "fdr_synth"]].to_numpy()
    assert np.isfinite(fdrs).all() and np.isfinite(genes["pos|p-value"]).all()
    assert genes.attrs["controls"]["guides"] == 1500
    assert genes.attrs["controls_summary"].startswith("1,500 control guides (Non-Targeting")
    # scored as a gene when asked not to recognise controls: a finite exact p-value
    whole = gene_summary(res.sgrnas, controls=[])
    assert whole.loc["Non-Targeting", "num"] == 1500
    assert np.isfinite(whole[["pos|p-value", "neg|p-value", "pos|fdr", "neg|fdr"]]).all().all()


def test_controls_as_the_null_of_both_rankings():
    """Guides of null genes and controls from one distribution: p-values near uniform with
    the control null, and a shifted control set (guides that do not cut) moves alpha-RRA's
    calls, which is why the library stays the default null."""
    rng = np.random.default_rng(7)
    genes = np.r_[np.repeat([f"g{i}" for i in range(3000)], 4), ["NTC"] * 1500]
    z = rng.normal(size=genes.size)
    sg = pd.DataFrame({"gene": genes, "z": z, "lfc": z},
                      index=[f"s{i}" for i in range(genes.size)])  # fmt: skip
    found = find_controls(sg)
    out = gene_summary(sg, null=found.mask, controls=found)
    assert "NTC" not in out.index and len(out) == 3000
    for col in ("pos|p-value", "neg|p-value", "pval_supp", "pval_synth"):
        p = out[col].to_numpy()
        assert abs((p <= 0.1).mean() - 0.1) < 0.03, col
    assert (out[["pos|fdr", "neg|fdr"]] < 0.05).sum().sum() == 0
    sg.loc[sg["gene"] == "NTC", "z"] += 1.0  # controls that do not cut
    shifted = gene_summary(sg, null=found.mask, controls=found)
    assert (shifted["neg|p-value"] <= 0.1).mean() > 0.2
    library = gene_summary(sg)  # the default: the library's guides
    assert abs((library["neg|p-value"] <= 0.1).mean() - 0.1) < 0.03


def test_controls_found_on_the_count_table_follow_their_ids():
    """find_controls on the count table, gene_summary on an sgRNA table in another order with
    fewer rows: the same guides are left out, matched by sgRNA id, not by position."""
    rng = np.random.default_rng(2)
    genes = np.r_[np.repeat([f"g{i}" for i in range(300)], 4), ["ctl"] * 200]
    ids = [f"s{i}" for i in range(genes.size)]
    counts = pd.DataFrame({"gene": genes}, index=pd.Index(ids, name="sgRNA"))
    found = find_controls(counts, ["ctl"])
    assert found.ids() == ids[1200:] and found.ids(counts.iloc[:1300]) == ids[1200:1300]
    z = rng.normal(size=genes.size)
    sg = pd.DataFrame({"gene": genes, "z": z, "lfc": z}, index=counts.index)
    sg = sg.iloc[rng.permutation(genes.size)[:1350]]
    out = gene_summary(sg, controls=found)
    assert "ctl" not in out.index and out.attrs["controls"]["guides"] == 200
