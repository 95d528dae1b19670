"""Tumour-size and ctDNA forecasts under a treatment schedule, with a population prior.

The size track of issue 16, with the same interface as
:class:`~oncoresist.forecast.psa.PSAForecaster` (so ``rolling_origin_backtest(table,
SizeForecaster, rule="every")`` works unchanged).

**Dynamics.** Growth-inhibition models whose drug effect follows the schedule
(:data:`~oncoresist.forecast.growth.EXPOSURE_MODELS`; each reading's ``on_treatment`` holds
until the next reading, as in the PSA track):

* ``stein_onoff``: a sensitive fraction killed at ``d`` per day on treatment and regrowing
  at ``g`` off it, a resistant fraction growing at ``g`` (Stein 2008 with the schedule);
* ``claret_onoff``: growth ``k_g`` and a kill ``k_d exp(-lambda E)`` on treatment that
  wanes with the days on drug ``E`` (Claret 2009 with exposure-driven resistance).

**Markers.** ``sum_of_diameters`` (mm), ``lesion_volume`` (mm3): the burden itself;
``ctdna_mtm_per_ml``: shedding ``M = q B`` (:mod:`~oncoresist.forecast.links`; the
patient's shedding rate ``q`` is folded into the size parameter, since it is not
identifiable from ctDNA alone); ``ctdna_vaf``: ``log x`` (tumour-to-background genome
ratio) follows the burden dynamics and VAF is the purity-ploidy formula of ``x``. All
markers are compared on the natural-log scale with Gaussian error; a reading below its
lower limit of quantification (LLOQ) is censored (Tobit). A sum of diameters of 0
without an LLOQ (every target gone) is censored below 5 mm (RECIST's smallest
measurable size), a volume of 0 below that of a 5 mm lesion (62.5 mm3).

**Population prior, posterior, predictive**: as in the PSA track: ``theta_i ~ N(mu,
Omega)`` by Laplace-EM with :func:`oncoresist.forecast.population._fit_map` (``log_v0``
relative to the patient's first reading); each patient's Laplace posterior; a joint
linearised predictive over the future readings with a Brownian model discrepancy on the
log scale conditioned on the patient's residuals (forecasts anchored to the latest
reading) and the error. **Heavy tails**: the predictive is a multivariate Student-t
(Gaussian scale mixture: each path's deviation is scaled by ``sqrt(w)``, ``w ~ nu /
chi2_nu``). The discrepancy scale ``s``, a noise factor ``c`` and the degrees of freedom
``nu`` maximise the log score, then a spread ``kappa`` sets the 80 % interval coverage,
all on the **reference cohort's own rolling origins** under leave-one-out priors (every
reading from the third on is an origin; its targets the later readings within
``max_horizon_days``): never on the patients forecast.

**Model choice: Bayesian stacking** (Yao et al. 2018) of the members' Student-t predictive
densities on those same out-of-sample calibration readings (one set of weights for the
population, :func:`~oncoresist.forecast.population.stacking_weights`); forecasts are the
mixture.

**Progression.** Size markers: RECIST 1.1 (:func:`~oncoresist.forecast.recist.
recist_progression`: >= 20 % and >= 5 mm above the nadir, volumes through the equivalent
diameter). ctDNA: a confirmed >= 2-fold rise above the nadir and above the LLOQ
(:func:`~oncoresist.forecast.links.ctdna_progression`; an assumption). Probability of
progression within ``window_days`` (180) = share of joint predictive paths at the recorded
future visits on which the rule fires (an unconfirmable ctDNA rise counts as an event).

:class:`StudentTForecaster` puts the same heavy-tailed predictive on a
:class:`~oncoresist.forecast.population.PopulationModel` (treatment-free growth curves,
the Laleh 2022 benchmark).

References
----------
Stein WD et al. Oncologist 2008;13:1046-1054. doi:10.1634/theoncologist.2008-0075.
Claret L et al. J Clin Oncol 2009;27:4103-4108. doi:10.1200/JCO.2008.21.0807.
Yao Y, Vehtari A, Simpson D, Gelman A. Bayesian Anal 2018;13:917-1007 (stacking).
Eisenhauer EA et al. Eur J Cancer 2009;45:228-247 (RECIST 1.1).
Avanzini S et al. Sci Adv 2020;6:eabc4308 (ctDNA shedding).
Lange KL, Little RJA, Taylor JMG. Robust statistical modeling using the t distribution.
J Am Stat Assoc 1989;84:881-896 (Student-t as a scale mixture of normals).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import minimize, minimize_scalar
from scipy.special import gammaln, log_ndtr, stdtr, stdtrit

from oncoresist.errors import InputError
from oncoresist.forecast._inputs import MARKERS
from oncoresist.forecast.backtest import cycle_origins, next_cycle_targets
from oncoresist.forecast.growth import ExposureModel, exposure_days, get_exposure_model
from oncoresist.forecast.links import ctdna_first_progression, log_ratio_from_vaf, log_vaf_link
from oncoresist.forecast.population import (
    QUANTILES,
    PopulationModel,
    _fit_map,
    _Problem,
    _safe_inv,
    _Scale,
    _sub_jac,
    _targets,
    as_batch,
    stacking_weights,
)
from oncoresist.forecast.recist import diameter_from_volume, recist_first_progression

__all__ = [
    "CTDNA_MARKERS",
    "SIZE_MARKERS",
    "STRATEGIES",
    "SizeForecaster",
    "StudentTForecaster",
    "check_marker_table",
    "simulate_size_cohort",
]

SIZE_MARKERS = ("sum_of_diameters", "lesion_volume")
CTDNA_MARKERS = ("ctdna_mtm_per_ml", "ctdna_vaf")
STRATEGIES = ("continue", "stop", "switch", "add")
#: Censoring floor of a size of 0 given without an LLOQ (RECIST 1.1: 5 mm is the smallest
#: size recorded for a lesion too small to measure; a 5 mm lesion is 0.5 x 5^3 mm3).
SIZE_FLOOR = {"sum_of_diameters": 5.0, "lesion_volume": 62.5}
Marker = Literal["sum_of_diameters", "lesion_volume", "ctdna_mtm_per_ml", "ctdna_vaf"]
_LOG10 = np.log(10.0)
_NU_BOX = (np.log(1.5), np.log(300.0))


# ---------------------------------------------------------------------------- Student-t
def _t_logpdf(x: np.ndarray, nu: float) -> np.ndarray:
    return (
        gammaln(0.5 * (nu + 1.0)) - gammaln(0.5 * nu) - 0.5 * np.log(nu * np.pi)
        - 0.5 * (nu + 1.0) * np.log1p(x**2 / nu)
    )  # fmt: skip


def _t_logcdf(x: np.ndarray, nu: float) -> np.ndarray:
    return np.log(np.maximum(stdtr(nu, x), 1e-300))


def _calibrate_t(
    logpdf: Callable[[float, float, float, float], np.ndarray],
    covered: Callable[[float, float, float, float], float],
    *,
    fixed: tuple[float, float] | None = None,
) -> tuple[float, float, float, float]:
    """``(s, c, nu)`` by the summed log score, then ``kappa`` for 80 % coverage.

    With ``fixed = (s, c)`` only ``nu`` is chosen by the log score (the median and the
    anchoring of the forecast stay those of the Gaussian calibration).
    """
    if fixed is not None:
        s, c = fixed
        res = minimize_scalar(
            lambda x: -float(np.sum(logpdf(s, c, float(np.exp(x)), 1.0))),
            bounds=_NU_BOX,
            method="bounded",
            options={"xatol": 1e-3},
        )
        nu = float(np.exp(res.x))
    else:
        starts = [(-4.0, 0.0, np.log(5.0)), (-6.0, 0.0, np.log(30.0)), (-3.0, 0.5, np.log(3.0))]
        best = None
        for x0 in starts:
            res = minimize(
                lambda x: (
                    -float(
                        np.sum(
                            logpdf(
                                float(np.exp(x[0])), float(np.exp(x[1])), float(np.exp(x[2])), 1.0
                            )
                        )
                    )
                ),
                np.array(x0),
                method="Nelder-Mead",
                bounds=[(-20.0, 1.0), (-6.0, 3.0), _NU_BOX],
                options={"xatol": 1e-3, "fatol": 1e-4, "maxiter": 600},
            )
            if best is None or res.fun < best.fun:
                best = res
        s, c, nu = (float(v) for v in np.exp(best.x))
    lo, hi = -3.0, 3.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if covered(s, c, nu, float(np.exp(mid))) < 0.8 else (lo, mid)
    return s, c, nu, float(np.exp(hi))


def _mixture_quantiles(
    means: list[np.ndarray], sds: list[np.ndarray], nus: list[float], weights: np.ndarray,
    probs: Sequence[float],
) -> np.ndarray:  # fmt: skip
    """Quantiles ``(len(probs), n)`` of a mixture of Student-t marginals (bisection)."""
    lo = np.min([m + s * stdtrit(nu, 1e-5) for m, s, nu in zip(means, sds, nus, strict=True)], 0)
    hi = np.max(
        [m + s * stdtrit(nu, 1 - 1e-5) for m, s, nu in zip(means, sds, nus, strict=True)], 0
    )
    out = []
    for p in probs:
        a, b = lo.copy(), hi.copy()
        for _ in range(60):
            x = 0.5 * (a + b)
            cdf = sum(
                w * stdtr(nu, (x - m) / s)
                for w, m, s, nu in zip(weights, means, sds, nus, strict=True)
            )
            a, b = np.where(cdf < p, x, a), np.where(cdf < p, b, x)
        out.append(0.5 * (a + b))
    return np.array(out)


def _counts(weights: np.ndarray, n: int) -> np.ndarray:
    c = np.floor(weights * n).astype(int)
    c[int(np.argmax(weights))] += n - int(c.sum())
    return c


# ---------------------------------------------------------------------------- input
def check_marker_table(
    table: pd.DataFrame,
    *,
    marker: str = "sum_of_diameters",
    min_readings: int = 2,
    source: str | None = None,
) -> pd.DataFrame:
    """Validate a long table of one size or ctDNA marker and return it typed.

    Parameters
    ----------
    table : DataFrame
        ``patient_id``, ``day`` (days), ``value`` (marker units, see
        :data:`~oncoresist.forecast._inputs.MARKERS`), ``on_treatment`` (0/1: treatment in
        the interval that starts at the reading), optional
        ``lower_limit_of_quantification`` (marker units) and ``marker`` (rows of other
        markers are dropped).
    marker : str
        One of :data:`SIZE_MARKERS` or :data:`CTDNA_MARKERS`.
    min_readings : int
        Fewest readings per patient.
    source : str, optional
        File name for messages.

    Returns
    -------
    DataFrame
        ``patient_id, day, value, on_treatment, lower_limit_of_quantification`` (and any
        other columns); a size of 0 without a limit gets the :data:`SIZE_FLOOR` limit.

    Raises
    ------
    InputError
        Located (1-based CSV line = data row + 1): an unknown marker, a missing column, a
        day or value that is not a finite number, a negative value, a VAF above 1, a ctDNA
        value of 0 (or missing) without a limit, an ``on_treatment`` not 0 or 1, days not
        increasing within a patient, too few readings.
    """
    known = SIZE_MARKERS + CTDNA_MARKERS
    if marker not in known:
        raise InputError(
            f"unknown marker {marker!r} for the size/ctDNA track; expected one of "
            f"{', '.join(known)}" + (" (psa: use PSAForecaster)" if marker == "psa" else ""),
            file=source,
            field="marker",
        )
    if "marker" in table.columns:
        table = table[table["marker"].astype(str).str.lower() == marker]
        if table.empty:
            raise InputError(f"no {marker} rows in the table", file=source, field="marker")
    need = ("patient_id", "day", "value", "on_treatment")
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; expected {', '.join(need)} "
            "(on_treatment 1 throughout if treatment never stopped)",
            file=source,
            field=missing[0],
        )
    integer = pd.api.types.is_integer_dtype(table.index)
    line = table.index.to_numpy() + 2 if integer else np.arange(len(table)) + 2
    out = table.reset_index(drop=True).copy()
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
    bad = np.isfinite(lloq) & (lloq <= 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(
            f"lower limit of quantification {lloq[i]:g} must be > 0",
            file=source, record=int(line[i]), field="lower_limit_of_quantification",
        )  # fmt: skip
    val = pd.to_numeric(out["value"], errors="coerce").to_numpy(dtype=float)
    if marker in SIZE_FLOOR:
        lloq = np.where((val == 0) & ~np.isfinite(lloq), SIZE_FLOOR[marker], lloq)
    unit = MARKERS[marker]
    bad = np.isinf(val) | (val < 0) | ((np.isnan(val) | (val == 0)) & ~np.isfinite(lloq))
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(
            f"{marker} {out['value'].iloc[i]!r} is not a value > 0 in {unit} (0 or missing "
            "needs a lower_limit_of_quantification)",
            file=source, record=int(line[i]), field="value",
        )  # fmt: skip
    if marker == "ctdna_vaf" and np.nanmax(val, initial=0.0) > 1.0:
        i = int(np.nanargmax(val))
        raise InputError(
            f"ctdna_vaf {val[i]:g} is above 1: it looks like a percentage; expected a fraction "
            f"between 0 and 1 (write {val[i] / 100:g})",
            file=source, record=int(line[i]), field="value",
        )  # fmt: skip
    out["value"] = np.where(np.isnan(val), 0.0, val)
    out["lower_limit_of_quantification"] = lloq
    for pid, g in out.groupby("patient_id", sort=False):
        idx = g.index.to_numpy()
        if len(g) < min_readings:
            raise InputError(
                f"patient {pid!r} has {len(g)} {marker} reading(s); at least {min_readings} "
                "needed",
                file=source, record=int(line[idx[0]]), field="patient_id",
            )  # fmt: skip
        back = np.flatnonzero(np.diff(g["day"].to_numpy()) <= 0)
        if back.size:
            k = idx[back[0] + 1]
            raise InputError(
                f"days of patient {pid!r} must increase ({out['day'].iloc[k - 1]:g} then "
                f"{out['day'].iloc[k]:g}); sort the readings by day",
                file=source, record=int(line[k]), field="day",
            )  # fmt: skip
    return out


# ---------------------------------------------------------------------------- rows
@dataclass
class _Rows:
    """Padded fitting arrays of (patient, origin) rows."""

    ids: np.ndarray
    origin: np.ndarray  # absolute day of the last reading used
    t_first: np.ndarray
    tau: np.ndarray  # (P, M) days since the first reading
    e: np.ndarray  # (P, M) days on treatment since the first reading
    z: np.ndarray  # log value
    obs: np.ndarray
    cens: np.ndarray
    zlloq: np.ndarray
    visits: list[tuple[np.ndarray, np.ndarray]]  # (tau, on) of the known schedule
    offset: np.ndarray  # log size (or log x for VAF) at the first reading

    def exposure(self, tau: np.ndarray) -> np.ndarray:
        """Days on treatment at ``tau (P, m)`` under each row's schedule."""
        out = np.empty_like(tau, dtype=float)
        for i, (vt, von) in enumerate(self.visits):
            out[i] = exposure_days(tau[i], vt, von)
        return out


