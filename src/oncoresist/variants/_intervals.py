"""Gene intervals on GRCh37 and GRCh38, for placing copy-number and structural variants.

The table (``genes/intervals.tsv.gz``, 0.6 MB) holds the whole-gene interval (first to
last base of any transcript, 1-based, inclusive) of every protein-coding gene and of every
gene the knowledge base and the readers name, from Ensembl release 100; its header says
how it was made. Every gene, not only the knowledge base's, is there so that a fusion
partner is named whichever gene it is, and so that genes the knowledge base gains later
are already placed.
"""

from __future__ import annotations

import gzip
from bisect import bisect_left, bisect_right
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


_Row = tuple[str, str, int, int, str, str]  # symbol, chrom, start, end, strand, entrez


@cache
def _rows() -> tuple[dict[str, dict[str, _Row]], dict[str, str]]:
    packed = resources.files("oncoresist.variants").joinpath("genes/intervals.tsv.gz")
    text = gzip.decompress(packed.read_bytes()).decode("utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    col = {name: i for i, name in enumerate(lines[0].split("\t"))}
    where = [(b, col[f"{b}_chrom"], col[f"{b}_start"], col[f"{b}_end"]) for b in BUILDS]
    symbol_at, strand_at, entrez_at = col["symbol"], col["strand"], col["entrez"]
    by_build: dict[str, dict[str, _Row]] = {b: {} for b in BUILDS}
    entrez: dict[str, str] = {}
    for line in lines[1:]:
        row = line.split("\t")
        symbol = row[symbol_at]
        if row[entrez_at]:
            entrez[row[entrez_at]] = symbol
        for build, c, a, b in where:
            if row[c]:  # empty: no such gene on this build
                by_build[build][symbol] = (
                    symbol, row[c], int(row[a]), int(row[b]), row[strand_at], row[entrez_at],
                )  # fmt: skip
    return by_build, entrez


def _interval(row: _Row) -> GeneInterval:
    symbol, chrom, start, end, strand, entrez = row
    return GeneInterval(symbol, chrom, start, end, strand, entrez)


def gene_interval(build: str, symbol: str) -> GeneInterval | None:
    """The interval of ``symbol`` on ``build`` (``GRCh37``/``GRCh38``), or ``None``."""
    row = _rows()[0][build].get(symbol)
    return None if row is None else _interval(row)


def gene_symbols() -> frozenset[str]:
    """Every gene the table places."""
    by_build = _rows()[0]
    return frozenset().union(*(by_build[b] for b in BUILDS))


def symbol_of_entrez(entrez_id: str) -> str | None:
    """The HGNC symbol of an Entrez Gene ID in the table, or ``None``."""
    return _rows()[1].get(entrez_id.strip())


@cache
def _by_chrom(build: str) -> dict[str, tuple[list[int], list[_Row], int]]:
    """Per chromosome: gene starts (sorted), the genes in that order, the longest gene."""
    groups: dict[str, list[_Row]] = {}
    for row in _rows()[0][build].values():
        groups.setdefault(row[1], []).append(row)
    out = {}
    for chrom, rows in groups.items():
        rows.sort(key=lambda r: r[2])
        out[chrom] = ([r[2] for r in rows], rows, max(r[3] - r[2] for r in rows))
    return out


def genes_overlapping(build: str, chrom: str, start: int, end: int) -> list[GeneInterval]:
    """Genes sharing a base with ``chrom:start-end`` (1-based, inclusive), by position."""
    found = _by_chrom(build).get(chrom)
    if found is None:
        return []
    starts, rows, longest = found
    # Only a gene starting within `longest` bases before `start` can reach it.
    first = bisect_left(starts, start - longest)
    last = bisect_right(starts, end)
    return [_interval(r) for r in rows[first:last] if r[3] >= start]
