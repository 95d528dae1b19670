"""Background error of ctDNA sequencing: a beta-binomial per site, fitted to normals.

At a site with background error the alt count of a variant-free sample of depth ``n`` is
``X ~ BetaBinomial(n, alpha, beta)`` (shearwater / deepSNV style): each sample has its own
error rate ``p ~ Beta(alpha, beta)``, mean ``mu = alpha / (alpha + beta)``, and the spread
``rho = 1 / (alpha + beta + 1)`` (the overdispersion) makes bursts of errors in some samples
more likely than a binomial would.

Which parameters a site gets, in order:

1. ``site``: maximum likelihood on the site's own normals (at least ``min_normals`` of
   them). The shape (overdispersion) of a site with fewer than ``min_alt_for_site_shape``
   alt reads in all (100) is barely identifiable from its own counts: in a simulated panel
   of 200 normals with about 20 error reads a site and a true shape of 2, the site fits
   ranged from 0.2 (tails far too heavy: calls lost) to 850 (tails too light: false calls).
   Such sites take the panel's shared shape instead, fitted by profile likelihood over all
   site fits with their own mean errors (empirical Bayes, as dispersion sharing in count
   models; 4 in that panel);
2. ``context``: the same fit on all normals of sites that share the substitution context;
3. ``default``: mean error :data:`DEFAULT_ERROR` (1e-4 per base) with shape
   :data:`DEFAULT_SHAPE` (alpha = 1: per-sample error rates exponentially distributed, a
   coefficient of variation of 1), i.e. alpha = 1, beta = 9999.

The mean error of a fit is floored at ``max(min_error, 0.5 / total depth)``: a clean panel
cannot show an error rate below what half an alt count in all its reads would be. When
the alt counts are too few to identify the overdispersion (fewer than
``min_alt_for_dispersion`` alt reads in all), the shape is set to ``default_shape``.

This module also holds the vectorised beta-binomial tail machinery used by the callers.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, roots_genlaguerre, roots_hermitenorm

from oncoresist.errors import InputError

#: Mean background error per base used for sites outside the panel (and without context).
DEFAULT_ERROR = 1e-4
#: Beta shape ``alpha`` of the default (and of sparse fits): coefficient of variation
#: ``1 / sqrt(alpha)`` of the per-sample error rate.
DEFAULT_SHAPE = 1.0
#: Floor on a fitted mean error rate per base.
MIN_ERROR = 1e-7
#: Quadrature nodes over the uncertainty of a site's fitted mean error.
RATE_NODES = 8
#: Largest gamma shape whose nodes are generalised Gauss-Laguerre (weights overflow above).
LAGUERRE_MAX_SHAPE = 150.0
_KAPPA_BOUNDS = (10.0, 1e9)  # bounds on the concentration alpha + beta in a fit

_PARAM_COLUMNS = [
    "context",
    "alpha",
    "beta",
    "error",
    "concentration",
    "n_normals",
    "total_alt",
    "total_depth",
    "source",
]


# ---------------------------------------------------------------- beta-binomial tails
def _lgamma_diff(x, h) -> np.ndarray:
    """``log Gamma(x + h) - log Gamma(x)`` without the cancellation of ``gammaln`` at large x.

    Stirling's series (4 terms, error below 1e-15 for x >= 10) written with ``log1p``;
    plain ``gammaln`` differences below that.
    """
    x, h = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(h, dtype=float))
    out = np.empty(x.shape)
    big = x >= 10.0
    xs, hs = x[~big], h[~big]
    out[~big] = gammaln(xs + hs) - gammaln(xs)
    xb, hb = x[big], h[big]
    z = xb + hb

    def corr(t):
        t2 = t * t
        return (1.0 / 12.0 - (1.0 / 360.0 - 1.0 / (1260.0 * t2)) / t2) / t

    out[big] = (xb - 0.5) * np.log1p(hb / xb) + hb * np.log(z) - hb + corr(z) - corr(xb)
    return out


def betabinom_logpmf(k, n, a, b) -> np.ndarray:
    """Log probability ``log P(X = k)`` of ``X ~ BetaBinomial(n, a, b)``, vectorised.

    Parameters
    ----------
    k, n : array_like of int
        Alt count and depth (reads or molecules).
    a, b : array_like of float
        Beta shapes (> 0).

    Returns
    -------
    numpy.ndarray
        Natural-log probabilities (``-inf`` outside ``0 <= k <= n``).
    """
    k, n, a, b = (np.asarray(x, dtype=float) for x in (k, n, a, b))
    k, n, a, b = np.broadcast_arrays(k, n, a, b)
    ok = (k >= 0) & (k <= n)
    kk = np.where(ok, k, 0.0)
    out = (
        gammaln(n + 1)
        - gammaln(kk + 1)
        - gammaln(n - kk + 1)
        + _lgamma_diff(a, kk)
        + _lgamma_diff(b, n - kk)
        - _lgamma_diff(a + b, n)
    )
    return np.where((k >= 0) & (k <= n), out, -np.inf)


def pmf_table(n, a, b, kmax: int) -> np.ndarray:
    """``P(X = j)`` for ``j = 0..kmax`` of ``BetaBinomial(n, a, b)``; shape ``(len(n), kmax+1)``.

    The pmf recursion from ``P(X = 0)``, vectorised over rows (``n`` in reads or molecules).
    """
    n, a, b = (np.asarray(x, dtype=float).ravel() for x in (n, a, b))
    out = np.empty((n.size, kmax + 1))
    logp = _lgamma_diff(b, n) - _lgamma_diff(a + b, n)  # log P(X = 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        for j in range(kmax + 1):
            out[:, j] = np.exp(logp)
            step = np.log(n - j) + np.log(j + a) - np.log(j + 1.0) - np.log(n - j - 1.0 + b)
            logp = np.where(j + 1 <= n, logp + step, -np.inf)
    return out


def _sf_table(n, a, b, kmax: int) -> np.ndarray:
    """``P(X >= j)`` for ``j = 0..kmax`` of ``BetaBinomial(n, a, b)``; shape ``(len(n), kmax+1)``.

    Accurate in absolute terms (about 1e-15); use :func:`betabinom_sf` for tiny tails.
    """
    cdf = np.cumsum(pmf_table(n, a, b, kmax - 1), axis=1)
    out = np.ones((cdf.shape[0], kmax + 1))
    out[:, 1:] = np.maximum(1.0 - cdf, 0.0)
    return out


def _sf_tail(k, n, a, b, *, tol: float = 1e-12, max_terms: int = 5000) -> np.ndarray:
    """``P(X >= k)`` by summing the pmf upward from ``k`` (for far tails), vectorised."""
    k, n, a, b = (np.asarray(x, dtype=float).ravel() for x in (k, n, a, b))
    logp = betabinom_logpmf(k, n, a, b)
    total = np.exp(logp)
    term = total.copy()
    j = k.copy()
    active = (term > 0) & (j < n)
    it = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        while active.any() and it < max_terms:
            idx = np.flatnonzero(active)
            jj, nn = j[idx], n[idx]
            ratio = (nn - jj) * (jj + a[idx]) / ((jj + 1.0) * (nn - jj - 1.0 + b[idx]))
            term[idx] = term[idx] * ratio
            total[idx] += term[idx]
            j[idx] = jj + 1.0
            active[idx] = (term[idx] > tol * total[idx]) & (j[idx] < nn)
            it += 1
    return np.minimum(total, 1.0)


def betabinom_sf(k, n, a, b) -> np.ndarray:
    """Upper tail ``P(X >= k)`` of ``X ~ BetaBinomial(n, a, b)``, vectorised.

    Equal to ``scipy.stats.betabinom.sf(k - 1, n, a, b)`` but computed for all elements at
    once: ``1 - cdf`` by the pmf recursion where the tail is above 1e-7, and by summing the
    pmf upward from ``k`` below that (relative accuracy about 1e-4 or better).

    Parameters
    ----------
    k, n : array_like of int
        Alt count and depth.
    a, b : array_like of float
        Beta shapes.

    Returns
    -------
    numpy.ndarray
        Tail probabilities, shape of the broadcast inputs.
    """
    k, n, a, b = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (k, n, a, b)))
    shape = k.shape
    k, n, a, b = (x.ravel() for x in (k, n, a, b))
    out = np.ones(k.size)
    pos = k > 0
    out[k > n] = 0.0
    if pos.any():
        idx = np.flatnonzero(pos & (k <= n))
        if idx.size:
            p = _sf_small_k(k[idx].astype(np.int64), n[idx], a[idx], b[idx])
            far = p < 1e-7
            if far.any():
                f = idx[far]
                p[far] = _sf_tail(k[f], n[f], a[f], b[f])
            out[idx] = p
    return out.reshape(shape)


def _sf_small_k(k: np.ndarray, n, a, b, *, kcap: int = 64) -> np.ndarray:
    """``P(X >= k)``: the recursion up to ``kcap``; rows beyond it get 0 (caller retries)."""
    out = np.zeros(k.size)
    small = k <= kcap
    if small.any():
        kmax = int(k[small].max())
        table = _sf_table(n[small], a[small], b[small], kmax)
        out[small] = table[np.arange(table.shape[0]), k[small]]
    return out


def _with_mean(a, b, mult) -> tuple[np.ndarray, np.ndarray]:
    """Beta shapes with the same ``a`` and the mean error multiplied by ``mult`` (<= 0.5)."""
    mu = np.minimum(a / (a + b) * mult, 0.5)
    return a, a * (1.0 - mu) / mu


def marginal_sf(k, n, a, b, mult, weight) -> np.ndarray:
    """``P(X >= k)`` averaged over an uncertain mean error (one row of nodes per element).

    Parameters
    ----------
    k, n : numpy.ndarray
        Alt counts and depths, shape ``(size,)``.
    a, b : numpy.ndarray
        Fitted beta shapes, shape ``(size,)``.
    mult, weight : numpy.ndarray
        Multipliers of the mean error and their weights (:func:`rate_nodes`), shape
        ``(size, nodes)``.

    Returns
    -------
    numpy.ndarray
        The tail under the background, averaged over the panel's uncertainty on its mean.
    """
    k, n, a, b = (np.asarray(x, dtype=float).ravel() for x in (k, n, a, b))
    out = np.zeros(k.size)
    for q in range(mult.shape[1]):
        use = np.flatnonzero(weight[:, q] > 0)
        if use.size:
            aq, bq = _with_mean(a[use], b[use], mult[use, q])
            out[use] += weight[use, q] * betabinom_sf(k[use], n[use], aq, bq)
    return np.minimum(out, 1.0)


def critical_counts(n, a, b, level, mult=None, weight=None) -> np.ndarray:
    """Smallest alt count ``c`` with ``P(X >= c) <= level`` under the background, vectorised.

    A draw is called at a site when its alt count reaches ``c``; ``c`` is the count a
    variant must produce for a call at per-test false-positive rate ``level``.

    Parameters
    ----------
    n : array_like of int
        Depth.
    a, b : array_like of float
        Beta shapes of the background.
    level : array_like of float
        Per-test false-positive rate (0 < level < 1).
    mult, weight : numpy.ndarray, optional
        Nodes over the uncertain mean error (:func:`rate_nodes`), shape ``(size, nodes)``:
        the tail is then averaged over them (:func:`marginal_sf`).

    Returns
    -------
    numpy.ndarray of int64
        Critical counts (at least 1; ``n + 1`` when no count reaches the level).
    """
    n, a, b, level = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (n, a, b, level)))
    shape = n.shape
    n, a, b, level = (x.ravel() for x in (n, a, b, level))
    out = np.empty(n.size, dtype=np.int64)
    todo = np.arange(n.size)
    kmax = 32
    while todo.size:
        if mult is None:
            table = _sf_table(n[todo], a[todo], b[todo], kmax)
        else:
            table = np.zeros((todo.size, kmax + 1))
            for q in range(mult.shape[1]):
                aq, bq = _with_mean(a[todo], b[todo], mult[todo, q])
                table += weight[todo, q, None] * _sf_table(n[todo], aq, bq, kmax)
        c = (table > level[todo, None]).sum(axis=1)
        done = (c <= kmax) | (c > n[todo])
        out[todo[done]] = np.minimum(c[done], n[todo[done]] + 1).astype(np.int64)
        todo = todo[~done]
        kmax *= 4
    return out.reshape(shape)


def rate_nodes(shape, nodes: int = RATE_NODES) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature over an uncertain mean error ``mu ~ Gamma(shape, shape / mu_hat)``.

    Returns multipliers ``mu_q / mu_hat`` and weights (rows sum to 1), shape
    ``(len(shape), nodes)``: generalised Gauss-Laguerre (exact for tails that are
    polynomials of degree < 2 nodes in ``mu``) up to a shape of 150 (beyond it the
    Laguerre weights overflow a double), Gauss-Hermite on the
    normal limit above it, and the single node 1 where ``shape`` is infinite.
    """
    shape = np.asarray(shape, dtype=float)
    mult = np.ones((shape.size, nodes))
    weight = np.zeros((shape.size, nodes))
    weight[:, 0] = 1.0
    for s in np.unique(shape[np.isfinite(shape)]):
        rows = shape == s
        if s <= LAGUERRE_MAX_SHAPE:
            x, w = roots_genlaguerre(nodes, s - 1.0)
            x = x / s
        else:
            z, w = roots_hermitenorm(nodes)
            x = np.maximum(1.0 + z / np.sqrt(s), 1e-6)
        mult[rows] = x
        weight[rows] = w / w.sum()
    return mult, weight


