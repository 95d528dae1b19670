"""Reading h5ad and 10x files into :class:`CellData`; raw counts and gene identifiers.

The h5ad reader and writer follow AnnData's on-disk format with h5py alone (anndata itself is
optional). 10x readers cover CellRanger ``filtered_feature_bc_matrix.h5`` (v3 and the v2
per-genome layout) and MTX directories (``matrix.mtx``, ``features.tsv`` or ``genes.tsv``,
``barcodes.tsv``, each optionally gzipped).

References
----------
AnnData on-disk format: https://anndata.readthedocs.io/en/latest/fileformat-prose.html
10x Genomics, "Feature-barcode matrices" (HDF5 and MTX outputs of Cell Ranger).
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from oncoresist.errors import InputError, MissingExtraError
from oncoresist.singlecell._celldata import CellData, RawData

_VERSION = re.compile(r"^(ENS[A-Z]*G\d+)\.\d+$")
#: var columns that may hold gene symbols or Ensembl IDs, tried in this order
GENE_COLUMNS = ("symbol", "gene_symbols", "gene_symbol", "feature_name", "gene_name",
                "gene_ids", "gene_id", "ensembl_id")  # fmt: skip


def _h5py() -> Any:
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is in the singlecell and test extras
        raise MissingExtraError("h5py", "singlecell") from None
    return h5py


# --------------------------------------------------------------------------- h5ad reading


def _open_hdf5(file: Path, expected: str) -> Any:
    """Open an HDF5 file for reading; a missing or non-HDF5 file is an ``InputError``."""
    h5py = _h5py()
    try:
        return h5py.File(file, "r")
    except FileNotFoundError:
        raise InputError(f"file not found; expected {expected}", file=file) from None
    except OSError as exc:
        raise InputError(f"not an HDF5 file ({exc}); expected {expected}", file=file) from None


def _attr(node: Any, name: str, default: Any = None) -> Any:
    value = node.attrs.get(name, default)
    return value.decode() if isinstance(value, bytes) else value


def _strings(ds: Any) -> np.ndarray:
    return np.asarray(ds.asstr()[()], dtype=object)


def _read_elem(node: Any, file: Path, where: str) -> Any:
    """Decode one element of an h5ad file by its ``encoding-type`` attribute."""
    h5py = _h5py()
    kind = _attr(node, "encoding-type")
    if kind is None:
        if isinstance(node, h5py.Dataset) and "categories" in node.attrs:
            # data frames of anndata 0.7 (encoding-version 0.1.0): a column's codes point to
            # its categories under ``__categories`` through an HDF5 object reference
            categories = _read_elem(node.file[node.attrs["categories"]], file,
                                    f"{where} (categories)")  # fmt: skip
            return pd.Categorical.from_codes(node[()], categories=categories)
        if isinstance(node, h5py.Dataset) and node.dtype.names is None:
            if node.dtype.kind in "SO":
                return _strings(node)
            return node[()]
        if isinstance(node, h5py.Group) and where in ("layers", "obsm", "uns", "varm"):
            return {k: _read_elem(node[k], file, f"{where}/{k}") for k in node}
        raise InputError(
            "no encoding-type attribute (an h5ad written by anndata before 0.7?); expected the "
            "current AnnData format: read it with anndata and write it again",
            file=file, field=where)  # fmt: skip
    if kind == "array":
        return _strings(node) if node.dtype.kind in "SO" else node[()]
    if kind == "string-array":
        return _strings(node)
    if kind in ("string", "numeric-scalar"):
        value = node.asstr()[()] if kind == "string" else node[()]
        return value.item() if isinstance(value, np.generic) else value
    if kind in ("csr_matrix", "csc_matrix"):
        shape = tuple(int(v) for v in node.attrs["shape"])
        parts = (node["data"][()], node["indices"][()], node["indptr"][()])
        cls = sparse.csr_matrix if kind == "csr_matrix" else sparse.csc_matrix
        return cls(parts, shape=shape)
    if kind == "categorical":
        codes = node["codes"][()]
        categories = _read_elem(node["categories"], file, f"{where}/categories")
        ordered = bool(_attr(node, "ordered", False))
        return pd.Categorical.from_codes(codes, categories=categories, ordered=ordered)
    if kind in ("nullable-integer", "nullable-boolean", "nullable-float"):
        dtype = {"nullable-integer": "Int64", "nullable-boolean": "boolean",
                 "nullable-float": "Float64"}[kind]  # fmt: skip
        values = pd.array(node["values"][()], dtype=dtype)
        values[node["mask"][()]] = pd.NA
        return values
    if kind == "nullable-string-array":
        values = _strings(node["values"])
        values[node["mask"][()]] = None
        return pd.array(values, dtype="str")
    if kind == "dataframe":
        return _read_frame(node, file, where)
    if kind == "dict":
        return {k: _read_elem(node[k], file, f"{where}/{k}") for k in node}
    if kind == "raw":
        return RawData(_read_elem(node["X"], file, f"{where}/X"),
                       _read_frame(node["var"], file, f"{where}/var"))  # fmt: skip
    raise InputError(f"encoding-type {kind!r} is not supported; expected arrays, sparse "
                     "matrices, data frames, categoricals, strings or dicts",
                     file=file, field=where)  # fmt: skip


def _read_frame(node: Any, file: Path, where: str) -> pd.DataFrame:
    index_key = _attr(node, "_index", "_index")
    if index_key not in node:
        raise InputError("the index dataset is missing; expected the cell or gene names",
                         file=file, field=f"{where}/{index_key}")  # fmt: skip
    index = pd.Index(_read_elem(node[index_key], file, f"{where}/{index_key}").astype(str),
                     dtype="str", name=None if index_key == "_index" else index_key)  # fmt: skip
    order = [c.decode() if isinstance(c, bytes) else str(c)
             for c in np.atleast_1d(node.attrs.get("column-order", []))]  # fmt: skip
    columns = {c: _read_elem(node[c], file, f"{where}/{c}") for c in order if c != index_key}
    frame = pd.DataFrame(columns, index=index)
    return frame[[c for c in order if c != index_key]] if order else frame


def read_h5ad(path: str | os.PathLike[str]) -> CellData:
    """Read an h5ad file (AnnData's HDF5 format) into a :class:`CellData`."""
    file = Path(path)
    with _open_hdf5(file, "an h5ad file") as f:
        for required in ("X", "obs", "var"):
            if required not in f:
                raise InputError(f"'{required}' is missing; expected an h5ad file with X, obs "
                                 "and var", file=file, field=required)  # fmt: skip
        X = _read_elem(f["X"], file, "X")
        obs = _read_elem(f["obs"], file, "obs")
        var = _read_elem(f["var"], file, "var")
        slots = {}
        for slot in ("obsm", "layers", "uns"):
            slots[slot] = _read_elem(f[slot], file, slot) if slot in f else {}
        raw = _read_elem(f["raw"], file, "raw") if "raw" in f else None
    if not isinstance(obs, pd.DataFrame) or not isinstance(var, pd.DataFrame):
        raise InputError("obs and var must be data frames", file=file, field="obs")
    try:
        cd = CellData(X, obs, var, raw=raw, **slots)
    except InputError as exc:
        raise exc.located(file=file) from None
    cd.filename = str(file)
    return cd


# --------------------------------------------------------------------------- h5ad writing


def _set_encoding(node: Any, kind: str, version: str = "0.2.0") -> None:
    node.attrs["encoding-type"] = kind
    node.attrs["encoding-version"] = version


def _write_strings(group: Any, key: str, values: Iterable[Any]) -> None:
    h5py = _h5py()
    data = np.asarray([str(v) for v in values], dtype=object)
    ds = group.create_dataset(key, data=data, dtype=h5py.string_dtype("utf-8"))
    _set_encoding(ds, "string-array")


def _write_column(group: Any, key: str, column: Any, where: str) -> None:
    series = pd.Series(column)
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        _write_categorical(group, key, pd.Categorical(series))
    elif pd.api.types.is_bool_dtype(dtype) and not series.hasnans:
        ds = group.create_dataset(key, data=series.to_numpy(dtype=bool))
        _set_encoding(ds, "array")
    elif isinstance(dtype, pd.api.extensions.ExtensionDtype) and (
        pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
    ):
        kind = "nullable-integer" if pd.api.types.is_integer_dtype(dtype) else "nullable-boolean"
        sub = group.create_group(key)
        _set_encoding(sub, kind, "0.1.0")
        mask = series.isna().to_numpy()
        fill = 0 if kind == "nullable-integer" else False
        values = series.fillna(fill).to_numpy(dtype="int64" if fill == 0 else bool)
        sub.create_dataset("values", data=values)
        sub.create_dataset("mask", data=mask)
    elif pd.api.types.is_numeric_dtype(dtype):
        ds = group.create_dataset(key, data=series.to_numpy(dtype=np.float64 if
                                  pd.api.types.is_float_dtype(dtype) else None))  # fmt: skip
        _set_encoding(ds, "array")
    elif pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        if series.isna().any():  # missing text is kept as a categorical code -1
            _write_categorical(group, key, pd.Categorical(series.astype(object)))
        else:
            _write_strings(group, key, series)
    else:
        raise InputError(f"column of type {dtype} cannot be written to h5ad; expected numbers, "
                         "booleans, text or categories", field=where)  # fmt: skip


def _write_categorical(group: Any, key: str, values: pd.Categorical) -> None:
    sub = group.create_group(key)
    _set_encoding(sub, "categorical", "0.2.0")
    sub.attrs["ordered"] = bool(values.ordered)
    categories = values.categories
    if pd.api.types.is_numeric_dtype(categories.dtype):
        ds = sub.create_dataset("categories", data=categories.to_numpy())
        _set_encoding(ds, "array")
    else:
        _write_strings(sub, "categories", categories)
    codes = values.codes
    ds = sub.create_dataset("codes", data=codes)
    _set_encoding(ds, "array")


def _write_frame(group: Any, key: str, frame: pd.DataFrame, where: str) -> None:
    sub = group.create_group(key)
    _set_encoding(sub, "dataframe", "0.2.0")
    columns = [str(c) for c in frame.columns]
    name = frame.index.name
    index_key = name if isinstance(name, str) and name and name not in columns else "_index"
    sub.attrs["_index"] = index_key
    sub.attrs["column-order"] = (
        np.asarray(columns, dtype=object) if columns else np.array([], dtype="S1")
    )
    _write_strings(sub, index_key, frame.index)
    for column, label in zip(frame.columns, columns, strict=True):
        _write_column(sub, label, frame[column], f"{where}/{label}")


def _write_elem(group: Any, key: str, value: Any, where: str) -> None:
    h5py = _h5py()
    if isinstance(value, pd.DataFrame):
        _write_frame(group, key, value, where)
    elif sparse.issparse(value):
        matrix = value.tocsc() if value.format == "csc" else value.tocsr()
        sub = group.create_group(key)
        _set_encoding(sub, f"{matrix.format}_matrix", "0.1.0")
        sub.attrs["shape"] = np.asarray(matrix.shape, dtype=np.int64)
        sub.create_dataset("data", data=matrix.data)
        sub.create_dataset("indices", data=matrix.indices)
        sub.create_dataset("indptr", data=matrix.indptr)
    elif isinstance(value, dict):
        sub = group.create_group(key)
        _set_encoding(sub, "dict", "0.1.0")
        for k, v in value.items():
            _write_elem(sub, str(k), v, f"{where}/{k}")
    elif isinstance(value, str):
        ds = group.create_dataset(key, data=value, dtype=h5py.string_dtype("utf-8"))
        _set_encoding(ds, "string")
    elif isinstance(value, bool | int | float | np.number | np.bool_):
        ds = group.create_dataset(key, data=value)
        _set_encoding(ds, "numeric-scalar")
    elif isinstance(value, pd.Categorical):
        _write_categorical(group, key, value)
    elif isinstance(value, np.ndarray | list | tuple | pd.Series | pd.Index):
        arr = np.asarray(value)
        if arr.dtype.kind in "OUS":
            _write_strings(group, key, arr.ravel())
        elif arr.dtype.kind in "biuf":
            _set_encoding(group.create_dataset(key, data=arr), "array")
        else:
            raise InputError(f"array of type {arr.dtype} cannot be written to h5ad",
                             field=where)  # fmt: skip
    else:
        raise InputError(f"a {type(value).__name__} cannot be written to h5ad; expected a "
                         "string, number, array, data frame or dict", field=where)  # fmt: skip


def write_h5ad(adata: Any, path: str | os.PathLike[str]) -> None:
    """Write ``adata`` (a :class:`CellData` or AnnData-like object) as an h5ad file, atomically.

    Parameters
    ----------
    adata
        The object to write.
    path
        Destination; the file appears only once it is complete.
    """
    from oncoresist._files import atomic_write

    h5py = _h5py()
    with atomic_write(path, "w+b") as handle, h5py.File(handle, "w") as f:
        _set_encoding(f, "anndata", "0.1.0")
        _write_elem(f, "X", adata.X, "X")
        _write_frame(f, "obs", adata.obs, "obs")
        _write_frame(f, "var", adata.var, "var")
        for slot in ("obsm", "layers", "uns"):
            _write_elem(f, slot, dict(getattr(adata, slot)), slot)
        for slot in ("obsp", "varm", "varp"):
            _write_elem(f, slot, {}, slot)
        raw = getattr(adata, "raw", None)
        if raw is not None:
            sub = f.create_group("raw")
            _set_encoding(sub, "raw", "0.1.0")
            _write_elem(sub, "X", raw.X, "raw/X")
            _write_frame(sub, "var", raw.var, "raw/var")
            _write_elem(sub, "varm", {}, "raw/varm")


# --------------------------------------------------------------------------- 10x readers


def _unique(names: Iterable[str]) -> list[str]:
    """Make names unique as scanpy does: later duplicates get ``-1``, ``-2``, …."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            out.append(f"{name}-{seen[name]}")
        else:
            seen[name] = 0
            out.append(name)
    return out


def _tenx_celldata(X: sparse.csr_matrix, barcodes: Any, ids: Any, names: Any,
                   types: Any | None) -> CellData:  # fmt: skip
    var = pd.DataFrame({"gene_ids": np.asarray(ids, dtype=object)},
                       index=pd.Index(_unique(map(str, names))))  # fmt: skip
    if types is not None:
        var["feature_types"] = np.asarray(types, dtype=object)
    obs = pd.DataFrame(index=pd.Index([str(b) for b in barcodes]))
    return CellData(X, obs, var)


def read_10x_h5(path: str | os.PathLike[str]) -> CellData:
    """Read a Cell Ranger feature-barcode HDF5 file (v3 ``matrix`` group, or v2 per genome).

    Gene symbols become ``var_names`` (made unique), Ensembl IDs go to ``var["gene_ids"]``
    and, for v3, the feature type to ``var["feature_types"]``; barcodes are ``obs_names``.
    """
    file = Path(path)
    with _open_hdf5(file, "a 10x .h5 file") as f:
        if "matrix" in f:
            g, where = f["matrix"], "matrix"
            need = ("data", "indices", "indptr", "shape", "barcodes", "features")
        elif len(f) and all("genes" in f[k] for k in f):
            where = next(iter(f))
            g = f[where]
            need = ("data", "indices", "indptr", "shape", "barcodes", "genes", "gene_names")
        else:
            raise InputError("no 'matrix' group (Cell Ranger v3) or per-genome group (v2); "
                             "expected a 10x feature-barcode .h5 file", file=file)  # fmt: skip
        for key in need:
            if key not in g:
                raise InputError("missing; expected a 10x feature-barcode matrix",
                                 file=file, field=f"{where}/{key}")  # fmt: skip
        n_genes, n_cells = (int(v) for v in g["shape"][()])
        # stored genes × cells in CSC order, which is cells × genes in CSR order
        X = sparse.csr_matrix((g["data"][()], g["indices"][()], g["indptr"][()]),
                              shape=(n_cells, n_genes))  # fmt: skip
        barcodes = _strings(g["barcodes"])
        if where == "matrix":
            feats = g["features"]
            ids, names = _strings(feats["id"]), _strings(feats["name"])
            types = _strings(feats["feature_type"]) if "feature_type" in feats else None
        else:
            ids, names, types = _strings(g["genes"]), _strings(g["gene_names"]), None
    cd = _tenx_celldata(X, barcodes, ids, names, types)
    cd.filename = str(file)
    return cd


def _find(directory: Path, *names: str) -> Path | None:
    for name in names:
        for candidate in (directory / name, directory / f"{name}.gz"):
            if candidate.exists():
                return candidate
    return None


def _open_text(path: Path) -> Any:
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(
        path, encoding="utf-8")  # fmt: skip


def read_10x_mtx(path: str | os.PathLike[str]) -> CellData:
    """Read a Cell Ranger MTX directory (``matrix.mtx``, ``features.tsv``/``genes.tsv``,
    ``barcodes.tsv``; each may be gzipped).

    Gene symbols become ``var_names`` (made unique), Ensembl IDs go to ``var["gene_ids"]``.
    """  # noqa: D205
    from scipy.io import mmread

    directory = Path(path)
    matrix = _find(directory, "matrix.mtx")
    features = _find(directory, "features.tsv", "genes.tsv")
    barcodes = _find(directory, "barcodes.tsv")
    for found, name in ((matrix, "matrix.mtx"), (features, "features.tsv or genes.tsv"),
                        (barcodes, "barcodes.tsv")):  # fmt: skip
        if found is None:
            raise InputError(f"{name} (optionally .gz) not found; expected a 10x MTX directory",
                             file=directory)  # fmt: skip
    try:
        with _open_text(matrix) as handle:
            counts = sparse.csr_matrix(mmread(handle).T)
    except (ValueError, OSError) as exc:
        raise InputError(f"not a Matrix Market file ({exc})", file=matrix) from None
    with _open_text(barcodes) as handle:
        cells = [line.rstrip("\n").split("\t")[0] for line in handle if line.strip()]
    ids, names, types = [], [], []
    with _open_text(features) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 2:
                raise InputError(f"{len(fields)} column; expected gene ID and symbol",
                                 file=features, record=number)  # fmt: skip
            ids.append(fields[0])
            names.append(fields[1])
            types.append(fields[2] if len(fields) > 2 else "Gene Expression")
    if counts.shape != (len(cells), len(ids)):
        raise InputError(
            f"matrix is {counts.shape[1]} genes × {counts.shape[0]} cells but there are "
            f"{len(ids)} features and {len(cells)} barcodes; expected them to agree",
            file=matrix)  # fmt: skip
    return _tenx_celldata(counts, cells, ids, names, types)


def read(path: str | os.PathLike[str], *, layer: str | None = None) -> CellData:
    """Read a single-cell experiment: h5ad, 10x ``.h5`` or a 10x MTX directory.

    Parameters
    ----------
    path
        An ``.h5ad`` file, a Cell Ranger ``.h5`` file or an MTX directory.
    layer
        If given, the layer that must exist (``"counts"``); it becomes ``X`` (the original
        ``X`` is kept in ``layers["X"]``).

    Returns
    -------
    CellData
        The experiment; ``filename`` holds the path read.

    Raises
    ------
    InputError
        Naming the file and the field (``layers/counts``, ``var/_index``) for anything missing
        or unreadable.

    Examples
    --------
    >>> cd = read("cells.h5ad")  # doctest: +SKIP
    """
    p = Path(path)
    if p.is_dir():
        cd = read_10x_mtx(p)
    elif not p.exists():
        raise InputError("file not found; expected an h5ad file, a 10x .h5 file or an MTX "
                         "directory", file=p)  # fmt: skip
    elif p.suffix == ".h5":
        cd = read_10x_h5(p)
    else:
        cd = read_h5ad(p)
    cd.filename = str(p)
    if layer is not None:
        if layer not in cd.layers:
            raise InputError(f"layer not found (layers: {', '.join(cd.layers) or 'none'}); "
                             "expected the layer named by --layer", file=p,
                             field=f"layers/{layer}")  # fmt: skip
        cd.layers["X"] = cd.X
        cd.X = cd.layers.pop(layer)
    return cd


# --------------------------------------------------------------------------- raw counts


def is_integer_matrix(matrix: Any, *, chunk: int = 10_000_000) -> bool:
    """Whether every stored value is a non-negative whole number (checked in chunks)."""
    values = matrix.data if sparse.issparse(matrix) else np.asarray(matrix).ravel()
    if values.dtype.kind in "iu":
        return bool(values.size == 0 or values.min() >= 0)
    if values.dtype.kind != "f":
        return False
    for start in range(0, values.size, chunk):
        part = values[start : start + chunk]
        if not (np.all(part >= 0) and np.all(np.floor(part) == part)):
            return False
    return True


def _first_non_integer(matrix: Any) -> tuple[int, int, float]:
    m = sparse.csr_matrix(matrix)
    bad = np.flatnonzero((m.data < 0) | (np.floor(m.data) != m.data))[0]
    row = int(np.searchsorted(m.indptr, bad, side="right") - 1)
    return row, int(m.indices[bad]), float(m.data[bad])


def counts_matrix(adata: Any, layer: str | None = None) -> tuple[Any, str]:
    """Return the raw-count matrix of ``adata`` and a sentence saying where it came from.

    Parameters
    ----------
    adata
        A :class:`CellData` or ``anndata.AnnData``.
    layer
        A layer that must hold counts. Without it: ``layers["counts"]``, then ``.raw`` (its
        columns for ``var_names``), then ``X`` when it holds whole numbers.

    Returns
    -------
    matrix, description
        Cells × genes counts (aligned with ``var_names``), and e.g. ``"layers['counts']"``.

    Raises
    ------
    InputError
        Naming the file and field: a missing layer, a "counts" layer with non-integer values,
        or no raw counts anywhere.
    """
    file = getattr(adata, "filename", None)
    if layer is not None or "counts" in adata.layers:
        name = layer or "counts"
        if name not in adata.layers:
            raise InputError(f"layer not found (layers: {', '.join(adata.layers) or 'none'}); "
                             "expected raw counts there", file=file,
                             field=f"layers/{name}")  # fmt: skip
        matrix = adata.layers[name]
        if not is_integer_matrix(matrix):
            row, col, value = _first_non_integer(matrix)
            raise InputError(
                f"value {value:g} at cell {adata.obs_names[row]!r}, gene "
                f"{adata.var_names[col]!r} is not a whole number; expected raw counts "
                "(non-negative integers), not normalised values", file=file,
                field=f"layers/{name}")  # fmt: skip
        return matrix, f"layers['{name}']"
    raw = getattr(adata, "raw", None)
    if raw is not None and is_integer_matrix(raw.X):
        positions = pd.Index(raw.var_names).get_indexer(adata.var_names)
        if np.all(positions >= 0):
            matrix = raw.X[:, positions]
            return matrix, ".raw.X"
    if is_integer_matrix(adata.X):
        return adata.X, "X (whole numbers: taken as raw counts)"
    raise InputError(
        "X holds non-integer values (normalised data?) and there is no layers['counts'] or "
        ".raw with counts; expected raw counts for this step", file=file,
        field="X")  # fmt: skip


# --------------------------------------------------------------------------- gene identifiers


def _strip_version(name: str) -> str:
    match = _VERSION.match(name)
    return match.group(1) if match else name


def match_genes(
    adata: Any, genes: Iterable[str], *, min_found: int = 1
) -> tuple[np.ndarray, dict[str, Any]]:
    """Find genes (symbols or Ensembl IDs) among ``adata``'s genes.

    ``var_names`` and the ``var`` columns in :data:`GENE_COLUMNS` are tried; Ensembl
    versions (``ENSG00000141510.16``) are ignored; the key that finds the most genes wins.

    Parameters
    ----------
    adata
        A :class:`CellData` or ``anndata.AnnData``.
    genes
        Requested gene identifiers.
    min_found
        Raise when fewer genes than this are found.

    Returns
    -------
    positions
        For each requested gene, its column in ``adata`` or -1 when absent.
    report
        ``n_found``, ``n_total``, ``fraction``, ``key`` (``"var_names"`` or the ``var``
        column used) and ``missing`` (the genes not found).

    Raises
    ------
    InputError
        When fewer than ``min_found`` genes are found, naming the keys tried and the overlap.
    """
    wanted = [_strip_version(str(g)) for g in genes]
    keys: list[tuple[str, Any]] = [("var_names", adata.var_names)]
    keys += [(f"var['{c}']", adata.var[c]) for c in GENE_COLUMNS if c in adata.var.columns]
    best: tuple[int, str, np.ndarray] = (-1, "", np.empty(0, dtype=np.intp))
    for label, values in keys:
        names = pd.Index([_strip_version(str(v)) for v in values])
        lookup = pd.Series(np.arange(len(names)), index=names)
        lookup = lookup[~lookup.index.duplicated(keep="first")]
        positions = lookup.reindex(wanted).fillna(-1).to_numpy(dtype=np.intp)
        found = int((positions >= 0).sum())
        if found > best[0]:
            best = (found, label, positions)
    found, label, positions = best
    n_total = len(wanted)
    report = {
        "n_found": found,
        "n_total": n_total,
        "fraction": found / n_total if n_total else 0.0,
        "key": label,
        "missing": [g for g, p in zip(wanted, positions, strict=True) if p < 0],
    }
    if found < min_found:
        example = ", ".join(map(str, list(adata.var_names[:3])))
        raise InputError(
            f"{found} of {n_total} genes found (e.g. {', '.join(wanted[:3])}) in "
            f"{', '.join(k for k, _ in keys)} (genes look like {example}); expected gene "
            "symbols or Ensembl IDs that match: add a var column 'symbol' or 'gene_ids'",
            file=getattr(adata, "filename", None), field="var/_index")  # fmt: skip
    return positions, report
