"""Screen QC: hand-computed metrics, invariants, simulations and the A375 vemurafenib screen."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oncoresist.errors import InputError
from oncoresist.screens import read_counts
from oncoresist.screens.qc import (
    essential_separation,
    guide_lfc,
    null_contrasts,
    read_gene_set,
    replicate_balance,
    replicate_correlation,
    sample_qc,
)

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "crispr"
A375 = DATA / "shalem2014_A375_GeCKOv1_vemurafenib_counts.csv.gz"
CEG = DATA / "bagel_CEGv2_core_essentials.tsv"
NEG = DATA / "bagel_NEGv1_nonessentials.tsv"


def table(**samples):
    n = len(next(iter(samples.values())))
    genes = samples.pop("gene", [f"G{i}" for i in range(n)])
    df = pd.DataFrame({"gene": genes}, index=pd.Index([f"sg{i}" for i in range(n)], name="sgRNA"))
    for name, values in samples.items():
        df[name] = np.asarray(values, dtype=np.int64)
    return df


# --- hand-computed cases ------------------------------------------------------------------


def test_sample_qc_hand_cases():
    counts = table(even=[1, 1, 1, 1], one=[0, 0, 0, 10])
    qc = sample_qc(counts)
    assert list(qc.index) == ["even", "one"] and qc.index.name == "sample"
    assert qc.loc["even", "gini"] == pytest.approx(0.0, abs=1e-12)
    # 2 * (4 * 10) / (4 * 10) - (4 + 1) / 4 = 0.75, i.e. (n - 1) / n with one sgRNA holding all
    assert qc.loc["one", "gini"] == pytest.approx(0.75)
    assert qc.loc["one", ["reads", "sgrnas", "zero_sgrnas", "low_sgrnas"]].tolist() == [10, 4, 3, 4]
    assert qc.loc["one", "zero_fraction"] == pytest.approx(0.75)
    assert qc.loc["one", "median_reads"] == 0.0
    assert qc.loc["one", "top10_share"] == pytest.approx(1.0)

    # 20 sgRNAs with 1..20 reads: the 10 largest hold 11 + ... + 20 = 155 of 210 reads
    ramp = sample_qc(table(s=np.arange(1, 21)[::-1] * 10), samples=["s"])
    assert ramp.loc["s", "top10_share"] == pytest.approx(155 / 210)
    assert ramp.loc["s", "low_sgrnas"] == 2  # 10 and 20 reads are below 30
    assert ramp.loc["s", "median_reads"] == pytest.approx(105.0)
    # Gini of 1..n is (n - 1) / (3 n)
    assert ramp.loc["s", "gini"] == pytest.approx(19 / 60)


def test_gini_is_scale_and_order_free():
    rng = np.random.default_rng(3)
    x = rng.poisson(rng.gamma(1.5, 200.0, 500))
    qc = sample_qc(table(a=x, b=7 * x[::-1], c=np.roll(x, 17)))
    assert qc["gini"].to_numpy() == pytest.approx([qc.loc["a", "gini"]] * 3, abs=1e-12)
    empty = sample_qc(table(z=[0, 0, 0]))
    assert math.isnan(empty.loc["z", "gini"]) and math.isnan(empty.loc["z", "top10_share"])


def test_guide_lfc_hand_case():
    # size factors over r1, r2, s are all 1 (every sgRNA's median ratio is 1 in each sample)
    counts = table(r1=[100, 100, 100], r2=[100, 100, 100], s=[100, 400, 100])
    lfc = guide_lfc(counts, reference=["r1", "r2"], samples=["s"])
    assert list(lfc.columns) == ["gene", "s"] and lfc.index.name == "sgRNA"
    assert lfc["s"].to_numpy() == pytest.approx([0.0, math.log2(400.5 / 100.5), 0.0])
    single = guide_lfc(counts, reference="r1", samples=["s"], pseudocount=2.0)
    assert single.loc["sg1", "s"] == pytest.approx(math.log2(402 / 102))


def test_essential_separation_hand_case():
    # reference 100 reads everywhere; sample reads below; both size factors are exactly 1
    # (the median of the sample's reads is 100), so lfc = log2((x + 0.5) / 100.5).
    ess = [25, 25, 50, 100, 200]
    non = [100, 100, 100, 100, 400]
    genes = [f"E{i}" for i in range(5)] + [f"N{i}" for i in range(5)]
    counts = table(gene=genes, ref=[100] * 10, s=ess + non)
    out = essential_separation(
        counts, reference="ref", samples=["s"], essential=genes[:5], nonessential=genes[5:]
    )
    row = out.loc["s"]
    # ROC: essential genes less abundant than non-essential ones, ties 1/2:
    # 25, 25, 50 beat all 5; 100 ties 4 and beats 1 (3); 200 beats 1 -> 19 / 25
    assert row["roc_auc"] == pytest.approx(19 / 25)
    # AP over thresholds x <= 25, 50, 100, 200, 400 (recall step x precision):
    # 2/5 * 1 + 1/5 * 1 + 1/5 * 4/8 + 1/5 * 5/9
    assert row["pr_auc"] == pytest.approx(0.4 + 0.2 + 0.1 + 1 / 9)
    assert row["median_lfc_essential"] == pytest.approx(math.log2(50.5 / 100.5))
    assert row["median_lfc_nonessential"] == pytest.approx(0.0)
    assert row["delta"] == pytest.approx(math.log2(50.5 / 100.5))
    assert (row["n_essential"], row["n_nonessential"]) == (5, 5)


def test_average_precision_without_ties_and_gene_means():
    # two guides per gene; gene scores are guide means. Ranking by depletion:
    # E0 (-3), N0 (-2), E1 (-1), N1, N2, N3, N4, E2, E3, E4 (all 0 or above)
    genes = ["E0", "N0", "E1", "N1", "N2", "N3", "N4", "E2", "E3", "E4"]
    ref = [1024] * 20
    s = [128, 128, 256, 256, 512, 512, 1024, 1024, 1024, 1024] + [1024] * 2 + [1024] * 2
    s += [2048, 2048, 4096, 4096, 8192, 8192]
    counts = table(gene=[g for g in genes for _ in (0, 1)], ref=ref, s=s)
    out = essential_separation(
        counts,
        reference="ref",
        samples=["s"],
        essential=["E0", "E1", "E2", "E3", "E4", "X"],
        nonessential=["N0", "N1", "N2", "N3", "N4"],
    )
    assert out.loc["s", "n_essential"] == 5  # X is not in the table
    # gene lfc (pseudocount aside) -3, -2, -1, 0 x 4, 1, 2, 3, so depletion ranks them
    # E0 > N0 > E1 > {N1, N2, N3, N4 tied} > E2 > E3 > E4
    # ROC: E0 beats 5, E1 beats 4, the rest beat none -> 9 / 25
    assert out.loc["s", "roc_auc"] == pytest.approx(9 / 25)
    # AP: hits at ranks 1 and 3, then E2..E4 at ranks 8, 9, 10
    ap = (1 + 2 / 3 + 3 / 8 + 4 / 9 + 5 / 10) / 5
    assert out.loc["s", "pr_auc"] == pytest.approx(ap)


def test_replicate_correlation_and_null_contrasts():
    counts = table(a=[1, 5, 9, 40], b=[2, 10, 18, 80], c=[40, 9, 5, 1], d=[3, 3, 3, 3])
    groups = {"t0": ["d"], "x": ["a", "b", "c"]}
    assert null_contrasts(groups) == [("x", "a", "b"), ("x", "a", "c"), ("x", "b", "c")]
    out = replicate_correlation(counts, groups)
    assert list(out.columns) == ["group", "sample_a", "sample_b", "pearson_log", "spearman"]
    assert out[["group", "sample_a", "sample_b"]].to_numpy().tolist() == [
        ["x", "a", "b"],
        ["x", "a", "c"],
        ["x", "b", "c"],
    ]
    assert out["spearman"].to_numpy() == pytest.approx([1.0, -1.0, -1.0])
    assert out.loc[0, "pearson_log"] == pytest.approx(1.0)  # b = 2a: equal once normalised
    assert out.loc[1, "pearson_log"] < -0.9
    none = replicate_correlation(counts, {"t0": ["d"]})
    assert none.empty and list(none.columns) == list(out.columns)


def test_read_gene_set_formats(tmp_path):
    bagel = tmp_path / "ceg.tsv"
    bagel.write_text(
        "GENE\tHGNC_ID\tENTREZ_ID\r\nAARS\tHGNC:20\t16\r\n\r\n ACTB \tHGNC:132\t60\r\n"
    )
    assert read_gene_set(bagel) == {"AARS", "ACTB"}
    csv = tmp_path / "g.csv"
    csv.write_text('# core set\nsymbol,score\n"RPL3",1\nPOLR2A,2  # strong\n')
    assert read_gene_set(csv) == {"RPL3", "POLR2A"}
    plain = tmp_path / "g.txt"
    plain.write_text("NF1\n\nNF2\n# drop me\nMED12\nNF1\n")
    assert read_gene_set(plain) == {"NF1", "NF2", "MED12"}


# --- properties and simulations -------------------------------------------------------------


def test_guide_lfc_invariants():
    rng = np.random.default_rng(7)
    base = rng.gamma(4.0, 5_000.0, 2_000) + 10_000  # large counts: pseudocount effect tiny
    ref = rng.poisson(base)
    s = rng.poisson(base * rng.lognormal(0.0, 0.5, base.size))
    counts = table(ref=ref, same=ref, s=s, deep=3 * s)
    lfc = guide_lfc(counts, reference="ref", samples=["same", "s", "deep"])
    assert np.abs(lfc["same"].to_numpy()).max() < 1e-12
    # normalised together, a 3x deeper copy of s has the same normalised reads
    assert np.abs(lfc["deep"] - lfc["s"]).max() < 1e-9
    # sequencing s 3x deeper changes its lfc only through the pseudocount: both normalised
    # columns scale by 3 ** (1 / 2), so the change is below 2 * 0.5 / 1e4 / ln 2 ~ 1.4e-4
    deeper = counts.assign(s=3 * counts["s"])
    change = {}
    for pc in (0.5, 1e-9):
        one = guide_lfc(counts, reference="ref", samples=["s"], pseudocount=pc)["s"]
        three = guide_lfc(deeper, reference="ref", samples=["s"], pseudocount=pc)["s"]
        change[pc] = np.abs(three - one).max()
    assert 1e-9 < change[0.5] < 2e-4
    assert change[1e-9] < 1e-9


def simulated_screen(rng, *, depletion):
    n_genes, per_gene = 900, 4  # 300 essential, 300 non-essential, 300 others
    genes = np.repeat([f"G{i}" for i in range(n_genes)], per_gene)
    mean = rng.gamma(3.0, 100.0, genes.size)
    fold = np.ones(genes.size)
    fold[: 300 * per_gene] = depletion
    t0 = rng.negative_binomial(20, 20 / (20 + mean))
    d14 = rng.negative_binomial(20, 20 / (20 + 1.8 * mean * fold))
    counts = table(gene=genes, t0=t0, d14=d14)
    names = [f"G{i}" for i in range(n_genes)]
    return counts, names[:300], names[300:600]


def test_simulated_depletion_separates_and_null_does_not():
    counts, ess, non = simulated_screen(np.random.default_rng(11), depletion=0.5)
    hit = essential_separation(
        counts, reference="t0", samples=["d14"], essential=ess, nonessential=non
    ).loc["d14"]
    assert hit["roc_auc"] > 0.95 and hit["pr_auc"] > 0.95
    # a 2-fold dropout (measured: roc_auc 0.9986, delta -0.99)
    assert hit["delta"] == pytest.approx(-1.0, abs=0.2)
    counts, ess, non = simulated_screen(np.random.default_rng(12), depletion=1.0)
    null = essential_separation(
        counts, reference="t0", samples=["d14"], essential=ess, nonessential=non
    ).loc["d14"]
    # null AUC has SD sqrt(601 / (12 * 300 * 300)) ~ 0.024; allow 4 SD
    assert null["roc_auc"] == pytest.approx(0.5, abs=0.1)
    assert null["delta"] == pytest.approx(0.0, abs=0.1)


# --- errors ---------------------------------------------------------------------------------


def test_input_errors(tmp_path):
    counts = table(gene=["A", "B", "C"], ref=[1, 2, 3], s=[3, 2, 1])
    with pytest.raises(InputError) as err:
        sample_qc(counts, samples=["nope"])
    assert err.value.field == "samples"
    with pytest.raises(InputError) as err:
        guide_lfc(counts, reference="ref", samples=["s", "nope"])
    assert err.value.field == "samples" and "'nope'" in str(err.value)
    with pytest.raises(InputError) as err:
        guide_lfc(counts, reference="t0", samples=["s"])
    assert err.value.field == "reference"
    with pytest.raises(InputError) as err:
        guide_lfc(counts, reference="ref", samples=["s"], pseudocount=0.0)
    assert err.value.field == "pseudocount"
    with pytest.raises(InputError) as err:
        replicate_correlation(counts, {"x": ["s", "nope"]})
    assert err.value.field == "groups"
    with pytest.raises(InputError) as err:
        null_contrasts({"x": ["s", "s"]})
    assert err.value.field == "groups"

    genes = [f"G{i}" for i in range(12)]
    big = table(gene=genes, ref=[10] * 12, s=[10] * 12)
    with pytest.raises(InputError) as err:
        essential_separation(
            big,
            reference="ref",
            samples=["s"],
            essential=["G0", "G1", "g2"],
            nonessential=genes[6:],
        )
    assert err.value.field == "essential"
    assert "only 2 of the 3" in str(err.value) and "must match" in str(err.value)
    with pytest.raises(InputError) as err:
        essential_separation(
            big, reference="ref", samples=["s"], essential=genes[:6], nonessential=["X"]
        )
    assert err.value.field == "nonessential" and "only 0 of the 1" in str(err.value)
    with pytest.raises(InputError, match="in both"):  # G5 is in both sets
        essential_separation(
            big, reference="ref", samples=["s"], essential=genes[:6], nonessential=genes[5:]
        )

    with pytest.raises(InputError) as err:
        read_gene_set(tmp_path / "missing.txt")
    assert err.value.file == str(tmp_path / "missing.txt")
    empty = tmp_path / "empty.tsv"
    empty.write_text("GENE\tHGNC_ID\n# nothing\n\n")
    with pytest.raises(InputError) as err:
        read_gene_set(empty)
    assert err.value.file == str(empty) and "no gene symbols" in str(err.value)


# --- the A375 vemurafenib screen (Shalem et al. 2014) -----------------------------------------

needs_a375 = pytest.mark.skipif(
    not (A375.exists() and CEG.exists() and NEG.exists()), reason="A375 screen data not present"
)


@pytest.fixture(scope="module")
def a375():
    return read_counts(A375)


@needs_a375
def test_a375_gini_and_top_guides(a375):
    qc = sample_qc(a375)
    # Documented (data README): Gini PLX14 0.79, D14 0.46, plasmid 0.40. Measured:
    # plasmid 0.400, D14_R1 0.469, D14_R2 0.464, PLX14_R1 0.794, PLX14_R2 0.796.
    # Each replicate within 0.05, the replicate mean within 0.03.
    for stem, documented in (("PLX14", 0.79), ("D14", 0.46), ("plasmid", 0.40)):
        names = [stem] if stem == "plasmid" else [f"{stem}_R1", f"{stem}_R2"]
        assert qc.loc[names, "gini"].to_numpy() == pytest.approx(
            [documented] * len(names), abs=0.05
        )
        assert qc.loc[names, "gini"].mean() == pytest.approx(documented, abs=0.03)
    # "Top 10 guides carry 22.5%": holds per replicate (0.2257 in R1 and in R2) and for the
    # pooled R1 + R2 reads (0.2257) alike; in D14 the top 10 carry < 0.3%.
    assert qc.loc[["PLX14_R1", "PLX14_R2"], "top10_share"].to_numpy() == pytest.approx(
        [0.225, 0.225], abs=0.005
    )
    pooled = a375[["PLX14_R1", "PLX14_R2"]].sum(axis=1).to_numpy()
    assert np.sort(pooled)[-10:].sum() / pooled.sum() == pytest.approx(0.225, abs=0.005)
    assert (qc.loc[["D14_R1", "D14_R2"], "top10_share"] < 0.01).all()
    assert (qc["sgrnas"] == 64_076).all()


@needs_a375
def test_a375_essential_separation(a375):
    ceg, neg = read_gene_set(CEG), read_gene_set(NEG)
    assert (len(ceg), len(neg)) == (684, 926)  # NEGv1 lists SLC34A1 twice
    sep = {
        arm: essential_separation(
            a375,
            reference="plasmid",
            samples=[f"{arm}_R1", f"{arm}_R2"],
            essential=ceg,
            nonessential=neg,
        )
        for arm in ("D7", "PLX7", "D14")
    }
    # Documented: CEGv2 depletion -0.90 in D7, -0.69 in PLX7. Measured replicate means:
    # D7 -0.899 (R1 -0.930, R2 -0.868), PLX7 -0.688 (R1 -0.665, R2 -0.711).
    d7 = sep["D7"]["delta"].mean()
    plx7 = sep["PLX7"]["delta"].mean()
    assert d7 == pytest.approx(-0.90, abs=0.1)
    assert plx7 == pytest.approx(-0.69, abs=0.1)
    assert d7 < plx7 < 0  # drug arm's essential-gene dropout is weaker
    # D14 vs plasmid: measured ROC AUC 0.899 (R1), 0.894 (R2); PR AUC 0.889, 0.880.
    d14 = sep["D14"]
    assert ((d14["roc_auc"] > 0.85) & (d14["roc_auc"] < 0.95)).all()
    assert (d14["pr_auc"] > 0.8).all()
    assert (d14["n_essential"] == 623).all() and (d14["n_nonessential"] == 750).all()


@needs_a375
def test_a375_replicates_agree(a375):
    groups = {"plasmid": ["plasmid"], "D7": ["D7_R1", "D7_R2"], "PLX14": ["PLX14_R1", "PLX14_R2"]}
    out = replicate_correlation(a375, groups).set_index("group")
    # measured: D7 pearson_log 0.964, spearman 0.967; PLX14 0.926, 0.941
    assert out.loc["D7", "pearson_log"] > 0.95 and out.loc["D7", "spearman"] > 0.95
    assert out.loc["PLX14", "pearson_log"] < out.loc["D7", "pearson_log"]


def test_replicate_balance_flags_depth_and_gini():
    """Depth ratio >= 2 flags ``depth``, a Gini difference >= 0.1 flags ``gini``; a group of
    one sample gives no row; the shallower sample's median reads are reported."""
    even = [100] * 20
    skewed = [1] * 18 + [901, 1081]  # same total as ``even``, Gini 0.85
    counts = table(a=even, b=[50] * 20, c=skewed, d=[95] * 10 + [105] * 10, t0=even)
    res = replicate_balance(counts, {"T0": ["t0"], "D14": ["a", "b", "c", "d"]})
    rows = {(r.sample_a, r.sample_b): r for r in res.itertuples()}
    assert len(res) == 6
    assert rows[("a", "b")].depth_ratio == 2.0 and rows[("a", "b")].flag == "depth"
    assert rows[("a", "b")].median_reads_low == 50.0
    assert rows[("a", "c")].flag == "gini" and rows[("a", "c")].gini_difference > 0.8
    assert rows[("b", "c")].flag == "depth, gini"
    assert rows[("a", "d")].flag == "" and rows[("a", "d")].depth_ratio == 1.0
    with pytest.raises(InputError, match="no sample 'x'"):
        replicate_balance(counts, {"D14": ["a", "x"]})


@needs_a375
def test_a375_replicates_are_balanced(a375):
    """A375 replicates of one arm and day: no Gini flag (differences <= 0.03); PLX7 R1 and
    R2 are 1.98-fold apart in depth, just under the flag; D14 1.33-fold."""
    groups = {arm: [f"{arm}_R1", f"{arm}_R2"] for arm in ("D7", "D14", "PLX7", "PLX14")}
    res = replicate_balance(a375, groups).set_index("group")
    assert (res["gini_difference"] < 0.03).all()
    assert res.loc["PLX7", "depth_ratio"] == pytest.approx(1.98, abs=0.01)
    assert res.loc["D14", "depth_ratio"] == pytest.approx(1.33, abs=0.01)
    assert (res["flag"] == "").all()
