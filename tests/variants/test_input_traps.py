"""Input traps of issue 18: what used to be misread in silence is now read right or refused."""

import re

import pytest

from oncoresist.errors import InputError
from oncoresist.variants import parse_alteration, read_table


# ------------------------------------------------------------ header-only tables
def test_header_only_table_is_refused_naming_the_file(write_text):
    path = write_text("empty.csv", "gene,alteration,vaf\n\n")
    with pytest.raises(InputError) as exc:
        list(read_table(path))
    assert "no records" in str(exc.value)
    assert (exc.value.file, exc.value.record, exc.value.field) == (str(path), 1, "rows")


def test_header_only_parquet_is_refused(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    path = tmp_path / "empty.parquet"
    pd.DataFrame({"gene": pd.Series([], dtype=str), "alteration": pd.Series([], dtype=str)}
                 ).to_parquet(path)  # fmt: skip
    with pytest.raises(InputError, match="no records"):
        list(read_table(path))


# ------------------------------------------------- decimal commas with ';' separators
def test_european_file_reads_thousands_points_and_decimal_commas(write_text):
    text = "gene;alteration;depth;alt_reads;vaf\nEGFR;L858R;1.000;250;0,25\nEGFR;T790M;2.500;100;\n"
    found = list(read_table(write_text("eu.csv", text)))
    assert [(a.depth, a.alt_reads) for a in found] == [(1000, 250), (2500, 100)]
    assert found[0].vaf == 0.25 and found[1].vaf == pytest.approx(0.04)


def test_decimal_convention_is_the_files_own(write_text):
    text = "gene;alteration;vaf_pct;depth\nEGFR;L858R;12,5;1.200\n"
    [found] = read_table(write_text("eu.csv", text))
    assert found.depth == 1200 and found.vaf == pytest.approx(0.125)
    # a file that writes decimal points keeps 1.000 = 1, with ';' or ','
    text = "gene;alteration;vaf;depth\nEGFR;L858R;0.25;1.000\n"
    [found] = read_table(write_text("pt.csv", text))
    assert found.depth == 1
    [found] = read_table(write_text("c.csv", "gene,alteration,depth\nEGFR,L858R,1.000\n"))
    assert found.depth == 1


def test_ambiguous_number_is_refused_with_its_line_and_column(write_text):
    text = "gene;alteration;depth;alt_reads\nEGFR;L858R;200;20\nEGFR;T790M;1.000;250\n"
    path = write_text("amb.csv", text)
    with pytest.raises(InputError) as exc:
        list(read_table(path))
    assert (exc.value.file, exc.value.record, exc.value.field) == (str(path), 3, "depth")
    assert "ambiguous" in exc.value.message and "1000" in exc.value.message


# ------------------------------------------------------------- did you mean (genes)
def test_misspelt_gene_in_an_alteration_is_suggested():
    with pytest.raises(InputError) as exc:
        parse_alteration("EGRF L858R")
    assert "did you mean EGFR" in str(exc.value)
    with pytest.raises(InputError, match="did you mean TP53"):
        parse_alteration("TP35 R273H")


def test_misspelt_gene_column_is_suggested(write_text):
    with pytest.raises(InputError) as exc:
        list(read_table(write_text("g.csv", "gene,alteration\nEGFR,L858R\nKRSA,G12C\n")))
    assert "did you mean KRAS" in str(exc.value)
    assert (exc.value.record, exc.value.field) == (3, "gene")


def test_serial_ctdna_table_reads_a_thousands_point(write_text):
    from oncoresist.monitor import read_serial

    text = (
        "patient_id;sample_id;collection_date;gene;alteration;alt_reads;depth;tumor_fraction\n"
        "P1;S1;2024-01-05;EGFR;L858R;12;1.500;0,12\n"
        "P1;S2;2024-02-05;EGFR;L858R;3;2.000;0,05\n"
    )
    frame = read_serial(write_text("serial.csv", text))
    assert sorted(frame["depth"].tolist()) == [1500, 2000]
    assert frame["tumor_fraction"].tolist() == [0.12, 0.05]


# --------------------------------------------------- a codon without its new residue
def test_codon_without_new_residue_is_read_as_the_codon_with_a_note():
    from oncoresist.variants._parse import codon_level_notes

    alt = parse_alteration("EGFR L858")
    assert (alt.kind, alt.variant_type, alt.position, alt.alt_aa) == ("point", "codon", 858, "X")
    [note] = codon_level_notes([alt, parse_alteration("EGFR T790M")])
    assert note.startswith("EGFR L858: the new residue is not given")
    assert "EGFR L858R" in note  # the specific change it does not match
    assert codon_level_notes([parse_alteration("EGFR L858R")]) == []
    # read as the codon: it matches an assertion written for a codon, not a specific change
    from oncoresist.interpret import match_specificity

    assert match_specificity(parse_alteration("MET D1228"), parse_alteration("MET D1228")) == 3
    assert match_specificity(parse_alteration("EGFR L858R"), alt) == 0


# ------------------------------------------------------- labels and accessions
def test_every_label_the_tool_prints_parses_back():
    from oncoresist.kb import load_kb

    kb = load_kb()
    for sourced in kb.assertions:
        for text in sourced.assertion.members:
            alt = parse_alteration(text, kb=kb, default_gene=sourced.default_gene)
            assert parse_alteration(alt.label, kb=kb).key == alt.key, text


def test_ar_v7_label_parses_back():
    alt = parse_alteration("AR AR-V7")
    assert (alt.gene, alt.kind, alt.change) == ("AR", "expression", "AR-V7")
    with pytest.raises(InputError):
        parse_alteration("KRAS AR-V7")


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("NP_005219.2:p.Thr790Met", "EGFR T790M"),
        ("NP_005219:p.(Thr790Met)", "EGFR T790M"),
        ("EGFR NP_005219.2:p.T790M", "EGFR T790M"),
        ("ENSP00000275493.2:p.Thr790Met", "EGFR T790M"),
        ("NM_005228.5:c.2369C>T", "EGFR T790M"),
        ("NM_005228.5(EGFR):c.2573T>G", "EGFR L858R"),
        ("NM_005228.5(EGFR):c.2369C>T (p.Thr790Met)", "EGFR T790M"),
        ("NM_004985.5:c.34G>T", "KRAS G12C"),
        ("NM_004333.6:c.1799T>A", "BRAF V600E"),
        ("NM_005157.6:c.944C>T", "ABL1 T315I"),
        ("NC_000007.14:g.55181378C>T", "EGFR T790M"),
        ("NC_000007.13:g.55249071C>T", "EGFR T790M"),
    ],
)
def test_accession_qualified_hgvs_parses(text, label):
    assert parse_alteration(text).label == label


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("KRAS NP_005219.2:p.T790M", "NP_005219.2 is a reference of EGFR, not of KRAS"),
        ("NP_999999.1:p.T790M", "name the gene too"),
        ("NM_005228.5:c.2369A>T", "c.2369 is C on EGFR's reference"),
        ("NM_005228.5:c.100C>T", "give the protein change"),
        ("NM_005228.5:c.2235_2249del", "give the protein change"),
        ("NP_005219.2:c.2369C>T", "needs a transcript"),
        ("NP_001120972.1:p.D1246N", "NP_000236"),
        ("NC_000007.15:g.55181378C>T", "neither GRCh37"),
    ],
)
def test_accession_that_does_not_fit_is_refused(text, message):
    with pytest.raises(InputError, match=re.escape(message)):
        parse_alteration(text)


