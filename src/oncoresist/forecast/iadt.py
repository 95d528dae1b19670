"""Simulated intermittent androgen deprivation cohorts: truth from another model family.

The PSA forecaster fits the Zhang 2022 competition model. Checking it only on patients
simulated from that same model says nothing about a cohort whose biology differs. This
module simulates patients under intermittent androgen deprivation (IAD) from a different
family, in the spirit of Ideta et al. 2008 and Hirata et al. 2010: androgen-dependent
cells ``D`` that die on treatment and regrow off it, androgen-independent cells ``I``
that grow regardless and arise from ``D`` by adaptation while androgen is suppressed,
and PSA produced by both with a serum half-life::

    on:   dD/dt = -d D - m D          dI/dt = g_I I + m D
    off:  dD/dt = g_D D (1 - (D + I) / K)            dI/dt = g_I I
    dP/dt = c_D D + c_I I - k P                      (PSA, ng/mL)

The protocol is the one of Bruchovsky et al. 2006 / Crook et al. 2012 (NEJM 367:895):
treatment for 36 weeks; a holiday starts at the end of a course if PSA is below 4 ng/mL,
and treatment resumes when PSA reaches 10 ng/mL. Readings every 4 weeks (with a few days'
jitter) carry log-normal error and a lower limit of quantification (default 0.1 ng/mL:
readings below it are censored, written ``<0.1``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["simulate_iadt_cohort"]


def simulate_iadt_cohort(
    n_patients: int,
    *,
    years: float = 5.0,
    visit_interval_days: float = 28.0,
    jitter_days: int = 3,
    error_sd: float = 0.12,
    lloq: float = 0.1,
    course_days: float = 252.0,
    stop_below: float = 4.0,
    resume_at: float = 10.0,
    rng: np.random.Generator | int | None = None,
) -> pd.DataFrame:
    """Simulate PSA series of patients under intermittent androgen deprivation.

    Parameters
    ----------
    n_patients : int
    years : float
        Follow-up (years); a patient whose PSA rises on treatment (castration resistance)
        is followed for one more year, then stops.
    visit_interval_days : float
        Days between readings; ``jitter_days`` is added at random (+-).
    error_sd : float
        Error sd of natural-log PSA.
    lloq : float
        Lower limit of quantification (ng/mL).
    course_days, stop_below, resume_at : float
        The protocol: days per course, PSA (ng/mL) below which a holiday starts at the
        end of a course, PSA at which treatment resumes.
    rng : numpy.random.Generator, int or None

    Returns
    -------
    DataFrame
        ``patient_id``, ``day``, ``marker`` (``psa``), ``value`` (text: a number, or
        ``<LLOQ``), ``on_treatment`` (1 while treated in the interval from the reading),
        ``true_psa`` (noise-free, ng/mL).
    """
    rng = np.random.default_rng(rng)
    n = n_patients
    k_clear = np.log(2.0) / 3.0  # PSA serum half-life about 3 days
    d = np.exp(rng.normal(np.log(0.03), 0.35, n))  # death of D on treatment, per day
    g_d = np.exp(rng.normal(np.log(0.015), 0.35, n))  # regrowth of D off treatment
    g_i = np.exp(rng.normal(np.log(0.003), 0.5, n))  # growth of I
    m = np.exp(rng.normal(np.log(2e-5), 0.8, n))  # adaptation D -> I on treatment
    i0 = np.exp(rng.normal(np.log(1e-3), 1.0, n))  # initial I (share of capacity)
    psa0 = np.exp(rng.normal(np.log(15.0), 0.6, n))  # PSA at start (ng/mL)
    c_i = np.exp(rng.normal(np.log(0.5), 0.4, n))  # I produce less PSA per cell
    dd, ii = np.full(n, 0.6), i0.copy()
    c_d = psa0 * k_clear / (dd + c_i * ii)
    p = psa0.copy()
    on = np.ones(n, dtype=int)
    course_start = np.zeros(n)
    end = np.full(n, years * 365.0)
    rows = []
    day, next_visit = 0, np.zeros(n)
    horizon = int(years * 365.0 + 366)
    for day in range(horizon):
        visit = (np.abs(next_visit - day) < 0.5) & (day <= end)
        if visit.any():
            noisy = p * np.exp(error_sd * rng.standard_normal(n))
            # protocol decisions on the reading
            stop = (on == 1) & (day - course_start >= course_days - 1e-9) & (noisy < stop_below)
            resume = (on == 0) & (noisy >= resume_at)
            on = np.where(stop, 0, np.where(resume, 1, on))
            course_start = np.where(resume, day, course_start)
            resistant = (on == 1) & (day - course_start > 180) & (noisy > resume_at)
            end = np.where(resistant & (end > day + 365), day + 365.0, end)
            for i in np.flatnonzero(visit):
                text = f"<{lloq:g}" if noisy[i] < lloq else f"{noisy[i]:.3g}"
                rows.append((f"IAD{i:03d}", float(day), "psa", text, int(on[i]), float(p[i])))
            step = visit_interval_days + rng.integers(-jitter_days, jitter_days + 1, n)
            next_visit = np.where(visit, day + step, next_visit)
        # one day, ten Euler sub-steps (PSA clearance is fast)
        for _ in range(10):
            h = 0.1
            grow = g_d * dd * (1.0 - (dd + ii))
            d_dd = np.where(on == 1, -(d + m) * dd, grow)
            d_ii = g_i * ii * (1.0 - (dd + ii)) + np.where(on == 1, m * dd, 0.0)
            p = p + h * (c_d * dd + c_d * c_i * ii - k_clear * p)
            dd = np.maximum(dd + h * d_dd, 0.0)
            ii = np.maximum(ii + h * d_ii, 0.0)
    table = pd.DataFrame(
        rows, columns=["patient_id", "day", "marker", "value", "on_treatment", "true_psa"]
    )
    return table.sort_values(["patient_id", "day"], kind="stable").reset_index(drop=True)
