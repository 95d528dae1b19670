"""Alterations: the ``Alteration`` model, text parsing, and VCF / MAF / table readers."""

from __future__ import annotations

from oncoresist.variants._alteration import Alteration, AlterationKind
from oncoresist.variants._genes import looks_spreadsheet_mangled, resolve_gene
from oncoresist.variants._parse import (
    ACCEPTED_FORMS,
    biomarker_key,
    exon_of,
    parse_alteration,
    parse_biomarker,
    parse_change,
)

__all__ = [
    "ACCEPTED_FORMS",
    "Alteration",
    "AlterationKind",
    "biomarker_key",
    "exon_of",
    "looks_spreadsheet_mangled",
    "parse_alteration",
    "parse_biomarker",
    "parse_change",
    "resolve_gene",
]
