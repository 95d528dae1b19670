"""Pooled CRISPR screens under drug (issue 5, in progress).

Counts, normalisation, sgRNA tests and alpha-RRA gene ranking in both directions.

See :mod:`oncoresist.screens._analysis` for the methods and their references.
"""

from __future__ import annotations

from oncoresist.screens._analysis import (
    alpha_rra,
    analyze,
    gene_summary,
    sgrna_test,
    size_factors,
)
from oncoresist.screens._counts import read_counts, unmangle_gene

__all__ = [
    "alpha_rra",
    "analyze",
    "gene_summary",
    "read_counts",
    "sgrna_test",
    "size_factors",
    "unmangle_gene",
]
