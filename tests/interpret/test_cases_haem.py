"""Literature cases for haematological malignancies and the other non-lung/breast/colorectal
areas, put to the shipped knowledge base: alterations and disease in, a verdict per drug out.

Each case cites the source of the expected verdict. ``RES`` accepts resistant or
reduced_response (the clinical reading "do not count on this drug").
"""

import pytest

from oncoresist.interpret import interpret

RES = "RES"

CASES = [
    # --- CML: BCR::ABL1 kinase-domain mutations (Soverini 2011 PMID 21562040; ELN 2020
    # PMID 32127639; NCCN CML) ------------------------------------------------------------
    # imatinib is "resistant" (not merely reduced) for these named mutations
    ("abl1_m351t", ["BCR::ABL1", "ABL1 M351T"], "CML",
     {"imatinib": "resistant", "nilotinib": "sensitive", "bosutinib": "sensitive"}),
    ("abl1_h396r", ["BCR::ABL1", "ABL1 H396R"], "CML",
     {"imatinib": "resistant", "ponatinib": "sensitive"}),
    ("abl1_m244v", ["BCR::ABL1", "ABL1 M244V"], "CML", {"imatinib": "resistant"}),
    ("abl1_l248v", ["BCR::ABL1", "ABL1 L248V"], "CML", {"imatinib": "resistant"}),
    ("abl1_e459k", ["BCR::ABL1", "ABL1 E459K"], "Ph+ ALL", {"imatinib": "resistant"}),
    # ELN 2020: F359V/C/I -> dasatinib, bosutinib or ponatinib; NCCN: not asciminib
    ("abl1_f359v", ["BCR::ABL1", "ABL1 F359V"], "CML",
     {"imatinib": "resistant", "nilotinib": RES, "dasatinib": "sensitive", "asciminib": RES}),
    # --- CLL: venetoclax and BTK inhibitors -----------------------------------------------
    # Blombery 2019 (PMID 30514704): BCL2 G101V at venetoclax progression
    ("bcl2_g101v", ["BCL2 G101V"], "CLL",
     {"venetoclax": RES, "ibrutinib": "sensitive", "pirtobrutinib": "sensitive"}),
    # double-refractory CLL: G101V plus C481S (Blombery 2019; Woyach 2014 PMID 24869598)
    ("bcl2_g101v_btk_c481s", ["BCL2 G101V", "BTK C481S"], "CLL",
     {"venetoclax": RES, "ibrutinib": RES, "pirtobrutinib": "sensitive"}),
    # MURANO / venetoclax label: venetoclax-rituximab after a covalent BTK inhibitor
    ("btk_c481s_venr", ["BTK C481S"], "CLL",
     {"rituximab + venetoclax": "sensitive", "zanubrutinib": RES}),
    # Woyach 2014: PLCG2 R665W at ibrutinib progression; NCCN: venetoclax next
    ("plcg2_r665w", ["PLCG2 R665W"], "CLL",
     {"ibrutinib": RES, "pirtobrutinib": RES, "venetoclax": "sensitive"}),
    # idelalisib (2014) and duvelisib (2018) labels include del(17p)/TP53 CLL
    ("cll_tp53_pi3k", ["TP53 loss"], "CLL",
     {"idelalisib + rituximab": "sensitive", "duvelisib": "sensitive"}),
    # --- menin inhibitors (Issa 2023 PMID 36922593; AUGMENT-101 PMID 39121437 and
    # PMID 40332046; KOMET-001 PMID 39362248; Perner 2023 PMID 36922589) -------------------
    ("kmt2a_aff1_aml", ["KMT2A::AFF1"], "AML", {"revumenib": "sensitive"}),
    ("kmt2a_mllt3_ball", ["KMT2A::MLLT3"], "B-ALL", {"revumenib": "sensitive"}),
    ("npm1_menin", ["NPM1 W288fs"], "AML",
     {"revumenib": "sensitive", "ziftomenib": "sensitive"}),
    ("npm1_men1_m327i", ["NPM1 W288fs", "MEN1 M327I"], "AML",
     {"revumenib": RES, "ziftomenib": RES}),
    ("kmt2a_men1_g331r", ["KMT2A::AFF1", "MEN1 G331R"], "AML", {"revumenib": RES}),
    ("kmt2a_men1_t349m", ["KMT2A::MLLT10", "MEN1 T349M"], "AML", {"revumenib": RES}),
    # --- AML: FLT3, hypomethylating agent + venetoclax, ELN 2022 (PMID 35797463) -----------
    # RATIFY (PMID 28644114), ADMIRAL (PMID 31665578), ELN 2024 less-intensive risk
    ("npm1_flt3_itd", ["NPM1 W288fs", "FLT3 ITD"], "AML",
     {"cytarabine + daunorubicin + midostaurin": "sensitive", "gilteritinib": "sensitive",
      "azacitidine + venetoclax": RES}),
    # QuANTUM-First (PMID 37116523) is ITD-only; type II drugs miss TKD (Smith 2012)
    ("flt3_d835y_induction", ["FLT3 D835Y"], "AML",
     {"cytarabine + daunorubicin + quizartinib": RES,
      "cytarabine + daunorubicin + midostaurin": "sensitive"}),
    ("flt3_itd_quantum", ["FLT3 ITD"], "AML",
     {"cytarabine + daunorubicin + quizartinib": "sensitive", "quizartinib": "sensitive"}),
    # VIALE-A (PMID 32786187), ELN 2022/2024, Welch 2016 (PMID 27959731)
    ("aml_tp53", ["TP53 R248Q"], "AML",
     {"azacitidine + venetoclax": RES, "cytarabine + daunorubicin": RES,
      "decitabine": "sensitive"}),
    ("aml_nras_idh2", ["IDH2 R140Q", "NRAS G12D"], "AML",
     {"azacitidine + venetoclax": RES, "enasidenib": RES}),
    ("aml_idh1", ["IDH1 R132H"], "AML",
     {"azacitidine + venetoclax": "sensitive", "ivosidenib": "sensitive", "enasidenib": RES}),
    ("aml_idh2", ["IDH2 R140Q"], "AML",
     {"ivosidenib": RES, "enasidenib": "sensitive", "azacitidine + venetoclax": "sensitive"}),
    # ivosidenib label (2023): relapsed or refractory IDH1-mutated MDS
    ("mds_idh1", ["IDH1 R132C"], "MDS", {"ivosidenib": "sensitive"}),
    # Moujalled 2023 (discussed in PMID 36757728): BAX loss at venetoclax relapse
    ("aml_bax", ["NPM1 W288fs", "BAX E41fs"], "AML",
     {"azacitidine + venetoclax": RES, "revumenib": "sensitive"}),
    ("aml_runx1", ["RUNX1 R201Q"], "AML", {"cytarabine + daunorubicin": RES}),
    ("aml_nup98", ["NUP98::NSD1"], "AML", {"cytarabine + daunorubicin": RES}),
    ("aml_kmt2a_induction", ["KMT2A::MLLT10"], "AML", {"cytarabine + daunorubicin": RES}),
    # ELN 2022: core-binding-factor AML is favourable; gemtuzumab ozogamicin added to induction
    ("cbf_aml_t8_21", ["RUNX1::RUNX1T1"], "AML",
     {"cytarabine + daunorubicin + gemtuzumab ozogamicin": "sensitive"}),
    ("cbf_aml_inv16", ["CBFB::MYH11"], "AML",
     {"cytarabine + daunorubicin + gemtuzumab ozogamicin": "sensitive",
      "cytarabine + daunorubicin": "sensitive"}),
    # gemtuzumab ozogamicin label (2017): CD33-positive AML
    ("aml_cd33", ["CD33 expression"], "AML", {"gemtuzumab ozogamicin": "sensitive"}),
    ("aml_cd33_loss", ["CD33 loss"], "AML", {"gemtuzumab ozogamicin": RES}),
    # APL0406 (Lo-Coco 2013 PMID 23841729); NCCN AML: ZBTB16::RARA is ATRA/ATO-insensitive
    ("apl_pml_rara", ["PML::RARA"], "AML",
     {"arsenic trioxide + tretinoin": "sensitive", "tretinoin": "sensitive"}),
    ("apl_zbtb16_rara", ["ZBTB16::RARA"], "AML",
     {"tretinoin": RES, "arsenic trioxide": RES}),
    ("apl_stat5b_rara", ["STAT5B::RARA"], "AML", {"arsenic trioxide + tretinoin": RES}),
    # --- MDS and myeloproliferative neoplasms ---------------------------------------------
    # MEDALIST (PMID 31914241)
    ("mds_sf3b1", ["SF3B1 K700E"], "MDS", {"luspatercept": "sensitive"}),
    # COMFORT-I/II (PMID 22375971, 22375970), JAKARTA (PMID 26003172), labels
    ("mf_jak2", ["JAK2 V617F"], "myelofibrosis",
     {"ruxolitinib": "sensitive", "fedratinib": "sensitive", "momelotinib": "sensitive",
      "pacritinib": "sensitive"}),
    ("mf_calr", ["CALR L367fs"], "primary myelofibrosis", {"ruxolitinib": "sensitive"}),
    ("mf_mpl", ["MPL W515L"], "PMF", {"fedratinib": "sensitive"}),
    # ruxolitinib label (2014): polycythaemia vera after hydroxyurea (RESPONSE)
    ("pv_jak2", ["JAK2 V617F"], "polycythemia vera", {"ruxolitinib": "sensitive"}),
    # imatinib label: MDS/MPD with PDGFR rearrangement; HES/CEL with FIP1L1::PDGFRA
    ("cmml_pdgfrb", ["ETV6::PDGFRB"], "CMML", {"imatinib": "sensitive"}),
    ("hes_fip1l1", ["FIP1L1::PDGFRA"], "hypereosinophilic syndrome", {"imatinib": "sensitive"}),
    # NCCN MLN-Eo: ruxolitinib for JAK2-rearranged disease
    ("mlne_pcm1_jak2", ["PCM1::JAK2"], "MLNE", {"ruxolitinib": "sensitive"}),
    # --- lymphoma ---------------------------------------------------------------------------
    # Morschhauser 2020 (PMID 33035457), tazemetostat label (2020)
    ("fl_ezh2", ["EZH2 Y646N"], "follicular lymphoma", {"tazemetostat": "sensitive"}),
    # glofitamab (PMID 36507690); CD20 loss after glofitamab (Grigg 2024 PMID 38720530)
    ("dlbcl_cd20_loss", ["MS4A1 loss"], "DLBCL",
     {"glofitamab": RES, "epcoritamab": RES, "loncastuximab tesirine": "sensitive"}),
    ("dlbcl_cd19_loss", ["CD19 loss"], "DLBCL",
     {"axicabtagene ciloleucel": RES, "glofitamab": "sensitive"}),
    ("fl_cd20", ["CD20 expression"], "FL", {"mosunetuzumab": "sensitive"}),
    # ibrutinib (2015) and zanubrutinib (2021) WM labels; NCCN WM/LPL on CXCR4 mutations
    ("wm_myd88", ["MYD88 L265P"], "Waldenstrom macroglobulinemia",
     {"ibrutinib": "sensitive", "zanubrutinib": "sensitive"}),
    ("wm_myd88_cxcr4", ["MYD88 L265P", "CXCR4 S338*"], "WM",
     {"ibrutinib": RES, "bendamustine + rituximab": "sensitive"}),
    # ZUMA-2 / brexucabtagene autoleucel label (2020): MCL after BTK inhibitors
    ("mcl_btk_c481s", ["BTK C481S"], "mantle cell lymphoma",
     {"brexucabtagene autoleucel": "sensitive", "pirtobrutinib": "sensitive"}),
    # lisocabtagene maraleucel label (2024): CLL after BTK and BCL2 inhibitors
    ("cll_double_refractory_car_t", ["BTK C481S", "BCL2 G101V"], "CLL",
     {"lisocabtagene maraleucel": "sensitive", "venetoclax": RES}),
    # nivolumab (2016) and pembrolizumab (2017) cHL labels; 9p24.1 gain
    ("chl_9p24", ["JAK2 amplification"], "Hodgkin lymphoma",
     {"nivolumab": "sensitive", "pembrolizumab": "sensitive"}),
    # --- B-ALL: antigen escape (Orlando 2018 DOI 10.1038/s41591-018-0146-z; Sotillo 2015
    # PMID 26516065); TOWER (PMID 28249141); ELIANA (PMID 29385370) ------------------------
    ("ball_cd19_loss", ["CD19 loss"], "B-ALL",
     {"blinatumomab": RES, "tisagenlecleucel": RES, "inotuzumab ozogamicin": "sensitive"}),
    ("ball_cd19_pos", ["CD19 expression"], "B-ALL",
     {"blinatumomab": "sensitive", "obecabtagene autoleucel": "sensitive"}),
    ("ball_cd22_pos", ["CD22 expression"], "B-ALL", {"inotuzumab ozogamicin": "sensitive"}),
    ("ball_cd22_loss", ["CD22 loss"], "B-ALL",
     {"inotuzumab ozogamicin": RES, "blinatumomab": "sensitive"}),
    ("ph_all_cd22_pos", ["BCR::ABL1", "CD22 expression"], "Ph+ ALL",
     {"inotuzumab ozogamicin": "sensitive", "imatinib": "sensitive"}),
    ("ph_all_cd19_loss", ["BCR::ABL1", "CD19 loss"], "Ph+ ALL", {"blinatumomab": RES}),
    # --- myeloma: antigen escape (Lee 2023 PMID 37653344); MonumenTAL-1 (PMID 36507686) ----
    ("mm_bcma_loss", ["BCMA loss"], "multiple myeloma",
     {"teclistamab": RES, "idecabtagene vicleucel": RES, "talquetamab": "sensitive"}),
    ("mm_bcma_mutation", ["TNFRSF17 R27P"], "multiple myeloma",
     {"teclistamab": RES, "elranatamab": RES}),
    ("mm_gprc5d_loss", ["GPRC5D loss"], "multiple myeloma",
     {"talquetamab": RES, "teclistamab": "sensitive"}),
    # --- GIST and other solid tumours in this area -----------------------------------------
    # NCCN GIST: SDH-deficient GIST is imatinib-insensitive; sunitinib/regorafenib options
    ("gist_sdhb", ["SDHB loss"], "GIST", {"imatinib": RES, "sunitinib": "sensitive"}),
    # Carvajal 2011 (PMID 21642685): KIT amplification alone rarely responds
    ("melanoma_kit_amp", ["KIT amplification"], "melanoma", {"imatinib": RES}),
    # imatinib label: dermatofibrosarcoma protuberans (COL1A1::PDGFB)
    ("dfsp_pdgfb", ["COL1A1::PDGFB"], "solid tumour", {"imatinib": "sensitive"}),
    # tazemetostat label (2020): epithelioid sarcoma (INI1 loss)
    ("epithelioid_sarcoma", ["SMARCB1 loss"], "solid tumour", {"tazemetostat": "sensitive"}),
    # --- mismatch-repair deficiency (Le 2017 PMID 28596308; CheckMate 142 PMID 29355075) -----
    ("crc_mlh1", ["MLH1 loss"], "CRC",
     {"nivolumab + ipilimumab": "sensitive", "pembrolizumab": "sensitive"}),
    ("solid_msh2", ["MSH2 loss"], "solid tumour", {"dostarlimab": "sensitive"}),
    # RUBY / DUO-E and the dostarlimab (2023) and durvalumab (2024) endometrial labels
    ("ucec_msi", ["MSI-high"], "endometrial cancer",
     {"carboplatin + dostarlimab + paclitaxel": "sensitive",
      "carboplatin + durvalumab + paclitaxel": "sensitive"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("alterations", "disease", "expected"),
    [pytest.param(alts, disease, expected, id=name) for name, alts, disease, expected in CASES],
)
def test_literature_case(alterations, disease, expected):
    result = interpret(alterations, drugs=list(expected), disease=disease)
    got = {d.drug: d.verdict for d in result.drugs}
    for drug, want in expected.items():
        key = result.verdict(drug).drug
        if want == RES:
            assert got[key] in ("resistant", "reduced_response"), (drug, got[key])
        else:
            assert got[key] == want, (drug, got[key])


def test_the_cases_cover_enough_drugs_and_cases():
    drugs = {drug for *_, expected in CASES for drug in expected}
    assert len(CASES) >= 50
    assert len(drugs) >= 15


def test_guideline_preferred_regimens_rank_first():
    # APL0406 (PMID 23841729): tretinoin + arsenic trioxide is the chemotherapy-free standard
    apl = interpret(["PML::RARA"], disease="AML")
    assert apl.options[0].drug == "arsenic trioxide + tretinoin" and apl.options[0].preferred
    # RATIFY (PMID 28644114) and QuANTUM-First (PMID 37116523): FLT3 inhibitor with induction
    flt3 = interpret(["NPM1 W288fs", "FLT3 ITD"], disease="AML")
    first_two = {o.drug for o in flt3.options[:2]}
    assert first_two == {
        "cytarabine + daunorubicin + midostaurin",
        "cytarabine + daunorubicin + quizartinib",
    }
