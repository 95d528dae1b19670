"""Literature cases on the shipped knowledge base: what a tumour board expects to hear."""

import pytest

from oncoresist.interpret import interpret

RES = {"resistant", "reduced_response"}


def v(alts, drugs, disease, **kw):
    result = interpret(alts, drugs=drugs, disease=disease, **kw)
    return {d.drug: d.verdict for d in result.drugs}, result


def test_t790m_after_first_generation():
    verdict, r = v(
        ["EGFR L858R", "EGFR T790M"], ["gefitinib", "erlotinib", "afatinib", "osimertinib"], "NSCLC"
    )
    assert verdict["gefitinib"] == verdict["erlotinib"] == verdict["afatinib"] == "resistant"
    assert verdict["osimertinib"] == "sensitive"
    assert r.verdict("osimertinib").evidence == "A"
    assert r.verdict("gefitinib").reasons[0].mechanism == "on_target"


@pytest.mark.parametrize("phase", ["cis", "trans"])
def test_t790m_c797s_phase(phase):
    drugs = ["gefitinib", "erlotinib", "afatinib", "osimertinib", "lazertinib",
             "gefitinib + osimertinib", "erlotinib + osimertinib"]  # fmt: skip
    verdict, _ = v(
        ["EGFR exon 19 deletion", "EGFR T790M", "EGFR C797S"],
        drugs,
        "NSCLC",
        phase=[("EGFR T790M", "EGFR C797S", phase)],
    )
    singles = {verdict[d] for d in drugs[:5]}
    assert singles == {"resistant"}
    combos = {verdict[d] for d in drugs[5:]}
    assert combos == ({"resistant"} if phase == "cis" else {"sensitive"})


def test_c797s_without_t790m_after_first_line_osimertinib():
    verdict, _ = v(["EGFR L858R", "EGFR C797S"], ["osimertinib", "gefitinib"], "NSCLC")
    assert verdict == {"osimertinib": "resistant", "gefitinib": "sensitive"}


def test_alk_g1202r_class_exception():
    drugs = ["crizotinib", "ceritinib", "alectinib", "brigatinib", "lorlatinib"]
    verdict, r = v(["EML4::ALK", "ALK G1202R"], drugs, "NSCLC")
    assert {verdict[d] for d in drugs[:4]} <= RES
    assert verdict["lorlatinib"] == "sensitive"
    assert r.options[0].drug == "lorlatinib"


def test_alk_compounds():
    verdict, _ = v(["EML4::ALK", "ALK C1156Y", "ALK L1198F"], ["crizotinib", "lorlatinib"], "NSCLC")
    assert verdict["crizotinib"] == "sensitive"
    assert verdict["lorlatinib"] in RES
    verdict, _ = v(["EML4::ALK", "ALK G1202R", "ALK L1196M"], ["lorlatinib"], "NSCLC")
    assert verdict["lorlatinib"] in RES


def test_met_amplification_bypass_in_egfr_driven_tumour():
    _, r = v(["EGFR L858R", "MET amplification"], None, "LUAD")
    osi = r.verdict("osimertinib")
    assert osi.verdict == "resistant"
    assert any(x.mechanism == "bypass" and x.alteration == "MET amplification" for x in osi.reasons)
    top = [o.drug for o in r.options[:5]]
    assert any("osimertinib + " in d or " + osimertinib" in d for d in top), top
    assert all(
        set(o.drug.split(" + ")) & {"capmatinib", "tepotinib", "savolitinib", "crizotinib",
                                      "amivantamab"}
        for o in r.options[:1]
    )  # fmt: skip


def test_erbb2_amplification_bypass():
    verdict, _ = v(["EGFR exon 19 deletion", "HER2 amplification"], ["osimertinib"], "NSCLC")
    assert verdict["osimertinib"] in RES


def test_braf_v600e_disease_context():
    mel, _ = v(["BRAF V600E"], ["dabrafenib + trametinib", "vemurafenib"], "melanoma")
    assert mel == {"dabrafenib + trametinib": "sensitive", "vemurafenib": "sensitive"}
    crc, _ = v(["BRAF V600E"], ["vemurafenib", "cetuximab + encorafenib"], "colorectal cancer")
    assert crc["vemurafenib"] in RES
    assert crc["cetuximab + encorafenib"] == "sensitive"


def test_braf_inhibitor_escape_in_melanoma():
    verdict, _ = v(["BRAF V600E", "NRAS Q61K"], ["vemurafenib"], "melanoma")
    assert verdict["vemurafenib"] in RES


def test_kras_g12c_and_its_escapes():
    base, _ = v(["KRAS G12C"], ["sotorasib", "adagrasib"], "NSCLC")
    assert base == {"sotorasib": "sensitive", "adagrasib": "sensitive"}
    y96d, _ = v(["KRAS G12C", "KRAS Y96D"], ["sotorasib", "adagrasib"], "NSCLC")
    assert set(y96d.values()) <= RES
    h95, _ = v(["KRAS G12C", "KRAS H95D"], ["sotorasib", "adagrasib"], "NSCLC")
    assert h95["adagrasib"] in RES and h95["sotorasib"] == "sensitive"


def test_ras_in_colorectal_cancer_defeats_anti_egfr_antibodies():
    verdict, _ = v(["KRAS G12D"], ["cetuximab", "panitumumab"], "CRC")
    assert set(verdict.values()) <= RES
    verdict, _ = v(["NRAS Q61K"], ["cetuximab"], "CRC")
    assert verdict["cetuximab"] in RES


