"""Patient-level forecasting of tumour burden: growth models, population priors, metrics.

* :mod:`~oncoresist.forecast.growth`: tumour growth and growth-inhibition models (exponential,
  logistic, Gompertz, classical and general Bertalanffy, Stein, Claret) as closed-form curves
  of time and an unconstrained parameter vector;
* :mod:`~oncoresist.forecast.population`: empirical-Bayes population priors (Laplace-EM),
  patient posteriors (Laplace), posterior predictive forecasts with a calibrated
  model-discrepancy term, censoring below a limit of quantification, Bayesian stacking of
  models, k-fold-by-patient evaluation;
* :mod:`~oncoresist.forecast.metrics`: MAE, interval coverage, CRPS, AUC, sensitivity and
  specificity.

See ``docs/forecast.md``.
"""

from __future__ import annotations

from oncoresist.forecast.growth import MODELS, GrowthModel, get_model
from oncoresist.forecast.metrics import (
    auc,
    coverage,
    crps_quantiles,
    crps_samples,
    mae,
    sensitivity_specificity,
)
from oncoresist.forecast.population import (
    QUANTILES,
    PopulationModel,
    Posterior,
    SeriesBatch,
    StackedForecaster,
    as_batch,
    kfold_forecast,
    split_last,
    stacking_weights,
)

__all__ = [
    "MODELS",
    "QUANTILES",
    "GrowthModel",
    "PopulationModel",
    "Posterior",
    "SeriesBatch",
    "StackedForecaster",
    "as_batch",
    "auc",
    "coverage",
    "crps_quantiles",
    "crps_samples",
    "get_model",
    "kfold_forecast",
    "mae",
    "sensitivity_specificity",
    "split_last",
    "stacking_weights",
]
