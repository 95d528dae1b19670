"""The audit log's anchor in the store: truncation, re-chaining, torn tails, concurrency."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oncoresist.cli import app
from oncoresist.store import AuditLog, open_store, verify_log
from oncoresist.store._audit import AuditAnchor

KEY = bytes(range(32))


@pytest.fixture
def store(tmp_path: Path):
    with open_store(f"sqlite:///{tmp_path / 'store.sqlite'}", key=KEY) as opened:
        yield opened


def fill(log: AuditLog, n: int) -> None:
    for i in range(n):
        log.append(actor=f"user{i % 3}", action="read_patient", pseudonym=f"p{i:04d}")


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def cli(path: Path, store, *args: str, key: bytes | None = KEY):
    env = {"ONCORESIST_KEY": key.hex()} if key is not None else {}
    env["ONCORESIST_KEY_FILE"] = ""
    return CliRunner().invoke(app, ["audit", *args, str(path), "--db", store.engine.url.database],
                              env=env)  # fmt: skip


def test_removing_the_last_50_events_is_reported_as_truncated(tmp_path: Path, store):
    path = tmp_path / "audit.log"
    fill(AuditLog(path, key=KEY, engine=store.engine), 120)
    anchor = AuditAnchor(store.engine, key=KEY, log=path)
    report = verify_log(path, key=KEY, anchor=anchor)
    assert report.ok and report.anchored and report.events == 120
    assert cli(path, store, "verify").exit_code == 0
    path.write_text("\n".join(lines(path)[:70]) + "\n")
    # the shorter chain is intact, and without the anchor nothing could tell
    assert verify_log(path, key=KEY).ok
    report = verify_log(path, key=KEY, anchor=anchor)
    assert not report.ok and "truncated" in report.problem and "50 events missing" in report.problem
    result = cli(path, store, "verify")
    assert result.exit_code == 1 and "truncated" in result.output


def test_a_truncated_log_stays_reported_after_more_appends(tmp_path: Path, store):
    """The next append freezes the anchor and records the mismatch: appending past the old
    head does not hide the truncation; a person clears it with ``audit reanchor``."""
    path = tmp_path / "audit.log"
    log = AuditLog(path, key=KEY, engine=store.engine)
    fill(log, 60)
    path.write_text("\n".join(lines(path)[:10]) + "\n")
    assert log.health() == "anchor-mismatch"
    fill(AuditLog(path, key=KEY, engine=store.engine), 80)  # another worker goes on
    events = [json.loads(x) for x in lines(path)]
    mismatch = [e for e in events if e["action"] == "audit_anchor_mismatch"]
    assert [e["detail"] for e in mismatch] == [{"anchor_seq": 60, "log_seq": 10}]
    anchor = AuditAnchor(store.engine, key=KEY, log=path)
    report = verify_log(path, key=KEY, anchor=anchor)
    assert verify_log(path, key=KEY).ok and not report.ok and "truncated" in report.problem
    assert log.health() == "anchor-mismatch"
    result = cli(path, store, "reanchor")
    assert result.exit_code == 0 and "was: event 60" in result.output, result.output
    assert verify_log(path, key=KEY, anchor=anchor).ok and log.health() == "ok"


def test_a_deleted_or_replaced_log_does_not_match_its_anchor(tmp_path: Path, store):
    path = tmp_path / "audit.log"
    fill(AuditLog(path, key=KEY, engine=store.engine), 5)
    anchor = AuditAnchor(store.engine, key=KEY, log=path)
    original = path.read_bytes()
    path.unlink()
    fill(AuditLog(path, key=KEY, engine=store.engine), 8)  # a new chain from the start
    report = verify_log(path, key=KEY, anchor=anchor)
    assert verify_log(path, key=KEY).ok and not report.ok
    # truncating, then moving the anchor row back to match (without the key), is found too
    path.write_bytes(b"".join(original.splitlines(keepends=True)[:3]))
    head = json.loads(lines(path)[-1])["hash"]
    with store.engine.begin() as connection:
        connection.exec_driver_sql(f"UPDATE audit_anchor SET mismatch = NULL, seq = 3, "
                                   f"hash = '{head}'")  # fmt: skip
    report = verify_log(path, key=KEY, anchor=anchor)
    assert not report.ok and "not signed" in report.problem


def rechain_without_key(path: Path) -> None:
    """What a forger without the key can do: edit an event, rebuild every hash (SHA-256)."""
    prev, out = "0" * 64, []
    for number, raw in enumerate(lines(path), start=1):
        event = json.loads(raw)
        if number == 3:
            event["actor"] = "nobody"
        body = {k: v for k, v in event.items() if k != "hash"} | {"prev": prev}
        text = prev + json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        event = body | {"hash": hashlib.sha256(text.encode()).hexdigest()}
        prev = event["hash"]
        out.append(json.dumps(event, sort_keys=True, separators=(",", ":")))
    path.write_text("\n".join(out) + "\n")


def test_a_log_rechained_without_the_key_is_rejected(tmp_path: Path, store):
    path = tmp_path / "audit.log"
    fill(AuditLog(path, key=KEY, engine=store.engine), 6)
    rechain_without_key(path)
    report = verify_log(path, key=KEY)
    assert not report.ok and report.line == 1
    assert not verify_log(path).ok and not verify_log(path).verifiable
    keyed = cli(path, store, "verify")
    assert keyed.exit_code == 1 and "line 1" in keyed.output
    # without the key, or with --unkeyed, nothing is certified: exit 2, "not verifiable"
    for result in (cli(path, store, "verify", key=None),
                   cli(path, store, "verify", "--unkeyed")):  # fmt: skip
        assert result.exit_code == 2 and "not verifiable" in result.output
        assert "intact" not in result.output


def test_a_torn_tail_is_recovered_counted_and_anchored(tmp_path: Path, store):
    path = tmp_path / "audit.log"
    log = AuditLog(path, key=KEY, engine=store.engine)
    fill(log, 4)
    with path.open("ab") as handle:
        handle.write(b'{"seq":5,"act')
    assert log.health() == "torn-tail"
    fill(log, 2)
    events = [json.loads(x) for x in lines(path)]
    assert events[4]["action"] == "audit_tail_recovered"
    assert events[4]["detail"] == {"bytes_dropped": 13}
    anchor = AuditAnchor(store.engine, key=KEY, log=path)
    assert verify_log(path, key=KEY, anchor=anchor).ok
    assert anchor.read().recovered == 1
    # another process (without this one's memory) sees it too
    assert AuditLog(path, key=KEY, engine=store.engine).health() == "torn-tail-recovered"


def test_health_of_an_unwritable_log(tmp_path: Path, store):
    path = tmp_path / "audit.log"
    path.mkdir()  # a directory where the file should be
    assert AuditLog(path, key=KEY, engine=store.engine).health() == "unwritable"


WRITER = """
import sys
from oncoresist.store import AuditLog, open_store
store = open_store(sys.argv[3])
log = AuditLog(sys.argv[1], key=bytes(range(32)), engine=store.engine)
for i in range(25):
    log.append(actor="w" + sys.argv[2], action="read_patient", pseudonym=f"p{i:04d}")
