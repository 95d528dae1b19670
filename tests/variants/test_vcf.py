from importlib import resources

import pytest
from variants_helpers import C797S_37, L858R_37, T790M_37, T790M_38, record, vcf_text

from oncoresist.errors import InputError
from oncoresist.variants import read_variants, read_vcf

EXAMPLE = resources.files("oncoresist") / "examples/egfr_nsclc_osimertinib_progression.vcf"
G719_37 = ("7", 55241707, "G", "A,T")  # G719S (G>A) and G719C (G>T) at one position


def test_example_file():
    found = list(read_vcf(EXAMPLE))
    assert [a.label for a in found] == ["EGFR T790M", "EGFR C797S", "EGFR L858R"]
    t790m = found[0]
    assert (t790m.chrom, t790m.pos, t790m.ref, t790m.alt) == T790M_37
    assert t790m.build == "GRCh37"
    assert t790m.vaf == pytest.approx(238 / 800)
    assert (t790m.depth, t790m.alt_reads) == (800, 238)
    assert t790m.sample == "TUMOR_ILLUSTRATIVE"
    assert (t790m.phase_set, t790m.haplotype) == ("55249071", 1)
    assert found[1].phase_set == "55249071" and found[1].haplotype == 1
    assert found[2].phase_set is None and found[2].haplotype is None
    assert t790m.source.endswith("egfr_nsclc_osimertinib_progression.vcf:26")


def test_only_knowledge_base_records_and_line_numbers(write_vcf):
    path = write_vcf(
        [
            record(("7", 100, "A", "G")),
            record(T790M_37),
            record(("7", 55249072, "G", "A")),
            record(L858R_37),
        ]
    )
    found = list(read_vcf(path))
    assert [a.label for a in found] == ["EGFR T790M", "EGFR L858R"]
    header_lines = vcf_text([]).count("\n")
    assert found[0].source == f"{path}:{header_lines + 2}"
    assert found[1].source == f"{path}:{header_lines + 4}"


@pytest.mark.parametrize("chrom", ["7", "chr7"])
def test_chr_prefix_matches(write_vcf, chrom):
    path = write_vcf([record(T790M_37, chrom=chrom)], contigs=(chrom,))
    [found] = read_vcf(path)
    assert found.label == "EGFR T790M"
    assert found.chrom == "7"


@pytest.mark.parametrize("compress", ["bgzf", "gzip"])
def test_compressed(write_vcf, compress):
    path = write_vcf([record(T790M_37)], name="t.vcf.gz", compress=compress)
    assert [a.label for a in read_vcf(path)] == ["EGFR T790M"]


def test_build_from_contig_lengths_grch38(write_vcf):
    path = write_vcf([record(T790M_38)], build="GRCh38")
    [found] = read_vcf(path)
    assert found.label == "EGFR T790M" and found.build == "GRCh38"


def test_build_from_reference_line(write_vcf):
    path = write_vcf([record(T790M_38)], build=None, reference="/refs/GRCh38_full.fa")
    assert [a.build for a in read_vcf(path)] == ["GRCh38"]


def test_build_needed_and_not_inferable(write_vcf):
    path = write_vcf([record(T790M_37)], build=None)
    with pytest.raises(InputError, match="cannot tell the genome build") as info:
        read_vcf(path)
    assert info.value.file == str(path) and info.value.field == "##reference"
    assert isinstance(info.value.record, int)
    assert [a.label for a in read_vcf(path, build="GRCh37")] == ["EGFR T790M"]
    assert [a.label for a in read_vcf(path, build="hg19")] == ["EGFR T790M"]


def test_build_given_and_matching(write_vcf):
    path = write_vcf([record(T790M_38)], build="GRCh38")
    assert [a.label for a in read_vcf(path, build="GRCh38")] == ["EGFR T790M"]


