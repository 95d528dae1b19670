"""cBioPortal study files as variant inputs: data_cna.txt (discrete) and data_sv.txt."""

import gzip
import subprocess
import sys

import pytest

from oncoresist.errors import InputError
from oncoresist.variants import (
    VariantWarning,
    read_cbioportal_cna,
    read_cbioportal_sv,
    read_variants,
)
from oncoresist.variants._sniff import sniff

CNA = (
    "Hugo_Symbol\tEntrez_Gene_Id\tP1-T\tP2-T\n"
    "MET\t4233\t2\t0\n"
    "HER2\t2064\t0\t2\n"  # an alias: ERBB2
    "PTEN\t5728\t-2\tNA\n"
    "TTN\t7273\t2\t-2\n"  # not a knowledge-base gene: not reported
    "\t1956\t\t2\n"  # EGFR by its Entrez ID only
)
SV = (
    "Sample_Id\tSite1_Hugo_Symbol\tSite1_Entrez_Gene_Id\tSite2_Hugo_Symbol\t"
    "Site2_Entrez_Gene_Id\tEvent_Info\tSV_Status\n"
    "P1-T\tEML4\t27436\tALK\t238\tEML4-ALK fusion\tSOMATIC\n"
    "P2-T\tCD74\t972\tROS1\t6098\tCD74-ROS1 fusion\tSOMATIC\n"
    "P2-T\tMET\t4233\tMET\t4233\tMET exon 14 skipping\tSOMATIC\n"
    "P2-T\tTTN\t7273\tTP63\t8626\tTTN-TP63 fusion\tSOMATIC\n"
)


def labels(found):
    return [(a.sample, a.label) for a in found]


# --------------------------------------------------------------------- data_cna
def test_cna_amplifications_and_deep_deletions_per_sample(write_text):
    path = write_text("data_cna.txt", CNA)
    found = list(read_cbioportal_cna(path))
    assert labels(found) == [
        ("P1-T", "MET amplification"),
        ("P2-T", "ERBB2 amplification"),
        ("P1-T", "PTEN loss"),
        ("P2-T", "EGFR amplification"),
    ]
    assert found[0].source == f"{path}:2" and found[0].kind == "amplification"
    assert found[2].kind == "loss"
    only = read_variants(path, sample="P2-T")  # recognised by content, one sample
    assert labels(only) == [("P2-T", "ERBB2 amplification"), ("P2-T", "EGFR amplification")]


def test_cna_gains_and_shallow_losses_are_counted_in_a_warning(write_text):
    path = write_text("data_cna.txt", "Hugo_Symbol\tS1\tS2\nMET\t1\t-1\nKRAS\t1\t-1.5\n")
    with pytest.warns(VariantWarning, match=r"2 gain\(s\) \(1\) and 2 shallow loss") as caught:
        assert list(read_cbioportal_cna(path)) == []
    assert caught[0].message.file == str(path)


def test_cna_gzipped_and_comment_lines(write_text):
    path = write_text("data_cna.txt.gz", gzip.compress(("#a comment\n" + CNA).encode()))
    assert len(list(read_variants(path))) == 4


def test_cna_cytoband_column_is_not_a_sample(write_text):
    path = write_text("data_cna.txt", "Hugo_Symbol\tCytoband\tS1\nMET\t7q31.2\t2\n")
    assert labels(read_cbioportal_cna(path)) == [("S1", "MET amplification")]


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("Hugo_Symbol\tS1\nMET\t0.72\n", 2, "S1", "continuous"),
        ("Hugo_Symbol\tS1\nMET\t5\n", 2, "S1", "absolute copy number"),
        ("Hugo_Symbol\tS1\nMET\tamp\n", 2, "S1", "expected -2, -1, 0, 1, 2"),
        ("Hugo_Symbol\tS1\tS2\nMET\t2\n", 2, "row", "expected 3"),
        ("Hugo_Symbol\tS1\nMET\t2\nMET\t0\n", 3, "Hugo_Symbol", "also on line 2"),
        ("Hugo_Symbol\tEntrez_Gene_Id\tS1\n\t\t2\n", 2, "Hugo_Symbol", "names no gene"),
        ("Hugo_Symbol\tS1\tS1\nMET\t2\t2\n", 1, "header", "twice"),
        ("Hugo_Symbol\nMET\n", 1, "header", "no sample columns"),
    ],
)
def test_cna_malformed_rows_are_located(write_text, text, line, column, words):
    path = write_text("data_cna.txt", text)
    with pytest.raises(InputError) as err:
        list(read_cbioportal_cna(path))
    assert err.value.file == str(path) and err.value.record == line
    assert err.value.field == column and words in err.value.message


