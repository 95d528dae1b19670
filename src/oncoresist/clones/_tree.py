"""Clone trees under the sum rule: enumeration, prevalences, projection and first detection.

A clone tree is a rooted tree over the ``K`` clones found by clustering. Its **sum rule**
(the "sum condition" of El-Kebir et al. 2015, used by LICHeE, ClonEvol and CALDER) says that
in every sample a clone's cancer-cell fraction (CCF) is at least the sum of its children's
CCFs, since the children's cells are a subset of the parent's. Measured CCFs are noisy, so
the rule is checked within a tolerance, and trees are ranked by how far they break it.

:func:`enumerate_trees` is an exact branch and bound over all rooted trees (every clone but
the root picks a parent; any clone may be a parent, so trees whose parent and child have
nearly equal CCFs are not lost to a fixed order). It returns the best trees, the number that
are consistent and the trees that tie with the best, so an ambiguous data set says so
instead of answering "0 consensus models" or "no valid tree found" (ClonEvol #56, LICHeE
#5): the best trees are reported with the samples where they break the rule.

:func:`project_to_tree` moves a CCF matrix the least (weighted least squares) onto one that
satisfies a given tree's sum rule exactly, with the root at most 1, so that fish-plot inputs
never fail validation (fishplot #18, #21); :func:`clone_prevalence` gives each clone's own
fraction (its CCF minus its children's). :func:`first_detected` gives the first sample where
a clone's CCF is clearly above zero.

References
----------
El-Kebir M, Oesper L, Acheson-Field H, Raphael BJ. Reconstruction of clonal trees and tumor
composition from multi-sample sequencing data. Bioinformatics 2015;31(12):i62-i70.
Popic V et al. Fast and scalable inference of multi-sample cancer lineages (LICHeE).
Genome Biol 2015;16:91.
Dang HX et al. ClonEvol: clonal ordering and visualization in cancer sequencing.
Ann Oncol 2017;28(12):3076-3082.
Myers MA, Satas G, Raphael BJ. CALDER: inferring phylogenetic trees from longitudinal tumor
samples. Cell Syst 2019;8(6):514-522.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import nnls

from oncoresist.errors import InputError

__all__ = [
    "DEFAULT_TOLERANCE",
    "MAX_TIES",
    "SIGMA_FLOOR",
    "TIE_EPS",
    "TIE_NATS",
    "CloneTree",
    "TreeSearch",
    "clone_prevalence",
    "descendant_matrix",
    "enumerate_trees",
    "first_detected",
    "parse_parents",
    "project_to_tree",
    "tree_fit",
]

#: Slack (CCF units) allowed per parent and sample when no standard deviations are given.
DEFAULT_TOLERANCE = 0.02
#: Multiple of the combined standard deviation allowed as slack when ``sd`` is given.
SD_MULTIPLE = 2.0
#: Smallest noise scale (CCF units) in the score, so that ``sd = 0`` does not divide by 0.
SIGMA_FLOOR = 1e-3
#: Two violations or scores closer than this are equal.
TIE_EPS = 1e-9
#: Trees whose score is within this many nats of the best (and whose violation equals the
#: best's) are tied: half the 95 % quantile of chi-squared with 1 degree of freedom
#: (3.841 / 2), so a tied tree's likelihood is at least 1/6.8 of the best's, the likelihood
#: ratio test's 5 % level.
TIE_NATS = 1.92
#: Tied trees kept for support and consensus (the best by score); more are counted.
MAX_TIES = 2000


# ----------------------------------------------------------------------- validation
def _ccf_matrix(ccf, name: str = "ccf") -> np.ndarray:
    """``ccf`` as a float K x S matrix (a vector is one sample), checked."""
    try:
        x = np.array(ccf, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a numeric K x S matrix", field=name) from None
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise InputError(
            f"{name} has shape {x.shape}; expected K clones x S samples (K, S >= 1)", field=name
        )
    if not np.isfinite(x).all():
        k, s = np.argwhere(~np.isfinite(x))[0]
        raise InputError(f"{name}[{k}, {s}] is {x[k, s]}; expected a finite number", field=name)
    if (x < 0).any():
        k, s = np.argwhere(x < 0)[0]
        what = "a fraction in [0, 1]" if name == "ccf" else "a number >= 0"
        raise InputError(f"{name}[{k}, {s}] = {x[k, s]:.4g}; expected {what}", field=name)
    if name == "ccf" and x.max() > 1.5:
        raise InputError(
            f"CCF values reach {x.max():.4g}; expected fractions in [0, 1] (percentages? "
            "divide by 100)",
            field=name,
        )
    return x


def _same_shape(x, shape: tuple[int, int], name: str) -> np.ndarray:
    y = _ccf_matrix(x, name)
    if y.shape != shape:
        raise InputError(
            f"{name} has shape {y.shape}; expected {shape}, the shape of ccf", field=name
        )
    return y


def parse_parents(
    parents: Sequence[int | str | None],
    k: int,
    *,
    names: Sequence[str] | None = None,
    base: int = 0,
    field: str = "parents",
) -> list[int | None]:
    """``parents`` as clone indices (``None`` for the root), checked to be one rooted tree.

    Parameters
    ----------
    parents : sequence of int, str or None
        Each clone's parent: ``None`` or ``"root"`` for the root; a clone number counted from
        ``base`` (an int or its digits, e.g. ``"3"``); or, when ``names`` is given, the
        parent's name.
    k : int
        Number of clones.
    names : sequence of str, optional
        Clone names: accepted as parents, and quoted in every error beside the number.
    base : int
        What the first clone is numbered: 0 in the library, 1 as tables print clones.
    field : str
        The field the errors name (e.g. ``"--parents"``).

    Returns
    -------
    list of int or None
        0-based parent index of each clone.

    Raises
    ------
    InputError
        Wrong count, not exactly one root, an unknown parent, a self-parent or a cycle; the
        error names the clone as the user counts it (``clone 3 (C)``).

    Examples
    --------
    >>> parse_parents("root 1 1 C2".split(), 4, names=["C1", "C2", "C3", "C4"], base=1)
    [None, 0, 0, 1]
    """
    parents = list(parents)
    if len(parents) != k:
        raise InputError(
            f"{len(parents)} entries ({len(parents)} parents for {k} clones); "
            "expected one per clone",
            field=field,
        )
    lookup = {} if names is None else {str(n): i for i, n in enumerate(names)}

    def who(i: int) -> str:
        return f"clone {i + base}" + ("" if names is None else f" ({names[i]})")

    out: list[int | None] = []
    for i, p in enumerate(parents):
        if p is None or (isinstance(p, str) and p.strip().lower() == "root"):
            out.append(None)
            continue
        j: int | None = None
        if isinstance(p, int | np.integer) and not isinstance(p, bool):
            j = int(p) - base
        elif isinstance(p, str) and p.strip().isdigit():
            j = int(p.strip()) - base
        elif isinstance(p, str) and p.strip() in lookup:
            j = lookup[p.strip()]
        if j is None or not 0 <= j < k:
            also = " or a clone name" if names is not None else ""
            raise InputError(
                f"{who(i)}: parent {p!r}; expected 'root' or a clone number "
                f"{base}..{k - 1 + base}{also}",
                field=field,
            )
        if j == i:
            raise InputError(f"{who(i)} is its own parent", field=field)
        out.append(j)
    if (n_roots := out.count(None)) != 1:
        raise InputError(f"{n_roots} clones are 'root'; expected exactly one", field=field)
    for i in range(k):
        seen, q = {i}, out[i]
        while q is not None:
            if q in seen:
                raise InputError(f"the parents loop through {who(i)}", field=field)
            seen.add(q)
            q = out[q]
    return out


def _check_parents(
    parents: Sequence[int | str | None], k: int, **options: Any
) -> tuple[int, list[list[int]]]:
    """The root and the children of each clone, after :func:`parse_parents` checked them.

    ``options`` are those of :func:`parse_parents` (``names``, ``base``, ``field``).
    """
    tree = parse_parents(parents, k, **options)
    kids: list[list[int]] = [[] for _ in range(k)]
    for i, p in enumerate(tree):
        if p is not None:
            kids[p].append(i)
    return tree.index(None), kids


def descendant_matrix(parents: Sequence[int | None]) -> np.ndarray:
    """``A[k, j] = 1`` when clone ``j`` is ``k`` or one of its descendants.

    A CCF matrix that satisfies the sum rule is ``A @ prevalence`` with prevalences >= 0.
    """
    k = len(parents)
    parents = parse_parents(parents, k)
    a = np.eye(k)
    for j in range(k):
        p = parents[j]
        while p is not None:
            a[p, j] = 1.0
            p = parents[p]
    return a


# ----------------------------------------------------------------------- trees
@dataclass
class CloneTree:
    """One rooted clone tree and how well it fits the CCFs.

    Attributes
    ----------
    parents : list of int or None
        Parent index of each clone; ``None`` for the root.
    violation : float
        Sum over parents and samples of ``max(0, sum(children CCF) - CCF - tolerance)``
        (CCF units); 0 for a tree consistent with the sum rule.
    score : float
        Misfit: ``0.5 * sum((max(0, sum(children CCF) - CCF) / sigma) ** 2)`` over parents
        and samples, the negative log-likelihood (up to a constant) of the observed excesses
        under Gaussian CCF noise, ``sigma = sqrt(sd_parent**2 + sum(sd_child**2))`` (or half
        the tolerance when no ``sd`` is given), floored at :data:`SIGMA_FLOOR`. Trees rank by
        ``(violation, score)``: consistent trees first, then the tightest fit.
    violations : list of (int, int, float)
        ``(clone, sample, excess)`` wherever the children of ``clone`` exceed it in
        ``sample`` by ``excess`` beyond the tolerance (CCF units).
    """

    parents: list[int | None]
    violation: float = 0.0
    score: float = 0.0
    violations: list[tuple[int, int, float]] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        """Whether the tree meets the sum rule within tolerance everywhere."""
        return self.violation <= TIE_EPS

    @property
    def root(self) -> int:
        """Index of the root clone."""
        return self.parents.index(None)

    def children(self, k: int) -> list[int]:
        """The children of clone ``k``, in index order."""
        return [i for i, p in enumerate(self.parents) if p == k]

    def depths(self) -> list[int]:
        """Number of edges from the root to each clone."""
        out = []
        for i in range(len(self.parents)):
            d, p = 0, self.parents[i]
            while p is not None:
                d, p = d + 1, self.parents[p]
            out.append(d)
        return out

    @property
    def depth(self) -> int:
        """Height of the tree: edges on the longest root-to-leaf path (0 for one clone)."""
        return max(self.depths())

    def to_edges(self) -> list[tuple[int, int]]:
        """``(parent, child)`` pairs, ordered by child."""
        return [(p, i) for i, p in enumerate(self.parents) if p is not None]

    def to_newick(self, names: Sequence[str] | None = None) -> str:
        """The tree in Newick format, e.g. ``((C)B,D)A;``.

        Names with spaces or Newick punctuation are single-quoted.
        """
        labels = [str(i) for i in range(len(self.parents))] if names is None else list(names)
        if len(labels) != len(self.parents):
            raise InputError(
                f"{len(labels)} names for {len(self.parents)} clones; expected one per clone",
                field="names",
            )

        def quote(s: str) -> str:
            if s and not any(ch in s for ch in " \t\n()[]':;,"):
                return s
            return "'" + s.replace("'", "''") + "'"

        def render(k: int) -> str:
            kids = self.children(k)
            inner = "(" + ",".join(render(c) for c in kids) + ")" if kids else ""
            return inner + quote(labels[k])

        return render(self.root) + ";"


@dataclass
class TreeSearch:
    """The result of :func:`enumerate_trees`.

    Attributes
    ----------
    trees : list of CloneTree
        Up to ``max_trees`` trees, best first (by violation, then score; ties in the order
        found).
    n_explored : int
        Search nodes visited (partial trees, leaves included).
    n_consistent : int
        Consistent trees (violation 0) visited: a lower bound on how many there are.
    consistent_complete : bool
        Whether ``n_consistent`` counts every consistent tree: the search was exhaustive and
        cut no branch that might hold one (branches are cut by score once ``max_trees``
        better trees are known).
    ties : list of CloneTree
        The trees the data cannot tell apart from the best, best first: the same violation
        (within :data:`TIE_EPS`) and a score at most ``tie_nats`` above the best's (a
        likelihood ratio of at most ``exp(tie_nats)``). At most ``max_ties`` are kept (the
        best by score).
    n_ties : int
        How many trees tie with the best (may exceed ``len(ties)``; a lower bound when the
        search was not exhaustive).
    exhaustive : bool
        ``False`` when the node budget ran out, so the trees are the best found, not
        necessarily the best.
    root : int
        The root clone.
    tolerance : str
        The tolerance used, in words.
    tie_rule : str
        The tie criterion, in words.
    support : dict of (int, int) to float
        ``(parent, child) -> support`` for every edge of a tied tree: the share of the tied
        trees holding the edge, each tree weighted by its likelihood relative to the best
        (``exp(best.score - score)``); 1 for edges every tied tree has.
    consensus : CloneTree
        Each clone under its best-supported parent (ties of support go to the best tree's
        parent); when those choices close a cycle, the tied tree whose edges have the most
        support. Equal to :attr:`best` when nothing ties.
    """

    trees: list[CloneTree]
    n_explored: int
    n_consistent: int
    consistent_complete: bool
    ties: list[CloneTree]
    n_ties: int
    exhaustive: bool
    root: int
    tolerance: str
    tie_rule: str = ""
    support: dict[tuple[int, int], float] = field(default_factory=dict)
    consensus: CloneTree | None = None

    @property
    def ties_complete(self) -> bool:
        """Whether :attr:`ties` holds every tied tree (exhaustive search, none left out)."""
        return self.exhaustive and len(self.ties) == self.n_ties

    def edge_support(self, parents: Sequence[int | None]) -> list[float]:
        """Support of each clone's edge to its parent in ``parents`` (NaN for the root)."""
        return [
            float("nan") if p is None else self.support.get((int(p), i), 0.0)
            for i, p in enumerate(parents)
        ]

    @property
    def best(self) -> CloneTree:
        """The best tree."""
        return self.trees[0]

    @property
    def best_proven(self) -> bool:
        """Whether no tree can beat :attr:`best`.

        True when the search was exhaustive, or when the best has violation and score 0
        (nothing scores below 0, so a spent budget only cut the count of ties).
        """
        b = self.trees[0]
        return self.exhaustive or (b.violation <= TIE_EPS and b.score <= TIE_EPS)


