"""Clinical tiers derived from a verdict's evidence: AMP/ASCO/CAP tiers and ESCAT levels.

The knowledge base grades evidence as CIViC does (A validated ... E inferential). Pathology
reports and molecular tumour boards speak two other vocabularies:

- the AMP/ASCO/CAP somatic-variant tiers (Li et al. 2017): Tier I (strong clinical
  significance: level A, approved therapy or guideline for this tumour type; level B,
  well-powered studies with expert consensus), Tier II (potential clinical significance:
  level C, approved for another tumour type or several small studies; level D, preclinical
  studies or a few case reports), Tier III (unknown significance);
- the ESMO Scale for Clinical Actionability of molecular Targets, ESCAT (Mateo et al. 2018):
  I (ready for routine use; I-C across tumour types), II (investigational), III (benefit shown
  in another tumour type), IV (preclinical: IV-A laboratory, IV-B in silico), V (co-targeting),
  X (no evidence).

This module **derives** both from three facts of a verdict's reason: its CIViC-style level,
how the assertion's disease relates to the patient's (the interpretation's
``disease_match``) and the effect. It is a mapping, not a curation: no tier here was assigned
by a person reading the evidence, and finer distinctions the guidelines draw (I-A randomised
vs I-B single-arm trials in ESCAT) are not made where the CIViC level does not carry them.
The mapping table is in ``docs/kb_identifiers.md``.

References
----------
Li MM et al. Standards and Guidelines for the Interpretation and Reporting of Sequence
Variants in Cancer. J Mol Diagn 2017;19:4-23. PMID:27993330.
Mateo J et al. A framework to rank genomic alterations as targets for cancer precision
medicine: the ESMO Scale for Clinical Actionability of molecular Targets (ESCAT). Ann Oncol
2018;29:1895-1902. PMID:30137196.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from oncoresist.errors import InputError

Relation = Literal["same", "pan_tumour", "other", "unknown"]

EVIDENCE_LEVELS = ("A", "B", "C", "D", "E")
EFFECTS = ("sensitive", "resistant", "reduced_response")

# How the interpretation's disease_match (interpret._result.DiseaseMatch) reads as a
# tumour-type relation. "narrower" (the assertion is for a subtype of the patient's stated
# disease) is not the same tumour type: the patient may not have that subtype.
_MATCH_RELATION: dict[str, Relation] = {
    "exact": "same",
    "broader": "same",
    "any": "pan_tumour",
    "narrower": "other",
    "other": "other",
    "unspecified": "unknown",
}

AMP_REFERENCE = "PMID:27993330"
ESCAT_REFERENCE = "PMID:30137196"


@dataclass(frozen=True)
class ClinicalTiers:
    """AMP/ASCO/CAP tier and ESCAT level derived for one reason or verdict.

    Attributes
    ----------
    amp_tier
        ``"I"``, ``"II"`` or ``"III"``.
    amp_level
        ``"A"``-``"D"`` within Tiers I and II; ``None`` for Tier III.
    escat
        ``"I"``, ``"I-C"``, ``"II"``, ``"III-A"``, ``"IV-A"``, ``"IV-B"`` or ``None`` when
        ESCAT does not apply (it ranks targets for therapy, not resistance).
    relation
        ``same``, ``pan_tumour``, ``other`` or ``unknown`` tumour type.
    note
        Why a tier was capped (other or unknown tumour type, no ESCAT for resistance).
    """

    amp_tier: str
    amp_level: str | None
    escat: str | None
    relation: Relation
    note: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        """Flat fields for a table or JSON row.

        Returns
        -------
        dict
            ``amp_tier`` (``"Tier I, level A"``), ``escat`` (``"I-C"`` or ``None``),
            ``tier_relation`` and ``tier_note``.
        """
        return {
            "amp_tier": self.amp,
            "escat": self.escat,
            "tier_relation": self.relation,
            "tier_note": self.note,
        }

    @property
    def amp(self) -> str:
        """The AMP/ASCO/CAP label, e.g. ``Tier I, level A`` or ``Tier III``."""
        if self.amp_level is None:
            return f"Tier {self.amp_tier}"
        return f"Tier {self.amp_tier}, level {self.amp_level}"


def relation(disease_match: str) -> Relation:
    """Read an interpretation's ``disease_match`` as a tumour-type relation.

    Parameters
    ----------
    disease_match
        ``exact``, ``broader`` (the assertion is for an ancestor of the patient's disease,
        e.g. NSCLC for LUAD), ``narrower``, ``any`` (the assertion names no disease),
        ``unspecified`` (no disease was given) or ``other``. ``same``, ``pan_tumour``,
        ``other`` and ``unknown`` pass through.

    Returns
    -------
    str
        ``same``, ``pan_tumour``, ``other`` or ``unknown``.

    Examples
    --------
    >>> relation("broader"), relation("unspecified")
    ('same', 'unknown')
    """
    if disease_match in ("same", "pan_tumour", "other", "unknown"):
        return disease_match  # type: ignore[return-value]
    try:
        return _MATCH_RELATION[disease_match]
    except KeyError:
        raise InputError(
            f"unknown disease match {disease_match!r}; expected one of "
            f"{', '.join(sorted(_MATCH_RELATION))}",
            field="disease_match",
        ) from None


def _check(evidence: str, effect: str) -> None:
    if evidence not in EVIDENCE_LEVELS:
        raise InputError(
            f"evidence level {evidence!r} is not one of A, B, C, D, E", field="evidence"
        )
    if effect not in EFFECTS:
        raise InputError(f"effect {effect!r} is not one of {', '.join(EFFECTS)}", field="effect")


def amp_tier(evidence: str, disease_match: str, effect: str) -> tuple[str, str | None]:
    """AMP/ASCO/CAP tier and level derived from a CIViC-style level and the disease relation.

    Li et al. apply the tiers to response and resistance alike, so the effect only has to be
    valid. A or B evidence in the same tumour type (or a pan-tumour assertion) is Tier I at
    the same level; A or B in another or an unknown tumour type is Tier II, level C (approved
    or studied elsewhere); C (case studies) is Tier II, level C in the same tumour type and D
    elsewhere; D (preclinical) is Tier II, level D; E (inferential) is Tier III.

    Parameters
    ----------
    evidence
        ``A``-``E``.
    disease_match
        See :func:`relation`.
    effect
        ``sensitive``, ``resistant`` or ``reduced_response``.

    Returns
    -------
    tuple of (str, str or None)
        Tier (``I``, ``II``, ``III``) and level (``A``-``D``, ``None`` for Tier III).

    Examples
    --------
    >>> amp_tier("A", "exact", "sensitive"), amp_tier("A", "other", "sensitive")
    (('I', 'A'), ('II', 'C'))
    """
    _check(evidence, effect)
    rel = relation(disease_match)
    here = rel in ("same", "pan_tumour")
    if evidence in ("A", "B"):
        return ("I", evidence) if here else ("II", "C")
    if evidence == "C":
        return ("II", "C") if here else ("II", "D")
    if evidence == "D":
        return ("II", "D")
    return ("III", None)


def escat_tier(evidence: str, disease_match: str, effect: str) -> str | None:
    """ESCAT level derived from a CIViC-style level, the disease relation and the effect.

    ESCAT ranks alterations as targets for a therapy, so only ``sensitive`` reasons get a
    level (``None`` otherwise). A in the same tumour type is ``I`` (the CIViC level does not
    say whether the trial was randomised, I-A, or single-arm, I-B); A for a pan-tumour
    assertion is ``I-C``; B or C in the same tumour type is ``II`` (investigational); A, B
    or C in another or unknown tumour type is ``III-A``; D is ``IV-A``; E is ``IV-B``.

    Parameters
    ----------
    evidence, disease_match, effect
        As in :func:`amp_tier`.

    Returns
    -------
    str or None

    Examples
    --------
    >>> escat_tier("A", "any", "sensitive"), escat_tier("D", "exact", "sensitive")
    ('I-C', 'IV-A')
    >>> escat_tier("A", "exact", "resistant") is None
    True
    """
    _check(evidence, effect)
    if effect != "sensitive":
        return None
    rel = relation(disease_match)
    if evidence == "D":
        return "IV-A"
    if evidence == "E":
        return "IV-B"
    if rel in ("other", "unknown"):
        return "III-A"
    if evidence == "A":
        return "I-C" if rel == "pan_tumour" else "I"
    return "II"


def clinical_tiers(evidence: str, disease_match: str, effect: str) -> ClinicalTiers:
    """Both derived tiers for one reason, with a note when a tier was capped.

    Parameters
    ----------
    evidence, disease_match, effect
        As in :func:`amp_tier`.

    Returns
    -------
    ClinicalTiers

    Examples
    --------
    >>> t = clinical_tiers("A", "exact", "sensitive")
    >>> t.amp, t.escat
    ('Tier I, level A', 'I')
    """
    tier, level = amp_tier(evidence, disease_match, effect)
    escat = escat_tier(evidence, disease_match, effect)
    rel = relation(disease_match)
    notes = []
    if rel == "unknown" and evidence in ("A", "B", "C"):
        notes.append("no disease given: tiered as for another tumour type")
    elif rel == "other" and evidence in ("A", "B", "C"):
        notes.append("evidence is for another tumour type")
    if effect != "sensitive":
        notes.append("ESCAT ranks therapeutic targets; it has no level for resistance")
    return ClinicalTiers(tier, level, escat, rel, "; ".join(notes) or None)


def verdict_tiers(reasons: list, effect: str | None = None) -> ClinicalTiers | None:
    """Tiers for a verdict, by the rule of its evidence level (issue 18).

    A verdict's evidence is the weakest rationale it needs, and its tiers follow the same
    rule: per alteration the best of its reasons suffices; across alterations a resistant
    (or reduced) verdict needs one defeating alteration, so it takes the best, and a
    sensitive verdict needs every alteration covered, so it takes the worst. The reasons
    it rests on are its ``decisive`` ones; when none is marked decisive, every
    ``supporting`` one. Reasons without an ``alteration`` attribute count as alterations
    of their own.

    Parameters
    ----------
    reasons
        Objects with ``evidence``, ``disease_match``, ``effect``, ``role`` and (usually)
        ``alteration`` attributes (:class:`oncoresist.interpret.Reason`); ``overridden``
        and ``other_disease`` reasons never count.
    effect
        Only reasons with this effect count (the verdict's effect); all when ``None``.

    Returns
    -------
    ClinicalTiers or None
        ``None`` when no reason counts (a ``no_known_effect`` verdict).
    """
    usable = [
        r
        for r in reasons
        if getattr(r, "role", "decisive") in ("decisive", "supporting")
        and (effect is None or r.effect == effect)
    ]
    decisive = [r for r in usable if getattr(r, "role", "decisive") == "decisive"]
    chosen = decisive or usable
    if not chosen:
        return None
    per_alteration: dict[object, object] = {}
    for i, r in enumerate(chosen):
        key = getattr(r, "alteration", i)
        if key not in per_alteration or _tier_rank(r) > _tier_rank(per_alteration[key]):
            per_alteration[key] = r
    one_suffices = (effect or chosen[0].effect) in ("resistant", "reduced_response")
    pick = (max if one_suffices else min)(per_alteration.values(), key=_tier_rank)
    return clinical_tiers(pick.evidence, pick.disease_match, pick.effect)


_AMP_ORDER = {("I", "A"): 6, ("I", "B"): 5, ("II", "C"): 4, ("II", "D"): 3, ("III", None): 1}
_RANK = {"A": 5, "B": 4, "C": 3, "D": 2, "E": 1}


def _tier_rank(reason) -> tuple[int, int]:
    """Sort key: AMP tier and level first, then the CIViC level."""
    key = amp_tier(reason.evidence, reason.disease_match, reason.effect)
    return _AMP_ORDER[key], _RANK[reason.evidence]


__all__ = [
    "AMP_REFERENCE",
    "ESCAT_REFERENCE",
    "ClinicalTiers",
    "amp_tier",
    "clinical_tiers",
    "escat_tier",
    "relation",
    "verdict_tiers",
]
