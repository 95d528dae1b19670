"""The link from a drug pair to resistance: knowledge-base mechanisms and Bozic 2013.

Known pairs: dabrafenib + trametinib (the MAPK reactivation that escapes BRAF inhibition,
NRAS Q61 and MEK1 mutations, is listed for dabrafenib and the knowledge base says it still
reduces the pair's effect: shared) and osimertinib + capmatinib (MET amplification, a bypass
of osimertinib, is answered by the MET inhibitor). The probabilities follow eq. 1 of Bozic
et al. 2013: hand-computed one-drug values (``1 - exp(-M u n)``), and the order theory
gives (resistance to the pair pre-exists less often than to either drug alone, at any
parameters in the model's range).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from oncoresist.errors import InputError
from oncoresist.synergy._resistance import EvolutionParams, resistance_link


@pytest.fixture(scope="module")
def braf_mek():
    return resistance_link("dabrafenib", "trametinib")


@pytest.fixture(scope="module")
def egfr_met():
    return resistance_link("osimertinib", "capmatinib")


def _row(link, drug, gene, biomarker):
    m = link.mechanisms
    hit = m[(m["drug"] == drug) & (m["gene"] == gene) & (m["biomarker"] == biomarker)]
    assert len(hit) >= 1, f"{drug}: no {gene} {biomarker} in {m[['drug', 'gene', 'biomarker']]}"
    return hit.iloc[0]


def test_braf_mek_lists_mapk_reactivation_as_shared(braf_mek):
    for gene, biomarker in (("NRAS", "Q61"), ("MAP2K1", "mutation")):
        row = _row(braf_mek, "dabrafenib", gene, biomarker)
        assert row["mechanism"] in ("bypass", "downstream")
        assert row["status"] == "shared"  # the pair's own entry: reduced response
        assert row["by"].startswith("the pair: reduced response")
        assert row["by_references"]
    nras = _row(braf_mek, "dabrafenib", "NRAS", "Q61")
    assert "PMID:21107323" in nras["references"]  # Nazarian 2010
    # trametinib's own on-target escape (MEK1 P124) is listed too
    assert _row(braf_mek, "trametinib", "MAP2K1", "P124")["mechanism"] == "on_target"
    assert {"NRAS Q61", "MAP2K1 mutation"} <= set(braf_mek.shared)
    assert braf_mek.n12 == len(braf_mek.shared) * 1.0


def test_osimertinib_met_amplification_answered_by_met_inhibitor(egfr_met):
    row = _row(egfr_met, "osimertinib", "MET", "amplification")
    assert row["mechanism"] == "bypass" and row["status"] == "answered"
    assert "PMID:17463250" in row["references"]  # Engelman 2007
    assert row["by_references"]
    assert egfr_met.shared == [] and egfr_met.n12 == 0.0
    # capmatinib's own on-target escapes are not covered by osimertinib
    assert _row(egfr_met, "capmatinib", "MET", "D1228")["status"] == "not known"


def _p(link, column="p_preexisting"):
    return link.evolution.set_index("therapy")[column]


def test_bozic_single_drug_matches_closed_form(egfr_met):
    p = EvolutionParams()
    expected = -math.expm1(-p.detection_cells * p.mutation_rate * p.sites_per_drug)
    pre = _p(egfr_met)
    assert pre["osimertinib"] == pytest.approx(expected, rel=1e-12)
    small = EvolutionParams(detection_cells=1e7)  # M u n = 0.5
    link = resistance_link("osimertinib", "capmatinib", params=small)
    assert _p(link)["capmatinib"] == pytest.approx(1 - math.exp(-0.5), rel=1e-12)


def test_bozic_pair_less_likely_than_each_drug(braf_mek, egfr_met):
    for link in (braf_mek, egfr_met):
        pre, erad = _p(link), _p(link, "p_eradication")
        a, b = link.key_a, link.key_b
        pair = f"{a} + {b}"
        assert pre[pair] < min(pre[a], pre[b])
        assert erad[pair] > max(erad[a], erad[b])
    # no shared mechanism: two mutations needed, rare at 1e9 cells (Bozic: p2 ~ 1e-3)
    assert _p(egfr_met)["osimertinib + capmatinib"] < 0.01
    # nine shared mechanisms at one site each: pre-existing resistance is then likely
    assert _p(braf_mek)["dabrafenib + trametinib"] > 0.99


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bozic_order_holds_across_parameters(seed):
    rng = np.random.default_rng(seed)
    for _ in range(5):
        params = EvolutionParams(
            detection_cells=float(10 ** rng.uniform(6, 10)),
            mutation_rate=float(10 ** rng.uniform(-10, -8.5)),
            sites_per_drug=float(rng.integers(1, 100)),
            sites_per_shared_mechanism=float(rng.uniform(0, 2)),
        )
        link = resistance_link("dabrafenib", "trametinib", params=params)
        pre = _p(link)
        assert pre["dabrafenib + trametinib"] < pre["dabrafenib"]


def test_unknown_drug_is_said_not_raised():
    link = resistance_link("ispinesib", "ibrutinib")
    assert link.key_a is None and link.key_b == "ibrutinib"
    assert any("ispinesib" in n for n in link.notes)
    assert any("n12 = 0 assumed" in n for n in link.notes)
    assert set(link.mechanisms["drug"]) == {"ibrutinib"}
    assert len(link.evolution) == 3  # the probabilities are still given
    both = resistance_link("not-a-drug", "also-not")
    assert both.mechanisms.empty and len(both.unknown) == 2


def test_disease_restricts_mechanisms():
    every = resistance_link("dabrafenib", "trametinib")
    melanoma = resistance_link("dabrafenib", "trametinib", disease="melanoma")
    assert set(melanoma.mechanisms["disease"]) <= {"melanoma", "any"}
    assert "CRC" in set(every.mechanisms["disease"])
    assert len(melanoma.mechanisms) < len(every.mechanisms)
    with pytest.raises(InputError, match="field disease"):
        resistance_link("dabrafenib", "trametinib", disease="not a disease")


@pytest.mark.parametrize(
    ("field", "value"),
    [("sites_per_drug", 0.0), ("death_treated", 0.1), ("mutation_rate", -1.0),
     ("death", 0.2)],
)  # fmt: skip
def test_bad_parameters_are_located(field, value):
    with pytest.raises(InputError, match=f"field {field}"):
        EvolutionParams(**{field: value})


def test_to_dict_names_every_parameter_source(egfr_met):
    plain = egfr_met.to_dict()
    assert set(plain["params"]) == set(plain["param_sources"])
    assert all("PMID 23805382" in s for s in plain["param_sources"].values())
    assert plain["mechanisms"] and plain["evolution"]


def test_same_drug_twice_is_said():
    link = resistance_link("dabrafenib", "Tafinlar")
    assert link.key_a == link.key_b == "dabrafenib"
    assert any("same drug" in n for n in link.notes) and link.evolution.empty
