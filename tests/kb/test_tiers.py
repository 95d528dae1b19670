"""AMP/ASCO/CAP tiers and ESCAT levels derived from evidence, disease match and effect."""

from __future__ import annotations

import itertools
from pathlib import Path
from types import SimpleNamespace

import pytest

from oncoresist.errors import InputError
from oncoresist.kb._tiers import (
    amp_tier,
    clinical_tiers,
    escat_tier,
    relation,
    verdict_tiers,
)

MATCHES = ("exact", "broader", "narrower", "any", "unspecified", "other")


@pytest.mark.parametrize(
    ("evidence", "match", "expected"),
    [
        ("A", "exact", ("I", "A")),
        ("B", "exact", ("I", "B")),
        ("A", "broader", ("I", "A")),  # NSCLC assertion for a LUAD patient
        ("A", "any", ("I", "A")),  # tissue-agnostic assertion
        ("A", "other", ("II", "C")),  # approved in another tumour type
        ("B", "unspecified", ("II", "C")),  # no disease given: never Tier I
        ("A", "narrower", ("II", "C")),  # a subtype the patient may not have
        ("C", "exact", ("II", "C")),
        ("C", "other", ("II", "D")),
        ("D", "exact", ("II", "D")),
        ("E", "exact", ("III", None)),
    ],
)
def test_amp_tier_hand_table(evidence, match, expected):
    assert amp_tier(evidence, match, "sensitive") == expected


def test_amp_applies_to_resistance_as_to_response():
    # Li et al. 2017: level A covers "response or resistance" to approved therapies.
    assert amp_tier("A", "exact", "resistant") == ("I", "A")
    assert amp_tier("B", "other", "reduced_response") == ("II", "C")


@pytest.mark.parametrize(
    ("evidence", "match", "expected"),
    [
        ("A", "exact", "I"),
        ("A", "any", "I-C"),
        ("B", "exact", "II"),
        ("C", "broader", "II"),
        ("A", "other", "III-A"),
        ("B", "unspecified", "III-A"),
        ("D", "exact", "IV-A"),
        ("E", "other", "IV-B"),
    ],
)
def test_escat_hand_table(evidence, match, expected):
    assert escat_tier(evidence, match, "sensitive") == expected


@pytest.mark.parametrize("effect", ["resistant", "reduced_response"])
def test_escat_has_no_level_for_resistance(effect):
    assert escat_tier("A", "exact", effect) is None
    tiers = clinical_tiers("A", "exact", effect)
    assert tiers.escat is None
    assert "resistance" in tiers.note


def test_weaker_evidence_never_gets_a_better_tier():
    """Property: for a fixed disease relation, lowering the CIViC level never raises a tier."""
    order = {("I", "A"): 6, ("I", "B"): 5, ("II", "C"): 4, ("II", "D"): 3, ("III", None): 1}
    escat_order = {"I-C": 7, "I": 7, "II": 5, "III-A": 4, "IV-A": 2, "IV-B": 1}
    for match in MATCHES:
        amp = [order[amp_tier(e, match, "sensitive")] for e in "ABCDE"]
        esc = [escat_order[escat_tier(e, match, "sensitive")] for e in "ABCDE"]
        assert amp == sorted(amp, reverse=True), match
        assert esc == sorted(esc, reverse=True), match


def test_other_disease_never_tier_one():
    for evidence, match in itertools.product("ABCDE", ("other", "unspecified", "narrower")):
        assert amp_tier(evidence, match, "sensitive")[0] != "I"
        assert escat_tier(evidence, match, "sensitive") not in ("I", "I-C", "II")


def test_labels_and_notes():
    t = clinical_tiers("B", "unspecified", "sensitive")
    assert t.amp == "Tier II, level C"
    assert t.relation == "unknown"
    assert "no disease given" in t.note
    assert clinical_tiers("E", "exact", "sensitive").amp == "Tier III"
    assert clinical_tiers("A", "exact", "sensitive").note is None


