"""Render the per-patient report as one self-contained HTML page.

Everything the page needs is inside it: CSS in a ``<style>`` element, plots as inline SVG,
no script, no font, image or style sheet fetched from anywhere, and no URL at all. Patients
appear only under the label given (a pseudonym); draws are named by their day since the
start of the first therapy line, so neither patient nor sample identifiers, nor (unless
asked) calendar dates, reach the page.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from oncoresist.errors import InputError
from oncoresist.interpret import DrugVerdict, Interpretation, Option, Reason
from oncoresist.report import _svg
from oncoresist.report._svg import pct
from oncoresist.report._templates import Markup, page
from oncoresist.report._templates import number as _num

__all__ = [
    "alert_row", "current_regimen", "day_origin", "day_scale", "draw_rows", "lod_band",
    "option_row", "patient_label_for", "render_report", "verdict_row",
]  # fmt: skip

_PSEUDONYM = re.compile(r"[0-9a-f]{64}")
_EVIDENCE = {
    "A": "validated association (guideline or approval)",
    "B": "clinical evidence",
    "C": "case study",
    "D": "preclinical evidence",
    "E": "inferential association",
}


# ----------------------------------------------------------------------- helpers
def patient_label_for(patient_id: object, label: str | None = None) -> str:
    """The name a report gives its patient: ``label``, else a short pseudonym.

    A ``patient_id`` that is a store pseudonym (64 hex digits) is shortened to its first 12
    digits; any other identifier is never shown.
    """
    if label is not None:
        return label
    text = str(patient_id)
    if _PSEUDONYM.fullmatch(text):
        return f"pseudonym {text[:12]}"
    return "identifier withheld"


def day_origin(draw_dates: pd.Series, therapy: pd.DataFrame | None) -> tuple[pd.Timestamp, str]:
    """Day 0 of the report and what it is: the first line's start, else the first draw."""
    if therapy is not None and not therapy.empty and therapy["start_date"].notna().any():
        first = therapy.sort_values("start_date").iloc[0]
        return first["start_date"], f"the start of the first therapy line ({first['regimen']})"
    return draw_dates.min(), "the first ctDNA draw (no therapy line recorded)"


def current_regimen(therapy: pd.DataFrame | None, date: pd.Timestamp) -> str | None:
    """The regimen in use on ``date``, else the last ongoing line's, else ``None``."""
    if therapy is None or therapy.empty:
        return None
    lines = therapy[therapy["start_date"] <= date]
    covering = lines[lines["end_date"].isna() | (lines["end_date"] >= date)]
    if not covering.empty:
        return str(covering.sort_values("start_date")["regimen"].iloc[-1])
    ongoing = therapy[therapy["end_date"].isna()]
    if not ongoing.empty:
        return str(ongoing.sort_values("start_date")["regimen"].iloc[-1])
    return None


def _days(dates: pd.Series | pd.Timestamp, origin: pd.Timestamp):
    if isinstance(dates, pd.Series):
        return (dates - origin).dt.days
    return (dates - origin).days


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    return str(value)


class _References:
    """Numbers the citations in order of first use."""

    def __init__(self) -> None:
        self.order: list[str] = []

    def cite(self, refs: Iterable[str]) -> list[dict[str, object]]:
        numbers = []
        for ref in refs:
            if ref not in self.order:
                self.order.append(ref)
            numbers.append(self.order.index(ref) + 1)
        return [{"n": n, "text": self.order[n - 1]} for n in sorted(set(numbers))]


def _cite(refs: _References | None, references: Iterable[str]) -> list[dict[str, object]]:
    """References of a reason: numbered into ``refs``, else as they are (no list to link)."""
    if refs is None:
        return [{"n": None, "text": r} for r in dict.fromkeys(references)]
    return refs.cite(references)


# ----------------------------------------------------------------------- sections
def _counts(calls: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, str]:
    """Alt counts, depths and their unit: those the calls counted, else reads."""
    if {"alt_count", "depth_count", "count_unit"} <= set(calls.columns) and len(calls):
        unit = str(calls["count_unit"].iloc[0])
        return calls["alt_count"].to_numpy(), calls["depth_count"].to_numpy(), unit
    return calls["alt_reads"].to_numpy(), calls["depth"].to_numpy(), "reads"


