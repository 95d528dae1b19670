"""Paired pseudobulk differential expression, DESeq2-style, vectorised over genes.

Counts of the cells of each sample are summed (one pseudobulk profile per sample), then
analysed as bulk RNA-seq with the DESeq2 model: median-of-ratios size factors, a
negative-binomial GLM per gene with the design ``~ pair + condition`` (the patient as a block)
or ``~ condition``, gene-wise dispersions by Cox-Reid adjusted maximum likelihood, a
parametric trend ``a0 + a1 / mean``, maximum-a-posteriori shrinkage of the log dispersions
towards it, and a Wald test of the condition coefficient (Benjamini-Hochberg ``padj``; no
independent filtering and no Cook's outlier replacement). The steps follow PyDESeq2, the
Python port used as the reference in the tests; all genes are fitted at once (batched IRLS)
instead of one optimiser call per gene. The batched negative-binomial GLM here is shared with
the differential-abundance test (``_da.py``).

References
----------
Love M.I., Huber W., Anders S. Moderated estimation of fold change and dispersion for
RNA-seq data with DESeq2. Genome Biol 15:550 (2014). doi:10.1186/s13059-014-0550-8
Muzellec B., Teleńczuk M., Cabeli V., Andreux M. PyDESeq2: a python package for bulk RNA-seq
differential expression analysis. Bioinformatics 39:btad547 (2023).
doi:10.1093/bioinformatics/btad547
Squair J.W. et al. Confronting false discoveries in single-cell differential expression.
Nat Commun 12:5692 (2021). doi:10.1038/s41467-021-25960-2
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.special import gammaln, polygamma
from scipy.stats import norm

from oncoresist.errors import InputError

from ._io import counts_matrix

__all__ = ["bh_adjust", "nb_glm", "nb_loglik", "pseudobulk_de", "size_factors"]

MIN_DISP = 1e-8


def nb_loglik(y: np.ndarray, mu: np.ndarray, dispersion: np.ndarray) -> np.ndarray:
    """Negative-binomial log-likelihood summed over the last axis.

    Parameters
    ----------
    y, mu
        Counts and means, features × samples.
    dispersion
        One dispersion per feature (variance ``mu + dispersion * mu^2``).

    Returns
    -------
    numpy.ndarray
        One log-likelihood per feature.
    """
    r = 1.0 / np.asarray(dispersion, dtype=np.float64)[:, None]
    mu = np.maximum(mu, 1e-300)
    ll = (
        gammaln(y + r)
        - gammaln(r)
        - gammaln(y + 1.0)
        + r * np.log(r / (r + mu))
        + y * np.log(mu / (r + mu))
    )
    return ll.sum(axis=-1)


def _xtwx(w: np.ndarray, design: np.ndarray) -> np.ndarray:
    """Per-feature ``X^T diag(w) X`` (features × p × p)."""
    return np.einsum("gn,np,nq->gpq", w, design, design)


def nb_glm(
    y: np.ndarray,
    design: np.ndarray,
    offset: np.ndarray,
    dispersion: np.ndarray,
    *,
    min_mu: float = 0.0,
    ridge: float = 1e-6,
    max_iter: int = 100,
    tol: float = 1e-8,
    max_beta: float = 30.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit a log-link negative-binomial GLM to every feature at once (batched IRLS).

    Parameters
    ----------
    y
        Counts, features × samples.
    design
        Samples × coefficients, full column rank.
    offset
        Log size factor (natural log) per sample, or features × samples.
    dispersion
        Dispersion per feature.
    min_mu
        Lower bound of the fitted means while iterating (DESeq2 uses 0.5; 0 for none).
    ridge
        Ridge penalty on the coefficients (DESeq2's 1e-6 keeps the solve well posed).
    max_iter, tol
        IRLS stops when every feature's deviance changes by less than ``tol`` relative.
    max_beta
        Bound on the absolute coefficients (natural-log scale); a group of zeros drives its
        coefficient there instead of to infinity.

    Returns
    -------
    (beta, mu, information)
        Coefficients (features × p, natural log), fitted means without the ``min_mu`` bound
        (features × samples) and ``X^T W X`` (features × p × p, ridge excluded).
    """
    y = np.asarray(y, dtype=np.float64)
    g, n = y.shape
    p = design.shape[1]
    off = np.broadcast_to(np.asarray(offset, dtype=np.float64), (g, n))
    phi = np.asarray(dispersion, dtype=np.float64)[:, None]
    beta = np.linalg.lstsq(design, np.log(y / np.exp(off) + 0.1).T, rcond=None)[0].T
    ridge_m = ridge * np.eye(p)
    dev = np.full(g, np.inf)
    for _ in range(max_iter):
        eta = off + beta @ design.T
        mu = np.maximum(np.exp(eta), max(min_mu, 1e-300))
        w = mu / (1.0 + phi * mu)
        z = np.log(mu) - off + (y - mu) / mu
        a = _xtwx(w, design) + ridge_m
        b = np.einsum("gn,np->gp", w * z, design)
        beta = np.clip(np.linalg.solve(a, b[..., None])[..., 0], -max_beta, max_beta)
        mu = np.maximum(np.exp(off + beta @ design.T), min_mu)
        new_dev = -2.0 * nb_loglik(y, mu, phi[:, 0])
        done = np.abs(new_dev - dev) / (np.abs(new_dev) + 0.1) < tol
        dev = new_dev
        if done.all():
            break
    mu = np.exp(off + beta @ design.T)
    w = mu / (1.0 + phi * mu)
    return beta, mu, _xtwx(w, design)


