"""Input traps at the command line (issue 18): refused with a located error and exit 2."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from oncoresist.cli import app

runner = CliRunner()


def cli(*args: str) -> subprocess.CompletedProcess:
    """Run the real entry point (exit status, stdout and stderr as a user sees them)."""
    return subprocess.run(
        [sys.executable, "-m", "oncoresist", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "suggestion"),
    [
        (["interpret", "-a", "EGFR L858R", "-d", "osimertinb"], "did you mean osimertinib?"),
        (["interpret", "-a", "EGRF L858R"], "did you mean EGFR"),
        (["interpret", "-a", "EGFR L858R", "--disease", "colorectal"],
         "did you mean colorectal cancer (CRC)?"),
        (["kb", "drug", "AZD9219"], "did you mean AZD9291 (osimertinib)?"),
        (["kb", "show", "KRSA"], "did you mean KRAS?"),
    ],
)  # fmt: skip
def test_misspelt_names_get_a_suggestion_and_exit_2(args, suggestion):
    proc = cli(*args)
    assert proc.returncode == 2
    assert suggestion in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_code_name_with_a_hyphen_is_read():
    result = runner.invoke(app, ["interpret", "-a", "EGFR L858R", "-d", "AZD-9291",
                                 "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert '"drug": "osimertinib"' in result.output


def test_header_only_table_says_no_records_and_exits_2(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("gene,alteration,vaf\n")
    for args in (["variants", "read", str(path)], ["interpret", "-v", str(path)]):
        proc = cli(*args)
        assert proc.returncode == 2
        assert str(path) in proc.stderr and "no records" in proc.stderr
        assert proc.stdout == ""


def test_a_bad_row_late_in_a_table_leaves_stdout_empty(tmp_path):
    path = tmp_path / "late.csv"
    rows = "".join(f"EGFR,L858R,S{i}\n" for i in range(50))
    path.write_text("gene,alteration,sample\n" + rows + "KRSA,G12C,S51\n")
    proc = cli("variants", "read", str(path))
    assert proc.returncode == 2
    assert proc.stdout == ""  # not the header and 50 rows before the error
    assert f"{path} line 52, field gene" in proc.stderr


def test_european_table_through_the_command_line(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("gene;alteration;depth;vaf\nEGFR;L858R;1.000;0,25\n")
    result = runner.invoke(app, ["variants", "read", str(path)])
    assert result.exit_code == 0, result.output
    assert "EGFR\tL858R\tpoint\t0.25\t1000\t" in result.output


def test_misspelt_case_file_key_exits_2_with_its_line(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text("disease: NSCLC\nalterations: [EGFR L858R]\ndrug: [osimertinib]\n")
    proc = cli("interpret", str(path))
    assert proc.returncode == 2
    assert f"{path} line 3, field drug: unknown key 'drug' (did you mean drugs?)" in proc.stderr
    assert "Extra inputs are not permitted" not in proc.stderr


def test_codon_without_new_residue_is_noted_in_every_format():
    args = ["interpret", "-a", "EGFR L858", "-d", "osimertinib"]
    doc = json.loads(runner.invoke(app, [*args, "--format", "json"]).output)
    assert doc["alterations"] == ["EGFR L858"]
    assert any(n.startswith("EGFR L858: the new residue is not given") for n in doc["notes"])
    table = runner.invoke(app, args, terminal_width=200)
    assert table.exit_code == 0 and "note: EGFR L858: the new residue is not given" in table.output


def test_accession_qualified_hgvs_through_the_command_line():
    result = runner.invoke(
        app, ["interpret", "-a", "NP_005219.2:p.Thr790Met; NM_005228.5:c.2573T>G",
              "-d", "gefitinib", "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["alterations"] == ["EGFR T790M", "EGFR L858R"]
    assert doc["drugs"][0]["verdict"] == "resistant"


def test_case_notes_reach_stderr_beside_a_tsv(tmp_path):
    proc = cli("interpret", "-a", "EGFR L858", "-d", "osimertinib", "--format", "tsv")
    assert proc.returncode == 0
    assert proc.stdout.startswith("case\tdrug\tverdict")
    assert "note: EGFR L858: the new residue is not given" in proc.stderr


def test_variants_parse_notes_a_codon_without_new_residue():
    result = runner.invoke(app, ["variants", "parse", "EGFR L858", "AR AR-V7"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "note: EGFR L858: the new residue is not given" in result.output
    assert "AR-V7" in result.output


def test_repeated_alteration_and_drug_options_add_up():
    result = runner.invoke(
        app,
        ["interpret", "-a", "KRAS G12C", "-a", "MET amplification", "--disease", "NSCLC",
         "-d", "sotorasib", "-d", "adagrasib", "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["alterations"] == ["KRAS G12C", "MET amplification"]
    assert [d["drug"] for d in doc["drugs"]] == ["sotorasib", "adagrasib"]


def test_a_reader_warning_is_one_plain_line(tmp_path):
    vcf = tmp_path / "gain.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=7>\n"
        '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="type">\n'
        '##INFO=<ID=END,Number=1,Type=Integer,Description="end">\n'
        '##FORMAT=<ID=CN,Number=1,Type=Float,Description="copy number">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
        "7\t116339000\t.\tN\t<DUP>\t.\tPASS\tSVTYPE=DUP;END=116440000\tCN\t4\n"
    )
    done = cli("interpret", "--variants", str(vcf), "--build", "GRCh37")
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[0].startswith(f"warning: {vcf} line 7, field FORMAT/CN: MET: copy-number gain")
    assert "VariantWarning" not in done.stderr and "<oncoresist>" not in done.stderr
