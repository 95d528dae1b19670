"""Write validated monitoring tables into the store: one transaction per file, idempotent.

A file is read whole by the monitor readers first, so a bad file raises its
:class:`~oncoresist.errors.InputError` before the database is touched. The writing then
happens in one transaction that also records the ingest (kind, SHA-256, time, row counts):
either all of a file lands, or none of it. The same file (same SHA-256 and kind) a second
time adds nothing. Rows already stored under the same key are merged:

- identical rows are left as they are;
- a value missing in the store and given by the file is filled in (an ``end_date`` that is
  now known, a ``tumor_fraction`` added later); a value missing in the file never erases a
  stored one;
- a value that differs from the stored one is a conflict, handled by ``on_conflict``:
  ``"error"`` (the default: :class:`StoreConflictError`, nothing written), ``"keep"`` (the
  stored value stays) or ``"replace"`` (the file's value wins).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa

from oncoresist.store import _schema as s
from oncoresist.store._errors import StoreConflictError, StoreKeyError
from oncoresist.store._pseudonym import key_check, pseudonym

__all__ = ["IngestResult", "OnConflict", "file_sha256", "write_table"]

OnConflict = Literal["error", "keep", "replace"]
Kind = Literal["serial", "therapy", "events", "measurements"]
_CHUNK = 500  # keys per IN (...) query: well inside SQLite's and PostgreSQL's limits


@dataclass(frozen=True)
class IngestResult:
    """What one ingest did.

    Attributes
    ----------
    kind
        ``"serial"``, ``"therapy"``, ``"events"`` or ``"measurements"``.
    sha256
        SHA-256 of the file's bytes (hex).
    rows
        Rows of the table the reader returned (identical repeats counted once).
    inserted
        New observations, therapy lines or events.
    updated
        Stored rows whose values changed (filled in, or replaced).
    unchanged
        Rows already stored with the same values (or kept on a conflict with ``"keep"``).
    already_ingested
        True when this very file (same SHA-256 and kind) was ingested before: nothing was
        read or written, and the counts are those of the first ingest.
    ingest_id
        The ingest's row in the ``ingests`` table.
    """

    kind: str
    sha256: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    already_ingested: bool
    ingest_id: int


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Return the SHA-256 (hex) of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _native(value: Any) -> Any:
    """A Python value for the database driver: None for NaN/NaT/NA, datetime, int, float."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    columns = {c: [_native(v) for v in frame[c].tolist()] for c in frame.columns}
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def previous_ingest(connection: sa.Connection, kind: str, sha256: str) -> IngestResult | None:
    """Return the earlier ingest of this file, if there was one."""
    row = connection.execute(
        sa.select(s.ingests).where(s.ingests.c.kind == kind, s.ingests.c.sha256 == sha256)
    ).first()
    if row is None:
        return None
    return IngestResult(
        kind=kind, sha256=sha256, rows=row.rows, inserted=row.inserted, updated=row.updated,
        unchanged=row.rows - row.inserted - row.updated, already_ingested=True, ingest_id=row.id,
    )  # fmt: skip


def check_key(connection: sa.Connection, key: bytes, *, record: bool) -> None:
    """Check the key against the store's key check value; record it on first use."""
    check = key_check(key)
    stored = connection.execute(
        sa.select(s.settings.c.value).where(s.settings.c.name == "key_check")
    ).scalar()
    if stored is None:
        if record:
            connection.execute(sa.insert(s.settings).values(name="key_check", value=check))
        return
    if stored != check:
        raise StoreKeyError(
            "this key is not the key the store was written with: its pseudonyms would match "
            "no patient; use the store's own key (ONCORESIST_KEY or ONCORESIST_KEY_FILE)"
        )


def _existing(
    connection: sa.Connection,
    table: sa.Table,
    keys: Sequence[str],
    values: Sequence[str],
    firsts: Iterable[Any],
) -> dict[tuple, dict[str, Any]]:
    """Stored rows whose first key column is among ``firsts``, by their key."""
    firsts = sorted(set(firsts))
    found: dict[tuple, dict[str, Any]] = {}
    columns = [table.c[c] for c in (*keys, *values)]
    for start in range(0, len(firsts), _CHUNK):
        chunk = firsts[start : start + _CHUNK]
        query = sa.select(*columns).where(table.c[keys[0]].in_(chunk))
        for row in connection.execute(query).mappings():
            found[tuple(row[k] for k in keys)] = dict(row)
    return found