@dataclass
class _SizeProblem(_Problem):
    """The likelihood of :mod:`population` with the schedule as a covariate."""

    e: np.ndarray | None = None
    offset: np.ndarray | None = None
    link: Callable[[np.ndarray], np.ndarray] | None = None

    def subset(self, idx: np.ndarray) -> _SizeProblem:
        return replace(
            self, t=self.t[idx], e=self.e[idx], z=self.z[idx], obs=self.obs[idx],
            cens=self.cens[idx], zlloq=self.zlloq[idx], offset=self.offset[idx],
        )  # fmt: skip

    def curve(self, theta: np.ndarray) -> np.ndarray:
        th = theta.copy()
        th[..., 0] = th[..., 0] + self.offset
        return self.link(self.model.log_curve(self.t, self.e, th))

    def residuals(self, theta: np.ndarray) -> np.ndarray:
        gf = self.curve(theta)
        r_obs = np.where(self.obs, (self.z - gf) / self.a, 0.0)
        zc = (self.zlloq - gf) / self.a
        r_cens = np.where(self.cens, np.sqrt(np.maximum(-2.0 * log_ndtr(zc), 0.0)), 0.0)
        return r_obs + r_cens


@dataclass(frozen=True)
class SizePosterior:
    """Laplace posteriors of (patient, origin) rows under one member model.

    Attributes
    ----------
    ids, origin_day : ndarray, shape (P,)
    theta : ndarray, shape (P, k)
        Modes (``log_v0`` relative to the first reading).
    cov : ndarray, shape (P, k, k)
        Laplace covariances.
    """

    ids: np.ndarray
    origin_day: np.ndarray
    theta: np.ndarray
    cov: np.ndarray
    rows: _Rows
    resid: np.ndarray


