"""Open input files safely and tell what they hold from their content, not their name.

Compressed files are checked before they are read: a BGZF file must end with the BGZF
end-of-file block (htslib reads a file cut at a block boundary without complaint), and a
plain gzip file must end its deflate stream. Text is read line by line as UTF-8; a byte
that is not UTF-8 is an error naming the line.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from oncoresist.errors import InputError
from oncoresist.variants._bgzf import has_bgzf_eof, is_bgzf

GZIP_MAGIC = b"\x1f\x8b"
BOM = b"\xef\xbb\xbf"
_HEAD = 1 << 16

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class Sniffed:
    """What a file looks like.

    Attributes
    ----------
    kind
        ``vcf``, ``bcf``, ``maf``, ``table`` (CSV/TSV with gene and alteration columns),
        ``cna`` (cBioPortal ``data_cna.txt``), ``sv`` (cBioPortal ``data_sv.txt``),
        ``parquet``, ``xlsx``, ``empty`` or ``unknown``.
    compression
        ``bgzf``, ``gzip`` or ``None``.
    line
        The line that decided (1-based), for messages.
    detail
        A few words on why, for messages (``columns Hugo_Symbol, HGVSp_Short``).
    """

    kind: str
    compression: str | None
    line: int
    detail: str

    @property
    def description(self) -> str:
        """What the file looks like, in words."""
        return {
            "vcf": "a VCF",
            "bcf": "a BCF (binary VCF)",
            "maf": "a MAF (mutation annotation format)",
            "table": "an alteration table (gene and alteration columns)",
            "cna": "a cBioPortal discrete copy-number file (data_cna.txt)",
            "sv": "a cBioPortal structural-variant file (data_sv.txt)",
            "parquet": "a Parquet table",
            "xlsx": "an Excel workbook",
            "empty": "an empty file",
            "unknown": "none of the formats read here",
        }[self.kind]


def compression_of(path: PathLike) -> str | None:
    """``bgzf``, ``gzip`` or ``None`` from the first bytes of a file."""
    with open(path, "rb") as handle:
        head = handle.read(18)
    if is_bgzf(head):
        return "bgzf"
    if head[:2] == GZIP_MAGIC:
        return "gzip"
    return None


def check_exists(path: PathLike) -> Path:
    """Return ``path`` as a :class:`Path`, or raise an :class:`InputError` if it is no file."""
    p = Path(path)
    if not p.is_file():
        raise InputError(
            "no such file" if not p.exists() else "not a file (a directory?)", file=path
        )
    return p


def check_bgzf_complete(path: PathLike) -> None:
    """Raise if a BGZF file lacks its end-of-file block (the file was cut short)."""
    if not has_bgzf_eof(path):
        raise InputError(
            "the BGZF (bgzip) file is truncated: it does not end with the 28-byte BGZF "
            "end-of-file block, so part of it is missing; copy or download it again, or "
            "re-run bgzip on the complete file",
            file=path,
            field="BGZF end-of-file block",
        )


def gzip_problem(path: PathLike) -> str | None:
    """Decompress a whole gzip or BGZF file (constant memory); say what is wrong, if anything."""
    decomp = zlib.decompressobj(wbits=31)
    in_member = False
    with open(path, "rb") as handle:
        while data := handle.read(1 << 20):
            while data:
                if not in_member and data[:2] != GZIP_MAGIC:
                    if data.strip(b"\x00"):
                        return "the gzip file has data after its end that is not gzip"
                    break  # zero padding after the last member
                in_member = True
                try:
                    decomp.decompress(data, 1 << 22)
                except zlib.error as exc:
                    return f"the gzip data is corrupt ({exc})"
                if decomp.eof:
                    data = decomp.unused_data
                    decomp = zlib.decompressobj(wbits=31)
                    in_member = False
                else:
                    data = decomp.unconsumed_tail
    if in_member:
        return "the gzip file is truncated: its compressed stream ends early"
    return None


def truncated_gzip_error(path: PathLike, problem: str, line: int | None = None) -> InputError:
    """The error for a damaged gzip file."""
    return InputError(
        f"{problem}; part of the file is missing or damaged: copy or download it again",
        file=path,
        record=line,
        field="gzip stream",
    )


def open_text_bytes(path: PathLike) -> IO[bytes]:
    """Open a file for reading bytes, decompressing gzip and BGZF transparently."""
    compression = compression_of(path)
    if compression == "bgzf":
        check_bgzf_complete(path)
    if compression is not None:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def decode_line(raw: bytes, path: PathLike, line: int) -> str:
    """Decode one line as UTF-8, naming the line and column of the first bad byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        column = raw[: exc.start].decode("utf-8", "replace").count("\t") + 1
        raise InputError(
            f"byte 0x{raw[exc.start]:02X} at character {exc.start + 1} is not UTF-8 text "
            f"(column {column}); expected UTF-8: save or convert the file as UTF-8 "
            "(e.g. iconv -f latin1 -t utf-8)",
            file=path,
            record=line,
            field="encoding",
        ) from None


