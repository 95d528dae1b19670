"""Count tables as MAGeCK writes them: ``sgRNA``, ``gene``, one read-count column per sample."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from oncoresist.errors import InputError

#: Excel turns some gene symbols into dates ("1-Dec", "Sep-08"); these map them back.
_MONTHS = {"mar": "MARCH", "sep": "SEPT", "oct": "OCT", "nov": "NOV", "dec": "DEC"}
_DATE = re.compile(r"^(\d{1,2})-([A-Za-z]{3})$|^([A-Za-z]{3})-(\d{1,2})$")


def unmangle_gene(name: str) -> str | None:
    """The symbol behind a spreadsheet date (``1-Dec`` -> ``DEC1``), or ``None``."""
    m = _DATE.match(name)
    if not m:
        return None
    num, mon = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    stem = _MONTHS.get(mon.lower())
    return None if stem is None else f"{stem}{int(num)}"


def read_counts(path: str | Path) -> pd.DataFrame:
    """Read a count table (CSV or TSV, gzipped or not) and check it.

    Returns
    -------
    pandas.DataFrame
        Index ``sgRNA``; column ``gene`` then one int64 column per sample. Gene symbols
        that a spreadsheet turned into dates are mapped back (``1-Dec`` -> ``DEC1``); the
        frame's ``attrs["unmangled"]`` lists them.

    Raises
    ------
    InputError
        Naming the file, line and column: fewer than three columns, a duplicated sgRNA, a
        count that is negative or not a whole number, or a date-like gene symbol that
        cannot be mapped back.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("count table not found", file=path)
    sep = "\t" if ".tsv" in path.suffixes or ".txt" in path.suffixes else ","
    try:
        raw = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"not a readable {sep!r}-separated table ({exc})", file=path) from None
    if raw.shape[1] < 3:
        raise InputError("expected columns sgRNA, gene and at least one sample", file=path)
    raw.columns = ["sgRNA", "gene", *raw.columns[2:]]
    dup = raw["sgRNA"].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise InputError(f"sgRNA {raw['sgRNA'].iloc[i]!r} appears twice", file=path,
                         record=i + 2, field="sgRNA")  # fmt: skip
    fixed = {}
    genes = raw["gene"].copy()
    for i, g in enumerate(genes):
        if _DATE.match(g):
            new = unmangle_gene(g)
            if new is None:
                raise InputError(f"gene {g!r} looks like a spreadsheet date; give the symbol",
                                 file=path, record=i + 2, field="gene")  # fmt: skip
            fixed[g] = new
            genes.iloc[i] = new
    out = pd.DataFrame({"gene": genes.to_numpy()}, index=pd.Index(raw["sgRNA"], name="sgRNA"))
    for col in raw.columns[2:]:
        values = pd.to_numeric(raw[col], errors="coerce").to_numpy()
        bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"count {raw[col].iloc[i]!r}; expected a whole number >= 0",
                             file=path, record=i + 2, field=col)  # fmt: skip
        out[col] = values.astype(np.int64)
    out.attrs["unmangled"] = fixed
    return out
