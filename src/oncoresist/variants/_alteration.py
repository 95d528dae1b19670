"""The one ``Alteration`` record every reader produces and every analysis consumes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AlterationKind = Literal[
    "point",  # single amino-acid change (missense, nonsense), or a codon/any-change pattern
    "indel",  # in-frame deletion, insertion, duplication, delins, frameshift, ITD
    "exon",  # exon-level event written without the exact change (exon 19 deletion)
    "mutation",  # any sequence change of the gene ("KRAS mutation")
    "amplification",
    "loss",  # deletion, loss of function, truncation
    "fusion",
    "expression",
    "phenotype",  # histologic transformation, EMT, TMB-high, MSI-high
]

VariantType = Literal[
    "missense",
    "nonsense",
    "frameshift",
    "deletion",
    "insertion",
    "duplication",
    "delins",
    "itd",
    "synonymous",
    "codon",  # a codon with any change (V600, G719X)
    "other",
]


class Alteration(BaseModel):
    """One molecular alteration of a tumour, normalised.

    Attributes
    ----------
    gene
        HGNC symbol (aliases resolved: HER2 -> ERBB2); ``None`` for phenotypes.
    kind
        See :data:`AlterationKind`.
    change
        Normalised change: one-letter protein change (``T790M``, ``E746_A750del``,
        ``R1362*``, ``W2288fs``), or a word form (``amplification``, ``loss``,
        ``exon 19 deletion``, ``exon 14 skipping``, ``ITD``, ``fusion``,
        ``EML4::ALK``, ``transformation:SCLC``).
    variant_type
        For protein changes, the kind of change (missense, nonsense, frameshift, ...).
    position, end_position
        First and last codon touched (1-based amino-acid positions).
    ref_aa, alt_aa
        Reference and alternative amino acids (one letter; ``*`` for stop, ``X`` for any).
    exon
        Exon number, when written (exon-level events) or inferred from the codon.
    partner
        The other gene of a fusion (5' partner when the gene is the 3' kinase).
    chrom, pos, ref, alt, build
        Genomic coordinates when known (VCF), with the genome build.
    vaf
        Variant allele fraction in [0, 1]; ``None`` when unknown (never 0 for unknown).
    depth
        Read depth at the site (reads); ``None`` when unknown.
    alt_reads
        Reads supporting the alternative allele; ``None`` when unknown.
    sample
        Sample identifier the alteration was observed in.
    phase_set
        Identifier of the phase set (VCF ``PS``); alterations with the same gene and the
        same phase set and the same haplotype are in cis.
    haplotype
        Which haplotype of the phase set carries the alteration (0 or 1), when phased.
    source
        Where the record came from (``file:line`` or ``text``).
    """

    model_config = ConfigDict(frozen=True)

    gene: str | None
    kind: AlterationKind
    change: str
    variant_type: VariantType | None = None
    position: int | None = None
    end_position: int | None = None
    ref_aa: str | None = None
    alt_aa: str | None = None
    inserted: str | None = None
    exon: int | None = None
    partner: str | None = None
    chrom: str | None = None
    pos: int | None = None
    ref: str | None = None
    alt: str | None = None
    build: Literal["GRCh37", "GRCh38"] | None = None
    vaf: float | None = Field(default=None, ge=0.0, le=1.0)
    depth: int | None = Field(default=None, ge=0)
    alt_reads: int | None = Field(default=None, ge=0)
    sample: str | None = None
    phase_set: str | None = None
    haplotype: int | None = None
    source: str | None = None

    @property
    def label(self) -> str:
        """``GENE change`` as people write it (``EGFR T790M``, ``EML4::ALK``)."""
        if self.gene is None:
            return self.change
        if self.kind == "fusion" and "::" in self.change:
            return self.change
        return f"{self.gene} {self.change}"

    @property
    def key(self) -> str:
        """Identity of the alteration regardless of sample or read counts."""
        return self.label

    def __str__(self) -> str:
        return self.label
