"""Emergence alerts and variant trends in serial ctDNA, linked to the knowledge base.

An alert is raised for an alteration that was not detected at baseline and is called in a
later draw. It is interpreted against the regimen the patient was on at that draw, with the
baseline alterations (the tumour's driver) alongside, so a bypass or on-target mechanism is
named for the drug actually in use: "EGFR C797S, first called on day 212 at VAF 0.31 %:
resistant to osimertinib (on_target, B); phase with EGFR T790M unknown".
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from oncoresist.errors import InputError
from oncoresist.interpret import interpret
from oncoresist.kb import KnowledgeBase, load_kb
from oncoresist.monitor._response import _baseline_date, _require

ALERT_COLUMNS = [
    "patient_id",
    "alteration",
    "first_called_date",
    "day",
    "vaf",
    "regimen",
    "verdict",
    "mechanism",
    "evidence",
    "phase_note",
    "lead_time_days",
    "doubling_time_days",
    "message",
]
TREND_COLUMNS = [
    "patient_id",
    "alteration",
    "n_detected",
    "slope_per_day",
    "doubling_time_days",
    "last_vaf",
]


def _vaf(frame: pd.DataFrame) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return frame["alt_reads"].to_numpy(float) / frame["depth"].to_numpy(float)


def _trend(days: np.ndarray, vaf: np.ndarray) -> tuple[float, float]:
    """Slope of log VAF per day by least squares, and the doubling time (days)."""
    keep = np.isfinite(vaf) & (vaf > 0)
    if keep.sum() < 2 or np.ptp(days[keep]) == 0:
        return math.nan, math.nan
    slope = float(np.polyfit(days[keep], np.log(vaf[keep]), 1)[0])
    return slope, (math.log(2) / slope) if slope > 0 else math.nan


def variant_trends(calls: pd.DataFrame) -> pd.DataFrame:
    """Log-linear trend of every tracked variant over its detected draws.

    Parameters
    ----------
    calls
        Called observations (``patient_id``, ``collection_date``, ``alteration``,
        ``alt_reads``, ``depth``, ``state``).

    Returns
    -------
    pandas.DataFrame
        ``patient_id``, ``alteration``, ``n_detected`` (draws), ``slope_per_day`` (of the
        natural log of VAF), ``doubling_time_days`` (NaN when not rising), ``last_vaf``.
    """
    _require(
        calls,
        ["patient_id", "collection_date", "alteration", "alt_reads", "depth", "state"],
        "the call table",
    )
    rows = []
    for (patient, alteration), obs in calls.groupby(["patient_id", "alteration"], sort=True):
        obs = obs.sort_values("collection_date")
        hit = obs[obs["state"] == "detected"]
        days = (hit["collection_date"] - obs["collection_date"].min()).dt.days.to_numpy(float)
        slope, doubling = _trend(days, _vaf(hit))
        last = _vaf(obs.tail(1))[0]
        rows.append([patient, alteration, len(hit), slope, doubling, last])
    return pd.DataFrame(rows, columns=TREND_COLUMNS)


def _regimen_on(therapy: pd.DataFrame | None, patient: str, date: pd.Timestamp) -> str | None:
    if therapy is None or therapy.empty:
        return None
    lines = therapy[(therapy["patient_id"] == patient) & (therapy["start_date"] <= date)]
    lines = lines[lines["end_date"].isna() | (lines["end_date"] >= date)]
    if lines.empty:
        return None
    return str(lines.sort_values("start_date")["regimen"].iloc[-1])


def emergence_alerts(
    calls: pd.DataFrame,
    *,
    therapy: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    disease: str | dict[str, str] | None = None,
    kb: KnowledgeBase | None = None,
) -> pd.DataFrame:
    """Alterations that emerge after baseline, with what they mean for the current regimen.

    Parameters
    ----------
    calls
        Called observations: ``patient_id``, ``sample_id``, ``collection_date``,
        ``alteration``, ``alt_reads``, ``depth`` (reads), ``state``.
    therapy
        Therapy lines (``patient_id``, ``regimen`` as a drug key, ``start_date``,
        ``end_date``); the regimen in use at the first call is interpreted.
    events
        Clinical events (``patient_id``, ``event``, ``date``); the first ``progression``
        after the first call gives the lead time.
    disease
        Disease of every patient, or a mapping from patient to disease.
    kb
        Knowledge base (the shipped one by default).

    Returns
    -------
    pandas.DataFrame
        One row per emerging alteration: ``patient_id``, ``alteration``,
        ``first_called_date``, ``day`` (days since the first therapy line started, or since
        the first draw), ``vaf`` (fraction at the first call), ``regimen``, ``verdict`` of the
        regimen with this alteration present, ``mechanism`` and ``evidence`` of the
        assertion naming it, ``phase_note``, ``lead_time_days`` (to the next progression,
        NaN when unknown), ``doubling_time_days`` and ``message``.
    """
    _require(
        calls,
        ["patient_id", "sample_id", "collection_date", "alteration", "alt_reads", "depth", "state"],
        "the call table",
    )
    kb = kb or load_kb()
    trends = variant_trends(calls).set_index(["patient_id", "alteration"])
    rows = []
    for patient, obs in calls.groupby("patient_id", sort=True):
        obs = obs.sort_values(["collection_date", "sample_id"])
        draws = obs.drop_duplicates("sample_id")
        base_date = _baseline_date(str(patient), draws["collection_date"], therapy)
        baseline = obs[obs["collection_date"] <= base_date]
        at_baseline = set(baseline.loc[baseline["state"] == "detected", "alteration"])
        later = obs[(obs["collection_date"] > base_date) & (obs["state"] == "detected")]
        origin = base_date
        if therapy is not None and not therapy.empty:
            starts = therapy.loc[therapy["patient_id"] == patient, "start_date"]
            if not starts.empty:
                origin = starts.min()
        patient_disease = disease.get(patient) if isinstance(disease, dict) else disease
        for alteration, hits in later.groupby("alteration", sort=False):
            if alteration in at_baseline:
                continue
            first = hits.iloc[0]
            date = first["collection_date"]
            regimen = _regimen_on(therapy, str(patient), date)
            present = at_baseline | set(
                obs.loc[(obs["sample_id"] == first["sample_id"]) & (obs["state"] == "detected"),
                        "alteration"]
            )  # fmt: skip
            verdict = mechanism = evidence = phase_note = None
            if regimen is not None:
                try:
                    result = interpret(
                        sorted(present), drugs=[regimen], disease=patient_disease, kb=kb
                    )
                except InputError as exc:
                    raise exc.located(record=f"patient {patient}") from None
                judged = result.drugs[0]
                verdict = judged.verdict
                mine = [r for r in judged.reasons if alteration in r.alteration]
                if mine:
                    mechanism = mine[0].mechanism or mine[0].effect
                    evidence = mine[0].evidence
                unknown = [
                    p.second if p.first == alteration else p.first
                    for p in result.phase
                    if p.relation == "unknown" and alteration in (p.first, p.second)
                ]
                if unknown:
                    phase_note = f"phase with {', '.join(unknown)} unknown"
            lead = math.nan
            if events is not None and not events.empty:
                after = events[
                    (events["patient_id"] == patient)
                    & (events["event"].str.lower() == "progression")
                    & (events["date"] >= date)
                ]
                if not after.empty:
                    lead = float((after["date"].min() - date).days)
            doubling = trends.loc[(patient, alteration), "doubling_time_days"]
            vaf = float(_vaf(first.to_frame().T)[0])
            day = int((date - origin).days)
            rows.append(
                [patient, alteration, date, day, vaf, regimen, verdict, mechanism, evidence,
                 phase_note, lead, doubling,
                 _message(alteration, day, vaf, regimen, verdict, mechanism, evidence,
                          phase_note, lead)]
            )  # fmt: skip
    return pd.DataFrame(rows, columns=ALERT_COLUMNS)


def _message(alteration, day, vaf, regimen, verdict, mechanism, evidence, phase_note, lead):
    text = f"{alteration}, first called on day {day} at VAF {vaf * 100:.2f}%"
    if regimen is not None and verdict is not None:
        if verdict == "no_known_effect":
            text += f": no known effect on {regimen}"
        else:
            detail = ", ".join(x for x in (mechanism, evidence) if x)
            text += f": {verdict.replace('_', ' ')} to {regimen}" + (
                f" ({detail})" if detail else ""
            )
    if phase_note:
        text += f"; {phase_note}"
    if lead == lead:  # not NaN
        text += f"; {int(lead)} days before clinical progression"
    return text
