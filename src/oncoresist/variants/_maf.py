"""Read the knowledge-base-relevant alterations of a MAF (mutation annotation format).

A MAF is tab-separated with one header line after optional ``#`` comment lines
(``#version 2.4``). Rows are streamed; only rows of knowledge-base genes that change the
protein are parsed.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from oncoresist.errors import InputError
from oncoresist.kb import KnowledgeBase, load_kb
from oncoresist.variants._alteration import Alteration
from oncoresist.variants._builds import normalise_build, normalise_chrom
from oncoresist.variants._genes import looks_spreadsheet_mangled
from oncoresist.variants._parse import exon_of, parse_change
from oncoresist.variants._sniff import PathLike, check_exists, iter_lines, sniff

#: Variant classifications that do not change the protein; such rows are skipped.
NOT_PROTEIN_CHANGING = frozenset(
    {
        "silent", "intron", "3'utr", "5'utr", "3'flank", "5'flank", "igr", "rna", "lincrna",
        "targeted_region", "splice_region", "unknown",
    }
)  # fmt: skip
_SYNONYMOUS = object()  # a change that names no alteration: skip the row
_SPLICE_CODON = re.compile(r"^p\.[A-Z*]?(\d+)_splice$", re.IGNORECASE)


def _column(index: dict[str, int], *names: str) -> int | None:
    return next((index[n.lower()] for n in names if n.lower() in index), None)


def _count(
    text: str, path: PathLike, line: int, field: str, *, allow_float: bool = False
) -> int | None:
    text = text.strip()
    if text in ("", ".", "NA", "N/A", "NaN", "nan", "None"):
        return None
    try:
        value = int(text)
    except ValueError:
        value = None
        if allow_float:
            with contextlib.suppress(ValueError):
                number = float(text)
                if number.is_integer():
                    value = int(number)
        if value is None:
            raise InputError(
                f"{text!r} is not a whole number; expected a read count",
                file=path,
                record=line,
                field=field,
            ) from None
    if value < 0:
        raise InputError(
            f"negative read count {value}; expected a count >= 0",
            file=path,
            record=line,
            field=field,
        )
    return value


def read_maf(
    path: PathLike,
    *,
    sample: str | None = None,
    kb: KnowledgeBase | None = None,
) -> Iterator[Alteration]:
    """Read the knowledge-base-relevant alterations of a MAF file (plain or gzipped).

    Parameters
    ----------
    path
        The MAF: tab-separated, ``#`` comment lines allowed before the header.
    sample
        Keep only rows whose ``Tumor_Sample_Barcode`` is this; all rows by default.
    kb
        Knowledge base (the shipped one by default).

    Yields
    ------
    Alteration
        For each row of a knowledge-base gene whose ``HGVSp_Short`` (or ``HGVSp``) is a
        protein change (or whose coordinates are a knowledge-base coordinate of its
        ``NCBI_Build``), with ``vaf`` = ``t_alt_count / t_depth`` (or ``/ (t_ref_count +
        t_alt_count)``), ``depth``, ``alt_reads``, ``sample`` and ``source`` (``file:line``).
        Rows that do not change the protein (``Silent``, ``Intron``, UTR, flanks ...), of
        genes outside the knowledge base, or with a synonymous change are skipped. A MET
        splice-site row at exon 14 is reported as ``MET exon 14 skipping``.

    Raises
    ------
    InputError
        Naming the file, line and column: missing ``Hugo_Symbol`` or protein-change
        column, a gene name a spreadsheet turned into a date (``2-Sep``), bad read counts
        (negative, not whole, more alternative reads than depth), short rows, a sample
        that is not in the file, a file that is not a MAF.
    """
    kb = kb or load_kb()
    file = check_exists(path)
    found = sniff(file)
    if found.kind != "maf":
        raise InputError(
            f"this file looks like {found.description} ({found.detail}), not a MAF (a "
            "tab-separated file with Hugo_Symbol, Variant_Classification, HGVSp_Short ... "
            "columns); read it with read_variants, which tells the formats apart",
            file=path,
            record=found.line,
            field="format",
        )
    return _read_maf(path, sample, kb)


def _read_maf(path: PathLike, sample: str | None, kb: KnowledgeBase) -> Iterator[Alteration]:
    header: list[str] | None = None
    samples_seen: set[str] = set()
    cols: dict[str, int | None] = {}
    header_line = 0
    with contextlib.closing(iter_lines(path)) as lines:
        for number, text in lines:
            if header is None:
                if text.startswith("#") or not text.strip():
                    continue
                header = [c.strip() for c in text.split("\t")]
                header_line = number
                cols = _columns(header, path, number)
                continue
            if not text.strip():
                continue
            row = text.split("\t")
            if len(row) < len(header):
                raise InputError(
                    f"{len(row)} tab-separated column(s), but the header (line "
                    f"{header_line}) has {len(header)}; expected one value per column",
                    file=path,
                    record=number,
                    field="row",
                )
            found = _row(row, cols, path, number, sample, samples_seen, kb)
            if found is not None:
                yield found
    if header is None:
        raise InputError(
            "no header line; expected a tab-separated header with Hugo_Symbol and "
            "HGVSp_Short columns",
            file=path,
            record=1,
            field="header",
        )
    if sample is not None and sample not in samples_seen:
        shown = ", ".join(sorted(samples_seen)[:6]) or "none"
        raise InputError(
            f"sample {sample!r} is not in the file; its Tumor_Sample_Barcode values are: {shown}",
            file=path,
            record=header_line,
            field="Tumor_Sample_Barcode",
        )


def _columns(header: list[str], path: PathLike, line: int) -> dict[str, int | None]:
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        index.setdefault(name.lower(), i)
    cols = {
        "gene": _column(index, "Hugo_Symbol"),
        "protein": _column(index, "HGVSp_Short"),
        "hgvsp": _column(index, "HGVSp"),
        "class": _column(index, "Variant_Classification"),
        "sample": _column(index, "Tumor_Sample_Barcode"),
        "alt_count": _column(index, "t_alt_count"),
        "ref_count": _column(index, "t_ref_count"),
        "depth": _column(index, "t_depth"),
        "chrom": _column(index, "Chromosome"),
        "start": _column(index, "Start_Position"),
        "ref": _column(index, "Reference_Allele"),
        "alt": _column(index, "Tumor_Seq_Allele2"),
        "build": _column(index, "NCBI_Build"),
    }
    missing = [n for n, k in (("Hugo_Symbol", "gene"),) if cols[k] is None]
    if cols["protein"] is None and cols["hgvsp"] is None:
        missing.append("HGVSp_Short (or HGVSp)")
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; expected a MAF header with "
            "Hugo_Symbol, Variant_Classification, HGVSp_Short, Tumor_Sample_Barcode, "
            "t_alt_count, t_depth",
            file=path,
            record=line,
            field=missing[0],
        )
    return cols


def _row(
    row: list[str],
    cols: dict[str, int | None],
    path: PathLike,
    line: int,
    sample: str | None,
    samples_seen: set[str],
    kb: KnowledgeBase,
) -> Alteration | None:
    def get(key: str) -> str:
        i = cols[key]
        return row[i].strip() if i is not None else ""

    barcode = get("sample") or None
    if barcode is not None:
        samples_seen.add(barcode)
    if sample is not None and barcode != sample:
        return None
    name = get("gene")
    hint = looks_spreadsheet_mangled(name)
    if hint is not None:
        raise InputError(
            f"gene {name!r} looks like a spreadsheet converted it to a date or number "
            f"(probably {hint}); re-export the file with the gene column as text",
            file=path,
            record=line,
            field="Hugo_Symbol",
        )
    if not name or not kb.is_gene(name):
        return None  # a gene the knowledge base says nothing about
    gene = kb.resolve_gene(name)
    classification = get("class").lower()
    if classification in NOT_PROTEIN_CHANGING:
        return None
    found = _protein_change(get("protein") or get("hgvsp"), gene, classification, kb)
    if found is _SYNONYMOUS:
        return None
    if found is None:
        found = _from_coordinates(get, gene, path, line, kb)
    if not isinstance(found, Alteration):
        return None
    alt_reads = _count(get("alt_count"), path, line, "t_alt_count", allow_float=True)
    depth = _count(get("depth"), path, line, "t_depth", allow_float=True)
    ref_reads = _count(get("ref_count"), path, line, "t_ref_count", allow_float=True)
    if depth is None and ref_reads is not None and alt_reads is not None:
        depth = ref_reads + alt_reads
    vaf = None
    if alt_reads is not None and depth:
        if alt_reads > depth:
            raise InputError(
                f"t_alt_count {alt_reads} is more than the depth {depth}; expected "
                "t_alt_count <= t_depth",
                file=path,
                record=line,
                field="t_alt_count",
            )
        vaf = alt_reads / depth
    chrom = get("chrom")
    start = get("start")
    ref = get("ref")
    alt = get("alt")
    build = get("build")
    return found.model_copy(
        update={
            "chrom": normalise_chrom(chrom) if chrom else None,
            "pos": int(start) if start.isdigit() else None,
            "ref": ref or None,
            "alt": alt or None,
            "build": _build(build, path, line),
            "vaf": vaf,
            "depth": depth,
            "alt_reads": alt_reads,
            "sample": barcode,
            "source": f"{path}:{line}",
        }
    )


def _build(text: str, path: PathLike, line: int) -> str | None:
    if not text:
        return None
    return normalise_build(text, file=path, record=line, field_name="NCBI_Build")


def _protein_change(text: str, gene: str, classification: str, kb: KnowledgeBase) -> object:
    if not text or text in (".", "NA"):
        return None
    text = text.split(":", 1)[1] if ":" in text else text
    m = _SPLICE_CODON.match(text)
    if m or classification == "splice_site":
        if gene == "MET" and m and _near_exon(kb, "MET", int(m.group(1)), 14):
            return parse_change("exon 14 skipping", gene="MET", kb=kb)
        if m:
            return None
    try:
        found = parse_change(text, gene=gene, kb=kb)
    except InputError:
        return None  # p.M1?, extensions: not a change the knowledge base names
    return _SYNONYMOUS if found.variant_type == "synonymous" else found


def _near_exon(kb: KnowledgeBase, gene: str, codon: int, exon: int) -> bool:
    return exon in {exon_of(kb, gene, c) for c in (codon - 1, codon, codon + 1)}


def _from_coordinates(get, gene: str, path: PathLike, line: int, kb: KnowledgeBase):
    build_text = get("build")
    start = get("start")
    if not build_text or not start.isdigit():
        return None
    build = normalise_build(build_text, file=path, record=line, field_name="NCBI_Build")
    key = (normalise_chrom(get("chrom")), int(start), get("ref").upper(), get("alt").upper())
    target = kb.coordinates.get(build, {}).get(key)
    if target is None or target[0] != gene:
        return None
    return parse_change(target[1], gene=gene, kb=kb)
