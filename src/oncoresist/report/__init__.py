"""One self-contained HTML report per patient: timeline, trajectories, response, verdicts.

:func:`build_report` takes one patient's called draws (with therapy lines and clinical
events), computes the molecular response, the emergence alerts and the interpretation of
the latest draw, and returns the HTML page; :func:`render_report` renders tables already
computed; :func:`write_report` writes a page atomically. The page needs no network: CSS
inline, plots as inline SVG, no script and no URL. See ``docs/report.md``.

CRISPR screens: :func:`screen_results_html` (rank plots, volcano, sgRNA fold changes, top
hits with the knowledge link) and :func:`screen_qc_html` (one-page QC), same conventions.
"""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd

from oncoresist._files import atomic_write
from oncoresist.interpret import Interpretation, interpret
from oncoresist.kb import KnowledgeBase, load_kb
from oncoresist.report._html import (
    current_regimen,
    patient_label_for,
    render_report,
    single_patient,
)
from oncoresist.report._screen_html import screen_qc_html, screen_results_html

__all__ = [
    "build_report",
    "interpret_latest",
    "patient_label_for",
    "render_report",
    "screen_qc_html",
    "screen_results_html",
    "write_report",
]


def _one_patient(frame: pd.DataFrame | None, patient: str) -> pd.DataFrame | None:
    if frame is None or frame.empty:
        return None
    if "patient_id" not in frame.columns:
        return frame
    mine = frame[frame["patient_id"].astype(str) == patient]
    return mine if not mine.empty else None


def build_report(
    calls: pd.DataFrame,
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
) -> str:
    """Build one patient's HTML report from its draws, therapy lines and events.

    Parameters
    ----------
    calls
        One patient's draws called by :func:`oncoresist.monitor.call_draws`. A table
        without a ``state`` column is taken as observations and called with the defaults.
    therapy, events
        Therapy lines and clinical events (as :func:`oncoresist.monitor.read_therapy` and
        :func:`~oncoresist.monitor.read_events` return them, or the store's tables); rows of
        other patients are ignored.
    disease
        The patient's disease (name, synonym or OncoTree code), for the interpretation.
    patient_label
        How the report names the patient, e.g. a pseudonym. Default: the first 12 digits of
        the store pseudonym in ``calls``; any other identifier is withheld.
    title
        Page title.
    illustrative
        Mark the report as illustrative (simulated data, not a real patient).
    report_date
        Date printed on the report (default: today).
    show_dates
        Print calendar dates next to the day offsets (default: offsets only).
    kb
        Knowledge base (the shipped one by default).

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
    The interpretation takes the alterations detected at the latest draw together with
    those detected at the baseline draw (the driver stays known after clearance); the
    verdict table judges the patient's regimens (current first), and the options and other
    drugs come from the same alterations with ``drugs=None``.
    """
    from oncoresist import monitor

    if "state" not in calls.columns:
        calls = monitor.call_draws(calls)
    patient = single_patient(calls)
    therapy = _one_patient(therapy, patient)
    events = _one_patient(events, patient)
    kb = kb or load_kb()
    response = monitor.molecular_response(calls, therapy=therapy)
    alerts = monitor.emergence_alerts(calls, therapy=therapy, events=events, disease=disease, kb=kb)

    interpretation, options = interpret_latest(
        calls, response=response, therapy=therapy, disease=disease, kb=kb
    )
    return render_report(
        calls=calls, response=response, alerts=alerts, interpretation=interpretation,
        options=options, therapy=therapy, events=events, title=title,
        patient_label=patient_label, illustrative=illustrative, report_date=report_date,
        show_dates=show_dates,
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