class _Noise:
    """Tolerance and noise scale per parent and sample, given its children's variance."""

    def __init__(self, sd: np.ndarray | None, tolerance: float | None):
        self.var = None if sd is None else sd**2
        self.quadrature = tolerance is None and sd is not None
        if self.quadrature:
            self.text = (
                f"{SD_MULTIPLE:g} x sqrt(sd_parent^2 + sum of sd_child^2) per parent and sample"
            )
            self.tol = 0.0
        else:
            self.tol = DEFAULT_TOLERANCE if tolerance is None else float(tolerance)
            self.text = f"{self.tol:g} CCF per parent and sample"

    def tolerance(self, child_var: np.ndarray, extra: np.ndarray | float = 0.0) -> np.ndarray:
        """Slack for parents whose children's variances sum to ``child_var``."""
        if not self.quadrature:
            return np.full(child_var.shape, self.tol)
        return SD_MULTIPLE * np.sqrt(self.var + child_var + extra)

    def sigma(self, child_var: np.ndarray, extra: np.ndarray | float = 0.0) -> np.ndarray:
        """Noise scale of the sum-rule difference, in the score."""
        if self.var is None:
            return np.full(child_var.shape, max(self.tol / SD_MULTIPLE, SIGMA_FLOOR))
        return np.maximum(np.sqrt(self.var + child_var + extra), SIGMA_FLOOR)


