"""Uploads under attack: decompression bombs, identifiers in errors, spool leftovers.

Issue 17, findings 1, 2 and 7a: a gzip bomb gets a clean 413 naming the limit while the
worker's and the service's memory stay bounded; no format's error (CSV, TSV, gzip,
Parquet) carries a raw identifier, in the API or on the page; uploads are spooled in a
private folder of the data directory, never the system temporary directory, and a crash's
leftovers are removed when the service starts again.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from server_helpers import EXAMPLES, PASSWORD, make_service, read_files

from oncoresist.server import ServerSettings, create_app

MIB = 1024 * 1024
HERE = Path(__file__).parent
MRN = "MRN-777001"
SAMPLE = "MRN-777001-BLOOD-A"
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
HEADER = b"patient_id,sample_id,collection_date,gene,alteration,alt_reads,depth\n"


# ------------------------------------------------------------------ finding 1: bombs
def gzip_bomb(expanded_mib: int, *, members: int = 1, lines: bool = False) -> bytes:
    """A valid header, a bad line 2, then ``expanded_mib`` MiB of "0" per gzip member.

    With ``lines``, the zeros are short lines ("0" and a newline), so that only the sizes
    and ratio stop it.
    """
    zeros = b"0\n" * (MIB // 2) if lines else b"0" * MIB

    def member(head: bytes) -> bytes:
        comp = zlib.compressobj(9, zlib.DEFLATED, 31)
        out = [comp.compress(head)] + [comp.compress(zeros) for _ in range(expanded_mib)]
        return b"".join(out) + comp.flush()

    first = member(HEADER + b"P1,S1,not a date,EGFR,T790M,1,100\n")
    return first + member(b"") * (members - 1)  # gzip members concatenate their content


_BOMB_SCRIPT = r"""
import json, os, resource, sys, threading, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from fastapi.testclient import TestClient
from server_helpers import make_service

tmp, bomb = Path(sys.argv[2]), Path(sys.argv[3])
svc = make_service(tmp)
svc.client = TestClient(svc.app, raise_server_exceptions=False)  # a 500 is an answer here
data = bomb.read_bytes()
me = os.getpid()
peaks = {}
done = threading.Event()

def kib(pid, field):
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field):
                return int(line.split()[1])
    return 0

def descendants():
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    found, todo = set(), [me]
    while todo:
        pid = todo.pop()
        kids = [p for p, q in parents.items() if q == pid]
        found.update(kids)
        todo.extend(kids)
    return found

def sample():
    while not done.is_set():
        for pid in descendants():
            try:
                peaks[pid] = max(peaks.get(pid, 0), kib(pid, "VmHWM:"))
            except OSError:
                pass
        time.sleep(0.005)

