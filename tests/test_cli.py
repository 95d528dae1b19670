import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oncoresist import __version__
from oncoresist.cli import app

runner = CliRunner()


def cli(*args: str) -> subprocess.CompletedProcess:
    """Run the real entry point, as a user would (exit codes and stderr included)."""
    return subprocess.run(
        [sys.executable, "-m", "oncoresist", *args], capture_output=True, text=True, timeout=120
    )


def test_version_and_help():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output
    result = runner.invoke(app, ["--help"])
    for group in ("kb", "variants", "interpret", "demo"):
        assert group in result.output


def test_kb_commands():
    assert "consistent" in runner.invoke(app, ["kb", "validate"]).output
    stats = json.loads(runner.invoke(app, ["kb", "stats", "--json"]).output)
    assert stats["assertions"] >= 300
    show = runner.invoke(app, ["kb", "show", "HER2"], terminal_width=200)
    assert show.exit_code == 0 and "ERBB2" in show.output
    drug = runner.invoke(app, ["kb", "drug", "AZD9291"], terminal_width=200)
    assert drug.exit_code == 0 and "osimertinib" in drug.output
    search = runner.invoke(app, ["kb", "search", "G1202R"], terminal_width=200)
    assert search.exit_code == 0 and "G1202R" in search.output
    assert runner.invoke(app, ["kb", "diseases"]).exit_code == 0


def test_kb_export(tmp_path):
    tsv = tmp_path / "kb.tsv"
    assert runner.invoke(app, ["kb", "export", "--format", "tsv", "--out", str(tsv)]).exit_code == 0
    header = tsv.read_text().splitlines()[0].split("\t")
    assert header[:4] == ["id", "file", "genes", "biomarker"]
    out = runner.invoke(app, ["kb", "export", "--format", "json"])
    records = json.loads(out.output)
    assert len(records) >= 300 and "references" in records[0]


