from __future__ import annotations

import numpy as np
import pytest

from oncoresist.clones._data import expected_vaf
from oncoresist.clones._simulate import (
    CN_STATE_PROB,
    CN_STATES,
    CloneTruth,
    default_truth,
    random_tree_truth,
    sample_reads,
    simulate_clones,
    simulate_cn_changing,
)
from oncoresist.errors import InputError


def assert_sum_rule(truth: CloneTruth) -> None:
    for k, children in enumerate(truth.children):
        if children:
            assert np.all(truth.ccf[children].sum(axis=0) <= truth.ccf[k] + 1e-12)
    assert np.all(truth.cell_fractions >= -1e-12)
    np.testing.assert_allclose(truth.cell_fractions.sum(axis=0), 1.0)
    assert all(p is None or p < k for k, p in enumerate(truth.parents))


def test_shapes_and_defaults():
    data, truth = simulate_clones(rng=1)
    assert data.alt.shape == data.depth.shape == (2000, 4)
    assert data.samples == ["t1", "t2", "t3", "t4"]
    assert data.mutations[0] == "m0001"
    assert data.times.tolist() == [0.0, 100.0, 200.0, 300.0]
    np.testing.assert_array_equal(data.purity, 0.8)
    assert truth.n_clones == 8 and truth.ccf.shape == (8, 4)
    assert truth.labels.shape == (2000,) and truth.multiplicity.shape == (2000, 4)
    assert truth.parents == [None, 0, 1, 1, 3, 0, 5, 5]
    assert truth.names[truth.resistant] == "resistant"
    assert (data.depth >= 1).all()  # nothing missing by default
    assert (data.alt <= data.depth).all()
    # Mutations are shuffled, not grouped by clone.
    assert not np.all(np.diff(truth.labels) >= 0)


def test_default_tree_design():
    truth = default_truth(4)
    names = truth.names
    ccf = dict(zip(names, truth.ccf, strict=True))
    assert ccf["trunk"].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert ccf["resistant-2pct"][0] == 0.02
    assert ccf["resistant-0pct"][0] == 0.0
    assert ccf["resistant"][0] == 0.05
    np.testing.assert_allclose(ccf["resistant-2pct"], [0.02, 0.1133, 0.30, 0.45], atol=1e-3)
    np.testing.assert_allclose(ccf["resistant-0pct"], [0.0, 0.015, 0.09, 0.25], atol=1e-3)
    # The resistant clone is dominant at the last sample; the parallel pair stays 5 points apart.
    assert ccf["resistant"][-1] > 0.5
    np.testing.assert_allclose(ccf["parallel-outer"] - ccf["parallel-inner"], 0.05, atol=0.02)
    # Mutation shares: trunk largest, each low-CCF resistant sub-clone at least 4 %.
    counts = np.bincount(truth.labels, minlength=8) / truth.labels.size
    assert counts.argmax() == names.index("trunk")
    assert counts[names.index("resistant-2pct")] >= 0.04
    assert counts[names.index("resistant-0pct")] >= 0.04


@pytest.mark.parametrize("n_samples", [2, 3, 4, 5, 6])
def test_sum_rule_in_truth(n_samples):
    truth = default_truth(n_samples)
    assert truth.ccf.shape == (8, n_samples)
    assert truth.ccf[6, 0] == 0.02 and truth.ccf[5, 0] == 0.05
    assert_sum_rule(truth)


def test_bad_n_samples():
    for n in (1, 7):
        with pytest.raises(InputError) as err:
            simulate_clones(n_samples=n)
        assert err.value.field == "n_samples"


def test_vaf_means_match_the_formula():
    """Per clone and sample, the total alternative reads is a sum of independent binomials:
    mean sum(d p), variance sum(d p (1 - p)). All 32 groups lie within 4 standard deviations.
    """
    data, truth = simulate_clones(n_mutations=2000, n_samples=4, depth=150, rng=3)
    p = expected_vaf(data, truth.mutation_ccf, truth.multiplicity)
    for k in range(truth.n_clones):
        rows = truth.labels == k
        mean = (data.depth[rows] * p[rows]).sum(axis=0)
        var = (data.depth[rows] * p[rows] * (1 - p[rows])).sum(axis=0)
        observed = data.alt[rows].sum(axis=0)
        zero = var == 0
        assert np.all(observed[zero] == mean[zero])  # CCF 0: no alternative reads at all
        z = (observed[~zero] - mean[~zero]) / np.sqrt(var[~zero])
        assert np.all(np.abs(z) < 4), (truth.names[k], z)
    # Mean depth is Poisson(150): within 1 % over 8,000 cells.
    assert abs(data.depth.mean() - 150) < 1.5