@dataclass
class _Member:
    """One model's population fit and calibration."""

    model: ExposureModel
    mu: np.ndarray
    omega: np.ndarray
    a: float
    theta: np.ndarray
    cov: np.ndarray
    ids: np.ndarray
    s: float = 0.0
    c: float = 1.0
    nu: float = 1e6
    kappa: float = 1.0

    @property
    def box(self) -> np.ndarray:
        return self.model.bounds()


# ---------------------------------------------------------------------------- estimator
class SizeForecaster:
    """Population-prior forecasts of tumour size or ctDNA under a schedule (see the module).

    Parameters
    ----------
    marker : {"sum_of_diameters", "lesion_volume", "ctdna_mtm_per_ml", "ctdna_vaf"}
        The marker the table's ``value`` holds.
    models : sequence of str
        Members from :data:`~oncoresist.forecast.growth.EXPOSURE_MODELS`, stacked.
    prior : {"population", "weak"}
        Learn ``N(mu, Omega)`` from the cohort or keep a weak fixed prior.
    calibrate : bool
        Calibrate ``s``, ``c``, ``nu``, ``kappa`` and the stacking weights on the cohort's
        rolling origins (otherwise Gaussian, no discrepancy, equal weights).
    tails : {"student", "gaussian"}
        Student-t predictive with calibrated ``nu``, or Gaussian (``nu`` fixed at 1e6).
    min_readings : int
        Readings up to an origin for it to be used in calibration.
    window_days : float
        Progression window (days).
    max_horizon_days : float
        Furthest target after an origin in calibration.
    ctdna_fold : float
        Rise that counts as ctDNA progression (x nadir), confirmed on the next draw.
    clonal_fraction, mutant_copies, tumour_ploidy : float
        VAF link (``ctdna_vaf`` only; :func:`~oncoresist.forecast.links.
        vaf_from_tumour_fraction`).
    n_samples : int
        Joint predictive draws per origin.
    max_iter : int
        Most EM iterations.

    Attributes
    ----------
    members_ : list
        Per model: ``model``, ``mu`` (k,), ``omega`` (k, k), ``a`` (error sd of the log
        marker), ``s`` (discrepancy, log units per sqrt(day)), ``c`` (noise factor), ``nu``
        (degrees of freedom), ``kappa`` (spread).
    weights_ : ndarray
        Stacking weights of the members.
    calibration_n_ : int
        Calibration readings.

    Examples
    --------
    >>> sim = simulate_size_cohort(12, n_visits=6, rng=1)
    >>> fc = SizeForecaster(max_iter=3, calibrate=False).fit(sim.table)
    >>> len(fc.members_)
    2
    """

    def __init__(
        self,
        *,
        marker: Marker = "sum_of_diameters",
        models: Sequence[str] = ("stein_onoff", "claret_onoff"),
        prior: Literal["population", "weak"] = "population",
        calibrate: bool = True,
        tails: Literal["student", "gaussian"] = "student",
        min_readings: int = 3,
        window_days: float = 180.0,
        max_horizon_days: float = 365.0,
        ctdna_fold: float = 2.0,
        clonal_fraction: float = 1.0,
        mutant_copies: float = 1.0,
        tumour_ploidy: float = 2.0,
        n_samples: int = 400,
        max_iter: int = 15,
    ) -> None:
        self.marker = marker
        self.models = tuple(models)
        self.prior = prior
        self.calibrate = calibrate
        self.tails = tails
        self.min_readings = min_readings
        self.window_days = window_days
        self.max_horizon_days = max_horizon_days
        self.ctdna_fold = ctdna_fold
        self.clonal_fraction = clonal_fraction
        self.mutant_copies = mutant_copies
        self.tumour_ploidy = tumour_ploidy
        self.n_samples = n_samples
        self.max_iter = max_iter

    # ------------------------------------------------------------------ helpers
    def _check_options(self) -> None:
        for name, value, allowed in (
            ("prior", self.prior, ("population", "weak")),
            ("tails", self.tails, ("student", "gaussian")),
        ):
            if value not in allowed:
                raise InputError(
                    f"{name}={value!r}; expected one of {', '.join(allowed)}", field=name
                )
        check_marker_table(
            pd.DataFrame({"patient_id": ["x", "x"], "day": [0, 1], "value": [0.5, 0.5],
                          "on_treatment": [1, 1]}), marker=self.marker,
        )  # fmt: skip
        for m in self.models:
            get_exposure_model(m)

    def _link(self) -> Callable[[np.ndarray], np.ndarray]:
        if self.marker == "ctdna_vaf":
            return partial(
                log_vaf_link, clonal_fraction=self.clonal_fraction,
                mutant_copies=self.mutant_copies, tumour_ploidy=self.tumour_ploidy,
            )  # fmt: skip
        return lambda lb: lb

    def _table(self, table: pd.DataFrame, min_readings: int = 1) -> pd.DataFrame:
        if "lower_limit_of_quantification" in table and table.attrs.get("_checked") == self.marker:
            return table
        out = check_marker_table(table, marker=self.marker, min_readings=min_readings)
        out.attrs["_checked"] = self.marker
        return out

    def _rows(self, table: pd.DataFrame, pairs: list, future: dict | None = None) -> _Rows:
        """Rows for (patient, origin day or None) pairs; ``future`` as in the PSA track."""
        groups = {pid: g for pid, g in table.groupby("patient_id", sort=False)}
        cuts = []
        for pid, origin in pairs:
            g = groups[pid]
            cuts.append((g, g if origin is None else g[g["day"] <= origin + 1e-9]))
        n, width = len(pairs), max(len(k) for _, k in cuts)
        tau, z, zl = np.zeros((n, width)), np.zeros((n, width)), np.zeros((n, width))
        obs, cens = np.zeros((n, width), bool), np.zeros((n, width), bool)
        visits, t_first, origin_out, offset = [], np.zeros(n), np.zeros(n), np.zeros(n)
        for i, ((pid, origin), (g, keep)) in enumerate(zip(pairs, cuts, strict=True)):
            d = keep["day"].to_numpy(dtype=float)
            v = keep["value"].to_numpy(dtype=float)
            lim = keep["lower_limit_of_quantification"].to_numpy(dtype=float)
            m = len(d)
            t_first[i], origin_out[i] = d[0], d[-1]
            tau[i, :m], tau[i, m:] = d - d[0], d[-1] - d[0]
            c = np.isfinite(lim) & (v < lim)
            z[i, :m] = np.log(np.where(c | (v <= 0), np.nan_to_num(lim, nan=1.0), v))
            obs[i, :m], cens[i, :m] = ~c, c
            zl[i, :m] = np.log(np.where(np.isfinite(lim), lim, 1.0))
            pos = np.where(c, np.nan_to_num(lim, nan=1.0), v)
            ref = pos[0] if pos[0] > 0 else float(np.nanmax(lim))
            if self.marker == "ctdna_vaf":
                ref = float(
                    log_ratio_from_vaf(
                        ref, clonal_fraction=self.clonal_fraction,
                        mutant_copies=self.mutant_copies, tumour_ploidy=self.tumour_ploidy,
                    )
                )  # fmt: skip
            else:
                ref = float(np.log(ref))
            offset[i] = ref
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
        rows = _Rows(np.array([p for p, _ in pairs], dtype=object), origin_out, t_first, tau,
                     np.zeros_like(tau), z, obs, cens, zl, visits, offset)  # fmt: skip
        rows.e = rows.exposure(tau)
        return rows

    def _problem(self, rows: _Rows, model: ExposureModel, a: float) -> _SizeProblem:
        return _SizeProblem(
            model, _Scale(0.0), rows.tau, rows.z, rows.obs, rows.cens, rows.zlloq, a, 0.0,
            e=rows.e, offset=rows.offset, link=self._link(),
        )  # fmt: skip

    def _weak(self, model: ExposureModel) -> tuple[np.ndarray, np.ndarray]:
        width = np.diff(model.bounds(), axis=1)[:, 0]
        return np.array(model.start, dtype=float), np.diag((width / 4.0) ** 2)

    # ------------------------------------------------------------------ fitting
    def fit(self, table: pd.DataFrame) -> SizeForecaster:
        """Learn each member's population prior and error, then calibrate and stack.

        Parameters
        ----------
        table : DataFrame
            Reference cohort (see :func:`check_marker_table`).

        Returns
        -------
        self
        """
        self._check_options()
        table = self._table(table, min_readings=2)
        rows = self._rows(table, [(p, None) for p in table["patient_id"].unique()])
        self.members_ = [self._fit_member(rows, get_exposure_model(m)) for m in self.models]
        self.weights_ = np.full(len(self.members_), 1.0 / len(self.members_))
        self.calibration_n_ = 0
        if self.calibrate:
            self._calibrate(table)
        return self

    def _fit_member(self, rows: _Rows, model: ExposureModel) -> _Member:
        box = model.bounds()
        prob = self._problem(rows, model, 0.2)
        mu, omega = self._weak(model)
        theta = np.tile(mu, (len(rows.ids), 1))
        for it in range(1, self.max_iter + 1):
            theta, hess, _ = _fit_map(prob, theta, mu, _safe_inv(omega), box, max_iter=20)
            cov = _safe_inv(hess)
            old = (mu.copy(), omega.copy(), prob.a)
            r = prob.residuals(theta)
            jj = _sub_jac(prob, theta, r)
            var = np.einsum("pmi,pij,pmj->pm", jj, cov, jj) * prob.a**2
            n_obs = max(int(prob.obs.sum()), 1)
            prob.a = float(
                np.sqrt(np.sum(np.where(prob.obs, (r * prob.a) ** 2 + var, 0.0)) / n_obs)
            )
            prob.a = max(prob.a, 0.01)
            if self.prior == "weak":
                if it >= 3:
                    break
                continue
            mu = theta.mean(axis=0)
            d = theta - mu
            omega = (d.T @ d + cov.sum(axis=0)) / len(theta)
            omega = 0.5 * (omega + omega.T) + 1e-6 * np.eye(len(mu))
            moved = max(
                np.max(np.abs(mu - old[0])),
                np.max(np.abs(omega - old[1])) / np.max(np.abs(old[1])),
                abs(prob.a - old[2]) / old[2],
            )
            if it > 2 and moved < 2e-3:
                break
        theta, hess, _ = _fit_map(prob, theta, mu, _safe_inv(omega), box, max_iter=60)
        return _Member(model, mu, omega, prob.a, theta, _safe_inv(hess), rows.ids)

    def _fitted(self) -> None:
        if not hasattr(self, "members_"):
            raise InputError("this SizeForecaster is not fitted; call fit(cohort) first")

    def _loo(self, mem: _Member) -> tuple[np.ndarray, np.ndarray]:
        n, k = mem.theta.shape
        if self.prior == "weak" or n < 3:
            return np.tile(mem.mu, (n, 1)), np.tile(mem.omega, (n, 1, 1))
        s1 = mem.theta.sum(axis=0)
        s2 = (mem.theta[:, :, None] * mem.theta[:, None, :] + mem.cov).sum(axis=0)
        own2 = mem.theta[:, :, None] * mem.theta[:, None, :] + mem.cov
        mu = (s1[None] - mem.theta) / (n - 1)
        omega = (s2[None] - own2) / (n - 1) - mu[:, :, None] * mu[:, None, :]
        return mu, 0.5 * (omega + np.swapaxes(omega, 1, 2)) + 1e-6 * np.eye(k)

    def _posterior(
        self, mem: _Member, rows: _Rows, prior: tuple[np.ndarray, np.ndarray] | None = None
    ) -> SizePosterior:
        prob = self._problem(rows, mem.model, mem.a)
        mu, omega = (mem.mu, mem.omega) if prior is None else prior
        n, k = len(rows.ids), mem.model.n_params
        mu_b = np.array(np.broadcast_to(mu, (n, k)))
        prec = _safe_inv(np.asarray(omega, dtype=float))
        start = np.tile(np.array(mem.model.start, dtype=float), (n, 1))
        th1, h1, c1 = _fit_map(prob, mu_b.copy(), mu_b, prec, mem.box, max_iter=40)
        th2, h2, c2 = _fit_map(prob, start, mu_b, prec, mem.box, max_iter=40)
        pick = c2 < c1
        theta = np.where(pick[:, None], th2, th1)
        hess = np.where(pick[:, None, None], h2, h1)
        resid = np.where(rows.obs, rows.z - prob.curve(theta), 0.0)
        return SizePosterior(rows.ids, rows.origin, theta, _safe_inv(hess), rows, resid)

    # ------------------------------------------------------------------ predictive
    def _curve(self, mem: _Member, theta: np.ndarray, tau, e, offset) -> np.ndarray:
        th = theta.copy()
        th[..., 0] = th[..., 0] + offset
        return self._link()(mem.model.log_curve(tau, e, th))

    def _parts(self, mem: _Member, post: SizePosterior, tt: np.ndarray) -> dict[str, np.ndarray]:
        rows = post.rows
        ee = rows.exposure(tt)
        th = post.theta
        k = th.shape[1]
        h = 1e-5 * np.maximum(1.0, np.abs(th))
        pert = np.concatenate([th[None], th[None] + h.T[:, :, None] * np.eye(k)[:, None, :]])
        vals = self._curve(mem, pert, tt, ee, rows.offset)
        jac = np.moveaxis((vals[1:] - vals[:1]) / h.T[:, :, None], 0, -1)
        return {"curve": vals[0], "jac": jac}

    def _gauss_joint(self, mem, post, parts, tt, s, c, kappa):
        """Joint Gaussian (scale of the Student-t) of the log marker: mean, covariance."""
        rows = post.rows
        a2 = mem.a**2
        jac = parts["jac"]
        cov = np.einsum("pai,pij,pbj->pab", jac, post.cov, jac)
        m = tt.shape[1]
        mean = parts["curve"].copy()
        if s > 0:
            tj, used = rows.tau, rows.obs
            mm = tj.shape[1]
            kk = s**2 * np.minimum(tj[:, :, None], tj[:, None, :])
            kk = np.where(used[:, :, None] & used[:, None, :], kk, 0.0)
            kk = kk + np.where(used, c * a2, 1.0)[:, :, None] * np.eye(mm)
            ks = np.where(used[:, None, :], s**2 * np.minimum(tt[:, :, None], tj[:, None, :]), 0.0)
            sol_r = np.linalg.solve(kk, (post.resid * used)[..., None])[..., 0]
            sol_k = np.linalg.solve(kk, np.swapaxes(ks, 1, 2))
            mean = mean + np.einsum("pam,pm->pa", ks, sol_r)
            kss = s**2 * np.minimum(tt[:, :, None], tt[:, None, :])
            cov = cov + kss - np.einsum("pam,pmb->pab", ks, sol_k)
        cov = cov + c * a2 * np.eye(m)
        cov = 0.5 * (cov + np.swapaxes(cov, 1, 2))
        return mean, kappa**2 * cov

    # ------------------------------------------------------------------ calibration
    def _calibrate(self, table: pd.DataFrame) -> None:
        origins = cycle_origins(table, rule="every", min_readings=self.min_readings)
        if len(origins) < 5:
            return
        targets = next_cycle_targets(table, origins, max_horizon_days=self.max_horizon_days)
        if len(targets) < 10:
            return
        pairs = list(zip(origins["patient_id"], origins["origin_day"].astype(float), strict=True))
        rows = self._rows(table, pairs)
        key = {(p, float(o)): i for i, (p, o) in enumerate(pairs)}
        tgt_keys = zip(targets["patient_id"], targets["origin_day"], strict=True)
        row_of = np.array([key[(p, float(o))] for p, o in tgt_keys])
        counts = np.bincount(row_of, minlength=len(pairs))
        m = max(int(counts.max()), 1)
        tt = np.zeros((len(pairs), m))
        slot = np.zeros(len(targets), dtype=int)
        seen = np.zeros(len(pairs), dtype=int)
        for j, r in enumerate(row_of):
            slot[j] = seen[r]
            tt[r, seen[r]] = targets["day"].iloc[j] - rows.t_first[r]
            seen[r] += 1
        for r in range(len(pairs)):
            tt[r, seen[r] :] = tt[r, seen[r] - 1] if seen[r] else rows.tau[r].max()
        obs_v = targets["observed"].to_numpy(dtype=float)
        tab = table.set_index(["patient_id", "day"])["lower_limit_of_quantification"]
        lim = tab.loc[list(zip(targets["patient_id"], targets["day"], strict=True))].to_numpy()
        cens = np.isfinite(lim) & (obs_v < lim)
        z = np.log(np.where(cens | (obs_v <= 0), np.nan_to_num(lim, nan=1.0), obs_v))
        zl = np.log(np.where(np.isfinite(lim), lim, 1.0))
        logps = []
        for mem in self.members_:
            pos = {p: i for i, p in enumerate(mem.ids)}
            idx = np.array([pos[p] for p, _ in pairs])
            mu, omega = self._loo(mem)
            post = self._posterior(mem, rows, prior=(mu[idx], omega[idx]))
            parts = self._parts(mem, post, tt)

            def marg(s, c, kappa, mem=mem, post=post, parts=parts):
                mean, cov = self._gauss_joint(mem, post, parts, tt, s, c, kappa)
                var = np.diagonal(cov, axis1=1, axis2=2)
                return mean[row_of, slot], np.sqrt(var[row_of, slot])

            def logpdf(s, c, nu, kappa, marg=marg):
                mean, sd = marg(s, c, kappa)
                if self.tails == "gaussian":
                    nu = 1e6
                x = (z - mean) / sd
                return np.where(
                    cens, _t_logcdf((zl - mean) / sd, nu), _t_logpdf(x, nu) - np.log(sd)
                )

            def covered(s, c, nu, kappa, marg=marg):
                mean, sd = marg(s, c, kappa)
                nu = 1e6 if self.tails == "gaussian" else nu
                half = stdtrit(nu, 0.9) * sd
                inside = np.where(cens, stdtr(nu, (zl - mean) / sd) > 0.1, np.abs(z - mean) <= half)
                return float(inside.mean())

            mem.s, mem.c, mem.nu, mem.kappa = _calibrate_t(logpdf, covered)
            if self.tails == "gaussian":
                mem.nu = 1e6
            logps.append(logpdf(mem.s, mem.c, mem.nu, mem.kappa))
        self.weights_ = stacking_weights(np.column_stack(logps))
        self.calibration_n_ = len(targets)

    # ------------------------------------------------------------------ draws
    def _member_draws(self, mem, post, tt, n, rng):
        parts = self._parts(mem, post, tt)
        mean, cov = self._gauss_joint(mem, post, parts, tt, mem.s, mem.c, mem.kappa)
        m = tt.shape[1]
        chol = np.linalg.cholesky(cov + 1e-9 * np.eye(m))
        eps = rng.standard_normal((n, *mean.shape))
        w = mem.nu / rng.chisquare(mem.nu, size=(n, mean.shape[0])) if mem.nu < 1e5 else 1.0
        dev = np.einsum("pab,spb->spa", chol, eps) * np.sqrt(w)[..., None]
        return mean, np.sqrt(np.diagonal(cov, axis1=1, axis2=2)), mean[None] + dev

    def _mixture(self, table, pairs, tt, n, rng, future=None, prior=None):
        """Per member posteriors, marginal mean/sd and pooled draws ``(n, P, m)``."""
        rows = self._rows(table, pairs, future)
        counts = _counts(self.weights_, n)
        means, sds, draws = [], [], []
        for mem, cnt in zip(self.members_, counts, strict=True):
            post = self._posterior(mem, rows, prior=None if prior is None else prior)
            mean, sd, d = self._member_draws(
                mem, post, tt - rows.t_first[:, None], max(cnt, 1), rng
            )
            means.append(mean)
            sds.append(sd)
            if cnt > 0:
                draws.append(d[:cnt])
        return rows, means, sds, np.concatenate(draws, axis=0)

    def _to_value(self, log_values: np.ndarray) -> np.ndarray:
        return np.exp(log_values)

    def _nadir(self, values: np.ndarray, lloq: np.ndarray) -> float:
        if values.size == 0:
            return np.inf
        if self.marker in CTDNA_MARKERS:
            cens = np.isfinite(lloq) & (values < lloq)
            return float(np.min(np.where(cens, 0.5 * lloq, values)))
        return float(np.min(self._recist_scale(values)))

    def _recist_scale(self, values: np.ndarray) -> np.ndarray:
        return diameter_from_volume(values) if self.marker == "lesion_volume" else values

    def _first_event(self, days, values, lloq, nadir) -> tuple[np.ndarray, np.ndarray]:
        """First progression day per path (inf: none) and pending (unconfirmed) flags."""
        if self.marker in CTDNA_MARKERS:
            return ctdna_first_progression(
                days, values, lloq=np.nan_to_num(lloq, nan=0.0), nadir=nadir,
                fold=self.ctdna_fold,
            )  # fmt: skip
        first = recist_first_progression(days, self._recist_scale(values), nadir_mm=nadir)
        return first, np.zeros(first.shape, dtype=bool)

    def _event(self, days, values, lloq, origin_day, nadir) -> np.ndarray:
        first, pending = self._first_event(days, values, lloq, nadir)
        inside = (first > origin_day) & (first <= origin_day + self.window_days)
        last_in = days.size > 0 and days[-1] <= origin_day + self.window_days
        return np.where(inside, 1.0, np.where(pending & np.isinf(first) & last_in, np.nan, 0.0))

    def _observed_event(self, g: pd.DataFrame, origin_day: float) -> tuple[float, float]:
        d = g["day"].to_numpy(dtype=float)
        v = g["value"].to_numpy(dtype=float)
        lim = g["lower_limit_of_quantification"].to_numpy(dtype=float)
        past = d <= origin_day + 1e-9
        nadir = self._nadir(v[past], lim[past])
        fut = ~past
        ev = float(self._event(d[fut], v[fut], lim[fut], origin_day, nadir))
        if ev == 0.0 and d[-1] < origin_day + self.window_days:
            ev = np.nan
        return ev, nadir

    # ------------------------------------------------------------------ forecasting
    def forecast_origins(
        self,
        table: pd.DataFrame,
        origins: pd.DataFrame,
        targets: pd.DataFrame,
        *,
        rng: np.random.Generator | int | None = None,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Forecasts from many origins under the recorded future schedule (backtests).

        Parameters
        ----------
        table : DataFrame
            The patients' whole series (readings up to each origin are fitted; later ones
            give the schedule and the targets' days).
        origins : DataFrame
            ``patient_id``, ``origin_day``.
        targets : DataFrame
            ``patient_id``, ``origin_day``, ``day``, ``observed``.
        rng : numpy.random.Generator, int or None
            Seed of the predictive draws.

        Returns
        -------
        rows : DataFrame
            ``targets`` with ``q025, q10, q50, q90, q975`` (marker units) and
            ``mean_log10`` (median of the log10 predictive); ``rows.attrs["samples_log10"]``
            holds the draws ``(S, n_targets)``.
        per_origin : DataFrame
            ``patient_id``, ``origin_day``, ``nadir`` (marker units; mm of equivalent
            diameter for volumes), ``prob_event`` (RECIST 1.1 / confirmed ctDNA rise within
            ``window_days`` on the draws at the recorded future visits) and ``event``
            (observed: 1, 0 or NaN when not evaluable).
        """
        self._fitted()
        rng = np.random.default_rng(rng)
        table = self._table(table)
        groups = {pid: g for pid, g in table.groupby("patient_id", sort=False)}
        horizon = max(self.max_horizon_days, self.window_days + 120.0)
        pairs, fut = [], []
        for pid, od in origins[["patient_id", "origin_day"]].itertuples(index=False):
            d = groups[pid]["day"].to_numpy(dtype=float)
            pairs.append((pid, float(od)))
            fut.append(np.flatnonzero((d > od + 1e-9) & (d <= od + horizon)))
        m = max(1, max(len(f) for f in fut))
        tt = np.zeros((len(pairs), m))
        for i, ((pid, od), f) in enumerate(zip(pairs, fut, strict=True)):
            d = groups[pid]["day"].to_numpy(dtype=float)[f]
            tt[i, : len(f)] = d
            tt[i, len(f) :] = d[-1] if len(f) else od
        _, means, sds, draws = self._mixture(table, pairs, tt, self.n_samples, rng)
        per_origin = []
        for i, ((pid, od), f) in enumerate(zip(pairs, fut, strict=True)):
            g = groups[pid]
            event, nadir = self._observed_event(g, od)
            d = g["day"].to_numpy(dtype=float)[f]
            lim = g["lower_limit_of_quantification"].to_numpy(dtype=float)[f]
            ev = self._event(d, self._to_value(draws[:, i, : len(f)]), lim, od, nadir)
            prob = float(np.mean(np.nan_to_num(ev, nan=1.0))) if len(f) else 0.0
            per_origin.append((pid, od, nadir, prob, event))
        per = pd.DataFrame(
            per_origin, columns=["patient_id", "origin_day", "nadir", "prob_event", "event"]
        )
        index = {p: i for i, p in enumerate(pairs)}
        ri, si = [], []
        for pid, od, day in targets[["patient_id", "origin_day", "day"]].itertuples(index=False):
            r = index[(pid, float(od))]
            hit = np.flatnonzero(np.isclose(tt[r, : len(fut[r])], day))
            if not hit.size:
                raise InputError(
                    f"target day {day:g} of patient {pid!r} is not a recorded reading within "
                    f"{horizon:g} days of origin {od:g}",
                    field="day",
                )
            ri.append(r)
            si.append(int(hit[0]))
        ri_a, si_a = np.array(ri, dtype=int), np.array(si, dtype=int)
        out = targets.reset_index(drop=True).copy()
        nus = [mem.nu for mem in self.members_]
        qs = _mixture_quantiles(
            [mm[ri_a, si_a] for mm in means], [s[ri_a, si_a] for s in sds], nus, self.weights_,
            [*QUANTILES.values()],
        )  # fmt: skip
        for name, q in zip(QUANTILES, qs, strict=True):
            out[name] = np.exp(q)
        out["mean_log10"] = qs[2] / _LOG10
        out.attrs["samples_log10"] = draws[:, ri_a, si_a] / _LOG10
        return out, per

    def predict(
        self,
        table: pd.DataFrame,
        days: dict[object, Sequence[float]],
        *,
        schedule: dict[object, tuple[Sequence[float], Sequence[int]]] | None = None,
        rng: np.random.Generator | int | None = None,
    ) -> pd.DataFrame:
        """Predictive quantiles at future days under a given schedule.

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
            ``patient_id``, ``day``, ``q025, q10, q50, q90, q975`` (marker units) and
            ``prob_progression`` (per patient, within ``window_days`` over these days).
        """
        self._fitted()
        rng = np.random.default_rng(rng)
        table = self._table(table, min_readings=2)
        ids = list(days)
        last = table.groupby("patient_id", sort=False)["day"].max()
        pairs = [(p, float(last[p])) for p in ids]
        future = {(p, o): schedule[p] for p, o in pairs if schedule and p in schedule}
        width = max(len(np.atleast_1d(days[p])) for p in ids)
        tt = np.zeros((len(ids), width))
        for i, p in enumerate(ids):
            d = np.atleast_1d(np.asarray(days[p], dtype=float))
            tt[i, : len(d)], tt[i, len(d) :] = d, d[-1]
        _, means, sds, draws = self._mixture(table, pairs, tt, self.n_samples, rng, future)
        nus = [mem.nu for mem in self.members_]
        out = []
        groups = {pid: g for pid, g in table.groupby("patient_id", sort=False)}
        for i, p in enumerate(ids):
            d = np.atleast_1d(np.asarray(days[p], dtype=float))
            g = groups[p]
            lim_hist = g["lower_limit_of_quantification"].to_numpy(dtype=float)
            nadir = self._nadir(g["value"].to_numpy(dtype=float), lim_hist)
            lim = np.full(len(d), lim_hist[-1])
            ev = self._event(d, self._to_value(draws[:, i, : len(d)]), lim, pairs[i][1], nadir)
            qs = _mixture_quantiles(
                [mm[i, : len(d)] for mm in means], [s[i, : len(d)] for s in sds], nus,
                self.weights_, [*QUANTILES.values()],
            )  # fmt: skip
            frame = pd.DataFrame({"patient_id": p, "day": d})
            for name, q in zip(QUANTILES, qs, strict=True):
                frame[name] = np.exp(q)
            frame["prob_progression"] = float(np.mean(np.nan_to_num(ev, nan=1.0)))
            out.append(frame)
        return pd.concat(out, ignore_index=True)

    def forecast_strategies(
        self,
        table: pd.DataFrame,
        patient_id: object,
        *,
        strategies: tuple[str, ...] = STRATEGIES,
        horizon_days: float = 360.0,
        visit_interval_days: float = 56.0,
        new_drug_kill_per_day: float = 0.005,
        n_samples: int = 300,
        rng: np.random.Generator | int | None = None,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Predictive marker and progression of one patient under each strategy.

        Parameter vectors are drawn from the patient's Laplace posterior under each member
        (as many paths as its stacking weight), anchored to the latest readings (the
        discrepancy's conditional mean at the origin), with a Brownian discrepancy and
        error scaled by one Student-t mixing variable per path, read at scans every
        ``visit_interval_days`` from the origin (the last reading):

        * ``continue``: the current drug throughout; ``stop``: none (off-treatment
          regrowth of the model);
        * ``switch``: the current drug stopped and a new drug that adds a log-kill of
          ``new_drug_kill_per_day`` per day to every tumour cell, the resistant ones
          included (no cross-resistance, no waning): an **assumption**, reported;
        * ``add``: the current drug continued plus that new drug.

        Parameters
        ----------
        table : DataFrame
            Readings of (at least) this patient up to the origin.
        patient_id : object
        strategies : tuple of str
            Names from :data:`STRATEGIES`.
        horizon_days, visit_interval_days : float
            Forecast horizon and scan spacing (days).
        new_drug_kill_per_day : float
            The new drug's effect (log-kill per day, >= 0; 0.005 halves a tumour in 139
            days where nothing else acts).
        n_samples : int
            Paths per strategy.
        rng : numpy.random.Generator, int or None
            Seed.

        Returns
        -------
        paths : DataFrame
            ``strategy``, ``day``, ``q025, q10, q50, q90, q975`` (marker units),
            ``share_on_treatment`` (share of paths on any drug after that scan).
        summary : DataFrame
            ``strategy``, ``prob_progression`` (RECIST 1.1 or confirmed ctDNA rise within
            ``window_days``), ``median_days_to_progression`` (``inf`` when most paths do not
            progress within the horizon), ``mean_days_on`` (days on any drug over the
            horizon) and ``assumption`` (the effect assumed, in words).
        """
        self._fitted()
        unknown = [s for s in strategies if s not in STRATEGIES]
        if unknown:
            raise InputError(
                f"unknown strategy {unknown[0]!r}; expected one of {', '.join(STRATEGIES)}",
                field="strategies",
            )
        if not np.isfinite(new_drug_kill_per_day) or new_drug_kill_per_day < 0:
            raise InputError(
                f"new_drug_kill_per_day={new_drug_kill_per_day}; expected a rate >= 0 per day",
                field="new_drug_kill_per_day",
            )
        rng = np.random.default_rng(rng)
        table = self._table(table, min_readings=2)
        g = table[table["patient_id"] == patient_id]
        if len(g) < 2:
            raise InputError(
                f"no series of at least 2 {self.marker} readings for patient {patient_id!r}",
                field="patient_id",
            )
        origin = float(g["day"].iloc[-1])
        rows = self._rows(g, [(patient_id, origin)])
        tau0 = origin - rows.t_first[0]
        e0 = float(rows.exposure(np.array([[tau0]]))[0, 0])
        n_vis = max(int(np.floor(horizon_days / visit_interval_days)), 1)
        vdays = origin + visit_interval_days * np.arange(1, n_vis + 1)
        since = vdays - origin
        lim_hist = g["lower_limit_of_quantification"].to_numpy(dtype=float)
        nadir = self._nadir(g["value"].to_numpy(dtype=float), lim_hist)
        lim = np.full(n_vis, lim_hist[-1])
        counts = _counts(self.weights_, n_samples)
        parts_by = []
        for mem, cnt in zip(self.members_, counts, strict=True):
            if cnt == 0:
                continue
            post = self._posterior(mem, rows)
            at0 = np.array([[tau0]])
            parts = self._parts(mem, post, at0)
            mean0, _ = self._gauss_joint(mem, post, parts, at0, mem.s, mem.c, 1.0)
            anchor = float(mean0[0, 0] - parts["curve"][0, 0])
            k = mem.model.n_params
            chol = np.linalg.cholesky(post.cov[0] * mem.kappa**2 + 1e-12 * np.eye(k))
            theta = post.theta[0][None] + rng.standard_normal((cnt, k)) @ chol.T
            theta = np.clip(theta, mem.box[:, 0], mem.box[:, 1])
            w = mem.nu / rng.chisquare(mem.nu, size=cnt) if mem.nu < 1e5 else np.ones(cnt)
            walk = np.cumsum(
                mem.s * mem.kappa * np.sqrt(visit_interval_days)
                * rng.standard_normal((cnt, n_vis)), axis=1,
            )  # fmt: skip
            noise = np.sqrt(mem.c) * mem.a * mem.kappa * rng.standard_normal((cnt, n_vis))
            dev = anchor + np.sqrt(w)[:, None] * (walk + noise)
            parts_by.append((mem, theta, dev))
        paths_out, summary_out = [], []
        tau_v = (tau0 + since)[None, :]
        for name in strategies:
            on_old = name in ("continue", "add")
            on_new = name in ("switch", "add")
            e = (e0 + since * on_old)[None, :]
            x = since * on_new
            logs = []
            for mem, theta, dev in parts_by:
                th = theta.copy()
                th[:, 0] += rows.offset[0]
                lb = mem.model.log_curve(tau_v, e, th) - new_drug_kill_per_day * x[None, :]
                logs.append(self._link()(lb) + dev)
            vals = self._to_value(np.concatenate(logs, axis=0))
            first, _ = self._first_event(vdays, vals, lim, nadir)
            ev = self._event(vdays, vals, lim, origin, nadir)
            qs = np.quantile(vals, [*QUANTILES.values()], axis=0)
            frame = pd.DataFrame({"strategy": name, "day": vdays})
            for qn, q in zip(QUANTILES, qs, strict=True):
                frame[qn] = q
            frame["share_on_treatment"] = float(on_old or on_new)
            paths_out.append(frame)
            if name == "switch":
                what = (f"new drug: log-kill {new_drug_kill_per_day:g}/day on every cell, no "
                        "cross-resistance (user-given)")  # fmt: skip
            elif name == "add":
                what = (f"current drug as fitted + new drug log-kill {new_drug_kill_per_day:g}"
                        "/day on every cell, effects additive (user-given)")  # fmt: skip
            elif name == "stop":
                what = "off-treatment regrowth as fitted (population prior where never off)"
            else:
                what = "current drug's fitted effect, resistance as fitted"
            summary_out.append(
                (name, float(np.mean(np.nan_to_num(ev, nan=1.0))), float(np.median(first - origin)),
                 float(horizon_days if (on_old or on_new) else 0.0), what)
            )  # fmt: skip
        summary = pd.DataFrame(
            summary_out,
            columns=["strategy", "prob_progression", "median_days_to_progression",
                     "mean_days_on", "assumption"],
        )  # fmt: skip
        return pd.concat(paths_out, ignore_index=True), summary


# ---------------------------------------------------------------------------- simulation
@dataclass(frozen=True)
class SimulatedSizeCohort:
    """Patients simulated from the model family (:func:`simulate_size_cohort`).

    Attributes
    ----------
    table : DataFrame
        ``patient_id``, ``day``, ``value`` (marker units, log-normal error),
        ``on_treatment``, ``true_value`` (noise-free).
    theta : DataFrame
        True parameters per patient (``log_v0`` absolute).
    """

    table: pd.DataFrame
    theta: pd.DataFrame


def simulate_size_cohort(
    n_patients: int,
    *,
    model: str = "stein_onoff",
    mu: np.ndarray | None = None,
    omega: np.ndarray | None = None,
    error_sd: float = 0.08,
    visit_interval_days: float = 42.0,
    n_visits: int = 10,
    holiday_share: float = 0.5,
    rng: np.random.Generator | int | None = None,
) -> SimulatedSizeCohort:
    """Simulate sums of diameters (mm) from a treatment-effect model with known parameters.

    Parameters drawn from ``N(mu, omega)`` (default: around 60 mm, 10 % resistant, kill
    0.015 / day, growth 0.004 / day for ``stein_onoff``); scans every
    ``visit_interval_days``; a share ``holiday_share`` of patients take a treatment
    holiday of two scan intervals starting at a random scan between the 3rd and 6th, the
    others stay on treatment.

    Returns
    -------
    SimulatedSizeCohort
    """
    rng = np.random.default_rng(rng)
    m = get_exposure_model(model)
    if mu is None:
        if m.name == "stein_onoff":
            mu = np.array([np.log(60.0), -2.2, np.log(0.015), np.log(0.004)])
        else:
            mu = np.array([np.log(60.0), np.log(0.003), np.log(0.015), np.log(0.01)])
    omega = np.diag([0.4, 0.6, 0.3, 0.3]) ** 2 if omega is None else omega
    theta = rng.multivariate_normal(mu, omega, size=n_patients)
    days = visit_interval_days * np.arange(n_visits)
    out = []
    for i in range(n_patients):
        on = np.ones(n_visits, dtype=int)
        if rng.random() < holiday_share:
            start = int(rng.integers(2, min(6, n_visits - 2)))
            on[start : start + 2] = 0
        e = exposure_days(days, days, on)
        true = m(days, e, theta[i])
        obs = true * np.exp(error_sd * rng.standard_normal(n_visits))
        for j in range(n_visits):
            out.append((f"T{i:03d}", days[j], float(obs[j]), int(on[j]), float(true[j])))
    table = pd.DataFrame(out, columns=["patient_id", "day", "value", "on_treatment", "true_value"])
    th = pd.DataFrame(theta, columns=m.param_names)
    th.insert(0, "patient_id", [f"T{i:03d}" for i in range(n_patients)])
    return SimulatedSizeCohort(table, th)


# ---------------------------------------------------------------------- heavy-tailed wrap
class StudentTForecaster:
    """A :class:`PopulationModel`'s forecasts with a calibrated Student-t predictive.

    The member's linearised Gaussian predictive on its transformed scale (mean ``m``, sd
    ``sigma``: parameter, Brownian-discrepancy and error variance) becomes ``m + kappa sigma
    T_nu``. On the cohort's own cut-off readings (the last ``calibration_holdout`` readings
    of every series, forecast under leave-one-out priors: out of sample),
    the discrepancy ``s``, noise factor ``c`` and ``nu`` maximise the Student-t log score
    (censored readings: log CDF), then ``kappa`` sets the 80 % coverage. The median is the
    member's, so the MAE is unchanged; the tails widen where the forecast errors are
    heavier-tailed than Gaussian.

    Parameters
    ----------
    model : str or GrowthModel
        The growth model (:data:`~oncoresist.forecast.growth.MODELS`).
    nu_by : {"coverage", "logscore"}
        How ``nu`` is chosen (see above).
    **options
        Passed to :class:`PopulationModel` (``calibration`` is set to ``"logscore"``).

    Attributes
    ----------
    base_ : PopulationModel
    s_, c_, nu_, kappa_ : float
        Discrepancy scale, noise factor, degrees of freedom and spread.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> rows = [(p, d, 100 * np.exp(-0.01 * d * (1 + 0.2 * rng.standard_normal())))
    ...         for p in range(30) for d in (0, 30, 60, 90, 120, 150)]
    >>> data = pd.DataFrame(rows, columns=["patient_id", "day", "value"])
    >>> fc = StudentTForecaster("exponential").fit(data)
    >>> list(fc.predict(data, {0: [200.0]}).columns)[:3]
    ['patient_id', 'day', 'q025']
    """

    def __init__(
        self,
        model: str = "general_bertalanffy",
        *,
        nu_by: Literal["coverage", "logscore"] = "coverage",
        **options: object,
    ) -> None:
        self.model = model
        self.nu_by = nu_by
        self.options = options

    def fit(self, data: pd.DataFrame) -> StudentTForecaster:
        """Fit the member on the cohort, then the Student-t calibration."""
        opts = {**self.options, "calibration": "logscore"}
        self.base_ = PopulationModel(self.model, **opts).fit(data)  # type: ignore[arg-type]
        base, cal = self.base_, self.base_.calibration_
        if not cal:
            self.s_, self.c_ = base.discrepancy_, base.noise_factor_
            self.nu_, self.kappa_ = 1e6, 1.0
            return self
        z, cens, zl = cal["z"], cal["censored"], cal["zlloq"]

        cache: dict[tuple[float, float], tuple[np.ndarray, np.ndarray]] = {}

        def marg(s, c):
            if (s, c) not in cache:
                mean, var = base._gauss(cal["posterior"], cal["rows"], cal["day"], s, c, 1.0)
                cache[(s, c)] = (mean, np.sqrt(var))
            return cache[(s, c)]

        def logpdf(s, c, nu, kappa):
            mean, sd = marg(s, c)
            sd = kappa * sd
            return np.where(cens, _t_logcdf((zl - mean) / sd, nu),
                            _t_logpdf((z - mean) / sd, nu) - np.log(sd))  # fmt: skip

        def covered(s, c, nu, kappa, level=0.8):
            mean, sd = marg(s, c)
            sd = kappa * sd
            tail = (1.0 - level) / 2.0
            inside = np.where(cens, stdtr(nu, (zl - mean) / sd) > tail,
                              np.abs(z - mean) <= stdtrit(nu, 1.0 - tail) * sd)  # fmt: skip
            return float(inside.mean())

        fixed = (base.discrepancy_, base.noise_factor_)
        if self.nu_by == "logscore":
            self.s_, self.c_, self.nu_, self.kappa_ = _calibrate_t(logpdf, covered, fixed=fixed)
            return self
        if self.nu_by != "coverage":
            raise InputError(
                f"nu_by={self.nu_by!r}; expected 'coverage' or 'logscore'", field="nu_by"
            )
        self.s_, self.c_ = fixed

        def kappa_for(nu: float, level: float = 0.8) -> float:
            lo, hi = -3.0, 3.0
            for _ in range(40):
                mid = 0.5 * (lo + hi)
                inside = covered(*fixed, nu, float(np.exp(mid)), level)
                lo, hi = (mid, hi) if inside < level else (lo, mid)
            return float(np.exp(hi))

        # heavier tails (smaller nu) at the 80 %-calibrated spread cover more at 95 %
        lo, hi = _NU_BOX
        for _ in range(30):
            mid = 0.5 * (lo + hi)
            nu = float(np.exp(mid))
            cov95 = covered(*fixed, nu, kappa_for(nu), 0.95)
            lo, hi = (mid, hi) if cov95 >= 0.95 else (lo, mid)
        self.nu_ = float(np.exp(lo))
        self.kappa_ = kappa_for(self.nu_)
        return self

    def predict(
        self,
        data: pd.DataFrame,
        days: pd.DataFrame | dict,
        *,
        n_samples: int = 1000,
        rng: np.random.Generator | int | None = None,
        below_lloq: float | None = None,
    ) -> pd.DataFrame:
        """Student-t predictive quantiles (columns as :meth:`PopulationModel.predict`).

        Quantiles are exact (the t quantile function); ``mean`` comes from ``n_samples``
        draws; a quantile below the patient's LLOQ is reported as ``below_lloq`` when
        given.
        """
        rng = np.random.default_rng(rng)
        base = self.base_
        post = base.posterior(as_batch(data) if isinstance(data, pd.DataFrame) else data)
        rows, t = _targets(post, days)
        mean, var = base._gauss(post, rows, t, self.s_, self.c_, 1.0)
        sd = self.kappa_ * np.sqrt(var)
        frame = pd.DataFrame({"patient_id": post.ids[rows], "day": t})
        lloq = post.lloq[rows]
        has = np.isfinite(lloq)

        def back(zv: np.ndarray) -> np.ndarray:
            y = base.scale_.inv(zv)
            if below_lloq is not None:
                y = np.where(has & (y < np.nan_to_num(lloq, nan=-1.0)), below_lloq, y)
            return y

        for name, q in QUANTILES.items():
            frame[name] = back(mean + sd * stdtrit(self.nu_, q))
        draws = mean[None] + sd[None] * rng.standard_t(self.nu_, size=(n_samples, len(t)))
        frame["mean"] = back(draws).mean(axis=0)
        zl = base.scale_.fwd(np.nan_to_num(lloq, nan=0.0))
        frame["prob_below_lloq"] = np.where(has, stdtr(self.nu_, (zl - mean) / sd), np.nan)
        return frame
