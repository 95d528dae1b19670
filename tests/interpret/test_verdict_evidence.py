"""Honest verdicts on the shipped knowledge base (issue 18): the evidence a verdict needs,
combinations judged drug by drug, approval status, and what a missing disease or driver
leaves unsaid."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import oncoresist
from oncoresist.cli import app

TRANS = [("EGFR T790M", "EGFR C797S", "trans")]


def test_a_combination_that_needs_a_preclinical_rationale_is_not_level_a():
    # L858R is level A for gefitinib, but gefitinib + osimertinib covers C797S in trans with
    # T790M only through a preclinical (D) rationale: the verdict needs both.
    r = oncoresist.interpret(
        ["EGFR L858R", "EGFR T790M", "EGFR C797S"],
        drugs=["gefitinib + osimertinib"],
        disease="NSCLC",
        phase=TRANS,
    )
    v = r.verdict("gefitinib + osimertinib")
    assert v.verdict == "sensitive"
    assert {x.evidence for x in v.reasons if x.role == "decisive"} >= {"A", "D"}
    assert v.evidence == "D"
    option = next(o for o in r.options if o.drug == "gefitinib + osimertinib")
    assert option.evidence == "D"


def test_a_resistant_verdict_rests_on_its_strongest_defeating_alteration():
    r = oncoresist.interpret(["EGFR L858R", "EGFR T790M"], drugs=["gefitinib"], disease="NSCLC")
    v = r.verdict("gefitinib")
    assert v.verdict == "resistant"
    assert v.evidence == "A"


def test_a_partner_that_targets_the_bypass_answers_it():
    # MET amplification defeats lazertinib (bypass); amivantamab binds MET, so the
    # combination is not resistant through its partner alone, and says the cover is inferred.
    r = oncoresist.interpret(
        ["EGFR L858R", "MET amplification"],
        drugs=["lazertinib", "amivantamab + lazertinib"],
        disease="NSCLC",
    )
    assert r.verdict("lazertinib").verdict == "resistant"
    combo = r.verdict("amivantamab + lazertinib")
    assert combo.verdict == "sensitive"
    assert combo.evidence == "E"
    inferred = [x for x in combo.reasons if x.alteration == "MET amplification"]
    assert inferred and inferred[0].via == "amivantamab"
    assert "inferred" in inferred[0].summary


def test_a_partner_that_does_not_target_the_bypass_does_not_answer_it():
    r = oncoresist.interpret(
        ["EGFR L858R", "MET amplification"],
        drugs=["carboplatin + osimertinib + pemetrexed"],
        disease="NSCLC",
    )
    assert r.verdict("carboplatin + osimertinib + pemetrexed").verdict == "resistant"


def test_a_withdrawn_drug_is_flagged_everywhere_and_ranked_below_approved_equals():
    r = oncoresist.interpret(["EGFR A767_V769dup"], disease="NSCLC")
    mobo = next(o for o in r.options if o.drug == "mobocertinib")
    assert mobo.status and "approval withdrawn" in mobo.status
    assert mobo.why.startswith("mobocertinib: approval withdrawn")
    # approved options standing as well (no condition, nothing unaddressed) come first,
    # whatever their evidence
    approved = [
        o for o in r.options if o.status is None and o.condition is None and not o.unaddressed
    ]
    assert approved, "approved options exist in this case"
    order = [o.drug for o in r.options]
    assert all(order.index(o.drug) < order.index("mobocertinib") for o in approved)
    verdict = r.verdict("mobocertinib")
    assert verdict.status == mobo.status and mobo.status in verdict.notes
    frame = r.to_frame()
    assert set(frame.loc[frame.drug == "mobocertinib", "status"]) == {mobo.status}
    assert set(frame.loc[frame.drug == "amivantamab", "status"]) == {""}


def test_without_a_disease_a_disagreement_across_diseases_is_said():
    r = oncoresist.interpret(["BRAF V600E"], drugs=["vemurafenib"])
    note = next(n for n in r.notes if n.startswith("no disease given"))
    assert "colorectal" in note and "melanoma" in note
    assert note in r.verdict("vemurafenib").notes
    assert note in r.to_frame()["notes"].iloc[0]
    given = oncoresist.interpret(["BRAF V600E"], drugs=["vemurafenib"], disease="melanoma")
    assert not any(n.startswith("no disease given") for n in given.notes)


def test_an_alteration_set_aside_for_its_driver_is_said_and_spoils_clean_options():
    r = oncoresist.interpret(["EGFR L858R", "EGFR T790M", "MET exon 14 skipping"], disease="NSCLC")
    note = next(n for n in r.notes if n.startswith("MET exon 14 skipping"))
    assert "primary driver here is EGFR" in note
    assert not any(n.startswith("no knowledge-base assertion matches MET") for n in r.notes)
    osimertinib = next(o for o in r.options if o.drug == "osimertinib")
    assert "MET exon 14 skipping" in osimertinib.unaddressed
    assert "no alteration found that defeats it" not in osimertinib.why


@pytest.mark.parametrize("fmt", ["table", "json", "tsv"])
def test_every_output_format_carries_the_disease_caveat(fmt):
    result = CliRunner().invoke(
        app, ["interpret", "-a", "BRAF V600E", "-d", "vemurafenib", "--format", fmt]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    if fmt == "json":
        notes = json.loads(result.output)["notes"]
        assert any("no disease given" in n and "colorectal" in n for n in notes)
    else:
        assert "no disease given" in text and "colorectal" in text


def test_clinical_tiers_follow_the_verdict_evidence_rule():
    r = oncoresist.interpret(
        ["EGFR L858R", "EGFR T790M"], drugs=["osimertinib", "gefitinib"], disease="LUAD"
    )
    osi, gef = r.verdict("osimertinib"), r.verdict("gefitinib")
    assert (osi.amp_tier, osi.escat) == ("Tier I, level A", "I")
    assert (gef.amp_tier, gef.escat) == ("Tier I, level A", None)  # ESCAT ranks targets only
    # no disease: the tumour type is unknown, so tiers are capped
    blind = oncoresist.interpret(["EGFR L858R", "EGFR T790M"], drugs=["osimertinib"])
    assert (blind.verdict("osimertinib").amp_tier, blind.verdict("osimertinib").escat) == (
        "Tier II, level C",
        "III-A",
    )
    # a combination needing a preclinical (D) rationale is tiered by it, not by L858R's A
    combo = oncoresist.interpret(
        ["EGFR L858R", "EGFR T790M", "EGFR C797S"],
        drugs=["gefitinib + osimertinib"],
        disease="NSCLC",
        phase=TRANS,
    ).verdict("gefitinib + osimertinib")
    assert (combo.amp_tier, combo.escat) == ("Tier II, level D", "IV-A")
    frame = r.to_frame()
    assert set(frame.loc[frame.drug == "osimertinib", "amp_tier"]) == {"Tier I, level A"}
    option = next(o for o in r.options if o.drug == "osimertinib")
    assert (option.amp_tier, option.escat) == ("Tier I, level A", "I")


def test_a_brca_reversion_defeats_parp_inhibitors_and_platinum():
    # the original frameshift makes olaparib work; the reversion restores BRCA2
    r = oncoresist.interpret(
        ["BRCA2 S1982fs", "BRCA2 reversion"], drugs=["olaparib", "carboplatin"], disease="HGSOC"
    )
    for drug in ("olaparib", "carboplatin"):
        v = r.verdict(drug)
        assert v.verdict == "resistant", drug
        assert any(x.alteration == "BRCA2 reversion" and x.role == "decisive" for x in v.reasons)
    alone = oncoresist.interpret(["BRCA2 S1982fs"], drugs=["olaparib"], disease="HGSOC")
    assert alone.verdict("olaparib").verdict == "sensitive"
    # a reversion pattern is matched only by a reversion, never by "any BRCA2 mutation"
    from oncoresist.interpret._match import match_specificity
    from oncoresist.variants import parse_alteration

    reversion, mutation = parse_alteration("BRCA2 reversion"), parse_alteration("BRCA2 mutation")
    assert match_specificity(reversion, mutation) == 0
    assert match_specificity(reversion, parse_alteration("BRCA2 reversion mutation")) == 4


def test_hrd_is_read_and_judged():
    r = oncoresist.interpret(["homologous recombination deficiency"], disease="ovarian")
    assert r.alterations == ["HRD"]
    assert r.verdict("niraparib").verdict == "sensitive"
    assert r.verdict("niraparib").evidence == "A"


def test_any_oncotree_type_is_judged_in_its_nearest_knowledge_base_context():
    r = oncoresist.interpret(["KRAS G12C"], disease="CCLC")  # clear cell carcinoma of lung
    assert r.disease == "NSCLC"
    assert any("CCLC > LCLC > NSCLC" in n for n in r.notes)
    named = oncoresist.interpret(["KRAS G12C"], disease="Adenoid Cystic Carcinoma")
    assert named.disease == "solid" and any("pan-tumour context solid" in n for n in named.notes)
    direct = oncoresist.interpret(["KRAS G12C"], disease="LUAD")
    assert not any("OncoTree" in n for n in direct.notes)
    with pytest.raises(Exception, match="did you mean colorectal cancer"):
        oncoresist.interpret(["KRAS G12C"], disease="colorectl")
