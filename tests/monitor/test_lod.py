"""Sampling bound, detection probability and limit of detection: closed forms and MC."""

import numpy as np
import pytest
from scipy.special import gammaincinv

from oncoresist.errors import InputError
from oncoresist.monitor._lod import (
    critical_count,
    detection_probability,
    limit_of_detection,
    lod_from_critical,
    sampling_bound,
)


def test_sampling_bound_closed_form():
    # 10 ng (3030 GE), recovery 0.5, VAF 0.1 %: 1 - exp(-1.515)
    assert sampling_bound(0.001, 3030, 0.5) == pytest.approx(1 - np.exp(-1.515))
    assert sampling_bound(0.0, 3030, 0.5) == 0.0
    got = sampling_bound(np.array([0.001, 0.01]), np.array([303.0, 303.0]), 1.0)
    assert got == pytest.approx(1 - np.exp(-np.array([0.303, 3.03])))


def test_detection_probability_hand_values():
    # n = m = 3000 molecules, no error, c = 1: 1 - exp(-n f)
    assert detection_probability(0.001, 6000, 0.5, 3000, 0.0, 1) == pytest.approx(1 - np.exp(-3))
    # c = 2: 1 - e^-l (1 + l)
    lam = 3000 * (0.001 + 1e-5 * 0.999)
    want = 1 - np.exp(-lam) * (1 + lam)
    assert detection_probability(0.001, 6000, 0.5, 3000, 1e-5, 2) == pytest.approx(want)
    # raw reads, 4 reads per molecule (m = 1000, n = 4000), c = 8 -> 2 molecules needed
    lam = 1000 * 0.002
    want = 1 - np.exp(-lam) * (1 + lam)
    assert detection_probability(0.002, 2000, 0.5, 4000, 0.0, 8) == pytest.approx(want)


def test_detection_never_beats_the_sampling_bound_without_errors():
    rng = np.random.default_rng(0)
    f = rng.uniform(1e-4, 0.02, 200)
    g = rng.uniform(100, 20_000, 200)
    n = rng.uniform(100, 50_000, 200)
    c = rng.integers(1, 10, 200)
    p = detection_probability(f, g, 0.5, n, 0.0, c)
    assert np.all(p <= sampling_bound(f, g, 0.5) + 1e-12)


@pytest.mark.parametrize(
    ("depth", "crit"),
    [(1500, 2), (3000, 3), (6000, 7)],  # read-to-molecule ratio 0.5, 1 and 2
)
def test_detection_probability_against_monte_carlo(depth, crit):
    """Simulate molecules, thinning or duplication, and per-molecule errors (200k reps)."""
    rng = np.random.default_rng(1)
    reps, ge, eta, f, e = 200_000, 6000, 0.5, 0.0008, 2e-5
    m = int(eta * ge)
    r = depth / m
    mutant = rng.poisson(m * f, reps)
    errors = rng.poisson(m * e * (1 - f), reps)
    molecules = mutant + errors
    alt = rng.binomial(molecules, r) if r <= 1 else molecules * int(r)
    mc = np.mean(alt >= crit)
    se = np.sqrt(mc * (1 - mc) / reps)
    assert detection_probability(f, ge, eta, depth, e, crit) == pytest.approx(mc, abs=4 * se)


def test_lod_closed_form_and_power():
    # c = 1 (clean background): LoD = (-ln 0.05 / n_eff - e) / (1 - e)
    e = 1.0 / (1.0 + 1e7)
    want = (-np.log(0.05) / 1515 - e) / (1 - e)
    assert limit_of_detection(3030, 0.5, 1515, 1.0, 1e7, 0.001) == pytest.approx(want)
    # the detection probability at the LoD is the power
    a, b = 1.0, 1e4
    c = critical_count(3000, a, b, 1e-4)
    lod = limit_of_detection(6000, 0.5, 3000, a, b, 1e-4, power=0.9)
    assert detection_probability(lod, 6000, 0.5, 3000, a / (a + b), c) == pytest.approx(0.9)
    assert gammaincinv(c, 0.9) == pytest.approx(3000 * (lod + 1e-4 * (1 - lod)), rel=1e-4)


def test_lod_monotone_in_input_and_depth():
    a, b = 1.0, 1e5
    ge = np.array([150, 300, 1000, 3000, 10_000, 30_000.0])
    lod_ge = limit_of_detection(ge, 0.5, 20_000, a, b, 1e-4)
    assert np.all(np.diff(lod_ge) < 0)
    depth = np.array([200, 500, 1000, 2000, 5000.0])
    lod_n = limit_of_detection(10_000, 0.5, depth, a, b, 1e-4)
    assert np.all(np.diff(lod_n) < 0)
    # more depth than molecules helps no more than the molecules allow: at 100 reads per
    # molecule one alt molecule makes the call, and the LoD is the molecule limit
    e = a / (a + b)  # errors count towards the alt molecules
    want = (-np.log(0.05) / 500 - e) / (1 - e)
    assert limit_of_detection(1000, 0.5, 50_000, a, b, 1e-4) == pytest.approx(want)
    assert limit_of_detection(1000, 0.5, 10**6, a, b, 1e-4) == pytest.approx(want)


def test_lod_unreachable_and_unknown_input():
    assert np.isinf(lod_from_critical(5, 100.0, 0.5, 0, 1e-4))
    # unknown input (NaN): the depth counts as molecules
    assert lod_from_critical(1, np.nan, 0.5, 1000, 0.0) == pytest.approx(-np.log(0.05) / 1000)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: sampling_bound(-0.1, 100, 0.5), "vaf"),
        (lambda: sampling_bound(0.1, -100, 0.5), "input_ge"),
        (lambda: detection_probability(0.01, 100, 1.5, 10, 0, 1), "recovery"),
        (lambda: limit_of_detection(100, 0.5, -1, 1.0, 1e4), "depth"),
        (lambda: critical_count(100, 1.0, 1e4, 0.0), "fpr"),
    ],
)
def test_bad_arguments(call, field):
    with pytest.raises(InputError) as err:
        call()
    assert err.value.field == field
