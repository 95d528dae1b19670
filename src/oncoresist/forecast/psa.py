"""PSA forecasts under abiraterone from a patient's own series, with a population prior.

The model is the two-population competition model of Zhang et al. 2022 (the
``LotkaVolterra`` family of :mod:`oncoresist.evolve.competition`), sensitive ``S`` and
resistant ``R`` cells in units of the shared carrying capacity ``K = 1``::

    dS/dt = r_S S (1 - (S + R) / (1 - delta u(t)))
    dR/dt = r_R R (1 - (alpha S + R))
    PSA(t) = PSA_0 (S(t) + R(t)) / (S_0 + R_0)         (ng/mL)

with ``u(t)`` = 1 while abiraterone is given (the schedule is a covariate: each reading's
``on_treatment`` holds until the next reading, as in the trial's coding) and ``delta`` the
fraction of the sensitive cells' niche the drug removes (Zhang: 0.95). Per-patient
parameters on an unconstrained scale: ``log PSA_0`` (ng/mL at the first reading),
``logit(S_0 + R_0)``, ``logit(R_0 / (S_0 + R_0))``, ``log r_S``, ``log r_R`` (per day),
``logit delta``; ``alpha`` is fixed (default Zhang's 6).

**Integrator.** Fitting needs the model at every reading of every patient for every
finite-difference perturbation, dozens of times per fit; stepping
:class:`~oncoresist.evolve.competition.LotkaVolterra` interval by interval would take
minutes. :func:`simulate_log_psa` therefore integrates all patients and perturbations at
once on a daily grid, each step split into an exact logistic (Bernoulli) update of ``S``
with ``R`` held and of ``R`` with ``S`` held: positive and stable for any rate, first
order in the step; the tests check it against ``LotkaVolterra`` (LSODA) to a stated
tolerance.

**Observation model.** ``log PSA`` (natural log) with Gaussian error ``sd = a``; a reading
below its lower limit of quantification (or 0, reported as "<LLOQ") is censored and
contributes ``P(log PSA < log LLOQ)`` (Tobit, Beal's M3).

**Population prior and posterior.** ``theta_i ~ N(mu, Omega)`` learnt from a reference
cohort by Laplace-EM, each patient's mode found by the vectorised Levenberg-Marquardt of
:mod:`oncoresist.forecast.population` (``_fit_map``), then each new patient's Laplace
posterior (mode and inverse Gauss-Newton Hessian) under that prior.

**Predictive** (linearised Laplace, jointly over a patient's future readings): the curve
at the mode under the given future schedule, the delta-method parameter covariance, a
Brownian model-discrepancy process on ``log PSA`` from the first reading conditioned on
the patient's residuals (so forecasts are anchored to the latest readings), and the
error. The discrepancy scale ``s``, a factor on the error variance and a spread factor
(80 % coverage) are calibrated in :meth:`PSAForecaster.fit` on the reference cohort's
**own rolling origins** (each switch of treatment, leave-one-out priors by downdating the
EM statistics, next-cycle readings): never on the patients being forecast.

**Progression** (:func:`pcwg3_progression`): PCWG3 PSA progression on treatment, a
reading taken after an interval on abiraterone that is >= 25 % and >= 2 ng/mL above the
nadir (the lowest such on-treatment reading so far, history included), confirmed by the
next on-treatment reading >= 21 days later; the probability of progression within 180
days is the share of joint predictive sample paths (at the future visit days) on which
the same rule fires with its first rise within 180 days of the origin.

References
----------
Zhang J, Cunningham J, Brown J, Gatenby R. eLife 2022;11:e76284. doi:10.7554/eLife.76284.
Scher HI et al. Trial design and objectives for castration-resistant prostate cancer:
updated recommendations from the Prostate Cancer Clinical Trials Working Group 3. J Clin
Oncol 2016;34:1402-1418 (PCWG3 PSA progression).
Brady-Nicholls R et al. Predicting patient-specific response to adaptive therapy in
metastatic castration-resistant prostate cancer using prostate-specific antigen dynamics.
Neoplasia 2021;23:851-858.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, log_ndtr, ndtri
from scipy.stats import t as student_t

from oncoresist._files import atomic_write
from oncoresist.errors import InputError
from oncoresist.evolve.zhang2022 import daily_schedule
from oncoresist.forecast._dask import map_fit
from oncoresist.forecast.backtest import censored_limit, cycle_origins, next_cycle_targets
from oncoresist.forecast.population import (
    QUANTILES,
    _Problem,
    _safe_inv,
    _Scale,
    _sub_jac,
)

if TYPE_CHECKING:
    from distributed import Client

PARAM_NAMES = ("log_psa0", "logit_burden0", "logit_resistant0", "log_r_s", "log_r_r", "logit_delta",
               "psa_suppression")  # fmt: skip
K = len(PARAM_NAMES)
#: Box of the unconstrained parameters (log PSA_0 is set relative to the first reading).
_BOX = np.array(
    [
        [-1.5, 1.5],  # log PSA_0 minus log of the first reading
        [-6.0, 4.0],  # logit (S0 + R0) / K
        [-14.0, 4.0],  # logit R0 / (S0 + R0)
        [np.log(2e-3), np.log(1.0)],  # log r_S per day
        [np.log(1e-4), np.log(0.5)],  # log r_R per day
        [-2.0, 10.0],  # logit delta
        [-1.0, 4.0],  # log of the fall in PSA per cell on treatment
    ]
)
_GUESS = np.array([0.0, 0.0, -4.0, np.log(0.08), np.log(0.01), 5.0, 0.3])
#: Rate (per day) at which PSA production per cell follows a change of treatment
#: (half-life 7 days).
SUPPRESSION_RATE = np.log(2.0) / 7.0
STRATEGIES = ("continue", "stop", "adaptive", "adaptive_25", "intermittent")
#: Fewest readings, some on treatment, for a patient's forecast to be shown.
MIN_READINGS = 4
_FORMAT = "oncoresist.forecast.psa/3"
_FORMATS = ("oncoresist.forecast.psa/2", _FORMAT)  # /2: no segment part
_HYPER = ("alpha", "steps_per_day", "prior", "calibrate", "min_readings", "window_days",
          "confirm_days", "max_horizon_days", "n_samples", "max_iter", "suppression")  # fmt: skip
_FITTED = ("error_sd_", "discrepancy_", "noise_factor_", "spread_", "tail_df_", "trend_ratio_",
           "segment_weight_", "segment_scale_")  # fmt: skip
_LOG10 = np.log(10.0)
#: Range of sampled natural-log PSA (1e-6 to 1e6 ng/mL): heavy-tailed draws stay finite.
_LOG_PSA_RANGE = (np.log(1e-6), np.log(1e6))


# ---------------------------------------------------------------------------- dynamics
def _bernoulli(x: np.ndarray, a: np.ndarray, b: np.ndarray, h: float) -> np.ndarray:
    """Exact solution after ``h`` days of ``dx/dt = x (a - b x)`` (logistic, fixed a, b)."""
    a_safe = np.where(np.abs(a) < 1e-12, 1e-12, a)
    grow = np.expm1(a_safe * h)
    return x * (1.0 + grow) / (1.0 + b * x * grow / a_safe)


def _unpack(theta: np.ndarray) -> tuple[np.ndarray, ...]:
    burden = expit(theta[..., 1])
    frac = expit(theta[..., 2])
    return (
        burden * (1.0 - frac),
        burden * frac,
        np.exp(theta[..., 3]),
        np.exp(theta[..., 4]),
        expit(theta[..., 5]),
        theta[..., 6],
    )


def suppression_grid(schedule: np.ndarray) -> np.ndarray:
    """Share of the on-treatment fall in PSA production per cell, daily, per patient.

    Follows the schedule with first-order kinetics (:data:`SUPPRESSION_RATE`) from 0 (off
    treatment before day 0); ``schedule (P, D)`` -> ``(P, D + 1)``.
    """
    u = np.asarray(schedule, dtype=float)
    keep = np.exp(-SUPPRESSION_RATE)
    out = np.zeros((u.shape[0], u.shape[1] + 1))
    for d in range(u.shape[1]):
        out[:, d + 1] = u[:, d] + (out[:, d] - u[:, d]) * keep
    return out


def simulate_log_psa(
    theta: np.ndarray,
    schedule: np.ndarray,
    *,
    alpha: float = 6.0,
    steps_per_day: int = 1,
) -> np.ndarray:
    """Natural-log PSA on a daily grid for many patients and parameter vectors at once.

    Parameters
    ----------
    theta : ndarray, shape (..., P, 7)
        Unconstrained parameters (:data:`PARAM_NAMES`); ``theta[..., 0]`` is log PSA
        (ng/mL) at day 0 of each patient's grid.
    schedule : ndarray of {0, 1}, shape (P, D)
        Abiraterone during day ``d`` to ``d + 1`` of each patient's grid.
    alpha : float
        Competition of sensitive on resistant cells.
    steps_per_day : int
        Split steps per day.

    Returns
    -------
    ndarray, shape (..., P, D + 1)
        log PSA at days 0 .. D of each patient's grid.

    Examples
    --------
    >>> theta = np.array([[np.log(10.0), 0.0, -4.0, np.log(0.05), np.log(0.01), 3.0, 0.5]])
    >>> out = simulate_log_psa(theta, np.ones((1, 60), dtype=np.int8))
    >>> bool(out[0, -1] < out[0, 0])
    True
    """
    theta = np.asarray(theta, dtype=float)
    u = np.asarray(schedule)
    s, r, r_s, r_r, delta, gamma = _unpack(theta)
    total0 = s + r
    h = 1.0 / steps_per_day
    n_days = u.shape[-1]
    supp = gamma[..., None] * suppression_grid(u)
    out = np.empty((*theta.shape[:-1], n_days + 1))
    out[..., 0] = s + r
    cap_on = np.maximum(1.0 - delta, 1e-9)
    bs_on, bs_off = r_s / cap_on, r_s
    for d in range(n_days):
        on = u[:, d].astype(bool)
        cap = np.where(on, cap_on, 1.0)
        b_s = np.where(on, bs_on, bs_off)
        for _ in range(steps_per_day):
            s = _bernoulli(s, r_s * (1.0 - r / cap), b_s, h)
            r = _bernoulli(r, r_r * (1.0 - alpha * s), r_r, h)
        out[..., d + 1] = s + r
    return theta[..., 0, None] + np.log(np.maximum(out, 1e-300) / total0[..., None]) - supp


def _read(log_grid: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``(..., P, D + 1)`` grid values at days ``tau (P, M)``."""
    n_days = log_grid.shape[-1] - 1
    lo = np.clip(np.floor(tau).astype(int), 0, max(n_days - 1, 0))
    w = np.clip(tau - lo, 0.0, 1.0)
    lo_b = np.broadcast_to(lo, log_grid.shape[:-1] + lo.shape[-1:])
    hi_b = np.minimum(lo_b + 1, n_days)
    g0 = np.take_along_axis(log_grid, lo_b, axis=-1)
    g1 = np.take_along_axis(log_grid, hi_b, axis=-1)
    return (1.0 - w) * g0 + w * g1