def draw_rows(series: list[_svg.Series]) -> list[dict[str, Any]]:
    """Rows of the shared table of plotted values (``_draw_table.html``): by day, variant."""
    rows = [{"alteration": s.label, **vars(p)} for s in series for p in s.points]
    return sorted(rows, key=lambda r: (r["day"], r["alteration"]))


def _trajectory_data(calls: pd.DataFrame, origin: pd.Timestamp, dated: bool) -> list[_svg.Series]:
    """One series per variant; calendar dates only when the page shows them (``dated``)."""
    first_seen = calls.sort_values(["collection_date", "alteration"])
    order = list(dict.fromkeys(first_seen["alteration"].astype(str)))
    detected = calls[calls["state"] == "detected"]
    # variants detected at some draw first (by first detection), then the rest
    first_hit = detected.groupby("alteration")["collection_date"].min()
    never = pd.Timestamp.max
    order.sort(key=lambda a: (a not in first_hit.index, first_hit.get(a, never), a))
    alt, depth, unit = _counts(calls)
    shown = calls.assign(shown_alt=alt, shown_depth=depth).sort_values("collection_date")
    series = []
    for alteration in order:
        s = _svg.Series(alteration)
        for row in shown[shown["alteration"].astype(str) == alteration].itertuples(index=False):
            vaf = row.shown_alt / row.shown_depth if row.shown_depth else float("nan")
            date = f"{row.collection_date:%Y-%m-%d}" if dated else None
            s.points.append(_svg.Point(float(_days(row.collection_date, origin)), str(row.state),
                                       float(vaf), float(row.lod_vaf), int(row.shown_alt),
                                       int(row.shown_depth), unit, date))  # fmt: skip
        series.append(s)
    return series


def lod_band(pairs: Iterable[tuple[float, float | None]]) -> list[tuple[float, ...]]:
    """Per draw day, from its variants' ``(day, 95 % LoD)``: the median, least and greatest.

    Days without a finite limit are left out; the trajectory plot draws this band.
    """
    by_day: dict[float, list[float]] = {}
    for day, lod in pairs:
        if lod is not None and math.isfinite(lod):
            by_day.setdefault(float(day), []).append(float(lod))
    return [(d, float(np.median(x)), min(x), max(x)) for d, x in sorted(by_day.items())]


def day_scale(draws: list[float], lines: list[_svg.Line], events: list[_svg.Event]):
    """The one day axis of the timeline and the trajectories: every draw, line and event."""
    days = [*draws, *(e.day for e in events)]
    days += [d for ln in lines for d in (ln.start, ln.end) if d is not None]
    return _svg.DayScale.covering(days, None if lines else "Days since the first ctDNA draw")


def _response_section(response: pd.DataFrame, origin: pd.Timestamp, show_dates: bool) -> dict:
    if response.empty:
        return {"rows": []}
    measure = str(response["measure"].iloc[0])
    measure_text = (
        "tumour fraction"
        if measure == "tumor_fraction"
        else "mean VAF of the truncal variants (those detected at baseline)"
    )
    base = response[response["category"] == "baseline"]
    base_day = _num(_days(base["collection_date"].iloc[0], origin)) if not base.empty else "n/a"
    rows = []
    for row in response.sort_values("collection_date").itertuples(index=False):
        change = "n/a" if row.change != row.change else f"{row.change * 100:+.1f}%"
        rows.append({
            "category": str(row.category), "day": _num(_days(row.collection_date, origin)),
            "date": f"{row.collection_date:%Y-%m-%d}", "level": row.level,
            "change": change.replace("-", "\u2212"), "nadir": row.nadir_level,
        })  # fmt: skip
    head = ["Day", *(["Date"] if show_dates else []), "ctDNA level", "Change from baseline"]
    caption = f"Molecular response per draw: {measure_text}, relative to the baseline draw"
    return {"rows": rows, "head": [*head, "Nadir so far", "Category"],
            "caption": f"{caption} (day {base_day})"}  # fmt: skip


#: Alert categories of :func:`oncoresist.monitor.emergence_alerts`, in words.
CATEGORY_WORDS = {
    "emerging_resistance": "emerging resistance",
    "new_alteration": "new alteration (no known effect)",
    "driver_rising": "driver rising \u2014 not a resistance mechanism",
    "present_at_baseline": "present at baseline (not emerging)",
}
#: Alert probability that defines a series' limit of detection (``call_series``' ``power``).
SERIES_LOD_POWER = 0.95


