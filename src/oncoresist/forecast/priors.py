"""Population priors that ship with the package, for forecasts without a reference cohort.

A forecast borrows strength from a cohort (``PSAForecaster.fit``). Where no reference
cohort is at hand (the web page of one stored patient, a single-patient file), a prior
learnt once from a published cohort is used instead and named as an assumption:

* ``"psa"``: the Zhang 2022 adaptive-abiraterone trial (32 patients, CC0; Zhang J et al.
  eLife 2022;11:e76284), fitted by ``scripts/build_psa_prior.py``, with the accuracy of a
  4-fold rolling-origin backtest on the same patients (each fold forecast with a prior
  learnt from the other folds).
"""

from __future__ import annotations

from pathlib import Path

from oncoresist.errors import InputError
from oncoresist.forecast.psa import PSAForecaster

__all__ = ["BUNDLED", "default_forecaster"]

_DATA = Path(__file__).with_name("data")
#: Bundled priors: marker -> file in ``oncoresist/forecast/data``.
BUNDLED = {"psa": "psa_zhang2022_prior.json"}


def default_forecaster(marker: str = "psa") -> PSAForecaster:
    """The bundled, fitted forecaster of a marker.

    Parameters
    ----------
    marker : str
        ``"psa"``.

    Returns
    -------
    PSAForecaster
        Fitted, with ``accuracy_`` (backtest figures: ``mae_log10``, ``mae_last_value``,
        ``mae_repeat_cycle``, ``coverage_80``, ``coverage_95``, ``auc``,
        ``sens_at_spec85``, ``n_patients``, ``source``) and ``assumptions_``.
    """
    if marker not in BUNDLED:
        raise InputError(f"no bundled prior for marker {marker!r}; expected one of "
                         f"{', '.join(BUNDLED)}", field="marker")  # fmt: skip
    return PSAForecaster.load(_DATA / BUNDLED[marker])
