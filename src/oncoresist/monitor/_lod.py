"""What one blood draw can detect: the sampling bound, detection probability and LoD.

Model (one site, one draw). The library holds ``m = recovery * input_ge`` molecules of the
site (``input_ge`` haploid genome equivalents; 1 ng cfDNA ~ 303 GE) and the draw reports
``depth`` = ``n`` counts. Let ``n_eff = min(n, m)`` and ``r = n / n_eff >= 1``.

* Molecules. Each molecule carries the alt base with probability
  ``p = f + e (1 - f)`` (true VAF ``f``, background error ``e``), independently.
* ``n <= m`` (unique-molecule counting, or reads fewer than molecules): each library
  molecule is counted with probability ``n / m`` (binomial thinning), so the alt count is
  ``K ~ Poisson(n p)``.
* ``n > m`` (raw reads over PCR duplicates): every molecule is read ``r`` times; the
  distinct alt molecules are ``K ~ Poisson(m p)`` and the alt reads ``r K``.

A draw is called when its alt count reaches the critical count ``c`` of the background
at the per-test false-positive rate (see :func:`critical_count`), i.e. when
``K >= ceil(c / r)``. Hence the closed forms

``P(detect) = P(Poisson(n_eff p) >= ceil(c / r)) = gammainc(ceil(c / r), n_eff p)``

and, for power ``1 - beta``, ``LoD = (gammaincinv(ceil(c / r), power) / n_eff - e) / (1 -
e)``. Whatever the caller, no draw can detect the allele with probability above the
sampling bound ``1 - exp(-recovery * input_ge * f)`` (plus its false-positive rate).
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammainc, gammaincinv

from oncoresist.errors import InputError
from oncoresist.monitor._background import critical_counts

#: Haploid genome equivalents per ng of cfDNA (3.3 pg per haploid genome).
GE_PER_NG = 303.0


def _nonneg(name: str, x) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if np.any(arr < 0) or np.any(np.isnan(arr)):
        raise InputError("must be a non-negative number", field=name)
    return arr


def _unit(name: str, x) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if np.any((arr < 0) | (arr > 1)) or np.any(np.isnan(arr)):
        raise InputError("must lie in [0, 1]", field=name)
    return arr


def _out(x: np.ndarray):
    return float(x) if np.ndim(x) == 0 else x


def sampling_bound(vaf, input_ge, recovery=0.5):
    """Largest detection probability of any single-draw caller: ``1 - exp(-eta G f)``.

    Parameters
    ----------
    vaf : float or array_like
        True variant allele fraction ``f`` (0-1).
    input_ge : float or array_like
        Input haploid genome equivalents ``G`` (GE; 303 per ng cfDNA).
    recovery : float or array_like
        Fraction ``eta`` of input molecules that reach the library (0-1).

    Returns
    -------
    float or numpy.ndarray
        Probability that at least one mutant molecule is sampled.

    Examples
    --------
    >>> round(sampling_bound(0.001, 10 * 303, 0.5), 4)  # 10 ng at 0.1 % VAF
    0.7802
    """
    f = _unit("vaf", vaf)
    g = _nonneg("input_ge", input_ge)
    eta = _unit("recovery", recovery)
    return _out(-np.expm1(-eta * g * f))


def _detect(vaf, m, depth, error, crit) -> np.ndarray:
    n = np.asarray(depth, dtype=float)
    m = np.asarray(m, dtype=float)
    n_eff = np.minimum(n, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(n_eff > 0, n / n_eff, 1.0)
    c_mol = np.ceil(np.asarray(crit, dtype=float) / r - 1e-9)
    p = error + vaf * (1.0 - error)
    lam = n_eff * p
    out = np.where(c_mol <= 0, 1.0, gammainc(np.maximum(c_mol, 1.0), np.maximum(lam, 0.0)))
    return np.where((n_eff <= 0) & (c_mol > 0), 0.0, out)


def detection_probability(vaf, input_ge, recovery, depth, background_error, critical_count):
    """Probability that a draw's alt count reaches the critical count (module model).

    Parameters
    ----------
    vaf : float or array_like
        True VAF ``f`` (0-1).
    input_ge : float or array_like
        Input genome equivalents ``G``.
    recovery : float or array_like
        Molecule recovery ``eta`` (0-1).
    depth : float or array_like
        Counts at the site (reads, or unique molecules).
    background_error : float or array_like
        Mean background error per base ``e``.
    critical_count : int or array_like
        Alt count needed for a call (:func:`critical_count`).

    Returns
    -------
    float or numpy.ndarray
        ``gammainc(ceil(c / r), n_eff (f + e (1 - f)))``.

    Examples
    --------
    >>> round(detection_probability(0.002, 5000, 0.6, 3000, 0.0, 1), 4)  # 1 - exp(-6)
    0.9975
    """
    f = _unit("vaf", vaf)
    g = _nonneg("input_ge", input_ge)
    eta = _unit("recovery", recovery)
    n = _nonneg("depth", depth)
    e = _unit("background_error", background_error)
    c = _nonneg("critical_count", critical_count)
    return _out(_detect(f, eta * g, n, e, c))


def critical_count(depth, alpha, beta, fpr=0.001):
    """Smallest alt count ``c`` with ``P(X >= c) <= fpr`` for ``X ~ BetaBinomial(depth, a, b)``.

    Parameters
    ----------
    depth : int or array_like
        Counts at the site.
    alpha, beta : float or array_like
        Beta shapes of the background.
    fpr : float or array_like
        Per-test false-positive rate.

    Returns
    -------
    int or numpy.ndarray
        Critical counts.
    """
    n = _nonneg("depth", depth)
    if np.any(np.asarray(alpha) <= 0) or np.any(np.asarray(beta) <= 0):
        raise InputError("beta shapes must be positive", field="alpha/beta")
    fpr_arr = np.asarray(fpr, dtype=float)
    if np.any((fpr_arr <= 0) | (fpr_arr >= 1)):
        raise InputError("must lie in (0, 1)", field="fpr")
    c = critical_counts(n, alpha, beta, fpr_arr)
    return int(c) if np.ndim(c) == 0 else c


def lod_from_critical(critical, input_ge, recovery, depth, error, power=0.95) -> np.ndarray:
    """VAF at which the detection probability equals ``power``, vectorised (closed form).

    Parameters
    ----------
    critical : array_like of int
        Critical alt counts.
    input_ge : array_like of float
        Input GE (``NaN``: unknown; the depth is then taken as the molecules counted).
    recovery : float or array_like
        Molecule recovery.
    depth : array_like of int
        Counts at the site.
    error : array_like of float
        Mean background error per base.
    power : float
        Detection probability the LoD must reach (0.95).

    Returns
    -------
    numpy.ndarray
        LoD as a VAF; ``inf`` when even VAF 1 does not reach ``power`` (e.g. depth 0).
    """
    c = np.asarray(critical, dtype=float)
    n = np.asarray(depth, dtype=float)
    g = np.asarray(input_ge, dtype=float)
    m = np.where(np.isnan(g), n, np.asarray(recovery, dtype=float) * g)
    c, n, m, e = np.broadcast_arrays(c, n, m, np.asarray(error, dtype=float))
    n_eff = np.minimum(n, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(n_eff > 0, n / n_eff, 1.0)
    c_mol = np.maximum(np.ceil(c / r - 1e-9), 1.0)
    uniq, inv = np.unique(c_mol, return_inverse=True)
    lam = gammaincinv(uniq, power)[inv.reshape(c_mol.shape)]
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n_eff > 0, lam / n_eff, np.inf)
        f = np.maximum((p - e) / (1.0 - e), 0.0)
    return np.where(f > 1.0, np.inf, f)


def limit_of_detection(input_ge, recovery, depth, alpha, beta, fpr=0.001, power=0.95):
    """Smallest VAF detected with probability ``power`` at false-positive rate ``fpr``.

    The critical count of the background ``BetaBinomial(depth, alpha, beta)`` at ``fpr``
    (:func:`critical_count`), then the closed form of the module model.

    Parameters
    ----------
    input_ge : float or array_like
        Input genome equivalents (GE).
    recovery : float or array_like
        Molecule recovery (0-1).
    depth : int or array_like
        Counts at the site.
    alpha, beta : float or array_like
        Beta shapes of the background.
    fpr : float
        Per-test false-positive rate.
    power : float
        Detection probability required (0.95).

    Returns
    -------
    float or numpy.ndarray
        LoD as a VAF (``inf`` when not reachable).

    Examples
    --------
    >>> round(limit_of_detection(3030, 0.5, 1515, 1.0, 1e7, 0.001), 5)  # c = 1
    0.00198
    """
    g = _nonneg("input_ge", input_ge)
    eta = _unit("recovery", recovery)
    n = _nonneg("depth", depth)
    if not 0 < power < 1:
        raise InputError("must lie in (0, 1)", field="power")
    c = critical_count(n, alpha, beta, fpr)
    a = np.asarray(alpha, dtype=float)
    b = np.asarray(beta, dtype=float)
    return _out(lod_from_critical(c, g, eta, n, a / (a + b), power))