def _categories(alerts: pd.DataFrame) -> pd.Series:
    if "category" in alerts.columns:
        return alerts["category"].astype(object)
    return pd.Series(None, index=alerts.index, dtype=object)


def _category_words(category: object) -> str:
    if not isinstance(category, str):
        return "not categorised"
    return CATEGORY_WORDS.get(category, category.replace("_", " "))


def _alert_count(alerts: pd.DataFrame) -> str:
    """The header's count: only emerging resistance is a resistance alert."""
    if alerts.empty:
        return "none"
    categories = _categories(alerts)
    if categories.isna().all():
        return f"{len(alerts)} alert(s), not categorised"
    n = int((categories == "emerging_resistance").sum())
    text = f"{n} (emerging resistance)" if n else "none"
    others = categories[categories != "emerging_resistance"].map(_category_words)
    if len(others):
        counts = others.value_counts(sort=False)
        text += "; other alerts, not resistance: " + ", ".join(
            f"{k} {w}" for w, k in counts.items()
        )
    return text


def _series_result(mine: pd.DataFrame, origin: pd.Timestamp) -> str:
    """What the series-level test said about one alteration without an alert."""
    called = mine["series_called"].astype(bool)
    if called.any():
        first = mine.loc[called, "collection_date"].min()
        return (
            f"called by the series test on therapy (first on day {_num(_days(first, origin))}); "
            "not an alert: present at baseline and not a resistance alteration of the regimen "
            "then"
        )
    if not (mine["draw_index"] > 0).any():
        return "not tested: no draw after the baseline"
    if "series_lod_vaf" not in mine.columns:
        return "not alerted; limit of detection not computed"
    lod = float(mine["series_lod_vaf"].iloc[0])
    power = f"{SERIES_LOD_POWER:.0%}"
    if math.isinf(lod):
        return (
            f"not alerted; no VAF would have been alerted by the last draw with {power} "
            "probability (too few or too shallow draws after the baseline)"
        )
    if not math.isfinite(lod):
        return "not alerted; limit of detection not computed"
    return (
        f"not alerted; would have been alerted by the last draw at VAF \u2265 {pct(lod)} "
        f"with {power} probability"
    )


def _lod_block(calls: pd.DataFrame, alerts: pd.DataFrame, origin: pd.Timestamp) -> dict | None:
    if not {"draw_index", "series_called"} <= set(calls.columns):
        return None
    alerted = set(alerts["alteration"].astype(str)) if not alerts.empty else set()
    rows = []
    ordered = calls.sort_values(["collection_date", "alteration"], kind="stable")
    for alteration, mine in ordered.groupby(ordered["alteration"].astype(str), sort=True):
        if alteration in alerted:
            continue
        at_base = mine["draw_index"] <= 0
        after = int(mine.loc[~at_base, "sample_id"].nunique()) if "sample_id" in mine.columns else 0
        rows.append({
            "alteration": alteration, "after": after,
            "at_baseline": bool((mine.loc[at_base, "state"] == "detected").any()),
            "result": _series_result(mine, origin),
        })  # fmt: skip
    on = calls.loc[calls["draw_index"] > 0, "collection_date"]
    span = ""
    if not on.empty:
        span = (
            f" (the draws from day {_num(_days(on.min(), origin))} to day "
            f"{_num(_days(on.max(), origin))})"
        )
    return {"rows": rows, "span": span, "power": f"{SERIES_LOD_POWER:.0%}"}


def _methods_block(calls: pd.DataFrame, settings: dict | None) -> dict:
    sites = sorted(calls["alteration"].astype(str).unique())
    tracked = f"{len(sites)} alterations: {', '.join(sites)}"
    if not settings:
        return {"facts": None, "tracked": tracked}
    from oncoresist.monitor import describe_settings

    budget, horizon, fpr = settings.get("budget"), settings.get("horizon"), settings.get("fpr")
    facts = [
        ("Error model and panel of normals", _text(settings.get("error_model"))),
        ("Counting unit", _text(settings.get("count_unit"))),
        (
            "False-alert budget",
            f"{budget:.1%} per patient: the chance that a resistance-free patient's series "
            f"ever raises an alert, spent over {horizon} draws after the baseline"
            if isinstance(budget, float) and horizon is not None
            else "not given",
        ),
        (
            "Per-draw level",
            f"{fpr:.0%}: the chance that a variant-free draw has any false per-draw call "
            "(shown as \u201cdetected\u201d in the plot and the draw table)"
            if isinstance(fpr, float)
            else "not given",
        ),
        ("Tracked panel", tracked),
    ]
    try:
        sentence = describe_settings(settings)
    except (KeyError, TypeError, ValueError):
        sentence = ""
    categories = "; ".join(
        f"{CATEGORY_WORDS[c]}: {text}"
        for c, text in (
            ("emerging_resistance", "not detected at baseline, called on therapy, and known "
             "to cause resistance to the regimen then"),
            ("new_alteration", "not detected at baseline, called on therapy, no known effect"),
            ("driver_rising", "the tumour's driver called again on therapy"),
            ("present_at_baseline", "detected at baseline and known to cause resistance"),
        )
    )  # fmt: skip
    return {"facts": facts, "sentence": sentence, "categories": categories}


