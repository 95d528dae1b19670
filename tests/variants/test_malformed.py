"""Each kind of malformed input, with the error (or the accepted reading) it gets."""

import gzip

import pytest
from variants_helpers import L858R_37, T790M_37, maf_row, record, vcf_text

from oncoresist.errors import InputError
from oncoresist.variants import read_maf, read_table, read_variants, read_vcf
from oncoresist.variants._bgzf import BgzfWriter


def _many_records(n=3000):
    return [record(("7", 1000 + i, "A", "G")) for i in range(n)] + [record(L858R_37)]


def _error(call, *args, **kwargs) -> InputError:
    with pytest.raises(InputError) as info:
        out = call(*args, **kwargs)
        list(out)
    return info.value


# ------------------------------------------------------------------- compression
def test_bgzf_cut_at_block_boundary(tmp_path):
    """cyvcf2 reads such a file without error, returning only the first blocks."""
    from cyvcf2 import VCF

    path = tmp_path / "cut.vcf.gz"
    with open(path, "wb") as handle:
        writer = BgzfWriter(handle)
        writer.write(vcf_text(_many_records()).encode())
        writer.close(eof=False)  # every block is whole; only the EOF marker is missing
    n_full = len(_many_records())
    assert sum(1 for _ in VCF(str(path))) == n_full  # htslib cannot tell, only warns
    with open(path, "r+b") as handle:  # now cut after the first block
        first = handle.read(18)
        size = int.from_bytes(first[16:18], "little") + 1
        handle.truncate(size)
    assert 0 < sum(1 for _ in VCF(str(path))) < n_full  # silently partial
    err = _error(read_vcf, path)
    assert "truncated" in err.message and "end-of-file block" in err.message
    assert err.file == str(path)


def test_bgzf_cut_inside_a_block(tmp_path):
    path = tmp_path / "cut.vcf.gz"
    with open(path, "wb") as handle:
        writer = BgzfWriter(handle)
        writer.write(vcf_text(_many_records()).encode())
        writer.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert "truncated" in _error(read_vcf, path).message
    assert "truncated" in _error(read_variants, path).message


