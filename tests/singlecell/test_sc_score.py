from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse, stats

from oncoresist.errors import InputError
from oncoresist.singlecell import CellData, load_hallmark, progeny, read, score
from oncoresist.singlecell import _score as score_module
from oncoresist.singlecell._genesets import resistance_programmes
from oncoresist.singlecell._simulate import simulate_cells

DATA = Path(__file__).parent / "data"
PROGENY = Path(__file__).parents[3] / "shared/data/singlecell/genesets/progeny"


def _cells(frame: pd.DataFrame, *, sparse_x: bool = False) -> CellData:
    X = sparse.csr_matrix(frame.to_numpy()) if sparse_x else frame.to_numpy()
    return CellData(X, pd.DataFrame(index=frame.index), pd.DataFrame(index=frame.columns))


@pytest.mark.skipif(not PROGENY.exists(), reason="shared PROGENy fixture absent")
def test_progeny_parity_with_the_r_package():
    """Acceptance: progeny(human_input, scale=TRUE, top=10) to 1e-8 (R's own test data)."""
    expr = pd.read_csv(PROGENY / "human_input.csv", index_col=0)
    expected = pd.read_csv(PROGENY / "human_def_expected.csv", index_col=0)
    cd = _cells(expr.T)
    progeny(cd, top=10)
    got = cd.obsm["oncoresist_progeny"]
    assert set(got.columns) == set(expected.columns)
    assert np.abs(got.loc[expected.index, expected.columns].to_numpy()
                  - expected.to_numpy()).max() <= 1e-8  # fmt: skip
    table = cd.uns["oncoresist"]["programmes"]
    assert (table["method"] == "progeny_weighted_sum").all()
    assert (table["normalisation"] == "none").all()


@pytest.mark.parametrize("sparse_x", [False, True])
def test_ulm_parity_with_decoupler(sparse_x: bool):
    """decoupler 2.2.0 dc.mt.ulm on a 40 × 60 matrix with an empty gene (README in data/)."""
    expr = pd.read_csv(DATA / "ulm_input.csv", index_col=0)
    net = pd.read_csv(DATA / "ulm_net.csv")
    expected = pd.read_csv(DATA / "ulm_expected.csv", index_col=0)
    cd = _cells(expr, sparse_x=sparse_x)
    score(cd, net, method="ulm", normalise="none")
    got = cd.obsm["oncoresist_custom"]
    assert list(got.columns) == list(expected.columns)  # D (3 targets) is not scored
    assert np.abs(got.to_numpy() - expected.to_numpy()).max() <= 1e-6
    table = cd.uns["oncoresist"]["programmes"].set_index("programme")
    assert not table.loc["D", "scored"] and "only 3 of 3 genes" in table.loc["D", "reason"]
    assert table.loc["A", "n_found"] == 14  # G05 is never expressed: absent, as decoupler


def test_ulm_is_the_t_value_of_a_regression_slope():
    rng = np.random.default_rng(5)
    expr = pd.DataFrame(rng.gamma(2.0, 1.0, size=(4, 12)),
                        columns=[f"g{i}" for i in range(12)])  # fmt: skip
    weights = dict(zip([f"g{i}" for i in range(6)], rng.normal(size=6), strict=True))
    cd = _cells(expr)
    score(cd, {"P": weights}, method="ulm", normalise="none")
    w = np.array([weights.get(g, 0.0) for g in expr.columns])
    for i in range(4):
        fit = stats.linregress(w, expr.iloc[i].to_numpy())
        assert cd.obsm["oncoresist_custom"]["P"].iloc[i] == pytest.approx(
            fit.slope / fit.stderr, rel=1e-9)  # fmt: skip


def test_mean_and_zscore_by_hand():
    expr = pd.DataFrame([[1.0, 2.0, 4.0, 0.0, 3.0], [3.0, 0.0, 2.0, 1.0, 1.0],
                         [2.0, 1.0, 0.0, 5.0, 2.0]], columns=list("ABCDE"))  # fmt: skip
    programmes = {"P": {"A": 1.0, "B": 1.0, "C": -1.0, "D": 1.0, "E": 1.0}}
    cd = _cells(expr)
    score(cd, programmes, method="mean", normalise="none")
    by_hand = (expr["A"] + expr["B"] - expr["C"] + expr["D"] + expr["E"]) / 5
    np.testing.assert_allclose(cd.obsm["oncoresist_custom"]["P"], by_hand)
    score(cd, programmes, method="zscore", normalise="none")
    z = (expr - expr.mean()) / expr.std(ddof=1)
    by_hand = (z["A"] + z["B"] - z["C"] + z["D"] + z["E"]) / 5
    np.testing.assert_allclose(cd.obsm["oncoresist_custom"]["P"], by_hand)


