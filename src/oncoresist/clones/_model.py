"""Clustering mutations into clones by their cancer-cell fractions across samples.

The model (a finite mixture fitted by mean-field variational inference, as PyClone-VI does,
written anew here):

* each cluster ``k`` has a cancer-cell fraction (CCF) per sample on a grid of ``G`` points in
  [0, 1]; its variational posterior ``q(phi_ks)`` is a discrete distribution on that grid
  (uniform prior), so every update is exact;
* a mutation's reads in a sample follow a binomial or beta-binomial (precision ``rho``)
  around ``vaf = e + (1 - 2e) * purity * phi * m / (purity * CN_t + (1 - purity) * CN_n)``,
  the multiplicity ``m`` (mutated copies per cancer cell) marginalised over ``1..major``
  with a uniform prior; a sample with no reads (depth 0) carries no information, so a
  mutation missing from a sample is kept; zero alt reads at known depth is evidence;
* cluster weights have a sparse symmetric Dirichlet prior, so unused clusters empty.

Updates use one table ``L[i, s, g] = log p(reads_is | phi = grid_g)``: cluster-CCF posteriors
are ``q_ks ∝ exp(sum_i r_ik L[i, s, :])`` and responsibilities ``r_ik ∝ exp(E log pi_k +
sum_s q_ks . L[i, s, :])`` (two matrix products per iteration).

The fit starts deterministically (farthest-point centres on per-mutation CCF estimates),
adds seeded restarts, then refines by **splits** (each cluster is split in two along the
sample where its members disagree most, kept when the ELBO rises -- the uniform CCF prior's
Occam factor, about ``S log G`` nats per cluster, guards against over-splitting) and
**merges** (pairs of clusters with close CCFs, kept when the ELBO rises). Splits are what
keep a 2 % sub-clone apart from a 0 % sibling when many mutations support the difference.
The ELBO and BIC of every cluster count visited are reported.

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

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special

from oncoresist.clones._data import MutationData
from oncoresist.errors import InputError

#: Beta-binomial precisions tried by ``likelihood="auto"`` (besides the binomial).
PRECISIONS = (30.0, 100.0, 200.0, 300.0, 1000.0, 3000.0)

#: Mutations per block when the likelihood table is built.
BLOCK = 1000

#: Seed of the fixed subsample the search runs on above ``search_size`` mutations.
SUBSAMPLE_SEED = 20201

#: Iterations of a trial fit (a restart, a split, a merge) before it is judged; the promising
#: one is then run to convergence.
TRIAL_ITER = 40


def log_likelihood_table(
    data: MutationData,
    grid: np.ndarray,
    *,
    likelihood: Literal["binomial", "beta-binomial"] = "beta-binomial",
    precision: float = 200.0,
    error_rate: float = 1e-3,
) -> np.ndarray:
    """``L[h, i, s, g]``: log-probability of the reads under multiplicity hypothesis ``h``.

    Mutation ``i``, sample ``s``, CCF ``grid[g]``. ``h = 0``: one mutated copy per cancer
    cell (the mutation came after any gain); ``h = 1``: ``major_cn`` mutated copies (it came
    before the gain). A mutation keeps one hypothesis across samples; where ``major_cn <= 1``
    everywhere there is only ``h = 0``. Cells with depth 0 contribute 0.
    """
    hyp = 2 if (data.major_cn > 1).any() else 1
    out = np.empty((hyp, data.n_mutations, data.n_samples, grid.size))
    for lo in range(0, data.n_mutations, BLOCK):  # blocks keep the temporaries small
        rows = slice(lo, min(lo + BLOCK, data.n_mutations))
        out[:, rows] = _table_block(data, rows, grid, hyp=hyp, likelihood=likelihood,
                                    precision=precision, error_rate=error_rate)  # fmt: skip
    return out


def _table_block(
    data: MutationData,
    rows: slice,
    grid: np.ndarray,
    *,
    hyp: int,
    likelihood: Literal["binomial", "beta-binomial"] = "beta-binomial",
    precision: float = 200.0,
    error_rate: float = 1e-3,
) -> np.ndarray:
    """The table for a block of mutations (see :func:`log_likelihood_table`)."""
    alt = data.alt[rows].astype(float)[:, :, None]
    depth = data.depth[rows].astype(float)[:, :, None]
    purity = np.asarray(data.purity, dtype=float)[None, :, None]
    major = data.major_cn[rows]
    total = (major + data.minor_cn[rows]).astype(float)[:, :, None]
    normal = data.normal_cn[rows].astype(float)[:, :, None]
    denom = np.maximum(purity * total + (1 - purity) * normal, 1e-9)
    lognorm = special.gammaln(depth + 1) - special.gammaln(alt + 1) - special.gammaln(
        depth - alt + 1)  # fmt: skip
    copies = [np.ones_like(total)]
    if hyp == 2:
        copies.append(np.maximum(major, 1).astype(float)[:, :, None])
    out = np.empty((hyp, *alt.shape[:2], grid.size))
    for h, m in enumerate(copies):
        vaf = purity * grid[None, None, :] * m / denom
        vaf = np.clip(error_rate + (1 - 2 * error_rate) * vaf, 1e-9, 1 - 1e-9)
        if likelihood == "binomial":
            ll = lognorm + alt * np.log(vaf) + (depth - alt) * np.log1p(-vaf)
        elif likelihood == "beta-binomial":
            a, b = vaf * precision, (1 - vaf) * precision
            ll = lognorm + special.betaln(alt + a, depth - alt + b) - special.betaln(a, b)
        else:
            raise InputError(f"{likelihood!r}; expected binomial or beta-binomial",
                             field="likelihood")  # fmt: skip
        out[h] = np.where(depth > 0, ll, 0.0)
    return out


@dataclass
class _State:
    resp: np.ndarray  # N x K (summed over multiplicity hypotheses)
    joint: np.ndarray  # H x N x K
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
        uniform prior; NaN where the sample has no reads).
    weights_ : numpy.ndarray
        K cluster weights (posterior mean).
    elbo_ : float
        Evidence lower bound of the chosen fit (nats).
    selection_ : pandas.DataFrame
        One row per cluster count visited: ``clusters``, ``elbo``, ``bic``, ``chosen``.
    read_model_ : pandas.DataFrame
        Read models compared: ``likelihood``, ``precision``, ``elbo``, ``chosen``.
    early_prob_ : numpy.ndarray
        Per mutation, the posterior probability that it preceded a copy-number gain
        (``major_cn`` mutated copies); 0 where there is no gain.
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
            table = log_likelihood_table(data, self.grid_, likelihood=chosen["likelihood"],
                                         precision=float(chosen["precision"]))  # fmt: skip
            self._load(table)
            k, (s_, g) = found.qphi.shape[0], self._shape
            expected = self._flat @ found.qphi.reshape(k, s_ * g).T
            weight = np.log(found.alpha / found.alpha.sum())
            logits = expected + weight - np.log(self._flat.shape[0])
            joint = np.exp(logits - special.logsumexp(logits, axis=(0, 2), keepdims=True))
            best = self._compact(self._run(joint))
            visited = {best.resp.shape[1]: best.elbo}
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
        table = log_likelihood_table(data, self.grid_, likelihood=start_lik,  # type: ignore[arg-type]
                                     precision=start_prec)  # fmt: skip
        point = self._load(table)
        k0 = min(self.max_clusters, table.shape[1])
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
        visited: dict[int, float] = {state.resp.shape[1]: state.elbo}
        state = self._refine(state, point, visited)
        return state, table, visited, read_model

    def _load(self, table: np.ndarray) -> np.ndarray:
        """Keep the table flat for the updates; return per-mutation CCF estimates."""
        h, n, s, g = table.shape
        self._flat = table.reshape(h, n, s * g)
        self._shape = (s, g)
        return self._point_estimates(table[0])

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
            table = log_likelihood_table(data, self.grid_, likelihood=lik,  # type: ignore[arg-type]
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

    def _point_estimates(self, table: np.ndarray) -> np.ndarray:
        """Per-mutation posterior-mean CCF (uniform prior); samples without reads get 0.5."""
        return _grid_posterior(table) @ self.grid_

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

    def _qphi(self, joint: np.ndarray) -> np.ndarray:
        """Cluster CCF posteriors (K x S x G)."""
        s, g = self._shape
        logit = sum(joint[h].T @ self._flat[h] for h in range(joint.shape[0]))
        return _grid_posterior(logit.reshape(-1, s, g))

    def _run(self, resp: np.ndarray, max_iter: int | None = None) -> _State:
        """Coordinate ascent from responsibilities ``resp`` (N x K, or H x N x K)."""
        hyp = self._flat.shape[0]
        joint = resp if resp.ndim == 3 else np.repeat(resp[None] / hyp, hyp, axis=0)
        joint = joint[:, :, joint.sum(axis=(0, 1)) > 0]
        k = joint.shape[2]
        s, g = self._shape
        log_prior_h = -np.log(hyp)
        last = -np.inf
        elbo = -np.inf
        qphi = np.empty((k, s, g))
        alpha = np.empty(k)
        for _ in range(max_iter or self.max_iter):
            qphi = self._qphi(joint)
            alpha = self.concentration + joint.sum(axis=(0, 1))
            elog_pi = special.digamma(alpha) - special.digamma(alpha.sum())
            expected = self._flat @ qphi.reshape(k, s * g).T  # H x N x K
            logits = expected + elog_pi + log_prior_h
            lse = special.logsumexp(logits, axis=(0, 2), keepdims=True)
            joint = np.exp(logits - lse)
            elbo = self._elbo(joint, qphi, alpha, expected, elog_pi, log_prior_h)
            if abs(elbo - last) <= self.tol * abs(elbo):
                break
            last = elbo
        return _State(joint.sum(axis=0), joint, qphi, alpha, elbo)

    def _elbo(self, joint, qphi, alpha, expected, elog_pi, log_prior_h) -> float:
        g = qphi.shape[2]
        with np.errstate(divide="ignore", invalid="ignore"):
            ent_z = -np.sum(np.where(joint > 0, joint * np.log(joint), 0.0))
            kl_phi = np.sum(np.where(qphi > 0, qphi * (np.log(qphi) + np.log(g)), 0.0))
        a0 = np.full_like(alpha, self.concentration)
        kl_pi = (special.gammaln(alpha.sum()) - special.gammaln(alpha).sum()
                 - special.gammaln(a0.sum()) + special.gammaln(a0).sum()
                 + np.sum((alpha - a0) * elog_pi))  # fmt: skip
        fit = np.sum(joint * (expected + elog_pi + log_prior_h))
        return float(fit + ent_z - kl_phi - kl_pi)

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
            joint = state.joint[:, :, keep]
            joint /= joint.sum(axis=(0, 2), keepdims=True)
            state = self._run(joint)
        return state

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
                visited[trial.resp.shape[1]] = max(visited.get(trial.resp.shape[1], -np.inf),
                                                   trial.elbo)  # fmt: skip
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
        joint = state.joint.copy()
        extra = np.zeros((*joint.shape[:2], 1))
        extra[:, members[side], 0] = joint[:, members[side], k]
        joint[:, members[side], k] = 0.0
        return self._run(np.concatenate([joint, extra], axis=2), max_iter=TRIAL_ITER)

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
            joint[:, :, a] += joint[:, :, b]
            joint = np.delete(joint, b, axis=2)
            trial = self._run(joint, max_iter=TRIAL_ITER)
            if trial.elbo > state.elbo:
                trial = self._compact(self._run(trial.joint))
            visited[trial.resp.shape[1]] = max(visited.get(trial.resp.shape[1], -np.inf),
                                               trial.elbo)  # fmt: skip
            if trial.elbo > state.elbo + 1e-6 * abs(state.elbo) and (
                    best is None or trial.elbo > best.elbo):  # fmt: skip
                best = trial
        return best

    # ----------------------------------------------------------------- results
    def _finish(self, state: _State, table: np.ndarray, visited, data: MutationData) -> None:
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
        hyp = state.joint.sum(axis=2)  # H x N: P(multiplicity hypothesis)
        w = (hyp[:, :, None, None] * _grid_posterior(table)).sum(axis=0)
        self.early_prob_ = hyp[-1] if table.shape[0] > 1 else np.zeros(data.n_mutations)
        informative = data.depth > 0
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
