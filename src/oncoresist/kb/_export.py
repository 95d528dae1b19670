"""Flat views of the knowledge base: one row per assertion, and coverage counts.

Rows carry the identifiers users join on (HGNC IDs of the genes, NCIt codes of the expanded
drugs, OncoTree codes of the disease) when identifier tables describe the knowledge base
(:mod:`oncoresist.kb._identifiers`; empty lists otherwise).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from oncoresist.kb._identifiers import (
    Identifiers,
    coverage,
    coverage_lines,
    identifiers_for,
    rows_without_entry,
)
from oncoresist.kb._load import KnowledgeBase

if TYPE_CHECKING:
    import pandas as pd

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
    "hgnc_ids",
    "ncit_codes",
    "oncotree_codes",
]
LIST_COLUMNS = (
    "genes",
    "biomarker",
    "drugs",
    "except",
    "expanded_drugs",
    "references",
    "hgnc_ids",
    "ncit_codes",
    "oncotree_codes",
)


def to_records(kb: KnowledgeBase, *, identifiers: Identifiers | None = None) -> list[dict]:
    """One dictionary per assertion, with the drug set expanded from classes.

    Parameters
    ----------
    kb
        A knowledge base.
    identifiers
        Identifier tables; the shipped ones for the shipped knowledge base by default.

    Returns
    -------
    list of dict
        Keys: ``id``, ``file``, ``genes`` (list), ``biomarker`` (list of alteration texts),
        ``phase``, ``drugs`` and ``except`` (as written), ``expanded_drugs`` (drug keys),
        ``effect``, ``mechanism``, ``disease``, ``driver``, ``evidence``, ``references``,
        ``summary``, ``hgnc_ids`` (of ``genes``, those known), ``ncit_codes`` (of the
        expanded drugs' members, those known, sorted) and ``oncotree_codes`` (of the disease).
    """
    ids = identifiers if identifiers is not None else identifiers_for(kb)
    rows = []
    for sa in kb.assertions:
        a = sa.assertion
        genes = sorted(kb.assertion_genes(sa))
        expanded = sorted(kb.expand_drugs(a.drugs, a.except_))
        rows.append(
            {
                "id": sa.id,
                "file": sa.file,
                "genes": genes,
                "biomarker": a.members,
                "phase": a.phase,
                "drugs": list(a.drugs),
                "except": list(a.except_),
                "expanded_drugs": expanded,
                "effect": a.effect,
                "mechanism": a.mechanism,
                "disease": a.disease,
                "driver": a.driver,
                "evidence": a.evidence,
                "references": list(a.references),
                "summary": a.summary,
                **_joined_identifiers(kb, ids, genes, expanded, a.disease),
            }
        )
    return rows


def _joined_identifiers(
    kb: KnowledgeBase, ids: Identifiers | None, genes: list[str], drugs: list[str], disease: str
) -> dict[str, list[str]]:
    if ids is None:
        return {"hgnc_ids": [], "ncit_codes": [], "oncotree_codes": []}
    hgnc = [ids.genes.get(g, "hgnc_id") for g in genes]
    members = sorted({m for key in drugs for m in kb.members_of(key)})
    ncit = sorted({ids.drugs.get(m, "ncit_code") for m in members} - {""})
    codes: list[str] = []
    if disease in kb.diseases:
        codes = list(dict.fromkeys([*kb.diseases[disease].oncotree, *ids.disease_codes(disease)]))
    return {"hgnc_ids": [h for h in hgnc if h], "ncit_codes": ncit, "oncotree_codes": codes}


def to_frame(kb: KnowledgeBase) -> pd.DataFrame:
    """The assertions as a tidy table; list fields joined by ``; `` for spreadsheets."""
    rows = to_records(kb)
    for row in rows:
        for k in LIST_COLUMNS:
            row[k] = "; ".join(row[k])
    import pandas as pd  # only the table export needs it; `oncoresist kb` starts without it

    return pd.DataFrame(rows, columns=EXPORT_COLUMNS)


def stats(kb: KnowledgeBase) -> dict:
    """Coverage of the knowledge base: counts of entities, and assertions by category.

    Returns
    -------
    dict
        ``assertions``, ``drugs``, ``drug_classes``, ``combinations``, ``genes``,
        ``diseases``, ``coordinates`` (per build), ``by_effect``, ``by_mechanism``,
        ``by_evidence``, ``by_gene`` (assertions naming each gene), ``references``
        (distinct), ``pmids`` (distinct) and, when identifier tables describe the knowledge
        base, ``identifiers`` (``{"HGNC": [filled, genes], "NCIt": [filled, drugs], ...}``),
        ``identifier_coverage`` (the same as lines: ``"HGNC 40/41 genes"``) and
        ``identifier_rows_without_entry`` (table rows naming no entry, per table).
    """
    by_gene: Counter[str] = Counter()
    refs: set[str] = set()
    for sa in kb.assertions:
        for gene in kb.assertion_genes(sa):
            by_gene[gene] += 1
        refs.update(sa.assertion.references)
    out = {
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
    ids = identifiers_for(kb)
    if ids is not None:
        counts = coverage(kb, ids)
        out["identifiers"] = counts
        out["identifier_coverage"] = coverage_lines(counts)
        out["identifier_rows_without_entry"] = rows_without_entry(kb, ids)
    return out
