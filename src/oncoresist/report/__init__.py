"""One self-contained HTML report per patient: timeline, trajectories, response, verdicts.

:func:`build_report` takes one patient's draws (with therapy lines and clinical events),
runs :func:`oncoresist.monitor.monitor` on them (per-draw calls, series-level alerts under
a false-alert budget, each alert-free series' limit of detection, molecular response,
alerts in categories) and the interpretation of the latest draw, and returns the HTML page;
:func:`render_report` renders tables already computed; :func:`write_report` writes a page
atomically. The page says which error model, panel, counting unit and levels the calls
used. It needs no network: CSS inline, plots as inline SVG, no script and no URL. See
``docs/report.md``.

Forecasts: :func:`psa_table` and :func:`forecast_patient` (a patient's serial PSA under each
strategy, or what is missing), :func:`forecast_section` (fan chart, strategies, assumptions,
accuracy) and :func:`fan_chart_svg`.

CRISPR screens: :func:`screen_results_html` (rank plots, volcano, sgRNA fold changes, top
hits with the knowledge link) and :func:`screen_qc_html` (one-page QC), same conventions.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from oncoresist._files import atomic_write
from oncoresist.errors import InputError
from oncoresist.interpret import Interpretation, interpret
from oncoresist.kb import KnowledgeBase, load_kb
from oncoresist.report._forecast_html import (
    Forecast,
    accuracy_sentence,
    forecast_patient,
    forecast_section,
    psa_table,
)
from oncoresist.report._forecast_svg import fan_chart_svg
from oncoresist.report._html import (
    current_regimen,
    patient_label_for,
    render_report,
    single_patient,
)
from oncoresist.report._screen_html import screen_qc_html, screen_results_html

if TYPE_CHECKING:
    from oncoresist.monitor import BackgroundModel, MonitorResult

__all__ = [
    "Forecast",
    "accuracy_sentence",
    "build_report",
    "fan_chart_svg",
    "forecast_patient",
    "forecast_section",
    "interpret_latest",
    "patient_label_for",
    "psa_table",
    "render_report",
    "screen_qc_html",
    "screen_results_html",
    "write_report",
]

#: Columns that :func:`~oncoresist.monitor.call_draws` and :func:`~oncoresist.monitor.monitor`
#: add to the observations; what is left of a call table are its observation columns.
_DERIVED = (
    "count_unit", "alt_count", "depth_count", "background_error", "p_value", "q_value",
    "threshold", "critical_count", "posterior", "state", "lod_vaf", "input_ge",
    "input_source", "draw_index", "series_statistic", "series_boundary", "series_p_value",
    "series_level", "series_called", "series_first_called_date", "series_lod_vaf",
)  # fmt: skip
#: Per-draw level when neither the caller nor the call table says one.
DEFAULT_FPR = 0.05


def _one_patient(frame: pd.DataFrame | None, patient: str) -> pd.DataFrame | None:
    if frame is None or frame.empty:
        return None
    if "patient_id" not in frame.columns:
        return frame
    mine = frame[frame["patient_id"].astype(str) == patient]
    return mine if not mine.empty else None


def _table_fpr(calls: pd.DataFrame) -> float | None:
    """The per-draw level a call table was called at, read back from its thresholds.

    :func:`~oncoresist.monitor.call_draws` with its default Bonferroni correction gives
    every test of a draw the threshold ``fpr / m`` (``m`` variants in the draw), so
    ``threshold * m`` is the level, the same for every row. ``None`` when the table has no
    thresholds or they are not Bonferroni's (another correction).
    """
    if not {"threshold", "sample_id"} <= set(calls.columns) or calls.empty:
        return None
    m = calls.groupby("sample_id", sort=False)["sample_id"].transform("size").to_numpy(float)
    level = calls["threshold"].to_numpy(float) * m
    if not np.isfinite(level).all() or not np.allclose(level, level[0], rtol=1e-9, atol=0):
        return None
    return float(level[0]) if 0 < level[0] < 1 else None


def _drivers_of(
    drivers: Sequence[str] | dict[str, list[str]] | None, patient: str
) -> dict[str, list[str]] | None:
    if drivers is None or isinstance(drivers, dict):
        return drivers
    if isinstance(drivers, str):
        raise InputError(
            "give the patient's drivers as a list of alteration labels, e.g. ['EGFR L858R']",
            field="drivers",
        )
    return {patient: list(drivers)}


def build_report(
    calls: pd.DataFrame | None = None,
    *,
    therapy: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    disease: str | None = None,
    patient_label: str | None = None,
    title: str | None = None,
    illustrative: bool = False,
    report_date: dt.date | None = None,
    show_dates: bool = False,
    kb: KnowledgeBase | None = None,
    background: BackgroundModel | None = None,
    budget: float = 0.02,
    fpr: float | None = None,
    drivers: Sequence[str] | dict[str, list[str]] | None = None,
    result: MonitorResult | None = None,
    forecast: Forecast | None = None,
) -> str:
    """Build one patient's HTML report from its draws, therapy lines and events.

    Parameters
    ----------
    calls
        One patient's observations (:func:`oncoresist.monitor.read_serial`, the store's
        ``observations``) or a call table made from them (:func:`~oncoresist.monitor.call_draws`,
        ``monitor(...).calls``): the columns those add are dropped and the observations
        monitored again with the settings below, so the page states the settings its calls
        used. Not used (may be ``None``) when ``result`` is given.
    therapy, events
        Therapy lines and clinical events (as :func:`oncoresist.monitor.read_therapy` and
        :func:`~oncoresist.monitor.read_events` return them, or the store's tables); rows of
        other patients are ignored.
    disease
        The patient's disease (name, synonym or OncoTree code), for the interpretation.
    patient_label, title, illustrative, report_date, show_dates
        The patient's label (a pseudonym), the page's title and date, the illustrative
        banner and calendar dates: as :func:`render_report` takes them.
    kb
        Knowledge base (the shipped one by default).
    background
        Fitted panel of normals (:class:`oncoresist.monitor.BackgroundModel`); ``None``:
        the documented default background (the page says so).
    budget
        Chance that a resistance-free patient's series ever raises a resistance alert
        (0.02), spent over the draws after the baseline.
    fpr
        Per-draw level: the chance that a variant-free draw has any false per-draw call.
        ``None``: the level ``calls`` was called at when it is a Bonferroni call table
        (``threshold`` times the variants in the draw, as the command line makes it), else
        0.05.
    drivers
        The patient's known drivers (alteration labels, e.g. from tissue), a list or a
        mapping from patient to list: reported as "driver rising", never as emerging
        resistance.
    result
        A :class:`oncoresist.monitor.MonitorResult` already computed for this patient
        (ideally with ``lod=True``): rendered as it is, nothing recomputed; ``budget``,
        ``fpr``, ``background`` and ``drivers`` are then not used.
    forecast
        The patient's marker forecast (:func:`forecast_patient`), shown as the section
        "Forecast of PSA under each strategy" (or its refusal); ``None``: no such section.

    Returns
    -------
    str
        The HTML document, self-contained.

    Raises
    ------
    InputError
        No draws, draws of several patients, a missing column, or an unknown disease or
        regimen.

    Notes
    -----
    The calls are :func:`oncoresist.monitor.monitor` with ``lod=True``: per-draw calls at
    ``fpr``, resistance alerts from the series-level test at ``budget`` (so a draw can be
    detected before its alteration alerts), and, for every series without an alert, the
    VAF that would have been alerted by the last draw with 95 % probability. The counting
    unit is that of ``calls`` (its ``count_unit`` column) when it has one, else chosen by
    :func:`oncoresist.monitor.count_unit`.

    The interpretation takes the alterations detected at the latest draw together with
    those detected at the baseline draw (the driver stays known after clearance); the
    verdict table judges the patient's regimens (current first), and the options and other
    drugs come from the same alterations with ``drugs=None``.
    """
    from oncoresist import monitor

    kb = kb or load_kb()
    if result is None and calls is None:
        raise InputError("give the patient's draws (calls) or a monitor result", field="calls")
    patient = single_patient(calls if result is None else result.calls)
    therapy, events = _one_patient(therapy, patient), _one_patient(events, patient)
    if result is None:
        level = fpr if fpr is not None else (_table_fpr(calls) or DEFAULT_FPR)
        unit = str(calls["count_unit"].iloc[0]) if "count_unit" in calls.columns else "auto"
        obs = calls.drop(columns=[c for c in _DERIVED if c in calls.columns])
        result = monitor.monitor(
            obs, background=background, therapy=therapy, events=events, disease=disease,
            drivers=_drivers_of(drivers, patient), fpr=level, budget=budget, unit=unit,
            lod=True, kb=kb,
        )  # fmt: skip

    interpretation, options = interpret_latest(
        result.calls, response=result.response, therapy=therapy, disease=disease, kb=kb
    )
    return render_report(
        calls=result.calls, response=result.response, alerts=result.alerts,
        interpretation=interpretation, options=options, therapy=therapy, events=events,
        title=title, patient_label=patient_label, illustrative=illustrative,
        report_date=report_date, show_dates=show_dates, settings=result.settings,
        forecast=forecast_section(forecast) if forecast is not None else None,
    )  # fmt: skip


def interpret_latest(
    calls: pd.DataFrame,
    *,
    response: pd.DataFrame,
    therapy: pd.DataFrame | None,
    disease: str | None,
    kb: KnowledgeBase,
) -> tuple[Interpretation | None, Interpretation | None]:
    """Interpret one patient's latest draw: verdicts for its regimens, and the options.

    The alterations are those detected at the latest draw together with those detected at
    the baseline draw (the driver stays known after clearance). The first result judges
    the patient's regimens (current first; ``None`` without therapy lines), the second
    every drug the knowledge base links to the alterations (``None`` when nothing was
    detected).
    """
    latest = calls["collection_date"].max()
    base = response.loc[response["category"] == "baseline", "sample_id"]
    at = calls["collection_date"] == latest
    if not base.empty:
        at |= calls["sample_id"] == base.iloc[0]
    present = sorted(set(calls.loc[at & (calls["state"] == "detected"), "alteration"].astype(str)))

    interpretation: Interpretation | None = None
    options: Interpretation | None = None
    if present:
        regimens: list[str] = []
        if therapy is not None:
            now = current_regimen(therapy, latest)
            ordered = therapy.sort_values("start_date", ascending=False)["regimen"].astype(str)
            regimens = list(dict.fromkeys([*([now] if now else []), *ordered]))
        if regimens:
            interpretation = interpret(present, drugs=regimens, disease=disease, kb=kb)
        options = interpret(present, drugs=None, disease=disease, kb=kb)
    return interpretation, options


def write_report(path: str | os.PathLike[str], html: str) -> None:
    """Write a report atomically: a reader never sees a half-written page."""
    with atomic_write(path) as handle:
        handle.write(html)
