"""Benchmark: the web service under load (``oncoresist serve`` on PostgreSQL, on loopback).

Setup (not timed): a fresh database (a new database on a PostgreSQL server: the one named
by ``--db`` or ``ONCORESIST_TEST_PG_URL``, else a throwaway server started with
``scripts/ci_postgres.sh`` on a free port; ``--sqlite`` adds a run on a SQLite file), a
random key, a clinician of site ``SITEA`` (``oncoresist users add``), and ``--patients``
patients preloaded through the store exactly as the service stores an upload (identifiers
namespaced by site, ingest SHA-256 over ``site NUL kind NUL bytes``): 8 draws x 10 variants
each (EGFR L858R and TP53 R273H falling on osimertinib, EGFR T790M / C797S or MET
amplification rising in some patients, background variants at zero or one read) and a
therapy line. Then ``oncoresist serve --workers N --no-access-log`` starts on 127.0.0.1
as a subprocess with ``ONCORESIST_DB``, ``ONCORESIST_KEY`` and ``ONCORESIST_AUDIT_LOG``
(an ext4 file: every audited request ends with an ``fsync``).

Phases, each client with its own connection and token, as separate browsers would:

1. warm-up: one upload of a new patient per client (which starts the upload fork
   servers), then passes over the patients' pages by all clients, each pass in a new
   random order: the first read of each patient builds and stores its page (the preload
   writes through the store, which builds none);
2. baseline: one client, sequential, one read of each patient's page (unloaded latency);
3. load: ``--clients`` clients for ``--seconds``; each request is, with probability
   ``--upload-share``, an upload (POST /api/v1/uploads/serial) of a new, unique table (one
   new draw of 10 variants for a preloaded patient, or a new patient with
   ``--upload-target new``), else a read of a random preloaded patient's page
   (GET /api/v1/patients/{pid}); ``--think-ms`` adds a pause between a client's requests.
   Latency is measured in the client, request sent to body read. Any answer but 200, and
   any exception (a 60 s timeout included), is an error.

   During the load one more client (``--big-upload-patients``, default 160; 0: none)
   uploads one serial table of that many new patients, each as preloaded (8 draws x 10
   variants, unique identifiers), through the same route, 5 s into the load (a third of it
   if shorter: after the burst of the first seconds). Reported apart from the load's
   figures: its latency (upload to acknowledgement), its answer (200, the patients and
   rows it names), and the p95 of patient pages (and of small uploads) whose requests
   overlapped it in time, beside the overall p95, to show whether it disturbs readers.

Then the store is read directly: every acknowledged upload (a 200 with its ``ingest_id``)
must have exactly one ``ingests`` row with its SHA-256 and that id, its samples under the
expected patient and ingest, and exactly as many observations per sample as the file had
rows (lost / duplicated, target 0 / 0; the big upload is counted with the rest and its rows
stored exactly once are reported apart); uploads that failed are looked up too (stored
without acknowledgement), and no other serial ingest may exist. The audit log's hash chain
is verified.

Targets (issue 7): p95 under 200 ms for patient pages, zero errors, zero lost or duplicated
uploads; and (issue 17) the big upload acknowledged (200) with all its patients, every row
stored exactly once.

Usage::

    python benchmarks/bench_server.py                  # 60 s, 50 clients, 2 workers, PostgreSQL
    python benchmarks/bench_server.py --quick          # 10 s, 20 clients
    python benchmarks/bench_server.py --big-upload-patients 0   # no 160-patient upload
    python benchmarks/bench_server.py --sqlite         # then the same on a SQLite file
    python benchmarks/bench_server.py --db postgresql+psycopg://user@host:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SITE = "SITEA"
USER = "bench.clinician"
PASSWORD = "bench-" + secrets.token_hex(12)
API = "/api/v1"
DRAWS = 8
#: the start of the load, when every client sends at once, is reported apart
EARLY_S = 5.0
SPACING_DAYS = 42
START = dt.date(2024, 1, 8)
#: (gene, change): the 10 variants tracked in every draw
VARIANTS = (
    ("EGFR", "L858R"), ("TP53", "R273H"), ("EGFR", "T790M"), ("EGFR", "C797S"),
    ("MET", "amplification"), ("KRAS", "G12C"), ("PIK3CA", "E545K"), ("BRAF", "V600E"),
    ("ERBB2", "amplification"), ("EGFR", "L718Q"),
)  # fmt: skip
HEADER = ("patient_id,sample_id,collection_date,gene,alteration,alt_reads,depth,"
          "unique_molecules,cfdna_ng\n")  # fmt: skip
TOKEN_REFRESH_S = 12 * 60  # tokens last 15 min
P95_TARGET_MS = 200.0


# ------------------------------------------------------------------ synthetic tables
def _vafs(rng: random.Random, draw: int, resistance: str | None) -> list[float]:
    """Allele fractions of the 10 variants at draw ``draw`` (0 = baseline, before therapy)."""
    truncal = 0.02 * 0.25**draw if draw < 3 else 0.02 * 0.25**2 * 1.8 ** (draw - 2)
    vaf = [truncal, truncal * 0.8] + [0.0] * 8
    if resistance is not None and draw >= 3:
        vaf[{"T790M": 2, "C797S": 3, "MET": 4}[resistance]] = 2e-4 * 2.2 ** (draw - 3)
    return [v * rng.uniform(0.7, 1.3) for v in vaf]


def draw_rows(rng: random.Random, patient: str, sample: str, date: dt.date, draw: int,
              resistance: str | None) -> list[str]:  # fmt: skip
    """CSV lines of one draw (10 variants) of one patient."""
    ng = round(rng.uniform(8.0, 30.0), 1)
    lines = []
    for (gene, change), vaf in zip(VARIANTS, _vafs(rng, draw, resistance), strict=True):
        depth = max(500, int(rng.gauss(3000, 400)))
        alt = min(depth, int(np.random.default_rng(rng.getrandbits(32)).poisson(vaf * depth)))
        if alt == 0 and rng.random() < 0.05:
            alt = 1  # a background read now and then
        lines.append(f"{patient},{sample},{date.isoformat()},{gene},{change},{alt},{depth},"
                     f"{depth},{ng}\n")  # fmt: skip
    return lines


def patient_series(rng: random.Random, patient: str) -> tuple[bytes, bytes, str | None]:
    """(serial CSV, therapy CSV, resistance mechanism) of one preloaded patient."""
    resistance = rng.choice([None, None, "T790M", "C797S", "MET"])
    rows = [HEADER]
    for d in range(DRAWS):
        date = START + dt.timedelta(days=SPACING_DAYS * d + rng.randint(0, 3))
        rows += draw_rows(rng, patient, f"{patient}-D{d}", date, d, resistance)
    start = START + dt.timedelta(days=7)
    therapy = f"patient_id,regimen,start_date,end_date\n{patient},osimertinib,{start},\n"
    return "".join(rows).encode(), therapy.encode(), resistance


def upload_digest(kind: str, data: bytes) -> str:
    """The ingest SHA-256 the service records for ``data`` uploaded by a user of SITE."""
    from oncoresist.server._views import upload_sha256

    return upload_sha256(SITE, kind, data)


# ------------------------------------------------------------------ databases
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Postgres:
    """A throwaway PostgreSQL server from ``scripts/ci_postgres.sh`` on a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.env = {**os.environ, "ONCORESIST_PG_PORT": str(self.port),
                    "ONCORESIST_PG_DIR": f"/tmp/oncoresist-bench-pg-{self.port}"}  # fmt: skip
        self.url: str | None = None

    def start(self) -> str:
        done = subprocess.run(["bash", str(ROOT / "scripts" / "ci_postgres.sh"), "start"],
                              env=self.env, capture_output=True, text=True)  # fmt: skip
        line = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
        if done.returncode or "=" not in line:
            raise RuntimeError(f"scripts/ci_postgres.sh failed:\n{done.stderr[-2000:]}")
        self.url = line.split("=", 1)[1]
        print(f"started PostgreSQL with scripts/ci_postgres.sh on 127.0.0.1:{self.port} "
              "(fsync off, synchronous_commit off)")  # fmt: skip
        return self.url

    def stop(self) -> None:
        subprocess.run(["bash", str(ROOT / "scripts" / "ci_postgres.sh"), "stop"], env=self.env,
                       capture_output=True, text=True)  # fmt: skip


