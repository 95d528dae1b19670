"""Intervals and p-values of synergy scores, from replicates or a parametric bootstrap.

With replicates each replicate surface is scored on its own (its own monotherapy fits), and
the score of the mean surface is tested against 0 with Student's t on the spread of the
replicate scores (``n - 1`` degrees of freedom). This is calibrated when replicates are
independent: on Bliss-null surfaces with Gaussian noise the block p-values are uniform
(tests/synergy/test_synergy_uncertainty.py). Without replicates a *parametric bootstrap*
adds Gaussian noise at the monotherapy fits' residual sd to the observed surface and scores
every draw; the draws' sd is the standard error, used with Student's t on the degrees of
freedom of that residual sd (the two fits' together), because the sd is itself estimated
from a few points. It measures how much measurement noise alone moves the score, nothing
more, and is labelled as such.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def _spread(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number of finite draws and their sample sd along axis 1 (no warnings on empties)."""
    ok = np.isfinite(draws)
    n = ok.sum(axis=1)
    filled = np.where(ok, draws, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=1) / n
        ss = (np.where(ok, draws - np.expand_dims(mean, 1), 0.0) ** 2).sum(axis=1)
        sd = np.sqrt(ss / (n - 1))
    return n, np.where(n >= 2, sd, np.nan)


def replicate_summary(point: np.ndarray, draws: np.ndarray) -> dict[str, np.ndarray]:
    """Student-t interval and two-sided p-value of ``point`` from replicate scores.

    Parameters
    ----------
    point
        ``(B, ...)`` the score of the mean surface.
    draws
        ``(B, K, ...)`` the score of each replicate (NaN where missing).

    Returns
    -------
    dict
        ``lo``, ``hi`` (95 % interval ``point +- t_{0.975, n-1} sd / sqrt(n)``) and ``p``
        (two-sided, mean 0); NaN with fewer than two replicates or no spread.
    """
    n, sd = _spread(draws)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = sd / np.sqrt(n)
        dof = np.maximum(n - 1, 1)
        half = stats.t.ppf(0.975, dof) * se
        p = 2.0 * stats.t.sf(np.abs(point) / se, dof)
    bad = ~(se > 0)
    return {"lo": np.where(bad, np.nan, point - half), "hi": np.where(bad, np.nan, point + half),
            "p": np.where(bad, np.nan, p)}  # fmt: skip


def bootstrap_summary(
    point: np.ndarray, draws: np.ndarray, dof: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Interval and p-value of ``point`` from the spread of parametric-bootstrap draws.

    The draws' sd stands for the score's standard error. The noise sd behind the draws is
    itself estimated (from the monotherapy fits' residuals, few degrees of freedom), so the
    interval and test use Student's t with those degrees of freedom rather than the normal.

    Parameters
    ----------
    point
        ``(B, ...)`` the observed score.
    draws
        ``(B, K, ...)`` the scores of the bootstrap draws.
    dof
        ``(B,)`` degrees of freedom of the noise estimate (``None``: normal quantiles).

    Returns
    -------
    dict
        ``lo``, ``hi`` (``point -+ t_{0.975, dof} sd(draws)``) and ``p``
        (``2 T_dof(-|point| / sd(draws))``).
    """
    _, sd = _spread(draws)
    if dof is None:
        q, p = stats.norm.ppf(0.975), None
    else:
        d = np.maximum(np.asarray(dof, float), 1.0).reshape((-1,) + (1,) * (point.ndim - 1))
        q = stats.t.ppf(0.975, d)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.abs(point) / sd
        p = 2.0 * (stats.norm.sf(z) if dof is None else stats.t.sf(z, d))
        half = q * sd
    bad = ~(sd > 0)
    return {"lo": np.where(bad, np.nan, point - half), "hi": np.where(bad, np.nan, point + half),
            "p": np.where(bad, np.nan, p)}  # fmt: skip
