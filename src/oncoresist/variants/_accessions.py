"""Sequence accessions in HGVS names: which gene they belong to, and c. to p. where known.

Reports and variant callers qualify changes with the reference they are numbered on:
``NP_005219.2:p.Thr790Met``, ``NM_005228.5:c.2369C>T``, ``NM_005228.5(EGFR):c.2369C>T``,
``ENSP00000275493:p.T790M``. This module holds, as a fact list written for this project,
the RefSeq (MANE Select, plus other isoforms in use) and Ensembl accessions of the genes
the knowledge base names most, and the reference codons of the codons its assertions
name, so that a coding substitution at one of them becomes a protein change by the
standard genetic code. A version suffix (``.5``) is accepted whatever its number: residue
numbering does not change between versions of these references.

References
----------
Morales J et al. A joint NCBI and EMBL-EBI transcript set for clinical genomics and
research (MANE). Nature 2022;604:310-315. doi:10.1038/s41586-022-04558-8.
den Dunnen JT et al. HGVS recommendations for the description of sequence variants: 2016
update. Hum Mutat 2016;37:564-569. doi:10.1002/humu.22981.
"""

from __future__ import annotations

import re

from oncoresist.errors import InputError

# accession (without version) -> gene, for the references the knowledge base numbers on
ACCESSIONS: dict[str, str] = {}
for _gene, _names in {
    "ABL1": "NM_005157 NP_005148 ENST00000318560 ENSP00000323315",
    "AKT1": "NM_005163 NP_005154",
    "ALK": "NM_004304 NP_004295 ENST00000389048 ENSP00000373700",
    "AR": "NM_000044 NP_000035 ENST00000374690 ENSP00000363822",
    "ATM": "NM_000051 NP_000042",
    "BRAF": "NM_004333 NP_004324 ENST00000288602 ENSP00000288602 ENST00000646891 ENSP00000493543",
    "BRCA1": "NM_007294 NP_009225",
    "BRCA2": "NM_000059 NP_000050",
    "BTK": "NM_000061 NP_000052",
    "CALR": "NM_004343 NP_004334",
    "EGFR": "NM_005228 NP_005219 ENST00000275493 ENSP00000275493",
    "ERBB2": "NM_004448 NP_004439 ENST00000269571 ENSP00000269571",
    "ESR1": "NM_000125 NP_000116 ENST00000206249 ENSP00000206249",
    "EZH2": "NM_004456 NP_004447",
    "FGFR2": "NM_000141 NP_000132 NM_022970 NP_075259",
    "FGFR3": "NM_000142 NP_000133",
    "FLT3": "NM_004119 NP_004110",
    "IDH1": "NM_005896 NP_005887",
    "IDH2": "NM_002168 NP_002159",
    "JAK2": "NM_004972 NP_004963",
    "KIT": "NM_000222 NP_000213 ENST00000288135 ENSP00000288135",
    "KRAS": "NM_004985 NP_004976 NM_033360 NP_203524",
    "MAP2K1": "NM_002755 NP_002746",
    "MET": "NM_000245 NP_000236",
    "NRAS": "NM_002524 NP_002515 ENST00000369535 ENSP00000358548",
    "PDGFRA": "NM_006206 NP_006197",
    "PIK3CA": "NM_006218 NP_006209 ENST00000263967 ENSP00000263967",
    "PTEN": "NM_000314 NP_000305 ENST00000371953 ENSP00000361021",
    "RB1": "NM_000321 NP_000312",
    "RET": "NM_020975 NP_066124",
    "ROS1": "NM_002944 NP_002935",
    "STK11": "NM_000455 NP_000446",
    "TP53": "NM_000546 NP_000537 ENST00000269305 ENSP00000269305",
    "VHL": "NM_000551 NP_000542",
}.items():
    for _name in _names.split():
        ACCESSIONS[_name] = _gene

# Known references of a gene whose residue numbers differ from the knowledge base's.
OTHER_NUMBERING: dict[str, tuple[str, str]] = {
    "NM_001127500": ("MET", "the 1408-residue MET isoform, 18 residues longer than NP_000236 "
                            "(D1246 there is D1228 here)"),
    "NP_001120972": ("MET", "the 1408-residue MET isoform, 18 residues longer than NP_000236 "
                            "(D1246 there is D1228 here)"),
}  # fmt: skip

# Reference codons (coding strand) at codons the knowledge base names, by transcript
# numbering of the gene's MANE Select transcript.
REFERENCE_CODONS: dict[str, dict[int, str]] = {
    "EGFR": {718: "CTG", 719: "GGC", 724: "GGC", 768: "AGC", 790: "ACG", 797: "TGC",
             858: "CTG", 861: "CTG"},
    "KRAS": {12: "GGT", 13: "GGC", 61: "CAA"},
    "NRAS": {12: "GGT", 61: "CAA"},
    "BRAF": {600: "GTG"},
    "PIK3CA": {542: "GAA", 545: "GAG", 1047: "CAT"},
    "ESR1": {537: "TAC", 538: "GAT"},
    "ABL1": {315: "ACT"},
    "KIT": {816: "GAC"},
    "PDGFRA": {842: "GAC"},
    "FLT3": {835: "GAT"},
    "IDH1": {132: "CGT"},
    "IDH2": {140: "CGG", 172: "AGG"},
}  # fmt: skip

_BASES = "TCAG"
_AMINO = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
GENETIC_CODE = {
    a + b + c: _AMINO[16 * i + 4 * j + k]
    for i, a in enumerate(_BASES)
    for j, b in enumerate(_BASES)
    for k, c in enumerate(_BASES)
}

