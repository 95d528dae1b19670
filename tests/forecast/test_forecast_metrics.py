"""Forecast metrics: hand-computed cases and the closed-form CRPS of a normal distribution.

(Named ``test_forecast_metrics`` because ``tests/clones/test_metrics.py`` exists and the test
tree has no ``__init__.py`` files.) Tolerance: sample CRPS within 0.01 of the closed form
with 100,000 draws.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from oncoresist.errors import InputError
from oncoresist.forecast.metrics import (
    auc,
    coverage,
    crps_quantiles,
    crps_samples,
    mae,
    sensitivity_specificity,
)


def _crps_normal(y, mu, sigma):
    z = (y - mu) / sigma
    return sigma * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi))


def test_mae_and_coverage_by_hand():
    assert mae([1.0, 2.0, 4.0], [1.0, 3.0, 2.0]) == pytest.approx(1.0)
    assert coverage([0.0, 1.0, 2.0, 3.0], [0.0] * 4, [1.0, 1.0, 1.0, 5.0]) == 0.75
    with pytest.raises(InputError, match="different lengths"):
        mae([1.0, 2.0], [1.0])


def test_crps_of_samples_matches_the_normal_closed_form():
    rng = np.random.default_rng(0)
    y = np.array([-1.0, 0.0, 0.5, 2.5])
    draws = rng.normal(0.3, 1.5, size=(100_000, 4))
    np.testing.assert_allclose(crps_samples(y, draws), _crps_normal(y, 0.3, 1.5), atol=0.01)
    # a point forecast: CRPS is the absolute error
    np.testing.assert_allclose(crps_samples([1.0, 3.0], np.full((5, 2), 2.0)), [1.0, 1.0])


def test_crps_of_many_quantiles_approaches_the_closed_form():
    levels = np.linspace(0.005, 0.995, 199)
    q = norm.ppf(levels, loc=0.3, scale=1.5)
    y = np.array([-1.0, 0.5, 2.5])
    got = crps_quantiles(y, np.tile(q, (3, 1)), levels)
    np.testing.assert_allclose(got, _crps_normal(y, 0.3, 1.5), rtol=0.03)
    with pytest.raises(InputError, match="in \\(0, 1\\)"):
        crps_quantiles([0.0], np.zeros((1, 1)), [1.0])


def test_auc_and_sensitivity_specificity_by_hand():
    scores, labels = [0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]
    assert auc(scores, labels) == 0.75
    assert auc([0.5, 0.5], [0, 1]) == 0.5  # a tie counts half
    assert sensitivity_specificity(scores, labels, 0.35) == (1.0, 0.5)
    with pytest.raises(InputError, match="positive and one negative"):
        auc([0.1, 0.2], [1, 1])
