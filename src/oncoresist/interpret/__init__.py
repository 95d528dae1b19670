"""Per-drug interpretation: verdicts with reasons, phase and compound rules, options."""

from __future__ import annotations

from oncoresist.interpret._case import Case, read_case
from oncoresist.interpret._engine import interpret
from oncoresist.interpret._match import match_specificity
from oncoresist.interpret._result import (
    DrugVerdict,
    Interpretation,
    Option,
    PhaseRelation,
    Reason,
)
from oncoresist.interpret._rules import compile_rules

__all__ = [
    "Case",
    "DrugVerdict",
    "Interpretation",
    "Option",
    "PhaseRelation",
    "Reason",
    "compile_rules",
    "interpret",
    "match_specificity",
    "read_case",
]
