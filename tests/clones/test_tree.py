"""Clone trees: hand cases for the sum rule, brute-force parity, projection, detection."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from scipy.optimize import minimize

from oncoresist.clones._tree import (
    DEFAULT_TOLERANCE,
    TIE_NATS,
    CloneTree,
    clone_prevalence,
    descendant_matrix,
    enumerate_trees,
    first_detected,
    project_to_tree,
    tree_fit,
)
from oncoresist.errors import InputError


# ----------------------------------------------------------------------- helpers
def random_tree(k: int, n_s: int, seed: int, *, noise: float = 0.0):
    """A random tree (each clone's parent an earlier clone) and CCFs that obey it."""
    rng = np.random.default_rng(seed)
    parents = [None] + [int(rng.integers(0, i)) for i in range(1, k)]
    prevalence = rng.dirichlet(np.ones(k), size=n_s).T
    ccf = descendant_matrix(parents) @ prevalence
    if noise:
        ccf = np.clip(ccf + rng.normal(0, noise, ccf.shape), 0, 1)
    return parents, ccf


def all_trees(k: int, root: int):
    """Every rooted tree on k clones with the given root (parent vectors)."""
    others = [i for i in range(k) if i != root]
    for choice in itertools.product(range(k), repeat=k - 1):
        parents: list[int | None] = [None] * k
        for i, p in zip(others, choice, strict=True):
            parents[i] = p
        if any(parents[i] == i for i in others):
            continue
        try:
            descendant_matrix(parents)
        except InputError:
            continue  # a cycle
        yield parents


def key(tree: CloneTree) -> tuple[float, float]:
    return round(tree.violation, 9), round(tree.score, 9)


# ----------------------------------------------------------------------- hand cases
def test_chain_is_the_only_consistent_tree_and_the_others_list_their_violations():
    ccf = [[1.0, 1.0], [0.7, 0.6], [0.5, 0.5]]
    search = enumerate_trees(ccf)
    assert search.exhaustive and search.root == 0
    assert search.best.parents == [None, 0, 1]
    assert search.best.violation == 0 and search.best.consistent
    assert search.best.violations == []
    assert search.n_consistent == 1 and search.consistent_complete
    assert len(search.trees) == 3  # every tree rooted at 0
    star = next(t for t in search.trees if t.parents == [None, 0, 0])
    # 0.7 + 0.5 = 1.2 and 0.6 + 0.5 = 1.1 against 1.0 + tolerance 0.02
    assert [(c, s) for c, s, _ in star.violations] == [(0, 0), (0, 1)]
    assert [e for _, _, e in star.violations] == pytest.approx([0.18, 0.08])
    assert star.violation == pytest.approx(0.26)
    assert not star.consistent
    upside = next(t for t in search.trees if t.parents == [None, 2, 0])
    assert upside.violations[0][0] == 2  # clone 2 (0.5) cannot hold clone 1 (0.7)


def test_star_is_the_only_consistent_tree():
    ccf = [[1.0, 1.0], [0.5, 0.2], [0.3, 0.7]]
    search = enumerate_trees(ccf)
    assert search.best.parents == [None, 0, 0]
    assert search.n_consistent == 1
    assert search.best.to_edges() == [(0, 1), (0, 2)]


def test_only_one_of_all_five_clone_trees_is_consistent():
    ccf = [
        [1.0, 1.0, 1.0],
        [0.6, 0.2, 0.5],  # A
        [0.3, 0.7, 0.4],  # B
        [0.5, 0.1, 0.1],  # C: fits only under A
        [0.1, 0.5, 0.1],  # D: fits only under B
    ]
    search = enumerate_trees(ccf, max_trees=5)
    assert search.best.parents == [None, 0, 0, 1, 2]
    assert search.n_consistent == 1 and search.consistent_complete
    assert search.ties == [search.best] and search.n_ties == 1
    assert all(not t.consistent for t in search.trees[1:])
    assert all(t.violations for t in search.trees[1:])
    scores = [key(t) for t in search.trees]
    assert scores == sorted(scores)


def test_two_tied_trees_are_reported_as_ties():
    ccf = [[1.0], [0.5], [0.2]]  # clone 2 fits under the root or under clone 1
    search = enumerate_trees(ccf)
    assert search.n_consistent == 2
    assert search.n_ties == 2 and len(search.ties) == 2
    assert {tuple(t.parents) for t in search.ties} == {(None, 0, 0), (None, 0, 1)}
    assert all(t.score == 0 for t in search.ties)


def test_order_constraint_breaks_the_tie():
    ccf = [[1.0], [0.5], [0.2]]
    search = enumerate_trees(ccf, order=[0, 2, 1])  # clone 2 emerged before clone 1
    assert search.best.parents == [None, 0, 0]
    assert search.n_ties == 1 and search.n_consistent == 1


def test_no_consistent_tree_still_ranks_trees_with_their_violations():
    ccf = [[1.0, 1.0], [0.7, 0.3], [0.4, 0.8]]
    search = enumerate_trees(ccf)
    assert search.n_consistent == 0
    best = search.best
    assert best.parents == [None, 0, 0]
    assert not best.consistent
    assert best.violations == [(0, 0, pytest.approx(0.08)), (0, 1, pytest.approx(0.08))]


def test_score_prefers_the_tree_that_fits_without_using_the_tolerance():
    # clone 2 fits under clone 1 exactly, and under the root only thanks to the tolerance
    ccf = [[1.0], [0.6], [0.41]]
    search = enumerate_trees(ccf)
    assert [t.parents for t in search.trees[:2]] == [[None, 0, 1], [None, 0, 0]]
    assert search.trees[0].score == 0
    assert search.trees[1].consistent and search.trees[1].score > 0
    # 0.6 + 0.41 exceeds 1.0 by one noise scale (0.01): 0.5 nats, within the tie rule
    assert search.n_ties == 2 and search.trees[1].score == pytest.approx(0.5)
    assert enumerate_trees(ccf, tie_nats=0).n_ties == 1  # exact ties only


def test_tolerance_from_sd_adds_children_in_quadrature():
    ccf = [[1.0], [0.55], [0.5]]
    sd = np.full((3, 1), 0.05)
    loose = tree_fit(ccf, [None, 0, 0], sd=sd)  # 1.05 vs 1 + 2 * sqrt(3) * 0.05
    assert loose.consistent
    assert loose.score == pytest.approx(0.5 * (0.05 / (np.sqrt(3) * 0.05)) ** 2)
    strict = tree_fit(ccf, [None, 0, 0], sd=sd, tolerance=0.0)
    assert strict.violation == pytest.approx(0.05)
    default = tree_fit(ccf, [None, 0, 0])
    assert default.violation == pytest.approx(0.05 - DEFAULT_TOLERANCE)
    assert "sqrt" in enumerate_trees(ccf, sd=sd).tolerance


def test_root_defaults_to_the_highest_mean_ccf_and_can_be_given():
    ccf = [[0.6, 0.6], [1.0, 0.9], [0.5, 0.4]]
    search = enumerate_trees(ccf)
    assert search.root == 1 and search.best.parents == [1, None, 0]
    forced = enumerate_trees(ccf, root=0)
    assert forced.root == 0 and forced.best.parents[0] is None
    assert forced.best.violation > 0  # clone 1 exceeds the root


def test_equal_ccfs_can_nest_either_way():
    # the same CCF within tolerance: both orders are found, not only the sorted one
    ccf = [[1.0, 1.0], [0.5, 0.5], [0.51, 0.5]]
    search = enumerate_trees(ccf)
    parents = {tuple(t.parents) for t in search.trees if t.consistent}
    assert {(None, 0, 1), (None, 2, 0), (None, 0, 0)} <= parents


def test_tree_helpers():
    tree = CloneTree([None, 0, 1, 0])
    assert tree.root == 0
    assert tree.children(0) == [1, 3] and tree.children(2) == []
    assert tree.depths() == [0, 1, 2, 1] and tree.depth == 2
    assert tree.to_edges() == [(0, 1), (1, 2), (0, 3)]
    assert tree.to_newick() == "((2)1,3)0;"
    assert tree.to_newick(["root", "A", "B's (x)", "C"]) == "(('B''s (x)')A,C)root;"
    with pytest.raises(InputError, match="names"):
        tree.to_newick(["a"])


# ----------------------------------------------------------------------- exactness
@pytest.mark.parametrize("seed", range(6))
def test_branch_and_bound_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    k, n_s = 5, 2
    if seed % 2:
        _, ccf = random_tree(k, n_s, seed, noise=0.08)
    else:
        ccf = rng.uniform(0, 1, (k, n_s))
        ccf[0] = 1.0
    sd = rng.uniform(0.01, 0.06, (k, n_s)) if seed % 3 == 0 else None
    search = enumerate_trees(ccf, sd=sd, max_trees=8)
    assert search.exhaustive
    brute = [tree_fit(ccf, p, sd=sd) for p in all_trees(k, search.root)]
    brute_keys = sorted(key(t) for t in brute)
    assert [key(t) for t in search.trees] == brute_keys[:8]
    best = brute_keys[0]
    # the tie set is every tree with the best's violation and a score within TIE_NATS
    tied = [t for t in brute if abs(t.violation - best[0]) <= 1e-9
            and t.score <= best[1] + TIE_NATS + 1e-9]  # fmt: skip
    assert search.n_ties == len(tied) and search.ties_complete
    assert sorted(map(tuple, (t.parents for t in search.ties))) == sorted(
        tuple(t.parents) for t in tied
    )
    assert enumerate_trees(ccf, sd=sd, tie_nats=0).n_ties == sum(key(t) == best for t in brute)
    n_consistent = sum(t.consistent for t in brute)
    if search.consistent_complete:
        assert search.n_consistent == n_consistent
    else:
        assert search.n_consistent <= n_consistent


@pytest.mark.parametrize("seed", [3, 4])
def test_twelve_clones_are_searched_exhaustively_and_fast(seed):
    parents, ccf = random_tree(12, 5, seed)
    start = time.perf_counter()
    search = enumerate_trees(ccf)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0
    assert search.exhaustive and search.best_proven
    assert search.best.violation == 0
    assert tree_fit(ccf, parents).consistent  # the truth is consistent, and so ranked
    assert any(t.parents == parents for t in search.trees) or search.n_consistent > 20
    assert search.n_explored < 5_000  # of the 12**10 trees rooted at clone 0


def test_noisy_twelve_clones_with_sd_stay_fast():
    parents, ccf = random_tree(12, 4, 7, noise=0.02)
    sd = np.full(ccf.shape, 0.02)
    start = time.perf_counter()
    search = enumerate_trees(ccf, sd=sd)
    assert time.perf_counter() - start < 2.0
    assert search.exhaustive and search.best.consistent
    assert tree_fit(ccf, parents, sd=sd).consistent


def test_node_budget_reports_a_non_exhaustive_search():
    _, ccf = random_tree(10, 1, 0)  # one sample: many trees tie
    search = enumerate_trees(ccf, max_nodes=200)
    assert not search.exhaustive and not search.consistent_complete
    assert search.n_explored == 200
    assert search.trees and search.best.consistent
    assert search.best_proven  # violation and score 0 cannot be beaten
    tiny = enumerate_trees(ccf, max_nodes=1)  # still returns one tree
    assert len(tiny.trees) == 1


# ----------------------------------------------------------------------- prevalence
def test_clone_prevalence_by_hand_and_sums_to_the_root():
    ccf = np.array([[0.9, 1.0], [0.5, 0.6], [0.3, 0.1], [0.2, 0.3]])
    parents = [None, 0, 1, 0]
    prev = clone_prevalence(ccf, parents)
    assert prev == pytest.approx(np.array([[0.2, 0.1], [0.2, 0.5], [0.3, 0.1], [0.2, 0.3]]))
    assert prev.sum(axis=0) == pytest.approx(ccf[0])
    # an inconsistent matrix is clipped at 0
    assert clone_prevalence([[0.5], [0.7]], [None, 0]).ravel().tolist() == [0.0, 0.7]


@pytest.mark.parametrize("seed", range(5))
def test_projection_is_exactly_consistent_and_sums_to_the_root(seed):
    rng = np.random.default_rng(seed)
    parents, _ = random_tree(7, 3, seed)
    ccf = rng.uniform(0, 1.2, (7, 3))
    x = project_to_tree(ccf, parents, weights=rng.uniform(0.5, 2, (7, 3)))
    own = np.linalg.solve(descendant_matrix(parents), x)  # ccf minus children's
    assert (own >= -1e-12).all()
    assert (x[0] <= 1 + 1e-12).all()
    assert tree_fit(x, parents, tolerance=0.0).violation < 1e-9
    assert clone_prevalence(x, parents).sum(axis=0) == pytest.approx(x[0], abs=1e-9)


def test_projection_leaves_a_consistent_matrix_unchanged():
    parents, ccf = random_tree(9, 4, 11)
    assert np.abs(project_to_tree(ccf, parents) - ccf).max() < 1e-9
    assert np.abs(project_to_tree(ccf, parents, weights=np.full(ccf.shape, 3.0)) - ccf).max() < (
        1e-9
    )


def test_projection_is_the_least_squares_optimum():
    ccf = np.array([[1.1, 0.8], [0.7, 0.5], [0.6, 0.4], [0.2, 0.3]])
    parents = [None, 0, 0, 1]
    w = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 1.0], [3.0, 1.0]])
    x = project_to_tree(ccf, parents, weights=w)
    a = descendant_matrix(parents)
    for s in range(2):

        def loss(u, s=s):
            return float(np.sum(w[:, s] * (a @ u - ccf[:, s]) ** 2))

        ref = minimize(
            loss,
            np.full(4, 0.2),
            method="SLSQP",
            bounds=[(0, None)] * 4,
            constraints=[{"type": "ineq", "fun": lambda u: 1 - u.sum()}],
            options={"ftol": 1e-14, "maxiter": 500},
        )
        assert loss(np.linalg.solve(a, x[:, s])) <= ref.fun + 1e-9
    assert x[0, 0] == pytest.approx(1.0)  # the cap on the root binds in sample 0


