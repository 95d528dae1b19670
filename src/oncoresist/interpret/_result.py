"""The result of an interpretation: per-drug verdicts with reasons, and remaining options."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

Verdict = Literal["resistant", "reduced_response", "sensitive", "no_known_effect"]
DiseaseMatch = Literal["exact", "broader", "narrower", "any", "unspecified", "other"]

if TYPE_CHECKING:
    import pandas as pd

VERDICT_SEVERITY: dict[str, int] = {
    "resistant": 3,
    "reduced_response": 2,
    "sensitive": 1,
    "no_known_effect": 0,
}


class Reason(BaseModel):
    """One knowledge-base assertion applied to one alteration (or compound) and one drug.

    Attributes
    ----------
    alteration
        The patient's alteration(s) it applies to (``EGFR T790M``; compounds joined by
        `` + `` with the phase, ``EGFR T790M + EGFR C797S (cis)``).
    biomarker
        The knowledge-base biomarker it matched (``EGFR exon 19 deletion``).
    match
        How specific the match was: exact, codon, exon or gene.
    effect
        resistant, reduced_response or sensitive.
    mechanism
        on_target, bypass, downstream, phenotypic or microenvironment (``None`` for
        sensitivity).
    evidence
        CIViC evidence level A-E.
    disease, disease_match
        The assertion's disease and how it relates to the patient's.
    driver
        The primary driver the assertion requires, if any.
    via
        For a combination judged through one of its members: that member.
    assertion
        The assertion id in the knowledge base.
    references, summary
        Citations and a one-line statement.
    preferred_for
        Drugs this assertion names as guideline-preferred in its setting.
    role
        decisive (sets the verdict), supporting (agrees or is weaker), overridden (lost to a
        more specific, closer-disease or stronger assertion) or other_disease.
    why_overridden
        For overridden or other-disease reasons: what beat it.
    """

    model_config = ConfigDict(frozen=True)

    alteration: str
    biomarker: str
    match: str
    effect: str
    mechanism: str | None
    evidence: str
    disease: str
    disease_match: DiseaseMatch
    driver: str | None = None
    via: str | None = None
    assertion: str
    references: list[str]
    summary: str
    preferred_for: list[str] = []
    role: Literal["decisive", "supporting", "overridden", "other_disease"] = "supporting"
    why_overridden: str | None = None


class DrugVerdict(BaseModel):
    """The verdict for one drug or combination, with its reasons.

    ``evidence`` is the level of the weakest rationale the verdict needs: the strongest
    defeating alteration for a resistant verdict, the weakest covered alteration for a
    sensitive one; ``amp_tier`` (AMP/ASCO/CAP, ``Tier I, level A``) and ``escat`` (ESCAT,
    for sensitivity only) are derived from it by the same rule
    (:func:`oncoresist.kb._tiers.verdict_tiers`; a derivation, not a curation).
    ``status`` flags members that are not approved or withdrawn; ``notes`` hold caveats
    (unknown phase, disagreement across diseases without a disease, status).
    """

    drug: str
    members: list[str]
    verdict: Verdict
    evidence: str | None
    reasons: list[Reason]
    disagreements: list[Reason] = []
    phase_readings: dict[str, Verdict] | None = None
    amp_tier: str | None = None
    escat: str | None = None
    status: str | None = None
    notes: list[str] = []


class Option(BaseModel):
    """A drug or combination expected to remain active, with why.

    ``unaddressed`` lists the alterations that defeat other drugs in this case but about
    which the knowledge base says nothing for this option. ``evidence`` is the weakest
    rationale the option needs. ``status`` names members that are not approved or whose
    approval was withdrawn (``None`` when all are approved); such options rank below
    approved ones of the same standing.
    """

    drug: str
    evidence: str
    why: str
    preferred: bool = False
    amp_tier: str | None = None
    escat: str | None = None
    status: str | None = None
    condition: str | None = None
    unaddressed: list[str] = []
    reasons: list[Reason]


class PhaseRelation(BaseModel):
    """Allele phase between two alterations, with where it came from."""

    first: str
    second: str
    relation: Literal["cis", "trans", "unknown"]
    source: Literal["given", "input", "assumed"]


class Interpretation(BaseModel):
    """Everything the interpretation says about one case.

    Attributes
    ----------
    disease
        Disease id (``None`` when not given) and ``disease_name``.
    alterations
        The alterations interpreted, as labels.
    primary_driver
        Gene(s) judged to be the primary driver (lowest ``driver_rank``), or as given.
    phase
        Phase relations used by compound rules.
    drugs
        One :class:`DrugVerdict` per drug asked, in the order asked; without a list, per
        drug the knowledge base links to the alterations: first the drugs an alteration
        defeats although another would make them work, then the active ones, then those
        resisted but never indicated, then those without known effect.
    options
        Drugs and combinations expected to remain active, best evidence first.
    notes
        Caveats (unknown phase, unmatched alterations, evidence only from other diseases).
    """

    disease: str | None
    disease_name: str | None
    alterations: list[str]
    primary_driver: list[str]
    phase: list[PhaseRelation]
    drugs: list[DrugVerdict]
    options: list[Option]
    notes: list[str] = []

    def verdict(self, drug: str) -> DrugVerdict:
        """The verdict for one drug or combination, in any order and case.

        ``osimertinib``, ``gefitinib + osimertinib`` and ``Osimertinib+Gefitinib`` name
        the same keys as the result's (sorted, lower-case) ``drug`` fields.

        Raises
        ------
        KeyError
            No verdict for that drug; the message lists the drugs there are.
        """
        want = _drug_key(drug)
        for item in self.drugs:
            if _drug_key(item.drug) == want:
                return item
        raise KeyError(f"no verdict for {drug!r}; drugs: {', '.join(d.drug for d in self.drugs)}")

    def to_dict(self, *, case: str | None = None) -> dict:
        """The JSON document of ``docs/formats.md``; ``case`` names the case file stem."""
        body = self.model_dump(mode="json")
        out: dict = {} if case is None else {"case": case}
        out.update(body)
        return out

    def to_frame(self) -> pd.DataFrame:
        """A tidy table: one row per drug and reason (a drug without reasons gets one row).

        Columns: drug, verdict, phase (``unknown: cis <verdict>, trans <verdict>`` when the
        verdict depends on a phase that was not given, else empty), evidence_verdict,
        alteration, biomarker, match, effect, mechanism, evidence, disease, disease_match,
        via, role, assertion, references, amp_tier and escat (the verdict's derived clinical
        tiers), status (approval flags), notes (the drug's caveats joined by `` | ``).
        """
        import pandas as pd

        rows = []
        for item in self.drugs:
            reasons = item.reasons + item.disagreements
            readings = item.phase_readings
            phase = (f"unknown: cis {readings['cis']}, trans {readings['trans']}"
                     if readings else "")  # fmt: skip
            extra = {
                "amp_tier": item.amp_tier or "",
                "escat": item.escat or "",
                "status": item.status or "",
                "notes": " | ".join(item.notes),
            }
            if not reasons:
                rows.append({"drug": item.drug, "verdict": item.verdict, "phase": phase, **extra})
            for r in reasons:
                rows.append(
                    {
                        "drug": item.drug,
                        "verdict": item.verdict,
                        "phase": phase,
                        **extra,
                        "evidence_verdict": item.evidence,
                        "alteration": r.alteration,
                        "biomarker": r.biomarker,
                        "match": r.match,
                        "effect": r.effect,
                        "mechanism": r.mechanism,
                        "evidence": r.evidence,
                        "disease": r.disease,
                        "disease_match": r.disease_match,
                        "via": r.via,
                        "role": r.role,
                        "assertion": r.assertion,
                        "references": "; ".join(r.references),
                    }
                )
        columns = [
            "drug", "verdict", "phase", "evidence_verdict", "alteration", "biomarker", "match",
            "effect", "mechanism", "evidence", "disease", "disease_match", "via", "role",
            "assertion", "references", "amp_tier", "escat", "status", "notes",
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=columns)


def _drug_key(drug: str) -> str:
    """``B + a`` -> ``a + b``: a combination's drugs sorted, lower case, spaces trimmed."""
    return " + ".join(sorted(part.strip().lower() for part in drug.split("+") if part.strip()))
