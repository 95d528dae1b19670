"""Read the inputs of liquid-biopsy monitoring: serial ctDNA results, therapy, events, normals.

Four tables, each CSV or TSV (gzipped or not) or Parquet, with case-insensitive column
names (see ``docs/monitor_formats.md``):

``read_serial``
    One row per sample (blood draw) and variant: reads (and/or unique molecules)
    supporting the variant, and the depth.
``read_therapy``
    One row per line of therapy: regimen, start and end date.
``read_events``
    Clinical events (progression, ...) with their dates.
``read_normals``
    A panel of normals: reads or unique molecules per site in samples of healthy donors.

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
    "alt_molecules", "unique_molecules", "cfdna_ng", "tumor_fraction", "chrom", "pos", "ref",
    "alt", "build",
)  # fmt: skip
THERAPY_COLUMNS = ("patient_id", "regimen", "start_date", "end_date", "reason_stopped")
EVENT_COLUMNS = ("patient_id", "event", "date")
NORMAL_COLUMNS = (
    "site", "context", "sample_id", "alt_reads", "depth", "alt_molecules", "unique_molecules",
)  # fmt: skip

# Counts come in two units: reads (PCR duplicates included) and unique molecules (UMI
# consensus families). Each pair is (alternate allele, depth at the site).
_READS = ("alt_reads", "depth")
_MOLECULES = ("alt_molecules", "unique_molecules")
_UNIT_PAIRS = {"reads": _READS, "molecules": _MOLECULES}

# Other names people give the columns (after lower-casing; spaces and '-' become '_').
_ALIASES = {
    "patient": "patient_id", "sample": "sample_id", "chr": "chrom", "chromosome": "chrom",
    "position": "pos", "genome_build": "build", "assembly": "build", "alt_count": "alt_reads",
    "alt_depth": "alt_reads", "total_depth": "depth", "dp": "depth", "cfdna_input_ng": "cfdna_ng",
    "tf": "tumor_fraction", "tumour_fraction": "tumor_fraction", "start": "start_date",
    "end": "end_date", "stop_date": "end_date", "reason": "reason_stopped",
    "event_date": "date",
    # unique molecules carrying the alternate allele, and covering the site
    "unique_alt_molecules": "alt_molecules", "alt_unique_molecules": "alt_molecules",
    "mutant_molecules": "alt_molecules", "alt_umi": "alt_molecules", "umi_alt": "alt_molecules",
    "alt_families": "alt_molecules", "unique_alt": "alt_molecules",
    "molecules": "unique_molecules", "umi_molecules": "unique_molecules",
    "unique_depth": "unique_molecules", "molecule_depth": "unique_molecules",
    "depth_molecules": "unique_molecules", "total_molecules": "unique_molecules",
    "families": "unique_molecules", "umi_depth": "unique_molecules",
}  # fmt: skip

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?)?$")
_DAY_MONTH = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_SERIAL_NUMBER = re.compile(r"^\d{5}(?:\.0+)?$")
_BASES = re.compile(r"^[ACGTN]+$")
_CHROM = re.compile(r"^(?:chr)?([0-9]{1,2}|[XYM]|MT)$", re.IGNORECASE)
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


def _at_most(
    small: int, large: int, columns: tuple[str, str], why: str, path: PathLike, where: Where
) -> None:
    """Refuse ``small > large``: ``columns`` names them, ``why`` says why it cannot be."""
    if small > large:
        raise InputError(
            f"{columns[0]} {small} is more than the {columns[1]} {large}; expected {columns[0]} <= "
            f"{columns[1]} ({why})",
            file=path,
            record=where,
            field=columns[0],
        )


def _read_counts(values: dict[str, Any], path: PathLike, where: Where) -> tuple[int, int]:
    """The row's ``alt_reads`` and ``depth``: required counts with alt_reads <= depth."""
    depth = _count(values.get("depth"), path, where, "depth", required=True)
    alt_reads = _count(values.get("alt_reads"), path, where, "alt_reads", required=True)
    assert depth is not None and alt_reads is not None
    _at_most(alt_reads, depth, _READS, "depth counts every read at the site", path, where)
    return alt_reads, depth


