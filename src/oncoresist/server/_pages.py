"""The patient page: what it shows, built once per data version and kept in the store.

A page (:class:`~oncoresist.server._schemas.PatientDetail`) is computed from the stored
draws, therapy lines, events, consent and disease: calls, molecular response, alerts,
trends and trajectories. That costs 100-200 ms of pandas, so it is stored as JSON in
``patient_pages`` under the patient's *data version* (:func:`data_version`) and a read
costs one query (:func:`stored_page`), whichever worker or host answers it.

Who builds it:

- an upload builds the pages of its patients in the upload worker process, inside the
  transaction of its ingest (:func:`rebuild`), so a reader sees either the old rows with
  the old page or the new rows with the new page;
- any other change (consent, disease, a command-line ingest) leaves the stored page behind
  the data version, and the next read builds it (:func:`build`) and stores it if the
  version has not moved on meanwhile (:func:`save_if_current`).

Writers of one patient's page hold a lock on its ``patients`` row (``FOR UPDATE`` on
PostgreSQL; SQLite has one writer at a time), so two uploads for one patient cannot store
a page that misses the other's rows.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

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
    "Page",
    "StoredPage",
    "alerts_of",
    "build",
    "consent_out",
    "data_version",
    "detail_of",
    "fresh_page",
    "rebuild",
    "samples_of",
    "save_if_current",
    "store_upload",
    "stored_alerts",
    "stored_page",
    "therapy_of",
]


@dataclass(frozen=True)
class Page:
    """A built page: the data version it shows, its JSON and its number of alerts."""

    version: str
    body: str
    alerts: int


@dataclass(frozen=True)
class StoredPage:
    """What one read query returns: the patient's site, data version and stored page."""

    site: str | None
    version: str
    page_version: str | None
    body: str | None

    @property
    def current(self) -> bool:
        """Whether the stored page shows the patient's current data."""
        return self.body is not None and self.page_version == self.version


# --------------------------------------------------------------------- versions
def _version_text(parts: tuple) -> str:
    return json.dumps([None if x is None else str(x) for x in parts])


def data_version(connection: sa.Connection, pseudonym: str) -> str:
    """The patient's data version (text): see :func:`oncoresist.server._views.version_of`."""
    return _version_text(v.version_of(connection, pseudonym))


def _page_query() -> sa.Select:
    p, pg, pid = s.patients, s.patient_pages, sa.bindparam("pid")
    return (
        sa.select(p.c.site, pg.c.version, pg.c.body, *v.version_columns(pid))
        .select_from(p.outerjoin(pg, pg.c.patient == p.c.pseudonym))
        .where(p.c.pseudonym == pid)
    )


_PAGE = _page_query()  # built once, as the statement every page read runs


def stored_page(connection: sa.Connection, pseudonym: str) -> StoredPage | None:
    """Site, data version and stored page of a patient, in one query (``None``: no such)."""
    row = connection.execute(_PAGE, {"pid": pseudonym}).one_or_none()
    if row is None:
        return None
    site, page_version, body, *parts = row
    return StoredPage(site, _version_text(tuple(parts)), page_version, body)


def stored_alerts(connection: sa.Connection, pseudonyms: list[str]) -> dict[str, int]:
    """Alert counts of those ``pseudonyms`` whose stored page is current (one query)."""
    p, pg = s.patients, s.patient_pages
    query = (
        sa.select(p.c.pseudonym, pg.c.version, pg.c.alerts, *v.version_columns(p.c.pseudonym))
        .join_from(p, pg, pg.c.patient == p.c.pseudonym)
        .where(p.c.pseudonym.in_(pseudonyms))
    )
    return {
        pid: alerts
        for pid, version, alerts, *parts in connection.execute(query)
        if version == _version_text(tuple(parts))
    }


# --------------------------------------------------------------------- building
def build(store: Store, connection: sa.Connection, pseudonym: str, *,
          kb: KnowledgeBase) -> Page:  # fmt: skip
    """Compute the page of one patient from what ``connection`` sees.

    Parameters
    ----------
    store
        The store (its readers run on ``connection``).
    connection
        A connection, in a transaction that may hold uncommitted rows of the patient.
    pseudonym
        The patient.
    kb
        The knowledge base for alerts.
    """
    parts = v.version_of(connection, pseudonym)
    site = connection.execute(
        sa.select(s.patients.c.site).where(s.patients.c.pseudonym == pseudonym)
    ).scalar()
    mon = v.compute(store, pseudonym, kb=kb, disease=parts[-1], connection=connection)
    consent = consent_.consent_in_force(connection, [pseudonym]).get(pseudonym)
    detail = detail_of(mon, pseudonym, site=site or "", consent=consent)
    return Page(_version_text(parts), detail.model_dump_json(), len(detail.alerts))


def _lock(connection: sa.Connection, pseudonyms: list[str]) -> None:
    p = s.patients
    connection.execute(
        sa.select(p.c.pseudonym)
        .where(p.c.pseudonym.in_(sorted(pseudonyms)))
        .order_by(p.c.pseudonym)
        .with_for_update()
    ).all()


def _save(connection: sa.Connection, pseudonym: str, page: Page) -> None:
    pg = s.patient_pages
    connection.execute(sa.delete(pg).where(pg.c.patient == pseudonym))
    connection.execute(sa.insert(pg).values(
        patient=pseudonym, version=page.version, body=page.body, alerts=page.alerts,
        built_at=dt.datetime.now(dt.UTC),
    ))  # fmt: skip


def rebuild(store: Store, connection: sa.Connection, pseudonyms: list[str], *,
            kb: KnowledgeBase) -> None:  # fmt: skip
    """Build and store the pages of ``pseudonyms`` inside the caller's write transaction."""
    _lock(connection, pseudonyms)
    for pseudonym in sorted(pseudonyms):
        _save(connection, pseudonym, build(store, connection, pseudonym, kb=kb))


