"""Drug-versus-control analysis of a pooled CRISPR screen: normalise, test sgRNAs, rank genes.

* **Normalisation** (:func:`size_factors`): median ratio to the per-sgRNA geometric mean
  (default, as DESeq and MAGeCK), total count, or median ratio over control sgRNAs.
* **sgRNA level** (:func:`sgrna_test`): the control arm's mean-variance relation
  ``var = mean + k mean^c`` is fitted across sgRNAs (log-linear least squares on the excess
  variance of the control replicates, as MAGeCK does); each sgRNA's treated mean is tested
  against a negative binomial with the control mean and that variance, both tails.
* **Gene level** (:func:`alpha_rra`): robust rank aggregation of the sgRNA p-value ranks,
  keeping the ranks within the top ``alpha`` fraction (MAGeCK's alpha-RRA); the score
  ``rho = min_k Beta(k, n-k+1).cdf(u_(k))`` gets its exact null p-value without
  permutations (:func:`rra_pvalue`): ``rho <= r`` fails exactly when every order statistic
  ``u_(k)`` lies above ``c_k = min(Beta(k, n-k+1).ppf(r), alpha)``, a boundary-crossing
  probability of uniform order statistics computed by dynamic programming over the
  multinomial counts between the ``c_k``. FDR by Benjamini-Hochberg.

References
----------
Li W et al. MAGeCK enables robust identification of essential genes from genome-scale
CRISPR/Cas9 knockout screens. Genome Biol 2014 (PMID 25476604).
Kolde R et al. Robust rank aggregation for gene list integration and meta-analysis.
Bioinformatics 2012 (PMID 22247279).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import beta as beta_dist
from scipy.stats import nbinom

from oncoresist.errors import InputError
from oncoresist.screens._model import _bh, sumz_test
from oncoresist.screens._normalise import size_factors


def sgrna_test(
    counts: pd.DataFrame, treatment: Sequence[str], control: Sequence[str]
) -> pd.DataFrame:
    """Negative-binomial test of every sgRNA, treated versus control.

    Returns
    -------
    pandas.DataFrame
        Index ``sgRNA``: ``gene, control_mean, treatment_mean`` (normalised reads),
        ``lfc`` (log2, pseudocount 0.5), ``p_high`` (enriched), ``p_low`` (depleted).
    """
    for name in (*treatment, *control):
        if name not in counts.columns:
            raise InputError(f"no sample {name!r} in the count table", field="samples")
    if len(control) < 2:
        raise InputError("the mean-variance fit needs at least two control samples",
                         field="control")  # fmt: skip
    norm = (
        counts[[*treatment, *control]].astype(float) / size_factors(counts)[[*treatment, *control]]
    )
    mc = norm[list(control)].mean(axis=1)
    mt = norm[list(treatment)].mean(axis=1)
    vc = norm[list(control)].var(axis=1, ddof=1)
    excess = vc - mc
    fit = (mc > 1) & (excess > 0)
    if fit.sum() < 10:
        raise InputError("too few sgRNAs with reads to fit the mean-variance relation",
                         field="counts")  # fmt: skip
    design = np.column_stack([np.ones(fit.sum()), np.log(mc[fit])])
    (a, c), *_ = np.linalg.lstsq(design, np.log(excess[fit]), rcond=None)
    var = mc + np.exp(a) * np.maximum(mc, 1.0) ** c
    mean = np.maximum(mc, 0.5)
    var = np.maximum(var, mean * (1 + 1e-6))
    size = mean**2 / (var - mean)
    prob = mean / var
    k = np.floor(mt)
    out = pd.DataFrame(
        {
            "gene": counts["gene"],
            "control_mean": mc,
            "treatment_mean": mt,
            "lfc": np.log2((mt + 0.5) / (mc + 0.5)),
            "p_high": nbinom.sf(k - 1, size, prob),
            "p_low": nbinom.cdf(k, size, prob),
        }
    )
    return out


def rra_pvalue(rho, n: int, alpha: float) -> np.ndarray:
    """Exact ``P(rho_null <= rho)`` for genes with ``n`` sgRNAs (ranks uniform under the null).

    Vectorised over ``rho``. ``P(no u_(k) <= c_k)`` is ``n! sum_j E_n[j] (1 - c_n)^(n-j) /
    (n-j)!`` with ``E_i[j] = sum_m E_(i-1)[j-m] (c_i - c_(i-1))^m / m!`` kept to ``j <= i-1``.
    """
    rho = np.atleast_1d(np.asarray(rho, dtype=float))
    k = np.arange(1, n + 1)
    c = np.minimum(beta_dist.ppf(np.clip(rho, 0.0, 1.0)[:, None], k, n - k + 1), alpha)
    c = np.maximum.accumulate(c, axis=1)  # a boundary, non-decreasing in k
    fact = np.cumprod(np.r_[1.0, np.arange(1, n + 1)])  # m! for m = 0..n
    e = np.zeros((rho.size, n + 1))
    e[:, 0] = 1.0
    prev = np.zeros(rho.size)
    for i in range(n):
        delta = c[:, i] - prev
        new = np.zeros_like(e)
        for j in range(i + 1):  # at most i points below c_(i+1)
            for m in range(j + 1):
                new[:, j] += e[:, j - m] * delta**m / fact[m]
        e = new
        prev = c[:, i]
    tail = (1.0 - c[:, -1])[:, None] ** (n - np.arange(n + 1)) / fact[n - np.arange(n + 1)]
    survive = fact[n] * np.sum(e * tail, axis=1)
    # rho = 1 (no sgRNA ranked within alpha) is the largest score: its p-value is 1
    return np.where(rho >= 1.0, 1.0, np.clip(1.0 - survive, 0.0, 1.0))


def rra_scores(u: np.ndarray, alpha: float) -> np.ndarray:
    """alpha-RRA score rho of each row of sorted rank fractions ``u`` (genes x sgRNAs)."""
    n = u.shape[1]
    k = np.arange(1, n + 1)
    return np.where(u <= alpha, beta_dist.cdf(u, k, n - k + 1), 1.0).min(axis=1)


def rra_permutation_pvalue(
    rho: np.ndarray, n: int, alpha: float, *, rounds: int, rng: np.random.Generator
) -> np.ndarray:
    """Permutation p-value of alpha-RRA scores (MAGeCK's way), to check :func:`rra_pvalue`.

    ``rounds`` random genes of ``n`` sgRNAs with uniform ranks; ``(1 + #(rho_null <= rho)) /
    (1 + rounds)``.
    """
    null = np.sort(rra_scores(np.sort(rng.random((rounds, n)), axis=1), alpha))
    return (1 + np.searchsorted(null, rho, side="right")) / (1 + rounds)


def alpha_rra(
    sgrna: pd.DataFrame,
    column: str,
    *,
    alpha: float = 0.25,
    descending: bool = False,
    permutations: int = 0,
    rng: np.random.Generator | int | None = None,
) -> pd.DataFrame:
    """Gene ranking by alpha-RRA of the sgRNAs ranked on ``column``.

    sgRNAs are ranked by ``column`` ascending (p-values), or descending (scores) with
    ``descending=True``. With ``permutations > 0`` a ``p_permutation`` column gives
    MAGeCK's permutation p-value as well (that many random genes per sgRNA count), to check
    the exact one.

    Returns
    -------
    pandas.DataFrame
        Index ``gene``: ``sgrnas``, ``good_sgrnas`` (ranks within ``alpha``), ``score``
        (rho), ``p_value``, ``fdr``, ``rank`` (by p-value, then score), and ``lfc`` (median
        sgRNA log2 fold change).
    """
    if not 0 < alpha <= 1:
        raise InputError("must lie in (0, 1]", field="alpha")
    key = -sgrna[column] if descending else sgrna[column]
    u = key.rank(method="average").to_numpy() / len(sgrna)
    genes, codes = np.unique(sgrna["gene"].to_numpy(dtype=str), return_inverse=True)
    lfc = sgrna["lfc"].to_numpy()
    sizes = np.bincount(codes, minlength=genes.size)
    order = np.lexsort((u, codes))  # by gene, then rank
    start = np.r_[0, np.cumsum(sizes)[:-1]]
    score = np.ones(genes.size)
    good = np.zeros(genes.size, dtype=np.int64)
    median_lfc = np.zeros(genes.size)
    pval = np.ones(genes.size)
    perm = np.ones(genes.size)
    gen = np.random.default_rng(rng)
    for n in np.unique(sizes):  # genes with n sgRNAs, vectorised
        which = np.flatnonzero(sizes == n)
        idx = order[start[which][:, None] + np.arange(n)[None, :]]
        uu = u[idx]  # sorted within each gene
        score[which] = rra_scores(uu, alpha)
        good[which] = (uu <= alpha).sum(axis=1)
        median_lfc[which] = np.median(lfc[idx], axis=1)
        pval[which] = rra_pvalue(score[which], int(n), alpha)
        if permutations:
            perm[which] = rra_permutation_pvalue(score[which], int(n), alpha,
                                                 rounds=permutations, rng=gen)  # fmt: skip
    out = pd.DataFrame(
        {"sgrnas": sizes, "good_sgrnas": good, "score": score, "lfc": median_lfc,
         "p_value": pval},
        index=pd.Index(genes, name="gene"),
    )  # fmt: skip
    out["fdr"] = _bh(out["p_value"].to_numpy())
    if permutations:
        out["p_permutation"] = perm
    order = np.lexsort((out["score"].to_numpy(), out["p_value"].to_numpy()))
    out["rank"] = 0
    out.iloc[order, out.columns.get_loc("rank")] = np.arange(1, len(out) + 1)
    return out.sort_values("rank")


def gene_summary(
    sg: pd.DataFrame,
    *,
    alpha: float = 0.25,
    permutations: int = 0,
    rng: np.random.Generator | int | None = None,
    null: np.ndarray | None = None,
) -> pd.DataFrame:
    """Both selection directions in one gene table (MAGeCK-like column names).

    Parameters
    ----------
    sg : pandas.DataFrame
        An sgRNA table with ``gene``, ``lfc`` and either ``z`` (the replicate model's guide
        scores, ranked directly) or ``p_high`` / ``p_low`` (:func:`sgrna_test`).
    alpha : float
        alpha-RRA rank cut-off.
    permutations : int
        With > 0, MAGeCK-style permutation p-values too (``|p-permutation``), to check the
        exact ones.
    rng : numpy.random.Generator or int or None
        For the permutations.
    null : numpy.ndarray of bool, optional
        sgRNAs whose z-scores make the sumZ null (e.g. non-targeting controls); by default
        the library's (see :func:`oncoresist.screens.sumz_test`).

    Returns
    -------
    pandas.DataFrame
        Index ``id`` (gene): ``num``, then for ``neg`` and ``pos`` each ``|score``,
        ``|p-value``, ``|fdr``, ``|rank``, ``|goodsgrna``, ``|lfc`` (MAGeCK's columns;
        ``pos``: enriched under treatment, i.e. resistance; ``neg``: depleted,
        sensitisation); with ``z`` also ``sumZ``, ``normZ``, ``pval_supp``, ``fdr_supp``,
        ``pval_synth``, ``fdr_synth`` (drugZ's names: supp = enriched, synth = depleted;
        p-values exact against the library's own guides, see
        :func:`oncoresist.screens._model.sumz_test`). Ordered by ``pos|rank``.
    """
    gen = np.random.default_rng(rng)
    kw = {"alpha": alpha, "permutations": permutations, "rng": gen}
    if "z" in sg.columns:
        pos = alpha_rra(sg, "z", descending=True, **kw)
        neg = alpha_rra(sg, "z", **kw)
    else:
        pos = alpha_rra(sg, "p_high", **kw)
        neg = alpha_rra(sg, "p_low", **kw)
    out = pd.DataFrame(index=pos.index)
    out.index.name = "id"
    out["num"] = pos["sgrnas"]
    for tag, res in (("neg", neg), ("pos", pos)):
        res = res.reindex(out.index)
        out[f"{tag}|score"] = res["score"]
        out[f"{tag}|p-value"] = res["p_value"]
        out[f"{tag}|fdr"] = res["fdr"]
        out[f"{tag}|rank"] = res["rank"]
        out[f"{tag}|goodsgrna"] = res["good_sgrnas"]
        out[f"{tag}|lfc"] = res["lfc"]
        if permutations:
            out[f"{tag}|p-permutation"] = res["p_permutation"]
    if "z" in sg.columns:
        z = sumz_test(sg["z"].to_numpy(), sg["gene"].to_numpy(), null=null).reindex(out.index)
        out["sumZ"] = z["sumZ"]
        out["normZ"] = z["normZ"]
        for name, col in (("supp", "p_high"), ("synth", "p_low")):
            out[f"pval_{name}"] = z[col]
            out[f"fdr_{name}"] = _bh(z[col].to_numpy())
    return out.sort_values("pos|rank")


def ranked_view(genes: pd.DataFrame, *, by: Literal["sumz", "rra"] = "sumz") -> pd.DataFrame:
    """The gene table with its ``pos|`` and ``neg|`` p-value, FDR and rank from one statistic.

    ``by="rra"`` returns the table as it is (alpha-RRA); ``by="sumz"`` puts the sumZ
    p-values (``pval_supp``, ``pval_synth``), their FDRs and ranks by normZ (p-value to
    break ties) into those columns, so that figures and tables read one ranking.
    """
    if by == "rra":
        return genes
    if by != "sumz" or "normZ" not in genes.columns:
        raise InputError(f"{by!r}; expected rra, or sumz on a table with normZ", field="ranking")
    out = genes.copy()
    for tag, name, sign in (("pos", "supp", -1.0), ("neg", "synth", 1.0)):
        out[f"{tag}|p-value"] = genes[f"pval_{name}"]
        out[f"{tag}|fdr"] = genes[f"fdr_{name}"]
        order = np.lexsort((genes[f"pval_{name}"].to_numpy(), sign * genes["normZ"].to_numpy()))
        rank = np.empty(len(genes), dtype=np.int64)
        rank[order] = np.arange(1, len(genes) + 1)
        out[f"{tag}|rank"] = rank
    return out.sort_values("pos|rank")
