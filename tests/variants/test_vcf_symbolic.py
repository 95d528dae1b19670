"""Copy-number and structural records of a VCF: symbolic alleles, breakends, fusions."""

import json
import subprocess
import sys
import warnings

import pytest
from variants_helpers import L858R_37, T790M_37, record

from oncoresist.errors import InputError
from oncoresist.kb import load_kb
from oncoresist.variants import CopyNumberThresholds, VariantWarning, read_variants, read_vcf
from oncoresist.variants._intervals import gene_interval, genes_overlapping

SV_META = (
    '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type of structural variant">',
    '##INFO=<ID=END,Number=1,Type=Integer,Description="End position">',
    '##INFO=<ID=SVLEN,Number=.,Type=Integer,Description="Length">',
    '##INFO=<ID=CN,Number=1,Type=Float,Description="Copy number">',
    '##INFO=<ID=MATEID,Number=.,Type=String,Description="Mate breakend">',
    '##FORMAT=<ID=CN,Number=1,Type=Float,Description="Copy number">',
    '##ALT=<ID=DUP,Description="Duplication">',
    '##ALT=<ID=DEL,Description="Deletion">',
)
# Breakpoints inside the genes (GRCh37 / GRCh38): EML4 (+ strand) intron 13, ALK (- strand)
# intron 19, MET, PTEN.
EML4 = {"GRCh37": 42492000, "GRCh38": 42264860}
ALK = {"GRCh37": 29446500, "GRCh38": 29223630}
MET = {"GRCh37": (116312000, 116440000), "GRCh38": (116672000, 116800000)}
PTEN_37 = (89620000, 89740000)


def sv(chrom, pos, alt, info, sample="0/1", fmt="GT", ref="N", ident="."):
    return f"{chrom} {pos} {ident} {ref} {alt} 50 PASS {info} {fmt} {sample}"


def write(write_vcf, records, *, build="GRCh37", contigs=("2", "7", "10"), **kw):
    return write_vcf(records, build=build, contigs=contigs, meta=SV_META, **kw)


def first_record_line(path):
    """Line number of the first record (after the header)."""
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, start=1) if line.startswith("#CHROM")) + 1


