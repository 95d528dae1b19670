import pytest
from variants_helpers import MAF_COLUMNS, T790M_37, maf_row

from oncoresist.errors import InputError
from oncoresist.variants import read_maf, read_variants


def test_reads_knowledge_base_rows(write_maf):
    path = write_maf(
        [
            maf_row(),
            maf_row("TTN", "p.R273H"),  # a gene the knowledge base says nothing about
            maf_row("FOO1", "p.A2T"),  # not a gene we know: skipped, not an error
            maf_row("EGFR", "p.T790=", classification="Silent"),
            maf_row("EGFR", "", classification="Intron"),
            maf_row("EGFR", "p.L858R", alt_count="10", depth="", ref_count="30"),
        ]
    )
    t790m, l858r = read_maf(path)
    assert t790m.label == "EGFR T790M"
    assert (t790m.vaf, t790m.depth, t790m.alt_reads, t790m.sample) == (0.4, 100, 40, "T1")
    assert (t790m.chrom, t790m.pos, t790m.ref, t790m.alt, t790m.build) == (*T790M_37, "GRCh37")
    assert t790m.source == f"{path}:3"
    assert (l858r.vaf, l858r.depth) == (0.25, 40)


def test_alias_symbol(write_maf):
    [found] = read_maf(write_maf([maf_row("HER1", "p.T790M")]))
    assert found.gene == "EGFR"


def test_synonymous_change_skipped(write_maf):
    assert list(read_maf(write_maf([maf_row("EGFR", "p.T790=")]))) == []


def test_sample_filter(write_maf):
    path = write_maf([maf_row(sample="A"), maf_row("EGFR", "p.L858R", sample="B")])
    assert [a.label for a in read_maf(path, sample="B")] == ["EGFR L858R"]
    with pytest.raises(InputError, match="'C' is not in the file") as info:
        list(read_maf(path, sample="C"))
    assert info.value.field == "Tumor_Sample_Barcode"


def test_hgvsp_long_column(write_maf):
    columns = [c if c != "HGVSp_Short" else "HGVSp" for c in MAF_COLUMNS]
    row = maf_row()
    row["HGVSp"] = "ENSP00000275493.2:p.Thr790Met"
    [found] = read_maf(write_maf([row], columns=columns))
    assert found.label == "EGFR T790M"


def test_coordinates_when_no_protein_change(write_maf):
    [found] = read_maf(write_maf([maf_row("EGFR", "")]))
    assert found.label == "EGFR T790M"


def test_unparseable_protein_change_skipped(write_maf):
    assert list(read_maf(write_maf([maf_row("EGFR", "p.M1?", variant=("7", 1, "A", "G"))]))) == []


def test_gzipped_and_read_variants(write_maf):
    path = write_maf([maf_row()], name="t.maf.gz", gz=True)
    assert [a.label for a in read_maf(path)] == ["EGFR T790M"]
    assert [a.label for a in read_variants(path)] == ["EGFR T790M"]


def test_read_variants_by_content(write_maf):
    assert [a.label for a in read_variants(write_maf([maf_row()], name="x.txt"))] == ["EGFR T790M"]


def test_met_splice_site_exon14(write_maf, met_kb):
    row = maf_row("MET", "p.X1010_splice", classification="Splice_Site")
    other = maf_row("MET", "p.X300_splice", classification="Splice_Site")
    [found] = read_maf(write_maf([row, other]), kb=met_kb)
    assert found.label == "MET exon 14 skipping"


def test_missing_columns(write_text):
    with pytest.raises(InputError, match="HGVSp_Short") as info:
        list(read_maf(write_text("t.maf", "Hugo_Symbol\tVariant_Classification\nEGFR\tx\n")))
    assert info.value.record == 1


def test_short_row(write_maf, write_text):
    text = "\t".join(MAF_COLUMNS) + "\nEGFR\t7\n"
    with pytest.raises(InputError, match="2 tab-separated column") as info:
        list(read_maf(write_text("t.maf", text)))
    assert info.value.record == 2


def test_unknown_build(write_maf):
    with pytest.raises(InputError) as info:
        list(read_maf(write_maf([maf_row(build="hg17")])))
    assert (info.value.field, info.value.record) == ("NCBI_Build", 3)


def test_not_a_maf(write_text):
    with pytest.raises(InputError, match="not a MAF"):
        read_maf(write_text("t.maf", "gene,alteration\nEGFR,T790M\n"))
