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
from html import escape

import numpy as np
import pandas as pd

from oncoresist.errors import InputError
from oncoresist.interpret import DrugVerdict, Interpretation, Option, Reason
from oncoresist.report import _svg
from oncoresist.report._svg import pct

__all__ = ["current_regimen", "day_origin", "patient_label_for", "render_report"]

_PSEUDONYM = re.compile(r"[0-9a-f]{64}")
_EVIDENCE = {
    "A": "validated association (guideline or approval)",
    "B": "clinical evidence",
    "C": "case study",
    "D": "preclinical evidence",
    "E": "inferential association",
}

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1240px; padding: 1.25rem 1.5rem 3rem;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; font-size: 19px; line-height: 1.5; color: #1a1a1a; background: #ffffff; }
h1 { font-size: 2.1rem; line-height: 1.2; margin: 0.4rem 0 0.6rem; }
h2 { font-size: 1.55rem; margin: 2.2rem 0 0.6rem; padding-bottom: 0.2rem;
  border-bottom: 3px solid #0072B2; }
h3 { font-size: 1.25rem; margin: 1.4rem 0 0.4rem; }
a { color: #00497a; }
a:focus, summary:focus { outline: 3px solid #D55E00; outline-offset: 2px; }
.illustrative { border: 4px solid #7a5a00; background: #fff3cd; color: #3d2d00;
  padding: 0.6rem 1rem; font-weight: 700; font-size: 1.15rem; margin: 0.6rem 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1.2rem;
  margin: 0.6rem 0 1rem; }
dl.facts dt { font-weight: 700; }
dl.facts dd { margin: 0; }
nav ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 0.3rem 1.2rem; }
figure { margin: 0.5rem 0 1rem; }
figure svg { display: block; width: 100%; height: auto; }
figcaption { font-size: 0.95rem; color: #333333; margin-top: 0.3rem; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1.2rem; }
caption { caption-side: top; text-align: left; font-weight: 700; padding: 0.3rem 0; }
th, td { border: 1px solid #7a7a7a; padding: 0.35rem 0.55rem; text-align: left;
  vertical-align: top; }
thead th { background: #e3ecf5; }
tbody th { background: #f5f7fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.verdict { display: inline-block; padding: 0.05rem 0.5rem; border-radius: 0.3rem;
  border: 2px solid currentColor; font-weight: 700; white-space: nowrap; }
.v-resistant { color: #7a2e00; background: #fde3d3; }
.v-reduced_response { color: #5c4000; background: #fdf0cc; }
.v-sensitive { color: #004d38; background: #d5f0e6; }
.v-no_known_effect { color: #333333; background: #eeeeee; }
ul.reasons { margin: 0; padding-left: 1.1rem; }
ul.reasons li { margin-bottom: 0.35rem; }
.summary { font-style: italic; }
.muted { color: #4a4a4a; }
.refs a { text-decoration: none; }
ol.references li { margin-bottom: 0.2rem; }
details { margin: 0.4rem 0 1rem; }
summary { cursor: pointer; font-weight: 700; }
footer { margin-top: 2.5rem; font-size: 0.9rem; color: #333333; border-top: 1px solid #999;
  padding-top: 0.6rem; }
@media print {
  body { font-size: 11pt; max-width: none; padding: 0; }
  nav { display: none; }
  section, figure, table { break-inside: avoid; }
  details > *:not(summary) { display: block; }
}
"""


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


def _num(value: object, digits: int = 0) -> str:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "n/a"
    if not math.isfinite(v):
        return "n/a"
    return f"{v:.{digits}f}".replace("-", "\u2212")


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    return escape(str(value))


def _words(value: object) -> str:
    return _text(value).replace("_", " ")


def _badge(verdict: str) -> str:
    return f'<span class="verdict v-{escape(verdict)}">{escape(verdict.replace("_", " "))}</span>'


class _References:
    """Numbers the citations in order of first use."""

    def __init__(self) -> None:
        self.order: list[str] = []

    def cite(self, refs: Iterable[str]) -> str:
        numbers = []
        for ref in refs:
            if ref not in self.order:
                self.order.append(ref)
            numbers.append(self.order.index(ref) + 1)
        if not numbers:
            return ""
        links = ", ".join(f'<a href="#ref-{n}">{n}</a>' for n in sorted(set(numbers)))
        return f' <span class="refs">[{links}]</span>'

    def html(self) -> str:
        if not self.order:
            return "<p>No references: no knowledge-base reason is shown.</p>"
        items = "".join(f'<li id="ref-{n}">{escape(ref)}</li>' for n, ref in self._numbered())
        return f'<ol class="references">{items}</ol>'

    def _numbered(self) -> list[tuple[int, str]]:
        return [(i + 1, ref) for i, ref in enumerate(self.order)]


def _table(
    caption: str, head: list[str], rows: list[str], *, cls: str = "", ident: str = ""
) -> str:
    ths = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
    attrs = (f' class="{cls}"' if cls else "") + (f' id="{ident}"' if ident else "")
    return (
        f"<table{attrs}><caption>{caption}</caption><thead><tr>{ths}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


# ----------------------------------------------------------------------- sections
def _header(
    *,
    title: str,
    label: str,
    illustrative: bool,
    report_date: dt.date,
    origin_text: str,
    origin: pd.Timestamp,
    draw_days: list[int],
    latest_day: int,
    regimen: str | None,
    disease: str | None,
    show_dates: bool,
    alerts: pd.DataFrame,
    forecast: bool = False,
) -> str:
    banner = (
        '<p class="illustrative" role="note">Illustrative: simulated data, not a real '
        "patient. Not for clinical decisions.</p>"
        if illustrative
        else ""
    )
    day0 = f"day 0 is {escape(origin_text)}; every day in this report counts from it"
    if show_dates:
        day0 = f"day 0 is {escape(origin_text)}, {origin:%Y-%m-%d}"
    facts = [
        ("Patient (pseudonym)", escape(label)),
        ("Report date", f"{report_date:%Y-%m-%d}"),
        ("Day offsets", day0),
        ("Disease", escape(disease) if disease else "not given"),
        (
            "ctDNA draws",
            f"{len(draw_days)}, from day {_num(min(draw_days))} to day {_num(max(draw_days))}",
        ),
        ("Latest draw", f"day {_num(latest_day)}"),
        ("Current regimen", escape(regimen) if regimen else "none recorded"),
        ("Resistance alerts", _alert_count(alerts)),
    ]
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    nav = "".join(
        f'<li><a href="#{i}">{t}</a></li>'
        for i, t in (
            ("timeline", "Therapy timeline"),
            ("trajectories", "Variant trajectories"),
            ("response", "Molecular response"),
            ("alerts", "Alerts"),
            ("verdicts", "Drug verdicts"),
            ("options", "Options"),
            *([("forecast", "Forecast")] if forecast else []),
            ("references", "References"),
        )
    )
    return (
        f'<header id="report-header">{banner}<h1>{escape(title)}</h1>'
        f'<dl class="facts">{dl}</dl></header>'
        f'<nav aria-label="Sections"><ul>{nav}</ul></nav>'
    )


def _counts(calls: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, str]:
    """Alt counts, depths and their unit: those the calls counted, else reads."""
    if {"alt_count", "depth_count", "count_unit"} <= set(calls.columns) and len(calls):
        unit = str(calls["count_unit"].iloc[0])
        return calls["alt_count"].to_numpy(), calls["depth_count"].to_numpy(), unit
    return calls["alt_reads"].to_numpy(), calls["depth"].to_numpy(), "reads"


def _draw_table(calls: pd.DataFrame, origin: pd.Timestamp, show_dates: bool) -> str:
    rows = []
    alt, depth, unit = _counts(calls)
    shown = calls.assign(shown_alt=alt, shown_depth=depth)
    ordered = shown.sort_values(["collection_date", "alteration"])
    for row in ordered.itertuples(index=False):
        vaf = row.shown_alt / row.shown_depth if row.shown_depth else float("nan")
        date = f"<td>{row.collection_date:%Y-%m-%d}</td>" if show_dates else ""
        rows.append(
            f'<tr><th scope="row">{_num(_days(row.collection_date, origin))}</th>{date}'
            f"<td>{escape(str(row.alteration))}</td>"
            f'<td class="num">{int(row.shown_alt)}/{int(row.shown_depth)}</td>'
            f'<td class="num">{pct(vaf)}</td>'
            f'<td class="num">{pct(float(row.lod_vaf))}</td><td>{_words(row.state)}</td></tr>'
        )
    head = ["Day", *(["Date"] if show_dates else []), "Variant", f"Alt {unit}/depth", "VAF"]
    head += ["95% LoD", "Call"]
    return (
        "<details><summary>The plotted values as a table</summary>"
        + _table("Calls per draw and tracked variant", head, rows, cls="draws")
        + "</details>"
    )


def _trajectory_data(
    calls: pd.DataFrame, origin: pd.Timestamp
) -> tuple[list[_svg.Series], list[tuple[float, float, float, float]]]:
    series = []
    first_seen = calls.sort_values(["collection_date", "alteration"])
    order = list(dict.fromkeys(first_seen["alteration"].astype(str)))
    detected = calls[calls["state"] == "detected"]
    # variants detected at some draw first (by first detection), then the rest
    first_hit = detected.groupby("alteration")["collection_date"].min()
    never = pd.Timestamp.max
    order.sort(key=lambda a: (a not in first_hit.index, first_hit.get(a, never), a))
    alt, depth, unit = _counts(calls)
    shown = calls.assign(shown_alt=alt, shown_depth=depth)
    for alteration in order:
        obs = shown[shown["alteration"].astype(str) == alteration]
        s = _svg.Series(alteration)
        for row in obs.sort_values("collection_date").itertuples(index=False):
            vaf = row.shown_alt / row.shown_depth if row.shown_depth else float("nan")
            s.points.append(
                _svg.Point(
                    day=float(_days(row.collection_date, origin)),
                    state=str(row.state),
                    vaf=float(vaf),
                    lod=float(row.lod_vaf),
                    alt_reads=int(row.shown_alt),
                    depth=int(row.shown_depth),
                    unit=unit,
                )
            )
        series.append(s)
    lod = []
    for date, draw in calls.groupby("collection_date", sort=True):
        values = draw["lod_vaf"].to_numpy(float)
        values = values[np.isfinite(values)]
        if values.size:
            lod.append(
                (
                    float(_days(date, origin)),
                    float(np.median(values)),
                    float(values.min()),
                    float(values.max()),
                )
            )
    return series, lod


def _response_section(response: pd.DataFrame, origin: pd.Timestamp, show_dates: bool) -> str:
    if response.empty:
        return '<section id="response"><h2>Molecular response</h2><p>No draws.</p></section>'
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
        date = f"<td>{row.collection_date:%Y-%m-%d}</td>" if show_dates else ""
        change = "n/a" if row.change != row.change else f"{row.change * 100:+.1f}%"
        rows.append(
            f'<tr data-category="{escape(str(row.category))}">'
            f'<th scope="row">{_num(_days(row.collection_date, origin))}</th>{date}'
            f'<td class="num">{pct(row.level)}</td>'
            f'<td class="num">{change.replace("-", chr(0x2212))}</td>'
            f'<td class="num">{pct(row.nadir_level)}</td><td>{_words(row.category)}</td></tr>'
        )
    head = ["Day", *(["Date"] if show_dates else []), "ctDNA level", "Change from baseline"]
    head += ["Nadir so far", "Category"]
    caption = (
        f"Molecular response per draw: {measure_text}, relative to the baseline draw "
        f"(day {base_day})"
    )
    return (
        '<section id="response" aria-labelledby="response-h">'
        '<h2 id="response-h">Molecular response</h2>'
        + _table(caption, head, rows, cls="response")
        + '<p class="muted">Categories: major response is a fall of at least 50% from '
        "baseline; clearance, every truncal variant assessed and none detected; "
        "progression, at least a doubling over the nadir or a truncal variant detected "
        "again after clearance.</p></section>"
    )


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
            f"{k} {escape(str(w))}" for w, k in counts.items()
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


def _lod_block(calls: pd.DataFrame, alerts: pd.DataFrame, origin: pd.Timestamp) -> str:
    head = "<h3>Tracked alterations without an alert</h3>"
    needed = {"draw_index", "series_called"}
    if not needed <= set(calls.columns):
        return (
            head + "<p>No series-level results came with these calls, so no limit of "
            "detection per alteration can be given.</p>"
        )
    alerted = set(alerts["alteration"].astype(str)) if not alerts.empty else set()
    rows = []
    ordered = calls.sort_values(["collection_date", "alteration"], kind="stable")
    for alteration, mine in ordered.groupby(ordered["alteration"].astype(str), sort=True):
        if alteration in alerted:
            continue
        at_base = mine["draw_index"] <= 0
        base_hit = bool((mine.loc[at_base, "state"] == "detected").any())
        after = int(mine.loc[~at_base, "sample_id"].nunique()) if "sample_id" in mine.columns else 0
        rows.append(
            f'<tr data-alteration="{escape(alteration)}"><th scope="row">{escape(alteration)}</th>'
            f'<td>{"yes" if base_hit else "no"}</td><td class="num">{after}</td>'
            f"<td>{escape(_series_result(mine, origin))}</td></tr>"
        )
    if not rows:
        return head + "<p>Every tracked alteration raised an alert.</p>"
    on = calls.loc[calls["draw_index"] > 0, "collection_date"]
    span = ""
    if not on.empty:
        span = (
            f" (the draws from day {_num(_days(on.min(), origin))} to day "
            f"{_num(_days(on.max(), origin))})"
        )
    note = (
        f'<p class="muted">Limit of detection per series: the VAF that, present at every '
        f"draw after the baseline{span}, would have raised an alert by the last draw with "
        f"{SERIES_LOD_POWER:.0%} probability, under the false-alert budget stated below. A "
        "resistance alteration below it may be present and unseen.</p>"
    )
    return head + _table(
        "The series-level test's result for each tracked alteration without an alert",
        ["Alteration", "Detected at baseline", "Draws after baseline", "Series-level result"],
        rows, cls="series-lod", ident="lod-table",
    ) + note  # fmt: skip


def _methods_block(calls: pd.DataFrame, settings: dict | None) -> str:
    head = '<div class="methods" id="methods"><h3>How these calls were made</h3>'
    sites = sorted(calls["alteration"].astype(str).unique())
    tracked = f"{len(sites)} alterations: {', '.join(sites)}"
    if not settings:
        return (
            head + "<p>The settings these calls were made with were not given to the "
            f"report.</p><p>Tracked panel: {escape(tracked)}.</p></div>"
        )
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
        ("Tracked panel", escape(tracked)),
    ]
    try:
        sentence = f"<p>{escape(describe_settings(settings))}</p>"
    except (KeyError, TypeError, ValueError):
        sentence = ""
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
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
    return (
        head + sentence + f'<dl class="facts" id="methods-settings">{dl}</dl>'
        f'<p class="muted">Alerts come from the series-level test; only emerging '
        f"resistance counts as a resistance alert. Categories: {escape(categories)}.</p></div>"
    )


def _alerts_section(
    alerts: pd.DataFrame,
    calls: pd.DataFrame,
    settings: dict | None,
    origin: pd.Timestamp,
    show_dates: bool,
) -> str:
    head = (
        '<section id="alerts" aria-labelledby="alerts-h"><h2 id="alerts-h">Alerts</h2>'
        f'<p class="alert-summary">Resistance alerts: {_alert_count(alerts)}.</p>'
    )
    tail = _lod_block(calls, alerts, origin) + _methods_block(calls, settings) + "</section>"
    if alerts.empty:
        return head + "<p>No alteration emerged after baseline.</p>" + tail
    rows = []
    ordered = alerts.assign(shown_category=_categories(alerts))
    for row in ordered.sort_values("first_called_date", kind="stable").itertuples(index=False):
        verdict = _badge(str(row.verdict)) if isinstance(row.verdict, str) else "n/a"
        date = f"<td>{row.first_called_date:%Y-%m-%d}</td>" if show_dates else ""
        category = row.shown_category if isinstance(row.shown_category, str) else ""
        rows.append(
            f'<tr data-alteration="{escape(str(row.alteration))}" '
            f'data-category="{escape(category)}">'
            f'<th scope="row">{escape(str(row.alteration))}</th>'
            f"<td>{escape(_category_words(row.shown_category))}</td>"
            f'<td class="num">{_num(_days(row.first_called_date, origin))}</td>{date}'
            f'<td class="num">{pct(row.vaf)}</td><td>{_text(row.regimen) or "none"}</td>'
            f"<td>{verdict}</td><td>{_words(row.mechanism)}</td><td>{_text(row.evidence)}</td>"
            f'<td class="num">{_num(row.lead_time_days)}</td>'
            f'<td class="num">{_num(row.doubling_time_days, 0)}</td>'
            f"<td>{_text(row.phase_note)}</td></tr>"
        )
    cols = ["Alteration", "Category", "First called (day)", *(["Date"] if show_dates else [])]
    cols += ["VAF then", "Regimen then", "Verdict on that regimen", "Mechanism", "Evidence"]
    cols += ["Lead time to progression (days)", "VAF doubling time (days)", "Note"]
    caption = (
        "Alerts: alterations not detected at baseline and called on therapy, and resistance "
        "alterations present at baseline, judged for the regimen then"
    )
    messages = "".join(f"<li>{escape(str(m))}</li>" for m in alerts["message"])
    return (
        head
        + _table(caption, cols, rows, cls="alerts", ident="alerts-table")
        + f"<ul>{messages}</ul>"
        + tail
    )


def _reason(reason: Reason, refs: _References) -> str:
    detail = [reason.effect.replace("_", " ")]
    if reason.mechanism:
        detail.append(reason.mechanism.replace("_", " "))
    role = reason.role.replace("_", " ")
    where = f"{reason.disease} ({reason.disease_match} disease match)"
    text = (
        f"<strong>{escape(reason.alteration)}</strong> (matches {escape(reason.biomarker)}, "
        f"{escape(reason.match)}): {escape(', '.join(detail))}; evidence "
        f"{escape(reason.evidence)}; {escape(where)}; {escape(role)}"
    )
    if reason.via:
        text += f"; judged via {escape(reason.via)}"
    if reason.why_overridden:
        text += f" ({escape(reason.why_overridden)})"
    text += f'. <span class="summary">{escape(reason.summary)}</span>'
    text += f' <span class="muted">Assertion {escape(reason.assertion)}.</span>'
    return f"<li>{text}{refs.cite(reason.references)}</li>"


def _verdict_row(item: DrugVerdict, role: str, refs: _References) -> str:
    reasons = [_reason(r, refs) for r in item.reasons]
    reasons += [_reason(r, refs).replace("<li>", "<li>Disagrees: ", 1) for r in item.disagreements]
    notes = "".join(f"<li>{escape(n)}</li>" for n in item.notes)
    body = f'<ul class="reasons">{"".join(reasons)}{notes}</ul>' if reasons or notes else "none"
    return (
        f'<tr data-drug="{escape(item.drug)}" data-verdict="{escape(item.verdict)}">'
        f'<th scope="row">{escape(item.drug)}</th><td>{escape(role)}</td>'
        f"<td>{_badge(item.verdict)}</td><td>{escape(item.evidence or 'n/a')}</td>"
        f"<td>{body}</td></tr>"
    )


def _verdicts_section(
    interpretation: Interpretation | None,
    options: Interpretation | None,
    therapy: pd.DataFrame | None,
    regimen: str | None,
    latest_day: int,
    refs: _References,
) -> str:
    out = [
        '<section id="verdicts" aria-labelledby="verdicts-h">'
        f'<h2 id="verdicts-h">Drug verdicts at the latest draw (day {_num(latest_day)})</h2>'
    ]
    basis = interpretation or options
    if basis is None:
        out.append("<p>No alteration detected at baseline or at the latest draw.</p></section>")
        return "".join(out)
    alts = ", ".join(basis.alterations) or "none"
    driver = ", ".join(basis.primary_driver) or "not determined"
    out.append(
        f"<p>Interpreted: the alterations detected at the latest draw or at baseline "
        f"({escape(alts)}); primary driver {escape(driver)}.</p>"
    )
    previous = set() if therapy is None else set(therapy["regimen"].astype(str))
    shown: list[DrugVerdict] = list(interpretation.drugs) if interpretation else []
    rows = []
    for item in shown:
        role = "current regimen" if item.drug == regimen else "earlier regimen"
        rows.append(_verdict_row(item, role, refs))
    if interpretation is None and options is not None:
        rows = [_verdict_row(item, "linked by the knowledge base", refs) for item in options.drugs]
    head = ["Drug", "Role", "Verdict", "Evidence", "Reasons (with references)"]
    caption = "Verdict per drug of this patient's regimens, with the knowledge-base reasons"
    if interpretation is None:
        caption = "Verdict per drug the knowledge base links to these alterations"
    out.append(_table(caption, head, rows, cls="verdicts", ident="verdicts-table"))
    notes = list(dict.fromkeys((interpretation.notes if interpretation else []) + basis.notes))
    phase = [
        f"{p.first} and {p.second}: {p.relation} ({p.source})" for p in basis.phase
    ]  # fmt: skip
    if phase:
        out.append("<h3>Allele phase</h3><ul>")
        out.extend(f"<li>{escape(p)}</li>" for p in phase)
        out.append("</ul>")
    if notes:
        out.append("<h3>Notes</h3><ul>")
        out.extend(f"<li>{escape(n)}</li>" for n in notes)
        out.append("</ul>")
    if interpretation is not None and options is not None:
        judged = {d.drug for d in shown} | previous
        others = [d for d in options.drugs if d.drug not in judged]
        if others:
            rows = []
            for item in others:
                decisive = sorted({r.alteration for r in item.reasons if r.role == "decisive"})
                rows.append(
                    f'<tr data-drug="{escape(item.drug)}" data-verdict="{escape(item.verdict)}">'
                    f'<th scope="row">{escape(item.drug)}</th><td>{_badge(item.verdict)}</td>'
                    f"<td>{escape(item.evidence or 'n/a')}</td>"
                    f"<td>{escape(', '.join(decisive) or 'none')}</td></tr>"
                )
            out.append(
                "<details><summary>Other drugs the knowledge base links to these alterations "
                f"({len(others)})</summary>"
                + _table(
                    "Verdicts for other drugs (reasons as in the options below)",
                    ["Drug", "Verdict", "Evidence", "Decided by"],
                    rows,
                    cls="other-drugs",
                )
                + "</details>"
            )
    levels = "; ".join(f"{k}: {v}" for k, v in _EVIDENCE.items())
    out.append(f'<p class="muted">Evidence levels (CIViC): {escape(levels)}.</p></section>')
    return "".join(out)


def _option_row(option: Option, refs: _References) -> str:
    extra = []
    if option.condition:
        extra.append(f"Condition: {escape(option.condition)}.")
    if option.unaddressed and not all(a in option.why for a in option.unaddressed):
        extra.append(f"No knowledge-base evidence about {escape(', '.join(option.unaddressed))}.")
    cited = refs.cite(ref for r in option.reasons for ref in r.references)
    return (
        f'<tr data-drug="{escape(option.drug)}"><th scope="row">{escape(option.drug)}</th>'
        f"<td>{escape(option.evidence)}</td><td>{'yes' if option.preferred else 'no'}</td>"
        f"<td>{escape(option.why)}{cited} {' '.join(extra)}</td></tr>"
    )


def _options_section(options: Interpretation | None, refs: _References) -> str:
    head = (
        '<section id="options" aria-labelledby="options-h">'
        '<h2 id="options-h">Options expected to remain active</h2>'
    )
    if options is None or not options.options:
        return head + "<p>The knowledge base names no option for these alterations.</p></section>"
    rows = [_option_row(o, refs) for o in options.options]
    return (
        head
        + _table(
            "Drugs and combinations expected to remain active, best evidence first",
            ["Drug", "Evidence", "Guideline-preferred", "Why"],
            rows,
            cls="options",
        )
        + '<p class="muted">Options are what the knowledge base supports for the detected '
        "alterations; they are not a treatment recommendation.</p></section>"
    )


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
    all_days = [*draw_days, *(e.day for e in evs)]
    all_days += [d for ln in lines for d in (ln.start, ln.end) if d is not None]
    axis = None if therapy is not None else "Days since the first ctDNA draw"
    scale = _svg.DayScale.covering(all_days, axis)
    series, lod = _trajectory_data(calls, origin)

    refs = _References()
    body = [
        _header(
            title=title,
            label=label,
            illustrative=illustrative,
            report_date=report_date,
            origin_text=origin_text,
            origin=origin,
            draw_days=draw_days,
            latest_day=draw_days[-1],
            regimen=regimen,
            disease=disease,
            show_dates=show_dates,
            alerts=alerts,
            forecast=bool(forecast),
        ),
        '<main><section id="timeline" aria-labelledby="timeline-h">'
        '<h2 id="timeline-h">Therapy timeline</h2><figure>'
        + _svg.timeline_svg(lines, evs, [float(d) for d in draw_days], scale)
        + "<figcaption>Therapy lines over days since the first line started; dashed "
        "vertical lines mark clinical events, triangles on the axis the ctDNA draws."
        "</figcaption></figure></section>",
        '<section id="trajectories" aria-labelledby="trajectories-h">'
        '<h2 id="trajectories-h">ctDNA variant trajectories</h2><figure>'
        + _svg.trajectory_svg(series, lod, evs, scale)
        + "<figcaption>Variant allele fraction (log scale) of every tracked variant. Filled "
        "markers: detected; open markers: not detected, drawn at that draw's 95% limit of "
        "detection (LoD) for the variant; dotted open markers: not assessable. The dashed "
        "grey line is the median 95% LoD of the draw over the tracked sites, the band its "
        "range.</figcaption></figure>" + _draw_table(calls, origin, show_dates) + "</section>",
        _response_section(response, origin, show_dates),
        _alerts_section(alerts, calls, settings, origin, show_dates),
        _verdicts_section(interpretation, options, therapy, regimen, draw_days[-1], refs),
        _options_section(options, refs),
        forecast or "",
        '<section id="references" aria-labelledby="references-h">'
        '<h2 id="references-h">References</h2><p>Cited by the reasons shown above.</p>'
        + refs.html()
        + "</section></main>",
    ]
    from oncoresist import __version__

    footer = (
        f"<footer><p>Generated by oncoresist {escape(__version__)} on "
        f"{report_date:%Y-%m-%d}. Calls, limits of detection, response and alerts as in "
        "the oncoresist monitoring documentation; verdicts from the bundled knowledge base. "
        "For review by a molecular tumour board; not a treatment recommendation.</p></footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}: {escape(label)}</title><style>{CSS}</style></head>"
        f"<body>{''.join(body)}{footer}</body></html>\n"
    )


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
