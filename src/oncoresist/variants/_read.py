"""Read any variant file: tell VCF, MAF and alteration tables apart by their content."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from oncoresist._progress import ProgressCallback
from oncoresist.errors import InputError
from oncoresist.kb import KnowledgeBase
from oncoresist.variants._alteration import Alteration
from oncoresist.variants._cbioportal import read_cbioportal_cna, read_cbioportal_sv
from oncoresist.variants._copynumber import CopyNumberThresholds
from oncoresist.variants._maf import read_maf
from oncoresist.variants._sniff import PathLike, check_exists, sniff
from oncoresist.variants._table import read_table
from oncoresist.variants._vcf import read_vcf

# What a file's name claims, and the contents that fit the claim.
_CLAIMS = {
    ".vcf": ("VCF", {"vcf", "bcf"}),
    ".bcf": ("BCF", {"vcf", "bcf"}),
    ".maf": ("MAF", {"maf"}),
    ".csv": ("CSV table", {"table", "unknown"}),
    ".parquet": ("Parquet table", {"parquet"}),
    ".pq": ("Parquet table", {"parquet"}),
}
_COMPRESSED = (".gz", ".bgz", ".gzip")


def _claim(path: Path) -> tuple[str, str, set[str]] | None:
    suffixes = [s.lower() for s in path.suffixes]
    while suffixes and suffixes[-1] in _COMPRESSED:
        suffixes.pop()
    for suffix in reversed(suffixes[-2:]):  # x.maf.txt claims MAF
        if suffix in _CLAIMS:
            name, fits = _CLAIMS[suffix]
            return suffix, name, fits
    return None


def read_variants(
    path: PathLike,
    *,
    build: str | None = None,
    sample: str | None = None,
    kb: KnowledgeBase | None = None,
    progress: ProgressCallback | None = None,
    copy_number: CopyNumberThresholds | None = None,
) -> Iterator[Alteration]:
    """Read a VCF, MAF, cBioPortal file or alteration table, whichever the content is.

    The content decides, not the name; a name that claims another format (a MAF named
    ``.vcf``) is an error that says what the file looks like, as it usually means the
    wrong file was given.

    Parameters
    ----------
    path
        VCF (plain, bgzipped or BCF), MAF (plain or gzipped), cBioPortal discrete
        copy-number (``data_cna.txt``) or structural-variant (``data_sv.txt``) file,
        CSV/TSV table (plain or gzipped) or Parquet table.
    build
        Genome build of a VCF (see :func:`read_vcf`); ignored for MAF (``NCBI_Build``)
        and tables.
    sample
        Sample of a VCF, MAF or cBioPortal file to read (``None``: a VCF's tumour
        sample, every sample of the others); ignored for tables, whose rows name theirs.
    kb
        Knowledge base (the shipped one by default).
    progress
        For a VCF, called with the number of records read (see :func:`read_vcf`).
    copy_number
        For a VCF, when a copy number is an amplification or a deep deletion (see
        :class:`CopyNumberThresholds`).

    Raises
    ------
    InputError
        When the content is none of these formats, or does not fit the file's name.
    """
    file = check_exists(path)
    found = sniff(file)
    claim = _claim(file)
    if claim is not None and found.kind not in claim[2]:
        suffix, name, _ = claim
        raise InputError(
            f"the name ends in {suffix}, which means a {name}, but the content looks like "
            f"{found.description} ({found.detail}); check that this is the file you meant, "
            "and rename it to match its content",
            file=path,
            record=found.line,
            field="format",
        )
    if found.kind in ("vcf", "bcf"):
        return read_vcf(
            path, build=build, sample=sample, kb=kb, progress=progress, copy_number=copy_number
        )
    if found.kind == "maf":
        return read_maf(path, sample=sample, kb=kb)
    if found.kind == "cna":
        return read_cbioportal_cna(path, sample=sample, kb=kb)
    if found.kind == "sv":
        return read_cbioportal_sv(path, sample=sample, kb=kb)
    if found.kind in ("table", "parquet") or (found.kind == "unknown" and claim is not None):
        return read_table(path, kb=kb)
    raise InputError(
        f"cannot tell the format: the content looks like {found.description} "
        f"({found.detail}); expected a VCF, a MAF, a cBioPortal data_cna.txt or data_sv.txt, "
        "a CSV/TSV table with gene and alteration columns, or a Parquet table",
        file=path,
        record=found.line,
        field="format",
    )
