"""Read alteration tables: CSV or TSV (gzipped or not) and Parquet.

Columns (names are case-insensitive; others are ignored):

``gene``
    Gene symbol or alias (``HER2``); may be left out when ``alteration`` names the gene.
``alteration``
    The change (``T790M``, ``p.Thr790Met``, ``exon 19 deletion``, ``amplification``), or
    a whole alteration (``EGFR T790M``, ``EML4::ALK``) when ``gene`` is empty.
``vaf`` or ``vaf_pct``
    Variant allele fraction in 0-1, or in percent (0-100).
``depth``, ``alt_reads``
    Read depth and reads supporting the alteration (whole numbers).
``sample``, ``phase_set``, ``haplotype``
    Sample name, phase-set identifier and haplotype (0 or 1) within it.

Rows are typed by a person, so every problem is an error: an unknown gene, a change that
cannot be read, a VAF above 1 (a percentage in the ``vaf`` column), a header with no rows.

Numbers in a ``;``-separated file follow the file's decimal convention: a decimal comma
(``0,25``) anywhere in the file makes a point a thousands separator (``1.000`` is one
thousand); a decimal point (``0.25``) makes ``1.000`` one. A number such as ``1.000`` in a
file that shows neither is refused, naming its line, rather than guessed.
"""

from __future__ import annotations

import contextlib
import csv
import math
import re
from collections.abc import Iterator
from typing import Any

from oncoresist.errors import InputError, MissingExtraError, UnknownGeneError
from oncoresist.kb import KnowledgeBase, load_kb
from oncoresist.variants._accessions import HGVS
from oncoresist.variants._alteration import Alteration
from oncoresist.variants._genes import resolve_gene
from oncoresist.variants._parse import parse_alteration, parse_change, with_gene_suggestions
from oncoresist.variants._sniff import PathLike, check_exists, iter_lines, sniff

COLUMNS = ("gene", "alteration", "vaf", "vaf_pct", "depth", "alt_reads", "sample",
           "phase_set", "haplotype")  # fmt: skip
_BLANK = {"", "na", "n/a", "nan", "none", "null", ".", "-"}


def read_table(path: PathLike, *, kb: KnowledgeBase | None = None) -> Iterator[Alteration]:
    """Read an alteration table (CSV, TSV, either gzipped, or Parquet).

    The format is told from the content: Parquet by its magic bytes, TSV by tabs in the
    header line, CSV otherwise (``;``-separated CSV is recognised too).

    Parameters
    ----------
    path
        The table. See the module documentation for its columns.
    kb
        Knowledge base (the shipped one by default).

    Yields
    ------
    Alteration
        One per row, with ``vaf``, ``depth``, ``alt_reads``, ``sample``, ``phase_set``,
        ``haplotype`` when given and ``source`` (``file:line``, or ``file:row N`` for
        Parquet).

    Raises
    ------
    InputError
        Naming the file, line and column: no data rows (a header alone), no
        ``alteration`` column, an unknown or
        spreadsheet-damaged gene (``2-Sep``), an unreadable change, a ``vaf`` above 1
        (use ``vaf_pct`` for percentages) or below 0, a negative or fractional depth.
    """
    kb = kb or load_kb()
    file = check_exists(path)
    found = sniff(file)
    if found.kind == "parquet":
        return _read_parquet(path, kb)
    if found.kind in ("table", "unknown"):
        return _read_text(path, kb)
    raise InputError(
        f"this file looks like {found.description} ({found.detail}), not an alteration "
        "table (CSV, TSV or Parquet with gene and alteration columns); "
        + (
            "read it with read_variants, which tells the formats apart"
            if found.kind in ("vcf", "bcf", "maf")
            else "export it as CSV with gene and alteration columns"
        ),
        file=path,
        record=found.line,
        field="format",
    )


# ----------------------------------------------------------------------------- text
def _read_text(path: PathLike, kb: KnowledgeBase) -> Iterator[Alteration]:
    with contextlib.closing(iter_lines(path)) as lines:
        header_line, names, delimiter = read_header(
            lines, path, "a header with gene and alteration columns"
        )
        columns = _columns(names, path, header_line)
        rows = 0
        for line, row in iter_rows(lines, path, len(names), delimiter, names):
            values = {key: row[i] if i < len(row) else "" for key, i in columns.items()}
            rows += 1
            yield _alteration(values, path, line, f"{path}:{line}", kb)
        if not rows:
            raise _no_records(path, header_line)


