"""The PSA forecast of the web patient page, from the patient's stored measurements.

A forecast (:func:`oncoresist.report.forecast_patient` with the bundled population prior,
``oncoresist.forecast.default_forecaster("psa")``) costs a few seconds of CPU, so it runs in
an upload worker process (:func:`oncoresist.server._uploads.run_job`: at low priority,
killed at the parse timeout) and each service process keeps the result per patient and
*measurement version* (the newest ingest of the patient's measurements or therapy lines,
and their counts): a new upload is seen at the next read, and a page read twice costs one
forecast. The treatment status of readings without ``on_treatment`` comes from the stored
therapy lines. Callers check the patient's site first (as every patient route does).
"""

from __future__ import annotations

import functools
import math
import threading
from collections import OrderedDict
from typing import Any

import sqlalchemy as sa

from oncoresist.report import Forecast, accuracy_sentence, forecast_patient, psa_table
from oncoresist.report._forecast_svg import STRATEGY_WORDS
from oncoresist.server import _schemas as m
from oncoresist.server._uploads import UploadFailed, UploadTimeout, run_job
from oncoresist.server._views import KeyedLocks
from oncoresist.store import Store
from oncoresist.store import _schema as s
from oncoresist.store._engine import create_store_engine

__all__ = ["compute_forecast", "forecast_out", "measurement_version", "patient_forecast"]

#: patients whose forecasts one service process keeps
CACHE_SIZE = 128
_CACHE: OrderedDict[tuple, Forecast | None] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_COMPUTING = KeyedLocks()


def measurement_version(connection: sa.Connection, pseudonym: str) -> tuple:
    """What the patient's forecast is computed from: measurement and therapy ingests."""
    mm, t = s.marker_measurements, s.therapy_lines
    query = sa.select(
        sa.select(sa.func.max(mm.c.ingest_id)).where(mm.c.patient == pseudonym).scalar_subquery(),
        sa.select(sa.func.count(mm.c.id)).where(mm.c.patient == pseudonym).scalar_subquery(),
        sa.select(sa.func.max(t.c.ingest_id)).where(t.c.patient == pseudonym).scalar_subquery(),
        sa.select(sa.func.count(t.c.id)).where(t.c.patient == pseudonym).scalar_subquery(),
    )
    return tuple(connection.execute(query).one())


def compute_forecast(pseudonym: str, *, url: sa.URL, key: bytes, kb: Any = None) -> Forecast | None:
    """The patient's PSA forecast from the store (``None``: no PSA measurements stored).

    Runs in an upload worker process (``kb`` is the worker's knowledge base, unused).
    """
    store = Store(create_store_engine(url), key=key)
    try:
        measurements = store.measurements(pseudonym=pseudonym, marker="psa")
        if measurements.empty:
            return None
        therapy = store.therapy(pseudonym=pseudonym)
    finally:
        store.close()
    return forecast_patient(psa_table(measurements, therapy), pseudonym)


def patient_forecast(state: Any, pseudonym: str) -> Forecast | None:
    """The forecast of one of the site's patients (checked by the caller), cached.

    A forecast that fails or runs past the parse timeout is not kept: the section then says
    it could not be computed, and the next read tries again.
    """
    with state.store.engine.connect() as connection:
        version = measurement_version(connection, pseudonym)
        connection.rollback()
    if not version[1]:
        return None
    key = (state.store.url, pseudonym, version)
    with _COMPUTING.hold(key):
        with _CACHE_LOCK:
            if key in _CACHE:
                _CACHE.move_to_end(key)
                return _CACHE[key]
        job = functools.partial(compute_forecast, pseudonym, url=state.store.engine.url,
                                key=state.key)  # fmt: skip
        try:
            found = run_job(job, timeout=max(state.settings.parse_timeout, 60.0),
                            nice=state.settings.upload_nice, name="forecast")  # fmt: skip
        except (UploadFailed, UploadTimeout):
            return Forecast(
                _empty_history(),
                refusal="no forecast: it could not be computed just now; reload the page to "
                "try again.",
            )
        with _CACHE_LOCK:
            _CACHE[key] = found
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.popitem(last=False)
        return found


def _empty_history():
    import pandas as pd

    return pd.DataFrame({"day": [], "value": [], "censored": [], "on_treatment": []})


def _finite(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def forecast_out(pseudonym: str, forecast: Forecast | None) -> m.ForecastOut:
    """The forecast as the API shows it (no forecast: a refusal naming what is missing)."""
    if forecast is None:
        return m.ForecastOut(
            patient=pseudonym, readings=0, horizon_days=360.0, window_days=180.0,
            refusal="no forecast: no PSA measurements are stored for this patient.",
            strategies=[], bands=[], accuracy=accuracy_sentence(None), assumptions=[],
        )  # fmt: skip
    strategies, bands = [], []
    if forecast.refusal is None and forecast.summary is not None and forecast.paths is not None:
        for row in forecast.summary.to_dict("records"):
            assessed = not (row["strategy"] == "stop" or float(row["mean_days_on"]) == 0.0)
            strategies.append(m.ForecastStrategyOut(
                strategy=str(row["strategy"]), assessed=assessed,
                prob_progression=_finite(row["prob_progression"]) if assessed else None,
                median_days_to_progression=(_finite(row["median_days_to_progression"])
                                            if assessed else None),
                mean_days_on=float(row["mean_days_on"]),
            ))  # fmt: skip
        for row in forecast.paths.to_dict("records"):
            bands.append(m.ForecastBandOut(
                strategy=str(row["strategy"]), day=float(row["day"]),
                **{q: float(row[q]) for q in ("q025", "q10", "q50", "q90", "q975")},
                share_on_treatment=_finite(row.get("share_on_treatment")),
            ))  # fmt: skip
    return m.ForecastOut(
        patient=pseudonym, readings=len(forecast.history), refusal=forecast.refusal,
        horizon_days=forecast.horizon_days, window_days=forecast.window_days,
        strategies=strategies, bands=bands,
        accuracy=accuracy_sentence(forecast.accuracy) if forecast.refusal is None else "",
        assumptions=list(forecast.assumptions),
    )  # fmt: skip


#: the strategies' descriptions, for the API's documentation
STRATEGIES = STRATEGY_WORDS