"""


def test_concurrent_writers_keep_one_chain_and_one_anchor(tmp_path: Path, store):
    """Four processes append 25 events each: one chain of 100, anchored at its end."""
    path = tmp_path / "audit.log"
    url = str(store.engine.url)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(w), url])
             for w in range(4)]  # fmt: skip
    assert all(p.wait(timeout=120) == 0 for p in procs)
    anchor = AuditAnchor(store.engine, key=KEY, log=path)
    report = verify_log(path, key=KEY, anchor=anchor)
    assert report.ok and report.events == 100
    state = anchor.read()
    assert state.seq == 100 and state.mismatch is None


def test_the_anchor_is_read_only_when_the_log_moved(tmp_path: Path, store, monkeypatch) -> None:
    """The anchor read sits inside the log's cross-process lock: it is skipped while the log
    still ends at this process's last event, and made (finding the truncation) once not."""
    path = tmp_path / "audit.log"
    log = AuditLog(path, key=KEY, engine=store.engine)
    reads = []
    real = AuditAnchor.read
    monkeypatch.setattr(AuditAnchor, "read", lambda self: reads.append(1) or real(self))
    fill(log, 20)
    assert len(reads) == 1  # the first append, on a log this process had not written
    fill(AuditLog(path, key=KEY, engine=store.engine), 1)  # another process appends
    fill(log, 1)
    assert len(reads) == 3  # both checked: each found a log it had not written last
    path.write_text("\n".join(lines(path)[:10]) + "\n")
    fill(log, 1)
    assert len(reads) == 4
    events = [json.loads(x) for x in lines(path)]
    assert [e["detail"] for e in events if e["action"] == "audit_anchor_mismatch"] == [
        {"anchor_seq": 22, "log_seq": 10}
    ]
