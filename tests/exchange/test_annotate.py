"""Annotated MAF and VCF: every original line kept, verdicts per row, re-readable."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
from cyvcf2 import VCF
from typer.testing import CliRunner

from oncoresist.cli.exchange import app
from oncoresist.errors import InputError
from oncoresist.exchange import (
    MAF_COLUMNS,
    VCF_INFO,
    annotate_maf,
    annotate_vcf,
    read_sample_diseases,
)
from oncoresist.exchange._annotate import info_value
from oncoresist.variants import read_maf, read_vcf

EXAMPLE_VCF = Path(
    str(resources.files("oncoresist") / "examples/egfr_nsclc_osimertinib_progression.vcf")
)
HEADER = [
    "Hugo_Symbol", "Entrez_Gene_Id", "Variant_Classification", "Tumor_Sample_Barcode",
    "HGVSp_Short", "t_alt_count", "t_depth", "Custom_Note",
]  # fmt: skip
ROWS = [
    ["EGFR", "1956", "Missense_Mutation", "S1", "p.L858R", "40", "100", "truncal"],
    ["EGFR", "1956", "Missense_Mutation", "S1", "p.T790M", "30", "100", "acquired"],
    ["TTN", "7273", "Missense_Mutation", "S1", "p.R273H", "3", "10", ""],
    ["EGFR", "1956", "Silent", "S1", "p.T790=", "3", "10", ""],
    ["BRAF", "673", "Missense_Mutation", "S2", "p.V600E", "12", "50", "x;y"],
    ["TP53", "7157", "Missense_Mutation", "S2", "p.R273H", "12", "50", ""],
]


@pytest.fixture
def maf(tmp_path: Path) -> Path:
    lines = ["#version 2.4", "#source: illustrative rows, not patient data"]
    lines += ["\t".join(HEADER)] + ["\t".join(r) for r in ROWS]
    path = tmp_path / "in.maf"
    path.write_text("\n".join(lines) + "\n")
    return path


def _rows(path: Path) -> list[list[str]]:
    lines = [t for t in path.read_text().splitlines() if not t.startswith("#")]
    return [t.split("\t") for t in lines]


def test_maf_keeps_every_line_and_adds_the_columns(maf: Path, tmp_path: Path):
    out = tmp_path / "out.maf"
    report = annotate_maf(maf, out, disease="LUAD")
    assert (report.rows, report.read, report.matched, report.samples) == (6, 4, 3, 2)
    text = out.read_text().splitlines()
    assert text[:2] == ["#version 2.4", "#source: illustrative rows, not patient data"]
    assert text[2].startswith("#oncoresist_annotation software=oncoresist/")
    assert "disease=LUAD" in text[2] and "knowledge_base=sha256:" in text[2]
    header, *rows = _rows(out)
    assert header == HEADER + list(MAF_COLUMNS)
    assert [r[: len(HEADER)] for r in rows] == ROWS  # original cells and order unchanged
    assert all(len(r) == len(header) for r in rows)


def test_maf_verdicts_per_row(maf: Path, tmp_path: Path):
    out = tmp_path / "out.maf"
    annotate_maf(maf, out, disease="LUAD")
    table = pd.read_csv(out, sep="\t", comment="#", dtype=str, keep_default_na=False)
    by = table.set_index("HGVSp_Short")
    l858r, t790m = by.loc["p.L858R"], by.loc["p.T790M"]
    assert l858r["ONCORESIST_STATUS"] == "matched"
    assert "gefitinib" in l858r["ONCORESIST_SENSITIVE_DRUGS"].split(", ")
    assert "gefitinib" in t790m["ONCORESIST_RESISTANT_DRUGS"].split(", ")
    assert "gefitinib" not in t790m["ONCORESIST_SENSITIVE_DRUGS"].split(", ")
    assert "osimertinib" in t790m["ONCORESIST_SENSITIVE_DRUGS"].split(", ")
    assert "on_target" in t790m["ONCORESIST_MECHANISM"].split(", ")
    assert t790m["ONCORESIST_HIGHEST_LEVEL"] == "A"
    assert t790m["ONCORESIST_ALTERATION"] == "EGFR T790M"
    assert "EGFR-" in t790m["ONCORESIST_ASSERTIONS"]
    assert by.loc["p.R273H"].iloc[0]["ONCORESIST_STATUS"] == "not_assessed"  # TTN
    assert by.loc["p.R273H"].iloc[1]["ONCORESIST_STATUS"] == "no_assertion"  # TP53
    assert by.loc["p.T790="]["ONCORESIST_STATUS"] == "not_assessed"  # silent
    braf = by.loc["p.V600E"]
    assert "vemurafenib" in braf["ONCORESIST_SENSITIVE_DRUGS"]
    assert "gefitinib" not in braf["ONCORESIST_SENSITIVE_DRUGS"]  # samples apart


def test_annotated_maf_rereads_as_the_same_maf(maf: Path, tmp_path: Path):
    out = tmp_path / "out.maf"
    annotate_maf(maf, out, disease="LUAD")
    before = [(a.label, a.sample, a.vaf) for a in read_maf(maf)]
    after = [(a.label, a.sample, a.vaf) for a in read_maf(out)]
    assert after == before
    original = pd.read_csv(maf, sep="\t", comment="#", dtype=str)
    annotated = pd.read_csv(out, sep="\t", comment="#", dtype=str)
    assert annotated.shape == (original.shape[0], original.shape[1] + len(MAF_COLUMNS))
    pd.testing.assert_frame_equal(annotated[original.columns], original)


def test_annotating_twice_replaces_the_columns(maf: Path, tmp_path: Path):
    once, twice = tmp_path / "once.maf", tmp_path / "twice.maf"
    annotate_maf(maf, once, disease="LUAD")
    annotate_maf(once, twice, disease="LUAD")
    assert twice.read_text() == once.read_text()


def test_per_sample_diseases_from_a_clinical_file(tmp_path: Path):
    maf = tmp_path / "two.maf"
    maf.write_text(
        "Hugo_Symbol\tVariant_Classification\tTumor_Sample_Barcode\tHGVSp_Short\n"
        "BRAF\tMissense_Mutation\tCOLON-1\tp.V600E\n"
        "BRAF\tMissense_Mutation\tSKIN-1\tp.V600E\n"
    )
    clinical = tmp_path / "data_clinical_sample.txt"
    clinical.write_text(
        "#Patient Identifier\tSample Identifier\tOncoTree code\n#a\tb\tc\n"
        "#STRING\tSTRING\tSTRING\n#1\t1\t1\n"
        "PATIENT_ID\tSAMPLE_ID\tONCOTREE_CODE\nP1\tCOLON-1\tCOAD\nP2\tSKIN-1\tSKCM\n"
    )
    diseases = read_sample_diseases(clinical)
    assert diseases == {"COLON-1": "COAD", "SKIN-1": "SKCM"}
    out = tmp_path / "out.maf"
    annotate_maf(maf, out, diseases=diseases)
    table = pd.read_csv(out, sep="\t", comment="#", dtype=str, keep_default_na=False)
    by = table.set_index("Tumor_Sample_Barcode")
    assert "vemurafenib" in by.loc["SKIN-1", "ONCORESIST_SENSITIVE_DRUGS"].split(", ")
    assert "vemurafenib" in by.loc["COLON-1", "ONCORESIST_RESISTANT_DRUGS"].split(", ")
    clinical.write_text("SAMPLE_ID\tONCOTREE_CODE\nCOLON-1\tCOADX\n")
    with pytest.raises(InputError) as info:
        read_sample_diseases(clinical)
    assert (info.value.record, info.value.field) == (2, "ONCOTREE_CODE")


def test_vcf_keeps_records_and_declares_info(tmp_path: Path):
    out = tmp_path / "out.vcf"
    report = annotate_vcf(EXAMPLE_VCF, out, disease="LUAD")
    original = EXAMPLE_VCF.read_text().splitlines()
    annotated = out.read_text().splitlines()
    assert report.rows == sum(1 for t in original if not t.startswith("#"))
    assert report.matched == 3
    old_meta = [t for t in original if t.startswith("##")]
    new_meta = [t for t in annotated if t.startswith("##")]
    assert new_meta[: len(old_meta)] == old_meta
    for key, _, _ in VCF_INFO:
        assert any(t.startswith(f"##INFO=<ID={key},") for t in new_meta)
    old_records = [t.split("\t") for t in original if not t.startswith("#")]
    new_records = [t.split("\t") for t in annotated if not t.startswith("#")]
    assert [r[:7] + r[8:] for r in new_records] == [r[:7] + r[8:] for r in old_records]
    # htslib reads it without complaint, and the project's reader finds the same variants
    status = {v.POS: v.INFO.get("ONCORESIST_STATUS") for v in VCF(str(out))}
    assert status[55249071] == "matched" and status[19751672] == "not_assessed"
    assert [a.label for a in read_vcf(out)] == [a.label for a in read_vcf(EXAMPLE_VCF)]
    [t790m] = [v for v in VCF(str(out)) if v.POS == 55249071]
    assert "osimertinib" in t790m.INFO["ONCORESIST_RESISTANT"].split(",")  # C797S in cis
    assert t790m.INFO["ONCORESIST_ALTERATION"] == "EGFR_T790M"


def test_vcf_keeps_other_info_and_reannotates_in_place(tmp_path: Path):
    text = EXAMPLE_VCF.read_text().replace(
        "##FORMAT=<ID=GT,",
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">\n##FORMAT=<ID=GT,',
    )
    text = text.replace("\tPASS\t.\t", "\tPASS\tDP=800\t")
    source = tmp_path / "in.vcf"
    source.write_text(text)
    once, twice = tmp_path / "once.vcf", tmp_path / "twice.vcf"
    annotate_vcf(source, once)
    annotate_vcf(once, twice)
    assert twice.read_text() == once.read_text()
    for record in VCF(str(once)):
        assert record.INFO.get("DP") == 800
        assert record.INFO.get("ONCORESIST_STATUS") in ("matched", "no_assertion", "not_assessed")


def test_info_values_follow_vcf_rules():
    assert info_value("gefitinib + osimertinib") == "gefitinib+osimertinib"
    assert info_value("EGFR T790M") == "EGFR_T790M"
    assert info_value("a;b=c,d%") == "a%3Bb%3Dc%2Cd%25"


def test_bad_input_is_located_and_writes_nothing(tmp_path: Path):
    bad = tmp_path / "bad.maf"
    bad.write_text("Hugo_Symbol\tTumor_Sample_Barcode\tHGVSp_Short\tt_alt_count\tt_depth\n"
                   "EGFR\tS1\tp.T790M\t-3\t100\n")  # fmt: skip
    out = tmp_path / "out.maf"
    with pytest.raises(InputError) as info:
        annotate_maf(bad, out)
    assert (info.value.record, info.value.field) == (2, "t_alt_count")
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


def test_values_beyond_the_header_are_an_error(tmp_path: Path):
    maf = tmp_path / "wide.maf"
    maf.write_text(
        "Hugo_Symbol\tTumor_Sample_Barcode\tHGVSp_Short\n"
        "EGFR\tS1\tp.L858R\t\n"  # an empty trailing cell is harmless
        "EGFR\tS1\tp.T790M\tstray\n"
    )
    out = tmp_path / "out.maf"
    with pytest.raises(InputError) as info:
        annotate_maf(maf, out)
    assert (info.value.record, info.value.field) == (3, "row")
    assert not out.exists()


def test_unknown_disease_and_bad_targets(maf: Path, tmp_path: Path):
    with pytest.raises(InputError) as info:
        annotate_maf(maf, tmp_path / "o.maf", disease="LUADX")
    assert info.value.field == "disease"
    with pytest.raises(InputError, match="plain text"):
        annotate_maf(maf, tmp_path / "o.maf.gz")
    with pytest.raises(InputError, match="the output is the input"):
        annotate_maf(maf, maf)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.maf"]


def test_cli_annotate(maf: Path, tmp_path: Path):
    runner = CliRunner()
    out = tmp_path / "cli.maf"
    done = runner.invoke(app, ["annotate", str(maf), "--out", str(out), "--disease", "LUAD"])
    assert done.exit_code == 0, done.output
    assert "4 read as alterations, 3 with a knowledge-base verdict" in done.output
    assert _rows(out)[0][-len(MAF_COLUMNS) :] == list(MAF_COLUMNS)
    vcf_out = tmp_path / "cli.vcf"
    done = runner.invoke(app, ["annotate", str(EXAMPLE_VCF), "-o", str(vcf_out)])
    assert done.exit_code == 0, done.output
    assert "33 records" in done.output


def test_cli_bad_input_exits_2(tmp_path: Path):
    runner = CliRunner()
    table = tmp_path / "t.csv"
    table.write_text("gene,alteration\nEGFR,T790M\n")
    out = tmp_path / "o.maf"
    done = runner.invoke(app, ["annotate", str(table), "--out", str(out)])
    assert done.exit_code == 2
    assert "expected a MAF or a VCF" in done.output
    assert "Traceback" not in done.output and not out.exists()
    done = runner.invoke(app, ["annotate", str(tmp_path / "missing.maf"), "--out", str(out)])
    assert done.exit_code == 2 and "no such file" in done.output
