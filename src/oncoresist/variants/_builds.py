"""Genome builds: contig lengths of GRCh37 and GRCh38, and inferring a file's build.

Lengths are those of the primary assembly (chromosomes 1-22, X, Y and the mitochondrion).
hg19 names the same sequences ``chr1`` ... ``chrM`` with the same lengths, except that its
``chrM`` is the older Yoruba sequence of 16571 bases; the mitochondrion is therefore not
used to tell the builds apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from oncoresist.errors import InputError

BUILDS = ("GRCh37", "GRCh38")

CONTIG_LENGTHS: dict[str, dict[str, int]] = {
    "GRCh37": {
        "1": 249250621, "2": 243199373, "3": 198022430, "4": 191154276, "5": 180915260,
        "6": 171115067, "7": 159138663, "8": 146364022, "9": 141213431, "10": 135534747,
        "11": 135006516, "12": 133851895, "13": 115169878, "14": 107349540, "15": 102531392,
        "16": 90354753, "17": 81195210, "18": 78077248, "19": 59128983, "20": 63025520,
        "21": 48129895, "22": 51304566, "X": 155270560, "Y": 59373566, "MT": 16569,
    },
    "GRCh38": {
        "1": 248956422, "2": 242193529, "3": 198295559, "4": 190214555, "5": 181538259,
        "6": 170805979, "7": 159345973, "8": 145138636, "9": 138394717, "10": 133797422,
        "11": 135086622, "12": 133275309, "13": 114364328, "14": 107043718, "15": 101991189,
        "16": 90338345, "17": 83257441, "18": 80373285, "19": 58617616, "20": 64444167,
        "21": 46709983, "22": 50818468, "X": 156040895, "Y": 57227415, "MT": 16569,
    },
}  # fmt: skip

#: Contigs whose length tells the builds apart (every one but the mitochondrion).
PRIMARY = frozenset(c for c in CONTIG_LENGTHS["GRCh37"] if c != "MT")

_BUILD_ALIASES = {
    "grch37": "GRCh37", "hg19": "GRCh37", "b37": "GRCh37", "37": "GRCh37",
    "grch38": "GRCh38", "hg38": "GRCh38", "b38": "GRCh38", "38": "GRCh38",
}  # fmt: skip
_REFERENCE_TOKENS = [
    (re.compile(r"grch37|hg19|hs37d5|g1k_v37|\bb37\b|_b37|b37_|ncbi37|37\.p\d+"), "GRCh37"),
    (re.compile(r"grch38|hg38|hs38|gca_000001405\.15|\bb38\b|_b38|b38_|38\.p\d+"), "GRCh38"),
]


def normalise_build(
    value: str, *, file: object = None, record: int | str | None = None, field_name: str = "build"
) -> str:
    """Return ``GRCh37`` or ``GRCh38`` for a build name (``hg19``, ``37``, ``grch38`` ...).

    Raises
    ------
    InputError
        For any other name.
    """
    build = _BUILD_ALIASES.get(str(value).strip().lower())
    if build is None:
        raise InputError(
            f"unknown genome build {value!r}; expected GRCh37 (hg19) or GRCh38 (hg38)",
            file=file,  # type: ignore[arg-type]
            record=record,
            field=field_name,
        )
    return build


def normalise_chrom(name: str) -> str:
    """Chromosome name without ``chr`` prefix, the mitochondrion as ``MT`` (``chrM`` -> ``MT``)."""
    chrom = name[3:] if name[:3].lower() == "chr" else name
    return "MT" if chrom in ("M", "MT") else chrom


def builds_named_in(text: str) -> set[str]:
    """Builds a free-text reference name points to (``/ref/hs37d5.fa`` -> ``{'GRCh37'}``)."""
    lowered = text.lower()
    return {build for pattern, build in _REFERENCE_TOKENS if pattern.search(lowered)}


@dataclass
class BuildEvidence:
    """What a header says about its genome build.

    Attributes
    ----------
    contigs
        ``(line, name, length)`` of each primary contig whose length the header gives.
    reference
        ``(line, text, builds)`` of ``##reference`` and ``assembly=`` statements that name
        exactly one build.
    """

    contigs: list[tuple[int, str, int]] = field(default_factory=list)
    reference: list[tuple[int, str, str]] = field(default_factory=list)

    def add_contig(self, line: int, name: str, length: int | None, assembly: str | None) -> None:
        """Record a ``##contig`` line."""
        chrom = normalise_chrom(name)
        if length is not None and chrom in PRIMARY:
            self.contigs.append((line, name, length))
        if assembly:
            self.add_reference(line, f"assembly={assembly}")

    def add_reference(self, line: int, text: str) -> None:
        """Record a ``##reference`` (or ``assembly=``) statement."""
        builds = builds_named_in(text)
        if len(builds) == 1:
            self.reference.append((line, text, next(iter(builds))))

    def contig_builds(self) -> dict[str, list[tuple[int, str, int]]]:
        """Contigs grouped by the build their length belongs to (``other`` for neither)."""
        groups: dict[str, list[tuple[int, str, int]]] = {}
        for line, name, length in self.contigs:
            chrom = normalise_chrom(name)
            owner = next((b for b in BUILDS if CONTIG_LENGTHS[b][chrom] == length), "other")
            groups.setdefault(owner, []).append((line, name, length))
        return groups


