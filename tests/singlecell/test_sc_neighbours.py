"""Log-normalisation, the sparse randomized PCA and exact kNN."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.spatial.distance import cdist

from oncoresist.errors import InputError
from oncoresist.singlecell._neighbours import knn, normalise_log1p, pca
from oncoresist.singlecell._simulate import simulate_cells


def test_normalise_log1p_by_hand() -> None:
    counts = np.array([[1, 3, 0], [0, 0, 0], [2, 2, 4]])
    expected = np.log1p(np.array([[2.5, 7.5, 0], [0, 0, 0], [2.5, 2.5, 5.0]]))
    dense = normalise_log1p(counts, target_sum=10)
    sp = normalise_log1p(sparse.csr_matrix(counts), target_sum=10)
    np.testing.assert_allclose(dense, expected, rtol=1e-6)
    np.testing.assert_allclose(sp.toarray(), expected, rtol=1e-6)
    assert sparse.issparse(sp) and sp.dtype == np.float32


def test_sparse_pca_matches_exact_svd_without_densifying() -> None:
    cd = simulate_cells(n_patients=2, cells_per_sample=300, n_genes=300, rng=0)
    x = normalise_log1p(cd.layers["counts"])
    scores = pca(x, n_comps=10, n_top_genes=None, seed=0)
    dense = x.toarray().astype(np.float64)
    dense -= dense.mean(axis=0)
    u, s, _ = np.linalg.svd(dense, full_matrices=False)
    # Variances within 1e-3 relative for the 6 components above the noise floor, 5 % beyond.
    var = (scores.astype(float) ** 2).sum(axis=0)
    np.testing.assert_allclose(var[:6], s[:6] ** 2, rtol=1e-3)
    np.testing.assert_allclose(var[6:], s[6:10] ** 2, rtol=0.05)
    exact = u[:, :3] * s[:3]
    for i in range(3):
        # The well-separated leading components: same scores up to sign, within 1e-3.
        sign = np.sign(exact[:, i] @ scores[:, i])
        np.testing.assert_allclose(sign * scores[:, i], exact[:, i],
                                   atol=1e-3 * np.abs(exact[:, i]).max())  # fmt: skip


def test_pca_writes_object_and_is_seeded() -> None:
    cd = simulate_cells(n_patients=2, cells_per_sample=100, n_genes=200, rng=1)
    assert pca(cd, n_comps=10, seed=3) is None
    first = cd.obsm["X_pca"].copy()
    assert first.shape == (400, 10)
    assert cd.uns["pca"]["counts"].startswith("layers")
    assert np.all(np.diff(cd.uns["pca"]["variance"]) <= 1e-6)
    other = pca(cd, n_comps=10, seed=3, copy=True, key_added="again")
    np.testing.assert_array_equal(other.obsm["again"], first)
    assert "again" not in cd.obsm


def test_batch_centring_and_gene_subset() -> None:
    cd = simulate_cells(n_patients=2, cells_per_sample=150, n_genes=200, batch_sd=0.5, rng=4)
    pca(cd, n_comps=5, batch_key="sample", genes=list(cd.var_names[:120]), max_fit_cells=300)
    scores = cd.obsm["X_pca"]
    means = [
        scores[cd.obs["sample"].to_numpy() == s].mean(axis=0) for s in cd.obs["sample"].unique()
    ]
    np.testing.assert_allclose(means, 0.0, atol=1e-4)
    assert set(cd.uns["pca"]["genes"]) <= set(cd.var_names[:120])
    plain = pca(cd, n_comps=5, copy=True).obsm["X_pca"]
    spread = [
        plain[cd.obs["sample"].to_numpy() == s].mean(axis=0) for s in cd.obs["sample"].unique()
    ]
    assert np.abs(spread).max() > 0.5
    with pytest.raises(InputError, match="not in var_names"):
        pca(cd, genes=["nope"])


def test_knn_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(500, 10))
    idx, dist = knn(emb, 7, query=np.array([0, 10, 499]))
    full = cdist(emb[[0, 10, 499]], emb)
    np.testing.assert_array_equal(idx, np.argsort(full, axis=1)[:, :7])
    np.testing.assert_allclose(dist, np.sort(full, axis=1)[:, :7])
    assert idx[:, 0].tolist() == [0, 10, 499]
    pts_idx, _ = knn(emb, 1, query=emb[[5]] + 1e-9)
    assert pts_idx.tolist() == [[5]]


def test_knn_bad_input() -> None:
    with pytest.raises(InputError, match="k=0"):
        knn(np.zeros((3, 2)), 0)
    with pytest.raises(InputError, match="finite"):
        knn(np.array([[np.nan, 1.0]]), 1)
