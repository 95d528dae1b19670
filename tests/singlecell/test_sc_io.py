from __future__ import annotations

import gzip
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from scipy import io as spio
from scipy import sparse

from oncoresist.errors import InputError
from oncoresist.singlecell import CellData, RawData, counts_matrix, match_genes, read

ZHAO = Path(__file__).parents[3] / "shared/data/singlecell/zhao2021_gbm_panobinostat_5000x300.h5ad"
needs_zhao = pytest.mark.skipif(not ZHAO.exists(), reason="shared single-cell data absent")


def _strings(group, key, values, kind="string-array"):
    ds = group.create_dataset(key, data=np.asarray(values, dtype=object),
                              dtype=h5py.string_dtype())  # fmt: skip
    ds.attrs["encoding-type"] = kind
    ds.attrs["encoding-version"] = "0.2.0"


def _frame(f, name, index):
    g = f.create_group(name)
    g.attrs.update({"encoding-type": "dataframe", "encoding-version": "0.2.0",
                    "_index": "_index", "column-order": np.array([], dtype="S1")})  # fmt: skip
    _strings(g, "_index", index)


def _h5ad_with_float_counts(path: Path) -> None:
    """Written with h5py alone: X normalised, layers/counts holding 0.5 at cell c1, gene G2."""
    with h5py.File(path, "w") as f:
        f.attrs.update({"encoding-type": "anndata", "encoding-version": "0.1.0"})
        x = f.create_dataset("X", data=np.array([[0.1, 0.0, 1.2], [0.0, 2.5, 0.3]]))
        x.attrs.update({"encoding-type": "array", "encoding-version": "0.2.0"})
        _frame(f, "obs", ["c0", "c1"])
        _frame(f, "var", ["G0", "G1", "G2"])
        layers = f.create_group("layers")
        layers.attrs.update({"encoding-type": "dict", "encoding-version": "0.1.0"})
        counts = layers.create_group("counts")
        counts.attrs.update({"encoding-type": "csr_matrix", "encoding-version": "0.1.0",
                             "shape": np.array([2, 3])})  # fmt: skip
        counts.create_dataset("data", data=np.array([1.0, 3.0, 0.5]))
        counts.create_dataset("indices", data=np.array([0, 1, 2]))
        counts.create_dataset("indptr", data=np.array([0, 1, 3]))


def test_float_counts_layer_is_located(tmp_path: Path):
    path = tmp_path / "float.h5ad"
    _h5ad_with_float_counts(path)
    cd = read(path)
    with pytest.raises(InputError) as caught:
        counts_matrix(cd)
    message = str(caught.value)
    assert str(path) in message and "field layers/counts" in message
    assert "'c1'" in message and "'G2'" in message and "0.5" in message


def test_missing_layer_is_located(tmp_path: Path):
    path = tmp_path / "float.h5ad"
    _h5ad_with_float_counts(path)
    with pytest.raises(InputError, match=r"field layers/spliced: layer not found \(layers: counts"):
        read(path, layer="spliced")
    with pytest.raises(InputError, match="layers/raw"):
        counts_matrix(read(path), layer="raw")


