"""Four-parameter log-logistic dose-response fits, many curves at once.

The curve is drc's ``LL.4`` (Ritz et al. 2015), the model SynergyFinder fits to each drug
(Ianevski et al. 2017, 2020; Zheng et al. 2022), written with a positive Hill slope::

    f(x) = min + (max - min) / (1 + (ic50 / x) ** hill),   f(0) = min

so ``min`` is the response at dose 0, ``max`` the response at an infinite dose (it may lie
below ``min``: a curve that falls) and ``ic50`` the inflection point (drc's ``e``, the
*relative* IC50). drc's ``b`` is ``-hill`` for a rising curve.

All curves are fitted together: a coarse grid over ``(log ic50, log hill)`` with ``min`` and
``max`` solved by weighted linear least squares at each grid point (they enter linearly)
gives the start, then a batched Levenberg-Marquardt refines all four parameters within
bounds. A curve whose 4PL is no better than a constant (F-test, unless its fitted span
exceeds two residual sds) is ``"flat"`` and predicts its weighted mean. A fit that ends as a
step (Hill slope on its bound, 20) below the lowest tested dose is ``"failed: ..."`` and is
replaced by the same constant rather than a guessed curve (the fits SynergyFinder relies on
fail on such data too); a fit whose inflection point runs 1000-fold outside the tested doses,
or whose slope hits a bound inside them, is marked failed (IC50 withheld) but its curve, which
still describes the tested range, is kept.

References
----------
Ritz C., Baty F., Streibig J.C., Gerhard D. (2015) Dose-response analysis using R.
PLoS ONE 10:e0146021. doi:10.1371/journal.pone.0146021
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

#: p-value of the F-test (4PL against a constant) above which a curve is called flat
FLAT_ALPHA = 0.05
#: a curve whose fitted values span less than this (percentage points) is flat whatever the test
FLAT_SPAN = 1.0
#: a curve that fails the F-test is still not flat when its fitted span exceeds this many
#: residual standard deviations (six doses leave the F-test two degrees of freedom: weak)
FLAT_SIGMAS = 2.0
#: how far (as a factor) the inflection point may lie outside the tested nonzero doses
IC50_RANGE = 1e3
#: bounds of the Hill slope
HILL_BOUNDS = (0.05, 20.0)

_LOGE_GRID = 17
_LOGH_GRID = np.log([0.3, 0.5, 0.8, 1.2, 1.8, 3.0, 5.0])
_ITERATIONS = 80


@dataclass
class CurveFits:
    """Fitted 4PL curves (one entry per curve; arrays of equal length).

    Attributes
    ----------
    min, max, ic50, hill
        Parameters (``ic50`` in the unit of the doses). A flat curve has ``min == max`` equal
        to its weighted mean and ``ic50``, ``hill`` NaN.
    min_se, max_se, ic50_se, hill_se
        Standard errors from the Gauss-Newton covariance (NaN without residual degrees of
        freedom or for a flat curve).
    ic50_lo, ic50_hi
        95 % interval of ``ic50`` (Student t on ``log ic50``, delta method).
    status
        ``"ok"``, ``"flat"`` or ``"failed: <why>"``.
    sigma
        Residual standard deviation (NaN without degrees of freedom).
    dof
        Residual degrees of freedom.
    """

    min: np.ndarray
    max: np.ndarray
    ic50: np.ndarray
    hill: np.ndarray
    min_se: np.ndarray
    max_se: np.ndarray
    ic50_se: np.ndarray
    hill_se: np.ndarray
    ic50_lo: np.ndarray
    ic50_hi: np.ndarray
    status: np.ndarray
    sigma: np.ndarray
    dof: np.ndarray

    def predict(self, dose: np.ndarray) -> np.ndarray:
        """Predicted response at ``dose`` (broadcast against the curves' first axis)."""
        return ll4(dose, self.min, self.max, self.ic50, self.hill)

    def to_frame(self) -> pd.DataFrame:
        """One row per curve with every attribute as a column."""
        return pd.DataFrame({k: getattr(self, k) for k in self.__dataclass_fields__})


def ll4(
    dose: np.ndarray,
    emin: np.ndarray,
    emax: np.ndarray,
    ic50: np.ndarray,
    hill: np.ndarray,
) -> np.ndarray:
    """Evaluate the 4PL (drc ``LL.4``) curve; NaN ``ic50``/``hill`` mean a flat curve at ``emin``.

    Parameters
    ----------
    dose
        Doses (>= 0); broadcast with the parameters (shape ``(n_curves, ...)`` against
        parameters of shape ``(n_curves,)``).
    emin, emax, ic50, hill
        Curve parameters, one per curve.

    Returns
    -------
    numpy.ndarray
        The response, shape of the broadcast.
    """
    dose = np.asarray(dose, dtype=float)
    extra = (1,) * max(dose.ndim - 1, 0)
    emin, emax, ic50, hill = (
        np.asarray(a, dtype=float).reshape(-1, *extra) if np.ndim(a) else np.asarray(a, float)
        for a in (emin, emax, ic50, hill)
    )
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        frac = _sigmoid(hill * (np.log(dose) - np.log(ic50)))
    frac = np.where(dose > 0, frac, 0.0)
    frac = np.where(np.isnan(hill) | np.isnan(ic50), 0.0, frac)
    return emin + (emax - emin) * frac


def inverse_ll4(
    response: np.ndarray,
    emin: np.ndarray,
    emax: np.ndarray,
    ic50: np.ndarray,
    hill: np.ndarray,
) -> np.ndarray:
    """Dose at which a 4PL curve reaches ``response``; ``inf`` beyond ``max``, 0 before ``min``.

    Only meaningful for rising curves (``max > min``); the caller decides what a falling or
    flat curve means.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = (response - emin) / (emax - response)
        dose = ic50 * ratio ** (1.0 / hill)
    dose = np.where(response >= emax, np.inf, dose)
    return np.where(response <= emin, 0.0, dose)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


def fit_curves(
    dose: np.ndarray,
    response: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    fixed_min: np.ndarray | None = None,
    within_ss: np.ndarray | None = None,
    n_obs: np.ndarray | None = None,
    flat_test: bool = True,
    constant_on_failure: bool = True,
    rising: bool = False,
) -> CurveFits:
    """Fit many 4PL curves at once by bounded, batched Levenberg-Marquardt.

    Parameters
    ----------
    dose
        ``(n_curves, n_points)`` doses (>= 0; 0 is the untreated point). NaN pads.
    response
        ``(n_curves, n_points)`` responses (percent); NaN marks a missing point.
    weight
        ``(n_curves, n_points)`` weights, e.g. the number of replicates behind a mean.
        Fitting means with replicate counts as weights gives the same estimates as fitting
        every replicate.
    fixed_min
        ``(n_curves,)``: fix ``min`` (the response at dose 0) where not NaN.
    within_ss, n_obs
        Within-dose sum of squares of the replicates and the number of observations per
        curve, so that the residual variance counts every replicate.
    flat_test
        Call a curve flat when the F-test finds it no better than a constant (and its span
        is small against the residual sd) or when it spans less than :data:`FLAT_SPAN`;
        ``False`` calls flat only a fitted curve that does not move at all.
    constant_on_failure
        Replace a step below the lowest dose by the constant; ``False`` keeps the
        bounded curve (still marked failed).
    rising
        Only rising curves (``max >= min``), as the ZIP fits through the combination use.

    Returns
    -------
    CurveFits
        Parameters, standard errors, IC50 intervals and a status per curve.
    """
    x = np.asarray(dose, dtype=float)
    y = np.asarray(response, dtype=float)
    w = np.ones_like(y) if weight is None else np.asarray(weight, dtype=float).copy()
    missing = np.isnan(y) | np.isnan(x)
    w[missing] = 0.0
    x = np.where(missing, 1.0, x)
    y = np.where(missing, 0.0, y)
    n_curves = x.shape[0]
    fmin = np.full(n_curves, np.nan) if fixed_min is None else np.asarray(fixed_min, float)
    is_fixed = ~np.isnan(fmin)
    pos = (x > 0) & (w > 0)
    with np.errstate(divide="ignore"):
        logx = np.where(pos, np.log(np.where(x > 0, x, 1.0)), 0.0)
    lo_dose = np.where(pos, logx, np.inf).min(axis=1)
    hi_dose = np.where(pos, logx, -np.inf).max(axis=1)
    ok_range = np.isfinite(lo_dose) & np.isfinite(hi_dose)
    lo_dose = np.where(ok_range, lo_dose, 0.0)
    hi_dose = np.where(ok_range, hi_dose, 0.0)
    dose_range = (lo_dose, hi_dose)
    loge_bounds = (lo_dose - np.log(IC50_RANGE), hi_dose + np.log(IC50_RANGE))
    logh_bounds = np.log(HILL_BOUNDS)

    # the linear parameters at every grid point of the two nonlinear ones
    grid_e = np.linspace(0.0, 1.0, _LOGE_GRID)
    le = lo_dose[:, None] - 0.5 + (hi_dose - lo_dose + 1.0)[:, None] * grid_e[None, :]
    best_sse = np.full(n_curves, np.inf)
    start = np.zeros((n_curves, 4))
    for lh in _LOGH_GRID:
        s = np.where(pos[:, None, :], _sigmoid(np.exp(lh) * (logx[:, None, :] - le[:, :, None])),
                     0.0)  # fmt: skip
        c, d = _linear_part(s, y[:, None, :], w[:, None, :], fmin[:, None], is_fixed[:, None])
        if rising:
            d = np.maximum(d, c)
        fit = c[..., None] + (d - c)[..., None] * s
        sse = (w[:, None, :] * (y[:, None, :] - fit) ** 2).sum(axis=2)
        k = np.argmin(sse, axis=1)
        rows = np.arange(n_curves)
        better = sse[rows, k] < best_sse
        best_sse = np.where(better, sse[rows, k], best_sse)
        start[better] = np.column_stack([c[rows, k], d[rows, k], le[rows, k],
                                         np.full(n_curves, lh)])[better]  # fmt: skip

    theta, sse, jtj = _levenberg_marquardt(start, logx, pos, y, w, is_fixed, rising, loge_bounds,
                                           logh_bounds)  # fmt: skip
    return _summarise(theta, sse, jtj, x, y, w, pos, is_fixed, loge_bounds, logh_bounds,
                      within_ss, n_obs, flat_test, constant_on_failure, dose_range)  # fmt: skip


def _linear_part(
    s: np.ndarray, y: np.ndarray, w: np.ndarray, fmin: np.ndarray, is_fixed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least-squares ``c`` and ``d`` of ``y ~ c (1 - s) + d s`` (``c`` maybe fixed)."""
    a = 1.0 - s
    saa = (w * a * a).sum(-1)
    sab = (w * a * s).sum(-1)
    sbb = (w * s * s).sum(-1)
    say = (w * a * y).sum(-1)
    sby = (w * s * y).sum(-1)
    det = saa * sbb - sab * sab
    with np.errstate(divide="ignore", invalid="ignore"):
        c_free = (sbb * say - sab * sby) / det
        d_free = (saa * sby - sab * say) / det
        fm = np.where(is_fixed, fmin, 0.0)
        d_fixed = (sby - fm * sab) / sbb
    mean = (w * y).sum(-1) / np.maximum(w.sum(-1), 1e-300)
    c = np.where(is_fixed, fm, np.where(np.isfinite(c_free), c_free, mean))
    d = np.where(is_fixed, np.where(np.isfinite(d_fixed), d_fixed, fm),
                 np.where(np.isfinite(d_free), d_free, mean))  # fmt: skip
    return c, d


def _model(theta: np.ndarray, logx: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, ...]:
    c, d, le, lh = (theta[:, i, None] for i in range(4))
    h = np.exp(lh)
    u = logx - le
    s = np.where(pos, _sigmoid(h * u), 0.0)
    f = c + (d - c) * s
    ds = s * (1.0 - s) * (d - c)
    jac = np.stack([1.0 - s, s, -h * ds, h * u * ds], axis=-1)
    return f, jac


def _levenberg_marquardt(
    theta: np.ndarray,
    logx: np.ndarray,
    pos: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    is_fixed: np.ndarray,
    rising: bool,
    loge_bounds: tuple[np.ndarray, np.ndarray],
    logh_bounds: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bounded Levenberg-Marquardt on every curve; converged curves leave the active set."""
    theta = theta.copy()
    free = np.ones_like(theta, dtype=bool)
    free[:, 0] = ~is_fixed
    lam = np.full(theta.shape[0], 1e-3)
    f, _ = _model(theta, logx, pos)
    sse = (w * (y - f) ** 2).sum(1)
    eye = np.eye(4)
    act = np.arange(theta.shape[0])
    for _ in range(_ITERATIONS):
        if act.size == 0:
            break
        th, fr, lx, ps, ya, wa = theta[act], free[act], logx[act], pos[act], y[act], w[act]
        f, jac = _model(th, lx, ps)
        jac = jac * fr[:, None, :]
        jw = jac * wa[..., None]
        jtj = np.einsum("npi,npj->nij", jw, jac)
        grad = np.einsum("npi,np->ni", jw, ya - f)
        diag = np.diagonal(jtj, axis1=1, axis2=2)
        damp = lam[act, None] * np.maximum(diag, 1e-12) + (~fr) * 1.0
        step = np.linalg.solve(jtj + damp[:, :, None] * eye, grad[..., None])[..., 0] * fr
        trial = th + step
        trial[:, 2] = np.clip(trial[:, 2], loge_bounds[0][act], loge_bounds[1][act])
        trial[:, 3] = np.clip(trial[:, 3], *logh_bounds)
        if rising:
            trial[:, 1] = np.maximum(trial[:, 1], trial[:, 0])
        f_new, _ = _model(trial, lx, ps)
        sse_new = (wa * (ya - f_new) ** 2).sum(1)
        old = sse[act]
        accept = sse_new < old
        theta[act] = np.where(accept[:, None], trial, th)
        sse[act] = np.where(accept, sse_new, old)
        lam[act] = np.where(accept, lam[act] / 3.0, lam[act] * 4.0)
        tiny = (old - sse_new) <= 1e-10 * (old + 1e-9)
        done = (accept & tiny) | (~accept & (lam[act] > 1e7))
        act = act[~done]
    _, jac = _model(theta, logx, pos)
    jac = jac * free[:, None, :]
    jtj = np.einsum("npi,npj->nij", jac * w[..., None], jac)
    return theta, sse, jtj


def _summarise(
    theta: np.ndarray,
    sse: np.ndarray,
    jtj: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    pos: np.ndarray,
    is_fixed: np.ndarray,
    loge_bounds: tuple[np.ndarray, np.ndarray],
    logh_bounds: np.ndarray,
    within_ss: np.ndarray | None,
    n_obs: np.ndarray | None,
    flat_test: bool,
    constant_on_failure: bool,
    dose_range: tuple[np.ndarray, np.ndarray],
) -> CurveFits:
    lo_dose = dose_range[0]
    n_curves = theta.shape[0]
    n_par = np.where(is_fixed, 3, 4)
    nobs = w.sum(1) if n_obs is None else np.asarray(n_obs, float)
    wss = np.zeros(n_curves) if within_ss is None else np.asarray(within_ss, float)
    dof = nobs - n_par
    total_sse = sse + wss
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma2 = np.where(dof > 0, total_sse / dof, np.nan)
    free = np.ones((n_curves, 4), dtype=bool)
    free[:, 0] = ~is_fixed
    # covariance of the free parameters; a fixed one gets variance 0
    reg = jtj + np.where(free, 0.0, 1.0)[:, :, None] * np.eye(4)
    try:
        inv = np.linalg.inv(reg)
    except np.linalg.LinAlgError:
        inv = np.linalg.pinv(reg)
    var = np.diagonal(inv, axis1=1, axis2=2) * free * sigma2[:, None]
    se = np.sqrt(np.where(var >= 0, var, np.nan))

    c, d, le, lh = theta.T
    ic50 = np.exp(le)
    hill = np.exp(lh)
    tq = stats.t.ppf(0.975, np.maximum(dof, 1))
    ic50_lo = np.exp(le - tq * se[:, 2])
    with np.errstate(over="ignore"):
        ic50_hi = np.exp(le + tq * se[:, 2])

    # flat: the 4PL explains no more than a constant would (F-test), or it barely moves
    wsum = np.maximum(w.sum(1), 1e-300)
    mean = (w * y).sum(1) / wsum
    if np.any(is_fixed):
        mean = np.where(is_fixed, theta[:, 0], mean)
    sse0 = (w * (y - mean[:, None]) ** 2).sum(1) + wss
    extra = n_par - 1 + is_fixed  # a fixed min leaves the constant model nothing to fit
    with np.errstate(divide="ignore", invalid="ignore"):
        fstat = ((sse0 - total_sse) / extra) / (total_sse / dof)
        p_flat = np.where((dof > 0) & (total_sse > 1e-12 * np.maximum(sse0, 1e-300)),
                          stats.f.sf(fstat, extra, np.maximum(dof, 1)), 0.0)  # fmt: skip
    fitted = np.where(
        pos,
        c[:, None]
        + (d - c)[:, None]
        * _sigmoid(
            hill[:, None] * (np.where(pos, np.log(np.where(x > 0, x, 1.0)), 0.0) - le[:, None])
        ),
        c[:, None],
    )
    span = np.where(w > 0, fitted, -np.inf).max(1) - np.where(w > 0, fitted, np.inf).min(1)
    span = np.where(np.isfinite(span), span, 0.0)
    sigma = np.sqrt(sigma2)
    flat = (p_flat > FLAT_ALPHA) & ~(span > FLAT_SIGMAS * sigma) & flat_test
    # without the test only a curve that does not move at all is flat (a rising-only fit
    # through a falling row collapses onto its baseline); small real changes are kept
    flat |= span < (FLAT_SPAN if flat_test else 1e-6)
    flat |= sse0 <= 1e-12
    status = np.full(n_curves, "ok", dtype=object)
    tol = 1e-6
    at_e = (le <= loge_bounds[0] + tol) | (le >= loge_bounds[1] - tol)
    steep = lh >= logh_bounds[1] - tol
    at_h = (lh <= logh_bounds[0] + tol) | steep
    outside = le < lo_dose - tol  # below the lowest dose: nothing between it and dose 0
    step = steep & outside & (pos.sum(1) >= 2)
    status[at_h] = "failed: Hill slope at its bound"
    status[at_e] = "failed: IC50 outside 1000x the tested doses"
    status[step] = "failed: a step below the lowest dose (IC50 not identified)"
    status[pos.sum(1) < 2] = "failed: fewer than two nonzero doses"
    status[flat] = "flat"
    # a step below the lowest dose says only that the response
    # jumped: any curve through it is a guess, so the constant (the mean) stands in, as the
    # fits SynergyFinder relies on end on such data
    const = flat | (step & constant_on_failure)
    bad_ic50 = const | at_e
    flat = const  # a curve kept despite an IC50 on its bound keeps its ic50 to be drawn
    # the constant is the mean of every point, the dose-0 one included (also when ``min``
    # was fixed: a rising-only ZIP fit through a falling row ends flat at its baseline, and
    # the mean is the closer summary of such a row; SynergyFinder's fits end near it too)
    flat_level = (w * y).sum(1) / wsum
    out = CurveFits(
        min=np.where(flat, flat_level, c),
        max=np.where(flat, flat_level, d),
        ic50=np.where(flat, np.nan, ic50),  # withheld from users where bad_ic50 (status)
        hill=np.where(flat, np.nan, hill),
        min_se=np.where(flat, np.nan, se[:, 0]),
        max_se=np.where(flat, np.nan, se[:, 1]),
        ic50_se=np.where(bad_ic50, np.nan, ic50 * se[:, 2]),
        hill_se=np.where(flat, np.nan, hill * se[:, 3]),
        ic50_lo=np.where(bad_ic50, np.nan, ic50_lo),
        ic50_hi=np.where(bad_ic50, np.nan, ic50_hi),
        status=status,
        sigma=sigma,
        dof=dof,
    )
    return out


def fit_dose_response(
    dose: np.ndarray | list[float],
    response: np.ndarray | list[float],
) -> pd.Series:
    """Fit one 4PL (drc ``LL.4``) dose-response curve.

    Parameters
    ----------
    dose
        Doses (>= 0, any unit; 0 is the untreated point). Repeated doses are replicates.
    response
        Responses in percent inhibition (or any scale: the fit does not assume one).

    Returns
    -------
    pandas.Series
        ``min`` (response at dose 0), ``max`` (at an infinite dose), ``ic50`` (inflection
        point, the unit of ``dose``), ``hill`` (> 0), their standard errors ``*_se``,
        ``ic50_lo``/``ic50_hi`` (95 % interval), ``sigma`` (residual sd), ``dof`` and
        ``status`` (``"ok"``, ``"flat"`` or ``"failed: <why>"``).

    Examples
    --------
    >>> d = [0, 0.1, 0.3, 1, 3, 10]
    >>> y = [100 * x / (x + 1) for x in d]
    >>> fit = fit_dose_response(d, y)
    >>> round(float(fit["ic50"]), 4), fit["status"]
    (1.0, 'ok')
    """
    x = np.asarray(dose, dtype=float)
    r = np.asarray(response, dtype=float)
    levels, inverse = np.unique(x, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(levels)).astype(float)
    means = np.bincount(inverse, weights=r, minlength=len(levels)) / counts
    within = float(((r - means[inverse]) ** 2).sum())
    fits = fit_curves(levels[None, :], means[None, :], counts[None, :],
                      within_ss=np.array([within]), n_obs=np.array([float(len(r))]))  # fmt: skip
    return fits.to_frame().iloc[0]
