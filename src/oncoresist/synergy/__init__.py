"""Drug combinations: dose-response fits and synergy scores (Bliss, HSA, Loewe, ZIP).

* :func:`read_combinations` -- SynergyFinder long tables, O'Neil raw screens, plain dose
  matrices (CSV/TSV/Parquet) into one tidy table of wells (:class:`CombinationData`);
* :func:`score_blocks` -- 4PL fits of each drug, the four reference models per cell and
  per block, most synergistic area, IC50/RI/CSS, intervals and p-values from replicates
  or a parametric bootstrap (:class:`SynergyResult`);
* :func:`fit_dose_response`, :func:`fit_curves`, :func:`ll4` -- the dose-response layer.

See docs/synergy.md for the conventions and the parity with SynergyFinder 3.7.3.
"""

from __future__ import annotations

from oncoresist.synergy._doseresponse import (
    CurveFits,
    fit_curves,
    fit_dose_response,
    inverse_ll4,
    ll4,
)
from oncoresist.synergy._io import (
    TABLE_COLUMNS,
    CombinationData,
    combinations_from_frame,
    read_combinations,
)
from oncoresist.synergy._models import (
    bliss_reference,
    combination_index,
    hsa_reference,
    loewe_reference,
    most_synergistic_area,
    zip_scores,
)
from oncoresist.synergy._score import MODELS, SynergyResult, score_blocks
from oncoresist.synergy._sensitivity import css_scores, relative_inhibition

__all__ = [
    "MODELS",
    "TABLE_COLUMNS",
    "CombinationData",
    "CurveFits",
    "SynergyResult",
    "bliss_reference",
    "combination_index",
    "combinations_from_frame",
    "css_scores",
    "fit_curves",
    "fit_dose_response",
    "hsa_reference",
    "inverse_ll4",
    "ll4",
    "loewe_reference",
    "most_synergistic_area",
    "read_combinations",
    "relative_inhibition",
    "score_blocks",
    "zip_scores",
]
