"""What the knowledge base says about a list of genes (e.g. the hits of a screen)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from oncoresist.errors import UnknownDrugError
from oncoresist.kb._load import KnowledgeBase
from oncoresist.kb._schema import EVIDENCE_RANK

if TYPE_CHECKING:
    import pandas as pd


def _drug_words(kb: KnowledgeBase, items: list[str]) -> str:
    words = []
    for item in items:
        parts = []
        for part in item.split(" + "):
            part = part.strip()
            if part.startswith("class:"):
                cls = kb.classes.get(part[6:])
                parts.append(cls.name if cls else part[6:].replace("_", " "))
            else:
                parts.append(part)
        words.append(" + ".join(parts))
    return ", ".join(words)


def _partners(kb: KnowledgeBase, biomarker: str | list[str], symbol: str) -> str:
    """`` (with BRCA1 loss)`` for a compound biomarker: what must come with ``symbol``'s change."""
    if isinstance(biomarker, str):
        return ""
    others = [b for b in biomarker if not _names_gene(kb, b, symbol)]
    return f" (with {' and '.join(others)})" if others else ""


def _names_gene(kb: KnowledgeBase, biomarker: str, symbol: str) -> bool:
    first = biomarker.split()[0] if biomarker.split() else ""
    return kb.is_gene(first) and kb.resolve_gene(first) == symbol


def gene_knowledge(
    kb: KnowledgeBase, genes: Iterable[str], *, drug: str | None = None
) -> pd.DataFrame:
    """The knowledge base's assertions about each gene, one line of text per gene.

    Parameters
    ----------
    kb : KnowledgeBase
        From :func:`~oncoresist.kb.load_kb`.
    genes : iterable of str
        Gene symbols (e.g. a screen's gene table index); aliases are resolved.
    drug : str, optional
        The screen's drug (name or synonym): ``for_drug`` says whether an assertion covers it.

    Returns
    -------
    pandas.DataFrame
        Index ``gene`` (only genes the knowledge base knows): ``symbol`` (the knowledge
        base's symbol), ``assertions`` (count), ``best_evidence`` (A-E), ``for_drug`` (bool),
        ``known`` (text: effect, drugs, mechanism, disease, evidence and first reference of
        each assertion, ``; ``-joined; when some cover ``drug``, only those, then a count of
        the others).
    """
    drug_key = None
    if drug:
        try:
            drug_key = kb.resolve_drug(drug)
        except UnknownDrugError:
            drug_key = None
    rows = []
    for gene in dict.fromkeys(genes):
        if not isinstance(gene, str) or not kb.is_gene(gene):
            continue
        symbol = kb.resolve_gene(gene)
        found = kb.assertions_for_gene(symbol)
        if not found:
            continue
        texts = []
        covers_any = False
        best = None
        for sourced in found:
            a = sourced.assertion
            covers = drug_key is not None and drug_key in kb.expand_drugs(a.drugs, a.except_)
            covers_any |= covers
            if best is None or EVIDENCE_RANK[a.evidence] > EVIDENCE_RANK[best]:
                best = a.evidence
            disease = a.disease if a.disease != "any" else None
            parts = (a.mechanism, disease, f"evidence {a.evidence}", a.references[0])
            detail = ", ".join(x for x in parts if x)
            partners = _partners(kb, a.biomarker, symbol)
            effect = a.effect.replace("_", " ") + partners
            # the gene's own assertions first, then those it shares with another change
            texts.append((not covers, bool(partners),
                          f"{effect}: {_drug_words(kb, a.drugs)} ({detail})"))  # fmt: skip
        texts.sort(key=lambda t: t[:2])
        shown = [t for other, _, t in texts if not other] if covers_any else [t[2] for t in texts]
        if len(shown) < len(texts):
            rest = len(texts) - len(shown)
            shown.append(f"{rest} more assertion{'s' if rest > 1 else ''} for other drugs")
        rows.append((gene, symbol, len(found), best, covers_any, "; ".join(shown)))
    import pandas as pd  # the gene table only; `import oncoresist.kb` starts without it

    return pd.DataFrame(
        rows, columns=["gene", "symbol", "assertions", "best_evidence", "for_drug", "known"]
    ).set_index("gene")