def _pair(
    values: dict[str, Any], columns: tuple[str, str], path: PathLike, where: Where
) -> tuple[int, int] | None:
    """One unit's (alternate allele, depth) counts of a row: both, or ``None`` when neither."""
    unit = "reads" if columns == _READS else "molecules"
    alt = _count(values.get(columns[0]), path, where, columns[0], required=False, unit=unit)
    depth = _count(values.get(columns[1]), path, where, columns[1], required=False, unit=unit)
    if alt is None and depth is None:
        return None
    if alt is None or depth is None:
        given, missing = (columns[0], columns[1]) if depth is None else (columns[1], columns[0])
        raise InputError(
            f"{given} is given without {missing}; expected both counts in {unit} "
            f"({columns[0]} and {columns[1]}) or neither",
            file=path,
            record=where,
            field=missing,
        )
    _at_most(alt, depth, columns, f"{columns[1]} counts every {unit[:-1]} at the site", path,
             where)  # fmt: skip
    return alt, depth


def _molecules_within_reads(counts: dict[str, int | None], path: PathLike, where: Where) -> None:
    """Molecules are read at least once: ``alt_molecules <= alt_reads``, ``unique <= depth``."""
    for molecules, reads in (("unique_molecules", "depth"), ("alt_molecules", "alt_reads")):
        m, r = counts.get(molecules), counts.get(reads)
        if m is not None and r is not None:
            _at_most(m, r, (molecules, reads), "each molecule is read at least once", path, where)


