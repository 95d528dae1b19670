"""Trees the sum rule cannot tell apart: the tie set, per-edge support and the consensus.

Hand cases where the tie is known (two clones with the same trajectory nest either way, so
each ordering has support 0.5), the cap on the tie set, the consensus's fallback when the
majority parents close a cycle, and simulations with a known tree: the true tree is in the
tie set and the consensus has at least 7 of its 8 edges right (CCFs with the noise of 150x
and 500x sequencing, and the whole fit at both depths).
"""

from __future__ import annotations

import numpy as np
import pytest

from oncoresist.clones import CloneModel, enumerate_trees, simulate_clones
from oncoresist.clones._tree import (
    CloneTree,
    _consensus,
    _Noise,
    _support,
    descendant_matrix,
)

TRUNK = [1.0, 1.0, 1.0]


def _edges(parents) -> set[tuple[int, int]]:
    return {(-1 if p is None else p, i) for i, p in enumerate(parents)}


# ----------------------------------------------------------------------- hand cases
def test_parallel_identical_trajectories_tie_both_ways_with_support_one_half():
    # A and B have the same CCFs and together exceed the trunk: one must hold the other
    ccf = [TRUNK, [0.6, 0.5, 0.4], [0.6, 0.5, 0.4]]
    search = enumerate_trees(ccf, sd=np.full((3, 3), 0.02))
    assert search.n_ties == 2 and search.ties_complete
    assert {tuple(t.parents) for t in search.ties} == {(None, 0, 1), (None, 2, 0)}
    assert search.support == pytest.approx({(0, 1): 0.5, (0, 2): 0.5, (1, 2): 0.5, (2, 1): 0.5})
    assert search.consensus.parents in ([None, 0, 1], [None, 2, 0])  # a tied tree, not a cycle
    assert search.consensus.consistent
    assert search.edge_support(search.best.parents)[1:] == [0.5, 0.5]


def test_a_tree_the_data_decide_has_every_edge_at_support_one():
    ccf = [TRUNK, [0.6, 0.2, 0.5], [0.3, 0.7, 0.4], [0.5, 0.1, 0.1], [0.1, 0.5, 0.1]]
    search = enumerate_trees(ccf, sd=np.full((5, 3), 0.02))
    assert search.n_ties == 1 and search.ties == [search.best]
    assert search.support == {e: 1.0 for e in search.best.to_edges()}
    assert search.consensus.parents == search.best.parents == [None, 0, 0, 1, 2]


def test_support_weights_each_tied_tree_by_its_likelihood():
    # clone 2 fits under clone 1 exactly (score 0) and under the root one noise scale over
    # (score 0.5 nats): weights 1 and exp(-0.5)
    search = enumerate_trees([[1.0], [0.6], [0.41]])
    assert search.n_ties == 2
    w = np.exp(-0.5)
    assert search.support[(1, 2)] == pytest.approx(1 / (1 + w))
    assert search.support[(0, 2)] == pytest.approx(w / (1 + w))
    assert search.consensus.parents == [None, 0, 1]
    assert enumerate_trees([[1.0], [0.6], [0.41]], tie_nats=0.4).n_ties == 1


def test_support_of_each_clone_s_parents_sums_to_one():
    rng = np.random.default_rng(4)
    ccf = np.r_[[[1.0, 1.0]], rng.uniform(0.05, 0.3, (5, 2))]
    search = enumerate_trees(ccf)
    assert search.n_ties > 2 and search.ties_complete
    for child in range(1, 6):
        total = sum(v for (_, c), v in search.support.items() if c == child)
        assert total == pytest.approx(1.0)


def test_the_tie_set_is_capped_and_says_so():
    # one sample, six small clones: nearly every tree is consistent
    ccf = [[1.0], [0.2], [0.15], [0.1], [0.08], [0.05], [0.03]]
    search = enumerate_trees(ccf, max_ties=10)
    assert len(search.ties) == 10 and search.n_ties > 10
    assert not search.ties_complete
    full = enumerate_trees(ccf)
    assert full.n_ties == search.n_ties and len(full.ties) == full.n_ties
    scores = [t.score for t in search.ties]
    assert scores == sorted(scores) and search.ties[0].parents == search.best.parents


