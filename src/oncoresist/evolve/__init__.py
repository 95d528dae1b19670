"""Evolutionary dynamics under targeted therapy (issue 4): closed forms and exact engines.

Under construction; see ``docs/evolve.md`` when it lands.
"""

from __future__ import annotations
