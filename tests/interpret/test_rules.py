"""The interpretation rules on a small fixture knowledge base, independent of curation."""

import pytest

from oncoresist.errors import InputError, UnknownDiseaseError, UnknownDrugError
from oncoresist.interpret import interpret
from oncoresist.variants import parse_alteration


def run(kb, alts, **kw):
    return interpret(alts, kb=kb, **kw)


def verdicts(result):
    return {d.drug: d.verdict for d in result.drugs}


def test_gatekeeper_and_class_expansion(fixture_kb):
    r = run(fixture_kb, ["EGFR L858R", "EGFR T790M"], disease="NSCLC")
    v = verdicts(r)
    assert v["alpha"] == "resistant"
    assert v["beta"] == "resistant"
    assert v["gamma"] == "sensitive"
    assert r.primary_driver == ["EGFR"]
    assert r.verdict("alpha").evidence == "A"
    assert next(o.drug for o in r.options) == "gamma"


def test_phase_cis_leaves_nothing(fixture_kb):
    alts = ["EGFR L858R", "EGFR T790M", "EGFR C797S"]
    r = run(
        fixture_kb,
        alts,
        disease="NSCLC",
        drugs=["alpha", "gamma", "alpha + gamma"],
        phase=[("EGFR T790M", "EGFR C797S", "cis")],
    )
    assert set(verdicts(r).values()) == {"resistant"}
    combo = r.verdict("alpha + gamma")
    assert any(x.assertion == "f-cis" and x.role == "decisive" for x in combo.reasons)
    assert r.phase[0].relation == "cis" and r.phase[0].source == "given"
    assert not [o for o in r.options if o.drug == "alpha + gamma"]


def test_phase_trans_combination_works(fixture_kb):
    r = run(
        fixture_kb,
        ["EGFR L858R", "EGFR T790M", "EGFR C797S"],
        disease="NSCLC",
        drugs=["alpha", "gamma", "alpha + gamma"],
        phase=[("EGFR C797S", "EGFR T790M", "trans")],
    )
    v = verdicts(r)
    assert v == {"alpha": "resistant", "gamma": "resistant", "alpha + gamma": "sensitive"}
    assert r.options[0].drug == "alpha + gamma"
    assert r.options[0].condition is None


def test_unknown_phase_gives_both_readings(fixture_kb):
    r = run(
        fixture_kb,
        ["EGFR L858R", "EGFR T790M", "EGFR C797S"],
        disease="NSCLC",
        drugs=["alpha + gamma"],
    )
    combo = r.verdict("alpha + gamma")
    assert combo.phase_readings == {"cis": "resistant", "trans": "sensitive"}
    assert combo.verdict == "resistant"
    assert "unknown" in combo.notes[0]
    conditional = [o for o in r.options if o.drug == "alpha + gamma"]
    assert conditional and conditional[0].condition == "only if the alterations are in trans"


def test_phase_from_input_phase_sets(fixture_kb):
    t790m = parse_alteration("EGFR T790M", kb=fixture_kb).model_copy(
        update={"phase_set": "ps1", "haplotype": 1}
    )
    c797s_cis = parse_alteration("EGFR C797S", kb=fixture_kb).model_copy(
        update={"phase_set": "ps1", "haplotype": 1}
    )
    c797s_trans = c797s_cis.model_copy(update={"haplotype": 0})
    cis = run(fixture_kb, [t790m, c797s_cis], disease="NSCLC", drugs=["alpha + gamma"])
    trans = run(fixture_kb, [t790m, c797s_trans], disease="NSCLC", drugs=["alpha + gamma"])
    assert cis.drugs[0].verdict == "resistant" and cis.phase[0].source == "input"
    assert trans.drugs[0].verdict == "sensitive" and trans.phase[0].relation == "trans"
    # a given relation overrides the input's phase
    given = run(
        fixture_kb,
        [t790m, c797s_trans],
        disease="NSCLC",
        drugs=["alpha + gamma"],
        phase=[("EGFR T790M", "EGFR C797S", "cis")],
    )
    assert given.drugs[0].verdict == "resistant"


