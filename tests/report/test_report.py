from __future__ import annotations

import re

import pandas as pd
import pytest
from report_helpers import REPORT_DATE, example_tables, parse

from oncoresist import monitor
from oncoresist.errors import InputError
from oncoresist.report import build_report, patient_label_for, render_report, write_report
from oncoresist.store import new_key, pseudonym, resolve_key

SECTIONS = ("timeline", "trajectories", "response", "alerts", "verdicts", "options", "references")


@pytest.fixture(scope="module")
def example():
    obs, therapy, events = example_tables()
    calls = monitor.call_draws(obs)
    html = build_report(
        calls, therapy=therapy, events=events, disease="LUAD", illustrative=True,
        report_date=REPORT_DATE,
    )  # fmt: skip
    return calls, html, parse(html)


@pytest.fixture(scope="module")
def pseudonymised():
    """The example under store pseudonyms, as ``Store.observations`` etc. return it."""
    obs, therapy, events = example_tables()
    key = resolve_key(new_key())
    patient = pseudonym(key, "patient", "ILLUS-P1")
    obs = obs.assign(
        patient_id=patient, sample_id=[pseudonym(key, "sample", s) for s in obs["sample_id"]]
    )
    therapy = therapy.assign(patient_id=patient)
    events = events.assign(patient_id=patient)
    calls = monitor.call_draws(obs)
    html = build_report(
        calls, therapy=therapy, events=events, disease="LUAD", report_date=REPORT_DATE
    )
    return patient, calls, html


def _section(tree, ident):
    node = tree.find_id(ident)
    assert node is not None, f"no element with id {ident!r}"
    return node


def test_every_section_and_the_header(example):
    _, html, tree = example
    for ident in SECTIONS:
        assert _section(tree, ident).tag == "section"
        heading = next(_section(tree, ident).iter("h2"), None)
        assert heading is not None and heading.text().strip()
    header = next(tree.iter("header"))
    text = header.text()
    assert "Report date" in text and "2025-03-10" in text
    assert "day 0 is the start of the first therapy line (osimertinib)" in text
    assert "from day \u22127 to day 364" in text
    assert "Illustrative" in text
    assert html.startswith("<!DOCTYPE html>")
    assert next(tree.iter("html")).attrs["lang"] == "en"


def test_self_contained(example):
    _, html, tree = example
    # the one URL is the SVG namespace's name on each inline figure: a name, never fetched
    html = html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?//""", html)  # protocol-relative
    for node in tree.iter():
        assert not (node.tag == "script" and "src" in node.attrs), "external script"
        assert node.tag not in ("link", "img", "iframe", "object", "embed", "base")
        for name in ("src", "srcset", "xlink:href", "data"):
            assert name not in node.attrs or node.tag == "object"
        href = node.attrs.get("href")
        assert href is None or href.startswith("#"), href
    assert "@import" not in html and "url(" not in html
    assert not list(tree.iter("script"))  # none needed at all
    assert html.count("<style>") == 1