def test_copy_numbers_and_multiplicity():
    data, truth = simulate_clones(n_mutations=2000, cn_fraction=0.2, rng=1)
    altered = data.major_cn[:, 0] == 2
    assert abs(altered.mean() - 0.2) < 0.03  # binomial sd 0.009
    assert set(np.unique(data.minor_cn[altered, 0])) == {0, 1}
    assert (data.major_cn == data.major_cn[:, :1]).all()  # the same in every sample
    assert (truth.multiplicity <= data.major_cn).all()
    doubled = truth.multiplicity[:, 0] == 2
    assert doubled.any()
    assert (truth.labels[doubled] == 0).all() and altered[doubled].all()
    none, _ = simulate_clones(n_mutations=300, cn_fraction=0.0, rng=1)
    assert (none.total_cn == 2).all()


def test_seeds_reproducible():
    a, ta = simulate_clones(n_mutations=300, overdispersion=100, missing_fraction=0.1, rng=7)
    b, tb = simulate_clones(n_mutations=300, overdispersion=100, missing_fraction=0.1, rng=7)
    c, _ = simulate_clones(n_mutations=300, overdispersion=100, missing_fraction=0.1, rng=8)
    np.testing.assert_array_equal(a.alt, b.alt)
    np.testing.assert_array_equal(a.depth, b.depth)
    np.testing.assert_array_equal(ta.labels, tb.labels)
    assert not np.array_equal(a.alt, c.alt)
    g = np.random.default_rng(7)
    d, _ = simulate_clones(n_mutations=300, overdispersion=100, missing_fraction=0.1, rng=g)
    np.testing.assert_array_equal(a.alt, d.alt)  # a seed and its Generator agree


def test_beta_binomial_variance_is_larger():
    """Standardised residuals (alt - d p) / sqrt(d p (1 - p)) have variance 1 for binomial
    reads and 1 + (d - 1) / (1 + precision) for beta-binomial (about 3.9 at d = 150 and
    precision 50). Checked within 10 % (binomial) and 15 % (beta-binomial)."""
    kwargs = {"n_mutations": 3000, "n_samples": 4, "depth": 150, "cn_fraction": 0.0}
    for overdispersion, expected in ((None, None), (50.0, 50.0)):
        data, truth = simulate_clones(**kwargs, overdispersion=overdispersion, rng=2)
        p = expected_vaf(data, truth.mutation_ccf, truth.multiplicity)
        use = (p > 0.02) & (p < 0.98)
        d = data.depth[use]
        r = (data.alt[use] - d * p[use]) / np.sqrt(d * p[use] * (1 - p[use]))
        if expected is None:
            binomial = r.var()
            assert 0.9 < binomial < 1.1
        else:
            inflation = np.mean(1 + (d - 1) / (1 + expected))
            assert r.var() > 2 * binomial
            assert abs(r.var() / inflation - 1) < 0.15


def test_missing_fraction_and_per_sample_purity():
    data, _ = simulate_clones(
        n_mutations=2000, missing_fraction=0.25, purity=[0.9, 0.5, 0.3, 0.2], rng=4
    )
    missing = data.depth == 0
    assert abs(missing.mean() - 0.25) < 0.02  # binomial sd 0.005
    assert (data.alt[missing] == 0).all()
    assert data.purity.tolist() == [0.9, 0.5, 0.3, 0.2]
    with pytest.raises(InputError) as err:
        simulate_clones(n_mutations=50, purity=1.5)
    assert err.value.field == "purity"
    with pytest.raises(InputError):
        simulate_clones(n_mutations=50, missing_fraction=2.0)


@pytest.mark.parametrize("seed", range(20))
def test_random_tree_truth(seed):
    truth = random_tree_truth(1 + seed % 9, 1 + seed % 5, rng=seed, n_mutations=50)
    assert_sum_rule(truth)
    assert truth.ccf.shape == (truth.n_clones, 1 + seed % 5)
    assert set(truth.labels.tolist()) == set(range(truth.n_clones))
    assert truth.names[0] == "trunk" and truth.parents[0] is None
    again = random_tree_truth(1 + seed % 9, 1 + seed % 5, seed, n_mutations=50)
    np.testing.assert_array_equal(truth.ccf, again.ccf)
    assert truth.parents == again.parents
    if truth.n_clones > 1:
        growth = truth.ccf[1:, -1] - truth.ccf[1:, 0]
        assert truth.ccf[truth.resistant, -1] - truth.ccf[truth.resistant, 0] == growth.max()