def test_tirosh_is_seeded_and_shift_invariant():
    rng = np.random.default_rng(2)
    expr = pd.DataFrame(rng.gamma(2.0, 1.0, size=(30, 200)),
                        columns=[f"g{i}" for i in range(200)])  # fmt: skip
    programmes = {"P": [f"g{i}" for i in range(10)]}
    first = score(_cells(expr), programmes, method="tirosh", normalise="none", rng=1, copy=True)
    again = score(_cells(expr), programmes, method="tirosh", normalise="none", rng=1, copy=True)
    shifted = score(_cells(expr + 3.0), programmes, method="tirosh", normalise="none", rng=1,
                    copy=True)  # fmt: skip
    a = first.obsm["oncoresist_custom"]["P"].to_numpy()
    np.testing.assert_array_equal(a, again.obsm["oncoresist_custom"]["P"].to_numpy())
    np.testing.assert_allclose(a, shifted.obsm["oncoresist_custom"]["P"].to_numpy(), atol=1e-12)


def test_counts_are_normalised_and_it_is_recorded():
    counts = np.array([[10, 0, 5, 5, 0, 80], [0, 4, 4, 2, 10, 80]])
    cd = CellData(sparse.csr_matrix(counts), var=pd.DataFrame(index=list("ABCDEF")))
    score(cd, {"P": list("ABCDE")}, method="mean")
    expected = np.log1p(counts / counts.sum(axis=1, keepdims=True) * 1e4)[:, :5].mean(axis=1)
    np.testing.assert_allclose(cd.obsm["oncoresist_custom"]["P"], expected)
    assert cd.uns["oncoresist"]["programmes"]["normalisation"].item() == "log1p_cp10k"
    score(cd, {"P": list("ABCDE")}, method="mean", normalise="none")
    assert cd.uns["oncoresist"]["programmes"]["normalisation"].item() == "none"
    assert len(cd.uns["oncoresist"]["programmes"]) == 1  # replaced, not appended


@pytest.mark.parametrize("method", ["ulm", "mean", "zscore", "tirosh"])
def test_chunking_gives_the_same_scores(monkeypatch: pytest.MonkeyPatch, method: str):
    cd = simulate_cells(n_patients=1, cells_per_sample=60, n_genes=120, rng=4)
    whole = score(cd, {"P": [f"prog{i}" for i in range(10)]}, method=method, copy=True)
    monkeypatch.setattr(score_module, "_CHUNK_ENTRIES", 500)
    chunked = score(cd, {"P": [f"prog{i}" for i in range(10)]}, method=method, copy=True)
    np.testing.assert_allclose(chunked.obsm["oncoresist_custom"], whole.obsm["oncoresist_custom"],
                               atol=1e-12)  # fmt: skip


def test_overlap_reported_and_small_programmes_not_scored():
    cd = CellData(np.arange(12.0).reshape(2, 6) + 1, var=pd.DataFrame(index=list("ABCDEF")))
    score(cd, {"big": list("ABCDEXYZ"), "small": ["A", "B", "Q"]}, method="mean")
    assert list(cd.obsm["oncoresist_custom"].columns) == ["big"]
    table = cd.uns["oncoresist"]["programmes"].set_index("programme")
    assert (table.loc["big", "n_found"], table.loc["big", "n_total"]) == (5, 8)
    assert table.loc["small", "reason"] == "only 2 of 3 genes expressed in the data (< 5)"


def test_gene_identifier_mismatch_is_located():
    var = pd.DataFrame(index=[f"ENSG{i:011d}" for i in range(30)])
    cd = CellData(np.ones((2, 30)), var=var)
    cd.filename = "cells.h5ad"
    with pytest.raises(InputError) as caught:
        score(cd, "hallmark")
    message = str(caught.value)
    assert message.startswith("cells.h5ad, field var/_index: no programme has 5 genes")
    assert "0 of " in message and "ENSG00000000000" in message


