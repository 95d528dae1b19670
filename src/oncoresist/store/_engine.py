"""Engines for the store: where the database is, SQLite settings, migrations, retries.

The URL is the ``url`` argument, else the ``ONCORESIST_DB`` environment variable, else a
SQLite file ``oncoresist.sqlite`` in the user's data directory. A plain path means a SQLite
file; ``postgresql://`` and ``postgres://`` mean PostgreSQL through psycopg 3.

SQLite connections get foreign keys on, a busy timeout, WAL journaling (for files) and
``BEGIN IMMEDIATE`` transactions: a writer takes the write lock when its transaction
starts (see :func:`for_writing`), so two writers wait for each other instead of failing
half-way; readers use a plain ``BEGIN``.

PostgreSQL engines keep up to 20 connections open per process (a web service worker runs
up to 40 requests at once; opening a connection costs the server a new backend), and a
connection that has been idle for more than :data:`PING_AFTER_IDLE_S` is checked with a
ping before use, so a restarted server costs no failed request while a busy pool pays no
round trip per checkout.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import platformdirs
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.pool import StaticPool

from oncoresist.store._errors import StoreError
from oncoresist.store._schema import VERSION_TABLE

__all__ = [
    "DB_ENV",
    "create_store_engine",
    "default_url",
    "for_single_reads",
    "for_writing",
    "migrate",
    "resolve_url",
    "retry",
]

DB_ENV = "ONCORESIST_DB"
MIGRATIONS = Path(__file__).with_name("migrations")
T = TypeVar("T")
_WRITE = "oncoresist_write"


def default_url() -> sa.URL:
    """Return the default store: ``oncoresist.sqlite`` in the user's data directory."""
    path = Path(platformdirs.user_data_dir("oncoresist")) / "oncoresist.sqlite"
    return sa.URL.create("sqlite", database=str(path))


def resolve_url(url: str | os.PathLike[str] | sa.URL | None = None) -> sa.URL:
    """Return the database URL: the argument, else ``ONCORESIST_DB``, else the default file.

    Parameters
    ----------
    url
        A SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://user@host/db``), or a
        path to a SQLite file. ``postgresql://`` and ``postgres://`` use psycopg 3.

    Returns
    -------
    sqlalchemy.URL
        The URL to connect to.

    Raises
    ------
    StoreError
        A URL that cannot be read, or a database other than SQLite and PostgreSQL.
    """
    if url is None:
        url = os.environ.get(DB_ENV) or None
        if url is None:
            return default_url()
    if isinstance(url, sa.URL):
        parsed = url
    elif isinstance(url, os.PathLike) or "://" not in str(url):
        return sa.URL.create("sqlite", database=str(Path(os.fspath(url)).expanduser()))
    else:
        try:
            parsed = sa.make_url(str(url))
        except ArgumentError:
            raise StoreError(
                f"cannot read the database URL {str(url)!r}; expected sqlite:///path/to/file or "
                "postgresql+psycopg://user@host:port/database"
            ) from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed
    if backend == "sqlite":
        return parsed
    raise StoreError(
        f"unsupported database {parsed.drivername!r}; expected sqlite:///path or "
        "postgresql+psycopg://..."
    )


def _is_memory(url: sa.URL) -> bool:
    return url.database in (None, "", ":memory:") or "mode=memory" in str(url)


def create_store_engine(url: sa.URL, *, busy_timeout: float = 10.0) -> sa.Engine:
    """Create an engine for the store's database (see the module docstring for SQLite).

    Parameters
    ----------
    url
        From :func:`resolve_url`.
    busy_timeout
        Seconds a SQLite connection waits for another writer's lock before failing.

    Returns
    -------
    sqlalchemy.Engine
        The engine.
    """
    if url.get_backend_name() != "sqlite":
        return _server_engine(url)
    memory = _is_memory(url)
    if not memory:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict = {"connect_args": {"timeout": busy_timeout}}
    if memory:
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    engine = sa.create_engine(url, **kwargs)
    milliseconds = int(busy_timeout * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {milliseconds}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not memory:
                # WAL is an optimisation; the rollback journal is as safe if it fails
                with contextlib.suppress(Exception):
                    cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


#: seconds a pooled connection may sit idle before it is pinged at its next use
PING_AFTER_IDLE_S = 5.0


def _server_engine(url: sa.URL) -> sa.Engine:
    engine = sa.create_engine(url, pool_size=20, max_overflow=20, pool_recycle=3600)

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error:
            # the pool discards this connection and opens a new one
            raise sa.exc.DisconnectionError() from None

    return engine


def for_writing(engine: sa.Engine) -> sa.Engine:
    """The engine for write transactions: on SQLite they take the write lock at ``BEGIN``.

    Readers keep plain ``BEGIN`` and, with WAL, never wait for a writer.
    """
    return engine.execution_options(**{_WRITE: True})


def for_single_reads(engine: sa.Engine) -> sa.Engine:
    """The engine for connections that run only single-statement reads.

    On PostgreSQL they run in autocommit mode: no ``BEGIN`` and no ``ROLLBACK`` round trip
    around a statement that is consistent by itself. SQLite (in-process, no round trips)
    keeps the store's own transactions.
    """
    if engine.dialect.name == "sqlite":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def migrate(engine: sa.Engine) -> None:
    """Bring the database to the newest schema with the packaged Alembic migrations.

    Idempotent: a database at the newest revision is left as it is. Runs in one
    transaction (PostgreSQL and SQLite both have transactional DDL), so a failed
    migration leaves the database as it was.
    """
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_table", VERSION_TABLE)

    def run() -> None:
        with for_writing(engine).begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    retry(run)


def _retryable(exc: BaseException, *, integrity: bool) -> bool:
    if integrity and isinstance(exc, IntegrityError):
        return True  # a concurrent writer inserted the same key first: try again
    if not isinstance(exc, OperationalError | DBAPIError):
        return False
    text = str(getattr(exc, "orig", exc)).lower()
    if "database is locked" in text or "database table is locked" in text:
        return True
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return sqlstate in ("40001", "40P01", "55P03")  # serialization, deadlock, lock timeout


def retry(
    action: Callable[[], T],
    *,
    attempts: int = 5,
    delay: float = 0.1,
    integrity: bool = False,
) -> T:
    """Run ``action`` (one whole transaction), again after a locked database, with backoff.

    Parameters
    ----------
    action
        Opens, fills and commits its own transaction, so running it again is safe.
    attempts
        How many times to try in all.
    delay
        Seconds before the second try; doubled before each later one.
    integrity
        Also try again after an integrity error (a concurrent writer got there first).

    Returns
    -------
    object
        What ``action`` returns.

    Raises
    ------
    StoreError
        The database stayed locked (or busy) through every attempt.
    """
    for attempt in range(attempts):
        try:
            return action()
        except DBAPIError as exc:
            if not _retryable(exc, integrity=integrity):
                raise
            if attempt == attempts - 1:
                raise StoreError(
                    f"the database stayed locked or busy after {attempts} attempts "
                    f"({str(exc.orig).strip()}); another process is writing to it: try again "
                    "when it has finished"
                ) from exc
            time.sleep(delay * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover
