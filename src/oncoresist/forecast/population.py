"""Population priors (empirical Bayes) for tumour-size series, patient posteriors, forecasts.

The method, for one :class:`~oncoresist.forecast.growth.GrowthModel` (:class:`PopulationModel`):

1. **Observation model.** Readings are compared on a transformed scale ``z = g(y)``
   (``scale``: a power such as the cube root, which turns a volume into a diameter-like
   quantity, or the log) with Gaussian error of standard deviation
   ``sd = sqrt(a^2 + (b g(f))^2)`` (additive plus proportional on that scale; ``b = 0`` for
   ``error="additive"``). A reading below its lower limit of quantification (LLOQ) is
   **censored**: it contributes ``P(z < g(LLOQ))`` (a Tobit likelihood), never a zero.
2. **Population prior.** Each patient's unconstrained parameters ``theta_i ~ N(mu, Omega)``.
   ``mu``, ``Omega`` and the error parameters are learnt from a reference cohort by a
   Laplace-EM loop (empirical Bayes): each patient's posterior mode (MAP) and Laplace
   covariance ``Sigma_i`` (inverse Gauss-Newton Hessian of the negative log posterior)
   given the current prior; then ``mu = mean(theta_i)``,
   ``Omega = mean((theta_i - mu)(theta_i - mu)^T + Sigma_i)``, and ``(a, b)`` maximise the
   expected log-likelihood (residuals at the modes plus their Laplace variance); repeated
   until nothing moves. The MAPs of all patients are found at once by a vectorised
   Levenberg-Marquardt on the stacked residuals (finite-difference Jacobians), so a cohort
   of hundreds fits in well under a second per iteration. Given a Dask client, the
   cohort is cut into chunks of patients fitted on the cluster (:mod:`._dask`), with the
   same numbers.
3. **Patient posterior.** For a new patient: MAP and Laplace covariance under the learnt
   prior (:meth:`PopulationModel.posterior`).
4. **Posterior predictive** (linearised Laplace): the curve at the mode, its delta-method
   parameter variance, the residual error, and a **model-discrepancy** process, Brownian on
   the transformed scale from the patient's first reading (covariance
   ``s^2 (min(t, t') - t_first)``), conditioned on the patient's residuals: forecasts are
   anchored to the latest readings and their spread grows with the horizon. ``s``, a factor
   on the error variance and (``calibration="coverage"``) a spread factor on the predictive
   variance are calibrated on the reference cohort itself: each cohort series is cut before
   its last ``calibration_holdout`` readings and fitted under its leave-one-out prior; ``s``
   and the noise factor maximise the log predictive density of what was cut, the spread
   makes the central 80 % interval cover 80 % of it. Without the discrepancy, in-sample
   residual error understates forecast error.
5. **Leave-one-out priors** (:meth:`PopulationModel.loo_priors`) are cheap: the EM's
   sufficient statistics (sum of modes, sum of second moments) minus the patient's own
   contribution. The other patients' modes were found under a prior that included the
   patient, an effect of order 1/N that this approximation ignores; for a clean split use
   :func:`kfold_forecast`, which refits the population without each fold.

Model choice (:class:`StackedForecaster`): **Bayesian stacking** (Yao et al. 2018) of the
members' predictive distributions. The weights maximise the log score of the mixture on the
reference cohort's own cut-off readings (the same calibration forecasts as step 4), so the
choice is out of sample and made once for the population, not per patient.

Data: one tidy table per call, a row per reading, with ``patient_id``, ``day`` (days from
the start of treatment), ``value`` (size, >= 0) and optionally
``lower_limit_of_quantification``; readings of a patient in time order (ties allowed).

References
----------
Kuhn E, Lavielle M. Maximum likelihood estimation in nonlinear mixed effects models.
Comput Stat Data Anal 2005;49:1020-1038 (EM for nonlinear mixed-effects models).
Yao Y, Vehtari A, Simpson D, Gelman A. Using stacking to average Bayesian predictive
distributions. Bayesian Anal 2018;13:917-1007. doi:10.1214/17-BA1091.
Beal SL. Ways to fit a PK model with some data below the quantification limit.
J Pharmacokinet Pharmacodyn 2001;28:481-504 (the M3 / Tobit likelihood).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import log_ndtr, ndtr, ndtri

from oncoresist.errors import InputError
from oncoresist.forecast._dask import map_fit, using_client
from oncoresist.forecast.growth import GrowthModel, get_model

if TYPE_CHECKING:
    from distributed import Client

ScaleName = Literal["log", "cuberoot", "sqrt", "fourthroot", "identity"]
Discrepancy = Literal["brownian", "none"]
Calibration = Literal["logscore", "coverage"]

#: Predictive quantiles reported by ``predict`` (column ``q<percent>``).
QUANTILES: dict[str, float] = {
    "q025": 0.025,
    "q10": 0.10,
    "q50": 0.50,
    "q90": 0.90,
    "q975": 0.975,
}
_POWERS = {"cuberoot": 1.0 / 3.0, "sqrt": 0.5, "fourthroot": 0.25, "identity": 1.0, "log": 0.0}
_LOG2PI = 0.5 * np.log(2.0 * np.pi)


# ------------------------------------------------------------------------------ scale
@dataclass(frozen=True)
class _Scale:
    """``z = y^p`` (``p > 0``) or ``z = log y`` (``p = 0``) and back."""

    power: float

    def fwd(self, y: np.ndarray) -> np.ndarray:
        y = np.maximum(y, 0.0)
        if self.power == 0.0:
            return np.log(np.maximum(y, 1e-300))
        return y**self.power

    def inv(self, z: np.ndarray) -> np.ndarray:
        if self.power == 0.0:
            return np.exp(np.minimum(z, 700.0))
        return np.maximum(z, 0.0) ** (1.0 / self.power)


def _scale(scale: ScaleName | float) -> _Scale:
    if isinstance(scale, str):
        if scale not in _POWERS:
            raise InputError(
                f"unknown scale {scale!r}; expected one of {', '.join(_POWERS)} or a power",
                field="scale",
            )
        return _Scale(_POWERS[scale])
    if not 0.0 <= float(scale) <= 1.0:
        raise InputError(f"scale power must be in [0, 1]; got {scale}", field="scale")
    return _Scale(float(scale))


# ------------------------------------------------------------------------------ data
@dataclass(frozen=True)
class SeriesBatch:
    """Series of many patients, padded to a rectangle (what the fitting engine works on).

    Attributes
    ----------
    ids : ndarray, shape (P,)
        Patient identifiers, in order of first appearance.
    t : ndarray, shape (P, M)
        Days; padding repeats the patient's last day.
    y : ndarray, shape (P, M)
        Values (data units); 0 in padding.
    mask : ndarray of bool, shape (P, M)
        Real readings.
    censored : ndarray of bool, shape (P, M)
        Readings below their LLOQ.
    lloq : ndarray, shape (P, M)
        Lower limit of quantification per reading (``nan``: none).
    """

    ids: np.ndarray
    t: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    censored: np.ndarray
    lloq: np.ndarray

    @property
    def n_readings(self) -> np.ndarray:
        """Number of readings per patient, shape ``(P,)``."""
        return self.mask.sum(axis=1)

    @property
    def t_last(self) -> np.ndarray:
        """Day of each patient's last reading, shape ``(P,)``."""
        return self.t[np.arange(len(self.ids)), self.n_readings - 1]

    @property
    def last_lloq(self) -> np.ndarray:
        """Each patient's last stated LLOQ (``nan``: none), shape ``(P,)``."""
        out = np.full(len(self.ids), np.nan)
        for i in range(len(self.ids)):
            row = self.lloq[i, self.mask[i]]
            row = row[np.isfinite(row)]
            if row.size:
                out[i] = row[-1]
        return out

    def subset(self, index: np.ndarray) -> SeriesBatch:
        """The patients at positions ``index`` (integer or boolean)."""
        return SeriesBatch(
            self.ids[index],
            self.t[index],
            self.y[index],
            self.mask[index],
            self.censored[index],
            self.lloq[index],
        )