class FreshDatabase:
    """A new, empty database on a PostgreSQL server, dropped on :meth:`drop`."""

    def __init__(self, server_url: str) -> None:
        import sqlalchemy as sa

        self.server = sa.make_url(server_url)
        self.name = f"oncoresist_bench_{secrets.token_hex(4)}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.url = self.server.set(database=self.name).render_as_string(hide_password=False)

    def _admin(self):
        import psycopg

        dsn = self.server.set(drivername="postgresql").render_as_string(hide_password=False)
        return psycopg.connect(dsn, autocommit=True)

    def version(self) -> str:
        with self._admin() as conn:
            return conn.execute("SHOW server_version").fetchone()[0]

    def drop(self) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@dataclass
class Preloaded:
    raw: list[str]  # the site's patient identifiers
    pids: list[str]  # their pseudonyms
    last_date: dict[str, dt.date]
    sha256: set[str]


def preload(url: str, key: str, n: int, seed: int, tmp: Path) -> Preloaded:
    """Store ``n`` patients as the service stores uploads (a serial and a therapy ingest each)."""
    from oncoresist.monitor import read_serial, read_therapy
    from oncoresist.server._views import site_frame, site_scoped
    from oncoresist.store import open_store, pseudonym

    rng = random.Random(seed)
    raw, pids, last, digests = [], [], {}, set()
    with open_store(url, key=key) as store:
        for i in range(n):
            patient = f"P{i:05d}"
            serial, therapy, _ = patient_series(rng, patient)
            for kind, data, reader in (("serial", serial, read_serial),
                                       ("therapy", therapy, read_therapy)):  # fmt: skip
                path = tmp / f"{kind}.csv"
                path.write_bytes(data)
                frame = site_frame(reader(path), SITE)
                store.ingest_frame(kind, frame, sha256=upload_digest(kind, data), site=SITE)
                if kind == "serial":
                    digests.add(upload_digest(kind, data))
                    last_day = frame["collection_date"].max().date()
            raw.append(patient)
            pids.append(pseudonym(store.key, "patient", site_scoped(SITE, patient)))
            last[patient] = last_day
    return Preloaded(raw, pids, last, digests)


