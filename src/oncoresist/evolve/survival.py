"""Time-to-event summaries for virtual cohorts: Kaplan-Meier, RMST and a two-arm Cox model.

Written here rather than taken from lifelines, which pins pandas below 3 (this package
needs pandas 3); the tests cross-check every estimate against statsmodels (``SurvfuncRight``
and ``PHReg``) and against hand-computed cases. Methods:

* **Kaplan-Meier** ``S(t) = prod_{t_i <= t} (1 - d_i / n_i)`` with Greenwood's variance and
  the log-log transformed pointwise 95 % interval ``S^exp(+-z se)``, ``se`` the Greenwood
  standard error of ``log(-log S)`` (Kalbfleisch and Prentice). The median is the first
  time ``S <= 0.5``; its interval the times where the lower and upper curves cross 0.5
  (Brookmeyer and Crowley 1982). A median or bound whose curve never falls to 0.5 is
  *not reached*: it is ``nan`` (as in R's ``survfit`` and statsmodels), with
  :attr:`KaplanMeier.median_reached` saying which, never ``inf``.
* **Restricted mean survival time** ``RMST(tau) = int_0^tau S(t) dt``, the mean time free of
  progression over the first ``tau`` days, with the usual variance from the KM curve
  ``sum_{t_i <= tau} A_i^2 d_i / (n_i (n_i - d_i))``, ``A_i = int_{t_i}^tau S(t) dt``
  (Klein and Moeschberger, section 4.5; R's survRM2). It is estimable whenever ``tau`` is
  within follow-up, events or not, which makes it the summary to read when a median is
  not reached or a hazard ratio is not estimable.
* **Cox proportional hazards** with one binary covariate (arm), Efron's handling of ties,
  fitted by Newton-Raphson with step halving on the partial likelihood; the hazard ratio
  with its Wald 95 % interval and p-value. The partial likelihood of a binary covariate
  has a finite maximum exactly when some comparison-arm event happens while a reference
  patient is at risk *and* some reference-arm event happens while a comparison patient is
  at risk; otherwise (no events in an arm, or every event of one arm after the other arm
  has left follow-up: separation, a monotone likelihood) the estimate runs off to 0 or
  infinity and the result is marked not estimable instead (Bryson and Johnson 1981).

References
----------
Kaplan EL, Meier P. J Am Stat Assoc 1958;53:457-481.
Brookmeyer R, Crowley J. A confidence interval for the median survival time. Biometrics
1982;38:29-41.
Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220.
Efron B. The efficiency of Cox's likelihood function for censored data. J Am Stat Assoc
1977;72:557-565.
Bryson MC, Johnson ME. The incidence of monotone likelihood in the Cox model.
Technometrics 1981;23:381-383.
Royston P, Parmar MKB. Restricted mean survival time: an alternative to the hazard ratio
for the design and analysis of randomized trials with a time-to-event outcome. BMC Med Res
Methodol 2013;13:152 (doi:10.1186/1471-2288-13-152).
Klein JP, Moeschberger ML. Survival Analysis, 2nd ed. Springer 2003, section 4.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from oncoresist.errors import InputError

Z95 = float(norm.ppf(0.975))
NAN = float("nan")


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
    last_time : float
        The largest follow-up time, event or censored (days): the curve is known up to it,
        and beyond it when it has fallen to 0 (see :attr:`known_until`).
    """

    times: np.ndarray
    survival: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    last_time: float

    def _first_below_half(self, curve: np.ndarray) -> float:
        hit = np.flatnonzero(curve <= 0.5 + 1e-12)
        return float(self.times[hit[0]]) if hit.size else NAN

    @property
    def median(self) -> float:
        """Median time to event (days); ``nan`` when not reached (``S`` stays above 0.5)."""
        return self._first_below_half(self.survival)

    @property
    def median_ci(self) -> tuple[float, float]:
        """95 % interval of the median (Brookmeyer-Crowley, log-log); ``nan`` = not reached."""
        return self._first_below_half(self.lower), self._first_below_half(self.upper)

    @property
    def median_reached(self) -> tuple[bool, bool, bool]:
        """Whether the median, its lower and its upper 95 % bound are reached."""
        low, high = self.median_ci
        return bool(np.isfinite(self.median)), bool(np.isfinite(low)), bool(np.isfinite(high))

    @property
    def known_until(self) -> float:
        """Days up to which ``S`` is known: ``last_time``, or ``inf`` once it has reached 0."""
        if self.survival.size and self.survival[-1] <= 0:
            return float("inf")
        return self.last_time

    def at(self, t) -> np.ndarray:
        """``S(t)`` at the given times (a step function, 1 before the first event)."""
        idx = np.searchsorted(self.times, np.asarray(t, dtype=float), side="right") - 1
        return np.where(idx >= 0, self.survival[np.maximum(idx, 0)], 1.0)

    def rmst(self, horizon: float) -> tuple[float, float]:
        """Restricted mean survival time to ``horizon`` days and its standard error (days).

        ``int_0^horizon S(t) dt`` with the variance ``sum A_i^2 d_i / (n_i (n_i - d_i))``
        over event times up to the horizon (a time where every patient at risk has the
        event adds nothing, as in survRM2).

        Raises
        ------
        InputError
            When ``horizon`` is not positive or lies beyond :attr:`known_until`, where the
            curve is unknown.
        """
        tau = float(horizon)
        if not tau > 0:
            raise InputError(f"RMST horizon must be positive, got {horizon}", field="horizon")
        if tau > self.known_until * (1 + 1e-12):
            raise InputError(
                f"RMST horizon {tau:g} days is beyond the follow-up ({self.last_time:g} days): "
                "the curve is unknown there; choose a horizon within every arm's follow-up",
                field="horizon",
            )
        keep = self.times <= tau
        t, s = self.times[keep], self.survival[keep]
        n, d = self.at_risk[keep], self.events[keep]
        knots = np.r_[0.0, t, tau]
        heights = np.r_[1.0, s]  # S on [knot_j, knot_{j+1})
        pieces = heights * np.diff(knots)
        area = float(pieces.sum())
        # A_i: the area from event time t_i to the horizon
        tail = np.cumsum(pieces[::-1])[::-1][1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where(n > d, d / (n * (n - d)), 0.0)
        return area, float(np.sqrt(np.sum(tail**2 * w)))


def _check(durations, events) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=bool)
    if t.ndim != 1 or t.shape != e.shape or t.size == 0:
        raise InputError("durations and events must be 1-D and of one length", field="durations")
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise InputError("durations must be finite and non-negative (days)", field="durations")
    return t, e