def test_as_dict_for_tables():
    row = clinical_tiers("D", "other", "resistant").as_dict()
    assert row == {
        "amp_tier": "Tier II, level D",
        "escat": None,
        "tier_relation": "other",
        "tier_note": "ESCAT ranks therapeutic targets; it has no level for resistance",
    }


def test_relation_names():
    assert relation("broader") == "same"
    assert relation("any") == "pan_tumour"
    assert relation("same") == "same"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: amp_tier("F", "exact", "sensitive"), "evidence"),
        (lambda: amp_tier("A", "exact", "sensitised"), "effect"),
        (lambda: escat_tier("A", "lung", "sensitive"), "disease_match"),
    ],
)
def test_bad_input_names_the_field(call, field):
    with pytest.raises(InputError) as info:
        call()
    assert info.value.field == field


def _reason(evidence, match="exact", effect="sensitive", role="decisive"):
    return SimpleNamespace(evidence=evidence, disease_match=match, effect=effect, role=role)


def test_verdict_tier_is_that_of_its_weakest_decisive_reason():
    # T790M/C797S in trans: L858R is A but the trans rationale is D; the verdict is Tier II-D.
    reasons = [_reason("A"), _reason("D")]
    t = verdict_tiers(reasons, effect="sensitive")
    assert (t.amp_tier, t.amp_level, t.escat) == ("II", "D", "IV-A")


def test_verdict_tier_ignores_overridden_and_weaker_supporting_reasons():
    reasons = [
        _reason("A"),
        _reason("E", role="supporting"),
        _reason("C", role="overridden"),
        _reason("D", role="other_disease", match="other"),
        _reason("E", effect="resistant"),
    ]
    t = verdict_tiers(reasons, effect="sensitive")
    assert t.amp == "Tier I, level A"


def test_verdict_tier_falls_back_to_supporting_and_none_without_reasons():
    assert verdict_tiers([_reason("B", role="supporting")]).amp == "Tier I, level B"
    assert verdict_tiers([]) is None
    assert verdict_tiers([_reason("A", role="overridden")]) is None


def test_verdict_tiers_on_a_real_interpretation():
    from oncoresist.interpret import interpret
    from oncoresist.kb import load_kb

    kb = load_kb(Path(__file__).parents[1] / "interpret" / "kb_fixture")
    result = interpret(["EGFR L858R"], disease="LUAD", kb=kb)
    verdict = result.verdict("gamma")  # the fixture's third-generation TKI
    t = verdict_tiers(verdict.reasons, effect=verdict.verdict)
    # L858R, evidence A for NSCLC, read for a LUAD patient (a broader assertion): Tier I-A.
    assert (t.amp, t.escat) == ("Tier I, level A", "I")
    # In melanoma the NSCLC assertions are about another tumour type: never Tier I.
    other = interpret(["EGFR L858R"], disease="melanoma", kb=kb)
    for v in other.drugs:
        t = verdict_tiers(v.reasons, effect=v.verdict)
        assert t is None or t.amp_tier != "I"


def test_a_resistant_verdict_takes_its_best_defeating_alteration():
    # two alterations each defeat the drug: one suffices, so the stronger one tiers it
    def r(alteration, evidence):
        return SimpleNamespace(alteration=alteration, evidence=evidence, disease_match="exact",
                               effect="resistant", role="decisive")  # fmt: skip

    t = verdict_tiers([r("EGFR T790M", "A"), r("MET amplification", "C")], effect="resistant")
    assert t.amp == "Tier I, level A"
    # the same alteration's two agreeing reasons: either suffices
    s = verdict_tiers(
        [SimpleNamespace(alteration="x", evidence=e, disease_match="exact", effect="sensitive",
                         role="decisive") for e in ("D", "A")],
        effect="sensitive",
    )  # fmt: skip
    assert s.amp == "Tier I, level A"
