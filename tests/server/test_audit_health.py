"""The audit log under failure, seen through the service: torn tails, truncation, /health."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from server_helpers import PASSWORD, Service, make_service

from oncoresist.server import create_app


def leaks(response, tmp_path: Path) -> bool:
    """Does a response name the audit log (its path, folder or file name)?"""
    text = response.text + " ".join(response.headers.values())
    return str(tmp_path) in text or "audit.log" in text


def events(service: Service) -> list[dict]:
    return [json.loads(x) for x in Path(service.settings.audit_log).read_text().splitlines()]


def test_health_reports_the_audit_log(tmp_path: Path):
    service = make_service(tmp_path)
    response = service.client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["audit"] == "ok"


def test_a_torn_tail_is_recovered_and_logins_still_work(tmp_path: Path):
    service = make_service(tmp_path)
    log = Path(service.settings.audit_log)
    torn = b'{"action":"login","actor":"al'
    with log.open("ab") as handle:  # a crash in the middle of writing an event
        handle.write(torn)
    health = service.client.get("/api/v1/health")
    assert health.status_code == 200 and health.json()["audit"] == "torn-tail"
    login = service.login("alice")
    assert login.status_code == 200, login.text
    assert not leaks(login, tmp_path) and not leaks(health, tmp_path)
    recovered = [e for e in events(service) if e["action"] == "audit_tail_recovered"]
    assert [e["detail"] for e in recovered] == [{"bytes_dropped": len(torn)}]
    assert events(service)[-1]["action"] == "login"
    health = service.client.get("/api/v1/health")
    assert health.status_code == 200 and health.json()["audit"] == "torn-tail-recovered"
    check = service.client.get("/api/v1/admin/audit", headers=service.headers("root"))
    assert check.json()["ok"] is True, check.json()


def test_removing_the_last_events_is_found_by_the_service(tmp_path: Path):
    service = make_service(tmp_path)
    for _ in range(60):
        service.client.get("/api/v1/patients", headers=service.headers("alice"))
    log = Path(service.settings.audit_log)
    log.write_text("\n".join(log.read_text().splitlines()[:-50]) + "\n")
    health = service.client.get("/api/v1/health")
    assert health.status_code == 200 and health.json()["audit"] == "anchor-mismatch"
    check = service.client.get("/api/v1/admin/audit", headers=service.headers("root"))
    assert check.json()["ok"] is False and "truncated" in check.json()["problem"]


def make_unwritable(log: Path, how: str) -> None:
    if how == "directory":
        log.unlink()
        log.mkdir()  # a directory where the file should be
    else:
        log.chmod(0o400)
        log.parent.chmod(0o500)


@pytest.mark.parametrize("how", ["directory", "read-only"])
def test_an_unwritable_log_makes_health_503_and_requests_refused_without_its_path(
    tmp_path: Path, how: str
):
    if how == "read-only" and os.geteuid() == 0:
        pytest.skip("root writes to read-only files")
    service = make_service(tmp_path / "svc")
    log = Path(service.settings.audit_log)
    make_unwritable(log, how)
    try:
        health = service.client.get("/api/v1/health")
        assert health.status_code == 503, health.text
        assert health.json()["audit"] == "unwritable" and health.json()["status"] == "unavailable"
        login = service.login("alice")
        read = service.client.get("/api/v1/patients", headers=service.headers("alice"))
        for response in (login, read):
            assert response.status_code == 503, response.text
            assert not leaks(response, tmp_path)
    finally:
        log.parent.chmod(0o700)
        if log.is_dir():
            shutil.rmtree(log)


def test_a_service_started_on_a_truncated_log_reports_it(tmp_path: Path):
    """A second process (a restarted worker) finds the truncation from the store's anchor."""
    service = make_service(tmp_path)
    log = Path(service.settings.audit_log)
    log.write_text("\n".join(log.read_text().splitlines()[:-2]) + "\n")
    restarted = Service(create_app(service.settings), service.client, service.settings)
    from fastapi.testclient import TestClient

    client = TestClient(restarted.app)
    assert client.get("/api/v1/health").json()["audit"] == "anchor-mismatch"
    login = client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    assert login.status_code == 200
    assert any(e["action"] == "audit_anchor_mismatch" for e in events(service))
