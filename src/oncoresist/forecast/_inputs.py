"""Reading serial marker measurements and the treatment they were taken under.

One long table, one row per measurement: ``patient_id``, ``day`` (days from a reference of
the user's choosing, e.g. the start of treatment) or ``date`` (ISO), ``marker`` (one of
:data:`MARKERS`), ``value``, and optionally ``lower_limit_of_quantification`` and
``on_treatment``. A value written ``<0.05`` is censored below 0.05; an empty value with a
limit is censored below the limit; a value below its limit is censored there. Censored
values are never read as zero.

The treatment comes from the ``on_treatment`` column (1 while the drug is given in the
interval that starts at the measurement) or from the lines of therapy the monitor reads
(:func:`oncoresist.monitor.read_therapy`; measurements then need dates).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from oncoresist.errors import InputError
from oncoresist.monitor._inputs import (
    PathLike,
    Where,
    _date,
    _load,
    _require,
    _required_text,
)
from oncoresist.variants._table import _blank, _number

__all__ = ["MARKERS", "read_measurements", "treatment_days"]

#: Markers a series may carry, with their units.
MARKERS: dict[str, str] = {
    "psa": "ng/mL",
    "ctdna_mtm_per_ml": "mutant tumour molecules per mL of plasma",
    "ctdna_vaf": "variant allele fraction (0-1)",
    "sum_of_diameters": "mm (RECIST 1.1 target lesions)",
    "lesion_diameter": "mm",
    "lesion_volume": "mm3",
    "lesion_normvol": "volume / the cohort's largest volume",
    "cea": "ng/mL",
    "ca125": "U/mL",
    "ca19_9": "U/mL",
    "testosterone": "as given (ng/dL or nmol/L; intermittent androgen deprivation series)",
}
_COLUMNS = ("patient_id", "day", "date", "marker", "value", "lower_limit_of_quantification",
            "on_treatment")  # fmt: skip
_EXPECTED = ("patient_id", "day or date", "marker", "value",
             "optional lower_limit_of_quantification, on_treatment")  # fmt: skip
_BELOW = re.compile(r"^\s*<\s*=?\s*([0-9.eE+-]+)\s*$")
_YES = {"1", "1.0", "true", "yes", "y", "on"}
_NO = {"0", "0.0", "false", "no", "n", "off"}


def read_measurements(path: PathLike) -> pd.DataFrame:
    """Read serial marker measurements (see the module docstring for the columns).

    Returns
    -------
    pandas.DataFrame
        ``patient_id, marker, day, date, value, lower_limit_of_quantification, censored,
        on_treatment, line``; ``value`` is the limit for censored rows; ``day`` is from the
        file or, with dates only, days since the patient's first measurement of any marker;
        sorted by patient, marker and day as in the file.

    Raises
    ------
    InputError
        Naming file, line and column: a missing column, an unknown marker, a negative or
        non-numeric value, a fraction above 1, days going backwards within a patient's
        marker series, or a series with a single measurement.
    """
    table = _load(path, _COLUMNS, "serial marker measurements")
    _require(table, ("patient_id", "marker", "value"), _EXPECTED)
    if not {"day", "date"} & table.columns:
        _require(table, ("day",), _EXPECTED)
    records = [_record(values, path, where) for where, values in table.rows]
    frame = pd.DataFrame.from_records(records)
    if frame["day"].isna().any():  # dates only: days since each patient's first date
        first = frame.groupby("patient_id")["date"].transform("min")
        frame["day"] = (frame["date"] - first).dt.total_seconds() / 86400.0
    _check_series(frame, path)
    return frame.reset_index(drop=True)


def _record(values: dict[str, Any], path: PathLike, where: Where) -> dict[str, Any]:
    patient = _required_text(values, "patient_id", path, where)
    marker = _required_text(values, "marker", path, where).strip().lower()
    if marker not in MARKERS:
        raise InputError(
            f"unknown marker {marker!r}; expected one of {', '.join(MARKERS)}",
            file=path, record=where, field="marker",
        )  # fmt: skip
    day = _finite(values.get("day"), path, where, "day", required=False)
    date = _date(values.get("date"), path, where, "date", required=day is None)
    lloq = _finite(values.get("lower_limit_of_quantification"), path, where,
                   "lower_limit_of_quantification", required=False, positive=True)  # fmt: skip
    raw = values.get("value")
    below = _BELOW.match(str(raw)) if not _blank(raw) else None
    if below:  # "<0.05": censored below 0.05
        value = _finite(below.group(1), path, where, "value", positive=True)
        lloq = value if lloq is None else lloq
        censored = True
    elif _blank(raw):
        if lloq is None:
            raise InputError(
                "empty value; expected a number >= 0, or '<LIMIT' for a value below the "
                "limit of quantification (or give lower_limit_of_quantification)",
                file=path, record=where, field="value",
            )  # fmt: skip
        value, censored = lloq, True
    else:
        value = _finite(raw, path, where, "value")
        censored = lloq is not None and value < lloq
        value = lloq if censored else value
    if marker == "ctdna_vaf" and value > 1:
        raise InputError(
            f"value {value:g} is above 1 for ctdna_vaf: it looks like a percentage; expected "
            f"a fraction between 0 and 1 (write {value / 100:g})",
            file=path, record=where, field="value",
        )  # fmt: skip
    return {
        "patient_id": patient,
        "marker": marker,
        "day": np.nan if day is None else day,
        "date": date,
        "value": value,
        "lower_limit_of_quantification": np.nan if lloq is None else lloq,
        "censored": censored,
        "on_treatment": _flag(values.get("on_treatment"), path, where),
        "line": where,
    }


def _finite(value, path, where, column, *, required=True, positive=False) -> float | None:
    """A finite number: >= 0 (> 0 with ``positive``); any sign for ``day``."""
    number = None if _blank(value) else _number(value, path, where, column)
    if number is None:
        if required:
            raise InputError(f"empty {column}; expected a number", file=path, record=where,
                             field=column)  # fmt: skip
        return None
    signed = column == "day"  # days before the reference are fine
    if not np.isfinite(number) or (not signed and (number < 0 or (positive and number == 0))):
        bound = "" if signed else " > 0" if positive else " >= 0"
        raise InputError(f"{column} {value!r}; expected a finite number{bound}", file=path,
                         record=where, field=column)  # fmt: skip
    return number


def _flag(value: Any, path: PathLike, where: Where) -> float:
    if _blank(value):
        return np.nan
    text = str(value).strip().lower()
    if text in _YES:
        return 1.0
    if text in _NO:
        return 0.0
    raise InputError(
        f"on_treatment {value!r}; expected 1 or 0 (yes/no, true/false)",
        file=path, record=where, field="on_treatment",
    )  # fmt: skip


def _check_series(frame: pd.DataFrame, path: PathLike) -> None:
    for (patient, marker), series in frame.groupby(["patient_id", "marker"], sort=False):
        days = series["day"].to_numpy()
        back = np.flatnonzero(np.diff(days) < 0)
        if back.size:
            row = series.iloc[back[0] + 1]
            raise InputError(
                f"patient {patient}, {marker}: day {row['day']:g} comes after day "
                f"{days[back[0]]:g}; expected each series sorted by day (sort the file by "
                "patient_id, marker and day)",
                file=path, record=_where(row["line"]), field="day",
            )  # fmt: skip
        if len(series) < 2:
            raise InputError(
                f"patient {patient} has a single {marker} measurement; expected at least two "
                "per series (a forecast needs a course, not a point)",
                file=path, record=_where(series.iloc[0]["line"]), field="value",
            )  # fmt: skip


def _where(value: Any) -> Where:
    """A line number back from a pandas column (numpy integers are not ``int``)."""
    return int(value) if isinstance(value, int | np.integer) else str(value)


def treatment_days(measurements: pd.DataFrame, therapy: pd.DataFrame) -> pd.DataFrame:
    """Mark each measurement on or off treatment from lines of therapy.

    Parameters
    ----------
    measurements : pandas.DataFrame
        As :func:`read_measurements` returns (with dates).
    therapy : pandas.DataFrame
        As :func:`oncoresist.monitor.read_therapy` returns.

    Returns
    -------
    pandas.DataFrame
        ``measurements`` with ``on_treatment`` (1 inside a line, 0 outside) and
        ``regimen`` (the line's regimen, empty outside).

    Raises
    ------
    InputError
        A measurement without a date, or a patient with measurements and no line of
        therapy (the table does not cover the series).
    """
    if measurements["date"].isna().any():
        raise InputError(
            "lines of therapy are dated: give the measurements a date column (or use "
            "on_treatment instead of a therapy table)",
            field="date",
        )
    out = measurements.copy()
    out["regimen"] = ""
    out["on_treatment"] = 0.0
    for patient, rows in out.groupby("patient_id", sort=False):
        lines = therapy[therapy["patient_id"] == patient]
        if lines.empty:
            raise InputError(
                f"patient {patient} has measurements but no line of therapy; expected the "
                "therapy table to cover every patient's series",
                field="patient_id",
            )
        for _, line in lines.iterrows():
            end = line["end_date"] if not pd.isna(line["end_date"]) else pd.Timestamp.max
            inside = (rows["date"] >= line["start_date"]) & (rows["date"] < end)
            out.loc[rows.index[inside], "on_treatment"] = 1.0
            out.loc[rows.index[inside], "regimen"] = line["regimen"]
    return out