def _no_records(path: PathLike, where: int | str) -> InputError:
    return InputError(
        "no records: the table has a header but no data rows; expected one row per alteration",
        file=path,
        record=where,
        field="rows",
    )


def read_header(
    lines: Iterator[tuple[int, str]], path: PathLike, expected: str
) -> tuple[int, list[str], str]:
    """Read the first non-blank, non-comment line as the header of a delimited table.

    Returns
    -------
    tuple
        The header's line number, the column names as written and the delimiter
        (tab, comma or semicolon).
    """
    header_line = 0
    for number, text in lines:
        header_line = number
        if text.strip() and not text.startswith("#"):
            break
    else:
        raise InputError(
            f"no header line (only blank or comment lines); expected {expected}",
            file=path,
            record=max(header_line, 1),
            field="header",
        )
    delimiter = _delimiter(text)
    try:
        names = next(csv.reader([text], delimiter=delimiter))
    except csv.Error as exc:
        raise InputError(
            f"cannot split the header into column names ({exc}); expected "
            f"{_name(delimiter)}-separated text",
            file=path,
            record=header_line,
            field="header",
        ) from None
    return header_line, names, delimiter


def iter_rows(
    lines: Iterator[tuple[int, str]],
    path: PathLike,
    width: int,
    delimiter: str,
    names: list[str] | None = None,
) -> Iterator[tuple[int, list[str]]]:
    """The non-blank rows after the header, with their line numbers.

    In a ``;``-separated file, numbers are rewritten to the decimal point by the file's
    own convention (:func:`decimal_comma_rows`), so readers see ``1000`` for a European
    ``1.000`` and ``0.25`` for ``0,25``.

    Parameters
    ----------
    names
        The header's column names, to name a column in errors (else ``column N``).

    Raises
    ------
    InputError
        For a line that cannot be split, or with more values than the header has columns;
        in a ``;``-separated file, for a number whose decimal mark the file leaves
        ambiguous.
    """
    rows = _split_rows(lines, path, width, delimiter)
    if delimiter == ";":
        return iter(decimal_comma_rows(list(rows), path, names))
    return rows