def add_user(oncoresist: list[str], url: str, env: dict[str, str]) -> None:
    done = subprocess.run([*oncoresist, "users", "add", USER, "--role", "clinician", "--site", SITE,
                           "--db", url], env={**env, "ONCORESIST_NEW_PASSWORD": PASSWORD},
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"oncoresist users add failed:\n{done.stdout}{done.stderr}")


# ------------------------------------------------------------------ the service
class Server:
    """``oncoresist serve`` in its own process group (uvicorn, its workers, the fork server)."""

    def __init__(self, oncoresist: list[str], *, workers: int, env: dict[str, str],
                 log: Path) -> None:  # fmt: skip
        self.port = free_port()
        self.workers = workers
        self.log = log
        self.proc = subprocess.Popen(
            [*oncoresist, "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers), "--no-access-log"],
            env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 120.0) -> float:
        import httpx

        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}):\n{self.tail()}")
            started = self.log.read_text(errors="replace").count("Application startup complete")
            if started >= self.workers:
                try:
                    if httpx.get(self.base + API + "/health", timeout=5).status_code == 200:
                        return time.perf_counter() - t0
                except httpx.HTTPError:
                    pass
            time.sleep(0.2)
        raise RuntimeError(f"the server was not ready after {timeout:g} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def cpu_seconds(self) -> float:
        """CPU time of the server's processes (workers, reaped upload parsers included)."""
        import psutil

        total = 0.0
        try:
            top = psutil.Process(self.proc.pid)
            for p in [top, *top.children(recursive=True)]:
                with_children = p.cpu_times()
                total += sum(with_children[:4])  # user, system, children_user, children_system
        except psutil.Error:
            pass
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


# ------------------------------------------------------------------ clients
@dataclass
class Result:
    kind: str  # "read" or "upload"
    start: float
    seconds: float
    status: int | None  # None: an exception
    error: str = ""
    after_upload: bool = False  # read of a patient that got an acknowledged upload before


@dataclass
class Upload:
    data: bytes
    sha256: str
    samples: dict[str, tuple[str, int]]  # sample id -> (the site's patient identifier, rows)
    answer: dict | None = None
    status: int | None = None
    error: str = ""
    # set by check_store for an acknowledged upload
    lost: bool = False
    duplicated: bool = False
    rows_stored_once: int = 0

    @property
    def patients(self) -> set[str]:
        return {patient for patient, _ in self.samples.values()}

    @property
    def rows(self) -> int:
        return sum(rows for _, rows in self.samples.values())


@dataclass
class Shared:
    base: str
    pre: Preloaded
    upload_target: str
    run_tag: str
    results: list[Result] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    big: Upload | None = None  # the many-patient upload sent during the load
    big_result: Result | None = None
    uploaded: set[str] = field(default_factory=set)  # pseudonyms with an acknowledged upload
    counter: int = 0


class Client:
    """One browser: its own connection (keep-alive) and token."""

    def __init__(self, shared: Shared, number: int, seed: int) -> None:
        import httpx

        self.shared = shared
        self.number = number
        self.rng = random.Random(seed)
        # idle connections are dropped after 4 s, before uvicorn closes them (after 5 s,
        # httpx's default too): otherwise a request may race the server's close
        self.http = httpx.AsyncClient(
            base_url=shared.base, timeout=60.0,
            limits=httpx.Limits(max_connections=1, keepalive_expiry=4.0),
        )  # fmt: skip
        self.token = ""
        self.login_at = 0.0

    async def login(self) -> None:
        r = await self.http.post(API + "/auth/login", json={"username": USER, "password": PASSWORD})
        r.raise_for_status()
        self.token, self.login_at = r.json()["access_token"], time.monotonic()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def read(self, index: int, record: bool = True) -> Result:
        pid = self.shared.pre.pids[index]
        after = pid in self.shared.uploaded
        t0 = time.perf_counter()
        try:
            r = await self.http.get(f"{API}/patients/{pid}", headers=self.headers)
            status, error = r.status_code, "" if r.status_code == 200 else r.text[:200]
            if status == 200 and r.json().get("pseudonym") != pid:
                status, error = -1, "page of another patient"
        except Exception as exc:  # a failed request is a result to count, not a crash
            status, error = None, f"{type(exc).__name__}: {exc}"[:200]
        result = Result("read", t0, time.perf_counter() - t0, status, error, after)
        if record:
            self.shared.results.append(result)
        return result

    def new_table(self, target: str) -> Upload:
        s = self.shared
        s.counter += 1
        n = s.counter
        if target == "new":
            patient = f"N{s.run_tag}-{n:06d}"
            date, draw, resistance = START + dt.timedelta(days=SPACING_DAYS * 3), 3, "T790M"
        else:
            patient = self.rng.choice(s.pre.raw)
            date = s.pre.last_date[patient] + dt.timedelta(days=SPACING_DAYS)
            draw, resistance = DRAWS, self.rng.choice([None, "T790M", "C797S", "MET"])
        sample = f"{patient}-U{s.run_tag}-{n:06d}"
        rows = draw_rows(self.rng, patient, sample, date, draw, resistance)
        data = (HEADER + "".join(rows)).encode()
        return Upload(data, upload_digest("serial", data), {sample: (patient, len(rows))})

    def big_table(self, n: int) -> Upload:
        """One serial table of ``n`` new patients, each as preloaded (8 draws x 10 variants)."""
        rng = random.Random(self.rng.getrandbits(32))
        lines, samples = [HEADER], {}
        for i in range(n):
            patient = f"B{self.shared.run_tag}-{i:05d}"
            serial, _, _ = patient_series(rng, patient)
            rows = serial.decode().splitlines(keepends=True)[1:]
            lines += rows
            for row in rows:
                sample = row.split(",", 2)[1]
                samples[sample] = (patient, samples.get(sample, (patient, 0))[1] + 1)
        data = "".join(lines).encode()
        return Upload(data, upload_digest("serial", data), samples)

    async def upload(self, *, target: str, record: bool = True) -> Result:
        up = self.new_table(target)
        result = await self.send(up, "draw.csv", timeout=60.0)
        if record:
            self.shared.results.append(result)
        return result

    async def big_upload(self, up: Upload, *, at: float) -> None:
        """Wait until ``at`` (``perf_counter``), then upload ``up`` (see :meth:`big_table`)."""
        self.shared.big = up
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        self.shared.big_result = await self.send(up, "clinic.csv", timeout=600.0)

    async def send(self, up: Upload, filename: str, *, timeout: float) -> Result:
        """POST ``up`` to the serial upload route; its outcome is kept on ``up`` too."""
        self.shared.uploads.append(up)
        t0 = time.perf_counter()
        try:
            r = await self.http.post(API + "/uploads/serial", headers=self.headers,
                                     files={"file": (filename, up.data, "text/csv")},
                                     timeout=timeout)  # fmt: skip
            up.status = r.status_code
            error = ""
            if r.status_code == 200:
                up.answer = r.json()
                self.shared.uploaded.update(up.answer.get("patients", []))
            else:
                error = r.text[:200]
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:200]
        up.error = error
        return Result("upload", t0, time.perf_counter() - t0, up.status, error)

    async def run(self, until: float, upload_share: float, think_s: float) -> None:
        while time.perf_counter() < until:
            if time.monotonic() - self.login_at > TOKEN_REFRESH_S:
                await self.login()
            if self.rng.random() < upload_share:
                await self.upload(target=self.shared.upload_target)
            else:
                await self.read(self.rng.randrange(len(self.shared.pre.pids)))
            if think_s:
                await asyncio.sleep(self.rng.expovariate(1 / think_s))

    async def close(self) -> None:
        await self.http.aclose()


