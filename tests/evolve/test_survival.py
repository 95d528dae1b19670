"""Kaplan-Meier, RMST and the two-arm Cox model: hand-computed cases, large-sample checks,
estimability, and parity with statsmodels (skipped when it is not installed)."""

import warnings

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


# --- never-reached medians, RMST, estimability; parity with statsmodels -----------------


def censored_sample(rng, n, rate=1 / 10, follow_up=30.0, grid=1.0):
    """Exponential times and uniform censoring, rounded to a grid so that times tie."""
    t = np.round(rng.exponential(1 / rate, n) / grid) * grid
    c = np.round(rng.uniform(0, follow_up, n) / grid) * grid
    return np.minimum(t, c), t <= c


def test_median_not_reached_is_nan_never_inf():
    km = kaplan_meier([5, 6, 7, 8, 9, 10], [1, 0, 0, 0, 0, 0])  # S falls to 5/6 only
    assert np.isnan(km.median) and np.isnan(km.median_ci[1])
    # one event in six: the lower band (S = 5/6, Greenwood log-log) is already below 1/2
    assert km.median_reached == (False, True, False) and km.median_ci[0] == 5.0
    km = kaplan_meier([5.0, 6.0], [0, 0])  # no events at all
    assert km.times.size == 0 and np.isnan(km.median)
    # reached, but its upper bound is not: 10 of 20 progress early, the rest censored late
    t = np.r_[np.arange(1.0, 11.0), np.full(10, 50.0)]
    km = kaplan_meier(t, np.r_[np.ones(10), np.zeros(10)])
    assert km.median == 10.0 and km.median_reached == (True, True, False)


def test_rmst_by_hand():
    # times 1, 2+, 3, 3, 4+, 5: S = 1 on [0,1), 5/6 on [1,3), 5/12 on [3,5), 0 from 5
    km = kaplan_meier([1, 2, 3, 3, 4, 5], [1, 0, 1, 1, 0, 1])
    area, se = km.rmst(5.0)
    assert area == pytest.approx(1 + 2 * 5 / 6 + 2 * 5 / 12, rel=1e-12)
    # A_1 = int_1^5 S = 2.5, A_3 = int_3^5 S = 5/6; the time where everyone left adds 0
    assert se**2 == pytest.approx(2.5**2 / (6 * 5) + (5 / 6) ** 2 * 2 / (4 * 2), rel=1e-12)
    area, se = km.rmst(4.0)  # horizon inside an interval
    assert area == pytest.approx(1 + 2 * 5 / 6 + 5 / 12, rel=1e-12)
    assert se**2 == pytest.approx((5 / 3 + 5 / 12) ** 2 / 30 + (5 / 12) ** 2 / 4, rel=1e-12)
    assert km.rmst(0.5) == (0.5, 0.0)
    assert km.rmst(100.0)[0] == pytest.approx(3.5)  # S reached 0: known at every time
    flat = kaplan_meier([3.0, 4.0], [0, 0])
    assert flat.rmst(4.0) == (4.0, 0.0)
    with pytest.raises(InputError, match="beyond the follow-up"):
        flat.rmst(4.5)
    with pytest.raises(InputError, match="positive"):
        flat.rmst(0.0)


def test_rmst_matches_the_exponential_mean_and_its_interval_is_calibrated():
    rng = np.random.default_rng(8)
    rate, tau, reps = 1 / 300, 500.0, 300
    truth = (1 - np.exp(-rate * tau)) / rate
    est, covered = [], 0
    for _ in range(reps):
        t = rng.exponential(1 / rate, 300)
        c = rng.uniform(0, 1500, 300)
        area, se = kaplan_meier(np.minimum(t, c), t <= c).rmst(tau)
        est.append(area)
        covered += abs(area - truth) <= 1.959964 * se
    assert np.mean(est) == pytest.approx(truth, rel=0.005)
    assert covered / reps == pytest.approx(0.95, abs=0.04)