def _count(
    value: Any,
    path: PathLike,
    where: Where,
    column: str,
    *,
    required: bool,
    unit: str = "reads",
) -> int | None:
    """A read or molecule count: a whole number >= 0 (thousands separators refused)."""
    if _blank(value):
        if required:
            raise InputError(
                f"empty {column}; expected a whole number of {unit}", file=path, record=where,
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
    "alt, build)", "alt_reads and depth in reads (or, for counts in molecules only, "
    "alt_molecules and unique_molecules)", "optional alt_molecules, unique_molecules, cfdna_ng, "
    "tumor_fraction",
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
        coordinates), ``alt_reads`` and ``depth`` (reads), optionally ``alt_molecules``
        and ``unique_molecules`` (unique molecules, i.e. UMI consensus families, carrying
        the alternate allele and covering the site), ``cfdna_ng`` (ng), ``tumor_fraction``
        and ``vaf`` (fractions, checked only). A table without ``alt_reads`` and ``depth``
        columns that gives both molecule columns counts in molecules only: its
        ``alt_reads`` and ``depth`` are then set to ``alt_molecules`` and
        ``unique_molecules``. Column names are case-insensitive, with aliases
        (``docs/monitor_formats.md``).
    kb
        Knowledge base for gene names and coordinates (the shipped one by default).

    Returns
    -------
    pandas.DataFrame
        Columns ``patient_id, sample_id, collection_date (datetime64[ns]), gene,
        alteration`` (normalised label such as ``EGFR C797S``), ``alt_reads, depth``
        (int64, reads; the molecule counts in a molecules-only table), ``alt_molecules,
        unique_molecules`` (Int64, nullable, molecules), ``cfdna_ng, tumor_fraction``
        (float64, NaN when not given), ``chrom`` (no ``chr`` prefix), ``pos`` (Int64),
        ``ref, alt, build`` (``GRCh37``/``GRCh38``): the coordinates when given, missing
        otherwise. Text columns have pandas' ``str`` dtype (missing values are NaN).
        Identical repeated rows appear once. Sorted by patient, collection date, sample
        and alteration.

    Raises
    ------
    InputError
        Naming file, line and column: an empty file, a missing column, a date that is not
        ISO, a count that is negative or not whole, ``alt_reads`` above ``depth``,
        ``alt_molecules`` above ``unique_molecules`` or ``alt_reads``, ``unique_molecules``
        above ``depth``, ``alt_molecules`` without ``unique_molecules``, a VAF or
        tumour fraction above 1 (a percentage), an unknown or spreadsheet-damaged gene, a
        change that cannot be read, coordinates the knowledge base does not know, a sample
        with two dates or patients, or a sample and variant given twice with different
        values.
    """
    kb = kb or load_kb()
    known = (*SERIAL_COLUMNS, "vaf")
    table = _load(path, known, "serial ctDNA results")
    # a table without reads columns may count in molecules only (both molecule columns)
    molecules_only = not (table.columns & set(_READS)) and set(_MOLECULES) <= table.columns
    required = ["patient_id", "sample_id", "collection_date"]
    if not molecules_only:
        required += list(_READS)
    if "alteration" not in table.columns and any(c in table.columns for c in _COORDINATES):
        required += list(_COORDINATES)
    elif "alteration" not in table.columns:
        required.insert(3, "alteration")
    _require(table, required, _SERIAL_EXPECTED)

    records: list[dict[str, Any]] = []
    seen_variant: dict[tuple[str, str], tuple[Where, dict[str, Any]]] = {}
    seen_sample: dict[str, dict[str, tuple[Any, Where]]] = {}
    for where, values in table.rows:
        record = _serial_row(values, path, where, kb, molecules_only=molecules_only)
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
    for column in ("alt_molecules", "unique_molecules", "pos"):
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
    values: dict[str, Any],
    path: PathLike,
    where: Where,
    kb: KnowledgeBase,
    *,
    molecules_only: bool,
) -> dict[str, Any]:
    patient = _required_text(values, "patient_id", path, where)
    sample = _required_text(values, "sample_id", path, where)
    date = _date(values.get("collection_date"), path, where, "collection_date")
    counts = _serial_counts(values, path, where, molecules_only=molecules_only)
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
        **counts,
        "cfdna_ng": cfdna,
        "tumor_fraction": tumor_fraction,
        **coords,
    }


def _serial_counts(
    values: dict[str, Any], path: PathLike, where: Where, *, molecules_only: bool
) -> dict[str, int | None]:
    """The row's counts in reads and in molecules (see :func:`read_serial`)."""
    reads = None if molecules_only else _read_counts(values, path, where)
    alt_molecules = _count(values.get("alt_molecules"), path, where, "alt_molecules",
                           required=molecules_only, unit="molecules")  # fmt: skip
    molecules = _count(values.get("unique_molecules"), path, where, "unique_molecules",
                       required=False, unit="molecules")  # fmt: skip
    if alt_molecules is not None and molecules is None:
        raise InputError(
            f"alt_molecules {alt_molecules} is given without unique_molecules; expected "
            "unique_molecules (the molecules covering the site) beside alt_molecules",
            file=path,
            record=where,
            field="unique_molecules",
        )
    if alt_molecules is not None and molecules is not None:
        _at_most(alt_molecules, molecules, _MOLECULES,
                 "unique_molecules counts every molecule at the site", path, where)  # fmt: skip
    # no reads columns: the molecule counts stand in for them (documented)
    alt_reads, depth = reads if reads is not None else (alt_molecules, molecules)
    counts = {"alt_reads": alt_reads, "depth": depth, "alt_molecules": alt_molecules,
              "unique_molecules": molecules}  # fmt: skip
    _molecules_within_reads(counts, path, where)
    return counts


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
    pos = _position(values, path, where)
    return {"chrom": chrom, "pos": pos, **_alleles(values, path, where), "build": build}


def _position(values: dict[str, Any], path: PathLike, where: Where) -> int:
    pos = _count(values["pos"], path, where, "pos", required=True)
    if not pos:
        raise InputError("pos 0; expected a 1-based position", file=path, record=where,
                         field="pos")  # fmt: skip
    return pos


