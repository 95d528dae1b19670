"""Normalisation of count tables: per-sample size factors and depth-matched log abundances.

Size factors: median ratio to the per-sgRNA geometric mean (default, as DESeq and MAGeCK),
median ratio over control sgRNAs (non-targeting or safe-targeting guides), total count, or
none (counts already comparable).

Depth matching (:func:`depth_matched_log2`): the log of a low count is biased downwards by
its Poisson sampling noise (Jensen's inequality), and the bias is larger in a shallower
sample, so that comparing a deep replicate with a shallow one moves every low-abundance guide
-- the core-essential genes first -- the same way. Each sample's log abundance is therefore
the expected value it would have had at the depth of the shallowest sample compared:
``E[log2(K / s_min + c)]`` with ``K ~ Binomial(x, s_min / s)`` -- binomial thinning of the
sample's ``x`` reads, averaged over the thinning rather than drawn (Rao-Blackwell). Under
Poisson (or Poisson-mixture) sampling of reads, the thinned count has exactly the shallow
sample's distribution, so the two samples' log abundances have the same expectation at every
abundance; averaging keeps the deep sample's lower variance. For counts above a few hundred
the correction is below 0.01 log2 units and the transform is the usual ``log2(x / s + c)``.

References
----------
Anders S, Huber W. Differential expression analysis for sequence count data. Genome Biol
2010 (PMID 20979621) -- median-ratio size factors.
Blackwell D. Conditional expectation and unbiased sequential estimation. Ann Math Stat 1947
-- averaging over the thinning.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as st

from oncoresist.errors import InputError

Norm = Literal["median", "total", "control", "none"]

#: Counts up to this many reads are averaged over the thinning exactly; above, a second-order
#: expansion (error below 1e-6 log2 units there).
_EXACT_READS = 600


def size_factors(
    counts: pd.DataFrame,
    *,
    method: Norm = "median",
    controls: Sequence[str] | None = None,
) -> pd.Series:
    """Per-sample size factors (reads), so that ``counts / factor`` are comparable.

    Parameters
    ----------
    counts : pandas.DataFrame
        One column per sample (a ``gene`` column, if present, is ignored); index sgRNA.
    method : {"median", "total", "control", "none"}
        Median ratio to the per-sgRNA geometric mean over all sgRNAs; total reads (scaled to
        geometric mean 1); median ratio over ``controls`` only; or 1 for every sample.
    controls : sequence of str, optional
        sgRNA ids of the control guides, for ``method="control"``.

    Returns
    -------
    pandas.Series
        Index: sample; the factor (dimensionless, geometric mean about 1).

    Raises
    ------
    InputError
        An unknown method, control normalisation without controls in the table, or no sgRNA
        with reads in every sample.
    """
    x = counts.drop(columns=["gene"], errors="ignore").astype(float)
    if method == "none":
        return pd.Series(1.0, index=x.columns)
    if method == "total":
        tot = x.sum()
        if (tot <= 0).any():
            empty = tot.index[tot <= 0][0]
            raise InputError(f"sample {empty!r} has no reads", field="counts")
        return tot / np.exp(np.log(tot).mean())
    if method == "control":
        if not controls:
            raise InputError("control normalisation needs control sgRNAs", field="controls")
        x = x.loc[x.index.intersection(list(controls))]
        if x.empty:
            raise InputError("none of the control sgRNAs is in the table", field="controls")
    elif method != "median":
        raise InputError(f"unknown method {method!r}; expected median, total, control or none",
                         field="method")  # fmt: skip
    with np.errstate(divide="ignore"):
        logx = np.log(x.where(x > 0))
    geo = logx.mean(axis=1, skipna=False)
    ok = np.isfinite(geo)
    if not ok.any():
        raise InputError("no sgRNA has reads in every sample", field="counts")
    return np.exp(logx[ok].sub(geo[ok], axis=0).median())


def _thinned_log2(x: np.ndarray, keep: float, scale: float, pseudocount: float) -> np.ndarray:
    """``E[log2(K / scale + pseudocount)]``, ``K ~ Binomial(x, keep)``, for each count ``x``."""
    shift = pseudocount * scale  # log2(K / scale + c) = log2(K + c scale) - log2(scale)
    out = np.empty(x.shape, dtype=float)
    small = x <= _EXACT_READS
    values, where = np.unique(x[small].astype(np.int64), return_inverse=True)
    if values.size:
        k = np.arange(values.max() + 1)
        pmf = st.binom.pmf(k[None, :], values[:, None], keep)
        out[small] = (pmf @ np.log2(k + shift))[where]
    big = ~small
    mean = keep * x[big]
    var = keep * (1.0 - keep) * x[big]
    out[big] = np.log2(mean + shift) - var / (2.0 * np.log(2.0) * (mean + shift) ** 2)
    return out - np.log2(scale)


def depth_matched_log2(
    counts: pd.DataFrame,
    factors: pd.Series,
    *,
    target: float | None = None,
    pseudocount: float = 0.5,
) -> pd.DataFrame:
    """Log2 normalised abundance of every sample as if sequenced at the ``target`` depth.

    Parameters
    ----------
    counts : pandas.DataFrame
        Raw reads, guides x samples (whole numbers >= 0).
    factors : pandas.Series
        Size factor of each sample (:func:`size_factors`).
    target : float, optional
        Size factor of the depth to match (default: the smallest of ``factors``). Samples at
        or below it keep ``log2(x / factor + pseudocount)``.
    pseudocount : float
        Normalised reads added before the log.

    Returns
    -------
    pandas.DataFrame
        Same shape as ``counts``: ``E[log2(K / target + pseudocount)]`` with ``K`` the
        sample's reads thinned binomially to ``target / factor`` of their number.

    Examples
    --------
    >>> counts = pd.DataFrame({"deep": [0, 3, 300], "shallow": [0, 1, 100]})
    >>> y = depth_matched_log2(counts, pd.Series({"deep": 3.0, "shallow": 1.0}))
    >>> [round(v, 3) for v in y["deep"]]
    [-1.0, 0.324, 6.646]
    """
    target = float(factors.min()) if target is None else float(target)
    out = {}
    for name in counts.columns:
        x = counts[name].to_numpy(dtype=float)
        s = float(factors[name])
        keep = target / s
        if keep >= 1.0 - 1e-9:
            out[name] = np.log2(x / s + pseudocount)
        else:
            out[name] = _thinned_log2(x, keep, target, pseudocount)
    return pd.DataFrame(out, index=counts.index)