@dataclass
class _Counts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def _merge(
    connection: sa.Connection,
    table: sa.Table,
    keys: Sequence[str],
    values: Sequence[str],
    records: list[dict[str, Any]],
    *,
    ingest_id: int,
    on_conflict: OnConflict,
    describe: Callable[[dict[str, Any]], str],
    strict: Sequence[str] = (),
) -> _Counts:
    """Insert new rows, fill in or replace changed ones (see the module docstring).

    ``strict`` columns may never change, whatever ``on_conflict`` says.
    """
    existing = _existing(connection, table, keys, values, (r[keys[0]] for r in records))
    counts = _Counts()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for record in records:
        key = tuple(record[k] for k in keys)
        stored = existing.get(key)
        if stored is None:
            inserts.append({**record, "ingest_id": ingest_id})
            existing[key] = record
            counts.inserted += 1
            continue
        change: dict[str, Any] = {}
        for column in values:
            new, old = record[column], stored[column]
            if new is None or new == old:
                continue
            if old is None:
                change[column] = new
                continue
            if column in strict:
                raise StoreConflictError(
                    f"{describe(record)} is already stored with another {column}; expected one "
                    f"{column} per {table.name[:-1]}. Nothing was written"
                )
            if on_conflict == "error":
                raise StoreConflictError(
                    f"{describe(record)} is already stored with {column} {_show(old)}; this file "
                    f"gives {_show(new)}. Nothing was written; ingest with "
                    "on_conflict='replace' to take the file's values, or 'keep' to keep the "
                    "stored ones"
                )
            if on_conflict == "replace":
                change[column] = new
        if change:
            updates.append({**{f"k_{k}": v for k, v in zip(keys, key, strict=True)}, **change})
            stored.update(change)
            counts.updated += 1
        else:
            counts.unchanged += 1
    if inserts:
        connection.execute(sa.insert(table), inserts)
    for change in updates:  # few in practice; each may set other columns
        where = [table.c[k] == change.pop(f"k_{k}") for k in keys]
        connection.execute(sa.update(table).where(*where).values(**change, ingest_id=ingest_id))
    return counts


