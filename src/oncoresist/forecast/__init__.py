"""Patient-level forecasting of tumour burden: growth models, population priors, metrics.

* :mod:`~oncoresist.forecast.growth`: tumour growth and growth-inhibition models (exponential,
  logistic, Gompertz, classical and general Bertalanffy, Stein, Claret) as closed-form curves
  of time and an unconstrained parameter vector;
* :mod:`~oncoresist.forecast.population`: empirical-Bayes population priors (Laplace-EM),
  patient posteriors (Laplace), posterior predictive forecasts with a calibrated
  model-discrepancy term, censoring below a limit of quantification, Bayesian stacking of
  models, k-fold-by-patient evaluation;
* :mod:`~oncoresist.forecast.metrics`: MAE, interval coverage, CRPS, AUC, sensitivity and
  specificity;
* :mod:`~oncoresist.forecast.psa`: PSA under an abiraterone schedule (Zhang 2022
  competition model, population prior, PCWG3 progression, strategies);
* :mod:`~oncoresist.forecast.backtest`: rolling-origin backtests and their baselines;
* :mod:`~oncoresist.forecast.priors`: fitted priors that ship with the package.

See ``docs/forecast.md``.
"""

from __future__ import annotations

from oncoresist.forecast.backtest import (
    BacktestResult,
    cycle_origins,
    next_cycle_targets,
    rolling_origin_backtest,
    summarise,
)
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
from oncoresist.forecast.priors import default_forecaster
from oncoresist.forecast.psa import (
    PSAForecaster,
    check_psa_table,
    pcwg3_progression,
    readiness,
    simulate_cohort,
    zhang2022_table,
)

__all__ = [
    "MODELS",
    "QUANTILES",
    "BacktestResult",
    "GrowthModel",
    "PSAForecaster",
    "PopulationModel",
    "Posterior",
    "SeriesBatch",
    "StackedForecaster",
    "as_batch",
    "auc",
    "check_psa_table",
    "coverage",
    "crps_quantiles",
    "crps_samples",
    "cycle_origins",
    "default_forecaster",
    "get_model",
    "kfold_forecast",
    "mae",
    "next_cycle_targets",
    "pcwg3_progression",
    "readiness",
    "rolling_origin_backtest",
    "sensitivity_specificity",
    "simulate_cohort",
    "split_last",
    "stacking_weights",
    "summarise",
    "zhang2022_table",
]
