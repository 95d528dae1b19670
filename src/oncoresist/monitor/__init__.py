"""Serial liquid-biopsy monitoring: calls, limits of detection, response and alerts.

Readers (:func:`read_serial`, :func:`read_therapy`, :func:`read_events`,
:func:`read_normals`), the beta-binomial background (:class:`BackgroundModel`), per-draw
and longitudinal calls (:func:`call_draws`, :func:`call_longitudinal`), molecular response
and emergence alerts linked to the knowledge base. The store and the HTML report are still
to come (issue 3); see ``docs/monitor_design.md``.
"""

from __future__ import annotations

from oncoresist.monitor._alerts import emergence_alerts, variant_trends
from oncoresist.monitor._background import BackgroundModel
from oncoresist.monitor._calling import call_draws
from oncoresist.monitor._inputs import read_events, read_normals, read_serial, read_therapy
from oncoresist.monitor._lod import limit_of_detection, sampling_bound
from oncoresist.monitor._longitudinal import call_longitudinal
from oncoresist.monitor._response import molecular_response

__all__ = [
    "BackgroundModel",
    "call_draws",
    "call_longitudinal",
    "emergence_alerts",
    "limit_of_detection",
    "molecular_response",
    "read_events",
    "read_normals",
    "read_serial",
    "read_therapy",
    "sampling_bound",
    "variant_trends",
]