def _alleles(values: dict[str, Any], path: PathLike, where: Where) -> dict[str, str]:
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
    return alleles


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
_NORMAL_COORDINATES = ("chrom", "pos", "ref", "alt")
_NORMAL_INPUT = (*NORMAL_COLUMNS, "gene", "alteration", *_NORMAL_COORDINATES)
_NORMAL_EXPECTED = (
    "site (or gene and alteration, or chrom, pos, ref and alt)", "optional context",
    "sample_id", "alt_reads and depth in reads, or alt_molecules and unique_molecules in "
    "molecules (or both)",
)  # fmt: skip
_SITE_WAYS = {
    "site": ("site",),
    "gene and alteration": ("gene", "alteration"),
    "chrom, pos, ref and alt": _NORMAL_COORDINATES,
}


def read_normals(path: PathLike, *, kb: KnowledgeBase | None = None) -> pd.DataFrame:
    """Read a panel of normals: reads or molecules at each site in samples of healthy donors.

    Parameters
    ----------
    path
        CSV, TSV (either gzipped) or Parquet with the site as ``site`` (an alteration
        label such as ``EGFR T790M``, or ``CHROM:POS:REF>ALT``), as ``gene`` and
        ``alteration`` (read as :func:`read_serial` reads them), or as ``chrom``, ``pos``,
        ``ref`` and ``alt`` (one way per row); optionally ``context`` (such as
        ``C>T@CpG``); ``sample_id``; and the counts in reads (``alt_reads`` and ``depth``),
        in unique molecules (``alt_molecules`` and ``unique_molecules``, UMI consensus
        families), or both, the same on every row. Column names are case-insensitive,
        with the aliases of ``docs/monitor_formats.md``.
    kb
        Knowledge base for gene names (the shipped one by default).

    Returns
    -------
    pandas.DataFrame
        Columns ``site`` (normalised: ``EGFR T790M``, or ``7:55249071:C>T`` without a
        ``chr`` prefix), ``context`` (missing when not given; the substitution in upper
        case), ``sample_id``, ``alt_reads, depth`` (reads) and ``alt_molecules,
        unique_molecules`` (molecules), all four Int64 and missing (``<NA>``) in a panel
        that does not count in that unit; sorted by site and sample. Identical repeated
        rows appear once.

    Raises
    ------
    InputError
        Naming file, line and column: an empty file, a missing column, a row giving its
        site in no way or in more than one, a site that is neither an alteration nor
        ``CHROM:POS:REF>ALT``, a count that is negative or not whole, one count of a pair
        without the other, an alternate count above its depth, molecules above reads,
        rows counting in different units, or a site of one sample given twice with
        different counts.
    """
    kb = kb or load_kb()
    table = _load(path, _NORMAL_INPUT, "a panel of normals")
    columns = table.columns
    required = ["sample_id"]
    if not ({"site", "alteration"} & columns or set(_NORMAL_COORDINATES) <= columns):
        if "gene" in columns:
            required.append("alteration")
        elif columns & set(_NORMAL_COORDINATES):
            required += list(_NORMAL_COORDINATES)
        else:
            required.insert(0, "site")
    if not set(_MOLECULES) <= columns:
        required += list(_READS)
    _require(table, required, _NORMAL_EXPECTED)
    records: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], tuple[Where, dict[str, Any]]] = {}
    units: tuple[Where, tuple[str, ...]] | None = None
    for where, values in table.rows:
        site = _normal_site(values, path, where, kb)
        context = _context(values.get("context"), path, where)
        sample = _required_text(values, "sample_id", path, where)
        counts, given = _normal_counts(values, path, where)
        if units is None:
            units = (where, given)
        elif given != units[1]:
            _mixed_units(given, units, path, where)
        record = {"site": site, "context": context, "sample_id": sample, **counts}
        key = (sample, site)
        if key in seen:
            first, earlier = seen[key]
            if earlier == record:
                continue
            raise InputError(
                f"sample {sample} reports site {site} twice with different values "
                f"({_line(first)}: {_shown_counts(earlier)}, {_line(where)}: "
                f"{_shown_counts(record)}); expected one row per sample and site",
                file=path,
                record=where,
                field=_UNIT_PAIRS[given[0]][0],
            )
        seen[key] = (where, record)
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=list(NORMAL_COLUMNS))
    for column in (*_READS, *_MOLECULES):
        frame[column] = pd.array(
            [None if pd.isna(v) else int(v) for v in frame[column].tolist()], dtype="Int64"
        )
    for column in ("site", "context", "sample_id"):
        frame[column] = frame[column].astype("str")
    frame = frame.sort_values(["site", "sample_id"], kind="stable")
    return frame.reset_index(drop=True)


