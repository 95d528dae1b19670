"""Fixtures shared by every test package: a fresh empty database on each backend we have.

SQLite always; PostgreSQL when ONCORESIST_TEST_PG_URL names a server (``eval
"$(scripts/ci_postgres.sh)"`` starts one): each test gets its own new database there.
"""

from __future__ import annotations

import faulthandler
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from oncoresist.store._engine import resolve_url

PG_ENV = "ONCORESIST_TEST_PG_URL"

# Crash diagnostics for CI (.ci/run prints both files when pytest dies): the test that
# was running, and every thread's stack at a fatal signal, kept whole rather than cut.
_CRASH_DIR = os.environ.get("ONCORESIST_CRASH_DIR")
_FAULT_FILE = None


@pytest.hookimpl(trylast=True)  # after pytest's faulthandler plugin, which writes to stderr
def pytest_configure(config: pytest.Config) -> None:
    global _FAULT_FILE
    if _CRASH_DIR and _FAULT_FILE is None:
        os.makedirs(_CRASH_DIR, exist_ok=True)
        _FAULT_FILE = open(os.path.join(_CRASH_DIR, "faults.txt"), "w")  # noqa: SIM115
        faulthandler.enable(file=_FAULT_FILE, all_threads=True)


def pytest_runtest_logstart(nodeid: str, location: tuple) -> None:
    if _CRASH_DIR:
        with open(os.path.join(_CRASH_DIR, "current_test.txt"), "w") as handle:
            handle.write(nodeid + "\n")


def _postgres_database() -> Iterator[str]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(
            f"PostgreSQL tests need {PG_ENV} (start a server with: eval "
            '"$(scripts/ci_postgres.sh)")'
        )
    url = resolve_url(base)
    name = f"oncoresist_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    yield from _postgres_database()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database (skipped without a server)."""
    yield from _postgres_database()
