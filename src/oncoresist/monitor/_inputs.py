"""Read the inputs of liquid-biopsy monitoring: serial ctDNA results, therapy, events, normals.

Four tables, each CSV or TSV (gzipped or not) or Parquet, with case-insensitive column
names (see ``docs/monitor_formats.md``):

``read_serial``
    One row per sample (blood draw) and variant: reads supporting the variant and depth.
``read_therapy``
    One row per line of therapy: regimen, start and end date.
``read_events``
    Clinical events (progression, ...) with their dates.
``read_normals``
    A panel of normals: reads per site in samples of healthy donors.

Every file is read and checked whole before anything is returned; the first problem is an
:class:`~oncoresist.errors.InputError` naming the file, the line (1-based, the header is
line 1 of a file without comment lines; ``row N`` in Parquet) and the column, and saying
what was expected.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from oncoresist.errors import InputError
from oncoresist.kb import KnowledgeBase, load_kb
from oncoresist.variants._alteration import Alteration
from oncoresist.variants._builds import normalise_build, normalise_chrom
from oncoresist.variants._genes import resolve_gene
from oncoresist.variants._parse import parse_alteration, parse_change
from oncoresist.variants._sniff import PathLike, check_exists, iter_lines, sniff
from oncoresist.variants._table import (
    _blank,
    _number,
    _text,
    iter_rows,
    open_parquet,
    read_header,
)

__all__ = ["read_events", "read_normals", "read_serial", "read_therapy"]

Where = int | str  # a line number, or "row N" in Parquet

SERIAL_COLUMNS = (
    "patient_id", "sample_id", "collection_date", "gene", "alteration", "alt_reads", "depth",
    "unique_molecules", "cfdna_ng", "tumor_fraction", "chrom", "pos", "ref", "alt", "build",
)  # fmt: skip
THERAPY_COLUMNS = ("patient_id", "regimen", "start_date", "end_date", "reason_stopped")
EVENT_COLUMNS = ("patient_id", "event", "date")
NORMAL_COLUMNS = ("site", "context", "sample_id", "alt_reads", "depth")

# Other names people give the columns (after lower-casing; spaces and '-' become '_').
_ALIASES = {
    "patient": "patient_id", "sample": "sample_id", "chr": "chrom", "chromosome": "chrom",
    "position": "pos", "genome_build": "build", "assembly": "build", "alt_count": "alt_reads",
    "alt_depth": "alt_reads", "total_depth": "depth", "dp": "depth", "cfdna_input_ng": "cfdna_ng",
    "tf": "tumor_fraction", "tumour_fraction": "tumor_fraction", "start": "start_date",
    "end": "end_date", "stop_date": "end_date", "reason": "reason_stopped",
    "event_date": "date", "umi_molecules": "unique_molecules",
}  # fmt: skip

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?)?$")
_DAY_MONTH = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_SERIAL_NUMBER = re.compile(r"^\d{5}(?:\.0+)?$")
_BASES = re.compile(r"^[ACGTN]+$")
_SITE = re.compile(r"^(?:chr)?([0-9]{1,2}|[XYM]|MT):(\d+):([ACGTN]+)>([ACGTN]+)$", re.IGNORECASE)
_SUBSTITUTION = re.compile(r"^([ACGT])>([ACGT])(@.+)?$", re.IGNORECASE)


# ---------------------------------------------------------------------------- tables
@dataclass
class _Table:
    """A table read whole: its column names as written and its rows by canonical name."""

    path: PathLike
    names: list[str]
    header: Where
    columns: set[str]
    rows: list[tuple[Where, dict[str, Any]]]


def _canonical(name: Any) -> str:
    text = str(name).strip().strip('"').strip().lower()
    text = re.sub(r"[\s\-]+", "_", text)
    return _ALIASES.get(text, text)


def _load(path: PathLike, known: Iterable[str], what: str) -> _Table:
    """Read every row of a CSV/TSV (gzip or not) or Parquet table; ``what`` names it."""
    file = check_exists(path)
    found = sniff(file)
    if found.kind == "empty":
        raise InputError(
            f"the file is empty; expected {what} with a header line", file=path, record=1,
            field="header",
        )  # fmt: skip
    if found.kind == "parquet":
        table = _load_parquet(path, known)
    elif found.kind in ("table", "unknown"):
        table = _load_text(path, known, what)
    else:
        raise InputError(
            f"this file looks like {found.description} ({found.detail}); expected {what} "
            "as CSV, TSV or Parquet",
            file=path,
            record=found.line,
            field="format",
        )
    if not table.rows:
        raise InputError(
            f"no data rows after the header; expected {what}",
            file=path,
            record=table.header,
            field="rows",
        )
    return table


def _columns(names: list[str], known: Iterable[str], path: PathLike, header: Where) -> dict:
    wanted = set(known)
    columns: dict[str, int] = {}
    for i, raw in enumerate(names):
        name = _canonical(raw)
        if name not in wanted:
            continue
        if name in columns:
            raise InputError(
                f"two columns mean {name}: {names[columns[name]]!r} and {raw!r}; expected one",
                file=path,
                record=header,
                field=name,
            )
        columns[name] = i
    return columns


def _load_text(path: PathLike, known: Iterable[str], what: str) -> _Table:
    with contextlib.closing(iter_lines(path)) as lines:
        header_line, names, delimiter = read_header(lines, path, what)
        columns = _columns(names, known, path, header_line)
        rows: list[tuple[Where, dict[str, Any]]] = []
        for line, row in iter_rows(lines, path, len(names), delimiter):
            values = {key: row[i] if i < len(row) else "" for key, i in columns.items()}
            rows.append((line, values))
    return _Table(path, [str(n) for n in names], header_line, set(columns), rows)


def _load_parquet(path: PathLike, known: Iterable[str]) -> _Table:
    parquet = open_parquet(path)
    try:
        table = parquet.read()
    except Exception as exc:  # pyarrow raises its own error types
        raise InputError(
            f"not a readable Parquet file ({exc}); expected a Parquet table",
            file=path,
            field="format",
        ) from None
    finally:
        parquet.close()
    names = [str(n) for n in table.column_names]
    columns = _columns(names, known, path, "schema")
    data = {key: table.column(i).to_pylist() for key, i in columns.items()}
    rows = [
        (f"row {n + 1}", {key: values[n] for key, values in data.items()})
        for n in range(table.num_rows)
    ]
    return _Table(path, names, "schema", set(columns), rows)


def _require(table: _Table, required: Iterable[str], expected: Iterable[str]) -> None:
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise InputError(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; found "
            f"columns: {', '.join(table.names) or 'none'}; expected columns: "
            f"{', '.join(expected)} (names are case-insensitive)",
            file=table.path,
            record=table.header,
            field=missing[0],
        )


# ---------------------------------------------------------------------------- values
def _required_text(values: dict[str, Any], column: str, path: PathLike, where: Where) -> str:
    text = _text(values.get(column))
    if text is None:
        raise InputError(f"empty {column}; expected a value", file=path, record=where,
                         field=column)  # fmt: skip
    return text


def _read_counts(values: dict[str, Any], path: PathLike, where: Where) -> tuple[int, int]:
    """The row's ``alt_reads`` and ``depth``: required counts with alt_reads <= depth."""
    depth = _count(values.get("depth"), path, where, "depth", required=True)
    alt_reads = _count(values.get("alt_reads"), path, where, "alt_reads", required=True)
    assert depth is not None and alt_reads is not None
    if alt_reads > depth:
        raise InputError(
            f"alt_reads {alt_reads} is more than the depth {depth}; expected alt_reads <= depth "
            "(depth counts every read at the site)",
            file=path,
            record=where,
            field="alt_reads",
        )
    return alt_reads, depth


