"""Copy-number and structural records of a VCF: symbolic alleles and breakends.

A record whose ALT is a symbolic allele (``<DUP>``, ``<DEL>``, ``<AMP>``, ``<CNV>``,
``<CN4>``, ``<DUP:TANDEM>``, ``<INV>``) or a breakend (``G]2:29446000]``) is placed on the
genes of ``genes/intervals.tsv`` and turned into the knowledge base's alterations:

- copy number (FORMAT ``CN`` of the sample, else INFO ``CN``, else the ``<CNn>`` allele)
  over the interval POS+1..END (INFO ``END``, else POS + abs(``SVLEN``)), called with
  :class:`~oncoresist.variants._copynumber.CopyNumberThresholds`: ``amplification`` or
  ``loss`` (deep deletion) of every knowledge-base gene the interval touches; gains and
  shallow losses are warned about, not called;
- a breakend pair, or the two junctions of an inversion, joining two genes: a fusion
  ``FIVE::THREE``, with the 5' and 3' partners told from the breakend's orientation and
  the genes' strands (VCF 4.2 section 5.4), or named by a fusion annotation (SnpEff
  ``gene_fusion``; INFO ``FUSION``/``GENE_FUSION``/``FUSION_NAME`` written 5'::3';
  INFO gene pairs ``GENEA``/``GENEB``, ``GENE_A``/``GENE_B``, ``GENE1``/``GENE2``).

A record this module cannot place (no END or SVLEN, no genome build, no copy number for
a copy-number allele, a breakend inside a single gene) touching a knowledge-base gene, or
any record it cannot place at all, is reported as a :class:`VariantWarning` naming the
file, the line and why; none is dropped in silence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from oncoresist.errors import InputError, UnknownGeneError
from oncoresist.kb import KnowledgeBase
from oncoresist.variants._alteration import Alteration
from oncoresist.variants._builds import normalise_chrom
from oncoresist.variants._copynumber import CopyNumberThresholds
from oncoresist.variants._genes import resolve_gene
from oncoresist.variants._intervals import GeneInterval, genes_overlapping
from oncoresist.variants._parse import parse_change
from oncoresist.variants._warn import warn_at

# Symbolic alleles that are not variants (gVCF reference blocks, "any other allele").
IGNORED_ALLELES = frozenset({"<NON_REF>", "<*>", "<X>"})
_BREAKEND = re.compile(
    r"^(?P<before>[A-Za-z.]*)(?P<open>[\[\]])(?P<chrom>[^\[\]:]+):(?P<pos>\d+)"
    r"(?P<close>[\[\]])(?P<after>[A-Za-z.]*)$"
)
_SINGLE_BREAKEND = re.compile(r"^(\.[A-Za-z]+|[A-Za-z]+\.)$")  # G. or .G (VCF 4.2 5.4.9)
_CN_ALLELE = re.compile(r"^CN(\d+)$")
_COPY_NUMBER_TYPES = frozenset({"DUP", "DEL", "AMP", "CNV"})
_KNOWN_TYPES = _COPY_NUMBER_TYPES | {"INV", "INS", "BND"}
_FUSION_NAMES = ("FUSION", "GENE_FUSION", "FUSION_NAME")
_GENE_PAIRS = (("GENEA", "GENEB"), ("GENE_A", "GENE_B"), ("GENE1", "GENE2"))
_FUSION_TERMS = ("gene_fusion", "bidirectional_gene_fusion")


def structural_alleles(alts: list[str]) -> list[str]:
    """The ALT alleles of a record that are symbolic or breakends (not ``<NON_REF>``)."""
    return [
        a
        for a in alts
        if (a.startswith("<") and a.upper() not in IGNORED_ALLELES)
        or ("[" in a or "]" in a)
        or _SINGLE_BREAKEND.match(a) is not None
    ]


def _copy_number_allele(allele: str, info: str) -> bool:
    """Whether an ALT allele is a copy-number allele (``<DUP>``, ``<CN3>``, ...)."""
    if not allele.startswith("<"):
        return False
    base = allele[1:-1].upper().split(":")[0]
    if base not in _KNOWN_TYPES and _CN_ALLELE.match(base) is None:
        base = (info_value(info, "SVTYPE") or "").upper().split(":")[0]
    return base in _COPY_NUMBER_TYPES or _CN_ALLELE.match(base) is not None


def info_value(info: str, key: str) -> str | None:
    """The raw value of ``key`` in an INFO column (``None`` when absent)."""
    prefix = key + "="
    for item in info.split(";"):
        if item.startswith(prefix):
            return item[len(prefix) :]
    return None


@dataclass
class _Junction:
    """Two joined breakpoints, and which side of each breakpoint the joined piece keeps."""

    chrom_a: str
    pos_a: int
    keeps_left_a: bool  # the piece of A at or before pos_a is kept
    chrom_b: str
    pos_b: int
    keeps_left_b: bool


def _role(gene: GeneInterval, keeps_left: bool) -> str:
    """``5`` when the kept piece holds the gene's 5' end, else ``3``."""
    return "5" if keeps_left == (gene.strand == "+") else "3"


@dataclass
class SymbolicRecords:
    """Turns the structural records of one VCF into alterations (see the module doc).

    Parameters
    ----------
    path, label
        The file, for messages and for ``source``.
    kb
        Knowledge base.
    build
        The file's genome build, or ``None`` (records can then only be read from their
        fusion annotations).
    targets
        Genes to report (knowledge-base genes by default).
    thresholds
        Copy-number thresholds.
    sample
        The sample read (``None`` for a sites-only file).
    annotation_key, annotation_gene, annotation_consequence
        The SnpEff ``ANN`` (or VEP ``CSQ``) INFO key and the indices of its gene and
        consequence fields, when the file is annotated.
    """

    path: object
    label: str
    kb: KnowledgeBase
    build: str | None
    targets: frozenset[str]
    thresholds: CopyNumberThresholds
    sample: str | None = None
    annotation_key: str | None = None
    annotation_gene: int | None = None
    annotation_consequence: int | None = None
    _seen_junctions: set = field(default_factory=set)
    _seen_fusions: set = field(default_factory=set)

    # ------------------------------------------------------------------ entry
    def alterations(
        self,
        cols: list[str],
        alleles: list[str],
        where: int | str,
        values: dict[str, str],
        carried: set[int] | None,
    ) -> Iterator[Alteration]:
        """Alterations of one record's structural ``alleles``.

        Parameters
        ----------
        cols
            The record's tab-separated columns.
        alleles
            Its structural ALT alleles (from :func:`structural_alleles`).
        where
            Its line (or ``record N`` of a BCF).
        values
            The sample's FORMAT values by key (empty for a sites-only file).
        carried
            Indices (1-based) of the ALT alleles the sample's genotype carries, or
            ``None`` when the genotype is missing or not called.
        """
        chrom = normalise_chrom(cols[0])
        pos = int(cols[1])
        info = cols[7]
        alts = cols[4].split(",")
        copy_number = [a for a in alleles if _copy_number_allele(a, info)]
        if len(copy_number) > 1 and "CN" in values:
            # A segment with <DEL>,<DUP> (GATK gCNV): the sample's one CN describes it; read
            # it once, through the allele the genotype carries (else the first).
            held = [a for a in copy_number if carried and alts.index(a) + 1 in carried]
            keep = (held or copy_number)[0]
            alleles = [a for a in alleles if a == keep or a not in copy_number]
        for allele in alleles:
            index = alts.index(allele) + 1
            if carried is not None and index not in carried and "CN" not in values:
                continue  # the sample's genotype does not carry this allele
            yield from self._allele(chrom, pos, cols, allele, info, where, values)

    def _allele(
        self,
        chrom: str,
        pos: int,
        cols: list[str],
        allele: str,
        info: str,
        where: int | str,
        values: dict[str, str],
    ) -> Iterator[Alteration]:
        extra = {
            "chrom": chrom,
            "pos": pos,
            "ref": cols[3].upper(),
            "alt": allele,
            "build": self.build,
            "sample": self.sample,
            "source": f"{self.label}:{where}",
        }
        named = self._named_pair(info, where)
        mate = _BREAKEND.match(allele)
        if mate is not None:
            before = bool(mate["before"])
            junction = _Junction(
                chrom,
                pos,
                before,
                normalise_chrom(mate["chrom"]),
                int(mate["pos"]),
                mate["open"] == "]",
            )
            key = frozenset({(chrom, pos), (junction.chrom_b, junction.pos_b)})
            if key in self._seen_junctions:
                return  # the mate of a breakend already read
            self._seen_junctions.add(key)
            yield from self._fusion([junction], named, where, extra)
            return
        if "[" in allele or "]" in allele:
            self._warn(
                f"the breakend {allele!r} cannot be read, so its mate is unknown; expected "
                "t[p[, t]p], ]p]t or [p[t with p as CHROM:POS (VCF 4.2 section 5.4)",
                where,
                "ALT",
            )
            return
        if _SINGLE_BREAKEND.match(allele) is not None:
            if named is not None:
                yield from self._fusion([], named, where, extra)
            else:
                yield from self._single(chrom, pos, allele, where, extra)
            return
        inner = allele[1:-1].upper() if allele.endswith(">") else allele.upper()
        base = inner.split(":")[0]
        svtype = (info_value(info, "SVTYPE") or "").upper()
        if base not in _KNOWN_TYPES and _CN_ALLELE.match(base) is None and svtype:
            base = svtype.split(":")[0]  # an allele of the caller's own name: INFO SVTYPE
        cn_allele = _CN_ALLELE.match(base)
        if base in _COPY_NUMBER_TYPES or cn_allele is not None:
            copies = float(cn_allele[1]) if cn_allele is not None else None
            yield from self._copy_number(chrom, pos, base, allele, info, where, values,
                                         copies, extra)  # fmt: skip
            return
        if base == "INV":
            end = self._end(pos, info, where, allele)
            if end is None:
                return
            # An inversion of POS+1..END joins POS to END (left pieces kept) and POS+1 to
            # END+1 (right pieces kept).
            junctions = [
                _Junction(chrom, pos, True, chrom, end, True),
                _Junction(chrom, pos + 1, False, chrom, end + 1, False),
            ]
            yield from self._fusion(junctions, named, where, extra)
            return
        if named is not None:
            yield from self._fusion([], named, where, extra)
            return
        self._other(chrom, pos, allele, base, where)

    # -------------------------------------------------------------- helpers
    def _warn(self, message: str, where: int | str, column: str) -> None:
        warn_at(message, file=self.path, record=where, field=column)  # type: ignore[arg-type]

    def _error(self, message: str, where: int | str, column: str) -> InputError:
        return InputError(message, file=self.path, record=where, field=column)  # type: ignore[arg-type]

    def _end(self, pos: int, info: str, where: int | str, allele: str) -> int | None:
        end_text = info_value(info, "END")
        if end_text is not None:
            try:
                end = int(end_text)
            except ValueError:
                raise self._error(
                    f"END {end_text!r} is not a whole number; expected the last position "
                    "of the event",
                    where,
                    "INFO/END",
                ) from None
            if end < pos:
                raise self._error(
                    f"END {end} is before POS {pos}; expected END >= POS", where, "INFO/END"
                )
            return end
        svlen = info_value(info, "SVLEN")
        if svlen is not None:
            try:
                length = abs(int(svlen.split(",")[0]))
            except ValueError:
                raise self._error(
                    f"SVLEN {svlen!r} is not a whole number; expected the event's length",
                    where, "INFO/SVLEN",
                ) from None  # fmt: skip
            return pos + length
        self._warn(
            f"{allele} has neither INFO/END nor INFO/SVLEN, so the genes it covers are "
            "unknown; it is not interpreted (add END)",
            where,
            "INFO/END",
        )
        return None

    def _copies(
        self, info: str, values: dict[str, str], where: int | str
    ) -> tuple[float | None, str]:
        for text, column in ((values.get("CN"), "FORMAT/CN"), (info_value(info, "CN"), "INFO/CN")):
            if text is None or text in (".", ""):
                continue
            try:
                copies = float(text.split(",")[0])
            except ValueError:
                raise self._error(
                    f"copy number {text!r} is not a number; expected copies per cell "
                    "(0, 1, 2, ... 12)", where, column,
                ) from None  # fmt: skip
            if copies < 0 or copies != copies:
                raise self._error(
                    f"copy number {text} is negative; expected copies per cell >= 0",
                    where,
                    column,
                )
            return copies, column
        return None, "CN"

    def _copy_number(
        self,
        chrom: str,
        pos: int,
        base: str,
        allele: str,
        info: str,
        where: int | str,
        values: dict[str, str],
        copies: float | None,
        extra: dict,
    ) -> Iterator[Alteration]:
        end = self._end(pos, info, where, allele)
        if end is None:
            return
        if self.build is None:
            self._warn(
                f"{allele} at {chrom}:{pos}-{end} cannot be placed on genes: the genome "
                "build is unknown (give build='GRCh37' or 'GRCh38', --build)",
                where,
                "ALT",
            )
            return
        genes = [
            g.symbol
            for g in genes_overlapping(self.build, chrom, pos + 1 if end > pos else pos, end)
            if g.symbol in self.targets
        ]
        if not genes:
            return
        found, column = self._copies(info, values, where)
        if found is not None:
            copies = found
        span = f"{chrom}:{pos}-{end}"
        if copies is None:
            if base == "AMP":
                call = "amplification"
            else:
                self._warn(
                    f"{allele} over {', '.join(genes)} ({span}) has no copy number "
                    "(FORMAT/CN or INFO/CN), so amplification or deep deletion cannot be "
                    "told from a one-copy change; it is not interpreted",
                    where,
                    "CN",
                )
                return
        else:
            call = self.thresholds.call(copies)
        if call == "amplification":
            for gene in genes:
                yield parse_change("amplification", gene=gene, kb=self.kb, **extra)
        elif call == "deep_deletion":
            for gene in genes:
                yield parse_change("loss", gene=gene, kb=self.kb, **extra)
        elif call in ("gain", "shallow_loss"):
            word = "copy-number gain" if call == "gain" else "shallow (one-copy) loss"
            called = "amplification" if call == "gain" else "loss (deep deletion)"
            self._warn(
                f"{', '.join(genes)}: {word}, CN {copies:g} ({span}); reported, not called "
                f"{called} ({self.thresholds.describe()})",
                where,
                column,
            )

    def _other(self, chrom: str, pos: int, allele: str, base: str, where: int | str) -> None:
        if self.build is None:
            self._warn(
                f"{allele} at {chrom}:{pos} cannot be placed on genes: the genome build is "
                "unknown (give build='GRCh37' or 'GRCh38', --build)",
                where,
                "ALT",
            )
            return
        genes = [g.symbol for g in genes_overlapping(self.build, chrom, pos, pos + 1)]
        genes = [g for g in genes if g in self.targets]
        if genes:
            what = "an insertion" if base == "INS" else f"the symbolic allele {allele}"
            self._warn(
                f"{what} in {', '.join(genes)} at {chrom}:{pos} is not interpreted; "
                "expected <DUP>, <DEL>, <AMP>, <CNV> with a copy number, <INV> or a breakend",
                where,
                "ALT",
            )

    # --------------------------------------------------------------- fusions
    def _single(
        self, chrom: str, pos: int, allele: str, where: int | str, extra: dict
    ) -> Iterator[Alteration]:
        """A single breakend (``G.``): a gene broken here, joined to unknown sequence."""
        if self.build is None:
            self._warn(
                f"the single breakend {allele} at {chrom}:{pos} cannot be placed on genes: "
                "the genome build is unknown (give build='GRCh37' or 'GRCh38', --build)",
                where,
                "ALT",
            )
            return
        gene = self._gene_at(chrom, pos)
        if gene is None or gene.symbol not in self.targets:
            return
        if frozenset((gene.symbol, "?")) in self._seen_fusions:
            return
        self._seen_fusions.add(frozenset((gene.symbol, "?")))
        self._warn(
            f"a single breakend in {gene.symbol} ({allele}: joined to sequence the caller "
            f"could not place); reported as {gene.symbol} fusion with the partner unknown",
            where,
            "ALT",
        )
        yield parse_change("fusion", gene=gene.symbol, kb=self.kb, **extra)

    def _resolve(self, name: str) -> str:
        try:
            return resolve_gene(self.kb, name)
        except UnknownGeneError:
            return name.strip().upper()

    def _named_pair(self, info: str, where: int | str) -> tuple[list[str], bool] | None:
        """Genes a fusion annotation names, and whether their order is 5'::3'."""
        for key in _FUSION_NAMES:
            value = info_value(info, key)
            if value:
                for one in value.split(","):
                    parts = [p for p in re.split(r"::|--|/|>", one) if p]
                    if len(parts) == 1 and one.count("-") == 1:
                        parts = one.split("-")
                    if len(parts) == 2:
                        return [self._resolve(p) for p in parts], True
                raise self._error(
                    f"cannot read the fusion {value!r}; expected two genes written 5'::3' "
                    "(EML4::ALK, EML4--ALK)",
                    where,
                    f"INFO/{key}",
                )
        for first, second in _GENE_PAIRS:
            a, b = info_value(info, first), info_value(info, second)
            if a and b:
                return [self._resolve(a), self._resolve(b)], False
        if self.annotation_key is None or self.annotation_gene is None:
            return None
        text = info_value(info, self.annotation_key)
        if not text or self.annotation_consequence is None:
            return None
        for entry in text.split(","):
            parts = entry.split("|")
            if len(parts) <= max(self.annotation_gene, self.annotation_consequence):
                continue
            terms = parts[self.annotation_consequence].split("&")
            if any(t in _FUSION_TERMS for t in terms):
                genes = [g for g in parts[self.annotation_gene].split("&") if g]
                if len(genes) == 2 and genes[0] != genes[1]:
                    return [self._resolve(g) for g in genes], False
        return None

    def _gene_at(self, chrom: str, pos: int) -> GeneInterval | None:
        assert self.build is not None
        genes = genes_overlapping(self.build, chrom, pos, pos)
        genes.sort(key=lambda g: g.symbol not in self.targets)
        return genes[0] if genes else None

    def _fusion(
        self,
        junctions: list[_Junction],
        named: tuple[list[str], bool] | None,
        where: int | str,
        extra: dict,
    ) -> Iterator[Alteration]:
        pairs: list[tuple[str, str, bool]] = []  # (five, three, oriented)
        unplaced: list[tuple[str, str]] = []  # (target gene, the other breakpoint)
        intragenic: list[str] = []
        if self.build is not None:
            for j in junctions:
                a, b = self._gene_at(j.chrom_a, j.pos_a), self._gene_at(j.chrom_b, j.pos_b)
                if a is not None and b is not None and a.symbol == b.symbol:
                    intragenic.append(a.symbol)
                elif a is not None and b is not None:
                    roles = (_role(a, j.keeps_left_a), _role(b, j.keeps_left_b))
                    if roles == ("5", "3"):
                        pairs.append((a.symbol, b.symbol, True))
                    elif roles == ("3", "5"):
                        pairs.append((b.symbol, a.symbol, True))
                    else:
                        pairs.append((a.symbol, b.symbol, False))
                elif a is not None or b is not None:
                    gene = a if a is not None else b
                    assert gene is not None
                    other = f"{j.chrom_b}:{j.pos_b}" if a is not None else f"{j.chrom_a}:{j.pos_a}"
                    unplaced.append((gene.symbol, other))
        if named is not None:
            genes, ordered = named
            oriented = [p for p in pairs if {p[0], p[1]} == set(genes) and p[2]]
            pairs = oriented[:1] if oriented else [(genes[0], genes[1], ordered)]
        elif self.build is None and junctions:
            self._warn(
                "a breakend cannot be placed on genes: the genome build is unknown and the "
                "record names no fusion (give build='GRCh37' or 'GRCh38', --build)",
                where,
                "ALT",
            )
            return
        relevant = [p for p in pairs if p[0] in self.targets or p[1] in self.targets]
        if relevant:
            # Prefer an oriented junction whose 3' partner is a target (the kinase side).
            relevant.sort(key=lambda p: (not p[2], p[1] not in self.targets))
            five, three, oriented = relevant[0]
            if not oriented and five in self.targets and three not in self.targets:
                five, three = three, five  # unknown order: the target gene written 3'
            gene = three if three in self.targets else five
            if frozenset((five, three)) in self._seen_fusions:
                return
            self._seen_fusions.add(frozenset((five, three)))
            try:
                yield parse_change(f"{five}::{three} fusion", gene=gene, kb=self.kb, **extra)
            except InputError as exc:
                raise exc.located(file=self.path, record=where, field="ALT") from None  # type: ignore[arg-type]
            return
        if pairs:
            return  # two genes, neither of interest
        targets = [u for u in unplaced if u[0] in self.targets]
        if targets:
            gene, other = targets[0]
            if frozenset((gene, "?")) in self._seen_fusions:
                return
            self._seen_fusions.add(frozenset((gene, "?")))
            self._warn(
                f"a breakpoint in {gene} is joined to {other}, which lies in no gene of the "
                f"gene table; reported as {gene} fusion with the partner unknown",
                where,
                "ALT",
            )
            yield parse_change("fusion", gene=gene, kb=self.kb, **extra)
            return
        inside = [g for g in intragenic if g in self.targets]
        if inside:
            self._warn(
                f"a rearrangement with both breakpoints inside {inside[0]} is not "
                "interpreted (not a fusion; the exons it removes or inverts are unknown here)",
                where,
                "ALT",
            )
