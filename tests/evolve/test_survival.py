"""Kaplan-Meier and the two-arm Cox model: hand-computed cases and large-sample checks."""

import numpy as np
import pytest

from oncoresist.errors import InputError
from oncoresist.evolve.survival import cox_two_arms, kaplan_meier


def test_kaplan_meier_by_hand():
    # times 1, 2+, 3, 3, 4+, 5 (+ censored)
    km = kaplan_meier([1, 2, 3, 3, 4, 5], [1, 0, 1, 1, 0, 1])
    assert km.times.tolist() == [1, 3, 5]
    assert km.at_risk.tolist() == [6, 4, 1] and km.events.tolist() == [1, 2, 1]
    s1 = 5 / 6
    s3 = s1 * (1 - 2 / 4)
    assert km.survival == pytest.approx([s1, s3, 0.0])
    assert km.median == 3.0
    assert km.at([0.5, 1, 2.5, 4.9, 6]).tolist() == pytest.approx([1, s1, s1, s3, 0.0])
    # Greenwood log-log interval at t = 1: var(log S) = 1/(6*5)
    se = np.sqrt(1 / 30) / abs(np.log(s1))
    assert km.lower[0] == pytest.approx(s1 ** np.exp(1.959964 * se), rel=1e-6)
    assert km.upper[0] == pytest.approx(s1 ** np.exp(-1.959964 * se), rel=1e-6)
    assert (km.lower <= km.survival).all() and (km.survival <= km.upper).all()


def test_median_and_its_interval_on_exponential_data():
    rng = np.random.default_rng(5)
    rate, n, reps = 1 / 300, 400, 200
    covered, medians = 0, []
    for _ in range(reps):
        t = rng.exponential(1 / rate, n)
        cens = rng.uniform(0, 1500, n)
        km = kaplan_meier(np.minimum(t, cens), t <= cens)
        lo, hi = km.median_ci
        medians.append(km.median)
        covered += lo <= np.log(2) / rate <= hi
    assert np.mean(medians) == pytest.approx(np.log(2) / rate, rel=0.02)
    assert covered / reps == pytest.approx(0.95, abs=0.04)  # 3.2 SE of a 0.95 proportion


def test_cox_hazard_ratio_recovers_the_truth_and_is_calibrated():
    rng = np.random.default_rng(6)
    est, covered, reps = [], 0, 200
    for _ in range(reps):
        arm = np.repeat([0, 1], 300)
        t = rng.exponential(1 / np.where(arm == 1, 0.5, 1.0))
        cens = rng.uniform(0, 3, arm.size)
        res = cox_two_arms(np.minimum(t, cens), t <= cens, arm)
        est.append(res.log_hr)
        covered += res.ci_low <= 0.5 <= res.ci_high
    assert np.mean(est) == pytest.approx(np.log(0.5), abs=0.02)
    assert covered / reps == pytest.approx(0.95, abs=0.04)


def test_cox_ties_match_efron_by_hand():
    # two arms, one tied event time with one death in each arm, no censoring after:
    # the score at beta = 0 is the events of arm 1 minus their expectation
    t = [1.0, 1.0, 2.0, 2.0]
    e = [1, 1, 1, 1]
    arm = [0, 1, 0, 1]
    res = cox_two_arms(t, e, arm)
    assert res.hazard_ratio == pytest.approx(1.0, abs=1e-9)  # symmetric: no effect
    # events at 1, 2, 3, 4 in arms 1, 0, 1, 0: the score 2/(w+1) - w/(w+2) vanishes at
    # w = (1 + sqrt(17)) / 2
    res = cox_two_arms([1.0, 2.0, 3.0, 4.0], [1, 1, 1, 1], [1, 0, 1, 0])
    assert res.hazard_ratio == pytest.approx((1 + np.sqrt(17)) / 2, rel=1e-8)


def test_no_events_gives_no_hazard_ratio():
    res = cox_two_arms([5.0, 6.0, 7.0], [0, 0, 0], [0, 1, 1])
    assert np.isnan(res.hazard_ratio) and np.isnan(res.p_value)


def test_bad_inputs():
    with pytest.raises(InputError):
        kaplan_meier([1, -2], [1, 1])
    with pytest.raises(InputError):
        kaplan_meier([1, 2], [1])
    with pytest.raises(InputError):
        cox_two_arms([1, 2], [1, 1], [1, 1])
    with pytest.raises(InputError):
        cox_two_arms([1, 2], [1, 1], [0, 2])