def test_trajectory_svg(example):
    calls, _, tree = example
    svg = next(_section(tree, "trajectories").iter("svg"))
    assert svg.attrs["role"] == "img"
    assert next(svg.iter("title")).text() == "ctDNA variant trajectories"
    assert "log scale" in next(svg.iter("desc")).text()
    series = [g for g in svg.iter("g") if "series" in g.classes]
    tracked = sorted(calls["alteration"].unique())
    assert sorted(g.attrs["data-alteration"] for g in series) == tracked == [
        "EGFR C797S", "EGFR L858R", "EGFR T790M", "TP53 R273H",
    ]  # fmt: skip
    # one marker per draw in each series: filled when detected, open at the LoD otherwise
    for g in series:
        mine = calls[calls["alteration"] == g.attrs["data-alteration"]]
        markers = [n for n in g.iter() if "marker" in n.classes]
        assert len(markers) == len(mine)
        detected = [n for n in markers if "detected" in n.classes]
        at_lod = [n for n in markers if "lod-marker" in n.classes]
        assert len(detected) == int((mine["state"] == "detected").sum())
        assert len(at_lod) == int((mine["state"] != "detected").sum())
        assert all(n.attrs["fill"] == "#ffffff" for n in at_lod)
        assert all(n.attrs["fill"] != "#ffffff" for n in detected)
    # distinct shapes and colours per series
    assert len({g.attrs["data-shape"] for g in series}) == len(series)
    lod_line = [n for n in svg.iter("polyline") if "lod-line" in n.classes]
    assert len(lod_line) == 1
    assert lod_line[0].attrs.get("stroke-dasharray")
    n_draws = calls["sample_id"].nunique()
    assert len(lod_line[0].attrs["points"].split()) == n_draws
    assert [n for n in svg.iter("polygon") if "lod-band" in n.classes]
    legend = next(g for g in svg.iter("g") if "legend" in g.classes)
    legend_text = legend.text()
    for label in tracked:
        assert label in legend_text
    assert "LoD" in legend_text
    # y axis: decades from 0.01 % to 100 %
    texts = [t.text() for t in svg.iter("text")]
    assert "0.01%" in texts and "100%" in texts
    # progression on day 330 drawn on the plot
    assert any("progression (day 330)" in t for t in texts)


def test_timeline_svg(example):
    _, _, tree = example
    svg = next(_section(tree, "timeline").iter("svg"))
    assert next(svg.iter("title")).text() == "Therapy timeline"
    lines = [g for g in svg.iter("g") if "therapy-line" in g.classes]
    assert [g.attrs["data-regimen"] for g in lines] == ["osimertinib"]
    events = [g for g in svg.iter("g") if "event" in g.classes]
    assert [g.attrs["data-event"] for g in events] == ["progression"]
    assert len([n for n in svg.iter() if "draw-tick" in n.classes]) == 9
    assert "Days since the start of the first therapy line" in svg.text()


def test_response_table(example):
    _, _, tree = example
    table = next(_section(tree, "response").iter("table"))
    assert next(table.iter("caption")).text().startswith("Molecular response per draw")
    rows = list(next(table.iter("tbody")).iter("tr"))
    assert len(rows) == 9
    assert [r.attrs["data-category"] for r in rows][:3] == [
        "baseline", "major_response", "clearance",
    ]  # fmt: skip
    assert rows[0].children[0].tag == "th" and rows[0].children[0].text() == "\u22127"


def test_alerts_table(example):
    _, _, tree = example
    table = _section(tree, "alerts-table")
    assert table.tag == "table"
    rows = list(next(table.iter("tbody")).iter("tr"))
    assert [r.attrs["data-alteration"] for r in rows] == ["EGFR C797S"]
    text = rows[0].text()
    assert "EGFR C797S" in text and "resistant" in text and "osimertinib" in text
    # the series-level test (2 % false-alert budget) alerts on day 238, 92 days before the
    # progression; the per-draw call (5 % per draw) saw C797S first on day 182
    assert "238" in text and "92" in text  # day first called, lead time
    assert rows[0].attrs["data-category"] == "emerging_resistance"
    assert "emerging resistance" in text


def test_verdicts_table(example):
    _, _, tree = example
    table = _section(tree, "verdicts-table")
    rows = {r.attrs["data-drug"]: r for r in next(table.iter("tbody")).iter("tr")}
    osi = rows["osimertinib"]
    assert osi.attrs["data-verdict"] == "resistant"
    assert "resistant" in osi.text() and "current regimen" in osi.text()
    assert "EGFR C797S" in osi.text() and "on target" in osi.text()
    # evidence level B and the reason's references are numbered into the references list
    assert osi.children[3].text() == "B"
    refs = _section(tree, "references")
    items = [li.text() for li in refs.iter("li")]
    assert "PMID:25939061" in items and "PMID:30073261" in items
    cited = {a.attrs["href"] for a in _section(tree, "verdicts").iter("a")}
    cited |= {a.attrs["href"] for a in _section(tree, "options").iter("a")}
    assert cited == {f"#ref-{i}" for i in range(1, len(items) + 1)}
    for ident in cited:
        assert tree.find_id(ident[1:]) is not None


