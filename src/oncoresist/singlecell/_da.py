"""Differential abundance of cell neighbourhoods between conditions (Milo-style).

Index cells are sampled with Milo's *refined* scheme (a random ``prop`` of cells, each moved
to the cell nearest the median embedding position of its k nearest neighbours); a
neighbourhood is an index cell with its k nearest neighbours. Cells of each sample are
counted per neighbourhood, and every neighbourhood gets a negative-binomial GLM with the
design (e.g. ``~ patient + condition``) and the number of cells per sample as library size.
Dispersions follow edgeR's quasi-likelihood pipeline: a common NB dispersion by Cox-Reid
adjusted likelihood, then quasi-likelihood dispersions (residual deviance / df) squeezed
towards their common value by limma's empirical Bayes, and a QL F-test of the condition
coefficient. P-values are corrected with Milo's *spatial FDR*: a weighted Benjamini-Hochberg
procedure with weights 1 / (distance from the index cell to its k-th neighbour), which
discounts overlapping neighbourhoods in dense regions. All neighbourhoods are fitted at once.

References
----------
Dann E., Henderson N.C., Teichmann S.A., Morgan M.D., Marioni J.C. Differential abundance
testing on single-cell data using k-nearest neighbor graphs. Nat Biotechnol 40:245 (2022).
doi:10.1038/s41587-021-01033-z
Lun A.T.L., Chen Y., Smyth G.K. It's DE-licious: a recipe for differential expression
analyses of RNA-seq experiments using quasi-likelihood methods in edgeR. Methods Mol Biol
1418:391 (2016). doi:10.1007/978-1-4939-3578-9_19
Smyth G.K. Linear models and empirical Bayes methods for assessing differential expression in
microarray experiments. Stat Appl Genet Mol Biol 3:3 (2004). doi:10.2202/1544-6115.1027
"""

from __future__ import annotations

import re
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import digamma, polygamma

from oncoresist.errors import InputError

from ._de import bh_adjust, nb_glm, nb_loglik, sample_table
from ._neighbours import knn, pca

__all__ = ["da", "nhood_counts", "refined_index_cells", "spatial_fdr"]


def refined_index_cells(
    embedding: np.ndarray, *, k: int, prop: float, rng: np.random.Generator, tree: Any = None
) -> np.ndarray:
    """Milo's refined sampling of index cells: sorted unique cell positions.

    A random ``prop`` of cells is drawn; each is replaced by the cell nearest the median
    position of its ``k`` nearest neighbours, which moves index cells off the edges of the
    manifold and merges duplicates.
    """
    n = embedding.shape[0]
    n_draw = max(1, round(prop * n))
    drawn = np.sort(rng.choice(n, n_draw, replace=False))
    medians = np.empty((n_draw, embedding.shape[1]))
    for start in range(0, n_draw, 4096):
        stop = min(start + 4096, n_draw)
        neighbours, _ = knn(embedding, k, query=drawn[start:stop], tree=tree)
        medians[start:stop] = np.median(embedding[neighbours], axis=1)
    nearest, _ = knn(embedding, 1, query=medians, tree=tree)
    return np.unique(nearest[:, 0])


def nhood_counts(members: np.ndarray, sample_codes: np.ndarray, n_samples: int) -> np.ndarray:
    """Cells of each sample in each neighbourhood (neighbourhoods × samples)."""
    n_nhoods = members.shape[0]
    flat = (
        np.repeat(np.arange(n_nhoods), members.shape[1]) * n_samples + sample_codes[members.ravel()]
    )
    return np.bincount(flat, minlength=n_nhoods * n_samples).reshape(n_nhoods, n_samples)


def spatial_fdr(pvalues: np.ndarray, kth_distance: np.ndarray) -> np.ndarray:
    """Milo's spatial FDR: BH weighted by 1 / the index cell's k-th neighbour distance.

    Neighbourhoods at distance 0 (duplicated cells) get weight 0, as in miloR.
    """
    with np.errstate(divide="ignore"):
        w = 1.0 / np.asarray(kth_distance, dtype=np.float64)
    w[~np.isfinite(w)] = 0.0
    if not np.any(w > 0):
        w[:] = 1.0
    return bh_adjust(pvalues, w)


