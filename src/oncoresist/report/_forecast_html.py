"""The forecast section of the patient report and the web patient page.

:func:`psa_table` turns serial measurements (as ``read_measurements`` or the store return
them, with the therapy lines where there is no ``on_treatment`` column) into the PSA table
the forecaster reads; :func:`forecast_patient` forecasts one patient under each strategy
(:meth:`oncoresist.forecast.PSAForecaster.forecast_strategies`, with the bundled population
prior by default) or, with too little data, keeps the sentence that says what is missing;
:func:`forecast_section` renders either as HTML: the fan chart, the strategies' chances of
progression and days on drug, the assumptions and a plain statement of the forecasts'
accuracy in the backtest of the prior's cohort. Every text is escaped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from oncoresist.errors import InputError
from oncoresist.report._forecast_svg import STRATEGY_WORDS, Band, History, Panel, fan_chart_svg
from oncoresist.report._templates import Markup, render

__all__ = [
    "MIN_READINGS",
    "Forecast",
    "accuracy_sentence",
    "forecast_patient",
    "forecast_section",
    "psa_table",
]

#: Readings a forecast needs (issue 16: fewer is a refusal, never a confident line).
MIN_READINGS = 4
#: z of the 75th percentile over that of the 90th: the 50 % band from the 80 % one (log scale)
_Z50_OVER_Z80 = 0.6744897501960817 / 1.2815515655446004
_RULES = (
    "Strategies, applied at a visit every 28 days from the last reading: continue "
    "abiraterone; stop it; adaptive (Zhang 2022: stop when PSA falls below 50 % of the "
    "baseline, the first reading, and resume when it is back at the baseline); adaptive "
    "25/75 (stop below 25 %, resume at 75 %); intermittent (8 weeks on, 8 weeks off)."
)
_PCWG3 = (
    "Progression (PCWG3, PSA only): a reading after an interval on drug that is at least "
    "25 % and 2 ng/mL above the nadir (the lowest reading on drug so far), confirmed by the "
    "next reading on drug at least 3 weeks later. A rise off drug is not progression, so "
    "it is not assessed under 'stop'. The data hold no scans: radiographic progression is "
    "not forecast."
)


@dataclass
class Forecast:
    """One patient's forecast under each strategy, or the reason there is none.

    Attributes
    ----------
    history
        The patient's readings: ``day``, ``value`` (the limit when censored),
        ``censored``, ``on_treatment``.
    paths
        :meth:`~oncoresist.forecast.PSAForecaster.forecast_strategies`' bands (``None``
        when refused).
    summary
        Its per-strategy summary (``None`` when refused).
    refusal
        What is missing, as a sentence (``None`` when forecast).
    accuracy
        The forecaster's backtest figures (``accuracy_``), or ``None``.
    assumptions
        The forecaster's assumptions (``assumptions_``) and the section's own.
    horizon_days, window_days
        Forecast horizon and progression window (days).
    """

    history: pd.DataFrame
    paths: pd.DataFrame | None = None
    summary: pd.DataFrame | None = None
    refusal: str | None = None
    accuracy: dict[str, Any] | None = None
    assumptions: list[str] = field(default_factory=list)
    horizon_days: float = 360.0
    window_days: float = 180.0
    marker: str = "psa"


def psa_table(measurements: pd.DataFrame, therapy: pd.DataFrame | None = None) -> pd.DataFrame:
    """The PSA readings of serial measurements, as the PSA forecaster reads them.

    Parameters
    ----------
    measurements
        As :func:`oncoresist.forecast._inputs.read_measurements` or
        :meth:`oncoresist.store.Store.measurements` return them (other markers are left
        out).
    therapy
        Lines of therapy (``read_therapy`` columns) for readings without ``on_treatment``;
        needs dated measurements.

    Returns
    -------
    pandas.DataFrame
        ``patient_id, day, value`` (0 when censored), ``on_treatment`` (0/1; -1 where
        unknown: the forecast then says so), ``lower_limit_of_quantification``,
        ``censored``; sorted by patient and day.
    """
    m = measurements[measurements["marker"].astype(str) == "psa"].copy()
    if therapy is not None and not therapy.empty and m["on_treatment"].isna().any():
        from oncoresist.forecast._inputs import treatment_days

        given = m["on_treatment"].copy()
        covered = m["patient_id"].isin(set(therapy["patient_id"]))
        if covered.any() and m.loc[covered, "date"].notna().all():
            marked = treatment_days(m.loc[covered], therapy)
            m.loc[covered, "on_treatment"] = given[covered].fillna(marked["on_treatment"])
    censored = m["censored"].astype(bool).to_numpy()
    lloq = pd.to_numeric(m["lower_limit_of_quantification"], errors="coerce").to_numpy(float)
    lloq = np.where(censored & ~np.isfinite(lloq), m["value"].to_numpy(float), lloq)
    out = pd.DataFrame(
        {
            "patient_id": m["patient_id"].astype(str).to_numpy(),
            "day": m["day"].to_numpy(dtype=float),
            "value": np.where(censored, 0.0, m["value"].to_numpy(dtype=float)),
            "on_treatment": m["on_treatment"].fillna(-1).astype(int).to_numpy(),
            "lower_limit_of_quantification": lloq,
            "censored": censored,
        }
    )
    return out.sort_values(["patient_id", "day"], kind="stable").reset_index(drop=True)


def _readiness(mine: pd.DataFrame) -> str | None:
    if (mine["on_treatment"] < 0).any():
        return (
            "no forecast: the treatment status of some PSA readings is not known; give an "
            "on_treatment column (1/0) or the patient's lines of therapy."
        )
    try:
        from oncoresist.forecast.psa import readiness
    except ImportError:  # pragma: no cover - an older forecast package
        readiness = None
    said = readiness(mine) if readiness is not None else None
    if said is not None:
        return said
    n, on = len(mine), mine["on_treatment"].to_numpy(int)
    if n < MIN_READINGS:
        return f"no forecast: {n} PSA readings (at least {MIN_READINGS} needed)."
    if not on[:-1].any():
        return "no forecast: no reading after a start of treatment (nothing shows the response)."
    return None


def forecast_patient(
    table: pd.DataFrame,
    patient_id: object,
    *,
    forecaster: Any = None,
    horizon_days: float = 360.0,
    rng: np.random.Generator | int | None = 0,
) -> Forecast:
    """Forecast one patient's PSA under each strategy, or say what is missing.

    Parameters
    ----------
    table
        PSA readings (:func:`psa_table`); rows of other patients are ignored.
    patient_id
        The patient.
    forecaster
        A fitted :class:`oncoresist.forecast.PSAForecaster`; default the bundled prior
        (``oncoresist.forecast.default_forecaster("psa")``).
    horizon_days
        Days ahead.
    rng
        Seed of the predictive paths.

    Returns
    -------
    Forecast
        With ``refusal`` set (and no paths) when the patient has fewer than
        :data:`MIN_READINGS` readings, no reading after an interval on treatment, or
        readings of unknown treatment status.
    """
    mine = table[table["patient_id"].astype(str) == str(patient_id)]
    mine = mine.sort_values("day", kind="stable").reset_index(drop=True)
    value = mine["value"].to_numpy(float)
    lloq = (
        mine["lower_limit_of_quantification"].to_numpy(float)
        if "lower_limit_of_quantification" in mine
        else np.full(len(mine), np.nan)
    )
    censored = (
        mine["censored"].to_numpy(bool) if "censored" in mine else (value == 0) & np.isfinite(lloq)
    )
    history = pd.DataFrame(
        {
            "day": mine["day"].to_numpy(float),
            "value": np.where(censored, lloq, value),
            "censored": censored,
            "on_treatment": mine["on_treatment"].to_numpy(int),
        }
    )
    refusal = _readiness(mine)
    if refusal is not None:
        return Forecast(history, refusal=refusal, horizon_days=horizon_days)
    if forecaster is None:
        from oncoresist.forecast import default_forecaster

        forecaster = default_forecaster("psa")
    wanted = ["patient_id", "day", "value", "on_treatment"]
    series = mine[wanted].assign(lower_limit_of_quantification=lloq)
    paths, summary = forecaster.forecast_strategies(
        series, series["patient_id"].iloc[0], horizon_days=horizon_days, rng=rng
    )
    return Forecast(
        history,
        paths=paths,
        summary=summary,
        accuracy=getattr(forecaster, "accuracy_", None),
        assumptions=list(getattr(forecaster, "assumptions_", None) or []),
        horizon_days=horizon_days,
        window_days=float(getattr(forecaster, "window_days", 180.0)),
    )


# ----------------------------------------------------------------------- rendering
def _num(value: Any, fmt: str) -> str | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return format(v, fmt) if math.isfinite(v) else None


def accuracy_sentence(accuracy: dict[str, Any] | None) -> str:
    """The forecasts' accuracy in the prior's backtest, in plain words (not escaped)."""
    if not accuracy:
        return (
            "The accuracy of these forecasts is not known: the forecaster carries no "
            "backtest. Read them as a model's view, not a measured one."
        )
    n = _num(accuracy.get("n_patients"), ".0f")
    source = str(accuracy.get("source") or "the reference cohort")
    mae, last = _num(accuracy.get("mae_log10"), ".2f"), _num(accuracy.get("mae_last_value"), ".2f")
    repeat = _num(accuracy.get("mae_repeat_cycle"), ".2f")
    c80, c95 = _num(accuracy.get("coverage_80"), ".0%"), _num(accuracy.get("coverage_95"), ".0%")
    who = f"On {n} patients of {source}" if n else f"On {source}"
    parts = []
    if mae:
        text = (
            f"{who}, forecasts of the next treatment cycle's PSA were off by {mae} log10 "
            f"on average (a factor of {10 ** float(mae):.2g})"
        )
        if last:
            text += f", against {last} for carrying the last value forward"
        if repeat:
            text += f" and {repeat} for repeating the previous cycle"
        parts.append(text + ".")
    if c80:
        parts.append(
            f"80 % intervals covered {c80} of the readings that followed"
            + (f", 95 % intervals {c95}." if c95 else ".")
        )
    auc, sens = _num(accuracy.get("auc"), ".2f"), _num(accuracy.get("sens_at_spec85"), ".0%")
    if auc:
        parts.append(
            f"PSA progression within 180 days was ranked with an AUC of {auc}"
            + (f" (sensitivity {sens} at 85 % specificity)." if sens else ".")
        )
    if not parts:
        return f"{who}: no accuracy figures were recorded."
    parts.append("Accuracy on this patient may differ, more so far from that cohort's course.")
    return " ".join(parts)


def _bands(frame: pd.DataFrame) -> tuple[list[Band], bool]:
    approx = not {"q25", "q75"} <= set(frame.columns)
    out = []
    for row in frame.sort_values("day").to_dict("records"):
        q10, q50, q90 = float(row["q10"]), float(row["q50"]), float(row["q90"])
        if approx and min(q10, q50, q90) > 0:
            q25 = math.exp(math.log(q50) - _Z50_OVER_Z80 * (math.log(q50) - math.log(q10)))
            q75 = math.exp(math.log(q50) + _Z50_OVER_Z80 * (math.log(q90) - math.log(q50)))
        elif approx:
            q25, q75 = q10, q90
        else:
            q25, q75 = float(row["q25"]), float(row["q75"])
        share = float(row.get("share_on_treatment", math.nan))
        low, high = float(row["q025"]), float(row["q975"])
        out.append(Band(float(row["day"]), low, q10, q25, q50, q75, q90, high, share))
    return out, approx


def _threshold(history: pd.DataFrame) -> float | None:
    on_before = np.concatenate([[False], history["on_treatment"].to_numpy(int)[:-1] == 1])
    values = history["value"].to_numpy(float)[on_before]
    if not values.size:
        return None
    nadir = float(values.min())
    return max(1.25 * nadir, nadir + 2.0)


def _strategies(f: Forecast) -> tuple[list[dict[str, str]], list[Panel], bool]:
    """Each strategy's table row and fan-chart panel; and whether 50 % bands are interpolated."""
    rows, panels, approx = [], [], False
    by = {str(k): g for k, g in f.paths.groupby("strategy", sort=False)}  # type: ignore[union-attr]
    horizon, window = f"{f.horizon_days:.0f}", f"{f.window_days:.0f}"
    for row in f.summary.to_dict("records"):  # type: ignore[union-attr]
        name = str(row["strategy"])
        off = name == "stop" or float(row.get("mean_days_on", 1.0)) == 0.0
        chance = _num(row.get("prob_progression"), ".0%") or "n/a"
        median = float(row.get("median_days_to_progression", math.inf))
        reached = math.isfinite(median)
        rows.append({
            "name": name, "words": STRATEGY_WORDS.get(name, name.replace("_", " ")),
            "chance": "not assessed (off drug)" if off else chance,
            "when": "not assessed (off drug)" if off
            else f"{median:.0f}" if reached else f"not within {horizon} days",
            "days_on": _num(row.get("mean_days_on"), ".0f") or "n/a",
        })  # fmt: skip
        if name not in by:
            continue
        bands, approx_here = _bands(by[name])
        approx |= approx_here
        when = (f"median {median:.0f} days to progression" if reached
                else f"median time to progression beyond {horizon} days")  # fmt: skip
        figures = f"{chance} progress within {window} days; {when}"
        panels.append(Panel(name, "Progression not assessed (off drug)" if off else figures,
                            bands, threshold=not off))  # fmt: skip
    return rows, panels, approx


