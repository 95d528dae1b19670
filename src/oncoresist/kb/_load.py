"""Load the knowledge base's YAML files into a :class:`KnowledgeBase` index.

Schema errors name the file and the entry (``genes/EGFR.yaml assertions[12]: ...``). The
default knowledge base is the one shipped in ``oncoresist/kb/data``; a user may point at
another directory with the same layout.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
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


def _compact(name: str) -> str:
    """A name without case, spaces, hyphens or dots (``AZD-9291`` -> ``azd9291``)."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def suggest(query: str, names: Mapping[str, str], *, limit: int = 3) -> list[str]:
    """Names close to a mistyped ``query``, best first, for a "did you mean" message.

    Parameters
    ----------
    query
        What the user wrote (``osimertinb``, ``EGRF``, ``colorectal``).
    names
        Every accepted spelling -> how to show it (``AZD9291`` -> ``AZD9291
        (osimertinib)``); spellings are compared without case, spaces or hyphens.
    limit
        Most suggestions returned.

    Returns
    -------
    list of str
        Shown forms, without repeats: first the names that hold every word of the query
        (``colorectal`` -> ``colorectal cancer``), then the closest spellings: those the
        fewest typing slips away (letters swapped, dropped, added or changed; at most 1
        for names of up to 4 characters, 2 up to 8, else 3), else those within 0.1 of the
        best :class:`difflib.SequenceMatcher` ratio (at least 0.75; 0.6 for names of 5
        characters or more).

    Examples
    --------
    >>> suggest("osimertinb", {"osimertinib": "osimertinib", "gefitinib": "gefitinib"})
    ['osimertinib']
    """
    wanted = _compact(query)
    if not wanted:
        return []
    by_compact: dict[str, str] = {}
    for name, shown in names.items():
        by_compact.setdefault(_compact(name), shown)
    found: list[str] = []
    words = _key(query).replace("-", " ").split()
    if words and len(wanted) >= 4:
        for name, shown in names.items():
            have = _key(name).replace("-", " ").split()
            if all(w in have for w in words) and shown not in found:
                found.append(shown)
    # typing slips: a letter swapped, dropped, added or changed (edit distance with
    # transpositions), then spellings difflib finds alike
    allowed = 1 if len(wanted) <= 4 else 2 if len(wanted) <= 8 else 3
    cutoff = 0.6 if len(wanted) >= 5 else 0.75
    scored = []
    for candidate in by_compact:
        distance = _edit_distance(wanted, candidate, allowed)
        ratio = difflib.SequenceMatcher(None, wanted, candidate).ratio()
        if distance <= allowed or ratio >= cutoff:
            scored.append((distance, abs(len(candidate) - len(wanted)), -ratio, candidate))
    scored.sort()  # ties: a name of the same length (a swap or a changed letter) first
    if scored:
        best = scored[0]
        for distance, _, ratio, candidate in scored:
            near = distance <= best[0] if best[0] <= allowed else -ratio >= -best[2] - 0.1
            if near and by_compact[candidate] not in found:
                found.append(by_compact[candidate])
    return found[:limit]


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance of ``a`` and ``b`` (``limit + 1`` when above it).

    Insertions, deletions, substitutions and swaps of two neighbouring letters count one
    each (Damerau 1964).
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def did_you_mean(suggestions: list[str]) -> str:
    """`` (did you mean A, B or C?)`` for an error message; empty without suggestions."""
    if not suggestions:
        return ""
    if len(suggestions) == 1:
        return f" (did you mean {suggestions[0]}?)"
    return f" (did you mean {', '.join(suggestions[:-1])} or {suggestions[-1]}?)"


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
    _drug_compact: dict[str, str] = field(default_factory=dict)
    _combination_alias: dict[str, str] = field(default_factory=dict)
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
            raise UnknownGeneError(
                f"unknown gene {name!r}{did_you_mean(self.suggest_genes(name))}; expected an "
                "HGNC symbol or alias"
            )
        return symbol

    def suggest_genes(self, name: str, extra: Iterable[str] = ()) -> list[str]:
        """Gene symbols and aliases spelt like ``name`` (``EGRF`` -> ``EGFR``).

        ``extra`` adds symbols outside the knowledge base (other cancer genes).
        """
        names = {alias: alias if alias == symbol else f"{alias} ({symbol})"
                 for alias, symbol in self._gene_alias.items()}  # fmt: skip
        names.update({symbol: symbol for symbol in extra if symbol not in names})
        return suggest(name.strip().upper(), names)

    def suggest_drugs(self, name: str) -> list[str]:
        """Drug names, brands and code names spelt like ``name`` (``osimertinb``)."""
        names = {generic: generic for generic in self.drugs}
        for generic, drug in self.drugs.items():
            for synonym in drug.synonyms:
                names.setdefault(synonym, f"{synonym} ({generic})")
        return suggest(name, names)

    def suggest_diseases(self, name: str) -> list[str]:
        """Disease names, synonyms and OncoTree codes spelt like ``name`` (``colorectal``)."""
        names: dict[str, str] = {}
        for disease_id, disease in self.diseases.items():
            same = _compact(disease.name) == _compact(disease_id)
            shown = disease.name if same else f"{disease.name} ({disease_id})"
            for alias in [disease.name, disease_id, *disease.oncotree, *disease.synonyms]:
                names.setdefault(alias, shown)
        return suggest(name, names)

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
            # a code name written with a hyphen or a space (AZD-9291, AZD 9291)
            generic = self._drug_compact.get(_compact(name))
        if generic is None:
            # a combination's own name (FCR, nivo-ipi, a co-packaged brand)
            generic = self._combination_alias.get(_key(name))
        if generic is None:
            raise UnknownDrugError(
                f"unknown drug {name.strip()!r}{did_you_mean(self.suggest_drugs(name))}; "
                "expected a generic name, brand or code name of the knowledge base (see "
                "`oncoresist kb search`)"
            )
        return generic

    def resolve_disease(self, name: str) -> str:
        """Return the disease id for a name, synonym or OncoTree code (``LUAD`` -> ``LUAD``)."""
        disease = self._disease_alias.get(_key(name))
        if disease is None:
            raise UnknownDiseaseError(
                f"unknown disease {name!r}{did_you_mean(self.suggest_diseases(name))}; "
                "expected a name, synonym or OncoTree code such as NSCLC, melanoma, CRC, CML, "
                "GIST (see `oncoresist kb diseases`)"
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


def _fields_at(model: type, loc: tuple) -> list[str]:
    """The keys a schema model allows at ``loc`` (a path of keys and list indices)."""
    import typing

    current: object = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if fields is None or part not in fields:
            return []
        annotation = fields[part].annotation
        # list[X], X | None, dict[str, X]: follow the model inside
        while typing.get_origin(annotation) is not None:
            inner = [a for a in typing.get_args(annotation) if hasattr(a, "model_fields")]
            args = typing.get_args(annotation)
            annotation = inner[0] if inner else args[-1] if args else None
        current = annotation
    fields = getattr(current, "model_fields", {})
    return [info.alias or name for name, info in fields.items()]


def _validation_error(
    exc: ValidationError,
    rel: str,
    data: object,
    model: type | None = None,
    path: Path | None = None,
) -> KnowledgeBaseError:
    errors = exc.errors()
    # a misspelt key also makes its right spelling "missing": name the misspelling first
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = first["loc"]
    if first["type"] == "extra_forbidden" and model is not None:
        allowed = _fields_at(model, tuple(loc[:-1]))
        if allowed:
            hint = did_you_mean(suggest(str(loc[-1]), {k: k for k in allowed}))
            first = {**first, "msg": f"unknown key {str(loc[-1])!r}{hint}; the allowed keys "
                                     f"are {', '.join(allowed)}"}  # fmt: skip
    line = None
    if path is not None:
        from oncoresist._files import yaml_line

        line = yaml_line(path, tuple(loc))
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
    if line is not None:  # "genes/EGFR.yaml assertions[12].drug (line 80): ..."
        entry = f"{entry} (line {line})" if entry else f"line {line}"
    return KnowledgeBaseError(f"{first['msg']}{label}", file=rel, record=entry or None)


#: Where the parsed YAML of the shipped knowledge base is cached between runs: a
#: directory, or ``off``. Default: ``$XDG_CACHE_HOME/oncoresist`` (``~/.cache/oncoresist``).
CACHE_ENV = "ONCORESIST_CACHE_DIR"
_CACHE_FORMAT = 1


def _cache_dir() -> Path | None:
    import os

    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "none", "0") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory (a service account without one)
            return None
    return Path(base) / "oncoresist"


