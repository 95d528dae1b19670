import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

from typer.testing import CliRunner

from oncoresist.cli import app

runner = CliRunner()
EXAMPLES = Path(str(resources.files("oncoresist") / "examples"))


def test_monitor_demo_shows_the_alert():
    result = runner.invoke(app, ["monitor", "demo"], terminal_width=120)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # the console wraps long lines
    assert "Illustrative" in text
    # per draw C797S is first seen on day 182 (4 molecules); under the per-patient budget
    # of 2 % and the default (heavy-tailed) background the series alerts at the next draw
    assert "EGFR C797S, first called on day 238" in text
    assert "resistant to osimertinib" in text
    assert "at most 2.0% chance that a resistance-free patient's series ever alerts" in text


def test_monitor_call_json(tmp_path):
    target = tmp_path / "monitor.json"
    result = runner.invoke(
        app,
        [
            "monitor", "call", str(EXAMPLES / "egfr_ctdna_series.csv"),
            "--therapy", str(EXAMPLES / "egfr_ctdna_therapy.csv"),
            "--events", str(EXAMPLES / "egfr_ctdna_events.csv"),
            "--disease", "NSCLC", "--format", "json", "--out", str(target),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(target.read_text())
    assert set(doc) == {"calls", "response", "alerts", "trends", "settings"}
    assert len(doc["calls"]) == 36
    assert {"state", "p_value", "lod_vaf", "series_called", "series_level"} <= set(doc["calls"][0])
    assert doc["alerts"][0]["alteration"] == "EGFR C797S"
    assert doc["alerts"][0]["category"] == "emerging_resistance"
    assert doc["alerts"][0]["lead_time_days"] == 92
    assert doc["settings"]["budget"] == 0.02 and doc["settings"]["count_unit"] == "reads"


def test_monitor_call_bad_file_is_one_line(tmp_path):
    bad = tmp_path / "serial.csv"
    bad.write_text(
        "patient_id,sample_id,collection_date,gene,alteration,alt_reads,depth\n"
        "P1,S1,03/04/2021,EGFR,T790M,5,1000\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "oncoresist", "monitor", "call", str(bad)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "serial.csv" in proc.stderr and "collection_date" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_ingest_status_alerts_through_the_store(tmp_path):
    db = f"sqlite:///{tmp_path / 'store.sqlite'}"
    env = {"ONCORESIST_KEY": "ab" * 32}
    files = [str(EXAMPLES / f"egfr_ctdna_{k}.csv") for k in ("series", "therapy", "events")]
    first = runner.invoke(app, ["monitor", "ingest", *files, "--db", db], env=env)
    assert first.exit_code == 0, first.output
    assert "serial, 36 rows (36 new" in first.output
    again = runner.invoke(app, ["monitor", "ingest", files[0], "--db", db], env=env)
    assert "already ingested; nothing added" in again.output
    status = runner.invoke(app, ["monitor", "status", "ILLUS-P1", "--db", db, "--disease",
                                 "LUAD"], env=env)  # fmt: skip
    assert status.exit_code == 0, status.output
    assert "EGFR C797S, first called on day 238" in " ".join(status.output.split())
    alerts = runner.invoke(app, ["monitor", "alerts", "--db", db], env=env, terminal_width=160)
    assert alerts.exit_code == 0 and "1 resistance alerts" in alerts.output
    assert b"ILLUS-P1" not in (tmp_path / "store.sqlite").read_bytes()


def test_store_without_key_is_one_line_exit_2(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("ONCORESIST_KEY")}
    proc = subprocess.run(
        [sys.executable, "-m", "oncoresist", "monitor", "ingest",
         str(EXAMPLES / "egfr_ctdna_series.csv"), "--db", f"sqlite:///{tmp_path / 's.db'}"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "ONCORESIST_KEY" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_monitor_demo_with_store_and_report(tmp_path):
    first = runner.invoke(app, ["monitor", "demo", "--out", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert "egfr_ctdna_series.csv: 36 rows stored" in first.output
    again = runner.invoke(app, ["monitor", "demo", "--out", str(tmp_path)])
    assert "egfr_ctdna_series.csv: already stored" in again.output
    report = (tmp_path / "illustrative_patient_report.html").read_text()
    assert 'id="trajectories"' in report and "EGFR C797S" in report
    bare = report.replace('xmlns="http://www.w3.org/2000/svg"', "")  # a name, not a link
    assert "ILLUS-P1" not in report and "http://" not in bare
    assert b"ILLUS-P1" not in (tmp_path / "monitor_demo.sqlite").read_bytes()


def test_report_command(tmp_path):
    db = f"sqlite:///{tmp_path / 'store.sqlite'}"
    env = {"ONCORESIST_KEY": "cd" * 32}
    files = [str(EXAMPLES / f"egfr_ctdna_{k}.csv") for k in ("series", "therapy", "events")]
    assert runner.invoke(app, ["monitor", "ingest", *files, "--db", db], env=env).exit_code == 0
    target = tmp_path / "r.html"
    result = runner.invoke(
        app, ["report", "ILLUS-P1", "--out", str(target), "--db", db, "--disease", "LUAD"],
        env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    html = target.read_text()
    assert 'id="alerts"' in html and 'id="verdicts"' in html and "ILLUS-P1" not in html


def _molecule_panel(path):
    rows = ["gene,alteration,sample_id,unique_alt_molecules,unique_molecules"]
    for i in range(30):
        rows.append(f"EGFR,C797S,N{i},{i % 3},9000")
        rows.append(f"EGFR,T790M,N{i},{(i + 1) % 2},9000")
    path.write_text("\n".join(rows) + "\n")


def test_reads_only_series_against_a_molecule_panel_is_refused(tmp_path):
    panel = tmp_path / "panel.csv"
    _molecule_panel(panel)
    serial = tmp_path / "serial.csv"
    serial.write_text(
        "patient_id,sample_id,collection_date,gene,alteration,alt_reads,depth\n"
        "P1,S1,2024-01-01,EGFR,C797S,0,9000\nP1,S2,2024-02-01,EGFR,C797S,12,12000\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "oncoresist", "monitor", "call", str(serial), "--normals",
         str(panel)], capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "alt_molecules" in proc.stderr and "unique_molecules" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_molecule_series_against_a_molecule_panel(tmp_path):
    panel = tmp_path / "panel.csv"
    _molecule_panel(panel)
    serial = tmp_path / "serial.csv"
    serial.write_text(
        "patient_id,sample_id,collection_date,gene,alteration,alt_reads,depth,"
        "unique_alt_molecules,unique_molecules\n"
        "P1,S1,2024-01-01,EGFR,C797S,0,20000,0,9000\n"
        "P1,S2,2024-02-01,EGFR,C797S,30,20000,6,9000\n"
        "P1,S3,2024-03-01,EGFR,C797S,90,20000,18,9000\n"
    )
    target = tmp_path / "out.json"
    result = runner.invoke(
        app, ["monitor", "call", str(serial), "--normals", str(panel), "--format", "json",
              "--out", str(target)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(target.read_text())
    assert doc["settings"]["count_unit"] == "molecules"
    assert "panel of 30 normals at 2 sites, counted in molecules" in doc["settings"]["error_model"]
    assert [c["alt_count"] for c in doc["calls"]] == [0, 6, 18]