# ---------------------------------------------------------------------- fitting
def _negloglik(theta: np.ndarray, k: np.ndarray, n: np.ndarray) -> float:
    mu = 1.0 / (1.0 + np.exp(-theta[0]))
    kappa = np.exp(theta[1])
    a, b = mu * kappa, (1.0 - mu) * kappa
    return -float(np.sum(betaln(k + a, n - k + b) - betaln(a, b)))


def fit_betabinom(
    alt_reads,
    depth,
    *,
    min_error: float = MIN_ERROR,
    default_shape: float = DEFAULT_SHAPE,
    min_alt_for_dispersion: int = 3,
) -> tuple[float, float]:
    """Fit ``(alpha, beta)`` of a beta-binomial to alt counts by maximum likelihood.

    Method-of-moments start, then L-BFGS-B on ``(logit mean, log concentration)`` with the
    concentration in [10, 1e9]. The mean is floored at ``max(min_error, 0.5 / sum(depth))``;
    with fewer than ``min_alt_for_dispersion`` alt reads in all, or a mean at the floor,
    the shape is ``alpha = default_shape``.

    Parameters
    ----------
    alt_reads, depth : array_like of int
        Alt counts and depths of the normals (one per sample).
    min_error : float
        Absolute floor on the mean error per base.
    default_shape : float
        Beta shape ``alpha`` used when the overdispersion is not identifiable.
    min_alt_for_dispersion : int
        Alt reads needed in all before the concentration is fitted.

    Returns
    -------
    tuple of float
        ``(alpha, beta)``.
    """
    k = np.asarray(alt_reads, dtype=float)
    n = np.asarray(depth, dtype=float)
    keep = n > 0
    k, n = k[keep], n[keep]
    total_n = float(n.sum())
    floor = max(min_error, 0.5 / total_n) if total_n > 0 else DEFAULT_ERROR
    if total_n == 0:
        mu = DEFAULT_ERROR
        return default_shape, default_shape * (1 - mu) / mu
    total_k = float(k.sum())
    mu0 = total_k / total_n
    if total_k < min_alt_for_dispersion or mu0 <= floor:
        mu = max(mu0, floor)
        return default_shape, default_shape * (1 - mu) / mu
    # method of moments for the overdispersion
    frac = k / n
    nbar = float(n.mean())
    var = float(frac.var(ddof=1)) if frac.size > 1 else 0.0
    binvar = mu0 * (1 - mu0) / nbar
    rho = (var - binvar) / (mu0 * (1 - mu0) * (1 - 1 / nbar)) if nbar > 1 else 0.0
    rho = float(np.clip(rho, 1e-8, 0.5))
    kappa0 = float(np.clip(1 / rho - 1, *_KAPPA_BOUNDS))
    lo, hi = np.log(_KAPPA_BOUNDS[0]), np.log(_KAPPA_BOUNDS[1])
    x0 = np.array([np.log(mu0 / (1 - mu0)), np.log(kappa0)])
    bounds = [(np.log(floor / (1 - floor)), np.log(0.5)), (lo, hi)]
    x0[0] = np.clip(x0[0], *bounds[0])
    res = minimize(_negloglik, x0, args=(k, n), method="L-BFGS-B", bounds=bounds)
    theta = res.x if np.isfinite(res.fun) else x0
    mu = max(1.0 / (1.0 + np.exp(-theta[0])), floor)
    kappa = float(np.exp(theta[1]))
    return mu * kappa, (1 - mu) * kappa