def labels(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning expected
        return [a.label for a in read_vcf(path, **kw)]


# ----------------------------------------------------------------- copy number
@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_met_dup_cn12_is_amplification(write_vcf, build):
    start, end = MET[build]
    path = write(write_vcf, [sv("7", start, "<DUP>", f"SVTYPE=DUP;END={end};CN=12")], build=build)
    found = list(read_vcf(path))
    assert [a.label for a in found] == ["MET amplification"]
    met = found[0]
    assert met.kind == "amplification" and met.build == build and met.chrom == "7"
    assert met.sample == "TUMOR" and met.source == f"{path}:{first_record_line(path)}"


def test_format_cn_wins_over_info_cn(write_vcf):
    start, end = MET["GRCh37"]
    rec = sv("7", start, "<CNV>", f"SVTYPE=CNV;END={end};CN=2", sample="./.:9", fmt="GT:CN")
    assert labels(write(write_vcf, [rec])) == ["MET amplification"]


def test_amp_without_copy_number_and_cn_allele(write_vcf):
    start, end = MET["GRCh37"]
    lo, hi = PTEN_37
    path = write(
        write_vcf,
        [sv("7", start, "<AMP>", f"END={end}"), sv("10", lo, "<CN0>", f"END={hi}")],
        contigs=("7", "10"),
    )
    assert labels(path) == ["MET amplification", "PTEN loss"]


def test_deep_deletion_cn0_is_loss_and_svlen_places_it(write_vcf):
    lo, hi = PTEN_37
    path = write(write_vcf, [sv("10", lo, "<DEL>", f"SVTYPE=DEL;SVLEN=-{hi - lo};CN=0")])
    assert labels(path) == ["PTEN loss"]


@pytest.mark.parametrize(("cn", "word"), [(4, "gain"), (1, "shallow")])
def test_gain_and_shallow_loss_are_warned_not_called(write_vcf, cn, word):
    start, end = MET["GRCh37"]
    path = write(write_vcf, [sv("7", start, "<CNV>", f"END={end};CN={cn}")])
    with pytest.warns(VariantWarning) as caught:
        assert list(read_vcf(path)) == []
    (w,) = caught
    assert word in str(w.message) and "MET" in str(w.message) and "not called" in str(w.message)
    assert w.message.file == str(path) and w.message.record == first_record_line(path)
    assert w.message.field == "INFO/CN"


def test_thresholds_are_configurable():
    t = CopyNumberThresholds(ploidy=4)
    assert t.amplification_at == 12 and t.call(8) == "gain" and t.call(12) == "amplification"
    assert CopyNumberThresholds(amplification=4).call(4) == "amplification"
    assert CopyNumberThresholds().call(0) == "deep_deletion"
    with pytest.raises(InputError, match="out of order"):
        CopyNumberThresholds(amplification=1.5)


def test_thresholds_reach_the_reader(write_vcf):
    start, end = MET["GRCh37"]
    path = write(write_vcf, [sv("7", start, "<DUP>", f"END={end};CN=5")])
    low = CopyNumberThresholds(amplification=5)
    assert [a.label for a in read_variants(path, copy_number=low)] == ["MET amplification"]
    with pytest.warns(VariantWarning, match="gain"):
        assert list(read_vcf(path, copy_number=CopyNumberThresholds(ploidy=3))) == []


def test_unplaceable_records_are_warned_with_file_and_line(write_vcf):
    start, end = MET["GRCh37"]
    path = write(
        write_vcf,
        [
            sv("7", start, "<DUP>", "SVTYPE=DUP;CN=12"),  # no END, no SVLEN
            sv("7", start + 10, "<DUP>", f"SVTYPE=DUP;END={end}"),  # no copy number
        ],
    )
    with pytest.warns(VariantWarning) as caught:
        assert list(read_vcf(path)) == []
    messages = [(w.message.record, w.message.field, str(w.message)) for w in caught]
    line = first_record_line(path)
    assert messages[0][:2] == (line, "INFO/END") and "END" in messages[0][2]
    assert messages[1][:2] == (line + 1, "CN") and "no copy number" in messages[1][2]
    assert str(path) in messages[0][2]


def test_no_build_cannot_place_a_copy_number_record(write_vcf):
    start, end = MET["GRCh37"]
    csq = (
        '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from '
        'Ensembl VEP. Format: Allele|Consequence|SYMBOL|HGVSp">'
    )
    path = write_vcf(
        [sv("7", start, "<DUP>", f"END={end};CN=12")], build=None, meta=(*SV_META, csq)
    )
    with pytest.warns(VariantWarning, match="build is unknown"):
        assert list(read_vcf(path)) == []


def test_bad_copy_number_and_end_are_located_errors(write_vcf):
    start, end = MET["GRCh37"]
    # CN not declared in the header: htslib keeps the text, and the reader rejects it.
    path = write_vcf([sv("7", start, "<DUP>", f"END={end};CN=lots")], contigs=("7",))
    with pytest.raises(InputError, match="not a number") as err:
        list(read_vcf(path))
    assert err.value.record == first_record_line(path) and err.value.field == "INFO/CN"
    # CN declared Float: htslib reads 'lots' as missing, so the record has no copy number.
    path = write(write_vcf, [sv("7", start, "<DUP>", f"END={end};CN=lots")])
    with pytest.warns(VariantWarning, match="no copy number"):
        assert list(read_vcf(path)) == []
    path = write(write_vcf, [sv("7", start, "<DUP>", f"END={start - 5};CN=12")])
    with pytest.raises(InputError, match="before POS") as err:
        list(read_vcf(path))
    assert err.value.field == "INFO/END"


def test_svtype_names_a_caller_specific_allele(write_vcf):
    start, end = MET["GRCh37"]
    path = write(write_vcf, [sv("7", start, "<SEGMENT>", f"SVTYPE=DUP;END={end};CN=12")])
    assert labels(path) == ["MET amplification"]


def test_nested_segments_at_one_position_are_not_duplicates(write_vcf):
    start, end = MET["GRCh37"]
    path = write(
        write_vcf,
        [
            sv("7", start, "<DUP>", f"SVTYPE=DUP;END={end};CN=12"),
            sv("7", start, "<DUP>", f"SVTYPE=DUP;END={end + 100000};CN=14"),
            # A symbolic record at a knowledge-base position, REF N: no reference check.
            sv("7", T790M_37[1], "<DEL>", f"SVTYPE=DEL;END={T790M_37[1] + 10};CN=2"),
        ],
    )
    assert labels(path) == ["MET amplification", "MET amplification"]


def test_multiallelic_segment_is_read_once(write_vcf):
    """GATK gCNV writes <DEL>,<DUP> per segment with the sample's CN: one call, not two."""
    start, end = MET["GRCh37"]
    rec = sv("7", start, "<DEL>,<DUP>", f"END={end}", sample="2:9", fmt="GT:CN")
    assert labels(write(write_vcf, [rec])) == ["MET amplification"]
    rec = sv("7", start, "<DEL>,<DUP>", f"END={end}", sample="0:2", fmt="GT:CN")
    assert labels(write(write_vcf, [rec])) == []


def test_sample_not_carrying_the_allele_is_skipped(write_vcf):
    start, end = MET["GRCh37"]
    path = write(write_vcf, [sv("7", start, "<DUP>", f"END={end};CN=12", sample="0/0")])
    assert labels(path) == []


# ---------------------------------------------------------------------- fusions
@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_bnd_pair_alk_eml4_is_one_fusion(write_vcf, build):
    a, e = ALK[build], EML4[build]
    records = [
        sv("2", a, f"A]2:{e}]", "SVTYPE=BND;MATEID=b2", ref="A", ident="b1"),
        sv("2", e, f"C]2:{a}]", "SVTYPE=BND;MATEID=b1", ref="C", ident="b2"),
    ]
    path = write(write_vcf, records, build=build)
    found = list(read_vcf(path))
    assert [a.label for a in found] == ["EML4::ALK"]
    assert found[0].gene == "ALK" and found[0].partner == "EML4" and found[0].kind == "fusion"


def test_chr_prefixed_breakend_mates(write_vcf):
    a, e = ALK["GRCh38"], EML4["GRCh38"]
    rec = sv("chr2", a, f"A]chr2:{e}]", "SVTYPE=BND", ref="A")
    path = write(write_vcf, [rec], build="GRCh38", contigs=("chr2",))
    assert labels(path) == ["EML4::ALK"]


def test_orientation_decides_five_prime(write_vcf):
    """Keeping EML4's right piece (its 3' end) joined to ALK's right piece: ALK::EML4."""
    a, e = ALK["GRCh37"], EML4["GRCh37"]
    path = write(write_vcf, [sv("2", e, f"[2:{a}[C", "SVTYPE=BND", ref="C")])
    assert labels(path) == ["ALK::EML4"]


def test_inversion_joining_alk_and_eml4(write_vcf):
    a, e = ALK["GRCh37"], EML4["GRCh37"]
    path = write(write_vcf, [sv("2", a, "<INV>", f"SVTYPE=INV;END={e}")])
    assert labels(path) == ["EML4::ALK"]


def test_fusion_named_in_info_or_snpeff_annotation_without_build(write_vcf):
    ann = (
        '##INFO=<ID=ANN,Number=.,Type=String,Description="Functional annotations: '
        "'Allele | Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | "
        "Feature_ID | Transcript_BioType | Rank | HGVS.c | HGVS.p' \">"
    )
    records = [
        sv("2", 1000, "A]5:2000]", "SVTYPE=BND;ANN=A]5:2000]|gene_fusion|HIGH|ALK&EML4|x|"),
        sv("2", 3000, "A[6:4000[", "SVTYPE=BND;FUSION=CD74::ROS1", ref="A"),
    ]
    path = write_vcf(records, build=None, meta=(*SV_META, ann))
    assert labels(path) == ["EML4::ALK", "CD74::ROS1"]


def test_partner_outside_known_genes_is_a_fusion_with_a_warning(write_vcf):
    a = ALK["GRCh37"]
    path = write(write_vcf, [sv("2", a, "A]2:100000]", "SVTYPE=BND", ref="A")])
    with pytest.warns(VariantWarning, match="partner unknown"):
        found = list(read_vcf(path))
    assert [(x.label, x.partner) for x in found] == [("ALK fusion", None)]


def test_single_breakend_and_unreadable_breakend(write_vcf):
    a = ALK["GRCh37"]
    path = write(
        write_vcf,
        [
            sv("2", a, "A.", "SVTYPE=BND", ref="A"),
            sv("2", a + 10, "A[2:oops[", "SVTYPE=BND", ref="A"),
        ],
    )
    with pytest.warns(VariantWarning) as caught:
        found = list(read_vcf(path))
    assert [(x.label, x.partner) for x in found] == [("ALK fusion", None)]
    assert ["single breakend" in str(w.message) for w in caught] == [True, False]
    assert "cannot be read" in str(caught[1].message)
    assert caught[1].message.record == first_record_line(path) + 1


def test_breakpoints_inside_one_gene_are_warned(write_vcf):
    a = ALK["GRCh37"]
    path = write(write_vcf, [sv("2", a, f"A]2:{a + 5000}]", "SVTYPE=BND", ref="A")])
    with pytest.warns(VariantWarning, match="inside ALK"):
        assert list(read_vcf(path)) == []


# ----------------------------------------------------------- htslib messages
def test_htslib_warnings_do_not_leak(write_vcf, capfd):
    """No ##contig, no INFO/FORMAT definitions: htslib used to print '[W::vcf_parse] ...
    index the file with tabix' and 'not defined in the header' lines on stderr."""
    from oncoresist.variants._vcf import _htslib_log_level

    before = _htslib_log_level()
    start, end = MET["GRCh37"]
    path = write_vcf(
        [
            sv("7", start, "<DUP>", f"SVTYPE=DUP;END={end};CN=12", fmt="GT:CN", sample="0/1:12"),
            record(L858R_37, "0/1:50,50:100"),
        ],
        build=None,
        reference="GRCh37",
    )
    text = path.read_text().replace("##FORMAT", "##IGNORED").replace("##INFO", "##IGNORED")
    path.write_text(text)
    assert [a.label for a in read_vcf(path)] == ["MET amplification", "EGFR L858R"]
    captured = capfd.readouterr()
    assert "tabix" not in captured.err and "[W::" not in captured.err
    assert captured.err == ""
    assert _htslib_log_level() == before  # restored after reading


# ------------------------------------------------------------------ gene table
def test_every_knowledge_base_gene_has_intervals_that_hold_its_coordinates():
    kb = load_kb()
    for build in ("GRCh37", "GRCh38"):
        for symbol, gene in kb.genes.items():
            interval = gene_interval(build, symbol)
            assert interval is not None, (build, symbol)
            if gene.chromosome:
                assert interval.chrom == gene.chromosome, (build, symbol)
        for (chrom, pos, _ref, _alt), (symbol, _change) in kb.coordinates[build].items():
            interval = gene_interval(build, symbol)
            assert interval is not None and interval.chrom == chrom, (build, symbol)
            assert interval.start <= pos <= interval.end, (build, symbol, pos)
    assert [g.symbol for g in genes_overlapping("GRCh38", "7", 55191822, 55191822)] == ["EGFR"]


# --------------------------------------------------------------- end to end
def cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "oncoresist", *args], capture_output=True, text=True, timeout=120
    )


