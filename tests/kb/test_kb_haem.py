"""Haematological coverage of the shipped knowledge base (issue 18, item 4).

The drugs approved for blood cancers must resolve by generic, code and brand name, the
withdrawn ones must be flagged, the haematological diseases must resolve by OncoTree code,
and every drug-target gene added for them must carry cited assertions.
"""

import pytest

from oncoresist.kb import load_kb


@pytest.fixture(scope="module")
def kb():
    return load_kb()


# name as a user types it -> generic name of the knowledge base
NAMES = {
    "Revuforj": "revumenib", "SNDX-5613": "revumenib", "KO-539": "ziftomenib",
    "Komzifti": "ziftomenib", "Jakafi": "ruxolitinib", "INCB018424": "ruxolitinib",
    "Inrebic": "fedratinib", "Vonjo": "pacritinib", "Ojjaara": "momelotinib",
    "EPZ-6438": "tazemetostat", "Blincyto": "blinatumomab", "Kymriah": "tisagenlecleucel",
    "Yescarta": "axicabtagene ciloleucel", "Tecartus": "brexucabtagene autoleucel",
    "Breyanzi": "lisocabtagene maraleucel", "Aucatzyl": "obecabtagene autoleucel",
    "Monjuvi": "tafasitamab", "Zynlonta": "loncastuximab tesirine",
    "Besponsa": "inotuzumab ozogamicin", "Mylotarg": "gemtuzumab ozogamicin",
    "Gazyva": "obinutuzumab", "Lunsumio": "mosunetuzumab", "Columvi": "glofitamab",
    "Epkinly": "epcoritamab", "Abecma": "idecabtagene vicleucel",
    "Carvykti": "ciltacabtagene autoleucel", "Tecvayli": "teclistamab",
    "Elrexfio": "elranatamab", "Lynozyfic": "linvoseltamab", "Blenrep": "belantamab mafodotin",
    "Talvey": "talquetamab", "Revlimid": "lenalidomide", "Zydelig": "idelalisib",
    "Copiktra": "duvelisib", "ATRA": "tretinoin", "Trisenox": "arsenic trioxide",
    "Reblozyl": "luspatercept", "Vyxeos": "daunorubicin-cytarabine liposome",
    "ara-C": "cytarabine", "Dacogen": "decitabine",
}  # fmt: skip


@pytest.mark.parametrize(("name", "generic"), sorted(NAMES.items()))
def test_haematology_drugs_resolve_by_code_and_brand(kb, name, generic):
    assert kb.resolve_drug(name) == generic


@pytest.mark.parametrize("drug", ["copanlisib", "umbralisib", "olverembatinib", "orelabrutinib"])
def test_withdrawn_or_unapproved_drugs_are_flagged(kb, drug):
    assert kb.drugs[drug].approved is False
    assert kb.drugs[drug].note


@pytest.mark.parametrize(
    ("code", "disease"),
    [("PCM", "MM"), ("PMF", "MF"), ("PV", "PV"), ("BLL", "BALL"), ("MDS", "MDS"),
     ("FL", "FL"), ("DLBCLNOS", "DLBCL"), ("CHL", "cHL"), ("WM", "WM")],
)  # fmt: skip
def test_haematological_diseases_resolve_by_oncotree_code(kb, code, disease):
    assert kb.resolve_disease(code) == disease


def test_haematological_subtypes_sit_under_haem(kb):
    for disease in ("MM", "MF", "PV", "BALL", "MDS", "FL", "DLBCL", "cHL", "WM", "MLNE"):
        node, seen = disease, set()
        while kb.diseases[node].parent is not None and node not in seen:
            seen.add(node)
            node = kb.diseases[node].parent
        assert node == "haem", disease


GENES = ("BCL2", "BAX", "MCL1", "KMT2A", "NPM1", "MEN1", "EZH2", "CD19", "CD22", "CD33",
         "MS4A1", "TNFRSF17", "GPRC5D", "CALR", "MPL", "PDGFRB", "RARA", "SF3B1", "MYD88",
         "CXCR4", "NUP98", "PIK3CD")  # fmt: skip


@pytest.mark.parametrize("gene", GENES)
def test_haematology_genes_carry_cited_assertions(kb, gene):
    mine = [sa.assertion for sa in kb.assertions if sa.file == f"genes/{gene}.yaml"]
    assert mine, gene
    assert all(a.references and a.evidence in "ABCDE" for a in mine)


def test_antigen_aliases_resolve(kb):
    assert kb.resolve_gene("BCMA") == "TNFRSF17"
    assert kb.resolve_gene("CD20") == "MS4A1"
    assert kb.resolve_gene("MLL") == "KMT2A"
    assert kb.resolve_gene("INI1") == "SMARCB1"
