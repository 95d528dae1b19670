"""Shared helpers of the web-service tests: a service on a fresh SQLite store, four users
(two clinicians of different sites, a researcher, site A's admin) and the illustrative
patient uploaded by site A."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from oncoresist.server import ServerSettings, create_app
from oncoresist.server._users import add_user

TEST_KEY = bytes(range(100, 132))
PASSWORD = "correct horse battery staple"
EXAMPLES = Path(str(resources.files("oncoresist") / "examples"))
RAW_IDS = ("ILLUS-P1", "ILLUS-P1-D0", "ILLUS-P1-D3")


@dataclass
class Service:
    """A running test service: app, client, settings and one token per user."""

    app: object
    client: TestClient
    settings: ServerSettings
    tokens: dict[str, str] = field(default_factory=dict)
    patient: str = ""  # pseudonym of site A's illustrative patient

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def login(self, user: str, password: str = PASSWORD):
        return self.client.post("/api/v1/auth/login",
                                json={"username": user, "password": password})  # fmt: skip

    def upload(self, user: str, kind: str, name: str, data: bytes):
        return self.client.post(f"/api/v1/uploads/{kind}", headers=self.headers(user),
                                files={"file": (name, data, "text/csv")})  # fmt: skip

    def settle(self, timeout: float = 120.0) -> None:
        """Wait until the pages' limits of detection, computed in the background, are in."""
        limits = self.app.state.oncoresist.limits
        assert limits.wait(timeout), "limits of detection still computing"
        assert not limits.failed, "limits of detection failed"


def make_service(tmp_path: Path, **overrides) -> Service:
    settings = ServerSettings(db=f"sqlite:///{tmp_path / 'store.sqlite'}", key=TEST_KEY,
                              audit_log=tmp_path / "audit.log", **overrides)  # fmt: skip
    app = create_app(settings)
    engine = app.state.oncoresist.store.engine
    add_user(engine, "alice", PASSWORD, role="clinician", site="SITEA")
    add_user(engine, "bob", PASSWORD, role="clinician", site="SITEB")
    add_user(engine, "rita", PASSWORD, role="researcher")
    add_user(engine, "root", PASSWORD, role="admin", site="SITEA")
    service = Service(app, TestClient(app), settings)
    for user in ("alice", "bob", "rita", "root"):
        response = service.login(user)
        assert response.status_code == 200, response.text
        service.tokens[user] = response.json()["access_token"]
    return service


def upload_example(service: Service, user: str = "alice") -> str:
    for kind, name in (("serial", "egfr_ctdna_series.csv"), ("therapy", "egfr_ctdna_therapy.csv"),
                       ("events", "egfr_ctdna_events.csv")):  # fmt: skip
        response = service.upload(user, kind, name, (EXAMPLES / name).read_bytes())
        assert response.status_code == 200, response.text
    return response.json()["patients"][0]


@pytest.fixture
def service(tmp_path: Path) -> Service:
    """The service with site A's illustrative patient (disease LUAD) uploaded."""
    return site_service(tmp_path)


def site_service(tmp_path: Path, **overrides) -> Service:
    """:func:`service` with settings overridden."""
    svc = make_service(tmp_path, **overrides)
    svc.patient = upload_example(svc)
    response = svc.client.patch(f"/api/v1/patients/{svc.patient}", headers=svc.headers("alice"),
                                json={"disease": "LUAD"})  # fmt: skip
    assert response.status_code == 200, response.text
    svc.settle()
    return svc


_READ = (
    "import json, sys; from pathlib import Path; "
    "sys.stdout.write(json.dumps([Path(p).read_bytes().hex() for p in sys.argv[1:]]))"
)


def read_files(paths) -> list[bytes]:
    """The bytes of ``paths``, read in another process.

    Opening and closing a SQLite file (database, WAL or shared memory) in this process
    drops every POSIX lock this process holds on it, the service's own connections'
    included; a worker process could then reset the shared-memory index under this
    process's live mapping, which ends the test run with a bus error.
    """
    paths = [str(p) for p in paths]
    done = subprocess.run([sys.executable, "-c", _READ, *paths], capture_output=True,
                          text=True, check=True)  # fmt: skip
    return [bytes.fromhex(h) for h in json.loads(done.stdout)]
