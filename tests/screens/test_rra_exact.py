"""alpha-RRA's exact null p-value for any number of sgRNAs per gene.

The p-value of a score ``r`` is the probability that uniform order statistics cross the
boundary ``c_k = min(Beta(k, n-k+1).ppf(r), alpha)``. The references here compute it by
another route, Bolshev's recursion on ``v = 1 - u`` (``P_m = 1 - sum_j C(m, j) P_j
c_(n-j)^(m-j)``): exactly with fractions for small ``n``, and with 320 significant digits for
2,000 sgRNAs, where its cancellation needs more than 120 (the old code's factorials
overflowed from 171 sgRNAs and gave NaN).
"""

import time
from decimal import Decimal, localcontext
from fractions import Fraction
from math import comb

import numpy as np
import pytest
from scipy import special

from oncoresist.errors import InputError
from oncoresist.screens import rra_pvalue
from oncoresist.screens._analysis import _boundary, _crossing_probability


def bolshev_exact(c: np.ndarray) -> Fraction:
    """P(u_(k) <= c_k for some k), exact: Bolshev's recursion in fractions."""
    n = len(c)
    low = [Fraction(float(x)) for x in c]  # 1 - b_(j+1) = c_(n-j)
    surv = [Fraction(1)]
    for m in range(1, n + 1):
        surv.append(1 - sum(comb(m, j) * surv[j] * low[n - j - 1] ** (m - j)
                            for j in range(m)))  # fmt: skip
    return 1 - surv[n]


def bolshev_decimal(c: np.ndarray, alpha: float, digits: int) -> Decimal:
    """The same with ``digits`` significant digits, using the flat part ``c_k = alpha``
    (``k >= K``): ``P_j = (1 - alpha)^j`` for ``j <= n - K + 1`` and the j <= n - K part of
    each sum is a binomial CDF, updated along ``m``. O(K^2) operations."""
    with localcontext() as ctx:
        ctx.prec = digits
        n = len(c)
        big = int(np.flatnonzero(c >= alpha)[0]) + 1
        a = Decimal(float(alpha))
        q = 1 - a
        flat = n - big  # P(Bin(m, 1 - alpha) <= flat) is the flat part of each sum
        start = flat + 1
        cd = [Decimal(float(x)) for x in c]
        surv = {start: q**start}
        cdf = 1 - q**start
        pmf = Decimal(start) * q**flat * a  # P(Bin(start, q) = flat)
        binom: dict[int, Decimal] = {}
        power: dict[int, Decimal] = {}
        for m in range(start + 1, n + 1):
            cdf -= q * pmf
            pmf = pmf * m / (m - flat) * a
            for j in binom:
                binom[j] = binom[j] * m / (m - j)
                power[j] *= cd[n - j - 1]
            binom[m - 1] = Decimal(m)
            power[m - 1] = cd[n - m]
            surv[m] = 1 - cdf - sum(binom[j] * surv[j] * power[j] for j in binom)
        return 1 - surv[n]


@pytest.mark.parametrize("n", [1, 2, 3, 7, 12])
@pytest.mark.parametrize("alpha", [0.1, 0.25, 1.0])
def test_small_genes_match_exact_fractions(n, alpha):
    for r in (1e-40, 1e-9, 0.003, 0.2, 0.8):
        c = _boundary(np.array([r]), n, alpha)
        exact = float(bolshev_exact(c[0]))
        assert rra_pvalue([r], n, alpha)[0] == pytest.approx(exact, rel=1e-12)
        assert _crossing_probability(c)[0] == pytest.approx(exact, rel=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("r", [1e-12, 1e-3])
def test_two_thousand_sgrnas_exact_and_under_a_second(r):
    n, alpha = 2000, 0.25
    t = time.perf_counter()
    p = rra_pvalue([r], n, alpha)[0]
    assert time.perf_counter() - t < 1.0
    ref = bolshev_decimal(_boundary(np.array([r]), n, alpha)[0], alpha, 320)
    assert abs(Decimal(float(p)) - ref) <= Decimal("1e-10") * ref
    assert r <= p <= n * r


def test_boundary_is_the_beta_quantile():
    n, alpha = 2000, 0.25
    k = np.arange(1, n + 1)
    for r in (1e-90, 1e-20, 1e-4, 0.6):
        c = _boundary(np.array([r]), n, alpha)[0]
        inside = c < alpha
        assert inside.sum() > 400
        got = special.betainc(k[inside], n - k[inside] + 1, c[inside])
        np.testing.assert_allclose(got, r, rtol=1e-11)
        assert (c[~inside] == alpha).all() and (np.diff(c) >= 0).all()


@pytest.mark.parametrize("n", [170, 171, 180, 400, 1500])
def test_many_sgrnas_give_finite_bounded_monotone_p_values(n):
    """Where the factorials overflowed: finite, r <= p <= n r, and increasing in r (scores
    below 1e-100 share the p-value of 1e-100)."""
    r = np.r_[0.0, 1e-200, np.logspace(-60, -1e-3, 9), 1.0]
    p = rra_pvalue(r, n, 0.25)
    assert np.isfinite(p).all() and p[-1] == 1.0
    assert p[0] == p[1] <= n * 1e-100 and (np.diff(p[1:]) > 0).all()
    inner = r[2:-1]
    assert (p[2:-1] >= inner).all() and (p[2:-1] <= n * inner).all()


def test_scores_that_are_not_probabilities_are_refused():
    for bad in (np.nan, -0.1, 1.5):
        with pytest.raises(InputError, match="expected a number in"):
            rra_pvalue([0.2, bad], 4, 0.25)
    with pytest.raises(InputError):
        rra_pvalue([0.2], 0, 0.25)


def test_any_boundary_with_flat_stretches_and_zeros_matches_fractions():
    """The crossing probability alone, for 300 random non-decreasing boundaries."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(1, 9))
        c = np.sort(rng.random(n) * rng.choice([1e-6, 0.01, 0.3, 1.0]))
        if rng.random() < 0.3:
            c[rng.integers(0, n) :] = c[-1]
        if rng.random() < 0.2:
            c[: rng.integers(0, n + 1)] = 0.0
        exact = float(bolshev_exact(c))
        assert _crossing_probability(c[None, :])[0] == pytest.approx(exact, rel=1e-13, abs=0)
