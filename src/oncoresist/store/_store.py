"""The :class:`Store`: open, ingest, read back."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa

from oncoresist.kb import KnowledgeBase
from oncoresist.monitor._inputs import (
    events_frame,
    read_events,
    read_serial,
    read_therapy,
    serial_frame,
    therapy_frame,
)
from oncoresist.store import _schema as s
from oncoresist.store._engine import (
    create_store_engine,
    for_writing,
    migrate,
    resolve_url,
    retry,
)
from oncoresist.store._errors import StoreError
from oncoresist.store._ingest import (
    IngestResult,
    Kind,
    OnConflict,
    check_key,
    file_sha256,
    previous_ingest,
    write_table,
)
from oncoresist.store._pseudonym import pseudonym, resolve_key

__all__ = ["Store", "open_store"]

PathLike = str | os.PathLike[str]
_POLICIES = ("error", "keep", "replace")
_IN_LIST = 500  # patients per IN (...) list of a many-patient read


def open_store(
    url: str | os.PathLike[str] | None = None,
    *,
    key: bytes | str | None = None,
    busy_timeout: float = 10.0,
) -> Store:
    """Open (and create or migrate to the newest schema) the monitoring store.

    Parameters
    ----------
    url
        ``sqlite:///path/to/file.sqlite``, ``postgresql+psycopg://user@host:port/db``, or a
        path to a SQLite file. Default: the ``ONCORESIST_DB`` environment variable, else
        ``oncoresist.sqlite`` in the user's data directory (``platformdirs``).
    key
        The pseudonymisation key (bytes, or hex/base64 text). Default: the
        ``ONCORESIST_KEY`` environment variable, else the file named by
        ``ONCORESIST_KEY_FILE``. Needed to ingest and to look patients up by their
        identifier; :meth:`Store.patients` and :meth:`Store.ingests` work without it.
    busy_timeout
        Seconds a SQLite connection waits for another writer before the retries start.

    Returns
    -------
    Store
        The open store; close it with :meth:`Store.close` or use it in a ``with`` block.

    Raises
    ------
    StoreError
        A URL that cannot be used, or a database that cannot be reached or migrated.
    StoreKeyError
        A key that is given but malformed (a missing key is reported when it is needed).
    """
    resolved = resolve_url(url)
    key_bytes = resolve_key(key) if key is not None else None
    engine = create_store_engine(resolved, busy_timeout=busy_timeout)
    try:
        migrate(engine)
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(
            f"cannot open the store at {resolved.render_as_string(hide_password=True)}: "
            f"{getattr(exc, 'orig', exc)}"
        ) from exc
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, key=key_bytes)


class Store:
    """A database of serial ctDNA results, therapy lines and events under pseudonyms.

    Use :func:`open_store` to make one. Every table returned names patients and samples by
    their pseudonyms (64 hex digits), never by the site's identifiers.
    """

    def __init__(self, engine: sa.Engine, *, key: bytes | None = None) -> None:
        self.engine = engine
        self._key = key

    # ------------------------------------------------------------------ basics
    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def key(self) -> bytes:
        """The pseudonymisation key (see :func:`open_store`); raises StoreKeyError if none."""
        if self._key is None:
            self._key = resolve_key(None)
        return self._key

    def close(self) -> None:
        """Close every connection of the store."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    def pseudonym(self, patient_id: str) -> str:
        """Return the pseudonym of a patient identifier under the store's key."""
        return pseudonym(self.key, "patient", patient_id)

    # ------------------------------------------------------------------ ingest
    def _ingest(
        self, kind: Kind, path: PathLike, reader: Callable[[], pd.DataFrame], on_conflict: str
    ) -> IngestResult:
        if on_conflict not in _POLICIES:
            raise ValueError(f"on_conflict {on_conflict!r}; expected one of {_POLICIES}")
        self.key  # noqa: B018 - fail before reading when there is no key
        sha256 = file_sha256(path)
        with self.engine.connect() as connection:
            earlier = previous_ingest(connection, kind, sha256)
            connection.rollback()
        if earlier is not None:
            return earlier
        frame = reader()  # validation errors surface here, before any write
        return self.ingest_frame(kind, frame, sha256=sha256, on_conflict=on_conflict)  # type: ignore[arg-type]

    def ingest_frame(
        self,
        kind: Kind,
        frame: pd.DataFrame,
        *,
        sha256: str,
        site: str | None = None,
        on_conflict: OnConflict = "error",
        then: Callable[[sa.Connection, IngestResult], None] | None = None,
    ) -> IngestResult:
        """Ingest a table already read and checked (as ``read_serial`` etc. return it).

        Parameters
        ----------
        kind
            ``serial``, ``therapy`` or ``events``.
        frame
            The validated table.
        sha256
            Identity of the upload for idempotency (a second ingest with the same kind and
            ``sha256`` adds nothing and returns the first one's result).
        site
            Treating site recorded for patients that have none yet (the web service's
            uploads), in the same transaction.
        on_conflict
            As for :meth:`ingest_serial`.
        then
            Called with the connection and the result after the rows are written, inside
            the same transaction (not for a file already ingested): what it writes commits
            or rolls back with them, and it may read them back (e.g. with
            ``observations(..., connection=connection)``). It may run more than once: the
            whole transaction is retried after a lock conflict.
        """
        if on_conflict not in _POLICIES:
            raise ValueError(f"on_conflict {on_conflict!r}; expected one of {_POLICIES}")
        key = self.key

        def write() -> IngestResult:
            with for_writing(self.engine).begin() as connection:
                result = write_table(
                    connection, kind, frame, key=key, sha256=sha256, on_conflict=on_conflict
                )
                if site is not None and not result.already_ingested:
                    names = {pseudonym(key, "patient", p) for p in frame["patient_id"].unique()}
                    p = s.patients
                    connection.execute(
                        sa.update(p)
                        .where(p.c.pseudonym.in_(sorted(names)), p.c.site.is_(None))
                        .values(site=site)
                    )
                if then is not None and not result.already_ingested:
                    then(connection, result)
                return result

        return retry(write, integrity=True)

    def ingest_serial(
        self, path: PathLike, *, on_conflict: OnConflict = "error", kb: KnowledgeBase | None = None
    ) -> IngestResult:
        """Ingest a serial ctDNA results file (see ``read_serial``) in one transaction.

        Parameters
        ----------
        path
            CSV, TSV (gzipped or not) or Parquet, as for
            :func:`oncoresist.monitor.read_serial`.
        on_conflict
            What to do with a value that differs from the stored one for the same sample
            (or sample and alteration): ``"error"`` (raise, write nothing), ``"keep"`` the
            stored value or ``"replace"`` it. Values missing in the store are filled in.
        kb
            Knowledge base for the reader (the shipped one by default).

        Returns
        -------
        IngestResult
            Counts; ``already_ingested`` when this very file was ingested before.

        Raises
        ------
        InputError
            The file is not valid (nothing is written).
        StoreConflictError
            A conflict with ``on_conflict="error"``, or a sample stored for another patient.
        StoreKeyError
            No key, or not the store's key.
        """
        return self._ingest("serial", path, lambda: read_serial(path, kb=kb), on_conflict)

    def ingest_therapy(
        self, path: PathLike, *, on_conflict: OnConflict = "error", kb: KnowledgeBase | None = None
    ) -> IngestResult:
        """Ingest a lines-of-therapy file (see ``read_therapy``) in one transaction.

        Lines are keyed by patient, regimen and start date; an ``end_date`` or
        ``reason_stopped`` that was missing is filled in. Parameters, result and errors are
        as for :meth:`ingest_serial`.
        """
        return self._ingest("therapy", path, lambda: read_therapy(path, kb=kb), on_conflict)

    def ingest_events(self, path: PathLike) -> IngestResult:
        """Ingest a clinical events file (see ``read_events``) in one transaction.

        Events are keyed by patient, event and date: one already stored is not added again.
        Result and errors are as for :meth:`ingest_serial`.
        """
        return self._ingest("events", path, lambda: read_events(path), "keep")

    def ingest_measurements(
        self, path: PathLike, *, on_conflict: OnConflict = "error"
    ) -> IngestResult:
        """Ingest serial marker measurements (PSA, ctDNA levels, lesion sizes) in one transaction.

        The file is read by :func:`oncoresist.forecast._inputs.read_measurements` (columns
        ``patient_id``, ``day`` or ``date``, ``marker``, ``value``, optional
        ``lower_limit_of_quantification`` and ``on_treatment``). A measurement is keyed by
        patient, marker and date (or day, when the file gives no dates). Parameters,
        result and errors are as for :meth:`ingest_serial`.
        """

        def read() -> pd.DataFrame:
            from oncoresist.forecast._inputs import read_measurements

            return read_measurements(path)

        return self._ingest("measurements", path, read, on_conflict)

    # ------------------------------------------------------------------ read back
    def _patient_filter(self, patient_id: str | None, pseudonym_: str | None) -> str | None:
        if patient_id is not None and pseudonym_ is not None:
            raise ValueError("give patient_id or pseudonym, not both")
        if patient_id is None:
            return pseudonym_
        with self.engine.connect() as connection:
            check_key(connection, self.key, record=False)
            connection.rollback()
        return self.pseudonym(patient_id)

    def _query(
        self, query: sa.Select, connection: sa.Connection | None = None
    ) -> list[dict[str, Any]]:
        if connection is not None:  # the caller's transaction: it sees its own writes
            return [dict(row) for row in connection.execute(query).mappings()]
        with self.engine.connect() as own:
            rows = [dict(row) for row in own.execute(query).mappings()]
            own.rollback()
        return rows

    def _rows_of(
        self,
        query: sa.Select,
        column: sa.ColumnElement,
        wanted: str | None,
        pseudonyms: Sequence[str] | None,
        connection: sa.Connection | None,
    ) -> list[dict[str, Any]]:
        """Rows of ``query`` for one patient (``wanted``), a list of them, or everyone."""
        if pseudonyms is None:
            return self._query(query if wanted is None else query.where(column == wanted),
                               connection)  # fmt: skip
        rows: list[dict[str, Any]] = []
        for i in range(0, len(pseudonyms), _IN_LIST):
            rows += self._query(query.where(column.in_(pseudonyms[i : i + _IN_LIST])), connection)
        return rows

    def observations(
        self,
        patient_id: str | None = None,
        *,
        pseudonym: str | None = None,
        pseudonyms: Sequence[str] | None = None,
        connection: sa.Connection | None = None,
    ) -> pd.DataFrame:
        """Return stored serial results, as ``read_serial`` returns them.

        Parameters
        ----------
        patient_id
            The site's patient identifier (looked up by its pseudonym under the key).
        pseudonym
            Or the patient's pseudonym. Neither: every patient.
        pseudonyms
            Or the pseudonyms of several patients (read in lists of 500 per query).
        connection
            Read in this connection's transaction instead of a new one.

        Returns
        -------
        pandas.DataFrame
            The columns and dtypes of :func:`oncoresist.monitor.read_serial`, with
            ``patient_id`` and ``sample_id`` holding pseudonyms; sorted by patient,
            collection date, sample and alteration. Empty for a patient not stored.
        """
        wanted = self._patient_filter(patient_id, pseudonym)
        sm, ob = s.samples, s.observations
        variant = ("gene", "alteration", "alt_reads", "depth", "alt_molecules", "unique_molecules")
        query = sa.select(
            sm.c.patient.label("patient_id"),
            sm.c.pseudonym.label("sample_id"),
            sm.c.collection_date,
            *[ob.c[c] for c in variant],
            sm.c.cfdna_ng,
            sm.c.tumor_fraction,
            *[ob.c[c] for c in ("chrom", "pos", "ref", "alt", "build")],
        ).join_from(ob, sm, ob.c.sample == sm.c.pseudonym)
        return serial_frame(self._rows_of(query, sm.c.patient, wanted, pseudonyms, connection))

    def therapy(
        self,
        patient_id: str | None = None,
        *,
        pseudonym: str | None = None,
        pseudonyms: Sequence[str] | None = None,
        connection: sa.Connection | None = None,
    ) -> pd.DataFrame:
        """Return stored lines of therapy, as ``read_therapy`` returns them.

        ``patient_id`` holds the pseudonym; sorted by patient and start date. Parameters as
        for :meth:`observations`.
        """
        wanted = self._patient_filter(patient_id, pseudonym)
        t = s.therapy_lines
        query = sa.select(
            t.c.patient.label("patient_id"), t.c.regimen, t.c.start_date, t.c.end_date,
            t.c.reason_stopped,
        )  # fmt: skip
        return therapy_frame(self._rows_of(query, t.c.patient, wanted, pseudonyms, connection))

    def events(
        self,
        patient_id: str | None = None,
        *,
        pseudonym: str | None = None,
        pseudonyms: Sequence[str] | None = None,
        connection: sa.Connection | None = None,
    ) -> pd.DataFrame:
        """Return stored clinical events, as ``read_events`` returns them.

        ``patient_id`` holds the pseudonym; sorted by patient, date and event. Parameters as
        for :meth:`observations`.
        """
        wanted = self._patient_filter(patient_id, pseudonym)
        e = s.events
        query = sa.select(e.c.patient.label("patient_id"), e.c.event, e.c.date)
        return events_frame(self._rows_of(query, e.c.patient, wanted, pseudonyms, connection))

    def measurements(
        self,
        patient_id: str | None = None,
        *,
        pseudonym: str | None = None,
        pseudonyms: Sequence[str] | None = None,
        marker: str | None = None,
        connection: sa.Connection | None = None,
    ) -> pd.DataFrame:
        """Return stored serial marker measurements, as ``read_measurements`` returns them.

        Parameters
        ----------
        patient_id, pseudonym, pseudonyms, connection
            As for :meth:`observations`.
        marker
            Only this marker (e.g. ``"psa"``); default every marker.

        Returns
        -------
        pandas.DataFrame
            ``patient_id`` (the pseudonym), ``marker``, ``day``, ``date``, ``value`` (the
            limit for censored rows), ``lower_limit_of_quantification``, ``censored``,
            ``on_treatment`` (1/0, NaN where the file gave none: take it from the therapy
            lines); sorted by patient, marker and day. ``day`` of a dated measurement
            counts from the patient's first date among the rows returned, as
            ``read_measurements`` counts it within a file; undated measurements keep the
            file's day. Empty for a patient without measurements.
        """
        wanted = self._patient_filter(patient_id, pseudonym)
        mm = s.marker_measurements
        query = sa.select(
            mm.c.patient.label("patient_id"), mm.c.marker, mm.c.day, mm.c.date, mm.c.value,
            mm.c.lower_limit_of_quantification, mm.c.censored, mm.c.on_treatment,
        )  # fmt: skip
        if marker is not None:
            query = query.where(mm.c.marker == marker)
        rows = self._rows_of(query, mm.c.patient, wanted, pseudonyms, connection)
        return _measurement_frame(rows)

    def patients(self) -> list[str]:
        """Return the pseudonyms of every stored patient, sorted."""
        query = sa.select(s.patients.c.pseudonym).order_by(s.patients.c.pseudonym)
        return [row["pseudonym"] for row in self._query(query)]

    def ingests(self) -> pd.DataFrame:
        """Return the ingest log: ``id, kind, sha256, ingested_at, rows, inserted, updated``."""
        i = s.ingests
        query = sa.select(
            i.c.id, i.c.kind, i.c.sha256, i.c.ingested_at, i.c.rows, i.c.inserted, i.c.updated
        ).order_by(i.c.id)
        columns = ["id", "kind", "sha256", "ingested_at", "rows", "inserted", "updated"]
        return pd.DataFrame.from_records(self._query(query), columns=columns)


_MEASUREMENT_COLUMNS = ("patient_id", "marker", "day", "date", "value",
                        "lower_limit_of_quantification", "censored", "on_treatment")  # fmt: skip


def _measurement_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Stored measurement rows as the frame :meth:`Store.measurements` documents."""
    frame = pd.DataFrame.from_records(rows, columns=list(_MEASUREMENT_COLUMNS))
    frame["date"] = pd.to_datetime(frame["date"])
    for column in ("day", "value", "lower_limit_of_quantification", "on_treatment"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["censored"] = frame["censored"].astype(bool)
    dated = frame["date"].notna()
    if dated.any():
        first = frame.loc[dated].groupby("patient_id")["date"].transform("min")
        frame.loc[dated, "day"] = (frame.loc[dated, "date"] - first).dt.total_seconds() / 86400.0
    frame = frame.sort_values(["patient_id", "marker", "day"], kind="stable")
    return frame.reset_index(drop=True)
