"""RECIST 1.1 on sums of diameters: hand-made series (the 5 mm rule on small sums, the
nadir includes the baseline), paths vectorised like the PSA rule, response categories."""

from __future__ import annotations

import numpy as np
import pytest

from oncoresist.errors import InputError
from oncoresist.forecast.recist import (
    diameter_from_volume,
    recist_first_progression,
    recist_progression,
    recist_response,
)


def test_five_mm_rule_on_small_sums():
    """From a 10 mm nadir, 12.5 mm is +25 % but +2.5 mm: not PD; 15 mm (+50 %, +5 mm) is."""
    days = np.array([60.0])
    assert recist_progression(days, np.array([12.5]), origin_day=0.0, nadir_mm=10.0) == 0.0
    assert recist_progression(days, np.array([14.9]), origin_day=0.0, nadir_mm=10.0) == 0.0
    assert recist_progression(days, np.array([15.0]), origin_day=0.0, nadir_mm=10.0) == 1.0


def test_twenty_percent_rule_on_large_sums():
    """From 100 mm, +19 mm is >= 5 mm but < 20 %: not PD; +20 mm is."""
    days = np.array([60.0])
    assert recist_progression(days, np.array([119.0]), origin_day=0.0, nadir_mm=100.0) == 0.0
    assert recist_progression(days, np.array([120.0]), origin_day=0.0, nadir_mm=100.0) == 1.0


def test_nadir_includes_baseline():
    """30 -> 35 -> 37: PD against the baseline (37 >= 36 and +7 mm), not against 35."""
    days = np.array([0.0, 42.0, 84.0])
    assert recist_first_progression(days, np.array([30.0, 35.0, 37.0])) == 84.0
    cats = recist_response(days, np.array([30.0, 35.0, 37.0]))["category"].tolist()
    assert cats == ["baseline", "SD", "PD"]
    # a later, lower nadir resets the reference
    first = recist_first_progression(np.arange(4.0), np.array([30.0, 20.0, 24.0, 25.0]))
    assert first == 3.0


def test_reappearance_after_complete_response():
    """From a nadir of 0 mm, 4 mm is not PD (< 5 mm) and 5 mm is."""
    days = np.arange(4.0)
    assert recist_first_progression(days, np.array([20.0, 0.0, 4.0, 5.0])) == 3.0
    out = recist_response(days, np.array([20.0, 0.0, 4.0, 5.0]))
    assert out["category"].tolist() == ["baseline", "CR", "PR", "PD"]
    assert out.attrs["best_response"] == "CR"


def test_paths_vectorised_match_one_at_a_time():
    rng = np.random.default_rng(0)
    days = np.arange(1.0, 9.0) * 42.0
    paths = 40.0 * np.exp(np.cumsum(0.15 * rng.standard_normal((200, 8)), axis=1))
    together = recist_progression(days, paths, origin_day=0.0, nadir_mm=38.0, window_days=200.0)
    one = [
        recist_progression(days, p, origin_day=0.0, nadir_mm=38.0, window_days=200.0) for p in paths
    ]
    np.testing.assert_array_equal(together, np.array(one))
    assert 0 < together.mean() < 1
    # the window: progression after day 200 does not count
    late = recist_progression(days, np.r_[np.full(5, 38.0), 60.0, 60.0, 60.0], origin_day=0.0,
                              nadir_mm=38.0, window_days=200.0)  # fmt: skip
    assert late == 0.0


def test_partial_response_and_stable_disease():
    out = recist_response(np.array([0.0, 42.0, 84.0]), np.array([50.0, 36.0, 35.0]))
    assert out["category"].tolist() == ["baseline", "SD", "PR"]  # -28 % is SD, -30 % is PR
    out = recist_response(np.array([0.0, 42.0]), np.array([50.0, 36.0]), partial_fraction=0.3)
    assert out["category"].iloc[1] == "SD"
    assert out["change_from_baseline"].iloc[1] == pytest.approx(-0.28)


def test_volume_to_diameter():
    d = np.array([5.0, 10.0, 23.0])
    np.testing.assert_allclose(diameter_from_volume(0.5 * d**3), d)


def test_bad_input():
    with pytest.raises(InputError, match="negative"):
        recist_first_progression(np.array([0.0, 1.0]), np.array([1.0, -1.0]))
    with pytest.raises(InputError, match="increasing"):
        recist_first_progression(np.array([1.0, 0.0]), np.array([1.0, 1.0]))
    with pytest.raises(InputError, match="shape"):
        recist_first_progression(np.array([0.0, 1.0]), np.array([1.0, 1.0, 1.0]))
