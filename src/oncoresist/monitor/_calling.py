"""Per-draw calling of tracked variants in ctDNA against a beta-binomial background.

For each observation (one sample and variant):

* **Unit**: reads or unique molecules (:func:`count_unit`): the panel's unit, else molecules
  when every row gives them; reads are never compared with a molecule-counted panel.
* **p-value**: ``P(X >= alt count)`` for ``X ~ BetaBinomial(depth, alpha, beta)`` of the
  site's background (:class:`~oncoresist.monitor._background.BackgroundModel`), averaged
  over the panel's uncertainty on the site's mean error.
* **False-positive control**: Bonferroni within each draw (``sample_id``) at level ``fpr``
  (default; ``correction="bh"`` or ``"none"`` are the alternatives): the chance that a
  variant-free draw carries any false call is at most ``fpr``, and unlike
  Benjamini-Hochberg the threshold does not loosen with every true call in the draw.
  Resistance alerts do not come from these calls but from the series-level test
  (:mod:`oncoresist.monitor._series`), whose budget is per patient.
* **Posterior** that the variant is present: Bayes factor of "variant at VAF ``f``" against
  the background, with prior probability ``prior_present`` (0.5) that the tracked variant
  is present and, if present, ``f`` log-uniform on [1e-4, 0.5] (25-point grid). Under the
  alternative the alt count is ``Binomial(depth, f + e (1 - f))`` with ``e`` the site's
  mean error.
* **Limit of detection** of the draw at the site: the VAF detected with probability 0.95
  at the per-test threshold a new call would need in that draw (Bonferroni: ``fpr / m``;
  BH: ``(R + 1) fpr / m`` with ``R`` calls already made), by the model of
  :mod:`oncoresist.monitor._lod`.
* **Input**: ``input_ge = cfdna_ng * ge_per_ng`` when the cfDNA mass is known; else
  ``unique_molecules / recovery``; else unknown (``NaN``), and the LoD takes the depth as
  the molecules counted (optimistic: ``input_source = "depth"``).
* **State**: ``detected`` when the adjusted p-value is at most ``fpr``; otherwise
  ``not_assessable`` when the depth is below ``min_depth`` (100), the known input below
  ``min_input_ge`` (0 GE) or the draw's LoD above ``assessable_vaf`` (5 % VAF: the draw
  could not have seen even a 5 % allele with 95 % probability); otherwise
  ``not_detected``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.special import expit

from oncoresist.errors import InputError
from oncoresist.monitor._background import (
    BackgroundModel,
    _lgamma_diff,
    critical_counts,
    marginal_sf,
    rate_nodes,
)
from oncoresist.monitor._lod import GE_PER_NG, lod_from_critical

#: VAF grid of the posterior's alternative: log-uniform on [1e-4, 0.5].
VAF_GRID = np.exp(np.linspace(np.log(1e-4), np.log(0.5), 25))
CORRECTIONS = ("bh", "bonferroni", "none")
STATES = ("detected", "not_detected", "not_assessable")


# ------------------------------------------------------------------------ inputs
def _whole(obs: pd.DataFrame, col: str, *, nullable: bool = False) -> np.ndarray:
    """A column as float, checked to be non-negative (whole numbers for counts)."""
    try:
        vals = pd.to_numeric(obs[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:  # pragma: no cover - exotic dtypes
        raise InputError("not numeric", field=col) from exc
    bad = vals < 0
    if not nullable:
        bad |= np.isnan(vals)
    else:
        raw_na = obs[col].isna().to_numpy()
        bad |= np.isnan(vals) & ~raw_na
    if col != "cfdna_ng":
        with np.errstate(invalid="ignore"):
            bad |= ~np.isnan(vals) & (vals != np.floor(vals))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        what = "a non-negative number" if col == "cfdna_ng" else "a non-negative whole number"
        raise InputError(
            f"{obs[col].iloc[i]!r} is not {what}", record=f"row {obs.index[i]}", field=col
        )
    return vals


#: Count columns of each unit: (alternate allele, depth).
UNIT_COLUMNS = {"reads": ("alt_reads", "depth"), "molecules": ("alt_molecules", "unique_molecules")}
UNITS = ("auto", "reads", "molecules")


def _has_molecules(obs: pd.DataFrame) -> bool:
    """Whether every row gives both molecule counts (alternate allele and depth)."""
    cols = UNIT_COLUMNS["molecules"]
    return all(c in obs.columns for c in cols) and not obs[list(cols)].isna().to_numpy().any()


def count_unit(obs: pd.DataFrame, background: BackgroundModel | None, unit: str = "auto") -> str:
    """The unit the calls count in: ``"molecules"`` or ``"reads"``.

    ``unit="auto"``: the panel's unit when a panel was fitted (the series must give counts
    in it), else molecules when every row gives ``alt_molecules`` and ``unique_molecules``,
    else reads. Reads and molecules are never compared with each other: a series whose
    counts do not exist in the panel's unit is refused, naming the columns.

    Raises
    ------
    InputError
        The series lacks the counts of the unit asked for or of the panel's unit.
    """
    if unit not in UNITS:
        raise InputError(f"must be one of {', '.join(UNITS)}", field="unit")
    panel = getattr(background, "unit_", None) if background is not None else None
    if unit == "auto":
        unit = panel or ("molecules" if _has_molecules(obs) else "reads")
    if panel is not None and unit != panel:
        alt, depth = UNIT_COLUMNS[panel]
        raise InputError(
            f"the panel of normals counts {panel} ({alt}, {depth}) but the calls were asked "
            f"in {unit}; reads and molecules are not comparable (PCR duplicates are not "
            "independent evidence): give a panel and a series in the same unit",
            field="unit",
        )
    alt, depth = UNIT_COLUMNS[unit]
    missing = [c for c in (alt, depth) if c not in obs.columns]
    if unit == "reads" and missing:
        raise InputError("missing column in the observations", field=missing[0])
    if unit == "molecules" and not _has_molecules(obs):
        theirs = "" if panel is None else " as the panel of normals does"
        raise InputError(
            f"the calls need unique-molecule counts{theirs} ({alt} and {depth} on every "
            "row, e.g. unique_alt_molecules and unique_molecules), but the serial table "
            "gives only reads (alt_reads, depth); reads with PCR duplicates are not "
            "independent evidence against a molecule-counted panel: give the molecule "
            "columns, or a panel counted in reads",
            field=alt,
        )
    return unit


def _validate(
    obs: pd.DataFrame,
    required: tuple[str, ...],
    background: BackgroundModel | None = None,
    unit: str = "auto",
) -> tuple[np.ndarray, np.ndarray, str]:
    """Check the observations; the alt counts, depths and unit the calls use."""
    if not isinstance(obs, pd.DataFrame):
        raise InputError("expected a pandas DataFrame of observations", field="obs")
    for col in required:
        if col not in obs.columns:
            raise InputError("missing column in the observations", field=col)
    if "site" not in obs.columns and "alteration" not in obs.columns:
        raise InputError("observations need a 'site' or an 'alteration' column", field="site")
    unit = count_unit(obs, background, unit)
    alt, depth = UNIT_COLUMNS[unit]
    k = _whole(obs, alt)
    n = _whole(obs, depth)
    over = k > n
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise InputError(
            f"{alt} {int(k[i])} exceeds {depth} {int(n[i])}",
            record=f"row {obs.index[i]}",
            field=alt,
        )
    for col in ("unique_molecules", "cfdna_ng"):
        if col in obs.columns and col != depth:
            _whole(obs, col, nullable=True)
    return k, n, unit


def _site_labels(obs: pd.DataFrame) -> pd.Series:
    """Site label per row: ``site``, else ``alteration``, else ``CHROM:POS:REF>ALT``."""
    if "site" in obs.columns:
        return obs["site"].astype(object)
    return obs["alteration"].astype(object)


def _backgrounds(
    obs: pd.DataFrame, background: BackgroundModel | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Site codes per row and the (alpha, beta) per distinct site."""
    bg = background if background is not None else BackgroundModel()
    labels = _site_labels(obs)
    ctx = obs["context"] if "context" in obs.columns else None
    if ctx is None:
        codes, uniq = pd.factorize(labels, use_na_sentinel=False)
        a, b, _ = bg.lookup(list(uniq))
        return codes.astype(np.int64), a, b
    pair = pd.MultiIndex.from_arrays([labels, ctx.astype(object)])
    codes, uniq = pd.factorize(pair, use_na_sentinel=False)
    sites = [u[0] for u in uniq]
    ctxs = [u[1] for u in uniq]
    # the panel label first; a site outside the panel falls back to its context
    a, b, _ = bg.lookup(sites, ctxs)
    return codes.astype(np.int64), a, b


