"""Counts in molecules in the store: round trip, merging, the data version, migration 0004."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from store_helpers import HEAD, KEY, SERIES, snapshot

from oncoresist.monitor import read_serial
from oncoresist.store import StoreConflictError, open_store, pseudonym
from oncoresist.store import _schema as s
from oncoresist.store._engine import MIGRATIONS, for_writing
from oncoresist.store._schema import VERSION_TABLE

HEADER = "patient_id,sample_id,collection_date,gene,alteration,alt_reads,depth"
MOLECULES = f"{HEADER},unique_alt_molecules,unique_molecules\n"


def _copy(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _expected(path: Path) -> pd.DataFrame:
    """``read_serial`` of the file with the store's pseudonyms, in the store's order."""
    expected = read_serial(path)
    expected["patient_id"] = expected["patient_id"].map(lambda p: pseudonym(KEY, "patient", p))
    expected["sample_id"] = expected["sample_id"].map(lambda p: pseudonym(KEY, "sample", p))
    return expected.sort_values(
        ["patient_id", "collection_date", "sample_id", "alteration"], kind="stable"
    ).reset_index(drop=True)


def _alembic(url: str, action: str, revision: str) -> None:
    """Run ``alembic upgrade|downgrade revision`` on the store, as ``migrate`` does."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_table", VERSION_TABLE)
    with open_store(url, key=KEY) as store, for_writing(store.engine).begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def test_round_trip_with_molecules(store_url: str, tmp_path: Path) -> None:
    both = _copy(
        tmp_path,
        "both.csv",
        MOLECULES + "P5,S1,2024-01-05,EGFR,T790M,12,3000,5,1500\n"
        "P5,S1,2024-01-05,EGFR,L858R,40,3000,,1400\n"
        "P5,S2,2024-03-05,EGFR,T790M,0,2500,,\n",
    )
    only = _copy(
        tmp_path,
        "only.csv",
        "patient_id,sample_id,collection_date,gene,alteration,alt_umi,families\n"
        "P6,S9,2024-02-01,KRAS,G12C,2,800\n",
    )
    with open_store(store_url, key=KEY) as store:
        assert store.ingest_serial(both).inserted == 3
        assert store.ingest_serial(only).inserted == 1
        got = store.observations("P5")
        pd.testing.assert_frame_equal(got, _expected(both))
        assert got["alt_molecules"].dtype == "Int64"
        assert got["alt_molecules"].tolist() == [pd.NA, 5, pd.NA]
        pd.testing.assert_frame_equal(store.observations("P6"), _expected(only))
        [row] = store.observations("P6").to_dict("records")
        assert [row[c] for c in ("alt_reads", "depth", "alt_molecules", "unique_molecules")] == [
            2,
            800,
            2,
            800,
        ]
        assert list(store.observations("NOBODY").columns) == list(got.columns)


def test_molecule_counts_merge_like_other_columns(store_url: str, tmp_path: Path) -> None:
    views = pytest.importorskip("oncoresist.server._views")
    row = "P5,S1,2024-01-05,EGFR,T790M,12,3000"
    reads = _copy(tmp_path, "reads.csv", f"{HEADER}\n{row}\n")
    filled = _copy(tmp_path, "filled.csv", f"{MOLECULES}{row},3,900\n")
    same = _copy(tmp_path, "same.csv", f"# again\n{MOLECULES}{row},3,900\n")
    changed = _copy(tmp_path, "changed.csv", f"{MOLECULES}{row},4,900\n")
    patient = pseudonym(KEY, "patient", "P5")

    def stored() -> tuple[int | None, int, tuple]:
        with store.engine.connect() as connection:
            value, ingest = connection.execute(
                sa.select(s.observations.c.alt_molecules, s.observations.c.ingest_id)
            ).one()
            version = views.version_of(connection, patient)
        return value, ingest, version

    with open_store(store_url, key=KEY) as store:
        first = store.ingest_serial(reads)
        assert first.inserted == 1
        value, ingest, version = stored()
        assert (value, ingest) == (None, first.ingest_id)

        # a molecule count missing in the store is filled in: an update, a new data version
        result = store.ingest_serial(filled)
        assert (result.inserted, result.updated, result.unchanged) == (0, 1, 0)
        value, ingest, new_version = stored()
        assert (value, ingest) == (3, result.ingest_id)
        assert new_version != version

        # the same file adds nothing; the same rows in another file are unchanged
        before = snapshot(store.engine)
        assert store.ingest_serial(filled).already_ingested
        assert snapshot(store.engine) == before
        again = store.ingest_serial(same)
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)
        assert stored()[:2] == (3, result.ingest_id)

        # another molecule count is a conflict, like any other column
        before = snapshot(store.engine)
        with pytest.raises(StoreConflictError, match="alt_molecules 3; this file gives 4"):
            store.ingest_serial(changed)
        assert snapshot(store.engine) == before
        replaced = store.ingest_serial(
            _copy(tmp_path, "changed2.csv", changed.read_text() + "\n"), on_conflict="replace"
        )
        assert (replaced.updated, replaced.unchanged) == (1, 0)
        value, ingest, last_version = stored()
        assert (value, ingest) == (4, replaced.ingest_id)
        assert last_version not in (version, new_version)

        # a file without molecule counts never erases them
        assert store.ingest_serial(_copy(tmp_path, "r2.csv", f"{HEADER}\n\n{row}\n")).unchanged == 1
        assert store.observations("P5")["alt_molecules"].tolist() == [4]


def test_migration_0004_up_and_down_keeps_the_rows(store_url: str, tmp_path: Path) -> None:
    path = _copy(tmp_path, "both.csv", MOLECULES + "P5,S1,2024-01-05,EGFR,T790M,12,3000,5,1500\n")
    with open_store(store_url, key=KEY) as store:
        store.ingest_serial(SERIES)
        store.ingest_serial(path)
        kept = store.observations()
    _alembic(store_url, "downgrade", "0003")
    engine = sa.create_engine(store_url)
    try:
        columns = {c["name"] for c in sa.inspect(engine).get_columns("observations")}
        assert "alt_molecules" not in columns and "unique_molecules" in columns
        with engine.connect() as connection:
            assert connection.execute(sa.text(f"SELECT * FROM {VERSION_TABLE}")).all() == [
                ("0003",)
            ]
            assert connection.execute(sa.text("SELECT count(*) FROM observations")).scalar() == 37
    finally:
        engine.dispose()
    # opening the store upgrades it again: the rows are back, the molecule count is gone
    with open_store(store_url, key=KEY) as store:
        assert snapshot(store.engine)[VERSION_TABLE] == [(HEAD,)]
        back = store.observations()
        pd.testing.assert_frame_equal(back.drop(columns="alt_molecules"),
                                      kept.drop(columns="alt_molecules"))  # fmt: skip
        assert back["alt_molecules"].isna().all()
        # and a re-ingest under another hash fills it in
        result = store.ingest_serial(_copy(tmp_path, "again.csv", path.read_text() + "\n"))
        assert (result.inserted, result.updated) == (0, 1)
        pd.testing.assert_frame_equal(store.observations(), kept)
