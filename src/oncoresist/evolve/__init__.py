"""Evolutionary dynamics under targeted therapy: models, closed forms, strategies, cohorts.

* :mod:`~oncoresist.evolve.model`: the declarative model (clones, mutations, drugs with PK
  and PD, competition) read from YAML (:func:`load_model`, bundled :func:`example_path`);
* :mod:`~oncoresist.evolve.pharmacology`: dosing, one-compartment PK, Emax/Hill effects,
  Bliss or HSA combination, piecewise-constant rates on a time grid;
* :mod:`~oncoresist.evolve.analytic`: closed forms (Kendall, Iwasa 2006, Bozic 2013);
* :mod:`~oncoresist.evolve.bozic`: Bozic 2013's simultaneous and sequential therapy by
  exact simulation;
* :mod:`~oncoresist.evolve.strategies`: therapy strategies acting on observed burden and the
  loop that runs them (:func:`run_strategy`);
* :mod:`~oncoresist.evolve.competition`: Lotka-Volterra with dose-dependent carrying
  capacities and a marker (:class:`LotkaVolterra`, model files' ``competition`` block), the
  published models of Strobl et al. 2021 and Zhang et al. 2017 (with PSA);
* :mod:`~oncoresist.evolve.zhang2017` and :mod:`~oncoresist.evolve.zhang2022`: the
  representative patients of Zhang et al. 2017 and the trial model fitted in 2022,
  reproduced;
* :mod:`~oncoresist.evolve.cohort`: virtual cohorts, strategy comparison (local or Dask),
  Kaplan-Meier and Cox summaries;
* :mod:`~oncoresist.evolve.plots`: Muller plots and Kaplan-Meier curves.

See ``docs/evolve.md``.
"""

from __future__ import annotations

from oncoresist.evolve import analytic, bozic, zhang2017, zhang2022
from oncoresist.evolve.cohort import (
    ProgressionRule,
    compare_strategies,
    pcwg3_min_rise,
    sample_parameters,
    survival_summary,
)
from oncoresist.evolve.competition import LotkaVolterra, StroblModel, ZhangModel, lotka_volterra
from oncoresist.evolve.model import EvolutionModel, example_path, load_model, parse_model
from oncoresist.evolve.pharmacology import (
    concentration,
    dose_times,
    effective_rates,
    rates_on_grid,
)
from oncoresist.evolve.strategies import (
    Adaptive,
    Continuous,
    DoseModulation,
    Intermittent,
    Progression,
    Sequential,
    run_strategy,
)

__all__ = [
    "Adaptive",
    "Continuous",
    "DoseModulation",
    "EvolutionModel",
    "Intermittent",
    "LotkaVolterra",
    "Progression",
    "ProgressionRule",
    "Sequential",
    "StroblModel",
    "ZhangModel",
    "analytic",
    "bozic",
    "compare_strategies",
    "concentration",
    "dose_times",
    "effective_rates",
    "example_path",
    "load_model",
    "lotka_volterra",
    "parse_model",
    "pcwg3_min_rise",
    "rates_on_grid",
    "run_strategy",
    "sample_parameters",
    "survival_summary",
    "zhang2017",
    "zhang2022",
]
