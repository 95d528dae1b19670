"""Clones over time: cancer-cell fractions, clustering into clones, clone trees, prevalence.

* :func:`read_mutations` (PyClone-VI's TSV), :func:`read_clonevol_table`,
  :class:`MutationData` -- inputs, checked; absent mutations kept at depth 0;
* :class:`CloneModel` -- the CCF mixture over samples (variational inference; ELBO/BIC per
  cluster count; per-mutation assignment probabilities and CCF intervals);
* :func:`enumerate_trees` (the best trees, the trees tied with it, per-edge support and a
  consensus), :func:`parse_parents`, :func:`clone_prevalence`, :func:`project_to_tree`,
  :func:`first_detected` -- trees under the sum rule and what a fish plot needs;
* :func:`simulate_clones`, :func:`adjusted_rand_index`, :func:`v_measure` -- known-truth
  series and their scores.
"""

from __future__ import annotations

from oncoresist.clones._data import (
    MutationData,
    from_serial,
    read_clonevol_table,
    read_mutations,
    to_frame,
    write_mutations,
)
from oncoresist.clones._metrics import adjusted_rand_index, v_measure
from oncoresist.clones._model import CloneModel, log_likelihood_table
from oncoresist.clones._simulate import CloneTruth, simulate_clones, simulate_cn_changing
from oncoresist.clones._tree import (
    CloneTree,
    TreeSearch,
    clone_prevalence,
    enumerate_trees,
    first_detected,
    parse_parents,
    project_to_tree,
    tree_fit,
)

__all__ = [
    "CloneModel",
    "CloneTree",
    "CloneTruth",
    "MutationData",
    "TreeSearch",
    "adjusted_rand_index",
    "clone_prevalence",
    "enumerate_trees",
    "first_detected",
    "from_serial",
    "log_likelihood_table",
    "parse_parents",
    "project_to_tree",
    "read_clonevol_table",
    "read_mutations",
    "simulate_clones",
    "simulate_cn_changing",
    "to_frame",
    "tree_fit",
    "v_measure",
    "write_mutations",
]
