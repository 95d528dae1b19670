"""RECIST 1.1 on the sum of target-lesion diameters: progression and response categories.

* **Progression (PD)**: the sum of diameters is at least 20 % above the **nadir** (the
  smallest sum so far, the baseline included) **and** at least 5 mm above it in absolute
  terms. The 5 mm rule matters for small sums: from a nadir of 10 mm, 12.5 mm is +25 % but
  only +2.5 mm, not progression; from a nadir of 0 (all targets gone), any sum >= 5 mm is.
  RECIST 1.1 needs no confirming scan for PD.
* **Response** at each reading against the baseline (the first reading): CR when the sum
  is 0 (every target lesion gone; the lymph-node short-axis rule needs per-lesion data and
  is not applied), PR for a decrease of at least 30 %, PD as above, SD otherwise.

Lesion volumes are judged on the equivalent diameter ``(2 V)^(1/3)`` (the ellipsoid
convention ``V = 0.5 LD^3`` of the Laleh 2022 data), so 20 % in diameter is +72.8 % in
volume (:func:`diameter_from_volume`). New lesions and non-target disease are not in a sum
of diameters; these functions judge the target lesions only.

References
----------
Eisenhauer EA, Therasse P, Bogaerts J, et al. New response evaluation criteria in solid
tumours: revised RECIST guideline (version 1.1). Eur J Cancer 2009;45:228-247.
doi:10.1016/j.ejca.2008.10.026.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from oncoresist.errors import InputError

__all__ = [
    "diameter_from_volume",
    "recist_first_progression",
    "recist_progression",
    "recist_response",
]


def diameter_from_volume(volume_mm3: np.ndarray) -> np.ndarray:
    """Equivalent longest diameter (mm) of a lesion volume, ``(2 V)^(1/3)``.

    Examples
    --------
    >>> float(diameter_from_volume(np.array(500.0)))
    10.0
    """
    return np.cbrt(2.0 * np.maximum(np.asarray(volume_mm3, dtype=float), 0.0))


def _check(days: np.ndarray, sums: np.ndarray) -> None:
    if days.ndim != 1 or sums.shape[-1:] != days.shape:
        raise InputError(
            f"days of shape {days.shape} and sums of shape {sums.shape}; expected the last "
            "axis of sums to match days",
            field="sums",
        )
    if np.any(np.diff(days) < 0):
        raise InputError("days must be in increasing order", field="days")
    if np.any(sums < 0):
        raise InputError("a sum of diameters is negative; expected mm >= 0", field="sums")


def recist_first_progression(
    days: np.ndarray,
    sums_mm: np.ndarray,
    *,
    nadir_mm: float | np.ndarray = np.inf,
    rise_fraction: float = 0.20,
    min_increase_mm: float = 5.0,
) -> np.ndarray:
    """Day of the first RECIST 1.1 progression on each path (``inf`` when none).

    Parameters
    ----------
    days : ndarray, shape (m,)
        Days of the readings (increasing).
    sums_mm : ndarray, shape (..., m)
        Sums of target-lesion diameters (mm); leading axes are sample paths.
    nadir_mm : float or ndarray of shape (...)
        Smallest sum before ``days[0]`` (the baseline included); ``inf`` when the first
        reading is the baseline.
    rise_fraction, min_increase_mm : float
        PD is a sum ``>= (1 + rise_fraction) nadir`` and ``>= nadir + min_increase_mm``.

    Returns
    -------
    ndarray, shape (...)
        Days (``inf`` where no reading meets the rule).

    Examples
    --------
    >>> recist_first_progression(np.array([0., 60., 120.]), np.array([50., 40., 48.5]))
    array(120.)
    """
    days = np.asarray(days, dtype=float)
    sums = np.asarray(sums_mm, dtype=float)
    _check(days, sums)
    lead = sums.shape[:-1]
    low = np.broadcast_to(np.asarray(nadir_mm, dtype=float), lead).copy()
    first = np.full(lead, np.inf)
    for j in range(len(days)):
        x = sums[..., j]
        pd_now = (x >= (1.0 + rise_fraction) * low) & (x - low >= min_increase_mm)
        first = np.where(pd_now & np.isinf(first), days[j], first)
        low = np.minimum(low, x)
    return first


def recist_progression(
    days: np.ndarray,
    sums_mm: np.ndarray,
    *,
    origin_day: float,
    nadir_mm: float | np.ndarray,
    window_days: float = 180.0,
    rise_fraction: float = 0.20,
    min_increase_mm: float = 5.0,
) -> np.ndarray:
    """RECIST 1.1 progression within a window after an origin, on observed or sampled paths.

    Parameters
    ----------
    days : ndarray, shape (m,)
        Days of the readings after the origin (increasing).
    sums_mm : ndarray, shape (..., m)
        Sums of diameters (mm) at those days; leading axes are sample paths.
    origin_day : float
        Forecast origin (days).
    nadir_mm : float or ndarray
        Smallest sum up to the origin, the baseline included (mm).
    window_days : float
        Progression counts when its reading lies in ``(origin_day, origin_day +
        window_days]``.
    rise_fraction, min_increase_mm : float
        As in :func:`recist_first_progression`.

    Returns
    -------
    ndarray, shape (...)
        1.0 progression within the window, 0.0 none.

    Examples
    --------
    >>> recist_progression(np.array([30., 60.]), np.array([[11., 12.5], [11., 15.]]),
    ...                    origin_day=0.0, nadir_mm=10.0)
    array([0., 1.])
    """
    days = np.asarray(days, dtype=float)
    first = recist_first_progression(
        days, sums_mm, nadir_mm=nadir_mm, rise_fraction=rise_fraction,
        min_increase_mm=min_increase_mm,
    )  # fmt: skip
    return ((first > origin_day) & (first <= origin_day + window_days)).astype(float)


def recist_response(
    days: np.ndarray,
    sums_mm: np.ndarray,
    *,
    partial_fraction: float = 0.30,
    rise_fraction: float = 0.20,
    min_increase_mm: float = 5.0,
) -> pd.DataFrame:
    """RECIST 1.1 time-point response of each reading of one series.

    Parameters
    ----------
    days : ndarray, shape (m,)
        Days of the readings; the first is the baseline.
    sums_mm : ndarray, shape (m,)
        Sums of target-lesion diameters (mm).
    partial_fraction : float
        Decrease from baseline for PR (RECIST 1.1: 30 %).
    rise_fraction, min_increase_mm : float
        Progression rule (see the module docstring).

    Returns
    -------
    DataFrame
        One row per reading: ``day``, ``sum_mm``, ``nadir_mm`` (smallest sum before the
        reading, the baseline included; ``nan`` at the baseline), ``change_from_baseline``
        and ``change_from_nadir`` (fractions), ``category`` (``baseline``, ``CR``, ``PR``,
        ``SD`` or ``PD``); ``attrs["best_response"]`` is the best category before the first
        PD (CR > PR > SD), or ``PD`` when the first assessment is PD (no confirmation
        applied).

    Examples
    --------
    >>> recist_response(np.array([0., 42., 84.]), np.array([40., 26., 32.]))["category"].tolist()
    ['baseline', 'PR', 'PD']
    """
    days = np.asarray(days, dtype=float)
    sums = np.asarray(sums_mm, dtype=float)
    _check(days, sums)
    if sums.ndim != 1 or sums.size < 1:
        raise InputError("one series of at least one reading expected", field="sums")
    base = sums[0]
    nadir = np.concatenate([[np.nan], np.minimum.accumulate(sums)[:-1]])
    cats = ["baseline"]
    for j in range(1, len(sums)):
        x, low = sums[j], nadir[j]
        if x >= (1.0 + rise_fraction) * low and x - low >= min_increase_mm:
            cats.append("PD")
        elif x == 0.0:
            cats.append("CR")
        elif base > 0 and x <= (1.0 - partial_fraction) * base:
            cats.append("PR")
        else:
            cats.append("SD")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame(
            {
                "day": days,
                "sum_mm": sums,
                "nadir_mm": nadir,
                "change_from_baseline": (sums - base) / base if base > 0 else np.nan,
                "change_from_nadir": (sums - nadir) / nadir,
                "category": cats,
            }
        )
    best = "NE"
    for c in cats[1:]:
        if c == "PD":
            best = "PD" if best == "NE" else best
            break
        if best == "NE" or ["CR", "PR", "SD"].index(c) < ["CR", "PR", "SD"].index(best):
            best = c
    out.attrs["best_response"] = best
    return out
