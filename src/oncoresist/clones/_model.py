"""Clustering mutations into clones by their cancer-cell fractions across samples.

The model (a finite mixture fitted by mean-field variational inference, as PyClone-VI does,
written anew here):

* each cluster ``k`` has a cancer-cell fraction (CCF) per sample on a grid of ``G`` points in
  [0, 1]; its variational posterior ``q(phi_ks)`` is a discrete distribution on that grid
  (uniform prior), so every update is exact;
* a mutation's reads in a sample follow a binomial or beta-binomial (precision ``rho``)
  around the VAF of PyClone's genotype model (Roth et al. 2014): normal cells, cancer cells
  without the mutation and cancer cells with it, each with their copy number
  (:func:`oncoresist.clones._data.expected_vaf`), reads of the unmutated allele giving
  alternative reads at the error rate ``e``;
* **copy-number states per sample**: in each sample the mutation either came *before* the
  copy-number change (``m = 1 .. major`` mutated copies; the cancer cells without it kept
  the normal copy number) or *after* it (``m = 1``; all cancer cells share the change),
  with a uniform prior over the distinct states, marginalised in each sample's likelihood
  as PyClone-VI does. Samples whose copy number is the same segment state (same major,
  minor and normal copy number; the largest such group of at least two samples) may also
  share one state: with prior probability :data:`SHARED_PRIOR` the group's state is tied
  (one latent *hypothesis* per state, a variable of the mean-field posterior), otherwise
  each sample has its own (the *free* hypothesis). Tying alone would be wrong where the
  samples' phases differ (a cluster would be invented to explain one sample's other
  multiplicity); the free hypothesis alone cannot use the tie where it holds. A sample
  with no reads (depth 0), or no tumour copy of the locus, carries no information;
* cluster weights have a sparse symmetric Dirichlet prior, so unused clusters empty.

Updates use one table of *hypothesis rows*, ``L[r, s, g] = log p(reads_s | phi = grid_g,
hypothesis r)``, rows grouped by mutation (one row for a mutation without a shared state).
Cluster-CCF posteriors are ``q_ks ∝ exp(sum_r q_rk L[r, s, :])`` and the joint posterior of
hypothesis and cluster ``q_rk ∝ exp(log prior_r + E log pi_k + sum_s q_ks . L[r, s, :])``,
normalised per mutation: two matrix products per iteration, no loop over mutations.

The fit starts deterministically (farthest-point centres on per-mutation CCF estimates),
adds seeded restarts, then refines by **splits** (each cluster is split in two along the
sample where its members disagree most, kept when the ELBO rises -- the uniform CCF prior's
Occam factor, about ``S log G`` nats per cluster, guards against over-splitting) and
**merges** (pairs of clusters with close CCFs, kept when the ELBO rises). Splits are what
keep a 2 % sub-clone apart from a 0 % sibling when many mutations support the difference.
The ELBO and BIC of every cluster count visited (populated clusters only) are reported.

References
----------
Gillis S, Roth A. PyClone-VI: scalable inference of clonal population structures using
whole genome data. BMC Bioinformatics 2020;21:571.
Roth A et al. PyClone: statistical inference of clonal population structure in cancer.
Nat Methods 2014 (PMID 24633410).
Blei DM, Kucukelbir A, McAuliffe JD. Variational inference: a review for statisticians.
J Am Stat Assoc 2017.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special

from oncoresist.clones._data import MutationData
from oncoresist.errors import InputError

#: Beta-binomial precisions tried by ``likelihood="auto"`` (besides the binomial).
PRECISIONS = (30.0, 100.0, 200.0, 300.0, 1000.0, 3000.0)

#: Cells (mutation x sample x state x grid point) per block when tables are built.
BLOCK_CELLS = 2_000_000

#: Seed of the fixed subsample the search runs on above ``search_size`` mutations.
SUBSAMPLE_SEED = 20201

#: Iterations of a trial fit (a restart, a split, a merge) before it is judged; the promising
#: one is then run to convergence.
TRIAL_ITER = 40

#: Sequencing error rate: the chance that a read of an unmutated allele shows the variant
#: (PyClone-VI's default).
ERROR_RATE = 1e-3

#: Prior probability that the samples of a mutation's group (one segment state) share its
#: copy-number state; otherwise each sample has its own (the "free" hypothesis row).
SHARED_PRIOR = 0.5

#: A mutation's multiplicity is "decided" when, in every sample with reads, the posterior
#: probability of its most probable number of mutated copies is at least this.
DECIDED = 0.9

Likelihood = Literal["binomial", "beta-binomial"]


def log_likelihood_table(
    data: MutationData,
    grid: np.ndarray,
    *,
    likelihood: Likelihood = "beta-binomial",
    precision: float = 200.0,
    error_rate: float = ERROR_RATE,
) -> np.ndarray:
    """``L[i, s, g]``: log-probability of mutation ``i``'s reads in sample ``s`` at CCF ``grid[g]``.

    Marginalised over the sample's copy-number states (uniform prior over the distinct
    ``(reference copy number, mutated copies)`` pairs; see :class:`CloneModel`), sample by
    sample. Cells with depth 0 or no tumour copy (``major_cn`` 0) contribute 0.

    Parameters
    ----------
    data
        Reads, copy numbers and purities.
    grid
        CCF values (fractions in [0, 1]).
    likelihood, precision
        Read model: binomial, or beta-binomial of the given precision.
    error_rate
        Chance that a read of an unmutated allele shows the variant.

    Returns
    -------
    numpy.ndarray
        N x S x G log-probabilities (nats).
    """
    out = np.empty((data.n_mutations, data.n_samples, grid.size))
    for rows in _blocks(data, grid):
        ll, states = _state_table(data, rows, grid, likelihood=likelihood,
                                  precision=precision, error_rate=error_rate)  # fmt: skip
        out[rows] = _marginal(ll, states.n_states)
    return out


@dataclass
class _States:
    """Copy-number states of a block of cells (``B`` mutations x ``S`` samples x ``C``)."""

    ref: np.ndarray  # B x S x C: copy number of the cancer cells without the mutation
    copies: np.ndarray  # B x S x C: mutated copies (0 where the cell carries no information)
    valid: np.ndarray  # B x S x C
    n_states: np.ndarray  # B x S (1 where the cell carries no information)
    informative: np.ndarray  # B x S


def _cell_states(data: MutationData, rows: slice) -> _States:
    """PyClone's genotype states of each cell.

    Before the change: ``m = 1..major`` copies, the unmutated cancer cells at ``normal_cn``;
    after it: ``m = 1``, them at ``total_cn`` (the same as "before, m = 1" when ``total_cn ==
    normal_cn``).
    """
    major = data.major_cn[rows]
    total = major + data.minor_cn[rows]
    normal = data.normal_cn[rows]
    informative = (data.depth[rows] > 0) & (major > 0)
    n_states = np.where(informative, major + (total != normal), 1)
    c = np.arange(int(n_states.max()))[None, None, :]
    before = c < major[..., None]
    valid = c < n_states[..., None]
    ref = np.where(before, normal[..., None], total[..., None])
    copies = np.where(before, c + 1, 1) * (valid & informative[..., None])
    return _States(ref, copies, valid, n_states, informative)


def _state_table(
    data: MutationData,
    rows: slice,
    grid: np.ndarray,
    *,
    likelihood: Likelihood,
    precision: float,
    error_rate: float,
) -> tuple[np.ndarray, _States]:
    """``ll[i, s, c, g]`` for the cells of ``rows``: log-probability of the reads in state ``c``.

    Invalid states are ``-inf``; a cell that carries no information has one state of
    log-probability 0. Only valid states of informative cells are computed.
    """
    if likelihood not in ("binomial", "beta-binomial"):
        raise InputError(f"{likelihood!r}; expected binomial or beta-binomial",
                         field="likelihood")  # fmt: skip
    states = _cell_states(data, rows)
    out = np.full((*states.valid.shape, grid.size), -np.inf)
    out[~states.informative, 0] = 0.0
    i, s, c = np.nonzero(states.valid & states.informative[..., None])
    if i.size == 0:
        return out, states
    alt = data.alt[rows][i, s].astype(float)[:, None]
    depth = data.depth[rows][i, s].astype(float)[:, None]
    purity = np.asarray(data.purity, dtype=float)[s][:, None]
    total = (data.major_cn[rows] + data.minor_cn[rows])[i, s].astype(float)[:, None]
    normal = data.normal_cn[rows][i, s].astype(float)[:, None]
    ref = states.ref[i, s, c].astype(float)[:, None]
    mu = np.minimum(1 - error_rate, states.copies[i, s, c][:, None] / total)
    phi = grid[None, :]
    weight_n, weight_r, weight_v = (1 - purity) * normal, purity * (1 - phi) * ref, (
        purity * phi * total)  # fmt: skip
    num = (weight_n + weight_r) * error_rate + weight_v * mu
    vaf = np.clip(num / np.maximum(weight_n + weight_r + weight_v, 1e-12), 1e-9, 1 - 1e-9)
    const = special.gammaln(depth + 1) - special.gammaln(alt + 1) - special.gammaln(
        depth - alt + 1)  # fmt: skip
    if likelihood == "binomial" or not np.isfinite(precision):
        ll = const + alt * np.log(vaf) + (depth - alt) * np.log1p(-vaf)
    else:
        # betaln(alt + a, ref + b) - betaln(a, b) with a + b = precision, as four gammaln
        a, b = vaf * precision, (1 - vaf) * precision
        const = const + special.gammaln(precision) - special.gammaln(depth + precision)
        ll = (const + special.gammaln(alt + a) - special.gammaln(a)
              + special.gammaln(depth - alt + b) - special.gammaln(b))  # fmt: skip
    out[i, s, c] = ll
    return out, states


def _marginal(ll: np.ndarray, n_states: np.ndarray) -> np.ndarray:
    """Log-probability marginalised over the states (uniform prior), per cell and grid point."""
    top = ll.max(axis=2)
    with np.errstate(under="ignore"):
        total = np.exp(ll - top[:, :, None, :]).sum(axis=2)
    return top + np.log(total) - np.log(n_states)[..., None]


def _blocks(data: MutationData, grid: np.ndarray):
    """Row slices of the mutations, small enough for the per-state temporaries."""
    states = int((np.maximum(data.major_cn, 1) + 1).max())
    size = max(1, BLOCK_CELLS // max(1, data.n_samples * states * grid.size))
    for lo in range(0, data.n_mutations, size):
        yield slice(lo, min(lo + size, data.n_mutations))


@dataclass
class _Table:
    """Hypothesis rows of all mutations, grouped by mutation, and what they index."""

    rows: np.ndarray  # R x S x G log-likelihoods
    mutation: np.ndarray  # R: the mutation of each row
    state: np.ndarray  # R: the tied state of each row (-1: the free row)
    log_prior: np.ndarray  # R: log prior of the row's hypothesis within its mutation
    starts: np.ndarray  # N: the first row of each mutation
    group: np.ndarray  # N x S: samples that share the hypothesis
    point: np.ndarray  # N x S: posterior-mean CCF from the reads alone (uniform prior)

    @property
    def n_mutations(self) -> int:
        return self.starts.size


def hypothesis_table(
    data: MutationData, grid: np.ndarray, *, likelihood: Likelihood = "beta-binomial",
    precision: float = 200.0,
) -> _Table:  # fmt: skip
    """The hypothesis rows the model is fitted on (see the module docstring)."""
    parts: list[tuple[np.ndarray, ...]] = []
    for block in _blocks(data, grid):
        ll, states = _state_table(data, block, grid, likelihood=likelihood,
                                  precision=precision, error_rate=ERROR_RATE)  # fmt: skip
        marginal = _marginal(ll, states.n_states)
        group = _shared_group(data, block, states.informative)
        tied = group.any(axis=1)
        lead = states.n_states[np.arange(group.shape[0]), group.argmax(axis=1)]
        n_hyp = np.where(tied, lead + 1, 1)  # the tied states, then the free row
        mutation = np.repeat(np.arange(group.shape[0]), n_hyp)
        state = np.arange(mutation.size) - np.repeat(np.cumsum(n_hyp) - n_hyp, n_hyp)
        free = state == n_hyp[mutation] - 1
        state[free] = -1
        log_prior = np.where(tied[mutation], np.log(SHARED_PRIOR), 0.0)
        log_prior[~free] = np.log((1 - SHARED_PRIOR) / lead[mutation[~free]])
        s_all = np.arange(data.n_samples)[None, :]
        pick = np.clip(state[:, None], 0, states.n_states[mutation] - 1)
        rows = np.where((group[mutation] & ~free[:, None])[..., None],
                        ll[mutation[:, None], s_all, pick], marginal[mutation])  # fmt: skip
        point = _grid_posterior(marginal) @ grid
        parts.append((rows, mutation + block.start, state, log_prior, group, point))
    joined = (np.concatenate(p) for p in zip(*parts, strict=True))
    rows, mutation, state, log_prior, group, point = joined
    starts = np.flatnonzero(np.r_[True, mutation[1:] != mutation[:-1]])
    return _Table(rows, mutation, state, log_prior, starts, group, point)


def _shared_group(data: MutationData, rows: slice, informative: np.ndarray) -> np.ndarray:
    """Per mutation, the largest set (at least 2) of informative samples with one CN state.

    Ties go to the set that holds the earliest sample; no set where no two samples agree.
    """
    key = np.stack([data.major_cn[rows], data.minor_cn[rows], data.normal_cn[rows]], axis=-1)
    same = (key[:, :, None, :] == key[:, None, :, :]).all(axis=-1)
    same &= informative[:, :, None] & informative[:, None, :]
    size = same.sum(axis=2)
    lead = size.argmax(axis=1)
    b = np.arange(size.shape[0])
    return same[b, lead] & (size[b, lead] >= 2)[:, None]


@dataclass
class _State:
    resp: np.ndarray  # N x K (summed over hypotheses)
    joint: np.ndarray  # R x K: hypothesis row and cluster
    qphi: np.ndarray  # K x S x G
    alpha: np.ndarray  # K
    elbo: float


class CloneModel:
    """Mixture of clones over samples, fitted by variational inference.

    Parameters
    ----------
    max_clusters : int
        Clusters the fit starts from (unused ones empty).
    grid : int
        CCF grid points in [0, 1].
    likelihood : {"auto", "beta-binomial", "binomial"}
        Read model; ``auto`` compares the binomial and beta-binomials of precision 30 to
        3,000 by the ELBO of a first fit and keeps the best (``read_model_``).
    precision : float
        Beta-binomial precision (larger = closer to binomial), for ``beta-binomial``.
    concentration : float
        Symmetric Dirichlet prior on cluster weights (small = sparse).
    restarts : int
        Seeded random restarts besides the deterministic start.
    search_size : int
        Mutations the search runs on (a fixed subsample above this; see :meth:`fit`).
    max_iter : int
        Iterations per fit.
    tol : float
        Relative ELBO change that ends a fit.
    rng : numpy.random.Generator or int or None
        For the restarts (the answer depends on it only through them).

    Attributes
    ----------
    labels_ : numpy.ndarray
        Cluster of each mutation (0..K-1, clusters ordered by decreasing mean CCF).
    assignment_prob_ : numpy.ndarray
        N x K posterior cluster probabilities.
    ccf_, ccf_sd_, ccf_lo_, ccf_hi_ : numpy.ndarray
        K x S posterior mean, SD and 95 % interval of each cluster's CCF.
    mutation_ccf_, mutation_lo_, mutation_hi_ : numpy.ndarray
        N x S posterior mean and 95 % interval of each mutation's own CCF (its reads alone,
        uniform prior, its copy-number states weighted by their posterior; NaN where the
        sample carries no information).
    weights_ : numpy.ndarray
        K cluster weights (posterior mean).
    elbo_ : float
        Evidence lower bound of the chosen fit (nats).
    selection_ : pandas.DataFrame
        One row per cluster count visited: ``clusters``, ``elbo``, ``bic``, ``chosen``.
    read_model_ : pandas.DataFrame
        Read models compared: ``likelihood``, ``precision``, ``elbo``, ``chosen``.
    multiplicity_ : numpy.ndarray
        N x S most probable number of mutated copies per cell carrying the mutation (0
        where the sample carries no information).
    multiplicity_prob_ : numpy.ndarray
        N x S posterior probability of that number (NaN where no information).
    multiplicity_decided_ : numpy.ndarray
        N booleans: ``multiplicity_prob_ >=`` :data:`DECIDED` in every informative sample;
        False means the data cannot tell how many copies carry the mutation (e.g. CCF 1
        on one copy from CCF 0.5 on two).
    shared_state_ : numpy.ndarray
        N x S booleans: samples whose copy-number state is tied to the mutation's
        hypothesis (the largest group of samples with one segment state).
    early_prob_ : numpy.ndarray
        Per mutation, the posterior probability that it preceded a copy-number change
        (two or more mutated copies), the largest over its samples; 0 where no sample
        has ``major_cn >= 2``.
    """

    def __init__(
        self,
        *,
        max_clusters: int = 20,
        grid: int = 101,
        likelihood: Literal["auto", "binomial", "beta-binomial"] = "auto",
        precision: float = 200.0,
        concentration: float = 0.01,
        restarts: int = 3,
        search_size: int = 3000,
        max_iter: int = 300,
        tol: float = 1e-6,
        rng: np.random.Generator | int | None = 0,
    ) -> None:
        self.max_clusters = max_clusters
        self.grid = grid
        self.likelihood = likelihood
        self.precision = precision
        self.concentration = concentration
        self.restarts = restarts
        self.search_size = search_size
        self.max_iter = max_iter
        self.tol = tol
        self.rng = rng

    # ------------------------------------------------------------------ fitting
    def fit(self, data: MutationData) -> CloneModel:
        """Fit the mixture to ``data``; returns ``self``.

        Above ``search_size`` mutations the search (starts, read model, splits and merges)
        runs on a fixed subsample of that many mutations (the same whatever the seed); all
        mutations are then fitted from the clusters found, and the merges are checked again.
        """
        if self.max_clusters < 1 or self.grid < 3:
            raise InputError("max_clusters must be >= 1 and grid >= 3", field="max_clusters")
        if not (data.depth > 0).any():
            raise InputError("no mutation has reads in any sample (all depths are 0)",
                             field="ref_counts")  # fmt: skip
        with _one_blas_thread():
            return self._fit(data)

    def _fit(self, data: MutationData) -> CloneModel:
        rng = np.random.default_rng(self.rng)
        self.grid_ = np.linspace(0.0, 1.0, self.grid)
        n = data.n_mutations
        if n <= self.search_size:
            best, table, visited, read_model = self._search(data, rng)
        else:
            pick = np.sort(np.random.default_rng(SUBSAMPLE_SEED).choice(n, self.search_size,
                                                                        replace=False))  # fmt: skip
            found, _, _, read_model = self._search(_subset(data, pick), rng)
            chosen = read_model[read_model["chosen"]].iloc[0]
            table = hypothesis_table(data, self.grid_, likelihood=chosen["likelihood"],
                                     precision=float(chosen["precision"]))  # fmt: skip
            self._load(table)
            weight = np.log(found.alpha / found.alpha.sum())
            joint, _ = self._update_joint(found.qphi, weight)
            best = self._compact(self._run(joint))
            visited: dict[int, float] = {}
            self._visit(visited, best)
            merged = self._best_merge(best, visited)
            if merged is not None:
                best = merged
        best = self._compact(best)  # only populated clusters are reported or compared
        self.read_model_ = read_model
        chosen = read_model[read_model["chosen"]].iloc[0]
        self.likelihood_, self.precision_ = str(chosen["likelihood"]), float(chosen["precision"])
        self._finish(best, table, visited, data)
        return self

    def _search(self, data: MutationData, rng: np.random.Generator):
        """Starts, read model, splits and merges; the best state and what it was fitted on."""
        start_lik = "beta-binomial" if self.likelihood == "auto" else self.likelihood
        start_prec = 200.0 if self.likelihood == "auto" else self.precision
        table = hypothesis_table(data, self.grid_, likelihood=start_lik,  # type: ignore[arg-type]
                                 precision=start_prec)  # fmt: skip
        point = self._load(table)
        k0 = min(self.max_clusters, data.n_mutations)
        det = self._run(self._resp_from_centres(point, self._farthest_centres(point, k0, rng=None)),
                        max_iter=TRIAL_ITER)  # fmt: skip
        other = None
        for _ in range(self.restarts):  # seeded starts, kept only if they beat the deterministic
            centres = self._farthest_centres(point, k0, rng=rng)
            state = self._run(self._resp_from_centres(point, centres), max_iter=TRIAL_ITER)
            if state.elbo > det.elbo + 1e-9 and (other is None or state.elbo > other.elbo):
                other = state
        results = [self._pipeline(det, data, start_table=table, point=point)]
        if other is not None:
            results.append(self._pipeline(other, data, start_table=table, point=point))
        return max(results, key=lambda r: r[0].elbo)

    def _pipeline(self, start: _State, data: MutationData, *, start_table, point):
        """Converge a start, choose the read model, refine by splits and merges."""
        self._load(start_table)
        state = self._compact(self._run(start.joint))
        table = start_table
        if self.likelihood == "auto":
            table, state, read_model = self._choose_read_model(data, state)
        else:
            read_model = pd.DataFrame({"likelihood": [self.likelihood],
                                       "precision": [self.precision],
                                       "elbo": [state.elbo], "chosen": [True]})  # fmt: skip
        visited: dict[int, float] = {}
        self._visit(visited, state)
        state = self._refine(state, point, visited)
        return state, table, visited, read_model

    def _load(self, table: _Table) -> np.ndarray:
        """Keep the table flat for the updates; return per-mutation CCF estimates."""
        r, s, g = table.rows.shape
        self._flat = table.rows.reshape(r, s * g)
        self._shape = (s, g)
        self._rows = table
        self._single = r == table.n_mutations  # one hypothesis per mutation: no grouping
        return table.point

    def _choose_read_model(self, data: MutationData, state: _State):
        """Compare read models from one clustering; keep the one with the highest ELBO.

        Each candidate (the binomial, beta-binomials of precision 30 to 3,000) is run to
        convergence from the same responsibilities (the fit under precision 200), without
        splits or merges, so that a sharper read model cannot buy its fit with extra
        clusters; the ELBO bounds each model's evidence. Returns the chosen table and state.
        """
        rows = []
        best_table, best_state = None, None
        for lik, prec in [("binomial", np.inf), *(("beta-binomial", p) for p in PRECISIONS)]:
            table = hypothesis_table(data, self.grid_, likelihood=lik,  # type: ignore[arg-type]
                                     precision=prec)  # fmt: skip
            self._load(table)
            trial = self._run(state.joint)
            rows.append((lik, prec, trial.elbo))
            if best_state is None or trial.elbo > best_state.elbo:
                best_table, best_state = table, trial
        out = pd.DataFrame(rows, columns=["likelihood", "precision", "elbo"])
        out["chosen"] = np.arange(len(out)) == int(out["elbo"].to_numpy().argmax())
        self._load(best_table)
        return best_table, best_state, out

    @staticmethod
    def _farthest_centres(
        point: np.ndarray, k: int, *, rng: np.random.Generator | None
    ) -> np.ndarray:
        """Farthest-point centres (deterministic from the median) or k-means++ with ``rng``."""
        if rng is None:
            first = int(np.argmin(((point - np.median(point, axis=0)) ** 2).sum(axis=1)))
        else:
            first = int(rng.integers(point.shape[0]))
        centres = [point[first]]
        d2 = ((point - centres[0]) ** 2).sum(axis=1)
        for _ in range(1, k):
            if d2.max() <= 0:
                break
            if rng is None:
                nxt = int(np.argmax(d2))
            else:
                nxt = int(rng.choice(point.shape[0], p=d2 / d2.sum()))
            centres.append(point[nxt])
            d2 = np.minimum(d2, ((point - point[nxt]) ** 2).sum(axis=1))
        return np.array(centres)

    def _resp_from_centres(self, point: np.ndarray, centres: np.ndarray) -> np.ndarray:
        d2 = ((point[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        resp = np.zeros_like(d2)
        resp[np.arange(point.shape[0]), d2.argmin(axis=1)] = 1.0
        return resp

    # ------------------------------------------------------- per-mutation sums
    def _by_mutation(self, x: np.ndarray) -> np.ndarray:
        """Sum the rows of ``x`` (R x ...) of each mutation (N x ...)."""
        return x if self._single else np.add.reduceat(x, self._rows.starts, axis=0)

    def _to_rows(self, resp: np.ndarray) -> np.ndarray:
        """Spread N x K responsibilities over each mutation's hypotheses (by their prior)."""
        if self._single:
            return resp
        t = self._rows
        return resp[t.mutation] * np.exp(t.log_prior)[:, None]

    def _normalise(self, logits: np.ndarray) -> tuple[np.ndarray, float]:
        """Softmax of R x K logits within each mutation; and the sum of the log-normalisers.

        That sum equals ``E_q[log p] + H(q)`` of the hypothesis-and-cluster posterior, so the
        ELBO needs no separate entropy.
        """
        if self._single:
            top = logits.max(axis=1, keepdims=True)
            e = np.exp(logits - top)
            z = e.sum(axis=1, keepdims=True)
            return e / z, float((np.log(z) + top).sum())
        t = self._rows
        top = np.maximum.reduceat(logits.max(axis=1), t.starts)
        e = np.exp(logits - top[t.mutation][:, None])
        z = np.add.reduceat(e.sum(axis=1), t.starts)
        return e / z[t.mutation][:, None], float((np.log(z) + top).sum())

    def _update_joint(self, qphi: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, float]:
        """The joint posterior of hypotheses and clusters given cluster CCFs and weights."""
        k = qphi.shape[0]
        expected = self._flat @ qphi.reshape(k, -1).T  # R x K
        expected += weight
        if not self._single:
            expected += self._rows.log_prior[:, None]
        return self._normalise(expected)

    def _qphi(self, joint: np.ndarray) -> np.ndarray:
        """Cluster CCF posteriors (K x S x G)."""
        s, g = self._shape
        return _grid_posterior((joint.T @ self._flat).reshape(-1, s, g))

    def _run(self, resp: np.ndarray, max_iter: int | None = None) -> _State:
        """Coordinate ascent from responsibilities (N x K) or a joint posterior (R x K)."""
        joint = resp if resp.shape[0] == self._flat.shape[0] else self._to_rows(resp)
        joint = joint[:, joint.sum(axis=0) > 0]
        last = -np.inf
        elbo = -np.inf
        qphi = alpha = None
        for _ in range(max_iter or self.max_iter):
            qphi = self._qphi(joint)
            alpha = self.concentration + joint.sum(axis=0)
            elog_pi = special.digamma(alpha) - special.digamma(alpha.sum())
            joint, fit = self._update_joint(qphi, elog_pi)
            elbo = fit - self._kl(qphi, alpha, elog_pi)
            if abs(elbo - last) <= self.tol * abs(elbo):
                break
            last = elbo
        return _State(self._by_mutation(joint), joint, qphi, alpha, elbo)

    def _kl(self, qphi: np.ndarray, alpha: np.ndarray, elog_pi: np.ndarray) -> float:
        """KL of the cluster CCFs and weights from their priors."""
        g = qphi.shape[2]
        kl_phi = float(np.sum(special.xlogy(qphi, qphi))) + qphi[..., 0].size * np.log(g)
        a0 = np.full_like(alpha, self.concentration)
        kl_pi = (special.gammaln(alpha.sum()) - special.gammaln(alpha).sum()
                 - special.gammaln(a0.sum()) + special.gammaln(a0).sum()
                 + np.sum((alpha - a0) * elog_pi))  # fmt: skip
        return kl_phi + float(kl_pi)

    def _compact(self, state: _State) -> _State:
        """Drop empty and negligible clusters, and converge again, until none is left.

        A cluster is kept when its expected membership is at least half a mutation and at
        least one mutation is assigned to it; a cluster with no mutation would still be
        reported with a CCF (its prior's), be placed in the tree and bend the fish plot.
        """
        while state.resp.shape[1] > 1:
            assigned = np.bincount(state.resp.argmax(axis=1), minlength=state.resp.shape[1])
            keep = (state.resp.sum(axis=0) >= 0.5) & (assigned > 0)
            if keep.all():
                break
            joint = state.joint[:, keep]
            total = self._by_mutation(joint.sum(axis=1))
            joint = joint / (total if self._single else total[self._rows.mutation])[:, None]
            state = self._run(joint)
        return state

    @staticmethod
    def _visit(visited: dict[int, float], state: _State) -> None:
        """Record a (compacted) solution for model selection: the best ELBO per cluster count."""
        k = state.resp.shape[1]
        visited[k] = max(visited.get(k, -np.inf), state.elbo)

    def _refine(self, state: _State, point: np.ndarray, visited: dict[int, float]) -> _State:
        """Greedy splits, then merges, each kept only when the ELBO rises."""
        improved = True
        rounds = 0
        while improved and rounds < 50:
            improved = False
            rounds += 1
            labels = state.resp.argmax(axis=1)
            sizes = np.bincount(labels, minlength=state.resp.shape[1])
            for k in np.argsort(-sizes):
                members = np.flatnonzero(labels == k)
                if members.size < 4:
                    continue
                trial = self._split(state, k, members, point)
                if trial is None or trial.elbo <= state.elbo:
                    continue
                trial = self._compact(self._run(trial.joint))  # converge the promising split
                self._visit(visited, trial)
                if trial.elbo > state.elbo + 1e-6 * abs(state.elbo):
                    state, improved = trial, True
                    break
            if improved:
                continue
            merged = self._best_merge(state, visited)
            if merged is not None:
                state, improved = merged, True
        return self._compact(state)

    def _split(self, state: _State, k: int, members: np.ndarray, point: np.ndarray):
        """Split cluster ``k`` by 2-means on its members' CCF estimates."""
        sub = point[members]
        spread = sub.std(axis=0)
        axis = int(np.argmax(spread))
        if spread[axis] < 1e-3:
            return None
        cut = np.median(sub[:, axis])
        side = sub[:, axis] > cut
        if side.all() or not side.any():
            return None
        for _ in range(10):  # 2-means in all samples, started from the median cut
            c1, c0 = sub[side].mean(axis=0), sub[~side].mean(axis=0)
            new = ((sub - c1) ** 2).sum(axis=1) < ((sub - c0) ** 2).sum(axis=1)
            if new.all() or not new.any() or (new == side).all():
                break
            side = new
        moved = np.zeros(state.resp.shape[0], dtype=bool)
        moved[members[side]] = True
        if not self._single:
            moved = moved[self._rows.mutation]
        joint = state.joint.copy()
        extra = np.zeros((joint.shape[0], 1))
        extra[moved, 0] = joint[moved, k]
        joint[moved, k] = 0.0
        return self._run(np.concatenate([joint, extra], axis=1), max_iter=TRIAL_ITER)

    def _best_merge(self, state: _State, visited: dict[int, float]) -> _State | None:
        k = state.resp.shape[1]
        if k < 2:
            return None
        mean = state.qphi @ self.grid_  # K x S
        dist = np.abs(mean[:, None, :] - mean[None, :, :]).max(axis=2)
        pairs = sorted((dist[a, b], a, b) for a in range(k) for b in range(a + 1, k))
        best = None
        for _, a, b in pairs[:3]:
            joint = state.joint.copy()
            joint[:, a] += joint[:, b]
            joint = np.delete(joint, b, axis=1)
            trial = self._run(joint, max_iter=TRIAL_ITER)
            if trial.elbo > state.elbo:
                trial = self._run(trial.joint)
            trial = self._compact(trial)
            self._visit(visited, trial)
            if trial.elbo > state.elbo + 1e-6 * abs(state.elbo) and (
                    best is None or trial.elbo > best.elbo):  # fmt: skip
                best = trial
        return best

    # ----------------------------------------------------------------- results
    def _finish(self, state: _State, table: _Table, visited, data: MutationData) -> None:
        self._load(table)
        grid = self.grid_
        mean = state.qphi @ grid
        order = np.argsort(-mean.mean(axis=1), kind="stable")
        qphi = state.qphi[order]
        resp = state.resp[:, order]
        self.assignment_prob_ = resp
        self.labels_ = resp.argmax(axis=1)
        self.weights_ = state.alpha[order] / state.alpha.sum()
        self.ccf_ = qphi @ grid
        self.ccf_sd_ = np.sqrt(np.maximum(qphi @ grid**2 - self.ccf_**2, 0.0))
        self.ccf_lo_, self.ccf_hi_ = _interval(qphi, grid)
        row_prob = state.joint.sum(axis=1)  # R: posterior of each hypothesis row
        w = self._by_mutation(row_prob[:, None, None] * _grid_posterior(table.rows))
        self._multiplicity(data, table, row_prob, resp, qphi)
        informative = (data.depth > 0) & (data.major_cn > 0)
        self.mutation_ccf_ = np.where(informative, w @ grid, np.nan)
        lo, hi = _interval(w, grid)
        self.mutation_lo_ = np.where(informative, lo, np.nan)
        self.mutation_hi_ = np.where(informative, hi, np.nan)
        self.elbo_ = state.elbo
        n_cells = int(informative.sum())
        final_k = resp.shape[1]
        visited.setdefault(final_k, state.elbo)
        rows = []
        for k_, elbo in sorted(visited.items()):
            params = k_ * data.n_samples + (k_ - 1)
            rows.append((k_, elbo, -2 * elbo + params * np.log(max(n_cells, 2))))
        sel = pd.DataFrame(rows, columns=["clusters", "elbo", "bic"]).sort_values("clusters")
        sel["chosen"] = sel["clusters"] == final_k
        self.selection_ = sel.reset_index(drop=True)
        self.n_clusters_ = final_k

    def _multiplicity(self, data: MutationData, table: _Table, row_prob: np.ndarray,
                      resp: np.ndarray, qphi: np.ndarray) -> None:  # fmt: skip
        """Posterior of each cell's number of mutated copies (``multiplicity_*``).

        Samples in the mutation's shared group take the posterior of its hypothesis rows.
        In the others the state posterior is ``prior_c * E[p(reads | phi, c)]`` with ``phi``
        drawn from the mutation's clusters (its responsibilities times their CCF
        posteriors).
        """
        n, s = data.n_mutations, data.n_samples
        mult = np.zeros((n, s), dtype=np.int64)
        prob = np.full((n, s), np.nan)
        early = np.zeros(n)
        k = qphi.shape[0]
        for rows in _blocks(data, self.grid_):
            ll, states = _state_table(data, rows, self.grid_, likelihood=self.likelihood_,  # type: ignore[arg-type]
                                      precision=self.precision_, error_rate=ERROR_RATE)  # fmt: skip
            mix = (resp[rows] @ qphi.reshape(k, -1)).reshape(-1, s, 1, self.grid_.size)
            with np.errstate(divide="ignore"):
                logpost = special.logsumexp(ll + np.log(mix), axis=3)
            post = np.exp(logpost - logpost.max(axis=2, keepdims=True))
            post /= post.sum(axis=2, keepdims=True)
            # the group's cells: the tied rows' posterior, plus the free row's share times
            # the sample's own state posterior
            pick = (table.mutation >= rows.start) & (table.mutation < rows.stop)
            tied = pick & (table.state >= 0)
            shared = np.zeros_like(post)
            np.add.at(shared, (table.mutation[tied] - rows.start, slice(None), table.state[tied]),
                      row_prob[tied][:, None])  # fmt: skip
            free = np.zeros(post.shape[0])
            np.add.at(free, table.mutation[pick & ~tied] - rows.start, row_prob[pick & ~tied])
            post = np.where(table.group[rows][..., None], shared + free[:, None, None] * post, post)
            top = int(states.copies.max())
            by_copies = np.stack([(post * (states.copies == m)).sum(axis=2)
                                  for m in range(1, max(top, 1) + 1)], axis=2)  # fmt: skip
            best = by_copies.argmax(axis=2)
            inf = states.informative
            mult[rows] = np.where(inf, best + 1, 0)
            prob[rows] = np.where(inf, np.take_along_axis(by_copies, best[..., None], 2)[..., 0],
                                  np.nan)  # fmt: skip
            several = (post * (states.copies >= 2)).sum(axis=2)
            early[rows] = np.where(inf & (data.major_cn[rows] >= 2), several, 0.0).max(axis=1)
        self.multiplicity_ = mult
        self.multiplicity_prob_ = prob
        self.multiplicity_decided_ = np.where(np.isnan(prob), 1.0, prob).min(axis=1) >= DECIDED
        self.shared_state_ = table.group.copy()
        self.early_prob_ = early


