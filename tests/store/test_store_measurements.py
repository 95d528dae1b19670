"""Serial marker measurements in the store (migration 0006), on each backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from store_helpers import KEY, snapshot

from oncoresist.errors import InputError
from oncoresist.forecast._inputs import read_measurements
from oncoresist.store import StoreConflictError, open_store, pseudonym
from oncoresist.store._engine import MIGRATIONS, for_writing
from oncoresist.store._schema import VERSION_TABLE

FILE = (
    "patient_id,date,marker,value,lower_limit_of_quantification,on_treatment\n"
    "P1,2024-01-01,psa,10,,1\n"
    "P1,2024-02-01,psa,5,,1\n"
    "P1,2024-03-01,psa,<0.1,,0\n"
    "P1,2024-04-01,psa,,0.2,1\n"
    "P2,2024-01-05,psa,8,,\n"
    "P2,2024-02-05,psa,4,,\n"
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_round_trip(store_url: str, tmp_path: Path) -> None:
    path = _write(tmp_path, "m.csv", FILE)
    with open_store(store_url, key=KEY) as store:
        first = store.ingest_measurements(path)
        assert (first.kind, first.rows, first.inserted) == ("measurements", 6, 6)
        again = store.ingest_measurements(path)
        assert again.already_ingested and again.ingest_id == first.ingest_id
        got = store.measurements("P1")
    expected = read_measurements(path)
    expected = expected[expected["patient_id"] == "P1"].reset_index(drop=True)
    assert set(got["patient_id"]) == {pseudonym(KEY, "patient", "P1")}
    assert list(got["day"]) == list(expected["day"]) == [0.0, 31.0, 60.0, 91.0]
    np.testing.assert_array_equal(got["value"], expected["value"])
    assert list(got["censored"]) == [False, False, True, True]
    np.testing.assert_array_equal(got["lower_limit_of_quantification"],
                                  expected["lower_limit_of_quantification"])  # fmt: skip
    assert list(got["on_treatment"]) == [1.0, 1.0, 0.0, 1.0]
    assert list(got["date"].dt.strftime("%Y-%m-%d")) == [
        "2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"
    ]  # fmt: skip


def test_a_later_file_adds_and_days_count_from_the_first_stored_date(
    store_url: str, tmp_path: Path
) -> None:
    with open_store(store_url, key=KEY) as store:
        store.ingest_measurements(_write(tmp_path, "a.csv", FILE))
        later = ("patient_id,date,marker,value,on_treatment\n"
                 "P1,2024-05-01,psa,1,1\nP1,2024-06-01,psa,2,1\n")  # fmt: skip
        result = store.ingest_measurements(_write(tmp_path, "b.csv", later))
        assert (result.inserted, result.unchanged) == (2, 0)
        got = store.measurements(pseudonym=pseudonym(KEY, "patient", "P1"), marker="psa")
        both = store.measurements(pseudonyms=[pseudonym(KEY, "patient", p) for p in ("P1", "P2")])
    assert list(got["day"]) == [0.0, 31.0, 60.0, 91.0, 121.0, 152.0]
    assert len(both) == 8 and np.isnan(both["on_treatment"].iloc[-1])


def test_a_conflicting_value_writes_nothing(store_url: str, tmp_path: Path) -> None:
    with open_store(store_url, key=KEY) as store:
        store.ingest_measurements(_write(tmp_path, "a.csv", FILE))
        before = snapshot(store.engine)
        changed = FILE.replace("P1,2024-02-01,psa,5,,1", "P1,2024-02-01,psa,6,,1")
        with pytest.raises(StoreConflictError, match="psa measurement of 2024-02-01"):
            store.ingest_measurements(_write(tmp_path, "b.csv", changed))
        assert snapshot(store.engine) == before
        store.ingest_measurements(_write(tmp_path, "c.csv", changed), on_conflict="replace")
        assert list(store.measurements("P1")["value"])[1] == 6.0


def test_days_without_dates(store_url: str, tmp_path: Path) -> None:
    text = "patient_id,day,marker,value,on_treatment\nP3,0,psa,4,1\nP3,28.5,psa,2,0\n"
    with open_store(store_url, key=KEY) as store:
        store.ingest_measurements(_write(tmp_path, "d.csv", text))
        got = store.measurements("P3")
    assert list(got["day"]) == [0.0, 28.5] and got["date"].isna().all()


def test_a_bad_file_is_located_and_stores_nothing(store_url: str, tmp_path: Path) -> None:
    bad = FILE.replace("P1,2024-02-01,psa,5,,1", "P1,2024-02-01,psa,-5,,1")
    with open_store(store_url, key=KEY) as store:
        before = snapshot(store.engine)
        with pytest.raises(InputError) as caught:
            store.ingest_measurements(_write(tmp_path, "bad.csv", bad))
        assert caught.value.record == 3 and caught.value.field == "value"
        assert "bad.csv" in str(caught.value)
        assert snapshot(store.engine) == before


def _alembic(url: str, action: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_table", VERSION_TABLE)
    with open_store(url, key=KEY) as store, for_writing(store.engine).begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def test_migration_0006_down_and_up(store_url: str, tmp_path: Path) -> None:
    with open_store(store_url, key=KEY) as store:
        store.ingest_measurements(_write(tmp_path, "a.csv", FILE))
    _alembic(store_url, "downgrade", "0005")
    engine = sa.create_engine(store_url)
    try:
        assert "marker_measurements" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
    with open_store(store_url, key=KEY) as store:  # opening migrates to the head again
        assert "marker_measurements" in sa.inspect(store.engine).get_table_names()
        assert store.measurements().empty
        store.ingest_measurements(_write(tmp_path, "b.csv", FILE + "\n"))
        assert len(store.measurements()) == 6