def _describe(groups: dict[str, list[tuple[int, str, int]]]) -> str:
    if len(groups) == 1 and "other" in groups:
        return "neither GRCh37 nor GRCh38 (another assembly, such as T2T-CHM13?)"
    named = [b for b in BUILDS if b in groups]
    return " and ".join(named) + (" (mixed)" if len(named) > 1 else "")


def resolve_build(
    declared: str | None,
    evidence: BuildEvidence,
    *,
    file: object,
) -> str | None:
    """Check a declared build against the header, or infer it; ``None`` if unknowable.

    Contig lengths are decisive; a ``##reference`` line is used when no contig length is
    given.

    Raises
    ------
    InputError
        When the declared build disagrees with the header's contig lengths or reference,
        or when the header's contigs belong to different builds or to neither build.
    """
    groups = evidence.contig_builds()
    refs = {build for _, _, build in evidence.reference}
    if declared is not None:
        declared = normalise_build(declared, file=file)
        wrong = [c for b, items in groups.items() if b != declared for c in items]
        if wrong:
            line, name, length = wrong[0]
            others = {b: v for b, v in groups.items() if b != declared}
            raise InputError(
                f"build {declared} was given, but contig {name} is {length:,} bases long, "
                f"not {CONTIG_LENGTHS[declared][normalise_chrom(name)]:,}: the ##contig "
                f"lengths are those of {_describe(others)}; give the file's real build",
                file=file,  # type: ignore[arg-type]
                record=line,
                field="##contig",
            )
        if not groups and refs and declared not in refs:
            line, text, build = evidence.reference[0]
            raise InputError(
                f"build {declared} was given, but the header names {build} ({text}); give "
                f"the file's real build, or correct the header if it is wrong",
                file=file,  # type: ignore[arg-type]
                record=line,
                field="##reference",
            )
        return declared
    if groups:
        if len(groups) > 1 or "other" in groups:
            line, name, length = (groups.get("other") or evidence.contigs)[0]
            raise InputError(
                f"cannot tell the genome build: the ##contig lengths are those of "
                f"{_describe(groups)} (contig {name} is {length:,} bases long); "
                "expected the contigs of GRCh37 or GRCh38",
                file=file,  # type: ignore[arg-type]
                record=line,
                field="##contig",
            )
        return next(iter(groups))
    if len(refs) == 1:
        return next(iter(refs))
    if len(refs) > 1:
        raise InputError(
            "cannot tell the genome build: the header names both GRCh37 and GRCh38; "
            "give build='GRCh37' or 'GRCh38' (--build)",
            file=file,  # type: ignore[arg-type]
            record=evidence.reference[0][0],
            field="##reference",
        )
    return None


def looks_like(kb_coordinates: dict, chrom: str, pos: int, ref: str, not_build: str) -> str:
    """Say which build a REF disagreeing with ``not_build`` at a knowledge-base site fits."""
    for build in BUILDS:
        if build == not_build:
            continue
        for (c, p, r, _), _target in kb_coordinates.get(build, {}).items():
            if c == chrom and p == pos and (r.startswith(ref) or ref.startswith(r)):
                return f"the file looks like {build}"
    others = [b for b in BUILDS if b != not_build]
    return f"the file is not on {not_build} (perhaps {' or '.join(others)})"
