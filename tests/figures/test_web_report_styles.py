"""The web page shows the report's own trajectory SVG: same variants, same colour and marker.

The illustrative EGFR patient is uploaded through the service's form (as a clinician of
site A); the patient page's ``<svg id="trajectory-chart">`` is compared with the trajectory
figure of the HTML report built from the same files.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from oncoresist import monitor
from oncoresist.report import build_report
from oncoresist.server import ServerSettings, create_app
from oncoresist.server._users import add_user

EXAMPLES = Path(str(resources.files("oncoresist") / "examples"))
PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
_PATIENT = re.compile(r'href="/patients/([0-9a-f]{64})"')


def _svg(html: str, ident: str) -> ET.Element:
    found = re.search(rf'<svg [^>]*id="{ident}".*?</svg>', html, re.S)
    assert found, f"no <svg id={ident}>"
    root = ET.fromstring(found.group(0))  # inline and still well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg", "no xmlns"
    for node in root.iter():
        node.tag = node.tag.rpartition("}")[2]
    return root


def _looks(svg: ET.Element) -> dict[str, tuple[str, str, str, str]]:
    """Per variant: (data-colour, data-shape, its markers' colour, their element)."""
    out = {}
    for g in svg.iter("g"):
        if "series" in (g.get("class") or "").split():
            marks = [n for n in g if "point" in (n.get("class") or "").split()]
            # a detected draw is filled with the colour, an undetected one outlined in it
            colours = {n.get("fill") if "detected" in n.get("class").split() else n.get("stroke")
                       for n in marks}  # fmt: skip
            assert len(colours) == 1 and len({n.tag for n in marks}) == 1
            out[g.get("data-series")] = (g.get("data-colour"), g.get("data-shape"),
                                         colours.pop(), marks[0].tag)  # fmt: skip
    return out


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("web")
    settings = ServerSettings(db=f"sqlite:///{tmp / 's.sqlite'}", key=bytes(range(32)),
                              audit_log=tmp / "audit.log")  # fmt: skip
    app = create_app(settings)
    add_user(app.state.oncoresist.store.engine, "alice", PASSWORD, role="clinician",
             site="SITEA")  # fmt: skip
    client = TestClient(app)
    csrf = _CSRF.search(client.get("/login").text).group(1)
    client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": csrf},
                follow_redirects=False)  # fmt: skip
    csrf = _CSRF.search(client.get("/upload").text).group(1)
    for kind, name in (("serial", "egfr_ctdna_series.csv"), ("therapy", "egfr_ctdna_therapy.csv"),
                       ("events", "egfr_ctdna_events.csv")):  # fmt: skip
        data = (EXAMPLES / name).read_bytes()
        response = client.post("/upload", data={"kind": kind, "csrf_token": csrf},
                               files={"file": (name, data, "text/csv")})  # fmt: skip
        assert response.status_code == 200, response.text
    patient = _PATIENT.search(response.text).group(1)
    assert app.state.oncoresist.limits.wait(120)
    return client.get(f"/patients/{patient}").text


@pytest.fixture(scope="module")
def report() -> str:
    obs = monitor.read_serial(EXAMPLES / "egfr_ctdna_series.csv")
    therapy = monitor.read_therapy(EXAMPLES / "egfr_ctdna_therapy.csv")
    events = monitor.read_events(EXAMPLES / "egfr_ctdna_events.csv")
    return build_report(monitor.call_draws(obs), therapy=therapy, events=events, disease="LUAD",
                        illustrative=True)  # fmt: skip


def test_web_and_report_draw_each_variant_alike(page: str, report: str) -> None:
    web, rep = _looks(_svg(page, "trajectory-chart")), _looks(_svg(report, "trajectory-plot"))
    assert sorted(web) == sorted(rep) == ["EGFR C797S", "EGFR L858R", "EGFR T790M", "TP53 R273H"]
    assert web == rep
    assert len({(c, s) for c, s, _, _ in web.values()}) == 4


def test_the_web_chart_is_drawn_on_the_server(page: str) -> None:
    svg = _svg(page, "trajectory-chart")
    assert svg.get("role") == "img" and svg.find("title") is not None
    points = [n for n in svg.iter() if "point" in (n.get("class") or "").split()]
    assert len(points) == 36  # 9 draws x 4 variants, there before any script runs
    assert all(n.get("data-day") and n.get("data-state") and n.get("data-date") for n in points)
    # the page's legend keys carry the same styles as the chart's series
    keys = dict(re.findall(r'class="legend-key" data-series="([^"]+)" data-colour="(#\w+)"',
                           page))  # fmt: skip
    assert keys == {label: look[0] for label, look in _looks(svg).items()}
    assert not re.search(r"<svg[^>]*\son\w+=", page)