def test_cna_unknown_sample(write_text):
    path = write_text("data_cna.txt", CNA)
    with pytest.raises(InputError, match="P1-T, P2-T") as err:
        read_cbioportal_cna(path, sample="P9")
    assert err.value.field == "sample"


# ---------------------------------------------------------------------- data_sv
def test_sv_fusions_and_intragenic_events(write_text):
    path = write_text("data_sv.txt", SV)
    found = list(read_variants(path))
    assert labels(found) == [
        ("P1-T", "EML4::ALK"),
        ("P2-T", "CD74::ROS1"),
        ("P2-T", "MET exon 14 skipping"),
    ]
    alk = found[0]
    assert alk.gene == "ALK" and alk.partner == "EML4" and alk.source == f"{path}:2"
    assert labels(read_cbioportal_sv(path, sample="P1-T")) == [("P1-T", "EML4::ALK")]


def test_sv_one_site_and_unreadable_intragenic_are_warned(write_text):
    text = (
        "Sample_Id\tSite1_Hugo_Symbol\tSite2_Hugo_Symbol\tEvent_Info\n"
        "S1\tALK\t\tALK rearrangement\n"
        "S1\tEGFR\tEGFR\tEGFR intragenic rearrangement\n"
    )
    path = write_text("data_sv.txt", text)
    with pytest.warns(VariantWarning) as caught:
        found = list(read_cbioportal_sv(path))
    assert [(a.label, a.partner) for a in found] == [("ALK fusion", None)]
    assert [(w.message.record, w.message.field) for w in caught] == [
        (2, "Site2_Hugo_Symbol"),
        (3, "Event_Info"),
    ]


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("Sample_Id\tSite1_Hugo_Symbol\nS1\tALK\textra\n", 2, "row", "expected 2"),
        ("Sample_Id\tSite1_Hugo_Symbol\n\tALK\n", 2, "Sample_Id", "empty Sample_Id"),
        ("Sample_Id\tSite1_Hugo_Symbol\tSite2_Hugo_Symbol\nS1\t\t\n", 2, "Site1_Hugo_Symbol",
         "names no gene"),
    ],
)  # fmt: skip
def test_sv_malformed_rows_are_located(write_text, text, line, column, words):
    path = write_text("data_sv.txt", text)
    with pytest.raises(InputError) as err:
        list(read_cbioportal_sv(path))
    assert err.value.file == str(path) and err.value.record == line
    assert err.value.field == column and words in err.value.message


def test_sv_header_must_name_its_columns(write_text):
    path = write_text("sv.txt", "Sample\tGene1\tGene2\nS1\tEML4\tALK\n")
    with pytest.raises(InputError, match="Sample_Id") as err:
        read_cbioportal_sv(path)
    assert err.value.record == 1 and err.value.field == "header"


def test_sniffing_tells_the_cbioportal_files(write_text):
    assert sniff(write_text("data_cna.txt", CNA)).kind == "cna"
    assert sniff(write_text("data_sv.txt", SV)).kind == "sv"


def test_interpret_reads_a_cbioportal_sv_file(write_text):
    path = write_text("data_sv.txt", SV.splitlines()[0] + "\n" + SV.splitlines()[1] + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "oncoresist", "interpret", "--variants", str(path), "--drugs",
         "alectinib", "--format", "tsv"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "alectinib" in result.stdout and "sensitive" in result.stdout
