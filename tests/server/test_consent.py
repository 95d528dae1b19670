"""Consent as DUO codes: what research may see, while the treating site sees everything."""

from __future__ import annotations

from pathlib import Path

import pytest
from server_helpers import EXAMPLES, Service

from oncoresist.errors import InputError
from oncoresist.server._consent import Consent, ResearchPurpose, check_codes, permits

GRU, HMB, DS, CC, NCU, IRB = ("DUO:0000042", "DUO:0000006", "DUO:0000007", "DUO:0000043",
                              "DUO:0000046", "DUO:0000021")  # fmt: skip


def _consent(codes, disease=None, scope="research"):
    import datetime as dt

    return Consent(scope, tuple(codes), disease, "1", dt.date(2024, 1, 1),
                   dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "x")  # fmt: skip


@pytest.mark.parametrize(
    ("codes", "disease", "purpose", "expected"),
    [
        ((GRU,), None, ResearchPurpose("general"), True),
        ((GRU,), None, ResearchPurpose("disease", "LUAD"), True),
        ((HMB,), None, ResearchPurpose("general"), False),
        ((HMB,), None, ResearchPurpose("health"), True),
        ((DS,), "LUAD", ResearchPurpose("disease", "LUAD"), True),
        ((DS,), "LUAD", ResearchPurpose("disease", "CRC"), False),
        ((DS,), "LUAD", ResearchPurpose("health"), False),
        ((GRU, NCU), None, ResearchPurpose("general", commercial=True), False),
        ((GRU, NCU), None, ResearchPurpose("general"), True),
        ((GRU, IRB), None, ResearchPurpose("general"), False),
        ((GRU, IRB), None, ResearchPurpose("general", irb_approved=True), True),
        (("DUO:0000004",), None, ResearchPurpose("ancestry", commercial=True), True),
    ],
)
def test_duo_matching(codes, disease, purpose, expected):
    assert permits(_consent(codes, disease), purpose) is expected


def test_no_consent_clinical_care_only_and_withdrawn_permit_no_research():
    assert not permits(None, ResearchPurpose())
    assert not permits(_consent((CC,), scope="clinical_care"), ResearchPurpose())
    assert not permits(_consent((), scope="withdrawn"), ResearchPurpose())


def test_codes_are_checked():
    with pytest.raises(InputError, match="unknown DUO"):
        check_codes(["DUO:9999999"], None, False)
    with pytest.raises(InputError, match="permission"):
        check_codes([NCU], None, False)
    with pytest.raises(InputError, match="names its disease"):
        check_codes([DS], None, False)
    assert check_codes([NCU, GRU, GRU], None, False) == (GRU, NCU)
    assert check_codes([GRU], None, True) == ()


def _patient(service: Service, name: str) -> str:
    text = (EXAMPLES / "egfr_ctdna_series.csv").read_text().replace("ILLUS-P1", name)
    response = service.upload("alice", "serial", f"{name}.csv", text.encode())
    assert response.status_code == 200, response.text
    return response.json()["patients"][0]


def _consent_post(service: Service, pid: str, **body):
    body = {"version": "v3", "consent_date": "2024-02-01"} | body
    return service.client.post(f"/api/v1/patients/{pid}/consent",
                               headers=service.headers("alice"), json=body)  # fmt: skip


def test_research_sees_only_matching_consent_and_the_site_sees_all(service: Service):
    general = _patient(service, "GEN1")
    clinical = _patient(service, "CLIN1")
    withdrawn = _patient(service, "WD1")
    noncommercial = _patient(service, "NCU1")
    assert _consent_post(service, general, duo_codes=[GRU]).status_code == 201
    assert _consent_post(service, clinical, duo_codes=[CC]).json()["scope"] == "clinical_care"
    assert _consent_post(service, withdrawn, duo_codes=[GRU]).status_code == 201
    gone = _consent_post(service, withdrawn, withdrawn=True, duo_codes=[])
    assert gone.status_code == 201 and gone.json()["scope"] == "withdrawn"
    assert _consent_post(service, noncommercial, duo_codes=[GRU, NCU]).status_code == 201
    assert _consent_post(service, general, duo_codes=["DUO:1"]).status_code == 422

    def cohort(**params):
        response = service.client.get("/api/v1/research/cohort", params=params,
                                      headers=service.headers("rita"))  # fmt: skip
        assert response.status_code == 200, response.text
        return response.json()["patients"]

    rows = cohort(purpose="general")
    assert len(rows) == 2  # general and non-commercial; not the fixture's (no consent)
    research_ids = {r["research_id"] for r in rows}
    assert not research_ids & {general, noncommercial, clinical, withdrawn, service.patient}
    assert all(r["observations"] and "collection_date" not in r["observations"][0] for r in rows)
    assert sorted(tuple(r["conditions"]) for r in rows) == [(), ("NCU",)]
    assert len(cohort(purpose="general", commercial=True)) == 1
    # the treating site still sees every one of its patients, withdrawn included
    listed = service.client.get("/api/v1/patients", headers=service.headers("alice")).json()
    scopes = {p["pseudonym"]: p["consent"] for p in listed["patients"]}
    assert scopes[withdrawn] == "withdrawn" and scopes[service.patient] is None
    assert service.client.get(f"/api/v1/patients/{withdrawn}",
                              headers=service.headers("alice")).status_code == 200  # fmt: skip
    history = service.client.get(f"/api/v1/patients/{withdrawn}/consent",
                                 headers=service.headers("alice")).json()  # fmt: skip
    assert [h["scope"] for h in history] == ["research", "withdrawn"]


def test_consent_route_rejects_unknown_fields_and_other_sites(service: Service):
    assert _consent_post(service, service.patient, duo_codes=[GRU], name="x").status_code == 422
    response = service.client.post(f"/api/v1/patients/{service.patient}/consent",
                                   headers=service.headers("bob"),
                                   json={"duo_codes": [GRU], "version": "1",
                                         "consent_date": "2024-01-01"})  # fmt: skip
    assert response.status_code == 404
    assert Path(service.settings.audit_log).read_text().count('"consent_change"') == 0


def test_a_consent_dated_in_the_future_is_refused(service: Service):
    """Issue 17 finding 6: a consent dated 2099 was accepted as in force. A date after
    today (UTC, one day of grace for time zones) is refused with the field named, and
    nothing is recorded."""
    response = _consent_post(service, service.patient, duo_codes=[GRU], consent_date="2099-01-01")
    assert response.status_code == 422
    assert "consent_date" in response.text and "future" in response.text
    assert Path(service.settings.audit_log).read_text().count('"consent_change"') == 0
    assert _consent_post(service, service.patient, duo_codes=[GRU]).status_code in (200, 201)