def _cr_objective(
    y: np.ndarray,
    mu: np.ndarray,
    design: np.ndarray,
    log_alpha: np.ndarray,
    prior_mean: np.ndarray | None,
    prior_var: float | None,
) -> np.ndarray:
    """Cox-Reid adjusted profile log-likelihood of log dispersions (plus a log-normal prior)."""
    alpha = np.exp(log_alpha)
    w = mu / (1.0 + mu * alpha[:, None])
    _, logdet = np.linalg.slogdet(_xtwx(w, design))
    value = nb_loglik(y, mu, alpha) - 0.5 * logdet
    if prior_mean is not None and prior_var is not None:
        value -= (log_alpha - prior_mean) ** 2 / (2.0 * prior_var)
    return value


def fit_dispersions_cr(
    y: np.ndarray,
    mu: np.ndarray,
    design: np.ndarray,
    *,
    bounds: tuple[float, float],
    prior_mean: np.ndarray | None = None,
    prior_var: float | None = None,
    n_grid: int = 64,
    n_refine: int = 40,
) -> np.ndarray:
    """Maximise the Cox-Reid adjusted likelihood over each feature's dispersion, mu fixed.

    A grid over ``log(bounds)`` finds the best cell, then golden-section search refines it
    (log-dispersion precision ~1e-9 of the bracket), all features at once.

    Returns
    -------
    numpy.ndarray
        Dispersion per feature, within ``bounds``.
    """
    lo, hi = np.log(bounds[0]), np.log(bounds[1])
    grid = np.linspace(lo, hi, n_grid)
    g = y.shape[0]
    values = np.stack(
        [_cr_objective(y, mu, design, np.full(g, v), prior_mean, prior_var) for v in grid], axis=1
    )
    best = values.argmax(axis=1)
    step = grid[1] - grid[0]
    a = np.maximum(grid[best] - step, lo)
    b = np.minimum(grid[best] + step, hi)
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc = _cr_objective(y, mu, design, c, prior_mean, prior_var)
    fd = _cr_objective(y, mu, design, d, prior_mean, prior_var)
    for _ in range(n_refine):
        left = fc > fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        new = np.where(left, b - ratio * (b - a), a + ratio * (b - a))
        fnew = _cr_objective(y, mu, design, new, prior_mean, prior_var)
        c, d, fc, fd = (
            np.where(left, new, d),
            np.where(left, c, new),
            np.where(left, fnew, fd),
            np.where(left, fc, fnew),
        )
    return np.exp((a + b) / 2.0)


def size_factors(counts: np.ndarray) -> np.ndarray:
    """Median-of-ratios size factors (DESeq2) of samples × genes counts.

    Only genes counted in every sample enter the geometric means.

    Examples
    --------
    >>> import numpy as np
    >>> size_factors(np.array([[10, 20], [20, 40]])).round(4).tolist()
    [0.7071, 1.4142]
    """
    counts = np.asarray(counts, dtype=np.float64)
    keep = (counts > 0).all(axis=0)
    if not keep.any():
        raise InputError("no gene is counted in every sample; median-of-ratios size factors "
                         "need at least one")  # fmt: skip
    logc = np.log(counts[:, keep])
    return np.exp(np.median(logc - logc.mean(axis=0), axis=1))