class _ParsedCache:
    """The parsed YAML of every data file, kept between runs (issue 18, start-up).

    PyYAML builds the documents in Python: about 0.25 s of every command that loads the
    knowledge base. The parsed documents (plain dicts, lists, strings and numbers) are
    stored with :mod:`marshal` under a key made of each file's path, size and
    modification time, so an edited file is parsed again; validation by the schema runs
    every time. Any problem with the cache (unwritable, corrupt, a type marshal cannot
    hold) falls back to parsing, silently.
    """

    def __init__(self, root: Path, paths: list[tuple[Path, str]]) -> None:
        import hashlib
        import marshal

        self.documents: dict[str, object] = {}
        self.fresh: dict[str, object] = {}
        self.file: Path | None = None
        directory = _cache_dir()
        if directory is None:
            return
        digest = hashlib.sha256(f"{_CACHE_FORMAT}\t{root.resolve()}".encode())
        try:
            for path, rel in paths:
                st = path.stat()
                digest.update(f"\n{rel}\t{st.st_size}\t{st.st_mtime_ns}".encode())
        except OSError:
            return
        self.file = directory / f"kb-{digest.hexdigest()[:24]}.marshal"
        try:
            documents = marshal.loads(self.file.read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            return
        if isinstance(documents, dict):
            self.documents = documents

    def load(self, path: Path, rel: str) -> object:
        """The parsed document of one file, from the cache or parsed now."""
        if rel in self.documents:
            return self.documents[rel]
        data = _load_yaml(path, rel)
        self.fresh[rel] = data
        return data

    def save(self) -> None:
        """Store the documents parsed in this run (when any were), replacing older caches."""
        import marshal

        if self.file is None or not self.fresh:
            return
        try:
            payload = marshal.dumps({**self.documents, **self.fresh})
            from oncoresist._files import atomic_write

            with atomic_write(self.file, "wb") as handle:
                handle.write(payload)
            for old in self.file.parent.glob("kb-*.marshal"):
                if old != self.file:
                    old.unlink(missing_ok=True)
        except (OSError, ValueError):
            pass


def _parse(model: type, path: Path, rel: str, cache: _ParsedCache | None = None):
    data = cache.load(path, rel) if cache is not None else _load_yaml(path, rel)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise KnowledgeBaseError("expected a mapping at the top level", file=rel)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, rel, data, model, path) from None


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
    return _load(_data_root(), cached=True)


