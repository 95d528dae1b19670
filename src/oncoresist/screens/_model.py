"""The replicate model of a drug screen: per-replicate contrasts, calibrated guide scores.

Each sgRNA's log2 normalised abundance ``y`` (median-ratio size factors, pseudocount 0.5
reads) enters one linear contrast per replicate (infection) built from the sample sheet
(:func:`build_contrast`):

* **drug vs vehicle**, replicates paired by label (else each drug replicate against the
  vehicle mean); with a T0 and a growth ratio ``g`` the drug arm is compared with the
  abundance it would have had with no drug-specific effect, ``T0 + g (vehicle - T0)``:
  the drug slows growth, so essential genes deplete less under drug and would otherwise look
  like resistance genes. ``g`` comes from the sheet's population doublings, or from the
  depletion of core-essential relative to non-essential genes in each arm
  (:func:`growth_ratio`);
* **drug vs T0**;
* **several days**: the per-day contrasts combined as a least-squares slope through day 0,
  reported as the log2 fold change at the last day.

:func:`guide_statistics` standardises each replicate's contrast by its robust centre and
scale (median, MAD) within bins of guide abundance -- the abundance being the lower of the
control arm's and T0's, because a guide poorly represented in the library is noisy whatever
its later counts -- so that the drug arm's own bottleneck noise sets the scale. Replicates
are combined by a moderated t statistic (the between-replicate variance shrunk towards a
fitted prior, Smyth 2004), recalibrated on the same bins, and turned into a guide z-score.

At the gene level (:func:`sumz_test`) the guides' z-scores are summed (drugZ's sumZ, Colic
et al. 2019) and the p-value of the sum is exact under the null that a gene's guides are a
random draw from the library's guides: the distribution of a sum of ``n`` draws from the
empirical z distribution, by FFT convolution on a fine lattice, so heavy tails from jackpot
guides are in the null rather than in the hit list.

References
----------
Smyth GK. Linear models and empirical Bayes methods for assessing differential expression in
microarray experiments. Stat Appl Genet Mol Biol 2004 (PMID 16646809).
Colic M et al. Identifying chemogenetic interactions from CRISPR screens with drugZ.
Genome Med 2019 (PMID 31439014).
Hart T et al. Evaluation and design of genome-wide CRISPR/SpCas9 knockout screens.
G3 2017 (PMID 28655737) -- the core-essential / non-essential reference genes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, signal, special
from scipy import stats as st

from oncoresist.errors import InputError
from oncoresist.screens._normalise import Norm, depth_matched_log2, size_factors

PSEUDOCOUNT = 0.5  # reads added to normalised counts before the log
MIN_BIN = 200  # guides per abundance bin, at least


@dataclass(frozen=True)
class Contrast:
    """Per-replicate linear contrasts of log abundances.

    Attributes
    ----------
    weights : pandas.DataFrame
        Index: replicate label; columns: samples; the weight of each sample's log2 abundance.
    control : list of str
        Samples whose mean log abundance is a guide's abundance (with T0's, the lower).
    t0 : list of str
        T0 samples of the sheet (may be empty).
    growth : dict of float to float
        Growth ratio used at each drug day (1 when uncorrected).
    label : str
        The comparison in words.
    """

    weights: pd.DataFrame
    control: list[str]
    t0: list[str]
    growth: dict[float, float] = field(default_factory=dict)
    label: str = ""


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values."""
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty_like(q)
    out[order] = np.minimum(q, 1.0)
    return out


def log_abundance(
    counts: pd.DataFrame,
    samples: list[str],
    *,
    norm: Norm = "median",
    controls: Sequence[str] | None = None,
    depth: Literal["match", "none"] = "match",
    compared: Sequence[str] | None = None,
) -> pd.DataFrame:
    """log2(count / size factor + 0.5) for ``samples`` (guides x samples).

    Size factors by :func:`~oncoresist.screens.size_factors` (``norm``; ``controls``: the
    control sgRNAs for ``norm="control"``). With ``depth="match"`` (default) each sample is
    put at the depth of the shallowest of ``compared`` (default: all ``samples``) by
    :func:`~oncoresist.screens._normalise.depth_matched_log2`, so that unequal sequencing
    depth between the samples compared does not shift low-abundance guides.
    """
    x = counts[samples].astype(float)
    factors = size_factors(x, method=norm, controls=controls)
    if depth == "none":
        return np.log2(x / factors + PSEUDOCOUNT)
    if depth != "match":
        raise InputError(f"{depth!r}; expected match or none", field="depth")
    ref = [s for s in (compared or samples) if s in factors.index] or samples
    return depth_matched_log2(x, factors, target=float(factors[ref].min()),
                              pseudocount=PSEUDOCOUNT)  # fmt: skip


