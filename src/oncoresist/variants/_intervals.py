"""Gene intervals on GRCh37 and GRCh38, for placing copy-number and structural variants.

The table (``genes/intervals.tsv``) holds the whole-gene interval (first to last base of
any transcript, 1-based, inclusive) of every knowledge-base gene and of the other cancer
genes the readers know, from Ensembl release 100; its header says how it was made.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from oncoresist.variants._builds import BUILDS


@dataclass(frozen=True)
class GeneInterval:
    """Where a gene lies on one build.

    Attributes
    ----------
    symbol
        HGNC symbol.
    chrom
        Chromosome without ``chr`` (``7``, ``X``).
    start, end
        First and last base (1-based, inclusive).
    strand
        ``+`` or ``-``: the strand the gene is transcribed from.
    entrez
        Entrez Gene ID (``""`` when unknown).
    """

    symbol: str
    chrom: str
    start: int
    end: int
    strand: str
    entrez: str = ""

    def overlaps(self, chrom: str, start: int, end: int) -> bool:
        """Whether ``chrom:start-end`` (1-based, inclusive) shares a base with the gene."""
        return chrom == self.chrom and start <= self.end and end >= self.start


@cache
def _table() -> tuple[dict[str, dict[str, GeneInterval]], dict[str, str]]:
    text = resources.files("oncoresist.variants").joinpath("genes/intervals.tsv").read_text()
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    header, body = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(header)}
    by_build: dict[str, dict[str, GeneInterval]] = {b: {} for b in BUILDS}
    entrez: dict[str, str] = {}
    for row in body:
        symbol = row[col["symbol"]]
        if row[col["entrez"]]:
            entrez[row[col["entrez"]]] = symbol
        for build in BUILDS:
            by_build[build][symbol] = GeneInterval(
                symbol=symbol,
                chrom=row[col[f"{build}_chrom"]],
                start=int(row[col[f"{build}_start"]]),
                end=int(row[col[f"{build}_end"]]),
                strand=row[col["strand"]],
                entrez=row[col["entrez"]],
            )
    return by_build, entrez


def gene_interval(build: str, symbol: str) -> GeneInterval | None:
    """The interval of ``symbol`` on ``build`` (``GRCh37``/``GRCh38``), or ``None``."""
    return _table()[0][build].get(symbol)


def gene_symbols() -> frozenset[str]:
    """Every gene the table places."""
    return frozenset(_table()[0][BUILDS[0]])


def symbol_of_entrez(entrez_id: str) -> str | None:
    """The HGNC symbol of an Entrez Gene ID in the table, or ``None``."""
    return _table()[1].get(entrez_id.strip())


@cache
def _by_chrom(build: str) -> dict[str, tuple[GeneInterval, ...]]:
    out: dict[str, list[GeneInterval]] = {}
    for interval in _table()[0][build].values():
        out.setdefault(interval.chrom, []).append(interval)
    return {c: tuple(sorted(v, key=lambda g: g.start)) for c, v in out.items()}


def genes_overlapping(build: str, chrom: str, start: int, end: int) -> list[GeneInterval]:
    """Genes sharing a base with ``chrom:start-end`` (1-based, inclusive), by position."""
    return [g for g in _by_chrom(build).get(chrom, ()) if g.overlaps(chrom, start, end)]