def _count(value: Any, path: PathLike, where: Where, column: str, *, required: bool) -> int | None:
    """A read or molecule count: a whole number >= 0 (thousands separators refused)."""
    if _blank(value):
        if required:
            raise InputError(
                f"empty {column}; expected a whole number of reads", file=path, record=where,
                field=column,
            )  # fmt: skip
        return None
    if isinstance(value, str) and "," in value:
        raise InputError(
            f"{value.strip()!r} is not a whole number; expected a count written without "
            "thousands separators or decimal commas",
            file=path,
            record=where,
            field=column,
        )
    number = _number(value, path, where, column)
    assert number is not None
    if not math.isfinite(number) or not number.is_integer():
        raise InputError(
            f"{value!r} is not a whole number; expected a count (reads or molecules)",
            file=path,
            record=where,
            field=column,
        )
    if number < 0:
        raise InputError(
            f"negative {column} {int(number)}; expected a count >= 0",
            file=path,
            record=where,
            field=column,
        )
    return int(number)


def _amount(value: Any, path: PathLike, where: Where, column: str) -> float | None:
    number = _number(value, path, where, column)
    if number is None:
        return None
    if not math.isfinite(number) or number < 0:
        raise InputError(
            f"{column} {value!r}; expected a number >= 0", file=path, record=where, field=column
        )
    return number


