"""OncoTree, MSK's cancer type ontology, and disease resolution through it.

The bundled table ``kb/data/oncotree.tsv`` holds every tumour type of one OncoTree release
(code, name, main type, tissue, parent, level; source and licence in its header). Users
name diseases by OncoTree code (``PAAD``) or name (``Pancreatic Adenocarcinoma``), and most
of those are not knowledge-base diseases. :func:`resolve_disease` maps any of them to the
nearest knowledge-base context by walking OncoTree's parent chain until it meets a code the
knowledge base knows (diseases.yaml ``oncotree`` lists and ``identifiers/diseases.tsv``),
falling back to the knowledge base's pan-tumour roots (``solid``; ``haem`` for
haematopoietic types), and says which context it used and why.

References
----------
Kundra R et al. OncoTree: A Cancer Classification System for Precision Oncology. JCO Clin
Cancer Inform 2021;5:221-230. PMID:33625877.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from oncoresist.errors import KnowledgeBaseError, UnknownDiseaseError
from oncoresist.kb._load import KnowledgeBase, _key

ONCOTREE_COLUMNS = ("code", "name", "main_type", "tissue", "parent", "level")
ROOT = "TISSUE"
HAEM_TISSUE = "Hematopoietic"
# Knowledge-base ids used when no disease on a type's OncoTree path is in the knowledge base.
SOLID_ROOT = "solid"
HAEM_ROOT = "haem"


@dataclass(frozen=True)
class OncoTreeNode:
    """One OncoTree tumour type."""

    code: str
    name: str
    main_type: str
    tissue: str
    parent: str | None
    level: int


@dataclass
class OncoTree:
    """An OncoTree release: nodes by code, and a name index.

    Attributes
    ----------
    version
        The release, as named in the table's header (``oncotree_2026_05_21``).
    nodes
        code -> :class:`OncoTreeNode`.
    """

    version: str
    nodes: dict[str, OncoTreeNode] = field(default_factory=dict)
    _names: dict[str, list[str]] = field(default_factory=dict)

    def lineage(self, code: str) -> list[str]:
        """The code and its ancestors up to the root, most specific first."""
        chain: list[str] = []
        current: str | None = code
        while current is not None and current in self.nodes and current not in chain:
            chain.append(current)
            current = self.nodes[current].parent
        return chain

    def lookup(self, text: str) -> OncoTreeNode:
        """The node for an OncoTree code (any case) or name (case and spacing ignored).

        Raises
        ------
        UnknownDiseaseError
            For text that is neither, with the closest codes and names as suggestions; or
            for a name several tumour types share (OncoTree repeats names such as "Mature
            Teratoma" under several tissues), listing their codes.
        """
        raw = text.strip()
        code = raw.upper()
        if code in self.nodes:
            return self.nodes[code]
        codes = self._names.get(_key(raw), [])
        if len(codes) == 1:
            return self.nodes[codes[0]]
        if len(codes) > 1:
            listed = ", ".join(f"{c} ({self.nodes[c].tissue})" for c in sorted(codes))
            raise UnknownDiseaseError(
                f"OncoTree name {raw!r} names several tumour types: {listed}; give the code"
            )
        close = difflib.get_close_matches(code, list(self.nodes), n=3, cutoff=0.75)
        close += [
            self.nodes[self._names[n][0]].name
            for n in difflib.get_close_matches(_key(raw), list(self._names), n=3, cutoff=0.8)
        ]
        hint = f"; did you mean {', '.join(dict.fromkeys(close))}?" if close else ""
        raise UnknownDiseaseError(
            f"unknown disease {raw!r}: neither a knowledge-base disease nor an OncoTree "
            f"{self.version} code or name{hint}"
        )


def _oncotree_path() -> Path:
    return Path(str(resources.files("oncoresist.kb") / "data" / "oncotree.tsv"))


def load_oncotree(path: str | Path | None = None) -> OncoTree:
    """Read an OncoTree table (the bundled release by default).

    Raises
    ------
    KnowledgeBaseError
        Naming the file, line and column for a wrong header, a short row, a code given
        twice, a parent that is not a code of the table or a non-integer level.
    """
    if path is None:
        return _bundled()
    return _read(Path(path))


@lru_cache(maxsize=1)
def _bundled() -> OncoTree:
    return _read(_oncotree_path())


def _read(path: Path) -> OncoTree:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KnowledgeBaseError("OncoTree table not found", file=path) from None
    version = "unknown release"
    tree: OncoTree | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("#"):
            if "release " in line and version == "unknown release":
                version = line.split("release ", 1)[1].split()[0].rstrip(",;")
            continue
        if not line.strip():
            continue
        cells = line.split("\t")
        if tree is None:
            if tuple(cells) != ONCOTREE_COLUMNS:
                raise KnowledgeBaseError(
                    f"header is {'/'.join(cells)}; expected {'/'.join(ONCOTREE_COLUMNS)}",
                    file=path,
                    record=number,
                )
            tree = OncoTree(version=version)
            continue
        if len(cells) != len(ONCOTREE_COLUMNS):
            raise KnowledgeBaseError(
                f"{len(cells)} cells; expected {len(ONCOTREE_COLUMNS)}", file=path, record=number
            )
        code, name, main_type, tissue, parent, level = cells
        if code in tree.nodes:
            raise KnowledgeBaseError("code given twice", file=path, record=number, field="code")
        try:
            depth = int(level)
        except ValueError:
            raise KnowledgeBaseError(
                f"level {level!r} is not an integer", file=path, record=number, field="level"
            ) from None
        tree.nodes[code] = OncoTreeNode(code, name, main_type, tissue, parent or None, depth)
        tree._names.setdefault(_key(name), []).append(code)
    if tree is None:
        raise KnowledgeBaseError("no header line", file=path)
    for node in tree.nodes.values():
        if node.parent is not None and node.parent not in tree.nodes:
            raise KnowledgeBaseError(
                f"parent {node.parent!r} of {node.code} is not a code of the table",
                file=path,
                field="parent",
            )
    return tree


@dataclass(frozen=True)
class DiseaseResolution:
    """How a user's disease text was mapped to a knowledge-base disease.

    Attributes
    ----------
    query
        The text as given.
    disease
        The knowledge-base disease id used as context.
    oncotree
        The OncoTree code the text named (``None`` when it named a knowledge-base disease
        directly and is no OncoTree code).
    via
        The OncoTree code whose knowledge-base disease was used (``None`` for a direct
        match or a fallback to a pan-tumour root).
    path
        The OncoTree codes walked, from the named type up to ``via`` (or the root).
    exact
        Whether the text named the knowledge-base disease itself.
    """

    query: str
    disease: str
    oncotree: str | None = None
    via: str | None = None
    path: tuple[str, ...] = ()
    exact: bool = True

    def describe(self, kb: KnowledgeBase | None = None) -> str:
        """One sentence saying which knowledge-base context was used and why."""
        name = self.disease
        if kb is not None and self.disease in kb.diseases:
            name = f"{self.disease} ({kb.diseases[self.disease].name})"
        if self.exact:
            return f"{self.query!r} is the knowledge-base disease {name}"
        walked = " > ".join(self.path)
        if self.via is not None:
            return (
                f"{self.query!r} is OncoTree {self.oncotree}; the nearest knowledge-base "
                f"context on its OncoTree path ({walked}) is {name}"
            )
        return (
            f"{self.query!r} is OncoTree {self.oncotree}; no knowledge-base disease lies on "
            f"its OncoTree path ({walked}), so the pan-tumour context {name} is used"
        )


def kb_codes(kb: KnowledgeBase, ids=None) -> dict[str, str]:
    """OncoTree code -> knowledge-base disease id, from diseases.yaml and the diseases table.

    Parameters
    ----------
    kb
        A knowledge base.
    ids
        Its :class:`~oncoresist.kb._identifiers.Identifiers`; the shipped tables for the
        shipped knowledge base when ``None``, diseases.yaml alone otherwise.
    """
    from oncoresist.kb._identifiers import identifiers_for

    ids = ids if ids is not None else identifiers_for(kb)
    out: dict[str, str] = {}
    for disease_id, disease in kb.diseases.items():
        codes = list(disease.oncotree)
        if ids is not None:
            codes += ids.disease_codes(disease_id)
        for code in codes:
            out.setdefault(code.upper(), disease_id)
    return out


def resolve_disease(
    kb: KnowledgeBase, text: str, *, ids=None, tree: OncoTree | None = None
) -> DiseaseResolution:
    """Map a disease name, synonym, OncoTree code or OncoTree name to a knowledge-base disease.

    A knowledge-base disease (id, name, synonym or its OncoTree code) is used as is. Any other
    OncoTree code or name is resolved by walking its OncoTree parent chain to the first code
    a knowledge-base disease carries (``PAAD`` -> ``pancreatic``; ``CCLC``, clear cell
    carcinoma of the lung -> ``LCLC`` -> ``NSCLC``); when none does, the knowledge base's
    pan-tumour root is used: ``haem`` for haematopoietic types, ``solid`` otherwise.

    Parameters
    ----------
    kb
        The knowledge base.
    text
        What the user typed.
    ids, tree
        Identifier tables and OncoTree release (the shipped ones by default).

    Returns
    -------
    DiseaseResolution

    Raises
    ------
    UnknownDiseaseError
        For text that is neither a knowledge-base disease nor an OncoTree code or name,
        with suggestions.

    Examples
    --------
    >>> from oncoresist.kb import load_kb
    >>> r = resolve_disease(load_kb(), "PAAD")
    >>> r.disease
    'pancreatic'
    """
    try:
        disease = kb.resolve_disease(text)
    except UnknownDiseaseError:
        disease = None
    tree = tree or load_oncotree()
    codes = kb_codes(kb, ids)
    if disease is not None:
        # Name the OncoTree code only when the text is one of this disease's own codes: a
        # knowledge-base id may spell another OncoTree type (MF is myelofibrosis here and
        # myofibroma in OncoTree).
        code = text.strip().upper()
        own = code in tree.nodes and codes.get(code) == disease
        return DiseaseResolution(query=text, disease=disease, oncotree=code if own else None)
    node = tree.lookup(text)
    path: list[str] = []
    for code in tree.lineage(node.code):
        path.append(code)
        if code in codes:
            return DiseaseResolution(
                query=text,
                disease=codes[code],
                oncotree=node.code,
                via=code,
                path=tuple(path),
                exact=False,
            )
    root = HAEM_ROOT if node.tissue == HAEM_TISSUE or node.code == "HEMATOPOIETIC" else SOLID_ROOT
    if root not in kb.diseases:
        raise UnknownDiseaseError(
            f"{text!r} is OncoTree {node.code} ({node.name}), but no knowledge-base disease "
            f"lies on its OncoTree path and the knowledge base has no {root!r} context"
        )
    return DiseaseResolution(
        query=text, disease=root, oncotree=node.code, via=None, path=tuple(path), exact=False
    )


def resolve_disease_id(kb: KnowledgeBase, text: str) -> str:
    """The knowledge-base disease id of :func:`resolve_disease`.

    A drop-in for :meth:`KnowledgeBase.resolve_disease` that also accepts every OncoTree code
    and name.
    """
    return resolve_disease(kb, text).disease


__all__ = [
    "DiseaseResolution",
    "OncoTree",
    "OncoTreeNode",
    "kb_codes",
    "load_oncotree",
    "resolve_disease",
    "resolve_disease_id",
]