#: an accession-qualified HGVS name: ``[GENE ]ACCESSION[(GENE)]:c.|p.|g.CHANGE``
HGVS = re.compile(
    r"^(?:(?P<gene>[A-Za-z][A-Za-z0-9-]*)[\s:]+)?"
    r"(?P<accession>(?:NM|NP|XM|XP|NC)_\d+|ENS[TP]\d{11})(?:\.(?P<version>\d+))?"
    r"(?:\((?P<gene2>[A-Za-z][A-Za-z0-9-]*)\))?"
    r":(?P<type>[cpg])\.(?P<change>\S.*)$"
)
_SUBSTITUTION = re.compile(r"^(\d+)([ACGT])>([ACGT])$")
PROTEIN_IN_PARENS = re.compile(r"^(?P<coding>\S+)\s*\(\s*(?P<protein>p\.\S+?)\s*\)$")


def accession_gene(accession: str) -> str | None:
    """The gene of a RefSeq or Ensembl accession (version ignored), if this list has it."""
    return ACCESSIONS.get(accession.split(".")[0])


def check_numbering(accession: str) -> None:
    """Refuse a reference whose residue numbers differ from the knowledge base's.

    Raises
    ------
    InputError
        For a known isoform numbered otherwise (MET's 1408-residue isoform).
    """
    base = accession.split(".")[0]
    if base in OTHER_NUMBERING:
        gene, what = OTHER_NUMBERING[base]
        raise InputError(
            f"{accession} numbers residues on {what}; the knowledge base numbers {gene} on "
            f"{next(a for a, g in ACCESSIONS.items() if g == gene and a.startswith('NP_'))}: "
            "give the change on that reference",
            field="alteration",
        )


def coding_to_protein(gene: str, accession: str, change: str) -> str:
    """The one-letter protein change of a coding substitution (``2369C>T`` -> ``T790M``).

    Parameters
    ----------
    gene
        HGNC symbol the transcript belongs to.
    accession
        The transcript, for messages.
    change
        The part after ``c.``: a single-base substitution within the coding sequence.

    Raises
    ------
    InputError
        For another kind of coding change (intronic, deletion, insertion), a codon whose
        reference this project does not hold, or a reference base that differs from the
        transcript's.
    """
    m = _SUBSTITUTION.match(change.strip())
    if not m:
        raise InputError(
            f"{accession}:c.{change}: only coding substitutions at codons the knowledge "
            "base names (c.2369C>T) can be turned into a protein change here; give the "
            "protein change (p.Thr790Met) instead",
            field="alteration",
        )
    position, ref, alt = int(m.group(1)), m.group(2), m.group(3)
    codon, offset = (position + 2) // 3, (position - 1) % 3
    reference = REFERENCE_CODONS.get(gene, {}).get(codon)
    if reference is None:
        raise InputError(
            f"{accession}:c.{change} is in {gene} codon {codon}, whose reference sequence "
            "this project does not hold; give the protein change (p.) instead",
            field="alteration",
        )
    if reference[offset] != ref:
        raise InputError(
            f"{accession}:c.{change}: c.{position} is {reference[offset]} on {gene}'s "
            f"reference (codon {codon} is {reference}), not {ref}; check the transcript and "
            "the change",
            field="alteration",
        )
    mutated = reference[:offset] + alt + reference[offset + 1 :]
    before, after = GENETIC_CODE[reference], GENETIC_CODE[mutated]
    return f"{before}{codon}{'=' if after == before else after}"


# RefSeq chromosome accessions: version on GRCh38 (GRCh37's is one lower for each).
_NC_GRCH38 = {1: 11, 2: 12, 3: 12, 4: 12, 5: 10, 6: 12, 7: 14, 8: 11, 9: 12, 10: 11, 11: 10,
              12: 12, 13: 11, 14: 9, 15: 10, 16: 10, 17: 11, 18: 10, 19: 10, 20: 11, 21: 9,
              22: 11, 23: 11, 24: 10}  # fmt: skip
_GENOMIC = re.compile(r"^(\d+)([ACGT])>([ACGT])$")


def genomic_site(
    accession: str, version: str | None, change: str
) -> tuple[str, str, int, str, str]:
    """Build, chromosome, position, reference and alternate base of ``NC_...:g.N X>Y``.

    Raises
    ------
    InputError
        For a chromosome accession without a version or of an unknown version, or a
        genomic change other than a single-base substitution.
    """
    number = int(accession[3:])
    if number not in _NC_GRCH38 or version is None:
        raise InputError(
            f"{accession}{'.' + version if version else ''}: expected a chromosome "
            "accession with its version (NC_000007.14 for chromosome 7 on GRCh38, "
            "NC_000007.13 on GRCh37)",
            field="alteration",
        )
    builds = {_NC_GRCH38[number]: "GRCh38", _NC_GRCH38[number] - 1: "GRCh37"}
    build = builds.get(int(version))
    if build is None:
        raise InputError(
            f"{accession}.{version} is neither GRCh37 ({accession}.{_NC_GRCH38[number] - 1}) "
            f"nor GRCh38 ({accession}.{_NC_GRCH38[number]})",
            field="alteration",
        )
    m = _GENOMIC.match(change.strip())
    if not m:
        raise InputError(
            f"{accession}.{version}:g.{change}: only single-base substitutions (g.55181378C>T) "
            "are looked up; give the protein change (GENE p.Thr790Met) instead",
            field="alteration",
        )
    chrom = {23: "X", 24: "Y"}.get(number, str(number))
    return build, chrom, int(m.group(1)), m.group(2), m.group(3)
