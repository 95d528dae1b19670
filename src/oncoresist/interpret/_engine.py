"""Per-drug interpretation of a tumour's alterations.

Rules that a per-variant lookup cannot express are applied here:

- **allele phase**: compound biomarkers (EGFR T790M + C797S) apply only in the phase they
  name; with unknown phase both readings are computed and the one least favourable to the
  drug is reported, with the other alongside (Niederst et al. 2015, PMID 25964297);
- **compound mutations** override their members' single-alteration evidence for the drugs
  they name (ALK C1156Y + L1198F re-sensitising to crizotinib, Shaw et al. 2016);
- **primary driver**: bypass assertions apply only against the driver's drugs (MET
  amplification in an EGFR-driven tumour), and combinations answering them become options;
- **disease context**: an assertion applies to its disease and its sub-types; evidence from
  other diseases is shown but never decides a verdict;
- **drug classes** with explicit exceptions are expanded at compile time;
- **conflicts**: for one alteration and one drug the most specific biomarker wins, then the
  closest disease, then the strongest evidence (without a disease, specificity is compared
  only within one disease and evidence across diseases); the losers are shown as
  disagreements. Across alterations the most severe effect wins (any resistant clone
  defeats the drug).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from oncoresist.errors import InputError, UnknownDiseaseError
from oncoresist.interpret._match import SPECIFICITY_NAME, match_specificity
from oncoresist.interpret._result import (
    VERDICT_SEVERITY,
    DrugVerdict,
    Interpretation,
    Option,
    PhaseRelation,
    Reason,
)
from oncoresist.interpret._rules import Rule, RuleIndex, compile_rules
from oncoresist.kb import EVIDENCE_RANK, KnowledgeBase, load_kb
from oncoresist.kb._oncotree import DiseaseResolution
from oncoresist.kb._oncotree import resolve_disease as resolve_oncotree_disease
from oncoresist.kb._tiers import verdict_tiers
from oncoresist.variants import Alteration, parse_alteration
from oncoresist.variants._genes import resolve_gene
from oncoresist.variants._parse import codon_level_notes, parse_change

if TYPE_CHECKING:
    import pandas as pd

AlterationInput = str | Alteration
PhaseInput = Sequence[tuple[AlterationInput, AlterationInput, str]]

# For an unknown phase the reported reading is the one least favourable to the drug.
_CAUTION = {"resistant": 3, "reduced_response": 2, "no_known_effect": 1, "sensitive": 0}

_APPLICABLE = ("exact", "broader", "narrower", "any", "unspecified")


@dataclass(frozen=True)
class _Match:
    """A rule matched to the alteration(s) of this case."""

    rule: Rule
    alterations: tuple[Alteration, ...]
    specificity: int
    disease_match: str
    disease_score: float
    phase: str  # "ok", or "cis"/"trans" when it holds only under that unknown phase

    def rank(self) -> tuple:
        severity = VERDICT_SEVERITY[self.rule.effect]
        return (self.specificity, self.disease_score, self.rule.evidence_rank, severity)

    @property
    def label(self) -> str:
        text = " + ".join(a.label for a in self.alterations)
        if self.rule.compound and self.rule.phase != "any":
            text += f" ({self.rule.phase})"
        return text


@dataclass(frozen=True)
class _Choice:
    """The effect of one drug on one alteration, and the reasons behind it."""

    effect: str
    decisive: tuple[Reason, ...]
    evidence_rank: int


class _Case:
    def __init__(
        self,
        kb: KnowledgeBase,
        rules: RuleIndex,
        alterations: list[Alteration],
        disease: str | None,
        relations: dict[frozenset[str], tuple[str, str]],
        primary: list[str],
    ) -> None:
        self.kb = kb
        self.rules = rules
        self.alterations = alterations
        self.disease = disease
        self.lineage = kb.disease_lineage(disease) if disease else []
        self.relations = relations
        self.primary = primary
        self.single: dict[str, list[_Match]] = {}
        self.compound: list[_Match] = []
        self.skipped_driver: list[Rule] = []
        self._cache: dict[tuple, dict[str, _Choice]] = {}
        self._match_all()

    # ------------------------------------------------------------------ matching
    def _disease(self, rule_disease: str) -> tuple[str, float]:
        if rule_disease == "any":
            return "any", 2.0
        if self.disease is None:
            return "unspecified", 2.0
        if rule_disease == self.disease:
            return "exact", 10.0
        if rule_disease in self.lineage:
            return "broader", 9.0 - self.lineage.index(rule_disease) * 0.5
        if self.disease in self.kb.disease_lineage(rule_disease):
            return "narrower", 6.0
        return "other", -1.0

    def _driver_ok(self, rule: Rule) -> bool:
        return rule.driver is None or rule.driver in self.primary

    def _match_all(self) -> None:
        for alt in self.alterations:
            found = []
            for rule in self.rules.single.get(alt.gene, []):
                spec = match_specificity(rule.patterns[0], alt)
                if not spec:
                    continue
                if not self._driver_ok(rule):
                    self.skipped_driver.append(rule)
                    continue
                dm, score = self._disease(rule.disease)
                found.append(_Match(rule, (alt,), spec, dm, score, "ok"))
            self.single[alt.key] = found
        for rule in self.rules.compound:
            m = self._match_compound(rule)
            if m is not None:
                if self._driver_ok(rule):
                    self.compound.append(m)
                else:
                    self.skipped_driver.append(rule)

    def _match_compound(self, rule: Rule) -> _Match | None:
        options = []
        for pattern in rule.patterns:
            hits = [(a, match_specificity(pattern, a)) for a in self.alterations]
            hits = [h for h in hits if h[1]]
            if not hits:
                return None
            options.append(hits)
        for pick in itertools.product(*options):
            alts = tuple(a for a, _ in pick)
            if len({a.key for a in alts}) != len(alts):
                continue
            status = self._phase_status(rule, alts)
            if status is None:
                continue
            dm, score = self._disease(rule.disease)
            spec = min(s for _, s in pick) + 1  # a compound is more specific than its parts
            return _Match(rule, alts, spec, dm, score, status)
        return None

    def relation(self, a: Alteration, b: Alteration) -> tuple[str, str]:
        """Phase of two alterations: (cis|trans|unknown, given|input|assumed)."""
        given = self.relations.get(frozenset((a.key, b.key)))
        if given is not None:
            return given
        if (
            a.gene == b.gene
            and a.phase_set is not None
            and a.phase_set == b.phase_set
            and a.haplotype is not None
            and b.haplotype is not None
        ):
            return ("cis" if a.haplotype == b.haplotype else "trans"), "input"
        return "unknown", "assumed"

    def _phase_status(self, rule: Rule, alts: tuple[Alteration, ...]) -> str | None:
        if rule.phase == "any":
            return "ok"
        states = {self.relation(a, b)[0] for a, b in itertools.combinations(alts, 2)}
        if states == {rule.phase}:
            return "ok"
        if states <= {rule.phase, "unknown"}:
            return rule.phase  # holds only if the unknown phase is this one
        return None

    # ----------------------------------------------------------------- choosing
    def applicable(self, m: _Match, assume: str | None) -> bool:
        """Whether a match counts for the verdict under a phase assumption."""
        if m.disease_match not in _APPLICABLE:
            return False
        return m.phase == "ok" or m.phase == assume

    def choices(self, drug: str, assume: str | None) -> dict[str, _Choice]:
        """The effect of ``drug`` on each alteration (missing: no applicable evidence)."""
        key = (drug, assume)
        if key in self._cache:
            return self._cache[key]
        out: dict[str, _Choice] = {}
        covered: dict[str, _Match] = {}
        for m in self.compound:
            if drug in m.rule.drugs and self.applicable(m, assume):
                for alt in m.alterations:
                    best = covered.get(alt.key)
                    if best is None or m.rank() > best.rank():
                        covered[alt.key] = m
        members = self.kb.members_of(drug)
        for alt in self.alterations:
            chosen = covered.get(alt.key)
            if chosen is None:
                direct = [
                    m
                    for m in self.single.get(alt.key, [])
                    if drug in m.rule.drugs and self.applicable(m, assume)
                ]
                chosen = self._best(direct) if direct else None
            if chosen is not None:
                reasons = [_reason(chosen)]
                evidence = chosen.rule.evidence_rank
                if chosen.rule.compound:
                    # a single-alteration assertion that agrees with the compound still counts
                    direct = [
                        m
                        for m in self.single.get(alt.key, [])
                        if drug in m.rule.drugs
                        and self.applicable(m, assume)
                        and m.rule.effect == chosen.rule.effect
                    ]
                    if direct:
                        agreeing = self._best(direct)
                        reasons.append(_reason(agreeing))
                        evidence = max(evidence, agreeing.rule.evidence_rank)
                out[alt.key] = _Choice(chosen.rule.effect, tuple(reasons), evidence)
            elif len(members) > 1:
                derived = self._derive(alt, members, assume)
                if derived is not None:
                    out[alt.key] = derived
        self._cache[key] = out
        return out

    def _best(self, matches: list[_Match]) -> _Match:
        """The deciding match for one alteration and one drug.

        With the patient's disease known: the most specific biomarker, then the closest
        disease, then the strongest evidence. Without it, specificity is compared only
        within one disease (assertions for any disease join every disease's group); across
        diseases the strongest evidence wins.
        """
        if self.disease is not None:
            return max(matches, key=_Match.rank)
        universal = [m for m in matches if m.rule.disease == "any"]
        diseases = {m.rule.disease for m in matches} - {"any"}
        per_disease: dict[str, _Match] = {}
        for disease in diseases or {"any"}:
            # an assertion for every disease competes inside each disease's group
            group = [m for m in matches if m.rule.disease == disease] + universal
            per_disease[disease] = max(group, key=_Match.rank)
        return max(
            per_disease.values(),
            key=lambda m: (m.rule.evidence_rank, m.specificity, VERDICT_SEVERITY[m.rule.effect]),
        )

    def _derive(self, alt: Alteration, members: list[str], assume: str | None) -> _Choice | None:
        """A combination's effect on an alteration through its members.

        The combination covers the alteration if any member stays active against it; it
        fails only if every member with evidence fails.
        """
        per_member = {m: self.choices(m, assume).get(alt.key) for m in members}
        known = {m: c for m, c in per_member.items() if c is not None}
        if not known:
            return None
        for member, choice in per_member.items():
            if choice is None:
                answered = self._answers_bypass(member, alt, known.values())
                if answered is not None:
                    known[member] = answered
        best_effect = min((c.effect for c in known.values()), key=VERDICT_SEVERITY.__getitem__)
        winners = [(m, c) for m, c in known.items() if c.effect == best_effect]
        vias: dict[str, list[str]] = {}
        first: dict[str, Reason] = {}
        for member, choice in winners:
            for r in choice.decisive:
                vias.setdefault(r.assertion, []).append(member)
                first.setdefault(r.assertion, r)
        reasons = tuple(
            r.model_copy(update={"via": ", ".join(vias[aid])}) for aid, r in first.items()
        )
        return _Choice(best_effect, reasons, max(c.evidence_rank for _, c in winners))

    def _answers_bypass(
        self, member: str, alt: Alteration, others: Iterable[_Choice]
    ) -> _Choice | None:
        """A partner drug that targets the bypass which defeats the other members.

        When the other members of a combination fail against ``alt`` through a bypass or
        downstream mechanism in a gene that ``member`` targets (amivantamab binds MET, so
        it answers MET amplification against lazertinib), ``member`` is counted as
        covering ``alt``. Nothing in the knowledge base says so directly, so the reason is
        inferential (level E) and says what it was inferred from.
        """
        drug = self.kb.drugs.get(member)
        if drug is None or alt.gene is None or alt.gene not in drug.targets:
            return None
        failing = [
            r
            for c in others
            if c.effect in ("resistant", "reduced_response")
            for r in c.decisive
            if r.mechanism in ("bypass", "downstream")
        ]
        if not failing:
            return None
        basis = failing[0]
        reason = Reason(
            alteration=alt.label,
            biomarker=basis.biomarker,
            match=basis.match,
            effect="sensitive",
            mechanism=None,
            evidence="E",
            disease=basis.disease,
            disease_match=basis.disease_match,
            driver=basis.driver,
            assertion=f"inferred:{member}:{alt.gene}",
            references=list(basis.references),
            summary=(
                f"{member} targets {alt.gene}, the {basis.mechanism} mechanism that defeats "
                f"the other drugs of the combination ({basis.assertion}); its activity "
                "against it is inferred, not asserted"
            ),
        )
        return _Choice("sensitive", (reason,), EVIDENCE_RANK["E"])

    def losers(self, drug: str, chosen: dict[str, _Choice], assume: str | None) -> list[Reason]:
        """Assertions on ``drug`` that disagree with the chosen effect, and why they lost."""
        out = []
        for alt in self.alterations:
            choice = chosen.get(alt.key)
            for m in self.single.get(alt.key, []):
                if drug not in m.rule.drugs:
                    continue
                if choice is not None and m.rule.effect == choice.effect:
                    continue
                if choice is not None and any(r.assertion == m.rule.id for r in choice.decisive):
                    continue
                if m.disease_match == "other":
                    out.append(
                        _reason(m).model_copy(
                            update={
                                "role": "other_disease",
                                "why_overridden": (
                                    f"evidence from {m.rule.disease}, not the patient's disease"
                                ),
                            }
                        )
                    )
                elif choice is not None and m.phase in ("ok", assume):
                    out.append(
                        _reason(m).model_copy(
                            update={"role": "overridden", "why_overridden": _why(choice, m)}
                        )
                    )
        return out


def _why(choice: _Choice, loser: _Match) -> str:
    winner = choice.decisive[0]
    if " + " in winner.alteration and "+" not in loser.label:
        return f"the compound {winner.alteration} overrides single-alteration evidence"
    order = ["gene", "exon", "codon", "exact"]
    if winner.match in order and order.index(winner.match) > order.index(
        SPECIFICITY_NAME.get(loser.specificity, "gene")
    ):
        return f"a more specific biomarker applies ({winner.biomarker})"
    if winner.disease_match == "exact" and loser.disease_match != "exact":
        return f"an assertion for the patient's disease applies ({winner.disease})"
    if EVIDENCE_RANK[winner.evidence] > loser.rule.evidence_rank:
        return f"stronger evidence applies (level {winner.evidence} over {loser.rule.evidence})"
    return "assertions of equal standing disagree; the more severe effect is reported"


def _reason(m: _Match) -> Reason:
    rule = m.rule
    return Reason(
        alteration=m.label,
        biomarker=rule.biomarker,
        match=SPECIFICITY_NAME.get(min(m.specificity, 4), "exact"),
        effect=rule.effect,
        mechanism=rule.mechanism,
        evidence=rule.evidence,
        disease=rule.disease,
        disease_match=m.disease_match,  # type: ignore[arg-type]
        driver=rule.driver,
        assertion=rule.id,
        references=list(rule.references),
        summary=rule.summary,
        preferred_for=sorted(rule.preferred),
    )


# ---------------------------------------------------------------------- inputs
def _coerce(alterations: object, kb: KnowledgeBase) -> list[Alteration]:
    if _is_frame(alterations):
        items: Iterable[object] = _from_frame(alterations, kb)
    elif isinstance(alterations, (str, Alteration)):
        items = [alterations]
    else:
        items = alterations  # type: ignore[assignment]
    out: dict[str, Alteration] = {}
    for item in items:
        if isinstance(item, str):
            parsed = [parse_alteration(t, kb=kb) for t in item.split(";") if t.strip()]
        elif isinstance(item, Alteration):
            parsed = [item]
        else:
            raise InputError(
                f"cannot interpret {item!r}; expected alteration text, an Alteration or a "
                "DataFrame with gene and alteration columns"
            )
        for alt in parsed:
            seen = out.get(alt.key)
            if seen is None or (alt.vaf or 0) > (seen.vaf or 0):
                out[alt.key] = alt
    return list(out.values())


def _is_frame(value: object) -> bool:
    """Whether ``value`` is a pandas DataFrame, without importing pandas for other inputs."""
    import sys

    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)


def _from_frame(frame: pd.DataFrame, kb: KnowledgeBase) -> list[Alteration]:
    import pandas as pd

    if "alteration" not in frame.columns:
        raise InputError(
            "the table needs an 'alteration' column (and optionally 'gene')", field="alteration"
        )
    out = []
    optional = [c for c in ("vaf", "depth", "sample", "phase_set") if c in frame.columns]
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        data = row._asdict()
        extra = {c: data[c] for c in optional if not pd.isna(data[c])}
        if "phase_set" in extra:
            extra["phase_set"] = str(extra["phase_set"])
        try:
            if "gene" in frame.columns and not pd.isna(data["gene"]):
                gene = resolve_gene(kb, str(data["gene"]))
                out.append(parse_change(str(data["alteration"]), gene=gene, kb=kb, **extra))
            else:
                out.append(parse_alteration(str(data["alteration"]), kb=kb, **extra))
        except InputError as exc:
            raise exc.located(record=f"row {i}") from None
    return out


def _relations(
    phase: PhaseInput | None, kb: KnowledgeBase
) -> dict[frozenset[str], tuple[str, str]]:
    out: dict[frozenset[str], tuple[str, str]] = {}
    for i, item in enumerate(phase or [], start=1):
        if len(item) != 3:
            raise InputError(
                f"phase entry {i} has {len(item)} items; expected [alteration, alteration, "
                "cis|trans]",
                field="phase",
            )
        first, second, relation = item
        relation = str(relation).strip().lower()
        if relation not in ("cis", "trans"):
            raise InputError(f"phase entry {i}: {relation!r} is not cis or trans", field="phase")
        a = first if isinstance(first, Alteration) else parse_alteration(str(first), kb=kb)
        b = second if isinstance(second, Alteration) else parse_alteration(str(second), kb=kb)
        out[frozenset((a.key, b.key))] = (relation, "given")
    return out


def _primary_driver(
    alterations: list[Alteration], rules: RuleIndex, kb: KnowledgeBase, given: object
) -> list[str]:
    if given:
        names = [given] if isinstance(given, str) else list(given)  # type: ignore[arg-type]
        return sorted({kb.resolve_gene(str(n)) for n in names})
    ranks: dict[str, int] = {}
    for alt in alterations:
        if alt.gene is None or alt.gene not in kb.genes:
            continue
        patterns = list(rules.drivers.get(alt.gene, []))
        patterns += [r.patterns[0] for r in rules.on_target_genes.get(alt.gene, [])]
        if any(match_specificity(p, alt) for p in patterns):
            ranks[alt.gene] = kb.genes[alt.gene].driver_rank
    if not ranks:
        return []
    best = min(ranks.values())
    return sorted(g for g, r in ranks.items() if r == best)


# ---------------------------------------------------------------------- verdicts
def _verdict_from(choices: dict[str, _Choice]) -> str:
    if not choices:
        return "no_known_effect"
    return max((c.effect for c in choices.values()), key=VERDICT_SEVERITY.__getitem__)


def _conditional_phases(case: _Case, drug: str) -> list[str]:
    phases = set()
    for m in case.compound:
        if m.phase in ("cis", "trans") and m.disease_match in _APPLICABLE:
            members = case.kb.members_of(drug)
            if drug in m.rule.drugs or any(x in m.rule.drugs for x in members):
                phases.add(m.phase)
    return sorted(phases)


def _needed_evidence(verdict: str, choices: dict[str, _Choice]) -> str | None:
    """The evidence level of a verdict: that of the weakest rationale it needs.

    A resistant (or reduced) verdict needs one alteration that defeats the drug, so it
    takes the strongest of those. A sensitive verdict needs every judged alteration to be
    covered, so it takes the weakest of them (a combination that works only through a
    level-D trans rationale is level D, whatever the level of its other reasons). Within
    one alteration, any one of its agreeing reasons suffices.
    """
    ranks = [c.evidence_rank for c in choices.values() if c.effect == verdict]
    if not ranks:
        return None
    needed = max(ranks) if verdict in ("resistant", "reduced_response") else min(ranks)
    return next(level for level, rank in EVIDENCE_RANK.items() if rank == needed)


def _evaluate(case: _Case, drug: str) -> DrugVerdict:
    conditional = _conditional_phases(case, drug)
    readings: dict[str, str] | None = None
    notes: list[str] = []
    assume: str | None = None
    if conditional:
        readings = {}
        for phase in ("cis", "trans"):
            readings[phase] = _verdict_from(case.choices(drug, phase))
        if len(set(readings.values())) > 1:
            assume = max(readings, key=lambda p: _CAUTION[readings[p]])
            pairs = {
                m.label.rsplit(" (", 1)[0] for m in case.compound if m.phase in ("cis", "trans")
            }
            notes.append(
                f"allele phase of {', '.join(sorted(pairs))} is unknown: {readings['cis']} if "
                f"in cis, {readings['trans']} if in trans; the reading least favourable to "
                "the drug is reported"
            )
        else:
            readings = None
    choices = case.choices(drug, assume)
    verdict = _verdict_from(choices)
    reasons: list[Reason] = []
    for alt in case.alterations:
        choice = choices.get(alt.key)
        if choice is None:
            continue
        role = "decisive" if choice.effect == verdict else "supporting"
        for r in choice.decisive:
            if not any(x.assertion == r.assertion and x.via == r.via for x in reasons):
                reasons.append(r.model_copy(update={"role": role}))
    reasons.sort(key=lambda r: r.role != "decisive")
    evidence = _needed_evidence(verdict, choices)
    disagreements = case.losers(drug, choices, assume)
    if verdict == "no_known_effect" and any(d.role == "other_disease" for d in disagreements):
        notes.append("evidence exists only for other diseases; it does not decide the verdict")
    notes.extend(_disease_conflicts(case, drug))
    status = approval_status(case.kb, drug)
    if status:
        notes.append(status)
    tiers = verdict_tiers([r for r in reasons if r.role == "decisive"], effect=verdict)
    return DrugVerdict(
        drug=drug,
        members=case.kb.members_of(drug),
        verdict=verdict,  # type: ignore[arg-type]
        evidence=evidence,
        amp_tier=tiers.amp if tiers else None,
        escat=tiers.escat if tiers else None,
        status=status,
        reasons=reasons,
        disagreements=disagreements,
        phase_readings=readings,  # type: ignore[arg-type]
        notes=notes,
    )


def approval_status(kb: KnowledgeBase, drug: str) -> str | None:
    """What a tumour board must know about a drug's approval, or ``None`` if approved.

    For a combination, each member that is not approved is named. The text says
    "approval withdrawn" when the knowledge base's note says so, else "not approved".
    """
    flags = []
    for member in kb.members_of(drug):
        entry = kb.drugs.get(member)
        if entry is None or entry.approved:
            continue
        note = entry.note or ""
        state = "approval withdrawn" if "withdrawn" in note.lower() else "not approved"
        flags.append(f"{member}: {state}" + (f" ({note})" if note else ""))
    return "; ".join(flags) or None


def _disease_conflicts(case: _Case, drug: str) -> list[str]:
    """Without a disease: alterations whose assertions on ``drug`` disagree across diseases.

    The verdict then rests on the strongest evidence across diseases, which may not be the
    patient's (BRAF V600E: vemurafenib works in melanoma, not in colorectal cancer); the
    note names each disease's effect so that the reader can give one.
    """
    if case.disease is not None:
        return []
    notes = []
    for alt in case.alterations:
        # per disease, the assertion that would decide there: most specific, then strongest
        by_disease: dict[str, tuple[int, int, str, str]] = {}
        for m in case.single.get(alt.key, []):
            if drug not in m.rule.drugs or m.rule.disease == "any":
                continue
            entry = (m.specificity, m.rule.evidence_rank, m.rule.effect, m.rule.evidence)
            if entry[:2] > by_disease.get(m.rule.disease, (0, 0))[:2]:
                by_disease[m.rule.disease] = entry
        if len({entry[2] for entry in by_disease.values()}) > 1:
            parts = ", ".join(
                f"{effect} in {case.kb.diseases[d].name if d in case.kb.diseases else d} ({level})"
                for d, (_, _, effect, level) in sorted(by_disease.items())
            )
            notes.append(
                f"no disease given and the evidence for {alt.label} disagrees across "
                f"diseases: {parts}; give the disease (--disease) for a verdict that applies"
            )
    return notes


def _set_aside(case: _Case) -> list[Alteration]:
    """Alterations that no applied assertion judges, but a driver-bound one would."""
    applied = {a.key for a in case.alterations if case.single.get(a.key)}
    applied |= {a.key for m in case.compound for a in m.alterations}
    return [
        alt
        for alt in case.alterations
        if alt.key not in applied
        and any(match_specificity(p, alt) for rule in case.skipped_driver for p in rule.patterns)
    ]


def _driver_notes(case: _Case) -> list[str]:
    """Alterations whose assertions were set aside because their gene is not the driver.

    MET exon 14 skipping beside EGFR L858R: the MET-driven assertions (capmatinib as the
    driver's drug) need MET to be the primary driver; they are not applied, and the
    reader is told so rather than left to think the alteration was missed.
    """
    skipped: dict[str, set[str]] = {}
    for alt in _set_aside(case):
        for rule in case.skipped_driver:
            if any(match_specificity(p, alt) for p in rule.patterns):
                skipped.setdefault(alt.label, set()).add(str(rule.driver))
    return [
        f"{label}: assertions that need {' or '.join(sorted(genes))} as the primary driver "
        f"were not applied, because the primary driver here is {', '.join(case.primary)} "
        "(give `--driver` if that is wrong)"
        for label, genes in sorted(skipped.items())
    ]


def _display_order(v: DrugVerdict) -> tuple:
    """Order of the verdicts when no drugs were asked for.

    Defeated drugs first (what explains progression), then active ones (what remains), then
    drugs that were never indicated, then those without known effect.
    """
    supported = any(r.effect == "sensitive" for r in v.reasons)
    if v.verdict in ("resistant", "reduced_response"):
        group = 0 if supported else 2
    else:
        group = 1 if v.verdict == "sensitive" else 3
    evidence = EVIDENCE_RANK.get(v.evidence or "", 0)
    return (group, -VERDICT_SEVERITY[v.verdict], -evidence, v.drug)


def _universe(case: _Case) -> set[str]:
    drugs: set[str] = set()
    for matches in case.single.values():
        for m in matches:
            if m.disease_match in _APPLICABLE:
                drugs |= m.rule.drugs
    for m in case.compound:
        if m.disease_match in _APPLICABLE:
            drugs |= m.rule.drugs
    return drugs


def _member_labels(alteration: str) -> list[str]:
    """The single alterations of a reason's label (``A + B (cis)`` -> ``[A, B]``)."""
    for suffix in (" (cis)", " (trans)"):
        alteration = alteration.removesuffix(suffix)
    return alteration.split(" + ")


def _options(case: _Case, verdicts: dict[str, DrugVerdict]) -> list[Option]:
    # An escape alteration defeats a drug that another alteration would make work.
    escape = {
        label
        for v in verdicts.values()
        if v.verdict in ("resistant", "reduced_response")
        and any(r.effect == "sensitive" for r in v.reasons)
        for r in v.reasons
        if r.role == "decisive"
        for label in _member_labels(r.alteration)
    }
    # an alteration set aside for want of its driver is unexplained: no option is clear of it
    escape |= {alt.label for alt in _set_aside(case)}
    scored = []
    for drug, v in verdicts.items():
        condition = None
        if v.verdict != "sensitive":
            if not v.phase_readings or "sensitive" not in v.phase_readings.values():
                continue
            phase = next(p for p, r in v.phase_readings.items() if r == "sensitive")
            condition = f"only if the alterations are in {phase}"
            reasons = [r for c in case.choices(drug, phase).values() for r in c.decisive]
        else:
            reasons = [r for r in v.reasons if r.effect == "sensitive"]
        if not reasons:
            continue
        if condition is None and v.evidence is not None:
            weakest = v.evidence
        else:
            weakest = _needed_evidence("sensitive", case.choices(drug, phase)) or min(
                (r.evidence for r in reasons), key=EVIDENCE_RANK.__getitem__
            )
        covered = sorted({r.alteration for r in reasons})
        in_context = any(r.disease_match in ("exact", "broader", "narrower") for r in reasons)
        best = {
            alt: max(
                (r.evidence for r in reasons if r.alteration == alt),
                key=EVIDENCE_RANK.__getitem__,
            )
            for alt in covered
        }
        why = "active against " + ", ".join(f"{alt} [{level}]" for alt, level in best.items())
        vias = sorted({r.via for r in reasons if r.via})
        if vias:
            why += f" (through {', '.join(vias)})"
        judged = {
            label
            for c in case.choices(drug, None).values()
            for r in c.decisive
            for label in _member_labels(r.alteration)
        }
        unknown = sorted(escape - judged)
        if unknown:
            why += f"; no evidence about {', '.join(unknown)}"
        elif v.verdict == "sensitive":
            why += "; no alteration found that defeats it"
        preferred = any(drug in r.preferred_for for r in reasons)
        if preferred:
            why = "guideline-preferred; " + why
        if v.status:
            why = f"{v.status}; " + why
        tiers = verdict_tiers(reasons, effect="sensitive")
        key = (
            condition is None,
            not unknown,
            v.status is None,
            EVIDENCE_RANK[weakest],
            preferred,
            -len(unknown),
            in_context,
            len(covered),
            -len(drug.split(" + ")),
        )
        scored.append(
            (
                key,
                Option(
                    drug=drug,
                    evidence=weakest,
                    why=why,
                    preferred=preferred,
                    amp_tier=tiers.amp if tiers else None,
                    escat=tiers.escat if tiers else None,
                    status=v.status,
                    condition=condition,
                    unaddressed=unknown,
                    reasons=reasons,
                ),
            )
        )
    scored.sort(key=lambda item: item[1].drug)
    scored.sort(key=lambda item: item[0], reverse=True)
    return [o for _, o in scored]


def _resolve_disease(kb: KnowledgeBase, text: str) -> DiseaseResolution:
    """A knowledge-base disease, or the nearest one on an OncoTree type's path.

    Text that is neither gets the knowledge base's own error, with its suggestions.
    """
    try:
        return resolve_oncotree_disease(kb, text)
    except UnknownDiseaseError:
        kb.resolve_disease(text)  # raises, saying what the user may have meant
        raise


def interpret(
    alterations: object,
    *,
    drugs: Sequence[str] | str | None = None,
    disease: str | None = None,
    phase: PhaseInput | None = None,
    driver: str | Sequence[str] | None = None,
    kb: KnowledgeBase | None = None,
) -> Interpretation:
    """Say, per drug, whether the tumour's alterations make it resistant, and what remains.

    Parameters
    ----------
    alterations
        Alteration texts (``"EGFR T790M"``; a string may hold several separated by ``;``),
        :class:`~oncoresist.variants.Alteration` records (e.g. from
        :func:`~oncoresist.variants.read_vcf`, consumed as a stream), or a DataFrame with
        an ``alteration`` column and optionally ``gene``, ``vaf``, ``depth``, ``sample``,
        ``phase_set``.
    drugs
        Drugs to judge, by generic name, synonym or code name; combinations as
        ``"gefitinib + osimertinib"``. ``None`` judges every drug the knowledge base links
        to the alterations in this disease.
    disease
        Disease by name, synonym or OncoTree code (``NSCLC``, ``LUAD``, ``melanoma``,
        ``CRC``); any other OncoTree code or name is judged in the nearest knowledge-base
        disease on its OncoTree path (``ACYC`` in ``solid``), which a note names. ``None``
        applies assertions of every disease.
    phase
        ``(alteration, alteration, "cis" | "trans")`` relations; they override the phase
        carried by the input (VCF ``PS`` and phased genotypes).
    driver
        The primary driver gene(s); inferred from driver alterations when ``None``.
    kb
        Knowledge base (the shipped one by default).

    Returns
    -------
    Interpretation
        ``drugs`` (verdict per drug with reasons and disagreements), ``options`` (drugs and
        combinations expected to remain active, ranked by evidence), ``primary_driver``,
        ``phase`` and ``notes``.

    Examples
    --------
    >>> r = interpret(["EGFR L858R", "EGFR T790M"], drugs=["gefitinib", "osimertinib"],
    ...               disease="NSCLC")
    >>> [(d.drug, d.verdict) for d in r.drugs]
    [('gefitinib', 'resistant'), ('osimertinib', 'sensitive')]
    """
    kb = kb or load_kb()
    rules = compile_rules(kb)
    alts = _coerce(alterations, kb)
    resolution = _resolve_disease(kb, disease) if disease else None
    disease_id = resolution.disease if resolution else None
    relations = _relations(phase, kb)
    primary = _primary_driver(alts, rules, kb, driver)
    case = _Case(kb, rules, alts, disease_id, relations, primary)
    universe = _universe(case)
    if drugs is None:
        asked = sorted(universe)
    else:
        names = [drugs] if isinstance(drugs, str) else list(drugs)
        asked = []
        for name in names:
            key = kb.resolve_drug(name)
            if key not in asked:
                asked.append(key)
    verdicts = {d: _evaluate(case, d) for d in sorted(set(asked) | universe)}
    shown = [verdicts[d] for d in asked]
    if drugs is None:
        shown.sort(key=_display_order)
    notes = []
    if resolution is not None and not resolution.exact:
        # an OncoTree type the knowledge base does not name: say which context judged it
        notes.append(resolution.describe(kb))
    matched = {a.key for a in alts if case.single.get(a.key)}
    matched |= {a.key for m in case.compound for a in m.alterations}
    matched |= {a.key for a in _set_aside(case)}  # explained by the driver note below
    notes.extend(codon_level_notes(alts, kb))
    for alt in alts:
        if alt.key not in matched:
            notes.append(f"no knowledge-base assertion matches {alt.label}")
    if case.skipped_driver and not primary:
        notes.append(
            "no primary driver was identified, so assertions that need one (bypass "
            "mechanisms) were not applied; give the driver alteration or `driver=`"
        )
    elif case.skipped_driver:
        notes.extend(_driver_notes(case))
    for v in shown:
        notes.extend(n for n in v.notes if n.startswith("no disease given") and n not in notes)
    phase_list = []
    for m in case.compound:
        for a, b in itertools.combinations(m.alterations, 2):
            relation, source = case.relation(a, b)
            item = PhaseRelation(first=a.label, second=b.label, relation=relation, source=source)  # type: ignore[arg-type]
            if item not in phase_list:
                phase_list.append(item)
    return Interpretation(
        disease=disease_id,
        disease_name=kb.diseases[disease_id].name if disease_id else None,
        alterations=[a.label for a in alts],
        primary_driver=primary,
        phase=phase_list,
        drugs=shown,
        options=_options(case, verdicts),
        notes=notes,
    )
