"""Load the knowledge base's YAML files into a :class:`KnowledgeBase` index.

Schema errors name the file and the entry (``genes/EGFR.yaml assertions[12]: ...``). The
default knowledge base is the one shipped in ``oncoresist/kb/data``; a user may point at
another directory with the same layout.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from oncoresist.errors import (
    KnowledgeBaseError,
    UnknownDiseaseError,
    UnknownDrugError,
    UnknownGeneError,
)
from oncoresist.kb._schema import (
    COORDINATE_PATTERN,
    Assertion,
    Combination,
    Coordinate,
    Disease,
    DiseaseFile,
    Drug,
    DrugClass,
    DrugFile,
    Gene,
    GeneFile,
)

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader

CLASS_PREFIX = "class:"


def _key(name: str) -> str:
    return " ".join(name.lower().replace("_", " ").split())


@dataclass(frozen=True)
class SourcedAssertion:
    """An assertion with the file it came from and its stable id."""

    id: str
    file: str
    default_gene: str | None
    assertion: Assertion


@dataclass
class KnowledgeBase:
    """The compiled, in-memory knowledge base.

    Attributes
    ----------
    genes
        HGNC symbol -> :class:`Gene`.
    drugs
        generic name -> :class:`Drug`.
    classes
        class id -> :class:`DrugClass`.
    combinations
        canonical combination key (members sorted, joined by `` + ``) -> :class:`Combination`.
    diseases
        disease id -> :class:`Disease`.
    assertions
        every assertion with its source file and id.
    coordinates
        ``{build: {(chrom, pos, ref, alt): (gene, alteration)}}`` for point alterations.
    """

    genes: dict[str, Gene] = field(default_factory=dict)
    drugs: dict[str, Drug] = field(default_factory=dict)
    classes: dict[str, DrugClass] = field(default_factory=dict)
    combinations: dict[str, Combination] = field(default_factory=dict)
    diseases: dict[str, Disease] = field(default_factory=dict)
    assertions: list[SourcedAssertion] = field(default_factory=list)
    coordinates: dict[str, dict[tuple[str, int, str, str], tuple[str, str]]] = field(
        default_factory=lambda: {"GRCh37": {}, "GRCh38": {}}
    )
    sources: dict[str, str] = field(default_factory=dict)
    _gene_alias: dict[str, str] = field(default_factory=dict)
    _drug_alias: dict[str, str] = field(default_factory=dict)
    _disease_alias: dict[str, str] = field(default_factory=dict)
    _class_members: dict[str, frozenset[str]] = field(default_factory=dict)

    # ----------------------------------------------------------------- names
    def resolve_gene(self, name: str) -> str:
        """Return the HGNC symbol for a symbol or alias (``HER2`` -> ``ERBB2``).

        Raises
        ------
        UnknownGeneError
            When the name is neither a knowledge-base gene nor an alias of one.
        """
        symbol = self._gene_alias.get(name.strip().upper())
        if symbol is None:
            raise UnknownGeneError(f"unknown gene {name!r}; expected an HGNC symbol or alias")
        return symbol

    def is_gene(self, name: str) -> bool:
        """Whether ``name`` is a gene or alias of the knowledge base."""
        return name.strip().upper() in self._gene_alias

    def resolve_drug(self, name: str) -> str:
        """Return the canonical key of a drug or combination (``AZD9291`` -> ``osimertinib``).

        A combination is written with its members joined by ``+``; its key lists the members'
        generic names sorted and joined by `` + ``.
        """
        parts = [p for p in name.split("+")]
        if len(parts) > 1:
            members = sorted({self.resolve_drug(p) for p in parts if p.strip()})
            if len(members) < 2:
                raise UnknownDrugError(f"combination {name!r} needs two different drugs")
            return " + ".join(members)
        generic = self._drug_alias.get(_key(name))
        if generic is None:
            raise UnknownDrugError(
                f"unknown drug {name.strip()!r}; expected a generic name, brand or code name "
                "of the knowledge base (see `oncoresist kb search`)"
            )
        return generic

    def resolve_disease(self, name: str) -> str:
        """Return the disease id for a name, synonym or OncoTree code (``LUAD`` -> ``LUAD``)."""
        disease = self._disease_alias.get(_key(name))
        if disease is None:
            raise UnknownDiseaseError(
                f"unknown disease {name!r}; expected a name, synonym or OncoTree code such as "
                "NSCLC, melanoma, CRC, CML, GIST (see `oncoresist kb diseases`)"
            )
        return disease

    def disease_lineage(self, disease: str) -> list[str]:
        """The disease and its ancestors, most specific first."""
        chain: list[str] = []
        current: str | None = disease
        while current is not None and current not in chain:
            chain.append(current)
            current = self.diseases[current].parent
        return chain

    # ---------------------------------------------------------------- classes
    def class_members(self, class_id: str) -> frozenset[str]:
        """Generic names of the drugs in a class, including those of its sub-classes."""
        if class_id not in self.classes:
            raise UnknownDrugError(f"unknown drug class {class_id!r}")
        return self._class_members.get(class_id, frozenset())

    def drug_classes(self, drug: str) -> list[str]:
        """Every class a drug belongs to, directly or through a parent class."""
        found: list[str] = []
        for cid in self.drugs[drug].classes:
            current: str | None = cid
            while current is not None and current not in found:
                found.append(current)
                current = self.classes[current].parent
        return found

    def expand_drugs(self, spec: Iterable[str], exclude: Iterable[str] = ()) -> frozenset[str]:
        """Expand names, ``class:<id>`` references and ``a + b`` combinations to drug keys.

        A combination whose members are classes expands to every combination of their
        members. ``exclude`` removes drugs (or whole combinations) after expansion; removing
        a single drug also removes the combinations that contain it only when the exclusion
        is itself written as that combination.
        """
        out: set[str] = set()
        for item in spec:
            out |= self._expand_one(item)
        for item in exclude:
            out -= self._expand_one(item)
        return frozenset(out)

    def _expand_one(self, item: str) -> set[str]:
        parts = [p.strip() for p in item.split("+")]
        options: list[list[str]] = []
        for part in parts:
            if part.startswith(CLASS_PREFIX):
                members = sorted(self.class_members(part[len(CLASS_PREFIX) :]))
                if not members:
                    raise UnknownDrugError(f"drug class {part!r} has no member drugs")
                options.append(members)
            else:
                options.append([self.resolve_drug(part)])
        if len(parts) == 1:
            return set(options[0])
        combos = set()
        for pick in itertools.product(*options):
            members = sorted(set(pick))
            if len(members) == len(pick):
                combos.add(" + ".join(members))
        return combos

    def members_of(self, drug_key: str) -> list[str]:
        """The generic names of a drug key (one for a single drug)."""
        return drug_key.split(" + ")

    # ------------------------------------------------------------ assertions
    def assertions_for_gene(self, symbol: str) -> list[SourcedAssertion]:
        """Assertions whose biomarker names this gene (by file or by qualified text)."""
        return [a for a in self.assertions if symbol in self.assertion_genes(a)]

    def assertion_genes(self, sourced: SourcedAssertion) -> set[str]:
        """Genes a sourced assertion's biomarker names (its file's gene when unqualified)."""
        genes: set[str] = set()
        for text in sourced.assertion.members:
            named = self.genes_named_in(text)
            if named:
                genes |= named
            elif sourced.default_gene:
                genes.add(sourced.default_gene)
        return genes

    def genes_named_in(self, text: str) -> set[str]:
        """Genes a biomarker text names: its first word, or both partners of ``A::B``."""
        if "::" in text:
            candidates = [t.strip() for t in text.split(" ")[0].split("::")]
        else:
            candidates = text.split()[:1]
        return {self.resolve_gene(t) for t in candidates if self.is_gene(t)}


def _load_yaml(path: Path, rel: str) -> object:
    try:
        with path.open("r", encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_Loader)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise KnowledgeBaseError(
            f"not valid YAML ({getattr(exc, 'problem', exc)})",
            file=rel,
            record=None if line is None else line + 1,
        ) from None
    except UnicodeDecodeError:
        raise KnowledgeBaseError("not UTF-8 text", file=rel) from None


def _validation_error(exc: ValidationError, rel: str, data: object) -> KnowledgeBaseError:
    first = exc.errors()[0]
    loc = first["loc"]
    entry = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    # Name the entry by something a person can find in the file.
    label = ""
    try:
        node: object = data
        for part in loc[:2]:
            node = node[part]  # type: ignore[index]
        if isinstance(node, dict):
            for k in ("id", "name", "symbol", "biomarker", "alteration"):
                if k in node:
                    label = f" ({k}: {node[k]})"
                    break
    except (KeyError, IndexError, TypeError):
        pass
    return KnowledgeBaseError(f"{first['msg']}{label}", file=rel, record=entry or None)


def _parse(model: type, path: Path, rel: str):
    data = _load_yaml(path, rel)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise KnowledgeBaseError("expected a mapping at the top level", file=rel)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, rel, data) from None


def _data_root() -> Path:
    return Path(str(resources.files("oncoresist.kb") / "data"))


def load_kb(root: str | Path | None = None) -> KnowledgeBase:
    """Load and index a knowledge base directory (the shipped one by default).

    Parameters
    ----------
    root
        Directory holding ``diseases.yaml``, ``drugs/*.yaml`` and ``genes/*.yaml``.

    Returns
    -------
    KnowledgeBase
        The compiled index. Structural problems raise :class:`KnowledgeBaseError` naming
        the file and entry; cross-reference checks live in :func:`oncoresist.kb.validate`.
    """
    if root is None:
        return _default_kb()
    return _load(Path(root))


@lru_cache(maxsize=1)
def _default_kb() -> KnowledgeBase:
    return _load(_data_root())


def _load(root: Path) -> KnowledgeBase:
    if not root.is_dir():
        raise KnowledgeBaseError("knowledge-base directory not found", file=root)
    kb = KnowledgeBase()
    disease_path = root / "diseases.yaml"
    if disease_path.exists():
        dfile: DiseaseFile = _parse(DiseaseFile, disease_path, "diseases.yaml")
        for disease in dfile.diseases:
            _add_unique(kb.diseases, disease.id, disease, "diseases.yaml", "disease")
    for path in sorted((root / "drugs").glob("*.yaml")):
        rel = f"drugs/{path.name}"
        dfile2: DrugFile = _parse(DrugFile, path, rel)
        for cls in dfile2.classes:
            _add_unique(kb.classes, cls.id, cls, rel, "drug class")
        for drug in dfile2.drugs:
            _add_unique(kb.drugs, drug.name, drug, rel, "drug")
            kb.sources[f"drug:{drug.name}"] = rel
        for combo in dfile2.combinations:
            kb.combinations[" + ".join(sorted(combo.drugs))] = combo
            kb.sources[f"combination:{' + '.join(sorted(combo.drugs))}"] = rel
    gene_files: list[tuple[str, GeneFile]] = []
    for path in sorted((root / "genes").glob("*.yaml")):
        rel = f"genes/{path.name}"
        gfile: GeneFile = _parse(GeneFile, path, rel)
        gene_files.append((rel, gfile))
        for gene in gfile.genes:
            _add_unique(kb.genes, gene.symbol, gene, rel, "gene")
            kb.sources[f"gene:{gene.symbol}"] = rel
    _index_names(kb)
    for rel, gfile in gene_files:
        default_gene = gfile.genes[0].symbol if len(gfile.genes) == 1 else None
        stem = Path(rel).stem
        for i, assertion in enumerate(gfile.assertions):
            aid = assertion.id or f"{stem}-{i + 1:03d}"
            kb.assertions.append(SourcedAssertion(aid, rel, default_gene, assertion))
        for j, coord in enumerate(gfile.coordinates):
            gene, alteration = _coordinate_target(kb, coord, default_gene, rel, j)
            for build in ("GRCh37", "GRCh38"):
                value = getattr(coord, build)
                if value is None:
                    continue
                m = COORDINATE_PATTERN.match(value)
                assert m is not None  # validated by the schema
                chrom, pos, ref, alt = m.group(1), int(m.group(2)), m.group(3), m.group(4)
                chrom = "MT" if chrom == "M" else chrom
                kb.coordinates[build][(chrom, pos, ref, alt)] = (gene, alteration)
    ids = [a.id for a in kb.assertions]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise KnowledgeBaseError(f"assertion ids used twice: {sorted(dupes)}")
    return kb


def _coordinate_target(
    kb: KnowledgeBase, coord: Coordinate, default_gene: str | None, rel: str, index: int
) -> tuple[str, str]:
    tokens = coord.alteration.split(maxsplit=1)
    if len(tokens) == 2 and kb.is_gene(tokens[0]):
        return kb.resolve_gene(tokens[0]), tokens[1]
    if default_gene is None:
        raise KnowledgeBaseError(
            "coordinate alteration must name its gene in a file with several genes",
            file=rel,
            record=f"coordinates[{index}]",
            field="alteration",
        )
    return default_gene, coord.alteration


def _add_unique(table: dict, key: str, value: object, rel: str, what: str) -> None:
    if key in table:
        raise KnowledgeBaseError(f"{what} {key!r} is defined twice", file=rel)
    table[key] = value


def _index_names(kb: KnowledgeBase) -> None:
    for symbol, gene in kb.genes.items():
        for name in [symbol, *gene.aliases]:
            owner = kb._gene_alias.setdefault(name.upper(), symbol)
            if owner != symbol:
                raise KnowledgeBaseError(
                    f"gene alias {name!r} names both {owner} and {symbol}",
                    file=kb.sources.get(f"gene:{symbol}"),
                )
    for generic, drug in kb.drugs.items():
        for name in [generic, *drug.synonyms]:
            owner = kb._drug_alias.setdefault(_key(name), generic)
            if owner != generic:
                raise KnowledgeBaseError(
                    f"drug synonym {name!r} names both {owner} and {generic}",
                    file=kb.sources.get(f"drug:{generic}"),
                )
    for disease_id, disease in kb.diseases.items():
        for name in [disease_id, disease.name, *disease.oncotree, *disease.synonyms]:
            owner = kb._disease_alias.setdefault(_key(name), disease_id)
            if owner != disease_id:
                raise KnowledgeBaseError(
                    f"disease name {name!r} names both {owner} and {disease_id}",
                    file="diseases.yaml",
                )
    members: dict[str, set[str]] = defaultdict(set)
    for generic in kb.drugs:
        for cid in kb.drugs[generic].classes:
            current: str | None = cid
            seen: set[str] = set()
            while current is not None and current in kb.classes and current not in seen:
                seen.add(current)
                members[current].add(generic)
                current = kb.classes[current].parent
    kb._class_members = {cid: frozenset(m) for cid, m in members.items()}


__all__ = [
    "Assertion",
    "Combination",
    "Disease",
    "Drug",
    "DrugClass",
    "Gene",
    "KnowledgeBase",
    "SourcedAssertion",
    "load_kb",
]