#: Count columns of a panel in each unit: (alternate allele, depth).
PANEL_UNITS = {"molecules": ("alt_molecules", "unique_molecules"), "reads": ("alt_reads", "depth")}


def panel_unit(normals: pd.DataFrame, unit: str = "auto") -> str:
    """The unit a panel is fitted in: molecules when every row gives them, else reads."""
    if unit not in ("auto", "reads", "molecules"):
        raise InputError("must be one of auto, reads, molecules", field="unit")
    cols = list(PANEL_UNITS["molecules"])
    has = set(cols) <= set(normals.columns) and not normals[cols].isna().to_numpy().any()
    if unit == "auto":
        return "molecules" if has else "reads"
    if unit == "molecules" and not has:
        raise InputError(
            "the panel of normals lacks unique-molecule counts (alt_molecules and "
            "unique_molecules on every row)",
            field="alt_molecules",
        )
    return unit


def _check_normals(normals: pd.DataFrame) -> None:
    for col in ("site", "sample_id", "alt_reads", "depth"):
        if col not in normals.columns:
            raise InputError("missing column in the panel of normals", field=col)
    for col in ("alt_reads", "depth"):
        vals = pd.to_numeric(normals[col], errors="coerce")
        bad = vals.isna() | (vals < 0) | (vals != np.floor(vals))
        if bad.any():
            idx = normals.index[bad.to_numpy()][0]
            raise InputError(
                f"{normals[col].loc[idx]!r} is not a non-negative whole number",
                record=f"row {idx}",
                field=col,
            )
    over = normals["alt_reads"].to_numpy(float) > normals["depth"].to_numpy(float)
    if over.any():
        idx = normals.index[over][0]
        raise InputError("alt_reads exceeds depth", record=f"row {idx}", field="alt_reads")