def test_plain_gzip_truncated(tmp_path):
    """htslib stops at the cut; the reader re-checks the stream and says it is truncated."""
    path = tmp_path / "cut.vcf.gz"
    data = gzip.compress(vcf_text(_many_records(20000)).encode())
    path.write_bytes(data[: len(data) * 3 // 4])
    stream = read_vcf(path, build="GRCh37")  # the header is whole
    err = _error(list, stream)
    assert "truncated" in err.message and err.field == "gzip stream"


def test_plain_gzip_truncated_maf(write_maf, tmp_path):
    path = write_maf([maf_row()] * 5000, gz=True, name="t.maf.gz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    err = _error(read_maf, path)
    assert "gzip" in err.message and err.file == str(path)


# ------------------------------------------------------------------------ header
def test_missing_chrom_line(write_text):
    text = vcf_text([record(T790M_37)]).replace("#CHROM\t", "#chrom_\t")
    path = write_text("t.vcf", "\n".join(x for x in text.splitlines() if "chrom_" not in x))
    err = _error(read_vcf, path)
    assert "missing '#CHROM' header line" in err.message
    assert err.field == "#CHROM"
    assert err.record == text.count("\n") - 1  # the first record, where #CHROM should be


def test_header_ends_without_chrom_line(write_text):
    path = write_text("t.vcf", "##fileformat=VCFv4.2\n##contig=<ID=7,length=159138663>\n")
    err = _error(read_vcf, path)
    assert "#CHROM" in err.message and err.record == 3


def test_chrom_line_with_spaces(write_text):
    text = vcf_text([]).replace("\t", " ")
    err = _error(read_vcf, write_text("t.vcf", text))
    assert "tabs" in err.message and err.field == "#CHROM"


def test_utf8_bom_is_accepted(write_text, write_vcf):
    text = vcf_text([record(T790M_37)])
    path = write_text("bom.vcf", b"\xef\xbb\xbf" + text.encode())
    [found] = read_vcf(path)
    assert found.label == "EGFR T790M"
    assert found.source == f"{path}:{text.count(chr(10))}"


def test_utf8_bom_in_gzip_is_accepted(tmp_path):
    path = tmp_path / "bom.vcf.gz"
    path.write_bytes(gzip.compress(b"\xef\xbb\xbf" + vcf_text([record(T790M_37)]).encode()))
    assert [a.label for a in read_variants(path)] == ["EGFR T790M"]


def test_crlf_line_endings_are_accepted(write_text):
    text = vcf_text([record(T790M_37, fmt="GT:AD:DP:PS", sample="0|1:60,40:100:77")])
    path = write_text("crlf.vcf", text.replace("\n", "\r\n"))
    [found] = read_vcf(path)
    assert (found.label, found.depth, found.phase_set) == ("EGFR T790M", 100, "77")


def test_crlf_maf_and_table(write_text):
    maf = "Hugo_Symbol\tHGVSp_Short\tVariant_Classification\r\nEGFR\tp.T790M\tMissense_Mutation\r\n"
    assert [a.label for a in read_maf(write_text("t.maf", maf))] == ["EGFR T790M"]
    table = "gene,alteration,vaf\r\nEGFR,L858R,0.2\r\n"
    assert [a.vaf for a in read_table(write_text("t.csv", table))] == [0.2]


def test_non_utf8_in_header(write_text):
    text = vcf_text([record(T790M_37)], meta=('##source="caf\xe9 caller"',))
    path = write_text("t.vcf", text.encode("latin-1"))
    err = _error(read_vcf, path)
    assert "not UTF-8" in err.message and err.field == "encoding"
    assert err.record == text.splitlines().index('##source="caf\xe9 caller"') + 1


def test_non_utf8_in_a_record(write_text):
    text = vcf_text([record(T790M_37, info="NOTE=caf\xe9")])
    path = write_text("t.vcf", text.encode("latin-1"))
    err = _error(read_vcf, path)
    assert "not UTF-8" in err.message and err.record == text.count("\n")


def test_non_utf8_in_table_and_maf(write_text):
    err = _error(read_table, write_text("t.csv", "gene,alteration\nEGFR,T790M \xe9\n".encode(
        "latin-1")))  # fmt: skip
    assert (err.record, err.field) == (2, "encoding")
    maf = "Hugo_Symbol\tHGVSp_Short\nEGFR\tp.T790M\xa0\n".encode("latin-1")
    assert _error(read_maf, write_text("t.maf", maf)).record == 2


# ------------------------------------------------------------------ genome build
def test_declared_build_contradicts_contig_lengths(write_vcf):
    path = write_vcf([record(T790M_37)], build="GRCh37")
    err = _error(read_vcf, path, build="GRCh38")
    assert "GRCh37" in err.message and err.field == "##contig"
    assert "159,138,663" in err.message
    assert err.record == 2


def test_contig_lengths_of_neither_build(write_text):
    text = vcf_text([record(T790M_37)]).replace("159138663", "158970135")  # T2T chr7
    err = _error(read_vcf, write_text("t.vcf", text), build="GRCh37")
    assert "neither GRCh37 nor GRCh38" in err.message


def test_declared_build_contradicts_reference_line(write_vcf):
    path = write_vcf([record(T790M_37)], build=None, reference="file:///refs/hg38.fa")
    err = _error(read_vcf, path, build="GRCh37")
    assert "GRCh38" in err.message and err.field == "##reference"


def test_ref_disagrees_with_declared_build(write_vcf):
    # 7:55249071 is C on GRCh37; a file whose REF there is G is on another build.
    path = write_vcf([record(("7", 55249071, "G", "A"))], build=None)
    err = _error(read_vcf, path, build="GRCh37")
    assert "REF is G" in err.message and "has C there" in err.message
    assert "not on GRCh37" in err.message and "GRCh38" in err.message
    assert err.field == "REF"


def test_unknown_build_name(write_vcf):
    path = write_vcf([record(T790M_37)])
    assert "GRCh37" in _error(read_vcf, path, build="hg17").message


# --------------------------------------------------------------------- values
def test_missing_ad_and_dp_give_unknown_vaf(write_vcf):
    path = write_vcf(
        [
            record(T790M_37, fmt="GT", sample="0/1"),
            record(L858R_37, fmt="GT:AD:DP", sample="0/1:.:."),
        ]
    )
    found = list(read_vcf(path))
    assert [(a.vaf, a.depth, a.alt_reads) for a in found] == [(None, None, None)] * 2


def test_zero_total_ad_is_unknown_vaf(write_vcf):
    path = write_vcf([record(T790M_37, fmt="GT:AD", sample="0/1:0,0")])
    [found] = read_vcf(path)
    assert found.vaf is None  # never 0 for unknown


@pytest.mark.parametrize(
    ("fmt", "sample", "info", "field"),
    [
        ("GT:AF", "0/1:1.5", ".", "FORMAT/AF"),
        ("GT", "0/1", "AF=35", "INFO/AF"),
        ("GT:AF", "0/1:-0.1", ".", "FORMAT/AF"),
    ],
)
def test_vaf_above_one(write_vcf, fmt, sample, info, field):
    path = write_vcf([record(T790M_37, fmt=fmt, sample=sample, info=info)])
    err = _error(read_vcf, path)
    assert err.field == field and "outside 0-1" in err.message


def test_negative_depth(write_vcf):
    path = write_vcf([record(T790M_37, sample="0/1:60,40:-100")])
    err = _error(read_vcf, path)
    assert err.field == "FORMAT/DP" and "negative" in err.message


def test_negative_ad(write_vcf):
    path = write_vcf([record(T790M_37, sample="0/1:60,-4:100")])
    assert _error(read_vcf, path).field == "FORMAT/AD"


def test_ad_count_not_matching_alleles(write_vcf):
    path = write_vcf([record(T790M_37, sample="0/1:60,30,10:100")])
    err = _error(read_vcf, path)
    assert err.field == "FORMAT/AD"
    assert "3 value(s) for 2 alleles" in err.message and "one per allele" in err.message
    assert err.record == vcf_text([]).count("\n") + 1


def test_duplicate_records(write_vcf):
    path = write_vcf(
        [record(("7", 10, "A", "G")), record(("7", 10, "A", "C")), record(("7", 10, "A", "G"))]
    )
    first = vcf_text([]).count("\n") + 1
    err = _error(read_vcf, path)
    assert "duplicate record" in err.message and f"line {first}" in err.message
    assert err.record == first + 2 and err.field == "CHROM/POS/REF/ALT"


def test_duplicate_allele_of_a_multiallelic_record(write_vcf):
    path = write_vcf([record(("7", 10, "A", "G,T"), sample="1/2:1,2,3:6"),
                      record(("7", 10, "A", "T"))])  # fmt: skip
    assert "duplicate" in _error(read_vcf, path).message


def test_same_position_other_chromosome_is_not_duplicate(write_vcf):
    path = write_vcf([record(("1", 10, "A", "G")), record(("7", 10, "A", "G"))], contigs=("1", "7"))
    assert list(read_vcf(path)) == []


def test_too_few_columns(write_vcf):
    rows = [record(("7", 10, "A", "G")), "7 20 . A G 50", record(T790M_37)]
    path = write_vcf(rows)
    err = _error(read_vcf, path)
    assert "too few columns" in err.message and "6 tab-separated" in err.message
    assert err.record == vcf_text([]).count("\n") + 2


# ---------------------------------------------------------------- wrong format
MAF_TEXT = (
    "#version 2.4\nHugo_Symbol\tVariant_Classification\tHGVSp_Short\tTumor_Sample_Barcode\n"
    "EGFR\tMissense_Mutation\tp.T790M\tT1\n"
)


def test_maf_renamed_vcf(write_text):
    path = write_text("tumour.vcf", MAF_TEXT)
    err = _error(read_vcf, path)
    assert "looks like a MAF" in err.message and "Hugo_Symbol" in err.message
    assert (err.record, err.field) == (2, "format")
    err = _error(read_variants, path)
    assert "looks like a MAF" in err.message and ".vcf" in err.message


def test_vcf_renamed_maf(write_text):
    err = _error(read_variants, write_text("t.maf", vcf_text([record(T790M_37)])))
    assert "looks like a VCF" in err.message


def test_table_given_to_read_vcf(write_text):
    err = _error(read_vcf, write_text("t.vcf", "gene,alteration\nEGFR,T790M\n"))
    assert "alteration table" in err.message


def test_excel_workbook(write_text):
    err = _error(read_variants, write_text("t.xlsx", b"PK\x03\x04rest"))
    assert "Excel" in err.message


def test_unknown_content(write_text):
    err = _error(read_variants, write_text("t.txt", "hello world\n"))
    assert "cannot tell the format" in err.message


def test_empty_file(write_text):
    assert "empty" in _error(read_vcf, write_text("t.vcf", "")).message


def test_missing_file(tmp_path):
    err = _error(read_variants, tmp_path / "nope.vcf")
    assert "no such file" in err.message


# ------------------------------------------------------- spreadsheet-mangled genes
@pytest.mark.parametrize("name", ["2-Sep", "1-Mar", "SEP-02"])
def test_excel_mangled_gene_in_maf(write_maf, name):
    path = write_maf([maf_row(), maf_row(gene=name, protein="p.A1T")])
    err = _error(read_maf, path)
    assert "spreadsheet" in err.message
    assert (err.record, err.field) == (4, "Hugo_Symbol")


@pytest.mark.parametrize("name", ["2-Sep", "1-Mar"])
def test_excel_mangled_gene_in_table(write_text, name):
    err = _error(read_table, write_text("t.csv", f"gene,alteration\nEGFR,T790M\n{name},A1T\n"))
    assert "spreadsheet" in err.message
    assert (err.record, err.field) == (3, "gene")


# ------------------------------------------------------------- VAF as a percentage
def test_table_vaf_in_percent(write_text):
    err = _error(read_table, write_text("t.csv", "gene,alteration,vaf\nEGFR,T790M,35\n"))
    assert "divide by 100" in err.message and "vaf_pct" in err.message
    assert (err.record, err.field) == (2, "vaf")


def test_table_vaf_with_percent_sign(write_text):
    err = _error(read_table, write_text("t.csv", "gene,alteration,vaf\nEGFR,T790M,35%\n"))
    assert "vaf_pct" in err.message


def test_table_vaf_pct_column(write_text):
    [found] = read_table(write_text("t.csv", "gene,alteration,vaf_pct\nEGFR,T790M,35\n"))
    assert found.vaf == pytest.approx(0.35)
    err = _error(read_table, write_text("u.csv", "gene,alteration,vaf_pct\nEGFR,T790M,135\n"))
    assert err.field == "vaf_pct"


def test_table_negative_depth(write_text):
    err = _error(read_table, write_text("t.csv", "gene,alteration,depth\nEGFR,T790M,-3\n"))
    assert (err.record, err.field) == (2, "depth")


def test_maf_alt_count_above_depth(write_maf):
    err = _error(read_maf, write_maf([maf_row(alt_count="120", depth="100")]))
    assert err.field == "t_alt_count" and "more than the depth" in err.message


def test_maf_negative_count(write_maf):
    err = _error(read_maf, write_maf([maf_row(depth="-5")]))
    assert err.field == "t_depth"


def test_table_with_nul_byte(write_text):
    err = _error(read_table, write_text("t.csv", "gene,alteration\nEGFR,T790M\x00\n"))
    assert (err.record, err.field) == (2, "alteration")


def test_table_header_with_a_stray_carriage_return(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"gene,alter\rtion\nEGFR,L858R\n")
    with pytest.raises(InputError) as info:
        list(read_table(path))
    assert "t.csv" in str(info.value)
