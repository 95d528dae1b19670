"""Consistency checks over a loaded knowledge base (``oncoresist kb validate``).

Checks that every drug, class, gene and disease an entry references exists, that every
assertion has an evidence level and a reference (the schema enforces both at load), that
biomarkers parse, and that no two assertions contradict each other: the same biomarker,
disease, driver and phase with overlapping drugs but a different effect. With identifier
tables (the shipped ones for the shipped knowledge base) it also checks the identifiers users
join on: a row per gene, drug and disease, each identifier in its form, none used twice
(:mod:`oncoresist.kb._identifiers`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from oncoresist.errors import InputError
from oncoresist.kb._identifiers import Identifiers, identifier_problems, identifiers_for
from oncoresist.kb._load import KnowledgeBase, SourcedAssertion

BiomarkerKey = Callable[[str, "str | None"], str]


def validate(
    kb: KnowledgeBase,
    *,
    biomarker_key: BiomarkerKey | None = None,
    identifiers: Identifiers | None = None,
) -> list[str]:
    """Return every consistency problem of the knowledge base (empty when it is sound).

    Parameters
    ----------
    kb
        A loaded knowledge base.
    biomarker_key
        ``f(text, default_gene) -> key`` normalising a biomarker text so that two spellings
        of one alteration compare equal; it raises :class:`InputError` for text that does not
        parse. :mod:`oncoresist.variants` provides :func:`~oncoresist.variants.biomarker_key`.

    Returns
    -------
    list of str
        One line per problem, each naming the file and the entry.
    """
    problems: list[str] = []
    for cid, cls in kb.classes.items():
        if cls.parent is not None and cls.parent not in kb.classes:
            problems.append(f"drug class {cid}: parent {cls.parent!r} is not a class")
    for name, drug in kb.drugs.items():
        where = kb.sources.get(f"drug:{name}", "drugs")
        for cid in drug.classes:
            if cid not in kb.classes:
                problems.append(f"{where} drug {name}: class {cid!r} is not defined")
    for key, combo in kb.combinations.items():
        for member in combo.drugs:
            if member not in kb.drugs:
                problems.append(f"combination {key}: member {member!r} is not a drug")
    for symbol, gene in kb.genes.items():
        where = kb.sources.get(f"gene:{symbol}", "genes")
        for text in gene.drivers:
            _check_biomarker(
                text, symbol, f"{where} gene {symbol} drivers", biomarker_key, problems
            )
    problems.extend(_coordinate_problems(kb))
    expanded: dict[str, frozenset[str]] = {}
    keys: dict[str, tuple[str, ...]] = {}
    for sa in kb.assertions:
        a = sa.assertion
        where = f"{sa.file} assertion {sa.id}"
        try:
            expanded[sa.id] = kb.expand_drugs(a.drugs, a.except_)
        except InputError as exc:
            problems.append(f"{where}: {exc.message}")
            continue
        if not expanded[sa.id]:
            problems.append(f"{where}: no drug left after 'except'")
        try:
            outside = kb.expand_drugs(a.preferred) - expanded[sa.id]
        except InputError as exc:
            problems.append(f"{where}: preferred: {exc.message}")
            outside = frozenset()
        if outside:
            problems.append(f"{where}: preferred drugs {sorted(outside)} are not in its drugs")
        if a.disease != "any" and a.disease not in kb.diseases:
            problems.append(f"{where}: disease {a.disease!r} is not in diseases.yaml")
        if a.driver is not None and a.driver not in kb.genes:
            problems.append(f"{where}: driver gene {a.driver!r} is not a knowledge-base gene")
        members = []
        for text in a.members:
            members.append(_check_biomarker(text, sa.default_gene, where, biomarker_key, problems))
        if all(m is not None for m in members):
            keys[sa.id] = tuple(sorted(m for m in members if m is not None))
    problems.extend(_contradictions(kb.assertions, keys, expanded))
    ids = identifiers if identifiers is not None else identifiers_for(kb)
    if ids is not None:
        problems.extend(identifier_problems(kb, ids))
    return problems


def _coordinate_problems(kb: KnowledgeBase) -> list[str]:
    """Coordinates must lie on their gene's chromosome."""
    problems = []
    for build, table in kb.coordinates.items():
        for (chrom, *_), (gene, change) in table.items():
            expected = kb.genes[gene].chromosome if gene in kb.genes else None
            if expected is not None and chrom != expected:
                problems.append(
                    f"{kb.sources.get(f'gene:{gene}', 'genes')} coordinate {change} {build} is on "
                    f"chromosome {chrom}; {gene} is on {expected}"
                )
    return problems


def _check_biomarker(
    text: str,
    default_gene: str | None,
    where: str,
    biomarker_key: BiomarkerKey | None,
    problems: list[str],
) -> str | None:
    if biomarker_key is None:
        return f"{default_gene or ''} {text}".strip().upper()
    try:
        return biomarker_key(text, default_gene)
    except InputError as exc:
        problems.append(f"{where}: biomarker {text!r}: {exc.message}")
        return None


def _contradictions(
    assertions: list[SourcedAssertion],
    keys: dict[str, tuple[str, ...]],
    expanded: dict[str, frozenset[str]],
) -> list[str]:
    groups: dict[tuple, list[SourcedAssertion]] = defaultdict(list)
    for sa in assertions:
        if sa.id in keys and sa.id in expanded:
            a = sa.assertion
            groups[(keys[sa.id], a.phase, a.disease, a.driver)].append(sa)
    problems = []
    for group in groups.values():
        for i, first in enumerate(group):
            for second in group[i + 1 :]:
                if first.assertion.effect == second.assertion.effect:
                    continue
                shared = expanded[first.id] & expanded[second.id]
                if shared:
                    problems.append(
                        f"{first.file} assertion {first.id} ({first.assertion.effect}) contradicts "
                        f"{second.file} assertion {second.id} ({second.assertion.effect}) for "
                        f"{', '.join(sorted(shared)[:4])} in the same disease and context"
                    )
    return problems