# ---------------------------------------------------------------------------- data
def zhang2022_table(trial: pd.DataFrame) -> pd.DataFrame:
    """The Zhang 2022 trial table (``read_trial_psa``) as the long table this module takes.

    Returns
    -------
    DataFrame
        ``patient_id``, ``day`` (days), ``value`` (PSA, ng/mL), ``on_treatment`` (0/1),
        ``arm``.
    """
    return pd.DataFrame(
        {
            "patient_id": trial["patient"].to_numpy(),
            "day": trial["day"].to_numpy(dtype=float),
            "value": trial["psa"].to_numpy(dtype=float),
            "on_treatment": trial["abi_on"].to_numpy().astype(int),
            "arm": trial["arm"].to_numpy() if "arm" in trial else "",
        }
    )


def check_psa_table(
    table: pd.DataFrame, *, min_readings: int = 2, source: str | None = None
) -> pd.DataFrame:
    """Validate a long PSA table and return it typed.

    Parameters
    ----------
    table : DataFrame
        ``patient_id``, ``day`` (days), ``value`` (PSA, ng/mL; 0 or missing with a limit
        means "below the limit of quantification"), ``on_treatment`` (0/1: abiraterone in
        the interval that starts at the reading), optional
        ``lower_limit_of_quantification`` (ng/mL).
    min_readings : int
        Fewest readings per patient.
    source : str, optional
        File name for messages.

    Raises
    ------
    InputError
        Located (1-based CSV line = data row + 1): a missing column, a day or value that is
        not a finite number, a negative value, a value of 0 without a limit, an
        ``on_treatment`` not 0 or 1, days not increasing within a patient, too few
        readings.
    """
    need = ("patient_id", "day", "value", "on_treatment")
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; expected {', '.join(need)}",
            file=source,
            field=missing[0],
        )
    out = table.reset_index(drop=True).copy()
    line = np.arange(len(out)) + 2
    for col in ("day", "on_treatment"):
        v = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(v)
        if col == "on_treatment":
            bad |= ~np.isin(v, (0.0, 1.0))
        if bad.any():
            i = int(np.argmax(bad))
            what = "0 or 1" if col == "on_treatment" else "a finite number of days"
            raise InputError(
                f"{out[col].iloc[i]!r} is not {what}", file=source, record=int(line[i]), field=col
            )
        out[col] = v if col == "day" else v.astype(int)
    lloq = (
        pd.to_numeric(out["lower_limit_of_quantification"], errors="coerce").to_numpy(dtype=float)
        if "lower_limit_of_quantification" in out
        else np.full(len(out), np.nan)
    )
    val = pd.to_numeric(out["value"], errors="coerce").to_numpy(dtype=float)
    bad = np.isinf(val) | (val < 0) | ((np.isnan(val) | (val == 0)) & ~np.isfinite(lloq))
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(
            f"PSA {out['value'].iloc[i]!r} is not a value > 0 in ng/mL (0 or missing needs a "
            "lower_limit_of_quantification)",
            file=source,
            record=int(line[i]),
            field="value",
        )
    out["value"] = np.where(np.isnan(val), 0.0, val)
    out["lower_limit_of_quantification"] = lloq
    for pid, g in out.groupby("patient_id", sort=False):
        idx = g.index.to_numpy()
        if len(g) < min_readings:
            raise InputError(
                f"patient {pid!r} has {len(g)} reading(s); at least {min_readings} needed",
                file=source,
                record=int(line[idx[0]]),
                field="patient_id",
            )
        back = np.flatnonzero(np.diff(g["day"].to_numpy()) <= 0)
        if back.size:
            k = idx[back[0] + 1]
            raise InputError(
                f"days of patient {pid!r} must increase ({out['day'].iloc[k - 1]:g} then "
                f"{out['day'].iloc[k]:g}); sort the readings by day",
                file=source,
                record=int(line[k]),
                field="day",
            )
    return out


@dataclass
class _Rows:
    """Padded arrays of fitting rows (a patient cut at an origin, or a whole series)."""

    ids: np.ndarray
    origin: np.ndarray  # absolute day of the last reading used
    t_first: np.ndarray
    tau: np.ndarray  # (P, M) days since the first reading; padding repeats the last
    z: np.ndarray  # log PSA
    obs: np.ndarray
    cens: np.ndarray
    zlloq: np.ndarray
    visits: list[tuple[np.ndarray, np.ndarray]]  # (tau, on) of the whole known schedule
    first_psa: np.ndarray

    def schedule(self, n_days: int) -> np.ndarray:
        """Daily abiraterone of every row over ``n_days`` days of its grid."""
        u = np.zeros((len(self.ids), n_days), dtype=np.int8)
        if n_days == 0:
            return u
        for i, (tau, on) in enumerate(self.visits):
            days = np.concatenate([tau, [max(n_days, tau[-1] + 1.0)]])
            status = np.concatenate([on, on[-1:]])
            u[i] = daily_schedule(days, status)[:n_days]
        return u


def _make_rows(
    table: pd.DataFrame,
    pairs: list[tuple[object, float | None]],
    future: dict[tuple[object, float], tuple[np.ndarray, np.ndarray]] | None = None,
) -> _Rows:
    """Rows for (patient, origin day) pairs; ``None`` uses the whole series.

    The schedule of a row is the patient's recorded one (all visits) unless ``future``
    gives, for that pair, absolute change-point days and statuses after the origin.
    """
    groups = {pid: g for pid, g in table.groupby("patient_id", sort=False)}
    n = len(pairs)
    cuts = []
    for pid, origin in pairs:
        g = groups[pid]
        keep = g if origin is None else g[g["day"] <= origin + 1e-9]
        cuts.append((g, keep))
    width = max(len(k) for _, k in cuts)
    tau = np.zeros((n, width))
    z = np.zeros((n, width))
    obs = np.zeros((n, width), dtype=bool)
    cens = np.zeros((n, width), dtype=bool)
    zl = np.zeros((n, width))
    visits, t_first, origin_out, first = [], np.zeros(n), np.zeros(n), np.zeros(n)
    for i, ((pid, origin), (g, keep)) in enumerate(zip(pairs, cuts, strict=True)):
        d = keep["day"].to_numpy(dtype=float)
        v = keep["value"].to_numpy(dtype=float)
        lim = keep["lower_limit_of_quantification"].to_numpy(dtype=float)
        m = len(d)
        t_first[i] = d[0]
        origin_out[i] = d[-1]
        tau[i, :m] = d - d[0]
        tau[i, m:] = d[-1] - d[0]
        c = np.isfinite(lim) & (v < lim)
        z[i, :m] = np.log(np.where(c | (v <= 0), np.nan_to_num(lim, nan=1.0), v))
        obs[i, :m] = ~c
        cens[i, :m] = c
        zl[i, :m] = np.log(np.where(np.isfinite(lim), lim, 1.0))
        pos = v[~c & (v > 0)]
        first[i] = pos[0] if pos.size else float(np.nanmax(lim))
        all_d = g["day"].to_numpy(dtype=float)
        all_on = g["on_treatment"].to_numpy(dtype=int)
        key = (pid, origin)
        if future is not None and key in future:
            past = all_d <= d[-1] + 1e-9
            f_d, f_on = future[key]
            vd = np.concatenate([all_d[past], np.asarray(f_d, float)])
            von = np.concatenate([all_on[past], np.asarray(f_on, int)])
        else:
            vd, von = all_d, all_on
        visits.append((vd - d[0], von))
    ids = np.array([p for p, _ in pairs], dtype=object)
    return _Rows(ids, origin_out, t_first, tau, z, obs, cens, zl, visits, first)


def _initial_guess(rows: _Rows, box: np.ndarray = _BOX) -> np.ndarray:
    """Data-driven Levenberg-Marquardt starts (not a prior).

    Capacity above the highest reading, the drug's floor near the lowest on-treatment
    reading, the sensitive growth rate from the steepest rise off treatment.
    """
    out = np.tile(_GUESS, (len(rows.ids), 1))
    for i, (vt, von) in enumerate(rows.visits):
        o = rows.obs[i]
        tau, z = rows.tau[i][o], rows.z[i][o]
        if z.size < 2:
            continue
        top = z.max() + np.log(1.2)
        burden = np.clip(np.exp(z[0] - top), 0.01, 0.95)
        out[i, 1] = np.log(burden / (1 - burden))
        status = von[np.clip(np.searchsorted(vt, tau[:-1] + 1e-9, side="right") - 1, 0, None)]
        dt = np.maximum(np.diff(tau), 1.0)
        slope = np.diff(z) / dt
        rising = slope[status == 0]
        if rising.size and rising.max() > 0:
            out[i, 3] = np.log(np.clip(1.3 * rising.max(), 0.005, 0.5))
        on_vals = z[1:][status == 1]
        if on_vals.size:
            floor = np.clip(np.exp(on_vals.min() - top), 1e-4, 0.5)
            out[i, 5] = np.log((1 - floor) / floor)
    return np.clip(out, box[:, 0], box[:, 1])


