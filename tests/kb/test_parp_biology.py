"""The DNA-repair biology that changes PARP inhibitor effects (issue 20, item 4).

A PARP inhibitor screen's hits must link to known biology: losses that bring homologous
recombination back in BRCA1-deficient cells (53BP1, RIF1, shieldin, CST, DYNLL1), fork
protection by PTIP loss, losses that remove the trapped lesion (PARP1, PARG), SLFN11 loss,
ABCB1 efflux, and the sensitising losses of RNase H2 (Zimmermann 2018) and ALC1.
"""

from pathlib import Path

import pandas as pd
import pytest

from oncoresist.interpret import interpret
from oncoresist.kb import gene_knowledge, load_kb

GECKO = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "data"
    / "crispr"
    / "shalem2014_A375_GeCKOv1_vemurafenib_counts.csv.gz"
)
PARP_INHIBITORS = ["olaparib", "niraparib", "rucaparib", "talazoparib", "veliparib"]

# gene -> the direction its loss gives against PARP inhibitors
DIRECTION = {
    "TP53BP1": "resistant",
    "RIF1": "resistant",
    "SHLD1": "resistant",
    "SHLD2": "resistant",
    "SHLD3": "resistant",
    "MAD2L2": "resistant",
    "CTC1": "resistant",
    "STN1": "resistant",
    "TEN1": "resistant",
    "DYNLL1": "resistant",
    "ATMIN": "resistant",
    "PAXIP1": "resistant",
    "POLA1": "reduced response",
    "PARP1": "resistant",
    "PARG": "resistant",
    "SLFN11": "resistant",
    "RNASEH2A": "sensitive",
    "RNASEH2B": "sensitive",
    "RNASEH2C": "sensitive",
    "CHD1L": "sensitive",
}


@pytest.fixture(scope="module")
def kb():
    return load_kb()


def test_screen_hits_link_to_olaparib_with_their_direction(kb):
    genes = ["TP53BP1", "SHLD2", "RNASEH2B", "PARP1", "BRCA1"]
    table = gene_knowledge(kb, genes, drug="olaparib")
    assert list(table.index) == genes
    assert table["for_drug"].all()
    for gene, effect in [
        ("TP53BP1", "resistant"),
        ("SHLD2", "resistant"),
        ("PARP1", "resistant"),
        ("RNASEH2B", "sensitive"),
        ("BRCA1", "sensitive"),  # the labels come first; reversion and compounds follow
    ]:
        assert table.loc[gene, "known"].startswith(effect), gene
        assert table.loc[gene, "known"].split(": ")[0] in (effect, f"{effect} (with BRCA1 loss)")
    assert "on_target" in table.loc["PARP1", "known"]
    assert "bypass" in table.loc["TP53BP1", "known"]


@pytest.mark.parametrize("drug", PARP_INHIBITORS)
def test_every_parp_inhibitor_is_covered(kb, drug):
    table = gene_knowledge(kb, list(DIRECTION), drug=drug)
    assert list(table.index) == list(DIRECTION)
    assert table["for_drug"].all()
    for gene, effect in DIRECTION.items():
        assert table.loc[gene, "known"].startswith((f"{effect}: ", f"{effect} (with ")), (
            drug,
            gene,
        )


def test_old_library_symbols_resolve(kb):
    # GeCKO-era libraries name these genes by their former symbols
    old = {
        "53BP1": "TP53BP1",
        "FAM35A": "SHLD2",
        "C20orf196": "SHLD1",
        "REV7": "MAD2L2",
        "OBFC1": "STN1",
        "C17orf68": "CTC1",
        "MDR1": "ABCB1",
        "ASCIZ": "ATMIN",
    }
    table = gene_knowledge(kb, list(old), drug="olaparib")
    assert table["symbol"].to_dict() == old


def test_efflux_and_platinum(kb):
    abcb1 = gene_knowledge(kb, ["ABCB1"], drug="olaparib").loc["ABCB1"]
    assert abcb1["for_drug"] and abcb1["known"].startswith("resistant: olaparib (phenotypic")
    for gene in ("SLFN11", "DYNLL1"):
        row = gene_knowledge(kb, [gene], drug="carboplatin").loc[gene]
        assert row["for_drug"] and row["known"].startswith("resistant"), gene


