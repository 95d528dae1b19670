"""What the service reads from the store for one site: patients, draws, calls, alerts.

Every function here takes the site (or a patient already checked to belong to it);
routes never query patients another way. Monitoring results (calls, series-level alerts,
response, trends: :func:`oncoresist.monitor.monitor`, the one entry point the command line
and the reports use too) are computed from the stored draws under the service's
:class:`MonitorConfig` (panel of normals, false-alert budget), many patients in one run
(:func:`compute_many`) when an upload rebuilds their pages. One patient's results are kept
in a small cache keyed by the patient's data version (its newest ingest and consent record)
and the settings' fingerprint, so a page read twice costs one computation, a new upload is
seen at once, and results of other settings are never returned.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from oncoresist.errors import InputError
from oncoresist.kb import KnowledgeBase
from oncoresist.monitor import BackgroundModel, unit_warnings
from oncoresist.monitor._series import DEFAULT_BUDGET, DEFAULT_HORIZON
from oncoresist.server._settings import ServerSettings
from oncoresist.store import Store
from oncoresist.store import _schema as s

__all__ = [
    "PAGE_FORMAT",
    "KeyedLocks",
    "MonitorConfig",
    "Monitoring",
    "compute",
    "compute_many",
    "describe",
    "monitoring",
    "patient_site",
    "site_frame",
    "site_patients",
    "site_scoped",
    "upload_sha256",
    "version_columns",
    "version_of",
]

#: molecule recovery (fraction) for the per-draw limits of detection (monitor's default)
RECOVERY = 0.5


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
    # With ``patients.pseudonym`` as the pseudonym, each part must be one level deep (a
    # subquery nested in a part would not correlate with the outer query and would read
    # every patient's rows) and must not select from ``patients`` itself (its WHERE would
    # compare each row with itself): hence a join, and an alias.
    sm, ob, t, e, c, p = (s.samples, s.observations, s.therapy_lines, s.events, s.consents,
                          s.patients.alias("patient_disease"))  # fmt: skip
    parts = [
        sa.select(sa.func.max(sm.c.ingest_id)).where(sm.c.patient == pseudonym),
        sa.select(sa.func.max(ob.c.ingest_id))
        .select_from(ob.join(sm, ob.c.sample == sm.c.pseudonym))
        .where(sm.c.patient == pseudonym),
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


#: what a stored page holds; part of every fingerprint, so that a page of an older format is
#: never served as current (bump it when the page's content changes)
PAGE_FORMAT = 2


@dataclass(frozen=True)
class MonitorConfig:
    """How the service monitors: the background it tests against and the budgets it spends.

    Built once at start-up (:meth:`from_settings`, which reads and fits the panel of
    normals) and shared by every computation, the upload workers' included (it pickles).

    Attributes
    ----------
    background
        The fitted panel of normals (``None``: :func:`oncoresist.monitor.monitor`'s
        documented default background).
    panel
        The panel file's name, as pages show it (``None``: no panel).
    budget
        Chance that a resistance-free patient's series ever raises an alert.
    fpr
        Chance that a variant-free draw has any false per-draw call.
    fingerprint
        16 hex digits of SHA-256 over all of the above and :data:`PAGE_FORMAT`: part of
        every stored page's version, so a page computed under other settings is stale.
    """

    background: BackgroundModel | None = None
    panel: str | None = None
    budget: float = DEFAULT_BUDGET
    fpr: float = 0.05
    fingerprint: str = field(init=False, default="")

    def __post_init__(self) -> None:
        model = self.background
        if model is None:
            params = "default"
        else:
            shape = getattr(model, "shared_shape_", None)
            params = (f"{model.describe()}|{model.unit_}|{model.params_.to_csv()}|"
                      f"{model.context_params_.to_csv()}|{shape}")  # fmt: skip
        text = json.dumps([PAGE_FORMAT, self.budget, self.fpr, DEFAULT_HORIZON, RECOVERY,
                           self.panel, hashlib.sha256(params.encode()).hexdigest()])  # fmt: skip
        object.__setattr__(self, "fingerprint", hashlib.sha256(text.encode()).hexdigest()[:16])

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> MonitorConfig:
        """Read and fit the panel of normals of ``settings`` (if any), with its budget.

        Raises
        ------
        InputError
            The panel cannot be read or fitted; the message names the setting and the
            file, line and column at fault.
        """
        from oncoresist.monitor import read_normals

        background = None
        path = settings.normals
        if path is not None:
            try:
                background = BackgroundModel().fit(read_normals(path))
            except (InputError, OSError, ValueError) as exc:
                what = str(exc) if isinstance(exc, InputError) else f"{path}: {exc}"
                raise InputError(
                    f"the panel of normals cannot be used: {what}",
                    field="normals (--normals, ONCORESIST_NORMALS)",
                ) from None
        return cls(background, None if path is None else Path(path).name, settings.budget)

    def settings(self, count_unit: str | None = None,
                 warnings: tuple[str, ...] = ()) -> dict[str, Any]:  # fmt: skip
        """What :func:`oncoresist.monitor.monitor` reports as its settings, and the panel."""
        model = self.background if self.background is not None else BackgroundModel()
        return {"warnings": list(warnings), "error_model": model.describe(),
                "count_unit": count_unit, "budget": self.budget, "horizon": DEFAULT_HORIZON,
                "fpr": self.fpr, "recovery": RECOVERY, "panel": self.panel}  # fmt: skip


def describe(settings: dict[str, Any]) -> str:
    """The settings a patient's results were computed under, as sentences for its page."""
    from oncoresist.monitor import describe_settings

    unit = settings.get("count_unit")
    text = describe_settings({**settings, "count_unit": unit or "reads or molecules (no draws)"})
    panel = settings.get("panel")
    return text + (f" Panel of normals: {panel}." if panel else " No panel of normals was given.")