def _fraction(value: Any, path: PathLike, where: Where, column: str) -> float | None:
    number = _number(value, path, where, column)
    if number is None:
        return None
    if not math.isfinite(number) or number < 0:
        raise InputError(
            f"{column} {value!r}; expected a fraction between 0 and 1",
            file=path,
            record=where,
            field=column,
        )
    if number > 1:
        raise InputError(
            f"{column} {number:g} is above 1: it looks like a percentage; expected a fraction "
            f"between 0 and 1: divide by 100 (write {number / 100:g})",
            file=path,
            record=where,
            field=column,
        )
    return number


def _date(value: Any, path: PathLike, where: Where, column: str, *, required: bool = True):
    """An ISO date (``YYYY-MM-DD``, optionally with a time) as a :class:`pandas.Timestamp`."""
    if _blank(value):
        if required:
            raise InputError(
                f"empty {column}; expected an ISO date YYYY-MM-DD", file=path, record=where,
                field=column,
            )  # fmt: skip
        return pd.NaT
    if isinstance(value, dt.datetime | dt.date):  # Parquet dates and timestamps
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            raise InputError(
                f"{column} {value} has a time zone; expected a local date YYYY-MM-DD",
                file=path,
                record=where,
                field=column,
            )
        return pd.Timestamp(value)
    text = str(value).strip()
    m = _ISO.match(text)
    if m:
        try:
            numbers = [int(g) if g else 0 for g in m.groups()]
            return pd.Timestamp(dt.datetime(*numbers))  # type: ignore[arg-type]
        except ValueError as exc:
            raise InputError(
                f"{text!r} is not a date in the calendar ({exc}); expected an ISO date YYYY-MM-DD",
                file=path,
                record=where,
                field=column,
            ) from None
    m = _DAY_MONTH.match(text)
    if m:
        first, second = int(m.group(1)), int(m.group(2))
        if first <= 12 and second <= 12 and first != second:
            why = "is ambiguous (day/month or month/day?)"
        else:
            why = "is not an ISO date"
        raise InputError(
            f"{text!r} {why}; expected an ISO date YYYY-MM-DD (year-month-day, e.g. "
            "2021-04-03): export dates in ISO format",
            file=path,
            record=where,
            field=column,
        )
    if _SERIAL_NUMBER.match(text) or isinstance(value, int | float):
        raise InputError(
            f"{text!r} looks like a spreadsheet date serial number; expected an ISO date "
            "YYYY-MM-DD: format the column as text dates before exporting",
            file=path,
            record=where,
            field=column,
        )
    raise InputError(
        f"{text!r} is not a date; expected an ISO date YYYY-MM-DD",
        file=path,
        record=where,
        field=column,
    )


def _iso(value: pd.Timestamp) -> str:
    return "ongoing" if pd.isna(value) else value.strftime("%Y-%m-%d")


def _line(where: Where) -> str:
    return f"line {where}" if isinstance(where, int) else str(where)


# ---------------------------------------------------------------------------- serial
_SERIAL_EXPECTED = (
    "patient_id", "sample_id", "collection_date", "gene", "alteration (or chrom, pos, ref, "
    "alt, build)", "alt_reads", "depth", "optional unique_molecules, cfdna_ng, tumor_fraction",
)  # fmt: skip
_COORDINATES = ("chrom", "pos", "ref", "alt", "build")