def test_bad_method_and_missing_layer():
    cd = CellData(np.ones((2, 6)), var=pd.DataFrame(index=list("ABCDEF")))
    with pytest.raises(InputError, match="method='auc'"):
        score(cd, {"P": list("ABCDE")}, method="auc")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="field layers/counts"):
        score(cd, {"P": list("ABCDE")}, layer="counts")


def test_copy_leaves_the_input_alone_and_results_round_trip(tmp_path: Path):
    cd = simulate_cells(n_patients=1, cells_per_sample=40, n_genes=100, rng=1)
    scored = score(cd, {"P": [f"prog{i}" for i in range(8)]}, key_added="prog", copy=True)
    assert "prog_custom" not in cd.obsm and "prog" not in cd.uns
    path = tmp_path / "scored.h5ad"
    scored.write_h5ad(path)
    back = read(path)
    pd.testing.assert_frame_equal(back.obsm["prog_custom"], scored.obsm["prog_custom"])
    assert back.uns["prog"]["programmes"]["n_found"].tolist() == [8]


def _planted(programme: str, seed: int) -> CellData:
    """Simulated cells whose persister state has the programme's up genes planted; the other
    genes get real symbols from the Hallmark and resistance sets, so those are scored too."""
    known = resistance_programmes()
    genes = known[programme]["genes_up"]
    cd = simulate_cells(n_patients=3, cells_per_sample=250, n_genes=600, programme_genes=genes,
                        rng=seed)  # fmt: skip
    pool = set(load_hallmark()["target"])
    for entry in known.values():
        pool |= set(entry["genes_up"]) | set(entry["genes_down"])
    others = np.random.default_rng(seed).choice(sorted(pool - set(genes)), cd.n_vars - len(genes),
                                                replace=False)  # fmt: skip
    cd.var.index = pd.Index(list(genes) + list(others))
    return cd


@pytest.mark.parametrize("method", ["ulm", "mean", "zscore", "tirosh"])
@pytest.mark.parametrize(("programme", "seed"), [("emt_axl", 3), ("persister", 4)])
def test_planted_state_ranks_first(method: str, programme: str, seed: int):
    """Acceptance: the planted programme has the largest effect among all scored programmes."""
    cd = _planted(programme, seed)
    score(cd, "resistance", method=method)
    score(cd, "hallmark", method=method)
    scores = pd.concat([cd.obsm["oncoresist_resistance"], cd.obsm["oncoresist_hallmark"]], axis=1)
    assert scores.shape[1] >= 40
    persister = cd.obs["persister"].to_numpy()
    effect = (scores[persister].mean() - scores[~persister].mean()) / scores.std()
    ranked = effect.sort_values(ascending=False)
    assert ranked.index[0] == programme
    assert ranked.iloc[0] - ranked.iloc[1] > 0.3


ZHAO = Path(__file__).parents[3] / "shared/data/singlecell/zhao2021_gbm_panobinostat_5000x300.h5ad"


@pytest.mark.skipif(not ZHAO.exists(), reason="shared single-cell data absent")
def test_real_panel_overlap_is_reported():
    """300 genes only: most sets are partly covered; the table says which were scored."""
    cd = read(ZHAO)
    for source in ("progeny", "hallmark", "resistance"):
        score(cd, source)
    table = cd.uns["oncoresist"]["programmes"]
    scored = table.groupby("source")["scored"].sum().to_dict()
    assert scored == {"hallmark": 29, "progeny": 3, "resistance": 2}
    assert (table["gene_key"] == "var['symbol']").all()
    assert (table["normalisation"] == "log1p_cp10k").all()
    assert list(cd.obsm["oncoresist_resistance"].columns) == ["emt_axl", "stress_dissociation"]
    assert np.isfinite(cd.obsm["oncoresist_hallmark"].to_numpy()).all()


@pytest.mark.skipif(not ZHAO.exists(), reason="shared single-cell data absent")
def test_ulm_parity_with_decoupler_on_real_counts():
    """Counts normalised here (log1p CP10k) vs scanpy normalize_total + log1p then decoupler
    ULM on the vendored Hallmarks (first 100 cells stored; README in data/)."""
    expected = pd.read_csv(DATA / "ulm_zhao_hallmark_expected.csv", index_col=0)
    cd = read(ZHAO)
    score(cd, "hallmark", method="ulm")
    got = cd.obsm["oncoresist_hallmark"]
    assert sorted(got.columns) == sorted(expected.columns)
    diff = got.loc[expected.index, expected.columns].to_numpy() - expected.to_numpy()
    assert np.abs(diff).max() <= 1e-6
