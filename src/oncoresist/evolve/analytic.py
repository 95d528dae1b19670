"""Closed forms of evolutionary dynamics under targeted therapy.

Every function here is a plain, vectorised formula (numpy broadcasting over its numeric
arguments) for the linear birth-death process and the resistance models built on it:

* the linear birth-death process (Kendall 1948; Bailey 1964): eventual extinction,
  extinction by time ``t``, mean, variance and the generating-function parameters
  ``alpha(t)``, ``beta(t)`` that an exact sampler can draw from;
* resistance present at detection size ``M`` and the expected number of resistant cells
  (Iwasa, Nowak & Michor 2006, PMID 16547088; Komarova & Wodarz 2005, PMID 16172254;
  Bozic et al. 2013, PMID 23805382);
* the probability that mono, dual or k-drug therapy eradicates a lesion, eq. 1 of
  Bozic et al. 2013 (PMID 23805382), with cross-resistance sites;
* the mean time for a growing population to reach ``M`` cells, and the mean time to the
  first resistant mutant whose lineage survives;
* the mean time for a treated, declining population to die out;
* the cells resistant to every drug of a combination at detection (Bozic et al. 2013);
* eradication by dual therapy with exact lineage fates and a fitness cost of resistance,
  and the outcome of giving the two drugs in sequence (Bozic et al. 2013, Figure 5 and
  Table 2; the simulations behind them are in :mod:`oncoresist.evolve.bozic`).

Units: rates ``b`` (birth = division) and ``d`` (death) are per cell per day, times are
days, sizes are cells, the mutation rate ``u`` is per site per cell division.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import integrate, linalg, special, stats

from oncoresist.errors import InputError

__all__ = [
    "bd_mean",
    "bd_variance",
    "eradication_factors",
    "expected_resistant_at_detection",
    "expected_resistant_to_all",
    "extinction_probability",
    "extinction_probability_by_time",
    "kendall_alpha_beta",
    "mean_extinction_time",
    "mean_hitting_time",
    "mean_time_to_resistance",
    "prob_eradication",
    "prob_eradication_dual",
    "prob_eradication_mono",
    "prob_resistance_at_detection",
    "sequential_therapy",
]

FloatOrArray = float | npt.NDArray[np.float64]

#: Largest ``M`` for which the ``"exact"`` methods solve the conditioned chain level by level.
EXACT_MAX_CELLS = 1_000_000

# --------------------------------------------------------------------------------------
# Argument rules, declared once: every public function validates through ``_valid``.
# --------------------------------------------------------------------------------------

_Rule = tuple[Callable[[np.ndarray], np.ndarray], str]

_RULES: dict[str, _Rule] = {
    "b": (lambda x: x > 0, "a birth (division) rate must be > 0 per day"),
    "b_declining": (lambda x: x >= 0, "a birth (division) rate must be >= 0 per day"),
    "b_r": (lambda x: x > 0, "the resistant birth rate must be > 0 per day"),
    "b_treated": (lambda x: x > 0, "the birth rate under treatment must be > 0 per day"),
    "d": (lambda x: x >= 0, "a death rate must be >= 0 per day"),
    "d_r": (lambda x: x >= 0, "the resistant death rate must be >= 0 per day"),
    "d_treated": (lambda x: x >= 0, "the death rate under treatment must be >= 0 per day"),
    "t": (lambda x: x >= 0, "a time must be >= 0 days"),
    "n0": (
        lambda x: (x >= 1) & (x == np.floor(x)),
        "a starting size must be a whole number >= 1 of cells",
    ),
    "M": (lambda x: x >= 1, "a detection size must be >= 1 cells"),
    "u": (lambda x: (x >= 0) & (x < 1), "a mutation rate per division must lie in [0, 1)"),
    "n_sites": (lambda x: x >= 0, "a number of resistance sites must be >= 0"),
    "cost": (lambda x: (x >= 0) & (x < 1), "a fitness cost must lie in [0, 1)"),
}


def _valid(field: str, value: npt.ArrayLike, rule: str | None = None) -> np.ndarray:
    """Return ``value`` as a float array after checking it against ``_RULES[rule or field]``."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{field} = {value!r} is not a number", field=field) from exc
    ok, meaning = _RULES[rule or field]
    bad = ~(np.isfinite(arr) & ok(arr))
    if np.any(bad):
        first = arr[bad].flat[0] if arr.ndim else float(arr)
        raise InputError(f"{field} = {first!r}: {meaning}", field=field)
    return arr


def _require(condition: np.ndarray, message: str, field: str) -> None:
    if not np.all(condition):
        raise InputError(message, field=field)


def _supercritical(
    b: np.ndarray, d: np.ndarray, what: str = "the sensitive population", field: str = "d"
) -> None:
    _require(b > d, f"{what} must grow: needs birth > death rate (got b - d <= 0 per day)", field)


def _out(x: npt.ArrayLike) -> FloatOrArray:
    arr = np.asarray(x, dtype=float)
    return float(arr) if arr.ndim == 0 else arr


def _elementwise(func: Callable[..., float], *args: np.ndarray) -> np.ndarray:
    """Apply a scalar routine (a quadrature or a linear solve) over broadcast arguments."""
    arrays = np.broadcast_arrays(*args)
    out = np.empty(arrays[0].shape)
    for idx in np.ndindex(out.shape):
        out[idx] = func(*(float(a[idx]) for a in arrays))
    return out