def big_upload_at(seconds: float) -> float:
    """When the many-patient upload is sent, in seconds after the load starts."""
    # after the burst of the first seconds, so that its window is not that burst's
    return min(EARLY_S, seconds / 3)


async def drive(shared: Shared, *, clients: int, seconds: float, upload_share: float,
                think_s: float, warmup_passes: int, seed: int, server: Server,
                big_patients: int = 0) -> dict:  # fmt: skip
    """Log in, warm up, the sequential baseline, then the load; return the phases' figures.

    With ``big_patients``, one more client uploads a table of that many new patients
    :func:`big_upload_at` seconds into the load (``shared.big``, ``shared.big_result``).
    """
    pool = [Client(shared, i, seed * 1000 + i) for i in range(clients)]
    big = Client(shared, clients, seed * 1000 + clients) if big_patients else None
    out: dict = {}
    try:
        for c in pool + [big] * (big is not None):  # one at a time: each login is an Argon2id check
            await c.login()
        n = len(shared.pre.pids)
        # 1. warm-up: one upload of a new patient per client (so that every worker has
        # started its fork server), then each pass spreads the patients over the clients
        # in a new random order
        t0 = time.perf_counter()
        warm: list[Result] = list(
            await asyncio.gather(*(c.upload(target="new", record=False) for c in pool))
        )
        for p in range(warmup_passes):
            order = random.Random(seed + p).sample(range(n), n)

            async def one_pass(k: int, order=order) -> list[Result]:
                return [await pool[k].read(i, record=False) for i in order[k::clients]]

            for rs in await asyncio.gather(*(one_pass(k) for k in range(clients))):
                warm += rs
        out["warmup"] = (warmup_passes, len(warm) - clients, time.perf_counter() - t0,
                         [r for r in warm if r.status != 200])  # fmt: skip
        # 2. baseline: one client, sequential, every patient once
        base = [await pool[0].read(i, record=False) for i in range(n)]
        out["baseline"] = base
        # 3. load (the many-patient table is made before: it takes the event loop a while)
        big_up = big.big_table(big_patients) if big is not None else None
        cpu0, server0, t_start = os.times(), server.cpu_seconds(), time.perf_counter()
        busy0, db0 = _machine_busy(), _postgres_cpu()
        until = t_start + seconds
        if big is not None:
            big_task = asyncio.create_task(
                big.big_upload(big_up, at=t_start + big_upload_at(seconds))
            )
        await asyncio.gather(*(c.run(until, upload_share, think_s) for c in pool))
        t_end = time.perf_counter()
        cpu1, server1, busy1, db1 = (
            os.times(),
            server.cpu_seconds(),
            _machine_busy(),
            _postgres_cpu(),
        )
        if big is not None:  # it may still be in flight: the load's figures end above
            await big_task
        out["elapsed"], out["started"] = t_end - t_start, t_start
        out["client_cpu"] = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
        out["server_cpu"] = server1 - server0
        out["machine_cpu"] = busy1 - busy0
        out["db_cpu"] = sum(t - db0.get(pid, 0.0) for pid, t in db1.items())
    finally:
        for c in pool + [big] * (big is not None):
            await c.close()
    return out


