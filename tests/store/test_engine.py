"""Where the store lives, SQLite settings, and retries on a locked database."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from store_helpers import KEY, SERIES, THERAPY

from oncoresist.store import StoreError, default_url, open_store
from oncoresist.store._engine import resolve_url


def test_urls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert default_url().database.endswith("oncoresist.sqlite")
    assert resolve_url() == default_url()
    monkeypatch.setenv("ONCORESIST_DB", str(tmp_path / "env.sqlite"))
    assert resolve_url().database == str(tmp_path / "env.sqlite")
    assert resolve_url(tmp_path / "a.sqlite").database == str(tmp_path / "a.sqlite")
    assert resolve_url(f"sqlite:///{tmp_path}/b.sqlite").database == f"{tmp_path}/b.sqlite"
    pg = resolve_url("postgresql://u:secret@db.example:5433/onco")
    assert pg.drivername == "postgresql+psycopg" and pg.port == 5433
    assert resolve_url("postgres://u@h/d").drivername == "postgresql+psycopg"
    with pytest.raises(StoreError, match="unsupported database"):
        resolve_url("mysql://u@h/d")


def test_the_default_location_is_overridden_by_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ONCORESIST_DB", str(tmp_path / "deep" / "env.sqlite"))
    with open_store(key=KEY) as store:
        assert store.url.endswith("env.sqlite")
    assert (tmp_path / "deep" / "env.sqlite").exists()


def test_sqlite_settings(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.sqlite", key=KEY) as store, store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
        with pytest.raises(sa.exc.IntegrityError):  # foreign keys are enforced
            c.exec_driver_sql(
                "INSERT INTO samples VALUES ('s', 'no-such-patient', '2024-01-01', NULL, NULL, 1)"
            )


def _lock(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_locked_database_is_retried(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite"
    with open_store(path, key=KEY, busy_timeout=0.05) as store:
        holder = _lock(path)
        threading.Timer(0.4, holder.rollback).start()
        started = time.monotonic()
        result = store.ingest_serial(SERIES)
        assert result.inserted == 36
        assert time.monotonic() - started >= 0.3
        holder.close()


def test_a_database_that_stays_locked_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite"
    with open_store(path, key=KEY, busy_timeout=0.02) as store:
        store.ingest_serial(SERIES)
        holder = _lock(path)
        try:
            with pytest.raises(StoreError, match="locked"):
                store.ingest_therapy(THERAPY)
            assert len(store.observations()) == 36  # readers are not blocked (WAL)
        finally:
            holder.close()
        assert store.ingest_therapy(THERAPY).inserted == 1


def test_two_writers_at_once(tmp_path: Path) -> None:
    path = tmp_path / "two.sqlite"
    errors: list[BaseException] = []

    def ingest(which: Path) -> None:
        try:
            with open_store(path, key=KEY) as store:
                store.ingest_serial(which)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    open_store(path, key=KEY).close()
    other = tmp_path / "other.csv"
    other.write_text(SERIES.read_text().replace("ILLUS-P1", "ILLUS-P2"))
    threads = [threading.Thread(target=ingest, args=(f,)) for f in (SERIES, other, SERIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with open_store(path, key=KEY) as store:
        assert len(store.patients()) == 2
        assert len(store.observations()) == 72
        assert len(store.ingests()) == 2


def test_idle_postgres_connections_are_pinged_and_replaced(postgres_url: str,
                                                           monkeypatch) -> None:  # fmt: skip
    """A pooled connection that the server dropped while it sat idle is replaced at its next
    use (no failed request); a connection used within the idle limit is not pinged."""
    from oncoresist.store import _engine

    engine = _engine.create_store_engine(resolve_url(postgres_url))
    pings: list[int] = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(1) or real_ping(c))
    try:
        with engine.connect() as connection:
            backend = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with engine.connect() as connection:  # used again at once: no ping
            assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() == backend
        assert pings == []
        admin = sa.create_engine(resolve_url(postgres_url), poolclass=sa.pool.NullPool)
        with admin.connect() as connection:
            connection.exec_driver_sql(f"SELECT pg_terminate_backend({backend})")
        admin.dispose()
        monkeypatch.setattr(_engine, "PING_AFTER_IDLE_S", 0.0)
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1
            assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() != backend
        assert pings
    finally:
        engine.dispose()
