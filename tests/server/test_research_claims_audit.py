"""What a researcher asserts (purpose, disease, ``commercial``, ``irb_approved``) decides what
a research query exports, so every audit event of the query records it (issue 17, finding 6)."""

from __future__ import annotations

import json
from pathlib import Path

from server_helpers import Service

from oncoresist.store import verify_log

GRU, IRB = "DUO:0000042", "DUO:0000021"


def _events(service: Service, action: str) -> list[dict]:
    lines = Path(service.settings.audit_log).read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["action"] == action]


def _cohort(service: Service, **params) -> list[dict]:
    response = service.client.get("/api/v1/research/cohort", params=params,
                                  headers=service.headers("rita"))  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()["patients"]


def test_the_researchers_claims_are_in_every_event_of_the_query(service: Service):
    consent = {"duo_codes": [GRU, IRB], "version": "v2", "consent_date": "2024-02-01"}
    response = service.client.post(f"/api/v1/patients/{service.patient}/consent",
                                   headers=service.headers("alice"), json=consent)  # fmt: skip
    assert response.status_code == 201, response.text

    # without the IRB claim the patient stays out; the query and its claims are recorded
    assert _cohort(service, purpose="general") == []
    assert _events(service, "export_research") == []
    [query] = _events(service, "research_query")
    assert query["actor"] == "rita"
    assert query["detail"] == {"purpose": "general", "disease": None, "commercial": False,
                               "irb_approved": False, "patients": 0}  # fmt: skip

    # the claim lets the patient out: the export event says on what claim
    rows = _cohort(service, purpose="disease", disease="LUAD", irb_approved="true",
                   commercial="true")  # fmt: skip
    assert len(rows) == 1
    [export] = _events(service, "export_research")
    assert export["actor"] == "rita" and export["pseudonym"] == service.patient
    assert export["detail"] == {"purpose": "disease", "disease": "LUAD", "commercial": True,
                                "irb_approved": True}  # fmt: skip
    assert _events(service, "research_query")[-1]["detail"] == {
        "purpose": "disease", "disease": "LUAD", "commercial": True, "irb_approved": True,
        "patients": 1}  # fmt: skip
    # the claims are under the chain's HMAC like the rest of the event
    report = verify_log(service.settings.audit_log, key=service.app.state.oncoresist.key)
    assert report.ok, report.problem
