"""Shared by the store tests: example files, keys and a snapshot of every table."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from oncoresist.store._schema import VERSION_TABLE, metadata

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "oncoresist" / "examples"
SERIES = EXAMPLES / "egfr_ctdna_series.csv"
THERAPY = EXAMPLES / "egfr_ctdna_therapy.csv"
EVENTS = EXAMPLES / "egfr_ctdna_events.csv"
HEAD = "0007"  # the newest migration
KEY = bytes.fromhex("7f" * 16 + "01" * 16)
OTHER_KEY = bytes.fromhex("3c" * 32)


def snapshot(engine: sa.Engine) -> dict[str, list[tuple]]:
    """Every row of every table of the store (and the migration version), sorted."""
    tables = {t.name: t for t in metadata.sorted_tables}
    tables[VERSION_TABLE] = sa.table(VERSION_TABLE, sa.column("version_num"))
    result = {}
    with engine.connect() as connection:
        for name, table in tables.items():
            rows = connection.execute(sa.select(table)).all()
            result[name] = sorted((tuple(row) for row in rows), key=repr)
    return result
