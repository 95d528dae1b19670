"""A process killed with SIGKILL mid-ingest leaves all of its file or none of it (SQLite)."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from store_helpers import KEY, SERIES, THERAPY

from oncoresist.store import open_store

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)"),
]

ALTERATIONS = [
    "EGFR L858R", "EGFR T790M", "EGFR C797S", "TP53 R273H", "KRAS G12C", "EGFR G719S",
    "BRAF V600E", "PIK3CA E545K", "PIK3CA H1047R", "EGFR L861Q",
]  # fmt: skip

# The child ingests argv[3] into the store argv[1]; it touches argv[2] when its write
# transaction has begun ("begin": the file has been read, the writing starts and takes about
# 0.4 s for 20,000 rows) or when every row is written and COMMIT is next ("commit"), and in
# the second case waits there to be killed.
CHILD = """
import sys, time
from pathlib import Path
from sqlalchemy import event
from oncoresist.store import open_store
url, marker, path, stage, key = sys.argv[1:6]
store = open_store(url, key=bytes.fromhex(key))
def touch(connection):
    if not connection.get_execution_options().get("oncoresist_write"):
        return  # a read-only transaction (the check for an earlier ingest of the file)
    Path(marker).touch()
    if stage == "commit":
        time.sleep(120)
event.listen(store.engine, stage, touch)
store.ingest_serial(path)
"""


def _big_file(path: Path, rows: int) -> Path:
    with path.open("w") as handle:
        handle.write("patient_id,sample_id,collection_date,alteration,alt_reads,depth\n")
        for i in range(rows):
            sample = i // len(ALTERATIONS)
            date = f"2024-{1 + sample % 12:02d}-{1 + sample % 28:02d}"
            handle.write(
                f"BIG-P{sample // 20},BIG-S{sample},{date},"
                f"{ALTERATIONS[i % len(ALTERATIONS)]},{i % 50},{1000 + i % 500}\n"
            )
    return path


def _kill_mid_ingest(tmp_path: Path, rows: int, stage: str,
                     delay: float) -> tuple[str, int, bool]:  # fmt: skip
    """Start an ingest in a child, SIGKILL it ``delay`` s after ``stage``; return the store's
    URL, the file's rows and whether the kill landed (the child may have finished first)."""
    url = f"sqlite:///{tmp_path / 'killed.sqlite'}"
    with open_store(url, key=KEY) as store:  # committed before the child runs
        store.ingest_serial(SERIES)
        store.ingest_therapy(THERAPY)
    big = _big_file(tmp_path / "big.csv", rows)
    marker = tmp_path / "marker"
    log = (tmp_path / "child.log").open("w")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(marker), str(big), stage, KEY.hex()],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            if child.poll() is not None:
                pytest.fail(f"the child ended first: {(tmp_path / 'child.log').read_text()}")
            if time.monotonic() > deadline:
                pytest.fail("the child never began writing")
            time.sleep(0.01)
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
        status = child.wait(timeout=30)
        assert status in (0, -signal.SIGKILL)
    finally:
        if child.poll() is None:  # pragma: no cover - only when the test failed above
            child.kill()
            child.wait()
        log.close()
    return url, rows, status == -signal.SIGKILL


def _check_all_or_nothing(url: str, rows: int) -> bool:
    database = url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with open_store(url, key=KEY) as store:
        observations = store.observations()
        log = store.ingests()
        earlier = store.observations("ILLUS-P1")
        assert len(earlier) == 36  # what was committed before is intact
        assert len(store.therapy("ILLUS-P1")) == 1
        committed = len(observations) == 36 + rows
        assert len(observations) in (36, 36 + rows)
        assert list(log["kind"]) == (
            ["serial", "therapy", "serial"] if committed else ["serial", "therapy"]
        )
        assert len(store.patients()) == (1 + rows // len(ALTERATIONS) // 20 if committed else 1)
        # the store still takes writes: the lock died with the child
        assert store.ingest_events(SERIES.with_name("egfr_ctdna_events.csv")).inserted == 1
    return committed


def test_sigkill_before_commit_leaves_none_of_the_file(tmp_path: Path) -> None:
    url, rows, killed = _kill_mid_ingest(tmp_path, 200_000, "commit", delay=0.2)
    assert killed  # the child waits at its commit for 120 s
    assert not _check_all_or_nothing(url, rows)


def test_sigkill_at_a_random_moment_leaves_all_or_nothing(tmp_path: Path) -> None:
    """Killed somewhere in the ingest, or after it when the child was quicker: all or none."""
    delay = random.Random(20240601).uniform(0.0, 0.8)
    url, rows, killed = _kill_mid_ingest(tmp_path, 20_000, "begin", delay=delay)
    committed = _check_all_or_nothing(url, rows)
    assert committed or killed  # a child that ended by itself committed its file
