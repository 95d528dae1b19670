"""timescape and fishplot tables: the tools' column conventions and their own constraints.

The bundled timescape examples (``../shared/data/clonal/timescape_examples``: the AML
patient of Ding 2012 and HGSC patient 7 of McPherson 2016) fix the column names and order,
and pass the same checks our tables must pass; the tests that read them skip when the
shared data are absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oncoresist.clones._export import (
    check_fishplot,
    check_timescape,
    fishplot_tables,
    mutation_position,
    timescape_tables,
)
from oncoresist.clones._tree import clone_prevalence, descendant_matrix
from oncoresist.errors import InputError

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "clonal" / "timescape_examples"
needs_examples = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="needs ../shared/data/clonal")
PARENTS = [None, 0, 0, 1]
NAMES = ["C1", "C2", "C3", "C4"]
SAMPLES = ["pre", "d60", "prog"]


def _ccf(seed: int, noise: float = 0.0) -> np.ndarray:
    """CCFs of PARENTS that meet the sum rule, with Gaussian noise that may break it."""
    rng = np.random.default_rng(seed)
    own = rng.dirichlet(np.ones(4), size=3).T
    ccf = descendant_matrix(PARENTS) @ own
    return np.clip(ccf + rng.normal(0, noise, ccf.shape), 0, 1)


# ----------------------------------------------------------------------- conventions
@needs_examples
def test_our_tables_have_the_columns_of_timescape_s_own_examples():
    theirs = {name: list(pd.read_csv(EXAMPLES / f"AML_{name}.csv").columns)
              for name in ("clonal_prev", "tree_edges", "mutations")}  # fmt: skip
    muts = pd.DataFrame({"mutation_id": ["P1:chr1:2554021:C>T", "P1:17_7577120"],
                         "clone": [0, 3], "vaf|pre": [0.41, 0.05], "vaf|d60": [0.40, np.nan],
                         "vaf|prog": [0.39, 0.31]})  # fmt: skip
    ours = timescape_tables(_ccf(1), PARENTS, names=NAMES, samples=SAMPLES, mutations=muts)
    assert list(ours["clonal_prev"].columns) == theirs["clonal_prev"]
    assert list(ours["tree_edges"].columns) == theirs["tree_edges"]
    # timescape's mutation table (its "Tier" column is optional annotation)
    assert list(ours["mutations"].columns) == [c for c in theirs["mutations"] if c != "Tier"]
    m = ours["mutations"]
    assert len(m) == 5  # one row per mutation and time point it was read at
    assert m.iloc[0].tolist() == ["1", 2554021, "C1", "pre", 0.41]
    assert set(m.loc[m["clone_id"] == "C4", "timepoint"]) == {"pre", "prog"}


@needs_examples
@pytest.mark.parametrize("patient", ["AML", "px7"])
def test_timescape_s_own_examples_pass_our_checks(patient):
    prev = pd.read_csv(EXAMPLES / f"{patient}_clonal_prev.csv")
    edges = pd.read_csv(EXAMPLES / f"{patient}_tree_edges.csv")
    check_timescape(prev, edges)
    # and a prevalence table made to break timescape's rule is refused
    value = prev["clonal_prev"]
    broken = prev.assign(clonal_prev=value.where(value > 0.8, value + 0.1))
    with pytest.raises(InputError, match="sum to"):
        check_timescape(broken, edges)


@needs_examples
def test_timescape_aml_example_round_trips_through_fishplot_and_back():
    """AML prevalences -> CCFs of its tree -> our fishplot and timescape tables -> the same."""
    prev = pd.read_csv(EXAMPLES / "AML_clonal_prev.csv", dtype={"clone_id": str})
    edges = pd.read_csv(EXAMPLES / "AML_tree_edges.csv", dtype=str)
    names = sorted(prev["clone_id"].unique(), key=int)
    times = list(dict.fromkeys(prev["timepoint"]))
    table = prev.pivot(index="clone_id", columns="timepoint", values="clonal_prev")
    own = table.loc[names, times].fillna(0.0).to_numpy()  # a clone not listed is absent
    parent = dict(zip(edges["target"], edges["source"], strict=True))
    parents = [None if n not in parent else names.index(parent[n]) for n in names]
    ccf = descendant_matrix(parents) @ own
    fish = fishplot_tables(ccf, parents, names=names, samples=times)
    assert fish["parents"]["parent"].tolist() == [0, 1, 1, 3, 4]
    assert np.allclose(fish["frac_table"].to_numpy(), ccf * 100, atol=1e-3)
    back = timescape_tables(ccf, parents, names=names, samples=times)["clonal_prev"]
    again = back.pivot(index="clone_id", columns="timepoint", values="clonal_prev")
    assert np.allclose(again.loc[names, times].to_numpy(), own, atol=2e-6)
    tree = timescape_tables(ccf, parents, names=names, samples=times)["tree_edges"]
    assert tree.values.tolist() == edges.values.tolist()


# ----------------------------------------------------------------------- constraints
@pytest.mark.parametrize("seed", range(6))
def test_tables_of_noisy_ccfs_obey_both_tools_constraints(seed):
    ccf = _ccf(seed, noise=0.1)  # the noise breaks the sum rule in most seeds
    ts = timescape_tables(ccf, PARENTS, names=NAMES, samples=SAMPLES)
    sums = ts["clonal_prev"].groupby("timepoint")["clonal_prev"].sum()
    assert (sums <= 1 + 1e-12).all()
    fish = fishplot_tables(ccf, PARENTS, names=NAMES, samples=SAMPLES, times=[0, 60, 200])
    frac = fish["frac_table"].to_numpy()
    # children within their parent at every time point, as read back from text
    text = pd.read_csv(pd.io.common.StringIO(fish["frac_table"].to_csv()), index_col=0)
    check_fishplot(text, fish["parents"]["parent"].tolist())
    assert (frac[0] + 1e-9 >= frac[1] + frac[2]).all() and (frac[1] + 1e-9 >= frac[3]).all()
    assert fish["timepoints"]["timepoint"].tolist() == [0, 60, 200]
    # rounding is on the prevalences: each CCF is the sum of its subtree's, exactly
    units = np.rint(frac * 1e4).astype(int)
    own = np.rint(clone_prevalence(frac / 100, PARENTS) * 1e6).astype(int)
    assert (descendant_matrix(PARENTS).astype(int) @ own == units).all()


def test_a_consistent_matrix_is_written_as_it_is():
    ccf = _ccf(3)
    fish = fishplot_tables(ccf, PARENTS, names=NAMES, samples=SAMPLES)
    assert np.abs(fish["frac_table"].to_numpy() - ccf * 100).max() <= 1e-4 * 4


@pytest.mark.parametrize(
    ("frac", "parents", "words"),
    [
        ([[50.0], [30.0], [25.0]], [0, 1, 1], "children sum to 55"),
        ([[50.0], [60.0]], [0, 1], "children sum to 60"),
        ([[50.0], [-1.0]], [0, 1], "percentages"),
        ([[50.0], [10.0]], [0, 2], "parent 2"),
        ([[50.0], [10.0]], [0], "1 parents for 2"),
    ],
)
def test_fishplot_check_names_the_clone_and_time_point(frac, parents, words):
    table = pd.DataFrame(frac, index=["A", "B", "C"][: len(frac)], columns=["t1"])
    with pytest.raises(InputError, match=words):
        check_fishplot(table, parents)


@pytest.mark.parametrize(
    ("edges", "words"),
    [
        ([("A", "B"), ("A", "Z")], "clone Z"),
        ([("A", "B"), ("C", "B")], "two parents"),
        ([("A", "B"), ("B", "A")], "loop"),
    ],
)
def test_timescape_check_refuses_edges_that_are_not_one_tree(edges, words):
    prev = pd.DataFrame({"timepoint": ["t"] * 3, "clone_id": ["A", "B", "C"],
                         "clonal_prev": [0.2, 0.3, 0.1]})  # fmt: skip
    with pytest.raises(InputError, match=words):
        check_timescape(prev, pd.DataFrame(edges, columns=["source", "target"]))


def test_mutation_positions_are_read_from_common_ids():
    assert mutation_position("chr7:55191822:T:G") == ("7", 55191822)
    assert mutation_position("CRUK0001:1:1564541:C") == ("1", 1564541)
    assert mutation_position("X_153000000_A_G") == ("X", 153000000)
    assert mutation_position("chrM-3243") == ("MT", 3243)
    assert mutation_position("m0001") is None and mutation_position("var001") is None


def test_mutations_without_positions_give_no_mutation_table():
    vaf = {f"vaf|{s}": [0.4, 0.1] for s in SAMPLES}
    muts = pd.DataFrame({"mutation_id": ["m1", "m2"], "clone": [0, 1], **vaf})
    out = timescape_tables(_ccf(1), PARENTS, names=NAMES, samples=SAMPLES, mutations=muts)
    assert "mutations" not in out


def test_bad_export_input_is_refused():
    with pytest.raises(InputError, match="names"):
        timescape_tables(_ccf(1), PARENTS, names=NAMES[:3], samples=SAMPLES)
    with pytest.raises(InputError, match="times"):
        fishplot_tables(_ccf(1), PARENTS, names=NAMES, samples=SAMPLES, times=[0, 0, 1])
    with pytest.raises(InputError, match="loop"):
        fishplot_tables(_ccf(1), [None, 2, 1, 1], names=NAMES, samples=SAMPLES)


def test_tables_read_back_as_floats_pass_strict_checks():
    """The tools compare sums of floats strictly: a child's fraction plus its siblings' must
    not exceed the parent's by even a rounding error once read back from text (54 of 931
    parents did, before each parent kept a unit of its own), and prevalences not sum over 1."""
    from io import StringIO

    failures, parents_checked = 0, 0
    for seed in range(150):
        rng = np.random.default_rng(seed)
        tree = [None] + [int(rng.integers(0, i)) for i in range(1, 6)]
        own = rng.dirichlet(np.full(6, 0.5), size=4).T
        own[rng.random(own.shape) < 0.3] = 0  # parents with no cells of their own
        ccf = np.clip(descendant_matrix(tree) @ own + rng.normal(0, 0.05, (6, 4)), 0, 1)
        names = [f"C{i}" for i in range(6)]
        fish = fishplot_tables(ccf, tree, names=names, samples=[*SAMPLES, "late"])
        frac = pd.read_csv(StringIO(fish["frac_table"].to_csv()), index_col=0).to_numpy()
        parent = fish["parents"]["parent"].tolist()
        for p in set(parent) - {0}:
            total = np.zeros(4)
            for i in (i for i, q in enumerate(parent) if q == p):
                total = total + frac[i]  # left to right, as R's sum() adds
            failures += int((total > frac[p - 1]).any())
            parents_checked += 1
        prev = timescape_tables(ccf, tree, names=names, samples=[*SAMPLES, "late"])
        back = pd.read_csv(StringIO(prev["clonal_prev"].to_csv(index=False)))
        for _, group in back.groupby("timepoint"):
            total = 0.0
            for v in group["clonal_prev"]:
                total += v
            failures += int(total > 1.0)
    assert parents_checked > 300 and failures == 0
