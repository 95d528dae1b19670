from __future__ import annotations

import math

import numpy as np
import pytest

from oncoresist.clones._metrics import (
    VMeasure,
    adjusted_rand_index,
    contingency_table,
    v_measure,
)
from oncoresist.errors import InputError

TRUE = [0, 0, 0, 1, 1, 1]
FOUND = [0, 0, 1, 1, 2, 2]


def test_perfect_and_permuted_labels():
    labels = np.repeat(np.arange(5), [10, 3, 7, 1, 4])
    renamed = np.array(["e", "d", "c", "b", "a"])[labels]
    assert adjusted_rand_index(labels, labels) == 1.0
    assert adjusted_rand_index(labels, renamed) == 1.0
    assert adjusted_rand_index(labels, labels + 100) == 1.0
    assert v_measure(labels, renamed) == VMeasure(1.0, 1.0, 1.0)


def test_contingency_table():
    assert contingency_table(TRUE, FOUND).tolist() == [[2, 1, 0], [0, 1, 2]]


def test_ari_by_hand():
    """TRUE vs FOUND: table [[2, 1, 0], [0, 1, 2]].

    sum_ij C(n_ij, 2) = 1 + 0 + 0 + 0 + 0 + 1 = 2; rows 3, 3: A = 3 + 3 = 6; columns 2, 2,
    2: B = 1 + 1 + 1 = 3; C(6, 2) = 15, so E = 6 * 3 / 15 = 1.2 and the maximum is
    (6 + 3) / 2 = 4.5. ARI = (2 - 1.2) / (4.5 - 1.2) = 0.8 / 3.3 = 8 / 33.

    Second case [0, 0, 1, 1] vs [0, 0, 1, 2]: index 1, A = 2, B = 1, E = 2 / 6 = 1/3,
    maximum 1.5: ARI = (2/3) / (7/6) = 4/7.
    """
    assert adjusted_rand_index(TRUE, FOUND) == pytest.approx(8 / 33, abs=1e-12)
    assert adjusted_rand_index(FOUND, TRUE) == pytest.approx(8 / 33, abs=1e-12)
    assert adjusted_rand_index([0, 0, 1, 1], [0, 0, 1, 2]) == pytest.approx(4 / 7, abs=1e-12)


def test_v_measure_by_hand():
    """TRUE vs FOUND, natural logs. H(C) = ln 2. Cluster 1 holds one of each class, the others
    are pure: H(C|K) = (2/6) ln 2, so h = 1 - 1/3 = 2/3. H(K) = ln 3 (three clusters of 2).
    Each class splits 2 : 1: H(K|C) = ln 3 - (2/3) ln 2, so c = (2/3) ln 2 / ln 3 = 0.42062.
    V = 2 h c / (h + c) = 0.51580."""
    h = 2 / 3
    c = (2 / 3) * math.log(2) / math.log(3)
    result = v_measure(TRUE, FOUND)
    assert result.homogeneity == pytest.approx(h, abs=1e-12)
    assert result.completeness == pytest.approx(c, abs=1e-12)
    assert result.v_measure == pytest.approx(2 * h * c / (h + c), abs=1e-12)
    assert result.v_measure == pytest.approx(0.51580, abs=1e-5)
    swapped = v_measure(FOUND, TRUE)
    assert swapped.homogeneity == pytest.approx(c) and swapped.completeness == pytest.approx(h)
    assert swapped.v_measure == pytest.approx(result.v_measure)


def test_degenerate_labellings():
    one = [7] * 6
    singletons = list(range(6))
    assert adjusted_rand_index(one, one) == 1.0
    assert adjusted_rand_index(singletons, singletons) == 1.0
    assert adjusted_rand_index(one, singletons) == 0.0
    assert adjusted_rand_index([3], [4]) == 1.0
    assert v_measure(TRUE, one) == VMeasure(0.0, 1.0, 0.0)
    assert v_measure(one, singletons) == VMeasure(1.0, 0.0, 0.0)


def test_random_labellings_score_near_zero():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 5, 5000)
    b = rng.integers(0, 5, 5000)
    assert abs(adjusted_rand_index(a, b)) < 0.01
    assert v_measure(a, b).v_measure < 0.01


def test_bad_labels():
    with pytest.raises(InputError, match="3 true labels but 2"):
        adjusted_rand_index([0, 1, 2], [0, 1])
    with pytest.raises(InputError, match="no labels"):
        v_measure([], [])
    with pytest.raises(InputError, match="1-D"):
        adjusted_rand_index([[0, 1]], [[0, 1]])


def test_matches_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(5)
    for _ in range(10):
        a = rng.integers(0, rng.integers(1, 8), 300)
        b = np.where(rng.random(300) < 0.7, a, rng.integers(0, 6, 300))
        assert adjusted_rand_index(a, b) == pytest.approx(metrics.adjusted_rand_score(a, b))
        expected = metrics.homogeneity_completeness_v_measure(a, b)
        assert tuple(v_measure(a, b)) == pytest.approx(expected)


@pytest.mark.parametrize("seed", range(5))
def test_ari_matches_pair_counting(seed):
    """ARI from the four pair counts (same/same, same/different ...) over all C(n, 2) pairs:
    with x = pairs together in both, y = together in the first only, z = in the second only,
    w = apart in both, ARI = 2 (x w - y z) / ((x + y)(y + w) + (x + z)(z + w))."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, 60)
    b = np.where(rng.random(60) < 0.5, a, rng.integers(0, 5, 60))
    i, j = np.triu_indices(60, k=1)
    same_a, same_b = a[i] == a[j], b[i] == b[j]
    x = np.sum(same_a & same_b)
    y = np.sum(same_a & ~same_b)
    z = np.sum(~same_a & same_b)
    w = np.sum(~same_a & ~same_b)
    expected = 2 * (x * w - y * z) / ((x + y) * (y + w) + (x + z) * (z + w))
    assert adjusted_rand_index(a, b) == pytest.approx(expected, abs=1e-12)


def test_v_measure_matches_direct_entropies():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 4, 200)
    b = np.where(rng.random(200) < 0.6, a, rng.integers(0, 6, 200))

    def entropy(x):
        _, counts = np.unique(x, return_counts=True)
        p = counts / counts.sum()
        return -(p * np.log(p)).sum()

    joint = entropy(a * 10 + b)  # H(C, K); H(C | K) = H(C, K) - H(K)
    h = 1 - (joint - entropy(b)) / entropy(a)
    c = 1 - (joint - entropy(a)) / entropy(b)
    result = v_measure(a, b)
    assert result.homogeneity == pytest.approx(h, abs=1e-12)
    assert result.completeness == pytest.approx(c, abs=1e-12)