def forecast_section(
    forecast: Forecast | None,
    *,
    ident: str = "forecast",
    heading: str = "h2",
    note: str | None = None,
) -> str:
    """The forecast section as HTML: fan chart, strategies, assumptions, accuracy.

    The report places it after the options; the web patient page places the same section
    (template ``_forecast.html``), so the two share one markup.

    Parameters
    ----------
    forecast
        :func:`forecast_patient`'s result; ``None``: the section says no measurements
        were given.
    ident
        ``id`` of the ``<section>`` (the chart's and the table's derive from it).
    heading
        Tag of the section's heading (``h2`` in the report).
    note
        A sentence added under the heading (e.g. where the measurements came from).

    Returns
    -------
    str
        A ``<section>`` element; every text from the data is escaped.
    """
    if heading not in {f"h{i}" for i in range(1, 7)}:
        raise ValueError(f"heading must be a heading tag, h1 to h6, not {heading!r}")
    fc: dict[str, Any] = {"ident": ident, "heading": heading, "note": note,
                          "missing": forecast is None, "refusal": None}  # fmt: skip
    if forecast is not None:
        fc |= _outcome(forecast, ident)
    return render("_forecast.html", fc=fc)


def _outcome(forecast: Forecast, ident: str) -> dict[str, Any]:
    """What the section shows of a forecast: its refusal, or chart, table and words."""
    history = forecast.history
    if forecast.refusal is not None or forecast.paths is None or forecast.summary is None:
        reason = forecast.refusal or "no forecast could be made."
        return {"n": len(history), "refusal": reason[:1].upper() + reason[1:]}
    rows, panels, approx = _strategies(forecast)
    hist = [
        History(float(r["day"]), float(r["value"]), bool(r["censored"]),
                bool(r["on_treatment"]) if r["on_treatment"] >= 0 else None)
        for r in history.to_dict("records")
    ]  # fmt: skip
    origin = float(history["day"].iloc[-1])
    chart = fan_chart_svg(hist, panels, origin_day=origin, threshold=_threshold(history),
                          approximate_50=approx, ident=f"{ident}-plot")  # fmt: skip
    horizon, window = f"{forecast.horizon_days:.0f}", f"{forecast.window_days:.0f}"
    head = ["Strategy", f"Chance of PSA progression within {window} days",
            "Median days to progression", f"Days on drug (of {horizon})"]  # fmt: skip
    return {
        "n": len(history), "origin": f"{origin:.0f}", "chart": Markup(chart), "approx": approx,
        "head": head, "rows": rows, "horizon": horizon, "window": window,
        "accuracy": accuracy_sentence(forecast.accuracy),
        "assumptions": [str(a) for a in (*forecast.assumptions, _RULES, _PCWG3)],
    }  # fmt: skip


def require_patient(table: pd.DataFrame, patient_id: object, *, source: str | None) -> None:
    """Refuse a measurement file without the patient (located :class:`InputError`)."""
    if not (table["patient_id"].astype(str) == str(patient_id)).any():
        raise InputError(
            "no PSA measurements of this patient in the file", file=source, field="patient_id"
        )
