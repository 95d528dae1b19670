from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oncoresist.errors import InputError
from oncoresist.singlecell import CellData, read, resistant_subpopulations, score
from oncoresist.singlecell._genesets import resistance_programmes
from oncoresist.singlecell._simulate import simulate_cells
from oncoresist.singlecell._subpop import compare_fractions


def _persister_cells(*, n_patients: int, fold: float, expanded=None, seed: int = 0) -> CellData:
    genes = resistance_programmes()["persister"]["genes_up"]
    cd = simulate_cells(n_patients=n_patients, cells_per_sample=300, n_genes=300,
                        programme_genes=genes, persister_fold=fold, expanded_samples=expanded,
                        persister_fraction=0.05, rng=seed)  # fmt: skip
    score(cd, "resistance", method="ulm", min_genes=5)
    return cd


def test_expanding_persisters_are_found_with_patients_paired():
    cd = _persister_cells(n_patients=4, fold=5.0, seed=1)
    results = resistant_subpopulations(cd, "persister", sample="sample", condition="condition",
                                       control="ctrl", pair="patient")  # fmt: skip
    row = results.iloc[0]
    assert row["treated"] == "drug" and row["n_pairs"] == 4
    assert row["test"] == "paired t-test on empirical logits"
    assert row["pvalue"] < 0.01 and row["effect"] > 0 and row["log2_fold"] > 1
    assert row["mean_fraction_control"] == pytest.approx(0.05, abs=0.01)
    record = cd.uns["oncoresist_subpop"]
    assert record["threshold_rule"].startswith("0.95 quantile of the 'ctrl' cells")
    assert list(cd.obs["oncoresist_subpop"].cat.categories) == ["low", "high"]
    # calls agree with the planted truth well above chance
    high = (cd.obs["oncoresist_subpop"] == "high").to_numpy()
    truth = cd.obs["persister"].to_numpy()
    assert high[truth].mean() > 0.6 and high[~truth].mean() < 0.1


def test_per_sample_fractions_follow_the_truth_in_3_of_6_samples():
    expanded = ["P1_drug", "P3_drug", "P5_drug"]
    cd = _persister_cells(n_patients=6, fold=5.0, expanded=expanded, seed=2)
    resistant_subpopulations(cd, "persister", sample="sample", condition="condition",
                             control="ctrl", pair="patient")  # fmt: skip
    table = cd.uns["oncoresist_subpop"]["samples"].set_index("sample")["fraction"]
    others = [s for s in table.index if s not in expanded]
    assert table[expanded].min() > table[others].max()


def test_null_simulation_is_not_called():
    cd = _persister_cells(n_patients=4, fold=1.0, seed=3)
    results = resistant_subpopulations(cd, "persister", sample="sample", condition="condition",
                                       control="ctrl", pair="patient")  # fmt: skip
    assert results["pvalue"].item() > 0.05


@pytest.mark.parametrize(("paired", "test"), [(True, "t"), (False, "t"), (True, "wilcoxon")])
def test_false_positive_rate_is_held_on_null_fractions(paired: bool, test: str):
    """Null: both conditions draw per-sample fractions from one beta distribution (patient
    effects shared when paired), 6 samples per condition, 300 replicates (100 for the slower
    rank test): the rate of p < 0.05 stays within 0.05 ± 0.03 (the exact signed-rank test is
    conservative)."""
    rng = np.random.default_rng(11)
    hits, reps, n = 0, (300 if test == "t" else 100), 6
    for _ in range(reps):
        base = rng.beta(4, 40, size=n)
        rows = []
        for i in range(n):
            for cond in ("ctrl", "drug"):
                p = base[i] if paired else rng.beta(4, 40)
                p = float(np.clip(p * np.exp(rng.normal(0, 0.2)), 0.001, 0.9))
                k = rng.binomial(400, p)
                rows.append({"condition": cond, "pair": f"P{i}", "n_cells": 400, "n_high": k,
                             "fraction": k / 400})  # fmt: skip
        result = compare_fractions(pd.DataFrame(rows), control="ctrl", treated="drug",
                                   paired=paired, test=test)  # fmt: skip
        hits += result["pvalue"] < 0.05
    rate = hits / reps
    assert rate <= 0.08
    if test == "t":
        assert rate >= 0.02