def test_reads_for_a_random_tree():
    truth = random_tree_truth(5, 3, rng=1, n_mutations=400)
    data, out = sample_reads(truth, depth=80, rng=1)
    assert data.alt.shape == (400, 3)
    np.testing.assert_array_equal(out.labels, truth.labels)
    assert random_tree_truth(3, 2, rng=1).labels.size == 0


def test_copy_number_changing_between_samples():
    """cn_change_fraction 0.7: about 70 % of mutations draw their copy-number state in each
    sample (of those, all four the same in about 13 %: sum of p^4 over the states), LOH and
    gains included; multiplicity in 1..major, the unmutated cancer cells at the normal copy
    number exactly when the mutation came before the change; per clone and sample the alt
    reads match PyClone's VAF with that reference copy number within 4 SD."""
    purity = [0.9, 0.6, 0.45, 0.75]
    data, truth = simulate_clones(n_mutations=3000, cn_fraction=0.3, cn_change_fraction=0.7,
                                  purity=purity, rng=3)  # fmt: skip
    differs = (data.major_cn != data.major_cn[:, :1]) | (data.minor_cn != data.minor_cn[:, :1])
    expected = 0.7 * (1 - sum(p**4 for p in CN_STATE_PROB))
    assert abs(differs.any(axis=1).mean() - expected) < 0.03  # binomial sd 0.009
    pairs = set(zip(data.major_cn.ravel().tolist(), data.minor_cn.ravel().tolist(), strict=True))
    assert set(CN_STATES) <= pairs
    assert (truth.multiplicity >= 1).all() and (truth.multiplicity <= data.major_cn).all()
    before = truth.reference_cn == 2
    several = truth.multiplicity >= 2
    assert (before[several] | (truth.labels[:, None] == 0).repeat(4, 1)[several]).all()
    assert before.any() and (truth.reference_cn >= 1).all()
    p = expected_vaf(data, truth.mutation_ccf, truth.multiplicity,
                     reference_cn=truth.reference_cn)  # fmt: skip
    for k in range(truth.n_clones):
        rows = truth.labels == k
        mean = (data.depth[rows] * p[rows]).sum(axis=0)
        var = (data.depth[rows] * p[rows] * (1 - p[rows])).sum(axis=0)
        observed = data.alt[rows].sum(axis=0)
        zero = var == 0
        assert np.all(observed[zero] == mean[zero])
        z = (observed[~zero] - mean[~zero]) / np.sqrt(var[~zero])
        assert np.all(np.abs(z) < 4), (truth.names[k], z)
    # without changes the draws are those of earlier versions, the reference at total_cn
    old, old_truth = simulate_clones(n_mutations=500, rng=11, cn_fraction=0.3, overdispersion=100)
    assert (int(old.alt.sum()), int(old.depth.sum()), int(old_truth.multiplicity.sum())) == (
        60377, 299506, 2116)  # fmt: skip
    np.testing.assert_array_equal(old_truth.reference_cn, old.total_cn)
    with pytest.raises(InputError) as err:
        simulate_clones(n_mutations=50, cn_change_fraction=1.5)
    assert err.value.field == "cn_change_fraction"


def test_cn_changing_series_of_pyclone_vi_kind():
    """Clusters with uniform CCFs and no tree; every mutation's state drawn in each sample."""
    data, truth = simulate_cn_changing(n_mutations=400, rng=2)
    assert data.alt.shape == (400, 4) and truth.ccf.shape == (8, 4)
    assert set(truth.labels.tolist()) == set(range(8)) and truth.parents == [None] * 8
    differs = (data.major_cn != data.major_cn[:, :1]) | (data.minor_cn != data.minor_cn[:, :1])
    assert differs.any(axis=1).mean() > 0.8
    np.testing.assert_array_equal(data.purity, 1.0)
    again, _ = simulate_cn_changing(n_mutations=400, rng=2)
    np.testing.assert_array_equal(data.alt, again.alt)
    with pytest.raises(InputError):
        simulate_cn_changing(n_mutations=5)
