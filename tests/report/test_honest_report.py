"""The report says how its calls were made (issue 14 item 6, "Honest reporting").

Which error model, panel, counting unit and levels; each alert-free series' limit of
detection; alert categories in words, and only emerging resistance counted as resistance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from report_helpers import REPORT_DATE, example_tables, parse

from oncoresist import monitor
from oncoresist.report import build_report, render_report
from oncoresist.report._svg import pct


def _build(obs, therapy, events, **options):
    return build_report(
        obs, therapy=therapy, events=events, disease="LUAD", report_date=REPORT_DATE, **options
    )


@pytest.fixture(scope="module")
def example():
    obs, therapy, events = example_tables()
    result = monitor.monitor(obs, therapy=therapy, events=events, disease="LUAD", lod=True)
    html = _build(obs, therapy, events)
    return result, html, parse(html)


def _rows(tree, ident):
    table = tree.find_id(ident)
    assert table is not None and table.tag == "table", ident
    return {r.attrs["data-alteration"]: r for r in next(table.iter("tbody")).iter("tr")}


def _header_count(tree):
    header = next(tree.iter("header"))
    terms = list(header.iter("dt"))
    values = list(header.iter("dd"))
    found = {t.text(): v.text() for t, v in zip(terms, values, strict=True)}
    return found["Resistance alerts"]


def test_settings_sentence_near_the_alerts(example):
    result, _, tree = example
    methods = tree.find_id("methods")
    assert methods is not None
    assert methods.parent.attrs.get("id") == "alerts"  # next to the alerts it explains
    text = methods.text()
    assert "How these calls were made" in text
    assert monitor.describe_settings(result.settings) in text
    assert "no panel of normals" in text and "Calls counted in reads" in text
    assert "2.0% per patient" in text and "5%" in text
    assert "4 alterations: EGFR C797S, EGFR L858R, EGFR T790M, TP53 R273H" in text


def test_series_limit_of_detection_line(example):
    result, _, tree = example
    rows = _rows(tree, "lod-table")
    assert "EGFR C797S" not in rows  # alerted: no LoD line
    calls = result.calls
    lod = calls.loc[calls["alteration"] == "EGFR T790M", "series_lod_vaf"].iloc[0]
    assert np.isfinite(lod) and 1e-5 < lod < 1e-2
    text = rows["EGFR T790M"].text()
    assert (
        f"not alerted; would have been alerted by the last draw at VAF \u2265 {pct(lod)} "
        "with 95% probability"
    ) in text
    # detected at baseline and positive on therapy: explained, not alerted, no LoD
    assert "not an alert: present at baseline" in rows["EGFR L858R"].text()
    assert rows["EGFR L858R"].children[1].text() == "yes"


def test_category_words_and_count(example):
    _, html, tree = example
    rows = _rows(tree, "alerts-table")
    assert rows["EGFR C797S"].attrs["data-category"] == "emerging_resistance"
    assert "emerging resistance" in rows["EGFR C797S"].text()
    assert _header_count(tree) == "1 (emerging resistance)"
    assert "Resistance alerts: 1 (emerging resistance)." in html
    assert "driver rising \u2014 not a resistance mechanism" in tree.find_id("methods").text()


def test_driver_missed_at_baseline_is_not_emerging():
    obs, therapy, events = example_tables()
    # L858R missed at the baseline draw, then seen again: the driver rising, not resistance;
    # TP53 R273H missed at baseline: a new alteration, a driver when declared one
    base = obs["sample_id"] == "ILLUS-P1-D0"
    missed = base & obs["alteration"].isin(["EGFR L858R", "TP53 R273H"])
    obs = obs.assign(alt_reads=obs["alt_reads"].where(~missed, 0))
    html = _build(obs, therapy, events)
    tree = parse(html)
    rows = _rows(tree, "alerts-table")
    assert rows["EGFR L858R"].attrs["data-category"] == "driver_rising"
    words = rows["EGFR L858R"].children[1].text()
    assert words == "driver rising \u2014 not a resistance mechanism"
    assert "emerging" not in rows["EGFR L858R"].text()
    assert rows["TP53 R273H"].children[1].text() == "new alteration (no known effect)"
    count = _header_count(tree)
    assert count.startswith("1 (emerging resistance); other alerts, not resistance:")
    assert "1 driver rising" in count and "1 new alteration" in count

    declared = parse(_build(obs, therapy, events, drivers=["TP53 R273H"]))
    rows = _rows(declared, "alerts-table")
    assert rows["TP53 R273H"].attrs["data-category"] == "driver_rising"
    assert _header_count(declared).startswith("1 (emerging resistance)")


def test_per_draw_level_read_back_or_given():
    obs, therapy, events = example_tables()
    strict = monitor.call_draws(obs, fpr=0.01)  # as the command line calls today
    methods = parse(_build(strict, therapy, events)).find_id("methods").text()
    assert "at most 1% chance of any false call" in methods
    methods = parse(_build(strict, therapy, events, fpr=0.1)).find_id("methods").text()
    assert "at most 10% chance of any false call" in methods
    bh = monitor.call_draws(obs, fpr=0.01, correction="bh")  # not Bonferroni: the default
    methods = parse(_build(bh, therapy, events)).find_id("methods").text()
    assert "at most 5% chance of any false call" in methods


def test_budget_and_panel_reach_the_page():
    obs, therapy, events = example_tables()
    rng = np.random.default_rng(7)
    sites = obs["alteration"].unique()
    normals = pd.DataFrame(
        {
            "site": np.repeat(sites, 12),
            "sample_id": np.tile([f"N{i}" for i in range(12)], len(sites)),
            "alt_reads": rng.poisson(0.3, 12 * len(sites)),
            "depth": 3000,
        }
    )
    panel = monitor.BackgroundModel().fit(normals)
    methods = parse(_build(obs, therapy, events, background=panel, budget=0.05))
    text = methods.find_id("methods").text()
    assert "fitted to a panel of 12 normals at 4 sites" in text
    assert "5.0% per patient" in text


def test_precomputed_result_is_not_recomputed():
    obs, therapy, events = example_tables()
    result = monitor.monitor(obs, therapy=therapy, events=events, budget=0.1, lod=True)
    html = build_report(
        result=result, therapy=therapy, events=events, disease="LUAD", report_date=REPORT_DATE
    )
    assert "10.0% per patient" in parse(html).find_id("methods").text()
    # without lod the series result still shows, its LoD said to be missing
    plain = monitor.monitor(obs, therapy=therapy, events=events)
    tree = parse(build_report(result=plain, therapy=therapy, report_date=REPORT_DATE))
    assert "limit of detection not computed" in _rows(tree, "lod-table")["EGFR T790M"].text()


def test_render_without_settings_or_series_columns():
    obs, therapy, _ = example_tables()
    calls = monitor.call_draws(obs)
    html = render_report(
        calls=calls, response=monitor.molecular_response(calls, therapy=therapy),
        alerts=monitor.emergence_alerts(calls, therapy=therapy), therapy=therapy,
        report_date=REPORT_DATE,
    )  # fmt: skip
    tree = parse(html)
    text = tree.find_id("alerts").text()
    assert "were not given to the report" in text
    assert "No series-level results came with these calls" in text
    assert tree.find_id("lod-table") is None