def test_projection_hand_case():
    # children 0.5 + 0.4 exceed the root 0.8 by 0.1: the excess is shared three ways
    x = project_to_tree([[0.8], [0.5], [0.4]], [None, 0, 0]).ravel()
    assert x == pytest.approx([0.8 + 0.1 / 3, 0.5 - 0.1 / 3, 0.4 - 0.1 / 3])


# ----------------------------------------------------------------------- detection
def test_first_detected():
    ccf = [[0.5, 0.6, 0.7], [0.0, 0.03, 0.2], [0.0, 0.0, 0.01], [0.1, 0.0, 0.0]]
    sd = np.full((4, 3), 0.02)
    assert first_detected(ccf, sd) == [0, 2, None, 0]
    assert first_detected(ccf, sd, z=1.0) == [0, 1, None, 0]
    assert first_detected(ccf, None) == [0, 1, 2, 0]


# ----------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"ccf": [[1.0], [-0.1]]}, "ccf"),
        ({"ccf": [[80.0], [20.0]]}, "ccf"),
        ({"ccf": [[1.0], [np.nan]]}, "ccf"),
        ({"ccf": [[1.0], [0.5]], "sd": [[0.1, 0.1]]}, "sd"),
        ({"ccf": [[1.0], [0.5]], "order": [1, 1]}, "order"),
        ({"ccf": [[1.0], [0.5]], "order": [0, 1], "root": 1}, "order"),
        ({"ccf": [[1.0], [0.5]], "root": 5}, "root"),
        ({"ccf": [[1.0], [0.5]], "tolerance": -1}, "tolerance"),
        ({"ccf": [[1.0], [0.5]], "max_trees": 0}, "max_trees"),
    ],
)
def test_bad_search_input(kwargs, field):
    ccf = kwargs.pop("ccf")
    with pytest.raises(InputError) as err:
        enumerate_trees(ccf, **kwargs)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("parents", "match"),
    [
        ([None, None, 0], "2 clones are .root."),
        ([None, 2, 1], "loop"),
        ([None, 0], "2 entries"),
        ([None, 0, 7], "clone number"),
        ([None, 1, 0], "own parent"),
    ],
)
def test_bad_parents(parents, match):
    with pytest.raises(InputError, match=match):
        clone_prevalence([[1.0], [0.5], [0.2]], parents)
