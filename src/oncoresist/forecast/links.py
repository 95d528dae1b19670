"""Links from tumour burden to circulating tumour DNA, and a ctDNA progression criterion.

**Shedding** (molecules per mL). At steady state the plasma holds ctDNA in proportion to
the number of tumour cells: cells shed DNA at a per-cell rate and plasma clears it within
hours (half-life ~30 min), far faster than the tumour changes (Avanzini et al. 2020). So

    M(t) = q_i B(t)                                   (mutant tumour molecules per mL)

with ``B`` the burden (any size unit: mm of diameters, mm3) and ``q_i`` the patient's
shedding rate in molecules per mL per unit of burden (varies by orders of magnitude
between patients and tumour types, hence per patient). A draw of ``V`` mL of plasma holds
a Poisson number of mutant molecules, so ``P(detect) = 1 - exp(-M V)``
(:func:`detection_probability`): the detection floor. Measured values below the assay's
lower limit of quantification are censored, never zero.

**VAF through tumour fraction.** With ``G_T`` tumour genomes and ``G_N`` non-tumour
(germline, mostly haematopoietic) genome equivalents per mL, the tumour fraction is
``rho = G_T / (G_T + G_N)``. For a mutation carried on ``m`` of the tumour's ``psi`` copies
(ploidy) in a clonal fraction ``c`` of tumour cells, and an allele fraction ``b`` in the
non-tumour background (0 for a somatic mutation; clonal haematopoiesis or the assay's
error floor otherwise),

    VAF = (c m rho + 2 b (1 - rho)) / (psi rho + 2 (1 - rho))

the purity-ploidy formula of ABSOLUTE (Carter et al. 2012); with ``c = m = 1``, ``psi = 2``
and ``b = 0`` it is ``VAF = rho / 2``. :func:`vaf_from_burden` composes it with shedding:
``G_T = M / (c m)`` (mutant molecules per tumour genome).

**ctDNA progression** (:func:`ctdna_progression`; an assumption, there is no consensus
criterion): a draw at least ``fold`` (default 2) times the nadir **and** at or above the
LLOQ, confirmed by the **next** draw meeting the same rule against the same nadir. The
nadir is the lowest value so far, the baseline included; a censored draw enters the nadir
at half its LLOQ, so after an undetectable nadir a quantifiable draw is a rise.

References
----------
Avanzini S, Kurtz DM, Chabon JJ, et al. A mathematical model of ctDNA shedding predicts
tumor detection size. Sci Adv 2020;6:eabc4308. doi:10.1126/sciadv.abc4308.
Carter SL, Cibulskis K, Helman E, et al. Absolute quantification of somatic DNA alterations
in human cancer. Nat Biotechnol 2012;30:413-421. doi:10.1038/nbt.2203.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_ndtr

from oncoresist.errors import InputError

__all__ = [
    "ctdna_first_progression",
    "ctdna_progression",
    "detection_probability",
    "fit_shedding",
    "mtm_per_ml",
    "tumour_fraction",
    "vaf_from_burden",
    "vaf_from_tumour_fraction",
]

#: Non-tumour cell-free DNA, genome equivalents per mL of plasma (about 5 ng/mL at 3.3 pg
#: per haploid genome, diploid); an assumption to replace by the assay's own figure.
BACKGROUND_GE_PER_ML = 1500.0


def mtm_per_ml(burden: np.ndarray, shedding: float | np.ndarray) -> np.ndarray:
    """Mutant tumour molecules per mL of plasma shed by a burden: ``q B``.

    Parameters
    ----------
    burden : ndarray
        Tumour burden (any size unit, >= 0).
    shedding : float or ndarray
        Molecules per mL per unit of burden (> 0).

    Examples
    --------
    >>> float(mtm_per_ml(np.array(40.0), 0.5))
    20.0
    """
    return np.asarray(shedding, dtype=float) * np.maximum(np.asarray(burden, dtype=float), 0.0)


def detection_probability(mtm: np.ndarray, plasma_ml: float = 4.0) -> np.ndarray:
    """Chance that ``plasma_ml`` of plasma holds at least one mutant molecule (Poisson).

    Examples
    --------
    >>> round(float(detection_probability(np.array(0.25), plasma_ml=4.0)), 4)
    0.6321
    """
    return -np.expm1(-np.maximum(np.asarray(mtm, dtype=float), 0.0) * plasma_ml)


def tumour_fraction(
    tumour_ge_per_ml: np.ndarray, *, background_ge_per_ml: float = BACKGROUND_GE_PER_ML
) -> np.ndarray:
    """Tumour fraction ``rho = G_T / (G_T + G_N)`` of cell-free DNA."""
    g = np.maximum(np.asarray(tumour_ge_per_ml, dtype=float), 0.0)
    return g / (g + background_ge_per_ml)


def vaf_from_tumour_fraction(
    rho: np.ndarray,
    *,
    clonal_fraction: float = 1.0,
    mutant_copies: float = 1.0,
    tumour_ploidy: float = 2.0,
    background_vaf: float = 0.0,
) -> np.ndarray:
    """Variant allele fraction (0-1) at tumour fraction ``rho`` (Carter 2012; see module).

    Examples
    --------
    >>> float(vaf_from_tumour_fraction(np.array(0.2)))
    0.1
    >>> round(float(vaf_from_tumour_fraction(np.array(0.2), tumour_ploidy=4.0)), 4)
    0.0833
    """
    rho = np.clip(np.asarray(rho, dtype=float), 0.0, 1.0)
    num = clonal_fraction * mutant_copies * rho + 2.0 * background_vaf * (1.0 - rho)
    return num / (tumour_ploidy * rho + 2.0 * (1.0 - rho))


def vaf_from_burden(
    burden: np.ndarray,
    shedding: float | np.ndarray,
    *,
    background_ge_per_ml: float = BACKGROUND_GE_PER_ML,
    clonal_fraction: float = 1.0,
    mutant_copies: float = 1.0,
    tumour_ploidy: float = 2.0,
    background_vaf: float = 0.0,
) -> np.ndarray:
    """VAF of a burden: shedding, then tumour fraction, then the purity-ploidy formula.

    Examples
    --------
    >>> round(float(vaf_from_burden(np.array(100.0), 15.0)), 4)
    0.25
    """
    mutant = mtm_per_ml(burden, shedding)
    genomes = mutant / max(clonal_fraction * mutant_copies, 1e-12)
    rho = tumour_fraction(genomes, background_ge_per_ml=background_ge_per_ml)
    return vaf_from_tumour_fraction(
        rho, clonal_fraction=clonal_fraction, mutant_copies=mutant_copies,
        tumour_ploidy=tumour_ploidy, background_vaf=background_vaf,
    )  # fmt: skip


def log_vaf_link(
    log_ratio: np.ndarray,
    *,
    clonal_fraction: float = 1.0,
    mutant_copies: float = 1.0,
    tumour_ploidy: float = 2.0,
    background_vaf: float = 0.0,
) -> np.ndarray:
    """Log VAF from ``log x``, ``x = G_T / G_N`` the tumour-to-background genome ratio.

    ``rho = x / (1 + x)``: the link a burden model uses when its log size is ``log x``
    (shedding and background folded into the patient's size parameter).
    """
    rho = 1.0 / (1.0 + np.exp(-np.clip(log_ratio, -700.0, 700.0)))
    vaf = vaf_from_tumour_fraction(
        rho, clonal_fraction=clonal_fraction, mutant_copies=mutant_copies,
        tumour_ploidy=tumour_ploidy, background_vaf=background_vaf,
    )  # fmt: skip
    return np.log(np.maximum(vaf, 1e-300))


def log_ratio_from_vaf(
    vaf: np.ndarray,
    *,
    clonal_fraction: float = 1.0,
    mutant_copies: float = 1.0,
    tumour_ploidy: float = 2.0,
) -> np.ndarray:
    """Inverse of :func:`log_vaf_link` (without background), clipped to ``rho <= 0.99``."""
    v = np.clip(np.asarray(vaf, dtype=float), 1e-12, None)
    denom = clonal_fraction * mutant_copies - v * tumour_ploidy + 2.0 * v
    rho = np.where(denom > 0, 2.0 * v / np.maximum(denom, 1e-12), 0.99)
    rho = np.clip(rho, 1e-12, 0.99)
    return np.log(rho / (1.0 - rho))


def fit_shedding(
    burden: np.ndarray,
    mtm: np.ndarray,
    *,
    lloq: float | np.ndarray | None = None,
    error_sd: float = 0.5,
) -> float:
    """A patient's shedding rate from paired burden and ctDNA readings (Tobit MLE).

    ``log M = log q + log B + e``, ``e ~ N(0, error_sd^2)``; readings below ``lloq``
    contribute ``P(M < lloq)``.

    Parameters
    ----------
    burden : ndarray, shape (n,)
        Burden at the draws (> 0).
    mtm : ndarray, shape (n,)
        Mutant molecules per mL (censored ones at any value below ``lloq``).
    lloq : float or ndarray, optional
        Lower limit of quantification (molecules per mL).
    error_sd : float
        Error sd of log M.

    Returns
    -------
    float
        ``q`` (molecules per mL per unit of burden).

    Examples
    --------
    >>> round(fit_shedding(np.array([10.0, 20.0]), np.array([5.0, 10.0])), 6)
    0.5
    """
    b = np.asarray(burden, dtype=float)
    m = np.asarray(mtm, dtype=float)
    if b.shape != m.shape or b.size == 0 or np.any(b <= 0):
        raise InputError("burden and mtm must be paired arrays with burden > 0", field="burden")
    lim = np.full(b.shape, np.nan) if lloq is None else np.broadcast_to(lloq, b.shape)
    cens = np.isfinite(lim) & (m < lim)
    if not (~cens).any():
        raise InputError("every ctDNA reading is below the LLOQ; shedding is unknown")
    lb = np.log(b)
    lm = np.log(np.where(cens, 1.0, np.maximum(m, 1e-300)))
    ll = np.log(np.where(cens, lim, 1.0))

    def nll(lq: float) -> float:
        r = (lm - lq - lb) / error_sd
        c = log_ndtr((ll - lq - lb) / error_sd)
        return float(np.sum(np.where(cens, -c, 0.5 * r**2)))

    start = float(np.mean((lm - lb)[~cens]))
    res = minimize_scalar(nll, bracket=(start - 1.0, start + 1.0))
    return float(np.exp(res.x))


def ctdna_first_progression(
    days: np.ndarray,
    values: np.ndarray,
    *,
    lloq: float | np.ndarray = 0.0,
    nadir: float | np.ndarray = np.inf,
    fold: float = 2.0,
    confirm: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Day of the first (confirmed) ctDNA rise on each path.

    Parameters
    ----------
    days : ndarray, shape (m,)
        Days of the draws (increasing).
    values : ndarray, shape (..., m)
        ctDNA (molecules per mL or VAF); leading axes are sample paths. A value below
        ``lloq`` is read as censored (half the LLOQ in the nadir).
    lloq : float or ndarray of shape (m,)
        Lower limit of quantification of each draw (0: none).
    nadir : float or ndarray
        Lowest value before ``days[0]`` (the baseline included; ``inf`` if none).
    fold : float
        A rise is ``>= fold x nadir`` and ``>= lloq``.
    confirm : bool
        Require the next draw to meet the rule too (against the same nadir).

    Returns
    -------
    first : ndarray, shape (...)
        Day of the first rise (confirmed when asked), ``inf`` when none.
    pending : ndarray of bool, shape (...)
        A rise on the last draw with no later draw to confirm it (and none before).
    """
    days = np.asarray(days, dtype=float)
    x = np.asarray(values, dtype=float)
    m = len(days)
    lim = np.broadcast_to(np.asarray(lloq, dtype=float), (m,))
    counted = np.where(x < lim, 0.5 * lim, x)
    lead = x.shape[:-1]
    low = np.broadcast_to(np.asarray(nadir, dtype=float), lead).copy()
    first = np.full(lead, np.inf)
    pending = np.zeros(lead, dtype=bool)
    for j in range(m):
        rise = (x[..., j] >= fold * low) & (x[..., j] >= lim[j])
        if confirm:
            if j + 1 < m:
                nxt = (x[..., j + 1] >= fold * low) & (x[..., j + 1] >= lim[j + 1])
                first = np.where(rise & nxt & np.isinf(first), days[j], first)
            else:
                pending = rise & np.isinf(first)
        else:
            first = np.where(rise & np.isinf(first), days[j], first)
        low = np.minimum(low, counted[..., j])
    return first, pending


def ctdna_progression(
    days: np.ndarray,
    values: np.ndarray,
    *,
    origin_day: float,
    nadir: float | np.ndarray,
    lloq: float | np.ndarray = 0.0,
    window_days: float = 180.0,
    fold: float = 2.0,
    confirm: bool = True,
) -> np.ndarray:
    """Confirmed ctDNA rise within a window after an origin (see the module docstring).

    Returns
    -------
    ndarray, shape (...)
        1.0 a rise (first draw of it) in ``(origin_day, origin_day + window_days]``,
        confirmed; 0.0 none; ``nan`` when the only rise in the window has no later draw to
        confirm it.

    Examples
    --------
    >>> ctdna_progression(np.array([30., 60., 90.]), np.array([4.0, 9.0, 10.0]),
    ...                   origin_day=0.0, nadir=4.0)
    array(1.)
    """
    first, pending = ctdna_first_progression(
        days, values, lloq=lloq, nadir=nadir, fold=fold, confirm=confirm
    )
    days = np.asarray(days, dtype=float)
    inside = (first > origin_day) & (first <= origin_day + window_days)
    last_in = days.size > 0 and days[-1] <= origin_day + window_days
    undecided = pending & np.isinf(first) & last_in
    return np.where(inside, 1.0, np.where(undecided, np.nan, 0.0))
