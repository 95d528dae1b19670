"""Programme scores per cell: ULM, weighted mean, z-score, Tirosh control-gene score, PROGENy.

All methods work on sparse matrices chunk by chunk of cells (a chunk is densified only over
the programme genes), so a 200,000-cell experiment is never normalised or densified whole.

Methods
-------
``ulm``
    decoupler's univariate linear model: per cell and programme, the t-value of the slope of
    expression on the programme weights across the programme genes (genes of the other
    programmes weigh 0), as ``decoupler.mt.ulm`` 2.2.0 (Badia-i-Mompel 2022).
``mean``
    Weighted mean expression of the programme genes, Σ w·x / Σ|w|.
``zscore``
    The same over genes standardised across cells (mean 0, sd 1 per gene).
``tirosh``
    Mean of the programme genes minus the mean of control genes drawn (seeded) from the same
    expression bins (Tirosh 2016; scanpy's ``score_genes``); down genes subtract.

References
----------
Badia-i-Mompel P. et al., "decoupleR: ensemble of computational methods to infer biological
activities from omics data", Bioinformatics Advances 2:vbac016 (2022).
Tirosh I. et al., "Dissecting the multicellular ecosystem of metastatic melanoma by single-cell
RNA-seq", Science 352:189 (2016), doi:10.1126/science.aad0501.
Schubert M. et al., Nat Commun 9:20 (2018) (PROGENy).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse

from oncoresist.errors import InputError
from oncoresist.singlecell._genesets import (
    CITATIONS,
    load_progeny,
    network_matrix,
    programme_network,
)
from oncoresist.singlecell._io import is_integer_matrix, match_genes

Method = Literal["ulm", "mean", "zscore", "tirosh"]
Normalise = Literal["auto", "log1p_cp10k", "none"]
METHODS: tuple[str, ...] = ("ulm", "mean", "zscore", "tirosh")
#: programmes with fewer genes found in the data are not scored
MIN_GENES = 5
#: about this many matrix entries are densified at a time
_CHUNK_ENTRIES = 20_000_000


def _expression(adata: Any, layer: str | None) -> Any:
    if layer is None:
        return adata.X
    if layer not in adata.layers:
        raise InputError(f"layer not found (layers: {', '.join(adata.layers) or 'none'}); "
                         "expected the layer to score", file=getattr(adata, "filename", None),
                         field=f"layers/{layer}")  # fmt: skip
    return adata.layers[layer]


def _choose_normalisation(matrix: Any, normalise: Normalise) -> str:
    if normalise == "auto":
        return "log1p_cp10k" if is_integer_matrix(matrix) else "none"
    if normalise not in ("log1p_cp10k", "none"):
        raise InputError(f"normalise={normalise!r}; expected 'auto', 'log1p_cp10k' or 'none'",
                         field="normalise")  # fmt: skip
    return normalise


def iter_chunks(
    matrix: Any,
    columns: np.ndarray,
    normalisation: str,
    *,
    chunk_cells: int | None = None,
    row_moments: bool = False,
) -> Iterator[tuple[slice, Any, np.ndarray | None, np.ndarray | None]]:
    """Yield (cell slice, cells × ``columns`` block, row sums, row sums of squares).

    With ``"log1p_cp10k"`` each cell is divided by its total over *all* genes, times 10,000,
    then log1p; sparse blocks stay sparse. With ``row_moments`` the sum and sum of squares of
    each cell's (normalised) values over all genes come too; otherwise they are ``None``.
    """
    n = matrix.shape[0]
    width = matrix.shape[1] if row_moments else matrix.shape[1] // 4 + len(columns)
    step = chunk_cells or max(1, _CHUNK_ENTRIES // max(1, width))
    for start in range(0, n, step):
        rows = slice(start, min(n, start + step))
        block = matrix[rows]
        if sparse.issparse(block):
            block = sparse.csr_matrix(block, dtype=np.float64)
        else:
            block = np.asarray(block, dtype=np.float64)
        if normalisation == "log1p_cp10k":
            totals = np.asarray(block.sum(axis=1)).ravel()
            scale = np.divide(1e4, totals, out=np.zeros_like(totals), where=totals > 0)
            if sparse.issparse(block):
                block = sparse.csr_matrix(block.multiply(scale[:, None]))
                block.data = np.log1p(block.data)
            else:
                block = np.log1p(block * scale[:, None])
        sums = sums_sq = None
        if row_moments:
            sums = np.asarray(block.sum(axis=1)).ravel()
            squared = block.multiply(block) if sparse.issparse(block) else block**2
            sums_sq = np.asarray(squared.sum(axis=1)).ravel()
        yield rows, block[:, columns], sums, sums_sq


def expressed_genes(matrix: Any) -> np.ndarray:
    """Boolean mask of genes with a non-zero value in at least one cell."""
    if sparse.issparse(matrix):
        m = matrix.tocsr() if matrix.format != "csr" else matrix
        seen = np.zeros(m.shape[1], dtype=bool)
        step = 1 << 24  # stored values per pass: bincount would widen all the indices at once
        for start in range(0, m.nnz, step):
            stop = min(start + step, m.nnz)
            kept = m.indices[start:stop][m.data[start:stop] != 0]
            seen |= np.bincount(kept, minlength=m.shape[1]) > 0
        return seen
    return np.asarray(np.any(np.asarray(matrix) != 0, axis=0)).ravel()


def _gene_moments(
    matrix: Any, columns: np.ndarray, normalisation: str
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd (ddof=1) of each column over all cells, in one chunked pass."""
    total = np.zeros(len(columns))
    total_sq = np.zeros(len(columns))
    for _, block, _, _ in iter_chunks(matrix, columns, normalisation):
        total += np.asarray(block.sum(axis=0)).ravel()
        squared = block.multiply(block) if sparse.issparse(block) else block**2
        total_sq += np.asarray(squared.sum(axis=0)).ravel()
    n = matrix.shape[0]
    mean = total / n
    var = (total_sq - n * mean**2) / max(n - 1, 1)
    return mean, np.sqrt(np.clip(var, 0, None))


