"""Coverage of solid-tumour targeted drugs in the shipped knowledge base (issue 18, item 4).

Each approved drug family added for solid tumours must be present under its generic name,
code and brand names, and carry its labelled biomarker as a level-A assertion in the
labelled disease. Drugs that are withdrawn or approved only outside the US and EU must say
so (``approved: false`` with a note).
"""

import pytest

from oncoresist.kb import load_kb


@pytest.fixture(scope="module")
def kb():
    return load_kb()


# (drug, gene, biomarker as written, disease) of a labelled, level-A indication
LABELLED = [
    ("olaparib", "BRCA1", "mutation", "ovarian"),
    ("olaparib", "BRCA2", "mutation", "pancreatic"),
    ("niraparib", "BRCA2", "mutation", "ovarian"),
    ("rucaparib", "BRCA2", "mutation", "prostate"),
    ("talazoparib", "BRCA1", "mutation", "breast"),
    ("olaparib", "ATM", "mutation", "prostate"),
    ("olaparib", "PALB2", "mutation", "prostate"),
    ("selumetinib", "NF1", "loss", "plexiform_neurofibroma"),
    ("mirdametinib", "NF1", "loss", "plexiform_neurofibroma"),
    ("tovorafenib", "BRAF", "fusion", "LGG"),
    ("avutometinib + defactinib", "KRAS", "mutation", "LGSOC"),
    ("zenocutuzumab", "NRG1", "fusion", "NSCLC"),
    ("zongertinib", "ERBB2", "L755", "NSCLC"),
    ("sevabertinib", "ERBB2", "exon 20 insertion", "NSCLC"),
    ("trastuzumab deruxtecan", "ERBB2", "mutation", "NSCLC"),
    ("zanidatamab", "ERBB2", "overexpression", "CHOL"),
    ("margetuximab", "ERBB2", "amplification", "breast"),
    ("datopotamab deruxtecan", "EGFR", "L858R", "NSCLC"),
    ("elacestrant", "ESR1", "mutation", "breast"),
    ("imlunestrant", "ESR1", "mutation", "breast"),
    ("belzutifan", "VHL", "loss", "ccRCC"),
    ("everolimus", "TSC2", "loss", "TSC_tumour"),
    ("dordaviprone", "H3-3A", "H3-3A K27M", "DMG"),
    ("mirvetuximab soravtansine", "FOLR1", "overexpression", "ovarian"),
    ("zolbetuximab", "CLDN18", "overexpression", "gastric"),
]


@pytest.mark.parametrize("drug, gene, biomarker, disease", LABELLED)
def test_labelled_biomarker_is_a_level_a_assertion(kb, drug, gene, biomarker, disease):
    key = kb.resolve_drug(drug)
    hits = [
        sa
        for sa in kb.assertions
        if sa.assertion.biomarker == biomarker
        and sa.assertion.disease == disease
        and sa.assertion.effect == "sensitive"
        and sa.assertion.evidence == "A"
        and gene in sa.file
        and key in kb.expand_drugs(sa.assertion.drugs, sa.assertion.except_)
    ]
    assert hits, (drug, gene, biomarker, disease)


@pytest.mark.parametrize(
    "name, generic",
    [
        ("Lynparza", "olaparib"), ("AZD2281", "olaparib"), ("Zejula", "niraparib"),
        ("Rubraca", "rucaparib"), ("BMN 673", "talazoparib"), ("Koselugo", "selumetinib"),
        ("AZD6244", "selumetinib"), ("PD-0325901", "mirdametinib"), ("Gomekli", "mirdametinib"),
        ("DAY101", "tovorafenib"), ("VS-6766", "avutometinib"), ("MCLA-128", "zenocutuzumab"),
        ("Bizengri", "zenocutuzumab"), ("BAY 2927088", "sevabertinib"), ("ZW25", "zanidatamab"),
        ("Welireg", "belzutifan"), ("MK-6482", "belzutifan"), ("ONC201", "dordaviprone"),
        ("Elahere", "mirvetuximab soravtansine"), ("IMAB362", "zolbetuximab"),
        ("Dato-DXd", "datopotamab deruxtecan"), ("Fyarro", "nab-sirolimus"),
        ("GDC-6036", "divarasib"), ("almonertinib", "aumolertinib"),
        ("firmonertinib", "furmonertinib"), ("ARV-471", "vepdegestrant"),
    ],
)  # fmt: skip
def test_code_and_brand_names_resolve(kb, name, generic):
    assert kb.resolve_drug(name) == generic


@pytest.mark.parametrize(
    "drug",
    ["mobocertinib", "infigratinib", "poziotinib", "savolitinib", "aumolertinib",
     "glecirasib", "pyrotinib", "fuzuloparib", "tunlametinib", "divarasib", "vepdegestrant"],
)  # fmt: skip
def test_unapproved_or_withdrawn_drugs_say_so(kb, drug):
    entry = kb.drugs[drug]
    assert entry.approved is False and entry.note, drug


def test_every_mek_inhibitor_is_a_drug_of_its_class(kb):
    members = kb.class_members("mek_inhibitor")
    for drug in ["trametinib", "cobimetinib", "binimetinib", "selumetinib", "mirdametinib"]:
        assert drug in members, drug


def test_kras_g12c_inhibitors_have_off_target_escapes(kb):
    """Awad 2021: bypass and downstream escapes beyond KRAS itself, each in its gene."""
    genes = {
        sa.file.rsplit("/", 1)[-1].removesuffix(".yaml")
        for sa in kb.assertions
        if sa.assertion.effect == "resistant"
        and sa.assertion.mechanism in ("bypass", "downstream", "phenotypic")
        and "sotorasib" in kb.expand_drugs(sa.assertion.drugs, sa.assertion.except_)
    }
    expected = {"MET", "NRAS", "BRAF", "MAP2K1", "NF1", "PTEN", "RET", "ALK", "FGFR3", "RAF1"}
    assert expected <= genes, expected - genes
    assert "phenotypes" in genes  # squamous transformation and EMT