def test_bad_tie_options_are_refused():
    from oncoresist.errors import InputError

    with pytest.raises(InputError, match="tie_nats"):
        enumerate_trees([[1.0], [0.5]], tie_nats=-1)
    with pytest.raises(InputError, match="max_ties"):
        enumerate_trees([[1.0], [0.5]], max_ties=0)


def test_majority_parents_that_close_a_cycle_fall_back_to_the_best_supported_tied_tree():
    # each of 1 <- 2, 2 <- 3, 3 <- 1 is in two of the three tied trees: a cycle
    trees = [CloneTree([None, 2, 3, 0]), CloneTree([None, 0, 3, 1]), CloneTree([None, 2, 0, 1])]
    support = _support(trees)
    assert support[(2, 1)] == support[(3, 2)] == support[(1, 3)] == pytest.approx(2 / 3)
    ccf = np.array([[1.0], [0.3], [0.3], [0.3]])
    consensus = _consensus(trees, support, ccf, _Noise(None, None))
    assert consensus.parents == [None, 2, 3, 0]  # a tree, the first of the best supported
    descendant_matrix(consensus.parents)  # no cycle


# ----------------------------------------------------------------------- known truth
def _noisy_ccf(truth, depth: float, n_mutations: int, rng: np.random.Generator):
    """Clone CCFs as a fit at ``depth`` would estimate them, and their standard deviation.

    A clone's CCF is read from its ``n`` mutations' VAFs (VAF = purity * CCF / 2 at one
    copy of two), so its standard deviation is about ``2 / purity * sqrt(v (1 - v) / depth
    / n)``, floored at the 101-point grid's step.
    """
    n = np.bincount(truth.labels, minlength=truth.n_clones)[:, None]
    vaf = np.clip(0.8 * truth.ccf / 2, 0.005, 0.5)
    sd = np.maximum(2 / 0.8 * np.sqrt(vaf * (1 - vaf) / depth / n), 0.01)
    return np.clip(truth.ccf + rng.normal(0.0, sd), 0.0, 1.0), sd


@pytest.mark.parametrize("depth", [150, 500])
def test_true_tree_is_in_the_tie_set_of_noisy_simulated_ccfs(depth):
    for seed in range(1, 9):
        _, truth = simulate_clones(n_mutations=2000, n_samples=4, depth=depth, rng=seed)
        ccf, sd = _noisy_ccf(truth, depth, 2000, np.random.default_rng(seed))
        search = enumerate_trees(ccf, sd=sd)
        assert search.exhaustive and search.ties_complete, seed
        true = _edges(truth.parents)
        assert any(_edges(t.parents) == true for t in search.ties), (seed, search.n_ties)
        assert len(_edges(search.consensus.parents) & true) >= 7, (seed, search.consensus)
        # every true edge has support; a wrong edge never has more than the tie allows
        assert all(search.support.get(e, 0) > 0 for e in true if e[0] >= 0), seed


@pytest.mark.slow
@pytest.mark.parametrize(("depth", "seed"), [(150, 2), (500, 1)])
def test_fitted_clones_keep_the_true_tree_in_the_tie_set(depth, seed):
    """The whole fit, 2,000 mutations x 4 samples (about 19 and 10 CPU-s)."""
    data, truth = simulate_clones(n_mutations=2000, n_samples=4, depth=depth, rng=seed)
    model = CloneModel(rng=0).fit(data)
    assert model.n_clusters_ == truth.n_clones
    # each cluster is the true clone most of its mutations come from
    to_true = [int(np.bincount(truth.labels[model.labels_ == k], minlength=8).argmax())
               for k in range(model.n_clusters_)]  # fmt: skip
    assert sorted(to_true) == list(range(8))

    def mapped(parents) -> set[tuple[int, int]]:
        return {(-1 if p is None else to_true[p], to_true[i]) for i, p in enumerate(parents)}

    search = enumerate_trees(model.ccf_, sd=model.ccf_sd_)
    true = _edges(truth.parents)
    assert any(mapped(t.parents) == true for t in search.ties), search.n_ties
    assert len(mapped(search.consensus.parents) & true) >= 7