def _load(root: Path, *, cached: bool = False) -> KnowledgeBase:
    if not root.is_dir():
        raise KnowledgeBaseError("knowledge-base directory not found", file=root)
    cache = None
    if cached:
        paths = (
            [(root / "diseases.yaml", "diseases.yaml")] if (root / "diseases.yaml").exists() else []
        )
        paths += [(p, f"drugs/{p.name}") for p in sorted((root / "drugs").glob("*.yaml"))]
        paths += [(p, f"genes/{p.name}") for p in sorted((root / "genes").glob("*.yaml"))]
        cache = _ParsedCache(root, paths)
    kb = _build(root, cache)
    if cache is not None:
        cache.save()
    return kb


def _build(root: Path, cache: _ParsedCache | None) -> KnowledgeBase:
    kb = KnowledgeBase()
    disease_path = root / "diseases.yaml"
    if disease_path.exists():
        dfile: DiseaseFile = _parse(DiseaseFile, disease_path, "diseases.yaml", cache)
        for disease in dfile.diseases:
            _add_unique(kb.diseases, disease.id, disease, "diseases.yaml", "disease")
    for path in sorted((root / "drugs").glob("*.yaml")):
        rel = f"drugs/{path.name}"
        dfile2: DrugFile = _parse(DrugFile, path, rel, cache)
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
        gfile: GeneFile = _parse(GeneFile, path, rel, cache)
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
    for combo_key, combo in kb.combinations.items():
        for name in combo.synonyms:
            owner = kb._drug_alias.get(_key(name)) or kb._combination_alias.get(_key(name))
            if owner is not None and owner != combo_key:
                raise KnowledgeBaseError(
                    f"combination synonym {name!r} names both {owner} and {combo_key}",
                    file=kb.sources.get(f"drug:{combo.drugs[0]}"),
                )
            kb._combination_alias[_key(name)] = combo_key
    compact: dict[str, set[str]] = defaultdict(set)
    for name, generic in kb._drug_alias.items():
        compact[_compact(name)].add(generic)
    # only spellings that name one drug resolve without their hyphens and spaces
    kb._drug_compact = {k: next(iter(g)) for k, g in compact.items() if len(g) == 1 and k}
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
    "did_you_mean",
    "load_kb",
    "suggest",
]
