"""What the service reads from the store for one site: patients, draws, calls, alerts.

Every function here takes the site (or a patient already checked to belong to it);
routes never query patients another way. Monitoring results (calls, response, alerts,
trends) are computed from the stored draws and kept in a small cache keyed by the
patient's data version (its newest ingest and consent record), so a page read twice costs
one computation and a new upload is seen at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from oncoresist.kb import KnowledgeBase
from oncoresist.report._html import day_origin
from oncoresist.store import Store
from oncoresist.store import _schema as s

__all__ = [
    "KeyedLocks",
    "Monitoring",
    "compute",
    "monitoring",
    "patient_site",
    "site_frame",
    "site_patients",
    "site_scoped",
    "upload_sha256",
    "version_columns",
    "version_of",
]


def site_scoped(site: str, identifier):
    """An identifier (text or a column of them) as the service hashes it: ``SITE:identifier``.

    Two sites' patient ``P001`` are two patients; a site name has no ``:``.
    """
    return site + ":" + identifier


def site_frame(frame: pd.DataFrame, site: str) -> pd.DataFrame:
    """A copy of a parsed table with its patient and sample identifiers site-scoped."""
    frame = frame.copy()
    frame["patient_id"] = site_scoped(site, frame["patient_id"].astype(str))
    if "sample_id" in frame.columns:
        frame["sample_id"] = site_scoped(site, frame["sample_id"].astype(str))
    return frame


def upload_sha256(site: str, kind: str, data: bytes) -> str:
    """The identity of an upload: SHA-256 of ``site NUL kind NUL bytes`` (hex).

    The same file uploaded twice by one site is stored once; two sites' files are two.
    """
    return hashlib.sha256(f"{site}\0{kind}\0".encode() + data).hexdigest()


def patient_site(engine: sa.Engine, pseudonym: str) -> str | None:
    """The treating site of a stored patient (``None``: no such patient, or no site)."""
    with engine.connect() as connection:
        return connection.execute(
            sa.select(s.patients.c.site).where(s.patients.c.pseudonym == pseudonym)
        ).scalar()


def version_columns(pseudonym: str | sa.ColumnElement) -> list:
    """The parts of the patient's data version, as scalar subqueries (see :func:`version_of`).

    ``pseudonym`` may be a bound parameter, or a column (``patients.pseudonym``): the
    subqueries then correlate with each row of a query over patients.
    """
    sm, ob, t, e, c, p = (s.samples, s.observations, s.therapy_lines, s.events, s.consents,
                          s.patients)  # fmt: skip
    draws = sa.select(sm.c.pseudonym).where(sm.c.patient == pseudonym)
    parts = [
        sa.select(sa.func.max(sm.c.ingest_id)).where(sm.c.patient == pseudonym),
        sa.select(sa.func.max(ob.c.ingest_id)).where(ob.c.sample.in_(draws)),
        sa.select(sa.func.max(t.c.ingest_id)).where(t.c.patient == pseudonym),
        sa.select(sa.func.max(e.c.ingest_id)).where(e.c.patient == pseudonym),
        sa.select(sa.func.max(c.c.id)).where(c.c.patient == pseudonym),
        sa.select(p.c.disease).where(p.c.pseudonym == pseudonym),
    ]
    return [q.scalar_subquery() for q in parts]


def version_of(connection: sa.Connection, pseudonym: str) -> tuple:
    """The patient's data version (its disease is the last item).

    The newest ingest that wrote any of its draws, variants, therapy lines or events, its
    newest consent record, and its disease. Every writer of these rows records its ingest
    (or consent) id on them, so any change to what the patient's pages show moves the
    version on.
    """
    return tuple(connection.execute(_VERSION, {"pid": pseudonym}).one())


# built once: a read of the version then costs no statement construction or cache lookup
_VERSION = sa.select(*version_columns(sa.bindparam("pid")))


def site_patients(
    engine: sa.Engine, site: str, *, pseudonym: str | None = None
) -> list[dict[str, Any]]:
    """The site's patients (or only ``pseudonym``): pseudonym, disease, draws, last draw."""
    p, sm = s.patients, s.samples
    draws = (
        sa.select(
            sm.c.patient,
            sa.func.count().label("draws"),
            sa.func.max(sm.c.collection_date).label("last_draw"),
        )
        .group_by(sm.c.patient)
        .subquery()
    )
    query = (
        sa.select(p.c.pseudonym, p.c.disease, draws.c.draws, draws.c.last_draw)
        .join(draws, draws.c.patient == p.c.pseudonym, isouter=True)
        .where(p.c.site == site)
        .order_by(p.c.pseudonym)
    )
    if pseudonym is not None:
        query = query.where(p.c.pseudonym == pseudonym)
    with engine.connect() as connection:
        return [dict(r) for r in connection.execute(query).mappings()]


