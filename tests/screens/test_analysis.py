"""Screens: count-table checks, normalisation, and the A375 vemurafenib screen's known hits."""

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oncoresist.errors import InputError
from oncoresist.screens import analyze, read_counts, size_factors, unmangle_gene

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "crispr"
A375 = DATA / "shalem2014_A375_GeCKOv1_vemurafenib_counts.csv.gz"


def write(tmp_path, text, name="c.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_read_counts_checks(tmp_path):
    ok = read_counts(write(tmp_path, "sgRNA,Gene,a,b\ns1,NF1,1,2\ns2,1-Dec,3,4\n"))
    assert ok.loc["s2", "gene"] == "DEC1" and ok.attrs["unmangled"] == {"1-Dec": "DEC1"}
    assert ok["a"].dtype == np.int64
    cases = [
        ("sgRNA,Gene,a\ns1,NF1,1\ns1,NF2,2\n", "appears twice", 3, "sgRNA"),
        ("sgRNA,Gene,a\ns1,NF1,-1\n", "whole number", 2, "a"),
        ("sgRNA,Gene,a\ns1,NF1,2.5\n", "whole number", 2, "a"),
        ("sgRNA,Gene,a\ns1,1-Jan,2\n", "spreadsheet date", 2, "gene"),
    ]
    for text, words, line, field in cases:
        with pytest.raises(InputError) as err:
            read_counts(write(tmp_path, text))
        assert words in str(err.value) and err.value.record == line
        assert err.value.field == field
    with pytest.raises(InputError):
        read_counts(tmp_path / "none.csv")
    assert unmangle_gene("Sep-08") == "SEPT8" and unmangle_gene("NF1") is None


def test_median_ratio_size_factors_recover_depth():
    rng = np.random.default_rng(1)
    base = rng.gamma(2.0, 100.0, 5000)
    depth = np.array([1.0, 2.0, 0.5])
    counts = pd.DataFrame(rng.poisson(np.outer(base, depth)), columns=list("abc"))
    f = size_factors(counts)
    assert (f / f.iloc[0]).to_numpy() == pytest.approx(depth, rel=0.03)
    t = size_factors(counts, method="total")
    assert (t / t.iloc[0]).to_numpy() == pytest.approx(depth, rel=0.03)


@pytest.mark.skipif(not A375.exists(), reason="needs ../shared/data/crispr")
def test_a375_vemurafenib_top_enriched_genes_are_shalems():
    """Shalem et al. 2014: NF1, NF2, MED12, CUL3, TADA2B, TADA1 (and CCDC101, MED15)."""
    with gzip.open(A375, "rt") as fh:
        assert fh.readline().startswith("sgRNA,Gene")
    counts = read_counts(A375)
    assert len(counts.attrs["unmangled"]) >= 20  # distinct Excel-mangled symbols, mapped back
    genes = analyze(counts, treatment=["PLX14_R1", "PLX14_R2"], control=["D14_R1", "D14_R2"],
                    method="nb").genes  # fmt: skip
    top20 = set(genes.index[:20])
    known = {"NF1", "NF2", "MED12", "CUL3", "TADA2B", "TADA1", "CCDC101", "MED15"}
    assert len(top20 & known) >= 7
    assert {"NF2", "MED12"} <= set(genes.index[:5])
    assert (genes.loc[list(known & top20), "pos|lfc"] > 1).all()


@pytest.mark.parametrize("n", [1, 2, 4, 10])
@pytest.mark.parametrize("alpha", [0.25, 1.0])
def test_rra_pvalue_is_exact_under_the_null(n, alpha):
    """Genes whose sgRNA ranks are uniform: P(p <= x) = x (within 3 SE, 20,000 genes) below
    the atom at p = 1 (genes with no sgRNA ranked within alpha), and at most x above it."""
    from scipy.stats import beta

    from oncoresist.screens._analysis import rra_pvalue

    rng = np.random.default_rng(n)
    u = np.sort(rng.random((20_000, n)), axis=1)
    k = np.arange(1, n + 1)
    rho = np.where(u <= alpha, beta.cdf(u, k, n - k + 1), 1.0).min(axis=1)
    p = rra_pvalue(rho, n, alpha)
    atom = (1 - alpha) ** n
    for x in (0.001, 0.01, 0.05, 0.2, 0.5):
        se = np.sqrt(x * (1 - x) / len(p))
        if x < 1 - atom:
            assert abs((p <= x).mean() - x) < 3 * se
        else:
            assert (p <= x).mean() <= x + 3 * se
    # one sgRNA within alpha: the p-value is its rank
    assert rra_pvalue([0.03], 1, 0.25)[0] == pytest.approx(0.03)


def test_ranked_view_puts_sumz_into_the_mageck_columns():
    from oncoresist.screens import ranked_view

    genes = pd.DataFrame(
        {"num": [3, 3, 3], "pos|p-value": [0.5, 0.01, 0.9], "pos|fdr": [0.5, 0.03, 0.9],
         "pos|rank": [2, 1, 3], "neg|p-value": [0.5, 0.9, 0.01], "neg|fdr": [0.5, 0.9, 0.03],
         "neg|rank": [2, 3, 1], "normZ": [3.0, 0.5, -2.0], "pval_supp": [1e-4, 0.3, 0.99],
         "fdr_supp": [3e-4, 0.45, 0.99], "pval_synth": [0.99, 0.7, 0.02],
         "fdr_synth": [0.99, 0.99, 0.06]},
        index=pd.Index(["A", "B", "C"], name="id"),
    )  # fmt: skip
    view = ranked_view(genes)
    assert view.index.tolist() == ["A", "B", "C"]
    assert view.loc["A", "pos|rank"] == 1 and view.loc["C", "neg|rank"] == 1
    assert view.loc["A", "pos|fdr"] == 3e-4 and view.loc["C", "neg|p-value"] == 0.02
    assert ranked_view(genes, by="rra") is genes
    with pytest.raises(InputError):
        ranked_view(genes.drop(columns="normZ"))


def test_permutation_p_values_check_the_exact_ones():
    """MAGeCK's permutation p-values (20,000 random genes per sgRNA count) agree with the
    exact alpha-RRA p-values within 4 binomial standard errors plus one permutation step."""
    from oncoresist.screens import gene_summary

    rng = np.random.default_rng(4)
    genes = np.repeat([f"g{i}" for i in range(600)], rng.integers(2, 7, 600))
    z = rng.normal(size=genes.size)
    z[genes == "g1"] += 3.0  # one enriched gene
    sg = pd.DataFrame({"gene": genes, "z": z, "lfc": z})
    out = gene_summary(sg, permutations=20_000, rng=5)
    for tag in ("pos", "neg"):
        exact, perm = out[f"{tag}|p-value"], out[f"{tag}|p-permutation"]
        se = np.sqrt(exact * (1 - exact) / 20_000)
        assert (np.abs(perm - exact) <= 4 * se + 1 / 20_000).all()
    assert out.loc["g1", "pos|p-value"] < 1e-4