_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+$")  # 1.000, 12.345.678
_COMMA_DECIMAL = re.compile(r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+$")  # 0,25  1.000,5
_POINT_DECIMAL = re.compile(r"^[+-]?\d*\.\d+(?:[eE][+-]?\d+)?$")  # 0.25  1.5e-3


def decimal_comma_rows(
    rows: list[tuple[int, list[str]]], path: PathLike, names: list[str] | None = None
) -> list[tuple[int, list[str]]]:
    """Numbers of a ``;``-separated table rewritten with a decimal point.

    Spreadsheets in much of Europe write ``0,25`` and ``1.000`` (one thousand) and separate
    values with ``;``. The file's convention is told from its cells: a decimal comma
    anywhere (``0,25``) means points are thousands separators; a decimal point that cannot
    be a thousands separator (``0.25``, ``1.5``) means points are decimal. Cells that are
    not numbers are left as written.

    Returns
    -------
    list
        The rows, with ``0,25`` -> ``0.25``, ``1.000,5`` -> ``1000.5`` and, under the
        decimal-comma convention, ``1.000`` -> ``1000``.

    Raises
    ------
    InputError
        For a number such as ``1.000`` in a file that shows neither convention or both,
        naming its line and column.
    """
    comma = point = False
    for _, row in rows:
        for cell in row:
            text = cell.strip()
            comma = comma or bool(_COMMA_DECIMAL.match(text))
            point = point or bool(_POINT_DECIMAL.match(text) and not _THOUSANDS.match(text))
    out = []
    for line, row in rows:
        cells = []
        for j, cell in enumerate(row):
            text = cell.strip()
            if _COMMA_DECIMAL.match(text):
                cell = text.replace(".", "").replace(",", ".")
            elif _THOUSANDS.match(text):
                if comma and not point:
                    cell = text.replace(".", "")
                elif not point or comma:
                    column = names[j] if names and j < len(names) else f"column {j + 1}"
                    seen = "shows both a decimal comma and a decimal point" if comma else (
                        "shows no other decimal number")  # fmt: skip
                    whole = text.replace(".", "").lstrip("+")
                    small = f"{float(text):g}"
                    raise InputError(
                        f"{text!r} is ambiguous: this semicolon-separated file {seen}, so it "
                        f"may be {whole} (a point between thousands, as where the decimal "
                        f"mark is a comma) or {small} (a decimal point); write {whole} for "
                        f"{whole}, or {small.replace('.', ',')} for {small}",
                        file=path,
                        record=line,
                        field=str(column).strip(),
                    )
            cells.append(cell)
        out.append((line, cells))
    return out


def _split_rows(
    lines: Iterator[tuple[int, str]], path: PathLike, width: int, delimiter: str
) -> Iterator[tuple[int, list[str]]]:
    current = [0]

    def feed() -> Iterator[str]:
        for number, text in lines:
            current[0] = number
            yield text

    reader = csv.reader(feed(), delimiter=delimiter)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(
                f"cannot split this line into values ({exc}); expected "
                f"{_name(delimiter)}-separated text",
                file=path,
                record=current[0],
                field="row",
            ) from None
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > width and any(c.strip() for c in row[width:]):
            raise InputError(
                f"{len(row)} values but the header has {width} columns; expected one value "
                f"per column (a {_name(delimiter)} inside an unquoted value?)",
                file=path,
                record=current[0],
                field="row",
            )
        yield current[0], row


def _delimiter(header: str) -> str:
    if "\t" in header:
        return "\t"
    if header.count(";") > header.count(","):
        return ";"
    return ","


def _name(delimiter: str) -> str:
    return {"\t": "tab", ";": "semicolon", ",": "comma"}[delimiter]


def _columns(names: list[str], path: PathLike, line: int | str) -> dict[str, int]:
    columns: dict[str, int] = {}
    for i, raw in enumerate(names):
        name = str(raw).strip().strip('"').lower().replace(" ", "_").replace("-", "_")
        name = {"vaf_%": "vaf_pct", "vaf_percent": "vaf_pct", "vaf(%)": "vaf_pct"}.get(name, name)
        if name in COLUMNS and name not in columns:
            columns[name] = i
    if "alteration" not in columns:
        raise InputError(
            f"no 'alteration' column (columns: {', '.join(str(n) for n in names[:8])}); "
            "expected columns gene, alteration and optionally vaf (or vaf_pct), depth, "
            "alt_reads, sample, phase_set",
            file=path,
            record=line,
            field="alteration",
        )
    if "vaf" in columns and "vaf_pct" in columns:
        raise InputError(
            "both 'vaf' and 'vaf_pct' columns; expected one: vaf as a fraction (0-1) or "
            "vaf_pct as a percentage (0-100)",
            file=path,
            record=line,
            field="vaf_pct",
        )
    return columns


# -------------------------------------------------------------------------- parquet
def open_parquet(path: PathLike):
    """Open a Parquet file (``pyarrow.parquet.ParquetFile``) or say why it cannot be read.

    Raises
    ------
    MissingExtraError
        When pyarrow is not installed (``pip install 'oncoresist[parquet]'``).
    InputError
        When the file is not a readable Parquet file.
    """
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow is a test dependency
        raise MissingExtraError("pyarrow", "parquet") from None
    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises its own error types
        raise InputError(
            f"not a readable Parquet file ({exc}); expected a Parquet table",
            file=path,
            field="format",
        ) from None


def _read_parquet(path: PathLike, kb: KnowledgeBase) -> Iterator[Alteration]:
    table = open_parquet(path)
    names = list(table.schema_arrow.names)
    columns = _columns(names, path, "schema")
    wanted = {key: names[i] for key, i in columns.items()}
    number = 0
    with contextlib.closing(table):
        for batch in table.iter_batches(batch_size=4096, columns=list(wanted.values())):
            for record in batch.to_pylist():
                number += 1
                values = {key: record[name] for key, name in wanted.items()}
                where = f"row {number}"
                yield _alteration(values, path, where, f"{path}:{where}", kb)
    if not number:
        raise _no_records(path, "schema")


# ---------------------------------------------------------------------------- rows
def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in _BLANK


def _number(value: Any, path: PathLike, where: int | str, column: str) -> float | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    try:
        return float(text.replace(",", ".") if text.count(",") == 1 and "." not in text
                     else text)  # fmt: skip
    except ValueError:
        hint = ""
        if text.endswith("%"):
            hint = (
                "; write the number without '%' in a column named vaf_pct, or as a fraction in vaf"
            )
        raise InputError(
            f"{text!r} is not a number{hint}", file=path, record=where, field=column
        ) from None


def _whole(value: Any, path: PathLike, where: int | str, column: str) -> int | None:
    number = _number(value, path, where, column)
    if number is None:
        return None
    if not number.is_integer():
        raise InputError(
            f"{value!r} is not a whole number; expected a read count",
            file=path,
            record=where,
            field=column,
        )
    if number < 0:
        raise InputError(
            f"negative {column} {int(number)}; expected a read count >= 0",
            file=path,
            record=where,
            field=column,
        )
    return int(number)


def _text(value: Any) -> str | None:
    if _blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _vaf(values: dict[str, Any], path: PathLike, where: int | str) -> float | None:
    if "vaf_pct" in values:
        pct = _number(values["vaf_pct"], path, where, "vaf_pct")
        if pct is None:
            return None
        if not 0.0 <= pct <= 100.0:
            raise InputError(
                f"vaf_pct {pct:g} is outside 0-100; expected a percentage",
                file=path,
                record=where,
                field="vaf_pct",
            )
        return pct / 100.0
    vaf = _number(values.get("vaf"), path, where, "vaf")
    if vaf is None:
        return None
    if vaf > 1.0:
        raise InputError(
            f"vaf {vaf:g} is above 1: it looks like a percentage; expected a fraction "
            f"between 0 and 1: divide by 100 (write {vaf / 100:g}) or name the column "
            "vaf_pct",
            file=path,
            record=where,
            field="vaf",
        )
    if vaf < 0.0:
        raise InputError(
            f"vaf {vaf:g} is negative; expected a fraction between 0 and 1",
            file=path,
            record=where,
            field="vaf",
        )
    return vaf


def _alteration(
    values: dict[str, Any], path: PathLike, where: int | str, source: str, kb: KnowledgeBase
) -> Alteration:
    vaf = _vaf(values, path, where)
    depth = _whole(values.get("depth"), path, where, "depth")
    alt_reads = _whole(values.get("alt_reads"), path, where, "alt_reads")
    if alt_reads is not None and depth is not None and alt_reads > depth:
        raise InputError(
            f"alt_reads {alt_reads} is more than the depth {depth}; expected alt_reads <= depth",
            file=path,
            record=where,
            field="alt_reads",
        )
    if vaf is None and alt_reads is not None and depth:
        vaf = alt_reads / depth
    haplotype = _whole(values.get("haplotype"), path, where, "haplotype")
    if haplotype is not None and haplotype not in (0, 1):
        raise InputError(
            f"haplotype {haplotype}; expected 0 or 1",
            file=path,
            record=where,
            field="haplotype",
        )
    extra = {
        "vaf": vaf,
        "depth": depth,
        "alt_reads": alt_reads,
        "sample": _text(values.get("sample")),
        "phase_set": _text(values.get("phase_set")),
        "haplotype": haplotype,
        "source": source,
    }
    gene_text = _text(values.get("gene"))
    change = _text(values.get("alteration"))
    if change is None:
        raise InputError(
            "empty alteration; expected a change such as T790M or exon 19 deletion",
            file=path,
            record=where,
            field="alteration",
        )
    try:
        if gene_text is None:
            return parse_alteration(change, kb=kb, **extra)
        try:
            gene = resolve_gene(kb, gene_text)
        except UnknownGeneError as exc:
            raise with_gene_suggestions(exc, kb, gene_text).located(field="gene") from None
        except InputError as exc:
            raise exc.located(field="gene") from None
        head, _, rest = change.partition(" ")
        if rest and head.upper() in (gene_text.upper(), gene):
            change = rest  # "EGFR T790M" written in full
        if "::" in change:
            return parse_alteration(change, kb=kb, **extra)
        if HGVS.match(change):  # NP_005219.2:p.Thr790Met, checked against the gene column
            return parse_alteration(f"{gene} {change}", kb=kb, **extra)
        return parse_change(change, gene=gene, kb=kb, **extra)
    except InputError as exc:
        raise exc.located(file=path, record=where, field="alteration") from None