def _gamma_identity_fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Gamma GLM with identity link by IRLS (weights 1 / fit^2); coefficients."""
    fit = (y + y.mean()) / 2.0
    coef = np.zeros(x.shape[1])
    for _ in range(100):
        wts = 1.0 / fit**2
        coef = np.linalg.solve((x.T * wts) @ x, (x.T * wts) @ y)
        new_fit = np.maximum(x @ coef, 1e-12)
        if np.max(np.abs(new_fit - fit) / fit) < 1e-10:
            break
        fit = new_fit
    return coef


def _trend(normed_means: np.ndarray, genewise: np.ndarray) -> np.ndarray:
    """Parametric dispersion trend ``a0 + a1 / mean`` by an iterated gamma GLM (identity link).

    Genes far from the curve (ratio outside [1e-4, 15)) are dropped and the curve refitted
    until the coefficients settle; as DESeq2, the mean dispersion replaces a curve that does
    not fit (a coefficient ≤ 1e-10 or a singular fit).
    """
    ok = np.isfinite(genewise) & (normed_means > 0)
    x = np.column_stack([np.ones(ok.sum()), 1.0 / normed_means[ok]])
    y = genewise[ok]
    use = np.ones(len(y), dtype=bool)
    coef, old = np.array([1.0, 1.0]), np.array([0.1, 0.1])
    try:
        while (coef > 1e-10).all() and (np.log(np.abs(coef / old)) ** 2).sum() >= 1e-6:
            if use.sum() < 3:
                raise np.linalg.LinAlgError("too few genes for the dispersion trend")
            old = coef
            coef = _gamma_identity_fit(x[use], y[use])
            if (coef <= 1e-10).any():
                break
            ratio = y / (x @ coef)
            use = (ratio >= 1e-4) & (ratio < 15)
    except np.linalg.LinAlgError:
        coef = np.zeros(2)
    if (coef <= 1e-10).any():
        return np.full(len(normed_means), float(np.mean(genewise[ok])))
    return coef[0] + coef[1] / normed_means


def bh_adjust(pvalues: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values, optionally weighted (Milo's spatial FDR).

    With weights ``w``, the adjusted value of the i-th smallest p-value is
    ``min_{j >= i} p_(j) * sum(w) / cumsum(w)_(j)``; equal weights give plain BH.
    NaN p-values stay NaN and do not count.

    Examples
    --------
    >>> bh_adjust(np.array([0.01, 0.04, 0.03])).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if not ok.any():
        return out
    w = np.ones(ok.sum()) if weights is None else np.asarray(weights, dtype=np.float64)[ok]
    order = np.argsort(p[ok], kind="stable")
    ps, ws = p[ok][order], w[order]
    adj = ps * ws.sum() / np.cumsum(ws)
    adj = np.minimum(np.minimum.accumulate(adj[::-1])[::-1], 1.0)
    res = np.empty_like(adj)
    res[order] = adj
    out[ok] = res
    return out


def deseq(
    counts: np.ndarray, design: np.ndarray, coefficient: int, *, min_mu: float = 0.5
) -> pd.DataFrame:
    """DESeq2's model on samples × genes counts; Wald test of one design column.

    Parameters
    ----------
    counts
        Samples × genes integer counts.
    design
        Samples × coefficients, intercept first, full column rank.
    coefficient
        Column of ``design`` to test.
    min_mu
        DESeq2's lower bound of fitted means while fitting.

    Returns
    -------
    pandas.DataFrame
        One row per gene: ``base_mean``, ``log2fc``, ``lfc_se`` (log2 units), ``stat``,
        ``pvalue``, ``padj`` (BH over tested genes), ``dispersion``, ``genewise_dispersion``,
        ``fitted_dispersion``; genes with no counts have NaN statistics.
    """
    counts = np.asarray(counts, dtype=np.float64)
    n, p = design.shape
    if n <= p:
        raise InputError(f"{n} samples for {p} coefficients; the design leaves no residual "
                         "degree of freedom to estimate dispersions")  # fmt: skip
    sf = size_factors(counts)
    normed = counts / sf[:, None]
    nz = ~(counts == 0).all(axis=0)
    y = counts[:, nz].T
    ny = normed[:, nz]
    max_disp = max(10.0, n)
    # Rough (linear-model) and moment dispersions; the smaller one starts the fit.
    hat = design @ np.linalg.lstsq(design, ny, rcond=None)[0]
    hat = np.maximum(hat, 1.0)
    rde = np.maximum((((ny - hat) ** 2 - hat) / ((n - p) * hat**2)).sum(axis=0), 0.0)
    mean, var = ny.mean(axis=0), ny.var(axis=0, ddof=1)
    mde = np.nan_to_num((var - np.mean(1.0 / sf) * mean) / mean**2)
    start = np.clip(np.minimum(rde, mde), MIN_DISP, max_disp)
    offset = np.log(sf)
    if len(np.unique(design, axis=0)) == p:
        mu = np.maximum(sf[None, :] * (design @ np.linalg.lstsq(design, ny, rcond=None)[0]).T,
                        min_mu)  # fmt: skip
    else:
        _, mu, _ = nb_glm(y, design, offset, start, min_mu=min_mu)
        mu = np.maximum(mu, min_mu)
    genewise = fit_dispersions_cr(y, mu, design, bounds=(MIN_DISP, max_disp))
    fitted = _trend(mean, genewise)
    logres = np.log(genewise) - np.log(fitted)
    above = genewise >= 100 * MIN_DISP
    mad = np.median(np.abs(logres[above] - np.median(logres[above]))) / norm.ppf(0.75)
    prior_var = max(mad**2 - float(polygamma(1, (n - p) / 2.0)), 0.25)
    dmap = fit_dispersions_cr(y, mu, design, bounds=(MIN_DISP, max_disp),
                              prior_mean=np.log(fitted), prior_var=prior_var)  # fmt: skip
    outlier = logres > 2.0 * mad
    disp = np.where(outlier, genewise, dmap)
    beta, _, info = nb_glm(y, design, offset, disp, min_mu=min_mu)
    # Sandwich covariance with the ridge, as DESeq2 / PyDESeq2.
    h = np.linalg.inv(info + 1e-6 * np.eye(p))
    hc = h[:, :, coefficient]
    se = np.sqrt(np.einsum("gp,gpq,gq->g", hc, info, hc))
    lfc = beta[:, coefficient]
    stat = lfc / se
    pvalue = 2.0 * norm.sf(np.abs(stat))

    def full(values: np.ndarray) -> np.ndarray:
        out = np.full(counts.shape[1], np.nan)
        out[nz] = values
        return out

    table = pd.DataFrame(
        {
            "base_mean": normed.mean(axis=0),
            "log2fc": full(lfc / np.log(2.0)),
            "lfc_se": full(se / np.log(2.0)),
            "stat": full(stat),
            "pvalue": full(pvalue),
            "dispersion": full(disp),
            "genewise_dispersion": full(genewise),
            "fitted_dispersion": full(fitted),
        }
    )
    table.insert(5, "padj", bh_adjust(table["pvalue"].to_numpy()))
    table.attrs["size_factors"] = sf
    table.attrs["prior_disp_var"] = prior_var
    return table


def sample_table(obs: pd.DataFrame, sample: str, columns: list[str]) -> pd.DataFrame:
    """One row per sample (sorted by name) with sample-level columns.

    Each column must be constant within a sample; one that varies is an :class:`InputError`
    naming it.
    """
    keys = obs[sample].astype(str).to_numpy()
    grouped = obs[columns].groupby(keys, sort=True)
    varying = grouped.nunique(dropna=False)
    for col in columns:
        if (varying[col] > 1).any():
            bad = varying.index[varying[col] > 1][0]
            raise InputError(
                f"sample {bad!r} has {int(varying.loc[bad, col])} values of {col!r}; expected"
                f" one per sample (samples must be nested in {col!r})",
                field=f"obs/{col}",
            )
    table = grouped.first()
    table.index.name = sample
    return table


def _gene_labels(var: pd.DataFrame, var_names: pd.Index) -> np.ndarray:
    """Gene symbols where ``var`` has them, else the ``var_names``."""
    names = np.asarray(var_names, dtype=object).astype(str)
    for col in ("symbol", "gene_symbols", "gene_symbol", "feature_name"):
        if col in var.columns:
            sym = var[col].astype("string").to_numpy(na_value="")
            return np.where(sym != "", sym, names).astype(str)
    return names


def _check_obs(obs: pd.DataFrame, columns: list[str]) -> None:
    for col in columns:
        if col not in obs.columns:
            raise InputError(
                f"no obs column {col!r}; the data has {', '.join(map(str, obs.columns)) or 'none'}",
                field=f"obs/{col}",
            )


def _pseudobulk_one(
    counts: Any,
    obs: pd.DataFrame,
    *,
    groupby: str,
    treated: str,
    control: str,
    pair: str | None,
    sample: str,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """DESeq2 on the samples of one set of cells; returns the gene table and a summary."""
    cond = obs[groupby].astype(str)
    keep = cond.isin([treated, control]).to_numpy()
    obs = obs.loc[keep]
    counts = counts[keep]
    codes, names = pd.factorize(obs[sample].astype(str), sort=True)
    indicator = sparse.csr_matrix(
        (np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(len(names), len(codes))
    )
    summed = indicator @ counts
    summed = summed.toarray() if sparse.issparse(summed) else np.asarray(summed)
    table = sample_table(obs, sample, [groupby] + ([pair] if pair else []))
    table = table.loc[list(names)]
    is_treated = (table[groupby].astype(str) == treated).to_numpy()
    n_t, n_c = int(is_treated.sum()), int((~is_treated).sum())
    if n_t < 2 or n_c < 2:
        raise InputError(
            f"{n_t} {treated!r} and {n_c} {control!r} samples (by {sample!r}); pseudobulk DE "
            "needs at least 2 samples per condition",
            field=f"obs/{groupby}",
        )
    columns = [np.ones(len(names))]
    if pair:
        levels = sorted(table[pair].astype(str).unique())
        columns += [(table[pair].astype(str) == lv).to_numpy(float) for lv in levels[1:]]
    columns.append(is_treated.astype(float))
    design = np.column_stack(columns)
    if np.linalg.matrix_rank(design) < design.shape[1]:
        raise InputError(
            f"{groupby!r} is confounded with {pair!r}: each {pair!r} holds one condition only;"
            " a paired design needs both conditions within some pairs",
            field=f"obs/{pair}",
        )
    result = deseq(summed, design, design.shape[1] - 1)
    sf = result.attrs["size_factors"]
    up = down = None
    n_pairs = 0
    if pair:
        normed = summed / sf[:, None]
        up = np.zeros(summed.shape[1], dtype=int)
        down = np.zeros(summed.shape[1], dtype=int)
        for _, rows in table.reset_index().groupby(pair, observed=True):
            t = rows.index[rows[groupby].astype(str) == treated].to_numpy()
            c = rows.index[rows[groupby].astype(str) == control].to_numpy()
            if len(t) and len(c):
                diff = normed[t].mean(axis=0) - normed[c].mean(axis=0)
                up += diff > 0
                down += diff < 0
                n_pairs += 1
    result["n_pairs_up"] = pd.array(up, dtype="Int64") if up is not None else pd.NA
    result["n_pairs_down"] = pd.array(down, dtype="Int64") if down is not None else pd.NA
    result["n_pairs_up"] = result["n_pairs_up"].astype("Int64")
    result["n_pairs_down"] = result["n_pairs_down"].astype("Int64")
    summary = {
        "samples": list(map(str, names)),
        "size_factors": sf,
        "n_treated": n_t,
        "n_control": n_c,
        "n_pairs": n_pairs,
        "prior_disp_var": result.attrs["prior_disp_var"],
    }
    result.attrs = {}
    return result, summary


def pseudobulk_de(
    adata: Any,
    *,
    groupby: str,
    treated: str,
    control: str,
    pair: str | None = None,
    sample: str | None = None,
    cell_group: str | None = None,
    layer: str | None = None,
    key_added: str | None = "oncoresist_de",
) -> pd.DataFrame:
    """Pseudobulk differential expression between two conditions, paired by patient.

    Parameters
    ----------
    adata
        AnnData or :class:`~oncoresist.singlecell.CellData` with raw counts.
    groupby
        ``obs`` column of the condition.
    treated, control
        Its two levels to compare (log2fc is treated over control).
    pair
        ``obs`` column of the block (patient) for the paired design ``~ pair + condition``;
        ``None`` for ``~ condition``.
    sample
        ``obs`` column of the biological sample summed into one profile; default: one sample
        per (``pair``, ``groupby``) combination, which needs ``pair``.
    cell_group
        Optional ``obs`` column (e.g. cell type): test each group separately; the table gets a
        ``cell_group`` column.
    layer
        Counts layer; default as :func:`~oncoresist.singlecell.counts_matrix` chooses
        (``layers["counts"]``, ``.raw``, or ``X`` when it holds whole numbers).
    key_added
        ``uns`` key for the table and the fit's summary (``None``: do not write).

    Returns
    -------
    pandas.DataFrame
        One row per gene (and cell group): ``gene`` (symbol where ``var`` has one),
        ``gene_id`` (``var_names``), ``log2fc``, ``lfc_se``, ``stat``, ``pvalue``, ``padj``,
        ``base_mean`` (mean of size-factor-normalised counts), ``n_pairs_up`` /
        ``n_pairs_down`` (complete pairs where the treated sample is higher / lower after
        normalisation; NA without ``pair``), ``dispersion``, ``genewise_dispersion``,
        ``fitted_dispersion``. Writes ``uns[key_added]`` = ``{"table", "params",
        "summary", "counts"}``.

    Raises
    ------
    InputError
        A missing column or level, fewer than 2 samples per condition, a sample holding two
        conditions or pairs, or a condition confounded with the pair.

    Examples
    --------
    >>> from oncoresist.singlecell._simulate import simulate_cells
    >>> cd = simulate_cells(n_patients=3, cells_per_sample=60, n_genes=200, rng=0)
    >>> res = pseudobulk_de(cd, groupby="condition", treated="drug", control="ctrl",
    ...                     pair="patient")
    >>> list(res.columns[:4])
    ['gene', 'gene_id', 'log2fc', 'lfc_se']
    """
    obs = adata.obs
    needed = [groupby] + [c for c in (pair, sample, cell_group) if c]
    _check_obs(obs, needed)
    levels = set(obs[groupby].astype(str).unique())
    for level, what in ((treated, "treated"), (control, "control")):
        if level not in levels:
            raise InputError(
                f"{what} level {level!r} not found; {groupby!r} has {sorted(levels)}",
                field=f"obs/{groupby}",
            )
    if treated == control:
        raise InputError("treated and control are the same level", field=f"obs/{groupby}")
    counts, source = counts_matrix(adata, layer)
    counts = sparse.csr_matrix(counts) if sparse.issparse(counts) else np.asarray(counts)
    obs = obs.copy()
    if sample is None:
        if pair is None:
            raise InputError("give sample= (the biological sample of each cell) or pair= to "
                             "define samples; cells are not replicates")  # fmt: skip
        sample = "_pseudobulk_sample"
        obs[sample] = obs[pair].astype(str) + "|" + obs[groupby].astype(str)
    genes = _gene_labels(adata.var, adata.var_names)
    groups = [(None, np.ones(len(obs), dtype=bool))]
    if cell_group:
        groups = [(g, (obs[cell_group].astype(str) == g).to_numpy())
                  for g in sorted(obs[cell_group].astype(str).unique())]  # fmt: skip
    tables, summaries = [], {}
    for name, mask in groups:
        try:
            res, summary = _pseudobulk_one(counts[mask], obs.loc[mask], groupby=groupby,
                                           treated=treated, control=control, pair=pair,
                                           sample=sample)  # fmt: skip
        except InputError as err:
            if name is None:
                raise
            raise err.located(record=f"cell group {name!r}") from None
        res.insert(0, "gene_id", np.asarray(adata.var_names).astype(str))
        res.insert(0, "gene", genes)
        if name is not None:
            res.insert(0, "cell_group", name)
        tables.append(res)
        summaries["all" if name is None else name] = summary
    table = pd.concat(tables, ignore_index=True)
    order = ["gene", "gene_id", "log2fc", "lfc_se", "stat", "pvalue", "padj", "base_mean",
             "n_pairs_up", "n_pairs_down", "dispersion", "genewise_dispersion",
             "fitted_dispersion"]  # fmt: skip
    table = table[(["cell_group"] if cell_group else []) + order]
    table.attrs = {}
    if key_added is not None:
        adata.uns[key_added] = {
            "table": table,
            "params": {"groupby": groupby, "treated": treated, "control": control,
                       "pair": pair, "sample": sample, "cell_group": cell_group,
                       "design": f"~ {pair} + {groupby}" if pair else f"~ {groupby}"},
            "summary": summaries,
            "counts": source,
        }  # fmt: skip
    return table