def _growth_integral(r: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``int_0^t exp(r s) ds = expm1(r t) / r``, equal to ``t`` at ``r = 0``."""
    r, t = np.broadcast_arrays(np.asarray(r, dtype=float), np.asarray(t, dtype=float))
    zero = r == 0
    safe_r = np.where(zero, 1.0, r)
    with np.errstate(over="ignore"):
        g = np.expm1(safe_r * t) / safe_r
    return np.where(zero, t, g)


def _exp_e1(y: np.ndarray) -> np.ndarray:
    """``exp(y) E1(y)`` for ``y > 0`` without overflow (asymptotic series past y = 50)."""
    y = np.asarray(y, dtype=float)
    small = y <= 50
    ys = np.where(small, y, 1.0)
    yl = np.where(small, 50.0, y)
    series = (1 - 1 / yl + 2 / yl**2 - 6 / yl**3 + 24 / yl**4) / yl
    return np.where(small, np.exp(ys) * special.exp1(ys), series)


def _resistant_rates(
    b: np.ndarray, d: np.ndarray, b_r: npt.ArrayLike | None, d_r: npt.ArrayLike | None
) -> tuple[np.ndarray, np.ndarray]:
    return (b if b_r is None else _valid("b_r", b_r)), (d if d_r is None else _valid("d_r", d_r))


def _per_cell_rate(u: npt.ArrayLike, n_sites: npt.ArrayLike) -> np.ndarray:
    mu = _valid("u", u) * _valid("n_sites", n_sites)
    _require(mu < 1, "u * n_sites is a probability per division and must be < 1", "n_sites")
    return mu


# --------------------------------------------------------------------------------------
# 1. The linear birth-death process
# --------------------------------------------------------------------------------------


def extinction_probability(
    b: npt.ArrayLike, d: npt.ArrayLike, n0: npt.ArrayLike = 1
) -> FloatOrArray:
    """Probability that a linear birth-death process started from ``n0`` cells ever dies out.

    ``(d / b) ** n0`` when ``b > d`` (supercritical), 1 otherwise.

    Parameters
    ----------
    b
        Birth (division) rate per cell per day, > 0.
    d
        Death rate per cell per day, >= 0.
    n0
        Starting number of cells, a whole number >= 1.

    Returns
    -------
    float or numpy.ndarray
        The eventual extinction probability, in [0, 1].

    Notes
    -----
    Valid for a time-homogeneous linear birth-death process: every cell divides and dies
    independently at constant rates, no carrying capacity.

    References
    ----------
    Kendall DG (1948). On the generalized "birth-and-death" process. Ann Math Stat 19:1-15.
    Bailey NTJ (1964). The Elements of Stochastic Processes, ch. 8. Wiley.

    Examples
    --------
    >>> round(extinction_probability(0.14, 0.13), 4)
    0.9286
    >>> round(extinction_probability(0.14, 0.13, n0=10), 4)
    0.4766
    """
    b, d, n0 = _valid("b", b), _valid("d", d), _valid("n0", n0)
    return _out(np.where(b > d, np.minimum(d / b, 1.0) ** n0, 1.0))


def kendall_alpha_beta(
    b: npt.ArrayLike, d: npt.ArrayLike, t: npt.ArrayLike
) -> tuple[FloatOrArray, FloatOrArray]:
    """Kendall's parameters ``(alpha, beta)`` of the size at time ``t`` of one cell's clone.

    Started from one cell at time 0, the clone size ``N(t)`` has

    * ``P(N(t) = 0) = alpha``;
    * ``P(N(t) = n) = (1 - alpha) (1 - beta) beta ** (n - 1)`` for ``n >= 1``, i.e. given
      survival ``N(t)`` is Geometric on ``{1, 2, ...}`` with success probability
      ``1 - beta``.

    With ``g = (exp((b - d) t) - 1) / (b - d)`` (``g = t`` when ``b = d``)::

        alpha = d g / (1 + b g),    beta = b g / (1 + b g).

    From ``n`` cells the lineages are independent, so the number of surviving lineages is
    ``K ~ Binomial(n, 1 - alpha)`` and the total size is ``K + NegBin(K, 1 - beta)``, where
    ``NegBin(K, p)`` counts failures before the ``K``-th success (numpy's
    ``Generator.negative_binomial(K, p)``); ``K = 0`` gives size 0.

    Parameters
    ----------
    b
        Birth rate per cell per day, > 0.
    d
        Death rate per cell per day, >= 0.
    t
        Elapsed time in days, >= 0.

    Returns
    -------
    alpha, beta
        Floats or arrays (broadcast shape), each in [0, 1). ``alpha`` tends to
        ``min(d / b, 1)`` and ``beta`` to 1 as ``t`` grows, for ``b >= d``. The success
        probability ``1 - beta = 1 / (1 + b g)`` keeps a relative precision of about
        ``1e-16 / (1 - beta)`` when formed as ``1 - beta``.

    Notes
    -----
    Exact for the time-homogeneous linear birth-death process. Computed without
    cancellation near ``b = d`` and without overflow for large ``(b - d) t``.

    References
    ----------
    Kendall DG (1948). Ann Math Stat 19:1-15, eq. (10).
    Bailey NTJ (1964). The Elements of Stochastic Processes, sect. 8.6. Wiley.

    Examples
    --------
    >>> a, c = kendall_alpha_beta(1.0, 0.5, 2.0)
    >>> round(a, 4), round(c, 4)
    (0.3873, 0.7746)
    """
    b, d, t = _valid("b", b), _valid("d", d), _valid("t", t)
    g = _growth_integral(b - d, t)
    # alpha = d / (b + 1/g): finite for every g in [0, inf], including t = 0 and overflow.
    # 1/g is +inf at t = 0 (and overflows for subnormal g); either way alpha = beta = 0.
    with np.errstate(divide="ignore", over="ignore"):
        inv_g = 1.0 / g
    alpha = d / (b + inv_g)
    beta = b / (b + inv_g)
    return _out(alpha), _out(beta)


def extinction_probability_by_time(
    t: npt.ArrayLike, b: npt.ArrayLike, d: npt.ArrayLike, n0: npt.ArrayLike = 1
) -> FloatOrArray:
    """Probability that a birth-death process from ``n0`` cells is extinct by day ``t``.

    Equal to ``alpha(t) ** n0`` with Kendall's ``alpha`` (:func:`kendall_alpha_beta`);
    it increases to :func:`extinction_probability` as ``t`` grows.

    Parameters
    ----------
    t
        Time in days, >= 0.
    b, d
        Birth (> 0) and death (>= 0) rates per cell per day.
    n0
        Starting number of cells, a whole number >= 1.

    Returns
    -------
    float or numpy.ndarray
        ``P(N(t) = 0)``, in [0, 1].

    References
    ----------
    Kendall DG (1948). Ann Math Stat 19:1-15.

    Examples
    --------
    >>> round(extinction_probability_by_time(10.0, 1.0, 1.0), 4)
    0.9091
    """
    n0 = _valid("n0", n0)
    alpha, _ = kendall_alpha_beta(b, d, t)
    return _out(np.asarray(alpha) ** n0)


def bd_mean(
    n0: npt.ArrayLike, b: npt.ArrayLike, d: npt.ArrayLike, t: npt.ArrayLike
) -> FloatOrArray:
    """Mean size at day ``t`` of a birth-death process from ``n0`` cells: ``n0 exp((b-d) t)``.

    Parameters
    ----------
    n0
        Starting number of cells, a whole number >= 1.
    b, d
        Birth (> 0) and death (>= 0) rates per cell per day.
    t
        Time in days, >= 0.

    Returns
    -------
    float or numpy.ndarray
        ``E[N(t)]`` in cells (unconditional: extinct runs count as 0).

    References
    ----------
    Bailey NTJ (1964). The Elements of Stochastic Processes, eq. (8.48). Wiley.

    Examples
    --------
    >>> round(bd_mean(100, 0.14, 0.13, 100.0), 3)
    271.828
    """
    n0, b, d, t = _valid("n0", n0), _valid("b", b), _valid("d", d), _valid("t", t)
    return _out(n0 * np.exp((b - d) * t))


def bd_variance(
    n0: npt.ArrayLike, b: npt.ArrayLike, d: npt.ArrayLike, t: npt.ArrayLike
) -> FloatOrArray:
    """Variance at day ``t`` of a birth-death process from ``n0`` cells.

    ``n0 (b + d) / (b - d) * exp((b-d) t) * (exp((b-d) t) - 1)``, with the limit
    ``2 n0 b t`` at ``b = d``.

    Parameters
    ----------
    n0
        Starting number of cells, a whole number >= 1.
    b, d
        Birth (> 0) and death (>= 0) rates per cell per day.
    t
        Time in days, >= 0.

    Returns
    -------
    float or numpy.ndarray
        ``Var[N(t)]`` in cells squared (unconditional).

    References
    ----------
    Bailey NTJ (1964). The Elements of Stochastic Processes, eq. (8.49). Wiley.

    Examples
    --------
    >>> bd_variance(1, 1.0, 1.0, 3.0)
    6.0
    """
    n0, b, d, t = _valid("n0", n0), _valid("b", b), _valid("d", d), _valid("t", t)
    r = b - d
    return _out(n0 * (b + d) * np.exp(r * t) * _growth_integral(r, t))


def _lerch_tail(n0: float, c: float) -> float:
    """``sum_{j>=1} c**j / (n0 + j)`` for ``0 <= c < 1``, by quadrature valid for any ``n0``.

    Equal to ``c int_0^inf exp(-(n0 + 1) v) / (1 - c exp(-v)) dv``; with ``w = (n0 + 1) v``
    the integrand is ``exp(-w) / ((1 - c) - c expm1(-w / (n0 + 1)))``, smooth and free of
    cancellation from ``n0 = 1`` to ``n0 = 1e12``.
    """
    if c == 0:
        return 0.0
    scale = n0 + 1.0

    def integrand(w: float) -> float:
        return math.exp(-w) / ((1.0 - c) - c * math.expm1(-w / scale))

    knee = scale * (1.0 - c) / c  # where the denominator has fallen to half of 1 - c
    points = [knee] if 0.0 < knee < 60.0 else None
    value, _ = integrate.quad(integrand, 0.0, 60.0, points=points, limit=400)
    return c / scale * value


def mean_extinction_time(
    n0: npt.ArrayLike,
    b: npt.ArrayLike,
    d: npt.ArrayLike,
    *,
    method: Literal["exact", "asymptotic"] = "exact",
) -> FloatOrArray:
    """Mean time in days for a declining (treated) population of ``n0`` cells to die out.

    Each cell divides at ``b`` and dies at ``d > b`` per day (e.g. sensitive cells under
    therapy, Bozic et al. 2013's ``b'`` and ``d'``). The extinction time of ``n0`` cells is
    the largest of ``n0`` independent lineage extinction times, each with distribution
    function ``q(t)`` = Kendall's ``alpha(t)`` (:func:`kendall_alpha_beta`), so
    ``E[T] = int_0^inf (1 - q(t)**n0) dt``. With ``c = b / d`` and the substitution
    ``q = q(t)`` this is ``(1/d) int_0^1 (1 - q**n0) / ((1 - q)(1 - c q)) dq``, and by
    partial fractions, exactly::

        E[T] = (H(n0) + log(1 - c) + sum_{j>=1} c**j / (n0 + j)) / (d - b)

    where ``H(n0) = psi(n0 + 1) + gamma`` is the harmonic number. From one cell this is
    ``-log(1 - b/d) / b``; with no divisions (``b = 0``) it is ``H(n0) / d``. For large
    ``n0`` (``"asymptotic"``)::

        E[T] ~ (log(n0) + gamma + log(1 - b/d)) / (d - b)

    with an error of about ``(1/2 + c / (1 - c)) / (n0 (d - b))`` days.

    Parameters
    ----------
    n0
        Cells at the start of the decline, a whole number >= 1 (up to 1e12 and beyond).
    b
        Birth (division) rate per cell per day, >= 0.
    d
        Death rate per cell per day; needs ``d > b``.
    method
        ``"exact"`` (the series, its tail by quadrature) or ``"asymptotic"``.

    Returns
    -------
    float or numpy.ndarray
        Mean extinction time in days.

    Notes
    -----
    Exact for the linear birth-death process with constant rates (no immune or spatial
    effects). The extinction time has a Gumbel-like spread of standard deviation about
    ``pi / (sqrt(6) (d - b))`` days for large ``n0``.

    References
    ----------
    Kendall DG (1948). Ann Math Stat 19:1-15 (``alpha(t)``).
    Bozic I et al. (2013). eLife 2:e00747, the decline ``b' - d' = -0.03`` per day.
    PMID 23805382.

    Examples
    --------
    >>> round(mean_extinction_time(1e9, 0.14, 0.17), 1)
    652.2
    >>> round(mean_extinction_time(1, 0.14, 0.17), 2)
    12.39
    """
    n0, d = _valid("n0", n0), _valid("d", d)
    b = _valid("b", b, rule="b_declining")
    _require(d > b, "the population must decline: needs death > birth rate per day", "d")
    c = b / d
    if method == "asymptotic":
        return _out((np.log(n0) + np.euler_gamma + np.log1p(-c)) / (d - b))
    if method != "exact":
        raise InputError(f"method = {method!r}: choose 'exact' or 'asymptotic'", field="method")
    harmonic = special.digamma(n0 + 1.0) + np.euler_gamma
    tail = _elementwise(_lerch_tail, n0, c)
    return _out((harmonic + np.log1p(-c) + tail) / (d - b))


# --------------------------------------------------------------------------------------
# The birth-death chain conditioned to reach M before 0 (used by the "exact" methods)
# --------------------------------------------------------------------------------------


def _conditioned_chain(m_cells: int, b: float, d: float) -> tuple[np.ndarray, np.ndarray]:
    """Up and down jump probabilities on levels 1..M-1, conditioned to hit M before 0.

    Doob's h-transform with ``h(z) = (1 - rho**z) / (1 - rho**M)``, ``rho = d / b < 1``.
    The holding rate ``(b + d) z`` is unchanged by the conditioning.
    """
    z = np.arange(1, m_cells, dtype=float)
    log_rho = math.log(d / b) if d > 0 else -np.inf

    def h(k: np.ndarray) -> np.ndarray:
        if d == 0:
            return np.where(k > 0, 1.0, 0.0)
        return np.expm1(k * log_rho) / math.expm1(m_cells * log_rho)

    p, q = b / (b + d), d / (b + d)
    hz = h(z)
    return p * h(z + 1) / hz, q * h(z - 1) / hz


def _solve_chain(
    up: np.ndarray, down: np.ndarray, rhs: np.ndarray, *, transpose: bool
) -> np.ndarray:
    """Solve ``(I - P) x = rhs`` (or with ``P`` transposed) for the tridiagonal chain ``P``."""
    n = up.size
    ab = np.zeros((3, n))
    ab[1] = 1.0
    if transpose:
        ab[0, 1:], ab[2, :-1] = -down[1:], -up[:-1]
    else:
        ab[0, 1:], ab[2, :-1] = -up[:-1], -down[1:]
    return linalg.solve_banded((1, 1), ab, rhs)


def _exact_size(m_cells: np.ndarray, n0: np.ndarray | None = None) -> None:
    _require(
        m_cells == np.floor(m_cells),
        "the exact method needs a whole number of cells M",
        "M",
    )
    _require(
        m_cells <= EXACT_MAX_CELLS,
        f"the exact method solves one equation per level and is limited to "
        f"M <= {EXACT_MAX_CELLS}; use the approximate method for larger M",
        "M",
    )
    if n0 is not None:
        _require(m_cells > n0, "the detection size M must exceed the starting size n0", "M")


# --------------------------------------------------------------------------------------
# 2. Resistance at detection (Iwasa, Nowak & Michor 2006; Komarova & Wodarz 2005)
# --------------------------------------------------------------------------------------


def _survival_to(tau: np.ndarray, b_r: np.ndarray, d_r: np.ndarray) -> np.ndarray:
    """P(a clone founded by one cell is alive ``tau`` days later): ``exp(r tau)/(1 + b g)``."""
    r = b_r - d_r
    return np.exp(r * tau) / (1 + b_r * _growth_integral(r, tau))


def _iwasa_closed_integral(
    kappa: np.ndarray, b_r: np.ndarray, d_r: np.ndarray, r: np.ndarray
) -> np.ndarray:
    """``int_0^1 S(x) dx`` where ``S(x)`` is a clone's survival from size fraction ``x`` to 1.

    ``S(x) = (1 - c) / (1 - c x**kappa)`` with ``c = d_r / b_r`` and ``kappa = r_r / r``;
    hypergeometric when the resistant type grows or shrinks, exponential-integral when
    it is critical (``b_r = d_r``).
    """
    grows, shrinks = kappa > 0, kappa < 0
    critical = ~(grows | shrinks)
    k_safe = np.where(grows, kappa, 1.0)
    c = np.where(grows, d_r / b_r, 0.0)
    up = (1 - c) * special.hyp2f1(1.0, 1 / k_safe, 1 + 1 / k_safe, c)
    m = np.where(shrinks, -kappa, 1.0)
    c_down = np.where(shrinks, b_r / np.where(d_r > 0, d_r, 1.0), 0.0)
    down = (
        (m * r / np.where(d_r > 0, d_r, 1.0))
        / (m + 1)
        * special.hyp2f1(1.0, 1 + 1 / m, 2 + 1 / m, c_down)
    )
    beta = np.where(critical, b_r / r, 1.0)
    flat = _exp_e1(1 / beta) / beta
    return np.where(grows, up, np.where(shrinks, down, flat))


def prob_resistance_at_detection(
    M: npt.ArrayLike,
    b: npt.ArrayLike,
    d: npt.ArrayLike,
    u: npt.ArrayLike,
    *,
    n_sites: npt.ArrayLike = 1,
    b_r: npt.ArrayLike | None = None,
    d_r: npt.ArrayLike | None = None,
    method: Literal["integral", "closed"] = "integral",
) -> FloatOrArray:
    """Probability that resistant cells are present when a lesion is detected at size M.

    A sensitive clone grows from one cell (birth ``b``, death ``d``, ``b > d``); each
    division makes a resistant daughter with probability ``mu = n_sites * u``; resistant
    cells divide at ``b_r`` and die at ``d_r`` (default: the sensitive rates, i.e. neutral
    before therapy). Resistance "is present" if at least one resistant cell is alive when
    the sensitive population reaches ``M``. Writing ``x = N(t) / M`` for the sensitive
    fraction of ``M`` at a mutation's birth and ``r = b - d``::

        P = 1 - exp(-(M mu b / r) * int_{x0}^1 S(x) dx),
        S(x) = P(a resistant clone founded at x is alive at detection)
             = (1 - c) / (1 - c x**kappa),   c = d_r / b_r,  kappa = (b_r - d_r) / r.

    ``method="integral"`` evaluates the integral numerically from ``x0 = 1/M`` (the
    deterministic trajectory started from one cell, as in Iwasa et al. 2006).
    ``method="closed"`` takes ``x0 = 0`` and uses the closed form
    ``(1 - c) 2F1(1, 1/kappa; 1 + 1/kappa; c)`` (and its analogues for ``b_r <= d_r``); in
    the neutral case this is ``P = 1 - exp(M mu log(s) / (1 - s))`` with ``s = 1 - d/b``,
    the complement of ``p1`` in Bozic et al. 2013 (and Komarova & Wodarz 2005).

    The two methods answer two deterministic-trajectory models, each exactly: mutants
    arrive as a Poisson stream at ``b mu N(t)`` along ``N(t) = exp(r t)`` from one cell at
    ``t = 0`` (``"integral"``), or along ``N(t) = M exp(r (t - T))`` for all ``t <= T``
    (``"closed"``), which also counts mutations "while the lesion had fewer than one
    cell". That extra hazard is ``M mu (b / r) int_0^{1/M} S(x) dx``, about
    ``mu b s_r / r`` (``mu`` when neutral), whatever ``M``. So at ``b = 1``, ``d = 0.5``,
    ``u = 1e-4``, ``M = 1e3`` the default gives 0.129362 and ``"closed"`` 0.129449: they
    differ by ``(1 - P) mu = 8.7e-5``, not by ``O(1/M)``. Neither includes the lesion's
    stochastic start, which changes the hazard by the same order; a jump-chain Monte
    Carlo of the full model (0.1291 +- 0.0024, 40 000 runs) cannot tell them apart.

    Parameters
    ----------
    M
        Detection size, sensitive cells, >= 1.
    b, d
        Birth and death rates of sensitive cells per cell per day; needs ``b > d``.
    u
        Mutation rate per resistance site per cell division, in [0, 1).
    n_sites
        Number of sites (point mutations) that confer resistance; the per-division
        probability of a resistant daughter is ``n_sites * u``.
    b_r, d_r
        Birth and death rates of resistant cells per day before therapy (default ``b``,
        ``d``).
    method
        ``"integral"`` (numerical quadrature) or ``"closed"`` (closed form, ``x0 = 0``).

    Returns
    -------
    float or numpy.ndarray
        Probability in [0, 1].

    Notes
    -----
    Valid when ``mu`` is small (``mu << 1``, so mutation does not slow the sensitive clone),
    ``M s >> 1`` (the sensitive clone is past its stochastic start and grows
    deterministically, ``N(t) = M x``), and the lesion is conditioned on having reached
    ``M``. Mutant arrivals are treated as a Poisson process along that trajectory.

    References
    ----------
    Iwasa Y, Nowak MA, Michor F (2006). Evolution of resistance during clonal expansion.
    Genetics 172:2557-2566. PMID 16547088.
    Komarova NL, Wodarz D (2005). Drug resistance in cancer: principles of emergence and
    prevention. PNAS 102:9714-9719. PMID 16172254.
    Bozic I et al. (2013). eLife 2:e00747. PMID 23805382.

    Examples
    --------
    >>> round(prob_resistance_at_detection(1e9, 0.14, 0.13, 1e-9, n_sites=50), 6)
    1.0
    >>> round(prob_resistance_at_detection(1e3, 1.0, 0.5, 1e-3, method="closed"), 4)
    0.75
    """
    M, b, d = _valid("M", M), _valid("b", b), _valid("d", d)
    mu = _per_cell_rate(u, n_sites)
    _supercritical(b, d)
    b_r, d_r = _resistant_rates(b, d, b_r, d_r)
    r = b - d
    if method == "closed":
        integral = _iwasa_closed_integral((b_r - d_r) / r, b_r, d_r, r)
        hazard = M * mu * b / r * integral
    elif method == "integral":
        # Integrate over tau = -log(x) / r, the clone's age at detection, for smoothness.
        def one(m_cells: float, r_s: float, br: float, dr: float) -> float:
            value, _ = integrate.quad(
                lambda tau: math.exp(-r_s * tau) * float(_survival_to(tau, br, dr)),
                0.0,
                math.log(m_cells) / r_s,
                limit=200,
            )
            return value

        hazard = M * mu * b * _elementwise(one, M, r, b_r, d_r)
    else:
        raise InputError(f"method = {method!r}: choose 'integral' or 'closed'", field="method")
    return _out(-np.expm1(-hazard))


def expected_resistant_at_detection(
    M: npt.ArrayLike,
    b: npt.ArrayLike,
    d: npt.ArrayLike,
    u: npt.ArrayLike,
    *,
    n_sites: npt.ArrayLike = 1,
    b_r: npt.ArrayLike | None = None,
    d_r: npt.ArrayLike | None = None,
    method: Literal["iwasa", "bozic", "exact"] = "iwasa",
) -> FloatOrArray:
    """Expected number of resistant cells when the sensitive clone reaches M cells.

    Same model as :func:`prob_resistance_at_detection`; the mean counts every lesion,
    including those with no resistant cell. With ``mu = n_sites * u``, ``s = 1 - d/b``,
    ``r = b - d`` and ``kappa = (b_r - d_r) / r``:

    ``"iwasa"`` (any resistant fitness; deterministic trajectory from one cell, Iwasa
    et al. 2006)::

        X = (M mu b / r) * int_{1/M}^1 x**(-kappa) dx
          = (M mu / s) * (M**(kappa - 1) - 1) / (kappa - 1)     ( = (M mu / s) log M at kappa = 1)

    ``"bozic"`` (neutral only; the one-step term of Bozic et al. 2013's ``X``, which starts
    the deterministic trajectory at ``1/s`` cells, the mean size of a surviving lineage)::

        X = M mu log(M s) / s

    ``"exact"`` (neutral only; detection when the whole lesion, resistant cells included,
    first reaches ``M``; to first order in ``mu``). With equal rates every event hits a
    uniformly chosen cell, so the resistant fraction is a martingale of the jump chain
    except at mutations, and ``X = M mu sum_z B(z) / (z + 1)``, where ``B(z)`` is the
    expected number of divisions at size ``z`` of the chain conditioned to reach ``M``.
    It is solved level by level for ``M <= EXACT_MAX_CELLS``; its asymptote (used above
    that, and within 1e-4 relative of the sum from ``M s = 500``) is::

        X = (M mu / s) * (log(M s) + gamma - s)          (gamma = Euler's constant)

    Parameters
    ----------
    M
        Detection size, sensitive cells, >= 1 (a whole number for ``"exact"``).
    b, d
        Birth and death rates of sensitive cells per day; needs ``b > d``.
    u
        Mutation rate per resistance site per division, in [0, 1).
    n_sites
        Number of resistance sites (``mu = n_sites * u``).
    b_r, d_r
        Resistant birth and death rates per day before therapy (default ``b``, ``d``).
        ``"bozic"`` and ``"exact"`` need them equal to ``b`` and ``d``.
    method
        ``"iwasa"``, ``"bozic"`` or ``"exact"``, as above.

    Returns
    -------
    float or numpy.ndarray
        Expected resistant cells at detection.

    Notes
    -----
    All three need ``mu << 1`` and ``M s >> 1``. For neutral resistance ``"iwasa"`` uses
    ``log M`` where the exact coefficient is ``log(M s) + gamma - s``, and ``"bozic"`` uses
    ``log(M s)``: at ``M = 1e9`` and ``s = 1/14`` they differ from ``"exact"`` by +11.5 % and
    -2.7 %. ``"iwasa"`` is accurate for ``kappa < 1`` (resistant cells less fit before
    therapy) up to a relative error of order ``(M s)**(kappa - 1)`` from the lesion's
    stochastic start. For ``kappa >= 1`` the mean over lesions that stop when the
    *sensitive* cells reach ``M`` is dominated by rare slow-starting lesions (the mean of
    ``M / W`` diverges), so no deterministic-trajectory form is reliable there; for the
    neutral case use ``"exact"``, which stops at total size ``M``.

    References
    ----------
    Iwasa Y, Nowak MA, Michor F (2006). Genetics 172:2557-2566. PMID 16547088.
    Bozic I et al. (2013). eLife 2:e00747, eq. for X. PMID 23805382.

    Examples
    --------
    >>> [round(expected_resistant_at_detection(1e9, 0.14, 0.13, 1e-9, n_sites=50,
    ...                                        method=m)) for m in ("iwasa", "bozic", "exact")]
    [14506, 12659, 13013]
    """
    M, b, d = _valid("M", M), _valid("b", b), _valid("d", d)
    mu = _per_cell_rate(u, n_sites)
    _supercritical(b, d)
    s = 1 - d / b
    if method == "iwasa":
        b_r, d_r = _resistant_rates(b, d, b_r, d_r)
        kappa = (b_r - d_r) / (b - d)
        return _out(M * mu / s * _growth_integral(kappa - 1, np.log(M)))
    if method not in ("bozic", "exact"):
        raise InputError(f"method = {method!r}: choose 'iwasa', 'bozic' or 'exact'", field="method")
    for field, given, own in (("b_r", b_r, b), ("d_r", d_r, d)):
        if given is not None and not np.all(_valid(field, given) == own):
            raise InputError(
                f"method {method!r} is for neutral resistance ({field} equal to the "
                "sensitive rate); use method='iwasa' for other resistant rates",
                field=field,
            )
    _require(M * s > 1, "needs M * s > 1 (the lesion must outgrow its stochastic start)", "M")
    if method == "bozic":
        return _out(M * mu * np.log(M * s) / s)
    small = M <= EXACT_MAX_CELLS
    _require(
        ~small | (np.floor(M) == M),
        "the exact method needs a whole number of cells M",
        "M",
    )
    asymptote = M * mu / s * (np.log(M * s) + np.euler_gamma - s)

    def one(m_cells: float, bb: float, dd: float) -> float:
        m_int = int(m_cells)
        up, down = _conditioned_chain(m_int, bb, dd)
        start = np.zeros(up.size)
        start[0] = 1.0
        visits = _solve_chain(up, down, start, transpose=True)
        levels = np.arange(1, m_int, dtype=float)
        return float(np.sum(visits * up / (levels + 1)))

    if not np.any(small):
        return _out(asymptote)
    # Levels are solved only where M is small enough; the placeholder 2 is never used.
    summed = M * mu * _elementwise(one, np.where(small, M, 2.0), b, d)
    return _out(np.where(small, summed, asymptote))


# --------------------------------------------------------------------------------------
# 3. Eradication under mono, dual and k-drug therapy (Bozic et al. 2013, eq. 1)
# --------------------------------------------------------------------------------------


def _pattern(key: Hashable) -> frozenset[str]:
    if isinstance(key, str):
        return frozenset((key,))
    if isinstance(key, Iterable):
        names = frozenset(str(name) for name in key)
        if names:
            return names
    raise InputError(
        f"sites key {key!r}: expected a tuple of drug names, e.g. ('A',) or ('A', 'B')",
        field="sites",
    )


def _pattern_counts(
    sites: Mapping[Hashable, float], drugs: Iterable[str] | None
) -> tuple[dict[frozenset[str], float], frozenset[str]]:
    """Sites per resistance pattern, restricted to the drugs given, and those drugs."""
    if not isinstance(sites, Mapping) or not sites:
        raise InputError(
            "sites must map resistance patterns to site counts, e.g. "
            "{('A',): 50, ('B',): 50, ('A', 'B'): 1}",
            field="sites",
        )
    raw = [(_pattern(key), float(_valid("n_sites", count))) for key, count in sites.items()]
    every = (
        frozenset().union(*(p for p, _ in raw))
        if drugs is None
        else frozenset(str(x) for x in drugs)
    )
    if not every:
        raise InputError("drugs is empty; name at least one drug given", field="drugs")
    # Only resistance to the drugs given matters: a site resisting none of them is a
    # passenger, and its carriers are counted among the sensitive cells.
    counts: dict[frozenset[str], float] = {}
    for pattern, value in raw:
        relevant = pattern & every
        if relevant:
            counts[relevant] = counts.get(relevant, 0.0) + value
    return counts, every


def _resistance_paths(
    sites: Mapping[Hashable, float], drugs: Iterable[str] | None
) -> tuple[float, list[tuple[float, float]]]:
    """Count one-step sites and, per partial pattern, the sites that complete it.

    Returns ``(n_one, [(n_P, m_P), ...])`` where ``n_one`` sums the sites whose pattern
    covers every drug, and for every other pattern ``P`` with ``n_P`` sites, ``m_P`` sums
    the sites of patterns ``Q`` with ``P | Q`` covering every drug. For two drugs this
    gives ``n1 (n2 + n12) + n2 (n1 + n12) = 2 n1 n2 + n12 (n1 + n2)`` ordered paths.
    """
    counts, every = _pattern_counts(sites, drugs)
    n_one = sum(n for p, n in counts.items() if p >= every)
    two_step = [
        (n_p, sum(n_q for q, n_q in counts.items() if (p | q) >= every))
        for p, n_p in counts.items()
        if not p >= every
    ]
    two_step = [(n_p, m_p) for n_p, m_p in two_step if n_p > 0 and m_p > 0]
    if n_one == 0 and not two_step:
        raise InputError(
            "no site, alone or paired with another, confers resistance to every drug "
            f"{sorted(every)}; eq. 1 of Bozic et al. 2013 covers one- and two-mutation "
            "paths only, so the eradication probability would be 1 by construction",
            field="sites",
        )
    return n_one, two_step


def eradication_factors(
    M: npt.ArrayLike,
    b: npt.ArrayLike,
    d: npt.ArrayLike,
    d_treated: npt.ArrayLike,
    u: npt.ArrayLike,
    sites: Mapping[Hashable, float],
    *,
    b_treated: npt.ArrayLike | None = None,
    drugs: Iterable[str] | None = None,
) -> dict[str, FloatOrArray]:
    """The four factors of eq. 1 of Bozic et al. 2013, ``p_erad = p1_up p1_down p2_up p2_down``.

    Before treatment every cell type divides at ``b`` and dies at ``d`` per day; the lesion
    grows from one cell to ``M`` cells, then treatment starts. During treatment cells
    sensitive to at least one drug divide at ``b'`` (``b_treated``, default ``b``) and die
    at ``d'`` (``d_treated``); fully resistant cells keep ``b`` and ``d``. With
    ``s = 1 - d/b > 0``, ``s' = 1 - d'/b' < 0``, ``k = (s' - s) / (s s') > 0``, ``n_one``
    the sites resistant to every drug and, for each partial pattern ``P`` (``n_P`` sites),
    ``m_P`` the sites completing it (see below)::

        p1_up   = exp(-M u n_one)                       one-step lineage before treatment
        p1_down = exp(M u n_one s / s')                 one-step lineage during treatment
        p2_up   = exp(M u^2 k sum_P n_P m_P log(1/(s M) + u m_P k))
        p2_down = exp(-M u^2 (sum_P n_P m_P) s / s'^2)

    For two drugs with ``n1``, ``n2`` single-drug sites and ``n12`` cross-resistance sites
    these are exactly the paper's formulas (``sum_P n_P m_P = 2 n1 n2 + n12 (n1 + n2)``).
    For ``k`` drugs a pattern ``P`` is completed by a site of pattern ``Q`` when ``P | Q``
    covers every drug; paths needing three or more mutations are dropped (they are a
    factor ``O(u)`` rarer).

    Parameters
    ----------
    M
        Lesion size at the start of treatment, cells.
    b, d
        Birth and death rates per day before treatment (all types); needs ``b > d``.
    d_treated
        Death rate per day of cells sensitive to at least one drug during treatment;
        needs ``d_treated > b_treated``.
    u
        Point-mutation rate per site per division, in [0, 1).
    sites
        Map from resistance pattern (a tuple of drug names) to the number of sites
        conferring it, e.g. ``{("A",): 50, ("B",): 50, ("A", "B"): 1}``.
    b_treated
        Birth rate per day of sensitive cells during treatment (default ``b``).
    drugs
        The drugs given (default: every drug named in ``sites``). Patterns are restricted
        to these drugs, so ``sites`` may describe more drugs than are used; a site that
        resists none of them is ignored (its carriers are sensitive).

    Returns
    -------
    dict
        Keys ``"p1_up"``, ``"p1_down"``, ``"p2_up"``, ``"p2_down"``, each a probability.

    Notes
    -----
    Asymptotic in large ``M`` and small ``u``: needs ``M s >> 1``, ``M u n_one`` of order 1
    or less for the one-step factors to be informative, and ``1/(s M) + u m_P k < 1``
    (else the logarithm in ``p2_up`` changes sign and the formula does not apply).

    References
    ----------
    Bozic I, Reiter JG, Allen B, et al. (2013). Evolutionary dynamics of cancer in
    response to targeted combination therapy. eLife 2:e00747, eq. 1. PMID 23805382.
    Komarova NL, Wodarz D (2005). PNAS 102:9714-9719. PMID 16172254.
    Michor F, Nowak MA, Iwasa Y (2006). Evolution of resistance to cancer therapy.
    Curr Pharm Des 12:261-271. PMID 16454743.

    Examples
    --------
    >>> f = eradication_factors(1e9, 0.14, 0.13, 0.17, 1e-9,
    ...                         {("A",): 50, ("B",): 50, ("A", "B"): 1})
    >>> {k: round(v, 5) for k, v in f.items()}
    {'p1_up': 0.36788, 'p1_down': 0.71653, 'p2_up': 0.99868, 'p2_down': 0.99999}
    """
    M, b, d = _valid("M", M), _valid("b", b), _valid("d", d)
    d_t = _valid("d_treated", d_treated)
    b_t = b if b_treated is None else _valid("b_treated", b_treated)
    u = _valid("u", u)
    _supercritical(b, d)
    _require(
        d_t > b_t,
        "treatment must make sensitive cells decline: needs d_treated > b_treated",
        "d_treated",
    )
    n_one, two_step = _resistance_paths(sites, drugs)
    s = 1 - d / b
    s_t = 1 - d_t / b_t
    k = (s_t - s) / (s * s_t)
    p1_up = np.exp(-M * u * n_one)
    p1_down = np.exp(M * u * n_one * s / s_t)
    log_sum = np.zeros(np.broadcast(M, s, k, u).shape)
    for n_p, m_p in two_step:
        argument = 1 / (s * M) + u * m_p * k
        _require(
            argument < 1,
            "p2_up is outside its range of validity: needs 1/(s M) + u m k < 1 "
            "(a larger lesion or a smaller mutation rate)",
            "M",
        )
        log_sum = log_sum + n_p * m_p * np.log(argument)
    paths = sum(n_p * m_p for n_p, m_p in two_step)
    p2_up = np.exp(M * u**2 * k * log_sum)
    p2_down = np.exp(-M * u**2 * paths * s / s_t**2)
    return {
        "p1_up": _out(p1_up),
        "p1_down": _out(p1_down),
        "p2_up": _out(p2_up),
        "p2_down": _out(p2_down),
    }


def prob_eradication(
    M: npt.ArrayLike,
    b: npt.ArrayLike,
    d: npt.ArrayLike,
    d_treated: npt.ArrayLike,
    u: npt.ArrayLike,
    sites: Mapping[Hashable, float],
    *,
    b_treated: npt.ArrayLike | None = None,
    drugs: Iterable[str] | None = None,
) -> FloatOrArray:
    """Probability that therapy eradicates a lesion of M cells (Bozic et al. 2013, eq. 1).

    The product of the four factors of :func:`eradication_factors`: no lineage resistant
    to every drug arises (by one or two mutations, before or during treatment) and
    survives. Same parameters and conditions of validity as :func:`eradication_factors`.

    Parameters
    ----------
    M
        Lesion size at the start of treatment, cells.
    b, d
        Birth and death rates per day before treatment; needs ``b > d``.
    d_treated
        Death rate per day of sensitive cells during treatment (> ``b_treated``).
    u
        Point-mutation rate per site per division.
    sites
        Resistance pattern (tuple of drug names) to number of sites.
    b_treated
        Birth rate per day of sensitive cells during treatment (default ``b``).
    drugs
        The drugs given (default: every drug named in ``sites``).

    Returns
    -------
    float or numpy.ndarray
        Eradication probability in [0, 1].

    References
    ----------
    Bozic I et al. (2013). eLife 2:e00747, eq. 1, Figure 3 and Table 1. PMID 23805382.

    Examples
    --------
    >>> dual = {("A",): 50, ("B",): 50}
    >>> round(prob_eradication(1e9, 0.14, 0.13, 0.17, 1e-9, dual), 4)
    0.9987
    >>> round(prob_eradication(1e9, 0.14, 0.13, 0.17, 1e-9, {**dual, ("A", "B"): 1}), 3)
    0.263
    """
    f = eradication_factors(M, b, d, d_treated, u, sites, b_treated=b_treated, drugs=drugs)
    return _out(np.asarray(f["p1_up"]) * f["p1_down"] * f["p2_up"] * f["p2_down"])


def prob_eradication_mono(
    M: npt.ArrayLike,
    b: npt.ArrayLike,
    d: npt.ArrayLike,
    d_treated: npt.ArrayLike,
    u: npt.ArrayLike,
    n_sites: float,
    *,
    b_treated: npt.ArrayLike | None = None,
) -> FloatOrArray:
    """Probability that monotherapy eradicates a lesion of M cells.

    Eq. 1 of Bozic et al. 2013 with one drug: ``exp(-M u n) * exp(M u n s / s')``, where
    ``n = n_sites`` sites confer resistance, ``s = 1 - d/b`` and ``s' = 1 - d'/b'``.

    Parameters
    ----------
    M
        Lesion size at the start of treatment, cells.
    b, d
        Birth and death rates per day before treatment; needs ``b > d``.
    d_treated
        Death rate per day of sensitive cells during treatment (> ``b_treated``).
    u
        Point-mutation rate per site per division.
    n_sites
        Number of sites conferring resistance to the drug.
    b_treated
        Birth rate per day of sensitive cells during treatment (default ``b``).

    Returns
    -------
    float or numpy.ndarray
        Eradication probability in [0, 1].

    References
    ----------
    Bozic I et al. (2013). eLife 2:e00747, eq. 1. PMID 23805382.
    Komarova NL, Wodarz D (2005). PNAS 102:9714-9719. PMID 16172254.

    Examples
    --------
    >>> prob_eradication_mono(1e9, 0.14, 0.13, 0.17, 1e-9, 50) < 1e-20
    True
    """
    return prob_eradication(M, b, d, d_treated, u, {("drug",): n_sites}, b_treated=b_treated)


# --------------------------------------------------------------------------------------
# 4. Times: reaching M cells, and the first surviving resistant mutant
# --------------------------------------------------------------------------------------


def _mean_digamma_surviving(n0: float, s: float) -> float:
    """``E[psi(K) | K >= 1]`` for ``K ~ Binomial(n0, s)``: surviving founding lineages."""
    mean, sd = n0 * s, math.sqrt(n0 * s * (1 - s))
    if sd * 80 > 200_000:  # many lineages: second-order delta method is exact to O(1/K^3)
        return float(special.digamma(mean) + 0.5 * special.polygamma(2, mean) * sd**2)
    lo = max(1, int(mean - 40 * sd))
    hi = min(int(n0), int(mean + 40 * sd) + 1)
    k = np.arange(lo, hi + 1)
    pmf = stats.binom.pmf(k, int(n0), s)
    return float(np.sum(pmf * special.digamma(k)) / np.sum(pmf))


def mean_hitting_time(
    M: npt.ArrayLike,
    b: npt.ArrayLike,
    d: npt.ArrayLike,
    *,
    n0: npt.ArrayLike = 1,
    method: Literal["exact", "approx"] = "approx",
) -> FloatOrArray:
    """Mean time in days for a birth-death process from ``n0`` cells to first reach M cells.

    Conditioned on reaching ``M`` (for ``M s >> 1`` the same as on non-extinction).

    ``"approx"``: given survival, ``N(t) exp(-r t)`` converges to ``W``, a Gamma(K, rate s)
    variable where ``K ~ Binomial(n0, s)`` (conditioned on ``K >= 1``) counts the founding
    cells whose lineages survive, ``s = 1 - d/b`` and ``r = b - d``. Then
    ``T ~ log(M / W) / r`` and::

        E[T] = (log(M s) - E[psi(K) | K >= 1]) / r

    which is ``(log(M s) + gamma) / r`` from one cell (``gamma`` = Euler's constant,
    ``psi`` the digamma function) and tends to ``log(M / n0) / r`` for ``n0 s >> 1``.

    ``"exact"``: the mean first-passage time of the jump chain conditioned (Doob
    h-transform) to hit ``M`` before 0, solved level by level (``M <= EXACT_MAX_CELLS``).

    Parameters
    ----------
    M
        Target size, cells (a whole number > ``n0`` for ``"exact"``).
    b, d
        Birth and death rates per cell per day; needs ``b > d``.
    n0
        Starting number of cells, whole, >= 1.
    method
        ``"approx"`` or ``"exact"``.

    Returns
    -------
    float or numpy.ndarray
        Mean hitting time in days.

    Notes
    -----
    ``"approx"`` needs ``M s >> 1`` and ``M >> n0``; its error is of order ``1 / (M r)``
    days (3e-4 days of 18.19 at ``M = 1e4``, ``b = 1``, ``d = 0.5``).

    References
    ----------
    Kendall DG (1948). Ann Math Stat 19:1-15 (the limit ``W`` is exponential given survival).
    Durrett R (2015). Branching Process Models of Cancer, sect. 1.4. Springer.

    Examples
    --------
    >>> round(mean_hitting_time(1e9, 0.14, 0.13), 1)
    1866.1
    """
    M, b, d, n0 = _valid("M", M), _valid("b", b), _valid("d", d), _valid("n0", n0)
    _supercritical(b, d)
    _require(n0 < M, "the target size M must exceed the starting size n0", "M")
    if method == "approx":
        s = 1 - d / b
        mean_psi = _elementwise(_mean_digamma_surviving, n0, s)
        return _out((np.log(M * s) - mean_psi) / (b - d))
    if method != "exact":
        raise InputError(f"method = {method!r}: choose 'exact' or 'approx'", field="method")
    _exact_size(M, n0)

    def one(m_cells: float, bb: float, dd: float, start: float) -> float:
        up, down = _conditioned_chain(int(m_cells), bb, dd)
        levels = np.arange(1, int(m_cells), dtype=float)
        times = _solve_chain(up, down, 1 / ((bb + dd) * levels), transpose=False)
        return float(times[int(start) - 1])

    return _out(_elementwise(one, M, b, d, n0))


def _riccati_roots(b: float, d: float, mu: float, s_r: float) -> tuple[float, float, float]:
    """Roots of ``A q^2 + B q + C`` as ``(A, y1, y2)`` with ``q = 1 + y``, ``y1 < 0 < y2``.

    ``q`` is the probability that one sensitive cell's lineage founds no surviving
    resistant lineage; ``A = b (1 - mu)``, ``B = b mu (1 - s_r) - (b + d)``, ``C = d``.
    Shifted to ``y = q - 1`` the polynomial is ``A y^2 + beta y - b mu s_r``, which keeps
    ``y2 ~ mu s_r / s`` accurate when ``mu`` is tiny.
    """
    a = b * (1 - mu)
    beta = (b - d) - b * mu * (1 + s_r)
    root = math.sqrt(beta * beta + 4 * a * b * mu * s_r)
    y2 = 2 * b * mu * s_r / (beta + root) if beta > 0 else (root - beta) / (2 * a)
    y1 = -(beta + root) / (2 * a)
    return a, y1, y2


def mean_time_to_resistance(
    b: npt.ArrayLike,
    d: npt.ArrayLike,
    u: npt.ArrayLike,
    *,
    n0: npt.ArrayLike = 1,
    n_sites: npt.ArrayLike = 1,
    b_r: npt.ArrayLike | None = None,
    d_r: npt.ArrayLike | None = None,
    method: Literal["exact", "poisson"] = "exact",
) -> FloatOrArray:
    """Mean time in days until the first resistant mutant whose lineage survives forever.

    A sensitive population starts from ``n0`` cells at day 0 (birth ``b``, death ``d``);
    each division makes a resistant daughter with probability ``mu = n_sites * u``, whose
    lineage (``b_r``, ``d_r``, default ``b``, ``d``) survives forever with probability
    ``s_r = 1 - d_r / b_r``. ``T*`` is the birth time of the first such daughter, and the
    mean is conditioned on ``T* < infinity`` (it is infinite otherwise, e.g. when the
    sensitive population dies out first).

    ``"exact"``: ``q(t)``, the probability that one sensitive cell's lineage has founded no
    surviving resistant lineage by ``t``, solves the Riccati equation
    ``q' = b (1 - mu) q^2 + (b mu (1 - s_r) - b - d) q + d``, ``q(0) = 1``; with roots
    ``q1 < 1 < q2``, ``q(t) = q1 + (q2 - q1) / (1 + c exp(A (q2 - q1) t))``,
    ``c = (q2 - 1) / (1 - q1)``, ``A = b (1 - mu)``. From one cell::

        E[T* | T* < inf] = log((q2 - q1) / (q2 - 1)) / (A (1 - q1))
                         ~ log(s^2 / (mu s_r)) / r        (mu -> 0)

    and from ``n0`` cells ``int_0^inf (q(t)**n0 - q1**n0) dt / (1 - q1**n0)`` by quadrature.

    ``"poisson"``: surviving mutants arrive as a Poisson process with rate
    ``mu b s_r N(t)`` along the deterministic trajectory ``N(t) = n0 exp(r t)``; with
    ``lam = mu b s_r n0 / r``::

        E[T*] = exp(lam) E1(lam) / r  ~  (log(1 / lam) - gamma) / r

    Parameters
    ----------
    b, d
        Birth and death rates of sensitive cells per day; needs ``b > d``.
    u
        Mutation rate per resistance site per division, in (0, 1).
    n0
        Starting number of sensitive cells, whole, >= 1.
    n_sites
        Number of resistance sites (``mu = n_sites * u``), > 0.
    b_r, d_r
        Resistant birth and death rates per day (default ``b``, ``d``); needs
        ``b_r > d_r``.
    method
        ``"exact"`` or ``"poisson"``.

    Returns
    -------
    float or numpy.ndarray
        Mean waiting time in days.

    Notes
    -----
    ``"exact"`` is exact for the two-type branching process (no other assumption). The
    ``"poisson"`` form ignores the randomness of the sensitive trajectory; it needs
    ``n0 s >> 1`` (it agrees with ``"exact"`` to 0.2 % at ``n0 = 1000``, ``s = 0.5``).
    From one cell it exceeds the exact mean by about ``-(log s + gamma) / r`` days,
    because a surviving clone's size is ``W exp(r t)`` with random ``W`` of mean
    ``1 / s`` rather than ``exp(r t)``.

    References
    ----------
    Kendall DG (1948). Ann Math Stat 19:1-15.
    Iwasa Y, Michor F, Nowak MA (2004). Stochastic tunnels in evolutionary dynamics.
    Genetics 166:1571-1579. PMID 15082570.
    Durrett R, Moseley S (2010). Evolution of resistance and progression to disease during
    clonal expansion of cancer. Theor Popul Biol 77:42-48. PMID 19896491.

    Examples
    --------
    >>> round(mean_time_to_resistance(0.14, 0.13, 1e-9, n_sites=50), 1)
    1417.2
    """
    b, d = _valid("b", b), _valid("d", d)
    mu = _per_cell_rate(u, n_sites)
    n0 = _valid("n0", n0)
    _supercritical(b, d)
    _require(mu > 0, "needs u * n_sites > 0 (no resistant cell can ever arise)", "u")
    b_r, d_r = _resistant_rates(b, d, b_r, d_r)
    _supercritical(b_r, d_r, what="a resistant lineage", field="d_r")
    s_r = 1 - d_r / b_r
    if method == "poisson":
        lam = mu * b * s_r * n0 / (b - d)
        return _out(_exp_e1(lam) / (b - d))
    if method != "exact":
        raise InputError(f"method = {method!r}: choose 'exact' or 'poisson'", field="method")

    def one(bb: float, dd: float, m: float, sr: float, start: float) -> float:
        a, y1, y2 = _riccati_roots(bb, dd, m, sr)
        spread = y2 - y1
        if start == 1:
            return math.log(spread / y2) / (a * -y1)
        q1 = 1 + y1
        lam = a * spread
        c = y2 / -y1
        never = q1**start

        # Integrate over w = log(c) + lam t, where q = q1 + spread / (1 + exp(w)).
        def integrand(w: float) -> float:
            y = y1 + spread * special.expit(-w)
            return (math.exp(start * math.log1p(y)) - never) / lam

        # Flat at (1 - never) / lam until n0 (1 - q) ~ 1, i.e. w ~ -log(n0 (1 - q1)),
        # then falling at least as fast as exp(-w).
        w0 = math.log(c)
        knee = -math.log(start * -y1)
        top = max(w0, knee, 0.0) + 50.0
        points = [p for p in (knee, 0.0) if w0 < p < top]
        value, _ = integrate.quad(integrand, w0, top, points=points or None, limit=400)
        return value / (1 - never)

    return _out(_elementwise(one, b, d, mu, s_r, n0))


# --------------------------------------------------------------------------------------
# 5. Combination therapy: cells resistant to every drug, exact lineage fates, sequences
# --------------------------------------------------------------------------------------


def _resistance_chains(counts: dict[frozenset[str], float], every: frozenset[str]) -> list[float]:
    """``C_j``: ordered sequences of ``j`` sites, each adding a drug, ending resistant to all.

    Each step must enlarge the set of drugs resisted (a second site for a drug already
    resisted leaves the cell in its class). For two drugs ``C_1 = n12`` and
    ``C_2 = 2 n1 n2 + n12 (n1 + n2)``; for ``k`` drugs with single-drug sites only
    ``C_k = k! n1 ... nk``.
    """
    chains: list[float] = []
    states: dict[frozenset[str], float] = {frozenset(): 1.0}
    for _ in range(len(every)):
        done = 0.0
        nxt: dict[frozenset[str], float] = {}
        for held, ways in states.items():
            for pattern, n in counts.items():
                union = held | pattern
                if union == held or n == 0:
                    continue
                if union >= every:
                    done += ways * n
                else:
                    nxt[union] = nxt.get(union, 0.0) + ways * n
        chains.append(done)
        states = nxt
    return chains


def expected_resistant_to_all(
    M: npt.ArrayLike,
    b: npt.ArrayLike,
    d: npt.ArrayLike,
    u: npt.ArrayLike,
    sites: Mapping[Hashable, float],
    *,
    drugs: Iterable[str] | None = None,
) -> FloatOrArray:
    """Expected cells resistant to every drug of a combination at the start of treatment.

    Bozic et al. 2013 (Results, the equation for ``X``): with ``mu = (u / s) log(M s)``,
    ``s = 1 - d/b``, and two drugs with ``n1``, ``n2`` single-drug and ``n12``
    cross-resistance sites::

        X = M [n12 mu + (n1 n2 + (n12 / 2)(n1 + n2 - n12)) mu^2]

    which is ``M n12 mu`` when ``n12 >= 1`` and ``M n1 n2 mu^2`` when ``n12 = 0``, and for
    ``k`` drugs without cross-resistance ``M n1 ... nk mu^k``. For any resistance pattern
    (``sites`` as in :func:`prob_eradication`) this function evaluates::

        X = M [sum_j C_j mu^j / j!  -  n_one^2 mu^2 / 2]

    where ``C_j`` counts the ordered sequences of ``j`` sites, each adding resistance to at
    least one more drug, that end resistant to all, and ``n_one = C_1``. ``mu^j / j!`` is
    the deterministic-growth weight of a ``j``-step path (Luria-Delbrueck), and the last
    term is the paper's ``-n12^2 mu^2 / 2``; for two drugs the sum is exactly the paper's
    expression, for ``k`` drugs with single-drug sites it is ``M n1 ... nk mu^k``.

    Parameters
    ----------
    M
        Lesion size at the start of treatment, cells (needs ``M s > 1``).
    b, d
        Birth and death rates per day before treatment (every type); needs ``b > d``.
    u
        Point-mutation rate per site per division.
    sites
        Resistance pattern (tuple of drug names) to number of sites, e.g.
        ``{("A",): 50, ("B",): 50, ("A", "B"): 1}``.
    drugs
        The drugs given (default: every drug named in ``sites``).

    Returns
    -------
    float or numpy.ndarray
        Expected cells resistant to every drug (mean over lesions, including those with
        none).

    Notes
    -----
    Neutral resistance before treatment, ``mu << 1``. ``log(M s)`` is Bozic's coefficient;
    the exact one-step coefficient is ``log(M s) + gamma - s`` (see
    :func:`expected_resistant_at_detection`, ``method="exact"``), 2.7 % higher at
    ``M = 1e9``, ``s = 1/14``. The paper's Figure 2E example says "~100" cross-resistant
    cells; the formula gives 253 at ``M = 1e9`` with the default rates and ``n12 = 1``
    (Figure 2E is one simulated lesion, and the count is random).

    References
    ----------
    Bozic I et al. (2013). eLife 2:e00747, Results (``X``) and Supplementary file 1.
    PMID 23805382.

    Examples
    --------
    >>> round(expected_resistant_to_all(1e9, 0.14, 0.13, 1e-9,
    ...                                 {("A",): 50, ("B",): 50, ("A", "B"): 1}))
    253
    >>> round(expected_resistant_to_all(1e9, 0.14, 0.13, 1e-9, {("A",): 50, ("B",): 50}), 3)
    0.16
    """
    M, b, d, u = _valid("M", M), _valid("b", b), _valid("d", d), _valid("u", u)
    _supercritical(b, d)
    s = 1 - d / b
    _require(M * s > 1, "needs M * s > 1 (the lesion must outgrow its stochastic start)", "M")
    counts, every = _pattern_counts(sites, drugs)
    chains = _resistance_chains(counts, every)
    if not any(chains):
        raise InputError(
            f"no combination of sites confers resistance to every drug {sorted(every)}",
            field="sites",
        )
    mu = u / s * np.log(M * s)
    total = sum(c * mu ** (j + 1) / math.factorial(j + 1) for j, c in enumerate(chains))
    return _out(M * (total - chains[0] ** 2 * mu**2 / 2))


def _failure_root(b: float, d: float, p: float, w: float) -> float:
    """Probability that one cell's lineage fails, at constant rates.

    "Fails" means: survives forever, or founds a mutant lineage that fails. The cell
    divides at ``b`` and dies at ``d`` per day; a division gives a mutant daughter with
    probability ``p``, which fails with average probability ``w / p``. ``y`` is the
    non-negative root of ``b (1 - p) y^2 + (d - b + b p + b w) y - b w = 0``, the fixed
    point of the lineage's generating function (written in ``y = 1 - q`` to keep the
    precision of tiny ``y``).
    """
    a = b * (1 - p)
    lin = d - b + b * p + b * w
    c = b * w
    if a == 0:
        return c / lin if lin > 0 else 1.0
    root = math.sqrt(lin * lin + 4 * a * c)
    return 2 * c / (lin + root) if lin > 0 else (root - lin) / (2 * a)


def _riccati_failure(
    tau: np.ndarray, b: float, d: float, p: float, w: float, y0: float
) -> np.ndarray:
    """Failure probability of one cell ``tau`` days before the rates change to those of ``y0``.

    Solves ``dy/dtau = b w - (d - b + b p + b w) y - b (1 - p) y^2``, ``y(0) = y0``, in
    closed form: with roots ``y1 < 0 <= y2`` and ``R = K exp(-a (y2 - y1) tau)``,
    ``K = (y0 - y2) / (y0 - y1)``, ``y = (y2 - R y1) / (1 - R)``.
    """
    a = b * (1 - p)
    lin = d - b + b * p + b * w
    y2 = _failure_root(b, d, p, w)
    y1 = -(lin + a * y2) / a if y2 > 0 else -lin / a
    if y1 >= 0:  # w = 0 and a supercritical cell: roots 0 and s; use the negative one
        y1 = min(y1, -1e-300)
    k = (y0 - y2) / (y0 - y1)
    r = k * np.exp(-a * (y2 - y1) * np.asarray(tau, dtype=float))
    return (y2 - r * y1) / (1 - r)


def _dual_rates(b, d, b_t, d_t, cost):
    """Birth rates of one- and two-mutation cells before and during dual therapy.

    Each resistance mutation multiplies the net growth ``r = b - d`` by ``1 - cost``
    through a lower birth rate (Bozic et al. 2013, Table 2 footnote); cells sensitive to
    a drug given die at ``d_t`` and divide at ``b_t`` less the same birth-rate cost.
    """
    r = b - d
    b1, b2 = d + r * (1 - cost), d + r * (1 - cost) ** 2
    return b1, b2, b_t - (b - b1)


def _one_prob_eradication_dual(
    m_cells: float,
    b: float,
    d: float,
    d_t: float,
    u: float,
    b_t: float,
    cost: float,
    n1: float,
    n2: float,
    n12: float,
) -> float:
    r = b - d
    s = r / b
    b1, b2, b1_t = _dual_rates(b, d, b_t, d_t, cost)
    s1, s2 = 1 - d / b1, 1 - d / b2  # fully resistant lineages survive (rates kept)
    # During treatment (constant rates): a single-drug-resistant cell declines and fails
    # through a second mutation; a sensitive cell fails through any path.
    paths = {"A": n2 + n12, "B": n1 + n12}
    y_treated = {k: _failure_root(b1_t, d_t, u * m, u * m * s2) for k, m in paths.items()}
    w00 = u * (n1 * y_treated["A"] + n2 * y_treated["B"] + n12 * s1)
    y00 = _failure_root(b_t, d_t, u * (n1 + n2 + n12), w00)
    # Before treatment: mutants arise at b u n N(t) along N = M exp(-r tau), tau days
    # before treatment, back to the size exp(s - gamma)/s where the deterministic
    # trajectory stands for the lesion's stochastic start (exact for one-step means).
    tau_max = (math.log(m_cells * s) + np.euler_gamma - s) / r

    def hazard(tau: float) -> float:
        one_step = n12 * s1
        two_step = sum(
            n * float(_riccati_failure(tau, b1, d, u * m, u * m * s2, y_treated[k]))
            for k, n, m in (("A", n1, paths["A"]), ("B", n2, paths["B"]))
        )
        return math.exp(-r * tau) * (one_step + two_step)

    before, _ = integrate.quad(hazard, 0.0, tau_max, limit=400)
    return math.exp(-b * u * m_cells * before + m_cells * math.log1p(-y00))


def prob_eradication_dual(
    M: npt.ArrayLike,
    b: npt.ArrayLike,
    d: npt.ArrayLike,
    d_treated: npt.ArrayLike,
    u: npt.ArrayLike,
    *,
    n1: float = 50,
    n2: float = 50,
    n12: float = 0,
    cost: npt.ArrayLike = 0.0,
    b_treated: npt.ArrayLike | None = None,
) -> FloatOrArray:
    """Probability that two drugs given together eradicate a lesion, with exact lineage fates.

    The model of Bozic et al. 2013 (types 00, 10, 01, 11; treatment from ``M`` cells), with
    the fitness cost of their Table 2: each resistance mutation multiplies the net growth
    rate ``r = b - d`` by ``1 - cost`` through a lower birth rate, so one-mutation cells
    divide at ``d + r (1 - cost)`` and two-mutation cells at ``d + r (1 - cost)^2`` before
    treatment; fully resistant cells keep those rates during treatment, and cells resistant
    to one drug die at ``d_treated`` and divide at ``b_treated`` less the same cost.

    Iwasa's integral form generalised to two steps: the sensitive bulk is deterministic,
    ``N = M exp(-r tau)`` ``tau`` days before treatment; mutants arise from it as a
    Poisson stream; every mutant lineage is followed exactly through its generating
    function. A single-drug-resistant cell alive ``tau`` days before treatment fails
    (founds a fully resistant lineage that survives) with probability ``y(tau)``, the
    closed-form solution of a Riccati equation started at its fixed point under
    treatment, and::

        log p_erad = -b u M int_0^tau_max exp(-r tau) [n12 s1 + n1 y_A(tau) + n2 y_B(tau)] dtau
                     + M log(1 - y_00)

    with ``s1`` the survival of a cross-resistant lineage and ``y_00`` the failure
    probability of a sensitive cell under treatment (fixed point, paths through 10, 01
    and 11). ``tau_max = (log(M s) + gamma - s) / r`` places the start of the deterministic
    trajectory where it gives the exact mean number of one-step mutants (see
    :func:`expected_resistant_at_detection`).

    Parameters
    ----------
    M
        Lesion size at the start of treatment, cells.
    b, d
        Birth and death rates of sensitive cells per day before treatment; ``b > d``.
    d_treated
        Death rate per day, during treatment, of cells sensitive to at least one drug.
    u
        Point-mutation rate per site per division.
    n1, n2, n12
        Sites conferring resistance to drug 1 only, drug 2 only, and both.
    cost
        Fractional loss of net growth rate per resistance mutation, in [0, 1).
    b_treated
        Birth rate per day of sensitive cells during treatment (default ``b``).

    Returns
    -------
    float or numpy.ndarray
        Eradication probability.

    Notes
    -----
    Without cost this agrees with eq. 1 (:func:`prob_eradication`) at ``M = 1e9``: 0.26327
    vs 0.26325 (``n12 = 1``) and 0.99877 vs 0.99870 (``n12 = 0``). It needs ``M s >> 1``
    and ``u << 1``; paths of three or more mutations are left out. It reproduces every
    row of Bozic's Table 2 (their simulations, two decimals) to within 0.01, for example
    failure at ``M = 1e11``, ``b = 1``, ``d = 0.99``, ``d' = 1.03``, ``n12 = 0``: 0.528,
    0.504, 0.415, 0.318 for ``cost`` = 0, 0.01, 0.05, 0.1 (paper: 0.53, 0.51, 0.42, 0.32);
    :func:`oncoresist.evolve.bozic.simulate_simultaneous` checks it by exact simulation.

    References
    ----------
    Bozic I et al. (2013). eLife 2:e00747, eq. 1 and Table 2. PMID 23805382.
    Iwasa Y, Nowak MA, Michor F (2006). Genetics 172:2557-2566. PMID 16547088.

    Examples
    --------
    >>> round(prob_eradication_dual(1e9, 0.14, 0.13, 0.17, 1e-9, n12=1), 3)
    0.263
    """
    M, b, d = _valid("M", M), _valid("b", b), _valid("d", d)
    d_t = _valid("d_treated", d_treated)
    b_t = b if b_treated is None else _valid("b_treated", b_treated)
    u, cost = _valid("u", u), _valid("cost", cost)
    counts = [_valid(name, n, rule="n_sites") for name, n in (("n1", n1), ("n2", n2), ("n12", n12))]
    _supercritical(b, d)
    _require(d_t > b_t, "treatment must make sensitive cells decline: needs d_treated > "
             "b_treated", "d_treated")  # fmt: skip
    _require(M * (1 - d / b) > 1, "needs M * s > 1 (the lesion must outgrow its start)", "M")
    _require(u * (counts[0] + counts[1] + counts[2]) < 1, "u * (n1 + n2 + n12) is a "
             "probability per division and must be < 1", "u")  # fmt: skip
    return _out(_elementwise(_one_prob_eradication_dual, M, b, d, d_t, u, b_t, cost, *counts))


def sequential_therapy(
    M: npt.ArrayLike,
    b: npt.ArrayLike,
    d: npt.ArrayLike,
    d_treated: npt.ArrayLike,
    u: npt.ArrayLike,
    *,
    n1: float = 50,
    n2: float = 50,
    n12: float = 0,
    b_treated: npt.ArrayLike | None = None,
) -> dict[str, FloatOrArray]:
    """Failure of sequential therapy (drug 1 until relapse at ``M`` cells, then drug 2).

    Bozic et al. 2013, Figure 5: sequential therapy fails almost surely, because the
    relapse under drug 1 is a population of ``~M`` cells resistant to drug 1, whose
    divisions (about ``M b / r``) make ``~M u (n2 + n12)`` surviving lineages resistant to
    both drugs. The paper splits the failures by origin. "Present at the start of
    treatment" are the cases in which simultaneous therapy fails too, probability
    ``1 - p_erad`` (eq. 1, :func:`prob_eradication`); the rest, ``p_erad``, fail through
    resistance that develops during drug 1. So the 73.7 % / 26.3 % split of Figure 5A
    (``n12 = 1``, ``M = 1e9``) is ``1 - p_erad`` and ``p_erad`` of simultaneous therapy,
    in closed form from the four factors: with ``p1_up = exp(-1) = 0.368`` and
    ``p1_down = 0.717`` alone it would be ``1 - p1_up p1_down = 0.736``; the two-step
    factors bring it to 0.737. The split is not ``p1_up`` itself: a fully resistant
    lineage that is already there *and survives* exists in ``1 - p1_up p2_up' = 0.632``
    of lesions (``p2_up'``: two-step lineages completed before treatment); Bozic's
    "present at the start" also counts the cross-resistant lineages that sensitive cells
    found while they decline under drug 1 (``p1_down``), as simultaneous therapy would.

    With ``s = 1 - d/b``, ``s' = 1 - d'/b'``, ``p_mono`` the chance that drug 1 alone
    eradicates (``n1 + n12`` sites) and ``p_erad`` eq. 1::

        P(fail) = 1 - p_mono - (1 - p_mono) p_erad exp(-M u (n2 + n12) (1 + s / (-s')))

    the last factor being no drug-2-resistant lineage from the relapse (its growth, and
    its decline under drug 2).

    Parameters
    ----------
    M
        Lesion size at the start of drug 1 and at relapse (the switch), cells.
    b, d
        Birth and death rates per day before treatment and of resistant cells.
    d_treated
        Death rate per day of cells sensitive to the drug being given.
    u
        Point-mutation rate per site per division.
    n1, n2, n12
        Sites conferring resistance to drug 1 only, drug 2 only, and both.
    b_treated
        Birth rate per day of sensitive cells during treatment (default ``b``).

    Returns
    -------
    dict
        ``"p_failure"`` (sequential therapy), ``"p_eradication_simultaneous"`` (eq. 1),
        ``"from_before_drug_1"`` and ``"from_during_drug_1"`` (Bozic's split, fractions of
        the failures) and ``"p_resistant_lineage_at_start"`` (a surviving fully resistant
        lineage present when drug 1 starts: ``1 - p1_up p2_up'``).

    Notes
    -----
    Leading order in ``u``, as eq. 1. :func:`oncoresist.evolve.bozic.simulate_sequential`
    checks the numbers by exact simulation.

    References
    ----------
    Bozic I et al. (2013). eLife 2:e00747, Figure 5 and Figure 5-figure supplement 1.
    PMID 23805382.

    Examples
    --------
    >>> out = sequential_therapy(1e9, 0.14, 0.13, 0.17, 1e-9, n12=1)
    >>> round(out["p_failure"], 6), round(out["from_before_drug_1"], 3)
    (1.0, 0.737)
    """
    counts = {name: float(_valid(name, n, rule="n_sites")) for name, n in
              (("n1", n1), ("n2", n2), ("n12", n12))}  # fmt: skip
    sites = {("1",): counts["n1"], ("2",): counts["n2"]}
    if counts["n12"]:
        sites[("1", "2")] = counts["n12"]
    kwargs = {"b_treated": b_treated}
    p_erad = np.asarray(prob_eradication(M, b, d, d_treated, u, sites, **kwargs))
    p_mono = np.asarray(
        prob_eradication_mono(M, b, d, d_treated, u, counts["n1"] + counts["n12"], **kwargs)
    )
    M, b, d, u = _valid("M", M), _valid("b", b), _valid("d", d), _valid("u", u)
    b_t = b if b_treated is None else _valid("b_treated", b_treated)
    s, s_t = 1 - d / b, 1 - _valid("d_treated", d_treated) / b_t
    drug_2 = counts["n2"] + counts["n12"]
    relapse_clean = np.exp(-M * u * drug_2 * (1 + s / -s_t))
    p_fail = (1 - p_mono) * (1 - p_erad * relapse_clean)
    # Fully resistant lineages completed before treatment: p1_up and the 1/s part of p2_up.
    _, two_step = _resistance_paths(sites, None)
    log_pre = -M * u * counts["n12"]
    for n_p, m_p in two_step:
        log_pre = log_pre + M * u**2 / s * n_p * m_p * np.log(1 / (s * M) + u * m_p / s)
    before = (1 - p_erad) / p_fail
    return {
        "p_failure": _out(p_fail),
        "p_eradication_simultaneous": _out(p_erad),
        "from_before_drug_1": _out(before),
        "from_during_drug_1": _out(1 - before),
        "p_resistant_lineage_at_start": _out(-np.expm1(log_pre)),
    }