def tmm_factors(counts: np.ndarray, lib: np.ndarray, *, trim_m: float = 0.3,
                trim_a: float = 0.05) -> np.ndarray:  # fmt: skip
    """TMM normalisation factors of the columns of a features × samples count matrix.

    Each sample is compared with the reference sample (upper quartile of proportions closest
    to the mean one): log ratios of proportions, trimmed by ``trim_m`` at both ends and by
    ``trim_a`` on average log abundance, are averaged with inverse-variance weights. The
    factors multiply to 1.

    References
    ----------
    Robinson M.D., Oshlack A. A scaling normalization method for differential expression
    analysis of RNA-seq data. Genome Biol 11:R25 (2010). doi:10.1186/gb-2010-11-3-r25
    """
    y = np.asarray(counts, dtype=np.float64)
    upper = np.quantile(y / lib, 0.75, axis=0)
    ref = int(np.argmin(np.abs(upper - upper.mean())))
    factors = np.ones(y.shape[1])
    yr, nr = y[:, ref], lib[ref]
    for j in range(y.shape[1]):
        if j == ref:
            continue
        yo, no = y[:, j], lib[j]
        ok = (yo > 0) & (yr > 0)
        if ok.sum() < 10:
            continue
        lr = np.log2(yo[ok] / no) - np.log2(yr[ok] / nr)
        ae = (np.log2(yo[ok] / no) + np.log2(yr[ok] / nr)) / 2.0
        v = (no - yo[ok]) / no / yo[ok] + (nr - yr[ok]) / nr / yr[ok]
        m = ok.sum()
        rank_m = stats.rankdata(lr)
        rank_a = stats.rankdata(ae)
        keep = (
            (rank_m >= np.floor(m * trim_m) + 1)
            & (rank_m <= m + 1 - np.floor(m * trim_m) - 1)
            & (rank_a >= np.floor(m * trim_a) + 1)
            & (rank_a <= m + 1 - np.floor(m * trim_a) - 1)
        )
        if keep.any():
            factors[j] = 2.0 ** (np.sum(lr[keep] / v[keep]) / np.sum(1.0 / v[keep]))
    return factors / np.exp(np.mean(np.log(factors)))


def _trigamma_inverse(x: float) -> float:
    """Solve trigamma(y) = x for y > 0 (Newton's method on 1 / trigamma, as limma)."""
    if x > 1e7:
        return 1.0 / np.sqrt(x)
    if x < 1e-6:
        return 1.0 / x
    y = 0.5 + 1.0 / x
    for _ in range(50):
        tri = float(polygamma(1, y))
        dif = tri * (1.0 - tri / x) / float(polygamma(2, y))
        y += dif
        if -dif / y < 1e-8:
            break
    return y