def _machine_busy() -> float:
    import psutil

    t = psutil.cpu_times()
    return sum(getattr(t, name, 0.0) for name in ("user", "system", "nice", "irq", "softirq"))


def _postgres_cpu() -> dict[int, float]:
    """CPU seconds of every PostgreSQL process on this machine, by process id."""
    import psutil

    found = {}
    for p in psutil.process_iter(["name", "cpu_times"]):
        if p.info["name"] == "postgres" and p.info["cpu_times"] is not None:
            found[p.pid] = p.info["cpu_times"].user + p.info["cpu_times"].system
    return found


# ------------------------------------------------------------------ checks
def check_store(url: str, key: str, pre: Preloaded, uploads: list[Upload]) -> dict[str, int]:
    """Compare the store with what the service acknowledged (see the module docstring)."""
    import sqlalchemy as sa

    from oncoresist.server._views import site_scoped
    from oncoresist.store import _schema as s
    from oncoresist.store import pseudonym, resolve_key

    k = resolve_key(key)
    engine = sa.create_engine(sa.make_url(url) if "://" in url else f"sqlite:///{url}")
    acked = [u for u in uploads if u.status == 200 and u.answer is not None]
    failed = [u for u in uploads if u not in acked]
    found = {"acknowledged": len(acked), "lost": 0, "duplicated": 0, "wrong_answer": 0,
             "failed": len(failed), "stored_unacknowledged": 0,
             "unexpected_ingests": 0}  # fmt: skip
    try:
        with engine.connect() as conn:
            by_sha: dict[str, list[int]] = {}
            for row in conn.execute(
                sa.select(s.ingests.c.sha256, s.ingests.c.id).where(s.ingests.c.kind == "serial")
            ):
                by_sha.setdefault(row.sha256, []).append(row.id)
            names = {
                pseudonym(k, "sample", site_scoped(SITE, sid)): sid
                for u in uploads
                for sid in u.samples
            }
            samples, counts = {}, Counter()
            wanted = sorted(names)
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                for row in conn.execute(
                    sa.select(s.samples.c.pseudonym, s.samples.c.patient, s.samples.c.ingest_id)
                    .where(s.samples.c.pseudonym.in_(chunk))
                ):  # fmt: skip
                    samples[row.pseudonym] = (row.patient, row.ingest_id)
                for row in conn.execute(
                    sa.select(s.observations.c.sample, s.observations.c.ingest_id,
                              sa.func.count().label("n"))
                    .where(s.observations.c.sample.in_(chunk))
                    .group_by(s.observations.c.sample, s.observations.c.ingest_id)
                ):  # fmt: skip
                    counts[(row.sample, row.ingest_id)] += row.n
        for u in acked:
            ids = by_sha.get(u.sha256, [])
            ingest = u.answer["ingest_id"]
            lost = duplicated = False
            if not ids:
                lost = True
            elif len(ids) > 1 or ids[0] != ingest:
                duplicated = len(ids) > 1
                found["wrong_answer"] += ids[0] != ingest
            for sid, (raw, rows) in u.samples.items():
                name = pseudonym(k, "sample", site_scoped(SITE, sid))
                patient = pseudonym(k, "patient", site_scoped(SITE, raw))
                stored = counts.get((name, ingest), 0)
                if samples.get(name) != (patient, ingest) or stored < rows:
                    lost = True
                elif stored == rows and len(ids) == 1:
                    u.rows_stored_once += rows
                duplicated |= stored > rows
            patients = sorted(pseudonym(k, "patient", site_scoped(SITE, p)) for p in u.patients)
            if (sorted(u.answer.get("patients", [])) != patients
                    or u.answer.get("inserted") != u.rows
                    or u.answer.get("already_ingested")):  # fmt: skip
                found["wrong_answer"] += 1
            found["lost"] += lost
            found["duplicated"] += duplicated
            u.lost, u.duplicated = lost, duplicated
        found["stored_unacknowledged"] = sum(u.sha256 in by_sha for u in failed)
        known = pre.sha256 | {u.sha256 for u in uploads}
        found["unexpected_ingests"] = sum(len(v) for sha, v in by_sha.items() if sha not in known)
        found["serial_ingests"] = sum(len(v) for v in by_sha.values())
    finally:
        engine.dispose()
    return found


