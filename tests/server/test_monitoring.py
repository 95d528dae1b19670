"""What the service monitors with: its settings on every page, alert categories in words,
resistance alerts counted apart, the per-series limit of detection, the panel of normals and
budget of `oncoresist serve`, and stored pages that never outlive a change of settings."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from server_helpers import PASSWORD, TEST_KEY, Service, make_service, upload_example

from oncoresist.errors import InputError
from oncoresist.server import ServerSettings, create_app
from oncoresist.server._settings import ENVIRONMENT, settings_from_env
from oncoresist.server._views import MonitorConfig, site_scoped
from oncoresist.store import pseudonym as make_pseudonym

SITES = ("EGFR L858R", "EGFR T790M", "EGFR C797S", "TP53 R273H")
HEADER = "patient_id,sample_id,collection_date,gene,alteration,alt_reads,depth\n"


def _normals(path: Path, *, molecules: bool = False) -> Path:
    """A panel of 8 normals at the sites of the tests (0 to 2 alt counts of 3000)."""
    counts = "alt_molecules,unique_molecules" if molecules else "alt_reads,depth"
    rows = [f"site,sample_id,{counts}"]
    for i in range(8):
        rows += [f"{site},N{i},{(i + j) % 3},3000" for j, site in enumerate(SITES)]
    path.write_text("\n".join(rows) + "\n")
    return path


def _page(service: Service, pid: str) -> dict:
    response = service.client.get(f"/api/v1/patients/{pid}", headers=service.headers("alice"))
    assert response.status_code == 200, response.text
    return response.json()


def _html(service: Service, pid: str) -> str:
    client = service.client
    form = client.get("/login").text  # the login form's CSRF token
    csrf = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/login", data={"username": "alice", "password": PASSWORD,
                                "csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    response = client.get(f"/patients/{pid}")
    assert response.status_code == 200
    return response.text


def _section(html: str, ident: str) -> str:
    start = html.index(f'<section id="{ident}"')
    return html[start : html.index("</section>", start)]


# ----------------------------------------------------------------------- settings
def test_the_patient_page_says_what_the_results_were_computed_under(tmp_path: Path) -> None:
    panel = _normals(tmp_path / "normals_v3.csv")
    service = make_service(tmp_path, normals=panel, budget=0.01)
    pid = upload_example(service)
    settings = _page(service, pid)["settings"]
    assert settings["panel"] == "normals_v3.csv" and settings["count_unit"] == "reads"
    assert (settings["budget"], settings["fpr"]) == (0.01, 0.05)
    assert "fitted to a panel of 8 normals" in settings["error_model"]
    sentence = settings["sentence"]
    assert sentence.startswith(f"Error model: {settings['error_model']}.")
    assert "Calls counted in reads." in sentence and "at most 1.0% chance" in sentence
    assert "at most 5% chance of any false call" in sentence
    assert sentence.endswith("Panel of normals: normals_v3.csv.")

    box = _section(_html(service, pid), "settings")
    assert sentence.replace("'", "&#39;") in box
    assert "<dt>Panel of normals</dt><dd>normals_v3.csv</dd>" in box
    assert "<dt>Counting unit</dt><dd>reads</dd>" in box
    assert "<dt>False-alert budget</dt><dd>1% chance" in box
    assert "<dt>Per-draw level</dt><dd>5% chance" in box


def test_without_a_panel_the_page_says_so(service: Service) -> None:
    settings = _page(service, service.patient)["settings"]
    assert settings["panel"] is None and "no panel of normals" in settings["error_model"]
    assert settings["sentence"].endswith("No panel of normals was given.")
    box = _section(_html(service, service.patient), "settings")
    assert "none: the default background" in box and "<dd>reads</dd>" in box


def test_each_patient_is_counted_in_its_own_unit_and_warned_on_its_own(service: Service) -> None:
    header = ("patient_id,sample_id,collection_date,gene,alteration,alt_reads,depth,"
              "alt_molecules,unique_molecules\n")  # fmt: skip
    rows = [header]
    for i, date in enumerate(("2025-01-06", "2025-02-03", "2025-03-03")):
        rows.append(f"ILLUS-M1,ILLUS-M1-D{i},{date},EGFR,L858R,12,9000,3,3000\n")  # molecules
        rows.append(f"ILLUS-R1,ILLUS-R1-D{i},{date},EGFR,L858R,12,9000,,3000\n")  # reads
    response = service.upload("alice", "serial", "two.csv", "".join(rows).encode())
    assert response.status_code == 200, response.text
    pid = {p: make_pseudonym(TEST_KEY, "patient", site_scoped("SITEA", p))
           for p in ("ILLUS-M1", "ILLUS-R1")}  # fmt: skip
    molecules = _page(service, pid["ILLUS-M1"])["settings"]
    reads = _page(service, pid["ILLUS-R1"])["settings"]
    assert (molecules["count_unit"], molecules["warnings"]) == ("molecules", [])
    assert reads["count_unit"] == "reads" and len(reads["warnings"]) == 1
    assert "3.0 reads per unique molecule" in reads["warnings"][0]
    assert reads["sentence"].startswith("Warning: calls counted in reads")
    box = _section(_html(service, pid["ILLUS-R1"]), "settings")
    assert 'id="settings-warnings"' in box and "PCR duplicates" in box


# ----------------------------------------------------------------------- categories
def _categories_patient() -> bytes:
    """C797S at baseline (resistant to osimertinib), then the driver L858R (undetected at
    baseline) and TP53 R273H (no known effect) rising on osimertinib.

    The baseline draw is taken the day osimertinib starts (2024-02-01): an alteration is
    judged against the regimen in use at its draw.
    """
    dates = ["2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01", "2024-06-01", "2024-07-01"]
    rising = [0, 0, 0, 20, 60, 150]
    rows = [HEADER]
    for i, date in enumerate(dates):
        counts = {"EGFR L858R": rising[i], "EGFR T790M": 0, "EGFR C797S": 60 if i == 0 else 0,
                  "TP53 R273H": rising[i]}  # fmt: skip
        for site, alt in counts.items():
            gene, change = site.split()
            rows.append(f"ILLUS-P7,ILLUS-P7-D{i},{date},{gene},{change},{alt},3000\n")
    return "".join(rows).encode()


def test_alert_categories_in_words_and_only_emerging_resistance_counted(service: Service) -> None:
    assert service.upload("alice", "serial", "p7.csv", _categories_patient()).status_code == 200
    therapy = b"patient_id,regimen,start_date,end_date\nILLUS-P7,osimertinib,2024-02-01,\n"
    assert service.upload("alice", "therapy", "p7-therapy.csv", therapy).status_code == 200
    pid = make_pseudonym(TEST_KEY, "patient", site_scoped("SITEA", "ILLUS-P7"))
    found = {a["alteration"]: a["category"] for a in _page(service, pid)["alerts"]}
    assert found == {"EGFR C797S": "present_at_baseline", "EGFR L858R": "driver_rising",
                     "TP53 R273H": "new_alteration"}  # fmt: skip

    listing = service.client.get("/api/v1/patients", headers=service.headers("alice")).json()
    alerts = {p["pseudonym"]: p["alerts"] for p in listing["patients"]}
    assert alerts == {pid: 0, service.patient: 1}  # C797S emerging on osimertinib: 1
    site = service.client.get("/api/v1/alerts", headers=service.headers("alice")).json()
    assert {a["patient"] for a in site} == {pid, service.patient}

    box = _section(_html(service, pid), "alerts")
    assert "no resistance alerts" in box and "3 other findings (not resistance alerts)" in box
    assert "driver rising — not a resistance mechanism" in box
    # the report's words: the alerts table is the report's (report/templates/_alert_table.html)
    assert "present at baseline (not emerging)" in box
    assert "new alteration (no known effect)" in box
    assert "badge-alert" not in box  # no resistance alert, no alarm
    mine = _section(_html(service, service.patient), "alerts")
    assert "1 resistance alert<" in mine and "emerging resistance" in mine
    listing_html = service.client.get("/").text
    assert listing_html.count("no resistance alerts") == 1
    assert listing_html.count("1 resistance alert<") == 1


# ----------------------------------------------------------------------- limits of detection
def test_alert_free_series_show_their_limit_of_detection(service: Service) -> None:
    page = _page(service, service.patient)
    limits = {x["alteration"]: x["lod_vaf"] for x in page["series_limits"]}
    alerted = {a["alteration"] for a in page["alerts"]}
    assert "EGFR C797S" in alerted and "EGFR C797S" not in limits
    # L858R and TP53 R273H, present from baseline, are called by the series-level test (no
    # limit to give); T790M never is
    assert set(limits) == {"EGFR T790M"}
    assert all(0 < x < 0.01 for x in limits.values())  # 3000 reads per draw: well under 1 %
    box = _section(_html(service, service.patient), "limits")
    for alteration, vaf in limits.items():
        assert f'<tr data-limit="{alteration}"><th scope="row">{alteration}</th>' in box
        assert f"{vaf * 100:.3g}%" in box
    assert "would have raised an alert by the last draw with 95% probability" in box


def test_limits_follow_an_upload_and_the_page_says_they_are_coming(service: Service) -> None:
    state = service.app.state.oncoresist
    data = (HEADER + "ILLUS-P1,ILLUS-P1-EXTRA,2025-06-30,EGFR,T790M,0,3000\n").encode()
    blocked = []
    state.limits.job, run = (lambda pids: blocked.append(pids)), state.limits.job
    assert service.upload("alice", "serial", "more.csv", data).status_code == 200
    page = _page(service, service.patient)
    assert page["series_limits"] is None and page["settings"]["count_unit"] == "reads"
    assert "Being computed" in _section(_html(service, service.patient), "limits")
    state.limits.wait(30)
    assert blocked and service.patient in blocked[0]
    state.limits.job = run
    state.limits.add([service.patient])  # as the next read would
    service.settle()
    assert _page(service, service.patient)["series_limits"]


# ----------------------------------------------------------------------- settings changes
def test_a_page_stored_under_other_settings_is_rebuilt(service: Service) -> None:
    before = _page(service, service.patient)
    assert before["settings"]["budget"] == 0.02
    again = make_service_on(service, budget=0.005)  # the service restarted on the same store
    after = _page(again, service.patient)
    assert after["settings"]["budget"] == 0.005 and "0.5% chance" in after["settings"]["sentence"]
    assert MonitorConfig(budget=0.005).fingerprint != MonitorConfig().fingerprint
    assert MonitorConfig().fingerprint == MonitorConfig().fingerprint


def make_service_on(service: Service, **overrides) -> Service:
    """A second service on the store, key and users of ``service`` with other settings."""
    from fastapi.testclient import TestClient

    settings = ServerSettings(db=service.settings.db, key=TEST_KEY,
                              audit_log=service.settings.audit_log, **overrides)  # fmt: skip
    app = create_app(settings)
    other = Service(app, TestClient(app), settings, dict(service.tokens), service.patient)
    return other


def test_reads_only_against_a_molecule_panel_are_refused_with_the_reason(tmp_path: Path) -> None:
    service = make_service(tmp_path, normals=_normals(tmp_path / "umi.csv", molecules=True))
    data = (HEADER + "P1,D1,2025-01-06,EGFR,L858R,3,3000\n").encode()
    response = service.upload("alice", "serial", "reads.csv", data)
    assert response.status_code == 422
    assert "unique-molecule counts" in response.json()["detail"]
    form = service.client.get("/login").text  # the login form's CSRF token
    csrf = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    upload = service.client.post("/login", data={"username": "alice", "password": PASSWORD,
                                                  "csrf_token": csrf})  # fmt: skip
    assert "counted in <strong>molecules</strong>" in service.client.get("/upload").text
    assert upload.status_code == 200


# ----------------------------------------------------------------------- serve and settings
def test_serve_passes_parse_timeout_normals_and_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from oncoresist.cli import app

    for variable in ENVIRONMENT.values():  # restored afterwards: serve sets them
        monkeypatch.setenv(variable, "")
    monkeypatch.setenv("ONCORESIST_KEY", TEST_KEY.hex())
    access = logging.getLogger("oncoresist.server.access")
    monkeypatch.setattr(access, "disabled", access.disabled)  # serve sets it: restore it
    ran: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: ran.append({"target": target, **kw}))
    panel = _normals(tmp_path / "panel.csv")
    result = CliRunner().invoke(app, ["serve", "--parse-timeout", "120.5", "--normals", str(panel),
                                      "--budget", "0.01"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert ran and ran[0]["target"] == "oncoresist.server._asgi:build"
    assert os.environ["ONCORESIST_PARSE_TIMEOUT"] == "120.5"
    assert os.environ["ONCORESIST_NORMALS"] == str(panel.resolve())
    assert os.environ["ONCORESIST_BUDGET"] == "0.01"
    settings = settings_from_env()  # what each worker builds its app from
    assert (settings.parse_timeout, settings.normals, settings.budget) == (120.5, panel.resolve(),
                                                                          0.01)  # fmt: skip


def test_settings_from_the_environment_are_checked() -> None:
    env = {"ONCORESIST_PARSE_TIMEOUT": "90", "ONCORESIST_BUDGET": "0.05",
           "ONCORESIST_UPLOAD_WORKERS": "3", "ONCORESIST_NORMALS": "/data/panel.tsv"}  # fmt: skip
    settings = settings_from_env(env)
    assert (settings.parse_timeout, settings.budget, settings.upload_workers) == (90.0, 0.05, 3)
    assert settings.normals == Path("/data/panel.tsv")
    with pytest.raises(InputError, match=r"ONCORESIST_PARSE_TIMEOUT.*'soon' is not a number"):
        settings_from_env({"ONCORESIST_PARSE_TIMEOUT": "soon"})
    with pytest.raises(InputError, match=r"field budget: 5\.0; expected a probability"):
        settings_from_env({"ONCORESIST_BUDGET": "5"})
    with pytest.raises(InputError, match="field parse_timeout"):
        ServerSettings(parse_timeout=0)


def test_a_bad_panel_of_normals_stops_the_service_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "normals.csv"
    bad.write_text("site,sample_id,alt_reads,depth\nEGFR T790M,N1,5,3\n")  # 5 alt of 3 reads
    settings = ServerSettings(db=f"sqlite:///{tmp_path / 's.sqlite'}", key=TEST_KEY,
                              audit_log=tmp_path / "audit.log", normals=bad)  # fmt: skip
    with pytest.raises(InputError) as caught:
        create_app(settings)
    message = str(caught.value)
    assert message.startswith("field normals (--normals, ONCORESIST_NORMALS): the panel of "
                              "normals cannot be used: ")  # fmt: skip
    assert f"{bad} line 2" in message
    done = subprocess.run(
        [sys.executable, "-m", "oncoresist", "serve", "--normals", str(tmp_path / "none.csv"),
         "--port", "9"],
        env={**os.environ, "ONCORESIST_KEY": TEST_KEY.hex()}, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "error: field normals (--normals, ONCORESIST_NORMALS): the panel of normals cannot be "
        f"used: {tmp_path / 'none.csv'}: no such file"
    )


def test_the_limit_queue_batches_and_retries_a_failed_batch_only_for_new_data() -> None:
    from oncoresist.server._pages import LIMIT_BATCH, LimitQueue

    done: list[list[str]] = []
    queue = LimitQueue(done.append)
    queue.add(f"p{i:02d}" for i in range(2 * LIMIT_BATCH + 5))
    assert queue.wait(30)
    assert [len(b) for b in done] == [LIMIT_BATCH, LIMIT_BATCH, 5]

    def failing(pids: list[str]) -> None:
        done.append(pids)
        raise RuntimeError("worker stopped")

    done.clear()
    queue = LimitQueue(failing)
    queue.add(["a", "b"])
    assert queue.wait(30) and queue.failed == {"a", "b"}
    queue.add(["a"])  # a read of its page: not again
    assert queue.wait(30) and done == [["a", "b"]]
    queue.add(["a"], again=True)  # an upload changed its data
    assert queue.wait(30) and done == [["a", "b"], ["a"]]
