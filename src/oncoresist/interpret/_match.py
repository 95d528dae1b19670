"""Whether an observed alteration matches a knowledge-base biomarker, and how closely.

Specificity, from most to least specific: the exact change (4); a codon with any change or
a specific fusion partner (3); an exon-level event (2); a gene-level event such as
amplification, loss, any fusion or any mutation (1). Zero means no match.
"""

from __future__ import annotations

from oncoresist.variants import Alteration

EXACT, CODON, EXON, GENE = 4, 3, 2, 1
SPECIFICITY_NAME = {EXACT: "exact", CODON: "codon", EXON: "exon", GENE: "gene"}

_DELETION_TYPES = {"deletion"}
_INSERTION_TYPES = {"insertion", "duplication"}


def _exon_word(change: str) -> str:
    return change.split()[-1]


def _net_inserted(alt: Alteration) -> int:
    """Residues added (positive) or removed (negative) by a delins."""
    span = (alt.end_position or alt.position or 0) - (alt.position or 0) + 1
    return len(alt.inserted or "") - span


def _sequence_kind(alt: Alteration) -> str | None:
    """'deletion', 'insertion' or None for an in-frame change, by its net effect."""
    if alt.variant_type in _DELETION_TYPES:
        return "deletion"
    if alt.variant_type in _INSERTION_TYPES:
        return "insertion"
    if alt.variant_type == "delins":
        net = _net_inserted(alt)
        return "insertion" if net > 0 else "deletion" if net < 0 else None
    return None


def match_specificity(pattern: Alteration, alt: Alteration) -> int:
    """Return how specifically ``alt`` matches the biomarker ``pattern`` (0: no match).

    Examples
    --------
    >>> from oncoresist.variants import parse_alteration as p
    >>> match_specificity(p("EGFR exon 19 deletion"), p("EGFR E746_A750del"))
    2
    >>> match_specificity(p("BRAF V600"), p("BRAF V600E"))
    3
    """
    if pattern.kind == "phenotype" or alt.kind == "phenotype":
        return EXACT if pattern.kind == alt.kind and pattern.change == alt.change else 0
    if pattern.gene != alt.gene:
        return 0
    if alt.variant_type == "synonymous":
        return 0
    if pattern.kind == alt.kind and pattern.change == alt.change:
        return _identical(pattern)
    kind = pattern.kind
    if kind == "amplification":
        return GENE if alt.kind == "amplification" else 0
    if kind == "expression":
        # "overexpression" covers any expression event; a named variant only itself
        return GENE if alt.kind == "expression" and pattern.change == "overexpression" else 0
    if kind == "loss":
        if alt.kind == "loss" or alt.variant_type in ("nonsense", "frameshift"):
            return GENE
        return 0
    if kind == "fusion":
        if alt.kind != "fusion":
            return 0
        if pattern.change == "fusion":
            return GENE
        return CODON if pattern.partner is not None and pattern.partner == alt.partner else 0
    if kind == "mutation":
        if pattern.change != "mutation":  # a reversion is matched only by a reversion
            return 0
        return GENE if alt.kind in ("point", "indel", "exon", "mutation") else 0
    if kind == "exon":
        return _match_exon(pattern, alt)
    if kind == "point":
        if alt.kind != "point" or alt.position != pattern.position:
            return 0
        if pattern.ref_aa != alt.ref_aa:
            return 0
        if pattern.variant_type == "codon":
            return CODON if alt.variant_type in ("missense", "codon") else 0
        return EXACT if alt.alt_aa == pattern.alt_aa else 0
    return 0


def _identical(pattern: Alteration) -> int:
    """Specificity of a pattern matched by an alteration written the same way."""
    if pattern.kind == "point":
        return CODON if pattern.variant_type == "codon" else EXACT
    if pattern.kind == "indel":
        return EXACT
    if pattern.kind == "exon":
        return EXACT if pattern.change.endswith("skipping") else EXON
    if pattern.kind == "fusion":
        return GENE if pattern.change == "fusion" else CODON
    if pattern.kind == "expression" and pattern.change != "overexpression":
        return EXACT  # a named transcript variant such as AR-V7
    if pattern.kind == "mutation" and pattern.change == "reversion":
        return EXACT  # a reversion outranks the gene's "any mutation" evidence
    return GENE


def _match_exon(pattern: Alteration, alt: Alteration) -> int:
    want = _exon_word(pattern.change)
    if alt.kind == "exon":
        if alt.exon != pattern.exon:
            return 0
        got = _exon_word(alt.change)
        return EXON if want == got or want == "mutation" else 0
    if alt.kind not in ("point", "indel") or alt.exon != pattern.exon:
        return 0
    if want == "mutation":
        return EXON
    if want in ("deletion", "insertion"):
        return EXON if alt.kind == "indel" and _sequence_kind(alt) == want else 0
    return 0
