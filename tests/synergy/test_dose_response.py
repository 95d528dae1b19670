"""Batched 4PL (drc LL.4) fits: recovery, least-squares optimality, flat and failed curves."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from oncoresist.synergy import fit_curves, fit_dose_response, inverse_ll4, ll4

DOSES = np.array([0.0, 0.05, 0.158114, 0.5, 1.581139, 5.0])


def _curve(dose, emin, emax, ic50, hill):
    return ll4(dose, emin, emax, ic50, hill)


def test_ll4_matches_drc_parametrisation():
    # drc LL.4: c + (d - c) / (1 + exp(b (log x - log e))), with b = -hill for a rising curve
    x = np.array([0.1, 1.0, 7.0])
    c, d, e, b = 5.0, 90.0, 1.3, -1.7
    drc = c + (d - c) / (1 + np.exp(b * (np.log(x) - np.log(e))))
    np.testing.assert_allclose(ll4(x, c, d, e, -b), drc, rtol=1e-12)
    assert ll4(np.array([0.0]), c, d, e, -b)[0] == c


def test_inverse_is_the_inverse_and_infinite_beyond_the_maximum():
    y = np.array([10.0, 50.0, 89.0, 95.0])
    dose = inverse_ll4(y, 5.0, 90.0, 1.3, 1.7)
    np.testing.assert_allclose(ll4(dose[:3], 5.0, 90.0, 1.3, 1.7), y[:3], rtol=1e-10)
    assert np.isinf(dose[3])
    assert inverse_ll4(np.array([4.0]), 5.0, 90.0, 1.3, 1.7)[0] == 0.0


@pytest.mark.parametrize(("emin", "emax", "ic50", "hill"),
                         [(0, 100, 0.5, 1.2), (-5, 80, 2.0, 0.8), (10, 60, 0.2, 3.0),
                          (90, 20, 1.0, 1.5)])  # fmt: skip
def test_noise_free_curves_are_recovered(emin, emax, ic50, hill):
    fit = fit_dose_response(DOSES, _curve(DOSES, emin, emax, ic50, hill))
    assert fit["status"] == "ok"
    assert fit["ic50"] == pytest.approx(ic50, rel=1e-4)
    assert fit["hill"] == pytest.approx(hill, rel=1e-4)
    assert fit["min"] == pytest.approx(emin, abs=1e-3)
    assert fit["max"] == pytest.approx(emax, abs=1e-3)


def test_batched_fits_reach_the_least_squares_optimum_of_scipy():
    rng = np.random.default_rng(7)
    n = 60
    ic50 = rng.lognormal(np.log(0.5), 0.7, n)
    hill = rng.uniform(0.6, 2.5, n)
    emax = rng.uniform(50, 100, n)
    y = _curve(np.tile(DOSES, (n, 1)), 0.0, emax, ic50, hill) + rng.normal(0, 4, (n, 6))
    fits = fit_curves(np.tile(DOSES, (n, 1)), y)
    ours = ((fits.predict(np.tile(DOSES, (n, 1))) - y) ** 2).sum(1)
    worse = 0
    for k in range(n):
        if fits.status[k] != "ok":
            continue
        best = np.inf
        for start in ([0, 80, np.log(0.5), 0.0], [0, 100, np.log(2), 0.5], [0, 60, -2, -0.5]):
            res = optimize.least_squares(
                lambda p, k=k: _curve(DOSES, p[0], p[1], np.exp(p[2]), np.exp(p[3])) - y[k],
                start)  # fmt: skip
            best = min(best, float((res.fun**2).sum()))
        worse += ours[k] > best * (1 + 1e-4) + 1e-6
    assert worse == 0


def test_flat_noisy_curve_is_flat_and_predicts_its_mean():
    rng = np.random.default_rng(3)
    hits = 0
    for _ in range(40):
        y = 5 + rng.normal(0, 3, 6)
        fit = fit_dose_response(DOSES, y)
        if fit["status"] == "flat":
            hits += 1
            assert fit["min"] == pytest.approx(y.mean())
            assert np.isnan(fit["ic50"])
    assert hits >= 30  # the F-test calls about 95 % of pure-noise curves flat


def test_constant_curve_is_flat():
    fit = fit_dose_response(DOSES, np.full(6, 12.0))
    assert fit["status"] == "flat" and fit["max"] == 12.0


def test_step_below_the_lowest_dose_fails_instead_of_a_wild_curve():
    y = np.array([-20.0, 60.0, 61.0, 59.0, 60.5, 58.0])
    fit = fit_dose_response(DOSES, y)
    assert fit["status"].startswith("failed: a step")
    assert np.isnan(fit["ic50"]) and fit["min"] == fit["max"] == pytest.approx(y.mean())


def test_ic50_interval_covers_the_truth_about_95_percent():
    rng = np.random.default_rng(11)
    n = 400
    x = np.tile(np.repeat(DOSES, 3), (n, 1))
    y = _curve(x, 0.0, 100.0, 0.5, 1.2) + rng.normal(0, 5, x.shape)
    # means over the 3 replicates with weights 3, and the within-dose scatter
    ym = y.reshape(n, 6, 3).mean(2)
    within = ((y.reshape(n, 6, 3) - ym[..., None]) ** 2).sum((1, 2))
    fits = fit_curves(np.tile(DOSES, (n, 1)), ym, np.full((n, 6), 3.0), within_ss=within,
                      n_obs=np.full(n, 18.0))  # fmt: skip
    ok = fits.status == "ok"
    covered = (fits.ic50_lo[ok] <= 0.5) & (fits.ic50_hi[ok] >= 0.5)
    assert ok.mean() > 0.95
    assert 0.90 <= covered.mean() <= 0.99


def test_replicates_give_the_same_estimate_as_their_means():
    rng = np.random.default_rng(5)
    x = np.repeat(DOSES, 4)
    y = _curve(x, 0, 90, 0.7, 1.4) + rng.normal(0, 3, x.size)
    all_points = fit_dose_response(x, y)
    means = fit_dose_response(DOSES, y.reshape(6, 4).mean(1))
    assert all_points["ic50"] == pytest.approx(means["ic50"], rel=1e-5)
    assert all_points["dof"] == 20 and means["dof"] == 2


def test_relative_inhibition_and_css_in_closed_form():
    # a Hill curve (0 -> 100 %) whose IC50 is the geometric middle of the tested range is
    # symmetric on the log axis: RI = 50. Along the other drug's IC50 (Bliss independence)
    # the curve is 50 + I/2, so its RI (the CSS) is 50 + 50/2 = 75.
    from oncoresist.synergy import css_scores, relative_inhibition

    c1 = np.array([0, 0.05, 0.158114, 0.5, 1.581139, 5.0])
    c2 = np.array([0, 0.2, 0.632456, 2.0, 6.324555, 20.0])
    ia = c1 / (c1 + 0.5)
    ib = c2 / (c2 + 2.0)
    surf = 100 * (1 - (1 - ia[:, None]) * (1 - ib[None, :]))
    fit = fit_curves(c1[None, :], surf[None, :, 0])
    assert relative_inhibition(fit, c1[None, :])[0] == pytest.approx(50.0, abs=1e-3)
    css_r, css_c = css_scores(surf[None], np.ones((1, 6, 6)), c1[None, :], c2[None, :],
                              ic50_r=np.array([0.5]), ic50_c=np.array([2.0]))  # fmt: skip
    assert css_r[0] == pytest.approx(75.0, abs=1e-3)
    assert css_c[0] == pytest.approx(75.0, abs=1e-3)
