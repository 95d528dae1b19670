"""The store on every backend: migrations, round trip, idempotence, atomicity, privacy."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from store_helpers import EVENTS, HEAD, KEY, OTHER_KEY, SERIES, THERAPY, snapshot

from oncoresist.errors import InputError
from oncoresist.monitor import read_events, read_serial, read_therapy
from oncoresist.store import (
    StoreConflictError,
    StoreKeyError,
    open_store,
    pseudonym,
)
from oncoresist.store._schema import VERSION_TABLE, metadata

RAW_PATIENT = "ILLUS-P1"


def _copy(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_migrations_reach_head_on_an_empty_database(store_url: str) -> None:
    store = open_store(store_url, key=KEY)
    try:
        names = set(sa.inspect(store.engine).get_table_names())
        assert {t.name for t in metadata.sorted_tables} | {VERSION_TABLE} <= names
        with store.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            assert context.get_current_revision() == HEAD
            # the migration builds exactly the tables the code uses
            assert compare_metadata(context, metadata) == []
    finally:
        store.close()
    with open_store(store_url, key=KEY) as again:  # idempotent
        assert snapshot(again.engine)[VERSION_TABLE] == [(HEAD,)]
        assert again.patients() == []


def test_round_trip_of_the_example(store_url: str) -> None:
    with open_store(store_url, key=KEY) as store:
        serial = store.ingest_serial(SERIES)
        assert (serial.rows, serial.inserted, serial.already_ingested) == (36, 36, False)
        assert store.ingest_therapy(THERAPY).inserted == 1
        assert store.ingest_events(EVENTS).inserted == 1

        patient = pseudonym(KEY, "patient", RAW_PATIENT)
        assert store.patients() == [patient]
        assert store.pseudonym(RAW_PATIENT) == patient

        expected = read_serial(SERIES)
        expected["patient_id"] = expected["patient_id"].map(lambda p: pseudonym(KEY, "patient", p))
        expected["sample_id"] = expected["sample_id"].map(lambda p: pseudonym(KEY, "sample", p))
        expected = expected.sort_values(
            ["patient_id", "collection_date", "sample_id", "alteration"], kind="stable"
        ).reset_index(drop=True)
        got = store.observations(RAW_PATIENT)
        pd.testing.assert_frame_equal(got, expected)
        pd.testing.assert_frame_equal(store.observations(pseudonym=patient), expected)
        pd.testing.assert_frame_equal(store.observations(), expected)
        many = {"pseudonyms": [patient, pseudonym(KEY, "patient", "NOT-A-PATIENT")]}
        pd.testing.assert_frame_equal(store.observations(**many), expected)
        pd.testing.assert_frame_equal(store.therapy(**many), store.therapy(pseudonym=patient))
        pd.testing.assert_frame_equal(store.events(**many), store.events(pseudonym=patient))

        therapy = read_therapy(THERAPY).assign(patient_id=patient)
        pd.testing.assert_frame_equal(store.therapy(RAW_PATIENT), therapy)
        events = read_events(EVENTS).assign(patient_id=patient)
        pd.testing.assert_frame_equal(store.events(RAW_PATIENT), events)

        assert store.observations("NOT-A-PATIENT").empty
        assert list(store.observations("NOT-A-PATIENT").columns) == list(expected.columns)
        log = store.ingests()
        assert list(log["kind"]) == ["serial", "therapy", "events"]
        assert list(log["rows"]) == [36, 1, 1]


def test_round_trip_with_coordinates_and_missing_values(store_url: str, tmp_path: Path) -> None:
    path = _copy(
        tmp_path,
        "coords.tsv",
        "patient\tsample\tcollection_date\tchrom\tpos\tref\talt\tbuild\talteration\t"
        "alt_reads\tdepth\tunique_molecules\ttumor_fraction\n"
        "P9\tS1\t2024-01-05T08:30\tchr7\t55249071\tC\tT\thg19\t\t3\t900\t\t0.02\n"
        "P9\tS1\t2024-01-05T08:30\t\t\t\t\t\tEGFR L858R\t0\t800\t700\t0.02\n"
        "P9\tS2\t2024-03-05\t\t\t\t\t\tEGFR L858R\t0\t800\t\t\n",
    )
    with open_store(store_url, key=KEY) as store:
        assert store.ingest_serial(path).inserted == 3
        expected = read_serial(path)
        expected["patient_id"] = pseudonym(KEY, "patient", "P9")
        expected["sample_id"] = expected["sample_id"].map(lambda p: pseudonym(KEY, "sample", p))
        expected = expected.sort_values(
            ["patient_id", "collection_date", "sample_id", "alteration"], kind="stable"
        ).reset_index(drop=True)
        pd.testing.assert_frame_equal(store.observations("P9"), expected)
        assert store.observations("P9")["pos"].notna().sum() == 1


def test_ingesting_a_file_twice_adds_nothing(store_url: str) -> None:
    with open_store(store_url, key=KEY) as store:
        first = store.ingest_serial(SERIES)
        before = snapshot(store.engine)
        second = store.ingest_serial(SERIES)
        assert second.already_ingested
        assert second.ingest_id == first.ingest_id
        assert second.sha256 == first.sha256
        assert snapshot(store.engine) == before
        # the same bytes under another name are the same file
        assert store.ingest_events(EVENTS).inserted == 1
        assert store.ingest_events(EVENTS).already_ingested


def test_an_overlapping_file_adds_only_new_rows(store_url: str, tmp_path: Path) -> None:
    text = SERIES.read_text()
    extra = "ILLUS-P1,ILLUS-P1-D9,2025-06-01,EGFR,C797S,12,3000,3000,21.0\n"
    overlapping = _copy(tmp_path, "more.csv", "# re-export\n" + text + extra)
    with open_store(store_url, key=KEY) as store:
        store.ingest_serial(SERIES)
        result = store.ingest_serial(overlapping)
        assert not result.already_ingested
        assert (result.rows, result.inserted, result.updated, result.unchanged) == (37, 1, 0, 36)
        assert len(store.observations()) == 37
        assert len(snapshot(store.engine)["samples"]) == 10
        assert len(store.ingests()) == 2


def test_conflicting_values_follow_on_conflict(store_url: str, tmp_path: Path) -> None:
    lines = SERIES.read_text().splitlines(keepends=True)
    first = lines[1].split(",")
    assert first[4] == "L858R"
    first[5] = str(int(first[5]) + 7)
    changed = _copy(tmp_path, "changed.csv", "".join([lines[0], ",".join(first), *lines[2:]]))
    with open_store(store_url, key=KEY) as store:
        store.ingest_serial(SERIES)
        before = snapshot(store.engine)
        with pytest.raises(StoreConflictError, match=r"EGFR L858R in sample ILLUS-P1-D0"):
            store.ingest_serial(changed)
        assert snapshot(store.engine) == before

        kept = store.ingest_serial(changed, on_conflict="keep")
        assert (kept.inserted, kept.updated, kept.unchanged) == (0, 0, 36)
        assert store.ingest_serial(changed, on_conflict="replace").already_ingested
        reads = store.observations(RAW_PATIENT).set_index(["collection_date", "alteration"])
        assert reads.loc[(pd.Timestamp("2024-02-26"), "EGFR L858R"), "alt_reads"] == 191

    with open_store(store_url, key=KEY) as store:
        replaced_file = _copy(tmp_path, "changed2.csv", changed.read_text() + "\n")
        replaced = store.ingest_serial(replaced_file, on_conflict="replace")
        assert (replaced.inserted, replaced.updated) == (0, 1)
        reads = store.observations(RAW_PATIENT).set_index(["collection_date", "alteration"])
        assert reads.loc[(pd.Timestamp("2024-02-26"), "EGFR L858R"), "alt_reads"] == 198


def test_missing_values_are_filled_in(store_url: str, tmp_path: Path) -> None:
    header = "patient_id,regimen,start_date,end_date,reason_stopped\n"
    ongoing = _copy(tmp_path, "t1.csv", header + "P1,osimertinib,2024-03-04,,\n")
    ended = _copy(tmp_path, "t2.csv", header + "P1,osimertinib,2024-03-04,2025-01-28,progression\n")
    with open_store(store_url, key=KEY) as store:
        store.ingest_therapy(ongoing)
        result = store.ingest_therapy(ended)
        assert (result.inserted, result.updated) == (0, 1)
        line = store.therapy("P1").iloc[0]
        assert line["end_date"] == pd.Timestamp("2025-01-28")
        assert line["reason_stopped"] == "progression"
        # a file that leaves the end empty does not erase it
        again = _copy(tmp_path, "t3.csv", header + "P1,osimertinib,2024-03-04,,\n\n")
        assert store.ingest_therapy(again).unchanged == 1
        assert store.therapy("P1").iloc[0]["end_date"] == pd.Timestamp("2025-01-28")


def test_a_bad_file_writes_nothing(store_url: str, tmp_path: Path) -> None:
    text = SERIES.read_text()
    bad = _copy(tmp_path, "bad.csv", text + "ILLUS-P2,X-1,03/04/2025,EGFR,T790M,1,100,,\n")
    with open_store(store_url, key=KEY) as store:
        store.ingest_therapy(THERAPY)
        before = snapshot(store.engine)
        with pytest.raises(InputError, match="collection_date"):
            store.ingest_serial(bad)
        assert snapshot(store.engine) == before

        # valid to the reader, refused by the store half-way through writing: a new patient
        # and new samples come first, then a sample already stored for another patient
        store.ingest_serial(SERIES)
        before = snapshot(store.engine)
        clash = _copy(
            tmp_path,
            "clash.csv",
            "patient_id,sample_id,collection_date,gene,alteration,alt_reads,depth\n"
            "ILLUS-P7,NEW-1,2024-05-01,EGFR,T790M,1,100\n"
            "ILLUS-P7,ILLUS-P1-D0,2024-02-26,EGFR,T790M,1,100\n",
        )
        with pytest.raises(StoreConflictError, match="another patient"):
            store.ingest_serial(clash)
        assert snapshot(store.engine) == before


def test_no_raw_identifiers_or_key_in_the_database(store_url: str) -> None:
    raw = [RAW_PATIENT, *read_serial(SERIES)["sample_id"].unique()]
    with open_store(store_url, key=KEY) as store:
        store.ingest_serial(SERIES)
        store.ingest_therapy(THERAPY)
        store.ingest_events(EVENTS)
        values = [str(v) for rows in snapshot(store.engine).values() for r in rows for v in r]
        url = store.engine.url
    assert values
    secrets = [*raw, KEY.hex(), KEY.hex().upper()]
    assert not [v for v in values for s in secrets if s in v]
    if url.get_backend_name() == "sqlite":
        files = list(Path(url.database).parent.glob("store.sqlite*"))
        assert files
        for file in files:
            data = file.read_bytes()
            for text in (*secrets, "ILLUS"):
                assert text.encode() not in data, (file.name, text)
            assert KEY not in data


def test_a_key_is_needed_and_must_be_the_stores(store_url: str) -> None:
    with open_store(store_url) as store:
        with pytest.raises(StoreKeyError, match="ONCORESIST_KEY"):
            store.ingest_serial(SERIES)
        assert store.patients() == []
    with open_store(store_url, key=KEY) as store:
        store.ingest_serial(SERIES)
    with open_store(store_url) as store:  # listing pseudonyms needs no key
        assert store.patients() == [pseudonym(KEY, "patient", RAW_PATIENT)]
    with open_store(store_url, key=OTHER_KEY) as store:
        with pytest.raises(StoreKeyError, match="not the key"):
            store.observations(RAW_PATIENT)
        before = snapshot(store.engine)
        with pytest.raises(StoreKeyError, match="not the key"):
            store.ingest_events(EVENTS)
        assert snapshot(store.engine) == before


def test_the_key_comes_from_the_environment(
    store_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ONCORESIST_KEY", KEY.hex())
    with open_store(store_url) as store:
        store.ingest_serial(SERIES)
        assert len(store.observations(RAW_PATIENT)) == 36
    monkeypatch.delenv("ONCORESIST_KEY")
    key_file = tmp_path / "store.key"
    key_file.write_text(KEY.hex() + "\n")
    monkeypatch.setenv("ONCORESIST_KEY_FILE", str(key_file))
    with open_store(store_url) as store:
        assert len(store.observations(RAW_PATIENT)) == 36