def as_batch(
    data: pd.DataFrame,
    *,
    patient: str = "patient_id",
    day: str = "day",
    value: str = "value",
    lloq: str = "lower_limit_of_quantification",
    min_readings: int = 2,
    source: str | None = None,
) -> SeriesBatch:
    """Validate a long table of readings and pad it into a :class:`SeriesBatch`.

    Parameters
    ----------
    data : DataFrame
        One row per reading: ``patient`` id, ``day`` (days from the start of treatment),
        ``value`` (size in data units, >= 0) and optionally ``lloq`` (lower limit of
        quantification in the same units; a value below it is censored, and a missing value
        with an LLOQ is read as "below the limit").
    patient, day, value, lloq : str
        Column names.
    min_readings : int
        Fewest readings a patient may have.
    source : str, optional
        File name for error messages.

    Returns
    -------
    SeriesBatch

    Raises
    ------
    InputError
        Missing column; a value that is negative, missing without an LLOQ, or not finite;
        days that go backwards within a patient; a patient with fewer than
        ``min_readings`` readings. The record is the 1-based data row (line ``row + 1``
        of a CSV with a header).
    """
    for col in (patient, day, value):
        if col not in data.columns:
            raise InputError(
                f"missing column {col!r}; expected {patient}, {day}, {value}",
                file=source,
                field=col,
            )
    days = pd.to_numeric(data[day], errors="coerce").to_numpy(dtype=float)
    vals = pd.to_numeric(data[value], errors="coerce").to_numpy(dtype=float)
    if lloq in data.columns:
        limits = pd.to_numeric(data[lloq], errors="coerce").to_numpy(dtype=float)
    else:
        limits = np.full(len(data), np.nan)
    rows = np.arange(len(data)) + 2  # CSV line: header is line 1
    bad = ~np.isfinite(days)
    if bad.any():
        raise InputError(
            f"day {data[day].iloc[np.argmax(bad)]!r} is not a number",
            file=source,
            record=int(rows[np.argmax(bad)]),
            field=day,
        )
    missing = np.isnan(vals) & ~np.isfinite(limits)
    bad = missing | (np.isfinite(vals) & (vals < 0)) | np.isinf(vals)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(
            f"value {data[value].iloc[i]!r} is not a size >= 0"
            + (" (a missing value needs an LLOQ)" if missing[i] else ""),
            file=source,
            record=int(rows[i]),
            field=value,
        )
    if np.any(limits[np.isfinite(limits)] <= 0):
        i = int(np.argmax(np.isfinite(limits) & (limits <= 0)))
        raise InputError(
            f"lower limit of quantification {limits[i]} must be > 0",
            file=source,
            record=int(rows[i]),
            field=lloq,
        )
    cens = np.isfinite(limits) & (np.isnan(vals) | (vals < limits))
    vals = np.where(np.isnan(vals), 0.0, vals)
    codes, ids = pd.factorize(data[patient], sort=False)
    counts = np.bincount(codes, minlength=len(ids))
    if (counts < min_readings).any():
        j = int(np.argmax(counts < min_readings))
        raise InputError(
            f"patient {ids[j]!r} has {counts[j]} reading(s); at least {min_readings} needed "
            "to fit a growth curve",
            file=source,
            record=str(ids[j]),
            field=patient,
        )
    order = np.argsort(codes, kind="stable")
    sorted_codes, sorted_days = codes[order], days[order]
    back = (np.diff(sorted_days) < 0) & (np.diff(sorted_codes) == 0)
    if back.any():
        k = int(np.argmax(back)) + 1
        raise InputError(
            f"days of patient {ids[sorted_codes[k]]!r} are not in time order "
            f"({sorted_days[k - 1]:g} then {sorted_days[k]:g}); sort the readings by day",
            file=source,
            record=int(rows[order[k]]),
            field=day,
        )
    n_pat, width = len(ids), int(counts.max())
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = np.arange(len(order)) - starts[sorted_codes]
    t = np.zeros((n_pat, width))
    y = np.zeros((n_pat, width))
    mask = np.zeros((n_pat, width), dtype=bool)
    cmask = np.zeros((n_pat, width), dtype=bool)
    lim = np.full((n_pat, width), np.nan)
    t[sorted_codes, pos] = sorted_days
    y[sorted_codes, pos] = vals[order]
    mask[sorted_codes, pos] = True
    cmask[sorted_codes, pos] = cens[order]
    lim[sorted_codes, pos] = limits[order]
    last = t[np.arange(n_pat), counts - 1]
    t = np.where(mask, t, last[:, None])
    return SeriesBatch(np.asarray(ids, dtype=object), t, y, mask, cmask, lim)