def squeeze_var(s2: np.ndarray, df: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Empirical-Bayes moderation of variances (limma's squeezeVar, moments of log s2).

    Parameters
    ----------
    s2
        Variances (NaN where ``df`` is 0).
    df
        Their residual degrees of freedom (per variance).

    Returns
    -------
    (posterior, prior_df, prior_var)
        Posterior variances (the prior where ``df`` is 0), prior degrees of freedom (``inf``
        when the variances agree with a common value) and prior variance.
    """
    df = np.broadcast_to(np.asarray(df, dtype=np.float64), s2.shape)
    ok = np.isfinite(s2) & (df > 0)
    if not ok.any():
        return np.ones_like(s2), np.inf, 1.0
    med = float(np.median(s2[ok]))
    z = np.log(np.maximum(s2[ok], 1e-5 * med if med > 0 else 1e-8))
    d = df[ok]
    e = z - digamma(d / 2.0) + np.log(d / 2.0)
    emean = float(e.mean())
    evar = float(e.var(ddof=1)) - float(np.mean(polygamma(1, d / 2.0))) if ok.sum() > 1 else 0.0
    s2z = np.where(ok, s2, 0.0)
    if evar > 0:
        d0 = 2.0 * _trigamma_inverse(evar)
        prior = float(np.exp(emean + digamma(d0 / 2.0) - np.log(d0 / 2.0)))
        post = (d0 * prior + df * s2z) / (d0 + df)
    else:
        d0, prior = np.inf, float(np.exp(emean))
        post = np.full(s2.shape, prior)
    return post, d0, prior


def _parse_design(design: str | None, condition: str) -> list[str]:
    """Terms of a formula like ``~ patient + condition``; the condition comes last."""
    if design is None:
        return [condition]
    text = design.strip()
    if not text.startswith("~"):
        raise InputError(f"design {design!r}; expected a formula like '~ patient + {condition}'",
                         field="design")  # fmt: skip
    terms = [t.strip() for t in text[1:].split("+") if t.strip() and t.strip() != "1"]
    for term in terms:
        if not re.fullmatch(r"[A-Za-z_][\w.]*", term):
            raise InputError(
                f"design term {term!r}: only obs column names joined by '+' are supported"
                " (no interactions or functions)",
                field="design",
            )
    terms = [t for t in terms if t != condition]
    return [*terms, condition]


def _design_matrix(
    table: pd.DataFrame, terms: list[str], condition: str, treated: str
) -> tuple[np.ndarray, list[str]]:
    """Treatment-coded design (intercept first, the condition's treated column last)."""
    columns, names = [np.ones(len(table))], ["(Intercept)"]
    for term in terms[:-1]:
        values = table[term]
        if pd.api.types.is_numeric_dtype(values) and not isinstance(
            values.dtype, pd.CategoricalDtype
        ):
            columns.append(values.to_numpy(float))
            names.append(term)
            continue
        levels = sorted(values.astype(str).unique())
        for lv in levels[1:]:
            columns.append((values.astype(str) == lv).to_numpy(float))
            names.append(f"{term}[{lv}]")
    columns.append((table[condition].astype(str) == treated).to_numpy(float))
    names.append(f"{condition}[{treated}]")
    return np.column_stack(columns), names


def _check_design(x: np.ndarray, names: list[str], terms: list[str], n_samples: int) -> None:
    """Refuse designs that cannot estimate the condition effect with a residual df."""
    p = x.shape[1]
    if np.linalg.matrix_rank(x[:, :-1]) < p - 1:
        raise InputError(f"the design's covariates are collinear ({', '.join(names[1:-1])}); "
                         "drop a redundant term", field="design")  # fmt: skip
    if np.linalg.matrix_rank(x) < p:
        culprits = []
        for term in terms[:-1]:
            cols = [i for i, nm in enumerate(names) if nm == term or nm.startswith(f"{term}[")]
            sub = x[:, [0, *cols, p - 1]]
            if np.linalg.matrix_rank(sub) < sub.shape[1]:
                culprits.append(term)
        who = " and ".join(repr(c) for c in culprits) or "the other terms"
        raise InputError(f"the condition is confounded with {who}: every level holds one "
                         "condition only, so their effects cannot be told apart",
                         field="design")  # fmt: skip
    if n_samples - p < 1:
        raise InputError(f"{n_samples} samples for {p} coefficients ({', '.join(names)}); the "
                         "design leaves no residual degree of freedom", field="design")  # fmt: skip


def _ql_test(y: np.ndarray, x: np.ndarray, lib: np.ndarray) -> dict[str, Any]:
    """edgeR-style QL F-test of the last design column for every neighbourhood."""
    g, _n = y.shape
    p = x.shape[1]
    offset = np.log(lib)

    # Common NB dispersion: maximise the summed Cox-Reid profile likelihood (grid, then
    # golden-section search in log dispersion).
    def apl(log_phi: float) -> float:
        disp = np.full(g, np.exp(log_phi))
        _, mu, info = nb_glm(y, x, offset, disp)
        return float((nb_loglik(y, mu, disp) - 0.5 * np.linalg.slogdet(info)[1]).sum())

    grid = np.linspace(np.log(1e-4), np.log(4.0), 21)
    values = [apl(v) for v in grid]
    best = int(np.argmax(values))
    a, b = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = apl(c), apl(d)
    for _ in range(16):
        if fc > fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = apl(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = apl(d)
    common = float(np.exp((a + b) / 2.0))
    disp = np.full(g, common)
    beta, mu, info = nb_glm(y, x, offset, disp)
    _, mu0, _ = nb_glm(y, x[:, :-1], offset, disp)
    dev_full = _deviance(y, mu, common)
    dev_null = _deviance(y, mu0, common)
    df_res = _residual_df(y, mu, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = np.where(df_res > 0, np.maximum(dev_full, 0.0) / df_res, np.nan)
    s2_post, d0, s2_prior = squeeze_var(s2, df_res)
    s2_post = np.maximum(s2_post, 1e-8)
    f = np.maximum(dev_null - dev_full, 0.0) / s2_post
    pvalue = stats.f.sf(f, 1, d0 + df_res) if np.isfinite(d0) else stats.chi2.sf(f, 1)
    cov = np.linalg.inv(info + 1e-8 * np.eye(p))
    se = np.sqrt(cov[:, -1, -1] * s2_post)
    return {
        "logFC": beta[:, -1] / np.log(2.0),
        "SE": se / np.log(2.0),
        "F": f,
        "pvalue": pvalue,
        "dispersion": common,
        "prior_df": d0,
        "prior_ql": s2_prior,
        "df_residual": df_res,
    }


def _residual_df(y: np.ndarray, mu: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Residual df per neighbourhood, not counting samples fitted exactly at zero.

    As edgeR's QL fit: a zero count whose fitted mean is zero (a group with no cells there)
    carries no information about the variance, so it and the coefficient it fixes leave the
    residual degrees of freedom; otherwise a neighbourhood with empty groups would get a QL
    dispersion near 0 and a huge F.
    """
    zero = (y == 0) & (mu < 1e-4)
    patterns, inverse = np.unique(zero, axis=0, return_inverse=True)
    df = np.empty(len(patterns))
    for i, pat in enumerate(patterns):
        kept = x[~pat]
        df[i] = kept.shape[0] - (np.linalg.matrix_rank(kept) if kept.shape[0] else 0)
    return df[np.ravel(inverse)]


def _deviance(y: np.ndarray, mu: np.ndarray, phi: float) -> np.ndarray:
    """Unit NB deviance summed per neighbourhood."""
    mu = np.maximum(mu, 1e-300)
    r = 1.0 / phi
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return 2.0 * (term - (y + r) * np.log((y + r) / (mu + r))).sum(axis=1)


def da(
    adata: Any,
    *,
    condition: str,
    sample: str,
    design: str | None = None,
    treated: str | None = None,
    control: str | None = None,
    k: int = 30,
    prop: float = 0.1,
    use_rep: str = "X_pca",
    n_comps: int = 30,
    batch_key: str | None = None,
    genes: Any = None,
    annotate: str | None = None,
    norm: Literal["TMM", "cells"] = "TMM",
    seed: np.random.Generator | int | None = 0,
    key_added: str = "oncoresist_da",
    copy: bool = False,
) -> pd.DataFrame:
    """Test each kNN neighbourhood for a change in abundance between two conditions.

    Parameters
    ----------
    adata
        AnnData or :class:`~oncoresist.singlecell.CellData`.
    condition
        ``obs`` column of the condition (constant within each sample).
    sample
        ``obs`` column of the biological sample (the replicate unit).
    design
        Formula of sample-level ``obs`` columns, e.g. ``"~ patient + condition"``; default
        ``"~ condition"``. The condition is tested after the other terms.
    treated, control
        Levels of ``condition`` to compare (logFC = treated over control); required when it
        has more than two levels; default: the two levels in sorted order, the first as
        control.
    k
        Neighbourhood size (the index cell included); about 5 cells × samples is Milo's
        advice.
    prop
        Fraction of cells drawn as candidate index cells (Milo: 0.05–0.2).
    use_rep
        ``obsm`` embedding to use; computed with :func:`~oncoresist.singlecell._neighbours.pca`
        (``n_comps`` components) when absent.
    batch_key
        When the embedding is computed: centre each group of this ``obs`` column (e.g. the
        sample) on its own mean first (see :func:`~oncoresist.singlecell.pca`). Use it when a
        drug shifts every cell's expression: otherwise treated cells sit apart from control
        cells and every neighbourhood looks differentially abundant.
    genes
        When the embedding is computed: use only these genes (e.g. those the drug does not
        change, from :func:`~oncoresist.singlecell.pseudobulk_de`), so neighbourhoods are
        drug-invariant cell states and DA measures composition, not the drug's response.
    annotate
        Optional ``obs`` column (e.g. cell type): each neighbourhood gets its most frequent
        value and that value's fraction.
    norm
        Library sizes of the samples: ``"TMM"`` (miloR's default: the sample's total over
        neighbourhoods scaled by TMM factors, which corrects for samples whose cells sit in
        sparser parts of the embedding) or ``"cells"`` (cells per sample).
    seed
        Seed or generator of the index-cell sampling (and of the PCA when computed).
    key_added
        ``uns`` key of the results.
    copy
        Work on a copy (returned in ``uns`` of that copy; the table is returned either way).

    Returns
    -------
    pandas.DataFrame
        One row per neighbourhood: ``nhood``, ``index_cell`` (obs name), ``n_cells``,
        ``logFC`` (log2, treated over control), ``SE`` (log2), ``F``, ``pvalue``,
        ``spatial_fdr``, ``kth_distance`` and, with ``annotate``, ``<annotate>`` and
        ``<annotate>_fraction``. Also writes ``uns[key_added]`` = ``{"results": table,
        "nhoods": members (int32, neighbourhoods × k, cell positions), "index_cells",
        "counts": DataFrame neighbourhoods × samples, "samples": sample table, "params",
        "dispersion", "prior_df", "design_columns"}`` and ``obsm[use_rep]`` when computed.

    Raises
    ------
    InputError
        Missing columns or levels, fewer than 2 samples per condition, design terms varying
        within a sample, a condition confounded with another term, or no residual df.

    References
    ----------
    Dann E. et al. Nat Biotechnol 40:245 (2022). doi:10.1038/s41587-021-01033-z

    Examples
    --------
    >>> from oncoresist.singlecell._simulate import simulate_cells
    >>> cd = simulate_cells(n_patients=3, cells_per_sample=150, n_genes=200, rng=0)
    >>> res = da(cd, condition="condition", sample="sample", design="~ patient + condition",
    ...          k=20, prop=0.2)
    >>> list(res.columns[:4])
    ['nhood', 'index_cell', 'n_cells', 'logFC']
    """
    # Separate streams, so the index cells do not depend on whether the PCA was computed.
    rng_pca, rng = np.random.default_rng(seed).spawn(2)
    target = adata.copy() if copy else adata
    obs = target.obs
    terms = _parse_design(design, condition)
    for col in {*terms, sample} | ({annotate} if annotate else set()):
        if col not in obs.columns:
            raise InputError(f"no obs column {col!r}; the data has "
                             f"{', '.join(map(str, obs.columns)) or 'none'}",
                             field=f"obs/{col}")  # fmt: skip
    levels = sorted(obs[condition].astype(str).unique())
    if treated is None and control is None and len(levels) == 2:
        control, treated = levels
    if treated is None or control is None:
        raise InputError(f"{condition!r} has levels {levels}; give treated= and control= "
                         "(two of them)", field=f"obs/{condition}")  # fmt: skip
    for level in (treated, control):
        if level not in levels:
            raise InputError(f"level {level!r} not in {condition!r} ({levels})",
                             field=f"obs/{condition}")  # fmt: skip
    if not 2 <= k <= target.n_obs:
        raise InputError(f"k={k}; expected between 2 and the number of cells ({target.n_obs})")
    if norm not in ("TMM", "cells"):
        raise InputError(f"norm={norm!r}; expected 'TMM' or 'cells'")
    if not 0 < prop <= 1:
        raise InputError(f"prop={prop}; expected a fraction in (0, 1]")
    if use_rep not in target.obsm:
        pca(target, n_comps=n_comps, batch_key=batch_key, genes=genes, seed=rng_pca,
            key_added=use_rep)  # fmt: skip
    emb = np.asarray(target.obsm[use_rep], dtype=np.float64)
    keep = obs[condition].astype(str).isin([treated, control]).to_numpy()
    cells = np.flatnonzero(keep)
    emb_kept = emb[cells]
    table = sample_table(obs.loc[keep], sample, terms)
    per_cond = table[condition].astype(str).value_counts()
    n_t, n_c = int(per_cond.get(treated, 0)), int(per_cond.get(control, 0))
    if n_t < 2 or n_c < 2:
        raise InputError(
            f"{n_t} {treated!r} and {n_c} {control!r} samples (by {sample!r}); differential"
            " abundance needs at least 2 samples per condition to estimate the variation"
            " between replicates",
            field=f"obs/{condition}",
        )
    x, names = _design_matrix(table, terms, condition, treated)
    _check_design(x, names, terms, len(table))

    from scipy.spatial import cKDTree

    tree = cKDTree(emb_kept)
    index = refined_index_cells(emb_kept, k=k, prop=prop, rng=rng, tree=tree)
    members, dist = knn(emb_kept, k, query=index, tree=tree)
    kth = dist[:, -1]
    codes = pd.Categorical(obs[sample].astype(str).to_numpy()[cells],
                           categories=list(table.index)).codes  # fmt: skip
    counts = nhood_counts(members, codes.astype(np.int64), len(table))
    if norm == "TMM":
        lib = counts.sum(axis=0).astype(np.float64)
        lib = lib * tmm_factors(counts, lib)
    else:
        lib = np.bincount(codes, minlength=len(table)).astype(np.float64)
    test = _ql_test(counts.astype(np.float64), x, lib)
    members_all = cells[members].astype(np.int32)
    result = pd.DataFrame(
        {
            "nhood": np.arange(len(index)),
            "index_cell": np.asarray(obs.index)[cells[index]],
            "n_cells": np.full(len(index), k),
            "logFC": test["logFC"],
            "SE": test["SE"],
            "F": test["F"],
            "pvalue": test["pvalue"],
            "spatial_fdr": spatial_fdr(test["pvalue"], kth),
            "kth_distance": kth,
        }
    )
    if annotate:
        labels, uniques = pd.factorize(obs[annotate].astype(str).to_numpy())
        tab = np.zeros((len(index), len(uniques)), dtype=np.int64)
        np.add.at(tab, (np.repeat(np.arange(len(index)), k), labels[members_all.ravel()]), 1)
        result[annotate] = np.asarray(uniques)[tab.argmax(axis=1)]
        result[f"{annotate}_fraction"] = tab.max(axis=1) / k
    target.uns[key_added] = {
        "results": result,
        "nhoods": members_all,
        "index_cells": cells[index].astype(np.int64),
        "counts": pd.DataFrame(counts, columns=list(table.index)),
        "samples": table,
        "design_columns": names,
        "dispersion": test["dispersion"],
        "prior_df": test["prior_df"],
        "params": {"condition": condition, "sample": sample, "treated": treated,
                   "control": control, "design": "~ " + " + ".join(terms), "k": k,
                   "prop": prop, "use_rep": use_rep, "library_size": norm,
                   "test": "NB GLM, common dispersion, QL F-test (edgeR-style)",
                   "fdr": "spatial (weights 1/k-th neighbour distance)"},
    }  # fmt: skip
    return result
