"""Compile knowledge-base assertions into matchable rules, once per knowledge base."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from oncoresist.errors import InputError, KnowledgeBaseError
from oncoresist.kb import EVIDENCE_RANK, KnowledgeBase, SourcedAssertion
from oncoresist.variants import Alteration, parse_alteration


@dataclass(frozen=True)
class Rule:
    """An assertion ready for matching: parsed biomarker(s) and an expanded drug set."""

    id: str
    file: str
    patterns: tuple[Alteration, ...]
    phase: str
    drugs: frozenset[str]
    effect: str
    mechanism: str | None
    disease: str
    driver: str | None
    evidence: str
    references: tuple[str, ...]
    summary: str
    preferred: frozenset[str] = frozenset()

    @property
    def compound(self) -> bool:
        """Whether the biomarker needs several alterations together."""
        return len(self.patterns) > 1

    @property
    def evidence_rank(self) -> int:
        """5 for level A down to 1 for level E."""
        return EVIDENCE_RANK[self.evidence]

    @property
    def biomarker(self) -> str:
        """The biomarker as text, ``GENE change`` (compounds joined by `` + ``)."""
        return " + ".join(p.label for p in self.patterns)


@dataclass
class RuleIndex:
    """Rules by gene (``None`` for phenotypes), compound rules, and driver patterns."""

    single: dict[str | None, list[Rule]] = field(default_factory=lambda: defaultdict(list))
    compound: list[Rule] = field(default_factory=list)
    drivers: dict[str, list[Alteration]] = field(default_factory=dict)
    on_target_genes: dict[str, list[Rule]] = field(default_factory=lambda: defaultdict(list))


_CACHE: dict[int, tuple[KnowledgeBase, RuleIndex]] = {}


def compile_rules(kb: KnowledgeBase) -> RuleIndex:
    """Parse every biomarker and expand every drug set of ``kb`` (cached per object)."""
    cached = _CACHE.get(id(kb))
    if cached is not None and cached[0] is kb:
        return cached[1]
    index = RuleIndex()
    for sa in kb.assertions:
        rule = _compile(kb, sa)
        if rule.compound:
            index.compound.append(rule)
        else:
            gene = rule.patterns[0].gene
            index.single[gene].append(rule)
            if rule.mechanism == "on_target" and gene is not None:
                index.on_target_genes[gene].append(rule)
    for symbol, gene in kb.genes.items():
        index.drivers[symbol] = [
            _parse(kb, text, symbol, kb.sources.get(f"gene:{symbol}", "genes"), "drivers")
            for text in gene.drivers
        ]
    _CACHE[id(kb)] = (kb, index)
    return index


def _parse(kb: KnowledgeBase, text: str, default_gene: str | None, file: str, where: str):
    try:
        return parse_alteration(text, kb=kb, default_gene=default_gene)
    except InputError as exc:
        raise KnowledgeBaseError(
            f"biomarker {text!r} does not parse: {exc.message}", file=file, record=where
        ) from None


def _compile(kb: KnowledgeBase, sa: SourcedAssertion) -> Rule:
    a = sa.assertion
    patterns = tuple(
        _parse(kb, text, sa.default_gene, sa.file, f"assertion {sa.id}") for text in a.members
    )
    try:
        drugs = kb.expand_drugs(a.drugs, a.except_)
    except InputError as exc:
        raise KnowledgeBaseError(exc.message, file=sa.file, record=f"assertion {sa.id}") from None
    return Rule(
        id=sa.id,
        file=sa.file,
        patterns=patterns,
        phase=a.phase,
        drugs=drugs,
        effect=a.effect,
        mechanism=a.mechanism,
        disease=a.disease,
        driver=a.driver,
        evidence=a.evidence,
        references=tuple(a.references),
        summary=a.summary,
        preferred=kb.expand_drugs(a.preferred),
    )
