"""Identifiers users join on: HGNC, NCBI Gene, Ensembl, NCIt, ChEMBL and OncoTree codes.

Genes carry HGNC, NCBI Gene and Ensembl IDs, drugs NCIt codes and ChEMBL IDs, diseases
OncoTree codes.

They live in bundled tab-separated tables beside the YAML files (``kb/data/identifiers/``):
``genes.tsv`` (symbol, hgnc_id, entrez_id, ensembl_gene_id, hgnc_source), ``drugs.tsv`` (name,
ncit_code, chembl_id, ncit_source) and ``diseases.tsv`` (disease, oncotree_codes, note). Each
table opens with ``#`` comment lines naming the public file every identifier was checked
against; an empty cell means "not verified", never a guess. Keeping identifiers out of the YAML
lets curators edit assertions and identifiers independently.

:func:`identifier_problems` is what ``oncoresist kb validate`` runs: every gene, drug and
disease of the knowledge base has a row, every filled cell has the identifier's form
(``HGNC:<digits>``, ``C<digits>``, ``CHEMBL<digits>``, an OncoTree code of the bundled tree),
and no identifier names two entries. :func:`coverage` counts the filled cells for ``kb stats``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from oncoresist.errors import KnowledgeBaseError
from oncoresist.kb._load import KnowledgeBase, _default_kb

GENE_COLUMNS = ("symbol", "hgnc_id", "entrez_id", "ensembl_gene_id", "hgnc_source")
DRUG_COLUMNS = ("name", "ncit_code", "chembl_id", "ncit_source")
DISEASE_COLUMNS = ("disease", "oncotree_codes", "note")

# The form of each identifier; a cell that does not match is reported by kb validate.
PATTERNS: dict[str, re.Pattern[str]] = {
    "hgnc_id": re.compile(r"^HGNC:\d+$"),
    "entrez_id": re.compile(r"^\d+$"),
    "ensembl_gene_id": re.compile(r"^ENSG\d{11}$"),
    "ncit_code": re.compile(r"^C\d+$"),
    "chembl_id": re.compile(r"^CHEMBL\d+$"),
}
EXPECTED = {
    "hgnc_id": "HGNC:<digits> (e.g. HGNC:3236)",
    "entrez_id": "an NCBI Gene ID of digits (e.g. 1956)",
    "ensembl_gene_id": "ENSG followed by 11 digits (e.g. ENSG00000146648)",
    "ncit_code": "C<digits> (e.g. C116377)",
    "chembl_id": "CHEMBL<digits> (e.g. CHEMBL3353410)",
}
# Label and entity used in coverage lines ("HGNC 40/41 genes").
COVERAGE_LABELS = {
    "hgnc_id": ("HGNC", "genes"),
    "entrez_id": ("NCBI Gene", "genes"),
    "ensembl_gene_id": ("Ensembl", "genes"),
    "ncit_code": ("NCIt", "drugs"),
    "chembl_id": ("ChEMBL", "drugs"),
    "oncotree_codes": ("OncoTree", "diseases"),
}


@dataclass(frozen=True)
class IdentifierTable:
    """One identifier table: rows by key, with the line each came from.

    Attributes
    ----------
    path
        The file it was read from.
    key
        The key column (``symbol``, ``name`` or ``disease``).
    rows
        key -> {column: value}; empty cells are ``""``.
    lines
        key -> 1-based line number in the file.
    """

    path: str
    key: str
    rows: dict[str, dict[str, str]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)

    def get(self, key: str, column: str) -> str:
        """The cell for ``key`` and ``column`` (``""`` when absent or empty)."""
        return self.rows.get(key, {}).get(column, "")


@dataclass(frozen=True)
class Identifiers:
    """The three identifier tables of a knowledge base."""

    genes: IdentifierTable
    drugs: IdentifierTable
    diseases: IdentifierTable

    def disease_codes(self, disease: str) -> list[str]:
        """OncoTree codes the diseases table gives for a knowledge-base disease id."""
        return split_codes(self.diseases.get(disease, "oncotree_codes"))


def split_codes(cell: str) -> list[str]:
    """Split a ``;``-separated cell of codes (``"CML; CMLCP"`` -> ``["CML", "CMLCP"]``)."""
    return [c.strip() for c in cell.split(";") if c.strip()]


def read_table(path: str | Path, *, columns: Iterable[str]) -> IdentifierTable:
    """Read one identifier table; the first column is the key.

    Lines starting with ``#`` and blank lines are skipped; the first other line is the header
    and must name exactly ``columns`` in order.

    Raises
    ------
    KnowledgeBaseError
        Naming the file, line and column for a wrong header, a row with the wrong number of
        cells, an empty key or a key given twice.
    """
    path = Path(path)
    columns = tuple(columns)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KnowledgeBaseError("identifier table not found", file=path) from None
    except UnicodeDecodeError:
        raise KnowledgeBaseError("not UTF-8 text", file=path) from None
    table = IdentifierTable(path=str(path), key=columns[0])
    header_seen = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip() or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        if not header_seen:
            if tuple(cells) != columns:
                raise KnowledgeBaseError(
                    f"header is {'/'.join(cells)}; expected the tab-separated columns "
                    f"{'/'.join(columns)}",
                    file=path,
                    record=number,
                )
            header_seen = True
            continue
        if len(cells) != len(columns):
            raise KnowledgeBaseError(
                f"{len(cells)} tab-separated cells; expected {len(columns)} "
                f"({', '.join(columns)}), empty cells allowed",
                file=path,
                record=number,
            )
        key = cells[0]
        if not key:
            raise KnowledgeBaseError("empty key", file=path, record=number, field=columns[0])
        if key in table.rows:
            raise KnowledgeBaseError(
                f"{key!r} has a row already (line {table.lines[key]})",
                file=path,
                record=number,
                field=columns[0],
            )
        table.rows[key] = dict(zip(columns, cells, strict=True))
        table.lines[key] = number
    if not header_seen:
        raise KnowledgeBaseError(
            f"no header line; expected the columns {'/'.join(columns)}", file=path
        )
    return table


def identifiers_dir() -> Path:
    """The shipped identifier tables' directory."""
    return Path(str(resources.files("oncoresist.kb") / "data" / "identifiers"))