def _evaluate(
    ccf: np.ndarray, parents: Sequence[int | None], noise: _Noise
) -> tuple[float, float, list[tuple[int, int, float]]]:
    total = np.zeros_like(ccf)
    child_var = np.zeros_like(ccf)
    for i, p in enumerate(parents):
        if p is not None:
            total[p] += ccf[i]
            if noise.var is not None:
                child_var[p] += noise.var[i]
    # clones without children have total 0, so they add nothing
    raw = np.maximum(total - ccf, 0.0)
    excess = np.maximum(total - ccf - noise.tolerance(child_var), 0.0)
    score = float(0.5 * np.sum((raw / noise.sigma(child_var)) ** 2))
    where = [(int(a), int(b), float(excess[a, b])) for a, b in np.argwhere(excess > TIE_EPS)]
    return float(excess.sum()), score, where


def tree_fit(
    ccf,
    parents: Sequence[int | None],
    *,
    sd=None,
    tolerance: float | None = None,
) -> CloneTree:
    """Violation, score and violations of one given tree.

    ``sd`` and ``tolerance`` are as in :func:`enumerate_trees`; see :class:`CloneTree`.
    """
    c = _ccf_matrix(ccf)
    parents = parse_parents(parents, c.shape[0])
    s = None if sd is None else _same_shape(sd, c.shape, "sd")
    noise = _Noise(s, _check_tolerance(tolerance))
    violation, score, where = _evaluate(c, parents, noise)
    return CloneTree(list(parents), violation, score, where)


