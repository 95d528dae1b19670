"""The two-population abiraterone model of Zhang et al. 2022 and its per-patient fits.

Zhang, Cunningham, Brown & Gatenby (eLife 2022;11:e76284) fitted every patient of the
Moffitt adaptive-abiraterone pilot trial (17 adaptive, 15 standard-of-care with PSA data)
with a sensitive ``S`` and a resistant ``R`` population,

    dS/dt = r_S S (1 - (S + R) / (K - 9500 u))
    dR/dt = r_R R (1 - (alpha S + R) / K)

with ``K = 10 000``, ``r_S = 0.0156 beta``, ``r_R = 0.0091 beta`` (per day as printed),
``u`` = 1 while abiraterone is given and 0 otherwise, and PSA proportional to ``S + R``,
normalised to its own maximum over the patient's course. The cohort-level ``alpha = 6``
and ``beta = 8`` came from a grid search; ``S0`` and ``R0`` are per patient.

Two integrators (``integrator=``):

``"published"``
    The authors' code (``solveSRODE.m``), step for step: one classical RK4 step of size
    ``h = 1/6`` per **day index**, so the effective per-day rates are ``r_S / 6`` and
    ``r_R / 6``; populations clipped to ``[0, K]`` after each step; the course starts at
    day index 1 (``S0, R0`` there) and a visit's on/off status acts from the day index
    after the visit, so switches act one day late; a visit on day ``t`` is compared with
    day index ``max(floor(t), 1)``. **This is the integrator that reproduces the published
    fits**, because the fits were made with it.
``"accurate"``
    The equations as printed, time in days (``scipy.integrate.solve_ivp``, LSODA), from
    ``S0, R0`` at day 0, the drug switched exactly at each visit's (fractional) day and
    each visit read at its own day. With the published ``beta = 8`` it runs six times
    faster than the fits assumed, so it does not reproduce them; ``beta = 8 / 6`` does,
    to within the one-day lag.

The authors' loss (``R_Beta_GridSearch.m``) weighs a visit by 5 where the treatment
switches (its status differs from the previous visit's; never the first or last visit)
and by 1 otherwise; it divides the weighted sum of squares by ``size(difference(:,1),1)``,
which is 1 for their row vector, so the value is a root weighted sum of squares, not a
mean. :func:`reproduce_trial` reports it as ``authors_loss`` beside the plain RMSE.

References
----------
Zhang J, Cunningham J, Brown J, Gatenby R. Evolution-based mathematical models
significantly prolong response to abiraterone in metastatic castrate-resistant prostate
cancer and identify strategies to further improve outcomes. eLife 2022;11:e76284.
doi:10.7554/eLife.76284 (PMID 35762577). Data and code: GitHub
``cunninghamjj/Evolution-based-mathematical-models-significantly-prolong-response-to-
Abiraterone-in-mCRPC`` (data CC0, code MIT; none of the code is copied here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from os import PathLike
from typing import Literal

import numpy as np
import pandas as pd
from scipy.integrate import solve_ivp

from oncoresist.errors import InputError

__all__ = [
    "CAPACITY",
    "DRUG_CAPACITY_DROP",
    "SWITCH_WEIGHT",
    "TrialReproduction",
    "Zhang2022Params",
    "daily_schedule",
    "read_published_fits",
    "read_trial_psa",
    "reproduce_trial",
    "simulate_course",
    "simulate_patient",
]

Integrator = Literal["published", "accurate"]

CAPACITY = 10_000.0
"""Carrying capacity ``K`` of both populations without abiraterone (cells, model units)."""
DRUG_CAPACITY_DROP = 9_500.0
"""How far abiraterone lowers the sensitive population's capacity (to 500)."""
RS_PER_BETA = 0.0156
"""Sensitive growth rate per unit ``beta`` (per day as printed)."""
RR_PER_BETA = 0.0091
"""Resistant growth rate per unit ``beta`` (per day as printed)."""
PUBLISHED_STEP = 1.0 / 6.0
"""The authors' RK4 step per day index (``h = t_max / (6 t_max)``)."""
SWITCH_WEIGHT = 5.0
"""The authors' loss weight at a visit where the treatment switches."""

TRIAL_COLUMNS = ("arm", "patient", "day", "psa", "abi_on", "rel_psa")
FIT_COLUMNS = ("patient", "S0", "R0", "alpha_RS", "beta_growth_scale")