def load_identifiers(directory: str | Path | None = None) -> Identifiers:
    """Read ``genes.tsv``, ``drugs.tsv`` and ``diseases.tsv`` (the shipped ones by default).

    Parameters
    ----------
    directory
        A directory holding the three tables.

    Returns
    -------
    Identifiers
    """
    if directory is None:
        return _shipped()
    return _read(Path(directory))


@lru_cache(maxsize=1)
def _shipped() -> Identifiers:
    return _read(identifiers_dir())


def _read(directory: Path) -> Identifiers:
    return Identifiers(
        genes=read_table(directory / "genes.tsv", columns=GENE_COLUMNS),
        drugs=read_table(directory / "drugs.tsv", columns=DRUG_COLUMNS),
        diseases=read_table(directory / "diseases.tsv", columns=DISEASE_COLUMNS),
    )


def identifiers_for(kb: KnowledgeBase) -> Identifiers | None:
    """The identifier tables that describe ``kb``.

    The shipped tables for the shipped knowledge base; ``None`` for a knowledge base loaded
    from another directory (pass its tables to :func:`identifier_problems` explicitly).
    """
    if _default_kb.cache_info().currsize and kb is _default_kb():
        return load_identifiers()
    return None


def identifier_problems(kb: KnowledgeBase, ids: Identifiers) -> list[str]:
    """Every problem of the identifier tables against a knowledge base (empty when sound).

    Checks that each gene, drug and disease has a row, that every filled cell has its
    identifier's form, that OncoTree codes exist in the bundled tree, that the diseases.yaml
    OncoTree codes are current (or the table gives a current code for that disease), and
    that no identifier names two entries.

    Returns
    -------
    list of str
        One line per problem, naming the table, line and column.
    """
    from oncoresist.kb._oncotree import load_oncotree

    tree = load_oncotree()
    problems: list[str] = []
    for table, entries, what in (
        (ids.genes, kb.genes, "gene"),
        (ids.drugs, kb.drugs, "drug"),
        (ids.diseases, kb.diseases, "disease"),
    ):
        name = Path(table.path).name
        for key in sorted(entries):
            if key not in table.rows:
                problems.append(
                    f"identifiers/{name}: no row for {what} {key!r}; add one (empty cells "
                    "are allowed for identifiers not yet verified)"
                )
        seen: dict[tuple[str, str], str] = {}
        for key, row in table.rows.items():
            for column, value in row.items():
                if column == table.key or not value:
                    continue
                where = f"identifiers/{name} line {table.lines[key]}, column {column}"
                if column in PATTERNS:
                    if not PATTERNS[column].match(value):
                        problems.append(f"{where}: {value!r} for {key} is not {EXPECTED[column]}")
                        continue
                    codes = [value]
                elif column == "oncotree_codes":
                    codes = split_codes(value)
                    for code in codes:
                        if code not in tree.nodes:
                            problems.append(
                                f"{where}: {code!r} for {key} is not a code of OncoTree "
                                f"{tree.version}"
                            )
                else:
                    continue
                for code in codes:
                    owner = seen.setdefault((column, code), key)
                    if owner != key:
                        problems.append(
                            f"{where}: {code} is given for both {owner} and {key}; an "
                            "identifier names one entry"
                        )
    problems.extend(_yaml_oncotree_problems(kb, ids, tree))
    return problems


