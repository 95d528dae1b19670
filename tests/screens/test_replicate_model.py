"""The replicate model: contrasts, calibrated guide scores, exact sumZ p-values, and its
calibration and recovery on simulated screens with a known truth."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from oncoresist.errors import InputError
from oncoresist.screens import analyze, build_contrast, sheet_from_samples, sumz_test
from oncoresist.screens._simulate import simulate_screen


def sheet(rows):
    out = pd.DataFrame(rows, columns=["sample", "condition", "replicate", "day"])
    out["doublings"] = np.nan
    return out


def test_paired_contrast_and_growth_weights():
    s = sheet([("t0", "T0", "1", 0.0), ("v1", "vehicle", "1", 14.0), ("v2", "vehicle", "2", 14.0),
               ("d1", "drug", "1", 14.0), ("d2", "drug", "2", 14.0)])  # fmt: skip
    w = build_contrast(s).weights
    assert w.loc["1"].to_dict() == {"v1": -1.0, "v2": 0.0, "d1": 1.0, "d2": 0.0}
    g = build_contrast(s, growth={14.0: 0.75}).weights.loc["2"]
    # drug compared with T0 + g (vehicle - T0)
    assert g.to_dict() == pytest.approx({"t0": -0.25, "v1": 0.0, "v2": -0.75, "d1": 0.0,
                                         "d2": 1.0})  # fmt: skip
    vs_t0 = build_contrast(s, control="T0").weights.loc["1"]
    assert vs_t0["t0"] == -1.0 and vs_t0["d1"] == 1.0


def test_time_course_is_a_slope_through_day_zero():
    rows = [("t0", "T0", "1", 0.0)]
    for day in (7.0, 14.0):
        rows += [(f"v{day:g}", "vehicle", "1", day), (f"d{day:g}", "drug", "1", day)]
    c = build_contrast(sheet(rows))
    w = c.weights.loc["1"]
    scale = 14.0 / (7.0**2 + 14.0**2)
    assert w["d7"] == pytest.approx(7 * scale) and w["d14"] == pytest.approx(14 * scale)
    assert w["v14"] == pytest.approx(-14 * scale)
    assert "slope over days 7, 14" in c.label
    # a drug effect growing linearly in time (1 log2 unit at day 7, 2 at day 14) reads as 2
    y = pd.Series({"t0": 0.0, "v7": 0.0, "v14": 0.0, "d7": 1.0, "d14": 2.0})
    assert float(w @ y[w.index]) == pytest.approx(2.0)


def test_contrast_errors():
    s = sheet([("v1", "vehicle", "1", np.nan)])
    with pytest.raises(InputError, match="no drug samples"):
        build_contrast(s)
    s = sheet([("d1", "drug", "1", np.nan), ("d2", "drug", "1", np.nan),
               ("v1", "vehicle", "1", np.nan)])  # fmt: skip
    with pytest.raises(InputError, match="share replicate"):
        build_contrast(s)
    with pytest.raises(InputError, match="needs T0"):
        build_contrast(sheet_from_samples(["a"], ["b"]), control="T0")


def test_sumz_p_values_equal_exhaustive_enumeration():
    """Sum of 3 guides drawn from the library's 25 z-scores, each smoothed by the Gaussian
    kernel (bandwidth h): the lattice p-value equals the mean over all 25^3 ordered triples
    of P(N(triple sum, 3 h^2) beyond the observed sum), to the lattice's rounding."""
    from scipy.stats import norm

    from oncoresist.screens._model import _silverman

    rng = np.random.default_rng(3)
    z = np.round(rng.standard_t(3, 25), 2)
    genes = np.array(["A", "A", "A"] + [f"g{i}" for i in range(22)])
    res = sumz_test(z, genes, null=np.ones(25, dtype=bool))
    sums = np.array([sum(t) for t in itertools.product(z, repeat=3)])
    sd = np.sqrt(3) * _silverman(z)
    obs = z[:3].sum()
    step = 4 * (z.max() - z.min()) / 4095  # three half-steps of rounding, and the kernel's
    high = [norm.sf((obs + d - sums) / sd).mean() for d in (step, -step)]
    low = [norm.cdf((obs + d - sums) / sd).mean() for d in (-step, step)]
    assert high[0] - 1e-9 <= res.loc["A", "p_high"] <= high[1] + 1e-9
    assert low[0] - 1e-9 <= res.loc["A", "p_low"] <= low[1] + 1e-9


def test_sumz_needs_enough_null_guides():
    with pytest.raises(InputError, match="need 20"):
        sumz_test(np.zeros(10), np.array(["a"] * 10))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_null_screen_gene_p_values_are_uniform(seed):
    """No drug effect: gene p-values (sumZ, both directions) pass a Kolmogorov-Smirnov test
    for uniformity at 1 % (2,000 genes), and nothing is called at FDR 5 %."""
    counts, sh, _ = simulate_screen(hits=0, rng=seed)
    genes = analyze(counts, sh).genes
    for col in ("pval_supp", "pval_synth"):
        assert stats.kstest(genes[col], "uniform").pvalue > 0.01
    assert (genes["fdr_supp"] < 0.05).sum() + (genes["fdr_synth"] < 0.05).sum() <= 1
    assert (genes["pos|fdr"] < 0.05).sum() + (genes["neg|fdr"] < 0.05).sum() <= 1


