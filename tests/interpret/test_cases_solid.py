"""Literature cases for solid tumours on the shipped knowledge base (issue 18, item 4).

Each case is a tumour's alterations and disease, one drug, and the verdict the cited trial,
label or series supports. ``RES`` accepts resistant or reduced_response. Every case needs
knowledge added for issue 18 (a drug, a gene, a disease or an assertion that was missing).
"""

import pytest

from oncoresist.interpret import interpret

RES = "RES"

CASES = [
    # --- PARP inhibitors and homologous recombination genes -------------------------------
    # SOLO-1 (Moore 2018, PMID 30345884): first-line olaparib maintenance, BRCA1/2-mutant ovarian
    (["BRCA1 Q1756Pfs*74"], "ovarian cancer", "olaparib", "sensitive"),
    # FDA label niraparib: maintenance in BRCA-mutant ovarian cancer
    (["BRCA1 Q1756Pfs*74"], "HGSOC", "niraparib", "sensitive"),
    # FDA label rucaparib: BRCA-mutant ovarian cancer (deleterious loss)
    (["BRCA2 loss"], "ovarian cancer", "rucaparib", "sensitive"),
    # PAOLA-1 / FDA label olaparib with bevacizumab: HRD-positive (incl. BRCA-mutant) ovarian
    (["BRCA2 S1982Rfs*22"], "ovarian cancer", "olaparib + bevacizumab", "sensitive"),
    # OlympiAD (Robson 2017, PMID 28578601): germline BRCA, HER2-negative metastatic breast
    (["BRCA1 E1373*"], "breast cancer", "olaparib", "sensitive"),
    # EMBRACA (Litton 2018, DOI 10.1056/NEJMoa1802905): talazoparib, germline BRCA breast
    (["BRCA2 S1982Rfs*22"], "breast cancer", "talazoparib", "sensitive"),
    # POLO (Golan 2019, PMID 31157963): olaparib maintenance, germline BRCA pancreatic cancer
    (["BRCA2 S1982Rfs*22"], "pancreatic cancer", "olaparib", "sensitive"),
    # PROfound / FDA label olaparib (2020): BRCA2-altered mCRPC after an ARPI
    (["BRCA2 loss"], "mCRPC", "olaparib", "sensitive"),
    # MAGNITUDE / FDA label niraparib and abiraterone acetate (Akeega): BRCA-mutated mCRPC
    (["BRCA2 loss"], "mCRPC", "niraparib + abiraterone", "sensitive"),
    # TALAPRO-2 / FDA label talazoparib with enzalutamide: HRR-mutated mCRPC
    (["BRCA1 Q1756Pfs*74"], "prostate cancer", "talazoparib + enzalutamide", "sensitive"),
    # PROfound cohort A / FDA label olaparib: ATM is on the HRR gene list
    (["ATM loss"], "mCRPC", "olaparib", "sensitive"),
    # TRITON2 / FDA label rucaparib: BRCA only, ATM alone is not an indication
    (["ATM loss"], "mCRPC", "rucaparib", "no_known_effect"),
    # TALAPRO-2 gene list includes CDK12
    (["CDK12 loss"], "mCRPC", "talazoparib + enzalutamide", "sensitive"),
    # PROfound cohort B / FDA label olaparib: RAD51C is on the HRR gene list
    (["RAD51C loss"], "prostate cancer", "olaparib", "sensitive"),
    # TBCRC 048 (phase 2): germline PALB2 metastatic breast cancer responds to olaparib
    (["PALB2 Y1183*"], "breast cancer", "olaparib", "sensitive"),
    # --- KRAS G12C: acquired resistance beyond KRAS (Awad 2021, PMID 34161704) --------------
    (["KRAS G12C", "MET amplification"], "NSCLC", "sotorasib", "resistant"),
    (["KRAS G12C", "NRAS G12D"], "NSCLC", "adagrasib", "resistant"),
    (["KRAS G12C", "CCDC6::RET"], "NSCLC", "adagrasib", "resistant"),
    (["KRAS G12C", "EML4::ALK"], "NSCLC", "sotorasib", "resistant"),
    (["KRAS G12C", "FGFR3::TACC3"], "NSCLC", "adagrasib", "resistant"),
    (["KRAS G12C", "RAF1 fusion"], "NSCLC", "adagrasib", "resistant"),
    (["KRAS G12C", "PTEN loss"], "NSCLC", "sotorasib", "resistant"),
    (["KRAS G12C", "KRAS G12W"], "NSCLC", "adagrasib", "resistant"),
    (["KRAS G12C", "transformation:squamous"], "NSCLC", "adagrasib", "resistant"),
    # Adachi 2020 (Clin Cancer Res 26:5962): EMT causes G12C inhibitor resistance (models)
    (["KRAS G12C", "EMT"], "LUAD", "sotorasib", "resistant"),
    # switch-II pocket Y96D (Awad 2021) defeats the class, China-approved glecirasib included
    (["KRAS G12C", "KRAS Y96D"], "NSCLC", "glecirasib", "resistant"),
    # CodeBreaK 100 / KRYSTAL-1 pancreatic cohorts; NCCN pancreatic guideline
    (["KRAS G12C"], "pancreatic cancer", "sotorasib", "sensitive"),
    # RAMP 201 / FDA label avutometinib and defactinib: KRAS-mutated low-grade serous ovarian
    (["KRAS G12D"], "LGSOC", "avutometinib + defactinib", "sensitive"),
    # --- EGFR: acquired fusions and amplifications after osimertinib -----------------------
    # Piotrowska 2018 (Cancer Discov 8:1529): acquired RET fusion on osimertinib, answered by
    # osimertinib plus pralsetinib (BLU-667); the fusion defeats every EGFR TKI
    (["EGFR L858R", "CCDC6::RET"], "NSCLC", "osimertinib", "resistant"),
    (["EGFR E746_A750del", "CCDC6::RET"], "NSCLC", "erlotinib", "resistant"),
    # Leonetti 2019 review (PMID 31564718): ALK, BRAF and FGFR3 fusions, CCND1/CDK4/6 amps
    (["EGFR L858R", "EML4::ALK"], "NSCLC", "osimertinib", "resistant"),
    (["EGFR E746_A750del", "FGFR3::TACC3"], "NSCLC", "osimertinib", "resistant"),
    (["EGFR L858R", "BRAF fusion"], "NSCLC", "osimertinib", "resistant"),
    (["EGFR L858R", "CDK6 amplification"], "NSCLC", "osimertinib", RES),
    # FDA label datopotamab deruxtecan (2025): EGFR-mutated NSCLC after TKI and platinum;
    # its activity does not depend on the TKI resistance mechanism
    (["EGFR E746_A750del", "EGFR C797S"], "NSCLC", "Dato-DXd", "sensitive"),
    # AENEAS (Lu 2022, PMID 35580297): first-line aumolertinib, China-approved only
    (["EGFR L858R"], "NSCLC", "almonertinib", "sensitive"),
    # third-generation TKIs share C797S resistance (Thress 2015); aumolertinib is one of them
    (["EGFR L858R", "EGFR C797S"], "NSCLC", "aumolertinib", "resistant"),
    # Arena 2015 (Clin Cancer Res 21:2157): EGFR ectodomain G465R on anti-EGFR antibodies
    (["EGFR G465R"], "colorectal cancer", "panitumumab", "resistant"),
    (["EGFR S464L"], "colorectal cancer", "cetuximab", "resistant"),
    # --- ERBB2 ------------------------------------------------------------------------------
    # FDA labels zongertinib (Beamion LUNG-1) and sevabertinib (SOHO-01): HER2 TKD mutations
    (["ERBB2 L755S"], "NSCLC", "zongertinib", "sensitive"),
    (["ERBB2 V777L"], "NSCLC", "sevabertinib", "sensitive"),
    (["ERBB2 A775_G776insYVMA"], "LUAD", "BAY 2927088", "sensitive"),
    # FDA label trastuzumab deruxtecan (2024, HER2 IHC 3+ solid tumours); amplification is
    # the genomic surrogate (DESTINY-Lung01 HER2-overexpressing cohort)
    (["ERBB2 amplification"], "NSCLC", "trastuzumab deruxtecan", "sensitive"),
    # SUMMIT basket (Hyman 2018, PMID 29420467): S310F responds to neratinib
    (["ERBB2 S310F"], "bladder cancer", "neratinib", "sensitive"),
    # SOPHIA / FDA label margetuximab: HER2-positive metastatic breast cancer
    (["ERBB2 amplification"], "breast cancer", "margetuximab", "sensitive"),
    # PHILA (Ma 2023, DOI 10.1136/bmj-2023-076065): pyrotinib with trastuzumab-docetaxel
    (["ERBB2 amplification"], "breast cancer", "pyrotinib + trastuzumab + docetaxel", "sensitive"),
    # HERIZON-BTC-01 / FDA label zanidatamab: HER2 IHC 3+ biliary tract cancer
    (["HER2 overexpression"], "biliary tract cancer", "zanidatamab", "sensitive"),
    # Fader 2018 phase 2 / NCCN Uterine: trastuzumab with carboplatin-paclitaxel, HER2+ USC
    (
        ["ERBB2 amplification"],
        "uterine serous carcinoma",
        "carboplatin + paclitaxel + trastuzumab",
        "sensitive",
    ),
    # --- MAPK: NF1, BRAF fusions, RAF dimers ---------------------------------------------------
    # SPRINT / FDA label selumetinib; ReNeu / FDA label mirdametinib
    (["NF1 loss"], "NF1 plexiform neurofibroma", "selumetinib", "sensitive"),
    (["NF1 R1947*"], "plexiform neurofibroma", "mirdametinib", "sensitive"),
    # FIREFLY-1 / FDA label tovorafenib: relapsed paediatric LGG with BRAF fusion or V600
    (["BRAF fusion"], "pediatric low-grade glioma", "tovorafenib", "sensitive"),
    (["BRAF V600E"], "pLGG", "Ojemda", "sensitive"),
    # BRAF fusions signal as dimers that V600 monomer inhibitors do not block (inferred)
    (["BRAF fusion"], "low-grade glioma", "vemurafenib", "resistant"),
    # --- other drivers and their first approved drug ----------------------------------------
    # eNRGy / FDA label zenocutuzumab: NRG1 fusion-positive NSCLC and pancreatic cancer
    (["CD74::NRG1"], "NSCLC", "zenocutuzumab", "sensitive"),
    (["NRG1 fusion"], "pancreatic cancer", "Bizengri", "sensitive"),
    # LITESPARK-005 / FDA label belzutifan; LITESPARK-004 for von Hippel-Lindau disease
    (["VHL loss"], "clear cell renal cell carcinoma", "belzutifan", "sensitive"),
    (["VHL R167W"], "von Hippel-Lindau disease", "belzutifan", "sensitive"),
    # EXIST-1 / FDA label everolimus (TSC-associated SEGA); AMPECT / FDA label nab-sirolimus
    (["TSC1 loss"], "SEGA", "everolimus", "sensitive"),
    (["TSC2 loss"], "PEComa", "Fyarro", "sensitive"),
    # FDA label dordaviprone (2025): H3 K27M-mutant diffuse midline glioma
    (["H3F3A K27M"], "diffuse midline glioma", "ONC201", "sensitive"),
    # MIRASOL / FDA label mirvetuximab soravtansine: FRa-high platinum-resistant ovarian
    (["FOLR1 overexpression"], "ovarian cancer", "mirvetuximab soravtansine", "sensitive"),
    # SPOTLIGHT, GLOW / FDA label zolbetuximab: CLDN18.2-positive gastric cancer
    (["CLDN18 overexpression"], "gastric cancer", "zolbetuximab", "sensitive"),
    # EMERALD / EMBER-3 labels: any ESR1 mutation by a validated test; VERITAC-2
    (["ESR1 V422del"], "breast cancer", "elacestrant", "sensitive"),
    (["ESR1 Y537S"], "breast cancer", "vepdegestrant", "sensitive"),
    # Drilon 2016 phase 2 / NCCN NSCLC: cabozantinib in RET-rearranged NSCLC
    (["KIF5B::RET"], "NSCLC", "cabozantinib", "sensitive"),
    # solvent-front G1202R defeats second-generation ALK TKIs, China-approved iruplinalkib too
    (["EML4::ALK", "ALK G1202R"], "NSCLC", "iruplinalkib", "resistant"),
    # MET D1228N defeats type I MET TKIs (class), China-approved gumarontinib included
    (["MET exon 14 skipping", "MET D1228N"], "NSCLC", "gumarontinib", "resistant"),
]