def read_serial(path: PathLike, *, kb: KnowledgeBase | None = None) -> pd.DataFrame:
    """Read serial ctDNA results (one row per sample and variant) into a tidy table.

    Parameters
    ----------
    path
        CSV, TSV (either gzipped) or Parquet with columns ``patient_id``, ``sample_id``,
        ``collection_date`` (ISO ``YYYY-MM-DD``), ``gene`` and ``alteration`` (or ``chrom``,
        ``pos``, ``ref``, ``alt`` and ``build`` matched to the knowledge base's
        coordinates), ``alt_reads``, ``depth`` and optionally ``unique_molecules``,
        ``cfdna_ng`` (ng), ``tumor_fraction`` and ``vaf`` (fractions, checked only).
        Column names are case-insensitive.
    kb
        Knowledge base for gene names and coordinates (the shipped one by default).

    Returns
    -------
    pandas.DataFrame
        Columns ``patient_id, sample_id, collection_date (datetime64[ns]), gene,
        alteration`` (normalised label such as ``EGFR C797S``), ``alt_reads, depth``
        (int64), ``unique_molecules`` (Int64, nullable), ``cfdna_ng, tumor_fraction``
        (float64, NaN when not given), ``chrom`` (no ``chr`` prefix), ``pos`` (Int64),
        ``ref, alt, build`` (``GRCh37``/``GRCh38``): the coordinates when given, missing
        otherwise. Text columns have pandas' ``str`` dtype (missing values are NaN).
        Identical repeated rows appear once. Sorted by patient, collection date, sample
        and alteration.

    Raises
    ------
    InputError
        Naming file, line and column: an empty file, a missing column, a date that is not
        ISO, a count that is negative or not whole, ``alt_reads`` above ``depth``, a VAF or
        tumour fraction above 1 (a percentage), an unknown or spreadsheet-damaged gene, a
        change that cannot be read, coordinates the knowledge base does not know, a sample
        with two dates or patients, or a sample and variant given twice with different
        values.
    """
    kb = kb or load_kb()
    known = (*SERIAL_COLUMNS, "vaf")
    table = _load(path, known, "serial ctDNA results")
    required = ["patient_id", "sample_id", "collection_date", "alt_reads", "depth"]
    if "alteration" not in table.columns and any(c in table.columns for c in _COORDINATES):
        required += list(_COORDINATES)
    elif "alteration" not in table.columns:
        required.insert(3, "alteration")
    _require(table, required, _SERIAL_EXPECTED)

    records: list[dict[str, Any]] = []
    seen_variant: dict[tuple[str, str], tuple[Where, dict[str, Any]]] = {}
    seen_sample: dict[str, dict[str, tuple[Any, Where]]] = {}
    for where, values in table.rows:
        record = _serial_row(values, path, where, kb)
        _check_sample(record, where, seen_sample, path)
        key = (record["sample_id"], record["alteration"])
        if key in seen_variant:
            first, earlier = seen_variant[key]
            if earlier == record:
                continue
            changed = [c for c in SERIAL_COLUMNS if earlier[c] != record[c]]
            shown = ", ".join(f"{c} {earlier[c]} vs {record[c]}" for c in changed)
            raise InputError(
                f"sample {key[0]} reports {key[1]} twice with different values ({_line(first)} "
                f"and {_line(where)}: {shown}); expected one result per sample and variant "
                "(identical repeats are merged)",
                file=path,
                record=where,
                field=changed[0] if changed else "alteration",
            )
        seen_variant[key] = (where, record)
        records.append(record)

    return serial_frame(records)


