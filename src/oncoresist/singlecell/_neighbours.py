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
    if sparse.issparse(counts):
        x = sparse.csr_matrix(counts, dtype=np.float32, copy=True)
        totals = np.asarray(x.sum(axis=1)).ravel()
        scale = np.divide(target_sum, totals, out=np.zeros_like(totals), where=totals > 0)
        x.data *= np.repeat(scale, np.diff(x.indptr)).astype(np.float32)
        np.log1p(x.data, out=x.data)
        return x
    x = np.asarray(counts, dtype=np.float32)
    totals = x.sum(axis=1, keepdims=True)
    scale = np.divide(target_sum, totals, out=np.zeros_like(totals), where=totals > 0)
    return np.log1p(x * scale)


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


def _randomized_pca(
    x: Any, n_comps: int, rng: np.random.Generator, n_iter: int, oversample: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top principal components of ``x`` centred implicitly (scores, loadings, variances)."""
    n, g = x.shape
    mean = np.asarray(x.mean(axis=0), dtype=np.float64).ravel()
    ones = np.ones((n, 1))
    size = min(n_comps + max(oversample, n_comps), min(n, g))

    def right(m: np.ndarray) -> np.ndarray:  # (X - 1 mean^T) @ m
        return np.asarray(x @ m) - ones @ (mean[None, :] @ m)

    def left(m: np.ndarray) -> np.ndarray:  # (X - 1 mean^T)^T @ m
        return np.asarray(x.T @ m) - mean[:, None] @ m.sum(axis=0, keepdims=True)

    q = _orthonormalise(right(rng.standard_normal((g, size)).astype(x.dtype)))
    for _ in range(n_iter):
        q = _orthonormalise(right(_orthonormalise(left(q))))
    u, s, vt = np.linalg.svd(left(q).T, full_matrices=False)
    u, s, vt = u[:, :n_comps], s[:n_comps], vt[:n_comps]
    # Deterministic signs: the largest loading of each component is positive.
    signs = np.sign(vt[np.arange(len(s)), np.abs(vt).argmax(axis=1)])
    signs[signs == 0] = 1.0
    scores = (q @ u) * (s * signs)
    return scores.astype(np.float32), (vt * signs[:, None]).T, s**2 / (n - 1)


def pca(
    data: Any,
    *,
    n_comps: int = 30,
    n_top_genes: int | None = 2000,
    layer: str | None = None,
    n_iter: int = 7,
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
    if is_object:
        counts, source = counts_matrix(data, layer)
        x = normalise_log1p(counts)
    else:
        x = data if sparse.issparse(data) else np.asarray(data, dtype=np.float32)
        source = "matrix"
    n, g = x.shape
    if n < 2 or g < 1:
        raise InputError(f"{n} cells × {g} genes; PCA needs at least 2 cells and 1 gene")
    _, var = _column_moments(x)
    genes = np.flatnonzero(var > 0)
    if n_top_genes is not None and len(genes) > n_top_genes:
        genes = np.sort(genes[np.argsort(-var[genes], kind="stable")[:n_top_genes]])
    if len(genes) == 0:
        raise InputError("no gene varies across cells; nothing to embed")
    n_comps = int(min(n_comps, len(genes), n - 1))
    x = x[:, genes]
    if sparse.issparse(x):
        x = sparse.csr_matrix(x)
    scores, _, variance = _randomized_pca(x, n_comps, rng, n_iter)
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