def split_last(
    data: pd.DataFrame, n_holdout: int, *, patient: str = "patient_id", day: str = "day"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split each patient's last ``n_holdout`` readings off (rows kept in their order).

    Returns
    -------
    (past, future) : tuple of DataFrame
        ``past`` holds every reading but the last ``n_holdout`` of each patient; ``future``
        those.
    """
    rank = data.groupby(patient, sort=False).cumcount(ascending=False)
    return data[rank >= n_holdout], data[rank < n_holdout]


# ------------------------------------------------------------------------- the likelihood
@dataclass
class _Problem:
    """Arrays of one fit: the series on the transformed scale and the error parameters."""

    model: GrowthModel
    scale: _Scale
    t: np.ndarray
    z: np.ndarray
    obs: np.ndarray  # uncensored real readings
    cens: np.ndarray  # censored real readings
    zlloq: np.ndarray
    a: float
    b: float

    @classmethod
    def build(cls, model: GrowthModel, scale: _Scale, batch: SeriesBatch) -> _Problem:
        zl = np.where(np.isfinite(batch.lloq), scale.fwd(np.nan_to_num(batch.lloq)), 0.0)
        return cls(
            model,
            scale,
            batch.t,
            scale.fwd(batch.y),
            batch.mask & ~batch.censored,
            batch.mask & batch.censored,
            zl,
            1.0,
            0.0,
        )

    def sd(self, gf: np.ndarray) -> np.ndarray:
        return np.sqrt(self.a**2 + (self.b * gf) ** 2)

    def subset(self, idx: np.ndarray) -> _Problem:
        """The same problem for patients ``idx`` (subclasses with covariates override it)."""
        return _Problem(
            self.model, self.scale, self.t[idx], self.z[idx], self.obs[idx], self.cens[idx],
            self.zlloq[idx], self.a, self.b,
        )  # fmt: skip

    def residuals(self, theta: np.ndarray) -> np.ndarray:
        """Stacked residuals ``(..., P, 2M)`` whose half sum of squares is the -log lik."""
        gf = self.scale.fwd(self.model(self.t, theta))
        sd = self.sd(gf)
        r_obs = np.where(self.obs, (self.z - gf) / sd, 0.0)
        zc = (self.zlloq - gf) / sd
        r_cens = np.where(self.cens, np.sqrt(np.maximum(-2.0 * log_ndtr(zc), 0.0)), 0.0)
        # 2 log(sd / a): the normalising term of the Gaussian, as a residual
        r_sd = (
            np.where(self.obs, np.sqrt(np.log1p((self.b * gf / self.a) ** 2)), 0.0)
            if self.b > 0
            else np.zeros_like(gf)
        )
        return np.concatenate([r_obs + r_cens, r_sd], axis=-1)


def _fit_map(
    prob: _Problem,
    theta0: np.ndarray,
    mu: np.ndarray,
    prec: np.ndarray,
    box: np.ndarray,
    *,
    max_iter: int = 200,
    tol: float = 1e-9,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised Levenberg-Marquardt for every patient's posterior mode.

    Minimises ``0.5 |r(theta)|^2 + 0.5 (theta - mu)^T prec (theta - mu)`` per patient.

    Returns
    -------
    theta : (P, k) modes; hess : (P, k, k) Gauss-Newton Hessians there; cost : (P,)
    """
    n_pat, k = theta0.shape
    lo, hi = box[:, 0], box[:, 1]
    mu = np.broadcast_to(mu, (n_pat, k))
    prec = np.broadcast_to(prec, (n_pat, k, k))
    eye = np.eye(k)

    theta = np.clip(theta0, lo, hi)
    r = prob.residuals(theta)
    d0 = theta - mu
    cost = 0.5 * (np.sum(r**2, axis=-1) + np.einsum("pi,pij,pj->p", d0, prec, d0))
    lam = np.full(n_pat, 1e-3)
    active = np.ones(n_pat, dtype=bool)
    for _ in range(max_iter):
        if not active.any():
            break
        idx = np.flatnonzero(active)
        th, rr = theta[idx], r[idx]
        sub = prob.subset(idx)
        jj = _sub_jac(sub, th, rr)
        pr = prec[idx]
        hess = np.einsum("pni,pnj->pij", jj, jj) + pr
        grad = np.einsum("pni,pn->pi", jj, rr) + np.einsum("pij,pj->pi", pr, th - mu[idx])
        damp = lam[idx, None, None] * (np.einsum("pii->pi", hess)[:, :, None] * eye + 1e-12 * eye)
        step = np.linalg.solve(hess + damp, -grad[..., None])[..., 0]
        cand = np.clip(th + step, lo, hi)
        r_new = sub.residuals(cand)
        d = cand - mu[idx]
        c_new = 0.5 * (np.sum(r_new**2, axis=-1) + np.einsum("pi,pij,pj->p", d, pr, d))
        c_old = cost[idx]
        ok = np.isfinite(c_new) & (c_new < c_old)
        gain = np.where(ok, c_old - c_new, 0.0)
        theta[idx[ok]] = cand[ok]
        r[idx[ok]] = r_new[ok]
        cost[idx[ok]] = c_new[ok]
        lam[idx] = np.where(ok, np.maximum(lam[idx] / 3.0, 1e-9), lam[idx] * 4.0)
        small_step = np.max(np.abs(cand - th), axis=1) < 1e-7
        done = (ok & (gain < tol * (1.0 + c_old))) | (lam[idx] > 1e8) | small_step
        active[idx[done]] = False
    jj = _sub_jac(prob, theta, r)
    hess = np.einsum("pni,pnj->pij", jj, jj) + prec
    return theta, hess, cost


def _sub_jac(prob: _Problem, th: np.ndarray, r: np.ndarray) -> np.ndarray:
    k = th.shape[1]
    h = 1e-6 * np.maximum(1.0, np.abs(th))
    pert = th[None, :, :] + h.T[:, :, None] * np.eye(k)[:, None, :]
    rp = prob.residuals(pert)
    return np.moveaxis((rp - r[None]) / h.T[:, :, None], 0, -1)


def _curve_jacobian(
    model: GrowthModel, scale: _Scale, theta: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """``d g(f(t, theta)) / d theta``, shape ``(P, m, k)``."""
    k = theta.shape[1]
    h = 1e-6 * np.maximum(1.0, np.abs(theta))
    g0 = scale.fwd(model(t, theta))
    pert = theta[None] + h.T[:, :, None] * np.eye(k)[:, None, :]
    gp = scale.fwd(model(t, pert))
    return np.moveaxis((gp - g0[None]) / h.T[:, :, None], 0, -1)


def _safe_inv(hess: np.ndarray) -> np.ndarray:
    k = hess.shape[-1]
    return np.linalg.inv(hess + 1e-10 * np.eye(k))


# ------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class Posterior:
    """Laplace posteriors of a batch of patients under one model and prior.

    Attributes
    ----------
    ids : ndarray, shape (P,)
    theta : ndarray, shape (P, k)
        Posterior modes (unconstrained scale).
    cov : ndarray, shape (P, k, k)
        Laplace covariances (inverse Gauss-Newton Hessians).
    t_last : ndarray, shape (P,)
        Day of each patient's last reading (the forecast origin).
    lloq : ndarray, shape (P,)
        Each patient's last stated LLOQ (``nan``: none).
    t_obs : ndarray, shape (P, M)
        Days of the readings.
    resid : ndarray, shape (P, M)
        Residuals ``g(y) - g(f)`` at the mode on the transformed scale (0 where not used).
    noise_var : ndarray, shape (P, M)
        Error variance of each reading at the mode.
    used : ndarray of bool, shape (P, M)
        Uncensored readings (those the discrepancy process is conditioned on).
    """

    ids: np.ndarray
    theta: np.ndarray
    cov: np.ndarray
    t_last: np.ndarray
    lloq: np.ndarray
    t_obs: np.ndarray
    resid: np.ndarray
    noise_var: np.ndarray
    used: np.ndarray

    @property
    def t_first(self) -> np.ndarray:
        """Day of each patient's first reading (the discrepancy process starts there)."""
        return self.t_obs[:, 0]


def _targets(post: Posterior, days: pd.DataFrame | dict) -> tuple[np.ndarray, np.ndarray]:
    """Row index into ``post`` and day of each target row."""
    if isinstance(days, dict):
        days = pd.DataFrame(
            [(pid, d) for pid, ds in days.items() for d in np.atleast_1d(ds)],
            columns=["patient_id", "day"],
        )
    pos = {pid: i for i, pid in enumerate(post.ids)}
    try:
        rows = np.array([pos[p] for p in days["patient_id"]], dtype=int)
    except KeyError as err:
        raise InputError(
            f"no readings for patient {err.args[0]!r}; a forecast needs its series",
            field="patient_id",
        ) from None
    return rows, days["day"].to_numpy(dtype=float)


def _quantile_table(samples: np.ndarray, lloq: np.ndarray, frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reset_index(drop=True).copy()
    qs = np.quantile(samples, list(QUANTILES.values()), axis=0)
    for name, q in zip(QUANTILES, qs, strict=True):
        out[name] = q
    out["mean"] = samples.mean(axis=0)
    out["prob_below_lloq"] = np.where(
        np.isfinite(lloq), (samples < np.nan_to_num(lloq, nan=-np.inf)).mean(axis=0), np.nan
    )
    return out


# ----------------------------------------------------------------------- the estimator
class PopulationModel:
    """Empirical-Bayes population fit of one growth model, patient posteriors, forecasts.

    Parameters
    ----------
    model : str or GrowthModel
        A name in :data:`~oncoresist.forecast.growth.MODELS` or a model.
    scale : {"cuberoot", "log", "sqrt", "fourthroot", "identity"} or float
        Scale the error model lives on (a power in [0, 1]; 0 is the log). The cube root of
        a volume is proportional to a diameter.
    error : {"combined", "additive"}
        Additive plus proportional error on that scale, or additive only.
    prior : {"population", "weak"}
        Learn ``N(mu, Omega)`` from the cohort, or keep a weak fixed prior (about an
        individual fit; a benchmark baseline).
    discrepancy : {"brownian", "none"}
        Brownian model-discrepancy process (see the module docstring) or none.
    calibration : {"logscore", "coverage"}
        Log score only, or log score then an interval spread for 80 % coverage, on the
        cohort's cut-off readings.
    calibration_holdout : int
        Readings cut from the end of each cohort series to calibrate ``s`` (series with
        at least ``calibration_holdout + 3`` readings take part).
    max_iter : int
        Most EM iterations.
    rng : numpy.random.Generator, int or None
        Seed for the calibration draws (fits are deterministic).

    Attributes
    ----------
    mu_ : ndarray, shape (k,)
        Population mean of the unconstrained parameters.
    omega_ : ndarray, shape (k, k)
        Population covariance.
    error_ : tuple of float
        ``(a, b)`` of the error model on the transformed scale.
    discrepancy_ : float
        ``s`` (transformed units per sqrt(day)).
    noise_factor_, spread_ : float
        Calibrated factor on the error variance and on the predictive standard deviation.
    posterior_ : Posterior
        The cohort patients' posteriors under the fitted prior.
    n_iter_ : int
        EM iterations run.
    calibration_ : dict
        The cohort's cut-off readings (``posterior`` of the cut series, ``rows``, ``day``,
        ``z``, ``censored``, ``zlloq``); used for calibration and for stacking.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> rows = [(p, d, 100 * np.exp(-0.01 * d * (1 + 0.2 * rng.standard_normal())))
    ...         for p in range(20) for d in (0, 30, 60, 90, 120)]
    >>> data = pd.DataFrame(rows, columns=["patient_id", "day", "value"])
    >>> pm = PopulationModel("exponential").fit(data)
    >>> out = pm.predict(data, {0: [150.0]})
    >>> list(out.columns)[:4]
    ['patient_id', 'day', 'q025', 'q10']
    """

    def __init__(
        self,
        model: str | GrowthModel = "general_bertalanffy",
        *,
        scale: ScaleName | float = "cuberoot",
        error: Literal["combined", "additive"] = "combined",
        prior: Literal["population", "weak"] = "population",
        discrepancy: Discrepancy = "brownian",
        calibration: Calibration = "logscore",
        calibration_holdout: int = 2,
        max_iter: int = 40,
        rng: np.random.Generator | int | None = 0,
    ) -> None:
        self.model = model
        self.scale = scale
        self.error = error
        self.prior = prior
        self.discrepancy = discrepancy
        self.calibration = calibration
        self.calibration_holdout = calibration_holdout
        self.max_iter = max_iter
        self.rng = rng

    # ---------------------------------------------------------------- helpers
    def _check(self) -> None:
        for name, value, allowed in (
            ("error", self.error, ("combined", "additive")),
            ("prior", self.prior, ("population", "weak")),
            ("discrepancy", self.discrepancy, ("brownian", "none")),
            ("calibration", self.calibration, ("logscore", "coverage")),
        ):
            if value not in allowed:
                raise InputError(
                    f"{name}={value!r}; expected one of {', '.join(allowed)}", field=name
                )
        if self.calibration_holdout < 1:
            raise InputError("calibration_holdout must be >= 1", field="calibration_holdout")

    def _batch(self, data: pd.DataFrame | SeriesBatch) -> SeriesBatch:
        return data if isinstance(data, SeriesBatch) else as_batch(data)

    def _weak_prior(self, batch: SeriesBatch) -> tuple[np.ndarray, np.ndarray]:
        start = self.model_.initial_guess(batch.t, batch.y, batch.mask)
        mu = np.median(start, axis=0)
        width = np.diff(self._box, axis=1)[:, 0]
        return mu, np.diag((width / 4.0) ** 2)

    # ---------------------------------------------------------------- fitting
    def fit(
        self, data: pd.DataFrame | SeriesBatch, *, client: str | Client | None = None
    ) -> PopulationModel:
        """Learn the population prior, error model and discrepancy from a cohort.

        Parameters
        ----------
        data : DataFrame or SeriesBatch
            The reference cohort's readings (see :func:`as_batch`).
        client : distributed.Client or str, optional
            Find the patients' posterior modes (every EM iteration and the calibration fits)
            in chunks on this Dask cluster, or on the scheduler at this address (a client
            is made for the fit and closed after it). Same numbers as without; the client
            is not kept on the model.

        Returns
        -------
        self
        """
        with using_client(client) as cl:
            return self._fit(data, cl)

    def _fit(self, data: pd.DataFrame | SeriesBatch, client: Client | None) -> PopulationModel:
        self._check()
        self.model_ = get_model(self.model)
        self.scale_ = _scale(self.scale)
        batch = self._batch(data)
        positive = batch.y[batch.mask & (batch.y > 0)]
        self.log_scale_ = float(np.log(np.median(positive))) if positive.size else 0.0
        self._box = self.model_.bounds(self.log_scale_)
        prob = _Problem.build(self.model_, self.scale_, batch)
        zpos = prob.z[prob.obs]
        prob.a = float(0.1 * np.median(np.abs(zpos))) if zpos.size else 1.0
        prob.a = max(prob.a, 1e-12)
        prob.b = 0.05 if self.error == "combined" else 0.0
        mu, omega = self._weak_prior(batch)
        start = np.clip(self.model_.initial_guess(batch.t, batch.y, batch.mask), *self._box.T)
        theta = start
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):
            prec = _safe_inv(omega)
            theta, hess, _ = map_fit(prob, theta, mu, prec, self._box, client=client)
            cov = _safe_inv(hess)
            old = (mu.copy(), omega.copy(), prob.a, prob.b)
            self._update_error(prob, theta, cov)
            if self.prior == "weak":
                if n_iter >= 3 and abs(old[2] - prob.a) < 1e-4 * old[2]:
                    break
                continue
            mu = theta.mean(axis=0)
            d = theta - mu
            omega = (d.T @ d + cov.sum(axis=0)) / len(theta)
            omega = 0.5 * (omega + omega.T) + 1e-8 * np.eye(len(mu))
            moved = max(
                np.max(np.abs(mu - old[0])),
                np.max(np.abs(omega - old[1])) / max(np.max(np.abs(old[1])), 1e-12),
                abs(prob.a - old[2]) / old[2],
                abs(prob.b - old[3]),
            )
            if n_iter > 2 and moved < 1e-3:
                break
        prec = _safe_inv(omega)
        theta, hess, _ = map_fit(prob, theta, mu, prec, self._box, client=client)
        cov = _safe_inv(hess)
        self.mu_, self.omega_ = mu, omega
        self.error_ = (prob.a, prob.b)
        self.n_iter_ = n_iter
        self.n_patients_ = len(batch.ids)
        self.posterior_ = self._make_posterior(batch, prob, theta, cov)
        self._moments = (theta.sum(axis=0), (theta[:, :, None] * theta[:, None, :] + cov).sum(0))
        self.discrepancy_, self.noise_factor_, self.spread_ = 0.0, 1.0, 1.0
        self.calibration_ = self._calibration_table(batch, client)
        self._calibrate()
        return self

    def _update_error(self, prob: _Problem, theta: np.ndarray, cov: np.ndarray) -> None:
        gf = prob.scale.fwd(prob.model(prob.t, theta))
        jg = _curve_jacobian(prob.model, prob.scale, theta, prob.t)
        var = np.einsum("pmi,pij,pmj->pm", jg, cov, jg)
        resid2 = (prob.z - gf) ** 2 + var
        combined = self.error == "combined"
        # flat arrays of the real readings only (no padding, no log_ndtr of uncensored
        # ones): the ~150 evaluations per EM iteration stay cheap for thousands of patients
        gf2_obs, resid2_obs = gf[prob.obs] ** 2, resid2[prob.obs]
        gf2_cens, zgap_cens = gf[prob.cens] ** 2, (prob.zlloq - gf)[prob.cens]

        def nll(x: np.ndarray) -> float:
            a2 = np.exp(2.0 * x[0])
            b2 = np.exp(2.0 * x[1]) if combined else 0.0
            var_obs = a2 + b2 * gf2_obs
            out = 0.5 * np.sum(resid2_obs / var_obs + np.log(var_obs))
            if zgap_cens.size:
                out -= np.sum(log_ndtr(zgap_cens / np.sqrt(a2 + b2 * gf2_cens)))
            return float(out)

        x0 = np.array([np.log(prob.a), np.log(max(prob.b, 1e-3))])
        res = minimize(nll, x0 if combined else x0[:1], method="Nelder-Mead",
                       options={"xatol": 1e-4, "fatol": 1e-6, "maxiter": 400})  # fmt: skip
        prob.a = float(np.exp(res.x[0]))
        prob.b = float(np.exp(res.x[1])) if combined else 0.0
        prob.b = min(prob.b, 5.0)

    def _problem(self, batch: SeriesBatch) -> _Problem:
        prob = _Problem.build(self.model_, self.scale_, batch)
        prob.a, prob.b = self.error_
        return prob

    def loo_priors(self) -> tuple[np.ndarray, np.ndarray]:
        """Leave-one-out priors of the cohort patients, by downdating the EM statistics.

        Returns
        -------
        mu : ndarray, shape (P, k)
            Population mean without patient ``i``.
        omega : ndarray, shape (P, k, k)
            Population covariance without patient ``i``.
        """
        if self.prior == "weak":
            n = self.n_patients_
            return np.tile(self.mu_, (n, 1)), np.tile(self.omega_, (n, 1, 1))
        post = self.posterior_
        n = len(post.ids)
        s1, s2 = self._moments
        own2 = post.theta[:, :, None] * post.theta[:, None, :] + post.cov
        mu = (s1[None] - post.theta) / (n - 1)
        omega = (s2[None] - own2) / (n - 1) - mu[:, :, None] * mu[:, None, :]
        k = len(s1)
        return mu, 0.5 * (omega + np.swapaxes(omega, 1, 2)) + 1e-8 * np.eye(k)

    def posterior(
        self,
        data: pd.DataFrame | SeriesBatch,
        *,
        prior: tuple[np.ndarray, np.ndarray] | None = None,
        client: str | Client | None = None,
    ) -> Posterior:
        """Each patient's Laplace posterior under the population prior.

        Parameters
        ----------
        data : DataFrame or SeriesBatch
            The patients' readings up to the forecast origin.
        prior : (mu, omega), optional
            Another prior, shared ``(k,)``/``(k, k)`` or per patient ``(P, k)``/``(P, k, k)``
            (e.g. from :meth:`loo_priors`); default the fitted ``mu_``, ``omega_``.
        client : distributed.Client or str, optional
            Find the modes in chunks on this Dask cluster (or the scheduler at this address),
            as in :meth:`fit`.

        Returns
        -------
        Posterior
        """
        self._fitted()
        batch = self._batch(data)
        mu, omega = (self.mu_, self.omega_) if prior is None else prior
        prob = self._problem(batch)
        prec = _safe_inv(np.asarray(omega, dtype=float))
        n_pat = len(batch.ids)
        mu_b = np.broadcast_to(np.asarray(mu, dtype=float), (n_pat, self.model_.n_params))
        # two starts, the prior mean and a data-driven guess; keep the better mode
        guess = np.clip(self.model_.initial_guess(batch.t, batch.y, batch.mask), *self._box.T)
        with using_client(client) as cl:
            th1, h1, c1 = map_fit(prob, mu_b.copy(), mu_b, prec, self._box, client=cl)
            th2, h2, c2 = map_fit(prob, guess, mu_b, prec, self._box, client=cl)
        pick = c2 < c1
        theta = np.where(pick[:, None], th2, th1)
        hess = np.where(pick[:, None, None], h2, h1)
        return self._make_posterior(batch, prob, theta, _safe_inv(hess))

    def _make_posterior(
        self, batch: SeriesBatch, prob: _Problem, theta: np.ndarray, cov: np.ndarray
    ) -> Posterior:
        gf = prob.scale.fwd(prob.model(prob.t, theta))
        return Posterior(
            batch.ids,
            theta,
            cov,
            batch.t_last,
            batch.last_lloq,
            batch.t,
            np.where(prob.obs, prob.z - gf, 0.0),
            prob.sd(gf) ** 2,
            prob.obs.copy(),
        )

    def _fitted(self) -> None:
        if not hasattr(self, "mu_"):
            raise InputError("this PopulationModel is not fitted; call fit(cohort) first")

    # ---------------------------------------------------------------- prediction
    def _gauss(
        self,
        post: Posterior,
        rows: np.ndarray,
        t: np.ndarray,
        s: float | None = None,
        c: float | None = None,
        spread: float | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Linearised Gaussian predictive of ``g(y)`` at days ``t`` for patients ``rows``.

        Mean: the curve at the mode plus the discrepancy process's conditional mean given the
        patient's residuals; variance: delta-method parameter variance, the process's
        conditional variance and the error variance at the curve.
        """
        s = self.discrepancy_ if s is None else s
        c = self.noise_factor_ if c is None else c
        theta, cov = post.theta[rows], post.cov[rows]
        a, b = self.error_
        gf = self.scale_.fwd(self.model_(t[:, None], theta))[:, 0]
        jg = _curve_jacobian(self.model_, self.scale_, theta, t[:, None])[:, 0, :]
        var = np.einsum("ni,nij,nj->n", jg, cov, jg) + c * (a**2 + (b * gf) ** 2)
        kappa = self.spread_ if spread is None else spread
        if self.discrepancy == "brownian" and s > 0:
            t0 = post.t_first[rows]
            tj = post.t_obs[rows]
            used = post.used[rows]
            m = tj.shape[1]
            kk = s**2 * (np.minimum(tj[:, :, None], tj[:, None, :]) - t0[:, None, None])
            kk = np.where(used[:, :, None] & used[:, None, :], kk, 0.0)
            noise = np.where(used, c * post.noise_var[rows], 1.0)
            a_mat = kk + noise[:, :, None] * np.eye(m)
            kstar = np.where(used, s**2 * (np.minimum(t[:, None], tj) - t0[:, None]), 0.0)
            sol = np.linalg.solve(
                a_mat, np.stack([post.resid[rows] * used, kstar], axis=-1)
            )  # (n, m, 2)
            gf = gf + np.einsum("nm,nm->n", kstar, sol[..., 0])
            var = var + np.maximum(s**2 * (t - t0) - np.einsum("nm,nm->n", kstar, sol[..., 1]), 0.0)
        return gf, kappa**2 * var

    def sample_predictive(
        self,
        post: Posterior,
        days: pd.DataFrame | dict,
        *,
        n_samples: int = 1000,
        rng: np.random.Generator | int | None = None,
        below_lloq: float | None = None,
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """Draws from the posterior predictive of future readings.

        Parameters
        ----------
        post : Posterior
            From :meth:`posterior`.
        days : DataFrame or dict
            Target rows (``patient_id``, ``day``) or ``{patient_id: [days]}``.
        n_samples : int
            Draws per target.
        rng : numpy.random.Generator, int or None
            Seed; the same seed gives the same draws.
        below_lloq : float, optional
            Report a draw below the patient's LLOQ as this value (how the data report such
            readings, e.g. 0); default keep the latent value.

        Returns
        -------
        targets : DataFrame
            ``patient_id``, ``day`` of each column of ``samples``.
        samples : ndarray, shape (n_samples, n_targets)
            Predicted readings in data units.
        """
        self._fitted()
        rng = np.random.default_rng(rng)
        rows, t = _targets(post, days)
        frame = pd.DataFrame({"patient_id": post.ids[rows], "day": t})
        mean, var = self._gauss(post, rows, t)
        z = mean[None] + np.sqrt(var)[None] * rng.standard_normal((n_samples, len(rows)))
        y = self.scale_.inv(z)
        lloq = post.lloq[rows]
        if below_lloq is not None:
            y = np.where(np.isfinite(lloq) & (y < np.nan_to_num(lloq, nan=-1.0)), below_lloq, y)
        return frame, y

    def predict(
        self,
        data: pd.DataFrame | SeriesBatch | Posterior,
        days: pd.DataFrame | dict,
        *,
        n_samples: int = 1000,
        rng: np.random.Generator | int | None = None,
        below_lloq: float | None = None,
    ) -> pd.DataFrame:
        """Posterior predictive quantiles of future readings.

        Parameters
        ----------
        data : DataFrame, SeriesBatch or Posterior
            The patients' readings up to the forecast origin (or their posterior).
        days, n_samples, rng, below_lloq
            As in :meth:`sample_predictive`.

        Returns
        -------
        DataFrame
            One row per target: ``patient_id``, ``day``, ``q025``, ``q10``, ``q50``,
            ``q90``, ``q975`` (data units), ``mean`` and ``prob_below_lloq`` (``nan``
            without an LLOQ).
        """
        post = data if isinstance(data, Posterior) else self.posterior(data)
        frame, y = self.sample_predictive(
            post, days, n_samples=n_samples, rng=rng, below_lloq=below_lloq
        )
        lloq = post.lloq[_targets(post, frame)[0]]
        return _quantile_table(y, lloq, frame)

    # ---------------------------------------------------------------- calibration
    def _calibration_table(
        self, batch: SeriesBatch, client: Client | None = None
    ) -> dict[str, object]:
        h = self.calibration_holdout
        keep = np.flatnonzero(batch.n_readings >= h + 3)
        if keep.size == 0:
            return {}
        mu, omega = self.loo_priors()
        sub = batch.subset(keep)
        n = sub.n_readings
        past_mask = sub.mask & (np.arange(sub.mask.shape[1])[None] < (n - h)[:, None])
        past = SeriesBatch(
            sub.ids,
            np.where(past_mask, sub.t, sub.t[np.arange(len(n)), n - h - 1][:, None]),
            np.where(past_mask, sub.y, 0.0),
            past_mask,
            sub.censored & past_mask,
            np.where(past_mask, sub.lloq, np.nan),
        )
        post = self.posterior(past, prior=(mu[keep], omega[keep]), client=client)
        pi, mi = np.nonzero(sub.mask & ~past_mask)
        lloq = sub.lloq[pi, mi]
        return {
            "posterior": post,
            "rows": pi,
            "day": sub.t[pi, mi],
            "z": self.scale_.fwd(sub.y[pi, mi]),
            "censored": sub.censored[pi, mi],
            "zlloq": np.where(np.isfinite(lloq), self.scale_.fwd(np.nan_to_num(lloq)), 0.0),
        }

    def calibration_logpdf(self, s: float | None = None, c: float | None = None) -> np.ndarray:
        """Log predictive density of each calibration reading (censored: log CDF).

        The calibration readings are the last ``calibration_holdout`` readings of every
        long-enough cohort series, forecast from the rest under leave-one-out priors.
        """
        cal = self.calibration_
        if not cal:
            return np.zeros(0)
        mean, var = self._gauss(cal["posterior"], cal["rows"], cal["day"], s, c)
        sd = np.sqrt(var)
        dens = -0.5 * ((cal["z"] - mean) / sd) ** 2 - np.log(sd) - _LOG2PI
        return np.where(cal["censored"], log_ndtr((cal["zlloq"] - mean) / sd), dens)

    def _calibration_coverage(self, spread: float, level: float = 0.8) -> float:
        c = self.calibration_
        mean, var = self._gauss(c["posterior"], c["rows"], c["day"], spread=spread)
        sd = np.sqrt(var)
        half = ndtri(0.5 + level / 2.0) * sd
        lower_tail = ndtr((c["zlloq"] - mean) / sd)
        inside = np.where(
            c["censored"],
            lower_tail > (1.0 - level) / 2.0,
            np.abs(c["z"] - mean) <= half,
        )
        return float(inside.mean())

    def _calibrate(self) -> None:
        """Choose ``s`` and the noise factor by log score, then the spread if asked."""
        self.discrepancy_, self.noise_factor_, self.spread_ = 0.0, 1.0, 1.0
        if not self.calibration_:
            return
        bounds = [(-20.0, 2.0), (-6.0, 2.0)]
        starts = [np.array([ls, 0.0]) for ls in (-8.0, -5.0, -3.0)]
        if self.discrepancy == "none":
            bounds, starts = bounds[1:], [np.zeros(1)]
        best = None
        for x0 in starts:
            res = minimize(
                lambda x: -float(np.sum(self.calibration_logpdf(*self._unpack(x)))),
                x0,
                method="Nelder-Mead",
                bounds=bounds,
                options={"xatol": 1e-3, "fatol": 1e-4},
            )
            if best is None or res.fun < best.fun:
                best = res
        self.discrepancy_, self.noise_factor_ = self._unpack(best.x)
        if self.calibration == "coverage":
            lo, hi = -3.0, 3.0
            for _ in range(40):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if self._calibration_coverage(np.exp(mid)) < 0.8 else (lo, mid)
            self.spread_ = float(np.exp(hi))

    def _unpack(self, x: np.ndarray) -> tuple[float, float]:
        if self.discrepancy == "none":
            return 0.0, float(np.exp(x[0]))
        return float(np.exp(x[0])), float(np.exp(x[1]))


# ------------------------------------------------------------------------------ stacking
class StackedForecaster:
    """Bayesian stacking of several :class:`PopulationModel` forecasts.

    Parameters
    ----------
    models : sequence of str or GrowthModel
        Members (default: exponential, Gompertz, general Bertalanffy, Stein, Claret).
    **options
        Passed to every :class:`PopulationModel`.

    Attributes
    ----------
    members_ : list of PopulationModel
    weights_ : ndarray
        Stacking weights (sum to 1): they maximise the summed log of the weighted mixture of
        the members' Gaussian predictive densities over the cohort's calibration readings.
    """

    def __init__(
        self,
        models: Sequence[str | GrowthModel] = (
            "exponential",
            "gompertz",
            "general_bertalanffy",
            "stein",
            "claret",
        ),
        **options: object,
    ) -> None:
        self.models = tuple(models)
        self.options = options

    def fit(
        self, data: pd.DataFrame | SeriesBatch, *, client: str | Client | None = None
    ) -> StackedForecaster:
        """Fit every member on the cohort, then the stacking weights.

        ``client``: a Dask client or scheduler address for the members' fits (see
        :meth:`PopulationModel.fit`).
        """
        batch = data if isinstance(data, SeriesBatch) else as_batch(data)
        with using_client(client) as cl:
            self.members_ = [
                PopulationModel(m, **self.options).fit(batch, client=cl)  # type: ignore[arg-type]
                for m in self.models
            ]
        logp = np.column_stack([m.calibration_logpdf() for m in self.members_])
        self.weights_ = stacking_weights(logp)
        return self

    def predict(
        self,
        data: pd.DataFrame | SeriesBatch,
        days: pd.DataFrame | dict,
        *,
        n_samples: int = 1000,
        rng: np.random.Generator | int | None = None,
        below_lloq: float | None = None,
    ) -> pd.DataFrame:
        """Quantiles of the stacked predictive (columns as :meth:`PopulationModel.predict`)."""
        frame, y, lloq = self.sample_predictive(
            data, days, n_samples=n_samples, rng=rng, below_lloq=below_lloq
        )
        return _quantile_table(y, lloq, frame)

    def sample_predictive(
        self,
        data: pd.DataFrame | SeriesBatch,
        days: pd.DataFrame | dict,
        *,
        n_samples: int = 1000,
        rng: np.random.Generator | int | None = None,
        below_lloq: float | None = None,
    ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """Draws of the mixture: member ``m`` gives ``round(w_m n_samples)`` of them.

        Returns
        -------
        targets : DataFrame
        samples : ndarray, shape (about n_samples, n_targets)
        lloq : ndarray, shape (n_targets,)
        """
        rng = np.random.default_rng(rng)
        batch = data if isinstance(data, SeriesBatch) else as_batch(data)
        counts = np.round(self.weights_ * n_samples).astype(int)
        parts, frame, lloq = [], None, None
        for member, count in zip(self.members_, counts, strict=True):
            if count == 0:
                continue
            post = member.posterior(batch)
            frame, y = member.sample_predictive(
                post, days, n_samples=int(count), rng=rng, below_lloq=below_lloq
            )
            lloq = post.lloq[_targets(post, frame)[0]]
            parts.append(y)
        return frame, np.concatenate(parts, axis=0), lloq


def stacking_weights(logp: np.ndarray) -> np.ndarray:
    """Stacking weights maximising ``sum_i log sum_m w_m exp(logp[i, m])``.

    Parameters
    ----------
    logp : ndarray, shape (n_points, n_models)
        Out-of-sample log predictive densities.

    Returns
    -------
    ndarray, shape (n_models,)
        Weights on the simplex (softmax parametrisation, L-BFGS).
    """
    logp = np.asarray(logp, dtype=float)
    n_models = logp.shape[1]
    if n_models == 1 or logp.shape[0] == 0:
        return np.full(n_models, 1.0 / n_models)
    logp = np.maximum(logp, -1e3)

    def obj(x: np.ndarray) -> float:
        logw = x - np.logaddexp.reduce(x)
        return -float(np.sum(np.logaddexp.reduce(logp + logw[None], axis=1)))

    res = minimize(obj, np.zeros(n_models), method="L-BFGS-B")
    w = np.exp(res.x - np.logaddexp.reduce(res.x))
    return w / w.sum()


# ------------------------------------------------------------------------------ k-fold
def kfold_forecast(
    data: pd.DataFrame,
    make: Callable[[], PopulationModel | StackedForecaster],
    *,
    n_holdout: int = 2,
    n_folds: int = 5,
    n_samples: int = 1000,
    below_lloq: float | None = None,
    rng: np.random.Generator | int | None = 0,
) -> pd.DataFrame:
    """Forecast each patient's last readings with a population learnt without the patient.

    Patients are split into ``n_folds`` folds at random; for each fold a forecaster from
    ``make()`` is fitted on the other folds' **complete** series (the reference cohort), then
    each patient of the fold is fitted on all but their last ``n_holdout`` readings and those
    are forecast. Nothing of a patient's future (or of the patient at all) enters the prior
    their forecast uses.

    Parameters
    ----------
    data : DataFrame
        ``patient_id``, ``day``, ``value`` (and optionally ``lower_limit_of_quantification``).
    make : callable
        Returns a new unfitted forecaster.
    n_holdout, n_folds, n_samples, below_lloq
        Readings forecast per patient, folds, predictive draws, report value below LLOQ.
    rng : numpy.random.Generator, int or None
        Seed for the folds and the draws.

    Returns
    -------
    DataFrame
        One row per forecast reading: ``patient_id``, ``day``, ``observed``, ``fold`` and the
        columns of :meth:`PopulationModel.predict`.
    """
    rng = np.random.default_rng(rng)
    ids = data["patient_id"].unique()
    fold_of = dict(zip(ids, rng.permutation(len(ids)) % n_folds, strict=True))
    folds = data["patient_id"].map(fold_of).to_numpy()
    out = []
    for f in range(n_folds):
        train, test = data[folds != f], data[folds == f]
        forecaster = make().fit(train)
        past, future = split_last(test, n_holdout)
        pred = forecaster.predict(
            past,
            future[["patient_id", "day"]],
            n_samples=n_samples,
            rng=rng,
            below_lloq=below_lloq,
        )
        pred.insert(2, "observed", future["value"].to_numpy())
        pred.insert(3, "fold", f)
        out.append(pred)
    return pd.concat(out, ignore_index=True)