def serial_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Serial observations as the typed, sorted table :func:`read_serial` returns.

    Used by the readers and by the store, so both give the same columns and dtypes.
    """
    frame = pd.DataFrame.from_records(records, columns=list(SERIAL_COLUMNS))
    frame["collection_date"] = frame["collection_date"].astype("datetime64[ns]")
    for column in ("patient_id", "sample_id", "gene", "alteration", "chrom", "ref", "alt", "build"):
        frame[column] = frame[column].astype("str")
    for column in ("alt_reads", "depth"):
        frame[column] = frame[column].astype("int64")
    for column in ("unique_molecules", "pos"):
        frame[column] = pd.array(
            [None if pd.isna(v) else int(v) for v in frame[column].tolist()], dtype="Int64"
        )
    for column in ("cfdna_ng", "tumor_fraction"):
        frame[column] = pd.to_numeric(frame[column].astype("float64"))
    frame = frame.sort_values(
        ["patient_id", "collection_date", "sample_id", "alteration"], kind="stable"
    )
    return frame.reset_index(drop=True)


def _check_sample(
    record: dict[str, Any],
    where: Where,
    seen: dict[str, dict[str, tuple[Any, Where]]],
    path: PathLike,
) -> None:
    """Check that a sample (one blood draw) has one patient, date, input and fraction."""
    sample = record["sample_id"]
    known = seen.setdefault(sample, {})
    for column, what in (
        ("patient_id", "patients"),
        ("collection_date", "collection dates"),
        ("cfdna_ng", "cfDNA inputs"),
        ("tumor_fraction", "tumour fractions"),
    ):
        value = record[column]
        if value is None:
            continue
        if column not in known:
            known[column] = (value, where)
            continue
        earlier, first = known[column]
        if earlier != value:
            shown_a = _iso(earlier) if column == "collection_date" else earlier
            shown_b = _iso(value) if column == "collection_date" else value
            raise InputError(
                f"sample {sample} has two {what}: {shown_a} ({_line(first)}) and {shown_b} "
                f"({_line(where)}); expected one {column} per sample_id (a sample is one "
                "blood draw)",
                file=path,
                record=where,
                field=column,
            )


def _serial_row(
    values: dict[str, Any], path: PathLike, where: Where, kb: KnowledgeBase
) -> dict[str, Any]:
    patient = _required_text(values, "patient_id", path, where)
    sample = _required_text(values, "sample_id", path, where)
    date = _date(values.get("collection_date"), path, where, "collection_date")
    alt_reads, depth = _read_counts(values, path, where)
    molecules = _count(values.get("unique_molecules"), path, where, "unique_molecules",
                       required=False)  # fmt: skip
    if molecules is not None and molecules > depth:
        raise InputError(
            f"unique_molecules {molecules} is more than the depth {depth} reads; expected at "
            "most one molecule per read",
            file=path,
            record=where,
            field="unique_molecules",
        )
    _fraction(values.get("vaf"), path, where, "vaf")
    tumor_fraction = _fraction(values.get("tumor_fraction"), path, where, "tumor_fraction")
    cfdna = _amount(values.get("cfdna_ng"), path, where, "cfdna_ng")
    alteration, coords = _variant(values, path, where, kb)
    return {
        "patient_id": patient,
        "sample_id": sample,
        "collection_date": date,
        "gene": alteration.gene,
        "alteration": alteration.label,
        "alt_reads": alt_reads,
        "depth": depth,
        "unique_molecules": molecules,
        "cfdna_ng": cfdna,
        "tumor_fraction": tumor_fraction,
        **coords,
    }


def _variant(
    values: dict[str, Any], path: PathLike, where: Where, kb: KnowledgeBase
) -> tuple[Alteration, dict[str, Any]]:
    """The alteration of a row, from gene and alteration or from knowledge-base coordinates."""
    coords: dict[str, Any] = dict.fromkeys(_COORDINATES)
    given = [c for c in _COORDINATES if not _blank(values.get(c))]
    from_coords: Alteration | None = None
    if given:
        coords = _coordinates(values, path, where)
        key = (coords["chrom"], coords["pos"], coords["ref"], coords["alt"])
        target = kb.coordinates.get(coords["build"], {}).get(key)
        if target is not None:
            from_coords = parse_change(target[1], gene=target[0], kb=kb)
        elif _blank(values.get("alteration")):
            other = [b for b, t in kb.coordinates.items() if b != coords["build"] and key in t]
            hint = f" (it is a known position on {other[0]}: is the build right?)" if other else ""
            raise InputError(
                f"{coords['chrom']}:{coords['pos']} {coords['ref']}>{coords['alt']} on "
                f"{coords['build']} is not a position the knowledge base knows{hint}; expected "
                "a knowledge-base variant, or give gene and alteration for this row",
                file=path,
                record=where,
                field="pos",
            )
    if _blank(values.get("alteration")):
        if from_coords is None:
            raise InputError(
                "no variant: alteration is empty and no coordinates are given; expected gene "
                "and alteration (EGFR, T790M) or chrom, pos, ref, alt and build",
                file=path,
                record=where,
                field="alteration",
            )
        return from_coords, coords
    alteration = _alteration(values, path, where, kb)
    if from_coords is not None and from_coords.label != alteration.label:
        raise InputError(
            f"alteration {alteration.label} does not match the coordinates "
            f"{coords['chrom']}:{coords['pos']} {coords['ref']}>{coords['alt']}, which are "
            f"{from_coords.label} on {coords['build']}; expected both to name one variant",
            file=path,
            record=where,
            field="alteration",
        )
    return alteration, coords


def _coordinates(values: dict[str, Any], path: PathLike, where: Where) -> dict[str, Any]:
    for column in _COORDINATES:
        if _blank(values.get(column)):
            raise InputError(
                f"empty {column} while other coordinates are given; expected chrom, pos, ref, "
                "alt and build together",
                file=path,
                record=where,
                field=column,
            )
    build = normalise_build(str(values["build"]), file=path, record=where)
    chrom = normalise_chrom(str(_text(values["chrom"])))
    pos = _count(values["pos"], path, where, "pos", required=True)
    if not pos:
        raise InputError("pos 0; expected a 1-based position", file=path, record=where,
                         field="pos")  # fmt: skip
    alleles = {}
    for column in ("ref", "alt"):
        bases = str(values[column]).strip().upper()
        if not _BASES.match(bases):
            raise InputError(
                f"{column} {values[column]!r}; expected bases A, C, G, T (or N)",
                file=path,
                record=where,
                field=column,
            )
        alleles[column] = bases
    return {"chrom": chrom, "pos": pos, **alleles, "build": build}


def _alteration(values: dict[str, Any], path: PathLike, where: Where, kb: KnowledgeBase):
    change = str(_text(values.get("alteration")))
    gene_text = _text(values.get("gene"))
    try:
        if gene_text is None:
            return parse_alteration(change, kb=kb)
        try:
            gene = resolve_gene(kb, gene_text)
        except InputError as exc:
            raise exc.located(file=path, record=where, field="gene") from None
        head, _, rest = change.partition(" ")
        if rest and head.upper() in (gene_text.upper(), gene):
            change = rest  # "EGFR T790M" written in full
        if "::" in change:
            return parse_alteration(change, kb=kb)
        return parse_change(change, gene=gene, kb=kb)
    except InputError as exc:
        raise exc.located(file=path, record=where, field="alteration") from None


# --------------------------------------------------------------------------- therapy
def read_therapy(path: PathLike, *, kb: KnowledgeBase | None = None) -> pd.DataFrame:
    """Read lines of therapy: one row per regimen given to a patient.

    Parameters
    ----------
    path
        CSV, TSV (either gzipped) or Parquet with columns ``patient_id``, ``regimen``
        (a drug, or the drugs of a combination joined by ``+``), ``start_date``,
        ``end_date`` (empty while ongoing) and optionally ``reason_stopped``.
    kb
        Knowledge base for drug names (the shipped one by default).

    Returns
    -------
    pandas.DataFrame
        Columns ``patient_id, regimen`` (the knowledge base's key: generic names, members
        of a combination sorted and joined by `` + ``), ``start_date, end_date``
        (datetime64[ns]; ``NaT`` when ongoing), ``reason_stopped``; sorted by patient and
        start date. Identical repeated rows appear once.

    Raises
    ------
    InputError
        Naming file, line and column: an empty file, a missing column, a date that is not
        ISO, an end before the start, an unknown drug, or two lines of one patient that
        overlap (a line starting before the previous one ended).
    """
    kb = kb or load_kb()
    table = _load(path, THERAPY_COLUMNS, "lines of therapy")
    _require(
        table,
        ("patient_id", "regimen", "start_date"),
        ("patient_id", "regimen", "start_date", "end_date", "optional reason_stopped"),
    )
    records: list[dict[str, Any]] = []
    lines: dict[str, list[tuple[Where, dict[str, Any]]]] = {}
    seen: set[tuple] = set()
    for where, values in table.rows:
        patient = _required_text(values, "patient_id", path, where)
        text = _required_text(values, "regimen", path, where)
        try:
            regimen = kb.resolve_drug(text)
        except InputError as exc:
            hint = ""
            if any(sep in text for sep in (",", "/", ";", " and ")):
                hint = "; join the drugs of a combination with '+' (osimertinib + savolitinib)"
            raise type(exc)(exc.message + hint, file=path, record=where, field="regimen") from None
        start = _date(values.get("start_date"), path, where, "start_date")
        end = _date(values.get("end_date"), path, where, "end_date", required=False)
        if not pd.isna(end) and end < start:
            raise InputError(
                f"end_date {_iso(end)} is before start_date {_iso(start)}; expected the end on "
                "or after the start",
                file=path,
                record=where,
                field="end_date",
            )
        record = {
            "patient_id": patient,
            "regimen": regimen,
            "start_date": start,
            "end_date": end,
            "reason_stopped": _text(values.get("reason_stopped")),
        }
        identity = tuple(str(v) for v in record.values())
        if identity in seen:
            continue
        seen.add(identity)
        lines.setdefault(patient, []).append((where, record))
        records.append(record)
    for patient, given in lines.items():
        _check_overlap(patient, given, path)
    return therapy_frame(records)


def therapy_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Therapy lines as the typed, sorted table :func:`read_therapy` returns (also the store's)."""
    frame = pd.DataFrame.from_records(records, columns=list(THERAPY_COLUMNS))
    for column in ("start_date", "end_date"):
        frame[column] = frame[column].astype("datetime64[ns]")
    for column in ("patient_id", "regimen", "reason_stopped"):
        frame[column] = frame[column].astype("str")
    frame = frame.sort_values(["patient_id", "start_date", "end_date"], kind="stable")
    return frame.reset_index(drop=True)


