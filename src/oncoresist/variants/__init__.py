"""Alterations: the ``Alteration`` model, text parsing, VCF / MAF / cBioPortal / table readers."""

from __future__ import annotations

from oncoresist.variants._alteration import Alteration, AlterationKind
from oncoresist.variants._builds import CONTIG_LENGTHS
from oncoresist.variants._cbioportal import read_cbioportal_cna, read_cbioportal_sv
from oncoresist.variants._copynumber import CopyNumberThresholds
from oncoresist.variants._genes import looks_spreadsheet_mangled, resolve_gene
from oncoresist.variants._maf import read_maf
from oncoresist.variants._parse import (
    ACCEPTED_FORMS,
    biomarker_key,
    exon_of,
    parse_alteration,
    parse_biomarker,
    parse_change,
)
from oncoresist.variants._read import read_variants
from oncoresist.variants._table import read_table
from oncoresist.variants._vcf import read_vcf
from oncoresist.variants._warn import VariantWarning

__all__ = [
    "ACCEPTED_FORMS",
    "CONTIG_LENGTHS",
    "Alteration",
    "AlterationKind",
    "CopyNumberThresholds",
    "VariantWarning",
    "biomarker_key",
    "exon_of",
    "looks_spreadsheet_mangled",
    "parse_alteration",
    "parse_biomarker",
    "parse_change",
    "read_cbioportal_cna",
    "read_cbioportal_sv",
    "read_maf",
    "read_table",
    "read_variants",
    "read_vcf",
    "resolve_gene",
]
