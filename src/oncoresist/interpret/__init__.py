"""Per-drug interpretation: verdicts with reasons, phase and compound rules, options."""

from __future__ import annotations

import sys
import types

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


class _CallableModule(types.ModuleType):
    """The package, callable as :func:`interpret`.

    ``oncoresist.interpret(...)`` is the documented entry point; importing this package
    makes ``oncoresist.interpret`` the package itself (Python sets a subpackage as an
    attribute of its parent), so the package must answer the call too.
    """

    def __call__(self, *args, **kwargs):
        return interpret(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
