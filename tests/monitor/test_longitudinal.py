"""Longitudinal calling: null calibration, earlier calls on rising alleles, trend fit."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import gammaln
from scipy.stats import betabinom

from oncoresist.errors import InputError
from oncoresist.monitor._background import BackgroundModel
from oncoresist.monitor._calling import call_draws
from oncoresist.monitor._longitudinal import call_longitudinal, lattice_weights, weighted_sum_tail

START = pd.Timestamp("2024-01-01")


def series(rng, *, patients, draws, sites, vaf0=0.0, doubling=30.0, ng=10.0, error=1e-5,
           shape=1.0, spacing=28):  # fmt: skip
    """Site s0 of every patient at VAF vaf0 * 2^(day / doubling); other sites variant-free."""
    size = patients * draws * sites
    pid = np.repeat(np.arange(patients), draws * sites)
    draw = np.tile(np.repeat(np.arange(draws), sites), patients)
    site = np.tile(np.arange(sites), patients * draws)
    day = draw * spacing + rng.integers(-3, 4, size) * (draw > 0)
    day = np.repeat(day.reshape(-1, sites)[:, 0], sites)  # one date per draw
    f = np.where(site == 0, vaf0 * 2.0 ** (day / doubling), 0.0)
    n = rng.poisson(0.5 * 303 * ng, size)
    mutant = rng.binomial(n, np.minimum(f, 1.0))
    errs = rng.binomial(n - mutant, rng.beta(shape, shape * (1 - error) / error, size))
    return pd.DataFrame(
        {
            "patient_id": pid,
            "sample_id": pid * draws + draw,
            "collection_date": START + pd.to_timedelta(day, "D"),
            "site": np.char.add("s", site.astype(str)),
            "alt_reads": mutant + errs,
            "depth": n,
            "cfdna_ng": ng,
            "draw": draw,
        }
    )


@pytest.mark.parametrize(("shape", "error"), [(0.5, 5e-5), (5.0, 5e-5), (1.0, 1e-3)])
def test_null_calibration(shape, error):
    """Variant-free series (2,000 x 6 draws x 5 sites): rate <= level + 3 SE, per test.

    Shape 0.5 and (1, 1e-3) are heavy-tailed backgrounds (up to 1.5 error counts a draw).
    """
    rng = np.random.default_rng(11)
    obs = series(rng, patients=2000, draws=6, sites=5, error=error, shape=shape)
    bg = BackgroundModel(default_error=error, default_shape=shape)
    out = call_longitudinal(obs, bg, correction="none", fpr=0.01)
    size = len(obs)
    for level in (0.001, 0.01, 0.05):
        rate = (out["combined_p_value"] <= level).mean()
        assert rate <= level + 3 * np.sqrt(level / size)
    assert out["called"].mean() == (out["combined_p_value"] <= 0.01).mean()
    # with the within-draw correction the false calls per site-draw stay below the level
    out = call_longitudinal(obs, bg, fpr=0.01)
    assert out["called"].mean() <= 0.01 / 5 + 3 * np.sqrt(0.01 / size)


def test_rising_allele_is_called_earlier_than_per_draw():
    rng = np.random.default_rng(12)
    obs = series(rng, patients=300, draws=8, sites=5, vaf0=1e-4, doubling=45.0)
    bg = BackgroundModel(default_error=1e-5)
    per = call_draws(obs, bg, fpr=0.001)
    lon = call_longitudinal(obs, bg, fpr=0.001)
    s0 = obs["site"] == "s0"
    first_per = obs["draw"].where(s0 & (per["state"] == "detected")).groupby(obs["patient_id"])
    first_lon = obs["draw"].where(s0 & lon["called"]).groupby(obs["patient_id"])
    lead = first_per.min().fillna(8) - first_lon.min().fillna(8)
    assert lead.mean() > 0.5
    assert (lead < 0).mean() < 0.02  # pooling almost never calls later
    # null sites: no more false calls than the level allows
    assert lon.loc[~s0, "called"].mean() <= 0.001
    # first_called_date is the earliest called draw of the series
    got = lon.loc[s0 & lon["called"]].groupby("patient_id")["collection_date"].min()
    want = lon.loc[s0 & lon["called"]].groupby("patient_id")["first_called_date"].first()
    assert (got == want).all()


def test_trend_fit_recovers_doubling_time():
    rng = np.random.default_rng(13)
    obs = series(rng, patients=40, draws=6, sites=1, vaf0=5e-4, doubling=30.0, ng=20.0)
    out = call_longitudinal(obs, BackgroundModel(default_error=1e-5))
    last = out[out["draw"] == 5]
    assert last["called"].all()
    assert last["doubling_time_days"].median() == pytest.approx(30.0, rel=0.35)
    true = np.log(2) / 30.0
    covered = (last["slope_ci_low"] <= true) & (true <= last["slope_ci_high"])
    assert covered.mean() >= 0.8
    # fitted VAF at the last draw vs truth (5e-4 * 2^(140 / 30) ~ 0.013), within 40 %
    days = (last["collection_date"] - START).dt.days
    assert np.median(last["fitted_vaf"] / (5e-4 * 2.0 ** (days / 30.0))) == pytest.approx(
        1.0, abs=0.4
    )


def test_window_and_order():
    rng = np.random.default_rng(14)
    obs = series(rng, patients=3, draws=5, sites=2).sample(frac=1.0, random_state=1)
    out = call_longitudinal(obs, window=2)
    assert list(out.index) == list(obs.index)
    assert out["n_pooled"].max() == 2
    assert (out.loc[obs["draw"] == 0, "n_pooled"] == 1).all()
    full = call_longitudinal(obs)
    assert (full["n_pooled"] == obs["draw"] + 1).all()


def test_single_draw_window_uses_the_exact_tail():
    obs = pd.DataFrame(
        {"patient_id": [1], "sample_id": [1], "collection_date": [START], "site": ["a"],
         "alt_reads": [3], "depth": [3000]}
    )  # fmt: skip
    lon = call_longitudinal(obs)
    per = call_draws(obs)
    assert lon["combined_p_value"].iloc[0] == pytest.approx(per["p_value"].iloc[0])


def test_bad_inputs():
    obs = pd.DataFrame(
        {"patient_id": [1, 1], "sample_id": [1, 2], "collection_date": [START, pd.NaT],
         "site": ["a", "a"], "alt_reads": [0, 1], "depth": [10, 10]}
    )  # fmt: skip
    with pytest.raises(InputError) as err:
        call_longitudinal(obs)
    assert err.value.field == "collection_date"
    with pytest.raises(InputError) as err:
        call_longitudinal(obs.drop(columns="patient_id"))
    assert err.value.field == "patient_id"
    with pytest.raises(InputError) as err:
        call_longitudinal(obs.assign(alt_reads=[0, 11], collection_date=START))
    assert err.value.field == "alt_reads"


def brute_tail(t, c, n, a, b, kmax=90):
    """``P(sum c_j K_j >= t)`` by enumerating every count vector up to ``kmax``."""
    grids = np.meshgrid(*[np.arange(kmax + 1)] * len(c), indexing="ij")
    prob = np.ones(grids[0].shape)
    total = np.zeros(grids[0].shape)
    for j, g in enumerate(grids):
        prob *= betabinom.pmf(g, n[j], a[j], b[j])
        total += c[j] * g
    return prob[total >= t].sum()


@pytest.mark.parametrize("t", [1, 3, 4, 7, 12, 20, 40])
def test_weighted_sum_tail_is_exact(t):
    c = np.array([[1, 3, 4]])
    n = np.array([[400.0, 250.0, 300.0]])
    a = np.array([[2.0, 2.0, 3.0]])
    b = a * (1 - 0.01) / 0.01  # mean error 1 %: about 3 background counts a draw
    got = weighted_sum_tail(np.array([t]), c, n, a, b)[0]
    assert got == pytest.approx(brute_tail(t, c[0], n[0], a[0], b[0]), rel=1e-9, abs=1e-15)


def summed_tail(k, n, a, b):
    """``P(X >= k)`` summing log-gamma pmfs upward (scipy's ``sf`` loses digits out here)."""
    j = np.arange(k, min(n, k + 400) + 1)
    norm = gammaln(a + b) - gammaln(a) - gammaln(b) - gammaln(n + a + b)
    logp = gammaln(n + 1) - gammaln(j + 1) - gammaln(n - j + 1) + norm
    logp += gammaln(j + a) + gammaln(n - j + b)
    return np.exp(logp).sum()


def test_weighted_sum_tail_single_draw_and_far_tails():
    n, a, b = np.array([[3000.0]]), np.array([[1.0]]), np.array([[1e5]])
    for k in (1, 2, 5, 30, 80):
        got = weighted_sum_tail(np.array([4 * k]), np.array([[4]]), n, a, b)[0]
        assert got == pytest.approx(summed_tail(k, 3000, 1.0, 1e5), rel=1e-6)
    assert weighted_sum_tail(np.array([0]), np.array([[4]]), n, a, b)[0] == 1.0


def test_weighted_sum_tail_beyond_the_lattice_matches_simulation():
    """Many background counts (t_obs > cap): the FFT branch against 200,000 draws."""
    rng = np.random.default_rng(5)
    c = np.array([[4, 3, 2, 1]])
    n = np.full((1, 4), 20_000.0)
    a = np.full((1, 4), 20.0)
    b = a * (1 - 2e-3) / 2e-3  # 40 background counts a draw: T has mean 400
    k = rng.binomial(20_000, rng.beta(a[0], b[0], (200_000, 4)))
    total = k @ c[0]
    for t in (440, 480, 520):
        got = weighted_sum_tail(np.array([t]), c, n, a, b, cap=256)[0]
        want = (total >= t).mean()
        assert got == pytest.approx(want, rel=0.1, abs=3e-4)
        # the direct lattice gives the same tail
        direct = weighted_sum_tail(np.array([t]), c, n, a, b, cap=1024)[0]
        assert direct == pytest.approx(got, rel=1e-8)


def test_lattice_weights():
    assert list(lattice_weights([0, 28, 56, 84, 112, 200], 112.0)) == [4, 3, 2, 1, 0, 0]


def test_small_panel_uncertainty_keeps_the_pooled_test_calibrated():
    """20 normals pin each site's error only to about +-25 %: the pooled test averages over
    that uncertainty (a plug-in estimate called 1.4x its level at 1e-4 in this setting)."""
    rng = np.random.default_rng(21)
    sites, normals, patients, draws = 50, 20, 1500, 8
    err = np.exp(rng.uniform(np.log(3e-6), np.log(3e-5), sites))

    def errors(n, e):
        n, e = np.broadcast_arrays(n, e)
        return rng.binomial(n, rng.beta(2.0, 2.0 * (1 - e) / e))

    depth = rng.poisson(10_000, (sites, normals))
    panel = pd.DataFrame(
        {"site": np.repeat(np.arange(sites).astype(str), normals),
         "sample_id": np.tile(np.arange(normals), sites),
         "alt_reads": errors(depth, err[:, None]).ravel(), "depth": depth.ravel()}
    )  # fmt: skip
    bg = BackgroundModel().fit(panel)
    n = rng.poisson(1500, (patients, draws, sites))
    obs = pd.DataFrame(
        {"patient_id": np.repeat(np.arange(patients), draws * sites),
         "sample_id": np.repeat(np.arange(patients * draws), sites),
         "collection_date": START + pd.to_timedelta(
             np.tile(np.repeat(np.arange(draws) * 28, sites), patients), "D"),
         "site": np.tile(np.arange(sites).astype(str), patients * draws),
         "alt_reads": errors(n, err[None, None, :]).ravel(), "depth": n.ravel()}
    )  # fmt: skip
    out = call_longitudinal(obs, bg, correction="none")
    for level in (1e-3, 1e-4):
        rate = (out["combined_p_value"] <= level).mean()
        assert rate <= level + 3 * np.sqrt(level / len(obs))
