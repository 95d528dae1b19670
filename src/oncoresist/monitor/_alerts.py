"""Alerts from serial ctDNA, linked to the knowledge base, in categories that mean what they say.

An alteration first called *on therapy* by the series-level test
(:func:`oncoresist.monitor.call_series`, whose false-alert budget is per patient) is
interpreted against the regimen the patient was on at that draw, with the baseline
alterations alongside, so a bypass or on-target mechanism is named for the drug actually
in use: "EGFR C797S, first called on day 212 at VAF 0.31 %: resistant to osimertinib
(on_target, B); phase with EGFR T790M unknown". Each row has a ``category``:

``emerging_resistance``
    Not detected at baseline, first called on therapy, and the knowledge base names it as
    a cause of resistance or reduced response to the current regimen. Only these are
    resistance alerts.
``new_alteration``
    Not detected at baseline, first called on therapy, no known effect on the regimen.
``driver_rising``
    The tumour's driver (declared in ``drivers``, or an alteration the knowledge base
    says the current regimen targets, such as EGFR L858R on osimertinib) called on
    therapy although it was not detected at baseline: the tumour is coming back, but
    this is not an escape mechanism.
``present_at_baseline``
    Detected at baseline and known to cause resistance to the regimen: intrinsic (or
    earlier acquired) resistance, not an emerging one.

Without series-level calls in the table the per-draw calls (``state``) are used, with
their per-draw false-positive rate.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pandas as pd

from oncoresist.errors import InputError
from oncoresist.interpret import interpret
from oncoresist.kb import KnowledgeBase, load_kb
from oncoresist.monitor._response import _require
from oncoresist.monitor._series import baseline_dates

ALERT_COLUMNS = [
    "patient_id",
    "alteration",
    "category",
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
CATEGORIES = ("emerging_resistance", "new_alteration", "driver_rising", "present_at_baseline")
TREND_COLUMNS = [
    "patient_id",
    "alteration",
    "n_detected",
    "slope_per_day",
    "doubling_time_days",
    "last_vaf",
]
_RESISTANCE = ("resistant", "reduced_response")


def _vaf(frame: pd.DataFrame) -> np.ndarray:
    """VAF in the unit the calls counted (``alt_count/depth_count``), else reads."""
    alt, depth = (
        ("alt_count", "depth_count")
        if {"alt_count", "depth_count"} <= set(frame.columns)
        else ("alt_reads", "depth")
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return frame[alt].to_numpy(float) / frame[depth].to_numpy(float)


def variant_trends(calls: pd.DataFrame) -> pd.DataFrame:
    """Log-linear trend of every tracked variant over its detected draws.

    Parameters
    ----------
    calls
        Called observations (``patient_id``, ``collection_date``, ``alteration``,
        ``alt_reads``, ``depth`` or ``alt_count``, ``depth_count``, ``state``).

    Returns
    -------
    pandas.DataFrame
        ``patient_id``, ``alteration``, ``n_detected`` (draws), ``slope_per_day`` (of the
        natural log of VAF, least squares over detected draws with VAF > 0; NaN with fewer
        than two such draws or one date), ``doubling_time_days`` (NaN when not rising),
        ``last_vaf`` (VAF of the last draw). Sorted by patient and alteration.
    """
    _require(
        calls,
        ["patient_id", "collection_date", "alteration", "alt_reads", "depth", "state"],
        "the call table",
    )
    frame = calls[["patient_id", "alteration", "collection_date"]].copy()
    frame["vaf"] = _vaf(calls)
    frame["hit"] = (calls["state"] == "detected").to_numpy()
    frame = frame.sort_values(["patient_id", "alteration", "collection_date"], kind="stable")
    groups = frame.groupby(["patient_id", "alteration"], sort=True)
    start = groups["collection_date"].transform("min")
    days = (frame["collection_date"] - start).dt.days.to_numpy(float)
    vaf = frame["vaf"].to_numpy()
    use = frame["hit"].to_numpy() & np.isfinite(vaf) & (vaf > 0)
    y = np.where(use, np.log(np.where(use, vaf, 1.0)), 0.0)
    x = np.where(use, days, 0.0)
    parts = pd.DataFrame(
        {"n": use.astype(float), "x": x, "y": y, "xx": x * x, "xy": x * y},
        index=frame.index,
    )
    sums = parts.groupby([frame["patient_id"], frame["alteration"]], sort=True).sum()
    n, sx, sy = sums["n"].to_numpy(), sums["x"].to_numpy(), sums["y"].to_numpy()
    sxx = sums["xx"].to_numpy() - sx * sx / np.maximum(n, 1)
    sxy = sums["xy"].to_numpy() - sx * sy / np.maximum(n, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where((n >= 2) & (sxx > 1e-12), sxy / sxx, np.nan)
        doubling = np.where(slope > 0, math.log(2) / slope, np.nan)
    out = pd.DataFrame(
        {
            "patient_id": sums.index.get_level_values(0),
            "alteration": sums.index.get_level_values(1),
            "n_detected": groups["hit"].sum().to_numpy().astype(int),
            "slope_per_day": slope,
            "doubling_time_days": doubling,
            "last_vaf": groups["vaf"].last().to_numpy(),
        }
    )
    return out[TREND_COLUMNS].reset_index(drop=True)


def _regimens(therapy: pd.DataFrame | None, patients, dates) -> list[str | None]:
    """The regimen of the latest line started on or before each date (and not ended)."""
    if therapy is None or therapy.empty:
        return [None] * len(patients)
    lines: dict = {}
    for row in therapy.sort_values("start_date", kind="stable").itertuples(index=False):
        lines.setdefault(row.patient_id, []).append((row.start_date, row.end_date, row.regimen))
    out = []
    for patient, date in zip(patients, dates, strict=True):
        found = None
        for start, end, regimen in lines.get(patient, ()):
            if start <= date and (pd.isna(end) or end >= date):
                found = str(regimen)
        out.append(found)
    return out


def emergence_alerts(
    calls: pd.DataFrame,
    *,
    therapy: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    disease: str | dict[str, str] | None = None,
    drivers: dict[str, list[str]] | None = None,
    kb: KnowledgeBase | None = None,
    trends: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Alterations called on therapy or resistant at baseline, with their category.

    Parameters
    ----------
    calls
        Called observations: ``patient_id``, ``sample_id``, ``collection_date``,
        ``alteration``, ``alt_reads``, ``depth`` (or ``alt_count``, ``depth_count`` in the
        calls' unit), ``state``, and preferably the series-level columns of
        :func:`oncoresist.monitor.call_series` (``series_called``, ``draw_index``).
    therapy
        Therapy lines (``patient_id``, ``regimen`` as a drug key, ``start_date``,
        ``end_date``); the regimen in use at the first call is interpreted, and the last
        draw on or before the first start is the baseline.
    events
        Clinical events (``patient_id``, ``event``, ``date``); the first ``progression``
        after the first call gives the lead time.
    disease
        Disease of every patient, or a mapping from patient to disease.
    drivers
        Known drivers per patient (alteration labels, e.g. from tissue): never reported
        as emerging resistance.
    kb
        Knowledge base (the shipped one by default).
    trends
        :func:`variant_trends` of ``calls`` when already computed.

    Returns
    -------
    pandas.DataFrame
        One row per patient and alteration: ``patient_id``, ``alteration``, ``category``
        (module docstring), ``first_called_date``, ``day`` (days since the first therapy
        line started, or since the first draw), ``vaf`` (fraction at the first call),
        ``regimen``, ``verdict`` of the regimen with this alteration present,
        ``mechanism`` and ``evidence`` of the assertion naming it, ``phase_note``,
        ``lead_time_days`` (to the next progression, NaN when unknown),
        ``doubling_time_days`` and ``message``. Sorted by patient and first call.
    """
    _require(
        calls,
        ["patient_id", "sample_id", "collection_date", "alteration", "alt_reads", "depth", "state"],
        "the call table",
    )
    kb = kb or load_kb()
    if calls.empty:
        return pd.DataFrame(columns=ALERT_COLUMNS)
    dates = pd.to_datetime(calls["collection_date"])
    base = baseline_dates(calls["patient_id"], dates, therapy)
    detected = (calls["state"] == "detected").to_numpy()
    on = dates.to_numpy() > base
    if "series_called" in calls.columns:
        called_on = calls["series_called"].to_numpy(bool) & on
    else:
        called_on = detected & on
    frame = pd.DataFrame(
        {
            "patient_id": calls["patient_id"].to_numpy(),
            "alteration": calls["alteration"].to_numpy(),
            "sample_id": calls["sample_id"].to_numpy(),
            "date": dates.to_numpy(),
            "vaf": _vaf(calls),
            "base_hit": detected & ~on,
            "called": called_on,
            "detected": detected,
        }
    )
    at_base = frame[frame["base_hit"]]
    base_set = at_base.groupby("patient_id")["alteration"].agg(lambda a: set(a)).to_dict()
    first_base = at_base.sort_values("date", kind="stable").drop_duplicates(
        ["patient_id", "alteration"]
    )
    firsts = (
        frame[frame["called"]]
        .sort_values(["date", "sample_id"], kind="stable")
        .drop_duplicates(["patient_id", "alteration"])
    )
    firsts = firsts[
        [a not in base_set.get(p, ()) for p, a in zip(firsts["patient_id"], firsts["alteration"],
                                                         strict=True)]
    ]  # fmt: skip
    candidates = pd.concat([first_base.assign(at_base=True), firsts.assign(at_base=False)])
    if candidates.empty:
        return pd.DataFrame(columns=ALERT_COLUMNS)
    in_draw = frame[frame["detected"]].groupby("sample_id")["alteration"].agg(set).to_dict()

    starts = (
        therapy.groupby("patient_id")["start_date"].min().to_dict()
        if therapy is not None and not therapy.empty
        else {}
    )
    first_draw = frame.groupby("patient_id")["date"].min().to_dict()
    progression: dict = {}
    if events is not None and not events.empty:
        prog = events[events["event"].str.lower() == "progression"].sort_values("date")
        for patient, date in zip(prog["patient_id"], prog["date"], strict=True):
            progression.setdefault(patient, []).append(date)
    trends = variant_trends(calls) if trends is None else trends
    doubling_of = trends.set_index(["patient_id", "alteration"])["doubling_time_days"]
    # an alteration present at baseline is judged against the regimen about to start
    when = [
        max(date, starts.get(patient, date)) if at else date
        for patient, date, at in zip(candidates["patient_id"], candidates["date"],
                                     candidates["at_base"], strict=True)
    ]  # fmt: skip
    regimens = _regimens(therapy, candidates["patient_id"].tolist(), when)
    judge = lru_cache(maxsize=4096)(
        lambda d, r, present: interpret(list(present), drugs=[r], disease=d, kb=kb)
    )

    rows = []
    for row, regimen in zip(candidates.itertuples(index=False), regimens, strict=True):
        patient, alteration, date = row.patient_id, row.alteration, pd.Timestamp(row.date)
        patient_disease = disease.get(patient) if isinstance(disease, dict) else disease
        declared = set((drivers or {}).get(patient, ()))
        verdict = mechanism = evidence = phase_note = None
        sensitising = resistance = False
        if regimen is not None:
            present = base_set.get(patient, set()) | in_draw.get(row.sample_id, set())
            try:
                result = judge(patient_disease, regimen, tuple(sorted(present | {alteration})))
            except InputError as exc:
                raise exc.located(record=f"patient {patient}") from None
            judged = result.drugs[0]
            verdict = judged.verdict
            mine = [r for r in judged.reasons if alteration in r.alteration]
            resistance = any(r.effect in _RESISTANCE for r in mine)
            sensitising = any(r.effect == "sensitive" for r in mine) and not resistance
            if mine:
                chosen = next((r for r in mine if r.effect in _RESISTANCE), mine[0])
                mechanism = chosen.mechanism or chosen.effect
                evidence = chosen.evidence
            unknown = [
                p.second if p.first == alteration else p.first
                for p in result.phase
                if p.relation == "unknown" and alteration in (p.first, p.second)
            ]
            if unknown:
                phase_note = f"phase with {', '.join(unknown)} unknown"
        driver = alteration in declared or sensitising
        if row.at_base:
            if not resistance or driver:
                continue
            category = "present_at_baseline"
        elif driver:
            category = "driver_rising"
        elif resistance:
            category = "emerging_resistance"
        else:
            category = "new_alteration"
        lead = math.nan
        later = [d for d in progression.get(patient, ()) if d >= date]
        if later:
            lead = float((later[0] - date).days)
        origin = starts.get(patient, first_draw[patient])
        day = int((date - origin).days)
        doubling = doubling_of.get((patient, alteration), math.nan)
        vaf = float(row.vaf)
        rows.append(
            [patient, alteration, category, date, day, vaf, regimen, verdict, mechanism,
             evidence, phase_note, lead, doubling,
             _message(alteration, category, day, vaf, regimen, verdict, mechanism, evidence,
                      phase_note, lead)]
        )  # fmt: skip
    out = pd.DataFrame(rows, columns=ALERT_COLUMNS)
    return out.sort_values(["patient_id", "first_called_date"], kind="stable").reset_index(
        drop=True
    )


_LEADS = {
    "driver_rising": "the tumour's driver, not a resistance mechanism",
    "present_at_baseline": "present at baseline, not emerging",
}


def _message(alteration, category, day, vaf, regimen, verdict, mechanism, evidence, phase_note,
             lead):  # fmt: skip
    if category == "present_at_baseline":
        text = f"{alteration}, present at baseline (day {day}, VAF {vaf * 100:.2f}%)"
    else:
        text = f"{alteration}, first called on day {day} at VAF {vaf * 100:.2f}%"
    if category == "driver_rising":
        text += f": driver rising ({_LEADS[category]})"
    elif regimen is not None and verdict is not None:
        if verdict == "no_known_effect" or category == "new_alteration":
            text += f": no known resistance effect on {regimen}"
        else:
            detail = ", ".join(x for x in (mechanism, evidence) if x)
            text += f": {verdict.replace('_', ' ')} to {regimen}" + (
                f" ({detail})" if detail else ""
            )
    if phase_note:
        text += f"; {phase_note}"
    if lead == lead and category != "present_at_baseline":  # not NaN
        text += f"; {int(lead)} days before clinical progression"
    return text