@dataclass
class _PSAProblem(_Problem):
    """The likelihood of :mod:`population` with the schedule as a covariate."""

    u: np.ndarray | None = None
    alpha: float = 6.0
    steps: int = 1
    offset: np.ndarray | None = None  # log of each row's first reading

    def subset(self, idx: np.ndarray) -> _PSAProblem:
        # the active rows may need a shorter grid than the whole batch
        n_days = min(int(np.ceil(self.t[idx].max())) + 1, self.u.shape[1])
        return replace(
            self,
            t=self.t[idx],
            z=self.z[idx],
            obs=self.obs[idx],
            cens=self.cens[idx],
            zlloq=self.zlloq[idx],
            u=self.u[idx, :n_days],
            offset=self.offset[idx],
        )

    def curve(self, theta: np.ndarray) -> np.ndarray:
        th = theta.copy()
        th[..., 0] = th[..., 0] + self.offset
        grid = simulate_log_psa(th, self.u, alpha=self.alpha, steps_per_day=self.steps)
        return _read(grid, self.t)

    def residuals(self, theta: np.ndarray) -> np.ndarray:
        gf = self.curve(theta)
        r_obs = np.where(self.obs, (self.z - gf) / self.a, 0.0)
        zc = (self.zlloq - gf) / self.a
        r_cens = np.where(self.cens, np.sqrt(np.maximum(-2.0 * log_ndtr(zc), 0.0)), 0.0)
        return r_obs + r_cens


# ---------------------------------------------------------------------------- progression
def pcwg3_progression(
    days: np.ndarray,
    psa: np.ndarray,
    on_before: np.ndarray,
    *,
    origin_day: float,
    nadir: float,
    window_days: float = 180.0,
    confirm_days: float = 21.0,
    rise_fraction: float = 0.25,
    rise_ng_ml: float = 2.0,
) -> np.ndarray:
    """PCWG3 PSA progression within a window after an origin, on observed or sampled paths.

    Parameters
    ----------
    days : ndarray, shape (m,)
        Days of the readings after the origin (increasing).
    psa : ndarray, shape (..., m)
        PSA (ng/mL) at those days; leading axes are sample paths.
    on_before : ndarray of bool, shape (m,)
        Whether the interval leading to each reading was on abiraterone (only such
        readings count, as PCWG3 judges progression on treatment).
    origin_day : float
        Forecast origin (days).
    nadir : float
        Lowest on-treatment PSA up to the origin (ng/mL; ``inf`` if none yet).
    window_days : float
        The first rise must lie in ``(origin_day, origin_day + window_days]``.
    confirm_days : float
        The confirming reading is the next on-treatment reading at least this many days
        after the rise.
    rise_fraction, rise_ng_ml : float
        A rise is ``>= (1 + rise_fraction) nadir`` and ``>= nadir + rise_ng_ml``.

    Returns
    -------
    ndarray, shape (...)
        1.0 progression, 0.0 none, ``nan`` when a rise in the window has no later reading
        to confirm it (and nothing was confirmed before).

    Examples
    --------
    >>> pcwg3_progression(np.array([30., 60., 90.]), np.array([1.0, 4.0, 5.0]),
    ...                   np.array([True, True, True]), origin_day=0.0, nadir=1.5)
    array(1.)
    """
    days = np.asarray(days, dtype=float)
    psa = np.asarray(psa, dtype=float)
    on_before = np.asarray(on_before, dtype=bool)
    lead = psa.shape[:-1]
    low = np.full(lead, float(nadir))
    event = np.zeros(lead)
    decided = np.zeros(lead, dtype=bool)
    pending = np.zeros(lead, dtype=bool)
    for j in range(len(days)):
        if not on_before[j]:
            continue
        if days[j] > origin_day + window_days:
            break
        pj = psa[..., j]
        meets = (pj >= (1.0 + rise_fraction) * low) & (pj >= low + rise_ng_ml)
        later = np.flatnonzero((days >= days[j] + confirm_days) & on_before)
        if later.size:
            pk = psa[..., later[0]]
            conf = (pk >= (1.0 + rise_fraction) * low) & (pk >= low + rise_ng_ml)
            new = meets & conf & ~decided
            event = np.where(new, 1.0, event)
            decided |= new
        else:
            pending |= meets & ~decided
        low = np.minimum(low, pj)
    return np.where(decided, 1.0, np.where(pending, np.nan, 0.0))


def _observed_event(
    g: pd.DataFrame,
    origin_day: float,
    window_days: float,
    confirm_days: float,
    *,
    full_window: bool = True,
) -> tuple[float, float]:
    """(event within the window or nan if not evaluable, nadir at the origin).

    With ``full_window`` no event is only evaluable when the follow-up covers the window.
    """
    d = g["day"].to_numpy(dtype=float)
    v = g["value"].to_numpy(dtype=float)
    on = g["on_treatment"].to_numpy(dtype=int)
    on_before = np.concatenate([[False], on[:-1] == 1])
    past = d <= origin_day + 1e-9
    hist = v[past & on_before]
    nadir = float(hist.min()) if hist.size else np.inf
    fut = ~past
    ev = float(
        pcwg3_progression(
            d[fut], v[fut], on_before[fut], origin_day=origin_day, nadir=nadir,
            window_days=window_days, confirm_days=confirm_days,
        )
    )  # fmt: skip
    if full_window and ev == 0.0 and (d[-1] < origin_day + window_days):
        ev = np.nan  # follow-up shorter than the window and no event seen
    return ev, nadir


# ---------------------------------------------------------------------------- estimator
def _finite_or_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


#: Candidate ratios (per day^2) of an integrated-Brownian (trend) part to the Brownian
#: discrepancy, chosen in calibration by the log score.
TREND_RATIOS = (0.0, 1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)


def _kernel(a: np.ndarray, b: np.ndarray, rho: float) -> np.ndarray:
    """Brownian ``min(a, b)`` plus ``rho`` x integrated Brownian motion (days)."""
    lo = np.minimum(a, b)
    if not rho:
        return lo
    return lo + rho * lo**2 * (3.0 * np.maximum(a, b) - lo) / 6.0


#: Candidate weights (days, in units of the Brownian variance) and decay scales (days) of
#: the segment part of the discrepancy, chosen in calibration by the log score.
SEGMENT_WEIGHTS = (0.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0)
SEGMENT_SCALES = (30.0, 90.0)

#: Kind of a target whose treatment segment is not known (strategy paths).
UNKNOWN_SEGMENT = -1


