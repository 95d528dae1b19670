import pytest

from oncoresist.errors import InputError
from oncoresist.variants import looks_spreadsheet_mangled, parse_alteration


@pytest.mark.parametrize(
    ("text", "label", "kind", "vtype"),
    [
        ("EGFR T790M", "EGFR T790M", "point", "missense"),
        ("EGFR p.T790M", "EGFR T790M", "point", "missense"),
        ("EGFR p.Thr790Met", "EGFR T790M", "point", "missense"),
        ("EGFR:p.(Thr790Met)", "EGFR T790M", "point", "missense"),
        ("egfr t790m", "EGFR T790M", "point", "missense"),
        ("EGFR E746_A750del", "EGFR E746_A750del", "indel", "deletion"),
        ("EGFR p.Glu746_Ala750del", "EGFR E746_A750del", "indel", "deletion"),
        ("EGFR L747_P753delinsS", "EGFR L747_P753delinsS", "indel", "delins"),
        ("EGFR D770_N771insSVD", "EGFR D770_N771insSVD", "indel", "insertion"),
        ("EGFR A763_Y764insFQEA", "EGFR A763_Y764insFQEA", "indel", "insertion"),
        ("EGFR N771_H773dup", "EGFR N771_H773dup", "indel", "duplication"),
        ("EGFR exon 19 deletion", "EGFR exon 19 deletion", "exon", None),
        ("EGFR ex19del", "EGFR exon 19 deletion", "exon", None),
        ("EGFR exon 20 insertion", "EGFR exon 20 insertion", "exon", None),
        ("EGFR G719X", "EGFR G719X", "point", "codon"),
        ("EGFR T790", "EGFR T790", "point", "codon"),
        ("EGFR amplification", "EGFR amplification", "amplification", None),
        ("EGFR T790=", "EGFR T790=", "point", "synonymous"),
    ],
)
def test_protein_and_word_forms(text, label, kind, vtype):
    a = parse_alteration(text)
    assert a.label == label
    assert a.kind == kind
    assert a.variant_type == vtype


def test_exon_is_inferred_from_codon_ranges():
    assert parse_alteration("EGFR E746_A750del").exon == 19
    assert parse_alteration("EGFR D770_N771insSVD").exon == 20
    assert parse_alteration("EGFR L858R").exon == 21
    assert parse_alteration("EGFR exon 19 deletion").exon == 19


def test_insertion_fields():
    a = parse_alteration("EGFR D770_N771insSVD")
    assert (a.position, a.end_position, a.inserted) == (770, 771, "SVD")


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("HER2 amplification", "ERBB2 amplification"),
        ("ERBB2 L755S", "ERBB2 L755S"),
        ("MET amplification", "MET amplification"),
        ("MET exon 14 skipping", "MET exon 14 skipping"),
        ("PTEN loss", "PTEN loss"),
        ("RB1 loss", "RB1 loss"),
        ("FLT3 ITD", "FLT3 ITD"),
        ("ALK fusion", "ALK fusion"),
    ],
)
def test_gene_level_forms(text, label):
    assert parse_alteration(text).label == label


def test_fusions():
    a = parse_alteration("EML4::ALK")
    assert (a.gene, a.kind, a.partner, a.change) == ("ALK", "fusion", "EML4", "EML4::ALK")
    b = parse_alteration("BCR::ABL1")
    assert (b.gene, b.partner) == ("ABL1", "BCR")
    assert parse_alteration("BCR-ABL1").change == "BCR::ABL1"
    assert parse_alteration("ALK fusion").partner is None


def test_truncating_forms():
    stop = parse_alteration("NF1 R1362*")
    assert (stop.change, stop.variant_type) == ("R1362*", "nonsense")
    assert parse_alteration("NF1 p.Arg1362Ter").change == "R1362*"
    # X after a codon is a stop in a tumour suppressor
    assert parse_alteration("NF1 R1362X").variant_type == "nonsense"
    fs = parse_alteration("NF1 W2288fs")
    assert (fs.change, fs.variant_type) == ("W2288fs", "frameshift")
    assert parse_alteration("NF1 p.Trp2288LeufsTer5").change == "W2288fs"


@pytest.mark.parametrize(
    ("text", "change"),
    [
        ("transformation:SCLC", "transformation:SCLC"),
        ("transformation:squamous", "transformation:squamous"),
        ("SCLC transformation", "transformation:SCLC"),
        ("TMB-high", "TMB-high"),
        ("MSI-H", "MSI-high"),
        ("EMT", "EMT"),
    ],
)
def test_phenotypes(text, change):
    a = parse_alteration(text)
    assert a.gene is None
    assert a.kind == "phenotype"
    assert a.change == change


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("FOO1 T790M", "FOO1"),
        ("EGFR T790Q5", "T790Q5"),
        ("EGFR", "EGFR"),
        ("transformation:liver", "transformation:liver"),
        ("EGFR wildtype", "wild-type"),
        ("", "empty"),
    ],
)
def test_errors_name_the_token(text, token):
    with pytest.raises(InputError) as info:
        parse_alteration(text)
    assert token in str(info.value)


def test_error_lists_accepted_forms():
    with pytest.raises(InputError, match="accepted forms"):
        parse_alteration("EGFR T790Q5")


@pytest.mark.parametrize("name", ["2-Sep", "1-Mar", "Sep-02", "2006-09-02"])
def test_spreadsheet_mangled_gene_names(name):
    assert looks_spreadsheet_mangled(name) is not None
    with pytest.raises(InputError, match="spreadsheet"):
        parse_alteration(f"{name} T790M")


def test_valid_symbols_are_not_flagged():
    for name in ("EGFR", "SEPTIN2", "MARCHF1", "NKX2-1"):
        assert looks_spreadsheet_mangled(name) is None


def test_change_in_a_fusion_kinase():
    a = parse_alteration("BCR::ABL1 T315I")
    assert a.label == "ABL1 T315I"
    assert parse_alteration("BCR-ABL1 T315I").label == "ABL1 T315I"
    assert parse_alteration("EML4::ALK G1202R").label == "ALK G1202R"
    assert parse_alteration("EML4-ALK fusion").change == "EML4::ALK"


def test_unlisted_fusion_partner_is_kept():
    a = parse_alteration("FIP1L1::PDGFRA")
    assert (a.gene, a.partner) == ("PDGFRA", "FIP1L1")
    with pytest.raises(InputError, match="neither partner"):
        parse_alteration("FOO1::BAR2")


@pytest.mark.parametrize("text", ["AR-V7", "AR V7", "ARV7"])
def test_ar_v7(text):
    a = parse_alteration(text)
    assert (a.gene, a.kind, a.change) == ("AR", "expression", "AR-V7")


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("BRAF V600E mutation", "BRAF V600E"),
        ("KRAS G12C mut", "KRAS G12C"),
        ("KRAS oncogenic mutation", "KRAS mutation"),
        ("EGFR del19", "EGFR exon 19 deletion"),
        ("EGFR 19del", "EGFR exon 19 deletion"),
        ("ALK-positive", "ALK fusion"),
        ("ROS1+", "ROS1 fusion"),
        ("HER2-positive", "ERBB2 amplification"),
        ("NTRK1 rearranged", "NTRK1 fusion"),
        ("BCR-ABL1 positive", "BCR::ABL1"),
        ("MET ex14 skipping", "MET exon 14 skipping"),
    ],
)
def test_report_shorthand(text, label):
    assert parse_alteration(text).label == label


def test_positive_is_ambiguous_for_some_genes():
    with pytest.raises(InputError, match="ambiguous"):
        parse_alteration("EGFR positive")