def test_interpret_alterations_json():
    result = runner.invoke(
        app,
        [
            "interpret",
            "--alterations",
            "EGFR L858R; EGFR T790M",
            "--drugs",
            "gefitinib, osimertinib",
            "--disease",
            "NSCLC",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert [(d["drug"], d["verdict"]) for d in doc["drugs"]] == [
        ("gefitinib", "resistant"),
        ("osimertinib", "sensitive"),
    ]


def _case(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_case_files_give_an_array_in_order(tmp_path):
    cis = _case(
        tmp_path / "cis_case.yaml",
        "disease: NSCLC\nalterations: [EGFR L858R, EGFR T790M, EGFR C797S]\n"
        "phase: [[EGFR T790M, EGFR C797S, cis]]\n"
        "drugs: [osimertinib, gefitinib + osimertinib]\n",
    )
    trans = _case(
        tmp_path / "trans_case.yaml",
        "disease: NSCLC\nalterations: [EGFR L858R, EGFR T790M, EGFR C797S]\n"
        "phase: [[EGFR T790M, EGFR C797S, trans]]\n"
        "drugs: [osimertinib, gefitinib + osimertinib]\n",
    )
    result = runner.invoke(app, ["interpret", str(trans), str(cis), "--format", "json"])
    assert result.exit_code == 0, result.output
    docs = json.loads(result.output)
    assert [d["case"] for d in docs] == ["trans_case", "cis_case"]
    verdict = {d["case"]: {x["drug"]: x["verdict"] for x in d["drugs"]} for d in docs}
    assert verdict["cis_case"]["gefitinib + osimertinib"] == "resistant"
    assert verdict["trans_case"]["gefitinib + osimertinib"] == "sensitive"
    assert verdict["trans_case"]["osimertinib"] == "resistant"
    for doc in docs:
        assert set(doc) >= {"case", "disease", "drugs", "options"}
        assert set(doc["drugs"][0]) >= {"drug", "verdict", "reasons"}


def test_tsv_output(tmp_path):
    out = tmp_path / "r.tsv"
    result = runner.invoke(
        app, ["interpret", "-a", "EGFR L858R", "--disease", "NSCLC", "--format", "tsv",
              "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0
    assert out.read_text().splitlines()[0].startswith("case\tdrug\tverdict")


def test_table_output():
    result = runner.invoke(
        app, ["interpret", "-a", "EGFR L858R; EGFR T790M", "--disease", "LUAD"], terminal_width=200
    )
    assert result.exit_code == 0
    assert "RESISTANT" in result.output and "options" in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["interpret", "-a", "FOOBAR1 T790M"], "unknown gene 'FOOBAR1'"),
        (["interpret", "-a", "EGFR T790M", "--drugs", "aspirinib"], "unknown drug"),
        (["interpret", "-a", "EGFR T790M", "--disease", "moon"], "unknown disease"),
        (["interpret", "missing_case.yaml"], "missing_case.yaml: case file not found"),
        (["interpret", "-a", "EGFR T790M", "--phase", "EGFR T790M|cis"], "--phase"),
        (["kb", "show", "NOTAGENE"], "unknown gene"),
    ],
)
def test_errors_are_one_line_exit_2(args, expected):
    proc = cli(*args)
    assert proc.returncode == 2
    assert expected in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_bad_case_file_names_file_and_field(tmp_path):
    bad = _case(tmp_path / "bad.yaml", "disease: NSCLC\nalterations: [EGFR L858R]\ndrug: [x]\n")
    proc = cli("interpret", str(bad))
    assert proc.returncode == 2 and "bad.yaml" in proc.stderr and "drug" in proc.stderr
    bad2 = _case(tmp_path / "bad2.yaml", "disease: NSCLC\nalterations: [EGFR Q99Z9]\n")
    proc = cli("interpret", str(bad2))
    assert proc.returncode == 2 and "bad2.yaml" in proc.stderr and "Q99Z9" in proc.stderr


def test_demo_writes_json(tmp_path):
    result = runner.invoke(app, ["demo", "--out", str(tmp_path)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Illustrative" in result.output
    written = tmp_path / "egfr_nsclc_osimertinib_progression.json"
    assert str(written) in result.output.replace("\n", "")
    doc = json.loads(written.read_text())[0]
    verdicts = {d["drug"]: d["verdict"] for d in doc["drugs"]}
    # T790M + C797S phased in cis in the VCF: no EGFR TKI combination works
    assert verdicts["gefitinib + osimertinib"] == "resistant"
    assert verdicts["osimertinib"] == "resistant"
    assert doc["phase"][0]["relation"] == "cis" and doc["phase"][0]["source"] == "input"


def test_malformed_variant_file_is_one_line_exit_2(tmp_path):
    maf = tmp_path / "tumour.vcf"
    maf.write_text(
        "Hugo_Symbol\tChromosome\tStart_Position\tHGVSp_Short\tTumor_Sample_Barcode\n"
        "EGFR\t7\t55249071\tp.T790M\tS1\n"
    )
    proc = cli("interpret", "--variants", str(maf), "--disease", "NSCLC")
    assert proc.returncode == 2
    assert "tumour.vcf" in proc.stderr and "MAF" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_variants_read_prints_alterations():
    from importlib import resources

    example = resources.files("oncoresist") / "examples/egfr_nsclc_osimertinib_progression.vcf"
    result = runner.invoke(app, ["variants", "read", str(example)])
    assert result.exit_code == 0
    rows = [line.split("\t") for line in result.output.strip().splitlines()]
    assert rows[0][:3] == ["gene", "change", "kind"]
    assert [r[1] for r in rows[1:]] == ["T790M", "C797S", "L858R"]


def test_variants_parse():
    result = runner.invoke(app, ["variants", "parse", "EGFR p.Thr790Met", "HER2 amplification"])
    assert result.exit_code == 0
    assert "T790M" in result.output and "ERBB2" in result.output


def test_kb_stats_shows_identifier_coverage():
    result = CliRunner().invoke(app, ["kb", "stats"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "identifiers" in text and "HGNC" in text and "NCIt" in text and "OncoTree" in text