def iter_lines(path: PathLike) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, text)`` of a text file, gzip or not, without line endings.

    A UTF-8 byte-order mark on the first line is dropped; CRLF endings are accepted.
    A truncated gzip stream raises an :class:`InputError` naming the last line read.
    """
    number = 0
    with open_text_bytes(path) as handle:
        try:
            for number, raw in enumerate(handle, start=1):
                if number == 1 and raw.startswith(BOM):
                    raw = raw[len(BOM) :]
                yield number, decode_line(raw.rstrip(b"\r\n"), path, number)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise truncated_gzip_error(path, f"the gzip data ends early or is corrupt ({exc})",
                                       number + 1) from None  # fmt: skip


def read_head(path: PathLike, size: int = _HEAD) -> bytes:
    """Up to ``size`` bytes of a file's content, decompressed, tolerating a cut stream."""
    with open(path, "rb") as handle:
        raw = handle.read(max(size, _HEAD))
    if raw[:2] != GZIP_MAGIC:
        return raw[:size]
    decomp = zlib.decompressobj(wbits=31)
    out = b""
    try:
        out = decomp.decompress(raw, size)
    except zlib.error:
        return out
    return out


_MAF_COLUMNS = ("hugo_symbol", "variant_classification", "tumor_sample_barcode", "hgvsp_short")
_SV_COLUMNS = ("site1_hugo_symbol", "site2_hugo_symbol", "site1_entrez_gene_id")


def sniff(path: PathLike) -> Sniffed:
    """Tell a VCF, BCF, MAF, alteration table or Parquet file from its first bytes."""
    compression = compression_of(path)
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic == b"PAR1":
        return Sniffed("parquet", None, 1, "Parquet magic bytes PAR1")
    if magic == b"PK\x03\x04":
        return Sniffed("xlsx", None, 1, "a zip archive, as Excel workbooks are")
    head = read_head(path)
    if head.startswith(b"BCF\x02"):
        return Sniffed("bcf", compression, 1, "BCF magic bytes")
    if head.startswith(BOM):
        head = head[len(BOM) :]
    if not head.strip():
        return Sniffed("empty", compression, 1, "no content")
    lines = head.decode("utf-8", "replace").splitlines()
    if len(head) == _HEAD and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    first = lines[0].rstrip("\r")
    if first.startswith("##fileformat=VCF") or first.startswith("#CHROM"):
        return Sniffed("vcf", compression, 1, first[:40])
    for number, text in enumerate(lines, start=1):
        text = text.rstrip("\r")
        if not text.strip():
            continue
        if text.startswith("#CHROM"):
            return Sniffed("vcf", compression, number, "a #CHROM header line")
        if text.startswith("##"):
            continue  # VCF meta-information, or a comment
        if text.startswith("#") and not _header_like(text):
            continue  # a comment line (MAFs start with '#version 2.4')
        cells = [c.strip().strip('"').lower() for c in _split(text)]
        if any(c in cells for c in _MAF_COLUMNS[:1]) and any(c in cells for c in _MAF_COLUMNS[1:]):
            shown = [c for c in _split(text) if c.strip().lower() in _MAF_COLUMNS]
            return Sniffed("maf", compression, number, "columns " + ", ".join(shown))
        if "alteration" in cells:
            return Sniffed("table", compression, number, "columns " + ", ".join(_split(text)[:6]))
        if "\t" in text and cells[0] in ("hugo_symbol", "entrez_gene_id") and len(cells) > 1:
            return Sniffed("cna", compression, number, "columns " + ", ".join(_split(text)[:4]))
        if "\t" in text and "sample_id" in cells and any(c in cells for c in _SV_COLUMNS):
            return Sniffed("sv", compression, number, "columns " + ", ".join(_split(text)[:4]))
        fields = text.split("\t")
        if len(fields) >= 8 and fields[1].isdigit():
            return Sniffed("vcf", compression, number, "tab-separated records with no header")
        return Sniffed("unknown", compression, number, f"first line {text[:60]!r}")
    return Sniffed("unknown", compression, 1, f"first line {first[:60]!r}")


def _header_like(text: str) -> bool:
    lowered = text.lower()
    return "hugo_symbol" in lowered or "alteration" in lowered or "sample_id" in lowered


def _split(text: str) -> list[str]:
    if "\t" in text:
        return text.split("\t")
    if text.count(";") > text.count(","):
        return text.split(";")
    return text.split(",")
