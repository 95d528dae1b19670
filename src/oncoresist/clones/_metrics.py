"""Agreement between two clusterings of the same mutations: adjusted Rand index, V-measure.

Both are computed from the contingency table of the two labellings, so they do not depend
on the label values (clusters can be renumbered freely) and need no scikit-learn.

References
----------
Hubert & Arabie (1985), "Comparing partitions", J Classif 2:193, doi:10.1007/BF01908075.
Rosenberg & Hirschberg (2007), "V-Measure: a conditional entropy-based external cluster
evaluation measure", EMNLP-CoNLL, 410-420.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from oncoresist.errors import InputError


class VMeasure(NamedTuple):
    """Homogeneity, completeness and their harmonic mean (V-measure, beta = 1), in [0, 1]."""

    homogeneity: float
    completeness: float
    v_measure: float


def contingency_table(labels_true: ArrayLike, labels_pred: ArrayLike) -> np.ndarray:
    """Counts of mutations in each (true class, found cluster) pair.

    Parameters
    ----------
    labels_true, labels_pred
        One label per mutation (any hashable values of one type: ints or strings), the
        same length, at least one.

    Returns
    -------
    numpy.ndarray
        int64 table, rows the sorted distinct true labels, columns the sorted distinct
        found labels.
    """
    a = np.asarray(labels_true)
    b = np.asarray(labels_pred)
    if a.ndim != 1 or b.ndim != 1:
        raise InputError(
            f"label arrays of shape {a.shape} and {b.shape}; expected 1-D", field="labels"
        )
    if a.size != b.size:
        raise InputError(
            f"{a.size} true labels but {b.size} found labels; expected one each per mutation",
            field="labels",
        )
    if a.size == 0:
        raise InputError("no labels; expected at least one mutation", field="labels")
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    table = np.zeros((ia.max() + 1, ib.max() + 1), dtype=np.int64)
    np.add.at(table, (ia, ib), 1)
    return table


def adjusted_rand_index(labels_true: ArrayLike, labels_pred: ArrayLike) -> float:
    """Adjusted Rand index of two labellings of the same mutations (Hubert & Arabie 1985).

    The share of mutation pairs on which the labellings agree (same cluster in both, or
    different in both), corrected for chance: 1 for identical partitions (whatever the
    label values), about 0 for independent random labellings, negative when worse than
    chance. Symmetric in its arguments.

    ``ARI = (sum_ij C(n_ij, 2) - E) / ((A + B) / 2 - E)``, with ``A = sum_i C(a_i, 2)``,
    ``B = sum_j C(b_j, 2)`` over the table's row and column sums and ``E = A B / C(n, 2)``.
    When the denominator is 0 (both labellings put everything in one cluster, or every
    mutation in its own) the partitions are identical and the result is 1.

    Parameters
    ----------
    labels_true, labels_pred
        One label per mutation (see :func:`contingency_table`).

    Returns
    -------
    float
        The index, at most 1.

    Examples
    --------
    >>> adjusted_rand_index([0, 0, 1, 1], [5, 5, 3, 3])
    1.0
    """
    table = contingency_table(labels_true, labels_pred).astype(float)
    n = table.sum()

    def pairs(x: np.ndarray) -> float:
        return float((x * (x - 1) / 2).sum())

    index = pairs(table)
    a, b = pairs(table.sum(axis=1)), pairs(table.sum(axis=0))
    expected = a * b / pairs(np.array([n])) if n > 1 else 0.0
    maximum = (a + b) / 2
    if maximum == expected:
        return 1.0
    return float((index - expected) / (maximum - expected))


def v_measure(labels_true: ArrayLike, labels_pred: ArrayLike) -> VMeasure:
    """Homogeneity, completeness and V-measure (Rosenberg & Hirschberg 2007; beta = 1).

    With C the true classes and K the found clusters, and entropies in any base:
    homogeneity ``h = 1 - H(C | K) / H(C)`` (1 when every cluster holds one class; 1 when
    ``H(C) = 0``), completeness ``c = 1 - H(K | C) / H(K)`` (1 when every class lies in one
    cluster; 1 when ``H(K) = 0``), and ``V = 2 h c / (h + c)`` (0 when ``h + c = 0``).
    Swapping the arguments swaps ``h`` and ``c`` and leaves ``V``.

    Parameters
    ----------
    labels_true
        True clone of each mutation.
    labels_pred
        Found cluster of each mutation.

    Returns
    -------
    VMeasure
        ``(homogeneity, completeness, v_measure)``, each in [0, 1].

    Examples
    --------
    >>> v_measure([0, 0, 1, 1], [0, 0, 0, 0])
    VMeasure(homogeneity=0.0, completeness=1.0, v_measure=0.0)
    """
    table = contingency_table(labels_true, labels_pred).astype(float)
    n = table.sum()
    rows, cols = table.sum(axis=1), table.sum(axis=0)

    def entropy(counts: np.ndarray) -> float:
        p = counts[counts > 0] / n
        return float(-(p * np.log(p)).sum())

    nz = table > 0
    joint = table[nz] / n
    # H(C | K) = -sum n_ck/n log(n_ck / n_k), and H(K | C) alike with the row sums.
    h_c_given_k = float(-(joint * np.log(table[nz] / np.broadcast_to(cols, table.shape)[nz])).sum())
    h_k_given_c = float(
        -(joint * np.log(table[nz] / np.broadcast_to(rows[:, None], table.shape)[nz])).sum()
    )
    h_c, h_k = entropy(rows), entropy(cols)
    homogeneity = 1.0 if h_c == 0 else 1.0 - h_c_given_k / h_c
    completeness = 1.0 if h_k == 0 else 1.0 - h_k_given_c / h_k
    # Clip rounding just below 0 or above 1.
    homogeneity = min(max(homogeneity, 0.0), 1.0)
    completeness = min(max(completeness, 0.0), 1.0)
    total = homogeneity + completeness
    v = 0.0 if total == 0 else 2 * homogeneity * completeness / total
    return VMeasure(homogeneity, completeness, v)
