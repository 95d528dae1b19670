"""Sample sheets: which count-table column is which arm, replicate and day of a screen.

A sheet is a CSV/TSV with one row per sample: ``sample`` and ``condition`` (``T0``,
``vehicle``, ``drug``, or ``unused`` for a column to leave out; common synonyms such as
``plasmid``, ``DMSO`` or ``treated`` are accepted), and optionally ``replicate`` (the
infection a sample came from: samples with the same replicate label in two arms are
paired), ``day`` (days since the start of selection; T0 is day 0) and ``doublings``
(population doublings since T0, used to put the drug arm's slower growth on the vehicle
arm's scale).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from oncoresist.errors import InputError

CONDITIONS = ("T0", "vehicle", "drug", "unused")
_SYNONYMS = {
    "t0": "T0", "plasmid": "T0", "pdna": "T0", "baseline": "T0", "initial": "T0", "day0": "T0",
    "vehicle": "vehicle", "control": "vehicle", "dmso": "vehicle", "untreated": "vehicle",
    "drug": "drug", "treatment": "drug", "treated": "drug",
    "unused": "unused", "exclude": "unused", "excluded": "unused", "ignore": "unused",
}  # fmt: skip


def _condition(value: str) -> str | None:
    return _SYNONYMS.get(value.strip().lower().replace(" ", "").replace("_", ""))


def _number(text: str, *, path: Path, line: int, field: str, positive: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise InputError(f"{text!r}; expected a number {bound}", file=path, record=line,
                         field=field)  # fmt: skip
    return value


def read_sample_sheet(path: str | Path) -> pd.DataFrame:
    """Read and check a sample sheet.

    Returns
    -------
    pandas.DataFrame
        One row per sample, in file order: ``sample``, ``condition`` (``T0``, ``vehicle`` or
        ``drug``), ``replicate`` (str; the sample's position within its condition when the
        column is absent), ``day`` (float days; NaN when absent; 0 for T0) and
        ``doublings`` (float; NaN when absent).

    Raises
    ------
    InputError
        Naming the file, line and column: a missing ``sample`` or ``condition`` column, a
        duplicated sample, an unknown condition, a day or doubling count that is not a
        number >= 0.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("sample sheet not found", file=path)
    sep = "\t" if path.suffix in {".tsv", ".txt"} else ","
    try:
        raw = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"not a readable {sep!r}-separated table ({exc})", file=path) from None
    raw.columns = [c.strip().lower() for c in raw.columns]
    for col in ("sample", "condition"):
        if col not in raw.columns:
            raise InputError(f"no {col!r} column; expected sample, condition[, replicate, day, "
                             "doublings]", file=path, field=col)  # fmt: skip
    rows = []
    seen: dict[str, int] = {}
    for i, rec in enumerate(raw.to_dict("records")):
        line = i + 2
        name = rec["sample"].strip()
        if not name:
            raise InputError("empty sample name", file=path, record=line, field="sample")
        if name in seen:
            raise InputError(f"sample {name!r} is listed twice (first on line {seen[name]})",
                             file=path, record=line, field="sample")  # fmt: skip
        seen[name] = line
        cond = _condition(rec["condition"])
        if cond is None:
            raise InputError(f"condition {rec['condition']!r}; expected T0, vehicle, drug or "
                             "unused", file=path, record=line, field="condition")  # fmt: skip
        day_text = rec.get("day", "").strip()
        day = _number(day_text, path=path, line=line, field="day", positive=False) if (
            day_text) else (0.0 if cond == "T0" else math.nan)  # fmt: skip
        if cond == "T0" and day != 0:
            raise InputError(f"T0 sample on day {day:g}; T0 is day 0", file=path, record=line,
                             field="day")  # fmt: skip
        dbl_text = rec.get("doublings", "").strip()
        doublings = (
            _number(dbl_text, path=path, line=line, field="doublings", positive=cond != "T0")
            if dbl_text
            else math.nan
        )
        rows.append((name, cond, rec.get("replicate", "").strip(), day, doublings))
    if not rows:
        raise InputError("the sample sheet lists no samples", file=path)
    sheet = pd.DataFrame(rows, columns=["sample", "condition", "replicate", "day", "doublings"])
    _fill_replicates(sheet)
    sheet.attrs["file"] = str(path)
    return sheet


def _fill_replicates(sheet: pd.DataFrame) -> None:
    """Number samples within each condition and day where no replicate label is given."""
    empty = sheet["replicate"] == ""
    if empty.any():
        keys = sheet["condition"] + "@" + sheet["day"].astype(str)
        order = sheet.groupby(keys).cumcount() + 1
        sheet.loc[empty, "replicate"] = order[empty].astype(str)


def sheet_from_samples(
    treatment: Sequence[str], control: Sequence[str], *, control_condition: str = "vehicle"
) -> pd.DataFrame:
    """A sheet for a plain two-arm comparison given as two sample lists.

    Replicates pair by position (the first treated sample with the first control sample), as
    in drugZ; give a sheet with ``replicate`` labels when that is wrong.
    """
    if control_condition not in CONDITIONS:
        raise InputError(f"{control_condition!r}; expected one of {CONDITIONS}",
                         field="control_condition")  # fmt: skip
    rows = [(s, "drug", str(i + 1)) for i, s in enumerate(treatment)]
    rows += [(s, control_condition, str(i + 1)) for i, s in enumerate(control)]
    names = [r[0] for r in rows]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"sample {dup[0]!r} is named in both arms", field="samples")
    sheet = pd.DataFrame(rows, columns=["sample", "condition", "replicate"])
    sheet["day"] = [0.0 if c == "T0" else math.nan for c in sheet["condition"]]
    sheet["doublings"] = math.nan
    return sheet


def check_sheet(sheet: pd.DataFrame, counts: pd.DataFrame) -> None:
    """Every sheet sample is a count column and every count column is in the sheet."""
    file = sheet.attrs.get("file")
    columns = [c for c in counts.columns if c != "gene"]
    for i, name in enumerate(sheet["sample"]):
        if name not in columns:
            raise InputError(f"sample {name!r} is not a column of the count table (columns: "
                             f"{', '.join(columns)})", file=file, record=i + 2,
                             field="sample")  # fmt: skip
    missing = [c for c in columns if c not in set(sheet["sample"])]
    if missing and file is not None:
        raise InputError(f"count-table column(s) {', '.join(missing)} missing from the sample "
                         "sheet; list every sample (condition 'unused' leaves one out)",
                         file=file, field="sample")  # fmt: skip
