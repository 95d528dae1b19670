"""Invariants of parsing and interpretation, checked with hypothesis."""

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from oncoresist.interpret import interpret
from oncoresist.variants import parse_alteration
from oncoresist.variants._parse import THREE_TO_ONE

ONE_TO_THREE = {v: k.capitalize() for k, v in THREE_TO_ONE.items() if v not in "*UX"}
AMINO = sorted(ONE_TO_THREE)

POOL = [
    "EGFR L858R", "EGFR T790M", "EGFR C797S", "MET amplification", "ERBB2 amplification",
    "KRAS G12C", "BRAF V600E", "EML4::ALK", "ALK G1202R", "transformation:SCLC",
    "PIK3CA H1047R", "TP53 R273H",
]  # fmt: skip


@given(ref=st.sampled_from(AMINO), alt=st.sampled_from(AMINO), pos=st.integers(1, 3000))
def test_one_and_three_letter_forms_agree(ref, alt, pos):
    one = parse_alteration(f"EGFR {ref}{pos}{alt}")
    three = parse_alteration(f"EGFR p.({ONE_TO_THREE[ref]}{pos}{ONE_TO_THREE[alt]})")
    assert one == three
    assert parse_alteration(one.label) == one


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(POOL), min_size=1, max_size=5, unique=True), st.randoms())
def test_order_of_alterations_does_not_matter(alterations, rnd):
    shuffled = list(alterations)
    rnd.shuffle(shuffled)
    a = interpret(alterations, disease="NSCLC")
    b = interpret(shuffled, disease="NSCLC")
    assert {d.drug: d.verdict for d in a.drugs} == {d.drug: d.verdict for d in b.drugs}
    assert [o.drug for o in a.options] == [o.drug for o in b.options]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(POOL[:-1]), min_size=1, max_size=4, unique=True))
def test_an_unmatched_passenger_changes_nothing(alterations):
    base = interpret(alterations, disease="NSCLC")
    more = interpret([*alterations, "TP53 R273H"], disease="NSCLC")
    assert {d.drug: d.verdict for d in base.drugs} == {d.drug: d.verdict for d in more.drugs}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(POOL), min_size=1, max_size=4, unique=True))
def test_options_are_never_resisted(alterations):
    r = interpret(alterations, disease="NSCLC")
    verdicts = {d.drug: d for d in interpret(alterations, disease="NSCLC").drugs}
    for option in r.options:
        if option.condition is None:
            assert verdicts[option.drug].verdict == "sensitive"


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.builds(
            lambda g, c: f"{g} {c}",
            st.sampled_from(["EGFR", "HER2", "ALK", "BCR::ABL1", "EML4-ALK", "NF1", "2-Sep"]),
            st.text(alphabet="ACDEFGHIKLMNPQRSTVWY0123456789_*.:()delinsfupx -", max_size=20),
        ),
    )
)
def test_any_text_parses_or_raises_input_error(text):
    from oncoresist.errors import InputError

    with contextlib.suppress(InputError):
        parse_alteration(text)