def _alerts_section(
    alerts: pd.DataFrame,
    calls: pd.DataFrame,
    settings: dict | None,
    origin: pd.Timestamp,
) -> dict:
    ordered = alerts.assign(category=_categories(alerts))
    ordered = ordered.sort_values("first_called_date", kind="stable")
    rows = [alert_row(r, _days(r.first_called_date, origin)) for r in ordered.itertuples()]
    return {
        "count": _alert_count(alerts), "rows": rows,
        "messages": [str(m) for m in alerts["message"]] if not alerts.empty else [],
        "lod": _lod_block(calls, alerts, origin), "methods": _methods_block(calls, settings),
    }  # fmt: skip


def alert_row(alert: Any, day: object) -> dict:
    """One row of the shared alerts table (``_alert_table.html``); missing values blank.

    ``alert`` is a row of :func:`oncoresist.monitor.emergence_alerts` or the API's alert:
    ``alteration``, ``category``, ``first_called_date``, ``vaf``, ``regimen``, ``verdict``,
    ``mechanism``, ``evidence``, ``lead_time_days``, ``doubling_time_days`` and, when
    known, ``phase_note``. ``day`` is the first call's day in the page's day count.
    """
    category, verdict = alert.category, alert.verdict
    return {
        "alteration": str(alert.alteration), "day": day,
        "category": category if isinstance(category, str) else "",
        "category_words": _category_words(category), "vaf": alert.vaf,
        "date": f"{alert.first_called_date:%Y-%m-%d}", "regimen": _text(alert.regimen),
        "verdict": verdict if isinstance(verdict, str) else None, "mechanism": alert.mechanism,
        "evidence": _text(alert.evidence), "lead": _float_or_none(alert.lead_time_days),
        "doubling": _float_or_none(alert.doubling_time_days),
        "note": _text(getattr(alert, "phase_note", None)),
    }  # fmt: skip


def _float_or_none(value: object) -> float | None:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _reason(reason: Reason, refs: _References | None, *, disagrees: bool = False) -> dict:
    detail = [reason.effect.replace("_", " ")]
    if reason.mechanism:
        detail.append(reason.mechanism.replace("_", " "))
    return {
        "disagrees": disagrees, "alteration": reason.alteration, "biomarker": reason.biomarker,
        "match": reason.match, "detail": ", ".join(detail), "evidence": reason.evidence,
        "where": f"{reason.disease} ({reason.disease_match} disease match)",
        "role": reason.role.replace("_", " "), "via": reason.via,
        "why_overridden": reason.why_overridden, "summary": reason.summary,
        "assertion": reason.assertion, "refs": _cite(refs, reason.references),
    }  # fmt: skip


def verdict_row(item: DrugVerdict, role: str = "", refs: _References | None = None) -> dict:
    """One row of the shared verdict table (``_verdict_table.html``)."""
    reasons = [_reason(r, refs) for r in item.reasons]
    reasons += [_reason(r, refs, disagrees=True) for r in item.disagreements]
    return {"drug": item.drug, "role": role, "verdict": item.verdict, "evidence": item.evidence,
            "reasons": reasons, "notes": list(item.notes)}  # fmt: skip


