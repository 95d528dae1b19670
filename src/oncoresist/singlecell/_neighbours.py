"""Log-normalisation, a sparse-aware PCA and k-nearest-neighbour look-ups for single cells.

The PCA is a randomized truncated SVD (Halko, Martinsson & Tropp 2011) of the *centred*
log-normalised matrix, where the centring is implicit: ``(X - 1 m^T) Ω = X Ω - 1 (m^T Ω)``,
so a sparse matrix is never densified and memory stays ``O(cells × components)``. Neighbours
are exact Euclidean neighbours from a k-d tree (``scipy.spatial.cKDTree``), asked only for the
cells that need them (Milo's index cells), not for every cell.

References
----------
Halko N., Martinsson P.G., Tropp J.A. Finding structure with randomness: probabilistic
algorithms for constructing approximate matrix decompositions. SIAM Rev 53:217 (2011).
doi:10.1137/090771806
Wolf F.A., Angerer P., Theis F.J. SCANPY: large-scale single-cell gene expression data
analysis. Genome Biol 19:15 (2018). doi:10.1186/s13059-017-1382-0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from oncoresist.errors import InputError

from ._io import counts_matrix

__all__ = ["knn", "normalise_log1p", "pca"]


def normalise_log1p(counts: Any, *, target_sum: float = 1e4) -> sparse.csr_matrix | np.ndarray:
    """Scale each cell to ``target_sum`` counts and take ``log1p`` (scanpy's default).

    Parameters
    ----------
    counts
        Cells × genes counts, sparse or dense.
    target_sum
        Counts per cell after scaling (10,000 as in ``sc.pp.normalize_total``).

    Returns
    -------
    scipy.sparse.csr_matrix or numpy.ndarray
        ``log1p(counts / total * target_sum)`` as float32, sparse when the input is sparse;
        cells with no counts stay 0.

    Examples
    --------
    >>> import numpy as np
    >>> normalise_log1p(np.array([[1, 3], [0, 0]]), target_sum=4).round(3).tolist()
    [[0.693, 1.386], [0.0, 0.0]]
    """
    totals = np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()
    return _scale_rows(counts, totals, target_sum)


def _column_moments(x: Any) -> tuple[np.ndarray, np.ndarray]:
    """Column means and variances of a sparse or dense matrix, in float64."""
    n = x.shape[0]
    mean = np.asarray(x.sum(axis=0), dtype=np.float64).ravel() / n
    if sparse.issparse(x):
        sq = np.asarray(x.multiply(x).sum(axis=0), dtype=np.float64).ravel() / n
    else:
        sq = np.einsum("ij,ij->j", x, x, dtype=np.float64) / n
    return mean, np.maximum(sq - mean**2, 0.0)


def _orthonormalise(y: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the columns of a tall matrix (Cholesky-QR, applied twice).

    Two rounds of ``Y R^{-1}`` with ``R = chol(Y^T Y)`` are as accurate as Householder QR for
    the well-conditioned blocks of a randomized SVD and cost only matrix products, which stay
    fast when BLAS threads compete; Householder QR is the fallback.
    """
    q = np.asarray(y, dtype=np.float64)
    try:
        for _ in range(2):
            r = np.linalg.cholesky(q.T @ q).T
            q = np.linalg.solve(r.T, q.T).T
    except np.linalg.LinAlgError:
        q, _ = np.linalg.qr(np.asarray(y, dtype=np.float64))
    return q


def _row_totals(counts: Any, chunk: int = 5000) -> np.ndarray:
    """Counts per cell in float64, by row chunks.

    scipy's ``sum(axis=1)`` of a small-integer matrix first copies all its values into a
    wider type.
    """
    if not sparse.issparse(counts):
        return np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()
    n = counts.shape[0]
    totals = np.empty(n)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        a, b = counts.indptr[start], counts.indptr[stop]
        cs = np.concatenate([[0.0], np.cumsum(counts.data[a:b], dtype=np.float64)])
        local = counts.indptr[start : stop + 1] - a
        totals[start:stop] = cs[local[1:]] - cs[local[:-1]]
    return totals


def _lognorm_moments(
    counts: Any, totals: np.ndarray, target_sum: float, chunk: int = 5000
) -> np.ndarray:
    """Per-gene variance of log-normalised counts, computed in row chunks (no full copy)."""
    n, g = counts.shape
    s1, s2 = np.zeros(g), np.zeros(g)
    for start in range(0, n, chunk):
        part = _scale_rows(counts[start : start + chunk], totals[start : start + chunk],
                           target_sum)  # fmt: skip
        s1 += np.asarray(part.sum(axis=0), dtype=np.float64).ravel()
        sq = part.multiply(part) if sparse.issparse(part) else part * part
        s2 += np.asarray(sq.sum(axis=0), dtype=np.float64).ravel()
    mean = s1 / n
    return np.maximum(s2 / n - mean**2, 0.0)


def _scale_rows(counts: Any, totals: np.ndarray, target_sum: float) -> Any:
    """``log1p(counts / totals * target_sum)`` as float32 for the given rows."""
    scale = np.divide(target_sum, totals, out=np.zeros(len(totals)), where=totals > 0)
    if sparse.issparse(counts):
        x = sparse.csr_matrix(counts, dtype=np.float32, copy=True)
        x.data *= np.repeat(scale, np.diff(x.indptr)).astype(np.float32)
        np.log1p(x.data, out=x.data)
        return x
    return np.log1p(np.asarray(counts, dtype=np.float32) * scale[:, None].astype(np.float32))


def _normalised_columns(
    counts: Any, genes: np.ndarray, totals: np.ndarray, target_sum: float, chunk: int = 20000
) -> Any:
    """Log-normalised values of the chosen (sorted) genes as one CSR matrix, in two passes.

    The first pass counts the chosen entries of each row, the second fills arrays allocated
    once, chunk by chunk: the peak memory is the counts plus the result (a whole-matrix column
    subset in scipy allocates several arrays the size of all non-zeros).
    """
    if not sparse.issparse(counts):
        return _scale_rows(counts[:, genes], totals, target_sum)
    n, g = counts.shape
    keep = np.zeros(g, dtype=bool)
    keep[genes] = True
    remap = np.full(g, -1, dtype=np.int32)
    remap[genes] = np.arange(len(genes), dtype=np.int32)
    indptr, indices = counts.indptr, counts.indices
    row_nnz = np.empty(n, dtype=np.int64)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        kept = np.concatenate([[0], np.cumsum(keep[indices[indptr[start] : indptr[stop]]])])
        local = indptr[start : stop + 1] - indptr[start]
        row_nnz[start:stop] = kept[local[1:]] - kept[local[:-1]]
    out_ptr = np.concatenate([[0], np.cumsum(row_nnz)])
    data = np.empty(out_ptr[-1], dtype=np.float32)
    out_idx = np.empty(out_ptr[-1], dtype=np.int32)
    scale = np.divide(target_sum, totals, out=np.zeros(n), where=totals > 0)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        sl = slice(indptr[start], indptr[stop])
        mask = keep[indices[sl]]
        rows = np.repeat(np.arange(start, stop), row_nnz[start:stop])
        vals = counts.data[sl][mask].astype(np.float32) * scale[rows].astype(np.float32)
        data[out_ptr[start] : out_ptr[stop]] = np.log1p(vals)
        out_idx[out_ptr[start] : out_ptr[stop]] = remap[indices[sl][mask]]
    return sparse.csr_matrix((data, out_idx, out_ptr), shape=(n, len(genes)))


def _randomized_pca(
    x: Any,
    n_comps: int,
    rng: np.random.Generator,
    n_iter: int,
    groups: np.ndarray | None = None,
    max_fit_cells: int | None = None,
    oversample: int = 10,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top principal components of ``x`` centred implicitly (scores, loadings, variances).

    With ``groups`` (integer codes per row), each group is centred on its own mean:
    ``X - B M`` with ``B`` the one-hot group matrix and ``M`` the group means. With more rows
    than ``max_fit_cells``, the components are fitted on that many random rows and every row
    is projected on them.
    """
    n, g = x.shape
    codes = np.zeros(n, dtype=np.int64) if groups is None else np.asarray(groups)
    onehot = sparse.csr_matrix((np.ones(n, dtype=x.dtype), (np.arange(n), codes)),
                               shape=(n, codes.max() + 1))  # fmt: skip
    sizes = np.asarray(onehot.sum(axis=0)).ravel()
    # group × gene sums as a CSR product in x's type: with onehot.T (CSC) on the left scipy
    # converts all of x to CSC first, and a float64 one-hot widens all of x's values (each a
    # copy of x: +3.2 GiB at 200,000 cells)
    sums = onehot.T.tocsr() @ x
    sums = sums.toarray() if sparse.issparse(sums) else np.asarray(sums)
    means = sums.astype(np.float64) / sizes[:, None]  # groups × genes
    size = min(n_comps + max(oversample, n_comps), min(n, g))
    fit_rows = None
    if max_fit_cells is not None and n > max_fit_cells:
        fit_rows = np.sort(rng.choice(n, max_fit_cells, replace=False))
    xf = x if fit_rows is None else x[fit_rows]
    bf = onehot if fit_rows is None else onehot[fit_rows]

    # the sparse products take the dense factor in x's own type: a float64 factor makes scipy
    # widen all of x's values first (+3 GiB at 200,000 cells)
    def right(m: np.ndarray) -> np.ndarray:  # (X - B M) @ m
        return np.asarray(xf @ m.astype(x.dtype, copy=False)) - bf @ (means @ m)

    def left(m: np.ndarray) -> np.ndarray:  # (X - B M)^T @ m
        return np.asarray(xf.T @ m.astype(x.dtype, copy=False)) - means.T @ np.asarray(bf.T @ m)

    q = _orthonormalise(right(rng.standard_normal((g, size)).astype(x.dtype)))
    for _ in range(n_iter):
        q = _orthonormalise(right(_orthonormalise(left(q))))
    _, s, vt = np.linalg.svd(left(q).T, full_matrices=False)
    s, vt = s[:n_comps], vt[:n_comps]
    # Deterministic signs: the largest loading of each component is positive.
    signs = np.sign(vt[np.arange(len(s)), np.abs(vt).argmax(axis=1)])
    signs[signs == 0] = 1.0
    loadings = (vt * signs[:, None]).T
    scores = np.asarray(x @ loadings.astype(x.dtype)) - onehot @ (means @ loadings)
    return scores.astype(np.float32), loadings, s**2 / (xf.shape[0] - 1)


def pca(
    data: Any,
    *,
    n_comps: int = 30,
    n_top_genes: int | None = 2000,
    layer: str | None = None,
    n_iter: int = 7,
    batch_key: str | None = None,
    genes: Any = None,
    max_fit_cells: int | None = 50000,
    seed: np.random.Generator | int | None = 0,
    key_added: str = "X_pca",
    copy: bool = False,
) -> Any:
    """Principal components of log-normalised counts, without densifying sparse data.

    Parameters
    ----------
    data
        An AnnData-like object (its raw counts, chosen by
        :func:`~oncoresist.singlecell.counts_matrix`, are log-normalised with
        :func:`normalise_log1p`) or a cells × genes matrix that is already normalised.
    n_comps
        Components to keep.
    n_top_genes
        Keep the genes with the largest variance of the log-normalised values (``None``: all).
    layer
        Counts layer of an AnnData-like object.
    n_iter
        Power iterations of the randomized SVD (as scikit-learn's default). Components above
        the noise floor match an exact SVD to 1e-3; those inside a flat noise spectrum
        converge slowly (within a few per cent at 7 iterations) and carry no structure.
    batch_key
        ``obs`` column (e.g. the sample): centre each of its groups on its own mean before
        the SVD, a location-only batch correction that also removes a shift shared by all
        cells of a sample (a drug's transcriptional response), so that cells of different
        samples mix in the embedding. Objects only.
    genes
        Restrict the embedding to these genes (``var_names`` or a boolean mask), e.g. genes a
        drug does not change, for an embedding of drug-invariant cell states.
    max_fit_cells
        Fit the components on this many random cells and project every cell on them (the
        cost of the SVD stops growing with the number of cells); ``None``: fit on all.
    seed
        Seed or generator of the random test matrix.
    key_added
        ``obsm`` key of the scores.
    copy
        Return a modified copy instead of editing ``data`` in place.

    Returns
    -------
    numpy.ndarray or None or AnnData-like
        For a matrix: the cells × ``n_comps`` scores (float32). For an object: writes
        ``obsm[key_added]`` (scores) and ``uns["pca"]`` (``variance``, ``variance_ratio``,
        ``genes``: the genes used, ``n_comps``, ``counts``: where the counts came from) and
        returns ``None`` (or the copy when ``copy=True``).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).poisson(2.0, (50, 20))
    >>> pca(normalise_log1p(x), n_comps=3).shape
    (50, 3)
    """
    rng = np.random.default_rng(seed)
    is_object = hasattr(data, "obs") and hasattr(data, "X")
    target_sum = 1e4
    if is_object:
        counts, source = counts_matrix(data, layer)
        counts = sparse.csr_matrix(counts) if sparse.issparse(counts) else np.asarray(counts)
        totals = _row_totals(counts)
        n, g = counts.shape
        if n < 2 or g < 1:
            raise InputError(f"{n} cells × {g} genes; PCA needs at least 2 cells and 1 gene")
        # Only the chosen genes are ever normalised: memory stays ~ the counts' size.
        var = _lognorm_moments(counts, totals, target_sum)
    else:
        x = data if sparse.issparse(data) else np.asarray(data, dtype=np.float32)
        source = "matrix"
        n, g = x.shape
        if n < 2 or g < 1:
            raise InputError(f"{n} cells × {g} genes; PCA needs at least 2 cells and 1 gene")
        _, var = _column_moments(x)
    allowed = var > 0
    if genes is not None:
        mask = np.asarray(genes)
        if mask.dtype != bool:
            names = pd.Index(np.asarray(data.var_names if is_object else [], dtype=str))
            pos = names.get_indexer(np.asarray(genes, dtype=str))
            if (pos < 0).any():
                missing = np.asarray(genes, dtype=str)[pos < 0][:3]
                raise InputError(f"genes {list(missing)} are not in var_names", field="genes")
            mask = np.zeros(g, dtype=bool)
            mask[pos] = True
        allowed &= mask
    genes = np.flatnonzero(allowed)
    if n_top_genes is not None and len(genes) > n_top_genes:
        genes = np.sort(genes[np.argsort(-var[genes], kind="stable")[:n_top_genes]])
    if len(genes) == 0:
        raise InputError("no gene varies across cells; nothing to embed")
    n_comps = int(min(n_comps, len(genes), n - 1))
    x = _normalised_columns(counts, genes, totals, target_sum) if is_object else x[:, genes]
    if sparse.issparse(x):
        x = sparse.csr_matrix(x)
    groups = None
    if batch_key is not None:
        if not is_object or batch_key not in data.obs.columns:
            raise InputError(f"batch_key {batch_key!r} needs an object with that obs column",
                             field=f"obs/{batch_key}")  # fmt: skip
        groups = pd.factorize(data.obs[batch_key].astype(str))[0]
    scores, _, variance = _randomized_pca(x, n_comps, rng, n_iter, groups, max_fit_cells)
    if not is_object:
        return scores
    target = data.copy() if copy else data
    target.obsm[key_added] = scores
    total = float(var[genes].sum())
    names = np.asarray(data.var_names)[genes]
    target.uns["pca"] = {
        "variance": variance,
        "variance_ratio": variance / total if total > 0 else variance,
        "genes": names,
        "n_comps": n_comps,
        "counts": source,
        "batch_key": batch_key,
    }
    return target if copy else None


def knn(
    embedding: np.ndarray,
    k: int,
    *,
    query: np.ndarray | None = None,
    tree: cKDTree | None = None,
    workers: int = -1,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours (Euclidean) of some or all cells.

    Parameters
    ----------
    embedding
        Cells × dimensions (e.g. ``obsm["X_pca"]``; ≤ 50 dimensions keeps the k-d tree fast).
    k
        Neighbours per cell, the cell itself included (it comes first, at distance 0).
    query
        Cells to look up: integer positions or a points array (rows × dimensions); default
        every cell.
    tree
        A ``cKDTree`` built on ``embedding`` to reuse.
    workers
        Threads for the look-up (-1: all).

    Returns
    -------
    (indices, distances)
        ``int64`` and ``float64`` arrays of shape (queried, k), nearest first; ties broken by
        the tree (deterministic for a given input).

    Examples
    --------
    >>> import numpy as np
    >>> idx, dist = knn(np.array([[0.0], [1.0], [3.0]]), 2)
    >>> idx.tolist(), dist[:, 1].tolist()
    ([[0, 1], [1, 0], [2, 1]], [1.0, 1.0, 2.0])
    """
    emb = np.asarray(embedding, dtype=np.float64)
    if emb.ndim != 2 or not np.all(np.isfinite(emb)):
        raise InputError("the embedding must be a finite cells × dimensions array")
    if not 1 <= k <= emb.shape[0]:
        raise InputError(f"k={k}; expected between 1 and the number of cells ({emb.shape[0]})")
    tree = cKDTree(emb) if tree is None else tree
    if query is None:
        points = emb
    else:
        q = np.asarray(query)
        points = emb[q] if q.ndim == 1 else q.astype(np.float64)
    dist, idx = tree.query(points, k=k, workers=workers)
    if k == 1:
        dist, idx = dist[:, None], idx[:, None]
    return idx.astype(np.int64), dist
