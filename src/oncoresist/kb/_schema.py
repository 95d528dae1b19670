"""Pydantic models of the knowledge base's data files.

The files under ``kb/data`` are written by people and read by this schema: unknown keys are
rejected (a typo must not silently drop a fact), evidence levels follow CIViC (A validated,
B clinical, C case study, D preclinical, E inferential), and every assertion carries at least
one reference: a PMID or a named guideline or drug label.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Effect = Literal["resistant", "reduced_response", "sensitive"]
MechanismClass = Literal["on_target", "bypass", "downstream", "phenotypic", "microenvironment"]
EvidenceLevel = Literal["A", "B", "C", "D", "E"]
Phase = Literal["cis", "trans", "any"]
Build = Literal["GRCh37", "GRCh38"]

EVIDENCE_RANK: dict[str, int] = {"A": 5, "B": 4, "C": 3, "D": 2, "E": 1}
EVIDENCE_MEANING: dict[str, str] = {
    "A": "validated: guideline, approval label or practice-changing trial",
    "B": "clinical: trials or large clinical series",
    "C": "case study: case reports or small series",
    "D": "preclinical: cell lines, xenografts, biochemistry",
    "E": "inferential: indirect evidence or mechanistic reasoning",
}

# A reference is a PMID, a DOI, or a named guideline, label or meeting abstract.
REFERENCE_PATTERN = re.compile(
    r"^(PMID:\d{6,9}|DOI:10\.\S+|"
    r"(NCCN|ESMO|ELN|ASCO|FDA|EMA|CAP|WHO|IASLC|AACR|ESMO/ASCO|ASCO/CAP)\b.+)$"
)
COORDINATE_PATTERN = re.compile(r"^(?:chr)?([0-9]{1,2}|X|Y|MT?):(\d+):([ACGT]+)>([ACGT]+)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class DrugClass(_Strict):
    """A named group of drugs, e.g. first-generation EGFR TKIs; may nest in a parent."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    parent: str | None = None