def test_layer_becomes_X(tmp_path: Path):
    path = tmp_path / "c.h5ad"
    CellData(np.ones((2, 2)), layers={"counts": np.array([[1, 2], [3, 4]])}).write_h5ad(path)
    cd = read(path, layer="counts")
    np.testing.assert_array_equal(cd.X, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(cd.layers["X"], np.ones((2, 2)))


def test_normalised_X_without_counts_is_refused(tmp_path: Path):
    cd = CellData(np.array([[0.5, 1.0], [0.0, 2.0]]))
    cd.filename = "n.h5ad"
    with pytest.raises(InputError, match=r"n\.h5ad, field X: X holds non-integer"):
        counts_matrix(cd)


def test_counts_from_raw_then_X():
    counts = np.array([[1, 0, 2], [0, 3, 1]])
    var = pd.DataFrame(index=["A", "B", "C"])
    cd = CellData(np.log1p(counts[:, [2, 0]]), var=pd.DataFrame(index=["C", "A"]),
                  raw=RawData(counts, var))  # fmt: skip
    matrix, where = counts_matrix(cd)
    assert where == ".raw.X"
    np.testing.assert_array_equal(matrix, counts[:, [2, 0]])
    matrix, where = counts_matrix(CellData(counts.astype(float)))
    assert where.startswith("X")


def test_unreadable_files(tmp_path: Path):
    text = tmp_path / "notes.h5ad"
    text.write_text("not hdf5")
    with pytest.raises(InputError, match="not an HDF5 file"):
        read(text)
    with pytest.raises(InputError, match="file not found"):
        read(tmp_path / "missing.h5ad")
    old = tmp_path / "old.h5ad"
    with h5py.File(old, "w") as f:
        f.create_dataset("X", data=np.zeros((2, 2)))
        f.create_dataset("obs", data=np.zeros(2, dtype=[("index", "S4")]))
        f.create_dataset("var", data=np.zeros(2, dtype=[("index", "S4")]))
    with pytest.raises(InputError, match=r"field obs: no encoding-type"):
        read(old)
    no_var = tmp_path / "novar.h5ad"
    with h5py.File(no_var, "w") as f:
        f.create_dataset("X", data=np.zeros((2, 2)))
    with pytest.raises(InputError, match="field obs"):
        read(no_var)


def _write_mtx(directory: Path, *, gz: bool, v2: bool) -> np.ndarray:
    directory.mkdir()
    counts = np.array([[0, 2, 1], [5, 0, 0], [1, 1, 0], [0, 0, 7]])  # 4 cells × 3 genes

    def opener(path: Path):
        return gzip.open(f"{path}.gz", "wb") if gz else path.open("wb")

    with opener(directory / "matrix.mtx") as handle:
        spio.mmwrite(handle, sparse.coo_matrix(counts.T))
    features = "ENSG01\tEGFR\nENSG02\tAXL\nENSG03\tEGFR\n"
    if not v2:
        features = features.replace("\n", "\tGene Expression\n")
    with opener(directory / ("genes.tsv" if v2 else "features.tsv")) as handle:
        handle.write(features.encode())
    with opener(directory / "barcodes.tsv") as handle:
        handle.write(b"AAAC-1\nAAAG-1\nAACT-1\nAAGT-1\n")
    return counts


@pytest.mark.parametrize(("gz", "v2"), [(True, False), (False, True)])
def test_read_10x_mtx(tmp_path: Path, gz: bool, v2: bool):
    counts = _write_mtx(tmp_path / "mtx", gz=gz, v2=v2)
    cd = read(tmp_path / "mtx")
    assert cd.shape == (4, 3)
    np.testing.assert_array_equal(cd.X.toarray(), counts)
    assert list(cd.var_names) == ["EGFR", "AXL", "EGFR-1"]
    assert list(cd.var["gene_ids"]) == ["ENSG01", "ENSG02", "ENSG03"]
    assert list(cd.obs_names)[:2] == ["AAAC-1", "AAAG-1"]
    assert counts_matrix(cd)[1].startswith("X")


def test_read_10x_mtx_errors(tmp_path: Path):
    _write_mtx(tmp_path / "mtx", gz=False, v2=False)
    (tmp_path / "mtx" / "barcodes.tsv").write_text("A\nB\n")
    with pytest.raises(InputError, match="4 cells but there are 3 features and 2 barcodes"):
        read(tmp_path / "mtx")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"matrix\.mtx \(optionally \.gz\) not found"):
        read(tmp_path / "empty")


def _write_10x_h5(path: Path, *, v2: bool) -> np.ndarray:
    counts = np.array([[0, 2, 1], [5, 0, 0]])  # 2 cells × 3 genes
    csc = sparse.csc_matrix(counts.T)  # stored genes × cells, CSC: indptr over cells
    with h5py.File(path, "w") as f:
        g = f.create_group("GRCh38" if v2 else "matrix")
        g.create_dataset("data", data=csc.data)
        g.create_dataset("indices", data=csc.indices)
        g.create_dataset("indptr", data=csc.indptr)
        g.create_dataset("shape", data=np.array([3, 2]))
        g.create_dataset("barcodes", data=np.array([b"AAAC-1", b"AAAG-1"]))
        ids, names = np.array([b"ENSG01", b"ENSG02", b"ENSG03"]), np.array([b"EGFR", b"AXL",
                                                                             b"VIM"])  # fmt: skip
        if v2:
            g.create_dataset("genes", data=ids)
            g.create_dataset("gene_names", data=names)
        else:
            feats = g.create_group("features")
            feats.create_dataset("id", data=ids)
            feats.create_dataset("name", data=names)
            feats.create_dataset("feature_type", data=np.array([b"Gene Expression"] * 3))
    return counts


@pytest.mark.parametrize("v2", [False, True])
def test_read_10x_h5(tmp_path: Path, v2: bool):
    path = tmp_path / "filtered_feature_bc_matrix.h5"
    counts = _write_10x_h5(path, v2=v2)
    cd = read(path)
    np.testing.assert_array_equal(cd.X.toarray(), counts)
    assert list(cd.var_names) == ["EGFR", "AXL", "VIM"]
    assert list(cd.var["gene_ids"]) == ["ENSG01", "ENSG02", "ENSG03"]
    assert list(cd.obs_names) == ["AAAC-1", "AAAG-1"]


def test_read_10x_h5_without_matrix(tmp_path: Path):
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as f:
        f.create_group("something")
    with pytest.raises(InputError, match="no 'matrix' group"):
        read(path)