def _check_overlap(patient: str, given: list[tuple[Where, dict[str, Any]]], path) -> None:
    ordered = sorted(given, key=lambda item: item[1]["start_date"])
    for (w1, a), (w2, b) in itertools.pairwise(ordered):
        end = a["end_date"]
        if pd.isna(end) or b["start_date"] < end:
            raise InputError(
                f"lines of therapy of patient {patient} overlap: {a['regimen']} "
                f"{_iso(a['start_date'])} to {_iso(end)} ({_line(w1)}) and {b['regimen']} from "
                f"{_iso(b['start_date'])} ({_line(w2)}); expected each line to start on or "
                "after the end of the one before (write a combination as one regimen joined "
                "by '+', and give the earlier line an end_date)",
                file=path,
                record=w2,
                field="start_date",
            )


# ---------------------------------------------------------------------------- events
def read_events(path: PathLike) -> pd.DataFrame:
    """Read clinical events (progression, ...) with their dates.

    Parameters
    ----------
    path
        CSV, TSV (either gzipped) or Parquet with columns ``patient_id``, ``event`` and
        ``date`` (ISO ``YYYY-MM-DD``).

    Returns
    -------
    pandas.DataFrame
        Columns ``patient_id, event`` (lower case, single spaces), ``date``
        (datetime64[ns]); sorted by patient, date and event. Identical repeats appear once.

    Raises
    ------
    InputError
        Naming file, line and column: an empty file, a missing column, an empty patient or
        event, or a date that is not ISO.
    """
    table = _load(path, EVENT_COLUMNS, "clinical events")
    _require(table, EVENT_COLUMNS, EVENT_COLUMNS)
    records: list[dict[str, Any]] = []
    seen: set[tuple] = set()
    for where, values in table.rows:
        patient = _required_text(values, "patient_id", path, where)
        event = " ".join(_required_text(values, "event", path, where).lower().split())
        date = _date(values.get("date"), path, where, "date")
        if (patient, event, date) in seen:
            continue
        seen.add((patient, event, date))
        records.append({"patient_id": patient, "event": event, "date": date})
    return events_frame(records)


