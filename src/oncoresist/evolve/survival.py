"""Time-to-event summaries for virtual cohorts: Kaplan-Meier and a two-arm Cox model.

Written here rather than taken from lifelines, which pins pandas below 3 (this package
needs pandas 3). Methods:

* **Kaplan-Meier** ``S(t) = prod_{t_i <= t} (1 - d_i / n_i)`` with Greenwood's variance and
  the log-log transformed pointwise 95 % interval ``S^exp(+-z se)``, ``se`` the Greenwood
  standard error of ``log(-log S)`` (Kalbfleisch and Prentice). The median is the first
  time ``S <= 0.5``; its interval the times where the upper and lower curves cross 0.5
  (Brookmeyer and Crowley 1982); ``inf`` where a curve never reaches 0.5.
* **Cox proportional hazards** with one binary covariate (arm), Efron's handling of ties,
  fitted by Newton-Raphson on the partial likelihood; the hazard ratio with its Wald 95 %
  interval and p-value.

References
----------
Kaplan EL, Meier P. J Am Stat Assoc 1958;53:457-481.
Brookmeyer R, Crowley J. A confidence interval for the median survival time. Biometrics
1982;38:29-41.
Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220.
Efron B. The efficiency of Cox's likelihood function for censored data. J Am Stat Assoc
1977;72:557-565.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from oncoresist.errors import InputError

Z95 = float(norm.ppf(0.975))


@dataclass(frozen=True)
class KaplanMeier:
    """A fitted Kaplan-Meier curve.

    Attributes
    ----------
    times : numpy.ndarray
        Distinct event times (days).
    survival, lower, upper : numpy.ndarray
        ``S(t)`` just after each event time and its pointwise 95 % interval.
    at_risk, events : numpy.ndarray
        Patients at risk just before, and events at, each time.
    """

    times: np.ndarray
    survival: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray

    def _first_below_half(self, curve: np.ndarray) -> float:
        hit = np.flatnonzero(curve <= 0.5 + 1e-12)
        return float(self.times[hit[0]]) if hit.size else float("inf")

    @property
    def median(self) -> float:
        """Median time to event (``inf`` if the curve stays above 0.5)."""
        return self._first_below_half(self.survival)

    @property
    def median_ci(self) -> tuple[float, float]:
        """95 % interval of the median (Brookmeyer-Crowley, from the log-log band)."""
        return self._first_below_half(self.lower), self._first_below_half(self.upper)

    def at(self, t) -> np.ndarray:
        """``S(t)`` at the given times (a step function, 1 before the first event)."""
        idx = np.searchsorted(self.times, np.asarray(t, dtype=float), side="right") - 1
        return np.where(idx >= 0, self.survival[np.maximum(idx, 0)], 1.0)


def _check(durations, events) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=bool)
    if t.ndim != 1 or t.shape != e.shape or t.size == 0:
        raise InputError("durations and events must be 1-D and of one length", field="durations")
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise InputError("durations must be finite and non-negative (days)", field="durations")
    return t, e


def kaplan_meier(durations, events) -> KaplanMeier:
    """Fit a Kaplan-Meier curve.

    Parameters
    ----------
    durations : array_like
        Follow-up (days): the event time, or the censoring time.
    events : array_like of bool
        Whether the event (progression) was observed.

    Returns
    -------
    KaplanMeier
    """
    t, e = _check(durations, events)
    times = np.unique(t[e])
    at_risk = (t[None, :] >= times[:, None]).sum(axis=1).astype(float)
    deaths = (t[None, e] == times[:, None]).sum(axis=1).astype(float)
    surv = np.cumprod(1.0 - deaths / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        green = np.cumsum(deaths / (at_risk * (at_risk - deaths)))
        log_s = np.log(surv)
        se = np.sqrt(green) / np.abs(log_s)
        lower = surv ** np.exp(Z95 * se)
        upper = surv ** np.exp(-Z95 * se)
    lower = np.where(np.isfinite(lower), lower, 0.0)
    upper = np.where(np.isfinite(upper), upper, np.where(surv > 0, 1.0, 0.0))
    return KaplanMeier(times, surv, lower, upper, at_risk, deaths)


@dataclass(frozen=True)
class CoxResult:
    """Two-arm Cox model: hazard ratio of arm 1 versus arm 0."""

    hazard_ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    log_hr: float
    se: float


def cox_two_arms(durations, events, arm) -> CoxResult:
    """Hazard ratio of ``arm == 1`` against ``arm == 0`` (Efron ties, Newton-Raphson).

    Parameters
    ----------
    durations : array_like
        Follow-up (days).
    events : array_like of bool
        Event observed.
    arm : array_like of {0, 1}
        Arm of each patient.

    Returns
    -------
    CoxResult
        All NaN when no patient had the event.
    """
    t, e = _check(durations, events)
    x = np.asarray(arm, dtype=float)
    if x.shape != t.shape or not np.isin(x, (0.0, 1.0)).all():
        raise InputError("arm must be 0 or 1 for every patient", field="arm")
    if not (x == 0).any() or not (x == 1).any():
        raise InputError("both arms need patients", field="arm")
    if not e.any():  # no event in either arm: nothing to estimate
        nan = float("nan")
        return CoxResult(nan, nan, nan, nan, nan, nan)
    times = np.unique(t[e])
    at_risk = t[None, :] >= times[:, None]  # (events, patients)
    dead = (t[None, :] == times[:, None]) & e[None, :]
    n_dead = dead.sum(axis=1)
    x_dead = (dead * x).sum(axis=1)  # events in arm 1 at each time
    # per time: risk set sums by arm, and the tied deaths by arm
    r1, r0 = (at_risk * x).sum(axis=1), (at_risk * (1 - x)).sum(axis=1)
    d1, d0 = x_dead, n_dead - x_dead
    beta = 0.0
    for _ in range(50):
        w = np.exp(beta)
        grad, info = 0.0, 0.0
        for k in range(times.size):  # Efron: the tied deaths leave the risk set gradually
            m = int(n_dead[k])
            for j in range(m):
                f = j / m
                s0 = r0[k] - f * d0[k] + w * (r1[k] - f * d1[k])
                s1 = w * (r1[k] - f * d1[k])
                mean = s1 / s0
                grad -= mean
                info += mean * (1 - mean)
            grad += x_dead[k]
        if info <= 0:
            break
        step = grad / info
        beta += float(np.clip(step, -5, 5))
        if abs(step) < 1e-10:
            break
    se = 1.0 / np.sqrt(info) if info > 0 else float("inf")
    p = float(2 * norm.sf(abs(beta) / se)) if np.isfinite(se) else 1.0
    with np.errstate(over="ignore"):  # separated arms: the estimate runs off to 0 or inf
        low, high = np.exp(beta - Z95 * se), np.exp(beta + Z95 * se)
    return CoxResult(
        hazard_ratio=float(np.exp(beta)),
        ci_low=float(low),
        ci_high=float(high),
        p_value=p,
        log_hr=float(beta),
        se=float(se),
    )