def _check_tolerance(tolerance: float | None) -> float | None:
    if tolerance is None:
        return None
    t = float(tolerance)
    if not np.isfinite(t) or t < 0:
        raise InputError(f"tolerance is {tolerance!r}; expected a CCF >= 0", field="tolerance")
    return t


def enumerate_trees(
    ccf,
    *,
    sd=None,
    tolerance: float | None = None,
    max_trees: int = 20,
    root: int | None = None,
    order: Sequence[int] | None = None,
    max_nodes: int = 50_000,
    tie_nats: float = TIE_NATS,
    max_ties: int = MAX_TIES,
) -> TreeSearch:
    """The best clone trees under the sum rule, by exact branch and bound.

    Parameters
    ----------
    ccf : array-like, K x S
        Cancer-cell fraction of each clone (row) in each sample (column), in [0, 1].
    sd : array-like, K x S, optional
        Standard deviation of each CCF (CCF units).
    tolerance : float, optional
        Slack per parent and sample (CCF units): a parent may fall short of its children's
        summed CCF by this much. Default: ``2 * sqrt(sd_parent**2 + sum(sd_child**2))``
        (two standard deviations of the difference, children's errors added in quadrature)
        when ``sd`` is given, else :data:`DEFAULT_TOLERANCE` (0.02).
    max_trees : int
        How many of the best trees to keep.
    root : int, optional
        The root clone. Default: the clone with the highest mean CCF (the first on ties).
    order : sequence of int, optional
        An ordering constraint, e.g. the order in which the clones emerged (from
        :func:`first_detected`): every clone's parent must come before it. ``order[0]`` is
        the root.
    max_nodes : int
        Node budget; when spent (and at least one tree is known), the search stops and
        reports ``exhaustive=False``. About 30 microseconds a node.
    tie_nats : float
        Trees with the best's violation and a score at most this many nats above the best
        tie with it (default :data:`TIE_NATS`, the likelihood ratio test's 5 % level; 0 keeps
        exact ties only).
    max_ties : int
        Tied trees kept for ``support`` and ``consensus`` (the best by score); beyond that
        they are only counted (``n_ties``), and ``ties_complete`` is ``False``.

    Returns
    -------
    TreeSearch
        ``trees`` (best first), ``n_explored``, ``n_consistent``, ``consistent_complete``,
        ``ties``, ``n_ties``, ``exhaustive``, ``root``, ``tolerance``, ``tie_rule``,
        ``support`` (per edge) and ``consensus``.

    Notes
    -----
    Clones are placed one at a time, by decreasing mean CCF (or in ``order``); each picks
    a parent among all clones (not only those placed, so equal-CCF pairs can nest either
    way) that closes no cycle. The state is the children's summed CCF per (parent, sample),
    i.e. each parent's remaining capacity. A node's lower bound is its current violation
    plus, for each clone not yet placed, the least violation it adds under any parent
    (violation is convex in the children's sum, so these add up); with ``sd`` the tolerance
    in the bound uses the variance of every unplaced clone, which only overestimates it.
    The score is bounded the same way. Parents are tried in order of least added violation
    (then least added score, then the tightest fit). A branch is cut when its violation
    bound exceeds the ``max_trees``-th best violation, or equals it while its score bound
    exceeds that tree's score; so every tree that ties with the best is visited and
    counted; the cut uses the tie threshold (the best's score plus ``tie_nats``) instead of
    the ``max_trees``-th tree's when that is looser, so every tree within it is visited. The
    worst case is the number of trees with a given root, ``K ** (K - 2)``; a
    node costs ``O(K**2 S)``. Multi-sample inputs, where the sum rule rules out most
    parents, take milliseconds for 8 clones and tens of milliseconds for 12 (see the
    tests); one sample rarely rules much out, thousands of trees may then tie exactly, and
    the budget can stop the search while it is counting them (``exhaustive=False``).

    Examples
    --------
    >>> ccf = [[1.0, 1.0], [0.6, 0.3], [0.3, 0.6], [0.4, 0.1]]
    >>> search = enumerate_trees(ccf)
    >>> search.best.parents, search.best.violation
    ([None, 0, 0, 1], 0.0)
    """
    c = _ccf_matrix(ccf)
    k, n_s = c.shape
    s = None if sd is None else _same_shape(sd, c.shape, "sd")
    noise = _Noise(s, _check_tolerance(tolerance))
    if isinstance(max_trees, bool) or int(max_trees) < 1:
        raise InputError(f"max_trees is {max_trees!r}; expected >= 1", field="max_trees")
    if int(max_nodes) < 1:
        raise InputError(f"max_nodes is {max_nodes!r}; expected >= 1", field="max_nodes")
    max_trees, max_nodes = int(max_trees), int(max_nodes)
    if not np.isfinite(float(tie_nats)) or float(tie_nats) < 0:
        raise InputError(f"tie_nats is {tie_nats!r}; expected a number >= 0", field="tie_nats")
    if isinstance(max_ties, bool) or int(max_ties) < 1:
        raise InputError(f"max_ties is {max_ties!r}; expected >= 1", field="max_ties")
    tie_nats, max_ties = float(tie_nats), int(max_ties)

    allowed = ~np.eye(k, dtype=bool)  # allowed[d, q]: q may be the parent of d
    if order is not None:
        seq = [int(i) for i in order]
        if sorted(seq) != list(range(k)):
            raise InputError(
                f"order must list every clone 0..{k - 1} once; got {list(order)}", field="order"
            )
        if root is not None and int(root) != seq[0]:
            raise InputError(
                f"root {root} is not first in order {seq}; the root comes first", field="order"
            )
        rank = np.empty(k, dtype=int)
        rank[seq] = np.arange(k)
        allowed &= rank[None, :] < rank[:, None]
        root_ = seq[0]
    else:
        means = c.mean(axis=1)
        root_ = int(np.argmax(means)) if root is None else int(root)
        if not 0 <= root_ < k:
            raise InputError(f"root is {root}; expected a clone index in 0..{k - 1}", field="root")
        seq = [root_] + [int(i) for i in np.argsort(-means, kind="stable") if i != root_]
    allowed[root_, :] = False
    place = seq[1:]

    totals = np.zeros_like(c)  # children's summed CCF per (parent, sample)
    child_var = np.zeros_like(c)
    var = noise.var
    unplaced_var = np.zeros(n_s) if var is None else var[place].sum(axis=0)
    parent: list[int | None] = [None] * k
    kept: list[tuple[float, float, int, list[int | None]]] = []  # (violation, score, n, tree)
    near: list[tuple[float, float, int, list[int | None]]] = []  # within the tie threshold
    counted: list[tuple[float, float]] = []  # tied trees beyond max_ties: (violation, score)
    stats = {"nodes": 0, "consistent": 0, "leaves": 0, "cut_consistent": 0}
    best = [np.inf, np.inf]

    def leaf() -> None:
        # clones without children have totals 0, so they add nothing to either sum
        violation = float(np.maximum(totals - c - noise.tolerance(child_var), 0.0).sum())
        score = float(0.5 * np.sum((np.maximum(totals - c, 0.0) / noise.sigma(child_var)) ** 2))
        stats["leaves"] += 1
        if violation <= TIE_EPS:
            stats["consistent"] += 1
        if violation < best[0] - TIE_EPS or (
            violation <= best[0] + TIE_EPS and score < best[1] - TIE_EPS
        ):
            best[:] = [violation, score]
        if violation <= best[0] + TIE_EPS and score <= best[1] + tie_nats + TIE_EPS:
            # the tree list is stored only for the best max_ties; the rest are counted
            near.append((violation, score, stats["leaves"], list(parent)))
            if len(near) > 4 * max_ties:  # forget what the best left behind; count the rest
                near[:] = sorted((t for t in near if _tied(t, best, tie_nats)),
                                 key=lambda t: (t[1], t[2]))  # fmt: skip
                counted.extend(t[:2] for t in near[max_ties:])
                del near[max_ties:]
        key = (round(violation / TIE_EPS) * TIE_EPS, round(score / TIE_EPS) * TIE_EPS)
        if len(kept) == max_trees and key >= kept[-1][:2]:
            return
        bisect.insort(kept, (*key, stats["leaves"], list(parent)))
        del kept[max_trees:]

    def kth() -> tuple[float, float]:
        """The cut: the max_trees-th tree, or the tie threshold when that is looser."""
        kv, ks = kept[-1][:2] if len(kept) == max_trees else (np.inf, np.inf)
        if abs(kv - best[0]) <= TIE_EPS:
            ks = max(ks, best[1] + tie_nats)
        return kv, ks

    def search(depth: int, rest_var: np.ndarray) -> bool:
        """Place ``place[depth:]``; ``False`` when the node budget is spent."""
        if stats["nodes"] >= max_nodes and kept:  # the budget never leaves no tree at all
            return False
        stats["nodes"] += 1
        if depth == len(place):
            leaf()
            return True
        d = place[depth]
        todo = place[depth:]
        # Bounds use the largest tolerance and noise scale the unplaced clones could bring.
        cap = c + noise.tolerance(child_var, rest_var)
        inv = 1.0 / noise.sigma(child_var, rest_var)
        over = np.maximum(totals - cap, 0.0)
        sq = (np.maximum(totals - c, 0.0) * inv) ** 2
        grown = totals[None] + c[todo][:, None, :]  # each unplaced clone under each parent
        add_v = (np.maximum(grown - cap, 0.0) - over).sum(2)
        add_s = 0.5 * ((np.maximum(grown - c, 0.0) * inv) ** 2 - sq).sum(2)
        add_v[~allowed[todo]] = np.inf
        add_s[~allowed[todo]] = np.inf
        # violation and score are convex in a parent's children's sum, so the least
        # increments of the clones still to place add up to a lower bound
        lb_v = over.sum() + add_v[0] + add_v[1:].min(axis=1).sum()
        lb_s = 0.5 * sq.sum() + add_s[0] + add_s[1:].min(axis=1).sum()
        slack = (cap - grown[0]).sum(1)
        next_var = rest_var if var is None else np.maximum(rest_var - var[d], 0.0)
        for p in np.lexsort((slack, add_s[0], add_v[0])):
            p = int(p)
            kv, ks = kth()
            if not np.isfinite(add_v[0, p]) or lb_v[p] > kv + TIE_EPS:
                break  # candidates are sorted by added violation
            if lb_s[p] > ks + TIE_EPS and lb_v[p] >= kv - TIE_EPS:
                if lb_v[p] <= TIE_EPS:
                    stats["cut_consistent"] = 1
                continue
            q = parent[p]  # a cycle if d is an ancestor of p
            while q is not None and q != d:
                q = parent[q]
            if q == d:
                continue
            saved = totals[p].copy()
            totals[p] += c[d]
            if var is not None:
                saved_var = child_var[p].copy()
                child_var[p] += var[d]
            parent[d] = p
            ok = search(depth + 1, next_var)
            parent[d] = None
            totals[p] = saved
            if var is not None:
                child_var[p] = saved_var
            if not ok:
                return False
        return True

    exhaustive = search(0, unplaced_var)
    trees = []
    for _, _, _, tree in kept:
        violation, score, where = _evaluate(c, tree, noise)
        trees.append(CloneTree(tree, violation, score, where))
    tied = sorted((t for t in near if _tied(t, best, tie_nats)), key=lambda t: (t[1], t[2]))
    ties = []
    for _, _, _, tree in tied[:max_ties]:
        violation, score, where = _evaluate(c, tree, noise)
        ties.append(CloneTree(tree, violation, score, where))
    if not ties or ties[0].parents != trees[0].parents:  # the same best first in both lists
        ties = [trees[0], *(t for t in ties if t.parents != trees[0].parents)][:max_ties]
    support = _support(ties)
    return TreeSearch(
        trees=trees,
        n_explored=stats["nodes"],
        n_consistent=stats["consistent"],
        consistent_complete=exhaustive and not stats["cut_consistent"],
        ties=ties,
        n_ties=max(len(tied) + sum(_tied(t, best, tie_nats) for t in counted), len(ties)),
        exhaustive=exhaustive,
        root=root_,
        tolerance=noise.text,
        tie_rule=(
            f"the best's violation and a score within {tie_nats:g} nats of the best's "
            f"(likelihood ratio <= {np.exp(tie_nats):.3g})"
        ),
        support=support,
        consensus=_consensus(ties, support, c, noise),
    )