def _yaml_oncotree_problems(kb: KnowledgeBase, ids: Identifiers, tree) -> list[str]:
    problems = []
    owners: dict[str, str] = {}
    for disease_id, disease in kb.diseases.items():
        table_codes = ids.disease_codes(disease_id)
        for code in disease.oncotree:
            if code not in tree.nodes and not table_codes:
                problems.append(
                    f"diseases.yaml disease {disease_id}: OncoTree code {code!r} is not in "
                    f"OncoTree {tree.version}; give the current code in "
                    "identifiers/diseases.tsv or fix diseases.yaml"
                )
        for code in set(disease.oncotree) | set(table_codes):
            owner = owners.setdefault(code, disease_id)
            if owner != disease_id:
                problems.append(
                    f"OncoTree code {code} names both diseases {owner} and {disease_id} "
                    "(diseases.yaml and identifiers/diseases.tsv together)"
                )
    return problems


def coverage(kb: KnowledgeBase, ids: Identifiers) -> dict[str, list[int]]:
    """Filled identifier cells per kind, as ``[filled, entries]``.

    Returns
    -------
    dict
        ``{"HGNC": [40, 41], "NCBI Gene": [...], "Ensembl": [...], "NCIt": [150, 182],
        "ChEMBL": [...], "OncoTree": [...]}``; a disease counts for OncoTree when
        diseases.yaml or the diseases table gives it a current code.
    """
    from oncoresist.kb._oncotree import load_oncotree

    tree = load_oncotree()
    out: dict[str, list[int]] = {}
    for column, (label, _) in COVERAGE_LABELS.items():
        if column == "oncotree_codes":
            filled = sum(
                1
                for d, disease in kb.diseases.items()
                if any(c in tree.nodes for c in (*disease.oncotree, *ids.disease_codes(d)))
            )
            out[label] = [filled, len(kb.diseases)]
            continue
        table, entries = (ids.genes, kb.genes) if column in GENE_COLUMNS else (ids.drugs, kb.drugs)
        filled = sum(1 for key in entries if PATTERNS[column].match(table.get(key, column)))
        out[label] = [filled, len(entries)]
    return out


def coverage_lines(counts: dict[str, list[int]]) -> list[str]:
    """``coverage`` as readable lines: ``["HGNC 40/41 genes", "NCIt 150/182 drugs", ...]``."""
    entity = {label: what for label, what in COVERAGE_LABELS.values()}
    return [f"{label} {n}/{total} {entity[label]}" for label, (n, total) in counts.items()]


def gene_identifiers(ids: Identifiers, symbol: str) -> dict[str, str]:
    """The identifiers of one gene (empty strings for cells not filled)."""
    return {c: ids.genes.get(symbol, c) for c in GENE_COLUMNS[1:4]}


def drug_identifiers(ids: Identifiers, name: str) -> dict[str, str]:
    """The identifiers of one drug (empty strings for cells not filled)."""
    return {c: ids.drugs.get(name, c) for c in DRUG_COLUMNS[1:3]}


def rows_without_entry(kb: KnowledgeBase, ids: Identifiers) -> dict[str, list[str]]:
    """Table rows naming no knowledge-base entry (left behind by a rename), per table."""
    out: dict[str, list[str]] = defaultdict(list)
    for table, entries in (
        (ids.genes, kb.genes),
        (ids.drugs, kb.drugs),
        (ids.diseases, kb.diseases),
    ):
        for key in table.rows:
            if key not in entries:
                out[Path(table.path).name].append(key)
    return dict(out)


__all__ = [
    "DISEASE_COLUMNS",
    "DRUG_COLUMNS",
    "GENE_COLUMNS",
    "IdentifierTable",
    "Identifiers",
    "coverage",
    "coverage_lines",
    "drug_identifiers",
    "gene_identifiers",
    "identifier_problems",
    "identifiers_dir",
    "identifiers_for",
    "load_identifiers",
    "read_table",
    "rows_without_entry",
    "split_codes",
]