def _ulm_block(block: Any, weights: np.ndarray, sums: np.ndarray, sums_sq: np.ndarray,
               n_genes: int) -> np.ndarray:  # fmt: skip
    """t-values of the slope of each cell's expression on each programme's weights.

    As decoupler 2.2.0, the regression runs over all ``n_genes`` expressed genes of the data,
    genes outside a programme weighing 0; only the programme genes are in ``block``, the
    other genes enter through each cell's ``sums`` and ``sums_sq``.
    """
    w_mean = weights.sum(axis=0) / n_genes
    w_var = ((weights**2).sum(axis=0) - n_genes * w_mean**2) / (n_genes - 1)
    sd_w = np.sqrt(np.clip(w_var, 0, None))
    sd_x = np.sqrt(np.clip((sums_sq - sums**2 / n_genes) / (n_genes - 1), 0, None))
    cov = (np.asarray(block @ weights) - sums[:, None] * w_mean[None, :]) / (n_genes - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = cov / (sd_x[:, None] * sd_w[None, :])
    r = np.nan_to_num(r, nan=0.0)
    df = n_genes - 2
    # decoupler adds 2.2e-16 so a perfect correlation gives a large finite t
    return r * np.sqrt(df / ((1.0 - r + 2.2e-16) * (1.0 + r + 2.2e-16)))


def _tirosh_weights(means: np.ndarray, weights: np.ndarray, *, n_bins: int, ctrl_size: int,
                    rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """Gene weights of the control-gene score, all genes × programmes.

    For each programme and sign, ``ctrl_size`` control genes are drawn per expression bin
    its genes fall in (from genes outside the programme). The score is
    (n_up·(mean up − mean controls) − n_down·(mean down − mean controls)) / (n_up + n_down):
    Tirosh's score for an unsigned set, with up and down parts weighted by their sizes.
    """
    ranks = pd.Series(means).rank(method="min").to_numpy()
    bins = np.minimum((ranks - 1) * n_bins // len(means), n_bins - 1).astype(int)
    signs = np.sign(weights)
    combined = signs / np.maximum(np.abs(signs).sum(axis=0), 1)
    for j in range(weights.shape[1]):
        n_total = int(np.abs(signs[:, j]).sum())
        for sign in (1.0, -1.0):
            members = np.flatnonzero(signs[:, j] == sign)
            picked: list[int] = []
            for b in np.unique(bins[members]):
                pool = np.flatnonzero((bins == b) & (signs[:, j] == 0))
                if pool.size:
                    picked += list(rng.choice(pool, size=min(ctrl_size, pool.size), replace=False))
            if picked:  # added, not set: up and down parts may share control genes
                chosen = np.unique(picked)
                combined[chosen, j] -= sign * members.size / (n_total * chosen.size)
    return combined


def score_matrix(
    matrix: Any,
    weights: np.ndarray,
    columns: np.ndarray,
    *,
    method: Method = "ulm",
    normalisation: str = "none",
    n_bins: int = 25,
    ctrl_size: int = 50,
    rng: np.random.Generator | int | None = 0,
) -> np.ndarray:
    """Score cells × programmes from a matrix, the genes used (``columns``) and their weights.

    Parameters
    ----------
    matrix
        Cells × genes (sparse or dense).
    weights
        ``len(columns)`` × programmes.
    columns
        Column positions in ``matrix`` of the rows of ``weights``.
    method
        ``"ulm"``, ``"mean"``, ``"zscore"`` or ``"tirosh"`` (see the module docstring).
    normalisation
        ``"log1p_cp10k"`` or ``"none"``.
    n_bins, ctrl_size, rng
        Tirosh control genes: expression bins, genes per bin, seed.

    Returns
    -------
    ndarray
        Cells × programmes.
    """
    if method not in METHODS:
        raise InputError(f"method={method!r}; expected one of {', '.join(METHODS)}",
                         field="method")  # fmt: skip
    out = np.empty((matrix.shape[0], weights.shape[1]))
    if method == "tirosh":
        rng = np.random.default_rng(rng)
        all_columns = np.arange(matrix.shape[1])
        means, _ = _gene_moments(matrix, all_columns, normalisation)
        full = np.zeros((matrix.shape[1], weights.shape[1]))
        full[columns] = weights
        combined = _tirosh_weights(means, full, n_bins=n_bins, ctrl_size=ctrl_size, rng=rng)
        used = np.flatnonzero(np.any(combined != 0, axis=1))
        for rows, block, _, _ in iter_chunks(matrix, used, normalisation):
            out[rows] = np.asarray(block @ combined[used])
        return out
    effective = weights
    offset = np.zeros(weights.shape[1])
    if method == "zscore":
        mean, sd = _gene_moments(matrix, columns, normalisation)
        inverse = np.divide(1.0, sd, out=np.zeros_like(sd), where=sd > 0)
        effective = weights * inverse[:, None]
        offset = mean @ effective
    if method in ("mean", "zscore"):
        denominator = np.abs(weights).sum(axis=0)
        denominator[denominator == 0] = 1.0
    n_genes = int(expressed_genes(matrix).sum())
    chunks = iter_chunks(matrix, columns, normalisation, row_moments=method == "ulm")
    for rows, block, sums, sums_sq in chunks:
        if method == "ulm":
            out[rows] = _ulm_block(block, weights, sums, sums_sq, n_genes)
        else:
            out[rows] = (np.asarray(block @ effective) - offset) / denominator
    return out


def _resolve(
    adata: Any, matrix: Any, net: pd.DataFrame, *, min_genes: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, list[str], str]:
    """Match the network to the data: overlap table, columns, weights, scored programmes."""
    genes, programmes, weights = network_matrix(net)
    positions, report = match_genes(adata, genes, min_found=0)
    # a gene with no value in any cell carries nothing: counted as absent (as decoupler)
    expressed = expressed_genes(matrix)
    positions = np.where((positions >= 0) & expressed[np.maximum(positions, 0)], positions, -1)
    rows = []
    scored = []
    for j, name in enumerate(programmes):
        in_set = weights[:, j] != 0
        n_total = int(in_set.sum())
        n_found = int((in_set & (positions >= 0)).sum())
        ok = n_found >= min_genes
        reason = (
            "" if ok else f"only {n_found} of {n_total} genes expressed in the data (< {min_genes})"
        )
        rows.append((name, n_found, n_total, n_found / n_total if n_total else 0.0, ok, reason))
        if ok:
            scored.append(j)
    overlap = pd.DataFrame(rows, columns=["programme", "n_found", "n_total", "fraction",
                                          "scored", "reason"])  # fmt: skip
    if not scored:
        example = ", ".join(map(str, list(adata.var_names[:3])))
        raise InputError(
            f"no programme has {min_genes} genes in the data: {report['n_found']} of "
            f"{report['n_total']} programme genes found (best key {report['key']}; genes look "
            f"like {example}); expected gene symbols or Ensembl IDs in var_names or in a var "
            "column 'symbol' or 'gene_ids'", file=getattr(adata, "filename", None),
            field="var/_index")  # fmt: skip
    sub = weights[:, scored]
    keep = (positions >= 0) & np.any(sub != 0, axis=1)
    return overlap, positions[keep], sub[keep], [str(programmes[j]) for j in scored], report["key"]


def score(
    adata: Any,
    programmes: str | Iterable[str] | Mapping[str, Any] | pd.DataFrame = "resistance",
    *,
    method: Method = "ulm",
    layer: str | None = None,
    normalise: Normalise = "auto",
    key_added: str = "oncoresist",
    min_genes: int = MIN_GENES,
    progeny_top: int = 100,
    n_bins: int = 25,
    ctrl_size: int = 50,
    rng: np.random.Generator | int | None = 0,
    copy: bool = False,
) -> Any:
    """Score programmes per cell and store them in ``obsm`` and ``uns``.

    Parameters
    ----------
    adata
        A :class:`CellData` or ``anndata.AnnData`` (cells × genes).
    programmes
        ``"progeny"``, ``"hallmark"``, ``"resistance"``, a list of programme names, a dict of
        name → genes (or {gene: weight}), or a long table (``source``, ``target``, ``weight``).
    method
        ``"ulm"`` (default), ``"mean"``, ``"zscore"`` or ``"tirosh"``.
    layer
        Layer to score instead of ``X``.
    normalise
        ``"auto"``: a matrix of whole numbers is taken as counts and scored as log1p of counts
        per 10,000; anything else is used as given. ``"log1p_cp10k"`` or ``"none"`` force it.
    key_added
        Prefix of the keys written.
    min_genes
        Programmes with fewer genes found are not scored (listed with the reason).
    progeny_top
        Genes per PROGENy pathway.
    n_bins, ctrl_size, rng
        For ``"tirosh"``: expression bins, control genes per bin, seed.
    copy
        Return a scored copy instead of editing ``adata``.

    Returns
    -------
    None or the copy
        Writes ``obsm[f"{key_added}_{source}"]`` (DataFrame, cells × scored programmes;
        ``source`` is ``progeny``, ``hallmark``, ``resistance`` or ``custom``) and
        ``uns[key_added]["programmes"]``: one row per programme with ``source``,
        ``programme``, ``n_found``, ``n_total``, ``fraction``, ``scored``, ``reason``,
        ``method``, ``normalisation``, ``layer``, ``gene_key``, ``obsm_key``, ``citation``.

    Raises
    ------
    InputError
        A missing layer, an unknown programme or method, or no programme with ``min_genes``
        genes in the data (gene identifiers that do not match, with the overlap).

    Examples
    --------
    >>> score(cd, "progeny", method="ulm")  # doctest: +SKIP
    >>> cd.obsm["oncoresist_progeny"]["EGFR"]  # doctest: +SKIP
    """
    if method not in METHODS:
        raise InputError(f"method={method!r}; expected one of {', '.join(METHODS)}",
                         field="method")  # fmt: skip
    target = adata.copy() if copy else adata
    net, source = programme_network(programmes, progeny_top=progeny_top)
    matrix = _expression(target, layer)
    normalisation = _choose_normalisation(matrix, normalise)
    overlap, columns, weights, names, gene_key = _resolve(target, matrix, net, min_genes=min_genes)
    values = score_matrix(matrix, weights, columns, method=method, normalisation=normalisation,
                          n_bins=n_bins, ctrl_size=ctrl_size, rng=rng)  # fmt: skip
    obsm_key = f"{key_added}_{source}"
    target.obsm[obsm_key] = pd.DataFrame(values, index=target.obs_names.copy(), columns=names)
    _record(target, key_added, source, overlap, method=method, normalisation=normalisation,
            layer=layer, gene_key=gene_key, obsm_key=obsm_key)  # fmt: skip
    return target if copy else None


def _record(adata: Any, key_added: str, source: str, overlap: pd.DataFrame, **info: Any) -> None:
    table = overlap.copy()
    table.insert(0, "source", source)
    for name, value in info.items():
        table[name] = "X" if name == "layer" and value is None else value
    table["citation"] = CITATIONS.get(source, "user-supplied programmes")
    if source == "resistance":
        from oncoresist.singlecell._genesets import resistance_programmes

        known = resistance_programmes()
        table["citation"] = [", ".join(known[p]["references"]) if p in known else ""
                             for p in table["programme"]]  # fmt: skip
    store = adata.uns.setdefault(key_added, {})
    previous = store.get("programmes")
    if isinstance(previous, pd.DataFrame):
        previous = previous[previous["obsm_key"] != info["obsm_key"]]
        table = pd.concat([previous, table], ignore_index=True)
    store["programmes"] = table.reset_index(drop=True)


def progeny(
    adata: Any,
    *,
    top: int = 100,
    scale: bool = True,
    layer: str | None = None,
    normalise: Normalise = "auto",
    key_added: str = "oncoresist",
    copy: bool = False,
) -> Any:
    """PROGENy pathway scores as R ``progeny(expr, scale=TRUE, top=top)``.

    The score is expression × weights over the genes shared with the top-``top`` model (a
    weighted sum, not ULM), then, with ``scale``, each pathway is standardised across cells
    (sd with n-1), as R ``scale()``. Matches the R package to 1e-13 on its own test data.

    Parameters
    ----------
    adata
        A :class:`CellData` or ``anndata.AnnData``.
    top
        Genes per pathway by smallest p-value (ties kept).
    scale
        Standardise each pathway across cells (skipped for a single cell, as in R).
    layer, normalise, key_added, copy
        As :func:`score`.

    Returns
    -------
    None or the copy
        Writes ``obsm[f"{key_added}_progeny"]`` and rows of ``uns[key_added]["programmes"]``
        (``method`` ``"progeny_weighted_sum"``).

    References
    ----------
    Schubert M. et al., Nat Commun 9:20 (2018), doi:10.1038/s41467-017-02391-6.
    """
    target = adata.copy() if copy else adata
    model = load_progeny(top=top)
    net = model[["source", "target", "weight"]]
    matrix = _expression(target, layer)
    normalisation = _choose_normalisation(matrix, normalise)
    overlap, columns, weights, names, gene_key = _resolve(target, matrix, net, min_genes=1)
    values = np.empty((matrix.shape[0], weights.shape[1]))
    for rows, block, _, _ in iter_chunks(matrix, columns, normalisation):
        values[rows] = np.asarray(block @ weights)
    if scale and values.shape[0] > 1:
        sd = values.std(axis=0, ddof=1)
        values = (values - values.mean(axis=0)) / np.where(sd > 0, sd, np.nan)
    target.obsm[f"{key_added}_progeny"] = pd.DataFrame(values, index=target.obs_names.copy(),
                                                       columns=names)  # fmt: skip
    _record(target, key_added, "progeny", overlap, method="progeny_weighted_sum",
            normalisation=normalisation, layer=layer, gene_key=gene_key,
            obsm_key=f"{key_added}_progeny")  # fmt: skip
    return target if copy else None
