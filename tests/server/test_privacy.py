"""After a full session on a real server, neither the database nor any log holds the key,
a password, a token or any raw identifier."""

from __future__ import annotations

import base64
import logging
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from server_helpers import EXAMPLES, PASSWORD, TEST_KEY, read_files

from oncoresist.server import ServerSettings, create_app
from oncoresist.server._users import add_user

RAW = ("MRN-778812", "MRN-778812-PLASMA-1", "Jane-Doe-19620401")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live(tmp_path: Path):
    """A uvicorn server in a thread, every log (ours and uvicorn's) going to one file."""
    log_file = tmp_path / "server.log"
    handler = logging.FileHandler(log_file)
    handler.setLevel(logging.DEBUG)
    names = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "oncoresist", "sqlalchemy")
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)  # sqlalchemy at INFO logs every statement and parameter
    client_log = logging.getLogger("httpx")  # the test's own client, not the server
    client_level = client_log.level
    client_log.setLevel(logging.WARNING)
    settings = ServerSettings(db=f"sqlite:///{tmp_path / 'store.sqlite'}", key=TEST_KEY,
                              audit_log=tmp_path / "audit.log")  # fmt: skip
    app = create_app(settings)
    for user, role, site in (("alice", "clinician", "SITEA"), ("rita", "researcher", None)):
        add_user(app.state.oncoresist.store.engine, user, PASSWORD, role=role, site=site)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           access_log=False, lifespan="off"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", tmp_path, log_file
    finally:
        server.should_exit = True
        thread.join(10)
        client_log.setLevel(client_level)
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)
        handler.close()


def _text(name: str) -> bytes:
    text = (EXAMPLES / name).read_text()
    return (
        text.replace("ILLUS-P1-D", "MRN-778812-PLASMA-").replace("ILLUS-P1", "MRN-778812").encode()
    )


def test_no_key_password_token_or_identifier_in_database_or_logs(live):
    base, tmp, log_file = live
    with httpx.Client(base_url=base, timeout=30) as c:
        wrong = {"username": "alice", "password": "wrong " + PASSWORD}
        assert c.post("/api/v1/auth/login", json=wrong).status_code == 401
        login = c.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
        token = login.json()["access_token"]
        h = {"Authorization": f"Bearer {token}"}
        for kind, name in (("serial", "egfr_ctdna_series.csv"),
                           ("therapy", "egfr_ctdna_therapy.csv"),
                           ("events", "egfr_ctdna_events.csv")):  # fmt: skip
            r = c.post(f"/api/v1/uploads/{kind}", headers=h,
                       files={"file": (f"{RAW[0]}.csv", _text(name), "text/csv")})  # fmt: skip
            assert r.status_code == 200, r.text
        pid = r.json()["patients"][0]
        bad = _text("egfr_ctdna_series.csv").replace(b",3258,", b",-1,")
        assert c.post("/api/v1/uploads/serial", headers=h,
                      files={"file": ("x.csv", bad, "text/csv")}).status_code == 422  # fmt: skip
        assert c.post("/api/v1/patients/lookup", headers=h,
                      json={"identifier": RAW[0]}).json()["pseudonym"] == pid  # fmt: skip
        assert c.post("/api/v1/patients/lookup", headers=h,
                      json={"identifier": RAW[2]}).status_code == 404  # fmt: skip
        assert c.patch(f"/api/v1/patients/{pid}", headers=h,
                       json={"disease": "LUAD", "name": RAW[2]}).status_code == 422  # fmt: skip
        c.post(
            f"/api/v1/patients/{pid}/consent",
            headers=h,
            json={"duo_codes": ["DUO:0000042"], "version": "1", "consent_date": "2024-01-01"},
        )
        for path in ("", "/samples", "/alerts", "/interpretation", "/report", "/consent"):
            assert c.get(f"/api/v1/patients/{pid}{path}", headers=h).status_code == 200, path
        rita = c.post("/api/v1/auth/login", json={"username": "rita", "password": PASSWORD})
        researcher = {"Authorization": f"Bearer {rita.json()['access_token']}"}
        cohort = c.get("/api/v1/research/cohort", headers=researcher)
        assert len(cohort.json()["patients"]) == 1
        c.get("/api/v1/kb/search", params={"q": RAW[0]}, headers=h)  # a user's slip
    time.sleep(0.2)
    files = [p for p in tmp.iterdir() if p.is_file()]
    assert {"store.sqlite", "audit.log", "server.log"} <= {p.name for p in files}
    logged = log_file.read_text()
    assert "POST /api/v1/uploads/{kind} 200" in logged  # the access log is there, as templates
    secrets = [TEST_KEY, TEST_KEY.hex().encode(), TEST_KEY.hex().upper().encode(),
               base64.b64encode(TEST_KEY), PASSWORD.encode(), token.encode(),
               token.split(".")[2].encode(), *(r.encode() for r in RAW)]  # fmt: skip
    for path, data in zip(files, read_files(files), strict=True):
        for secret in secrets:
            assert secret not in data, (path.name, secret[:12])