def growth_ratio(
    y: pd.DataFrame,
    genes: pd.Series,
    *,
    drug: list[str],
    vehicle: list[str],
    t0: list[str],
    essential: Collection[str],
    nonessential: Collection[str],
) -> float:
    """Drug-arm over vehicle-arm depletion of essential genes (1 = same growth).

    ``(med_E(drug - T0) - med_N(drug - T0)) / (med_E(vehicle - T0) - med_N(vehicle - T0))``
    over the guides of core-essential (E) and non-essential (N) genes, pooling replicates.
    Returns 1 when the vehicle arm shows no essential-gene depletion (< 0.1 log2 units).
    """
    is_e = genes.isin(set(essential)).to_numpy()
    is_n = genes.isin(set(nonessential)).to_numpy()
    if is_e.sum() < 20 or is_n.sum() < 20:
        raise InputError(f"only {int(is_e.sum())} essential and {int(is_n.sum())} non-essential "
                         "guides in the table; need 20 of each (check the gene symbols)",
                         field="essential")  # fmt: skip
    base = y[t0].mean(axis=1).to_numpy()

    def depletion(cols: list[str]) -> float:
        f = y[cols].to_numpy() - base[:, None]
        return float(np.median(f[is_e]) - np.median(f[is_n]))

    den = depletion(vehicle)
    if den > -0.1:
        return 1.0
    return float(np.clip(depletion(drug) / den, 0.0, 2.0))


def _arm(sheet: pd.DataFrame, condition: str, day: float | None) -> pd.DataFrame:
    arm = sheet[sheet["condition"] == condition]
    if day is not None and not np.isnan(day):
        arm = arm[arm["day"] == day]
    return arm


def build_contrast(
    sheet: pd.DataFrame,
    *,
    control: str = "vehicle",
    day: float | None = None,
    growth: dict[float, float] | None = None,
) -> Contrast:
    """Per-replicate contrasts of the drug arm against ``control`` (``vehicle`` or ``T0``).

    Parameters
    ----------
    sheet : pandas.DataFrame
        From :func:`~oncoresist.screens.read_sample_sheet` or ``sheet_from_samples``.
    control : {"vehicle", "T0"}
        The comparison arm.
    day : float, optional
        Use the drug (and vehicle) samples of this day only; by default every drug day, as a
        slope when there are several.
    growth : dict of float to float, optional
        Growth ratio per drug day (vehicle comparisons with a T0 only); see
        :func:`growth_ratio`. Days not listed use the sheet's doublings, else 1.
    """
    if control not in ("vehicle", "T0"):
        raise InputError(f"{control!r}; expected vehicle or T0", field="control")
    drug = _arm(sheet, "drug", day)
    if drug.empty:
        where = "" if day is None else f" on day {day:g}"
        raise InputError(f"no drug samples in the sheet{where}", field="condition")
    t0 = sheet.loc[sheet["condition"] == "T0", "sample"].tolist()
    if control == "T0" and not t0:
        raise InputError("a drug-vs-T0 comparison needs T0 samples in the sheet",
                         field="condition")  # fmt: skip
    days = sorted(drug["day"].dropna().unique())
    if len(days) > 1 and drug["day"].isna().any():
        raise InputError("some drug samples have a day and some do not", field="day")
    days_or_none: list[float | None] = list(days) if len(days) > 1 else [None]
    samples = sheet["sample"].tolist()
    per_day: dict[float | None, dict[str, np.ndarray]] = {}
    used_growth: dict[float, float] = {}
    controls: list[str] = []
    for d in days_or_none:
        arm = drug if d is None else drug[drug["day"] == d]
        ref = _arm(sheet, control, d if d is not None else day)
        if control == "vehicle" and ref.empty:
            raise InputError(f"no vehicle samples{'' if d is None else f' on day {d:g}'} to "
                             "compare the drug arm with", field="condition")  # fmt: skip
        g = _growth_for(sheet, arm, ref, d, growth) if control == "vehicle" and t0 else 1.0
        used_growth[float(d) if d is not None else float("nan")] = g
        controls += ref["sample"].tolist()
        rows = {}
        for rep, grp in arm.groupby("replicate", sort=False):
            if len(grp) > 1:
                raise InputError(f"{len(grp)} drug samples share replicate {rep!r} on one "
                                 "day; give each its own label", field="replicate")  # fmt: skip
            w = np.zeros(len(samples))
            w[samples.index(grp["sample"].iloc[0])] = 1.0
            mate = ref[ref["replicate"] == rep] if control == "vehicle" else ref
            mate = mate if not mate.empty else ref
            for s in mate["sample"]:
                w[samples.index(s)] -= g / len(mate)
            if g != 1.0:
                for s in t0:
                    w[samples.index(s)] -= (1.0 - g) / len(t0)
            rows[str(rep)] = w
        per_day[d] = rows
    if days_or_none == [None]:
        weights = per_day[None]
    else:  # least-squares slope through day 0, as the log2 fold change at the last day
        weights = {}
        reps = sorted({r for rows in per_day.values() for r in rows})
        for rep in reps:
            have = [(d, rows[rep]) for d, rows in per_day.items() if rep in rows]
            tt = np.array([d for d, _ in have], dtype=float)
            slope = sum(t * w for t, (_, w) in zip(tt, have, strict=True)) / np.sum(tt**2)
            weights[rep] = slope * max(days)
    frame = pd.DataFrame(weights, index=samples).T
    frame = frame.loc[:, (frame != 0).any(axis=0)]
    what = "T0" if control == "T0" else "vehicle"
    when = "" if len(days) <= 1 else f", slope over days {', '.join(f'{d:g}' for d in days)}"
    return Contrast(weights=frame, control=list(dict.fromkeys(controls)) or t0, t0=t0,
                    growth=used_growth, label=f"drug vs {what}{when}")  # fmt: skip


