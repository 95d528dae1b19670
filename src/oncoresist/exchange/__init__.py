"""The field's exchange formats: annotated MAF/VCF, GA4GH Phenopacket v2, cBioPortal files.

- :func:`annotate_maf`, :func:`annotate_vcf`: the input file with verdicts added per row;
- :func:`read_phenopacket`, :func:`to_phenopacket`, :func:`validate_phenopacket`: a case
  in, the interpretation out, as GA4GH Phenopacket v2 (protobuf classes of the
  ``phenopackets`` package);
- :func:`write_cbioportal_study`: the monitor's serial ctDNA results as cBioPortal
  clinical and timeline files.

See ``docs/exchange.md`` for the column and field mappings and what each format loses.
"""

from __future__ import annotations

from oncoresist.exchange._annotate import (
    MAF_COLUMNS,
    VCF_INFO,
    AnnotationReport,
    annotate_maf,
    annotate_vcf,
    read_sample_diseases,
)
from oncoresist.exchange._cbioportal import StudyFiles, write_cbioportal_study
from oncoresist.exchange._phenopacket import (
    PhenopacketCase,
    parse_phenopacket,
    phenopacket_json,
    read_phenopacket,
    to_phenopacket,
    validate_phenopacket,
)
from oncoresist.exchange._summary import AlterationSummary, kb_version, summarise_alterations

__all__ = [
    "MAF_COLUMNS",
    "VCF_INFO",
    "AlterationSummary",
    "AnnotationReport",
    "PhenopacketCase",
    "StudyFiles",
    "annotate_maf",
    "annotate_vcf",
    "kb_version",
    "parse_phenopacket",
    "phenopacket_json",
    "read_phenopacket",
    "read_sample_diseases",
    "summarise_alterations",
    "to_phenopacket",
    "validate_phenopacket",
    "write_cbioportal_study",
]
