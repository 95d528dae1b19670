"""Flat views of the knowledge base: one row per assertion, and coverage counts."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from oncoresist.kb._load import KnowledgeBase

EXPORT_COLUMNS = [
    "id",
    "file",
    "genes",
    "biomarker",
    "phase",
    "drugs",
    "except",
    "expanded_drugs",
    "effect",
    "mechanism",
    "disease",
    "driver",
    "evidence",
    "references",
    "summary",
]


def to_records(kb: KnowledgeBase) -> list[dict]:
    """One dictionary per assertion, with the drug set expanded from classes.

    Returns
    -------
    list of dict
        Keys: ``id``, ``file``, ``genes`` (list), ``biomarker`` (list of alteration texts),
        ``phase``, ``drugs`` and ``except`` (as written), ``expanded_drugs`` (drug keys),
        ``effect``, ``mechanism``, ``disease``, ``driver``, ``evidence``, ``references``,
        ``summary``.
    """
    rows = []
    for sa in kb.assertions:
        a = sa.assertion
        rows.append(
            {
                "id": sa.id,
                "file": sa.file,
                "genes": sorted(kb.assertion_genes(sa)),
                "biomarker": a.members,
                "phase": a.phase,
                "drugs": list(a.drugs),
                "except": list(a.except_),
                "expanded_drugs": sorted(kb.expand_drugs(a.drugs, a.except_)),
                "effect": a.effect,
                "mechanism": a.mechanism,
                "disease": a.disease,
                "driver": a.driver,
                "evidence": a.evidence,
                "references": list(a.references),
                "summary": a.summary,
            }
        )
    return rows


def to_frame(kb: KnowledgeBase) -> pd.DataFrame:
    """The assertions as a tidy table; list fields joined by ``; `` for spreadsheets."""
    rows = to_records(kb)
    for row in rows:
        for k in ("genes", "biomarker", "drugs", "except", "expanded_drugs", "references"):
            row[k] = "; ".join(row[k])
    return pd.DataFrame(rows, columns=EXPORT_COLUMNS)


def stats(kb: KnowledgeBase) -> dict:
    """Coverage of the knowledge base: counts of entities, and assertions by category.

    Returns
    -------
    dict
        ``assertions``, ``drugs``, ``drug_classes``, ``combinations``, ``genes``,
        ``diseases``, ``coordinates`` (per build), ``by_effect``, ``by_mechanism``,
        ``by_evidence``, ``by_gene`` (assertions naming each gene), ``references``
        (distinct) and ``pmids`` (distinct).
    """
    by_gene: Counter[str] = Counter()
    refs: set[str] = set()
    for sa in kb.assertions:
        for gene in kb.assertion_genes(sa):
            by_gene[gene] += 1
        refs.update(sa.assertion.references)
    return {
        "assertions": len(kb.assertions),
        "drugs": len(kb.drugs),
        "drug_classes": len(kb.classes),
        "combinations": len(kb.combinations),
        "genes": len(kb.genes),
        "diseases": len(kb.diseases),
        "coordinates": {build: len(table) for build, table in kb.coordinates.items()},
        "by_effect": dict(Counter(sa.assertion.effect for sa in kb.assertions)),
        "by_mechanism": dict(Counter(sa.assertion.mechanism or "none" for sa in kb.assertions)),
        "by_evidence": dict(sorted(Counter(sa.assertion.evidence for sa in kb.assertions).items())),
        "by_gene": dict(sorted(by_gene.items())),
        "references": len(refs),
        "pmids": sum(1 for r in refs if r.startswith("PMID:")),
    }