def _id(case):
    alts, disease, drug, _ = case
    return f"{'+'.join(alts)}|{disease}|{drug}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_solid_tumour_literature_case(case):
    alterations, disease, drug, expected = case
    result = interpret(alterations, drugs=[drug], disease=disease)
    verdict = result.drugs[0].verdict
    if expected == RES:
        assert verdict in ("resistant", "reduced_response"), result.drugs[0]
    else:
        assert verdict == expected, result.drugs[0]


def test_case_table_spans_enough_drugs():
    from oncoresist.kb import load_kb

    kb = load_kb()
    drugs = {kb.resolve_drug(c[2]) for c in CASES}
    assert len(CASES) >= 50 and len(drugs) >= 20, (len(CASES), len(drugs))


def test_kras_g12c_escape_keeps_the_mechanism_and_evidence():
    # Awad 2021: MET amplification is a bypass (series: level C), not an on-target change
    result = interpret(["KRAS G12C", "MET amplification"], drugs=["adagrasib"], disease="NSCLC")
    verdict = result.verdict("adagrasib")
    reason = next(r for r in verdict.reasons if r.alteration == "MET amplification")
    assert reason.mechanism == "bypass" and reason.evidence == "C"


def test_china_only_egfr_tki_is_level_b_not_the_class_label_level():
    # AENEAS and FURLONG are phase 3 trials (B); the FDA/NCCN class assertion (A) excepts them
    result = interpret(["EGFR E746_A750del"], drugs=["furmonertinib"], disease="NSCLC")
    assert result.verdict("furmonertinib").verdict == "sensitive"
    assert result.verdict("furmonertinib").evidence == "B"


def test_her2_mutation_is_level_a_for_trastuzumab_deruxtecan():
    # DESTINY-Lung02 / FDA label (2022): HER2-mutant NSCLC, label-level evidence
    result = interpret(["ERBB2 L755S"], drugs=["trastuzumab deruxtecan"], disease="NSCLC")
    assert result.verdict("trastuzumab deruxtecan").verdict == "sensitive"
    assert result.verdict("trastuzumab deruxtecan").evidence == "A"