def _toy(samples_per_condition: int) -> CellData:
    rows = []
    for cond in ("ctrl", "drug"):
        for s in range(samples_per_condition):
            for c in range(20):
                rows.append({"sample": f"{cond}{s}", "condition": cond, "patient": f"P{s}",
                             "score": float(c), "cluster": "k1" if c < 15 else "k2"})  # fmt: skip
    obs = pd.DataFrame(rows, index=[f"c{i}" for i in range(len(rows))])
    return CellData(np.zeros((len(obs), 1)), obs)


def test_refuses_fewer_than_two_samples_per_condition():
    cd = _toy(1)
    with pytest.raises(InputError, match="expected at least 2 samples per condition"):
        resistant_subpopulations(cd, "score", sample="sample", condition="condition",
                                 control="ctrl")  # fmt: skip


def test_cluster_level_and_obs_scores():
    cd = _toy(2)
    results = resistant_subpopulations(cd, "score", sample="sample", condition="condition",
                                       control="ctrl", groupby="cluster", quantile=0.5)  # fmt: skip
    groups = cd.uns["oncoresist_subpop"]["groups"].set_index("group")
    assert groups.loc["k2", "high"] and not groups.loc["k1", "high"]
    assert results["mean_fraction_control"].item() == pytest.approx(0.25)
    assert results["pvalue"].item() == 1.0  # identical fractions: no evidence of change
    assert results["statistic"].item() == 0.0
    assert "cluster-level" in results["threshold_rule"].item()


def test_located_errors():
    cd = _toy(2)
    with pytest.raises(InputError, match="field obs/batch: no obs column 'batch'"):
        resistant_subpopulations(cd, "score", sample="batch", condition="condition",
                                 control="ctrl")  # fmt: skip
    with pytest.raises(InputError, match="programme 'emt_axl' not found"):
        resistant_subpopulations(cd, "emt_axl", sample="sample", condition="condition",
                                 control="ctrl")  # fmt: skip
    with pytest.raises(InputError, match="control 'dmso' is not a condition"):
        resistant_subpopulations(cd, "score", sample="sample", condition="condition",
                                 control="dmso")  # fmt: skip
    with pytest.raises(InputError, match="has cells in several conditions"):
        resistant_subpopulations(cd, "score", sample="patient", condition="condition",
                                 control="ctrl")  # fmt: skip


def test_copy_returns_object_and_table():
    cd = _toy(2)
    scored, results = resistant_subpopulations(cd, "score", sample="sample",
                                               condition="condition", control="ctrl",
                                               threshold=10.0, copy=True)  # fmt: skip
    assert "oncoresist_subpop" not in cd.obs and "oncoresist_subpop" in scored.obs
    assert results["threshold_rule"].item() == "fixed threshold"


ZHAO = Path(__file__).parents[3] / "shared/data/singlecell/zhao2021_gbm_panobinostat_5000x300.h5ad"


@pytest.mark.skipif(not ZHAO.exists(), reason="shared single-cell data absent")
def test_real_paired_design_runs_with_five_pairs():
    cd = read(ZHAO)
    score(cd, "resistance")
    results = resistant_subpopulations(cd, "emt_axl", sample="sample_id", condition="condition",
                                       control="ctrl", pair="patient_id")  # fmt: skip
    row = results.iloc[0]
    assert row["treated"] == "panobinostat" and row["n_pairs"] == 5
    assert row["mean_fraction_control"] == pytest.approx(0.05, abs=0.002)
    assert 0 <= row["pvalue"] <= 1