threading.Thread(target=sample, daemon=True).start()
before = kib(me, "VmHWM:")
started = time.perf_counter()
response = svc.upload("alice", "serial", "bomb.csv.gz", data)
seconds = time.perf_counter() - started
done.set()
print(json.dumps({"status": response.status_code, "body": response.text,
                  "seconds": seconds, "server_growth_mb": (kib(me, "VmHWM:") - before) / 1024,
                  "worker_peak_mb": max(peaks.values(), default=0) / 1024}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize(
    ("expanded_mib", "members", "lines"),
    [pytest.param(256, 1, False, id="issue-255KB-bomb"),
     pytest.param(1024, 19, False, id="20MiB-bomb"),
     pytest.param(256, 1, True, id="issue-bomb-of-short-lines")],
)  # fmt: skip
def test_a_gzip_bomb_is_413_with_bounded_memory(tmp_path: Path, expanded_mib: int,
                                                members: int, lines: bool) -> None:  # fmt: skip
    bomb = gzip_bomb(expanded_mib, members=members, lines=lines)
    assert len(bomb) < 20 * MIB
    path = tmp_path / "bomb.csv.gz"
    path.write_bytes(bomb)
    run = subprocess.run([sys.executable, "-c", _BOMB_SCRIPT, str(HERE), str(tmp_path), str(path)],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"bomb {len(bomb) / MIB:.2f} MiB -> {expanded_mib * members} MiB: {result}")
    if lines:
        assert "(max_decompression_ratio)" in result["body"]
    assert result["status"] == 413, result["body"]
    detail = json.loads(result["body"])["detail"]
    assert re.search(
        r"the limit is \d+ \((max_decompression_ratio|max_decompressed_bytes|"
        r"max_line_bytes)\)",
        detail,
    ), detail
    assert result["worker_peak_mb"] < 300
    # the service process never decompresses the upload: it holds only the 20 MiB body
    assert result["server_growth_mb"] < 100


def test_decompression_limits_are_settings(tmp_path: Path) -> None:
    data = gzip.compress(HEADER + b"P1,S1,2024-01-01,EGFR,T790M,1,100\n" * 40_000)
    svc = make_service(tmp_path, max_decompressed_bytes=MIB)
    response = svc.upload("alice", "serial", "big.csv.gz", data)
    assert response.status_code == 413
    assert "max_decompressed_bytes" in response.json()["detail"]
    assert "1048576" in response.json()["detail"]
    with pytest.raises(Exception, match="max_decompression_ratio"):
        ServerSettings(max_decompression_ratio=0)


def test_a_long_line_is_refused_before_it_is_read(tmp_path: Path) -> None:
    svc = make_service(tmp_path, max_line_bytes=64 * 1024)
    data = HEADER + b"P1,S1,2024-01-01,EGFR,T790M,1," + b"1" * 100_000 + b"\n"
    response = svc.upload("alice", "serial", "long.csv", gzip.compress(data))
    assert response.status_code == 413
    assert "max_line_bytes" in response.json()["detail"]


# ------------------------------------------------------------------ finding 2: identifiers
def _two_dates_table() -> str:
    text = (EXAMPLES / "egfr_ctdna_series.csv").read_text()
    text = text.replace("ILLUS-P1-D0", SAMPLE).replace("ILLUS-P1", MRN)
    rows = text.splitlines()
    rows[2] = rows[2].replace("2024-02-26", "2024-02-27")  # one sample, two dates
    return "\n".join(rows) + "\n"


def _encoded(fmt: str) -> tuple[str, bytes]:
    text = _two_dates_table()
    if fmt == "csv":
        return "series.csv", text.encode()
    if fmt == "tsv":
        return "series.tsv", text.replace(",", "\t").encode()
    if fmt == "gzip":
        return "series.csv.gz", gzip.compress(text.encode())
    import pandas as pd

    pytest.importorskip("pyarrow")
    buffer = io.BytesIO()
    pd.read_csv(io.StringIO(text), dtype=str).to_parquet(buffer, index=False)
    return "series.parquet", buffer.getvalue()


FORMATS = ["csv", "tsv", "gzip", "parquet"]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory):
    return make_service(tmp_path_factory.mktemp("hardening"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_identifier_in_an_api_error(shared, fmt: str) -> None:
    name, data = _encoded(fmt)
    response = shared.upload("alice", "serial", name, data)
    assert response.status_code == 422, response.text
    assert "two collection dates" in response.text  # the reason is kept ...
    assert MRN not in response.text  # ... the identifiers are not
    assert "[identifier]" in response.text


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_identifier_on_the_upload_page(shared, fmt: str) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(shared.app)
    form = {"username": "alice", "password": PASSWORD}
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    if token:  # the login form carries a CSRF token of its own
        form["csrf_token"] = token.group(1)
    login = client.post("/login", data=form, follow_redirects=False)
    assert login.status_code == 303
    csrf = _CSRF.search(client.get("/upload").text).group(1)
    name, data = _encoded(fmt)
    response = client.post("/upload", data={"kind": "serial", "csrf_token": csrf},
                           files={"file": (name, data, "application/octet-stream")})  # fmt: skip
    assert response.status_code == 422
    assert "two collection dates" in response.text
    assert MRN not in response.text


# ------------------------------------------------------------------ finding 7a: leftovers
_CRASH_SCRIPT = r"""
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from server_helpers import make_service
from oncoresist.server import _api

tmp = Path(sys.argv[2])
svc = make_service(tmp)

def stuck(*args, **kwargs):  # the upload is being parsed when the service dies
    (tmp / "ready").write_text("1")
    time.sleep(600)

_api.parse_upload = stuck
svc.upload("alice", "serial", "series.csv", Path(sys.argv[3]).read_bytes())
"""


def _files_holding(root: Path, needle: bytes) -> list[Path]:
    """The files under ``root`` that contain ``needle``, read in another process (see
    :func:`server_helpers.read_files`: the store's SQLite files are among them)."""
    paths = [path for path in root.rglob("*") if path.is_file()]
    return [path for path, data in zip(paths, read_files(paths), strict=True) if needle in data]


@pytest.mark.skipif(os.name != "posix", reason="kill -9 and file modes")
def test_a_crash_leaves_no_readable_upload_and_nothing_in_the_system_temp_dir(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    system_tmp = tmp_path / "system-tmp"
    data.mkdir()
    system_tmp.mkdir()
    table = tmp_path / "series.csv"
    table.write_text(_two_dates_table())
    env = os.environ | {"TMPDIR": str(system_tmp)}
    proc = subprocess.Popen([sys.executable, "-c", _CRASH_SCRIPT, str(HERE), str(data),
                             str(table)], env=env)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (data / "ready").exists():
            assert proc.poll() is None, "the service stopped before the upload was parsed"
            assert time.monotonic() < deadline, "the upload never reached the parser"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    needle = MRN.encode()
    assert not list(system_tmp.glob("oncoresist-upload-*"))
    assert not _files_holding(system_tmp, needle)
    # what the crash left is in the data directory, readable by the service's user only
    spooled = _files_holding(data, needle)
    assert spooled, "the upload was spooled elsewhere"
    for path in spooled:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
        for parent in path.parents:
            if parent == data:
                break
            assert stat.S_IMODE(parent.stat().st_mode) == 0o700, parent
    # ... and the service's next start removes it
    settings = ServerSettings(db=f"sqlite:///{data / 'store.sqlite'}", key=bytes(range(100, 132)),
                              audit_log=data / "audit.log")  # fmt: skip
    create_app(settings)
    assert not _files_holding(data, needle)


def test_a_spool_in_use_survives_another_workers_start(tmp_path: Path) -> None:
    from oncoresist.server._spool import UploadSpool

    root = tmp_path / "spool"
    first = UploadSpool(root)
    with first.file("a.csv") as path:
        path.write_bytes(b"x")
        UploadSpool(root)  # a second service worker starting meanwhile
        assert path.read_bytes() == b"x"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not path.exists()
    assert stat.S_IMODE(root.stat().st_mode) == 0o700


def test_uploads_go_through_the_spool_and_leave_nothing(shared) -> None:
    name, data = _encoded("csv")
    assert shared.upload("alice", "serial", name, data).status_code == 422
    spool = shared.settings.audit_log.parent / "upload-spool"
    assert spool.is_dir()
    assert not [p for p in spool.rglob("*") if p.is_file() and p.name != ".lock"]


def test_the_line_check_finds_the_first_long_line_however_the_stream_is_cut() -> None:
    import random

    from oncoresist.server._uploads import UploadTooLarge, _Lines

    rng = random.Random(17)
    for _ in range(500):
        limit = rng.randint(1, 20)
        data = bytes(rng.choice(b"ab\n") for _ in range(rng.randint(0, 200)))
        expected = next((i for i, ln in enumerate(data.split(b"\n"), start=1)
                         if len(ln) > limit), None)  # fmt: skip
        lines, found, pos = _Lines(limit), None, 0
        try:
            while pos < len(data):
                step = rng.randint(1, 30)
                lines.feed(data[pos : pos + step])
                pos += step
        except UploadTooLarge as exc:
            found = int(re.search(r"line (\d+)", str(exc)).group(1))
        assert found == expected, (data, limit)