@dataclass(frozen=True)
class Monitoring:
    """One patient's monitoring results (:func:`oncoresist.monitor.monitor`) and inputs."""

    calls: pd.DataFrame
    therapy: pd.DataFrame
    events: pd.DataFrame
    response: pd.DataFrame
    alerts: pd.DataFrame
    trends: pd.DataFrame
    origin: pd.Timestamp | None  # day 0: first therapy line's start, else first draw
    disease: str | None
    settings: dict[str, Any] = field(default_factory=dict)  # MonitorResult.settings + panel
    lod: bool = False  # whether calls carry series_lod_vaf (per-series limits of detection)


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


_CHUNK = 500  # patients per IN (...) list


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _unit_groups(obs: pd.DataFrame, config: MonitorConfig) -> list[np.ndarray]:
    """Patients grouped so that each group counts in one unit, as each would alone.

    ``monitor(unit="auto")`` counts a table in molecules only when every row gives them:
    without a panel (whose unit every patient takes) the patients whose rows all give
    molecule counts are computed apart from the others.
    """
    patients = obs["patient_id"].to_numpy()
    if getattr(config.background, "unit_", None) is not None:
        return [np.ones(len(obs), dtype=bool)]
    given = obs[["alt_molecules", "unique_molecules"]].notna().all(axis=1)
    complete = given.groupby(patients).transform("all").to_numpy()
    return [mask for mask in (complete, ~complete) if mask.any()]