class BackgroundModel:
    """Beta-binomial background error per site, fitted to a panel of normals.

    Parameters
    ----------
    default_error : float
        Mean error per base for sites with neither a fit nor a context fit (1e-4).
    default_shape : float
        Beta shape ``alpha`` of the default and of fits whose overdispersion cannot be
        identified (1.0: per-sample error rates with a coefficient of variation of 1).
    min_error : float
        Absolute floor on a fitted mean error per base (1e-7).
    min_normals : int
        Normals with depth > 0 a site needs for its own fit; fewer: its context's fit.
    min_alt_for_dispersion : int
        Alt reads a fit needs in all before the concentration is estimated.
    min_alt_for_site_shape : int
        Alt reads a site needs in all to keep its own shape; fewer: the panel's shared
        shape (:attr:`shared_shape_`) with the site's own mean error.

    Attributes
    ----------
    params_ : pandas.DataFrame
        One row per panel site (index ``site``): ``context, alpha, beta, error`` (mean
        error per base), ``concentration`` (alpha + beta), ``n_normals, total_alt,
        total_depth, source`` (``"site"``, ``"context"`` or ``"default"``). Empty before
        :meth:`fit`.
    context_params_ : pandas.DataFrame
        The same for each context (index ``context``).
    shared_shape_ : float or None
        The panel-wide beta shape ``alpha`` (profile likelihood over the site fits);
        ``None`` before :meth:`fit` or with no site carrying alt reads.
    unit_ : str or None
        ``"reads"`` or ``"molecules"``: the unit the panel counted and every call with this
        model must count in; ``None`` before :meth:`fit` (the default background is
        used in whichever unit the series gives).
    n_normals_ : int
        Normal samples in the fitted panel (0 before :meth:`fit`).

    Examples
    --------
    >>> bg = BackgroundModel()
    >>> round(bg.error("EGFR T790M"), 6)   # unfitted: the documented default
    0.0001
    """

    def __init__(
        self,
        *,
        default_error: float = DEFAULT_ERROR,
        default_shape: float = DEFAULT_SHAPE,
        min_error: float = MIN_ERROR,
        min_normals: int = 5,
        min_alt_for_dispersion: int = 3,
        min_alt_for_site_shape: int = 100,
    ) -> None:
        if not 0 < default_error < 1:
            raise InputError("must lie in (0, 1)", field="default_error")
        if default_shape <= 0:
            raise InputError("must be positive", field="default_shape")
        self.default_error = default_error
        self.default_shape = default_shape
        self.min_error = min_error
        self.min_normals = min_normals
        self.min_alt_for_dispersion = min_alt_for_dispersion
        self.min_alt_for_site_shape = min_alt_for_site_shape
        self.shared_shape_: float | None = None
        self.unit_: str | None = None
        self.n_normals_: int = 0
        self.params_ = pd.DataFrame(columns=_PARAM_COLUMNS, index=pd.Index([], name="site"))
        self.context_params_ = pd.DataFrame(
            columns=_PARAM_COLUMNS, index=pd.Index([], name="context")
        )

    @property
    def default_alpha_beta(self) -> tuple[float, float]:
        """``(alpha, beta)`` of the default background."""
        a = self.default_shape
        return a, a * (1 - self.default_error) / self.default_error

    def _fit_one(self, k: np.ndarray, n: np.ndarray) -> tuple[float, float]:
        return fit_betabinom(
            k,
            n,
            min_error=self.min_error,
            default_shape=self.default_shape,
            min_alt_for_dispersion=self.min_alt_for_dispersion,
        )

    def fit(self, normals: pd.DataFrame, *, unit: str = "auto") -> BackgroundModel:
        """Fit per-site and per-context backgrounds to a panel of normals.

        Parameters
        ----------
        normals : pandas.DataFrame
            Columns ``site, sample_id``, counts in reads (``alt_reads, depth``) and/or
            unique molecules (``alt_molecules, unique_molecules``), optionally
            ``context``; one row per normal sample and site.
        unit : {"auto", "reads", "molecules"}
            Counting unit of the fit (and so of every call made with it): ``auto`` takes
            molecules when every row gives them, else reads. Stored as :attr:`unit_`.

        Returns
        -------
        BackgroundModel
            ``self``.
        """
        unit = panel_unit(normals, unit)
        df = normals.copy()
        if unit == "molecules":
            df = df.drop(columns=["alt_reads", "depth"], errors="ignore").rename(
                columns={"alt_molecules": "alt_reads", "unique_molecules": "depth"}
            )
        _check_normals(df)
        df["alt_reads"] = df["alt_reads"].astype(float)
        df["depth"] = df["depth"].astype(float)
        if "context" not in df.columns:
            df["context"] = pd.NA
        ctx_rows = {}
        for ctx, g in df.dropna(subset=["context"]).groupby("context", sort=True):
            k, n = g["alt_reads"].to_numpy(), g["depth"].to_numpy()
            a, b = self._fit_one(k, n)
            ctx_rows[ctx] = (ctx, a, b, int((n > 0).sum()), k.sum(), n.sum(), "context")
        rows = {}
        for site, g in df.groupby("site", sort=True):
            k, n = g["alt_reads"].to_numpy(), g["depth"].to_numpy()
            ctx = g["context"].dropna()
            ctx = ctx.iloc[0] if len(ctx) else None
            n_normals = int((n > 0).sum())
            if n_normals >= self.min_normals:
                a, b = self._fit_one(k, n)
                source = "site"
            elif ctx is not None and ctx in ctx_rows:
                _, a, b, *_ = ctx_rows[ctx]
                source = "context"
            else:
                a, b = self.default_alpha_beta
                source = "default"
            rows[site] = (ctx, a, b, n_normals, k.sum(), n.sum(), source)
        self._share_shape(df, rows)
        self.unit_ = unit
        self.n_normals_ = int(df["sample_id"].nunique())
        self.params_ = self._frame(rows, "site")
        self.context_params_ = self._frame(ctx_rows, "context")
        return self

    def _share_shape(self, df: pd.DataFrame, rows: dict) -> None:
        """Fit the shared shape; give it to the sites too sparse for their own (in place)."""
        fitted = [s for s, r in rows.items() if r[-1] == "site" and r[4] > 0]
        self.shared_shape_ = None
        if not fitted:
            return
        panel = df[df["site"].isin(fitted) & (df["depth"] > 0)]
        mu = {s: rows[s][1] / (rows[s][1] + rows[s][2]) for s in fitted}
        m = panel["site"].map(mu).to_numpy(dtype=float)
        k, n = panel["alt_reads"].to_numpy(), panel["depth"].to_numpy()
        grid = np.geomspace(0.05, 1e4, 64)
        ll = [betabinom_logpmf(k, n, g, g * (1 - m) / m).sum() for g in grid]
        shape = float(grid[int(np.argmax(ll))])
        self.shared_shape_ = shape
        for s in fitted:
            ctx, a, b, n_normals, total_alt, total_depth, source = rows[s]
            if total_alt < self.min_alt_for_site_shape:
                mean = a / (a + b)
                rows[s] = (ctx, shape, shape * (1 - mean) / mean, n_normals, total_alt,
                           total_depth, source)  # fmt: skip

    @staticmethod
    def _frame(rows: dict, name: str) -> pd.DataFrame:
        out = pd.DataFrame(
            [
                {
                    "context": r[0],
                    "alpha": r[1],
                    "beta": r[2],
                    "error": r[1] / (r[1] + r[2]),
                    "concentration": r[1] + r[2],
                    "n_normals": r[3],
                    "total_alt": int(r[4]),
                    "total_depth": int(r[5]),
                    "source": r[6],
                }
                for r in rows.values()
            ],
            columns=_PARAM_COLUMNS,
        )
        out.index = pd.Index(list(rows), name=name)
        return out

    def lookup(
        self, sites: Iterable | str, contexts: Iterable | str | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Beta shapes for each site: its own fit, else its context's, else the default.

        Parameters
        ----------
        sites : str or sequence of str
            Site labels (alteration label or ``CHROM:POS:REF>ALT``).
        contexts : str or sequence of str, optional
            Substitution contexts, used for sites not in the panel.

        Returns
        -------
        tuple of numpy.ndarray
            ``(alpha, beta, source)``; ``source`` holds ``"site"``, ``"context"`` or
            ``"default"``.
        """
        if isinstance(sites, str):
            sites = [sites]
        codes, uniq = pd.factorize(pd.Series(list(sites), dtype=object), use_na_sentinel=False)
        da, db = self.default_alpha_beta
        ua = np.full(len(uniq), da)
        ub = np.full(len(uniq), db)
        usrc = np.full(len(uniq), "default", dtype=object)
        if len(self.params_):
            pos = self.params_.index.get_indexer(pd.Index(uniq))
            hit = pos >= 0
            ua[hit] = self.params_["alpha"].to_numpy(float)[pos[hit]]
            ub[hit] = self.params_["beta"].to_numpy(float)[pos[hit]]
            usrc[hit] = self.params_["source"].to_numpy(object)[pos[hit]]
        a, b, src = ua[codes], ub[codes], usrc[codes]
        if contexts is not None and len(self.context_params_):
            if isinstance(contexts, str):
                contexts = [contexts] * len(codes)
            ctx = pd.Index(pd.Series(list(contexts), dtype=object))
            miss = src == "default"
            cpos = self.context_params_.index.get_indexer(ctx)
            use = miss & (cpos >= 0)
            a[use] = self.context_params_["alpha"].to_numpy(float)[cpos[use]]
            b[use] = self.context_params_["beta"].to_numpy(float)[cpos[use]]
            src[use] = "context"
        return a, b, src

    def error_evidence(self, sites: Iterable) -> np.ndarray:
        """Gamma shape ``s`` of the uncertainty of each site's fitted mean error.

        A panel with ``A`` alt reads in all at a site, from ``m`` normals whose error rates
        vary with beta shape ``alpha``, pins the mean error ``mu`` to a relative variance of
        about ``1 / (A + 0.5) + 1 / (alpha m)`` (counting noise plus sample-to-sample
        spread); ``s`` is its inverse, so that ``mu ~ Gamma(s, s / mu_hat)``. Sites not fitted
        on their own normals (context, default, unknown) get ``inf`` (treated as known).
        """
        labels = pd.Index(pd.Series(list(sites), dtype=object))
        out = np.full(len(labels), np.inf)
        if not len(self.params_):
            return out
        pos = self.params_.index.get_indexer(labels)
        hit = pos >= 0
        prm = self.params_.iloc[pos[hit]]
        own = (prm["source"] == "site").to_numpy()
        with np.errstate(divide="ignore"):  # rows not fitted on their own normals: unused
            rel_var = 1.0 / (prm["total_alt"].to_numpy(float) + 0.5) + 1.0 / (
                prm["alpha"].to_numpy(float) * prm["n_normals"].to_numpy(float)
            )
        out[np.flatnonzero(hit)[own]] = 1.0 / rel_var[own]
        return out

    def error(self, site, context=None):
        """Mean background error per base of a site (or an array of sites).

        Parameters
        ----------
        site : str or sequence of str
            Site label(s).
        context : str or sequence of str, optional
            Context(s) for sites not in the panel.

        Returns
        -------
        float or numpy.ndarray
            ``alpha / (alpha + beta)``: a float for one site, an array for several.
        """
        a, b, _ = self.lookup(site, context)
        e = a / (a + b)
        return float(e[0]) if isinstance(site, str) else e

    def describe(self) -> str:
        """One line saying which error model and panel the calls use (for reports)."""
        if self.unit_ is None:
            return (
                f"default background: mean error {self.default_error:g} per base, beta shape "
                f"{self.default_shape:g} (no panel of normals)"
            )
        return (
            f"beta-binomial per site fitted to a panel of {self.n_normals_} normals at "
            f"{len(self.params_)} sites, counted in {self.unit_}; the panel's uncertainty on "
            "each site's mean error is integrated out"
        )

    def __repr__(self) -> str:
        return (
            f"BackgroundModel(default_error={self.default_error}, "
            f"default_shape={self.default_shape}, sites={len(self.params_)})"
        )
