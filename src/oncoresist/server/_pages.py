"""The patient page: what it shows, built once per data version and settings, kept in the store.

A page (:class:`~oncoresist.server._schemas.PatientDetail`) is computed from the stored
draws, therapy lines, events, consent and disease by :func:`oncoresist.monitor.monitor`
under the service's settings (:class:`~oncoresist.server._views.MonitorConfig`): calls,
series-level alerts in their categories, molecular response, trends, trajectories, the
settings themselves and each alert-free series' limit of detection. It is stored as JSON
in ``patient_pages`` under the patient's *data version* (:func:`data_version`), which ends
with the settings' fingerprint, so a read costs one query (:func:`stored_page`), whichever
worker or host answers it, and a page computed under another panel or budget is never
served as current.

Who builds it:

- an upload builds the pages of its patients in the upload worker process, inside the
  transaction of its ingest (:func:`rebuild`), all of them from one ``monitor()`` run, so a
  reader sees either the old rows with the old page or the new rows with the new page;
- any other change (consent, disease, a command-line ingest, new settings) leaves the
  stored page behind the data version, and the next read builds it (:func:`fresh_page`,
  or :func:`fresh_pages` for a list) and stores it if the version has not moved on
  meanwhile (:func:`save_current`).

**Limits of detection follow.** The per-series limit of detection costs about 25
propagations of the sequential test per series (27 of the 29 s of ``monitor()`` on an
upload of 160 patients), so pages are first stored without it (``series_limits`` is
``None``; the stored version carries :data:`PENDING`) and counted current; a
:class:`LimitQueue` per service process then computes the limits in batches, in an upload
worker process at low priority, and stores the complete pages if their data version has
not moved on.

Writers of one patient's page hold a lock on its ``patients`` row (``FOR UPDATE`` on
PostgreSQL; SQLite has one writer at a time), so two uploads for one patient cannot store
a page that misses the other's rows.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa

from oncoresist.kb import KnowledgeBase
from oncoresist.server import _consent as consent_
from oncoresist.server import _schemas as m
from oncoresist.server import _views as v
from oncoresist.store import IngestResult, Store
from oncoresist.store import _schema as s
from oncoresist.store import pseudonym as make_pseudonym
from oncoresist.store._engine import create_store_engine, for_writing, retry

__all__ = [
    "PENDING",
    "LimitQueue",
    "Page",
    "Stored",
    "StoredPage",
    "alerts_of",
    "build",
    "build_many",
    "complete_limits",
    "consent_out",
    "data_version",
    "detail_of",
    "fresh_page",
    "fresh_pages",
    "rebuild",
    "resistance_alerts",
    "samples_of",
    "save_current",
    "save_if_current",
    "series_limits",
    "settings_of",
    "store_upload",
    "stored_alerts",
    "stored_page",
    "therapy_of",
]

log = logging.getLogger("oncoresist.server.pages")
#: prefix of a stored page's version while its limits of detection are being computed
PENDING = "limits-pending:"
#: patients whose limits of detection one worker job computes
LIMIT_BATCH = 20


@dataclass(frozen=True)
class Page:
    """A built page: the data version it shows, its JSON and its resistance alerts.

    ``complete``: it holds the per-series limits of detection.
    """

    version: str
    body: str
    alerts: int
    complete: bool = True

    @property
    def stored_version(self) -> str:
        """The version as stored: :data:`PENDING` first while limits are to come."""
        return self.version if self.complete else PENDING + self.version


@dataclass(frozen=True)
class StoredPage:
    """What one read query returns: the patient's site, data version and stored page."""

    site: str | None
    version: str
    page_version: str | None
    body: str | None

    @property
    def current(self) -> bool:
        """Whether the stored page shows the patient's current data, under these settings."""
        return (self.body is not None and self.page_version is not None
                and self.page_version.removeprefix(PENDING) == self.version)  # fmt: skip

    @property
    def complete(self) -> bool:
        """Whether it is current and holds the limits of detection."""
        return self.current and self.page_version == self.version


# --------------------------------------------------------------------- versions
def _version_text(parts: tuple, fingerprint: str) -> str:
    return json.dumps([*(None if x is None else str(x) for x in parts), fingerprint])


def data_version(connection: sa.Connection, pseudonym: str, fingerprint: str) -> str:
    """The patient's data version (text) under the settings of ``fingerprint``.

    :func:`oncoresist.server._views.version_of`, then the settings' fingerprint
    (:attr:`~oncoresist.server._views.MonitorConfig.fingerprint`).
    """
    return _version_text(v.version_of(connection, pseudonym), fingerprint)


