"""Longitudinal calling: null calibration, earlier calls on rising alleles, trend fit."""

import numpy as np
import pandas as pd
import pytest

from oncoresist.errors import InputError
from oncoresist.monitor._background import BackgroundModel
from oncoresist.monitor._calling import call_draws
from oncoresist.monitor._longitudinal import call_longitudinal

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
    assert (lead < 0).mean() < 0.1
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