def test_class_exception(fixture_kb):
    r = run(fixture_kb, ["EML4::ALK", "ALK G1202R"], disease="NSCLC")
    v = verdicts(r)
    assert v["kappa one"] == v["kappa two"] == "resistant"
    assert v["kappa four"] == "sensitive"
    assert [o.drug for o in r.options] == ["kappa four"]


def test_compound_overrides_single(fixture_kb):
    r = run(fixture_kb, ["EML4::ALK", "ALK C1156Y", "ALK L1198F"], disease="NSCLC")
    v = verdicts(r)
    assert v["kappa one"] == "sensitive"  # re-sensitised by the compound
    assert v["kappa four"] == "resistant"  # L1198F alone
    over = r.verdict("kappa one").disagreements
    assert over and over[0].assertion == "f-c1156y"
    assert "compound" in over[0].why_overridden


def test_bypass_needs_the_driver(fixture_kb):
    with_driver = run(fixture_kb, ["EGFR L858R", "MET amplification"], disease="NSCLC")
    v = verdicts(with_driver)
    assert v["gamma"] == "resistant"
    assert v["gamma + metinib"] == "sensitive"
    assert "metinib" not in v  # MET is not the primary driver here
    assert with_driver.options[0].drug == "gamma + metinib"
    assert with_driver.options[0].unaddressed == []
    reason = with_driver.verdict("gamma").reasons[0]
    assert reason.mechanism == "bypass" and reason.driver == "EGFR"

    alone = run(fixture_kb, ["MET amplification"], disease="NSCLC", drugs=["gamma", "metinib"])
    assert verdicts(alone) == {"gamma": "no_known_effect", "metinib": "sensitive"}
    assert alone.primary_driver == ["MET"]


def test_explicit_driver_overrides_inference(fixture_kb):
    r = run(fixture_kb, ["MET amplification"], disease="NSCLC", drugs=["gamma"], driver="EGFR")
    assert r.drugs[0].verdict == "resistant"


def test_disease_context(fixture_kb):
    mel = run(fixture_kb, ["BRAF V600E"], disease="melanoma", drugs=["rafinib"])
    crc = run(fixture_kb, ["BRAF V600E"], disease="colorectal cancer", drugs=["rafinib"])
    assert mel.drugs[0].verdict == "sensitive"
    assert crc.drugs[0].verdict == "resistant"
    assert crc.drugs[0].disagreements[0].role == "other_disease"
    assert crc.options[0].drug == "antibodymab + rafinib"
    # OncoTree code and sub-type resolve to the same context
    assert (
        run(fixture_kb, ["BRAF V600E"], disease="COADREAD", drugs=["rafinib"]).drugs[0].verdict
        == "resistant"
    )
    assert (
        run(fixture_kb, ["BRAF V600E"], disease="SKCM", drugs=["rafinib"])
        .drugs[0]
        .reasons[0]
        .disease_match
        == "broader"
    )


def test_other_disease_evidence_never_decides(fixture_kb):
    r = run(fixture_kb, ["BRAF V600E"], disease="NSCLC", drugs=["rafinib"])
    assert r.drugs[0].verdict == "no_known_effect"
    assert {d.role for d in r.drugs[0].disagreements} == {"other_disease"}


def test_no_disease_strongest_evidence_wins_and_disagreement_shown(fixture_kb):
    r = run(fixture_kb, ["BRAF V600E"], drugs=["rafinib"])
    d = r.drugs[0]
    assert d.verdict == "sensitive" and d.evidence == "A"
    assert d.disagreements[0].assertion == "f-v600e-crc"
    assert "stronger evidence" in d.disagreements[0].why_overridden


def test_specific_biomarker_beats_general(fixture_kb):
    fqea = run(fixture_kb, ["EGFR A763_Y764insFQEA"], disease="NSCLC", drugs=["alpha"])
    svd = run(fixture_kb, ["EGFR D770_N771insSVD"], disease="NSCLC", drugs=["alpha"])
    assert fqea.drugs[0].verdict == "sensitive"
    assert svd.drugs[0].verdict == "resistant"
    assert "more specific" in fqea.drugs[0].disagreements[0].why_overridden
    mek = run(fixture_kb, ["BRAF V600E"], disease="melanoma", drugs=["mekinib"])
    assert mek.drugs[0].verdict == "sensitive"
    assert (
        run(fixture_kb, ["BRAF V600K"], disease="melanoma", drugs=["mekinib"]).drugs[0].verdict
        == "reduced_response"
    )