@dataclass(frozen=True)
class _Patient:
    site: str | None
    parts: tuple

    @property
    def disease(self) -> str | None:
        return self.parts[-1]


def _patients(connection: sa.Connection, pseudonyms: list[str]) -> dict[str, _Patient]:
    """Site and data version of each stored patient of ``pseudonyms`` (one query per 500)."""
    p = s.patients
    query = sa.select(p.c.pseudonym, p.c.site, *v.version_columns(p.c.pseudonym))
    out = {}
    for chunk in v._chunks(sorted(set(pseudonyms))):
        for pid, site, *parts in connection.execute(query.where(p.c.pseudonym.in_(chunk))):
            out[pid] = _Patient(site, tuple(parts))
    return out


def _page_query() -> sa.Select:
    p, pg, pid = s.patients, s.patient_pages, sa.bindparam("pid")
    return (
        sa.select(p.c.site, pg.c.version, pg.c.body, *v.version_columns(pid))
        .select_from(p.outerjoin(pg, pg.c.patient == p.c.pseudonym))
        .where(p.c.pseudonym == pid)
    )


_PAGE = _page_query()  # built once, as the statement every page read runs


def stored_page(connection: sa.Connection, pseudonym: str, fingerprint: str) -> StoredPage | None:
    """Site, data version and stored page of a patient, in one query (``None``: no such)."""
    row = connection.execute(_PAGE, {"pid": pseudonym}).one_or_none()
    if row is None:
        return None
    site, page_version, body, *parts = row
    return StoredPage(site, _version_text(tuple(parts), fingerprint), page_version, body)


def stored_alerts(connection: sa.Connection, pseudonyms: list[str],
                  fingerprint: str) -> dict[str, int]:  # fmt: skip
    """Resistance alerts of those ``pseudonyms`` whose stored page is current (one query)."""
    p, pg = s.patients, s.patient_pages
    query = (
        sa.select(p.c.pseudonym, pg.c.version, pg.c.alerts, *v.version_columns(p.c.pseudonym))
        .join_from(p, pg, pg.c.patient == p.c.pseudonym)
        .where(p.c.pseudonym.in_(pseudonyms))
    )
    return {
        pid: alerts
        for pid, version, alerts, *parts in connection.execute(query)
        if version.removeprefix(PENDING) == _version_text(tuple(parts), fingerprint)
    }


# --------------------------------------------------------------------- building
def resistance_alerts(detail: m.PatientDetail) -> int:
    """The page's resistance alerts: those of category ``emerging_resistance`` only."""
    return sum(a.category == "emerging_resistance" for a in detail.alerts)


def build_many(store: Store, connection: sa.Connection, pseudonyms: list[str], *,
               kb: KnowledgeBase, config: v.MonitorConfig,
               lod: bool = False) -> dict[str, Page]:  # fmt: skip
    """Compute the pages of stored patients from what ``connection`` sees, in one run.

    Parameters
    ----------
    store
        The store.
    connection
        A connection, in a transaction that may hold uncommitted rows of the patients.
    pseudonyms
        The patients (unknown ones are left out of the result).
    kb
        The knowledge base for alerts.
    config
        Background and budgets.
    lod
        Include the per-series limits of detection (:attr:`Page.complete`).

    Returns
    -------
    dict
        :class:`Page` per pseudonym.
    """
    found = _patients(connection, pseudonyms)
    pids = sorted(found)
    if not pids:
        return {}
    mons = v.compute_many(store, pids, kb=kb, config=config, connection=connection, lod=lod,
                          diseases={p: found[p].disease for p in pids})  # fmt: skip
    consents = consent_.consent_in_force(connection, pids)
    out = {}
    for pid in pids:
        detail = detail_of(mons[pid], pid, site=found[pid].site or "", consent=consents.get(pid))
        version = _version_text(found[pid].parts, config.fingerprint)
        out[pid] = Page(version, detail.model_dump_json(), resistance_alerts(detail), lod)
    return out


def build(store: Store, connection: sa.Connection, pseudonym: str, *, kb: KnowledgeBase,
          config: v.MonitorConfig, lod: bool = False) -> Page:  # fmt: skip
    """Compute the page of one patient (:func:`build_many` of one)."""
    return build_many(store, connection, [pseudonym], kb=kb, config=config, lod=lod)[pseudonym]


