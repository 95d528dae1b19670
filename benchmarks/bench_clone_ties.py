"""Benchmark: the cost of the tie set (``enumerate_trees``), against exact ties only.

The tie set holds every tree within 1.92 nats of the best (docs/clone_trees.md); finding
them visits more of the branch-and-bound tree than keeping exact ties (``tie_nats=0``, the
baseline, measured in the same run on the same inputs). Inputs: random trees (each clone's
parent an earlier clone, Dirichlet prevalences) with Gaussian CCF noise 0.02 and SD 0.02,
seeds fixed, 8 to 15 clones over 4-5 samples; and one sample of 10 small clones (nearly
every tree ties). Prints CPU milliseconds (best of 3), nodes visited, trees tied, whether
the tie set is complete, and the ratios.

Usage::

    python benchmarks/bench_clone_ties.py
"""

from __future__ import annotations

import platform
import time

import numpy as np

from oncoresist.clones import enumerate_trees
from oncoresist.clones._tree import descendant_matrix


def random_ccf(k: int, n_s: int, seed: int, noise: float = 0.02) -> np.ndarray:
    """CCFs of a random tree on ``k`` clones with Gaussian noise."""
    rng = np.random.default_rng(seed)
    parents = [None] + [int(rng.integers(0, i)) for i in range(1, k)]
    ccf = descendant_matrix(parents) @ rng.dirichlet(np.ones(k), size=n_s).T
    return np.clip(ccf + rng.normal(0, noise, ccf.shape), 0, 1)


def cpu_ms(ccf: np.ndarray, sd, tie_nats: float):
    """Best-of-3 CPU milliseconds and the search."""
    best, search = np.inf, None
    for _ in range(3):
        start = time.process_time()
        search = enumerate_trees(ccf, sd=sd, tie_nats=tie_nats)
        best = min(best, (time.process_time() - start) * 1000)
    return best, search


def main() -> None:
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.node()}")
    cases = [(f"{k} clones x {s} samples, seed {seed}", random_ccf(k, s, seed), 0.02)
             for k, s, seed in [(8, 4, 1), (12, 5, 3), (12, 5, 4), (15, 4, 2)]]  # fmt: skip
    one = np.array([[1.0]] + [[0.3 / (i + 1)] for i in range(9)])
    cases.append(("10 clones x 1 sample", one, None))
    head = "case | CPU ms ties / exact | ratio | nodes ties / exact | tied | complete"
    print(head)
    for name, ccf, noise in cases:
        sd = None if noise is None else np.full(ccf.shape, noise)
        t_ties, ties = cpu_ms(ccf, sd, 1.92)
        t_exact, exact = cpu_ms(ccf, sd, 0.0)
        print(f"{name} | {t_ties:.0f} / {t_exact:.0f} | {t_ties / t_exact:.1f}x | "
              f"{ties.n_explored} / {exact.n_explored} | {ties.n_ties} | "
              f"{ties.ties_complete} (exhaustive {ties.exhaustive})")  # fmt: skip


if __name__ == "__main__":
    main()
