"""Simulated multi-sample read counts of a clone tree with a known truth.

:func:`simulate_clones` draws read counts from a fixed 8-clone tree under therapy: a clonal
trunk, a sensitive clone that shrinks (with one sub-clone and a nested pair of clones whose
CCF trajectories run parallel, 5 CCF points apart), and a resistant clone that is 5 % of the
cancer cells at the first sample and dominant at the last, with two resistant sub-clones
that rise from 2 % and from 0 %. It is the design of the PyClone-VI baseline of the
project's reference notes: PyClone-VI merges the parallel pair and the two resistant
sub-clones. :func:`random_tree_truth` draws random trees and trajectories, and
:func:`sample_reads` draws reads for any :class:`CloneTruth`, with copy number that may change
between samples (``cn_change_fraction``); :func:`simulate_cn_changing` draws series of the
kind of PyClone-VI's own synthetic example (clusters without a tree, copy number changing in
every sample).

The read model is PyClone's (Roth et al. 2014, Nat Methods 11:396,
doi:10.1038/nmeth.2883): a mutation carried by a fraction CCF of the cancer cells, with
``m`` mutated copies at a locus of tumour copy number ``total_cn``, is read with probability
``purity * CCF * m / (purity * total_cn + (1 - purity) * normal_cn)``; the number of
alternative reads is binomial, or beta-binomial with the given precision, around it. No
sequencing errors are drawn: a mutation absent from a sample has no alternative reads.

Every function takes ``rng`` (a :class:`numpy.random.Generator`, a seed, or ``None`` for
fresh entropy); the same seed and arguments give the same data. The tests use fixed seeds
(1 to 8); benchmarks should name theirs (e.g. 1, 2, 3 for three replicate data sets).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from oncoresist.clones._data import MutationData, expected_vaf
from oncoresist.errors import InputError

#: Sampling times (days) of the six knots of the default trajectories.
KNOT_DAYS = np.array([0.0, 60.0, 120.0, 180.0, 240.0, 300.0])

#: Copy-number states (major, minor) a changing segment draws in each sample, and their
#: probabilities: diploid, gain, copy-neutral LOH, loss (LOH), tetraploid, high gain.
CN_STATES: tuple[tuple[int, int], ...] = ((1, 1), (2, 1), (2, 0), (1, 0), (2, 2), (3, 1))
CN_STATE_PROB = (0.3, 0.2, 0.15, 0.15, 0.1, 0.1)

# The default tree: name, parent, share of the mutations, CCF at the six knots.
_DEFAULT_TREE: tuple[tuple[str, int | None, float, tuple[float, ...]], ...] = (
    ("trunk", None, 0.30, (1.00, 1.00, 1.00, 1.00, 1.00, 1.00)),
    ("sensitive", 0, 0.12, (0.70, 0.60, 0.45, 0.30, 0.20, 0.12)),
    ("sensitive-sub", 1, 0.10, (0.25, 0.21, 0.15, 0.10, 0.06, 0.03)),
    ("parallel-outer", 1, 0.10, (0.40, 0.34, 0.27, 0.18, 0.12, 0.08)),
    ("parallel-inner", 3, 0.10, (0.35, 0.29, 0.22, 0.13, 0.07, 0.03)),
    ("resistant", 0, 0.12, (0.05, 0.12, 0.25, 0.45, 0.65, 0.85)),
    ("resistant-2pct", 5, 0.08, (0.02, 0.06, 0.14, 0.26, 0.38, 0.45)),
    ("resistant-0pct", 5, 0.08, (0.00, 0.005, 0.02, 0.06, 0.15, 0.25)),
)


@dataclass(frozen=True, eq=False)
class CloneTruth:
    """The true clones of a simulated data set.

    Attributes
    ----------
    labels
        Clone index of each mutation (N ints in ``0 .. K-1``).
    ccf
        Cancer-cell fraction of each clone in each sample (K x S fractions): the fraction
        of cancer cells that carry the clone's mutations, descendants included. Satisfies
        the sum rule: a clone's children together never exceed it, in every sample.
    parents
        Parent of each clone (K entries; ``None`` for the root, the trunk). A parent's
        index is smaller than its children's.
    names
        Name of each clone (``"trunk"``, ``"resistant"``, ``"resistant-2pct"`` ...).
    resistant
        Index of the resistant clone.
    multiplicity
        Mutated copies per cell carrying each mutation (N x S ints >= 1).
    reference_cn
        Copy number of the cancer cells without the mutation (N x S ints); ``None``: the
        tumour's total copy number (the mutation came after any copy-number change).
    """

    labels: np.ndarray
    ccf: np.ndarray
    parents: list[int | None]
    names: list[str]
    resistant: int
    multiplicity: np.ndarray
    reference_cn: np.ndarray | None = None

    @property
    def n_clones(self) -> int:
        """Number of clones K."""
        return len(self.parents)

    @property
    def children(self) -> list[list[int]]:
        """Children of each clone (K lists of indices)."""
        out: list[list[int]] = [[] for _ in self.parents]
        for k, parent in enumerate(self.parents):
            if parent is not None:
                out[parent].append(k)
        return out

    @property
    def cell_fractions(self) -> np.ndarray:
        """Fraction of cancer cells whose youngest clone is each clone (K x S).

        ``ccf`` minus the children's ``ccf``: the clone proportions a fish plot draws.
        Non-negative by the sum rule; each column sums to the trunk's CCF.
        """
        out = self.ccf.copy()
        for k, parent in enumerate(self.parents):
            if parent is not None:
                out[parent] -= self.ccf[k]
        return out

    @property
    def mutation_ccf(self) -> np.ndarray:
        """True CCF of each mutation in each sample (N x S fractions)."""
        return self.ccf[self.labels]


def default_truth(n_samples: int = 4, *, n_mutations: int = 2000) -> CloneTruth:
    """The fixed 8-clone tree of :func:`simulate_clones`, sampled at ``n_samples`` times.

    The CCF trajectories are given at six knots (days :data:`KNOT_DAYS`) and interpolated
    linearly at ``n_samples`` evenly spaced times from the first knot to the last; a
    linear interpolation of sum-rule-consistent CCFs is itself consistent. With four
    samples the resistant clone has CCF 0.05, 0.21, 0.52, 0.85, its sub-clones 0.02, 0.11,
    0.30, 0.45 and 0.00, 0.015, 0.09, 0.25.

    Mutations are split among the clones in fixed shares (trunk 30 %, resistant 12 %,
    each resistant sub-clone 8 % ...), in label order; multiplicities are 1.

    Parameters
    ----------
    n_samples
        2 to 6.
    n_mutations
        Number of mutations N (at least 8, so that every clone has one).
    """
    if not 2 <= n_samples <= 6:
        raise InputError(f"{n_samples}; expected 2 to 6 samples", field="n_samples")
    if n_mutations < len(_DEFAULT_TREE):
        raise InputError(
            f"{n_mutations}; expected at least {len(_DEFAULT_TREE)} (one per clone)",
            field="n_mutations",
        )
    knots = np.array([row[3] for row in _DEFAULT_TREE])
    times = np.linspace(KNOT_DAYS[0], KNOT_DAYS[-1], n_samples)
    ccf = np.array([np.interp(times, KNOT_DAYS, k) for k in knots])
    shares = np.array([row[2] for row in _DEFAULT_TREE])
    counts = _split(n_mutations, shares)
    labels = np.repeat(np.arange(len(counts)), counts)
    names = [row[0] for row in _DEFAULT_TREE]
    return CloneTruth(
        labels=labels,
        ccf=ccf,
        parents=[row[1] for row in _DEFAULT_TREE],
        names=names,
        resistant=names.index("resistant"),
        multiplicity=np.ones((n_mutations, n_samples), dtype=np.int64),
    )


def simulate_clones(
    *,
    n_mutations: int = 2000,
    n_samples: int = 4,
    depth: float = 150.0,
    overdispersion: float | None = None,
    purity: float | Sequence[float] = 0.8,
    cn_fraction: float = 0.2,
    cn_change_fraction: float = 0.0,
    missing_fraction: float = 0.0,
    rng: np.random.Generator | int | None = None,
) -> tuple[MutationData, CloneTruth]:
    """Read counts of the fixed 8-clone tree (:func:`default_truth`) and their truth.

    Parameters
    ----------
    n_mutations
        Number of mutations N.
    n_samples
        Number of samples S, 2 to 6, evenly spaced from day 0 to day 300.
    depth, overdispersion, purity, cn_fraction, cn_change_fraction, missing_fraction
        See :func:`sample_reads`.
    rng
        Generator or seed; the same seed and arguments give the same data.

    Returns
    -------
    data : MutationData
        Mutations ``m0001`` ... in random order (not grouped by clone), samples ``t1`` ...
        ``tS`` with ``times`` in days.
    truth : CloneTruth
        With ``labels`` and ``multiplicity`` in the order of ``data.mutations``.

    Examples
    --------
    >>> data, truth = simulate_clones(n_mutations=200, rng=1)
    >>> data.alt.shape, truth.names[truth.resistant], float(truth.ccf[6, 0])
    ((200, 4), 'resistant', 0.02)
    """
    rng = np.random.default_rng(rng)
    truth = default_truth(n_samples, n_mutations=n_mutations)
    order = rng.permutation(n_mutations)
    truth = dataclasses.replace(
        truth, labels=truth.labels[order], multiplicity=truth.multiplicity[order]
    )
    return sample_reads(
        truth,
        depth=depth,
        overdispersion=overdispersion,
        purity=purity,
        cn_fraction=cn_fraction,
        cn_change_fraction=cn_change_fraction,
        missing_fraction=missing_fraction,
        times=np.linspace(KNOT_DAYS[0], KNOT_DAYS[-1], n_samples),
        rng=rng,
    )


def sample_reads(
    truth: CloneTruth,
    *,
    depth: float = 150.0,
    overdispersion: float | None = None,
    purity: float | Sequence[float] = 0.8,
    cn_fraction: float = 0.2,
    cn_change_fraction: float = 0.0,
    missing_fraction: float = 0.0,
    times: Sequence[float] | None = None,
    rng: np.random.Generator | int | None = None,
) -> tuple[MutationData, CloneTruth]:
    """Draw copy numbers and read counts for the mutations of a clone truth.

    Parameters
    ----------
    truth
        Clones, their CCFs and each mutation's clone. Its ``multiplicity`` and
        ``reference_cn`` are replaced.
    depth
        Mean depth (reads); each cell's depth is Poisson around it, at least 1.
    overdispersion
        Precision of the beta-binomial read model (e.g. 100; smaller is noisier; the
        variance of the alternative-read count is ``n p (1 - p) (1 + (n - 1) / (1 +
        precision))`` at depth ``n``); ``None`` for binomial reads.
    purity
        Tumour fraction of every sample, or one per sample, in (0, 1].
    cn_fraction
        Fraction of mutations in copy-altered regions whose copy number is the same in every
        sample: major/minor copy numbers 2/0 (copy-neutral LOH) or 2/1 (gain), equally
        likely; a trunk mutation there has multiplicity 2 (it preceded the copy change)
        or 1, equally likely; other mutations 1. The rest are 1/1. Normal copy number 2.
    cn_change_fraction
        Fraction of mutations whose segment's copy number **changes between samples**
        (drawn after, and overriding, ``cn_fraction``). In each sample such a mutation
        draws its own state from :data:`CN_STATES` (1/1, gains 2/1 and 3/1, copy-neutral
        LOH 2/0, loss 1/0, tetraploid 2/2) and its own genotype, PyClone's: *before* the
        change (probability 1/2; ``m`` mutated copies drawn from ``1..major``, the cancer
        cells without the mutation at the normal copy number) or *after* it (``m = 1``,
        all cancer cells at the sample's copy number). The VAF is then
        :func:`~oncoresist.clones._data.expected_vaf` with ``reference_cn``.
    missing_fraction
        Fraction of mutation x sample cells not sequenced (depth 0, no information).
    times
        Sampling times to record in the data (S days); none by default.
    rng
        Generator or seed. With ``cn_change_fraction`` 0 the draws are those of earlier
        versions (the same data for the same seed).

    Returns
    -------
    data : MutationData
        Mutations ``m0001`` ..., samples ``t1`` ...; ``alt`` and ``depth`` in reads.
    truth : CloneTruth
        The input with the drawn ``multiplicity`` and ``reference_cn``.
    """
    rng = np.random.default_rng(rng)
    n, s = truth.labels.shape[0], truth.ccf.shape[1]
    if depth <= 0:
        raise InputError(f"{depth}; expected a mean depth > 0 reads", field="depth")
    if overdispersion is not None and overdispersion <= 0:
        raise InputError(
            f"{overdispersion}; expected a precision > 0 or None", field="overdispersion"
        )
    for name, value in (
        ("cn_fraction", cn_fraction),
        ("cn_change_fraction", cn_change_fraction),
        ("missing_fraction", missing_fraction),
    ):
        if not 0 <= value <= 1:
            raise InputError(f"{value}; expected a fraction in [0, 1]", field=name)

    altered = rng.random(n) < cn_fraction
    gain = rng.random(n) < 0.5
    major = np.repeat(np.where(altered, 2, 1)[:, None], s, axis=1)
    minor = np.repeat(np.where(altered, np.where(gain, 1, 0), 1)[:, None], s, axis=1)
    early = rng.random(n) < 0.5
    root = next(k for k, p in enumerate(truth.parents) if p is None)
    multiplicity = np.repeat(np.where(altered & early & (truth.labels == root), 2, 1)[:, None],
                             s, axis=1)  # fmt: skip
    reference = major + minor
    if cn_change_fraction > 0:  # drawn only here, so other series keep their draws
        changing = rng.random(n) < cn_change_fraction
        states = np.array(CN_STATES)[rng.choice(len(CN_STATES), (n, s), p=CN_STATE_PROB)]
        before = rng.random((n, s)) < 0.5
        copies = 1 + np.floor(rng.random((n, s)) * states[..., 0]).astype(np.int64)
        major[changing], minor[changing] = states[changing, :, 0], states[changing, :, 1]
        multiplicity[changing] = np.where(before, copies, 1)[changing]
        reference[changing] = np.where(before, 2, major + minor)[changing]
    width = max(4, len(str(n)))
    template = MutationData(
        mutations=[f"m{i + 1:0{width}d}" for i in range(n)],
        samples=[f"t{j + 1}" for j in range(s)],
        alt=np.zeros((n, s), dtype=np.int64),
        depth=np.zeros((n, s), dtype=np.int64),
        major_cn=major,
        minor_cn=minor,
        normal_cn=np.full((n, s), 2),
        purity=purity,
        times=times,
    )
    vaf = expected_vaf(template, truth.ccf[truth.labels], multiplicity, reference_cn=reference)
    reads = np.maximum(rng.poisson(depth, (n, s)), 1)
    reads[rng.random((n, s)) < missing_fraction] = 0
    alt = _draw_alt(reads, vaf, overdispersion, rng)
    data = dataclasses.replace(template, alt=alt, depth=reads)
    return data, dataclasses.replace(truth, multiplicity=multiplicity, reference_cn=reference)


def simulate_cn_changing(
    *,
    n_mutations: int = 100,
    n_clusters: int = 8,
    n_samples: int = 4,
    depth: float = 100.0,
    purity: float | Sequence[float] = 1.0,
    rng: np.random.Generator | int | None = None,
) -> tuple[MutationData, CloneTruth]:
    """A series of the kind of PyClone-VI's own synthetic example: copy number changes everywhere.

    ``n_clusters`` clusters whose CCFs are drawn uniformly in [0, 1], independently in each
    sample (no tree: ``parents`` are all ``None``); every cluster gets a mutation, the rest
    at random. Every mutation's copy-number state and genotype are drawn anew in each
    sample (``cn_change_fraction=1`` of :func:`sample_reads`), binomial reads.

    Parameters
    ----------
    n_mutations
        Number of mutations N (at least ``n_clusters``).
    n_clusters, n_samples
        Clusters K and samples S.
    depth
        Mean depth (reads).
    purity
        Tumour fraction of every sample, or one per sample.
    rng
        Generator or seed.

    Returns
    -------
    data : MutationData
    truth : CloneTruth
        ``labels`` the cluster of each mutation; ``names`` ``"cluster0"`` ...
    """
    rng = np.random.default_rng(rng)
    if n_mutations < n_clusters:
        raise InputError(f"{n_mutations}; expected at least {n_clusters} (one per cluster)",
                         field="n_mutations")  # fmt: skip
    ccf = rng.uniform(0.0, 1.0, (n_clusters, n_samples))
    extra = rng.integers(0, n_clusters, n_mutations - n_clusters)
    labels = rng.permutation(np.concatenate([np.arange(n_clusters), extra]))
    truth = CloneTruth(
        labels=labels.astype(np.int64),
        ccf=ccf,
        parents=[None] * n_clusters,
        names=[f"cluster{k}" for k in range(n_clusters)],
        resistant=0,
        multiplicity=np.ones((n_mutations, n_samples), dtype=np.int64),
    )
    return sample_reads(truth, depth=depth, purity=purity, cn_change_fraction=1.0, rng=rng)


def random_tree_truth(
    n_clones: int,
    n_samples: int,
    rng: np.random.Generator | int | None = None,
    *,
    n_mutations: int = 0,
    step: float = 0.7,
) -> CloneTruth:
    """A random clone tree with random sum-rule-consistent CCF trajectories.

    Each clone ``k >= 1`` picks its parent uniformly among clones ``0 .. k-1`` (clone 0 is
    the trunk). The cell fractions (the share of cancer cells whose youngest clone is
    ``k``) follow a random walk in softmax space: start logits N(0, 1), then steps
    N(0, ``step``) per sample. A clone's CCF is the sum of the cell fractions of its
    subtree, so the trunk has CCF 1 and the sum rule holds exactly.

    Parameters
    ----------
    n_clones
        Number of clones K >= 1.
    n_samples
        Number of samples S >= 1, in time order.
    rng
        Generator or seed.
    n_mutations
        Number of mutations N; each clone gets at least one when N >= K, the rest at
        random with Dirichlet(2, ..., 2) shares. 0 gives an empty ``labels``.
    step
        Standard deviation of the per-sample change of the logits.

    Returns
    -------
    CloneTruth
        ``names`` ``"trunk"``, ``"clone1"`` ...; ``resistant`` the non-trunk clone whose
        CCF grows most from the first sample to the last (0 when K is 1);
        ``multiplicity`` ones.
    """
    rng = np.random.default_rng(rng)
    if n_clones < 1:
        raise InputError(f"{n_clones}; expected at least 1 clone", field="n_clones")
    if n_samples < 1:
        raise InputError(f"{n_samples}; expected at least 1 sample", field="n_samples")
    if 0 < n_mutations < n_clones:
        raise InputError(
            f"{n_mutations}; expected 0 or at least {n_clones} (one per clone)", field="n_mutations"
        )
    parents: list[int | None] = [None] + [int(rng.integers(0, k)) for k in range(1, n_clones)]
    logits = rng.normal(0.0, 1.0, n_clones)[:, None] + np.cumsum(
        np.concatenate(
            [np.zeros((n_clones, 1)), rng.normal(0.0, step, (n_clones, n_samples - 1))], axis=1
        ),
        axis=1,
    )
    fractions = np.exp(logits - logits.max(axis=0))
    fractions /= fractions.sum(axis=0)
    ccf = fractions.copy()
    for k in range(n_clones - 1, 0, -1):  # children have larger indices than parents
        ccf[parents[k]] += ccf[k]
    ccf[0] = 1.0  # exactly, not 1 up to rounding
    labels = np.zeros(0, dtype=np.int64)
    if n_mutations:
        shares = rng.dirichlet(np.full(n_clones, 2.0))
        extra = rng.choice(n_clones, n_mutations - n_clones, p=shares)
        labels = rng.permutation(np.concatenate([np.arange(n_clones), extra]))
    growth = ccf[1:, -1] - ccf[1:, 0]
    return CloneTruth(
        labels=labels.astype(np.int64),
        ccf=ccf,
        parents=parents,
        names=["trunk"] + [f"clone{k}" for k in range(1, n_clones)],
        resistant=int(np.argmax(growth)) + 1 if n_clones > 1 else 0,
        multiplicity=np.ones((labels.size, n_samples), dtype=np.int64),
    )


def _split(n: int, shares: np.ndarray) -> np.ndarray:
    """Whole counts summing to ``n`` in proportion to ``shares``, at least 1 each."""
    exact = n * shares / shares.sum()
    counts = np.maximum(np.floor(exact).astype(np.int64), 1)
    while counts.sum() < n:  # largest remainder
        counts[np.argmax(exact - counts)] += 1
    while counts.sum() > n:
        counts[np.argmax(np.where(counts > 1, counts - exact, -np.inf))] -= 1
    return counts


def _draw_alt(
    depth: np.ndarray, vaf: np.ndarray, precision: float | None, rng: np.random.Generator
) -> np.ndarray:
    """Alternative reads: binomial, or beta-binomial with the given precision."""
    p = vaf
    if precision is not None:
        inner = (vaf > 0) & (vaf < 1)  # beta(0, b) is not defined: no reads, or all reads
        p = vaf.copy()
        a = vaf[inner] * precision
        p[inner] = rng.beta(a, precision - a)
    return rng.binomial(depth, p).astype(np.int64)
