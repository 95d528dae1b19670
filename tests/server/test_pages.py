"""Stored patient pages: built by uploads in their transaction, rebuilt after other changes,
never missing rows of concurrent uploads; upload workers wait for a slot and run nicer."""

from __future__ import annotations

import functools
import json
import os
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient
from server_helpers import TEST_KEY, Service, make_service, upload_example

from oncoresist.kb import load_kb
from oncoresist.monitor import read_serial
from oncoresist.server import _pages as pages
from oncoresist.server._uploads import parse_upload
from oncoresist.server._views import MonitorConfig, site_scoped, version_of
from oncoresist.store import _schema as s
from oncoresist.store import open_store
from oncoresist.store import pseudonym as make_pseudonym

GRU = "DUO:0000042"  # general research use
HEADER = "patient_id,sample_id,collection_date,gene,alteration,alt_reads,depth,cfdna_ng\n"


def _stored(service: Service, pid: str) -> tuple[pages.StoredPage, tuple]:
    state = service.app.state.oncoresist
    with state.store.engine.connect() as connection:
        return (pages.stored_page(connection, pid, state.monitor_config.fingerprint),
                version_of(connection, pid))  # fmt: skip


def _draw(patient: str, sample: str, date: str, reads: int = 3) -> str:
    return (f"{patient},{sample},{date},EGFR,L858R,{reads},2000,20\n"
            f"{patient},{sample},{date},EGFR,T790M,{reads // 3},2000,20\n")  # fmt: skip


def test_an_upload_leaves_its_patients_page_built_and_current(service: Service) -> None:
    found, _ = _stored(service, service.patient)
    assert found is not None and found.site == "SITEA"
    assert found.current  # the disease was set last, and its answer (a list row) built it
    assert found.complete  # and its limits of detection followed (the fixture waited)
    response = service.client.get(f"/api/v1/patients/{service.patient}",
                                  headers=service.headers("alice"))  # fmt: skip
    assert response.status_code == 200
    found, _ = _stored(service, service.patient)
    assert found.current and json.loads(found.body) == response.json()
    assert response.json()["disease"] == "LUAD"
    state = service.app.state.oncoresist
    with state.store.engine.connect() as connection:  # the list's query
        alerts = pages.stored_alerts(connection, [service.patient, "0" * 64],
                                     state.monitor_config.fingerprint)  # fmt: skip
    resistance = [a for a in response.json()["alerts"] if a["category"] == "emerging_resistance"]
    assert alerts == {service.patient: len(resistance)} and alerts[service.patient]

    samples = len(response.json()["samples"])
    data = (HEADER + _draw("ILLUS-P1", "ILLUS-P1-EXTRA", "2025-06-30")).encode()
    assert service.upload("alice", "serial", "more.csv", data).status_code == 200
    found, _ = _stored(service, service.patient)  # no read in between
    assert found.current
    assert len(json.loads(found.body)["samples"]) == samples + 1
    service.settle()  # the limits of detection follow in the background
    found, _ = _stored(service, service.patient)
    assert found.complete and json.loads(found.body)["series_limits"] is not None
    again = service.client.get(f"/api/v1/patients/{service.patient}",
                               headers=service.headers("alice"))  # fmt: skip
    assert again.json() == json.loads(found.body)


def test_a_consent_change_is_shown_at_the_next_read(service: Service) -> None:
    url = f"/api/v1/patients/{service.patient}"
    service.client.get(url, headers=service.headers("alice"))
    service.settle()
    body = {"duo_codes": [GRU], "version": "v2", "consent_date": "2025-01-02"}
    assert service.client.post(url + "/consent", headers=service.headers("alice"),
                               json=body).status_code == 201  # fmt: skip
    found, _ = _stored(service, service.patient)
    assert not found.current
    page = service.client.get(url, headers=service.headers("alice")).json()
    assert page["consent"]["duo_codes"] == [GRU] and page["consent"]["version"] == "v2"
    found, _ = _stored(service, service.patient)
    assert found.current and json.loads(found.body) == page
    service.settle()
    found, _ = _stored(service, service.patient)
    assert found.complete and json.loads(found.body)["consent"] == page["consent"]


def test_the_data_version_moves_with_a_new_variant_of_a_stored_draw(tmp_path: Path) -> None:
    first = tmp_path / "a.csv"
    first.write_text(HEADER + "P1,D1,2025-01-06,EGFR,L858R,3,2000,20\n")
    second = tmp_path / "b.csv"
    second.write_text(HEADER + "P1,D1,2025-01-06,EGFR,T790M,1,2000,20\n")
    with open_store(f"sqlite:///{tmp_path / 'store.sqlite'}", key=TEST_KEY) as store:
        store.ingest_serial(first)
        pid = store.pseudonym("P1")
        with store.engine.connect() as connection:
            before = version_of(connection, pid)
        store.ingest_serial(second)  # no new sample row: only an observation
        with store.engine.connect() as connection:
            after = version_of(connection, pid)
    assert before != after


