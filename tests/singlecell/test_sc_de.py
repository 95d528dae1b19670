"""Paired pseudobulk DE: hand cases, simulations with known truth, PyDESeq2 parity and the
panobinostat metallothionein induction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from oncoresist.errors import InputError
from oncoresist.singlecell._celldata import CellData
from oncoresist.singlecell._de import bh_adjust, pseudobulk_de, size_factors
from oncoresist.singlecell._simulate import simulate_cells

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "singlecell"
PANO = DATA / "zhao2021_gbm_panobinostat_5000x300.h5ad"
REFERENCE = Path(__file__).parent / "data" / "de_pydeseq2_panobinostat.csv"


def test_size_factors_by_hand() -> None:
    counts = np.array([[10, 20, 0], [20, 40, 5], [40, 80, 9]])
    # Geometric means over genes counted everywhere (the first two): ratios 0.5, 1, 2.
    np.testing.assert_allclose(size_factors(counts), [0.5, 1.0, 2.0])


def test_bh_by_hand_and_weighted() -> None:
    p = np.array([0.01, 0.02, 0.03, 0.5, np.nan])
    np.testing.assert_allclose(bh_adjust(p)[:4], [0.04, 0.04, 0.04, 0.5])
    assert np.isnan(bh_adjust(p)[4])
    # Weights move the cut-off: a heavy weight on the first p-value shrinks its adjustment.
    w = np.array([4.0, 1.0, 1.0, 1.0, 1.0])
    assert bh_adjust(p, w)[0] == pytest.approx(0.01 * 7 / 4)


@pytest.fixture(scope="module")
def simulated() -> CellData:
    return simulate_cells(n_patients=4, cells_per_sample=150, n_genes=400, n_de_genes=40,
                          de_lfc=1.0, batch_sd=0.2, persister_fold=1.0, rng=11)  # fmt: skip


def test_simulated_de_recovers_planted_genes(simulated: CellData) -> None:
    res = pseudobulk_de(simulated, groupby="condition", treated="drug", control="ctrl",
                        pair="patient")  # fmt: skip
    planted = simulated.var["de_lfc"].to_numpy() != 0
    # No composition change (persister_fold=1): only the planted genes change.
    hits = (res["padj"] < 0.05).to_numpy()
    assert hits[planted].mean() >= 0.8
    assert hits[~planted].sum() / max(hits.sum(), 1) <= 0.1
    # Direction and size: natural-log 1.0 is 1.44 in log2 units.
    lfc = res["log2fc"].to_numpy()[planted]
    truth = simulated.var["de_lfc"].to_numpy()[planted] / np.log(2)
    assert np.all(np.sign(lfc) == np.sign(truth))
    assert np.median(np.abs(lfc - truth)) < 0.3
    assert simulated.uns["oncoresist_de"]["params"]["design"] == "~ patient + condition"
    assert res["n_pairs_up"].max() == 4


def test_null_pvalues_are_uniform() -> None:
    cd = simulate_cells(n_patients=4, cells_per_sample=100, n_genes=600, n_de_genes=0,
                        batch_sd=0.3, persister_fold=1.0, rng=5)  # fmt: skip
    res = pseudobulk_de(cd, groupby="condition", treated="drug", control="ctrl", pair="patient")
    p = res["pvalue"].dropna().to_numpy()
    # Tolerance: the fraction below 0.05 within 0.02-0.09 over ~600 genes.
    assert 0.02 <= np.mean(p < 0.05) <= 0.09
    assert (res["padj"] < 0.05).sum() <= 3


def test_unpaired_and_cell_groups(simulated: CellData) -> None:
    res = pseudobulk_de(simulated, groupby="condition", treated="drug", control="ctrl",
                        sample="sample", key_added=None)  # fmt: skip
    assert res["n_pairs_up"].isna().all()
    per = pseudobulk_de(simulated, groupby="condition", treated="drug", control="ctrl",
                        pair="patient", cell_group="state", key_added=None)  # fmt: skip
    assert set(per["cell_group"]) == set(simulated.obs["state"].astype(str))
    assert len(per) == 400 * 4


def test_design_problems_are_named(simulated: CellData) -> None:
    with pytest.raises(InputError, match="at least 2 samples per condition"):
        one = simulated[simulated.obs["patient"].isin(["P1"]).to_numpy()]
        pseudobulk_de(one, groupby="condition", treated="drug", control="ctrl", pair="patient")
    with pytest.raises(InputError, match="obs/nope"):
        pseudobulk_de(simulated, groupby="nope", treated="drug", control="ctrl", pair="patient")
    with pytest.raises(InputError, match="'placebo' not found"):
        pseudobulk_de(simulated, groupby="condition", treated="placebo", control="ctrl",
                      pair="patient")  # fmt: skip
    with pytest.raises(InputError, match="give sample="):
        pseudobulk_de(simulated, groupby="condition", treated="drug", control="ctrl")
    with pytest.raises(InputError, match="values of 'patient'"):
        pseudobulk_de(simulated, groupby="condition", treated="drug", control="ctrl",
                      pair="patient", sample="condition")  # fmt: skip
    confounded = simulated.copy()
    confounded.obs["block"] = confounded.obs["condition"].astype(str)
    with pytest.raises(InputError, match="confounded"):
        pseudobulk_de(confounded, groupby="condition", treated="drug", control="ctrl",
                      pair="block", sample="sample")  # fmt: skip


def test_normalised_values_are_refused() -> None:
    cd = simulate_cells(n_patients=2, cells_per_sample=20, n_genes=100, rng=0)
    x = sparse.csr_matrix(cd.X, dtype=float)
    x.data = x.data / 3.0
    bad = CellData(x, cd.obs, cd.var, layers={"counts": x})
    with pytest.raises(InputError, match="layers/counts"):
        pseudobulk_de(bad, groupby="condition", treated="drug", control="ctrl", pair="patient")


@pytest.fixture(scope="module")
def panobinostat() -> CellData:
    if not PANO.exists():
        pytest.skip("shared single-cell data not present")
    from oncoresist.singlecell import read

    return read(PANO)


def test_parity_with_pydeseq2(panobinostat: CellData) -> None:
    ref = pd.read_csv(REFERENCE).set_index("gene_id")
    res = pseudobulk_de(panobinostat, groupby="condition", treated="panobinostat",
                        control="ctrl", pair="patient_id", sample="sample_id")  # fmt: skip
    res = res.set_index("gene_id").loc[ref.index]
    ok = ref["pvalue"].notna()
    # Tolerances (measured: r = 0.99989 and 0.9996): log2fc r >= 0.999, -log10 p r >= 0.995.
    assert np.corrcoef(ref.loc[ok, "log2FoldChange"], res.loc[ok, "log2fc"])[0, 1] >= 0.999
    assert (
        np.corrcoef(-np.log10(ref.loc[ok, "pvalue"]), -np.log10(res.loc[ok, "pvalue"]))[0, 1]
        >= 0.995
    )
    top_ref = set(ref["pvalue"].nsmallest(10).index)
    top_me = set(res["pvalue"].nsmallest(10).index)
    assert len(top_ref & top_me) >= 9
    np.testing.assert_allclose(res.loc[ok, "base_mean"], ref.loc[ok, "baseMean"], rtol=1e-6)


def test_panobinostat_induces_metallothioneins(panobinostat: CellData) -> None:
    res = pseudobulk_de(panobinostat, groupby="condition", treated="panobinostat",
                        control="ctrl", pair="patient_id", sample="sample_id")  # fmt: skip
    mt = res[res["gene"].str.fullmatch(r"MT1[A-Z]?|MT2A")]
    assert set(mt["gene"]) == {"MT1E", "MT1G", "MT1X", "MT2A"}
    assert (mt["log2fc"] > 1).all()
    assert (mt["padj"] < 0.05).all()
    # Consistent direction in all 5 patients.
    assert (mt["n_pairs_up"] == 5).all() and (mt["n_pairs_down"] == 0).all()
