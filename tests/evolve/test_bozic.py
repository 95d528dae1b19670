"""Exact simulations of Bozic et al. 2013 (oncoresist.evolve.bozic) against its figures.

Published values (eLife 2:e00747, PMID 23805382) within +-0.02, and the closed forms of
oncoresist.evolve.analytic within 3 standard errors. Seeds are fixed.
"""

from __future__ import annotations

import numpy as np
import pytest

from oncoresist.errors import InputError
from oncoresist.evolve import analytic as an
from oncoresist.evolve import bozic

# Figure 5 and Table 1 parameters: b, d, d' per day, u per site per division.
BOZIC = {"b": 0.14, "d": 0.13, "d_treated": 0.17, "u": 1e-9}


def test_sequential_therapy_reproduces_figure_5a():
    # M = 1e9, n1 = n2 = 50, n12 = 1: sequential therapy fails in all lesions; 73.7 % of
    # failures from cells resistant before drug 1, 26.3 % arising during drug 1.
    out = bozic.simulate_sequential(1e9, **BOZIC, n12=1, n_runs=4000, rng=5)
    closed = an.sequential_therapy(1e9, **BOZIC, n12=1)
    assert out.p_failure == pytest.approx(1.0, abs=1e-9)
    during = out.origin["from_resistant_during_drug_1"]
    se = out.origin_se["from_resistant_during_drug_1"]
    before = out.origin["resistant_before_drug_1"] + out.origin["from_sensitive_during_drug_1"]
    assert before == pytest.approx(0.737, abs=0.02)
    assert during == pytest.approx(0.263, abs=0.02)
    assert abs(during - closed["from_during_drug_1"]) < 3 * se
    # Lineages already fully resistant at the start and surviving: 1 - p1_up p2_up' = 0.632.
    strict = out.origin["resistant_before_drug_1"]
    strict_se = out.origin_se["resistant_before_drug_1"]
    assert abs(strict - closed["p_resistant_lineage_at_start"]) < 3 * strict_se


def test_sequential_therapy_without_cross_resistance_still_always_fails():
    # Figure 5C: n12 = 0, sequential fails in 100 %, almost all through drug 1's relapse.
    out = bozic.simulate_sequential(1e9, **BOZIC, n12=0, n_runs=400, rng=6)
    assert out.p_failure > 0.999
    assert out.origin["from_resistant_during_drug_1"] > 0.98


def test_simultaneous_therapy_matches_eq_1():
    # Figure 5B/D: simultaneous therapy eradicates 26.3 % (n12 = 1) and 99.9 % (n12 = 0).
    cross = bozic.simulate_simultaneous(1e9, **BOZIC, n12=1, n_runs=2000, rng=7)
    erad = an.prob_eradication(1e9, **BOZIC, sites={("A",): 50, ("B",): 50, ("A", "B"): 1})
    assert abs(cross.p_failure - (1 - erad)) < 3 * cross.se
    assert 1 - cross.p_failure == pytest.approx(0.263, abs=0.02)
    clean = bozic.simulate_simultaneous(1e9, **BOZIC, n12=0, n_runs=2000, rng=8)
    assert 1 - clean.p_failure == pytest.approx(0.999, abs=0.002)
    # Failures from cells fully resistant at the start: 1 - p1_up p2_up' of all lesions.
    at_start = cross.origin["resistant_at_start"] * cross.p_failure
    expected = an.sequential_therapy(1e9, **BOZIC, n12=1)["p_resistant_lineage_at_start"]
    assert abs(at_start - expected) < 3 * cross.origin_se["resistant_at_start"] * cross.p_failure


@pytest.mark.parametrize(("cost", "published", "seed"), [(0.0, 0.53, 11), (0.10, 0.32, 12)])
def test_cost_of_resistance_reproduces_table_2(cost, published, seed):
    # Table 2: M = 1e11, b = 1 (one division a day), d = b - 0.01, d' = b + 0.03, n12 = 0,
    # dual therapy: P(failure) 0.53 without cost, 0.32 when each resistance mutation
    # lowers the net growth rate by 10 % (through the birth rate).
    out = bozic.simulate_simultaneous(
        1e11, 1.0, 0.99, 1.03, 1e-9, n12=0, cost=cost, n_runs=3000, rng=seed
    )
    assert out.p_failure == pytest.approx(published, abs=0.02)
    closed = 1 - an.prob_eradication_dual(1e11, 1.0, 0.99, 1.03, 1e-9, n12=0, cost=cost)
    assert abs(out.p_failure - closed) < 3 * out.se


def test_growth_phase_matches_resistance_at_detection():
    # Lesions grown (conditioned on surviving) to 1e4 cells, b = 1, d = 0.5, one mutation
    # path at 1e-5 per division: resistant cells present with Iwasa's probability, 3 SE.
    rng = np.random.default_rng(3)
    state = bozic._grow_to_size(1e4, 1.0, 0.5, 1e-5, 1, 0, 0, 1.0, 1.0, 4000, 1.0, rng)
    present = state[:, 2] > 0
    se = present.std(ddof=1) / np.sqrt(present.size)
    assert abs(present.mean() - an.prob_resistance_at_detection(1e4, 1.0, 0.5, 1e-5)) < 3 * se
    assert np.all(np.abs(state.sum(axis=1) / 1e4 - 1) < 0.1)


def test_same_seed_same_result():
    one = bozic.simulate_simultaneous(1e8, **BOZIC, n12=1, n_runs=50, rng=1)
    two = bozic.simulate_simultaneous(1e8, **BOZIC, n12=1, n_runs=50, rng=1)
    assert one == two


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_runs": 1}, "n_runs"),
        ({"step_days": 0.0}, "step_days"),
        ({"d_treated": 0.1}, "d_treated"),
        ({"d": 0.2}, "d"),
        ({"n12": -1}, "n12"),
        ({"u": 0.1}, "u"),
        ({"M": 5.0}, "M"),
    ],
)
def test_bad_input_raises_input_error_naming_the_field(kwargs, field):
    args = {"M": 1e9, **BOZIC, "n_runs": 10, **kwargs}
    for simulate in (bozic.simulate_simultaneous, bozic.simulate_sequential):
        with pytest.raises(InputError) as info:
            simulate(**args)
        assert info.value.field == field
    with pytest.raises(InputError) as info:
        bozic.simulate_simultaneous(1e9, **BOZIC, cost=1.0)
    assert info.value.field == "cost"