def test_bcr_abl1_t315i():
    drugs = ["imatinib", "dasatinib", "nilotinib", "bosutinib", "ponatinib", "asciminib"]
    verdict, _ = v(["BCR::ABL1", "ABL1 T315I"], drugs, "CML")
    assert {verdict[d] for d in drugs[:4]} == {"resistant"}
    assert verdict["ponatinib"] == verdict["asciminib"] == "sensitive"


def test_kit_and_pdgfra():
    sm, _ = v(["KIT D816V"], ["imatinib", "avapritinib"], "systemic mastocytosis")
    assert sm["imatinib"] in RES and sm["avapritinib"] == "sensitive"
    gist, _ = v(["PDGFRA D842V"], ["imatinib", "avapritinib"], "GIST")
    assert gist["imatinib"] in RES and gist["avapritinib"] == "sensitive"
    kit, _ = v(["KIT exon 11 deletion", "KIT V654A"], ["imatinib", "sunitinib"], "GIST")
    assert kit["imatinib"] in RES and kit["sunitinib"] == "sensitive"


def test_btk_c481s():
    verdict, _ = v(["BTK C481S"], ["ibrutinib", "acalabrutinib", "pirtobrutinib"], "CLL")
    assert verdict["ibrutinib"] == verdict["acalabrutinib"] == "resistant"
    assert verdict["pirtobrutinib"] == "sensitive"


def test_esr1_ligand_binding_domain():
    verdict, _ = v(["ESR1 D538G"], ["letrozole", "elacestrant"], "breast cancer")
    assert verdict["letrozole"] in RES and verdict["elacestrant"] == "sensitive"


def test_ret_ros1_ntrk_solvent_front():
    ret, _ = v(["KIF5B::RET", "RET G810R"], ["selpercatinib", "pralsetinib"], "NSCLC")
    assert set(ret.values()) <= RES
    ros1, _ = v(["CD74::ROS1", "ROS1 G2032R"], ["crizotinib", "repotrectinib"], "NSCLC")
    assert ros1["crizotinib"] in RES and ros1["repotrectinib"] == "sensitive"
    trk, _ = v(["TPM3::NTRK1", "NTRK1 G595R"], ["larotrectinib", "repotrectinib"], "solid tumour")
    assert trk["larotrectinib"] in RES and trk["repotrectinib"] == "sensitive"


def test_flt3_and_idh():
    flt3, _ = v(["FLT3 ITD", "FLT3 D835Y"], ["quizartinib", "gilteritinib"], "AML")
    assert flt3["quizartinib"] in RES and flt3["gilteritinib"] == "sensitive"
    idh, _ = v(["IDH1 R132H"], ["ivosidenib"], "AML")
    assert idh["ivosidenib"] == "sensitive"


def test_histologic_transformation():
    _, r = v(["EGFR L858R", "transformation:SCLC"], None, "NSCLC")
    assert r.verdict("osimertinib").verdict == "resistant"
    assert r.verdict("osimertinib").reasons[0].mechanism == "phenotypic"
    assert "carboplatin + etoposide" in [o.drug for o in r.options]
    verdict, _ = v(["EGFR L858R", "transformation:squamous"], ["osimertinib"], "NSCLC")
    assert verdict["osimertinib"] in RES


def test_immune_checkpoint_biomarkers():
    verdict, _ = v(["B2M loss"], ["pembrolizumab"], "melanoma")
    assert verdict["pembrolizumab"] in RES
    verdict, _ = v(["JAK1 loss"], ["pembrolizumab"], "melanoma")
    assert verdict["pembrolizumab"] in RES
    verdict, _ = v(["MSI-high"], ["pembrolizumab"], "CRC")
    assert verdict["pembrolizumab"] == "sensitive"
    verdict, _ = v(["TMB-high"], ["pembrolizumab"], "solid tumour")
    assert verdict["pembrolizumab"] == "sensitive"


def test_non_genetic_mechanisms():
    verdict, _ = v(["EGFR L858R", "AXL overexpression"], ["erlotinib"], "NSCLC")
    assert verdict["erlotinib"] in RES
    verdict, _ = v(["EGFR L858R", "HGF overexpression"], ["gefitinib"], "NSCLC")
    assert verdict["gefitinib"] in RES


def test_guideline_preferred_first_line_options_rank_first():
    _, r = v(["EGFR exon 19 deletion"], None, "NSCLC")
    assert r.options[0].drug == "osimertinib" and r.options[0].preferred
    assert "crizotinib" not in [o.drug for o in r.options]
    _, r = v(["EML4::ALK"], None, "NSCLC")
    assert {o.drug for o in r.options[:3]} == {"alectinib", "brigatinib", "lorlatinib"}
    assert not next(o for o in r.options if o.drug == "crizotinib").preferred


def test_ar_v7_prefers_a_taxane():
    verdict, _ = v(["AR-V7"], ["enzalutamide", "abiraterone", "docetaxel"], "mCRPC")
    assert verdict["enzalutamide"] in RES and verdict["abiraterone"] in RES
    assert verdict["docetaxel"] == "sensitive"
    verdict, _ = v(["AR amplification"], ["docetaxel"], "prostate cancer")
    assert verdict["docetaxel"] == "no_known_effect"