def _show(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d") if value.time() == dt.time() else value.isoformat()
    return repr(value) if isinstance(value, str) else str(value)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _ensure_patients(connection: sa.Connection, names: Iterable[str]) -> None:
    wanted = set(names)
    have = _existing(connection, s.patients, ["pseudonym"], [], wanted)
    missing = sorted(wanted - {k[0] for k in have})
    if missing:
        now = _now()
        connection.execute(
            sa.insert(s.patients), [{"pseudonym": p, "created_at": now} for p in missing]
        )


def write_table(
    connection: sa.Connection,
    kind: Kind,
    frame: pd.DataFrame,
    *,
    key: bytes,
    sha256: str,
    on_conflict: OnConflict,
) -> IngestResult:
    """Write one validated table and its ingest record on ``connection`` (one transaction).

    Returns the earlier ingest unchanged when this file (kind and SHA-256) was ingested.
    """
    earlier = previous_ingest(connection, kind, sha256)
    if earlier is not None:
        return earlier
    check_key(connection, key, record=True)
    ingest_id = connection.execute(
        sa.insert(s.ingests).values(
            kind=kind, sha256=sha256, ingested_at=_now(), rows=len(frame), inserted=0, updated=0
        )
    ).inserted_primary_key[0]
    records = _records(frame)
    raw_patient: dict[str, str] = {}
    for record in records:
        name = pseudonym(key, "patient", record["patient_id"])
        raw_patient[name] = record["patient_id"]
        record["patient"] = name
    _ensure_patients(connection, raw_patient)
    merge = {"connection": connection, "ingest_id": ingest_id, "on_conflict": on_conflict}
    if kind == "serial":
        counts = _write_serial(records, key, merge)
    elif kind == "therapy":
        rows = [
            {k: r[k] for k in ("patient", "regimen", "start_date", "end_date", "reason_stopped")}
            for r in records
        ]
        counts = _merge(
            table=s.therapy_lines, keys=("patient", "regimen", "start_date"),
            values=("end_date", "reason_stopped"), records=rows,
            describe=lambda r: f"the therapy line {r['regimen']} from {_show(r['start_date'])} "
            f"of patient {raw_patient[r['patient']]}", **merge,
        )  # fmt: skip
    elif kind == "measurements":
        counts = _merge(
            table=s.marker_measurements, keys=("patient", "marker", "at"),
            values=_MEASUREMENT_VALUES, records=[_measurement(r) for r in records],
            describe=lambda r: f"the {r['marker']} measurement of {_at_text(r['at'])} of "
            f"patient {raw_patient[r['patient']]}", **merge,
        )  # fmt: skip
    else:
        rows = [{"patient": r["patient"], "event": r["event"], "date": r["date"]} for r in records]
        counts = _merge(
            table=s.events, keys=("patient", "event", "date"), values=(), records=rows,
            describe=lambda r: f"event {r['event']}", **merge,
        )  # fmt: skip
    connection.execute(
        sa.update(s.ingests)
        .where(s.ingests.c.id == ingest_id)
        .values(inserted=counts.inserted, updated=counts.updated)
    )
    return IngestResult(
        kind=kind, sha256=sha256, rows=len(frame), inserted=counts.inserted,
        updated=counts.updated, unchanged=counts.unchanged, already_ingested=False,
        ingest_id=ingest_id,
    )  # fmt: skip


_SAMPLE_VALUES = ("collection_date", "cfdna_ng", "tumor_fraction")
_OBSERVATION_VALUES = (
    "gene", "alt_reads", "depth", "alt_molecules", "unique_molecules", "chrom", "pos", "ref",
    "alt", "build",
)  # fmt: skip


def _write_serial(records: list[dict[str, Any]], key: bytes, merge: dict[str, Any]) -> _Counts:
    raw_sample: dict[str, str] = {}
    samples: dict[str, dict[str, Any]] = {}
    observations: list[dict[str, Any]] = []
    for record in records:
        sample = raw_sample.get(record["sample_id"])
        if sample is None:
            sample = pseudonym(key, "sample", record["sample_id"])
            raw_sample[record["sample_id"]] = sample
        row = samples.setdefault(
            sample, {"pseudonym": sample, "patient": record["patient"], "_raw": record["sample_id"]}
        )
        for column in _SAMPLE_VALUES:
            if row.get(column) is None:
                row[column] = record[column]
        observations.append(
            {"sample": sample, "alteration": record["alteration"]}
            | {c: record[c] for c in _OBSERVATION_VALUES}
        )
    raw = {row["pseudonym"]: row.pop("_raw") for row in samples.values()}
    _merge(
        table=s.samples,
        keys=("pseudonym",),
        values=("patient", *_SAMPLE_VALUES),
        records=list(samples.values()),
        describe=lambda r: f"sample {raw[r['pseudonym']]}",
        strict=("patient",),
        **merge,
    )
    return _merge(
        table=s.observations,
        keys=("sample", "alteration"),
        values=_OBSERVATION_VALUES,
        records=observations,
        describe=lambda r: f"{r['alteration']} in sample {raw[r['sample']]}",
        **merge,
    )


_MEASUREMENT_VALUES = ("day", "date", "value", "lower_limit_of_quantification", "censored",
                       "on_treatment")  # fmt: skip


def _measurement(record: dict[str, Any]) -> dict[str, Any]:
    """A row of ``marker_measurements`` from a record of ``read_measurements``.

    The time point's key ``at`` is the date when the file gave one (its ``day`` then counts
    from the file's first date and is not kept: days are recomputed from the patient's
    stored dates when read back), else the day.
    """
    date, day = record.get("date"), record.get("day")
    if date is not None:
        at, day = f"date:{date.isoformat()}", None
    else:
        at = f"day:{float(day)!r}"
    treated = record.get("on_treatment")
    return {
        "patient": record["patient"], "marker": record["marker"], "at": at, "day": day,
        "date": date, "value": float(record["value"]),
        "lower_limit_of_quantification": record.get("lower_limit_of_quantification"),
        "censored": bool(record.get("censored", False)),
        "on_treatment": None if treated is None else int(treated),
    }  # fmt: skip


def _at_text(at: str) -> str:
    kind, _, value = at.partition(":")
    return f"day {float(value):g}" if kind == "day" else value[:10]