def _lock(connection: sa.Connection, pseudonyms: list[str]) -> None:
    p = s.patients
    for chunk in v._chunks(sorted(pseudonyms)):
        connection.execute(
            sa.select(p.c.pseudonym)
            .where(p.c.pseudonym.in_(chunk))
            .order_by(p.c.pseudonym)
            .with_for_update()
        ).all()


def _save(connection: sa.Connection, pages: dict[str, Page]) -> None:
    if not pages:
        return
    pg = s.patient_pages
    for chunk in v._chunks(sorted(pages)):
        connection.execute(sa.delete(pg).where(pg.c.patient.in_(chunk)))
    now = dt.datetime.now(dt.UTC)
    connection.execute(sa.insert(pg), [
        {"patient": pid, "version": page.stored_version, "body": page.body,
         "alerts": page.alerts, "built_at": now}
        for pid, page in sorted(pages.items())
    ])  # fmt: skip


def rebuild(store: Store, connection: sa.Connection, pseudonyms: list[str], *,
            kb: KnowledgeBase, config: v.MonitorConfig) -> None:  # fmt: skip
    """Build and store the pages of ``pseudonyms`` inside the caller's write transaction.

    One ``monitor()`` run for all of them; without the limits of detection (the caller
    queues them, see :class:`LimitQueue`).
    """
    _lock(connection, pseudonyms)
    _save(connection, build_many(store, connection, pseudonyms, kb=kb, config=config))


_BUILDING = v.KeyedLocks()


def fresh_page(store: Store, pseudonym: str, *, kb: KnowledgeBase,
               config: v.MonitorConfig) -> tuple[str, bool]:  # fmt: skip
    """The JSON of the page of the patient's current data, built here if need be, and stored.

    Concurrent callers in one process build it once; the others wait and read it.

    Returns
    -------
    tuple
        The page's JSON, and whether it holds the limits of detection (a page built here
        does not: queue them).
    """
    with _BUILDING.hold((store.url, pseudonym)):
        with store.engine.connect() as connection:
            found = stored_page(connection, pseudonym, config.fingerprint)
            if found is not None and found.current:
                return found.body, found.complete  # type: ignore[return-value]
            page = build(store, connection, pseudonym, kb=kb, config=config)
            connection.rollback()
        save_current(store.engine, {pseudonym: page}, config.fingerprint)
        return page.body, page.complete


def fresh_pages(store: Store, pseudonyms: list[str], *, kb: KnowledgeBase,
                config: v.MonitorConfig) -> dict[str, Page]:  # fmt: skip
    """Pages of the current data of ``pseudonyms``: built (in one run) where not stored.

    Returns
    -------
    dict
        :class:`Page` per stored patient; those built here are stored and incomplete.
    """
    out, missing = {}, []
    with store.engine.connect() as connection:
        for pid in pseudonyms:
            found = stored_page(connection, pid, config.fingerprint)
            if found is None:
                continue
            if found.current:
                body = found.body or "{}"
                detail = m.PatientDetail.model_validate_json(body)
                out[pid] = Page(found.version, body, resistance_alerts(detail), found.complete)
            else:
                missing.append(pid)
        built = build_many(store, connection, missing, kb=kb, config=config) if missing else {}
        connection.rollback()
    save_current(store.engine, built, config.fingerprint)
    return out | built


def save_current(engine: sa.Engine, pages: dict[str, Page], fingerprint: str) -> list[str]:
    """Store each page unless its patient's data moved on since it was built (one transaction).

    A complete page stored for the same data version is not replaced by an incomplete one.

    Returns
    -------
    list of str
        The pseudonyms whose page was stored.
    """
    if not pages:
        return []
    pg = s.patient_pages

    def write() -> list[str]:
        with for_writing(engine).begin() as connection:
            _lock(connection, list(pages))
            now = _patients(connection, list(pages))
            stored = dict(connection.execute(
                sa.select(pg.c.patient, pg.c.version).where(pg.c.patient.in_(list(pages)))
            ).all())  # fmt: skip
            keep = {}
            for pid, page in pages.items():
                if pid not in now or _version_text(now[pid].parts, fingerprint) != page.version:
                    continue
                if not page.complete and stored.get(pid) == page.version:
                    continue  # the complete page of this version is already there
                keep[pid] = page
            _save(connection, keep)
            return sorted(keep)

    return retry(write, integrity=True)