def events_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Clinical events as the typed, sorted table :func:`read_events` returns (also the store's)."""
    frame = pd.DataFrame.from_records(records, columns=list(EVENT_COLUMNS))
    frame["date"] = frame["date"].astype("datetime64[ns]")
    for column in ("patient_id", "event"):
        frame[column] = frame[column].astype("str")
    frame = frame.sort_values(["patient_id", "date", "event"], kind="stable")
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------- normals
def read_normals(path: PathLike, *, kb: KnowledgeBase | None = None) -> pd.DataFrame:
    """Read a panel of normals: reads at each site in samples of healthy donors.

    Parameters
    ----------
    path
        CSV, TSV (either gzipped) or Parquet with columns ``site`` (an alteration label
        such as ``EGFR T790M``, or ``CHROM:POS:REF>ALT``), optionally ``context`` (such as
        ``C>T@CpG``), ``sample_id``, ``alt_reads`` and ``depth``.
    kb
        Knowledge base for gene names (the shipped one by default).

    Returns
    -------
    pandas.DataFrame
        Columns ``site`` (normalised: ``EGFR T790M``, or ``7:55249071:C>T`` without a
        ``chr`` prefix), ``context`` (missing when not given; the substitution in upper
        case), ``sample_id``, ``alt_reads, depth`` (int64); sorted by site and sample.
        Identical repeated rows appear once.

    Raises
    ------
    InputError
        Naming file, line and column: an empty file, a missing column, a site that is
        neither an alteration nor ``CHROM:POS:REF>ALT``, a count that is negative or not
        whole, ``alt_reads`` above ``depth``, or a site of one sample given twice with
        different counts.
    """
    kb = kb or load_kb()
    table = _load(path, NORMAL_COLUMNS, "a panel of normals")
    _require(
        table,
        ("site", "sample_id", "alt_reads", "depth"),
        ("site", "optional context", "sample_id", "alt_reads", "depth"),
    )
    records: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], tuple[Where, dict[str, Any]]] = {}
    for where, values in table.rows:
        site = _site(_required_text(values, "site", path, where), path, where, kb)
        context = _context(values.get("context"), path, where)
        sample = _required_text(values, "sample_id", path, where)
        alt_reads, depth = _read_counts(values, path, where)
        record = {"site": site, "context": context, "sample_id": sample,
                  "alt_reads": alt_reads, "depth": depth}  # fmt: skip
        key = (sample, site)
        if key in seen:
            first, earlier = seen[key]
            if earlier == record:
                continue
            raise InputError(
                f"sample {sample} reports site {site} twice with different values "
                f"({_line(first)}: {earlier['alt_reads']}/{earlier['depth']}, {_line(where)}: "
                f"{alt_reads}/{depth}); expected one row per sample and site",
                file=path,
                record=where,
                field="alt_reads",
            )
        seen[key] = (where, record)
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=list(NORMAL_COLUMNS))
    for column in ("alt_reads", "depth"):
        frame[column] = frame[column].astype("int64")
    for column in ("site", "context", "sample_id"):
        frame[column] = frame[column].astype("str")
    frame = frame.sort_values(["site", "sample_id"], kind="stable")
    return frame.reset_index(drop=True)


