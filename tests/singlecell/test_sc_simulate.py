"""The single-cell simulator: known truth, negative-binomial counts, seeds."""

from __future__ import annotations

import numpy as np
import pytest

from oncoresist.errors import InputError
from oncoresist.singlecell._celldata import CellData
from oncoresist.singlecell._simulate import simulate_cells


def test_layout_and_truth() -> None:
    cd = simulate_cells(n_patients=3, cells_per_sample=100, n_genes=200, rng=0)
    assert isinstance(cd, CellData)
    assert cd.shape == (600, 200)
    assert sorted(cd.obs["sample"].unique()) == [
        "P1_ctrl", "P1_drug", "P2_ctrl", "P2_drug", "P3_ctrl", "P3_drug"
    ]  # fmt: skip
    assert (cd.obs.groupby("sample", observed=True)["patient"].nunique() == 1).all()
    truth = cd.uns["truth"]
    assert truth["expanded_samples"] == ["P1_drug", "P2_drug", "P3_drug"]
    assert truth["state_counts"].to_numpy().sum() == 600
    assert (cd.X.data > 0).all() and np.issubdtype(cd.X.dtype, np.integer)
    assert (cd.layers["counts"] != cd.X).nnz == 0
    assert set(truth["de_genes"]) == set(cd.var_names[cd.var["de_lfc"] != 0])


def test_seeded() -> None:
    a = simulate_cells(cells_per_sample=50, n_genes=100, rng=7)
    b = simulate_cells(cells_per_sample=50, n_genes=100, rng=7)
    c = simulate_cells(cells_per_sample=50, n_genes=100, rng=8)
    assert (a.X != b.X).nnz == 0
    assert (a.X != c.X).nnz > 0


def test_persister_expands_k_fold_in_expanded_samples() -> None:
    cd = simulate_cells(n_patients=4, cells_per_sample=4000, n_genes=50, n_de_genes=5,
                        n_programme_genes=5, persister_fraction=0.04, persister_fold=5,
                        expanded_samples=["P1_drug", "P2_drug"], rng=1)  # fmt: skip
    frac = cd.obs.groupby("sample", observed=True)["persister"].mean()
    assert frac[["P1_drug", "P2_drug"]].mean() / frac[["P1_ctrl", "P2_ctrl"]].mean() == (
        pytest.approx(5.0, rel=0.15)
    )
    # Drug samples not listed do not expand.
    assert frac[["P3_drug", "P4_drug"]].mean() == pytest.approx(0.04, abs=0.012)


def test_programme_genes_planted_in_persister_state() -> None:
    genes = ["AXL", "VIM", "ZEB1"]
    cd = simulate_cells(cells_per_sample=300, n_genes=300, programme_genes=genes,
                        programme_lfc=1.5, rng=2)  # fmt: skip
    assert list(cd.var_names[:3]) == genes and cd.var["programme"].sum() == 3
    x = cd.X.toarray().astype(float)
    x /= x.sum(axis=1, keepdims=True)
    pers = cd.obs["persister"].to_numpy()
    ratio = x[pers][:, :3].mean(axis=0) / x[~pers][:, :3].mean(axis=0)
    assert np.all(np.log(ratio) > 1.0)


def test_negative_binomial_variance() -> None:
    # One state, no batch: within-sample counts of a gene are NB with the given dispersion.
    cd = simulate_cells(n_patients=1, cells_per_sample=6000, n_genes=500, n_states=2,
                        persister_fraction=1e-9, persister_fold=1, n_programme_genes=0,
                        n_de_genes=0, marker_fraction=0.0, batch_sd=0.0, size_factor_sd=0.0,
                        dispersion=0.5, rng=3)  # fmt: skip
    x = cd.X[cd.obs["sample"].to_numpy() == "P1_ctrl"].toarray().astype(float)
    lib = x.sum(axis=1)
    gene = int(np.argsort(-x.mean(axis=0))[10])
    # Counts scaled to a common library remove the per-cell library spread.
    y = x[:, gene]
    mu = lib * y.sum() / lib.sum()
    phi = np.mean(((y - mu) ** 2 - mu) / mu**2)
    assert phi == pytest.approx(0.5, rel=0.2)


def test_bad_arguments() -> None:
    with pytest.raises(InputError, match="expanded_samples"):
        simulate_cells(cells_per_sample=10, n_genes=100, expanded_samples=["P9_drug"])
    with pytest.raises(InputError, match="persister_fold"):
        simulate_cells(cells_per_sample=10, n_genes=100, persister_fraction=0.3,
                       persister_fold=5)  # fmt: skip
    with pytest.raises(InputError, match="exceed"):
        simulate_cells(cells_per_sample=10, n_genes=30, n_de_genes=20, n_programme_genes=20)