def test_multiallelic_split_with_ad_per_allele(write_vcf):
    path = write_vcf([record(G719_37, sample="0/1/2:50,10,5:65")])
    found = list(read_vcf(path))
    assert [a.label for a in found] == ["EGFR G719S", "EGFR G719C"]
    assert [a.alt for a in found] == ["A", "T"]
    assert [a.alt_reads for a in found] == [10, 5]
    assert found[0].vaf == pytest.approx(10 / 65)
    assert found[1].vaf == pytest.approx(5 / 65)
    assert {a.depth for a in found} == {65}


def test_vaf_from_format_af_then_info_af(write_vcf):
    path = write_vcf(
        [
            record(T790M_37, fmt="GT:AF:DP", sample="0/1:0.12:300"),
            record(L858R_37, fmt="GT", sample="0/1", info="AF=0.3;DP=90"),
        ]
    )
    t790m, l858r = read_vcf(path)
    assert (t790m.vaf, t790m.depth, t790m.alt_reads) == (0.12, 300, None)
    assert (l858r.vaf, l858r.depth) == (0.3, None)


def test_depth_from_ad_when_no_dp(write_vcf):
    path = write_vcf([record(T790M_37, fmt="GT:AD", sample="0/1:70,30")])
    [found] = read_vcf(path)
    assert (found.depth, found.alt_reads, found.vaf) == (100, 30, 0.3)


def test_sites_only_vcf(write_vcf):
    path = write_vcf([" ".join(record(T790M_37, info="AF=0.2;DP=50").split()[:8])], samples=())
    [found] = read_vcf(path)
    assert (found.vaf, found.depth, found.sample) == (0.2, 50, None)


def test_phased_genotype_without_ps(write_vcf):
    path = write_vcf(
        [
            record(T790M_37, sample="1|0:60,40:100"),
            record(C797S_37, sample="0|1:60,40:100"),
            record(L858R_37, sample="0/1:60,40:100"),
        ]
    )
    t790m, c797s, l858r = read_vcf(path)
    assert t790m.phase_set == c797s.phase_set == "TUMOR:7"
    assert (t790m.haplotype, c797s.haplotype) == (0, 1)
    assert (l858r.phase_set, l858r.haplotype) == (None, None)


def test_phase_set_from_ps(write_vcf):
    path = write_vcf([record(T790M_37, fmt="GT:AD:DP:PS", sample="0|1:60,40:100:1234")])
    [found] = read_vcf(path)
    assert (found.phase_set, found.haplotype) == ("1234", 1)


def test_unphased_ps_ignored(write_vcf):
    path = write_vcf([record(T790M_37, fmt="GT:AD:DP:PS", sample="0/1:60,40:100:1234")])
    [found] = read_vcf(path)
    assert (found.phase_set, found.haplotype) == (None, None)


def test_sample_not_carrying_the_allele_is_skipped(write_vcf):
    path = write_vcf(
        [record(T790M_37, sample="0/0:100,0:100"), record(L858R_37, sample="./.:100,0:100")]
    )
    assert list(read_vcf(path)) == []


def test_multi_sample_needs_a_choice(write_vcf):
    rec = "7 55249071 . C T 50 PASS . GT:AD:DP 0/0:80,0:80 0/1:60,40:100"
    path = write_vcf([rec], samples=("BLOOD1", "BIOPSY2"))
    with pytest.raises(InputError, match="2 samples") as info:
        read_vcf(path)
    assert info.value.field == "#CHROM"
    [found] = read_vcf(path, sample="BIOPSY2")
    assert (found.sample, found.alt_reads) == ("BIOPSY2", 40)
    assert list(read_vcf(path, sample="BLOOD1")) == []
    with pytest.raises(InputError, match="'TUMOR' is not in the file"):
        read_vcf(path, sample="TUMOR")