def _one_blas_thread():
    """Limit BLAS to one thread while fitting, where ``threadpoolctl`` is installed.

    The fit's matrix products are small (clusters x hypothesis rows x samples * grid); on
    them BLAS threads mostly wait for each other, which costs CPU time and saves no wall
    time (2,000 x 4: about 1 ms of CPU per product on one thread, 7 ms on two).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional: BLAS keeps its own thread count
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _grid_posterior(logp: np.ndarray) -> np.ndarray:
    """Normalise log-probabilities over the CCF grid (last axis) into probabilities."""
    w = np.exp(logp - logp.max(axis=-1, keepdims=True))
    return w / w.sum(axis=-1, keepdims=True)


def _subset(data: MutationData, rows: np.ndarray) -> MutationData:
    """The mutations ``rows`` of ``data``."""
    pick = rows.tolist()
    return MutationData(
        mutations=[data.mutations[i] for i in pick], samples=list(data.samples),
        alt=data.alt[rows], depth=data.depth[rows], major_cn=data.major_cn[rows],
        minor_cn=data.minor_cn[rows], normal_cn=data.normal_cn[rows], purity=data.purity,
        genes=None if data.genes is None else [data.genes[i] for i in pick],
        alterations=None if data.alterations is None else [data.alterations[i] for i in pick],
        times=data.times,
    )  # fmt: skip


def _interval(q: np.ndarray, grid: np.ndarray, level: float = 0.95):
    """Equal-tailed interval of discrete distributions on ``grid`` (last axis)."""
    cdf = np.cumsum(q, axis=-1)
    lo = grid[np.clip((cdf < (1 - level) / 2).sum(axis=-1), 0, grid.size - 1)]
    hi = grid[np.clip((cdf < 1 - (1 - level) / 2).sum(axis=-1), 0, grid.size - 1)]
    return lo, hi