def test_exon_level_input_matches_exon_rules_only(fixture_kb):
    r = run(fixture_kb, ["EGFR exon 19 deletion"], disease="NSCLC", drugs=["alpha"])
    assert r.drugs[0].verdict == "sensitive"
    r = run(fixture_kb, ["EGFR E746_A750del"], disease="NSCLC", drugs=["alpha"])
    assert r.drugs[0].reasons[0].match == "exon"


def test_phenotype_with_driver(fixture_kb):
    r = run(fixture_kb, ["EGFR L858R", "transformation:SCLC"], disease="NSCLC", drugs=["gamma"])
    assert r.drugs[0].verdict == "resistant"
    assert r.drugs[0].reasons[0].mechanism == "phenotypic"


def test_synonyms_and_unknown_names(fixture_kb):
    r = run(fixture_kb, ["EGFR T790M"], disease="NSCLC", drugs=["ALPHA-1", "GMA-9 + Alphatrade"])
    assert [d.drug for d in r.drugs] == ["alpha", "alpha + gamma"]
    with pytest.raises(UnknownDrugError):
        run(fixture_kb, ["EGFR T790M"], drugs=["nonexistib"])
    with pytest.raises(UnknownDiseaseError):
        run(fixture_kb, ["EGFR T790M"], disease="moon cancer")
    with pytest.raises(InputError, match="cis or trans"):
        run(fixture_kb, ["EGFR T790M"], phase=[("EGFR T790M", "EGFR C797S", "same")])


def test_dataframe_input_and_tidy_output(fixture_kb):
    import pandas as pd

    frame = pd.DataFrame(
        {"gene": ["EGFR", "HER1"], "alteration": ["L858R", "p.Thr790Met"], "vaf": [0.4, 0.1]}
    )
    r = run(fixture_kb, frame, disease="NSCLC", drugs=["alpha"])
    assert r.alterations == ["EGFR L858R", "EGFR T790M"]
    tidy = r.to_frame()
    assert set(tidy["drug"]) == {"alpha"}
    assert {"verdict", "alteration", "evidence", "references"} <= set(tidy.columns)
    doc = r.to_dict(case="c1")
    assert doc["case"] == "c1" and doc["drugs"][0]["verdict"] == "resistant"


def test_unmatched_alterations_are_noted(fixture_kb):
    r = run(fixture_kb, ["EGFR L858R", "TP53 R273H"], disease="NSCLC")
    assert any("TP53 R273H" in n for n in r.notes)


def test_no_driver_note(fixture_kb):
    r = run(fixture_kb, ["transformation:SCLC"], disease="NSCLC")
    assert any("primary driver" in n for n in r.notes)


def test_without_disease_specificity_is_compared_within_one_disease(fixture_kb):
    # rafinib: exact V600E in CRC (B, resistant) vs exact V600E in melanoma (A, sensitive);
    # mekinib: codon V600 in solid tumours (E) vs exact V600E in melanoma (B)
    r = run(fixture_kb, ["BRAF V600E"], drugs=["rafinib", "mekinib"])
    assert verdicts(r) == {"rafinib": "sensitive", "mekinib": "sensitive"}


def test_agreeing_single_evidence_is_kept_beside_the_compound(fixture_kb):
    r = run(
        fixture_kb,
        ["EGFR L858R", "EGFR T790M", "EGFR C797S"],
        disease="NSCLC",
        drugs=["gamma"],
        phase=[("EGFR T790M", "EGFR C797S", "cis")],
    )
    gamma = r.drugs[0]
    assert gamma.verdict == "resistant"
    assert {x.assertion for x in gamma.reasons if x.role == "decisive"} == {"f-cis", "f-c797s"}
    assert gamma.evidence == "B"


def test_escape_alterations_listed_for_incomplete_options(fixture_kb):
    r = run(fixture_kb, ["EGFR L858R", "EGFR T790M", "MET amplification"], disease="NSCLC")
    by_drug = {o.drug: o for o in r.options}
    assert by_drug["gamma + metinib"].unaddressed == []
    assert r.options[0].drug == "gamma + metinib"