def _coordinate_fallback(
    obs: pd.DataFrame,
    codes: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    background: BackgroundModel | None,
) -> None:
    """Sites missing from the panel by label: try ``CHROM:POS:REF>ALT`` (in place)."""
    if background is None or not len(background.params_):
        return
    if "site" in obs.columns or not {"chrom", "pos", "ref", "alt"} <= set(obs.columns):
        return
    labels = _site_labels(obs).to_numpy(object)
    first = np.full(len(a), -1, dtype=np.int64)
    order = np.arange(len(codes))[::-1]
    first[codes[order]] = order
    known = background.params_.index
    rows = first[first >= 0]
    miss = ~pd.Index(labels[rows]).isin(known)
    if not miss.any():
        return
    sub = obs.iloc[rows[miss]]
    coord = (
        sub["chrom"].astype(str)
        + ":"
        + sub["pos"].astype(str)
        + ":"
        + sub["ref"].astype(str)
        + ">"
        + sub["alt"].astype(str)
    )
    hit = coord.isin(known).to_numpy()
    if hit.any():
        ca, cb, _ = background.lookup(list(coord[hit]))
        idx = np.flatnonzero(first >= 0)[miss][hit]
        a[idx], b[idx] = ca, cb


def site_rate_nodes(
    obs: pd.DataFrame, codes: np.ndarray, sites: int, background: BackgroundModel | None
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes over each site's uncertain mean error, one row per site code.

    The panel pins a site's mean error only to about ``1 / sqrt(A)`` with ``A`` error
    counts (:meth:`BackgroundModel.error_evidence`); every tail is averaged over that
    uncertainty, so a site with few panel molecules is not treated as exactly known.
    """
    first = np.zeros(sites, dtype=np.int64)
    first[codes[::-1]] = np.arange(codes.size)[::-1]
    bg = background if background is not None else BackgroundModel()
    return rate_nodes(bg.error_evidence(_site_labels(obs).iloc[first]))


class Prepared(NamedTuple):
    """Observations ready for calling: counts, unit, and each site's background."""

    k: np.ndarray  # alt counts (float)
    n: np.ndarray  # depths (float)
    unit: str  # "reads" or "molecules"
    codes: np.ndarray  # site code per row
    a: np.ndarray  # beta shapes per site code
    b: np.ndarray
    mult: np.ndarray  # nodes over each site's uncertain mean error (rate_nodes)
    weight: np.ndarray


def prepare(
    obs: pd.DataFrame,
    required: tuple[str, ...],
    background: BackgroundModel | None,
    unit: str = "auto",
) -> Prepared:
    """Validate ``obs`` and look up every site's background, as each caller needs them."""
    k, n, unit = _validate(obs, required, background, unit)
    codes, a, b = _backgrounds(obs, background)
    _coordinate_fallback(obs, codes, a, b, background)
    mult, weight = site_rate_nodes(obs, codes, a.size, background)
    return Prepared(k, n, unit, codes, a, b, mult, weight)


def input_genome_equivalents(
    obs: pd.DataFrame, *, recovery: float = 0.5, ge_per_ng: float = GE_PER_NG
) -> tuple[np.ndarray, np.ndarray]:
    """Input genome equivalents per observation and where they came from.

    Parameters
    ----------
    obs : pandas.DataFrame
        Observations with optional ``cfdna_ng`` (ng) and ``unique_molecules`` columns.
    recovery : float
        Molecule recovery (0-1).
    ge_per_ng : float
        Haploid genome equivalents per ng of cfDNA (303).

    Returns
    -------
    tuple of numpy.ndarray
        ``(input_ge, input_source)``: GE (``NaN`` when unknown) and ``"cfdna_ng"``,
        ``"unique_molecules"`` or ``"depth"``.
    """
    size = len(obs)
    ge = np.full(size, np.nan)
    src = np.full(size, "depth", dtype=object)
    if "unique_molecules" in obs.columns:
        um = pd.to_numeric(obs["unique_molecules"]).to_numpy(dtype=float, na_value=np.nan)
        ok = ~np.isnan(um)
        ge[ok] = um[ok] / recovery
        src[ok] = "unique_molecules"
    if "cfdna_ng" in obs.columns:
        ng = pd.to_numeric(obs["cfdna_ng"]).to_numpy(dtype=float, na_value=np.nan)
        ok = ~np.isnan(ng)
        ge[ok] = ng[ok] * ge_per_ng
        src[ok] = "cfdna_ng"
    return ge, src


# ------------------------------------------------------------- multiple testing
def adjust_within_groups(
    p: np.ndarray, groups: np.ndarray, fpr: float, correction: str = "bh"
) -> tuple[np.ndarray, np.ndarray]:
    """Adjusted p-values within groups and each group's per-test threshold for a new call.

    Parameters
    ----------
    p : numpy.ndarray
        p-values.
    groups : numpy.ndarray of int
        Group code per p-value (0..G-1), e.g. one group per draw.
    fpr : float
        Level: a p-value is called when its adjusted value is at most ``fpr``.
    correction : {"bh", "bonferroni", "none"}
        Benjamini-Hochberg, Bonferroni, or none.

    Returns
    -------
    tuple of numpy.ndarray
        ``(q, threshold)``: adjusted p-values, and per element the unadjusted p-value a
        further test in its group would need (BH ``(R + 1) fpr / m`` capped at ``fpr``,
        Bonferroni ``fpr / m``, none ``fpr``).
    """
    if correction not in CORRECTIONS:
        raise InputError(f"must be one of {', '.join(CORRECTIONS)}", field="correction")
    p = np.asarray(p, dtype=float)
    if p.size == 0:
        return p.copy(), p.copy()
    m = np.bincount(groups)
    mg = m[groups].astype(float)
    if correction == "none":
        return p.copy(), np.full(p.size, fpr)
    if correction == "bonferroni":
        return np.minimum(p * mg, 1.0), fpr / mg
    order = np.lexsort((p, groups))
    g_sorted = groups[order]
    start = np.concatenate(([0], np.cumsum(m)[:-1]))
    rank = np.arange(p.size) - start[g_sorted] + 1
    adj = p[order] * m[g_sorted] / rank
    rev = pd.Series(adj[::-1]).groupby(g_sorted[::-1]).cummin().to_numpy()[::-1]
    q = np.empty(p.size)
    q[order] = np.minimum(rev, 1.0)
    calls = np.bincount(groups, weights=(q <= fpr).astype(float), minlength=m.size)
    thr = np.minimum((calls[groups] + 1.0) * fpr / mg, fpr)
    return q, thr


# ---------------------------------------------------------------------- posterior
def _log_bb_nc(k, n, a, b):
    """Beta-binomial log pmf without the binomial coefficient."""
    return _lgamma_diff(a, k) + _lgamma_diff(b, n - k) - _lgamma_diff(a + b, n)


def posterior_present(k, n, a, b, *, prior_present: float = 0.5, chunk: int = 200_000):
    """Posterior probability that a variant is present given its alt count, vectorised.

    Parameters
    ----------
    k, n : array_like of int
        Alt count and depth.
    a, b : array_like of float
        Background beta shapes.
    prior_present : float
        Prior probability that the variant is present (0.5).
    chunk : int
        Rows per block (memory).

    Returns
    -------
    numpy.ndarray
        ``P(present | k)``, the VAF log-uniform on [1e-4, 0.5] when present.
    """
    k, n, a, b = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (k, n, a, b)))
    shape = k.shape
    k, n, a, b = (x.ravel() for x in (k, n, a, b))
    out = np.empty(k.size)
    logprior = np.log(prior_present) - np.log1p(-prior_present)
    for s in range(0, k.size, chunk):
        kk, nn, aa, bb = k[s : s + chunk], n[s : s + chunk], a[s : s + chunk], b[s : s + chunk]
        e = aa / (aa + bb)
        pg = VAF_GRID[None, :] + e[:, None] * (1.0 - VAF_GRID[None, :])
        l1 = kk[:, None] * np.log(pg) + (nn - kk)[:, None] * np.log1p(-pg)
        top = l1.max(axis=1)
        l1 = top + np.log(np.mean(np.exp(l1 - top[:, None]), axis=1))
        l0 = _log_bb_nc(kk, nn, aa, bb)
        out[s : s + chunk] = expit(logprior + l1 - l0)
    return out.reshape(shape)