def _tied(t: tuple, best: Sequence[float], tie_nats: float) -> bool:
    """Whether a ``(violation, score, ...)`` record ties with ``best``."""
    return t[0] <= best[0] + TIE_EPS and t[1] <= best[1] + tie_nats + TIE_EPS


def _support(ties: list[CloneTree]) -> dict[tuple[int, int], float]:
    """Likelihood-weighted share of the tied trees holding each ``(parent, child)`` edge."""
    scores = np.array([t.score for t in ties])
    weights = np.exp(scores.min() - scores)
    weights /= weights.sum()
    out: dict[tuple[int, int], float] = {}
    for t, w in zip(ties, weights, strict=True):
        for edge in t.to_edges():
            out[edge] = out.get(edge, 0.0) + float(w)
    return {e: min(1.0, v) for e, v in sorted(out.items())}


def _consensus(
    ties: list[CloneTree], support: dict[tuple[int, int], float], c: np.ndarray, noise: _Noise
) -> CloneTree:
    """Each clone under its best-supported parent; the best-supported tied tree on a cycle."""
    best = ties[0].parents
    parents: list[int | None] = []
    for i, p0 in enumerate(best):
        if p0 is None:
            parents.append(None)
            continue
        options = {p: v for (p, child), v in support.items() if child == i}
        top = max(options.values())
        # ties of support go to the best tree's parent, then to the lowest index
        parents.append(p0 if options.get(p0, 0.0) >= top - TIE_EPS else min(
            p for p, v in options.items() if v >= top - TIE_EPS))  # fmt: skip
    try:
        parse_parents(parents, len(parents))
    except InputError:  # majority choices closed a cycle: the best-supported tied tree
        parents = max(ties, key=lambda t: sum(support[e] for e in t.to_edges())).parents
    violation, score, where = _evaluate(c, parents, noise)
    return CloneTree(list(parents), violation, score, where)