@dataclass(frozen=True)
class Monitoring:
    """One patient's monitoring results, as the command line computes them."""

    calls: pd.DataFrame
    therapy: pd.DataFrame
    events: pd.DataFrame
    response: pd.DataFrame
    alerts: pd.DataFrame
    trends: pd.DataFrame
    origin: pd.Timestamp | None  # day 0: first therapy line's start, else first draw
    disease: str | None


class KeyedLocks:
    """One lock per key while anyone holds it, so concurrent callers compute a key once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.held: dict[tuple, list] = {}  # key -> [lock, holders and waiters]

    @contextlib.contextmanager
    def hold(self, key: tuple) -> Iterator[None]:
        """Hold the key's lock (waiting for whoever holds it first)."""
        with self.lock:
            entry = self.held.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self.lock:
                entry[1] -= 1
                if entry[1] == 0:
                    del self.held[key]


class _Cache:
    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.items: OrderedDict[tuple, Monitoring] = OrderedDict()
        self.lock = threading.Lock()
        self.computing = KeyedLocks()

    def get(self, key: tuple) -> Monitoring | None:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key: tuple, value: Monitoring) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


_CACHE = _Cache()


def compute(store: Store, pseudonym: str, *, kb: KnowledgeBase, disease: str | None,
            connection: sa.Connection | None = None, fpr: float = 0.05) -> Monitoring:  # fmt: skip
    """Calls, response, alerts and trends of one patient, as the command line computes them.

    ``connection``: read in that transaction (which may hold the patient's new rows).
    """
    from oncoresist import monitor

    obs = store.observations(pseudonym=pseudonym, connection=connection)
    therapy = store.therapy(pseudonym=pseudonym, connection=connection)
    events = store.events(pseudonym=pseudonym, connection=connection)
    origin, _ = day_origin(obs["collection_date"], therapy)
    if obs.empty:
        empty = pd.DataFrame()
        return Monitoring(obs, therapy, events, empty, empty, empty, origin, disease)
    calls = monitor.call_draws(obs, fpr=fpr)
    response = monitor.molecular_response(calls, therapy=therapy)
    alerts = monitor.emergence_alerts(calls, therapy=therapy, events=events, disease=disease, kb=kb)
    trends = monitor.variant_trends(calls)
    return Monitoring(calls, therapy, events, response, alerts, trends, origin, disease)


def monitoring(store: Store, pseudonym: str, *, kb: KnowledgeBase, fpr: float = 0.05) -> Monitoring:
    """Calls, response, alerts and trends of one patient (cached per data version)."""
    with store.engine.connect() as connection:
        version = version_of(connection, pseudonym)
    key = (store.url, pseudonym, version, fpr)
    found = _CACHE.get(key)
    if found is not None:
        return found
    with _CACHE.computing.hold(key):  # the first reader computes; the others wait for it
        found = _CACHE.get(key)
        if found is None:
            found = compute(store, pseudonym, kb=kb, disease=version[-1], fpr=fpr)
            _CACHE.put(key, found)
    return found


def day_of(origin: pd.Timestamp | None, date: Any) -> int | None:
    """Days from ``origin`` to ``date`` (``None`` when either is missing)."""
    if origin is None or date is None or pd.isna(origin) or pd.isna(date):
        return None
    return int((pd.Timestamp(date) - pd.Timestamp(origin)).days)


def number(value: Any) -> float | None:
    """A finite float, or ``None``."""
    if value is None or pd.isna(value):
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def text(value: Any) -> str | None:
    """A string, or ``None`` for missing values."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value)
