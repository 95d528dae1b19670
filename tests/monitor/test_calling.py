"""Per-draw calling: p-values, within-draw control, posterior, states, LoD and inputs."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import betabinom

from oncoresist.errors import InputError
from oncoresist.monitor._background import BackgroundModel
from oncoresist.monitor._calling import adjust_within_groups, call_draws, posterior_present
from oncoresist.monitor._lod import detection_probability, sampling_bound


def draws(rng, *, n_draws, sites, vaf, ng=10.0, recovery=0.5, error=1e-5, shape=1.0):
    """Unique-molecule draws: depth ~ Poisson(eta G), alt = mutant molecules + errors."""
    size = n_draws * sites
    m = recovery * 303.0 * ng
    n = rng.poisson(m, size)
    f = np.broadcast_to(np.asarray(vaf, dtype=float), (n_draws, sites)).ravel()
    mutant = rng.binomial(n, f)
    errs = rng.binomial(n - mutant, rng.beta(shape, shape * (1 - error) / error, size))
    return pd.DataFrame(
        {
            "patient_id": "p",
            "sample_id": np.repeat(np.arange(n_draws), sites),
            "site": np.tile([f"s{i}" for i in range(sites)], n_draws),
            "alt_reads": mutant + errs,
            "depth": n,
            "cfdna_ng": ng,
        }
    )


def test_hand_computed_p_values():
    # background BetaBinomial(n, 1, 1): uniform on 0..n, so P(X >= k) = (n - k + 1) / (n + 1)
    bg = BackgroundModel(default_error=0.5, default_shape=1.0)
    obs = pd.DataFrame(
        {"sample_id": [1, 1, 2], "site": ["a", "b", "a"], "alt_reads": [0, 1, 3],
         "depth": [2, 2, 9]}
    )  # fmt: skip
    out = call_draws(obs, bg, correction="none", min_depth=0)
    assert out["p_value"].to_numpy() == pytest.approx([1.0, 2 / 3, 7 / 10])
    # default background (alpha 1, beta 9999) at depth 3000, 5 alt reads: scipy's tail
    out = call_draws(pd.DataFrame({"sample_id": [1], "site": ["x"], "alt_reads": [5],
                                   "depth": [3000]}))  # fmt: skip
    assert out["p_value"].iloc[0] == pytest.approx(betabinom.sf(4, 3000, 1.0, 9999.0), rel=1e-6)


def test_benjamini_hochberg_within_groups():
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5, 0.001])
    g = np.array([0, 0, 0, 0, 1, 1])
    q, thr = adjust_within_groups(p, g, 0.02, "bh")
    assert q == pytest.approx([0.02, 0.04, 0.04, 0.02, 0.5, 0.002])
    # group 0: 2 calls of 4 -> next threshold 3 * 0.02 / 4; group 1: 1 of 2 -> 2 * 0.02 / 2
    assert thr == pytest.approx([0.015] * 4 + [0.02] * 2)
    q, thr = adjust_within_groups(p, g, 0.02, "bonferroni")
    assert q == pytest.approx([0.04, 0.16, 0.12, 0.02, 1.0, 0.002])
    assert thr == pytest.approx([0.005] * 4 + [0.01] * 2)
    with pytest.raises(InputError):
        adjust_within_groups(p, g, 0.02, "holm")


@pytest.mark.parametrize("correction", ["bh", "none"])
def test_null_calibration_per_draw(correction):
    """No variant anywhere: false calls per site-draw <= fpr (+ 3 binomial SE)."""
    rng = np.random.default_rng(5)
    fpr = 0.01  # a level the simulation can resolve (40,000 site-draws)
    obs = draws(rng, n_draws=4000, sites=10, vaf=0.0, error=1e-4, shape=0.5)
    out = call_draws(obs, BackgroundModel(default_error=1e-4, default_shape=0.5), fpr=fpr,
                     correction=correction)  # fmt: skip
    rate = (out["state"] == "detected").mean()
    assert rate <= fpr + 3 * np.sqrt(fpr / len(obs))
    if correction == "none":  # per-test control is not far from the level (discreteness)
        assert rate > fpr / 10


def test_sensitivity_close_to_sampling_bound():
    """Clean background: 1 molecule suffices; sensitivity ~ model ~ bound (2,000 draws)."""
    rng = np.random.default_rng(6)
    ng, vaf = 10.0, 0.002  # eta G f = 3.03, bound 0.952
    obs = draws(rng, n_draws=2000, sites=1, vaf=vaf, ng=ng, error=1e-8)
    bg = BackgroundModel(default_error=1e-8)
    out = call_draws(obs, bg)
    sens = (out["state"] == "detected").mean()
    bound = sampling_bound(vaf, ng * 303, 0.5)
    assert (out["critical_count"] == 1).all()
    model = np.mean(
        detection_probability(vaf, ng * 303, 0.5, out["depth"], 1e-8, out["critical_count"])
    )
    se = np.sqrt(model * (1 - model) / len(obs))
    assert sens == pytest.approx(model, abs=4 * se)
    assert sens >= 0.85 * bound


def test_sensitivity_matches_model_with_errors():
    rng = np.random.default_rng(7)
    obs = draws(rng, n_draws=3000, sites=5, vaf=[0.003, 0, 0, 0, 0], error=1e-5, shape=1.0)
    bg = BackgroundModel(default_error=1e-5)
    out = call_draws(obs, bg, correction="none")
    hit = out[out["site"] == "s0"]
    sens = (hit["state"] == "detected").mean()
    model = np.mean(
        detection_probability(0.003, 3030, 0.5, hit["depth"], 1e-5, hit["critical_count"])
    )
    assert sens == pytest.approx(model, abs=4 * np.sqrt(model * (1 - model) / len(hit)))


def test_states_lod_and_input_sources():
    obs = pd.DataFrame(
        {
            "sample_id": ["a", "a", "b", "c", "d"],
            "site": ["x", "y", "x", "x", "x"],
            "alt_reads": [40, 0, 0, 0, 0],
            "depth": [3000, 3000, 50, 3000, 3000],
            "cfdna_ng": [10.0, 10.0, 10.0, np.nan, np.nan],
            "unique_molecules": pd.array([None, None, None, 2000, None], dtype="Int64"),
        },
        index=[10, 11, 12, 13, 14],
    )
    out = call_draws(obs, recovery=0.5)
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert list(out["state"]) == [
        "detected", "not_detected", "not_assessable", "not_detected", "not_detected"
    ]  # fmt: skip
    assert list(out["input_source"]) == [
        "cfdna_ng", "cfdna_ng", "cfdna_ng", "unique_molecules", "depth"
    ]  # fmt: skip
    assert out["input_ge"].iloc[:4].to_numpy() == pytest.approx([3030, 3030, 3030, 4000])
    assert out["lod_vaf"].iloc[2] > 0.05
    # the LoD falls with the input: 10 ng vs 1 ng
    low = call_draws(obs.assign(cfdna_ng=1.0))
    assert (low["lod_vaf"].iloc[1] > out["lod_vaf"].iloc[1]) and low["lod_vaf"].iloc[1] < 0.05


def test_posterior_rises_with_evidence():
    k = np.arange(0, 8)
    post = posterior_present(k, 3000, 1.0, 9999.0)
    assert np.all(np.diff(post) > 0)
    assert post[0] < 0.5 < post[-1]
    assert posterior_present(0, 3000, 1.0, 9999.0, prior_present=0.9) > post[0]


def test_alteration_and_coordinate_sites():
    normals = pd.DataFrame(
        {"site": "7:55249071:C>T", "sample_id": range(10), "alt_reads": 0, "depth": 100_000}
    )
    bg = BackgroundModel().fit(normals)
    obs = pd.DataFrame(
        {"sample_id": [1, 1], "alteration": ["EGFR T790M", "KRAS G12C"], "alt_reads": [1, 1],
         "depth": [5000, 5000], "chrom": ["7", "12"], "pos": [55249071, 25398285],
         "ref": ["C", "C"], "alt": ["T", "A"]}
    )  # fmt: skip
    out = call_draws(obs, bg, correction="none")
    assert out["background_error"].iloc[0] == pytest.approx(0.5 / 1e6)
    assert out["background_error"].iloc[1] == pytest.approx(1e-4)


@pytest.mark.parametrize(
    ("column", "value", "field"),
    [
        ("alt_reads", -1, "alt_reads"),
        ("alt_reads", 5000, "alt_reads"),
        ("depth", -3, "depth"),
        ("depth", 10.5, "depth"),
        ("cfdna_ng", -2.0, "cfdna_ng"),
        ("unique_molecules", -1, "unique_molecules"),
    ],
)
def test_bad_inputs_name_the_field(column, value, field):
    obs = pd.DataFrame({"sample_id": [1, 1], "site": ["a", "b"], "alt_reads": [1, 2],
                        "depth": [100, 100]})  # fmt: skip
    obs[column] = pd.Series([obs[column].iloc[0] if column in obs else 1, value], dtype=object)
    with pytest.raises(InputError) as err:
        call_draws(obs)
    assert err.value.field == field
    assert err.value.record == "row 1"


def test_missing_columns():
    with pytest.raises(InputError) as err:
        call_draws(pd.DataFrame({"sample_id": [1], "site": ["a"], "alt_reads": [1]}))
    assert err.value.field == "depth"
    with pytest.raises(InputError) as err:
        call_draws(pd.DataFrame({"sample_id": [1], "alt_reads": [1], "depth": [5]}))
    assert err.value.field == "site"