def test_interpret_met_dup_with_egfr_l858r_t790m(write_vcf):
    start, end = MET["GRCh37"]
    path = write(
        write_vcf,
        [
            record(L858R_37, "0/1:50,50:100"),
            record(T790M_37, "0/1:70,30:100"),
            sv("7", start, "<DUP>", f"SVTYPE=DUP;END={end};CN=12"),
        ],
        contigs=("7",),
    )
    result = cli("interpret", "--variants", str(path), "--disease", "NSCLC", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "tabix" not in result.stderr and "[W::" not in result.stderr
    doc = json.loads(result.stdout)
    assert "MET amplification" in doc["alterations"]
    verdicts = {d["drug"]: d for d in doc["drugs"]}
    osimertinib = verdicts["osimertinib"]
    assert osimertinib["verdict"] == "resistant"
    bypass = [r for r in osimertinib["reasons"] if r["alteration"] == "MET amplification"]
    assert bypass and bypass[0]["mechanism"] == "bypass"


def test_interpret_bnd_alk_eml4_gives_alk_inhibitor_sensitivity(write_vcf):
    a, e = ALK["GRCh37"], EML4["GRCh37"]
    records = [
        sv("2", a, f"A]2:{e}]", "SVTYPE=BND;MATEID=b2", ref="A", ident="b1"),
        sv("2", e, f"C]2:{a}]", "SVTYPE=BND;MATEID=b1", ref="C", ident="b2"),
    ]
    path = write(write_vcf, records, contigs=("2",))
    result = cli(
        "interpret", "--variants", str(path), "--drugs", "alectinib, lorlatinib", "--format",
        "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["alterations"] == ["EML4::ALK"]
    assert {d["drug"]: d["verdict"] for d in doc["drugs"]} == {
        "alectinib": "sensitive",
        "lorlatinib": "sensitive",
    }
