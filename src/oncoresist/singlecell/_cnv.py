"""Copy number inferred from expression: malignant cells and their sub-clones.

The method of Patel et al. 2014 (Science 344:1396, doi:10.1126/science.1254257) and Tirosh et
al. 2016 (Nature 539:309, doi:10.1038/nature20123), as inferCNV and infercnvpy run it, written
here on numpy/scipy:

1. genes ordered by chromosome (natural order, sex chromosomes left out by default) and start;
2. log-normalised expression centred on the normal reference: with one reference category the
   difference from its mean; with several, the "bounded" difference (zero between the lowest
   and the highest category mean, the distance to the nearest bound outside), so genes that
   differ between normal cell types do not read as copy-number changes;
3. clipped at ±``lfc_clip``;
4. a pyramid-weighted running mean over ``window`` genes within each chromosome, every
   ``step`` genes (one sparse banded matrix product per chunk of cells);
5. each cell centred on its median, then the reference cells' smoothed profiles subtracted
   again (bounded as in 2);
6. noise filter: values within ``noise_sd`` standard deviations (of the whole matrix) of zero
   set to zero.

Per cell, the CNV score is the mean square of its profile. Sub-clones are k-means clusters
(seeded, k-means++) of the first principal components of the profiles, k chosen by the mean
silhouette width; a cell is called malignant when its score exceeds the 99th percentile of the
reference cells' scores (cells of a clone can be called together with ``call="clone"``).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from oncoresist.errors import InputError

__all__ = ["cnv_clones", "genomic_order", "infer_cnv"]

POSITION_COLUMNS = ("chromosome", "start", "end")
"""The ``var`` columns :func:`infer_cnv` needs (as infercnvpy names them)."""


def _natural_key(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def genomic_order(
    var: pd.DataFrame,
    *,
    exclude_chromosomes: Sequence[str] = ("chrX", "chrY"),
    source: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Genes in genomic order: their positions in ``var`` and their chromosome names.

    Parameters
    ----------
    var
        Gene table with ``chromosome``, ``start`` and ``end`` columns (``"chr1"`` or ``"1"``).
    exclude_chromosomes
        Chromosomes left out (with or without the ``chr`` prefix); mitochondrial genes
        (``chrM``/``MT``) are always left out.
    source
        The file the table came from, for error messages.

    Returns
    -------
    index, chromosomes
        Integer positions into ``var`` ordered by chromosome (natural order) and start, and
        the chromosome (``chr`` prefixed) of each.

    Raises
    ------
    InputError
        A missing position column, non-numeric starts, or no gene left with a position.
    """
    missing = [column for column in POSITION_COLUMNS if column not in var.columns]
    if missing:
        raise InputError(
            "the genes have no genomic positions; expected columns 'chromosome', 'start' and "
            "'end' in var (as infercnvpy.io.genomic_position_from_gtf writes them)",
            file=source,
            field=f"var/{missing[0]}",
        )
    chromosome = var["chromosome"].astype("string").str.strip()
    chromosome = chromosome.where(
        chromosome.str.startswith("chr") | chromosome.isna(), "chr" + chromosome
    )
    start = pd.to_numeric(var["start"], errors="coerce")
    bad = start.isna() & chromosome.notna()
    if bad.any():
        gene = str(var.index[np.flatnonzero(bad.to_numpy())[0]])
        raise InputError(
            f"start of gene {gene!r} is {var['start'].iloc[np.flatnonzero(bad.to_numpy())[0]]!r};"
            " expected a whole number (base pairs)",
            file=source,
            record=gene,
            field="var/start",
        )
    excluded = {c if c.startswith("chr") else f"chr{c}" for c in exclude_chromosomes}
    excluded |= {"chrM", "chrMT"}
    keep = chromosome.notna() & ~chromosome.isin(sorted(excluded)).fillna(False)
    keep = keep.to_numpy(dtype=bool)
    if not keep.any():
        raise InputError(
            "no gene has a chromosome outside the excluded ones "
            f"({', '.join(sorted(excluded))}); expected autosomal positions",
            file=source,
            field="var/chromosome",
        )
    names = chromosome.to_numpy(dtype=object)
    order_of = {c: i for i, c in enumerate(sorted(set(names[keep]), key=_natural_key))}
    positions = np.flatnonzero(keep)
    rank = np.array([order_of[c] for c in names[positions]])
    order = np.lexsort((start.to_numpy()[positions], rank))
    index = positions[order]
    return index, names[index].astype(str)


