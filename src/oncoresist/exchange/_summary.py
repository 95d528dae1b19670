"""Per-alteration summaries of an interpretation, and the provenance every export carries.

An :class:`~oncoresist.interpret.Interpretation` is per drug; the exchange formats (an
annotated MAF or VCF row, a Phenopacket's genomic interpretation) are per variant. A
variant's summary lists, by effect, the drugs whose verdict rests on an assertion about
that variant (alone or as part of a compound such as ``EGFR T790M + EGFR C797S (cis)``),
with the evidence levels, mechanisms and knowledge-base assertion ids behind them.
Overridden assertions and evidence from other diseases are left out: they decide nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from oncoresist.interpret import Interpretation
from oncoresist.kb import EVIDENCE_RANK, KnowledgeBase

#: the effect of an assertion, most severe first
EFFECTS = ("resistant", "reduced_response", "sensitive")
_SEVERITY = {"resistant": 3, "reduced_response": 2, "sensitive": 1}
_COUNTED_ROLES = ("decisive", "supporting")


@dataclass(frozen=True)
class AlterationSummary:
    """What an interpretation says about one of the case's alterations.

    Attributes
    ----------
    alteration
        The alteration's label (``EGFR T790M``).
    resistant, reduced_response, sensitive
        Drugs and combinations (``gefitinib + osimertinib``) whose verdict rests on an
        assertion about this alteration with that effect, sorted. A drug appears once,
        under the most severe effect asserted for this alteration.
    highest_level, weakest_level
        The strongest and the weakest evidence level (A-E) among those assertions;
        ``None`` when there are none.
    mechanisms
        Resistance mechanisms of those assertions (``on_target``, ``bypass`` ...), sorted.
    assertions
        Knowledge-base assertion ids, sorted.
    """

    alteration: str
    resistant: tuple[str, ...] = ()
    reduced_response: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()
    highest_level: str | None = None
    weakest_level: str | None = None
    mechanisms: tuple[str, ...] = ()
    assertions: tuple[str, ...] = ()

    @property
    def matched(self) -> bool:
        """Whether any knowledge-base assertion about this alteration decides a verdict."""
        return bool(self.assertions)

    def drugs(self, effect: str) -> tuple[str, ...]:
        """The drugs listed under ``effect`` (resistant, reduced_response or sensitive)."""
        return getattr(self, effect)


@dataclass
class _Collect:
    effect: dict[str, str] = field(default_factory=dict)
    levels: set[str] = field(default_factory=set)
    mechanisms: set[str] = field(default_factory=set)
    assertions: set[str] = field(default_factory=set)


def member_labels(alteration: str) -> list[str]:
    """The single alterations of a reason's label (``A + B (cis)`` -> ``[A, B]``)."""
    for suffix in (" (cis)", " (trans)"):
        alteration = alteration.removesuffix(suffix)
    return [part.strip() for part in alteration.split(" + ")]


def summarise_alterations(result: Interpretation) -> dict[str, AlterationSummary]:
    """One :class:`AlterationSummary` per alteration of ``result``, keyed by its label.

    Parameters
    ----------
    result
        An interpretation (:func:`oncoresist.interpret.interpret`).

    Returns
    -------
    dict of str to AlterationSummary
        Every label of ``result.alterations``, in that order; an alteration no assertion
        speaks about has an empty summary (``matched`` is false).

    Examples
    --------
    >>> from oncoresist.interpret import interpret
    >>> r = interpret(["EGFR L858R", "EGFR T790M"], drugs=["gefitinib"], disease="LUAD")
    >>> summarise_alterations(r)["EGFR T790M"].resistant
    ('gefitinib',)
    """
    found = {label: _Collect() for label in result.alterations}
    for verdict in result.drugs:
        for reason in verdict.reasons:
            if reason.role not in _COUNTED_ROLES or reason.effect not in _SEVERITY:
                continue
            for label in member_labels(reason.alteration):
                got = found.get(label)
                if got is None:
                    continue
                before = got.effect.get(verdict.drug)
                if before is None or _SEVERITY[reason.effect] > _SEVERITY[before]:
                    got.effect[verdict.drug] = reason.effect
                got.levels.add(reason.evidence)
                if reason.mechanism and reason.effect != "sensitive":
                    got.mechanisms.add(reason.mechanism)
                got.assertions.add(reason.assertion)
    out: dict[str, AlterationSummary] = {}
    for label, got in found.items():
        ranked = sorted(got.levels, key=EVIDENCE_RANK.__getitem__)
        by_effect = {
            effect: tuple(sorted(d for d, e in got.effect.items() if e == effect))
            for effect in EFFECTS
        }
        out[label] = AlterationSummary(
            alteration=label,
            highest_level=ranked[-1] if ranked else None,
            weakest_level=ranked[0] if ranked else None,
            mechanisms=tuple(sorted(got.mechanisms)),
            assertions=tuple(sorted(got.assertions)),
            **by_effect,
        )
    return out


def kb_version(kb: KnowledgeBase) -> str:
    """A content digest of the knowledge base: ``sha256:<first 16 hex digits>``.

    Two knowledge bases with the same diseases, drugs, combinations, genes and assertions
    have the same digest, wherever they were loaded from; any edit changes it. Exports
    record it so that a verdict can be traced to the knowledge base that gave it.
    """
    cached = _VERSIONS.get(id(kb))
    if cached is not None and cached[0] is kb:
        return cached[1]
    version = _digest(kb)
    if len(_VERSIONS) >= 4:
        _VERSIONS.clear()
    _VERSIONS[id(kb)] = (kb, version)
    return version


# id -> (the knowledge base, its digest); the knowledge base is held so the id stays its own
_VERSIONS: dict[int, tuple[KnowledgeBase, str]] = {}


def _digest(kb: KnowledgeBase) -> str:
    digest = hashlib.sha256()
    parts = {
        "diseases": {k: v.model_dump(mode="json") for k, v in sorted(kb.diseases.items())},
        "drugs": {k: v.model_dump(mode="json") for k, v in sorted(kb.drugs.items())},
        "combinations": {k: v.model_dump(mode="json") for k, v in sorted(kb.combinations.items())},
        "genes": {k: v.model_dump(mode="json") for k, v in sorted(kb.genes.items())},
        "assertions": [
            [a.id, a.assertion.model_dump(mode="json", by_alias=True)] for a in kb.assertions
        ],
    }
    digest.update(json.dumps(parts, sort_keys=True, default=str).encode())
    return "sha256:" + digest.hexdigest()[:16]


def software_version() -> str:
    """``oncoresist <version>``."""
    from oncoresist import __version__

    return f"oncoresist {__version__}"
