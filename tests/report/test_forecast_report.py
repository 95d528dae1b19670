"""The forecast section of the patient report: fan chart, strategies, refusal, escaping."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_helpers import REPORT_DATE, example_tables, parse
from typer.testing import CliRunner

from oncoresist import monitor
from oncoresist.cli import app
from oncoresist.errors import InputError
from oncoresist.forecast import PSAForecaster, simulate_cohort
from oncoresist.forecast._inputs import read_measurements
from oncoresist.report import (
    Forecast,
    accuracy_sentence,
    build_report,
    fan_chart_svg,
    forecast_patient,
    forecast_section,
    psa_table,
)
from oncoresist.report._forecast_html import _bands

SVG = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert("x")</script>'
ACCURACY = {
    "mae_log10": 0.371, "mae_last_value": 0.613, "mae_repeat_cycle": 0.430,
    "coverage_80": 0.793, "coverage_95": 0.923, "auc": 0.88, "sens_at_spec85": 0.794,
    "n_patients": 32, "source": "the Zhang 2022 abiraterone trial",
}  # fmt: skip


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return simulate_cohort(12, rng=1).table


@pytest.fixture(scope="module")
def fitted(cohort):
    fc = PSAForecaster(max_iter=3, calibrate=False).fit(cohort)
    fc.accuracy_ = dict(ACCURACY)
    fc.assumptions_ = ["Zhang 2022 two-population model; population prior from 12 patients."]
    return fc


@pytest.fixture(scope="module")
def forecast(cohort, fitted) -> Forecast:
    pid = cohort["patient_id"].iloc[0]
    return forecast_patient(cohort, pid, forecaster=fitted, horizon_days=224, rng=0)


def test_forecast_has_every_strategy_with_ordered_bands(forecast: Forecast) -> None:
    assert forecast.refusal is None
    assert set(forecast.summary["strategy"]) == set(forecast.paths["strategy"])
    bands, approximate = _bands(forecast.paths)
    assert approximate == (not {"q25", "q75"} <= set(forecast.paths.columns))
    for b in bands:
        q = [b.q025, b.q10, b.q25, b.q50, b.q75, b.q90, b.q975]
        assert all(x <= y * (1 + 1e-12) for x, y in itertools.pairwise(q)), q


def test_standalone_fan_chart_is_svg_with_three_bands_per_strategy(forecast: Forecast) -> None:
    html = forecast_section(forecast)
    inline = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    # the SVG namespace's name (never fetched) is the figure's only URL
    assert re.findall(r"https?://[^\s\"']*", inline) == ["http://www.w3.org/2000/svg"]
    ET.fromstring(inline)  # well-formed XML even inline
    from oncoresist.report._forecast_html import _strategies
    from oncoresist.report._forecast_svg import History

    _, panels, _ = _strategies(forecast)
    h = forecast.history
    hist = [History(float(d), float(v)) for d, v in zip(h["day"], h["value"], strict=True)]
    svg = fan_chart_svg(hist, panels, origin_day=hist[-1].day, threshold=5.0, standalone=True)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}title").text.startswith("Forecast of PSA")
    assert root.find(f"{SVG}desc").text
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "fan-panel"]
    assert [g.get("data-strategy") for g in groups] == list(forecast.summary["strategy"])
    for g in groups:
        levels = [p.get("data-level") for p in g.iter(f"{SVG}polygon") if p.get("data-level")]
        assert levels == ["95", "80", "50"]
        assert sum(1 for p in g.iter(f"{SVG}polyline") if p.get("class") == "median") == 1
        # the strategy's figures and the end-of-forecast summary never share a line
        texts = list(g.iter(f"{SVG}text"))
        figures_y = {t.get("y") for t in texts if t.get("class") == "figures"}
        summary_y = {t.get("y") for t in texts if (t.text or "").startswith("day ")}
        assert summary_y and not figures_y & summary_y
    # the 95 % band encloses the 80 % band, which encloses the 50 % band, at every visit
    first = groups[0]
    polys = {p.get("data-level"): p.get("points").split() for p in first.iter(f"{SVG}polygon")
             if p.get("data-level")}  # fmt: skip

    def spans(points):
        ys = [float(p.split(",")[1]) for p in points]
        half = len(ys) // 2
        return list(zip(ys[:half], reversed(ys[half:]), strict=True))  # (upper y, lower y)

    for (u95, l95), (u80, l80), (u50, l50) in zip(spans(polys["95"]), spans(polys["80"]),
                                                  spans(polys["50"]), strict=True):  # fmt: skip
        assert u95 <= u80 + 1e-6 <= u50 + 2e-6 and l50 <= l80 + 1e-6 <= l95 + 2e-6


def test_section_has_table_accuracy_and_assumptions(forecast: Forecast) -> None:
    html = forecast_section(forecast)
    tree = parse(f"<html><body>{html}</body></html>")
    table = tree.find_id("forecast-table")
    rows = {
        r.attrs["data-strategy"]: r.text() for r in table.iter("tr") if "data-strategy" in r.attrs
    }
    assert set(rows) == set(forecast.summary["strategy"])
    assert "not assessed (off drug)" in rows["stop"]
    accuracy = tree.find_id("forecast-accuracy").text()
    assert "On 32 patients of the Zhang 2022 abiraterone trial" in accuracy
    assert "0.37 log10" in accuracy and "0.61 for carrying the last value forward" in accuracy
    assert "80 % intervals covered 79%" in accuracy
    assumptions = tree.find_id("forecast-assumptions").text()
    assert "Zhang 2022 two-population model" in assumptions and "PCWG3" in assumptions


def test_accuracy_unknown_is_said() -> None:
    assert "not known" in accuracy_sentence(None)
    assert "On 5 patients of X" in accuracy_sentence({"n_patients": 5, "source": "X",
                                                      "mae_log10": 0.2})  # fmt: skip


def test_three_readings_are_refused_without_a_chart(cohort, fitted) -> None:
    pid = cohort["patient_id"].iloc[0]
    few = cohort[cohort["patient_id"] == pid].head(3)
    result = forecast_patient(few, pid, forecaster=fitted)
    assert result.refusal is not None and result.paths is None
    html = forecast_section(result)
    assert "forecast-refusal" in html and "3 PSA readings" in html and "at least 4" in html
    assert "<svg" not in html and "forecast-table" not in html


def test_never_on_treatment_is_refused(cohort, fitted) -> None:
    pid = cohort["patient_id"].iloc[0]
    off = cohort[cohort["patient_id"] == pid].assign(on_treatment=0)
    result = forecast_patient(off, pid, forecaster=fitted)
    assert result.refusal is not None and "treatment" in result.refusal
    assert "<svg" not in forecast_section(result)


def test_unknown_treatment_status_is_refused() -> None:
    m = pd.DataFrame({"patient_id": "P1", "marker": "psa", "day": [0.0, 28, 56, 84, 112],
                      "date": pd.NaT, "value": [10.0, 5, 3, 4, 6],
                      "lower_limit_of_quantification": np.nan, "censored": False,
                      "on_treatment": np.nan})  # fmt: skip
    result = forecast_patient(psa_table(m), "P1")
    assert result.refusal is not None and "on_treatment" in result.refusal


def test_everything_is_escaped(forecast: Forecast) -> None:
    evil = Forecast(
        forecast.history,
        paths=forecast.paths.assign(strategy=forecast.paths["strategy"].replace("continue", EVIL)),
        summary=forecast.summary.assign(
            strategy=forecast.summary["strategy"].replace("continue", EVIL)
        ),
        accuracy={**ACCURACY, "source": EVIL},
        assumptions=[EVIL, "<img src=x onerror=alert(1)>"],
    )
    html = forecast_section(evil, note=EVIL)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    refused = forecast_section(Forecast(forecast.history.head(2), refusal=EVIL))
    assert "<script" not in refused and "&lt;script&gt;" in refused


def test_report_with_the_forecast_section(forecast: Forecast) -> None:
    obs, therapy, events = example_tables()
    html = build_report(monitor.call_draws(obs), therapy=therapy, events=events, disease="LUAD",
                        report_date=REPORT_DATE, forecast=forecast)  # fmt: skip
    tree = parse(html)
    section = tree.find_id("forecast")
    assert section is not None and section.tag == "section"
    assert any(a.attrs.get("href") == "#forecast" for a in tree.iter("a"))
    names = html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # a name, never fetched
    assert "http://" not in names and "https://" not in names
    without = build_report(monitor.call_draws(obs), therapy=therapy, events=events,
                           disease="LUAD", report_date=REPORT_DATE)  # fmt: skip
    assert 'id="forecast"' not in without


def test_psa_table_from_a_file_with_therapy_lines(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(
        "patient_id,date,marker,value\n"
        "P1,2024-01-01,psa,20\nP1,2024-02-01,psa,8\nP1,2024-03-01,psa,<0.1\n"
        "P1,2024-04-01,psa,3\nP1,2024-03-01,cea,3\nP1,2024-04-01,cea,3\n"
    )
    lines = tmp_path / "t.csv"
    lines.write_text(
        "patient_id,regimen,start_date,end_date\nP1,abiraterone,2024-01-01,2024-03-15\n"
    )
    table = psa_table(read_measurements(path), monitor.read_therapy(lines))
    assert list(table["on_treatment"]) == [1, 1, 1, 0]
    assert list(table["censored"]) == [False, False, True, False]
    assert table["value"].iloc[2] == 0 and table["lower_limit_of_quantification"].iloc[2] == 0.1


# ----------------------------------------------------------------------- command line
def _measurement_file(path: Path, cohort: pd.DataFrame, n: int | None = None) -> pd.DataFrame:
    one = cohort[cohort["patient_id"] == cohort["patient_id"].iloc[0]]
    one = one.head(n) if n else one
    start = pd.Timestamp("2024-01-01")
    frame = pd.DataFrame({
        "patient_id": "ILLUS-P1", "marker": "psa",
        "date": [(start + pd.Timedelta(days=float(d))).date().isoformat() for d in one["day"]],
        "value": one["value"].round(4).to_numpy(), "on_treatment": one["on_treatment"].to_numpy(),
    })  # fmt: skip
    frame.to_csv(path, index=False)
    return frame


@pytest.fixture
def stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fitted) -> Path:
    import oncoresist.forecast

    monkeypatch.setenv("ONCORESIST_KEY", "ab" * 32)
    monkeypatch.setattr(oncoresist.forecast, "default_forecaster", lambda marker="psa": fitted,
                        raising=False)  # fmt: skip
    db = tmp_path / "s.sqlite"
    examples = Path(__file__).resolve().parents[2] / "src" / "oncoresist" / "examples"
    files = [str(examples / f"egfr_ctdna_{k}.csv") for k in ("series", "therapy", "events")]
    result = CliRunner().invoke(app, ["monitor", "ingest", *files, "--db", f"sqlite:///{db}"])
    assert result.exit_code == 0, result.output
    return db


def test_report_command_with_measurements(stored: Path, tmp_path: Path, cohort) -> None:
    measurements = tmp_path / "psa.csv"
    _measurement_file(measurements, cohort)
    out = tmp_path / "r.html"
    args = ["report", "ILLUS-P1", "--db", f"sqlite:///{stored}", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--measurements", str(measurements)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert 'id="forecast"' in html and "<svg" in html and 'id="forecast-table"' in html
    assert "ILLUS-P1" not in html


def test_report_command_uses_stored_measurements_and_refuses_too_few(
    stored: Path, tmp_path: Path, cohort
) -> None:
    measurements = tmp_path / "few.csv"
    _measurement_file(measurements, cohort, n=3)
    runner = CliRunner()
    result = runner.invoke(app, ["monitor", "ingest", str(measurements), "--db",
                                 f"sqlite:///{stored}"])  # fmt: skip
    assert result.exit_code == 0 and "measurements, 3 rows" in result.output, result.output
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", "ILLUS-P1", "--db", f"sqlite:///{stored}",
                                 "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "forecast-refusal" in html and "3 PSA readings" in html
    assert 'id="forecast-table"' not in html


def test_report_command_bad_measurements_exit_2(stored: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("patient_id,day,marker,value\nILLUS-P1,0,psa,3\nILLUS-P1,10,psa,-1\n")
    result = CliRunner().invoke(app, ["report", "ILLUS-P1", "--db", f"sqlite:///{stored}",
                                      "--out", str(tmp_path / "r.html"), "--measurements",
                                      str(bad)])  # fmt: skip
    # main() turns this InputError into one line and exit status 2
    assert isinstance(result.exception, InputError), result.output
    assert "bad.csv" in str(result.exception) and "3" in str(result.exception)
    assert not (tmp_path / "r.html").exists()