def _risk_table(t: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct event times, patients at risk just before each, events at each."""
    times, deaths = np.unique(t[e], return_counts=True)
    at_risk = t.size - np.searchsorted(np.sort(t), times, side="left")
    return times, at_risk.astype(float), deaths.astype(float)


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

    Examples
    --------
    >>> km = kaplan_meier([1, 2, 3, 3, 4, 5], [1, 0, 1, 1, 0, 1])
    >>> km.median, round(km.rmst(5.0)[0], 9)  # 1 + 2 (5/6) + 2 (5/12)
    (3.0, 3.5)
    """
    t, e = _check(durations, events)
    times, at_risk, deaths = _risk_table(t, e)
    surv = np.cumprod(1.0 - deaths / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        green = np.cumsum(deaths / (at_risk * (at_risk - deaths)))
        log_s = np.log(surv)
        se = np.sqrt(green) / np.abs(log_s)
        lower = surv ** np.exp(Z95 * se)
        upper = surv ** np.exp(-Z95 * se)
    lower = np.where(np.isfinite(lower), lower, 0.0)
    upper = np.where(np.isfinite(upper), upper, np.where(surv > 0, 1.0, 0.0))
    return KaplanMeier(times, surv, lower, upper, at_risk, deaths, float(t.max()))


@dataclass(frozen=True)
class CoxResult:
    """Two-arm Cox model: hazard ratio of arm 1 versus arm 0.

    Attributes
    ----------
    hazard_ratio, ci_low, ci_high : float
        The hazard ratio and its Wald 95 % interval (``nan`` when not estimable).
    p_value : float
        Wald test of no difference (``nan`` when not estimable).
    log_hr, se : float
        The log hazard ratio and its standard error.
    estimable : bool
        Whether the partial likelihood has a finite maximum.
    reason : str
        Why not, when not: ``"no events"`` (in either arm), ``"no events in arm 0"``,
        ``"no events in arm 1"``, or ``"separation"`` (every event of one arm falls when
        no patient of the other arm is at risk); ``""`` when estimable.
    """

    hazard_ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    log_hr: float
    se: float
    estimable: bool = True
    reason: str = ""


def _not_estimable(reason: str) -> CoxResult:
    return CoxResult(NAN, NAN, NAN, NAN, NAN, NAN, estimable=False, reason=reason)


def cox_two_arms(durations, events, arm) -> CoxResult:
    """Hazard ratio of ``arm == 1`` against ``arm == 0`` (Efron ties, Newton-Raphson).

    Parameters
    ----------
    durations : array_like
        Follow-up (days).
    events : array_like of bool
        Event observed.
    arm : array_like of {0, 1}
        Arm of each patient (0: the reference).

    Returns
    -------
    CoxResult
        ``estimable=False`` with the reason, and every number ``nan``, when no event
        happened in an arm or the arms are separated (the maximum is at 0 or infinity).

    Examples
    --------
    >>> res = cox_two_arms([1.0, 2.0, 3.0, 4.0], [1, 1, 1, 1], [1, 0, 1, 0])
    >>> round(res.hazard_ratio, 4)
    2.5616
    >>> cox_two_arms([1.0, 2.0, 3.0, 4.0], [1, 1, 1, 1], [1, 1, 0, 0]).reason
    'separation'
    """
    t, e = _check(durations, events)
    x = np.asarray(arm, dtype=float)
    if x.shape != t.shape or not np.isin(x, (0.0, 1.0)).all():
        raise InputError("arm must be 0 or 1 for every patient", field="arm")
    if not (x == 0).any() or not (x == 1).any():
        raise InputError("both arms need patients", field="arm")
    if not e.any():
        return _not_estimable("no events")
    for a in (0, 1):
        if not e[x == a].any():
            return _not_estimable(f"no events in arm {a}")
    times, n_risk, n_dead = _risk_table(t, e)
    r1 = (t[x == 1].size - np.searchsorted(np.sort(t[x == 1]), times, side="left")).astype(float)
    r0 = n_risk - r1
    d1 = _counts_at(times, *np.unique(t[e & (x == 1)], return_counts=True))
    d0 = n_dead - d1
    # A finite maximum needs the score to change sign: U(-inf) = events of arm 1 while arm
    # 0 is at risk, U(+inf) = -(events of arm 0 while arm 1 is at risk).
    if d1[r0 > 0].sum() == 0 or d0[r1 > 0].sum() == 0:
        return _not_estimable("separation")
    # Efron: the m tied deaths at a time leave the risk set in steps of 1/m
    m = n_dead.astype(int)
    k = np.repeat(np.arange(times.size), m)
    f = (np.arange(k.size) - np.repeat(np.cumsum(m) - m, m)) / np.repeat(m, m)
    a0, a1 = r0[k] - f * d0[k], r1[k] - f * d1[k]
    events_1 = d1.sum()

    def fit_terms(beta: float) -> tuple[float, float, float]:
        s0 = a0 + np.exp(beta) * a1
        mean = np.exp(beta) * a1 / s0
        loglik = beta * events_1 - np.log(s0).sum()
        return float(loglik), float(events_1 - mean.sum()), float((mean * (1 - mean)).sum())

    beta = 0.0
    loglik, grad, info = fit_terms(beta)
    for _ in range(100):
        step = grad / info
        trial = beta + step
        new = fit_terms(trial)
        halvings = 0
        while new[0] < loglik - 1e-12 * abs(loglik) and halvings < 60:
            step /= 2
            trial = beta + step
            new = fit_terms(trial)
            halvings += 1
        beta, (loglik, grad, info) = trial, new
        if abs(step) < 1e-11 * max(1.0, abs(beta)):
            break
    se = 1.0 / np.sqrt(info)
    return CoxResult(
        hazard_ratio=float(np.exp(beta)),
        ci_low=float(np.exp(beta - Z95 * se)),
        ci_high=float(np.exp(beta + Z95 * se)),
        p_value=float(2 * norm.sf(abs(beta) / se)),
        log_hr=float(beta),
        se=float(se),
    )


def _counts_at(times: np.ndarray, at: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``counts`` placed at the positions of ``at`` among ``times`` (0 elsewhere)."""
    out = np.zeros(times.size)
    out[np.searchsorted(times, at)] = counts
    return out
