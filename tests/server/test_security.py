"""Attacks on the service: tokens, login floods, big bodies, extra fields, leaks, tampering."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from server_helpers import PASSWORD, TEST_KEY, Service, make_service

from oncoresist.server import issue_token
from oncoresist.store import verify_log


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _get(service: Service, token: str):
    return service.client.get("/api/v1/patients", headers={"Authorization": f"Bearer {token}"})


def test_expired_wrongly_signed_and_alg_none_tokens_are_rejected(service: Service):
    SECRET = service.app.state.oncoresist.token_secret  # its own key, not the pseudonym key
    good = issue_token("alice", site="SITEA", role="clinician", secret=SECRET)
    assert _get(service, good).status_code == 200
    expired = issue_token("alice", site="SITEA", role="clinician", secret=SECRET,
                          now=time.time() - 3600)  # fmt: skip
    forged = issue_token("alice", site="SITEA", role="clinician", secret=b"x" * 32)
    now = int(time.time())
    claims = {"sub": "alice", "site": "SITEA", "role": "clinician", "iat": now, "nbf": now,
              "exp": now + 600, "jti": "0" * 32}  # fmt: skip
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    other_site = issue_token("alice", site="SITEB", role="clinician", secret=SECRET)
    promoted = issue_token("alice", site="SITEA", role="admin", secret=SECRET)
    header, _, signature = good.split(".")
    tampered = f"{header}.{_b64(claims | {'site': 'SITEB'})}.{signature}"
    for token in (expired, forged, unsigned, other_site, promoted, tampered, "", "a.b.c"):
        response = _get(service, token)
        assert response.status_code == 401, token
        assert token == "" or token not in response.text


def test_the_eleventh_failed_login_in_a_minute_gets_429(service: Service):
    for _ in range(10):
        assert service.login("alice", "wrong password!").status_code == 401
    response = service.login("alice", "wrong password!")
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    # throttled means throttled: the right password does not get in either
    assert service.login("alice", PASSWORD).status_code == 429
    # and a failed login says nothing about whether the account exists
    assert service.login("nobody", "wrong").json() == service.login("bob", "wrong").json()


def test_oversized_uploads_and_bodies_get_413(tmp_path: Path):
    service = make_service(tmp_path, max_upload_bytes=50_000, max_body_bytes=2_000)
    big = b"patient_id,sample_id\n" + b"P1,S1\n" * 20_000
    assert service.upload("alice", "serial", "big.csv", big).status_code == 413

    def chunks():  # no Content-Length: streamed with chunked encoding
        for _ in range(100):
            yield b"x" * 1000

    response = service.client.post("/api/v1/uploads/serial", headers=service.headers("alice")
                                   | {"content-type": "multipart/form-data; boundary=b"},
                                   content=chunks())  # fmt: skip
    assert response.status_code == 413
    response = service.client.post("/api/v1/patients/lookup", headers=service.headers("alice"),
                                   json={"identifier": "x" * 5_000})  # fmt: skip
    assert response.status_code == 413
    assert service.client.get("/api/v1/health").status_code == 200  # still serving


def test_a_parse_that_takes_too_long_is_stopped(tmp_path: Path):
    service = make_service(tmp_path, parse_timeout=0.001)
    response = service.upload("alice", "serial", "s.csv", b"patient_id,sample_id\nP1,S1\n")
    assert response.status_code == 422
    assert "too long" in response.json()["detail"]
    assert service.app.state.oncoresist.store.ingests().empty


def _walk_schema(schema: dict, spec: dict, value, where: str) -> None:
    """Assert that every object in ``value`` has only the properties its schema declares."""
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema:
        errors = []
        for option in schema["anyOf"]:
            try:
                _walk_schema(option, spec, value, where)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{where}: matches no alternative: {errors}")
    if isinstance(value, dict):
        if "properties" in schema:
            extra = set(value) - set(schema["properties"])
            assert not extra, f"{where}: fields outside the schema {extra}"
            for key, item in value.items():
                _walk_schema(schema["properties"][key], spec, item, f"{where}.{key}")
        elif "additionalProperties" in schema and isinstance(schema["additionalProperties"], dict):
            for key, item in value.items():
                _walk_schema(schema["additionalProperties"], spec, item, f"{where}.{key}")
        else:
            assert schema.get("type") == "object", f"{where}: an object where {schema} is"
    elif isinstance(value, list):
        assert schema.get("type") == "array", f"{where}: a list where {schema} is"
        for i, item in enumerate(value):
            _walk_schema(schema.get("items", {}), spec, item, f"{where}[{i}]")


FORBIDDEN_FIELDS = ("mrn", "name", "dob", "patient_id", "sample_id", "key", "ssn", "token")
identifiers = st.from_regex(r"\A(MRN|PAT|Doe)[0-9]{4,8}\Z")


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(patient_id=identifiers, extra=st.sampled_from(FORBIDDEN_FIELDS), value=identifiers)
def test_no_response_carries_a_field_outside_its_schema(service: Service, patient_id: str,
                                                        extra: str, value: str):  # fmt: skip
    """Upload a patient under an identifying ID, then read every route back.

    Every JSON response must match its schema's fields exactly, and neither the raw
    identifiers nor the key may appear in any response; a request that tries to set an
    undeclared field (mass assignment) is refused without echoing its value.
    """
    c, h = service.client, service.headers("alice")
    lines = (Path(__file__).parents[2] / "src/oncoresist/examples/egfr_ctdna_series.csv"
             ).read_text().replace("ILLUS-P1", patient_id)  # fmt: skip
    up = service.upload("alice", "serial", "series.csv", lines.encode())
    assert up.status_code == 200, up.text
    pid = up.json()["patients"][0]
    spec = service.app.openapi()
    sample = c.get(f"/api/v1/patients/{pid}/samples", headers=h).json()[0]["sample"]
    paths = {
        "/api/v1/patients": "/api/v1/patients",
        f"/api/v1/patients/{pid}": "/api/v1/patients/{pid}",
        f"/api/v1/patients/{pid}/samples": "/api/v1/patients/{pid}/samples",
        f"/api/v1/patients/{pid}/samples/{sample}": "/api/v1/patients/{pid}/samples/{sid}",
        f"/api/v1/patients/{pid}/therapy": "/api/v1/patients/{pid}/therapy",
        f"/api/v1/patients/{pid}/alerts": "/api/v1/patients/{pid}/alerts",
        f"/api/v1/patients/{pid}/interpretation": "/api/v1/patients/{pid}/interpretation",
        f"/api/v1/patients/{pid}/consent": "/api/v1/patients/{pid}/consent",
        "/api/v1/alerts": "/api/v1/alerts",
        "/api/v1/me": "/api/v1/me",
    }
    texts = []
    for path, template in paths.items():
        response = c.get(path, headers=h)
        assert response.status_code == 200, (path, response.text)
        schema = spec["paths"][template]["get"]["responses"]["200"]["content"][
            "application/json"]["schema"]  # fmt: skip
        _walk_schema(schema, spec, response.json(), template)
        texts.append(response.text)
    texts.append(c.get(f"/api/v1/patients/{pid}/report", headers=h).text)
    # mass assignment: undeclared fields are refused, and their values not echoed
    for method, path, body in (
        ("PATCH", f"/api/v1/patients/{pid}", {"disease": "LUAD", extra: value}),
        ("POST", f"/api/v1/patients/{pid}/consent", {"duo_codes": ["DUO:0000042"], "version": "1",
                                                     "consent_date": "2024-01-01", extra: value}),
        ("POST", "/api/v1/patients/lookup", {"identifier": patient_id, extra: value}),
        ("POST", "/api/v1/auth/login", {"username": "alice", "password": PASSWORD, extra: value}),
    ):  # fmt: skip
        response = c.request(method, path, headers=h, json=body)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["field"] == extra
        texts.append(response.text)
    # an unknown identifier is a 404 that does not repeat it
    texts.append(c.post("/api/v1/patients/lookup", headers=h, json={"identifier": value}).text)
    everything = "\n".join(texts)
    for secret in (patient_id, f"{patient_id}-D0", value, TEST_KEY.hex(),
                   base64.b64encode(TEST_KEY).decode(), PASSWORD):  # fmt: skip
        assert secret not in everything


def test_upload_errors_name_line_and_field_but_no_identifier(service: Service):
    text = (Path(__file__).parents[2] / "src/oncoresist/examples/egfr_ctdna_series.csv"
            ).read_text().replace("ILLUS-P1", "MRN0042")  # fmt: skip
    lines = text.splitlines()
    fields = lines[3].split(",")
    fields[5] = "99999"  # more alt reads than depth on line 4
    bad = "\n".join([*lines[:3], ",".join(fields), *lines[4:]]) + "\n"
    response = service.upload("alice", "serial", "series.csv", bad.encode())
    assert response.status_code == 422
    body = response.json()
    assert (body["file"], body["line"], body["field"]) == ("series.csv", 4, "alt_reads")
    # a sample listed twice with different dates: the message names no identifier
    twice = lines[1].split(",")
    twice[2] = "2024-03-01"
    response = service.upload("alice", "serial", "twice.csv",
                              ("\n".join([*lines, ",".join(twice)]) + "\n").encode())  # fmt: skip
    assert response.status_code == 422
    assert response.json()["line"] is not None
    assert "MRN0042" not in response.text
    store = service.app.state.oncoresist.store
    assert len(store.ingests()) == 3  # only the fixture's three files: nothing half-stored


def test_the_same_file_twice_is_stored_once(service: Service):
    data = (Path(__file__).parents[2] / "src/oncoresist/examples/egfr_ctdna_series.csv"
            ).read_bytes()  # fmt: skip
    again = service.upload("alice", "serial", "again.csv", data)
    assert again.status_code == 200 and again.json()["already_ingested"] is True
    # the same bytes from another site are that site's own patient
    other = service.upload("bob", "serial", "series.csv", data).json()
    assert other["already_ingested"] is False and other["patients"] != [service.patient]


def test_audit_log_records_reads_logins_refusals_and_consent(service: Service):
    c, pid = service.client, service.patient
    c.get(f"/api/v1/patients/{pid}", headers=service.headers("alice"))
    c.get(f"/api/v1/patients/{pid}", headers=service.headers("bob"))
    c.get(f"/api/v1/patients/{pid}/report", headers=service.headers("alice"))
    c.post(
        f"/api/v1/patients/{pid}/consent",
        headers=service.headers("alice"),
        json={"duo_codes": ["DUO:0000042"], "version": "2", "consent_date": "2024-05-01"},
    )
    service.login("alice", "wrong password!")
    c.get("/api/v1/patients", headers={"Authorization": "Bearer forged"})
    events = [json.loads(x) for x in Path(service.settings.audit_log).read_text().splitlines()]
    seen = {(e["actor"], e["action"], e["pseudonym"]) for e in events}
    assert ("alice", "read_patient", pid) in seen
    assert ("bob", "access_denied", pid) in seen
    assert ("alice", "export_report", pid) in seen
    assert ("alice", "consent_change", pid) in seen
    assert ("alice", "login", None) in seen and ("alice", "login_failed", None) in seen
    assert ("anonymous", "auth_failed", None) in seen
    assert all({"actor", "action", "pseudonym", "time"} <= set(e) for e in events)
    report = verify_log(service.settings.audit_log, key=TEST_KEY)
    assert report.ok and report.events == len(events)


def test_tampering_with_one_audit_event_is_detected(service: Service, tmp_path: Path):
    from typer.testing import CliRunner

    from oncoresist.cli import app

    service.client.get(f"/api/v1/patients/{service.patient}", headers=service.headers("alice"))
    log = Path(service.settings.audit_log)
    lines = log.read_text().splitlines()
    target = next(i for i, x in enumerate(lines) if '"read_patient"' in x)
    event = json.loads(lines[target])
    event["actor"] = "bob"
    lines[target] = json.dumps(event, sort_keys=True, separators=(",", ":"))
    log.write_text("\n".join(lines) + "\n")
    report = verify_log(log, key=TEST_KEY)
    assert not report.ok and report.line == target + 1
    result = CliRunner().invoke(app, ["audit", "verify", str(log), "--keyed"],
                                env={"ONCORESIST_KEY": TEST_KEY.hex()})  # fmt: skip
    assert result.exit_code == 1 and f"line {target + 1}" in result.output
    response = service.client.get("/api/v1/admin/audit", headers=service.headers("root"))
    assert response.json()["ok"] is False


@pytest.mark.parametrize("bad", [{"username": "alice"}, {"username": "a" * 65, "password": "x"}])
def test_login_body_is_validated(service: Service, bad: dict):
    response = service.client.post("/api/v1/auth/login", json=bad)
    assert response.status_code == 422


def test_variant_files_are_interpreted_and_bad_ones_named_by_line(service: Service):
    from server_helpers import EXAMPLES

    vcf = (EXAMPLES / "egfr_nsclc_osimertinib_progression.vcf").read_bytes()
    h = service.headers("alice")
    response = service.client.post("/api/v1/interpret", headers=h,
                                   files={"file": ("case.vcf", vcf, "text/plain")},
                                   data={"disease": "NSCLC", "drugs": "osimertinib"})  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert [v["drug"] for v in body["verdicts"]] == ["osimertinib"]
    assert body["verdicts"][0]["verdict"] == "resistant"
    lines = vcf.decode().splitlines()
    first = next(i for i, x in enumerate(lines) if not x.startswith("#"))
    fields = lines[first].split("\t")
    fields[1] = "not-a-position"
    lines[first] = "\t".join(fields)
    bad = ("\n".join(lines) + "\n").encode()
    response = service.client.post("/api/v1/interpret", headers=h,
                                   files={"file": ("case.vcf", bad, "text/plain")})  # fmt: skip
    assert response.status_code == 422
    assert response.json()["file"] == "case.vcf"
    assert response.json()["line"] == first + 1
