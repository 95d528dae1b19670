"""The curated, cited knowledge base of targeted-therapy resistance.

Data files (YAML, one per gene or drug family) live in ``oncoresist/kb/data``; this package
loads them through a pydantic schema (:mod:`oncoresist.kb._schema`), indexes names, classes,
diseases and coordinates (:class:`KnowledgeBase`), checks their consistency
(:func:`validate`) and exports them (:func:`to_frame`).
"""

from __future__ import annotations

from oncoresist.kb._export import stats, to_frame, to_records
from oncoresist.kb._genes import gene_knowledge
from oncoresist.kb._load import KnowledgeBase, SourcedAssertion, load_kb
from oncoresist.kb._schema import (
    EVIDENCE_MEANING,
    EVIDENCE_RANK,
    Assertion,
    Disease,
    Drug,
    DrugClass,
    Gene,
)
from oncoresist.kb._validate import validate

__all__ = [
    "EVIDENCE_MEANING",
    "EVIDENCE_RANK",
    "Assertion",
    "Disease",
    "Drug",
    "DrugClass",
    "Gene",
    "KnowledgeBase",
    "SourcedAssertion",
    "gene_knowledge",
    "load_kb",
    "stats",
    "to_frame",
    "to_records",
    "validate",
]
