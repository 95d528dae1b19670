"""Alembic environment of the store; run by :func:`oncoresist.store._engine.migrate`.

The caller passes an open connection in ``config.attributes["connection"]`` (inside its
transaction). Run from the ``alembic`` command line instead, the database is the
``sqlalchemy.url`` option, else the store's default (``ONCORESIST_DB`` or the user file).
"""

from __future__ import annotations

from alembic import context

from oncoresist.store._engine import create_store_engine, resolve_url
from oncoresist.store._schema import VERSION_TABLE, metadata

_LOCK_ID = 0x6F6E636F  # "onco": PostgreSQL advisory lock serialising migrations


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
    )
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_ID})")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the caller's connection, or on a new one."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_store_engine(resolve_url(context.config.get_main_option("sqlalchemy.url")))
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():  # pragma: no cover - SQL scripts are not supported
    raise SystemExit("oncoresist's store migrations run online only")
run_migrations_online()