# ------------------------------------------------------------------------ calling
def call_draws(
    obs: pd.DataFrame,
    background: BackgroundModel | None = None,
    *,
    fpr: float = 0.05,
    correction: str = "bonferroni",
    unit: str = "auto",
    recovery: float = 0.5,
    ge_per_ng: float = GE_PER_NG,
    min_input_ge: float = 0.0,
    min_depth: int = 100,
    assessable_vaf: float = 0.05,
    power: float = 0.95,
    prior_present: float = 0.5,
) -> pd.DataFrame:
    """Call each tracked variant in each draw against the site's background.

    Parameters
    ----------
    obs : pandas.DataFrame
        Tidy observations (``docs/monitor_design.md``): ``sample_id, alt_reads, depth``,
        ``site`` or ``alteration``; optional ``unique_molecules``, ``cfdna_ng`` (ng),
        ``context``, ``chrom, pos, ref, alt``.
    background : BackgroundModel, optional
        Fitted background; ``None``: the documented default for every site.
    fpr : float
        Level of the within-draw correction (0.05): the chance that a
        variant-free draw carries any false call; with 50 sites about 1e-3 per site-draw.
    correction : {"bonferroni", "bh", "none"}
        Multiple-testing control across the sites of one draw (``sample_id``).
    unit : {"auto", "reads", "molecules"}
        Counting unit (:func:`count_unit`).
    recovery : float
        Fraction of input molecules that reach the library (0.5).
    ge_per_ng : float
        Haploid genome equivalents per ng cfDNA (303).
    min_input_ge : float
        Known inputs below this (GE) make an undetected draw ``not_assessable``.
    min_depth : int
        Depths below this make an undetected draw ``not_assessable``.
    assessable_vaf : float
        Undetected draws whose LoD exceeds this VAF are ``not_assessable`` (0.05).
    power : float
        Detection probability that defines the LoD (0.95).
    prior_present : float
        Prior probability of presence for the posterior (0.5).

    Returns
    -------
    pandas.DataFrame
        A copy of ``obs`` (same index and order) plus ``count_unit``, ``alt_count`` and
        ``depth_count`` (the counts called, in that unit), ``background_error`` (per base),
        ``p_value``, ``q_value`` (adjusted within the draw), ``threshold`` (per-test
        p-value a new call in the draw needs), ``critical_count``, ``posterior``,
        ``state``, ``lod_vaf``, ``input_ge`` (GE) and ``input_source``.

    Raises
    ------
    InputError
        A missing column, a negative or fractional count, or ``alt_reads > depth``; the
        error names the field and row.
    """
    if not 0 < fpr < 1:
        raise InputError("must lie in (0, 1)", field="fpr")
    if not 0 < recovery <= 1:
        raise InputError("must lie in (0, 1]", field="recovery")
    k, n, unit, codes, sa, sb, mult, weight = prepare(obs, ("sample_id",), background, unit)
    out = obs.copy()
    size = len(obs)
    ki, ni = k.astype(np.int64), n.astype(np.int64)

    # distinct (site, depth) pairs, then (pair, alt count) triples
    nmax = int(ni.max()) + 1 if size else 1
    pair_codes, pair_uniq = pd.factorize(codes * nmax + ni)
    pair_uniq = np.asarray(pair_uniq, dtype=np.int64)
    ps, pn = pair_uniq // nmax, (pair_uniq % nmax).astype(float)
    pa, pb = sa[ps], sb[ps]
    kmax = int(ki.max()) + 1 if size else 1
    tri_codes, tri_uniq = pd.factorize(pair_codes.astype(np.int64) * kmax + ki)
    tri_uniq = np.asarray(tri_uniq, dtype=np.int64)
    tp, tk = tri_uniq // kmax, (tri_uniq % kmax).astype(float)
    tsite = ps[tp]
    p_tri = marginal_sf(tk, pn[tp], pa[tp], pb[tp], mult[tsite], weight[tsite])
    post_tri = posterior_present(tk, pn[tp], pa[tp], pb[tp], prior_present=prior_present)
    p = p_tri[tri_codes]

    draw_codes, _ = pd.factorize(obs["sample_id"], use_na_sentinel=False)
    q, thr = adjust_within_groups(p, draw_codes.astype(np.int64), fpr, correction)

    # critical counts at each draw's threshold, on distinct (pair, threshold)
    lvl_codes, lvl_uniq = pd.factorize(thr)
    nl = len(lvl_uniq)
    cl_codes, cl_uniq = pd.factorize(pair_codes.astype(np.int64) * nl + lvl_codes)
    cl_uniq = np.asarray(cl_uniq, dtype=np.int64)
    cp, cv = cl_uniq // nl, np.asarray(lvl_uniq, dtype=float)[cl_uniq % nl]
    csite = ps[cp]
    crit = critical_counts(pn[cp], pa[cp], pb[cp], cv, mult[csite], weight[csite])[cl_codes]

    ge, src = input_genome_equivalents(obs, recovery=recovery, ge_per_ng=ge_per_ng)
    err = (sa / (sa + sb))[codes]
    lod = lod_from_critical(crit, ge, recovery, n, err, power)

    detected = q <= fpr
    low = (n < min_depth) | (lod > assessable_vaf)
    with np.errstate(invalid="ignore"):
        low |= ~np.isnan(ge) & (ge < min_input_ge)
    state = np.where(detected, "detected", np.where(low, "not_assessable", "not_detected"))

    out["count_unit"] = unit
    out["alt_count"] = ki
    out["depth_count"] = ni
    out["background_error"] = err
    out["p_value"] = p
    out["q_value"] = q
    out["threshold"] = thr
    out["critical_count"] = crit
    out["posterior"] = post_tri[tri_codes]
    out["state"] = pd.Categorical(state, categories=list(STATES))
    out["lod_vaf"] = lod
    out["input_ge"] = ge
    out["input_source"] = src
    return out