def save_if_current(engine: sa.Engine, pseudonym: str, page: Page, fingerprint: str) -> bool:
    """Store ``page`` unless the patient's data moved on since it was built.

    Returns
    -------
    bool
        Whether it was stored.
    """
    return bool(save_current(engine, {pseudonym: page}, fingerprint))


@dataclass(frozen=True)
class Stored:
    """What storing an upload did: the ingest, its patients and where the time went."""

    result: IngestResult
    patients: list[str]
    ingest_s: float
    pages_s: float


def store_upload(frame: pd.DataFrame, *, kind: str, url: sa.URL, key: bytes, site: str,
                 sha256: str, kb: KnowledgeBase, config: v.MonitorConfig) -> Stored:  # fmt: skip
    """Ingest an upload's parsed table for ``site`` and rebuild its patients' pages.

    Runs in the upload worker process (see :mod:`oncoresist.server._uploads`) with its own
    connection: identifiers are namespaced by site (:func:`~._views.site_scoped`), then the
    rows, the site of new patients and the rebuilt pages (one ``monitor()`` run for all the
    file's patients, without the limits of detection) commit in one transaction.

    Returns
    -------
    Stored
        The ingest result, the pseudonyms of the file's patients (sorted), and the seconds
        spent writing the rows and building the pages.
    """
    started = time.perf_counter()
    frame = v.site_frame(frame, site)
    patients = sorted({make_pseudonym(key, "patient", p) for p in frame["patient_id"]})
    store = Store(create_store_engine(url), key=key)
    spent = [0.0]

    def pages(connection: sa.Connection, _: IngestResult) -> None:
        t0 = time.perf_counter()
        rebuild(store, connection, patients, kb=kb, config=config)
        spent[0] = time.perf_counter() - t0  # the last run counts (a retry runs it again)

    # marker measurements are not on the stored page (the forecast is computed apart, see
    # oncoresist.server._forecasts), so they leave the pages as they are
    then = None if kind == "measurements" else pages
    try:
        result = store.ingest_frame(
            kind, frame, sha256=sha256, site=site, then=then,  # type: ignore[arg-type]
        )  # fmt: skip
    finally:
        store.close()
    return Stored(result, patients, time.perf_counter() - started - spent[0], spent[0])


def complete_limits(pseudonyms: list[str], *, url: sa.URL, key: bytes, kb: KnowledgeBase,
                    config: v.MonitorConfig) -> list[str]:  # fmt: skip
    """Build the complete pages (limits of detection included) and store the current ones.

    Runs in an upload worker process (:class:`LimitQueue`).

    Returns
    -------
    list of str
        The pseudonyms whose complete page was stored (the others' data moved on).
    """
    store = Store(create_store_engine(url), key=key)
    try:
        with store.engine.connect() as connection:
            built = build_many(store, connection, pseudonyms, kb=kb, config=config, lod=True)
            connection.rollback()
        return save_current(store.engine, built, config.fingerprint)
    finally:
        store.close()