def test_cox_not_estimable_without_events_or_with_separation():
    # each arm has an event while the other arm is at risk: a finite maximum
    res = cox_two_arms([1.0, 4.0, 2.0, 3.0], [1, 0, 1, 0], [0, 0, 1, 1])
    assert res.estimable
    # an event per arm, but arm 1's falls after arm 0 left: the estimate runs off to 0
    res = cox_two_arms([1.0, 2.0, 3.0, 4.0], [0, 1, 0, 1], [0, 0, 1, 1])
    assert not res.estimable and res.reason == "separation"
    for events, reason in (([1, 1, 0, 0], "no events in arm 1"),
                           ([0, 0, 1, 1], "no events in arm 0")):  # fmt: skip
        res = cox_two_arms([1.0, 2.0, 3.0, 4.0], events, [0, 0, 1, 1])
        assert not res.estimable and res.reason == reason
        assert np.isnan([res.hazard_ratio, res.ci_low, res.ci_high, res.p_value]).all()
    # separation: every arm-0 event after the last arm-1 patient left (events or censored)
    t = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    res = cox_two_arms(t, [1, 1, 0, 1, 1, 1], [1, 1, 1, 0, 0, 0])
    assert not res.estimable and res.reason == "separation"
    # one arm-0 event while an arm-1 patient is still at risk: finite, though wide
    res = cox_two_arms(t, [1, 1, 1, 1, 1, 1], [1, 1, 0, 1, 0, 0])
    assert res.estimable and 1 < res.hazard_ratio < 100 and res.ci_high / res.ci_low > 50


# parity with statsmodels (maintained implementations): SurvfuncRight, PHReg (Efron ties)


def test_kaplan_meier_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.duration.survfunc")
    rng = np.random.default_rng(21)
    for n in (8, 30, 200):
        for _ in range(10):
            t, e = censored_sample(rng, n)
            if not e.any():
                continue
            km = kaplan_meier(t, e)
            ref = sm.SurvfuncRight(t, e.astype(int))
            np.testing.assert_allclose(km.times, ref.surv_times, rtol=0, atol=0)
            np.testing.assert_allclose(km.survival, ref.surv_prob, rtol=1e-12)
            np.testing.assert_array_equal(km.at_risk, ref.n_risk)
            with np.errstate(all="ignore"):  # statsmodels takes log(-log 1) on the way
                m, (lo, hi) = ref.quantile(0.5), ref.quantile_ci(0.5)
            # statsmodels: nan median, inf upper bound where not reached; here nan for both
            assert (km.median == m) or (np.isnan(km.median) and np.isnan(m))
            assert km.median_ci[0] == lo or (np.isnan(km.median_ci[0]) and np.isnan(lo))
            assert km.median_ci[1] == hi or (np.isnan(km.median_ci[1]) and np.isinf(hi))


def test_cox_matches_statsmodels_phreg_efron():
    hr = pytest.importorskip("statsmodels.duration.hazard_regression")
    rng = np.random.default_rng(22)
    checked = 0
    for n in (10, 40, 300):
        for _ in range(10):
            arm = np.repeat([0, 1], n // 2)
            t = np.round(rng.exponential(np.where(arm == 1, 15.0, 8.0)))  # heavy ties
            c = np.round(rng.uniform(0, 40, arm.size))
            d, e = np.minimum(t, c), t <= c
            res = cox_two_arms(d, e, arm)
            if not res.estimable:
                continue
            fit = hr.PHReg(d, arm[:, None].astype(float), status=e.astype(int),
                           ties="efron").fit()  # fmt: skip
            assert res.log_hr == pytest.approx(fit.params[0], abs=1e-8)
            assert res.se == pytest.approx(fit.bse[0], rel=1e-8)
            assert res.p_value == pytest.approx(fit.pvalues[0], rel=1e-6, abs=1e-300)
            checked += 1
    assert checked >= 25


def test_separation_is_where_statsmodels_runs_off():
    hr = pytest.importorskip("statsmodels.duration.hazard_regression")
    t = np.arange(1.0, 9.0)
    arm = np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype=float)
    assert cox_two_arms(t, np.ones(8), arm).reason == "separation"
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns that it did not converge
        fit = hr.PHReg(t, arm[:, None], status=np.ones(8), ties="efron").fit()
    assert abs(fit.params[0]) > 10 and fit.bse[0] > 1e3  # no finite maximum
