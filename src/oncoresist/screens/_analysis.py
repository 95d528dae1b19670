"""Drug-versus-control analysis of a pooled CRISPR screen: normalise, test sgRNAs, rank genes.

* **Normalisation** (:func:`size_factors`): median ratio to the per-sgRNA geometric mean
  (default, as DESeq and MAGeCK), total count, or median ratio over control sgRNAs.
* **sgRNA level** (:func:`sgrna_test`): the control arm's mean-variance relation
  ``var = mean + k mean^c`` is fitted across sgRNAs (log-linear least squares on the excess
  variance of the control replicates, as MAGeCK does); each sgRNA's treated mean is tested
  against a negative binomial with the control mean and that variance, both tails.
* **Gene level** (:func:`alpha_rra`): robust rank aggregation of the sgRNA ranks, keeping
  the ranks within the top ``alpha`` fraction (MAGeCK's alpha-RRA); the score
  ``rho = min_k Beta(k, n-k+1).cdf(u_(k))`` gets its exact null p-value without
  permutations (:func:`rra_pvalue`): ``rho <= r`` exactly when some order statistic
  ``u_(k)`` lies at or below ``c_k = min(Beta(k, n-k+1).ppf(r), alpha)``, a
  boundary-crossing probability of uniform order statistics, summed over the step of first
  crossing from positive binomial terms (:func:`_crossing_probability`): exact to about
  1e-13 relative for any ``n`` (2,000 sgRNAs in about 0.1 s). Ranks are over the library,
  or against a null set of guides (controls); control guides are never scored as a gene
  (:mod:`oncoresist.screens._controls`). FDR by Benjamini-Hochberg.

References
----------
Li W et al. MAGeCK enables robust identification of essential genes from genome-scale
CRISPR/Cas9 knockout screens. Genome Biol 2014 (PMID 25476604).
Kolde R et al. Robust rank aggregation for gene list integration and meta-analysis.
Bioinformatics 2012 (PMID 22247279).
Shorack GR, Wellner JA. Empirical Processes with Applications to Statistics. Wiley 1986,
ch. 9 -- boundary-crossing probabilities of uniform order statistics (Bolshev's and Noe's
recursions; the test's reference).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special
from scipy.stats import beta as beta_dist
from scipy.stats import nbinom

from oncoresist.errors import InputError
from oncoresist.screens._controls import ControlGuides, find_controls
from oncoresist.screens._model import _bh, sumz_test
from oncoresist.screens._normalise import size_factors

#: alpha-RRA scores below this get the p-value of this score (an upper bound; see _boundary)
RHO_FLOOR = 1e-100


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

    Vectorised over ``rho``; any ``n``. ``rho_null <= r`` exactly when some order statistic
    ``u_(k)`` of ``n`` uniform ranks lies at or below ``c_k = min(Beta(k, n-k+1).ppf(r),
    alpha)``, so the p-value is the probability that the uniform order statistics cross that
    lower boundary (:func:`_crossing_probability`): a sum of positive first-crossing terms,
    with no cancellation, factorial or permutation floor.

    Parameters
    ----------
    rho : array_like of float
        alpha-RRA scores in [0, 1] (1: no sgRNA ranked within ``alpha``).
    n : int
        sgRNAs per gene, >= 1.
    alpha : float
        Rank cut-off in (0, 1].

    Returns
    -------
    numpy.ndarray
        p-values in [0, 1], 1 where ``rho >= 1``.

    Raises
    ------
    InputError
        A score that is NaN or outside [0, 1].

    Examples
    --------
    >>> float(rra_pvalue([0.03], 1, 0.25)[0])  # one sgRNA: its rank fraction
    0.03
    >>> bool(np.isfinite(rra_pvalue([1e-6], 2_000, 0.25)).all())
    True
    """
    rho = np.atleast_1d(np.asarray(rho, dtype=float))
    if n < 1:
        raise InputError(f"{n}; expected at least one sgRNA per gene", field="n")
    bad = ~((rho >= 0) & (rho <= 1))
    if bad.any():
        raise InputError(f"alpha-RRA score {rho[bad][0]!r}; expected a number in [0, 1]",
                         field="rho")  # fmt: skip
    out = np.ones(rho.size)
    todo = np.flatnonzero(rho < 1.0)
    if todo.size:
        r = rho[todo]
        c = _boundary(r, n, alpha)
        # rho_null <= r implies u_(1) <= c_1: P >= P(u_(1) <= c_1) = min(r, 1 - (1-alpha)^n)
        lower = np.minimum(
            np.maximum(r, RHO_FLOOR), -np.expm1(n * np.log1p(-min(alpha, 1.0 - 1e-16)))
        )
        if n <= 32:  # small windows: every score at once
            out[todo] = _crossing_probability(c, floor=lower)
        else:  # one score at a time, each with its own window and truncation
            out[todo] = [_crossing_probability(c[i : i + 1], floor=lower[i])[0]
                         for i in range(todo.size)]  # fmt: skip
        out[todo] = np.maximum(out[todo], lower)
    if not np.isfinite(out).all():  # impossible by construction; never pass a NaN on
        raise FloatingPointError(f"alpha-RRA p-value not finite for n = {n}, alpha = {alpha}")
    return np.clip(out, 0.0, 1.0)


