"""The PSA forecast on the web patient page and its API route, from stored measurements."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from server_helpers import Service, site_service

from oncoresist.forecast import simulate_cohort


def _measurements(n: int | None = None, patient: str = "ILLUS-P1") -> bytes:
    """A simulated patient's PSA series (with dates) under the illustrative identifier."""
    table = simulate_cohort(3, rng=4).table
    one = table[table["patient_id"] == table["patient_id"].iloc[0]]
    one = one.head(n) if n else one
    start = pd.Timestamp("2024-01-01")
    frame = pd.DataFrame({
        "patient_id": patient, "marker": "psa",
        "date": [(start + pd.Timedelta(days=float(d))).date().isoformat() for d in one["day"]],
        "value": one["value"].round(4).to_numpy(), "on_treatment": one["on_treatment"].to_numpy(),
    })  # fmt: skip
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


@pytest.fixture
def service(tmp_path) -> Service:
    """The site's service; forecasts run in a job under the parse timeout, which a loaded
    test machine must not turn into a refusal (the refusal has its own test)."""
    return site_service(tmp_path, parse_timeout=600.0)


def _page(service: Service, user: str, pid: str):
    client = service.client
    client.cookies.set("oncoresist_session", service.tokens[user])
    try:
        return client.get(f"/patients/{pid}")
    finally:
        client.cookies.clear()


def test_uploaded_measurements_give_the_page_a_forecast(service: Service) -> None:
    response = service.upload("alice", "measurements", "psa.csv", _measurements())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["kind"] == "measurements" and body["patients"] == [service.patient]
    assert body["inserted"] == body["rows"] > 20
    again = service.upload("alice", "measurements", "psa.csv", _measurements())
    assert again.json()["already_ingested"] is True

    path = f"/api/v1/patients/{service.patient}/forecast"
    got = service.client.get(path, headers=service.headers("alice"))
    assert got.status_code == 200, got.text
    forecast = got.json()
    assert forecast["refusal"] is None and forecast["readings"] == body["rows"]
    strategies = {s["strategy"]: s for s in forecast["strategies"]}
    assert {"continue", "stop", "adaptive"} <= set(strategies)
    assert strategies["stop"]["assessed"] is False
    assert strategies["stop"]["prob_progression"] is None
    assert 0 <= strategies["continue"]["prob_progression"] <= 1
    for band in forecast["bands"]:
        assert band["q025"] <= band["q10"] <= band["q50"] <= band["q90"] <= band["q975"]
    assert "log10" in forecast["accuracy"] and forecast["assumptions"]

    page = _page(service, "alice", service.patient)
    assert page.status_code == 200
    html = page.text
    assert 'id="forecast"' in html and 'href="#forecast"' in html
    assert 'class="plot fan-chart"' in html and 'id="forecast-table"' in html
    assert 'id="forecast-accuracy"' in html and "ILLUS-P1" not in html
    # the downloaded report carries the same forecast section as the page
    report = service.client.get(f"/api/v1/patients/{service.patient}/report",
                                headers=service.headers("alice"))  # fmt: skip
    assert report.status_code == 200, report.text
    assert 'class="plot fan-chart"' in report.text and 'id="forecast-table"' in report.text
    assert "ILLUS-P1" not in report.text
    # the other site's clinician sees neither the page nor the forecast
    assert service.client.get(path, headers=service.headers("bob")).status_code == 404
    foreign = _page(service, "bob", service.patient)
    assert foreign.status_code == 404 and "forecast-table" not in foreign.text
    assert service.client.get(path, headers=service.headers("rita")).status_code == 404


def test_three_readings_are_refused_on_the_page(service: Service) -> None:
    response = service.upload("alice", "measurements", "few.csv", _measurements(3))
    assert response.status_code == 200, response.text
    got = service.client.get(f"/api/v1/patients/{service.patient}/forecast",
                             headers=service.headers("alice")).json()  # fmt: skip
    assert got["strategies"] == [] and got["bands"] == []
    assert "3 PSA readings" in got["refusal"] and "at least 4" in got["refusal"]
    html = _page(service, "alice", service.patient).text
    assert "forecast-refusal" in html and "3 PSA readings" in html
    assert "fan-chart" not in html and 'id="forecast-table"' not in html


def test_a_page_without_measurements_says_so(service: Service) -> None:
    got = service.client.get(f"/api/v1/patients/{service.patient}/forecast",
                             headers=service.headers("alice")).json()  # fmt: skip
    assert "no PSA measurements" in got["refusal"]
    assert "no serial PSA measurements" in _page(service, "alice", service.patient).text


@pytest.mark.parametrize("via", ["api", "form"])
def test_a_bad_measurement_file_is_located_without_identifiers(service: Service, via: str) -> None:
    bad = b"patient_id,day,marker,value\nSECRET-PT-7,0,psa,3\nSECRET-PT-7,10,psa,-1\n"
    if via == "api":
        response = service.upload("alice", "measurements", "bad.csv", bad)
        assert response.status_code == 422
        problem = response.json()
        assert problem.get("line") == 3 and problem.get("field") == "value", problem
        text = response.text
    else:
        client = service.client
        client.cookies.set("oncoresist_session", service.tokens["alice"])
        try:
            import re

            csrf = re.search(r'name="csrf_token" value="([0-9a-f]{64})"',
                             client.get("/upload").text).group(1)  # fmt: skip
            response = client.post("/upload", data={"kind": "measurements", "csrf_token": csrf},
                                   files={"file": ("bad.csv", bad, "text/csv")})  # fmt: skip
        finally:
            client.cookies.clear()
        assert response.status_code == 422 and 'id="upload-error"' in response.text
        assert "line 3" in response.text
        text = response.text
    assert "SECRET-PT-7" not in text
    listed = service.client.get("/api/v1/patients", headers=service.headers("alice")).json()
    assert [p["pseudonym"] for p in listed["patients"]] == [service.patient]