def segment_phase(
    visits: tuple[np.ndarray, np.ndarray], tau: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Days since the current on- or off-treatment segment began, and its kind.

    Parameters
    ----------
    visits
        ``(tau, on)``: visit days (days since the first reading) and the status set at each
        (it holds until the next visit).
    tau
        Days since the first reading.

    Returns
    -------
    phase : ndarray of float
        Days since the segment containing ``tau`` began (its first visit).
    kind : ndarray of int
        1 on treatment, 0 off.
    """
    days, on = np.asarray(visits[0], dtype=float), np.asarray(visits[1]) > 0
    change = np.r_[True, on[1:] != on[:-1]]
    starts, kinds = days[change], on[change]
    k = np.maximum(np.searchsorted(starts, tau, side="right") - 1, 0)
    return tau - starts[k], kinds[k].astype(int)


def _segment_kernel(
    pa: np.ndarray, ka: np.ndarray, pb: np.ndarray, kb: np.ndarray, scale: float
) -> np.ndarray:
    """``exp(-|pa - pb| / scale)`` between times in segments of the same kind, else 0.

    The model's error at a given point of an on- (or off-) treatment segment resembles its
    error at the same point of the patient's other segments of that kind: each cycle of
    intermittent therapy repeats the shape of the last. Targets of unknown kind correlate
    only among themselves.
    """
    return np.where(ka == kb, np.exp(-np.abs(pa - pb) / scale), 0.0)


def tail_df(u: np.ndarray, *, level: float = 0.95, min_df: float = 1.5) -> float:
    """Degrees of freedom of a Student t whose central ``level`` interval covers ``u``.

    ``u`` are absolute standardised forecast errors whose 80 % interval is already
    calibrated (``|u| <= 1.2816`` for 80 % of them). The t with the same 80 % half-width
    and the empirical ``level`` quantile of ``u`` is chosen; errors no heavier than
    Gaussian give ``inf`` (the Gaussian is never narrowed).

    Parameters
    ----------
    u : ndarray
        Absolute standardised errors.
    level : float
        Central interval to match.
    min_df : float
        Heaviest tail allowed.

    Returns
    -------
    float
    """
    u = np.asarray(u, dtype=float)
    u = u[np.isfinite(u)]
    if u.size < 20:
        return float(np.inf)
    p = 0.5 + level / 2.0
    want = float(np.quantile(u, level)) / ndtri(0.9)

    def ratio(df: float) -> float:
        return float(student_t.ppf(p, df) / student_t.ppf(0.9, df))

    if want <= ndtri(p) / ndtri(0.9):
        return float(np.inf)
    if want >= ratio(min_df):
        return float(min_df)
    lo, hi = np.log(min_df), np.log(1e4)
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ratio(float(np.exp(mid))) > want else (lo, mid)
    return float(np.exp(hi))


def readiness(patient: pd.DataFrame) -> str | None:
    """Say what is missing for a patient's PSA forecast, or ``None`` when it can be made.

    A forecast fits the patient's response to treatment, so it needs at least
    :data:`MIN_READINGS` readings and a reading taken after an interval on treatment (the
    first reading of a series that starts on drug is its baseline: the start of treatment
    is the change the fit sees).

    Parameters
    ----------
    patient : DataFrame
        One patient's readings: ``day``, ``value`` and ``on_treatment``.

    Returns
    -------
    str or None
        A sentence naming what is missing.
    """
    n = len(patient)
    on = patient["on_treatment"].to_numpy(dtype=int) if n else np.zeros(0, dtype=int)
    missing = []
    if n < MIN_READINGS:
        missing.append(f"{n} PSA reading{'s' if n != 1 else ''} (at least {MIN_READINGS} needed)")
    if n and not on[:-1].any():
        # the interval after the last reading is not yet observed
        missing.append("no reading after a start of treatment (nothing shows the response)")
    if missing:
        return "no forecast: " + "; ".join(missing) + "."
    return None


@dataclass(frozen=True)
class PSAPosterior:
    """Laplace posteriors of rows (patients cut at origins).

    Attributes
    ----------
    ids : ndarray, shape (P,)
    origin_day : ndarray, shape (P,)
        Day of each row's last reading used (days).
    theta : ndarray, shape (P, K)
        Modes (:data:`PARAM_NAMES`, ``log_psa0`` relative to the first reading).
    cov : ndarray, shape (P, K, K)
        Laplace covariances.
    """

    ids: np.ndarray
    origin_day: np.ndarray
    theta: np.ndarray
    cov: np.ndarray
    rows: _Rows
    resid: np.ndarray  # (P, M) log PSA residuals at the mode (0 where unused)


class PSAForecaster:
    """Population-prior forecasts of PSA under an abiraterone schedule (see the module).

    Parameters
    ----------
    alpha : float
        Competition of sensitive on resistant cells (Zhang 2022: 6).
    steps_per_day : int
        Integrator steps per day.
    prior : {"population", "weak"}
        Learn ``N(mu, Omega)`` from the cohort or keep a weak fixed prior.
    calibrate : bool
        Calibrate the discrepancy, noise factor and spread on the cohort's rolling origins.
    min_readings : int
        Readings up to an origin for it to be used (calibration, backtests).
    window_days, confirm_days : float
        Progression window and PCWG3 confirmation interval (days).
    max_horizon_days : float
        Furthest target day after an origin in calibration and backtests.
    n_samples : int
        Joint predictive draws per origin.
    max_iter : int
        Most EM iterations.
    suppression : bool
        Fit the fall in PSA per cell on treatment (``psa_suppression``, with a 7-day
        half-life: androgen-driven PSA expression follows the drug before the cells do).
        Default ``False`` holds it at 0 (PSA proportional to the cells, as in Zhang 2022):
        on the Zhang trial it did not help out of sample (``docs/forecast.md``).

    Attributes
    ----------
    mu_, omega_ : ndarray
        Population mean (K,) and covariance (K, K) of the unconstrained parameters.
    error_sd_ : float
        ``a``, error sd of natural-log PSA.
    discrepancy_ : float
        ``s``, Brownian discrepancy scale (log PSA per sqrt(day)).
    noise_factor_, spread_ : float
        Calibrated factors on the error variance and on the predictive sd.
    tail_df_ : float
        Degrees of freedom of the Student t predictive (``inf``: Gaussian), chosen so that
        the cohort's 95 % intervals cover as the 80 % ones do (:func:`tail_df`).

    Examples
    --------
    >>> sim = simulate_cohort(12, rng=1)
    >>> fc = PSAForecaster(max_iter=3, calibrate=False).fit(sim.table)
    >>> fc.mu_.shape
    (7,)
    """

    def __init__(
        self,
        *,
        alpha: float = 6.0,
        steps_per_day: int = 1,
        prior: Literal["population", "weak"] = "population",
        calibrate: bool = True,
        min_readings: int = 3,
        window_days: float = 180.0,
        confirm_days: float = 21.0,
        max_horizon_days: float = 365.0,
        n_samples: int = 400,
        max_iter: int = 15,
        suppression: bool = False,
    ) -> None:
        self.alpha = alpha
        self.steps_per_day = steps_per_day
        self.prior = prior
        self.calibrate = calibrate
        self.min_readings = min_readings
        self.window_days = window_days
        self.confirm_days = confirm_days
        self.max_horizon_days = max_horizon_days
        self.n_samples = n_samples
        self.max_iter = max_iter
        self.suppression = suppression

    # ------------------------------------------------------------------ likelihood
    def _problem(self, rows: _Rows, a: float) -> _PSAProblem:
        n_days = int(np.ceil(rows.tau.max())) + 1
        return _PSAProblem(
            None, _Scale(0.0), rows.tau, rows.z, rows.obs, rows.cens, rows.zlloq, a, 0.0,
            u=rows.schedule(n_days), alpha=self.alpha, steps=self.steps_per_day,
            offset=np.log(rows.first_psa),
        )  # fmt: skip

    def _box(self) -> np.ndarray:
        """Bounds of the parameters; without ``suppression`` its parameter is held at 0."""
        box = _BOX.copy()
        if not self.suppression:
            box[6] = 0.0
        return box

    def _weak(self) -> tuple[np.ndarray, np.ndarray]:
        box = self._box()
        width = np.maximum(np.diff(box, axis=1)[:, 0], 0.4)
        return np.clip(_GUESS, box[:, 0], box[:, 1]), np.diag((width / 4.0) ** 2)

    def fit(self, table: pd.DataFrame, *, client: Client | str | None = None) -> PSAForecaster:
        """Learn the population prior and error from a cohort, then calibrate.

        Parameters
        ----------
        table : DataFrame
            Reference cohort (see :func:`check_psa_table`).
        client : distributed.Client or str, optional
            Fit the patients' modes on this Dask cluster (or scheduler address), in chunks
            of patients (:func:`~oncoresist.forecast._dask.map_fit`); same numbers.

        Returns
        -------
        self
        """
        if self.prior not in ("population", "weak"):
            raise InputError(
                f"prior={self.prior!r}; expected 'population' or 'weak'", field="prior"
            )
        table = check_psa_table(table, min_readings=2)
        self.table_ = table
        rows = _make_rows(table, [(p, None) for p in table["patient_id"].unique()])
        prob = self._problem(rows, 0.3)
        mu, omega = self._weak()
        box = self._box()
        theta = _initial_guess(rows, box)
        for it in range(1, self.max_iter + 1):
            theta, hess, _ = map_fit(
                prob, theta, mu, _safe_inv(omega), box, max_iter=10, client=client
            )
            cov = _safe_inv(hess)
            old = (mu.copy(), omega.copy(), prob.a)
            r = prob.residuals(theta)
            jj = _sub_jac(prob, theta, r)
            var = np.einsum("pmi,pij,pmj->pm", jj, cov, jj) * prob.a**2
            prob.a = float(
                np.sqrt(np.sum(np.where(prob.obs, (r * prob.a) ** 2 + var, 0.0)) / prob.obs.sum())
            )
            prob.a = max(prob.a, 0.02)
            if self.prior == "weak":
                if it >= 3:
                    break
                continue
            mu = theta.mean(axis=0)
            d = theta - mu
            omega = (d.T @ d + cov.sum(axis=0)) / len(theta)
            omega = 0.5 * (omega + omega.T) + 1e-6 * np.eye(K)
            moved = max(
                np.max(np.abs(mu - old[0])),
                np.max(np.abs(omega - old[1])) / np.max(np.abs(old[1])),
                abs(prob.a - old[2]) / old[2],
            )
            if it > 2 and moved < 2e-3:
                break
        theta, hess, _ = map_fit(prob, theta, mu, _safe_inv(omega), box, max_iter=60, client=client)
        cov = _safe_inv(hess)
        self.mu_, self.omega_, self.error_sd_ = mu, omega, prob.a
        self.n_iter_ = it
        self.patient_theta_ = theta
        self.patient_cov_ = cov
        self._moments = (theta.sum(axis=0), (theta[:, :, None] * theta[:, None, :] + cov).sum(0))
        self.patient_ids_ = rows.ids
        self.discrepancy_, self.noise_factor_, self.spread_ = 0.0, 1.0, 1.0
        self.tail_df_ = np.inf
        self.trend_ratio_ = 0.0
        self.segment_weight_, self.segment_scale_ = 0.0, SEGMENT_SCALES[0]
        if self.calibrate:
            self._calibrate(table, client=client)
        return self

    def loo_priors(self) -> tuple[np.ndarray, np.ndarray]:
        """Leave-one-out priors of the cohort patients (EM statistics downdated).

        Returns
        -------
        mu : ndarray, shape (P, K)
        omega : ndarray, shape (P, K, K)
        """
        n = len(self.patient_ids_)
        if self.prior == "weak" or n < 3:
            return np.tile(self.mu_, (n, 1)), np.tile(self.omega_, (n, 1, 1))
        s1, s2 = self._moments
        th = self.patient_theta_
        own2 = th[:, :, None] * th[:, None, :] + self.patient_cov_
        mu = (s1[None] - th) / (n - 1)
        omega = (s2[None] - own2) / (n - 1) - mu[:, :, None] * mu[:, None, :]
        omega = 0.5 * (omega + np.swapaxes(omega, 1, 2)) + 1e-6 * np.eye(K)
        return mu, omega

    def _fitted(self) -> None:
        if not hasattr(self, "mu_"):
            raise InputError("this PSAForecaster is not fitted; call fit(cohort) first")

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """The fitted prior, error and calibration as plain data (JSON-ready).

        Only population-level quantities are kept: no patient's readings or parameters.
        """
        self._fitted()
        return {
            "format": _FORMAT,
            "hyper": {k: getattr(self, k) for k in _HYPER},
            "param_names": list(PARAM_NAMES),
            "mu": self.mu_.tolist(),
            "omega": self.omega_.tolist(),
            **{k.rstrip("_"): _finite_or_none(getattr(self, k, np.inf)) for k in _FITTED},
            "n_patients": len(getattr(self, "patient_ids_", ())),
            "accuracy": getattr(self, "accuracy_", None),
            "assumptions": list(getattr(self, "assumptions_", [])),
            "source": getattr(self, "source_", None),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "prior") -> PSAForecaster:
        """Rebuild a fitted forecaster from :meth:`to_dict` output.

        Raises
        ------
        InputError
            Not a PSA prior of this format, or a field missing or malformed.
        """
        if not isinstance(data, dict) or data.get("format") not in _FORMATS:
            raise InputError(f"{where}: not an oncoresist PSA prior (format {_FORMAT!r} expected)",
                             field="format")  # fmt: skip
        try:
            fc = cls(**data["hyper"])
            mu = np.asarray(data["mu"], dtype=float)
            omega = np.asarray(data["omega"], dtype=float)
            fitted = {k: float(data[k.rstrip("_")]) for k in _FITTED[:4]}
            fitted["trend_ratio_"] = float(data.get("trend_ratio") or 0.0)
            fitted["segment_weight_"] = float(data.get("segment_weight") or 0.0)
            scale = data.get("segment_scale")
            fitted["segment_scale_"] = SEGMENT_SCALES[0] if scale is None else float(scale)
            df = data.get("tail_df")
            fitted["tail_df_"] = np.inf if df is None else float(df)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{where}: malformed PSA prior ({exc})", field="prior") from None
        ok = mu.shape == (K,) and omega.shape == (K, K) and np.all(np.isfinite(omega))
        ok = ok and all(np.isfinite(v) and v >= 0 for k, v in fitted.items() if k != "tail_df_")
        ok = ok and fitted["segment_scale_"] > 0
        if not ok or not np.all(np.isfinite(mu)) or np.any(np.linalg.eigvalsh(omega) <= 0):
            raise InputError(f"{where}: mu must be {K} finite numbers and omega a {K} x {K} "
                             "positive-definite matrix", field="omega")  # fmt: skip
        fc.mu_, fc.omega_ = mu, omega
        for k, v in fitted.items():
            setattr(fc, k, v)
        fc.accuracy_ = data.get("accuracy")
        fc.assumptions_ = list(data.get("assumptions") or [])
        fc.source_ = data.get("source")
        return fc

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted prior as JSON (atomically: a temporary file, then rename)."""
        text = json.dumps(self.to_dict(), indent=1) + "\n"
        with atomic_write(path) as fh:
            fh.write(text)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PSAForecaster:
        """Read a prior written by :meth:`save` (located error when it is not one)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{path}: cannot read a PSA prior ({exc})", field="prior") from None
        return cls.from_dict(data, where=str(path))

    def posterior(
        self,
        table: pd.DataFrame,
        origins: list[tuple[object, float | None]] | None = None,
        *,
        prior: tuple[np.ndarray, np.ndarray] | None = None,
        future: dict | None = None,
        client: Client | str | None = None,
    ) -> PSAPosterior:
        """Laplace posterior of each (patient, origin) row from the readings up to it.

        Parameters
        ----------
        table : DataFrame
            PSA readings (:func:`check_psa_table`).
        origins : list of (patient_id, origin_day or None), optional
            Rows to fit; default every patient on all their readings.
        prior : (mu, omega), optional
            Shared or per-row prior; default the population prior.
        future : dict, optional
            ``{(patient_id, origin_day): (days, on_treatment)}``: schedule after the origin
            (absolute days of the change points and the status from each); default the
            table's recorded schedule.
        client : distributed.Client or str, optional
            Fit the rows' modes on this Dask cluster.

        Returns
        -------
        PSAPosterior
        """
        self._fitted()
        if "lower_limit_of_quantification" not in table:
            table = check_psa_table(table, min_readings=1)
        if origins is None:
            origins = [(p, None) for p in table["patient_id"].unique()]
        rows = _make_rows(table, origins, future)
        prob = self._problem(rows, self.error_sd_)
        mu, omega = (self.mu_, self.omega_) if prior is None else prior
        n = len(rows.ids)
        mu_b = np.array(np.broadcast_to(mu, (n, K)))
        prec = _safe_inv(np.asarray(omega, dtype=float))
        # two starts, the prior mean and a data-driven guess; keep the better mode
        box = self._box()
        th1, h1, c1 = map_fit(prob, mu_b.copy(), mu_b, prec, box, max_iter=40, client=client)
        th2, h2, c2 = map_fit(
            prob, _initial_guess(rows, box), mu_b, prec, box, max_iter=40, client=client
        )
        pick = c2 < c1
        theta = np.where(pick[:, None], th2, th1)
        hess = np.where(pick[:, None, None], h2, h1)
        resid = np.where(rows.obs, rows.z - prob.curve(theta), 0.0)
        return PSAPosterior(rows.ids, rows.origin, theta, _safe_inv(hess), rows, resid)

    # ------------------------------------------------------------------ predictive
    def _parts(self, post: PSAPosterior, target_tau: np.ndarray) -> dict[str, np.ndarray]:
        """Curve and Jacobian at padded target days ``(P, m)`` (days since first reading)."""
        rows = post.rows
        n_days = int(np.ceil(max(target_tau.max(), rows.tau.max()))) + 1
        u = rows.schedule(n_days)
        k = K
        th = post.theta.copy()
        th[:, 0] += np.log(rows.first_psa)
        h = 1e-5 * np.maximum(1.0, np.abs(th))
        pert = np.concatenate([th[None], th[None] + h.T[:, :, None] * np.eye(k)[:, None, :]])
        grid = simulate_log_psa(pert, u, alpha=self.alpha, steps_per_day=self.steps_per_day)
        vals = _read(grid, target_tau)
        jac = np.moveaxis((vals[1:] - vals[:1]) / h.T[:, :, None], 0, -1)  # (P, m, k)
        return {"curve": vals[0], "jac": jac}

    def _gauss_joint(
        self,
        post: PSAPosterior,
        parts: dict[str, np.ndarray],
        target_tau: np.ndarray,
        s: float,
        c: float,
        kappa: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Joint Gaussian of log PSA at the targets: mean (P, m), covariance (P, m, m)."""
        a2 = self.error_sd_**2
        jac = parts["jac"]
        cov = np.einsum("pai,pij,pbj->pab", jac, post.cov, jac)
        m = target_tau.shape[1]
        mean = parts["curve"].copy()
        if s > 0:
            mean_d, cov_d = self._discrepancy(post, target_tau, s, c)
            mean, cov = mean + mean_d, cov + cov_d
        cov = cov + c * a2 * np.eye(m)
        cov = 0.5 * (cov + np.swapaxes(cov, 1, 2))
        return mean, kappa**2 * cov

    def _segments(
        self, rows: _Rows, tau: np.ndarray, *, known: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Segment phase and kind (:func:`segment_phase`) of days ``tau (P, m)`` per row.

        ``known=False`` (strategy paths, whose future segments depend on the path): every
        target is of :data:`UNKNOWN_SEGMENT` kind, with phase ``tau``.
        """
        if not known:
            return tau.astype(float), np.full(tau.shape, UNKNOWN_SEGMENT)
        phase, kind = np.empty(tau.shape), np.empty(tau.shape, dtype=int)
        for i, visits in enumerate(rows.visits):
            phase[i], kind[i] = segment_phase(visits, tau[i])
        return phase, kind

    def _cov(
        self,
        a: tuple[np.ndarray, np.ndarray, np.ndarray],
        b: tuple[np.ndarray, np.ndarray, np.ndarray],
        rho: float,
        segment: tuple[float, float],
    ) -> np.ndarray:
        """Discrepancy kernel (unit ``s``) between ``(tau, phase, kind)`` arrays ``a``, ``b``.

        Brownian motion plus ``rho`` x integrated Brownian motion from the first reading
        (:func:`_kernel`), plus ``w`` x the segment part (:func:`_segment_kernel`) for
        ``segment = (w, scale)``.
        """
        out = _kernel(a[0], b[0], rho)
        weight, scale = segment
        if weight > 0:
            out = out + weight * _segment_kernel(a[1], a[2], b[1], b[2], scale)
        return out

    def _segment(self) -> tuple[float, float]:
        return getattr(self, "segment_weight_", 0.0), getattr(self, "segment_scale_", 30.0)

    def _discrepancy(
        self,
        post: PSAPosterior,
        target_tau: np.ndarray,
        s: float,
        c: float,
        *,
        known_segments: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The discrepancy at ``target_tau (P, m)`` given the residuals: mean, covariance.

        Gaussian process with kernel ``s^2 k`` (:meth:`_cov`: Brownian and integrated
        Brownian parts from the first reading, and the segment part), observed at the
        quantified readings with noise ``c a^2``. ``known_segments=False`` treats the
        targets' treatment segments as unknown (they then share no segment part with the
        readings, but keep its variance).
        """
        rows = post.rows
        rho, segment = getattr(self, "trend_ratio_", 0.0), self._segment()
        tj, used = rows.tau, rows.obs
        pj, kj = self._segments(rows, tj)
        pt, kt = self._segments(rows, target_tau, known=known_segments)
        mm = tj.shape[1]

        def k(a, b):
            return s**2 * self._cov(a, b, rho, segment)

        col = (tj[:, None, :], pj[:, None, :], kj[:, None, :])
        kk = k((tj[:, :, None], pj[:, :, None], kj[:, :, None]), col)
        kk = np.where(used[:, :, None] & used[:, None, :], kk, 0.0)
        kk = kk + np.where(used, c * self.error_sd_**2, 1.0)[:, :, None] * np.eye(mm)
        target = (target_tau[:, :, None], pt[:, :, None], kt[:, :, None])
        ks = np.where(used[:, None, :], k(target, col), 0.0)  # (P, m, M)
        sol_r = np.linalg.solve(kk, (post.resid * used)[..., None])[..., 0]
        sol_k = np.linalg.solve(kk, np.swapaxes(ks, 1, 2))  # (P, M, m)
        mean = np.einsum("pam,pm->pa", ks, sol_r)
        kss = k(target, (target_tau[:, None, :], pt[:, None, :], kt[:, None, :]))
        return mean, kss - np.einsum("pam,pmb->pab", ks, sol_k)

    def _marginals(
        self,
        post: PSAPosterior,
        parts: dict[str, np.ndarray],
        target_tau: np.ndarray,
        rho: float | None = None,
        segment: tuple[float, float] | None = None,
    ) -> Callable[[float, float, float], tuple[np.ndarray, np.ndarray]]:
        """Marginal means and variances of :meth:`_gauss_joint` as a function of (s, c, kappa).

        The discrepancy's covariance at the readings is ``s^2 K + c a^2 I`` with ``K`` the
        kernel of :meth:`_cov` (for the given ``rho`` and ``segment``); with
        ``K = U diag(lambda) U^T`` (once) its inverse is
        ``U diag(1 / (s^2 lambda + c a^2)) U^T`` for any ``(s, c)``, so calibrating the
        three scalars costs products, not a linear solve per patient per trial. Directions
        with ``lambda = 0`` (readings at day 0, ties, unused slots) carry no covariance
        with any target, so their weight does not matter.
        """
        rows = post.rows
        a2 = self.error_sd_**2
        jac = parts["jac"]
        param_var = np.einsum("pai,pij,paj->pa", jac, post.cov, jac)
        tj, used = rows.tau, rows.obs
        both = used[:, :, None] & used[:, None, :]
        rho = getattr(self, "trend_ratio_", 0.0) if rho is None else rho
        segment = self._segment() if segment is None else segment
        pj, kj = self._segments(rows, tj)
        pt, kt_ = self._segments(rows, target_tau)
        col = (tj[:, None, :], pj[:, None, :], kj[:, None, :])
        k_obs = self._cov((tj[:, :, None], pj[:, :, None], kj[:, :, None]), col, rho, segment)
        lam, vec = np.linalg.eigh(np.where(both, k_obs, 0.0))
        lam = np.maximum(lam, 0.0)
        target = (target_tau[:, :, None], pt[:, :, None], kt_[:, :, None])
        kt = np.where(used[:, None, :], self._cov(target, col, rho, segment), 0.0)
        ktt = self._cov((target_tau, pt, kt_), (target_tau, pt, kt_), rho, segment)
        proj = kt @ vec  # (P, m, M)
        proj2 = proj**2
        rot = np.einsum("pmk,pm->pk", vec, post.resid * used)  # (P, M)
        curve = parts["curve"]

        def marginals(s: float, c: float, kappa: float) -> tuple[np.ndarray, np.ndarray]:
            var = param_var + c * a2
            mean = curve
            if s > 0:
                w = 1.0 / (s**2 * lam + c * a2)
                mean = curve + s**2 * np.einsum("pak,pk->pa", proj, w * rot)
                var = var + s**2 * ktt - s**4 * np.einsum("pak,pk->pa", proj2, w)
            return mean, kappa**2 * var

        return marginals

    # ------------------------------------------------------------------ calibration
    def _origin_setup(
        self, table: pd.DataFrame, origins: pd.DataFrame, targets: pd.DataFrame
    ) -> tuple[list, np.ndarray, np.ndarray, list]:
        """Per origin: every future visit within the horizon (and confirmation window)."""
        groups = {pid: g for pid, g in table.groupby("patient_id", sort=False)}
        pairs, fut = [], []
        horizon = max(self.max_horizon_days, self.window_days + 3 * self.confirm_days + 60.0)
        for pid, od in origins[["patient_id", "origin_day"]].itertuples(index=False):
            g = groups[pid]
            d = g["day"].to_numpy(dtype=float)
            sel = (d > od + 1e-9) & (d <= od + horizon)
            pairs.append((pid, float(od)))
            fut.append(np.flatnonzero(sel))
        m = max(1, max(len(f) for f in fut))
        return pairs, fut, np.zeros(m), [groups[p] for p, _ in pairs]

    def _calibrate(self, table: pd.DataFrame, *, client: Client | str | None = None) -> None:
        origins = cycle_origins(table, rule="switch", min_readings=self.min_readings)
        if len(origins) < 5:
            return
        targets = next_cycle_targets(table, origins, max_horizon_days=self.max_horizon_days)
        mu, omega = self.loo_priors()
        pos = {p: i for i, p in enumerate(self.patient_ids_)}
        idx = np.array([pos[p] for p in origins["patient_id"]])
        post = self.posterior(
            table,
            list(zip(origins["patient_id"], origins["origin_day"].astype(float), strict=True)),
            prior=(mu[idx], omega[idx]),
            client=client,
        )
        key = {
            (p, float(o)): i for i, (p, o) in enumerate(zip(post.ids, post.origin_day, strict=True))
        }
        row_of = np.array(
            [
                key[(p, float(o))]
                for p, o in zip(targets["patient_id"], targets["origin_day"], strict=True)
            ]
        )
        # padded per-row target days
        counts = np.bincount(row_of, minlength=len(post.ids))
        m = max(int(counts.max()), 1)
        tt = np.zeros((len(post.ids), m))
        slot = np.zeros(len(targets), dtype=int)
        seen = np.zeros(len(post.ids), dtype=int)
        first = post.rows.t_first
        for j, r in enumerate(row_of):
            slot[j] = seen[r]
            tt[r, seen[r]] = targets["day"].iloc[j] - first[r]
            seen[r] += 1
        for r in range(len(post.ids)):
            tt[r, seen[r] :] = tt[r, max(seen[r] - 1, 0)] if seen[r] else post.rows.tau[r].max()
        parts = self._parts(post, tt)
        limit = censored_limit(targets.rename(columns={"observed": "value"}).assign(
            lower_limit_of_quantification=targets.get("below_lloq", np.nan)))  # fmt: skip
        cens = np.isfinite(limit)
        observed = np.maximum(targets["observed"].to_numpy(dtype=float), 1e-6)
        z = np.log(np.where(cens, limit, observed))
        marginals = self._marginals(post, parts, tt, 0.0)

        def marg(s: float, c: float, kappa: float) -> tuple[np.ndarray, np.ndarray]:
            mean, var = marginals(s, c, kappa)
            return mean[row_of, slot], np.sqrt(var[row_of, slot])

        def nll(x: np.ndarray) -> float:
            # a censored target contributes P(below its limit) (Tobit)
            mean, sd = marg(float(np.exp(x[0])), float(np.exp(x[1])), 1.0)
            zz = (z - mean) / sd
            return float(np.sum(np.where(cens, -log_ndtr(zz), 0.5 * zz**2 + np.log(sd))))

        def covered(mean: np.ndarray, sd: np.ndarray, half: float) -> np.ndarray:
            # a censored target is covered by an interval that reaches below its limit
            return np.where(cens, mean - half * sd <= z, np.abs(z - mean) <= half * sd)

        # the trend ratio rho on a log grid (each needs its own eigendecomposition), then
        # s and c for each by Nelder-Mead; the best log score wins
        best, best_rho = None, 0.0
        for rho in TREND_RATIOS:
            marginals = self._marginals(post, parts, tt, rho)
            for x0 in ([-3.0, 0.0], [-5.0, 0.0], [-2.0, 1.0]):
                res = minimize(nll, np.array(x0), method="Nelder-Mead",
                               options={"xatol": 1e-3, "fatol": 1e-4})  # fmt: skip
                if best is None or res.fun < best.fun:
                    best, best_rho = res, rho
        if best_rho > 0:
            # refine rho jointly with s and c from the best grid point
            def nll3(x: np.ndarray) -> float:
                nonlocal marginals
                marginals = self._marginals(post, parts, tt, float(np.exp(x[2])))
                return nll(x[:2])

            res = minimize(nll3, np.r_[best.x, np.log(best_rho)], method="Nelder-Mead",
                           options={"xatol": 1e-3, "fatol": 1e-4})  # fmt: skip
            if res.fun < best.fun:
                best, best_rho = res, float(np.exp(res.x[2]))
        # then the segment part's weight and scale on their grid, (s, c) refitted from the
        # best so far; w = 0 (no segment part) is the incumbent
        best_segment = (0.0, SEGMENT_SCALES[0])
        for weight, scale in itertools.product(SEGMENT_WEIGHTS[1:], SEGMENT_SCALES):
            marginals = self._marginals(post, parts, tt, best_rho, (weight, scale))
            res = minimize(nll, best.x[:2], method="Nelder-Mead",
                           options={"xatol": 1e-3, "fatol": 1e-4})  # fmt: skip
            if res.fun < best.fun:
                best, best_segment = res, (weight, scale)
        self.segment_weight_, self.segment_scale_ = best_segment
        marginals = self._marginals(post, parts, tt, best_rho, best_segment)
        self.trend_ratio_ = best_rho
        self.discrepancy_ = float(np.exp(best.x[0]))
        self.noise_factor_ = float(np.exp(best.x[1]))
        lo, hi = -2.0, 2.0
        half = ndtri(0.9)
        for _ in range(30):
            mid = 0.5 * (lo + hi)
            mean, sd = marg(self.discrepancy_, self.noise_factor_, float(np.exp(mid)))
            cov80 = np.mean(covered(mean, sd, half))
            lo, hi = (mid, hi) if cov80 < 0.8 else (lo, mid)
        self.spread_ = float(np.exp(hi))
        mean, sd = marg(self.discrepancy_, self.noise_factor_, self.spread_)
        # tails from the quantified targets (a censored one bounds its error on one side)
        self.tail_df_ = tail_df(np.abs(z - mean)[~cens] / sd[~cens])
        self.calibration_n_ = len(targets)

    # ------------------------------------------------------------------ forecasting
    def _draws(
        self,
        post: PSAPosterior,
        tt: np.ndarray,
        n_samples: int,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        parts = self._parts(post, tt)
        mean, cov = self._gauss_joint(
            post, parts, tt, self.discrepancy_, self.noise_factor_, self.spread_
        )
        m = tt.shape[1]
        chol = np.linalg.cholesky(cov + 1e-9 * np.eye(m))
        eps = rng.standard_normal((n_samples, *mean.shape))
        eps *= self._tail_scale(rng, (n_samples, mean.shape[0], 1))
        draws = mean[None] + np.einsum("pab,spb->spa", chol, eps)
        np.clip(draws, _LOG_PSA_RANGE[0], _LOG_PSA_RANGE[1], out=draws)
        return mean, np.sqrt(np.diagonal(cov, axis1=1, axis2=2)), draws

    def _z(self, q: float) -> float:
        """Quantile ``q`` of the standardised predictive (Student t with the Gaussian's 80 %)."""
        df = getattr(self, "tail_df_", np.inf)
        if not np.isfinite(df):
            return float(ndtri(q))
        return float(student_t.ppf(q, df) * ndtri(0.9) / student_t.ppf(0.9, df))

    def _tail_scale(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """Per-path scale that turns Gaussian draws into multivariate t draws (80 % kept)."""
        df = getattr(self, "tail_df_", np.inf)
        if not np.isfinite(df):
            return np.ones(shape)
        w = np.sqrt(df / rng.chisquare(df, size=shape))
        return w * ndtri(0.9) / student_t.ppf(0.9, df)

    def forecast_origins(
        self,
        table: pd.DataFrame,
        origins: pd.DataFrame,
        targets: pd.DataFrame,
        *,
        rng: np.random.Generator | int | None = None,
        prior: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Forecasts from many origins under the recorded future schedule (backtests).

        Parameters
        ----------
        table : DataFrame
            The patients' whole series (only readings up to each origin are fitted; the
            later ones give the schedule and the targets' days).
        origins : DataFrame
            ``patient_id``, ``origin_day``.
        targets : DataFrame
            ``patient_id``, ``origin_day``, ``day``, ``observed``: readings to forecast.
        rng : numpy.random.Generator, int or None
            Seed of the predictive draws.
        prior : (mu, omega), optional
            Per-origin priors; default the population prior.

        Returns
        -------
        rows : DataFrame
            ``targets`` with ``q025, q10, q50, q90, q975`` (PSA, ng/mL) and ``mean_log10``;
            ``rows.attrs["samples_log10"]`` holds the draws ``(S, n_targets)``.
        per_origin : DataFrame
            ``patient_id``, ``origin_day``, ``nadir`` (ng/mL), ``prob_event`` (probability
            of confirmed PCWG3 progression within ``window_days``, from the draws at the
            recorded future visits) and ``event`` (observed: 1, 0 or NaN when not
            evaluable); the same within the next treatment cycle (from the origin to its
            last target reading, ``cycle_end_day``): ``prob_event_cycle``,
            ``event_cycle`` (a rise in the cycle confirmed by the next on-treatment
            reading, even after the cycle).
        """
        self._fitted()
        rng = np.random.default_rng(rng)
        table = check_psa_table(table, min_readings=1)
        pairs, fut, _, groups = self._origin_setup(table, origins, targets)
        post = self.posterior(table, pairs, prior=prior)
        cycle_end = targets.groupby(["patient_id", "origin_day"], sort=False)["day"].max()
        cycle_end.index = [(p, float(o)) for p, o in cycle_end.index]
        cycle_end = cycle_end.to_dict()
        m = max(1, max(len(f) for f in fut))
        tt = np.zeros((len(pairs), m))
        for i, (g, f) in enumerate(zip(groups, fut, strict=True)):
            d = g["day"].to_numpy(dtype=float)[f] - post.rows.t_first[i]
            tt[i, : len(f)] = d
            tt[i, len(f) :] = d[-1] if len(f) else post.rows.tau[i].max()
        mean, sd, draws = self._draws(post, tt, self.n_samples, rng)
        index = {(p, float(o)): i for i, (p, o) in enumerate(pairs)}
        per_origin = []
        for i, ((pid, od), g, f) in enumerate(zip(pairs, groups, fut, strict=True)):
            event, nadir = _observed_event(g, od, self.window_days, self.confirm_days)
            on = g["on_treatment"].to_numpy(dtype=int)
            on_before = np.concatenate([[False], on[:-1] == 1])[f]
            days = g["day"].to_numpy(dtype=float)[f]
            paths = np.exp(draws[:, i, : len(f)])
            ev = pcwg3_progression(
                days, paths, on_before, origin_day=od, nadir=nadir,
                window_days=self.window_days, confirm_days=self.confirm_days,
            )  # fmt: skip
            prob = float(np.mean(np.nan_to_num(ev, nan=1.0))) if len(f) else 0.0
            # the next treatment cycle: from the origin to its last target reading
            span = float(cycle_end.get((pid, float(od)), od)) - od
            ev_c = pcwg3_progression(
                days, paths, on_before, origin_day=od, nadir=nadir,
                window_days=span, confirm_days=self.confirm_days,
            )  # fmt: skip
            prob_c = float(np.mean(np.nan_to_num(ev_c, nan=1.0))) if len(f) else 0.0
            event_c = _observed_event(g, od, span, self.confirm_days, full_window=False)[0]
            per_origin.append((pid, od, nadir, prob, event, od + span, prob_c, event_c))
        per = pd.DataFrame(
            per_origin,
            columns=["patient_id", "origin_day", "nadir", "prob_event", "event",
                     "cycle_end_day", "prob_event_cycle", "event_cycle"],
        )  # fmt: skip
        # map targets onto (row, slot)
        ri, si = [], []
        for pid, od, day in targets[["patient_id", "origin_day", "day"]].itertuples(index=False):
            r = index[(pid, float(od))]
            d = groups[r]["day"].to_numpy(dtype=float)[fut[r]]
            hit = np.flatnonzero(np.isclose(d, day))
            if not hit.size:
                raise InputError(
                    f"target day {day:g} of patient {pid!r} is not a recorded visit within "
                    "the horizon",
                    field="day",
                )
            ri.append(r)
            si.append(int(hit[0]))
        ri_a, si_a = np.array(ri, dtype=int), np.array(si, dtype=int)
        out = targets.reset_index(drop=True).copy()
        mu_t, sd_t = mean[ri_a, si_a], sd[ri_a, si_a]
        for name, q in QUANTILES.items():
            out[name] = np.exp(mu_t + self._z(q) * sd_t)
        out["mean_log10"] = mu_t / _LOG10
        out.attrs["samples_log10"] = draws[:, ri_a, si_a] / _LOG10
        return out, per

    def predict(
        self,
        table: pd.DataFrame,
        days: dict[object, np.ndarray],
        *,
        schedule: dict[object, tuple[np.ndarray, np.ndarray]] | None = None,
        rng: np.random.Generator | int | None = None,
    ) -> pd.DataFrame:
        """Predictive quantiles of PSA at future days under a given schedule.

        Parameters
        ----------
        table : DataFrame
            Each patient's readings up to the forecast origin (their last reading).
        days : dict
            ``{patient_id: days}`` to forecast (absolute days after the origin).
        schedule : dict, optional
            ``{patient_id: (change_days, on_treatment)}`` after the origin; default keep the
            last recorded status.
        rng : numpy.random.Generator, int or None
            Seed of the draws.

        Returns
        -------
        DataFrame
            ``patient_id``, ``day``, ``q025, q10, q50, q90, q975`` (ng/mL) and
            ``prob_progression`` (per patient: PCWG3 within ``window_days`` over these days,
            on the draws).
        """
        self._fitted()
        rng = np.random.default_rng(rng)
        table = check_psa_table(table, min_readings=2)
        ids = list(days)
        last = table.groupby("patient_id", sort=False)["day"].max()
        pairs = [(p, float(last[p])) for p in ids]
        future = {(p, o): schedule[p] for p, o in pairs if schedule and p in schedule}
        post = self.posterior(table, pairs, future=future)
        m = max(len(np.atleast_1d(days[p])) for p in ids)
        tt = np.zeros((len(ids), m))
        for i, p in enumerate(ids):
            d = np.atleast_1d(np.asarray(days[p], dtype=float)) - post.rows.t_first[i]
            tt[i, : len(d)] = d
            tt[i, len(d) :] = d[-1]
        mean, sd, draws = self._draws(post, tt, self.n_samples, rng)
        out = []
        groups = {pid: g for pid, g in table.groupby("patient_id", sort=False)}
        for i, p in enumerate(ids):
            d = np.atleast_1d(np.asarray(days[p], dtype=float))
            g = groups[p]
            on = g["on_treatment"].to_numpy(dtype=int)
            on_before_hist = np.concatenate([[False], on[:-1] == 1])
            hist = g["value"].to_numpy(dtype=float)[on_before_hist]
            nadir = float(hist.min()) if hist.size else np.inf
            vt, von = post.rows.visits[i]
            status = von[np.searchsorted(vt, d - post.rows.t_first[i] - 1e-9, side="right") - 1]
            prev = np.concatenate([[on[-1]], status[:-1]]) == 1
            ev = pcwg3_progression(
                d, np.exp(draws[:, i, : len(d)]), prev, origin_day=pairs[i][1], nadir=nadir,
                window_days=self.window_days, confirm_days=self.confirm_days,
            )  # fmt: skip
            prob = float(np.mean(np.nan_to_num(ev, nan=1.0)))
            frame = pd.DataFrame({"patient_id": p, "day": d})
            for name, q in QUANTILES.items():
                frame[name] = np.exp(mean[i, : len(d)] + self._z(q) * sd[i, : len(d)])
            frame["prob_progression"] = prob
            out.append(frame)
        return pd.concat(out, ignore_index=True)

    def forecast_strategies(
        self,
        table: pd.DataFrame,
        patient_id: object,
        *,
        strategies: tuple[str, ...] = STRATEGIES,
        horizon_days: float = 360.0,
        visit_interval_days: float = 28.0,
        baseline_psa: float | None = None,
        n_samples: int = 300,
        rng: np.random.Generator | int | None = None,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Predictive PSA and progression of one patient under each strategy.

        Draws parameter vectors from the patient's Laplace posterior, adds the discrepancy
        drawn at the visits given the patient's residuals (:meth:`_discrepancy`: anchored
        to the latest readings, with their drift where a trend part was calibrated) and
        error, and applies each strategy's rule at visits every ``visit_interval_days``
        from the origin (the last reading):

        * ``continue``: abiraterone throughout; ``stop``: none;
        * ``adaptive`` (Zhang 2022 protocol): stop when PSA < 50 % of the baseline, resume
          when PSA >= the baseline; ``adaptive_25``: stop below 25 %, resume at 75 %;
        * ``intermittent``: 8 weeks on, 8 weeks off from the origin.

        Parameters
        ----------
        table : DataFrame
            Readings of (at least) this patient up to the origin.
        patient_id : object
        strategies : tuple of str
            Names from :data:`STRATEGIES`.
        horizon_days, visit_interval_days : float
            Forecast horizon and visit spacing (days).
        baseline_psa : float, optional
            Adaptive baseline (ng/mL); default the patient's first reading.
        n_samples : int
            Paths per strategy.
        rng : numpy.random.Generator, int or None
            Seed.

        Returns
        -------
        paths : DataFrame
            ``strategy``, ``day``, ``q025, q10, q25, q50, q75, q90, q975`` (ng/mL),
            ``share_on_treatment`` (share of paths on abiraterone after that visit).
        summary : DataFrame
            ``strategy``, ``prob_progression`` (PCWG3 within ``window_days``),
            ``median_days_to_progression``, ``ttp_q25``, ``ttp_q75`` (quantiles of the
            days from the origin to confirmed progression over the paths; ``inf`` when
            fewer paths than that progress within the horizon),
            ``prob_progression_horizon`` (share of paths progressing within the horizon),
            ``mean_days_on`` (days on abiraterone over the horizon).
        """
        self._fitted()
        unknown = [s for s in strategies if s not in STRATEGIES]
        if unknown:
            raise InputError(
                f"unknown strategy {unknown[0]!r}; expected one of {', '.join(STRATEGIES)}",
                field="strategies",
            )
        rng = np.random.default_rng(rng)
        table = check_psa_table(table, min_readings=2)
        g = table[table["patient_id"] == patient_id]
        if len(g) < 2:
            raise InputError(f"no series for patient {patient_id!r}", field="patient_id")
        origin = float(g["day"].iloc[-1])
        post = self.posterior(g, [(patient_id, origin)])
        rows = post.rows
        tau0 = origin - rows.t_first[0]
        n_vis = int(np.floor(horizon_days / visit_interval_days))
        vdays = origin + visit_interval_days * np.arange(1, n_vis + 1)
        # discrepancy at the visits given the residuals (anchors the paths to the latest
        # readings and, with a trend part, carries their recent drift)
        if self.discrepancy_ > 0:
            tv = (vdays - rows.t_first[0])[None]
            mean_d, cov_d = self._discrepancy(
                post, tv, self.discrepancy_, self.noise_factor_, known_segments=False
            )
            chol_d = np.linalg.cholesky(cov_d[0] * self.spread_**2 + 1e-9 * np.eye(n_vis))
        else:
            mean_d, chol_d = np.zeros((1, n_vis)), np.zeros((n_vis, n_vis))
        chol = np.linalg.cholesky(post.cov[0] * self.spread_**2 + 1e-12 * np.eye(K))
        theta = post.theta[0][None] + rng.standard_normal((n_samples, K)) @ chol.T
        theta = np.clip(theta, self._box()[:, 0], self._box()[:, 1])
        theta[:, 0] += np.log(rows.first_psa[0])
        # state at the origin under the recorded schedule
        n_days0 = int(np.ceil(tau0))
        u_past = rows.schedule(max(n_days0, 1))[0]
        s, r, r_s, r_r, delta, gamma = _unpack(theta)
        total0 = s + r
        ue = np.full(n_samples, suppression_grid(u_past[None, :n_days0])[0, -1])
        s, r = self._advance(
            s, r, r_s, r_r, delta, np.broadcast_to(u_past[:n_days0], (n_samples, n_days0))
        )
        base_log = theta[:, 0] - np.log(total0)
        baseline = float(baseline_psa) if baseline_psa is not None else float(g["value"].iloc[0])
        on_hist = g["on_treatment"].to_numpy(dtype=int)
        hist_on_before = np.concatenate([[False], on_hist[:-1] == 1])
        hist = g["value"].to_numpy(dtype=float)[hist_on_before]
        nadir = float(hist.min()) if hist.size else np.inf
        a2 = self.noise_factor_ * self.error_sd_**2
        out_paths, out_summary = [], []
        scale = self._tail_scale(rng, (n_samples, 1))
        disc = mean_d + (rng.standard_normal((n_samples, n_vis)) * scale) @ chol_d.T
        noise_eps = rng.standard_normal((n_samples, n_vis)) * scale
        keep = np.exp(-SUPPRESSION_RATE * round(visit_interval_days))
        for name in strategies:
            ss, rr, uu = s.copy(), r.copy(), ue.copy()
            status = np.full(n_samples, int(on_hist[-1]))
            if name == "continue":
                status[:] = 1
            elif name == "stop":
                status[:] = 0
            elif name == "intermittent":
                status[:] = 1
            psa_v = np.empty((n_samples, n_vis))
            on_v = np.empty((n_samples, n_vis), dtype=bool)
            on_before = np.empty((n_samples, n_vis), dtype=bool)
            days_on = np.zeros(n_samples)
            for j in range(n_vis):
                ndays = round(visit_interval_days)
                u = np.repeat(status[:, None], ndays, axis=1)
                ss, rr = self._advance(ss, rr, r_s, r_r, delta, u)
                uu = status + (uu - status) * keep
                days_on += status * ndays
                on_before[:, j] = status == 1
                logp = (
                    base_log
                    + np.log(ss + rr)
                    - gamma * uu
                    + disc[:, j]
                    + np.sqrt(a2) * self.spread_ * noise_eps[:, j]
                )
                psa_v[:, j] = np.exp(np.clip(logp, *_LOG_PSA_RANGE))
                if name in ("adaptive", "adaptive_25"):
                    off_at, on_at = (0.5, 1.0) if name == "adaptive" else (0.25, 0.75)
                    pj = psa_v[:, j]
                    resume = np.where(pj >= on_at * baseline, 1, status)
                    status = np.where(pj < off_at * baseline, 0, resume)
                elif name == "intermittent":
                    status[:] = 1 if ((j + 1) * visit_interval_days // 56) % 2 == 0 else 0
                on_v[:, j] = status == 1
            ev = np.array([
                pcwg3_progression(vdays, psa_v[i], on_before[i], origin_day=origin, nadir=nadir,
                                  window_days=self.window_days, confirm_days=self.confirm_days)
                for i in range(n_samples)
            ])  # fmt: skip
            ttp = self._time_to_progression(vdays, psa_v, on_before, nadir) - origin
            levels = {**QUANTILES, "q25": 0.25, "q75": 0.75}
            qs = np.quantile(psa_v, list(levels.values()), axis=0)
            frame = pd.DataFrame({"strategy": name, "day": vdays})
            for qn, q in zip(levels, qs, strict=True):
                frame[qn] = q
            frame["share_on_treatment"] = on_v.mean(axis=0)
            out_paths.append(frame)
            q25, q50, q75 = np.quantile(ttp, [0.25, 0.5, 0.75], method="lower")
            out_summary.append(
                (name, float(np.mean(np.nan_to_num(ev, nan=1.0))), float(q50), float(q25),
                 float(q75), float(np.mean(np.isfinite(ttp))), float(days_on.mean()))
            )  # fmt: skip
        summary = pd.DataFrame(
            out_summary,
            columns=["strategy", "prob_progression", "median_days_to_progression", "ttp_q25",
                     "ttp_q75", "prob_progression_horizon", "mean_days_on"],
        )  # fmt: skip
        return pd.concat(out_paths, ignore_index=True), summary

    def _advance(self, s, r, r_s, r_r, delta, u):
        """Advance states ``(n,)`` over the daily schedule ``u (n, days)``."""
        cap_on = np.maximum(1.0 - delta, 1e-9)
        h = 1.0 / self.steps_per_day
        for d in range(u.shape[1]):
            on = u[:, d].astype(bool)
            cap = np.where(on, cap_on, 1.0)
            for _ in range(self.steps_per_day):
                s = _bernoulli(s, r_s * (1.0 - r / cap), r_s / cap, h)
                r = _bernoulli(r, r_r * (1.0 - self.alpha * s), r_r, h)
        return s, r

    def _time_to_progression(self, vdays, psa_v, on_before, nadir):
        """First confirmed PCWG3 rise on each path (inf if none), absolute days."""
        n, m = psa_v.shape
        out = np.full(n, np.inf)
        low = np.full(n, nadir)
        for j in range(m):
            pj = psa_v[:, j]
            meets = on_before[:, j] & (pj >= 1.25 * low) & (pj >= low + 2.0)
            k = np.searchsorted(vdays, vdays[j] + self.confirm_days)
            if k < m:
                pk = psa_v[:, k]
                conf = on_before[:, k] & (pk >= 1.25 * low) & (pk >= low + 2.0)
                out = np.where(meets & conf & np.isinf(out), vdays[j], out)
            low = np.where(on_before[:, j], np.minimum(low, pj), low)
        return out


# ---------------------------------------------------------------------------- simulation
@dataclass(frozen=True)
class SimulatedCohort:
    """Patients simulated from the model family (:func:`simulate_cohort`).

    Attributes
    ----------
    table : DataFrame
        ``patient_id``, ``day``, ``value`` (PSA, ng/mL, with log-normal error),
        ``on_treatment``, ``true_log_psa`` (noise-free).
    theta : DataFrame
        True parameters per patient (:data:`PARAM_NAMES`; ``log_psa0`` relative to the
        first noise-free reading is 0, the absolute value in ``log_psa0_abs``).
    """

    table: pd.DataFrame
    theta: pd.DataFrame


def simulate_cohort(
    n_patients: int,
    *,
    mu: np.ndarray | None = None,
    omega: np.ndarray | None = None,
    error_sd: float = 0.15,
    visit_interval_days: float = 28.0,
    n_visits: int = 24,
    alpha: float = 6.0,
    suppression: bool = False,
    rng: np.random.Generator | int | None = None,
) -> SimulatedCohort:
    """Simulate adaptive-therapy PSA series from the model family with known parameters.

    Each patient's parameters are drawn from ``N(mu, omega)`` (default: a spread around
    Zhang-like values), visits every ``visit_interval_days``, and the Zhang 2022 adaptive
    rule decides the schedule at each visit from the observed (noisy) PSA: stop when it is
    below half of the first reading, resume when it is back at the first reading.

    ``suppression`` keeps each patient's drawn ``psa_suppression`` (else 0, the default
    forecaster's family).

    Returns
    -------
    SimulatedCohort
    """
    rng = np.random.default_rng(rng)
    if mu is None:
        mu = np.array([np.log(20.0), 0.0, -5.0, np.log(0.06), np.log(0.012), 4.0, 0.4])
    omega = np.diag([0.8, 0.5, 1.0, 0.3, 0.3, 0.8, 0.3]) ** 2 if omega is None else omega
    if suppression:
        theta = rng.multivariate_normal(mu, omega, size=n_patients)
    else:  # PSA proportional to the cells: six parameters drawn, the seventh 0
        theta = rng.multivariate_normal(mu[:6], omega[:6, :6], size=n_patients)
        theta = np.column_stack([theta, np.zeros(n_patients)])
    theta = np.clip(theta, np.r_[-5.0, _BOX[1:, 0]], np.r_[10.0, _BOX[1:, 1]])
    s, r, r_s, r_r, delta, gamma = _unpack(theta)
    total0 = s + r
    ue = np.zeros(n_patients)
    keep = np.exp(-SUPPRESSION_RATE)
    fc = PSAForecaster(alpha=alpha)
    status = np.ones(n_patients, dtype=int)
    base = np.exp(theta[:, 0] + error_sd * rng.standard_normal(n_patients))
    rows = []
    step = round(visit_interval_days)
    for j in range(n_visits):
        day = j * step
        true_log = theta[:, 0] + np.log((s + r) / total0) - gamma * ue
        obs = base if j == 0 else np.exp(true_log + error_sd * rng.standard_normal(n_patients))
        if j > 0:
            status = np.where(obs < 0.5 * base, 0, np.where(obs >= base, 1, status))
        for i in range(n_patients):
            rows.append(
                (f"S{i:03d}", float(day), float(obs[i]), int(status[i]), float(true_log[i]))
            )
        s, r = fc._advance(s, r, r_s, r_r, delta, np.repeat(status[:, None], step, axis=1))
        for _ in range(step):
            ue = status + (ue - status) * keep
    table = pd.DataFrame(
        rows, columns=["patient_id", "day", "value", "on_treatment", "true_log_psa"]
    )
    table = table.sort_values(["patient_id", "day"], kind="stable").reset_index(drop=True)
    th = pd.DataFrame(theta, columns=PARAM_NAMES)
    th.insert(0, "patient_id", [f"S{i:03d}" for i in range(n_patients)])
    return SimulatedCohort(table, th)