# ------------------------------------------------------------------ report
def stats_ms(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {"n": 0, "p50": float("nan"), "p95": float("nan"), "p99": float("nan"),
                "max": float("nan")}  # fmt: skip
    a = np.asarray(seconds) * 1000
    return {"n": len(a), "p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)),
            "p99": float(np.percentile(a, 99)), "max": float(a.max())}  # fmt: skip


def show_errors(errors: list[Result]) -> None:
    groups: dict[tuple, list[float]] = {}
    for r in errors:
        groups.setdefault((r.kind, r.status, r.error[:160]), []).append(r.seconds)
    for (kind, status, msg), took in sorted(groups.items(), key=lambda g: -len(g[1]))[:5]:
        print(f"      {len(took)} x {kind} {status}: {msg} (after {min(took):.1f}-"
              f"{max(took):.1f} s)")  # fmt: skip


def line(label: str, st: dict[str, float], elapsed: float | None = None) -> str:
    rate = f"{st['n'] / elapsed:8.1f}/s" if elapsed else " " * 10
    return (f"   {label:<30} {st['n']:7d} {rate}  p50 {st['p50']:7.1f}  p95 {st['p95']:7.1f}  "
            f"p99 {st['p99']:7.1f}  max {st['max']:7.1f} ms")  # fmt: skip


def run_backend(args, backend: str, url: str, oncoresist: list[str], tmp: Path) -> dict:
    """Preload, serve, drive and check one database; print and return the figures."""
    from oncoresist.store import new_key, verify_log

    key = new_key()
    audit = tmp / f"audit-{backend}.log"
    env = {**os.environ, "ONCORESIST_DB": url, "ONCORESIST_KEY": key,
           "ONCORESIST_AUDIT_LOG": str(audit)}  # fmt: skip
    env.pop("ONCORESIST_KEY_FILE", None)
    t0 = time.perf_counter()
    pre = preload(url, key, args.patients, args.seed, tmp)
    add_user(oncoresist, url, env)
    print(f"   preloaded {args.patients} patients x {DRAWS} draws x {len(VARIANTS)} variants "
          f"({args.patients * DRAWS * len(VARIANTS):,} observations) and a therapy line each, "
          f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip
    server = Server(oncoresist, workers=args.workers, env=env, log=tmp / f"server-{backend}.log")
    try:
        ready = server.wait_ready()
        print(f"   oncoresist serve --workers {args.workers} --no-access-log: ready in "
              f"{ready:.1f} s")  # fmt: skip
        shared = Shared(server.base, pre, args.upload_target, secrets.token_hex(3))
        out = asyncio.run(drive(shared, clients=args.clients, seconds=args.seconds,
                                upload_share=args.upload_share, think_s=args.think_ms / 1000,
                                warmup_passes=args.warmup_passes, seed=args.seed,
                                server=server, big_patients=args.big_upload_patients))  # fmt: skip
    finally:
        server.stop()
    errors_logged = server.log.read_text(errors="replace").count("unexpected error")

    passes, n_warm, t_warm, warm_err = out["warmup"]
    print(f"   warm-up (not measured): {args.clients} uploads of new patients (fork servers "
          f"started), then {passes} passes over the {args.patients} patients by "
          f"{args.clients} clients (patient pages built), {n_warm} reads; {t_warm:.1f} s, "
          f"{len(warm_err)} errors")  # fmt: skip
    show_errors(warm_err)
    base = out["baseline"]
    st_base = stats_ms([r.seconds for r in base if r.status == 200])
    print("   unloaded baseline (1 client, sequential, each patient's page once):")
    print(line("GET patient page", st_base, sum(r.seconds for r in base)))
    res, elapsed = shared.results, out["elapsed"]
    reads = [r for r in res if r.kind == "read"]
    ups = [r for r in res if r.kind == "upload"]
    ok_reads = [r.seconds for r in reads if r.status == 200]
    st_read, st_up = stats_ms(ok_reads), stats_ms([r.seconds for r in ups if r.status == 200])
    st_all = stats_ms([r.seconds for r in res if r.status == 200])
    errors = [r for r in res if r.status != 200]
    think = f", think time {args.think_ms:g} ms (mean)" if args.think_ms else ", no think time"
    print(f"   load: {args.clients} clients for {args.seconds:g} s (measured {elapsed:.1f} s)"
          f"{think}, upload share {args.upload_share:g}, uploads to {args.upload_target} "
          "patients; latency of successful requests:")  # fmt: skip
    print(line("GET patient page", st_read, elapsed))
    fresh = stats_ms([r.seconds for r in reads if r.status == 200 and not r.after_upload])
    after = stats_ms([r.seconds for r in reads if r.status == 200 and r.after_upload])
    print(line("  of patients with no upload", fresh))
    print(line("  of patients uploaded to", after))
    early = [r for r in reads if r.status == 200 and r.start - out["started"] < EARLY_S]
    print(line(f"  sent in the first {EARLY_S:g} s", stats_ms([r.seconds for r in early])))
    print(
        line(
            f"  sent after {EARLY_S:g} s",
            stats_ms(
                [
                    r.seconds
                    for r in reads
                    if r.status == 200 and r.start - out["started"] >= EARLY_S
                ]
            ),
        )
    )
    big, big_res = shared.big, shared.big_result
    if big_res is not None:
        b0, b1 = big_res.start, big_res.start + big_res.seconds
        during = [r.seconds for r in reads if r.status == 200 and r.start < b1
                  and r.start + r.seconds > b0]  # fmt: skip
        later = [r.seconds for r in reads if r.status == 200 and r.start >= b1]
        print(line("  while big upload in flight", stats_ms(during)))
        print(line("  sent after its answer", stats_ms(later)))
    print(line("POST upload (new draw)", st_up, elapsed))
    if big_res is not None:  # small uploads queue with the big one in the upload workers
        print(line("  while big upload in flight", stats_ms(
            [r.seconds for r in ups if r.status == 200 and r.start < b1
             and r.start + r.seconds > b0])))  # fmt: skip
    print(line("all", st_all, elapsed))
    if big_res is not None:
        answered = big.answer or {}
        tail = b1 - (out["started"] + elapsed)
        print(f"   big upload: {len(big.patients)} new patients in one table (one more client, "
              "POST /api/v1/uploads/serial, "
              f"{len(big.data) / 1e6:.2f} MB, {big.rows:,} rows), sent "
              f"{b0 - out['started']:.1f} s into the load: {big_res.status} after "
              f"{big_res.seconds:.2f} s (upload to acknowledgement), "
              f"{len(answered.get('patients', []))} patients and "
              f"{answered.get('inserted', 0):,} rows in the answer"
              + (f"; answered {tail:.1f} s after the load ended" if tail > 0 else ""))  # fmt: skip
        if big.error:
            print(f"      {big.error}")
    print(f"   errors: {len(errors)} of {len(res)} requests "
          f"({len(errors) / max(len(res), 1):.2%}); server log 'unexpected error' lines: "
          f"{errors_logged}")  # fmt: skip
    show_errors(errors)
    cores = os.cpu_count() or 1
    mc, sc, cc, dc = out["machine_cpu"], out["server_cpu"], out["client_cpu"], out["db_cpu"]
    n_req = max(len(res), 1)
    print(f"   CPU during the load ({cores} cores x {elapsed:.1f} s = {cores * elapsed:.0f} "
          f"core-s): machine {mc:.1f} ({mc / (cores * elapsed):.0%}); service {sc:.1f}, "
          f"PostgreSQL {dc:.1f}, benchmark client {cc:.1f}, other processes "
          f"{max(mc - sc - cc - dc, 0):.1f}")  # fmt: skip
    print(f"   CPU per request: service {1000 * sc / n_req:.1f} ms, PostgreSQL "
          f"{1000 * dc / n_req:.1f} ms, client {1000 * cc / n_req:.1f} ms")  # fmt: skip
    mean = 1000 * float(np.mean([r.seconds for r in res])) if res else float("nan")
    print(f"   closed loop (Little's law): {args.clients} clients / {len(res) / elapsed:.1f} "
          f"req/s = {1000 * args.clients * elapsed / n_req:.0f} ms per request in the system; "
          f"mean latency measured {mean:.0f} ms")  # fmt: skip
    print(f"   loaded p95 / unloaded p50 (patient pages): {st_read['p95'] / st_base['p50']:.1f}")

    found = check_store(url, key, pre, shared.uploads)
    audit_report = verify_log(audit, key=bytes.fromhex(key))
    print(f"   store check: {found['acknowledged']} acknowledged uploads: {found['lost']} lost, "
          f"{found['duplicated']} duplicated, {found['wrong_answer']} with a wrong answer; "
          f"{found['failed']} failed uploads, {found['stored_unacknowledged']} of them stored; "
          f"{found['unexpected_ingests']} serial ingests from nowhere "
          f"({found['serial_ingests']} serial ingests in all)")  # fmt: skip
    if big_res is not None:
        print(f"   store check of the {len(big.patients)}-patient upload (counted above too): "
              f"{big.rows_stored_once:,} of {big.rows:,} rows stored exactly once; "
              f"{'lost' if big.lost else 'not lost'}, "
              f"{'duplicated' if big.duplicated else 'not duplicated'}")  # fmt: skip
    print(f"   audit log: {audit_report.events:,} events, hash chain "
          f"{'intact' if audit_report.ok else 'BROKEN: ' + audit_report.problem}")  # fmt: skip
    checks = [
        (f"p95 of patient pages {st_read['p95']:.1f} ms < {P95_TARGET_MS:g} ms",
         st_read["p95"] < P95_TARGET_MS),
        (f"errors {len(errors)} == 0", not errors),
        (f"lost {found['lost']} / duplicated {found['duplicated']} acknowledged uploads == 0 / 0",
         found["lost"] == 0 and found["duplicated"] == 0 and found["wrong_answer"] == 0),
        ("audit chain intact", audit_report.ok),
    ]  # fmt: skip
    if big_res is not None:
        n_big = len(big.patients)
        checks.append((
            f"{n_big}-patient upload: {big_res.status} with "
            f"{len((big.answer or {}).get('patients', []))} patients, "
            f"{big.rows_stored_once:,} of {big.rows:,} rows stored exactly once",
            big_res.status == 200 and len((big.answer or {}).get("patients", [])) == n_big
            and big.rows_stored_once == big.rows and not big.lost and not big.duplicated,
        ))  # fmt: skip
    for text, ok in checks:
        print(f"   {'PASS' if ok else 'FAIL'}  {text}")
    print(f"   (load average after the run {os.getloadavg()[0]:.2f})")
    return {"read": st_read, "upload": st_up, "base": st_base, "elapsed": elapsed,
            "big": None if big_res is None else big_res.seconds,
            "requests": len(res), "errors": len(errors), "found": found,
            "ok": all(ok for _, ok in checks)}  # fmt: skip


def oncoresist_command() -> list[str]:
    script = Path(sys.executable).with_name("oncoresist")
    if script.exists():
        return [str(script)]
    found = shutil.which("oncoresist")
    return [found] if found else [sys.executable, "-m", "oncoresist"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the load phase")
    ap.add_argument("--clients", type=int, default=50, help="concurrent clients")
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    ap.add_argument("--patients", type=int, default=200, help="preloaded patients")
    ap.add_argument("--upload-share", type=float, default=0.1,
                    help="fraction of requests that are uploads")  # fmt: skip
    ap.add_argument("--upload-target", choices=("existing", "new"), default="existing",
                    help="uploads add a draw to a preloaded patient, or a new patient")  # fmt: skip
    ap.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="mean pause of a client between requests (exponential; 0: none)",
    )
    ap.add_argument("--warmup-passes", type=int, default=4)
    ap.add_argument("--big-upload-patients", type=int, default=160,
                    help="one more client uploads one serial table of this many new patients "
                         "during the load (0: none)")  # fmt: skip
    ap.add_argument("--db", help="PostgreSQL server URL (a fresh database is created on it)")
    ap.add_argument("--sqlite", action="store_true",
                    help="also run on a SQLite file, as a comparison")  # fmt: skip
    ap.add_argument("--sqlite-only", action="store_true", help="run on a SQLite file only")
    ap.add_argument("--quick", action="store_true", help="10 s, 20 clients")
    ap.add_argument("--seed", type=int, default=20240601)
    args = ap.parse_args(argv)
    if args.quick:
        args.seconds, args.clients = 10.0, 20

    import fastapi
    import sqlalchemy
    import uvicorn

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, uvicorn {uvicorn.__version__}, fastapi "
          f"{fastapi.__version__}, SQLAlchemy {sqlalchemy.__version__}; "
          f"{dt.date.today().isoformat()}; load average before the run "
          f"{os.getloadavg()[0]:.2f}")  # fmt: skip
    oncoresist = oncoresist_command()
    results: dict[str, dict] = {}
    pg: Postgres | None = None
    fresh: FreshDatabase | None = None
    with tempfile.TemporaryDirectory(prefix="oncoresist-bench-server-") as name:
        tmp = Path(name)
        try:
            if not args.sqlite_only:
                server_url = args.db or os.environ.get("ONCORESIST_TEST_PG_URL")
                if not server_url:
                    pg = Postgres()
                    server_url = pg.start()
                fresh = FreshDatabase(server_url)
                print(f"\nPostgreSQL {fresh.version()}, fresh database {fresh.name}")
                results["postgresql"] = run_backend(args, "postgresql", fresh.url, oncoresist, tmp)
            if args.sqlite or args.sqlite_only:
                url = f"sqlite:///{tmp / 'bench.sqlite'}"
                print(f"\nSQLite {sqlite_version()} (WAL), fresh file")
                results["sqlite"] = run_backend(args, "sqlite", url, oncoresist, tmp)
        finally:
            if fresh is not None:
                try:
                    fresh.drop()
                except Exception as exc:  # the server may be gone already
                    print(f"   (could not drop {fresh.name}: {type(exc).__name__})")
            if pg is not None:
                pg.stop()
    if len(results) == 2:
        p, s_ = results["postgresql"], results["sqlite"]
        rate = (p["requests"] / p["elapsed"]) / (s_["requests"] / s_["elapsed"])
        print("\nPostgreSQL / SQLite: "
              f"p95 patient page {p['read']['p95'] / s_['read']['p95']:.2f}, "
              f"p95 upload {p['upload']['p95'] / s_['upload']['p95']:.2f}, "
              f"throughput {rate:.2f}")  # fmt: skip
    return 0 if all(r["ok"] for r in results.values()) else 1


def sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


if __name__ == "__main__":
    sys.exit(main())
