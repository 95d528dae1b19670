"""cBioPortal clinical and timeline files from the monitor: format, pseudonyms, content."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from oncoresist import monitor
from oncoresist.cli.exchange import app
from oncoresist.errors import InputError
from oncoresist.exchange import write_cbioportal_study
from oncoresist.store import open_store, pseudonym

EXAMPLES = Path(str(resources.files("oncoresist") / "examples"))
SERIES = EXAMPLES / "egfr_ctdna_series.csv"
THERAPY = EXAMPLES / "egfr_ctdna_therapy.csv"
EVENTS = EXAMPLES / "egfr_ctdna_events.csv"
KEY = bytes(range(32))
TIMELINE_REQUIRED = ["PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE"]


@pytest.fixture(scope="module")
def monitored():
    therapy = monitor.read_therapy(THERAPY)
    events = monitor.read_events(EVENTS)
    result = monitor.monitor(monitor.read_serial(SERIES), therapy=therapy, events=events,
                             disease="LUAD")  # fmt: skip
    return result, therapy, events


@pytest.fixture
def study(monitored, tmp_path: Path):
    result, therapy, events = monitored
    return write_cbioportal_study(result, tmp_path / "study", key=KEY, therapy=therapy,
                                  events=events, disease="LUAD")  # fmt: skip


def _table(path: Path, skip: int = 0) -> tuple[list[str], list[list[str]]]:
    lines = path.read_text().splitlines()[skip:]
    header, *rows = (line.split("\t") for line in lines)
    return header, rows


def test_files_and_meta(study):
    kinds = ["labtest", "specimen", "status", "treatment"]
    expected = {"meta_study.txt", "meta_clinical_patient.txt", "data_clinical_patient.txt",
                "meta_clinical_sample.txt", "data_clinical_sample.txt"}  # fmt: skip
    expected |= {f"{p}_timeline_{k}.txt" for k in kinds for p in ("meta", "data")}
    assert set(study.files) == expected == {p.name for p in study.directory.iterdir()}
    text = (study.directory / "meta_study.txt").read_text()
    meta_study = dict(line.split(": ", 1) for line in text.splitlines())
    assert meta_study["type_of_cancer"] == "luad"
    assert meta_study["cancer_study_identifier"] == "oncoresist_ctdna"
    for name in study.files:
        if not name.startswith("meta_") or name == "meta_study.txt":
            continue
        fields = dict(
            line.split(": ", 1) for line in (study.directory / name).read_text().splitlines()
        )
        assert fields["cancer_study_identifier"] == "oncoresist_ctdna"
        assert fields["genetic_alteration_type"] == "CLINICAL"
        assert (study.directory / fields["data_filename"]).is_file()
        want = "TIMELINE" if "timeline" in name else (
            "PATIENT_ATTRIBUTES" if "patient" in name else "SAMPLE_ATTRIBUTES"
        )  # fmt: skip
        assert fields["datatype"] == want


@pytest.mark.parametrize("name", ["data_clinical_patient.txt", "data_clinical_sample.txt"])
def test_clinical_files_have_the_five_line_header(study, name):
    lines = (study.directory / name).read_text().splitlines()
    head = [line.split("\t") for line in lines[:5]]
    assert all(line.startswith("#") for line in lines[:4])
    assert not lines[4].startswith("#")
    assert len({len(row) for row in head}) == 1
    assert {d.lstrip("#") for d in head[2]} <= {"STRING", "NUMBER", "BOOLEAN"}
    assert all(p.lstrip("#").isdigit() for p in head[3])
    names = head[4]
    assert names[0] == "PATIENT_ID" and all(n == n.upper() for n in names)
    datatypes = dict(zip(names, (d.lstrip("#") for d in head[2]), strict=True))
    for line in lines[5:]:
        cells = line.split("\t")
        assert len(cells) == len(names)
        for column, cell in zip(names, cells, strict=True):
            if datatypes[column] == "NUMBER" and cell != "NA":
                float(cell)


def test_identifiers_are_pseudonyms_and_no_dates_are_written(study):
    assert study.patients == {"ILLUS-P1": "P-" + pseudonym(KEY, "patient", "ILLUS-P1")[:12]}
    assert len(study.samples) == 9
    for path in study.directory.iterdir():
        text = path.read_text()
        assert "ILLUS" not in text, path.name
        assert not re.search(r"\d{4}-\d{2}-\d{2}", text), path.name


def test_pseudonyms_depend_on_the_key(monitored, tmp_path: Path):
    result, _, _ = monitored
    one = write_cbioportal_study(result, tmp_path / "a", key=KEY)
    two = write_cbioportal_study(result, tmp_path / "b", key=bytes(32))
    assert one.patients != two.patients
    assert one.samples.keys() == two.samples.keys()


def test_clinical_content(study, monitored):
    result, _, _ = monitored
    header, rows = _table(study.directory / "data_clinical_patient.txt", skip=4)
    [patient] = [dict(zip(header, r, strict=True)) for r in rows]
    alert = result.alerts.iloc[0]
    assert patient["RESISTANCE_ALERTS"] == "1"
    assert patient["ALERT_ALTERATIONS"] == "EGFR C797S"
    assert patient["FIRST_ALERT_DAY"] == str(int(alert["day"]))  # the monitor's own day
    assert patient["DRAWS"] == "9"
    header, rows = _table(study.directory / "data_clinical_sample.txt", skip=4)
    samples = [dict(zip(header, r, strict=True)) for r in rows]
    assert [s["DRAW_DAY"] for s in samples] == sorted((s["DRAW_DAY"] for s in samples), key=int)
    assert samples[0]["DRAW_DAY"] == "-7"  # drawn a week before osimertinib started (day 0)
    assert samples[0]["MOLECULAR_RESPONSE"] == "baseline"
    assert samples[0]["RESPONSE_MEASURE"] == "mean_vaf_truncal"
    assert 0 < float(samples[0]["RESPONSE_LEVEL"]) < 1
    assert {s["ONCOTREE_CODE"] for s in samples} == {"LUAD"}
    assert "EGFR L858R" in samples[0]["DETECTED_ALTERATIONS"]


def test_timelines(study, monitored):
    result, _, _ = monitored
    _, sample_rows = _table(study.directory / "data_clinical_sample.txt", skip=4)
    clinical_samples = {r[1] for r in sample_rows}
    for kind in ("labtest", "specimen", "status", "treatment"):
        header, rows = _table(study.directory / f"data_timeline_{kind}.txt")
        assert header[:4] == TIMELINE_REQUIRED
        for row in rows:
            assert len(row) == len(header)
            assert row[0] in study.patients.values()
            int(row[1])
            if kind == "treatment":
                assert int(row[2]) >= int(row[1])
            else:
                assert row[2] == ""  # a point event's STOP_DATE is blank
            if "SAMPLE_ID" in header and row[header.index("SAMPLE_ID")]:
                assert row[header.index("SAMPLE_ID")] in clinical_samples
    header, rows = _table(study.directory / "data_timeline_labtest.txt")
    assert len(rows) == len(result.calls) + len(result.response)
    c797s = [dict(zip(header, r, strict=True)) for r in rows
             if r[header.index("TEST")] == "ctDNA VAF EGFR C797S"]  # fmt: skip
    assert len(c797s) == 9 and {r["EVENT_TYPE"] for r in c797s} == {"LAB_TEST"}
    assert float(c797s[-1]["RESULT"]) > 0.01 and c797s[-1]["CALL"] == "detected"
    header, rows = _table(study.directory / "data_timeline_status.txt")
    status = [dict(zip(header, r, strict=True)) for r in rows]
    assert [(s["START_DATE"], s["STATUS"]) for s in status] == [
        (str(int(result.alerts.iloc[0]["day"])), "resistance alert: EGFR C797S"),
        ("330", "progression"),
    ]
    assert status[0]["VERDICT"] == "resistant" and status[0]["REGIMEN"] == "osimertinib"
    header, rows = _table(study.directory / "data_timeline_treatment.txt")
    [line] = [dict(zip(header, r, strict=True)) for r in rows]
    assert (line["START_DATE"], line["AGENT"], line["ONGOING"]) == ("0", "osimertinib", "yes")


def test_refuses_a_directory_with_files_and_bad_ids(monitored, tmp_path: Path):
    result, _, _ = monitored
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("x")
    with pytest.raises(InputError, match="not an empty directory"):
        write_cbioportal_study(result, taken, key=KEY)
    assert [p.name for p in taken.iterdir()] == ["keep.txt"]
    with pytest.raises(InputError) as info:
        write_cbioportal_study(result, tmp_path / "s", key=KEY, study_id="my study")
    assert info.value.field == "--study-id"
    empty = tmp_path / "empty"
    empty.mkdir()
    write_cbioportal_study(result, empty, key=KEY)
    assert (empty / "meta_study.txt").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "taken"]  # no leftovers


def test_response_measured_on_tumour_fraction(tmp_path: Path):
    table = pd.read_csv(SERIES)
    table["tumor_fraction"] = table.groupby("sample_id").ngroup().map(lambda i: 0.2 / (i + 1))
    serial = tmp_path / "serial.csv"
    table.to_csv(serial, index=False)
    result = monitor.monitor(monitor.read_serial(serial))
    study = write_cbioportal_study(result, tmp_path / "tf", key=KEY)
    header, rows = _table(study.directory / "data_clinical_sample.txt", skip=4)
    assert {r[header.index("RESPONSE_MEASURE")] for r in rows} == {"tumor_fraction"}
    header, rows = _table(study.directory / "data_timeline_labtest.txt")
    tests = {r[header.index("TEST")] for r in rows}
    assert "ctDNA tumour fraction" in tests and "ctDNA mean truncal VAF" not in tests


def test_a_sample_id_shared_by_two_patients_is_refused(monitored, tmp_path: Path):
    result, _, _ = monitored
    other = result.calls.copy()
    other["patient_id"] = "ILLUS-P2"
    shared = type(result)(
        calls=pd.concat([result.calls, other], ignore_index=True),
        response=result.response,
        alerts=result.alerts,
        trends=result.trends,
    )
    with pytest.raises(InputError, match="more than one patient") as info:
        write_cbioportal_study(shared, tmp_path / "s", key=KEY)
    assert info.value.field == "sample_id" and not (tmp_path / "s").exists()


def test_cli_needs_the_key_and_writes_the_study(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("ONCORESIST_KEY", raising=False)
    monkeypatch.delenv("ONCORESIST_KEY_FILE", raising=False)
    runner = CliRunner()
    out = tmp_path / "study"
    args = ["cbioportal", str(SERIES), "--out", str(out), "--therapy", str(THERAPY),
            "--events", str(EVENTS), "--disease", "LUAD"]  # fmt: skip
    done = runner.invoke(app, args)
    assert done.exit_code == 2 and "ONCORESIST_KEY" in done.output
    assert not out.exists()
    monkeypatch.setenv("ONCORESIST_KEY", KEY.hex())
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "1 patient(s), 9 sample(s)" in done.output
    assert (out / "data_timeline_status.txt").is_file()
    bad = tmp_path / "serial.csv"
    bad.write_text("patient_id,sample_id\nP1,S1\n")
    done = runner.invoke(app, ["cbioportal", str(bad), "--out", str(tmp_path / "x")])
    assert done.exit_code == 2 and "serial.csv" in done.output
    assert not (tmp_path / "x").exists()


def test_a_store_exports_under_the_same_pseudonyms(tmp_path: Path, monkeypatch):
    db = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with open_store(db, key=KEY) as store:
        store.ingest_serial(SERIES)
        store.ingest_therapy(THERAPY)
        store.ingest_events(EVENTS)
    monkeypatch.delenv("ONCORESIST_KEY", raising=False)
    monkeypatch.delenv("ONCORESIST_KEY_FILE", raising=False)
    runner = CliRunner()
    from_store = tmp_path / "from_store"
    done = runner.invoke(app, ["cbioportal", "--db", db, "--out", str(from_store),
                               "--disease", "LUAD"])  # fmt: skip
    assert done.exit_code == 0, done.output  # no key needed: the store holds pseudonyms
    monkeypatch.setenv("ONCORESIST_KEY", KEY.hex())
    from_file = tmp_path / "from_file"
    args = ["cbioportal", str(SERIES), "--therapy", str(THERAPY), "--events", str(EVENTS),
            "--disease", "LUAD", "--out", str(from_file)]  # fmt: skip
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    for name in ("data_clinical_patient.txt", "data_clinical_sample.txt",
                 "data_timeline_status.txt", "data_timeline_labtest.txt"):  # fmt: skip
        assert (from_store / name).read_text() == (from_file / name).read_text(), name
    result = monitor.monitor(monitor.read_serial(SERIES))
    with pytest.raises(InputError, match="not a store pseudonym"):
        write_cbioportal_study(result, tmp_path / "raw", key=None)
    done = runner.invoke(app, ["cbioportal", "--db", str(tmp_path / "none.sqlite"), "--out",
                               str(tmp_path / "x")])  # fmt: skip
    assert done.exit_code == 2 and "no store" in done.output
    assert not (tmp_path / "none.sqlite").exists()