_BUILDING = v.KeyedLocks()


def fresh_page(store: Store, pseudonym: str, *, kb: KnowledgeBase) -> str:
    """The JSON of the page of the patient's current data, built here if need be, and stored.

    Concurrent callers in one process build it once; the others wait and read it.
    """
    with _BUILDING.hold((store.url, pseudonym)):
        with store.engine.connect() as connection:
            found = stored_page(connection, pseudonym)
            if found is not None and found.current:
                return found.body  # type: ignore[return-value]
            page = build(store, connection, pseudonym, kb=kb)
            connection.rollback()
        save_if_current(store.engine, pseudonym, page)
        return page.body


def save_if_current(engine: sa.Engine, pseudonym: str, page: Page) -> bool:
    """Store ``page`` unless the patient's data moved on since it was built (one transaction).

    Returns
    -------
    bool
        Whether it was stored.
    """

    def write() -> bool:
        with for_writing(engine).begin() as connection:
            _lock(connection, [pseudonym])
            if data_version(connection, pseudonym) != page.version:
                return False
            _save(connection, pseudonym, page)
            return True

    return retry(write, integrity=True)


def store_upload(frame: pd.DataFrame, *, kind: str, url: sa.URL, key: bytes, site: str,
                 sha256: str, kb: KnowledgeBase) -> tuple[IngestResult, list[str]]:  # fmt: skip
    """Ingest an upload's parsed table for ``site`` and rebuild its patients' pages.

    Runs in the upload worker process (see :mod:`oncoresist.server._uploads`) with its own
    connection: identifiers are namespaced by site (:func:`~._views.site_scoped`), then the
    rows, the site of new patients and the rebuilt pages commit in one transaction.

    Returns
    -------
    tuple
        The ingest result and the pseudonyms of the file's patients, sorted.
    """
    frame = v.site_frame(frame, site)
    patients = sorted({make_pseudonym(key, "patient", p) for p in frame["patient_id"]})
    store = Store(create_store_engine(url), key=key)
    try:
        result = store.ingest_frame(
            kind, frame, sha256=sha256, site=site,  # type: ignore[arg-type]
            then=lambda connection, _: rebuild(store, connection, patients, kb=kb),
        )  # fmt: skip
    finally:
        store.close()
    return result, patients


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
    if mon.calls.empty:
        return []
    out = []
    for sid, draw in mon.calls.groupby("sample_id", sort=False):
        first = draw.iloc[0]
        out.append(m.SampleOut(
            sample=str(sid), collection_date=pd.Timestamp(first["collection_date"]).date(),
            day=v.day_of(mon.origin, first["collection_date"]),
            cfdna_ng=v.number(first["cfdna_ng"]), tumor_fraction=v.number(first["tumor_fraction"]),
            variants=len(draw), detected=int((draw["state"] == "detected").sum()),
        ))  # fmt: skip
    return sorted(out, key=lambda x: x.collection_date)


def alerts_of(mon: v.Monitoring) -> list[m.AlertOut]:
    """The patient's emergence alerts, linked to the knowledge base."""
    out = []
    for row in mon.alerts.to_dict("records") if not mon.alerts.empty else []:
        out.append(m.AlertOut(
            alteration=row["alteration"],
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
        for row in mon.therapy.to_dict("records")
    ]


def _trajectories(mon: v.Monitoring) -> list[m.TrajectoryOut]:
    if mon.calls.empty:
        return []
    calls = mon.calls.sort_values(["alteration", "collection_date"], kind="stable")
    alt, depth = calls["alt_reads"].to_numpy(float), calls["depth"].to_numpy(float)
    vaf = np.divide(alt, depth, out=np.zeros_like(alt), where=depth > 0)
    dates = pd.to_datetime(calls["collection_date"])
    days = [v.day_of(mon.origin, d) for d in dates]
    rows = zip(calls["alteration"].astype(str), dates.dt.date, days, vaf,
               calls["state"].astype(str), calls["lod_vaf"], strict=True)  # fmt: skip
    out: dict[str, list[m.PointOut]] = {}
    for alteration, date, day, f, state_, lod in rows:
        point = m.PointOut(day=day, collection_date=date, vaf=float(f), state=state_,
                           lod_vaf=v.number(lod))  # fmt: skip
        out.setdefault(alteration, []).append(point)
    return [m.TrajectoryOut(alteration=a, points=p) for a, p in out.items()]


def detail_of(mon: v.Monitoring, pseudonym: str, *, site: str,
              consent: consent_.Consent | None) -> m.PatientDetail:  # fmt: skip
    """Everything the patient page shows, from the patient's monitoring results."""
    response = [
        m.ResponseOut(
            sample=r["sample_id"], collection_date=pd.Timestamp(r["collection_date"]).date(),
            measure=r["measure"], level=v.number(r["level"]), change=v.number(r["change"]),
            category=r["category"],
        )
        for r in (mon.response.to_dict("records") if not mon.response.empty else [])
    ]  # fmt: skip
    trends = [
        m.TrendOut(
            alteration=r["alteration"], n_detected=int(r["n_detected"]),
            doubling_time_days=v.number(r["doubling_time_days"]), last_vaf=v.number(r["last_vaf"]),
        )
        for r in (mon.trends.to_dict("records") if not mon.trends.empty else [])
    ]  # fmt: skip
    return m.PatientDetail(
        pseudonym=pseudonym, site=site, disease=mon.disease,
        consent=consent_out(consent) if consent else None, therapy=therapy_of(mon),
        samples=samples_of(mon), alerts=alerts_of(mon), response=response, trends=trends,
        trajectories=_trajectories(mon),
    )  # fmt: skip
