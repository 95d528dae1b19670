"""Forecast scores: point error, interval coverage, CRPS, discrimination.

Small plain functions over numpy arrays; every one ignores nothing silently (``nan`` in an
input gives ``nan`` unless stated).

References
----------
Gneiting T, Raftery AE. Strictly proper scoring rules, prediction, and estimation. J Am Stat
Assoc 2007;102:359-378. doi:10.1198/016214506000001437 (CRPS; its sample and quantile forms).
Hanley JA, McNeil BJ. The meaning and use of the area under a receiver operating
characteristic (ROC) curve. Radiology 1982;143:29-36 (AUC as the Mann-Whitney statistic).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import rankdata

from oncoresist.errors import InputError


def _same_length(name: str, *arrays: np.ndarray) -> None:
    n = {a.shape[-1] if a.ndim else 1 for a in arrays}
    if len(n) > 1:
        raise InputError(f"{name}: arrays of different lengths {sorted(n)}", field=name)


def mae(observed: Sequence[float], predicted: Sequence[float]) -> float:
    """Mean absolute error ``mean(|observed - predicted|)`` (units of the data).

    Examples
    --------
    >>> mae([1.0, 2.0], [1.5, 1.0])
    0.75
    """
    obs = np.asarray(observed, dtype=float)
    pred = np.asarray(predicted, dtype=float)
    _same_length("mae", obs, pred)
    return float(np.mean(np.abs(obs - pred)))


def coverage(observed: Sequence[float], lower: Sequence[float], upper: Sequence[float]) -> float:
    """Share of observations inside ``[lower, upper]`` (bounds included).

    Examples
    --------
    >>> coverage([1, 2, 3, 4], [0, 0, 0, 0], [2, 2, 2, 2])
    0.5
    """
    obs = np.asarray(observed, dtype=float)
    lo = np.asarray(lower, dtype=float)
    hi = np.asarray(upper, dtype=float)
    _same_length("coverage", obs, lo, hi)
    return float(np.mean((obs >= lo) & (obs <= hi)))


def crps_samples(observed: Sequence[float], samples: np.ndarray) -> np.ndarray:
    """CRPS of each observation under its predictive sample (lower is better).

    ``CRPS = E|X - y| - E|X - X'| / 2`` with ``X, X'`` drawn from the sample; the second
    term uses the sorted-sample identity ``E|X - X'| = 2 / S^2 sum_i (2i - S - 1) x_(i)``.

    Parameters
    ----------
    observed : array, shape (n,)
    samples : ndarray, shape (S, n)
        ``S`` predictive draws per observation.

    Returns
    -------
    ndarray, shape (n,)
        In the units of the data.

    Examples
    --------
    >>> float(crps_samples([0.0], np.array([[0.0], [0.0]]))[0])
    0.0
    """
    y = np.asarray(observed, dtype=float)
    x = np.sort(np.asarray(samples, dtype=float), axis=0)
    if x.ndim != 2 or x.shape[1] != y.shape[0]:
        raise InputError(
            f"samples must have shape (S, {y.shape[0]}); got {x.shape}", field="samples"
        )
    s = x.shape[0]
    term1 = np.mean(np.abs(x - y[None]), axis=0)
    weights = (2.0 * np.arange(1, s + 1) - s - 1.0)[:, None]
    term2 = np.sum(weights * x, axis=0) / s**2
    return term1 - term2


def crps_quantiles(
    observed: Sequence[float], quantiles: np.ndarray, levels: Sequence[float]
) -> np.ndarray:
    r"""CRPS approximated from a few predictive quantiles (mean pinball loss, times two).

    ``CRPS = 2 \int_0^1 QS_tau d tau`` with the quantile score
    ``QS_tau = (1{y < q_tau} - tau)(q_tau - y)``; the integral is replaced by the mean over
    the given levels, so with few levels it is a coarse approximation (use
    :func:`crps_samples` when draws are available).

    Parameters
    ----------
    observed : array, shape (n,)
    quantiles : ndarray, shape (n, L)
    levels : sequence of float, length L, in (0, 1)

    Returns
    -------
    ndarray, shape (n,)
    """
    y = np.asarray(observed, dtype=float)
    q = np.asarray(quantiles, dtype=float)
    tau = np.asarray(levels, dtype=float)
    if q.shape != (y.shape[0], tau.shape[0]):
        raise InputError(
            f"quantiles must have shape ({y.shape[0]}, {tau.shape[0]}); got {q.shape}",
            field="quantiles",
        )
    if np.any((tau <= 0) | (tau >= 1)):
        raise InputError("quantile levels must lie in (0, 1)", field="levels")
    below = (y[:, None] < q).astype(float)
    return 2.0 * np.mean((below - tau[None]) * (q - y[:, None]), axis=1)


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Area under the ROC curve: P(score of a positive > score of a negative), ties half.

    Examples
    --------
    >>> auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    0.75
    """
    s = np.asarray(scores, dtype=float)
    lab = np.asarray(labels, dtype=bool)
    _same_length("auc", s, lab)
    n_pos, n_neg = int(lab.sum()), int((~lab).sum())
    if n_pos == 0 or n_neg == 0:
        raise InputError("auc needs at least one positive and one negative", field="labels")
    ranks = rankdata(s)
    return float((ranks[lab].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def sensitivity_specificity(
    scores: Sequence[float], labels: Sequence[bool], threshold: float
) -> tuple[float, float]:
    """Sensitivity and specificity when ``score >= threshold`` calls a positive.

    Examples
    --------
    >>> sensitivity_specificity([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 0.5)
    (0.5, 1.0)
    """
    s = np.asarray(scores, dtype=float)
    lab = np.asarray(labels, dtype=bool)
    _same_length("sensitivity_specificity", s, lab)
    call = s >= threshold
    sens = float(call[lab].mean()) if lab.any() else float("nan")
    spec = float((~call[~lab]).mean()) if (~lab).any() else float("nan")
    return sens, spec