def _boundary(r: np.ndarray, n: int, alpha: float) -> np.ndarray:
    """``c_k = min(Beta(k, n-k+1).ppf(r), alpha)`` for k = 1..n, one row per score ``r``.

    Only the ``k`` with ``Beta(k, n-k+1).cdf(alpha) > r`` need the quantile; where the
    library inverse gives up (scores below about 1e-150 with many sgRNAs) it is found by
    bisection on log ``c``; two Newton steps then bring ``Beta.cdf(c_k)`` to ``r`` within
    1e-13 relative. Scores below 1e-100 are treated
    as ``RHO_FLOOR`` (an upper bound of their p-value, itself below 1e-96 for any ``n`` up to
    10,000: such genes are ordered by their score).
    """
    r = np.maximum(np.asarray(r, dtype=float), RHO_FLOOR)[:, None]
    k = np.arange(1.0, n + 1.0)[None, :]
    inside = special.betainc(k, n - k + 1, alpha) > r
    rr, kk = np.broadcast_to(r, inside.shape)[inside], np.broadcast_to(k, inside.shape)[inside]
    with special.errstate(all="ignore"):
        q = special.betaincinv(kk, n - kk + 1, rr)
    bad = ~np.isfinite(q)
    if bad.any():
        lo = np.full(bad.sum(), np.log(1e-320))
        hi = np.full(bad.sum(), np.log(alpha))
        kb, rb = kk[bad], np.log(rr[bad])
        for _ in range(64):
            mid = 0.5 * (lo + hi)
            with np.errstate(divide="ignore"):
                below = np.log(special.betainc(kb, n - kb + 1, np.exp(mid))) < rb
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        q[bad] = np.exp(hi)
    # two Newton steps on log c polish the library's inverse (1e-10 relative at the extremes)
    # to the precision of the beta CDF itself
    for _ in range(2):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            cdf = special.betainc(kk, n - kk + 1, q)
            slope = (
                np.exp(np.log(q) * kk + np.log1p(-q) * (n - kk) - special.betaln(kk, n - kk + 1))
                / cdf
            )
            step = (np.log(cdf) - np.log(rr)) / slope
        ok = np.isfinite(step) & (q > 0) & (q < 1)
        q[ok] = q[ok] * np.exp(-step[ok])
    c = np.full(inside.shape, float(alpha))
    c[inside] = np.minimum(q, alpha)
    return np.maximum.accumulate(c, axis=1)  # a boundary, non-decreasing in k