@dataclass
class LimitQueue:
    """Patients whose stored page still lacks its limits of detection, computed in turn.

    One background thread takes every queued patient, :data:`LIMIT_BATCH` at a time, and
    hands each batch to ``job`` (the service runs :func:`complete_limits` in an upload
    worker process, at low priority). A batch that fails is not queued again by
    :meth:`add` until ``again`` says its data changed.
    """

    job: Callable[[list[str]], object]
    pending: list[str] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    idle: threading.Event = field(default_factory=threading.Event)
    running: bool = False

    def __post_init__(self) -> None:
        self.idle.set()

    def add(self, pseudonyms: Iterable[str], *, again: bool = False) -> None:
        """Queue patients (``again``: their data changed, so retry those that failed)."""
        with self.lock:
            for pid in pseudonyms:
                if again:
                    self.failed.discard(pid)
                if pid not in self.failed and pid not in self.pending:
                    self.pending.append(pid)
            if self.pending and not self.running:
                self.running = True
                self.idle.clear()
                threading.Thread(target=self._run, name="oncoresist-limits", daemon=True).start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until nothing is queued or computing; ``False`` at the timeout."""
        return self.idle.wait(timeout)

    def _run(self) -> None:
        while True:
            with self.lock:
                batch, self.pending = self.pending[:LIMIT_BATCH], self.pending[LIMIT_BATCH:]
                if not batch:
                    self.running = False
                    self.idle.set()
                    return
            try:
                self.job(batch)
            except Exception as exc:  # the pages stay without limits; reads still work
                log.warning("limits of detection of %d patients not computed: %s: %s",
                            len(batch), type(exc).__name__, exc)  # fmt: skip
                with self.lock:
                    self.failed.update(batch)


# --------------------------------------------------------------------- what it shows
def consent_out(c: consent_.Consent) -> m.ConsentOut:
    """A consent record as the API shows it (codes with their DUO labels)."""
    return m.ConsentOut(
        scope=c.scope, duo_codes=list(c.duo_codes),
        labels=[f"{consent_.DUO[x][0]}: {consent_.DUO[x][1]}" for x in c.duo_codes],
        disease=c.disease, version=c.version, consent_date=c.consent_date,
        recorded_at=c.recorded_at, recorded_by=c.recorded_by,
    )  # fmt: skip


def samples_of(mon: v.Monitoring) -> list[m.SampleOut]:
    """The patient's draws, oldest first, with day offsets and variant counts."""
    calls = mon.calls
    if calls.empty:
        return []
    ids, first, which = np.unique(calls["sample_id"].to_numpy(str), return_index=True,
                                  return_inverse=True)  # fmt: skip
    variants = np.bincount(which, minlength=ids.size)
    detected = np.bincount(which, weights=(calls["state"] == "detected").to_numpy(),
                           minlength=ids.size)  # fmt: skip
    dates = pd.to_datetime(calls["collection_date"]).to_numpy()[first]
    ng = calls["cfdna_ng"].to_numpy(float)[first]
    tf = calls["tumor_fraction"].to_numpy(float)[first]
    return [
        m.SampleOut(sample=str(ids[i]), collection_date=pd.Timestamp(dates[i]).date(),
                    day=v.day_of(mon.origin, dates[i]), cfdna_ng=v.number(ng[i]),
                    tumor_fraction=v.number(tf[i]), variants=int(variants[i]),
                    detected=int(detected[i]))
        for i in np.lexsort((first, dates))  # by date, then as the calls list them
    ]  # fmt: skip