def _normal_counts(
    values: dict[str, Any], path: PathLike, where: Where
) -> tuple[dict[str, int | None], tuple[str, ...]]:
    """A panel row's counts, and the units it gives them in (``reads``, ``molecules``)."""
    counts: dict[str, int | None] = {}
    given: list[str] = []
    for unit, columns in _UNIT_PAIRS.items():
        pair = _pair(values, columns, path, where)
        counts.update(zip(columns, pair or (None, None), strict=True))
        if pair is not None:
            given.append(unit)
    if not given:
        raise InputError(
            "no counts; expected alt_reads and depth (reads), or alt_molecules and "
            "unique_molecules (molecules)",
            file=path,
            record=where,
            field="alt_reads",
        )
    _molecules_within_reads(counts, path, where)
    return counts, tuple(given)


def _units_text(units: tuple[str, ...]) -> str:
    return " and ".join(f"{u} ({', '.join(_UNIT_PAIRS[u])})" for u in units)


def _mixed_units(
    given: tuple[str, ...], first: tuple[Where, tuple[str, ...]], path: PathLike, where: Where
) -> None:
    """Refuse a panel row counting in other units than the panel's first row."""
    missing = [u for u in first[1] if u not in given] or [u for u in given if u not in first[1]]
    raise InputError(
        f"this row gives counts in {_units_text(given)} but {_line(first[0])} gives them in "
        f"{_units_text(first[1])}; expected the same counts on every row of a panel (the "
        "background is fitted in one unit: reads and molecules are not comparable)",
        file=path,
        record=where,
        field=_UNIT_PAIRS[missing[0]][0],
    )


def _shown_counts(record: dict[str, Any]) -> str:
    shown = []
    for unit, (alt, depth) in _UNIT_PAIRS.items():
        if record[alt] is not None:
            shown.append(f"{record[alt]}/{record[depth]} {unit}")
    return ", ".join(shown)


def _normal_site(values: dict[str, Any], path: PathLike, where: Where, kb: KnowledgeBase) -> str:
    """The site of a panel row from exactly one of site, gene and alteration, coordinates."""
    ways = [
        way for way, columns in _SITE_WAYS.items()
        if any(not _blank(values.get(c)) for c in columns)
    ]  # fmt: skip
    if not ways:
        raise InputError(
            "no site; expected site (EGFR T790M or 7:55249071:C>T), gene and alteration, "
            "or chrom, pos, ref and alt",
            file=path,
            record=where,
            field="site",
        )
    if len(ways) > 1:
        raise InputError(
            f"the site is given twice, as {ways[0]} and as {ways[1]}; expected one way per row",
            file=path,
            record=where,
            field=_SITE_WAYS[ways[1]][0],
        )
    if ways[0] == "site":
        return _site(str(_text(values["site"])), path, where, kb)
    if ways[0] == "gene and alteration":
        if _blank(values.get("alteration")):
            raise InputError(
                "empty alteration while gene is given; expected an alteration (T790M)",
                file=path,
                record=where,
                field="alteration",
            )
        return _alteration(values, path, where, kb).label
    for column in _NORMAL_COORDINATES:
        if _blank(values.get(column)):
            raise InputError(
                f"empty {column} while other coordinates are given; expected chrom, pos, ref "
                "and alt together",
                file=path,
                record=where,
                field=column,
            )
    text = str(_text(values["chrom"]))
    m = _CHROM.match(text)
    if not m:
        raise InputError(
            f"chrom {text!r}; expected a chromosome such as 7, chr7, X or MT",
            file=path,
            record=where,
            field="chrom",
        )
    chrom = normalise_chrom(m.group(1).upper())
    pos = _position(values, path, where)
    alleles = _alleles(values, path, where)
    return f"{chrom}:{pos}:{alleles['ref']}>{alleles['alt']}"


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