def test_options(example):
    _, _, tree = example
    table = next(_section(tree, "options").iter("table"))
    drugs = [r.attrs["data-drug"] for r in next(table.iter("tbody")).iter("tr")]
    assert "erlotinib" in drugs and "osimertinib" not in drugs


def test_accessible_tables(example):
    _, _, tree = example
    for table in tree.iter("table"):
        assert next(table.iter("caption"), None) is not None
    for th in tree.iter("th"):
        assert th.attrs.get("scope") in ("col", "row")
    for svg in tree.iter("svg"):
        labelled = svg.attrs["aria-labelledby"].split()
        assert all(tree.find_id(i) is not None for i in labelled)


def test_no_raw_identifiers(example, pseudonymised):
    patient, calls, html = pseudonymised
    assert "ILLUS" not in html
    assert f"pseudonym {patient[:12]}" in html
    assert patient not in html  # only the short form
    for sample in calls["sample_id"].unique():
        assert sample[:12] not in html
    # dates stay out unless asked for
    assert "2024-" not in html and "2025-01-20" not in html
    # the raw example never shows its identifiers either
    _, raw_html, _ = example
    assert "ILLUS-P1" not in raw_html and "identifier withheld" in raw_html
    assert "Illustrative" not in html


def test_labels_and_dates():
    assert patient_label_for("a" * 64) == "pseudonym aaaaaaaaaaaa"
    assert patient_label_for("MRN-1234") == "identifier withheld"
    assert patient_label_for("MRN-1234", "Case 7") == "Case 7"
    obs, therapy, events = example_tables()
    html = build_report(
        obs, therapy=therapy, events=events, patient_label="Case 7", show_dates=True,
        report_date=REPORT_DATE, title="Tumour board",
    )  # fmt: skip
    assert "Case 7" in html and "2024-03-04" in html and "2024-09-02" in html
    assert "<title>Tumour board: Case 7</title>" in html


def test_without_therapy_or_events():
    obs, _, _ = example_tables()
    calls = monitor.call_draws(obs)
    html = build_report(calls, report_date=REPORT_DATE)
    tree = parse(html)
    for ident in SECTIONS:
        assert tree.find_id(ident) is not None
    assert "the first ctDNA draw" in html
    assert "Days since the first ctDNA draw" in html
    assert "No therapy lines recorded." in html
    # no regimen: every drug the knowledge base links is judged
    rows = {r.attrs["data-drug"]: r.attrs["data-verdict"] for r in tree.iter("tr")
            if "data-verdict" in r.attrs}  # fmt: skip
    assert rows["osimertinib"] == "resistant"
    # no therapy: the emergence baseline is the first draw, C797S still emerges
    assert "EGFR C797S" in _section(tree, "alerts").text()


def test_nothing_detected_and_no_alerts():
    obs, therapy, _ = example_tables()
    obs = obs.assign(alt_reads=0)
    html = build_report(obs, therapy=therapy, report_date=REPORT_DATE)
    tree = parse(html)
    assert "No alteration emerged after baseline." in html
    assert "No alteration detected at baseline or at the latest draw." in html
    assert "No references" in _section(tree, "references").text()
    svg = next(_section(tree, "trajectories").iter("svg"))
    assert not [n for n in svg.iter() if "detected" in n.classes]


def test_render_rejects_bad_input(example):
    calls, _, _ = example
    two = pd.concat([calls, calls.assign(patient_id="other")])
    with pytest.raises(InputError, match="one patient"):
        build_report(two)
    with pytest.raises(InputError, match="one patient"):
        render_report(calls=two, response=pd.DataFrame(), alerts=pd.DataFrame())
    with pytest.raises(InputError, match="lod_vaf"):
        render_report(
            calls=calls.drop(columns="lod_vaf"), response=pd.DataFrame(), alerts=pd.DataFrame()
        )
    with pytest.raises(InputError, match="no draws"):
        build_report(calls.iloc[0:0])


def test_write_report_is_atomic(tmp_path, example):
    _, html, _ = example
    target = tmp_path / "out" / "report.html"
    write_report(target, html)
    assert target.read_text(encoding="utf-8") == html
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]