def _crossing_probability(c: np.ndarray, *, floor: np.ndarray | float = 0.0) -> np.ndarray:
    """``P(u_(k) <= c_k for some k)`` for ``n`` uniform order statistics, row by row.

    ``c`` (rows x n) holds non-decreasing boundaries in [0, 1]. The points are followed up the
    boundary: before step ``k``, ``P[j]`` is the probability that exactly ``j`` points lie
    below ``c_(k-1)`` and none has crossed (``j <= k-2``); the ``n - j`` points above are
    uniform on ``(c_(k-1), 1]``, so ``Binomial(n - j, w)`` of them fall below ``c_k`` with
    ``w = (c_k - c_(k-1)) / (1 - c_(k-1))``. The first crossing at step ``k`` (``j + m >=
    k``) adds ``sum_j P[j] P(Binomial >= k - j)`` (the binomial tail by the regularised
    incomplete beta, accurate in relative terms); the survivors (``j + m <= k - 1``) carry
    on. Every term is positive, so the sum keeps its relative precision however small it is.
    Steps where the boundary does not rise change nothing and are skipped.

    Terms below ``1e-24 floor`` (``floor``: a lower bound of each row's answer) are dropped:
    a binomial term far in its tail, or a state far below the boundary; what they could add
    is below 1e-16 of the answer.
    """
    c = np.atleast_2d(np.asarray(c, dtype=float))
    rows, n = c.shape
    cut = 1e-24 * max(float(np.min(floor)), 1e-280)
    full = c[:, -1] >= 1.0  # u_(n) <= 1 always: certain crossing
    c = np.where(full[:, None], 0.0, c)
    rise = np.diff(c, axis=1, prepend=0.0) > 0
    steps = np.flatnonzero(rise.any(axis=0)) + 1  # 1-based k where some row's boundary rises
    cross = np.zeros(rows)
    prob = np.ones((rows, 1))  # P over states lo .. lo + width - 1
    lo = 0
    prev = np.zeros(rows)
    for k in steps:
        ck = c[:, k - 1]
        w = np.where(ck > prev, (ck - prev) / (1.0 - prev), 0.0)
        size = prob.shape[1]
        trials = (n - lo - np.arange(size)).astype(float)
        # binomial terms m = 0..top: past top even the largest tail is below cut (Chernoff:
        # P(X >= m) <= exp(-lam) (e lam / m)^m for a binomial of mean lam < m)
        lam = max(float(trials[0] * w.max()), 1e-300)
        m = np.arange(1.0, trials[0] + 1.0)
        beyond = np.flatnonzero((m > lam) & (m * (1.0 + np.log(lam / m)) - lam < np.log(cut)))
        top = int(m[beyond[0]]) if beyond.size else int(trials[0])
        steps_m = np.arange(top, dtype=float)
        ratio = (trials[None, :, None] - steps_m) / (steps_m + 1.0)
        ratio = ratio * (w / (1.0 - w))[:, None, None]
        head = prob * np.exp(trials[None, :] * np.log1p(-w)[:, None])
        term = np.cumprod(np.concatenate([head[:, :, None], ratio], axis=2), axis=2)
        # term[., j, m]: j points below c_(k-1), m more below c_k; j + m <= k - 1 survive,
        # j + m >= k is the first crossing at step k
        span = size + top
        dest = np.arange(size)[:, None] + np.arange(top + 1)[None, :]
        dest = (np.arange(rows)[:, None, None] * span + dest[None]).ravel()
        moved = np.bincount(dest, weights=term.ravel(), minlength=rows * span)
        moved = moved.reshape(rows, span)
        width = k - lo
        cross += moved[:, width:].sum(axis=1)
        new = moved[:, :width]
        # drop the states at the bottom that hold under 1e-15 of the surviving mass: fewer
        # points below the boundary cross less often, so what they could add is below
        # 1e-15 of the answer at this step
        low = np.cumsum(new, axis=1) <= 1e-15 * new.sum(axis=1, keepdims=True)
        first = min(int(low.all(axis=0).sum()), width - 1)
        prob = new[:, first:]
        lo += first
        prev = ck
    return np.where(full, 1.0, cross)


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
    null: np.ndarray | None = None,
    controls: np.ndarray | None = None,
) -> pd.DataFrame:
    """Gene ranking by alpha-RRA of the sgRNAs ranked on ``column``.

    sgRNAs are ranked by ``column`` ascending (p-values), or descending (scores) with
    ``descending=True``; a guide's rank fraction is its rank over the library's guides, or
    with ``null`` (bool mask) the fraction of the null guides ranked at or above it, plus
    one, over their number plus one (MAGeCK's null from control sgRNAs). ``controls`` (bool
    mask) are guides ranked with the library but not scored as a gene. With
    ``permutations > 0`` a ``p_permutation`` column gives MAGeCK's permutation p-value as
    well (that many random genes per sgRNA count), to check the exact one.

    Returns
    -------
    pandas.DataFrame
        Index ``gene``: ``sgrnas``, ``good_sgrnas`` (ranks within ``alpha``), ``score``
        (rho), ``p_value``, ``fdr``, ``rank`` (by p-value, then score), and ``lfc`` (median
        sgRNA log2 fold change).
    """
    if not 0 < alpha <= 1:
        raise InputError("must lie in (0, 1]", field="alpha")
    key = (-sgrna[column] if descending else sgrna[column]).to_numpy(dtype=float)
    if null is None:
        u = pd.Series(key).rank(method="average").to_numpy() / len(key)
    else:
        ref = np.sort(key[np.asarray(null, dtype=bool) & np.isfinite(key)])
        if ref.size < 20:
            raise InputError(f"{ref.size} null guides with a score; need 20", field="null")
        u = (np.searchsorted(ref, key, side="right") + 1.0) / (ref.size + 1.0)
    u = np.where(np.isfinite(key), u, 1.0)  # a guide without a score ranks last
    scored = np.ones(len(key), dtype=bool) if controls is None else ~np.asarray(controls)
    u = u[scored]
    genes, codes = np.unique(sgrna["gene"].to_numpy(dtype=str)[scored], return_inverse=True)
    lfc = sgrna["lfc"].to_numpy()[scored]
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
    controls: Sequence[str] | ControlGuides | None = None,
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
        sgRNAs that make the null of both rankings (e.g. the control guides,
        ``find_controls(sg).mask``): alpha-RRA ranks each guide against them and sumZ sums
        draws from their z-scores. By default the library's guides (see
        :func:`oncoresist.screens.sumz_test`).
    controls : sequence of str or ControlGuides, optional
        Control guides, left out of the gene table: sgRNA ids or gene labels, or the
        answer of :func:`~oncoresist.screens._controls.find_controls`. By default the
        guides whose gene label reads as a control (non-targeting, safe-harbour,
        intergenic, ``CONTROL``...: :data:`~oncoresist.screens._controls.CONTROL_PATTERNS`);
        an empty list for none.

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
        ``attrs["controls"]``: the control guides (``guides``, ``labels``, ``source``,
        ``unmatched``) and ``attrs["controls_summary"]`` a line saying how many were left
        out.
    """
    gen = np.random.default_rng(rng)
    found = controls if isinstance(controls, ControlGuides) else find_controls(sg, controls)
    mask = found.mask_for(sg)  # by sgRNA id: found may come from the count table
    if null is not None:
        null = np.asarray(null, dtype=bool)
    kw = {"alpha": alpha, "permutations": permutations, "rng": gen, "null": null,
          "controls": mask if mask.any() else None}  # fmt: skip
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
        # with the library's null the controls leave it too; a given null keeps its guides
        keep = np.ones(len(sg), dtype=bool) if null is not None else ~mask
        z = sumz_test(sg["z"].to_numpy()[keep], sg["gene"].to_numpy()[keep],
                      null=null).reindex(out.index)  # fmt: skip
        out["sumZ"] = z["sumZ"]
        out["normZ"] = z["normZ"]
        for name, col in (("supp", "p_high"), ("synth", "p_low")):
            out[f"pval_{name}"] = z[col]
            out[f"fdr_{name}"] = _bh(z[col].to_numpy())
    out = out.sort_values("pos|rank")
    out.attrs["controls"] = found.as_dict()
    out.attrs["controls_summary"] = found.summary()
    return out


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