def test_match_genes_symbols_and_ensembl():
    ids = ["ENSG00000146648.18", "ENSG00000167601", "ENSG00000026025"]
    var = pd.DataFrame({"symbol": ["EGFR", "AXL", "VIM"]}, index=ids)
    cd = CellData(np.zeros((1, 3)), var=var)
    positions, report = match_genes(cd, ["VIM", "EGFR", "ZEB1"])
    assert list(positions) == [2, 0, -1]
    assert report["key"] == "var['symbol']" and report["n_found"] == 2
    assert report["n_total"] == 3 and report["missing"] == ["ZEB1"]
    positions, report = match_genes(cd, ["ENSG00000146648", "ENSG00000026025.2"])
    assert list(positions) == [0, 2] and report["key"] == "var_names"


def test_match_genes_mismatch_reports_overlap():
    cd = CellData(np.zeros((1, 2)), var=pd.DataFrame(index=["ENSG00000146648", "ENSG0000016"]))
    cd.filename = "cells.h5ad"
    with pytest.raises(InputError) as caught:
        match_genes(cd, ["EGFR", "AXL"])
    message = str(caught.value)
    assert message.startswith("cells.h5ad, field var/_index: 0 of 2 genes found")
    assert "ENSG00000146648" in message and "'symbol'" in message


@needs_zhao
def test_read_real_panobinostat_file(tmp_path: Path):
    cd = read(ZHAO)
    assert cd.shape == (5000, 300)
    assert cd.var_names[0].startswith("ENSG") and "symbol" in cd.var.columns
    assert set(cd.obs["condition"]) == {"ctrl", "panobinostat"}
    assert cd.obs["sample_id"].nunique() == 10
    matrix, where = counts_matrix(cd)
    assert where == "layers['counts']" and matrix.shape == (5000, 300)
    _, report = match_genes(cd, ["MT2A", "MT1X", "NOTAGENE"])
    assert report["key"] == "var['symbol']" and report["n_found"] == 2
    out = tmp_path / "zhao.h5ad"
    cd.write_h5ad(out)
    back = read(out)
    assert (back.X != cd.X).nnz == 0
    pd.testing.assert_frame_equal(back.obs, cd.obs)
    pd.testing.assert_frame_equal(back.var, cd.var)
    assert back.uns["source"]["repo"] == "const-ae/lemur"


def test_csc_matrix_and_duck_typed_writer(tmp_path: Path):
    from types import SimpleNamespace

    from oncoresist.singlecell import write_h5ad

    counts = sparse.csc_matrix(np.array([[0, 1], [2, 0], [0, 3]]))
    obs, var = pd.DataFrame(index=["a", "b", "c"]), pd.DataFrame(index=["G1", "G2"])
    obj = SimpleNamespace(X=counts, obs=obs, var=var, obsm={}, layers={}, uns={})
    path = tmp_path / "csc.h5ad"
    write_h5ad(obj, path)
    with h5py.File(path) as f:
        assert f["X"].attrs["encoding-type"] == "csc_matrix"
    cd = read(path)
    assert cd.X.format == "csr"
    np.testing.assert_array_equal(cd.X.toarray(), counts.toarray())


def test_negative_counts_are_not_counts():
    cd = CellData(np.array([[1, -2], [0, 3]]), layers={"counts": np.array([[1, -2], [0, 3]])})
    with pytest.raises(InputError, match="value -2 at cell '0', gene '1'"):
        counts_matrix(cd)


def test_categoricals_of_anndata_0_7_files_are_decoded(tmp_path: Path):
    """anndata 0.7 data frames (infercnvpy's bundled data are one) keep a column's codes in
    the column and its categories under ``__categories``, linked by an object reference."""
    path = tmp_path / "legacy.h5ad"
    with h5py.File(path, "w") as f:
        x = f.create_dataset("X", data=np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 1.0]]))
        x.attrs.update({"encoding-type": "array", "encoding-version": "0.2.0"})
        obs = f.create_group("obs")
        order = np.array(["cell_type"], dtype="S")
        obs.attrs.update({"encoding-type": "dataframe", "encoding-version": "0.1.0",
                          "_index": "cell_id", "column-order": order})  # fmt: skip
        obs.create_dataset("cell_id", data=np.array([b"a", b"b", b"c"]))
        cats = obs.create_group("__categories")
        cats.create_dataset("cell_type", data=np.array([b"malignant", b"normal"]))
        codes = obs.create_dataset("cell_type", data=np.array([1, 0, 1], dtype="i1"))
        codes.attrs["categories"] = cats["cell_type"].ref
        _frame(f, "var", ["G0", "G1"])
    cd = read(path)
    assert list(cd.obs["cell_type"]) == ["normal", "malignant", "normal"]
    assert list(cd.obs_names) == ["a", "b", "c"]