class Drug(_Strict):
    """One drug under its generic name, with synonyms, brand and code names."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9 \-]*$")
    synonyms: list[str] = []
    classes: list[str] = []
    targets: list[str] = []
    generation: int | None = None
    modality: Literal[
        "small_molecule", "antibody", "antibody_drug_conjugate", "chemotherapy", "other"
    ] = "small_molecule"
    approved: bool = True
    note: str | None = None


class Combination(_Strict):
    """A named drug combination; its members must be drugs of the knowledge base."""

    drugs: list[str] = Field(min_length=2)
    synonyms: list[str] = []
    note: str | None = None


class DrugFile(_Strict):
    """One file of ``kb/data/drugs``: a drug family with its classes and combinations."""

    family: str
    classes: list[DrugClass] = []
    drugs: list[Drug] = []
    combinations: list[Combination] = []


class Gene(_Strict):
    """A gene: HGNC symbol, aliases, role, exon codon ranges and driver alterations."""

    symbol: str = Field(pattern=r"^[A-Z0-9][A-Z0-9\-]*$")
    aliases: list[str] = []
    name: str
    chromosome: str | None = None
    role: Literal["oncogene", "tumour_suppressor", "both", "other"] = "oncogene"
    exons: dict[int, tuple[int, int]] = Field(
        default_factory=dict, description="exon number -> (first codon, last codon)"
    )
    drivers: list[str] = Field(
        default_factory=list,
        description="alterations that make this gene the tumour's primary driver",
    )
    driver_rank: int = Field(
        default=3,
        ge=1,
        le=9,
        description=(
            "when several genes carry driver alterations, the lowest rank is the primary "
            "driver (EGFR 1 beats an acquired MET amplification at 5)"
        ),
    )

    @field_validator("exons")
    @classmethod
    def _ordered(cls, value: dict[int, tuple[int, int]]) -> dict[int, tuple[int, int]]:
        for exon, (first, last) in value.items():
            if first > last:
                raise ValueError(f"exon {exon}: first codon {first} after last codon {last}")
        return value


class Coordinate(_Strict):
    """Genomic coordinates of one point alteration on both builds (either may be absent)."""

    alteration: str
    GRCh37: str | None = None
    GRCh38: str | None = None

    @field_validator("GRCh37", "GRCh38")
    @classmethod
    def _format(cls, value: str | None) -> str | None:
        if value is not None and not COORDINATE_PATTERN.match(value):
            raise ValueError(f"{value!r} is not CHROM:POS:REF>ALT (e.g. 7:55249071:C>T)")
        return value

    @model_validator(mode="after")
    def _same_alleles(self) -> Coordinate:
        if self.GRCh37 and self.GRCh38:
            m37 = COORDINATE_PATTERN.match(self.GRCh37)
            m38 = COORDINATE_PATTERN.match(self.GRCh38)
            assert m37 is not None and m38 is not None  # checked above
            if m37.group(1) != m38.group(1) or m37.groups()[2:] != m38.groups()[2:]:
                raise ValueError(
                    "GRCh37 and GRCh38 must give the same chromosome and alleles "
                    f"({self.GRCh37} vs {self.GRCh38})"
                )
        return self


class Assertion(_Strict):
    """One cited statement: this biomarker changes the response to these drugs.

    ``biomarker`` is an alteration as people write it (``T790M``, ``exon 19 deletion``,
    ``amplification``, ``MET amplification``); a list is a compound biomarker whose members
    must all be present, in the given ``phase``. ``drugs`` holds generic names, synonyms,
    ``class:<id>`` references and combinations written ``a + b``; ``except`` removes drugs
    from the expanded set. ``driver`` restricts the assertion to tumours whose primary
    driver is an alteration of that gene (bypass mechanisms). ``preferred`` names the drugs
    among them that guidelines prefer, which ranks them first among equal options.
    """

    id: str | None = None
    biomarker: str | list[str]
    phase: Phase = "any"
    drugs: list[str] = Field(min_length=1)
    except_: list[str] = Field(default_factory=list, alias="except")
    effect: Effect
    mechanism: MechanismClass | None = None
    disease: str = "any"
    driver: str | None = None
    evidence: EvidenceLevel
    references: list[str] = Field(min_length=1)
    summary: str
    preferred: list[str] = Field(
        default_factory=list,
        description="drugs of this assertion that guidelines prefer in this setting",
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("references")
    @classmethod
    def _references(cls, value: list[str]) -> list[str]:
        for ref in value:
            if not REFERENCE_PATTERN.match(ref):
                raise ValueError(
                    f"reference {ref!r} is neither PMID:<digits>, DOI:10.… nor a named "
                    "guideline or label (NCCN …, ESMO …, ELN …, FDA label …)"
                )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Assertion:
        if self.effect != "sensitive" and self.mechanism is None:
            raise ValueError("a resistant or reduced_response assertion needs a mechanism class")
        if isinstance(self.biomarker, list):
            if len(self.biomarker) < 2:
                raise ValueError("a compound biomarker lists at least two alterations")
        elif self.phase != "any":
            raise ValueError("phase applies only to compound biomarkers (a list)")
        return self

    @property
    def members(self) -> list[str]:
        """The biomarker's alterations as a list (one for a simple biomarker)."""
        return list(self.biomarker) if isinstance(self.biomarker, list) else [self.biomarker]


class GeneFile(_Strict):
    """One file of ``kb/data/genes``: genes, their coordinates and their assertions."""

    genes: list[Gene] = []
    coordinates: list[Coordinate] = []
    assertions: list[Assertion] = []


class Disease(_Strict):
    """A disease with OncoTree codes, synonyms and a parent for context matching."""

    id: str
    name: str
    oncotree: list[str] = []
    synonyms: list[str] = []
    parent: str | None = None


class DiseaseFile(_Strict):
    """``kb/data/diseases.yaml``."""

    diseases: list[Disease]