@dataclass(frozen=True)
class Zhang2022Params:
    """One patient's parameters of the Zhang 2022 model.

    Parameters
    ----------
    s0, r0 : float
        Initial sensitive and resistant densities (model units; ``K = 10 000``).
    alpha : float
        Competition of sensitive on resistant cells, ``alpha_RS`` (published: 6).
    beta : float
        Growth-rate scale (published: 8): ``r_S = 0.0156 beta``, ``r_R = 0.0091 beta``.

    Raises
    ------
    InputError
        A value that is not finite, a negative density or ``alpha``, both densities 0, or
        ``beta`` not positive.

    Examples
    --------
    >>> p = Zhang2022Params(s0=1740.08, r0=1325.03)
    >>> round(p.r_s, 4), round(p.resistant_fraction, 3)
    (0.1248, 0.432)
    """

    s0: float
    r0: float
    alpha: float = 6.0
    beta: float = 8.0

    def __post_init__(self) -> None:
        for name in ("s0", "r0", "alpha", "beta"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise InputError(f"must be a finite number, got {value!r}", field=name)
        for name in ("s0", "r0", "alpha"):
            if getattr(self, name) < 0:
                raise InputError(f"must be >= 0, got {getattr(self, name)}", field=name)
        if self.s0 + self.r0 <= 0:
            raise InputError("s0 + r0 must be > 0 (PSA is normalised by it)", field="s0")
        if self.beta <= 0:
            raise InputError(f"must be > 0, got {self.beta}", field="beta")

    @property
    def r_s(self) -> float:
        """Sensitive growth rate as printed, ``0.0156 beta`` (per day)."""
        return RS_PER_BETA * self.beta

    @property
    def r_r(self) -> float:
        """Resistant growth rate as printed, ``0.0091 beta`` (per day)."""
        return RR_PER_BETA * self.beta

    @property
    def resistant_fraction(self) -> float:
        """Pretreatment resistant fraction ``R0 / (S0 + R0)``."""
        return self.r0 / (self.s0 + self.r0)


def _rhs(s, r, u, alpha, r_s, r_r):
    """Right-hand side; every argument broadcasts (arrays over patients or scalars)."""
    ds = r_s * s * (1.0 - (s + r) / (CAPACITY - DRUG_CAPACITY_DROP * u))
    dr = r_r * r * (1.0 - (alpha * s + r) / CAPACITY)
    return ds, dr


def daily_schedule(day: np.ndarray, abi_on: np.ndarray) -> np.ndarray:
    """Abiraterone on/off for each whole day of a course, from the visits.

    A visit's status holds from its day to the next visit (``abi_on`` = 1: abiraterone
    given in the interval that starts at that visit).

    Parameters
    ----------
    day : array of float
        Visit days (days from the first visit; increasing).
    abi_on : array of {0, 1}
        Status set at each visit.

    Returns
    -------
    numpy.ndarray of int8, length ``floor(day[-1])``
        Element ``d`` is the status during day ``d`` to ``d + 1``: that of the last visit
        with ``floor(day) <= d``.

    Examples
    --------
    >>> daily_schedule(np.array([0.0, 2.0, 4.5]), np.array([1, 0, 1])).tolist()
    [1, 1, 0, 0]
    """
    day = np.asarray(day, dtype=float)
    abi_on = np.asarray(abi_on)
    steps = np.arange(math.floor(day[-1]))
    last_visit = np.searchsorted(np.floor(day), steps, side="right") - 1
    return abi_on[last_visit].astype(np.int8)


def _published_batch(
    s0: np.ndarray, r0: np.ndarray, alpha: np.ndarray, beta: np.ndarray, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The authors' RK4 for ``n`` patients at once.

    ``u`` is ``(n, T - 1)``: the drug for the step from day index ``i + 1`` to ``i + 2``
    (0-based column ``i``). Returns ``S`` and ``R`` as ``(n, T)``, column ``i`` holding day
    index ``i + 1``.
    """
    n, steps = u.shape
    r_s, r_r = RS_PER_BETA * beta, RR_PER_BETA * beta
    s = np.empty((n, steps + 1))
    r = np.empty((n, steps + 1))
    s[:, 0], r[:, 0] = s0, r0
    h = PUBLISHED_STEP
    for i in range(steps):
        si, ri, ui = s[:, i], r[:, i], u[:, i]
        a_s, a_r = _rhs(si, ri, ui, alpha, r_s, r_r)
        b_s, b_r = _rhs(si + h * a_s / 2, ri + h * a_r / 2, ui, alpha, r_s, r_r)
        c_s, c_r = _rhs(si + h * b_s / 2, ri + h * b_r / 2, ui, alpha, r_s, r_r)
        d_s, d_r = _rhs(si + h * c_s, ri + h * c_r, ui, alpha, r_s, r_r)
        # the authors clip to [0, K] after every step
        s[:, i + 1] = np.clip(si + h * (a_s + 2 * (b_s + c_s) + d_s) / 6, 0.0, CAPACITY)
        r[:, i + 1] = np.clip(ri + h * (a_r + 2 * (b_r + c_r) + d_r) / 6, 0.0, CAPACITY)
    return s, r


def _published_steps(day: np.ndarray, abi_on: np.ndarray) -> np.ndarray:
    """The authors' ``u`` for the steps from day index 1 to ``floor(day[-1])``.

    Their ``createU`` gives day index ``i`` the status of the last visit with
    ``floor(day) < i``; the step from index ``i`` uses it. That is :func:`daily_schedule`
    one day late.
    """
    return daily_schedule(day, abi_on)[: max(math.floor(day[-1]) - 1, 0)]


def _accurate_course(
    params: Zhang2022Params,
    day: np.ndarray,
    abi_on: np.ndarray,
    *,
    rtol: float,
    atol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LSODA between visits; returns the grid (visit days and whole days), S and R."""
    times, s_out, r_out = [], [], []
    state = np.array([params.s0, params.r0], dtype=float)
    for k in range(len(day) - 1):
        t0, t1, u = float(day[k]), float(day[k + 1]), float(abi_on[k])
        grid = np.unique(np.concatenate([[t0], np.arange(math.ceil(t0), t1), [t1]]))

        def rhs(_t, y, u=u):
            return np.array(_rhs(y[0], y[1], u, params.alpha, params.r_s, params.r_r))

        sol = solve_ivp(rhs, (t0, t1), state, method="LSODA", t_eval=grid, rtol=rtol, atol=atol)
        if not sol.success:  # pragma: no cover - smooth logistic system
            raise RuntimeError(f"integration failed between days {t0} and {t1}: {sol.message}")
        keep = slice(None) if k == 0 else slice(1, None)  # t0 was the previous end
        times.append(sol.t[keep])
        s_out.append(sol.y[0, keep])
        r_out.append(sol.y[1, keep])
        state = np.maximum(sol.y[:, -1], 0.0)
    return np.concatenate(times), np.concatenate(s_out), np.concatenate(r_out)


def _validate_visits(day: np.ndarray, abi_on: np.ndarray) -> None:
    if day.ndim != 1 or day.shape != abi_on.shape or len(day) < 2:
        raise InputError("need at least two visits with one abi_on per day", field="day")
    if not np.all(np.isfinite(day)) or day[0] < 0 or np.any(np.diff(day) <= 0):
        raise InputError("visit days must be finite, >= 0 and increasing", field="day")
    if day[-1] < 1:
        raise InputError("the last visit must be on day 1 or later", field="day")
    if not np.all(np.isin(abi_on, (0, 1))):
        raise InputError("abi_on must be 0 or 1", field="abi_on")


def simulate_course(
    params: Zhang2022Params,
    day: np.ndarray,
    abi_on: np.ndarray,
    *,
    integrator: Integrator = "published",
    rtol: float = 1e-10,
    atol: float = 1e-8,
) -> pd.DataFrame:
    """Simulate one patient's ``S``, ``R`` and relative PSA over the course of the visits.

    Parameters
    ----------
    params : Zhang2022Params
        Initial densities and ``alpha``, ``beta``.
    day : array of float
        Visit days (days from the first visit; increasing, the first >= 0).
    abi_on : array of {0, 1}
        Abiraterone status set at each visit.
    integrator : {"published", "accurate"}
        See the module docstring; ``"published"`` reproduces the published fits.
    rtol, atol : float
        Tolerances of the ``"accurate"`` integrator (``atol`` in model units).

    Returns
    -------
    pandas.DataFrame
        One row per time point: ``day`` (for ``"published"`` the authors' day indices 1
        to ``floor(day[-1])``; for ``"accurate"`` day 0, every whole day and every visit
        day), ``sensitive``, ``resistant``, ``total`` (model units), ``rel_psa``
        (``total`` over its maximum on the course).

    Raises
    ------
    InputError
        Fewer than two visits, days not increasing, a last visit before day 1, an
        ``abi_on`` not 0 or 1, or an unknown integrator.

    Examples
    --------
    >>> course = simulate_course(Zhang2022Params(100.0, 10.0), np.array([0.0, 30.0]),
    ...                          np.array([0, 0]))
    >>> course["day"].iloc[[0, -1]].tolist(), float(course["rel_psa"].iloc[-1])
    ([1, 30], 1.0)
    """
    day = np.asarray(day, dtype=float)
    abi_on = np.asarray(abi_on)
    _validate_visits(day, abi_on)
    if integrator == "published":
        u = _published_steps(day, abi_on)[None, :]
        s, r = _published_batch(*(np.array([v]) for v in _param_tuple(params)), u)
        s, r = s[0], r[0]
        times = np.arange(1, len(s) + 1)
    elif integrator == "accurate":
        times, s, r = _accurate_course(params, day, abi_on, rtol=rtol, atol=atol)
    else:
        raise InputError(
            f"unknown integrator {integrator!r}; expected 'published' or 'accurate'",
            field="integrator",
        )
    total = s + r
    return pd.DataFrame(
        {"day": times, "sensitive": s, "resistant": r, "total": total,
         "rel_psa": total / total.max()}
    )  # fmt: skip


def _param_tuple(params: Zhang2022Params) -> tuple[float, float, float, float]:
    return params.s0, params.r0, params.alpha, params.beta


def _switch_weights(abi_on: np.ndarray) -> np.ndarray:
    """The authors' weights: 5 where the status differs from the previous visit's."""
    weights = np.ones(len(abi_on))
    interior = np.flatnonzero(abi_on[1:-1] != abi_on[:-2]) + 1
    weights[interior] = SWITCH_WEIGHT
    return weights


def simulate_patient(
    visits: pd.DataFrame,
    params: Zhang2022Params,
    *,
    integrator: Integrator = "published",
) -> pd.DataFrame:
    """One patient's simulated relative PSA at each visit, beside the observed one.

    Parameters
    ----------
    visits : pandas.DataFrame
        That patient's rows of :func:`read_trial_psa` (``day``, ``abi_on``, ``rel_psa``;
        ``arm`` and ``patient`` are carried over when present; one patient only).
    params : Zhang2022Params
        The patient's parameters.
    integrator : {"published", "accurate"}
        See the module docstring.

    Returns
    -------
    pandas.DataFrame
        The visits' columns plus ``sim_rel_psa`` (the model's ``S + R`` at the visit over
        its maximum on the course), ``residual`` (``rel_psa - sim_rel_psa``) and
        ``weight`` (the authors' loss weight: 5 at a switch, else 1).

    Examples
    --------
    >>> visits = pd.DataFrame({"day": [0.0, 20.0, 40.0], "abi_on": [1, 0, 0],
    ...                        "rel_psa": [1.0, 0.4, 0.6]})
    >>> simulate_patient(visits, Zhang2022Params(900.0, 100.0))["weight"].tolist()
    [1.0, 5.0, 1.0]
    """
    names = visits["patient"].unique() if "patient" in visits else np.array(["patient"])
    if len(names) != 1:
        raise InputError(
            f"visits of {len(names)} patients given; simulate_patient takes one (use "
            "reproduce_trial for many)",
            field="patient",
        )
    fits = pd.DataFrame(
        {"patient": names, "S0": [params.s0], "R0": [params.r0], "alpha_RS": [params.alpha],
         "beta_growth_scale": [params.beta]}
    )  # fmt: skip
    trial = visits.assign(patient=names[0])
    return reproduce_trial(trial, fits, integrator=integrator).visits


@dataclass(frozen=True)
class TrialReproduction:
    """What :func:`reproduce_trial` returns.

    Attributes
    ----------
    visits : pandas.DataFrame
        One row per visit: ``arm``, ``patient``, ``day`` (days), ``abi_on``, ``rel_psa``
        (observed), ``sim_rel_psa``, ``residual``, ``weight``.
    summary : pandas.DataFrame
        One row per patient: ``arm``, ``patient``, ``n_visits``, ``n_switches`` (visits
        weighted 5), ``s0``, ``r0``, ``resistant_fraction_0`` (``R0 / (S0 + R0)``),
        ``first_abi_day`` (day of the first visit with abiraterone on; NaN if none),
        ``resistant_fraction_at_abi`` (``R / (S + R)`` in the model when abiraterone
        first acts), ``resistant_ratio_at_abi`` (``R / S`` then: the x axis of eLife
        Figure 2c, computed as the authors' ``ExtractAbiStartDensities.m`` does),
        ``off_drug_fraction`` (fraction of the
        days from the first to the last visit without abiraterone), ``rmse`` (RMSE of
        relative PSA over the visits), ``baseline_rmse`` (RMSE of the constant
        predictor at the patient's mean relative PSA), ``correlation`` (Pearson,
        simulated against observed; NaN if either is constant), ``weighted_rmse``
        (``sqrt(mean((w e)^2))``) and ``authors_loss`` (``sqrt(sum((w e)^2))``, the
        value their code minimised).
    """

    visits: pd.DataFrame
    summary: pd.DataFrame


def reproduce_trial(
    trial: pd.DataFrame,
    fits: pd.DataFrame,
    *,
    integrator: Integrator = "published",
    rtol: float = 1e-10,
    atol: float = 1e-8,
) -> TrialReproduction:
    """Run every patient of the trial with their fitted parameters and compare with the data.

    Parameters
    ----------
    trial : pandas.DataFrame
        As from :func:`read_trial_psa` (``arm`` optional).
    fits : pandas.DataFrame
        As from :func:`read_published_fits`: ``patient, S0, R0, alpha_RS,
        beta_growth_scale``.
    integrator : {"published", "accurate"}
        See the module docstring; ``"published"`` runs all patients as one numpy batch.
    rtol, atol : float
        Tolerances of the ``"accurate"`` integrator.

    Returns
    -------
    TrialReproduction
        ``visits`` and ``summary`` tables (columns listed there).

    Raises
    ------
    InputError
        A trial patient without a fit (field ``patient``), or parameters or visits the
        model cannot take (naming the patient).

    Examples
    --------
    >>> trial = pd.DataFrame({"arm": "SOC", "patient": "X", "day": [0.0, 30.0, 60.0],
    ...                       "abi_on": [1, 1, 1], "rel_psa": [1.0, 0.5, 0.3]})
    >>> fits = pd.DataFrame({"patient": ["X"], "S0": [5000.0], "R0": [10.0],
    ...                      "alpha_RS": [6.0], "beta_growth_scale": [8.0]})
    >>> reproduce_trial(trial, fits).summary[["patient", "n_visits"]].values.tolist()
    [['X', 3]]
    """
    if integrator not in ("published", "accurate"):
        raise InputError(
            f"unknown integrator {integrator!r}; expected 'published' or 'accurate'",
            field="integrator",
        )
    by_patient = fits.set_index("patient")
    patients = list(dict.fromkeys(trial["patient"]))
    missing = [p for p in patients if p not in by_patient.index]
    if missing:
        raise InputError(f"no fitted parameters for {', '.join(missing)}", field="patient")
    groups = {p: g for p, g in trial.groupby("patient", sort=False)}
    params, days, status = [], [], []
    for p in patients:
        row = by_patient.loc[p]
        try:
            par = Zhang2022Params(
                float(row["S0"]), float(row["R0"]),
                float(row["alpha_RS"]), float(row["beta_growth_scale"]),
            )  # fmt: skip
            day = groups[p]["day"].to_numpy(dtype=float)
            abi = groups[p]["abi_on"].to_numpy()
            _validate_visits(day, abi)
        except InputError as exc:
            raise InputError(exc.message, record=f"patient {p}", field=exc.field) from None
        params.append(par)
        days.append(day)
        status.append(abi)

    if integrator == "published":
        sim, at_abi = _published_readout(params, days, status)
    else:
        sim, at_abi = [], []
        for par, day, abi in zip(params, days, status, strict=True):
            times, s, r = _accurate_course(par, day, abi, rtol=rtol, atol=atol)
            total = s + r
            sim.append(total[np.searchsorted(times, day)] / total.max())
            first = np.flatnonzero(abi == 1)
            if first.size:
                j = np.searchsorted(times, day[first[0]])
                at_abi.append(r[j] / total[j])
            else:
                at_abi.append(np.nan)

    visit_rows, summary_rows = [], []
    for p, par, day, abi, model, fraction in zip(
        patients, params, days, status, sim, at_abi, strict=True
    ):
        g = groups[p]
        observed = g["rel_psa"].to_numpy(dtype=float)
        weights = _switch_weights(abi)
        residual = observed - model
        visit_rows.append(
            pd.DataFrame(
                {"arm": g["arm"].to_numpy() if "arm" in g else "", "patient": p, "day": day,
                 "abi_on": abi, "rel_psa": observed, "sim_rel_psa": model,
                 "residual": residual, "weight": weights}
            )
        )  # fmt: skip
        on = np.flatnonzero(abi == 1)
        span = day[-1] - day[0]
        summary_rows.append(
            {
                "arm": g["arm"].iloc[0] if "arm" in g else "",
                "patient": p,
                "n_visits": len(day),
                "n_switches": int(np.sum(weights == SWITCH_WEIGHT)),
                "s0": par.s0,
                "r0": par.r0,
                "resistant_fraction_0": par.resistant_fraction,
                "first_abi_day": float(day[on[0]]) if on.size else np.nan,
                "resistant_fraction_at_abi": fraction,
                "resistant_ratio_at_abi": _ratio(fraction),
                "off_drug_fraction": float(np.sum(np.diff(day) * (abi[:-1] == 0)) / span),
                "rmse": float(np.sqrt(np.mean(residual**2))),
                "baseline_rmse": float(np.std(observed)),
                "correlation": _pearson(model, observed),
                "weighted_rmse": float(np.sqrt(np.mean((weights * residual) ** 2))),
                "authors_loss": float(np.sqrt(np.sum((weights * residual) ** 2))),
            }
        )
    return TrialReproduction(
        visits=pd.concat(visit_rows, ignore_index=True),
        summary=pd.DataFrame(summary_rows),
    )


def _ratio(fraction: float) -> float:
    """``R / S`` from ``R / (S + R)``; inf when no sensitive cells are left."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(fraction) / (1.0 - np.float64(fraction)))


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _published_readout(
    params: list[Zhang2022Params], days: list[np.ndarray], status: list[np.ndarray]
) -> tuple[list[np.ndarray], list[float]]:
    """Relative PSA at the visits and R fraction at first abiraterone, all patients at once."""
    n_steps = [math.floor(d[-1]) - 1 for d in days]
    u = np.zeros((len(params), max(n_steps)), dtype=np.int8)
    for i, (day, abi) in enumerate(zip(days, status, strict=True)):
        u[i, : n_steps[i]] = _published_steps(day, abi)
    columns = np.array([_param_tuple(p) for p in params]).T  # s0, r0, alpha, beta
    s, r = _published_batch(*columns, u)
    sim, at_abi = [], []
    for i, day in enumerate(days):
        total = (s[i] + r[i])[: n_steps[i] + 1]  # day indices 1 .. floor(last day)
        index = np.maximum(np.floor(day).astype(int), 1) - 1
        sim.append(total[index] / total.max())
        # the authors' ExtractAbiStartDensities: the first day index whose step is on drug
        on = np.flatnonzero(u[i, : n_steps[i]] == 1)
        at_abi.append(float(r[i, on[0]] / total[on[0]]) if on.size else float("nan"))
    return sim, at_abi


def _read_csv(path: str | PathLike[str], columns: tuple[str, ...], what: str) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputError(f"no such {what} file", file=path) from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise InputError(f"not a readable CSV ({exc})", file=path) from None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; expected "
            f"{', '.join(columns)}, found {', '.join(table.columns)}",
            file=path,
            record=1,
        )
    if table.empty:
        raise InputError(f"no {what} rows", file=path)
    return table


def _numbers(table: pd.DataFrame, column: str, path, *, low: float = -math.inf) -> np.ndarray:
    values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < low)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        expected = "a finite number" if low == -math.inf else f"a finite number >= {low:g}"
        raise InputError(
            f"{table[column].iloc[i]!r} is not {expected}", file=path, record=i + 2, field=column
        )
    return values


def read_trial_psa(path: str | PathLike[str]) -> pd.DataFrame:
    """Read the trial's serial PSA table (``zhang2022_abiraterone_trial_psa.csv``).

    Parameters
    ----------
    path : str or Path
        CSV with columns ``arm`` (Adaptive or SOC), ``patient``, ``day`` (days from the
        first visit), ``psa`` (ng/mL), ``abi_on`` (1 = abiraterone given in the interval
        that starts at this visit) and ``rel_psa`` (PSA over the patient's maximum).

    Returns
    -------
    pandas.DataFrame
        Those columns, typed (``day``, ``psa``, ``rel_psa`` float; ``abi_on`` int8), in file
        order.

    Raises
    ------
    InputError
        Naming file, line and column: a missing column, an empty patient, a value that is
        not a number, a negative day or PSA, an ``abi_on`` not 0 or 1, a patient with
        fewer than two visits or whose days do not increase.
    """
    table = _read_csv(path, TRIAL_COLUMNS, "trial PSA")
    empty = table["patient"].str.strip() == ""
    if empty.any():
        line = int(np.flatnonzero(empty)[0]) + 2
        raise InputError("empty patient", file=path, record=line, field="patient")
    day = _numbers(table, "day", path, low=0.0)
    psa = _numbers(table, "psa", path, low=0.0)
    rel = _numbers(table, "rel_psa", path, low=0.0)
    abi = _numbers(table, "abi_on", path)
    not_binary = ~np.isin(abi, (0.0, 1.0))
    if not_binary.any():
        i = int(np.flatnonzero(not_binary)[0])
        raise InputError(
            f"{table['abi_on'].iloc[i]!r} is not 0 or 1", file=path, record=i + 2, field="abi_on"
        )
    out = pd.DataFrame(
        {"arm": table["arm"].str.strip(), "patient": table["patient"].str.strip(), "day": day,
         "psa": psa, "abi_on": abi.astype(np.int8), "rel_psa": rel}
    )  # fmt: skip
    for patient, rows in out.groupby("patient", sort=False):
        lines = rows.index.to_numpy() + 2
        if len(rows) < 2:
            raise InputError(
                f"patient {patient} has one visit; the model needs two or more",
                file=path, record=int(lines[0]), field="patient",
            )  # fmt: skip
        if np.any(np.diff(lines) != 1):
            raise InputError(
                f"patient {patient}'s rows are not together", file=path,
                record=int(lines[np.flatnonzero(np.diff(lines) != 1)[0] + 1]), field="patient",
            )  # fmt: skip
        back = np.flatnonzero(np.diff(rows["day"].to_numpy()) <= 0)
        if back.size:
            raise InputError(
                f"patient {patient}'s days must increase; {rows['day'].iloc[back[0] + 1]:g} "
                f"follows {rows['day'].iloc[back[0]]:g}",
                file=path, record=int(lines[back[0] + 1]), field="day",
            )  # fmt: skip
        if rows["day"].iloc[-1] < 1:
            raise InputError(
                f"patient {patient}'s last visit must be on day 1 or later",
                file=path, record=int(lines[-1]), field="day",
            )  # fmt: skip
    return out


def read_published_fits(path: str | PathLike[str]) -> pd.DataFrame:
    """Read the per-patient fits (``zhang2022_published_fits.csv``).

    Parameters
    ----------
    path : str or Path
        CSV with columns ``patient``, ``S0``, ``R0`` (initial densities, model units),
        ``alpha_RS`` and ``beta_growth_scale``.

    Returns
    -------
    pandas.DataFrame
        Those columns, the numbers as float, one row per patient.

    Raises
    ------
    InputError
        Naming file, line and column: a missing column, an empty or repeated patient, a
        value that is not a number, a negative density or ``alpha_RS``, a ``beta`` not
        positive.
    """
    table = _read_csv(path, FIT_COLUMNS, "published fits")
    patient = table["patient"].str.strip()
    for i, name in enumerate(patient):
        if not name:
            raise InputError("empty patient", file=path, record=i + 2, field="patient")
    repeated = patient.duplicated()
    if repeated.any():
        i = int(np.flatnonzero(repeated)[0])
        raise InputError(
            f"patient {patient.iloc[i]} appears twice", file=path, record=i + 2, field="patient"
        )
    out = pd.DataFrame({"patient": patient})
    for column in ("S0", "R0", "alpha_RS"):
        out[column] = _numbers(table, column, path, low=0.0)
    out["beta_growth_scale"] = _numbers(table, "beta_growth_scale", path)
    bad = np.flatnonzero(out["beta_growth_scale"].to_numpy() <= 0)
    if bad.size:
        raise InputError(
            "must be > 0", file=path, record=int(bad[0]) + 2, field="beta_growth_scale"
        )
    return out