def _smoothing_matrix(
    chromosomes: np.ndarray, *, window: int, step: int
) -> tuple[sp.csr_matrix, dict[str, int], np.ndarray]:
    """The genes × windows matrix of pyramid weights, and where each chromosome starts.

    A chromosome with fewer genes than ``window`` is one window: its plain mean.
    """
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    chr_pos: dict[str, int] = {}
    window_chrom: list[str] = []
    n_windows = 0
    boundaries = np.flatnonzero(chromosomes[1:] != chromosomes[:-1]) + 1
    for lo, hi in zip(np.r_[0, boundaries], np.r_[boundaries, len(chromosomes)], strict=True):
        chr_pos[str(chromosomes[lo])] = n_windows
        n = hi - lo
        if n < window:
            starts = np.array([0])
            weights = np.full(n, 1.0 / n)
            width = n
        else:
            starts = np.arange(0, n - window + 1, step)
            ramp = np.arange(1, window + 1)
            pyramid = np.minimum(ramp, ramp[::-1]).astype(float)
            weights = pyramid / pyramid.sum()
            width = window
        k = len(starts)
        rows.append((lo + starts[:, None] + np.arange(width)[None, :]).ravel())
        cols.append(np.repeat(np.arange(n_windows, n_windows + k), width))
        vals.append(np.tile(weights, k))
        window_chrom.extend([str(chromosomes[lo])] * k)
        n_windows += k
    matrix = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(chromosomes), n_windows),
    )
    return matrix, chr_pos, np.array(window_chrom)