def _records(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[dict]:
    """``frame.to_dict("records")`` of ``columns`` (a tenth of its cost on small frames)."""
    if frame.empty:
        return []
    return [dict(zip(columns, row, strict=True))
            for row in zip(*(frame[c].tolist() for c in columns), strict=True)]  # fmt: skip


_ALERT = ("alteration", "category", "first_called_date", "vaf", "regimen", "verdict",
          "mechanism", "evidence", "lead_time_days", "doubling_time_days", "message")  # fmt: skip


def alerts_of(mon: v.Monitoring) -> list[m.AlertOut]:
    """The patient's alerts, each with its category, linked to the knowledge base."""
    out = []
    for row in _records(mon.alerts, _ALERT):
        out.append(m.AlertOut(
            alteration=row["alteration"], category=row["category"],
            first_called_date=pd.Timestamp(row["first_called_date"]).date(),
            day=v.day_of(mon.origin, row["first_called_date"]), vaf=float(row["vaf"]),
            regimen=v.text(row["regimen"]), verdict=v.text(row["verdict"]),
            mechanism=v.text(row["mechanism"]), evidence=v.text(row["evidence"]),
            lead_time_days=v.number(row["lead_time_days"]),
            doubling_time_days=v.number(row["doubling_time_days"]), message=row["message"],
        ))  # fmt: skip
    return out


def therapy_of(mon: v.Monitoring) -> list[m.TherapyLineOut]:
    """The patient's lines of therapy."""
    return [
        m.TherapyLineOut(
            regimen=row["regimen"],
            start_date=pd.Timestamp(row["start_date"]).date(),
            end_date=None if pd.isna(row["end_date"]) else pd.Timestamp(row["end_date"]).date(),
            reason_stopped=v.text(row["reason_stopped"]),
        )
        for row in _records(mon.therapy, ("regimen", "start_date", "end_date", "reason_stopped"))
    ]


def _days(origin: pd.Timestamp | None, dates: np.ndarray) -> list[int | None]:
    """:func:`~oncoresist.server._views.day_of` of each of ``dates`` (datetime64[ns])."""
    if origin is None or pd.isna(origin):
        return [None] * len(dates)
    ns = dates.astype("datetime64[ns]").view("int64") - pd.Timestamp(origin).value
    days = np.floor_divide(ns, 86_400 * 10**9)
    return [None if d == _NAT else int(d) for d in np.where(np.isnat(dates), _NAT, days)]


_NAT = np.iinfo(np.int64).min


def _trajectories(mon: v.Monitoring) -> list[m.TrajectoryOut]:
    calls = mon.calls
    if calls.empty:
        return []
    names, codes = np.unique(calls["alteration"].to_numpy(str), return_inverse=True)
    dates = calls["collection_date"].to_numpy("datetime64[ns]")
    order = np.lexsort((dates, codes))  # by alteration, then date; ties as the calls list them
    # in the unit the calls counted (molecules or reads), as the limits of detection are
    unit = ("alt_count", "depth_count") if "depth_count" in calls else ("alt_reads", "depth")
    alt, depth = calls[unit[0]].to_numpy(float), calls[unit[1]].to_numpy(float)
    vaf = np.divide(alt, depth, out=np.zeros_like(alt), where=depth > 0)[order].tolist()
    days = _days(mon.origin, dates[order])
    day_dates = dates[order].astype("datetime64[D]").tolist()
    states = calls["state"].to_numpy(str)[order].tolist()
    lods = [v.number(x) for x in calls["lod_vaf"].to_numpy(float)[order]]
    out: dict[str, list[m.PointOut]] = {}
    for i, code in enumerate(codes[order].tolist()):
        point = m.PointOut(day=days[i], collection_date=day_dates[i], vaf=vaf[i], state=states[i],
                           lod_vaf=lods[i])  # fmt: skip
        out.setdefault(str(names[code]), []).append(point)
    return [m.TrajectoryOut(alteration=a, points=p) for a, p in out.items()]


def series_limits(mon: v.Monitoring) -> list[m.SeriesLimitOut] | None:
    """The limit of detection of each alteration's series without an alert.

    ``None`` when ``mon`` was computed without them. An alteration with an alert of any
    category (or a series-level call) has none.
    """
    if not mon.lod:
        return None
    calls = mon.calls
    if calls.empty:
        return []
    alerted = set() if mon.alerts.empty else set(mon.alerts["alteration"].astype(str))
    frame = pd.DataFrame({"alteration": calls["alteration"].astype(str).to_numpy(),
                          "called": calls["series_called"].to_numpy(bool),
                          "lod": calls["series_lod_vaf"].to_numpy(float)})  # fmt: skip
    per = frame.groupby("alteration", sort=True).agg(called=("called", "any"), lod=("lod", "min"))
    return [
        m.SeriesLimitOut(alteration=a, lod_vaf=v.number(row.lod))
        for a, row in zip(per.index, per.itertuples(index=False), strict=True)
        if not row.called and a not in alerted
    ]


def settings_of(mon: v.Monitoring) -> m.MonitoringSettingsOut:
    """The settings the patient's results were computed under, with their sentence."""
    keys = ("warnings", "error_model", "panel", "count_unit", "budget", "horizon", "fpr",
            "recovery")  # fmt: skip
    return m.MonitoringSettingsOut(**{k: mon.settings.get(k) for k in keys},
                                   sentence=v.describe(mon.settings))  # fmt: skip


def detail_of(mon: v.Monitoring, pseudonym: str, *, site: str,
              consent: consent_.Consent | None) -> m.PatientDetail:  # fmt: skip
    """Everything the patient page shows, from the patient's monitoring results."""
    response = [
        m.ResponseOut(
            sample=r["sample_id"], collection_date=pd.Timestamp(r["collection_date"]).date(),
            measure=r["measure"], level=v.number(r["level"]), change=v.number(r["change"]),
            category=r["category"],
        )
        for r in _records(mon.response, ("sample_id", "collection_date", "measure", "level",
                                         "change", "category"))
    ]  # fmt: skip
    trends = [
        m.TrendOut(
            alteration=r["alteration"], n_detected=int(r["n_detected"]),
            doubling_time_days=v.number(r["doubling_time_days"]), last_vaf=v.number(r["last_vaf"]),
        )
        for r in _records(mon.trends, ("alteration", "n_detected", "doubling_time_days",
                                       "last_vaf"))
    ]  # fmt: skip
    return m.PatientDetail(
        pseudonym=pseudonym, site=site, disease=mon.disease,
        consent=consent_out(consent) if consent else None, therapy=therapy_of(mon),
        samples=samples_of(mon), alerts=alerts_of(mon), response=response, trends=trends,
        trajectories=_trajectories(mon), settings=settings_of(mon),
        series_limits=series_limits(mon),
    )  # fmt: skip
