"""Serial liquid-biopsy monitoring: calls, limits of detection, response and alerts.

Readers (:func:`read_serial`, :func:`read_therapy`, :func:`read_events`,
:func:`read_normals`), the beta-binomial background (:class:`BackgroundModel`), per-draw
calls (:func:`call_draws`), series-level alerts under a false-alert budget per patient
(:func:`call_series`), the pooled trend (:func:`call_longitudinal`), molecular response,
emergence alerts linked to the knowledge base, and all of it at once (:func:`monitor`).
See ``docs/monitor_design.md``.
"""

from __future__ import annotations

from oncoresist.monitor._alerts import emergence_alerts, variant_trends
from oncoresist.monitor._background import BackgroundModel
from oncoresist.monitor._calling import call_draws, count_unit
from oncoresist.monitor._inputs import read_events, read_normals, read_serial, read_therapy
from oncoresist.monitor._lod import limit_of_detection, sampling_bound
from oncoresist.monitor._longitudinal import call_longitudinal
from oncoresist.monitor._pipeline import MonitorResult, describe_settings, monitor, unit_warnings
from oncoresist.monitor._response import molecular_response
from oncoresist.monitor._series import call_series, spending

__all__ = [
    "BackgroundModel",
    "MonitorResult",
    "call_draws",
    "call_longitudinal",
    "call_series",
    "count_unit",
    "describe_settings",
    "emergence_alerts",
    "limit_of_detection",
    "molecular_response",
    "monitor",
    "read_events",
    "read_normals",
    "read_serial",
    "read_therapy",
    "sampling_bound",
    "spending",
    "unit_warnings",
    "variant_trends",
]
