"""Rolling-origin backtests of serial-marker forecasts, with the baselines they must beat.

Generic over the marker (PSA, ctDNA, lesion size): a long table with ``patient_id``,
``day`` (days), ``value`` (the marker, > 0 for the log-scale baselines) and
``on_treatment`` (0/1: treatment given in the interval that starts at the reading).

* :func:`cycle_origins`: forecast origins at each treatment switch (``rule="switch"``) or
  at every reading after the first few (``rule="every"``);
* :func:`next_cycle_targets`: the readings a forecast from an origin is scored on (those
  up to and including the next switch, i.e. the treatment cycle that starts at the
  origin, within a horizon);
* :func:`last_value_baseline`, :func:`repeat_cycle_baseline`: the two baselines of issue
  16, on the log10 scale;
* :func:`rolling_origin_backtest`: patients split into folds; for each fold a forecaster
  is fitted on the other folds' complete series and forecasts every origin of the fold
  from the data up to it;
* :func:`summarise`: MAE, interval coverage, CRPS, and (when the forecaster gives event
  probabilities) AUC and sensitivity at a specificity floor.

A forecaster is any object with ``fit(table) -> self`` and
``forecast_origins(table, origins, targets, *, rng) -> (rows, per_origin)`` where ``rows``
has, per target, ``q025, q10, q50, q90, q975`` (marker units) and ``samples_log10`` is
returned inside ``rows.attrs["samples_log10"]`` (``(S, n_targets)``) for the CRPS, and
``per_origin`` has ``patient_id, origin_day`` and optionally ``prob_event`` and
``event`` (1, 0 or NaN when not evaluable).

References
----------
Tashman LJ. Out-of-sample tests of forecasting accuracy: an analysis and review. Int J
Forecast 2000;16:437-450 (rolling-origin evaluation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import pandas as pd

from oncoresist.errors import InputError
from oncoresist.forecast.metrics import auc, crps_samples

if TYPE_CHECKING:
    from distributed import Client

QUANTILE_COLUMNS = ("q025", "q10", "q50", "q90", "q975")
REQUIRED = ("patient_id", "day", "value", "on_treatment")


class OriginForecaster(Protocol):
    """What :func:`rolling_origin_backtest` needs from a forecaster."""

    def fit(self, table: pd.DataFrame) -> OriginForecaster:
        """Learn from a reference cohort's complete series; return self."""
        ...

    def forecast_origins(
        self,
        table: pd.DataFrame,
        origins: pd.DataFrame,
        targets: pd.DataFrame,
        *,
        rng: np.random.Generator | int | None = None,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Forecast ``targets`` from each origin (see the module docstring)."""
        ...


def _check_table(table: pd.DataFrame) -> None:
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; expected {', '.join(REQUIRED)}",
            field=missing[0],
        )


def cycle_origins(
    table: pd.DataFrame,
    *,
    rule: Literal["switch", "every"] = "switch",
    min_readings: int = 3,
) -> pd.DataFrame:
    """Forecast origins of every patient.

    Parameters
    ----------
    table : DataFrame
        ``patient_id``, ``day`` (days), ``value``, ``on_treatment`` (0/1), each patient's
        rows in time order.
    rule : {"switch", "every"}
        ``"switch"``: each reading where the treatment status differs from the previous
        reading's (a new cycle starts there); ``"every"``: every reading.
    min_readings : int
        Readings (the origin included) a patient must have up to the origin.

    Returns
    -------
    DataFrame
        ``patient_id``, ``origin_day`` (days), ``origin_index`` (0-based position of the
        origin in the patient's series), ``on_treatment`` (status from the origin on).

    Examples
    --------
    >>> t = pd.DataFrame({"patient_id": "a", "day": [0, 30, 60, 90, 120],
    ...                   "value": 1.0, "on_treatment": [1, 1, 1, 0, 0]})
    >>> cycle_origins(t)["origin_day"].tolist()
    [90]
    """
    _check_table(table)
    if rule not in ("switch", "every"):
        raise InputError(f"rule={rule!r}; expected 'switch' or 'every'", field="rule")
    out = []
    for pid, g in table.groupby("patient_id", sort=False):
        on = g["on_treatment"].to_numpy()
        days = g["day"].to_numpy(dtype=float)
        for i in range(max(min_readings - 1, 1), len(g) - 1):
            if rule == "every" or on[i] != on[i - 1]:
                out.append((pid, days[i], i, int(on[i])))
    return pd.DataFrame(out, columns=["patient_id", "origin_day", "origin_index", "on_treatment"])


def next_cycle_targets(
    table: pd.DataFrame,
    origins: pd.DataFrame,
    *,
    max_horizon_days: float = 365.0,
) -> pd.DataFrame:
    """The readings each origin's forecast is scored on: the cycle that starts there.

    The targets of an origin are the readings after it up to and including the next
    reading where the treatment status changes (its value is the result of the cycle;
    the new status acts after it), or to the end of the series, within
    ``max_horizon_days`` of the origin.

    Returns
    -------
    DataFrame
        ``patient_id``, ``origin_day``, ``day`` (target day), ``observed`` (value),
        ``horizon_days`` (day - origin_day), ``below_lloq`` (the limit of a censored
        reading, else ``nan``: :func:`censored_limit`).
    """
    _check_table(table)
    groups = {pid: g for pid, g in table.groupby("patient_id", sort=False)}
    rows = []
    for pid, origin_day, i in origins[["patient_id", "origin_day", "origin_index"]].itertuples(
        index=False
    ):
        g = groups[pid]
        on = g["on_treatment"].to_numpy()
        days = g["day"].to_numpy(dtype=float)
        vals = g["value"].to_numpy(dtype=float)
        below = censored_limit(g)
        for j in range(i + 1, len(g)):
            if days[j] - origin_day > max_horizon_days:
                break
            rows.append((pid, origin_day, days[j], vals[j], days[j] - origin_day, below[j]))
            if on[j] != on[i]:
                break
    return pd.DataFrame(
        rows,
        columns=["patient_id", "origin_day", "day", "observed", "horizon_days", "below_lloq"],
    )


def censored_limit(table: pd.DataFrame) -> np.ndarray:
    """The limit of quantification of each censored reading (``nan`` where quantified).

    A reading is censored when it has a ``lower_limit_of_quantification`` and its value
    is below it (a "<LLOQ" reading is stored as 0 with its limit).
    """
    if "lower_limit_of_quantification" not in table:
        return np.full(len(table), np.nan)
    lim = table["lower_limit_of_quantification"].to_numpy(dtype=float)
    val = table["value"].to_numpy(dtype=float)
    return np.where(np.isfinite(lim) & (val < lim), lim, np.nan)


def _quantified(table: pd.DataFrame) -> np.ndarray:
    """Values with each censored reading replaced by its limit (what a baseline carries)."""
    lim = censored_limit(table)
    return np.where(np.isfinite(lim), lim, table["value"].to_numpy(dtype=float))


def censored_abs_error(obs_log10: np.ndarray, pred_log10: np.ndarray,
                       limit_log10: np.ndarray) -> np.ndarray:  # fmt: skip
    """Absolute error on log10; a censored observation (finite limit) is only ``< limit``.

    A prediction at or below the limit of a censored reading is no error; one above it
    is wrong by its distance to the limit.
    """
    cens = np.isfinite(limit_log10)
    return np.where(
        cens, np.maximum(pred_log10 - np.where(cens, limit_log10, 0.0), 0.0),
        np.abs(obs_log10 - pred_log10),
    )  # fmt: skip


def _log10(x: np.ndarray, floor: float) -> np.ndarray:
    return np.log10(np.maximum(np.asarray(x, dtype=float), floor))


def last_value_baseline(
    table: pd.DataFrame, targets: pd.DataFrame, *, floor: float = 1e-3
) -> np.ndarray:
    """Last value carried forward: log10 of the reading at the origin, per target row.

    ``floor`` (marker units) replaces values at or below 0 before the log.
    """
    at = pd.Series(_quantified(table), index=pd.MultiIndex.from_frame(table[["patient_id", "day"]]))
    keys = list(zip(targets["patient_id"], targets["origin_day"], strict=True))
    return _log10(at.loc[keys].to_numpy(dtype=float), floor)


def repeat_cycle_baseline(
    table: pd.DataFrame, targets: pd.DataFrame, *, floor: float = 1e-3
) -> tuple[np.ndarray, np.ndarray]:
    """Repeat the previous cycle: the last cycle of the same treatment status, shifted.

    For an origin starting a cycle of status ``u``, the previous cycle of status ``u``
    (from the reading where it started to the reading where it ended) gives a log10
    trajectory against days since its start; it is shifted so that its start equals
    the origin's log10 value and read at each target's horizon (linear interpolation;
    beyond its end, its last value). Where no earlier cycle of that status exists, the
    last value is carried forward.

    Returns
    -------
    pred : ndarray
        Predicted log10 values per target row.
    has_cycle : ndarray of bool
        Whether a previous cycle existed (else ``pred`` is the last value).
    """
    groups = {pid: g for pid, g in table.groupby("patient_id", sort=False)}
    pred = np.empty(len(targets))
    has = np.zeros(len(targets), dtype=bool)
    cache: dict[tuple, tuple[np.ndarray, np.ndarray] | None] = {}
    for k, (pid, origin_day, horizon) in enumerate(
        targets[["patient_id", "origin_day", "horizon_days"]].itertuples(index=False)
    ):
        g = groups[pid]
        days = g["day"].to_numpy(dtype=float)
        logv = _log10(_quantified(g), floor)
        on = g["on_treatment"].to_numpy()
        i = int(np.searchsorted(days, origin_day))
        key = (pid, origin_day)
        if key not in cache:
            starts = [j for j in range(1, i) if on[j] == on[i] and on[j] != on[j - 1]]
            if not starts and on[0] == on[i] and i > 0 and np.any(on[:i] != on[i]):
                starts = [0]
            if starts:
                j0 = starts[-1]
                j1 = j0 + 1
                while j1 < i and on[j1] == on[j0]:
                    j1 += 1
                cache[key] = (days[j0 : j1 + 1] - days[j0], logv[j0 : j1 + 1] - logv[j0])
            else:
                cache[key] = None
        prev = cache[key]
        if prev is None:
            pred[k] = logv[i]
        else:
            pred[k] = logv[i] + np.interp(horizon, prev[0], prev[1])
            has[k] = True
    return pred, has


@dataclass(frozen=True)
class BacktestResult:
    """What :func:`rolling_origin_backtest` returns.

    Attributes
    ----------
    rows : DataFrame
        One row per (patient_id, origin_day, target day): ``observed``, the forecast's
        ``q025 ... q975`` (marker units), ``fold``, ``horizon_days``, ``crps_log10``
        (from the forecaster's draws), ``last_value_log10``, ``repeat_cycle_log10`` and
        ``has_previous_cycle``.
    origins : DataFrame
        One row per origin: ``patient_id``, ``origin_day``, ``fold`` and whatever the
        forecaster reported (``prob_event``, ``event``).
    """

    rows: pd.DataFrame
    origins: pd.DataFrame


def rolling_origin_backtest(
    table: pd.DataFrame,
    make: Callable[[], OriginForecaster],
    *,
    rule: Literal["switch", "every"] = "switch",
    min_readings: int = 3,
    max_horizon_days: float = 365.0,
    n_folds: int = 5,
    rng: np.random.Generator | int | None = 0,
    floor: float = 1e-3,
    client: Client | str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BacktestResult:
    """Rolling-origin evaluation with k-fold-by-patient reference cohorts.

    Patients are split at random into ``n_folds`` folds (``n_folds`` = number of patients
    is leave-one-out). For each fold, ``make()`` is fitted on the **complete** series of
    the other folds; every origin of the fold's patients is then forecast from the
    patient's readings up to and including the origin, under the schedule the table
    records after it. Nothing of a patient's future, and nothing of the patient at all,
    enters the reference cohort of their forecasts.

    Parameters
    ----------
    table : DataFrame
        ``patient_id``, ``day`` (days), ``value`` (marker units, > 0 for the log10
        baselines; values <= 0 are floored at ``floor``), ``on_treatment``.
    make : callable
        Returns a new unfitted forecaster (see the module docstring).
    rule, min_readings
        Origins (see :func:`cycle_origins`).
    max_horizon_days : float
        Targets within this many days of the origin.
    n_folds : int
        Folds by patient (>= 2).
    rng : numpy.random.Generator, int or None
        Seed of the fold split and of the forecasters' draws.
    floor : float
        Marker value used in place of values <= 0 on the log scale.
    client : distributed.Client or str, optional
        Fit each fold's reference cohort on this Dask cluster (or scheduler address).
    progress : callable, optional
        Called with ``(folds done, folds)`` after each fold.

    Returns
    -------
    BacktestResult
    """
    _check_table(table)
    rng = np.random.default_rng(rng)
    ids = table["patient_id"].unique()
    if not 2 <= n_folds <= len(ids):
        raise InputError(f"n_folds={n_folds}; expected 2 to {len(ids)} (patients)", field="n_folds")
    fold_of = dict(zip(ids, rng.permutation(len(ids)) % n_folds, strict=True))
    origins = cycle_origins(table, rule=rule, min_readings=min_readings)
    targets = next_cycle_targets(table, origins, max_horizon_days=max_horizon_days)
    origins = origins[
        origins.set_index(["patient_id", "origin_day"]).index.isin(
            targets.set_index(["patient_id", "origin_day"]).index
        )
    ].reset_index(drop=True)
    rows_out, origins_out = [], []
    for f in range(n_folds):
        in_fold = table["patient_id"].map(fold_of).to_numpy() == f
        o = origins[origins["patient_id"].map(fold_of) == f]
        if o.empty:
            continue
        tg = targets[targets["patient_id"].map(fold_of) == f]
        forecaster = make()
        if client is None:
            forecaster = forecaster.fit(table[~in_fold])
        else:
            forecaster = forecaster.fit(table[~in_fold], client=client)
        rows, per_origin = forecaster.forecast_origins(table[in_fold], o, tg, rng=rng)
        samples = rows.attrs.get("samples_log10")
        rows = rows.reset_index(drop=True)
        rows.attrs = {}
        lim = _log10(rows["below_lloq"].to_numpy(dtype=float), floor)
        cens = np.isfinite(rows["below_lloq"].to_numpy(dtype=float))
        obs = np.where(cens, lim, _log10(rows["observed"].to_numpy(), floor))
        if samples is not None:
            # censored reading: the predictive censored at the limit, scored at the limit
            samples = np.where(cens[None], np.maximum(samples, lim[None]), samples)
            rows["crps_log10"] = crps_samples(obs, samples)
        else:
            rows["crps_log10"] = np.full(len(rows), np.nan)
        rows["fold"] = f
        per_origin = per_origin.assign(fold=f)
        rows_out.append(rows)
        origins_out.append(per_origin)
        if progress is not None:
            progress(f + 1, n_folds)
    rows = pd.concat(rows_out, ignore_index=True)
    rows["last_value_log10"] = last_value_baseline(table, rows, floor=floor)
    rows["repeat_cycle_log10"], rows["has_previous_cycle"] = repeat_cycle_baseline(
        table, rows, floor=floor
    )
    return BacktestResult(rows, pd.concat(origins_out, ignore_index=True))


def sensitivity_at_specificity(
    scores: np.ndarray, labels: np.ndarray, *, min_specificity: float = 0.85
) -> tuple[float, float, float]:
    """Best sensitivity over thresholds whose specificity is at least ``min_specificity``.

    Returns
    -------
    (sensitivity, specificity, threshold)
        At the threshold (``score >= threshold`` is positive) that maximises sensitivity
        subject to the specificity floor.
    """
    s = np.asarray(scores, dtype=float)
    lab = np.asarray(labels, dtype=bool)
    best = (0.0, 1.0, np.inf)
    for thr in np.unique(s):
        call = s >= thr
        sens = float(call[lab].mean())
        spec = float((~call[~lab]).mean())
        if spec >= min_specificity and sens > best[0]:
            best = (sens, spec, float(thr))
    return best


def summarise(result: BacktestResult, *, floor: float = 1e-3) -> dict[str, float]:
    """Headline figures of a backtest (log10 scale for errors).

    Returns
    -------
    dict
        ``n_origins``, ``n_targets``, ``mae_log10`` (median forecast), ``mae_last_value``,
        ``mae_repeat_cycle``, ``ratio_last_value``, ``ratio_repeat_cycle`` (model MAE over
        baseline MAE), ``mae_log10_cycles``, ``mae_repeat_cycle_cycles`` (only targets whose
        origin has a previous cycle of the same status), ``coverage_80``, ``coverage_95``,
        ``crps_log10``, and when event probabilities are present ``n_events``,
        ``n_evaluable``, ``auc``, ``sens_at_spec85``, ``spec_at_that`` (within the
        forecaster's window, 180 days) and the same with the suffix ``_cycle`` (within
        the next treatment cycle). Censored targets (``below_lloq``) count as errors only
        by how far a forecast lies above their limit, and as covered by an interval that
        reaches below it.
    """
    r = result.rows
    obs = _log10(r["observed"].to_numpy(), floor)
    lim_raw = r["below_lloq"] if "below_lloq" in r else pd.Series(np.nan, index=r.index)
    lim_raw = lim_raw.to_numpy(dtype=float)
    lim = np.where(np.isfinite(lim_raw), _log10(np.nan_to_num(lim_raw, nan=1.0), floor), np.nan)
    med = _log10(r["q50"].to_numpy(), floor)
    err = censored_abs_error(obs, med, lim)
    e_lv = censored_abs_error(obs, r["last_value_log10"].to_numpy(), lim)
    e_rc = censored_abs_error(obs, r["repeat_cycle_log10"].to_numpy(), lim)
    has = r["has_previous_cycle"].to_numpy(dtype=bool)
    # a censored reading is covered by an interval that reaches below its limit
    y = np.where(np.isfinite(lim_raw), -np.inf, r["observed"].to_numpy(dtype=float))
    y_hi = np.where(np.isfinite(lim_raw), lim_raw, y)
    out = {
        "n_origins": float(len(result.origins)),
        "n_targets": float(len(r)),
        "mae_log10": float(err.mean()),
        "mae_last_value": float(e_lv.mean()),
        "mae_repeat_cycle": float(e_rc.mean()),
        "mae_log10_cycles": float(err[has].mean()) if has.any() else np.nan,
        "mae_last_value_cycles": float(e_lv[has].mean()) if has.any() else np.nan,
        "mae_repeat_cycle_cycles": float(e_rc[has].mean()) if has.any() else np.nan,
        "coverage_80": float(np.mean((y_hi >= r["q10"]) & (y <= r["q90"]))),
        "coverage_95": float(np.mean((y_hi >= r["q025"]) & (y <= r["q975"]))),
        "crps_log10": float(np.nanmean(r["crps_log10"])),
    }
    out["ratio_last_value"] = out["mae_log10"] / out["mae_last_value"]
    out["ratio_repeat_cycle"] = out["mae_log10"] / out["mae_repeat_cycle"]
    o = result.origins
    for suffix in ("", "_cycle"):
        if f"prob_event{suffix}" not in o or f"event{suffix}" not in o:
            continue
        ok = o[f"event{suffix}"].notna().to_numpy()
        lab = o[f"event{suffix}"].to_numpy()[ok].astype(bool)
        p = o[f"prob_event{suffix}"].to_numpy(dtype=float)[ok]
        out[f"n_evaluable{suffix}"] = float(ok.sum())
        out[f"n_events{suffix}"] = float(lab.sum())
        if lab.any() and (~lab).any():
            out[f"auc{suffix}"] = auc(p, lab)
            sens, spec, _ = sensitivity_at_specificity(p, lab, min_specificity=0.85)
            out[f"sens_at_spec85{suffix}"], out[f"spec_at_that{suffix}"] = sens, spec
    return out