def test_accession_of_another_gene_is_accepted_when_unknown():
    assert parse_alteration("EGFR NP_999999.1:p.T790M").label == "EGFR T790M"


def test_genetic_code_and_reference_codons_agree_with_the_knowledge_base():
    from oncoresist.variants._accessions import GENETIC_CODE, REFERENCE_CODONS

    assert len(GENETIC_CODE) == 64 and GENETIC_CODE["ATG"] == "M" and GENETIC_CODE["TAA"] == "*"
    kb_residues = {(a.gene, a.position): a.ref_aa for a in (
        parse_alteration(f"{gene} {text}") for gene, text in
        [("EGFR", "T790M"), ("EGFR", "L858R"), ("EGFR", "C797S"), ("EGFR", "G719S"),
         ("KRAS", "G12C"), ("KRAS", "G13D"), ("KRAS", "Q61H"), ("BRAF", "V600E"),
         ("PIK3CA", "H1047R"), ("PIK3CA", "E545K"), ("ESR1", "D538G"), ("ABL1", "T315I"),
         ("KIT", "D816V"), ("IDH1", "R132H"), ("IDH2", "R140Q")])}  # fmt: skip
    for gene, codons in REFERENCE_CODONS.items():
        for codon, bases in codons.items():
            if (gene, codon) in kb_residues:
                assert GENETIC_CODE[bases] == kb_residues[(gene, codon)], (gene, codon)


def test_table_alteration_with_an_accession_is_checked_against_the_gene_column(write_text):
    text = "gene,alteration\nEGFR,NP_005219.2:p.Thr790Met\nEGFR,NM_005228.5:c.2573T>G\n"
    assert [a.label for a in read_table(write_text("a.csv", text))] == ["EGFR T790M", "EGFR L858R"]
    path = write_text("b.csv", "gene,alteration\nKRAS,NP_005219.2:p.Thr790Met\n")
    with pytest.raises(InputError, match="reference of EGFR, not of KRAS") as exc:
        list(read_table(path))
    assert exc.value.record == 2