def _bounded_difference(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """``x - high`` above ``high``, ``x - low`` below ``low``, 0 between."""
    return x - np.clip(x, low, high)


def _matrix(adata: Any, layer: str | None, source: str | None) -> Any:
    if layer is None:
        return adata.X
    layers = getattr(adata, "layers", {}) or {}
    if layer not in layers:
        raise InputError(
            f"no layer {layer!r}; the layers are: {', '.join(map(str, layers)) or 'none'}",
            file=source,
            field=f"layers/{layer}",
        )
    return layers[layer]


def _log_block(
    matrix: Any, rows: slice | np.ndarray, genes: np.ndarray, totals: np.ndarray | None
) -> np.ndarray:
    """Rows of ``matrix`` on a log scale, genes in genomic order, as a dense float64 block.

    Sparse input is scaled and ``log1p``-transformed on its stored values only (log1p(0) = 0),
    and only the positioned genes are densified.
    """
    block = matrix[rows]
    if sp.issparse(block):
        block = sp.csr_matrix(block, dtype=np.float64, copy=True)
        if totals is not None:
            scale = np.repeat(1e4 / totals[rows], np.diff(block.indptr))
            block.data = np.log1p(block.data * scale)
        return block[:, genes].toarray()
    block = np.asarray(block, dtype=np.float64)[:, genes]
    if totals is not None:
        block = np.log1p(block * (1e4 / totals[rows])[:, None])
    return block


def _looks_logged(matrix: Any) -> bool:
    values = matrix.data if sp.issparse(matrix) else np.asarray(matrix)
    return values.size == 0 or float(np.max(values)) <= 50.0


def infer_cnv(
    adata: Any,
    *,
    reference_key: str | None = None,
    reference_categories: str | Sequence[str] | None = None,
    window: int = 100,
    step: int = 10,
    lfc_clip: float = 3.0,
    noise_sd: float | None = 1.5,
    exclude_chromosomes: Sequence[str] = ("chrX", "chrY"),
    scale: Literal["auto", "log", "linear"] = "auto",
    layer: str | None = None,
    chunk_size: int = 2000,
    n_clones: int | None = None,
    max_clones: int = 8,
    n_pcs: int = 20,
    call: Literal["cell", "clone"] = "cell",
    rng: np.random.Generator | int | None = 0,
    key_added: str = "cnv",
    source: str | None = None,
    progress: Any = None,
    copy: bool = False,
) -> Any:
    """Infer copy-number profiles, sub-clones and malignant cells from expression.

    Parameters
    ----------
    adata
        AnnData-like object (cells × genes) whose ``var`` has ``chromosome``, ``start`` and
        ``end``.
    reference_key, reference_categories
        The ``obs`` column naming cell types and the categories of it that are normal cells
        (the reference). Without them the mean of all cells is the reference (a warning says
        so): profiles and malignancy calls are then relative to the sample's average.
    window, step
        Running-mean window and stride, in genes.
    lfc_clip
        Clip of the centred log expression (natural-log units).
    noise_sd
        Values within ``noise_sd`` standard deviations of zero are set to zero; ``None``
        keeps them.
    exclude_chromosomes
        Chromosomes left out.
    scale
        ``"log"``: the matrix is log-normalised already; ``"linear"``: counts or TPM, which are
        scaled to 10,000 per cell and ``log1p``-transformed; ``"auto"``: linear when the
        largest value exceeds 50. The choice is recorded in ``uns[key_added]["scale"]``.
    layer
        Layer to read instead of ``X``.
    chunk_size
        Cells per dense block (memory: ``chunk_size`` × genes × 8 bytes).
    n_clones, max_clones
        A fixed number of sub-clones, or the largest k tried when choosing it by silhouette.
    n_pcs
        Principal components of the profiles used for clustering.
    call
        ``"cell"``: malignant when the cell's score exceeds the reference's 99th percentile;
        ``"clone"``: when the clone's median score does. Without a reference no call is
        made (NA).
    rng
        Seed or generator for k-means.
    key_added
        Keys written: ``obsm[f"X_{key_added}"]`` (cells × windows, sparse),
        ``obs[f"{key_added}_score"]``, ``obs[f"{key_added}_clone"]``,
        ``obs[f"{key_added}_malignant"]``, ``uns[key_added]`` (``chr_pos``: first window of
        each chromosome; ``window_chromosome``; ``reference``; ``scale``; ``threshold``;
        ``clones``: a table of the k tried and their silhouettes; the parameters).
    source
        The file the data came from, for error messages.
    progress
        Called with the number of cells done after each chunk.
    copy
        Return a modified copy instead of editing ``adata`` in place.

    Returns
    -------
    None, or the copy when ``copy=True``.

    References
    ----------
    Patel AP et al. (2014) Science 344:1396. doi:10.1126/science.1254257.
    Tirosh I et al. (2016) Nature 539:309. doi:10.1038/nature20123.

    Examples
    --------
    >>> from oncoresist.singlecell._cnv import _example
    >>> cells = _example()
    >>> infer_cnv(cells, reference_key="cell_type", reference_categories=["normal"], window=20)
    >>> bool(cells.obs["cnv_malignant"][cells.obs["cell_type"] == "tumour"].mean() > 0.9)
    True
    """
    if copy:
        adata = adata.copy()
    source = source if source is not None else getattr(adata, "filename", None)
    if window < 1 or step < 1:
        raise InputError(f"window {window} and step {step} must be at least 1 gene")
    matrix = _matrix(adata, layer, source)
    if sp.issparse(matrix):
        matrix = sp.csr_matrix(matrix)
    genes, chromosomes = genomic_order(
        adata.var, exclude_chromosomes=exclude_chromosomes, source=source
    )
    logged = scale == "log" or (scale == "auto" and _looks_logged(matrix))
    totals = None
    if not logged:
        totals = np.asarray(matrix.sum(axis=1)).ravel().astype(float)
        totals[totals == 0] = 1.0
    smoother, chr_pos, window_chrom = _smoothing_matrix(chromosomes, window=window, step=step)
    reference_mask, groups, described = _reference(
        adata, reference_key, reference_categories, source
    )

    def log_rows(rows: slice | np.ndarray) -> np.ndarray:
        return _log_block(matrix, rows, genes, totals)

    n = adata.n_obs
    chunks = [slice(lo, min(lo + chunk_size, n)) for lo in range(0, n, chunk_size)]

    profiles = _profiles(log_rows, chunks, groups, smoother, lfc_clip=lfc_clip,
                         noise_sd=noise_sd, progress=progress)  # fmt: skip
    score = np.concatenate([np.mean(profiles[rows].astype(np.float64) ** 2, axis=1)
                            for rows in chunks])  # fmt: skip
    clones, tried = cnv_clones(profiles, n_clones=n_clones, max_clones=max_clones,
                               n_pcs=n_pcs, rng=rng)  # fmt: skip
    threshold = float(np.quantile(score[reference_mask], 0.99))
    if reference_key is None:
        # Against the mean of all cells there is no normal distribution to call against.
        malignant = pd.array([pd.NA] * n, dtype="boolean")
        threshold = float("nan")
    elif call == "clone":
        clone_median = pd.Series(score).groupby(clones).median()
        malignant = pd.array(clone_median.reindex(clones).to_numpy() > threshold, dtype="boolean")
    else:
        malignant = pd.array(score > threshold, dtype="boolean")
    adata.obsm[f"X_{key_added}"] = sp.csr_matrix(profiles)
    adata.obs[f"{key_added}_score"] = score
    adata.obs[f"{key_added}_clone"] = pd.Categorical(
        [str(c) for c in clones], categories=[str(c) for c in range(int(clones.max()) + 1)]
    )
    adata.obs[f"{key_added}_malignant"] = malignant
    adata.uns[key_added] = {
        "chr_pos": chr_pos,
        "window_chromosome": window_chrom,
        "reference": described,
        "scale": "log (as given)" if logged else "linear: scaled to 1e4 per cell, log1p",
        "threshold": threshold,
        "call": call,
        "clones": pd.DataFrame(tried, columns=["k", "silhouette"]),
        "params": {
            "window": window,
            "step": step,
            "lfc_clip": lfc_clip,
            "noise_sd": float("nan") if noise_sd is None else noise_sd,
            "exclude_chromosomes": list(exclude_chromosomes),
            "n_genes": len(genes),
            "n_pcs": n_pcs,
        },
        "method": "Patel 2014 / Tirosh 2016 running-mean inferCNV (oncoresist)",
    }
    return adata if copy else None


def _profiles(
    log_rows: Any,
    chunks: list[slice],
    groups: list[np.ndarray],
    smoother: sp.csr_matrix,
    *,
    lfc_clip: float,
    noise_sd: float | None,
    progress: Any,
) -> np.ndarray:
    """Steps 2-6 of the method: centred, clipped, smoothed, re-centred, denoised profiles."""
    means = _group_means(log_rows, chunks, groups)
    low, high = means.min(axis=0), means.max(axis=0)
    profiles = np.empty((chunks[-1].stop, smoother.shape[1]), dtype=np.float32)
    for rows in chunks:
        centred = np.clip(_bounded_difference(log_rows(rows), low, high), -lfc_clip, lfc_clip)
        smoothed = np.asarray(centred @ smoother)
        profiles[rows] = smoothed - np.median(smoothed, axis=1, keepdims=True)
        if progress is not None:
            progress(rows.stop - rows.start)
    smoothed_means = np.vstack([profiles[members].mean(axis=0) for members in groups])
    low, high = smoothed_means.min(axis=0), smoothed_means.max(axis=0)
    total = total_sq = 0.0
    for rows in chunks:  # chunk by chunk: no full-size float64 temporaries
        profiles[rows] = _bounded_difference(profiles[rows], low, high)
        part = profiles[rows].astype(np.float64)
        total, total_sq = total + part.sum(), total_sq + np.square(part).sum()
    if noise_sd is not None:
        size = profiles.size
        sd = np.sqrt(max(total_sq / size - (total / size) ** 2, 0.0))
        for rows in chunks:
            part = profiles[rows]
            part[np.abs(part) < noise_sd * sd] = 0.0
    return profiles


def _reference(
    adata: Any,
    key: str | None,
    categories: str | Sequence[str] | None,
    source: str | None,
) -> tuple[np.ndarray, list[np.ndarray], str]:
    """The reference cells' mask, their groups (one per category) and a description."""
    n = adata.n_obs
    if key is None:
        if categories is not None:
            raise InputError("reference categories given without the obs column that holds them")
        warnings.warn(
            "no normal reference given: copy number is relative to the mean of all cells, "
            "so cells are not called malignant or normal (obs column left NA) and the "
            "sub-clones are relative too; give reference_key and reference_categories "
            "(normal cell types) for calls",
            UserWarning,
            stacklevel=3,
        )
        return np.ones(n, dtype=bool), [np.arange(n)], "mean of all cells"
    if key not in adata.obs.columns:
        raise InputError(
            f"no obs column {key!r}; the columns are: {', '.join(map(str, adata.obs.columns))}",
            file=source,
            field=f"obs/{key}",
        )
    wanted = [categories] if isinstance(categories, str) else list(categories or [])
    if not wanted:
        raise InputError(
            f"no reference categories given for obs column {key!r}",
            file=source,
            field=f"obs/{key}",
        )
    labels = adata.obs[key].astype("string").to_numpy(dtype=object)
    present = set(labels) - {None, pd.NA}
    absent = [c for c in wanted if c not in present]
    if absent:
        raise InputError(
            f"reference categor{'y' if len(absent) == 1 else 'ies'} "
            f"{', '.join(map(repr, absent))} not found; the values are: "
            f"{', '.join(sorted(map(str, present)))}",
            file=source,
            field=f"obs/{key}",
        )
    groups = [np.flatnonzero(labels == c) for c in wanted]
    mask = np.zeros(n, dtype=bool)
    for members in groups:
        mask[members] = True
    return mask, groups, f"obs[{key!r}] in {', '.join(wanted)} ({int(mask.sum())} cells)"


def _group_means(log_rows: Any, chunks: list[slice], groups: list[np.ndarray]) -> np.ndarray:
    """Mean log expression of each reference group, reading only its cells, a chunk at a time."""
    size = max(chunk.stop - chunk.start for chunk in chunks)
    sums = [sum(log_rows(members[lo : lo + size]).sum(axis=0)
                for lo in range(0, len(members), size)) for members in groups]  # fmt: skip
    return np.vstack([s / len(m) for s, m in zip(sums, groups, strict=True)])


def _silhouette(points: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette width (Rousseeuw 1987) with Euclidean distances."""
    from scipy.spatial.distance import cdist

    distance = cdist(points, points)
    ks = np.unique(labels)
    if len(ks) < 2:
        return 0.0
    mean_to = np.column_stack([distance[:, labels == k].sum(axis=1) for k in ks])
    size = np.array([(labels == k).sum() for k in ks], dtype=float)
    own = np.searchsorted(ks, labels)
    rows = np.arange(len(labels))
    a = mean_to[rows, own] / np.maximum(size[own] - 1, 1)
    other = mean_to / size[None, :]
    other[rows, own] = np.inf
    b = other.min(axis=1)
    width = np.where(size[own] > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
    return float(width.mean())


def cnv_clones(
    profiles: np.ndarray | sp.spmatrix,
    *,
    n_clones: int | None = None,
    max_clones: int = 8,
    n_pcs: int = 20,
    sample_size: int = 3000,
    rng: np.random.Generator | int | None = 0,
) -> tuple[np.ndarray, list[dict[str, float]]]:
    """Sub-clones: k-means on the leading principal components of CNV profiles.

    k is ``n_clones`` when given, else the k in 2..``max_clones`` with the largest mean
    silhouette width (on at most ``sample_size`` cells); when no k reaches a silhouette of
    0.25 (Kaufman & Rousseeuw's "no substantial structure") there is one clone. Clones are
    numbered by decreasing size.

    Returns
    -------
    labels, tried
        The clone of each cell (0 = largest) and, for each k tried, ``{"k", "silhouette"}``.
    """
    from scipy.cluster.vq import kmeans2

    generator = np.random.default_rng(rng)
    n = profiles.shape[0]
    blocks = [slice(lo, min(lo + 20_000, n)) for lo in range(0, n, 20_000)]

    def block(rows: slice) -> np.ndarray:
        part = profiles[rows]
        return np.asarray(part.toarray() if sp.issparse(part) else part, dtype=np.float64)

    # Principal components from the windows × windows covariance, accumulated over blocks of
    # cells (few windows, many cells: memory stays at one block plus the covariance).
    width = profiles.shape[1]
    total, cross = np.zeros(width), np.zeros((width, width))
    for rows in blocks:
        part = block(rows)
        total += part.sum(axis=0)
        cross += part.T @ part
    mean = total / max(n, 1)
    cross -= n * np.outer(mean, mean)
    if n < 3 or not np.any(np.abs(cross) > 0):
        return np.zeros(n, dtype=int), []
    values, vectors = np.linalg.eigh(cross)
    keep = max(1, min(n_pcs, int(np.sum(values > values.max() * 1e-10))))
    axes = vectors[:, ::-1][:, :keep]
    pcs = np.vstack([(block(rows) - mean) @ axes for rows in blocks])
    sample = np.sort(generator.choice(n, size=min(n, sample_size), replace=False))

    def cluster(k: int) -> np.ndarray:
        seed = int(generator.integers(2**31))
        _, labels = kmeans2(pcs, k, minit="++", seed=seed)
        return labels

    tried: list[dict[str, float]] = []
    if n_clones is not None:
        labels = cluster(n_clones) if n_clones > 1 else np.zeros(n, dtype=int)
    else:
        best, labels = 0.25, np.zeros(n, dtype=int)
        for k in range(2, min(max_clones, n - 1) + 1):
            candidate = cluster(k)
            width = _silhouette(pcs[sample], candidate[sample])
            tried.append({"k": float(k), "silhouette": width})
            if width > best:
                best, labels = width, candidate
    sizes = np.bincount(labels)
    rank = np.empty_like(sizes)
    rank[np.argsort(-sizes, kind="stable")] = np.arange(len(sizes))
    labels = rank[labels]
    return labels, tried


def _example() -> Any:
    """A small simulated tumour with a chr2 gain among normal cells (for docs and tests)."""
    from oncoresist.singlecell._celldata import CellData

    generator = np.random.default_rng(0)
    n_genes, n_cells = 300, 60
    start = np.tile(np.arange(100) * 1000, 3)
    var = pd.DataFrame(
        {
            "chromosome": np.repeat(["chr1", "chr2", "chr3"], 100),
            "start": start,
            "end": start + 500,
        },
        index=[f"g{i}" for i in range(n_genes)],
    )
    base = generator.uniform(0.5, 2.0, n_genes)
    x = generator.normal(base, 0.3, (n_cells, n_genes)).clip(0)
    x[30:, 100:200] += 1.0
    obs = pd.DataFrame(
        {"cell_type": ["normal"] * 30 + ["tumour"] * 30},
        index=[f"cell{i}" for i in range(n_cells)],
    )
    return CellData(x, obs, var)
