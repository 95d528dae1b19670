"""Serial liquid-biopsy monitoring: calls, limits of detection, response and alerts.

Work in progress (issue 3): see ``docs/monitor_design.md``.
"""

from __future__ import annotations

from oncoresist.monitor._alerts import emergence_alerts, variant_trends
from oncoresist.monitor._inputs import read_events, read_normals, read_serial, read_therapy
from oncoresist.monitor._response import molecular_response

__all__ = [
    "emergence_alerts",
    "molecular_response",
    "read_events",
    "read_normals",
    "read_serial",
    "read_therapy",
    "variant_trends",
]
