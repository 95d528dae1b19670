"""The browser interface's patient lookup and disease form (issue 17, finding 8).

A clinician opens a patient by the site's own identifier (such as the MRN): the server
hashes it under the site key as on ingest, checks the site, and redirects to the
patient's page; another site's identifier and an unknown one get the same answer, and the
identifier itself reaches no URL, log, audit event or database row. A clinician of the
patient's site sets the disease from the knowledge base's list, and the page's verdicts
are then judged in that disease's context. One service per module, on a fresh SQLite
store: site A's illustrative EGFR patient, and site B's copy of it under another
identifier.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("jinja2")

from fastapi.testclient import TestClient
from server_helpers import (
    EXAMPLES,
    PASSWORD,
    Service,
    make_service,
    read_files,
    upload_example,
)

_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
#: site B's identifier of its patient, and one no site has
SITE_B_ID = "MRN-B-515077"
NOBODY_ID = "MRN-NOBODY-990011"


@dataclass
class Browsers:
    """The service and one signed-in browser (test client with its cookie) per user."""

    svc: Service
    clients: dict[str, TestClient]
    patient: str  # site A's patient
    patient_b: str  # site B's patient

    def csrf(self, user: str) -> str:
        return _CSRF.search(self.clients[user].get("/upload").text).group(1)

    def lookup(self, user: str, identifier: str, csrf: str | None = None):
        data = {"identifier": identifier, "csrf_token": self.csrf(user) if csrf is None else csrf}
        return self.clients[user].post("/patients/lookup", data=data, follow_redirects=False)

    def set_disease(self, user: str, pid: str, disease: str, csrf: str | None = None):
        data = {"disease": disease, "csrf_token": self.csrf(user) if csrf is None else csrf}
        return self.clients[user].post(f"/patients/{pid}/disease", data=data,
                                       follow_redirects=False)  # fmt: skip

    def stored_disease(self, pid: str) -> str | None:
        response = self.svc.client.get(f"/api/v1/patients/{pid}", headers=self.svc.headers("alice"))
        assert response.status_code == 200, response.text
        return response.json()["disease"]

    def audit_events(self) -> list[dict]:
        text = Path(self.svc.settings.audit_log).read_text()
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def _sign_in(client: TestClient, user: str) -> None:
    csrf = _CSRF.search(client.get("/login").text).group(1)
    response = client.post("/login", data={"username": user, "password": PASSWORD,
                                           "csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    assert response.status_code == 303, response.text


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Browsers:
    svc = make_service(tmp_path_factory.mktemp("lookup"))
    patient = upload_example(svc)  # site A's ILLUS-P1, no disease set
    series = (EXAMPLES / "egfr_ctdna_series.csv").read_text().replace("ILLUS-P1", SITE_B_ID)
    response = svc.upload("bob", "serial", "series.csv", series.encode())
    assert response.status_code == 200, response.text
    patient_b = response.json()["patients"][0]
    svc.settle()
    clients = {}
    for user in ("alice", "bob", "rita"):
        clients[user] = TestClient(svc.app)
        _sign_in(clients[user], user)
    return Browsers(svc, clients, patient, patient_b)


def _verdicts(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-drug="([^"]+)" data-verdict="([^"]+)"', html))


def _context(html: str) -> str:
    found = re.search(r'<p id="verdict-context">(.*?)</p>', html, re.S)
    assert found, "the verdict section states its disease context"
    return " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())


# ----------------------------------------------------------------------- lookup
def test_the_patient_list_has_the_lookup_form(ui: Browsers) -> None:
    page = ui.clients["alice"].get("/")
    form = re.search(r'<form method="post" action="/patients/lookup".*?</form>', page.text, re.S)
    assert form, "the patient list offers the lookup form"
    assert _CSRF.search(form.group(0)), "the form carries the session's CSRF token"
    assert 'name="identifier"' in form.group(0)


def test_lookup_opens_the_sites_patient(ui: Browsers) -> None:
    response = ui.lookup("alice", "  ILLUS-P1 ")  # spaces ignored, as on ingest
    assert response.status_code == 303
    assert response.headers["location"] == f"/patients/{ui.patient}"
    page = ui.clients["alice"].get(response.headers["location"])
    assert page.status_code == 200 and ui.patient[:12] in page.text
    event = [e for e in ui.audit_events() if e["action"] == "lookup_patient"][-1]
    assert event["actor"] == "alice" and event["pseudonym"] == ui.patient
    # the other site finds its own patient under its own identifier
    response = ui.lookup("bob", SITE_B_ID)
    assert response.headers["location"] == f"/patients/{ui.patient_b}"


def test_another_sites_identifier_and_an_unknown_one_answer_the_same(ui: Browsers) -> None:
    other = ui.lookup("alice", SITE_B_ID)  # site B's patient
    unknown = ui.lookup("alice", NOBODY_ID)
    same_at_b = ui.lookup("alice", "ILLUS-P1-D0")  # a sample identifier is no patient
    for response in (other, unknown, same_at_b):
        assert response.status_code == 404
        assert "location" not in response.headers
        assert "No patient of your site has this identifier." in response.text
    assert other.text == unknown.text  # nothing tells the two apart
    assert SITE_B_ID not in other.text and NOBODY_ID not in unknown.text
    # bob's identifier at site A is not bob's patient at site B
    assert ui.patient_b not in other.text
    denied = [e for e in ui.audit_events() if e["action"] == "access_denied"
              and (e.get("detail") or {}).get("route") == "/patients/lookup"]  # fmt: skip
    assert len(denied) >= 3


def test_lookup_needs_the_csrf_token_and_a_clinician(ui: Browsers) -> None:
    before = len(ui.audit_events())
    for csrf in ("", "0" * 64):
        response = ui.lookup("alice", "ILLUS-P1", csrf=csrf)
        assert response.status_code == 403 and "location" not in response.headers
    assert not [e for e in ui.audit_events()[before:] if e["action"] == "lookup_patient"]
    response = ui.lookup("rita", "ILLUS-P1")  # a researcher looks up no patient
    assert response.status_code == 403 and "location" not in response.headers
    stranger = TestClient(ui.svc.app)
    response = stranger.post("/patients/lookup", data={"identifier": "ILLUS-P1"},
                             follow_redirects=False)  # fmt: skip
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_an_empty_identifier_is_422_without_an_echo(ui: Browsers) -> None:
    response = ui.lookup("alice", "   ")
    assert response.status_code == 422
    assert "field identifier" in response.text


def test_the_raw_identifier_is_stored_logged_and_audited_nowhere(
    ui: Browsers, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_found, secret_unknown = "MRN-FOUND-424242", "MRN-UNKNOWN-737373"
    series = (EXAMPLES / "egfr_ctdna_series.csv").read_text().replace("ILLUS-P1", secret_found)
    assert ui.svc.upload("alice", "serial", "series.csv", series.encode()).status_code == 200
    responses = [ui.lookup("alice", secret_found), ui.lookup("alice", secret_unknown),
                 ui.lookup("bob", secret_found)]  # fmt: skip
    assert [r.status_code for r in responses] == [303, 404, 404]
    ui.svc.settle()
    for response in responses:  # never in a URL, a header or a page
        assert secret_found not in response.text and secret_unknown not in response.text
        assert all(secret_found not in v and secret_unknown not in v
                   for v in response.headers.values())  # fmt: skip
    db = Path(ui.svc.settings.db.removeprefix("sqlite:///"))
    stored = b"".join(read_files(db.parent.glob(db.name + "*")))
    audit = Path(ui.svc.settings.audit_log).read_bytes()
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    for secret in (secret_found, secret_unknown):
        assert secret.encode() not in stored
        assert secret.encode() not in audit
        assert secret not in logged


# ----------------------------------------------------------------------- disease
def test_disease_edit_changes_the_stored_disease_and_the_verdicts(ui: Browsers) -> None:
    alice = ui.clients["alice"]
    page = alice.get(f"/patients/{ui.patient}")
    assert 'id="disease-form"' in page.text and '<option value="LUAD"' in page.text
    assert _context(page.text).startswith("No disease set")

    response = ui.set_disease("alice", ui.patient, "LUAD")
    assert response.status_code == 303
    assert response.headers["location"] == f"/patients/{ui.patient}?saved=disease#disease"
    assert ui.stored_disease(ui.patient) == "LUAD"
    page = alice.get(response.headers["location"])
    assert 'id="notice"' in page.text
    assert '<option value="LUAD" selected>' in page.text
    assert _context(page.text).startswith("Judged for lung adenocarcinoma (LUAD)")
    assert _verdicts(page.text) == {"osimertinib": "resistant"}
    events = [e for e in ui.audit_events() if e["action"] == "update_patient"]
    assert events[-1]["actor"] == "alice" and events[-1]["pseudonym"] == ui.patient

    # in melanoma, the lung evidence on C797S decides nothing
    assert ui.set_disease("alice", ui.patient, "melanoma").status_code == 303
    assert ui.stored_disease(ui.patient) == "melanoma"
    page = alice.get(f"/patients/{ui.patient}")
    assert _context(page.text).startswith("Judged for melanoma (MEL)")
    assert _verdicts(page.text) == {"osimertinib": "no_known_effect"}
    api = ui.svc.client.get(f"/api/v1/patients/{ui.patient}/interpretation",
                            headers=ui.svc.headers("alice"))  # fmt: skip
    assert api.json()["disease"] == "melanoma"

    # the empty choice clears it
    assert ui.set_disease("alice", ui.patient, "").status_code == 303
    assert ui.stored_disease(ui.patient) is None
    assert _context(alice.get(f"/patients/{ui.patient}").text).startswith("No disease set")
    assert ui.set_disease("alice", ui.patient, "LUAD").status_code == 303


def test_an_unknown_disease_is_422_and_changes_nothing(ui: Browsers) -> None:
    assert ui.set_disease("alice", ui.patient, "LUAD").status_code == 303
    response = ui.set_disease("alice", ui.patient, "not-a-disease-xyz")
    assert response.status_code == 422
    assert 'id="disease-error"' in response.text and "unknown disease" in response.text
    assert "not-a-disease-xyz" not in response.text
    assert ui.stored_disease(ui.patient) == "LUAD"


def test_disease_edit_needs_the_csrf_token(ui: Browsers) -> None:
    assert ui.set_disease("alice", ui.patient, "LUAD").status_code == 303
    for csrf in ("", "0" * 64, ui.csrf("bob")):  # none, forged, another session's
        response = ui.set_disease("alice", ui.patient, "CRC", csrf=csrf)
        assert response.status_code == 403
    assert ui.stored_disease(ui.patient) == "LUAD"


@pytest.mark.parametrize("user", ["bob", "rita"])
def test_another_site_and_a_researcher_cannot_edit(ui: Browsers, user: str) -> None:
    assert ui.set_disease("alice", ui.patient, "LUAD").status_code == 303
    response = ui.set_disease(user, ui.patient, "CRC")
    assert response.status_code == 404  # the same answer as for no such patient
    assert ui.set_disease(user, "0" * 64, "CRC").status_code == 404
    assert ui.stored_disease(ui.patient) == "LUAD"
    denied = [e for e in ui.audit_events() if e["action"] == "access_denied"][-2:]
    assert {(e["actor"], (e.get("detail") or {}).get("route")) for e in denied} == {
        (user, "/patients/{pid}/disease")
    }