def _split(frame: pd.DataFrame, column: str = "patient_id") -> dict[str, pd.DataFrame]:
    """``frame`` per value of ``column``: row slices of one stable sort (no copy per part)."""
    if frame.empty or column not in frame.columns:
        return {}
    keys = frame[column].to_numpy()
    if not (keys[:-1] <= keys[1:]).all():
        order = np.argsort(keys, kind="stable")
        frame, keys = frame.take(order), keys[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    stops = np.r_[starts[1:], keys.size]
    return {str(keys[a]): frame.iloc[a:b] for a, b in zip(starts, stops, strict=True)}


def compute_many(store: Store, pseudonyms: list[str], *, kb: KnowledgeBase,
                 config: MonitorConfig, diseases: dict[str, str | None],
                 connection: sa.Connection | None = None,
                 lod: bool = False) -> dict[str, Monitoring]:  # fmt: skip
    """Monitoring results of many patients from one :func:`oncoresist.monitor.monitor` run.

    The patients' stored rows are read in one query per table, monitored together (each
    patient's calls, alerts and budget are its own: nothing is pooled across patients) and
    split per patient.

    Parameters
    ----------
    store
        The store (its engine, when ``connection`` is not given).
    pseudonyms
        The patients.
    kb
        The knowledge base for alerts.
    config
        Background and budgets (:class:`MonitorConfig`).
    diseases
        Disease of each patient (``None``: not set).
    connection
        Read in that transaction (which may hold the patients' new rows).
    lod
        Also each alert-free series' limit of detection (``series_lod_vaf``; costs 10
        propagations of the sequential test per series).

    Returns
    -------
    dict
        :class:`Monitoring` per pseudonym (empty tables for a patient without draws).
    """
    from oncoresist import monitor

    if connection is None:
        with store.engine.connect() as own:
            return compute_many(store, pseudonyms, kb=kb, config=config, diseases=diseases,
                                connection=own, lod=lod)  # fmt: skip
    wanted = sorted(set(pseudonyms))
    obs, therapy, events = (
        read(pseudonyms=wanted, connection=connection)
        for read in (store.observations, store.therapy, store.events)
    )
    parts: dict[str, list[pd.DataFrame]] = {"calls": [], "response": [], "alerts": [], "trends": []}
    units: dict[str, str] = {}
    warned: dict[str, tuple[str, ...]] = {}
    for mask in _unit_groups(obs, config) if not obs.empty else []:
        group = obs[mask]
        ids = group["patient_id"].unique()
        result = monitor.monitor(
            group, background=config.background, therapy=therapy[therapy["patient_id"].isin(ids)],
            events=events[events["patient_id"].isin(ids)],
            disease={p: diseases.get(p) for p in ids}, fpr=config.fpr, budget=config.budget,
            recovery=RECOVERY, lod=lod, kb=kb,
        )  # fmt: skip
        for name, frame in result.frames().items():
            parts[name].append(frame)
        units.update(dict.fromkeys(ids, result.settings["count_unit"]))
        if result.settings["warnings"]:  # said of the whole group: say it of each patient's
            mine, calls = _split(group), _split(result.calls)
            warned.update({p: tuple(unit_warnings(mine[p], calls[p])) for p in ids})
    split = {name: _split(pd.concat(frames, ignore_index=True)) if frames else {}
             for name, frames in parts.items()}  # fmt: skip
    lines, happened = _split(therapy), _split(events)
    # day 0 (as report._html.day_origin): the first therapy line's start, else the first draw
    origins = obs.groupby("patient_id")["collection_date"].min().to_dict()
    started = therapy.dropna(subset=["start_date"])
    origins |= started.groupby("patient_id")["start_date"].min().to_dict()
    said = {(None, ()): config.settings()}
    for pid in pseudonyms:
        key = (units.get(pid), warned.get(pid, ()))
        if key not in said:
            said[key] = config.settings(*key)
    empty = pd.DataFrame()
    out = {}
    for pid in pseudonyms:
        calls = split["calls"].get(pid)
        common = {"therapy": lines.get(pid, therapy.iloc[:0]), "origin": origins.get(pid),
                  "events": happened.get(pid, events.iloc[:0]), "disease": diseases.get(pid),
                  "lod": lod}  # fmt: skip
        if calls is None:
            out[pid] = Monitoring(calls=obs.iloc[:0], response=empty, alerts=empty, trends=empty,
                                  settings=said[None, ()], **common)  # fmt: skip
        else:
            out[pid] = Monitoring(calls=calls, response=split["response"].get(pid, empty),
                                  alerts=split["alerts"].get(pid, empty),
                                  trends=split["trends"].get(pid, empty),
                                  settings=said[units[pid], warned.get(pid, ())],
                                  **common)  # fmt: skip
    return out


def compute(store: Store, pseudonym: str, *, kb: KnowledgeBase, config: MonitorConfig,
            disease: str | None, connection: sa.Connection | None = None,
            lod: bool = False) -> Monitoring:  # fmt: skip
    """Calls, response, alerts and trends of one patient (:func:`compute_many` of one).

    ``connection``: read in that transaction (which may hold the patient's new rows).
    """
    return compute_many(store, [pseudonym], kb=kb, config=config, diseases={pseudonym: disease},
                        connection=connection, lod=lod)[pseudonym]  # fmt: skip


def monitoring(store: Store, pseudonym: str, *, kb: KnowledgeBase,
               config: MonitorConfig) -> Monitoring:  # fmt: skip
    """Calls, response, alerts and trends of one patient, cached per data version.

    Without the per-series limits of detection (the stored page has them). The cache key
    holds the settings' fingerprint, so results of other settings are never returned.
    """
    with store.engine.connect() as connection:
        version = version_of(connection, pseudonym)
    key = (store.url, pseudonym, version, config.fingerprint)
    found = _CACHE.get(key)
    if found is not None:
        return found
    with _CACHE.computing.hold(key):  # the first reader computes; the others wait for it
        found = _CACHE.get(key)
        if found is None:
            found = compute(store, pseudonym, kb=kb, config=config, disease=version[-1])
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
