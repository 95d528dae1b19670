"""A minimal AnnData-compatible container for cells × genes, and its h5ad writer.

:class:`CellData` holds what the single-cell tools need (``X``, ``obs``, ``var``, ``obsm``,
``layers``, ``uns``, ``raw``) under AnnData's attribute names, so every function in
:mod:`oncoresist.singlecell` accepts either a ``CellData`` or a real ``anndata.AnnData``.
:meth:`CellData.write_h5ad` follows AnnData's on-disk format (encoding version 0.1.0 for the
file, 0.2.0 for data frames and arrays), so anndata and scanpy read what it writes.

References
----------
AnnData on-disk format: https://anndata.readthedocs.io/en/latest/fileformat-prose.html
Virshup I. et al., "anndata: Access and store annotated data matrices", JOSS 9:4371 (2024).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from oncoresist.errors import InputError

Matrix = np.ndarray | sparse.csr_matrix | sparse.csc_matrix


@dataclass
class RawData:
    """The ``.raw`` slot: a matrix with its own genes (AnnData keeps counts of all genes here).

    Attributes
    ----------
    X
        Cells × raw genes.
    var
        Gene annotations, indexed by the raw gene names.
    """

    X: Any
    var: pd.DataFrame

    @property
    def var_names(self) -> pd.Index:
        """Gene names of the raw matrix."""
        return self.var.index

    @property
    def n_vars(self) -> int:
        """Number of raw genes."""
        return int(self.X.shape[1])


def _frame(frame: pd.DataFrame | None, n: int, what: str) -> pd.DataFrame:
    if frame is None:
        return pd.DataFrame(index=pd.Index([str(i) for i in range(n)]))
    if len(frame) != n:
        raise InputError(f"{len(frame)} rows but the matrix has {n}; expected one row each",
                         field=what)  # fmt: skip
    frame = frame.copy()
    frame.index = pd.Index([str(i) for i in frame.index], name=frame.index.name)
    return frame


class CellData:
    """Cells × genes with annotations, under AnnData's attribute names.

    Parameters
    ----------
    X
        Cells × genes: a dense ``numpy`` array or a ``scipy.sparse`` CSR/CSC matrix (CSC is
        converted to CSR).
    obs, var
        Cell and gene annotations, indexed by cell and gene names (``obs_names``,
        ``var_names``); defaults number them from 0.
    obsm
        Per-cell matrices or data frames (embeddings, programme scores), first axis = cells.
    layers
        Alternative cells × genes matrices (``layers["counts"]`` for raw counts).
    uns
        Unstructured metadata: nested dicts of strings, numbers, arrays and data frames.
    raw
        Optional :class:`RawData`.

    Examples
    --------
    >>> import numpy as np
    >>> cd = CellData(np.arange(6).reshape(3, 2))
    >>> cd.shape
    (3, 2)
    >>> cd[[True, False, True]].n_obs
    2
    """

    def __init__(
        self,
        X: Any,
        obs: pd.DataFrame | None = None,
        var: pd.DataFrame | None = None,
        *,
        obsm: Mapping[str, Any] | None = None,
        layers: Mapping[str, Any] | None = None,
        uns: Mapping[str, Any] | None = None,
        raw: RawData | None = None,
    ) -> None:
        if sparse.issparse(X):
            X = sparse.csr_matrix(X)
        else:
            X = np.asarray(X)
            if X.ndim != 2:
                raise InputError(f"X has {X.ndim} dimensions; expected cells × genes", field="X")
        self.X = X
        self.obs = _frame(obs, X.shape[0], "obs")
        self.var = _frame(var, X.shape[1], "var")
        self.obsm: dict[str, Any] = dict(obsm or {})
        self.layers: dict[str, Any] = {}
        for name, layer in (layers or {}).items():
            if layer.shape != X.shape:
                raise InputError(f"shape {layer.shape} differs from X's {X.shape}",
                                 field=f"layers/{name}")  # fmt: skip
            self.layers[name] = sparse.csr_matrix(layer) if sparse.issparse(layer) else layer
        for name, value in self.obsm.items():
            if value.shape[0] != X.shape[0]:
                raise InputError(f"{value.shape[0]} rows but there are {X.shape[0]} cells",
                                 field=f"obsm/{name}")  # fmt: skip
        self.uns: dict[str, Any] = dict(uns or {})
        self.raw = raw
        #: the file this was read from, if any (named in error messages)
        self.filename: str | None = None

    @property
    def obs_names(self) -> pd.Index:
        """Cell names."""
        return self.obs.index

    @property
    def var_names(self) -> pd.Index:
        """Gene names."""
        return self.var.index

    @property
    def n_obs(self) -> int:
        """Number of cells."""
        return int(self.X.shape[0])

    @property
    def n_vars(self) -> int:
        """Number of genes."""
        return int(self.X.shape[1])

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_obs, n_vars)``."""
        return self.n_obs, self.n_vars

    def __repr__(self) -> str:
        parts = [f"CellData with n_obs × n_vars = {self.n_obs} × {self.n_vars}"]
        for slot in ("obs", "var"):
            columns = list(getattr(self, slot).columns)
            if columns:
                parts.append(f"    {slot}: {', '.join(map(repr, columns))}")
        for slot in ("obsm", "layers", "uns"):
            keys = list(getattr(self, slot))
            if keys:
                parts.append(f"    {slot}: {', '.join(map(repr, keys))}")
        return "\n".join(parts)

    def copy(self) -> CellData:
        """Return an independent copy (matrices, frames and ``uns`` are copied deeply)."""
        import copy as _copy

        raw = None if self.raw is None else RawData(self.raw.X.copy(), self.raw.var.copy())
        return CellData(
            self.X.copy(),
            self.obs.copy(),
            self.var.copy(),
            obsm={k: v.copy() for k, v in self.obsm.items()},
            layers={k: v.copy() for k, v in self.layers.items()},
            uns=_copy.deepcopy(self.uns),
            raw=raw,
        )

    def _axis_index(self, key: Any, names: pd.Index, axis: str) -> np.ndarray:
        if isinstance(key, slice):
            return np.arange(len(names))[key]
        if isinstance(key, str):
            key = [key]
        arr = np.asarray(key)
        if arr.dtype == bool:
            if arr.shape != (len(names),):
                raise InputError(f"boolean mask of length {arr.size}; expected {len(names)}",
                                 field=axis)  # fmt: skip
            return np.flatnonzero(arr)
        if arr.dtype.kind in "iu":
            return arr.astype(np.intp)
        positions = names.get_indexer(arr.astype(str))
        missing = arr[positions < 0]
        if missing.size:
            shown = ", ".join(map(str, missing[:5]))
            raise InputError(f"{missing.size} names not found ({shown}); expected {axis} names",
                             field=axis)  # fmt: skip
        return positions

    def __getitem__(self, key: Any) -> CellData:
        """Subset cells (``cd[mask]``) or cells and genes (``cd[:, genes]``); returns a copy."""
        cells_key, genes_key = key if isinstance(key, tuple) else (key, slice(None))
        rows = self._axis_index(cells_key, self.obs_names, "obs_names")
        cols = self._axis_index(genes_key, self.var_names, "var_names")

        def take(matrix: Any) -> Any:
            return matrix[rows][:, cols]

        obsm = {}
        for name, value in self.obsm.items():
            obsm[name] = value.iloc[rows].copy() if isinstance(value, pd.DataFrame) else value[rows]
        raw = None
        if self.raw is not None:
            raw = RawData(self.raw.X[rows], self.raw.var.copy())
        import copy as _copy

        return CellData(
            take(self.X),
            self.obs.iloc[rows],
            self.var.iloc[cols],
            obsm=obsm,
            layers={k: take(v) for k, v in self.layers.items()},
            uns=_copy.deepcopy(self.uns),
            raw=raw,
        )

    def write_h5ad(self, path: str | os.PathLike[str]) -> None:
        """Write an h5ad file that anndata and scanpy can read, atomically.

        The file appears only when complete (a temporary file beside it is renamed into place).

        Parameters
        ----------
        path
            Where to write.
        """
        from oncoresist.singlecell._io import write_h5ad

        write_h5ad(self, path)
