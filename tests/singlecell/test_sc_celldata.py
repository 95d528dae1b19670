from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from oncoresist.errors import InputError
from oncoresist.singlecell import CellData, RawData, read


def _example(seed: int = 0, *, dense: bool = False) -> CellData:
    rng = np.random.default_rng(seed)
    counts = rng.poisson(1.0, size=(6, 4))
    X = counts.astype(float) if dense else sparse.csr_matrix(counts)
    obs = pd.DataFrame(
        {
            "condition": pd.Categorical(["ctrl", "drug"] * 3),
            "patient": ["P1", "P1", "P2", "P2", "P3", "P3"],
            "n_genes": np.arange(6, dtype=np.int64),
            "score": np.linspace(0, 1, 6),
            "flag": [True, False] * 3,
            "note": ["a", None, "b", "c", None, "d"],
            "count": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
        },
        index=[f"cell{i}" for i in range(6)],
    )
    genes = pd.Index(["ENSG1", "ENSG2", "ENSG3", "ENSG4"], name="gene_id")
    var = pd.DataFrame({"symbol": ["EGFR", "AXL", "VIM", "MT2A"]}, index=genes)
    return CellData(
        X,
        obs,
        var,
        obsm={
            "X_pca": rng.normal(size=(6, 2)),
            "scores": pd.DataFrame({"a": np.arange(6.0)}, index=obs.index),
        },
        layers={"counts": sparse.csr_matrix(counts)},
        uns={
            "title": "test",
            "n": 3,
            "x": 0.5,
            "names": ["a", "b"],
            "nested": {"array": np.arange(3), "table": pd.DataFrame({"k": [1, 2]})},
        },
        raw=RawData(sparse.csr_matrix(counts), var.copy()),
    )


def test_shape_names_and_repr():
    cd = _example()
    assert cd.shape == (6, 4) and cd.n_obs == 6 and cd.n_vars == 4
    assert list(cd.var_names) == ["ENSG1", "ENSG2", "ENSG3", "ENSG4"]
    assert "6 × 4" in repr(cd) and "'counts'" in repr(cd)


def test_subsetting_cells_and_genes():
    cd = _example()
    mask = (cd.obs["condition"] == "drug").to_numpy()
    sub = cd[mask]
    assert sub.n_obs == 3 and list(sub.obs_names) == ["cell1", "cell3", "cell5"]
    assert sub.obsm["X_pca"].shape == (3, 2)
    assert list(sub.obsm["scores"].index) == ["cell1", "cell3", "cell5"]
    both = cd[:, ["ENSG3", "ENSG1"]]
    assert list(both.var_names) == ["ENSG3", "ENSG1"]
    np.testing.assert_array_equal(both.layers["counts"].toarray(),
                                  cd.layers["counts"].toarray()[:, [2, 0]])  # fmt: skip
    assert cd[1:3].n_obs == 2


def test_subsetting_errors_name_the_axis():
    cd = _example()
    with pytest.raises(InputError, match="var_names"):
        cd[:, ["NOPE"]]
    with pytest.raises(InputError, match="expected 6"):
        cd[[True, False]]


def test_copy_is_independent():
    cd = _example()
    other = cd.copy()
    other.obs["condition"] = "x"
    other.uns["nested"]["array"][0] = 99
    other.X[0, 0] = 42
    assert (cd.obs["condition"] != "x").all()
    assert cd.uns["nested"]["array"][0] == 0
    assert cd.X[0, 0] != 42


def test_shape_mismatch_is_located():
    with pytest.raises(InputError, match="field obs"):
        CellData(np.zeros((3, 2)), pd.DataFrame(index=["a", "b"]))
    with pytest.raises(InputError, match="layers/counts"):
        CellData(np.zeros((3, 2)), layers={"counts": np.zeros((2, 2))})


@pytest.mark.parametrize("dense", [False, True])
def test_h5ad_round_trip(tmp_path: Path, dense: bool):
    cd = _example(dense=dense)
    path = tmp_path / "cells.h5ad"
    cd.write_h5ad(path)
    back = read(path)
    assert back.filename == str(path)
    if dense:
        np.testing.assert_array_equal(back.X, cd.X)
    else:
        assert sparse.issparse(back.X) and (back.X != cd.X).nnz == 0
    assert back.var.index.name == "gene_id"
    pd.testing.assert_frame_equal(back.var, cd.var)
    for column in ("condition", "patient", "n_genes", "score", "flag", "count"):
        pd.testing.assert_series_equal(back.obs[column], cd.obs[column], check_dtype=False)
    assert back.obs["note"].isna().sum() == 2 and back.obs["note"].iloc[0] == "a"
    np.testing.assert_allclose(back.obsm["X_pca"], cd.obsm["X_pca"])
    pd.testing.assert_frame_equal(back.obsm["scores"], cd.obsm["scores"])
    assert back.uns["title"] == "test" and back.uns["n"] == 3 and back.uns["x"] == 0.5
    assert list(back.uns["names"]) == ["a", "b"]
    np.testing.assert_array_equal(back.uns["nested"]["array"], np.arange(3))
    assert list(back.uns["nested"]["table"]["k"]) == [1, 2]
    assert (back.layers["counts"] != cd.layers["counts"]).nnz == 0
    assert back.raw is not None and list(back.raw.var_names) == list(cd.var_names)


def test_write_is_atomic_on_failure(tmp_path: Path):
    cd = _example()
    cd.uns["bad"] = object()
    path = tmp_path / "cells.h5ad"
    with pytest.raises(InputError, match="uns/bad"):
        cd.write_h5ad(path)
    assert list(tmp_path.iterdir()) == []
