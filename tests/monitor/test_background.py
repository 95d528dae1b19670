"""Beta-binomial background: tails, critical counts and the fit to a panel of normals."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import betabinom

from oncoresist.errors import InputError
from oncoresist.monitor._background import (
    DEFAULT_ERROR,
    BackgroundModel,
    betabinom_logpmf,
    betabinom_sf,
    critical_counts,
    fit_betabinom,
)


def panel(rng, errors, shape, n_normals=80, depth=20_000, contexts=None):
    rows = []
    for i, e in enumerate(errors):
        p = rng.beta(shape, shape * (1 - e) / e, n_normals)
        n = rng.poisson(depth, n_normals)
        rows.append(
            pd.DataFrame(
                {
                    "site": f"s{i}",
                    "context": None if contexts is None else contexts[i],
                    "sample_id": np.arange(n_normals),
                    "alt_reads": rng.binomial(n, p),
                    "depth": n,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def test_sf_hand_values():
    # BetaBinomial(2, 1, 1) is uniform on {0, 1, 2}
    assert betabinom_sf([0, 1, 2, 3], 2, 1.0, 1.0) == pytest.approx([1, 2 / 3, 1 / 3, 0])
    # n = 1: P(X >= 1) = a / (a + b)
    assert betabinom_sf(1, 1, 2.0, 6.0) == pytest.approx(0.25)
    # BetaBinomial(n, 1, b): P(X = 0) = b / (n + b)
    assert betabinom_sf(1, 100, 1.0, 900.0) == pytest.approx(1 - 900 / 1000)


def test_sf_matches_scipy_and_far_tail_is_accurate():
    rng = np.random.default_rng(0)
    size = 3000
    n = rng.integers(1, 20_000, size)
    k = np.minimum(rng.integers(0, 80, size), n)
    a = rng.uniform(0.05, 50, size)
    b = a * rng.uniform(10, 1e5, size)
    ours = betabinom_sf(k, n, a, b)
    ref = betabinom.sf(k - 1, n, a, b)
    ok = ref > 1e-5  # scipy's own 1 - cdf is only accurate to ~1e-8 absolute
    assert np.allclose(ours[ok], ref[ok], rtol=1e-3)
    assert np.allclose(betabinom_logpmf(k, n, a, b), betabinom.logpmf(k, n, a, b), atol=1e-6)
    # far tail: against a direct sum of the pmf (relative 1e-4)
    for kk, nn, aa, bb in [(8, 9925, 31.25, 1.4148e6), (40, 3000, 1.0, 1e4), (200, 5000, 2.0, 2e4)]:
        direct = np.exp(betabinom_logpmf(np.arange(kk, nn + 1), nn, aa, bb)).sum()
        assert betabinom_sf(kk, nn, aa, bb) == pytest.approx(direct, rel=1e-4)


def test_critical_counts_are_the_smallest_reaching_the_level():
    rng = np.random.default_rng(1)
    n = rng.integers(10, 50_000, 500)
    a = rng.uniform(0.2, 20, 500)
    b = a * rng.uniform(100, 1e5, 500)
    for level in (1e-3, 2e-5):
        c = critical_counts(n, a, b, level)
        assert np.all(betabinom.sf(c - 1, n, a, b) <= level)
        assert np.all(betabinom.sf(c - 2, n, a, b) > level)


def test_fit_recovers_known_parameters():
    rng = np.random.default_rng(2)
    a0, e0 = 4.0, 5e-4
    b0 = a0 * (1 - e0) / e0
    n = rng.poisson(20_000, 400)
    k = rng.binomial(n, rng.beta(a0, b0, 400))
    a, b = fit_betabinom(k, n)
    # tolerances: mean error within 10 %, shape within a factor 1.6 (400 normals)
    assert a / (a + b) == pytest.approx(e0, rel=0.1)
    assert a0 / 1.6 < a < a0 * 1.6


def test_clean_panel_is_floored_not_zero():
    a, b = fit_betabinom(np.zeros(50), np.full(50, 10_000))
    assert a / (a + b) == pytest.approx(0.5 / 500_000, rel=1e-6)  # half a read in all
    assert a == 1.0  # overdispersion not identifiable: the default shape


def test_model_site_context_default():
    rng = np.random.default_rng(3)
    normals = panel(rng, [1e-3, 2e-4], 3.0, contexts=["C>T@CpG", "A>G"])
    sparse = pd.DataFrame(
        {"site": "few", "context": "C>T@CpG", "sample_id": [1, 2], "alt_reads": [0, 1],
         "depth": [5000, 5000]}
    )  # fmt: skip
    bg = BackgroundModel(min_normals=5).fit(pd.concat([normals, sparse], ignore_index=True))
    p = bg.params_
    assert list(p.loc[["s0", "s1", "few"], "source"]) == ["site", "site", "context"]
    assert p.loc["s0", "error"] == pytest.approx(1e-3, rel=0.15)
    assert p.loc["few", "alpha"] == bg.context_params_.loc["C>T@CpG", "alpha"]
    a, b, src = bg.lookup(["s0", "nowhere", "elsewhere"], ["x", "A>G", "none"])
    assert list(src) == ["site", "context", "default"]
    assert a[2] / (a[2] + b[2]) == pytest.approx(DEFAULT_ERROR)
    assert bg.error("nowhere") == pytest.approx(DEFAULT_ERROR)
    assert bg.error(["s0", "s1"]).shape == (2,)


def test_unfitted_model_is_the_documented_default():
    bg = BackgroundModel()
    assert bg.default_alpha_beta == pytest.approx((1.0, 9999.0))
    assert bg.error("anything") == pytest.approx(1e-4)


@pytest.mark.parametrize(
    ("field", "value"), [("alt_reads", -1), ("depth", 2.5), ("alt_reads", 10**6)]
)
def test_bad_normals_name_the_field(field, value):
    df = pd.DataFrame({"site": ["a"], "sample_id": [1], "alt_reads": [1], "depth": [100]})
    df[field] = value
    with pytest.raises(InputError) as err:
        BackgroundModel().fit(df)
    assert err.value.field == "alt_reads" if value == 10**6 else field


def test_missing_column():
    with pytest.raises(InputError) as err:
        BackgroundModel().fit(pd.DataFrame({"site": ["a"], "alt_reads": [1], "depth": [9]}))
    assert err.value.field == "sample_id"


def test_sparse_sites_share_the_panel_shape():
    """50 sites with ~20 error reads each cannot each identify a shape of 2; the panel can."""
    rng = np.random.default_rng(31)
    errors = np.exp(rng.uniform(np.log(3e-6), np.log(3e-5), 50))
    sparse = panel(rng, errors, 2.0, n_normals=200, depth=10_000)
    rich = panel(rng, [2e-3], 2.0, n_normals=200, depth=10_000).assign(site="rich")
    bg = BackgroundModel().fit(pd.concat([sparse, rich], ignore_index=True))
    assert 1.0 <= bg.shared_shape_ <= 8.0
    prm = bg.params_
    few = prm["total_alt"] < bg.min_alt_for_site_shape
    assert few.sum() >= 45 and (prm.loc[few, "alpha"] == bg.shared_shape_).all()
    # the mean error is the site's own
    own = sparse.groupby("site")[["alt_reads", "depth"]].sum()
    ratio = prm.loc[few, "error"] / (own["alt_reads"] / own["depth"]).reindex(prm.index[few])
    assert ratio.between(0.7, 1.3).all()
    # a site with thousands of error reads keeps its own fit (shape 2 within 35 %)
    assert prm.loc["rich", "alpha"] == pytest.approx(2.0, rel=0.35)