def test_every_new_assertion_cites_a_paper(kb):
    for gene in [*DIRECTION, "ABCB1"]:
        found = kb.assertions_for_gene(gene)
        assert found, gene
        for sourced in found:
            a = sourced.assertion
            if gene == "ABCB1" and "asciminib" in a.drugs:
                continue  # written in ABL1.yaml
            assert a.evidence == "D", gene
            assert any(r.startswith(("PMID:", "DOI:")) for r in a.references), gene


def _verdict(alterations, drug="olaparib", disease="ovarian"):
    result = interpret(alterations, drugs=[drug], disease=disease)
    return result.drugs[0].verdict


@pytest.mark.parametrize("partner", ["TP53BP1", "SHLD2", "MAD2L2", "RIF1", "CTC1", "DYNLL1"])
def test_53bp1_axis_loss_defeats_olaparib_only_with_brca1_loss(partner):
    assert _verdict(["BRCA1 Q1756fs"]) == "sensitive"
    assert _verdict(["BRCA1 Q1756fs", f"{partner} loss"]) == "resistant"
    # the rescue is specific to BRCA1: BRCA2-deficient cells stay HR-deficient
    assert _verdict(["BRCA2 S1982fs", f"{partner} loss"]) == "sensitive"


def test_trapping_and_rnase_h2_in_a_brca2_tumour():
    # fork protection (PTIP loss) rescues BRCA2-deficient cells, the 53BP1 axis does not
    assert _verdict(["BRCA2 S1982fs", "PAXIP1 loss"]) == "resistant"
    assert _verdict(["BRCA2 S1982fs", "PAXIP1 loss"], drug="cisplatin") == "resistant"
    assert _verdict(["BRCA1 Q1756fs", "CHD1L overexpression"]) == "reduced_response"
    assert _verdict(["BRCA2 S1982fs", "PARG loss"]) == "resistant"
    assert _verdict(["BRCA2 S1982fs", "PARP1 loss"]) == "resistant"
    assert _verdict(["BRCA2 S1982fs", "RNASEH2B loss"]) == "sensitive"


def test_parp1_loss_is_not_the_primary_driver():
    # an on-target resistance marks its gene as a driver candidate; PARP1's rank keeps it last
    result = interpret(["KRAS G12D", "PARP1 loss"], drugs=["olaparib"])
    assert result.primary_driver == ["KRAS"]
    assert result.drugs[0].verdict == "resistant"


@pytest.mark.parametrize("gene", ["RAD51C", "RAD51D"])
def test_rad51_paralogs_in_ovarian_cancer(gene):
    assert _verdict([f"{gene} R237*"], drug="rucaparib") == "sensitive"
    assert _verdict([f"{gene} reversion"], drug="rucaparib") == "resistant"
    assert _verdict([f"{gene} reversion"], drug="niraparib") == "resistant"


@pytest.mark.skipif(not GECKO.exists(), reason="needs ../shared/data/crispr")
def test_a_real_library_reaches_the_biology_through_its_old_symbols(kb):
    # GeCKOv1 (2014) names SHLD1 C20orf196 and STN1 OBFC1; a PARP inhibitor screen on it
    # must still link those genes to the drug
    genes = pd.read_csv(GECKO, usecols=["Gene"])["Gene"].unique()
    table = gene_knowledge(kb, genes, drug="talazoparib")
    linked = table[table["for_drug"]]
    assert linked.loc["C20orf196", "symbol"] == "SHLD1"
    assert linked.loc["OBFC1", "symbol"] == "STN1"
    found = set(linked["symbol"])
    assert {"TP53BP1", "RIF1", "MAD2L2", "CTC1", "TEN1", "PARP1", "SLFN11", "DYNLL1"} <= found
    assert {"RNASEH2A", "RNASEH2B", "RNASEH2C"} <= found