def _verdicts_section(
    interpretation: Interpretation | None,
    options: Interpretation | None,
    therapy: pd.DataFrame | None,
    regimen: str | None,
    latest_day: int,
    refs: _References,
) -> dict:
    basis = interpretation or options
    if basis is None:
        return {"day": _num(latest_day), "empty": True}
    previous = set() if therapy is None else set(therapy["regimen"].astype(str))
    shown: list[DrugVerdict] = list(interpretation.drugs) if interpretation else []
    rows = [
        verdict_row(item, "current regimen" if item.drug == regimen else "earlier regimen", refs)
        for item in shown
    ]
    caption = "Verdict per drug of this patient's regimens, with the knowledge-base reasons"
    if interpretation is None and options is not None:
        rows = [verdict_row(item, "linked by the knowledge base", refs) for item in options.drugs]
        caption = "Verdict per drug the knowledge base links to these alterations"
    others = []
    if interpretation is not None and options is not None:
        judged = {d.drug for d in shown} | previous
        for item in options.drugs:
            if item.drug not in judged:
                decisive = sorted({r.alteration for r in item.reasons if r.role == "decisive"})
                others.append({"drug": item.drug, "verdict": item.verdict,
                               "evidence": item.evidence,
                               "decided_by": ", ".join(decisive)})  # fmt: skip
    notes = (interpretation.notes if interpretation else []) + basis.notes
    return {
        "day": _num(latest_day), "empty": False,
        "table": {"ident": "verdicts-table", "caption": caption, "roles": True, "rows": rows,
                  "empty": "No verdicts."},
        "alterations": ", ".join(basis.alterations) or "none",
        "driver": ", ".join(basis.primary_driver) or "not determined",
        "phase": [f"{p.first} and {p.second}: {p.relation} ({p.source})" for p in basis.phase],
        "notes": list(dict.fromkeys(notes)),
        "others": others, "levels": "; ".join(f"{k}: {v}" for k, v in _EVIDENCE.items()),
    }  # fmt: skip


def option_row(option: Option, refs: _References | None = None) -> dict:
    """One row of the shared options table (``_option_table.html``)."""
    extra = []
    if option.condition:
        extra.append(f"Condition: {option.condition}.")
    if option.unaddressed and not all(a in option.why for a in option.unaddressed):
        extra.append(f"No knowledge-base evidence about {', '.join(option.unaddressed)}.")
    return {"drug": option.drug, "evidence": option.evidence, "preferred": option.preferred,
            "why": option.why, "extra": extra,
            "refs": _cite(refs, (ref for r in option.reasons for ref in r.references))}  # fmt: skip