def test_concurrent_uploads_of_one_patient_leave_a_page_with_every_draw(store_url: str) -> None:
    """Two uploads of new draws of one patient at once, five times: each page is complete.

    Without the row lock, PostgreSQL lets each transaction build its page without the
    other's draw, and the later commit stores a page that misses one.
    """
    kb = load_kb()
    with open_store(store_url, key=TEST_KEY) as store:

        def frame(name: str, date: str):
            return _read_serial_text(HEADER + _draw("P9", name, date), kb=kb)

        config = MonitorConfig()
        upload = functools.partial(pages.store_upload, kind="serial", url=store.engine.url,
                                   key=TEST_KEY, site="SITEA", kb=kb, config=config)  # fmt: skip
        upload(frame("D0", "2025-01-06"), sha256="0" * 64)
        pid = make_pseudonym(TEST_KEY, "patient", site_scoped("SITEA", "P9"))
        errors: list[BaseException] = []
        for round_ in range(5):
            frames = [frame(f"D{round_}{i}", f"2025-0{2 + round_}-1{i}") for i in (1, 2)]

            def run(f, digest: str) -> None:
                try:
                    upload(f, sha256=digest)
                except BaseException as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=run, args=(f, f"{round_}{i}".ljust(64, "a")))
                       for i, f in enumerate(frames)]  # fmt: skip
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not errors
            with store.engine.connect() as connection:
                found = pages.stored_page(connection, pid, config.fingerprint)
                draws = connection.execute(
                    sa.select(sa.func.count()).select_from(s.samples)
                    .where(s.samples.c.patient == pid)
                ).scalar()  # fmt: skip
            assert found.current
            assert len(json.loads(found.body)["samples"]) == draws == 3 + 2 * round_


def _read_serial_text(text: str, *, kb):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "draw.csv"
        path.write_text(text)
        return read_serial(path, kb=kb)


def niceness(parsed, *, kb) -> int:
    """Run in the upload worker: its niceness."""
    return os.nice(0)


def test_upload_workers_run_nicer(tmp_path: Path) -> None:
    path = tmp_path / "draw.csv"
    path.write_text(HEADER + _draw("P1", "D1", "2025-01-06"))
    niceness_here = os.nice(0)
    assert parse_upload("serial", path, display_name="draw.csv", timeout=60, then=niceness,
                        nice=5) == niceness_here + 5  # fmt: skip


def test_queued_uploads_hold_up_no_read(tmp_path: Path) -> None:
    """45 uploads wait for the one upload worker (more than the 40 threads that serve sync
    routes); a page read is answered meanwhile, and then every upload is stored."""
    service = make_service(tmp_path, upload_workers=1)
    service.patient = upload_example(service)
    state = service.app.state.oncoresist
    gate = threading.Event()
    state.uploads.submit(gate.wait, 120)  # the upload worker is busy until the gate opens
    answers: list[int] = []
    with TestClient(service.app) as client:  # one event loop and thread pool for all

        def upload(i: int) -> None:
            data = (HEADER + _draw("P-LOAD", f"Q{i}", f"2025-03-{1 + i % 28:02d}")).encode()
            response = client.post("/api/v1/uploads/serial", headers=service.headers("alice"),
                                   files={"file": (f"q{i}.csv", data, "text/csv")})  # fmt: skip
            answers.append(response.status_code)

        uploads = [threading.Thread(target=upload, args=(i,)) for i in range(45)]
        for thread in uploads:
            thread.start()
        time.sleep(1.0)
        read: list[int] = []
        page = f"/api/v1/patients/{service.patient}"
        reader = threading.Thread(target=lambda: read.append(
            client.get(page, headers=service.headers("alice")).status_code))  # fmt: skip
        reader.start()
        reader.join(20)
        assert read == [200] and not answers  # answered while every upload still waits
        gate.set()
        for thread in uploads:
            thread.join(120)
    assert answers == [200] * 45
    pid = make_pseudonym(TEST_KEY, "patient", site_scoped("SITEA", "P-LOAD"))
    found, _ = _stored(service, pid)
    assert found.current and len(json.loads(found.body)["samples"]) == 45


def test_a_conflicting_upload_is_refused_and_changes_nothing(service: Service) -> None:
    first = (HEADER + _draw("ILLUS-P9", "ILLUS-P9-D1", "2025-02-03", reads=6)).encode()
    assert service.upload("alice", "serial", "a.csv", first).status_code == 200
    pid = make_pseudonym(TEST_KEY, "patient", site_scoped("SITEA", "ILLUS-P9"))
    before, _ = _stored(service, pid)
    other = (HEADER + _draw("ILLUS-P9", "ILLUS-P9-D1", "2025-02-03", reads=9)).encode()
    response = service.upload("alice", "serial", "b.csv", other)
    assert response.status_code == 409
    assert "ILLUS-P9" not in response.text
    after, _ = _stored(service, pid)
    assert after == before and after.current


def test_versions_read_for_many_patients_at_once_are_each_patients_own(service: Service) -> None:
    """The list's one-query versions (correlated subqueries) match each patient's own.

    A subquery nested in a version part, or one on ``patients`` itself, would read every
    patient's rows: pages would never be current and every read would rebuild them.
    """
    for i, patient in enumerate(("ILLUS-P5", "ILLUS-P6")):
        data = (HEADER + _draw(patient, f"{patient}-D1", f"2025-02-0{3 + i}")).encode()
        assert service.upload("alice", "serial", f"{patient}.csv", data).status_code == 200
    state = service.app.state.oncoresist
    pids = [service.patient] + [make_pseudonym(TEST_KEY, "patient", site_scoped("SITEA", p))
                                for p in ("ILLUS-P5", "ILLUS-P6")]  # fmt: skip
    with state.store.engine.connect() as connection:
        together = pages._patients(connection, pids)
        alone = {pid: version_of(connection, pid) for pid in pids}
        alerts = pages.stored_alerts(connection, pids, state.monitor_config.fingerprint)
    assert {pid: x.parts for pid, x in together.items()} == alone
    assert len({x[0] for x in alone.values()}) == 3  # three ingests: the test can tell
    assert set(alerts) == set(pids)  # every stored page is current
    assert all(_stored(service, pid)[0].current for pid in pids)