def _growth_for(sheet, arm, ref, day, growth) -> float:
    key = float(day) if day is not None else float("nan")
    if growth:
        if day is None and len(growth) == 1:
            return float(next(iter(growth.values())))
        if key in growth:
            return float(growth[key])
    dd, dv = arm["doublings"].mean(), ref["doublings"].mean()
    if np.isfinite(dd) and np.isfinite(dv):
        return float(dd / dv)
    return 1.0


def _binned(stat: np.ndarray, abundance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Robust centre (median) and scale (1.4826 MAD) of ``stat`` along ``abundance``."""
    n = stat.size
    nbins = int(np.clip(n // MIN_BIN, 1, 32))
    order = np.argsort(abundance, kind="stable")
    edges = np.linspace(0, n, nbins + 1).astype(int)
    mid, centre, scale = (np.empty(nbins) for _ in range(3))
    for i in range(nbins):
        idx = order[edges[i] : edges[i + 1]]
        s = stat[idx]
        mid[i] = np.median(abundance[idx])
        centre[i] = np.median(s)
        scale[i] = 1.4826 * np.median(np.abs(s - centre[i]))
    floor = max(float(np.median(scale)) * 1e-3, 1e-9)
    scale = np.maximum(scale, floor)
    if nbins == 1:
        return np.full(n, centre[0]), np.full(n, scale[0])
    return np.interp(abundance, mid, centre), np.interp(abundance, mid, scale)


def prior_variance(s2: np.ndarray, df: float) -> tuple[float, float]:
    """Prior degrees of freedom and variance of ``s2`` (each on ``df``): Smyth's moments fit.

    Returns ``(d0, s0^2)``; ``d0`` is ``inf`` when the variances are no more spread than
    sampling alone explains.
    """
    s2 = s2[s2 > 1e-12]
    z = np.log(s2)
    e = z - special.digamma(df / 2) + np.log(df / 2)
    mean = e.mean()
    spread = e.var(ddof=1) - special.polygamma(1, df / 2)
    if spread <= 0:
        return float("inf"), float(np.exp(mean))
    half = optimize.brentq(lambda x: special.polygamma(1, x) - spread, 1e-8, 1e8)
    return 2 * half, float(np.exp(mean + special.digamma(half) - np.log(half)))


def guide_statistics(
    counts: pd.DataFrame,
    contrast: Contrast,
    *,
    norm: Norm = "median",
    controls: Sequence[str] | None = None,
    depth: Literal["match", "none"] = "match",
) -> pd.DataFrame:
    """Calibrated score of every sgRNA for a contrast (normalised as in :func:`log_abundance`).

    The samples the contrast compares (drug and control arm; T0 only when it is the control
    arm) are matched to the depth of the shallowest of them (``depth="match"``).

    Returns
    -------
    pandas.DataFrame
        Index ``sgRNA``: ``gene``, ``abundance`` (log2 normalised reads: the lower of the
        control and T0 means), ``lfc`` (mean over replicates of the contrast, log2),
        ``lfc|<replicate>`` per replicate, ``z`` (calibrated guide z-score, positive =
        enriched under drug), ``p_high``, ``p_low`` (one-sided guide p-values),
        ``fdr_high``, ``fdr_low`` (their Benjamini-Hochberg FDRs over guides); ``attrs``
        hold ``prior_df`` and ``prior_var`` of the replicate-variance prior.
    """
    samples = list(dict.fromkeys([*contrast.weights.columns, *contrast.control, *contrast.t0]))
    compared = [c for c in contrast.weights.columns
                if c not in contrast.t0 or c in contrast.control]  # fmt: skip
    y = log_abundance(counts, samples, norm=norm, controls=controls, depth=depth,
                      compared=compared)  # fmt: skip
    # Against vehicle, the mean over drug and vehicle samples, not the vehicle arm alone:
    # binning on one side of a difference biases it (regression to the mean), most for the
    # guides that both arms deplete (essential genes) and most when that side is the shallower
    # sample. Against T0 the effects move most guides of a bin (essential genes deplete), so
    # binning on their mean would centre them away: T0 alone is the abundance there.
    # The mean is made uncorrelated with every replicate's contrast (its weights projected off
    # the contrasts' span), so that with a growth ratio the abundance carries no drug effect.
    w = contrast.weights.reindex(columns=samples, fill_value=0.0).to_numpy()
    against_t0 = bool(contrast.t0) and set(contrast.control) <= set(contrast.t0)
    mean_of = contrast.control if against_t0 else compared
    a = np.array([1.0 / len(mean_of) if c in mean_of else 0.0 for c in samples])
    if not against_t0:
        a = a - w.T @ np.linalg.lstsq(w @ w.T, w @ a, rcond=None)[0]
        a = a / a.sum()
    abundance = y.to_numpy() @ a
    if contrast.t0:
        abundance = np.minimum(abundance, y[contrast.t0].mean(axis=1).to_numpy())
    d = y.to_numpy() @ w.T  # guides x replicates
    zr = np.empty_like(d)
    for j in range(d.shape[1]):
        centre, scale = _binned(d[:, j], abundance)
        zr[:, j] = (d[:, j] - centre) / scale
    reps = d.shape[1]
    d0, s0 = float("nan"), float("nan")
    if reps == 1:
        z = zr[:, 0]
    else:
        s2 = zr.var(axis=1, ddof=1)
        d0, s0 = prior_variance(s2, reps - 1)
        post = np.full_like(s2, s0) if np.isinf(d0) else (d0 * s0 + (reps - 1) * s2) / (
            d0 + reps - 1)  # fmt: skip
        t = zr.mean(axis=1) / np.sqrt(post / reps)
        df = (reps - 1) + (d0 if np.isfinite(d0) else 1e6)
        centre, scale = _binned(t, abundance)
        t = (t - centre) / scale * (st.t.ppf(0.75, df) / st.norm.ppf(0.75))
        z = np.clip(st.norm.isf(np.clip(st.t.sf(t, df), 1e-300, 1.0)), -37.0, 37.0)
    out = pd.DataFrame(
        {"gene": counts["gene"], "abundance": abundance, "lfc": d.mean(axis=1)},
        index=counts.index,
    )
    for j, rep in enumerate(contrast.weights.index):
        out[f"lfc|{rep}"] = d[:, j]
    out["z"] = z
    out["p_high"] = st.norm.sf(z)
    out["p_low"] = st.norm.cdf(z)
    out["fdr_high"] = _bh(out["p_high"].to_numpy())
    out["fdr_low"] = _bh(out["p_low"].to_numpy())
    out.attrs.update(prior_df=d0, prior_var=s0)
    return out


def _silverman(x: np.ndarray) -> float:
    """Silverman's rule-of-thumb bandwidth of a Gaussian kernel density estimate."""
    iqr = np.subtract(*np.quantile(x, [0.75, 0.25]))
    spread = min(float(np.std(x)), float(iqr) / 1.349) or float(np.std(x)) or 1.0
    return 0.9 * spread * x.size ** (-0.2)


def sumz_test(
    z: np.ndarray,
    genes: np.ndarray,
    *,
    null: np.ndarray | None = None,
    trim_fdr: float | None = 0.05,
    lattice: int = 4096,
) -> pd.DataFrame:
    """Gene sums of guide z-scores and their exact empirical-null p-values.

    Parameters
    ----------
    z : numpy.ndarray
        Guide z-scores.
    genes : numpy.ndarray
        Gene of each guide.
    null : numpy.ndarray of bool, optional
        Guides that make the null distribution (e.g. those of non-essential or
        non-targeting controls); by default every guide, less those of genes called at
        ``trim_fdr`` in a first pass (so that strong hits do not widen the null).
    trim_fdr : float or None
        FDR of the first pass whose genes leave the null; ``None`` for one pass.
    lattice : int
        Points of the lattice the z distribution is put on (its spacing is the z range over
        ``lattice - 1``; the sum's error is at most ``n`` half-spacings).

    Returns
    -------
    pandas.DataFrame
        Index ``gene``: ``num``, ``sumZ`` (sum over guides / sqrt(num)), ``normZ`` (sumZ
        robustly standardised across genes), ``p_high``, ``p_low`` (P that a random set of
        ``num`` null guides sums at least / at most as high, the null being the kernel
        density estimate of the null guides' z-scores (Silverman bandwidth); floor 1e-16).
    """
    codes, names = pd.factorize(pd.Series(genes, dtype=str))
    sizes = np.bincount(codes)
    total = np.bincount(codes, weights=z)
    if null is None:
        null = np.ones(z.size, dtype=bool)
        if trim_fdr is not None:
            first = sumz_test(z, genes, null=null, trim_fdr=None, lattice=lattice)
            q = np.minimum(_bh(first["p_high"].to_numpy()), _bh(first["p_low"].to_numpy()))
            null = ~np.isin(codes, np.flatnonzero(q < trim_fdr))
    if null.sum() < 20:
        raise InputError(f"only {int(null.sum())} guides for the null distribution; need 20",
                         field="null")  # fmt: skip
    lo, hi = float(z.min()), float(z.max())
    step = max((hi - lo) / (lattice - 1), 1e-12)
    grid = np.rint((z[null] - lo) / step).astype(int)
    pmf = np.bincount(grid, minlength=lattice) / grid.size
    bandwidth = _silverman(z[null])
    high = np.ones(names.size)
    low = np.ones(names.size)
    for n in np.unique(sizes):
        which = np.flatnonzero(sizes == n)
        m = int(n) * (lattice - 1) + 1
        size = 1 << int(np.ceil(np.log2(m)))
        dist = np.fft.irfft(np.fft.rfft(pmf, size) ** int(n), size)[:m]
        # the sum of n draws from the kernel-smoothed null: add N(0, n h^2), so that sums
        # beyond the n largest null guides get a Gaussian tail instead of p = 0
        sd = np.sqrt(n) * bandwidth / step
        pad = int(np.ceil(9 * sd))
        kernel = np.exp(-0.5 * (np.arange(-pad, pad + 1) / max(sd, 1e-9)) ** 2)
        dist = np.clip(signal.fftconvolve(np.clip(dist, 0.0, None), kernel / kernel.sum()), 0, None)
        dist /= dist.sum()
        upper = np.cumsum(dist[::-1])[::-1]
        lower = np.cumsum(dist)
        k = np.rint((total[which] - n * lo) / step).astype(int) + pad
        k = np.clip(k, 0, dist.size - 1)
        high[which] = upper[k]
        low[which] = lower[k]
    sumz = total / np.sqrt(sizes)
    mad = 1.4826 * np.median(np.abs(sumz - np.median(sumz)))
    return pd.DataFrame(
        {"num": sizes, "sumZ": sumz, "normZ": (sumz - np.median(sumz)) / max(mad, 1e-12),
         "p_high": np.clip(high, 1e-16, 1.0), "p_low": np.clip(low, 1e-16, 1.0)},
        index=pd.Index(names, name="gene"),
    )  # fmt: skip
