"""Sample sheets: which count-table column is which arm, replicate and day of a screen.

A sheet is a CSV/TSV with one row per sample: ``sample`` and ``condition`` (``T0``,
``vehicle``, ``drug``, or ``unused`` for a column to leave out; common synonyms such as
``plasmid``, ``DMSO`` or ``treated`` are accepted), and optionally ``replicate`` (the
infection a sample came from: samples with the same replicate label in two arms are
paired), ``day`` (days since the start of selection; T0 is day 0), ``doublings``
(population doublings since T0, used to put the drug arm's slower growth on the vehicle
arm's scale) and ``arm`` (``treatment``, ``drug`` and ``compound`` are read as synonyms: the
drug or dose of a drug sample, for a screen with several drug arms; a vehicle sample with an
arm serves that arm only, one without serves every arm). :func:`select_arm` keeps one arm.

A time course is several days per arm; a multi-condition design is several arms; both
together are several arms with several days.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from oncoresist.errors import InputError

CONDITIONS = ("T0", "vehicle", "drug", "unused")
_ARM_COLUMNS = ("arm", "treatment", "drug", "compound")
_SYNONYMS = {
    "t0": "T0", "plasmid": "T0", "pdna": "T0", "baseline": "T0", "initial": "T0", "day0": "T0",
    "vehicle": "vehicle", "control": "vehicle", "dmso": "vehicle", "untreated": "vehicle",
    "drug": "drug", "treatment": "drug", "treated": "drug",
    "unused": "unused", "exclude": "unused", "excluded": "unused", "ignore": "unused",
}  # fmt: skip


def _condition(value: str) -> str | None:
    return _SYNONYMS.get(value.strip().lower().replace(" ", "").replace("_", ""))


def _number(text: str, *, path, line: int | str, field: str, positive: bool) -> float:
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
        As :func:`sheet_from_frame`, with ``attrs["file"]``.

    Raises
    ------
    InputError
        Naming the file, line and column (see :func:`sheet_from_frame`), or a file that is
        missing or not a table.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("sample sheet not found", file=path)
    sep = "\t" if path.suffix in {".tsv", ".txt"} else ","
    try:
        raw = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"not a readable {sep!r}-separated table ({exc})", file=path) from None
    return sheet_from_frame(raw, file=path)


def sheet_from_frame(
    raw: pd.DataFrame, *, file: str | Path | None = None, records: list[str] | None = None
) -> pd.DataFrame:
    """Check a sample sheet given as a table of text (a file's rows, or AnnData's ``obs``).

    Parameters
    ----------
    raw : pandas.DataFrame
        One row per sample; columns ``sample``, ``condition`` and optionally ``replicate``,
        ``day``, ``doublings``, ``arm`` (case-insensitive; cells as text, ``""`` = empty).
    file : str or Path, optional
        Where the sheet came from, for error messages.
    records : list of str, optional
        How to name each row in an error (e.g. ``"obs 'S1'"``); by default its line in a
        file with a header (row 0 is line 2).

    Returns
    -------
    pandas.DataFrame
        One row per sample, in order: ``sample``, ``condition`` (``T0``, ``vehicle``,
        ``drug`` or ``unused``), ``replicate`` (str; the sample's position within its
        condition, arm and day when the column is absent), ``day`` (float days; NaN when
        absent; 0 for T0), ``doublings`` (float; NaN when absent) and ``arm`` (str; ``""``
        when absent).

    Raises
    ------
    InputError
        Naming the file, record and column: a missing ``sample`` or ``condition`` column, a
        duplicated sample, an unknown condition, a day or doubling count that is not a
        number >= 0, two arm columns, an arm on a T0 sample.
    """
    path = file
    raw = raw.copy()
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    for col in ("sample", "condition"):
        if col not in raw.columns:
            raise InputError(f"no {col!r} column; expected sample, condition[, replicate, day, "
                             "doublings, arm]", file=path, field=col)  # fmt: skip
    arm_cols = [c for c in _ARM_COLUMNS if c in raw.columns]
    if len(arm_cols) > 1:
        raise InputError(f"columns {' and '.join(repr(c) for c in arm_cols)} both name the arm; "
                         "keep one", file=path, field=arm_cols[1])  # fmt: skip
    arm_col = arm_cols[0] if arm_cols else None
    rows = []
    seen: dict[str, int | str] = {}
    for i, rec in enumerate(raw.to_dict("records")):
        line: int | str = i + 2 if records is None else records[i]
        name = str(rec["sample"]).strip()
        if not name:
            raise InputError("empty sample name", file=path, record=line, field="sample")
        if name in seen:
            first = f"line {seen[name]}" if isinstance(seen[name], int) else seen[name]
            raise InputError(f"sample {name!r} is listed twice (first on {first})",
                             file=path, record=line, field="sample")  # fmt: skip
        seen[name] = line
        cond = _condition(str(rec["condition"]))
        if cond is None:
            raise InputError(f"condition {rec['condition']!r}; expected T0, vehicle, drug or "
                             "unused (name the drug of a drug sample in an 'arm' column)",
                             file=path, record=line, field="condition")  # fmt: skip
        day_text = str(rec.get("day", "")).strip()
        day = _number(day_text, path=path, line=line, field="day", positive=False) if (
            day_text) else (0.0 if cond == "T0" else math.nan)  # fmt: skip
        if cond == "T0" and day != 0:
            raise InputError(f"T0 sample on day {day:g}; T0 is day 0", file=path, record=line,
                             field="day")  # fmt: skip
        dbl_text = str(rec.get("doublings", "")).strip()
        doublings = (
            _number(dbl_text, path=path, line=line, field="doublings", positive=cond != "T0")
            if dbl_text
            else math.nan
        )
        arm = str(rec[arm_col]).strip() if arm_col else ""
        if arm and cond == "T0":
            raise InputError(f"T0 sample with arm {arm!r}; T0 is shared by every arm, leave its "
                             "arm empty", file=path, record=line, field=arm_col)  # fmt: skip
        rows.append((name, cond, str(rec.get("replicate", "")).strip(), day, doublings, arm))
    if not rows:
        raise InputError("the sample sheet lists no samples", file=path)
    sheet = pd.DataFrame(rows, columns=["sample", "condition", "replicate", "day", "doublings",
                                        "arm"])  # fmt: skip
    _fill_replicates(sheet)
    if path is not None:
        sheet.attrs["file"] = str(path)
    return sheet


def _fill_replicates(sheet: pd.DataFrame) -> None:
    """Number samples within each condition and day where no replicate label is given."""
    empty = sheet["replicate"] == ""
    if empty.any():
        keys = sheet["condition"] + "@" + sheet["day"].astype(str)
        if "arm" in sheet.columns:
            keys = keys + "@" + sheet["arm"]
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
    sheet["arm"] = ""
    return sheet


def sheet_arms(sheet: pd.DataFrame) -> list[str]:
    """The drug arms of a sheet, in sheet order (``[""]`` when it names none)."""
    if "arm" not in sheet.columns:
        return [""]
    return list(dict.fromkeys(sheet.loc[sheet["condition"] == "drug", "arm"])) or [""]


def select_arm(sheet: pd.DataFrame, arm: str | None = None) -> pd.DataFrame:
    """The sheet with one drug arm: the other arms' drug and vehicle samples become unused.

    Parameters
    ----------
    sheet : pandas.DataFrame
        From :func:`read_sample_sheet` (a sheet without an ``arm`` column has one arm).
    arm : str, optional
        The arm to keep; may be left out when the sheet has one arm.

    Raises
    ------
    InputError
        ``field="arm"``: several arms and none chosen, or an arm the sheet does not name
        (with the closest names).
    """
    arms = sheet_arms(sheet)
    file = sheet.attrs.get("file")
    if arm is None or arm == "":
        if len(arms) > 1:
            raise InputError(f"the sheet has {len(arms)} drug arms ({', '.join(arms)}); choose "
                             "one", file=file, field="arm")  # fmt: skip
        return sheet
    if arm not in arms:
        close = difflib.get_close_matches(arm, [a for a in arms if a], n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise InputError(f"no drug arm {arm!r} in the sheet{hint} (arms: "
                         f"{', '.join(a or '(unnamed)' for a in arms)})", file=file,
                         field="arm")  # fmt: skip
    out = sheet.copy()
    other = (out["arm"] != "") & (out["arm"] != arm) & out["condition"].isin(["drug", "vehicle"])
    out.loc[other, "condition"] = "unused"
    out.attrs.update(sheet.attrs)
    return out


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
