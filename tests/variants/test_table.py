import gzip

import pytest

from oncoresist.errors import InputError
from oncoresist.variants import read_table, read_variants

CSV = (
    "gene,alteration,vaf,depth,sample,phase_set\n"
    "EGFR,L858R,0.4,200,S1,\n"
    "HER1,p.Thr790Met,0.1,150,S1,ps1\n"
    "EGFR,exon 19 deletion,,,S1,\n"
    ",EGFR C797S,0.05,300,S1,ps1\n"
)


def test_csv(write_text):
    found = list(read_table(write_text("t.csv", CSV)))
    assert [a.label for a in found] == [
        "EGFR L858R",
        "EGFR T790M",
        "EGFR exon 19 deletion",
        "EGFR C797S",
    ]
    assert (found[0].vaf, found[0].depth, found[0].sample, found[0].phase_set) == (
        0.4, 200, "S1", None,
    )  # fmt: skip
    assert found[1].phase_set == "ps1"
    assert found[2].vaf is None
    assert found[1].source.endswith("t.csv:3")


def test_tsv_gz_and_semicolon(write_text):
    tsv = CSV.replace(",", "\t")
    assert len(list(read_table(write_text("t.tsv.gz", gzip.compress(tsv.encode()))))) == 4
    semi = "gene;alteration;vaf\nEGFR;T790M;0,25\n"
    [found] = read_table(write_text("t.csv", semi))
    assert found.vaf == 0.25


def test_gene_repeated_in_alteration(write_text):
    [found] = read_table(write_text("t.csv", "gene,alteration\nEGFR,EGFR T790M\n"))
    assert found.label == "EGFR T790M"


def test_parquet(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    path = tmp_path / "t.parquet"
    pd.DataFrame(
        {
            "Gene": ["EGFR", "EGFR"],
            "Alteration": ["T790M", "C797S"],
            "VAF": [0.1, float("nan")],
            "depth": [100, 200],
            "phase_set": [1.0, float("nan")],
        }
    ).to_parquet(path)
    first, second = read_table(path)
    assert (first.label, first.vaf, first.depth, first.phase_set) == ("EGFR T790M", 0.1, 100, "1")
    assert second.vaf is None and second.source == f"{path}:row 2"
    assert [a.label for a in read_variants(path)] == ["EGFR T790M", "EGFR C797S"]


def test_parquet_vaf_percent(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    path = tmp_path / "t.parquet"
    pd.DataFrame({"gene": ["EGFR"], "alteration": ["T790M"], "vaf": [12.0]}).to_parquet(path)
    with pytest.raises(InputError, match="divide by 100") as info:
        list(read_table(path))
    assert (info.value.record, info.value.field) == ("row 1", "vaf")


def test_unknown_gene_is_an_error(write_text):
    with pytest.raises(InputError, match="unknown gene 'EGRF'") as info:
        list(read_table(write_text("t.csv", "gene,alteration\nEGFR,T790M\nEGRF,T790M\n")))
    assert (info.value.record, info.value.field) == (3, "gene")


def test_unreadable_change(write_text):
    with pytest.raises(InputError, match="cannot read the change") as info:
        list(read_table(write_text("t.csv", "gene,alteration\nEGFR,T790M!\n")))
    assert (info.value.record, info.value.field) == (2, "alteration")


def test_missing_alteration_column(write_text):
    with pytest.raises(InputError, match="no 'alteration' column") as info:
        list(read_table(write_text("t.csv", "gene,change_text\nEGFR,T790M\n")))
    assert info.value.record == 1


def test_both_vaf_columns(write_text):
    with pytest.raises(InputError, match="both 'vaf' and 'vaf_pct'"):
        list(read_table(write_text("t.csv", "gene,alteration,vaf,vaf_pct\nEGFR,T790M,0.1,10\n")))


def test_fractional_depth(write_text):
    with pytest.raises(InputError, match="whole number"):
        list(read_table(write_text("t.csv", "gene,alteration,depth\nEGFR,T790M,10.5\n")))


def test_vaf_from_reads(write_text):
    [found] = read_table(
        write_text("t.csv", "gene,alteration,depth,alt_reads\nEGFR,T790M,200,50\n")
    )
    assert found.vaf == 0.25


def test_too_many_values(write_text):
    with pytest.raises(InputError, match="3 values but the header has 2"):
        list(read_table(write_text("t.csv", "gene,alteration\nEGFR,T790M,0.5\n")))


def test_read_variants_tsv_table(write_text):
    path = write_text("t.tsv", "gene\talteration\nEGFR\tT790M\n")
    assert [a.label for a in read_variants(path)] == ["EGFR T790M"]


def test_vcf_named_csv(write_text):
    with pytest.raises(InputError, match="looks like a VCF"):
        read_variants(write_text("t.csv", "##fileformat=VCFv4.2\n#CHROM\tPOS\n"))
    with pytest.raises(InputError, match="looks like a VCF"):
        read_table(write_text("u.csv", "##fileformat=VCFv4.2\n#CHROM\tPOS\n"))