def _site(text: str, path: PathLike, where: Where, kb: KnowledgeBase) -> str:
    m = _SITE.match(text.replace(" ", ""))
    if m:
        chrom = normalise_chrom(m.group(1).upper())
        return f"{chrom}:{int(m.group(2))}:{m.group(3).upper()}>{m.group(4).upper()}"
    if re.match(r"^(?:chr)?\w{1,2}:\d", text, re.IGNORECASE):
        raise InputError(
            f"site {text!r} is not CHROM:POS:REF>ALT; expected e.g. 7:55249071:C>T",
            file=path,
            record=where,
            field="site",
        )
    try:
        return parse_alteration(text, kb=kb).label
    except InputError as exc:
        raise InputError(
            f"{exc.message}; expected an alteration label (EGFR T790M) or CHROM:POS:REF>ALT",
            file=path,
            record=where,
            field="site",
        ) from None


def _context(value: Any, path: PathLike, where: Where) -> str | None:
    text = _text(value)
    if text is None:
        return None
    m = _SUBSTITUTION.match(text)
    if m:
        return f"{m.group(1).upper()}>{m.group(2).upper()}{m.group(3) or ''}"
    if ">" in text:
        raise InputError(
            f"context {text!r}; expected a substitution such as C>T, optionally with a "
            "context after '@' (C>T@CpG)",
            file=path,
            record=where,
            field="context",
        )
    return text