# ----------------------------------------------------------------------- prevalence
def clone_prevalence(ccf, parents: Sequence[int | None]) -> np.ndarray:
    """Each clone's own fraction of cells: its CCF minus its children's, clipped at 0.

    Parameters
    ----------
    ccf : array-like, K x S
        CCF per clone and sample.
    parents : sequence of int or None
        Parent of each clone (``None`` for the root).

    Returns
    -------
    numpy.ndarray, K x S
        Prevalences. For a CCF matrix that meets the sum rule they sum, per sample, to the
        root's CCF; otherwise clipping loses that, so project first
        (:func:`project_to_tree`).

    Examples
    --------
    >>> clone_prevalence([[0.9], [0.5], [0.3]], [None, 0, 1]).ravel().round(2).tolist()
    [0.4, 0.2, 0.3]
    """
    c = _ccf_matrix(ccf)
    _, kids = _check_parents(parents, c.shape[0])
    out = c.copy()
    for p, ks in enumerate(kids):
        for i in ks:
            out[p] -= c[i]
    return np.maximum(out, 0.0)


def _capped_nnls(b: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``argmin ||b u - d||`` over ``u >= 0`` with ``sum(u) <= 1`` (``b`` square, invertible)."""
    u = nnls(b, d)[0]
    if u.sum() <= 1.0:
        return u
    # The cap is active: add lam * sum(u) to the objective. Since b is invertible,
    # lam * 1'u = lam * g'(b u) with b'g = 1, so each lam is an NNLS with target d - lam g / 2;
    # sum(u) falls as lam grows, and lam is found by bisection, then the active set is solved
    # exactly with sum(u) = 1.
    g = np.linalg.solve(b.T, np.ones(len(d)))

    def solve(lam: float) -> np.ndarray:
        return nnls(b, d - lam * g / 2.0)[0]

    lo, hi = 0.0, 1.0
    for _ in range(200):
        if solve(hi).sum() <= 1.0:
            break
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if mid in (lo, hi):
            break
        if solve(mid).sum() > 1.0:
            lo = mid
        else:
            hi = mid
    u = solve(hi)
    support = np.flatnonzero(u > 0)
    if support.size:
        bs = b[:, support]
        n = support.size
        kkt = np.zeros((n + 1, n + 1))
        kkt[:n, :n] = 2.0 * bs.T @ bs
        kkt[:n, n] = kkt[n, :n] = 1.0
        rhs = np.r_[2.0 * bs.T @ d, 1.0]
        try:
            exact = np.linalg.solve(kkt, rhs)[:n]
        except np.linalg.LinAlgError:  # pragma: no cover - singular only if b is
            exact = None
        if exact is not None and (exact >= 0).all():
            u = np.zeros_like(u)
            u[support] = exact
    total = u.sum()
    return u / total if total > 1.0 else u


def project_to_tree(ccf, parents: Sequence[int | None], *, weights=None) -> np.ndarray:
    """The closest CCF matrix that meets the tree's sum rule exactly, root at most 1.

    Per sample ``s`` it solves ``min sum_k w_ks (x_ks - ccf_ks)**2`` over ``x = A u`` with
    prevalences ``u >= 0`` and ``sum(u) <= 1`` (``A`` from :func:`descendant_matrix`):
    non-negative least squares on the prevalences, with the cap on the root enforced by a
    Lagrange multiplier when it binds. A matrix that already meets the rule is returned
    unchanged.

    Parameters
    ----------
    ccf : array-like, K x S
        CCF per clone and sample.
    parents : sequence of int or None
        Parent of each clone (``None`` for the root).
    weights : array-like, K x S, optional
        Positive weight of each CCF, e.g. ``1 / sd**2``. Default: all 1.

    Returns
    -------
    numpy.ndarray, K x S
        The projected CCFs; ``clone_prevalence`` of it sums to the root's CCF per sample.

    Examples
    --------
    >>> project_to_tree([[0.8], [0.5], [0.4]], [None, 0, 0]).ravel().round(3).tolist()
    [0.833, 0.467, 0.367]
    """
    c = _ccf_matrix(ccf)
    k, n_s = c.shape
    root, kids = _check_parents(parents, k)
    own = c.copy()
    for p, ks in enumerate(kids):
        for i in ks:
            own[p] -= c[i]
    if (own >= 0).all() and (c[root] <= 1.0).all():
        return c
    if weights is None:
        w = np.ones_like(c)
    else:
        w = _same_shape(weights, c.shape, "weights")
        if (w <= 0).any():
            raise InputError("weights must be positive", field="weights")
    a = descendant_matrix(parents)
    out = np.empty_like(c)
    for s in range(n_s):
        sw = np.sqrt(w[:, s])
        u = _capped_nnls(sw[:, None] * a, sw * c[:, s])
        out[:, s] = a @ u
    return out


# ----------------------------------------------------------------------- detection
def first_detected(ccf, sd, *, z: float = 1.645) -> list[int | None]:
    """The first sample (column) where each clone is clearly present: ``ccf - z * sd > 0``.

    Parameters
    ----------
    ccf : array-like, K x S
        CCF per clone and sample, samples in time order.
    sd : array-like, K x S, or None
        Standard deviation of each CCF; ``None`` means any CCF above 0 counts.
    z : float
        Normal quantile of the one-sided lower bound (1.645: 95 %).

    Returns
    -------
    list of int or None
        Per clone, the first sample index, or ``None`` if never detected.

    Examples
    --------
    >>> first_detected([[0.5, 0.6], [0.0, 0.2]], [[0.05, 0.05], [0.05, 0.05]])
    [0, 1]
    """
    c = _ccf_matrix(ccf)
    s = np.zeros_like(c) if sd is None else _same_shape(sd, c.shape, "sd")
    hit = c - float(z) * s > 0
    return [int(np.argmax(row)) if row.any() else None for row in hit]