def test_fdr_is_controlled_with_planted_hits_and_null_genes_stay_uniform():
    """40 resistance and 40 sensitising genes planted among 2,000 (effect 2 log2 units on
    80 % of their guides), growth ratio 0.7 under drug: over 6 seeds the mean false
    discovery proportion at FDR 5 % is at most 5 % (one-sided, 2 SE of the mean), null genes'
    p-values stay uniform (KS at 1 %), power exceeds 90 %, and with the reference gene sets
    no essential gene is called a resistance gene."""
    fdp, power, ks = [], [], []
    for seed in range(6):
        counts, sh, truth = simulate_screen(rng=100 + seed)
        sh["doublings"] = np.nan  # the growth ratio is estimated from the gene sets
        essential = set(truth.index[truth["essential"]])
        nonessential = set(truth.index[~truth["essential"] & (truth["drug_effect"] == 0)])
        res = analyze(counts, sh, essential=essential, nonessential=nonessential)
        assert res.growth[next(iter(res.growth))] == pytest.approx(0.7, abs=0.06)
        g = res.genes.join(truth)
        up, down = g["fdr_supp"] < 0.05, g["fdr_synth"] < 0.05
        false = (up & (g["drug_effect"] <= 0)).sum() + (down & (g["drug_effect"] >= 0)).sum()
        fdp.append(false / max(up.sum() + down.sum(), 1))
        power.append(((up & (g["drug_effect"] > 0)).sum() + (down & (g["drug_effect"] < 0)).sum())
                     / 80)  # fmt: skip
        null = g[g["drug_effect"] == 0]
        ks.append(stats.kstest(null["pval_supp"], "uniform").pvalue)
        assert not (up & g["essential"]).any()
    assert np.mean(fdp) <= 0.05 + 2 * np.std(fdp, ddof=1) / np.sqrt(len(fdp))
    assert np.mean(power) > 0.9
    assert min(ks) > 0.01


def test_without_growth_correction_essential_genes_look_resistant():
    """The confounder the correction removes: the drug arm grows 0.5x, so essential genes
    deplete less under drug; uncorrected, some are called resistance genes."""
    counts, sh, truth = simulate_screen(growth=0.5, fitness=-0.3, rng=7)
    plain = analyze(counts, sh, growth=1.0).genes.join(truth)
    fixed = analyze(counts, sh).genes.join(truth)  # the sheet's doublings give 0.5
    assert (plain["essential"] & (plain["fdr_supp"] < 0.05)).sum() >= 5
    assert (fixed["essential"] & (fixed["fdr_supp"] < 0.05)).sum() == 0


def test_normalisations_agree_on_a_screen_without_jackpots():
    """Median-ratio, total-count and control-sgRNA size factors give the same hits when
    no few guides dominate a sample (the non-essential genes' guides as controls)."""
    counts, sh, truth = simulate_screen(genes=1000, hits=20, rng=11)
    null_genes = truth.index[~truth["essential"] & (truth["drug_effect"] == 0)]
    controls = counts.index[counts["gene"].isin(null_genes)]
    calls = {}
    for norm in ("median", "total", "control"):
        g = analyze(counts, sh, norm=norm, control_sgrnas=list(controls)).genes
        calls[norm] = set(g.index[g["fdr_supp"] < 0.05])
    assert len(calls["median"] ^ calls["control"]) <= 1
    assert len(calls["median"] ^ calls["total"]) <= 2
    with pytest.raises(InputError, match="control sgRNAs"):
        analyze(counts, sh, norm="control")


def test_drug_versus_t0_finds_fitness_and_drug_effects_together():
    """Against T0, essential genes deplete (both arms) and drug hits show on top of them."""
    counts, sh, truth = simulate_screen(fitness=-0.3, rng=5)
    g = analyze(counts, sh, compare_with="T0").genes.join(truth)
    depleted = g["fdr_synth"] < 0.05
    assert depleted[g["essential"]].mean() > 0.8
    assert (g.loc[g["drug_effect"] > 0, "fdr_supp"] < 0.05).mean() > 0.9


def test_control_guides_as_the_sumz_null():
    """The null built from control guides only (here the 2,400 guides of 600 null genes):
    every gene the library null calls is still called, and over 4 seeds the mean false
    discovery proportion at FDR 5 % stays below 10 % (measured 6.8 % over 8 seeds: a null of
    a few thousand guides is less certain than the library's -- its mean alone has a
    standard error of 0.02 -- see docs/screens.md)."""
    fdp = []
    for seed in (21, 22, 23, 24):
        counts, sh, truth = simulate_screen(hits=30, rng=seed)
        null_genes = truth.index[~truth["essential"] & (truth["drug_effect"] == 0)]
        controls = counts.index[counts["gene"].isin(null_genes[:600])]
        lib = analyze(counts, sh).genes
        ctl = analyze(counts, sh, null_sgrnas=list(controls)).genes.join(truth)
        up, down = ctl["fdr_supp"] < 0.05, ctl["fdr_synth"] < 0.05
        assert set(lib.index[lib["fdr_supp"] < 0.05]) <= set(ctl.index[up])
        false = (up & (ctl["drug_effect"] <= 0)) | (down & (ctl["drug_effect"] >= 0))
        fdp.append(false.sum() / max((up | down).sum(), 1))
    assert np.mean(fdp) < 0.10
    with pytest.raises(InputError, match="need 20"):
        analyze(counts, sh, null_sgrnas=["nope"])
