"""The hash-chained audit log: appends, verification, tampering, crashes, concurrency."""

import itertools
import json
import os
import subprocess
import sys

import pytest

from oncoresist.store import append_event, verify_log

KEY = bytes(range(32))


def write(path, n, key=KEY):
    for i in range(n):
        append_event(path, actor=f"user{i % 3}", action="read_patient", key=key,
                     pseudonym=f"p{i:04d}", detail={"route": "/api/v1/patients"})  # fmt: skip


def lines(path):
    return path.read_text().splitlines()


def test_chain_verifies_and_links(tmp_path):
    log = tmp_path / "audit.log"
    write(log, 5)
    report = verify_log(log, key=KEY)
    assert report.ok and report.events == 5
    events = [json.loads(x) for x in lines(log)]
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert all(b["prev"] == a["hash"] for a, b in itertools.pairwise(events))
    # without the key (or with another) the chain does not verify
    assert not verify_log(log).ok and not verify_log(log, key=b"x" * 32).ok


@pytest.mark.parametrize("how", ["change", "remove", "insert", "swap", "rehash"])
def test_tampering_is_detected_at_its_line(tmp_path, how):
    log = tmp_path / "audit.log"
    write(log, 6)
    rows = lines(log)
    event = json.loads(rows[2])
    if how == "change":
        event["actor"] = "someone-else"
        rows[2] = json.dumps(event, sort_keys=True, separators=(",", ":"))
    elif how == "remove":
        del rows[2]
    elif how == "insert":
        rows.insert(2, rows[1])
    elif how == "swap":
        rows[2], rows[3] = rows[3], rows[2]
    else:  # rewrite the event and its hash without the key (plain SHA-256)
        import hashlib

        event["action"] = "nothing"
        body = {k: v for k, v in event.items() if k != "hash"}
        text = event["prev"] + json.dumps(body, sort_keys=True, separators=(",", ":"))
        event["hash"] = hashlib.sha256(text.encode()).hexdigest()
        rows[2] = json.dumps(event, sort_keys=True, separators=(",", ":"))
    log.write_text("\n".join(rows) + "\n")
    report = verify_log(log, key=KEY)
    assert not report.ok and report.line == 3 and report.events == 2


def test_a_torn_last_line_is_reported_then_recovered_by_the_next_append(tmp_path):
    log = tmp_path / "audit.log"
    write(log, 3)
    with log.open("ab") as fh:
        fh.write(b'{"seq": 4, "ti')
    report = verify_log(log, key=KEY)
    assert not report.ok and report.line == 4 and "incomplete" in report.problem
    event = append_event(log, actor="u", action="read", key=KEY)
    recovered = json.loads(lines(log)[3])
    assert recovered["action"] == "audit_tail_recovered"
    assert recovered["detail"] == {"bytes_dropped": 14} and event["seq"] == 5
    assert (tmp_path / "audit.log.torn").read_bytes() == b'{"seq": 4, "ti\n'
    assert verify_log(log, key=KEY).ok


WRITER = """
import sys
from oncoresist.store import append_event
for i in range(25):
    append_event(sys.argv[1], actor="w" + sys.argv[2], action="read_patient",
                 pseudonym=f"p{i:04d}", key=bytes(range(32)))
"""


def test_concurrent_writers_keep_one_chain(tmp_path):
    """Four processes append 25 events each at the same time: one intact chain of 100."""
    log = tmp_path / "audit.log"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(log), str(w)])
             for w in range(4)]  # fmt: skip
    assert all(p.wait(timeout=120) == 0 for p in procs)
    report = verify_log(log, key=KEY)
    assert report.ok and report.events == 100
    actors = [json.loads(x)["actor"] for x in lines(log)]
    assert sorted(set(actors)) == ["w0", "w1", "w2", "w3"]


def test_cli_verify_exit_codes(tmp_path):
    log = tmp_path / "audit.log"
    write(log, 3, key=None)
    run = [sys.executable, "-m", "oncoresist", "audit", "verify", str(log), "--unkeyed"]
    # an unkeyed chain certifies nothing (tests/store/test_audit_anchor.py: the keyed CLI)
    unkeyed = subprocess.run(run, capture_output=True, text=True, timeout=60)
    assert unkeyed.returncode == 2 and "not verifiable" in unkeyed.stdout
    run = [*run[:-1], "--keyed"]
    env = {**os.environ, "ONCORESIST_KEY": KEY.hex()}
    env.pop("ONCORESIST_DB", None)
    rows = lines(log)
    rows[1] = rows[1].replace("user1", "user9")
    log.write_text("\n".join(rows) + "\n")
    bad = subprocess.run(run, capture_output=True, text=True, timeout=60, env=env)
    assert bad.returncode == 1 and "line 1" in bad.stdout  # a SHA-256 chain fails the HMAC
    missing = subprocess.run([*run[:-2], str(tmp_path / "none.log")], capture_output=True,
                             text=True, timeout=60, env=env)  # fmt: skip
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_audit_log_syncs_threads_in_groups(tmp_path, monkeypatch):
    """16 threads x 10 events: every event is chained once, each append returned after a
    sync that began after its write, and the syncs were shared (fewer than events)."""
    import os
    import threading
    import time

    from oncoresist.store import AuditLog, _audit

    syncs: list[int] = []  # per finished sync: lines in the file when it began
    real = os.fdatasync

    def slow_sync(fd):
        lines_then = len((tmp_path / "audit.log").read_bytes().splitlines())
        time.sleep(0.005)  # a disk's sync takes milliseconds
        real(fd)
        syncs.append(lines_then)

    monkeypatch.setattr(_audit.os, "fdatasync", slow_sync)
    log = AuditLog(tmp_path / "audit.log", key=KEY)
    returned: list[tuple[int, int]] = []  # (seq, most lines a finished sync covered then)

    def work(k):
        for i in range(10):
            event = log.append(actor=f"user{k}", action="read_patient", pseudonym=f"p{i}")
            returned.append((event["seq"], max(syncs)))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = verify_log(tmp_path / "audit.log", key=KEY)
    assert report.ok and report.events == 160
    assert sorted(seq for seq, _ in returned) == list(range(1, 161))
    assert all(synced_lines >= seq for seq, synced_lines in returned)
    assert len(syncs) < 160