def test_tumor_sample_header_line(write_vcf):
    rec = "7 55249071 . C T 50 PASS . GT:AD:DP 0/0:80,0:80 0/1:60,40:100"
    path = write_vcf([rec], samples=("N1", "T1"), meta=("##tumor_sample=T1",))
    assert [a.sample for a in read_vcf(path)] == ["T1"]


def test_genes_filter(write_vcf):
    path = write_vcf([record(T790M_37)])
    assert [a.label for a in read_vcf(path, genes=["HER1"])] == ["EGFR T790M"]
    assert list(read_vcf(path, genes=["TP53"])) == []
    with pytest.raises(InputError) as info:
        read_vcf(path, genes=["NOTAGENE1"])
    assert info.value.field == "genes"


# ---------------------------------------------------------------------- annotations
CSQ_META = (
    '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl '
    "VEP. Format: Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|"
    'INTRON|HGVSc|HGVSp|CANONICAL">'
)
ANN_META = (
    "##INFO=<ID=ANN,Number=.,Type=String,Description=\"Functional annotations: 'Allele | "
    "Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | "
    "Transcript_BioType | Rank | HGVS.c | HGVS.p | cDNA.pos / cDNA.length | CDS.pos / "
    "CDS.length | AA.pos / AA.length | Distance | ERRORS / WARNINGS / INFO' \">"
)


def csq(allele, consequence, symbol, hgvsp, *, canonical="", biotype="protein_coding",
        exon="", intron=""):  # fmt: skip
    return "|".join(
        [allele, consequence, "MODERATE", symbol, "ENSG1", "Transcript", "ENST1", biotype,
         exon, intron, "c.1A>G", hgvsp, canonical]
    )  # fmt: skip


def test_vep_hgvsp_canonical_first(write_vcf):
    entries = ",".join(
        [
            csq("A", "missense_variant", "EGFR", "ENSP00000999.1:p.Gly100Asp"),
            csq("A", "missense_variant", "EGFR", "ENSP00000275493.2:p.Glu746Lys",
                canonical="YES"),
            csq("A", "missense_variant", "TP53", "ENSP0000.1:p.Arg273His"),
        ]
    )  # fmt: skip
    path = write_vcf(
        [record(("7", 55242466, "G", "A"), info=f"CSQ={entries}")], build=None, meta=(CSQ_META,)
    )
    [found] = read_vcf(path)  # no build needed: the annotation names the change
    assert found.label == "EGFR E746K"
    assert found.build is None and found.exon == 19


def test_vep_synonymous_percent_escaped_is_skipped(write_vcf):
    entries = csq("T", "synonymous_variant", "EGFR", "ENSP00000275493.2:p.Thr790%3D")
    path = write_vcf([record(("7", 55249071, "C", "T"), info=f"CSQ={entries}")], build=None,
                     meta=(CSQ_META,))  # fmt: skip
    assert list(read_vcf(path)) == []


def test_vep_unparseable_hgvsp_falls_back_to_coordinates(write_vcf):
    entries = csq("T", "start_lost", "EGFR", "ENSP00000275493.2:p.Met1?")
    path = write_vcf([record(T790M_37, info=f"CSQ={entries}")], meta=(CSQ_META,))
    assert [a.label for a in read_vcf(path)] == ["EGFR T790M"]


def test_vep_multiallelic_allele_matching(write_vcf):
    entries = ",".join(
        [
            csq("A", "missense_variant", "EGFR", "ENSP1:p.Gly719Ser", canonical="YES"),
            csq("T", "missense_variant", "EGFR", "ENSP1:p.Gly719Cys", canonical="YES"),
        ]
    )
    path = write_vcf(
        [record(G719_37, sample="0/1/2:50,10,5:65", info=f"CSQ={entries}")], meta=(CSQ_META,)
    )
    assert [(a.label, a.alt) for a in read_vcf(path)] == [("EGFR G719S", "A"), ("EGFR G719C", "T")]