# ----------------------------------------------------------------------- the page
def render_report(
    *,
    calls: pd.DataFrame,
    response: pd.DataFrame,
    alerts: pd.DataFrame,
    interpretation: Interpretation | None = None,
    options: Interpretation | None = None,
    therapy: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    title: str | None = None,
    patient_label: str | None = None,
    illustrative: bool = False,
    report_date: dt.date | None = None,
    show_dates: bool = False,
    settings: dict | None = None,
    forecast: str | None = None,
) -> str:
    """Render one patient's report from tables already computed.

    Parameters
    ----------
    calls
        Called draws of one patient (``monitor(..., lod=True).calls``; needs
        ``patient_id``, ``collection_date``, ``alteration``, ``alt_reads``, ``depth``,
        ``state`` and ``lod_vaf``). With the series-level columns (``draw_index``,
        ``series_called``, ``series_lod_vaf``) the page gives each alert-free alteration's
        limit of detection; counts and VAFs are shown in ``count_unit`` when given.
    response
        :func:`oncoresist.monitor.molecular_response` of ``calls``.
    alerts
        :func:`oncoresist.monitor.emergence_alerts` of ``calls``; its ``category`` is shown
        in words and only ``emerging_resistance`` is counted as a resistance alert.
    interpretation
        :func:`oncoresist.interpret.interpret` of the latest draw's alterations for the
        patient's regimens (the verdict table); ``None`` when there is no regimen.
    options
        The same alterations interpreted with ``drugs=None``: options and other drugs.
    therapy, events
        The patient's therapy lines and clinical events (``read_therapy`` /
        ``read_events`` columns).
    title
        Page title (default: "ctDNA monitoring report").
    patient_label
        How the patient is named (a pseudonym). Default: the first 12 digits of a store
        pseudonym in ``calls``; any other identifier is withheld.
    illustrative
        Mark the report as illustrative (simulated data, not a real patient).
    report_date
        Date printed on the report (default: today).
    show_dates
        Also print calendar dates next to the day offsets (default: offsets only).
    settings
        ``MonitorResult.settings`` (error model, counting unit, false-alert budget, horizon,
        per-draw level): printed under "How these calls were made". ``None``: the page says
        the settings were not given.
    forecast
        The forecast section (:func:`oncoresist.report.forecast_section`), placed after the
        options; ``None``: no forecast section.

    Returns
    -------
    str
        The HTML document.

    Raises
    ------
    InputError
        No draws, draws of more than one patient, or a missing column.
    """
    needed = ["patient_id", "collection_date", "alteration", "alt_reads", "depth", "state"]
    needed.append("lod_vaf")
    missing = [c for c in needed if c not in calls.columns]
    if missing:
        raise InputError(f"the call table lacks columns {missing}", field=missing[0])
    label = patient_label_for(single_patient(calls), patient_label)
    title = title or "ctDNA monitoring report"
    if illustrative and not title.lower().startswith("illustrative"):
        title = f"Illustrative: {title}"
    report_date = report_date or dt.date.today()
    therapy = therapy if therapy is not None and not therapy.empty else None
    origin, origin_text = day_origin(calls["collection_date"], therapy)
    draw_dates = sorted(calls["collection_date"].unique())
    draw_days = [int(_days(pd.Timestamp(d), origin)) for d in draw_dates]
    latest = pd.Timestamp(draw_dates[-1])
    regimen = current_regimen(therapy, latest)
    disease = None
    for source in (interpretation, options):
        if source is not None and (source.disease_name or source.disease):
            disease = source.disease_name or source.disease
            break

    lines = []
    if therapy is not None:
        for row in therapy.sort_values("start_date").itertuples(index=False):
            end = None if pd.isna(row.end_date) else float(_days(row.end_date, origin))
            reason = None if pd.isna(row.reason_stopped) else str(row.reason_stopped)
            if reason in ("", "nan", "None", "<NA>"):
                reason = None
            lines.append(
                _svg.Line(str(row.regimen), float(_days(row.start_date, origin)), end, reason)
            )
    evs = []
    if events is not None and not events.empty:
        for row in events.sort_values("date").itertuples(index=False):
            evs.append(_svg.Event(str(row.event), float(_days(row.date, origin))))
    scale = day_scale([float(d) for d in draw_days], lines, evs)
    lod = lod_band(zip(_days(calls["collection_date"], origin), calls["lod_vaf"], strict=True))
    series = _trajectory_data(calls, origin, show_dates)

    refs = _References()
    day0 = f"day 0 is {origin_text}; every day in this report counts from it"
    if show_dates:
        day0 = f"day 0 is {origin_text}, {origin:%Y-%m-%d}"
    first, last = _num(min(draw_days)), _num(max(draw_days))
    facts = [
        ("Patient (pseudonym)", label), ("Report date", f"{report_date:%Y-%m-%d}"),
        ("Day offsets", day0), ("Disease", disease or "not given"),
        ("ctDNA draws", f"{len(draw_days)}, from day {first} to day {last}"),
        ("Latest draw", f"day {_num(draw_days[-1])}"),
        ("Current regimen", regimen or "none recorded"),
        ("Resistance alerts", _alert_count(alerts)),
    ]  # fmt: skip
    verdicts = _verdicts_section(interpretation, options, therapy, regimen, draw_days[-1], refs)
    option_rows = [option_row(o, refs) for o in options.options] if options else []
    return page(
        "monitoring_report.html", title=title, label=label, illustrative=illustrative,
        header_facts=facts, show_dates=show_dates,
        timeline_svg=Markup(_svg.timeline_svg(lines, evs, [float(d) for d in draw_days], scale)),
        trajectory_svg=Markup(_svg.trajectory_svg(series, lod, evs, scale)),
        draws=draw_rows(series), unit=_counts(calls)[2],
        response=_response_section(response, origin, show_dates),
        alerts=_alerts_section(alerts, calls, settings, origin),
        verdicts=verdicts, options=option_rows, forecast=Markup(forecast) if forecast else None,
        references=refs.order, report_date=f"{report_date:%Y-%m-%d}",
    )  # fmt: skip


def single_patient(calls: pd.DataFrame) -> str:
    """The one patient of a call table; a report covers exactly one."""
    if calls.empty:
        raise InputError("no draws to report", field="calls")
    patients = calls["patient_id"].astype(str).unique()
    if len(patients) != 1:
        raise InputError(
            f"a report covers one patient; the call table holds {len(patients)}",
            field="patient_id",
        )
    return str(patients[0])