def test_vep_inframe_deletion(write_vcf):
    entries = csq("-", "inframe_deletion", "EGFR", "ENSP1:p.Glu746_Ala750del", canonical="YES")
    path = write_vcf(
        [record(("7", 55242464, "AGGAATTAAGAGAAGC", "A"), info=f"CSQ={entries}")],
        meta=(CSQ_META,),
    )
    [found] = read_vcf(path)
    assert found.label == "EGFR E746_A750del" and found.exon == 19


def test_snpeff_ann(write_vcf):
    ann = "T|missense_variant|MODERATE|EGFR|ENSG1|transcript|NM_005228.5|protein_coding|20/28|" \
          "c.2369C>T|p.Thr790Met|2369/5616|2369/3633|790/1210||"  # fmt: skip
    path = write_vcf([record(T790M_37, info=f"ANN={ann}")], build=None, meta=(ANN_META,))
    assert [a.label for a in read_vcf(path)] == ["EGFR T790M"]


def test_met_exon14_splice_donor(write_vcf, met_kb):
    entries = ",".join(
        [
            csq("A", "splice_donor_variant&intron_variant", "MET", "", canonical="YES",
                intron="14/20"),
        ]
    )  # fmt: skip
    path = write_vcf([record(("7", 116412044, "G", "A"), info=f"CSQ={entries}")], meta=(CSQ_META,))
    [found] = read_vcf(path, kb=met_kb)
    assert found.label == "MET exon 14 skipping"
    assert found.kind == "exon" and found.exon == 14


def test_met_splice_elsewhere_is_not_exon14(write_vcf, met_kb):
    entries = csq("A", "splice_donor_variant", "MET", "", canonical="YES", intron="3/20")
    path = write_vcf([record(("7", 116300000, "G", "A"), info=f"CSQ={entries}")],
                     meta=(CSQ_META,))  # fmt: skip
    assert list(read_vcf(path, kb=met_kb)) == []


def test_bcf(tmp_path, write_vcf):
    from cyvcf2 import VCF, Writer

    text_path = write_vcf([record(("7", 100, "A", "G")), record(T790M_37)])
    bcf = tmp_path / "t.bcf"
    reader = VCF(str(text_path))
    writer = Writer(str(bcf), reader, mode="wb")
    for v in reader:
        writer.write_record(v)
    writer.close()
    reader.close()
    [found] = read_vcf(bcf)
    assert found.label == "EGFR T790M" and found.vaf == 0.4
    assert found.source == f"{bcf}:record 2"
    assert [a.label for a in read_variants(bcf)] == ["EGFR T790M"]


def test_read_variants_dispatches_vcf(write_vcf):
    path = write_vcf([record(T790M_37)], name="calls.txt")
    assert [a.label for a in read_variants(path)] == ["EGFR T790M"]


def test_header_errors_are_eager_records_lazy(write_vcf):
    path = write_vcf([record(T790M_37), record(T790M_37)])
    stream = read_vcf(path)  # the header is fine: no error yet
    with pytest.raises(InputError, match="duplicate"):
        list(stream)


def test_strelka_style_tumor_column(write_vcf):
    rec = "7 55249071 . C T 50 PASS . GT:AD:DP 0/0:80,0:80 0/1:60,40:100"
    path = write_vcf([rec], samples=("NORMAL", "TUMOR"))
    assert [a.sample for a in read_vcf(path)] == ["TUMOR"]


def test_progress_reports_records_read(monkeypatch):
    from importlib import resources

    import oncoresist.variants._vcf as vcf_module
    from oncoresist.variants import read_vcf

    monkeypatch.setattr(vcf_module, "RECORDS_PER_REPORT", 4)
    example = resources.files("oncoresist") / "examples/egfr_nsclc_osimertinib_progression.vcf"
    calls: list[int] = []
    found = list(read_vcf(example, progress=calls.append))
    assert len(found) == 3
    assert calls and set(calls) == {4}
    assert 4 * len(calls) <= 33 + 4
