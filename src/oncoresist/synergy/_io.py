"""Readers for drug-combination experiments: one tidy table of wells, located errors.

Layouts read (CSV, TSV or Parquet; chosen by the columns, not the file name):

* SynergyFinder's long table: ``block_id, drug_row, drug_col, conc_r, conc_c, response,
  conc_r_unit, conc_c_unit`` (Zheng et al. 2022), or its ``drug1, drug2, conc1, conc2,
  conc_unit[1|2]`` variant; a ``replicate`` column is optional;
* O'Neil et al. 2016's raw screen table: ``drugA_name, drugA Conc (µM), drugB_name,
  drugB Conc (µM)``, replicate columns ``viability1..N`` (fraction of control);
* a plain matrix: the first column holds drug A's concentrations, the header drug B's,
  the cells the response (drug names and units given by the caller).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from oncoresist.errors import InputError

Scale = Literal["inhibition", "viability"]

#: the columns of :attr:`CombinationData.table`, in order
TABLE_COLUMNS = ["block_id", "drug_row", "drug_col", "conc_r", "conc_c", "conc_r_unit",
                 "conc_c_unit", "replicate", "inhibition"]  # fmt: skip

_INHIBITION_NAMES = ("inhibition", "inhibition_pct", "% inhibition", "inhibition (%)",
                     "percent_inhibition")  # fmt: skip
_VIABILITY_NAMES = ("viability", "viability_pct", "% viability", "viability (%)",
                    "percent_viability")  # fmt: skip
_ONEIL_CONC = re.compile(r"^drug([ab]) conc \((.+)\)$")


@dataclass
class CombinationData:
    """A drug-combination experiment as one tidy table.

    Attributes
    ----------
    table
        One row per measured well (replicate): ``block_id`` (str), ``drug_row``,
        ``drug_col`` (str), ``conc_r``, ``conc_c`` (float, >= 0), ``conc_r_unit``,
        ``conc_c_unit`` (str), ``replicate`` (int, from 1), ``inhibition`` (float, percent).
    source
        The file read (``None`` when built from a DataFrame).
    response_was
        ``"inhibition"`` or ``"viability"``: what the file held (viability was converted,
        ``inhibition = 100 - viability %``).
    lines
        The file line of each row of ``table`` by position (1-based, header = line 1), for
        located errors; ``None`` where unknown. A table built by hand (or a subset of rows)
        should leave it ``None`` or pass the matching subset.
    notes
        What the reader decided (scale detection, replicates), in words.
    """

    table: pd.DataFrame
    source: Path | None = None
    response_was: Scale = "inhibition"
    lines: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    def line_of(self, row: int) -> int | None:
        """The file line behind ``table`` row ``row`` (position), if known."""
        if self.lines is None:
            return None
        return int(self.lines[row])


def read_combinations(
    path: str | Path,
    *,
    response: Scale | None = None,
    drug_row: str | None = None,
    drug_col: str | None = None,
    unit_row: str = "uM",
    unit_col: str | None = None,
) -> CombinationData:
    r"""Read a drug-combination file into a :class:`CombinationData`.

    Parameters
    ----------
    path
        CSV, TSV (``.tsv``/``.txt``) or Parquet file (see the module docstring for layouts).
    response
        What the response column holds. ``None`` detects it where that is unambiguous: a
        column named ``inhibition``/``inhibition_pct`` or ``viability``, O'Neil's
        ``viability1..N`` (fractions), or a generic ``response`` column whose untreated
        wells (both doses 0) sit near 0 (inhibition) or near 100 or 1 (viability, percent or
        fraction); anything else asks for ``response=``.
    drug_row, drug_col
        Drug names for a plain matrix (rows = ``drug_row`` concentrations).
    unit_row, unit_col
        Concentration units for a plain matrix (``unit_col`` defaults to ``unit_row``).

    Returns
    -------
    CombinationData
        The wells, with inhibition in percent.

    Raises
    ------
    InputError
        Naming the file, line and field: a missing or unreadable file, missing columns,
        a non-numeric or negative concentration, a non-numeric response (an empty or NA one
        leaves its well out, noted), a drug given in two units, a block with one drug only or
        with two drug pairs, duplicated wells without a replicate column (unless every well
        of the block repeats, or only the untreated control: those are replicates), an
        undetectable response scale.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "b.csv"
    >>> _ = p.write_text("drug1,drug2,conc1,conc2,conc_unit,inhibition\n"
    ...                  "A,B,0,0,uM,0\nA,B,1,0,uM,50\nA,B,0,1,uM,20\nA,B,1,1,uM,70\n")
    >>> read_combinations(p).table["inhibition"].tolist()
    [0.0, 50.0, 20.0, 70.0]
    """
    path = Path(path)
    raw = _read_raw(path)
    return combinations_from_frame(raw, source=path, response=response, drug_row=drug_row,
                                   drug_col=drug_col, unit_row=unit_row,
                                   unit_col=unit_col)  # fmt: skip


def combinations_from_frame(
    raw: pd.DataFrame,
    *,
    source: Path | None = None,
    response: Scale | None = None,
    drug_row: str | None = None,
    drug_col: str | None = None,
    unit_row: str = "uM",
    unit_col: str | None = None,
) -> CombinationData:
    """Build a :class:`CombinationData` from a raw table (all cells as text or numbers).

    Same layouts, parameters and errors as :func:`read_combinations`; lines count the
    header as line 1.
    """
    if response not in (None, "inhibition", "viability"):
        raise InputError(f"response={response!r}; expected 'inhibition' or 'viability'",
                         file=source)  # fmt: skip
    raw = raw.copy()
    raw.columns = [str(c).strip() for c in raw.columns]
    lower = {c.lower().replace("μ", "µ"): c for c in raw.columns}
    lines = np.arange(len(raw)) + 2
    if "druga_name" in lower:
        long, scale, notes = _from_oneil(raw, lower, source, response)
    elif {"drug_row", "drug_col", "conc_r", "conc_c"} <= lower.keys() or {
        "drug1",
        "drug2",
        "conc1",
        "conc2",
    } <= lower.keys():
        long, scale, notes = _from_long(raw, lower, source, response)
    elif _looks_like_matrix(raw):
        long, scale, notes, lines = _from_matrix(raw, source, response, drug_row, drug_col,
                                                 unit_row, unit_col or unit_row)  # fmt: skip
        return _finish(long, scale, notes, source, lines)
    else:
        raise InputError(
            "not a combination table; expected columns block_id, drug_row, drug_col, conc_r, "
            "conc_c, response (SynergyFinder), or drug1, drug2, conc1, conc2, or O'Neil's "
            "drugA_name/drugB_name/viability1.., or a matrix with concentrations as the header",
            file=source, record=1)  # fmt: skip
    return _finish(long, scale, notes, source, long.pop("_line").to_numpy())


def _read_raw(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise InputError("combination file not found", file=path)
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(path)
        except ImportError:
            raise InputError("reading Parquet needs pyarrow: pip install 'oncoresist[parquet]'",
                             file=path) from None  # fmt: skip
        except Exception as exc:  # pyarrow raises several unrelated types on a bad file
            raise InputError(f"not a readable Parquet file ({exc})", file=path) from None
        return frame
    sep = "\t" if {".tsv", ".txt", ".tab"} & {s.lower() for s in path.suffixes} else ","
    try:
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False,
                            encoding="utf-8-sig")  # fmt: skip
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text; expected a CSV/TSV combination table",
                         file=path) from None  # fmt: skip
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"not a readable {sep!r}-separated table ({exc})",
                         file=path) from None  # fmt: skip
    if frame.empty:
        raise InputError("no data rows", file=path)
    return frame


def _numbers(
    values: pd.Series, *, source: Path | None, lines: np.ndarray, field: str, what: str,
    allow_missing: bool = False,
) -> np.ndarray:  # fmt: skip
    """Parse a column as floats; the first bad cell is a located error."""
    text = values.astype(str).str.strip()
    num = pd.to_numeric(text.where(text != "", "nan"), errors="coerce").to_numpy(float)
    blank = text.str.lower().isin(["", "na", "nan", "none"]).to_numpy()
    bad = np.isnan(num) & ~(blank & allow_missing)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{text.iloc[i]!r} is not a number; expected {what}", file=source,
                         record=int(lines[i]), field=field)  # fmt: skip
    return num


def _column(lower: dict[str, str], *names: str) -> str | None:
    for n in names:
        if n in lower:
            return lower[n]
    return None


def _pick_response(
    raw: pd.DataFrame, lower: dict[str, str], source: Path | None, response: Scale | None
) -> tuple[str, Scale | None]:
    """The response column and its scale (``None`` for a generic column still to detect)."""
    inh = _column(lower, *_INHIBITION_NAMES)
    via = _column(lower, *_VIABILITY_NAMES)
    gen = _column(lower, "response")
    if response == "inhibition" and inh is not None:
        return inh, "inhibition"
    if response == "viability" and via is not None:
        return via, "viability"
    if gen is not None:
        return gen, response
    if response is None and inh is not None:
        return inh, "inhibition"
    if response is None and via is not None:
        return via, "viability"
    if inh is not None or via is not None:
        col = inh if inh is not None else via
        raise InputError(f"response={response!r} but the file's response column is {col!r}",
                         file=source, record=1, field=col)  # fmt: skip
    raise InputError("no response column; expected 'response', 'inhibition' or 'viability'",
                     file=source, record=1)  # fmt: skip


def _from_long(
    raw: pd.DataFrame, lower: dict[str, str], source: Path | None, response: Scale | None
) -> tuple[pd.DataFrame, Scale | None, list[str]]:
    lines = np.arange(len(raw)) + 2
    sf = "drug_row" in lower
    names = (("drug_row", "drug_col", "conc_r", "conc_c") if sf
             else ("drug1", "drug2", "conc1", "conc2"))  # fmt: skip
    d_r, d_c, c_r, c_c = (lower[n] for n in names)
    if sf:
        u_r = _column(lower, "conc_r_unit", "conc_unit_r", "conc_unit")
        u_c = _column(lower, "conc_c_unit", "conc_unit_c", "conc_unit")
    else:
        u_r = _column(lower, "conc_unit1", "conc_unit")
        u_c = _column(lower, "conc_unit2", "conc_unit")
    resp_col, scale = _pick_response(raw, lower, source, response)
    block = _column(lower, "block_id", "blockid", "block")
    rep = _column(lower, "replicate", "rep")
    out = pd.DataFrame({
        "block_id": raw[block].astype(str).str.strip() if block else "1",
        "drug_row": raw[d_r].astype(str).str.strip(),
        "drug_col": raw[d_c].astype(str).str.strip(),
        "conc_r": _numbers(raw[c_r], source=source, lines=lines, field=c_r,
                           what="a concentration (>= 0)"),
        "conc_c": _numbers(raw[c_c], source=source, lines=lines, field=c_c,
                           what="a concentration (>= 0)"),
        "conc_r_unit": raw[u_r].astype(str).str.strip() if u_r else "",
        "conc_c_unit": raw[u_c].astype(str).str.strip() if u_c else "",
        "response": _numbers(raw[resp_col], source=source, lines=lines, field=resp_col,
                             what="a response value (percent)", allow_missing=True),
        "_line": lines,
    })  # fmt: skip
    if rep is not None:
        labels = raw[rep].astype(str).str.strip()
        if (labels == "").any():
            i = int(np.flatnonzero((labels == "").to_numpy())[0])
            raise InputError("empty replicate; expected a replicate number or label",
                             file=source, record=int(lines[i]), field=rep)  # fmt: skip
        # numbers or labels ("A", "plate2"): replicate k is the k-th label of its block
        num = pd.to_numeric(labels, errors="coerce")
        key = num.to_numpy(float) if num.notna().all() else labels.to_numpy()
        frame = pd.DataFrame({"b": out["block_id"].to_numpy(), "k": key})
        first = frame.drop_duplicates().sort_values(["b", "k"], kind="stable")
        first["r"] = first.groupby("b").cumcount() + 1
        out["replicate"] = frame.merge(first, on=["b", "k"], how="left")["r"].to_numpy()
    for col, label in ((c_r, "conc_r"), (c_c, "conc_c")):
        _no_negative(out[label].to_numpy(), source, lines, col)
    _check_drugs(out, source, (d_r, d_c))
    notes = [f"response column {resp_col!r}"]
    return out, scale, notes


def _no_negative(conc: np.ndarray, source: Path | None, lines: np.ndarray, field: str) -> None:
    neg = conc < 0
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        raise InputError(f"negative concentration {conc[i]:g}; expected >= 0", file=source,
                         record=int(lines[i]), field=field)  # fmt: skip


def _check_drugs(out: pd.DataFrame, source: Path | None, fields: tuple[str, str]) -> None:
    lines = out["_line"].to_numpy()
    for col, name in zip(("drug_row", "drug_col"), fields, strict=True):
        empty = out[col].isin(["", "nan", "NA", "None"]).to_numpy()
        if empty.any():
            i = int(np.flatnonzero(empty)[0])
            raise InputError("empty drug name; a block needs two drugs", file=source,
                             record=int(lines[i]), field=name)  # fmt: skip
    same = (out["drug_row"] == out["drug_col"]).to_numpy()
    if same.any():
        i = int(np.flatnonzero(same)[0])
        raise InputError(f"both drugs are {out['drug_row'].iloc[i]!r}; a block needs two "
                         "different drugs", file=source, record=int(lines[i]),
                         field=fields[1])  # fmt: skip


def _from_oneil(
    raw: pd.DataFrame, lower: dict[str, str], source: Path | None, response: Scale | None
) -> tuple[pd.DataFrame, Scale, list[str]]:
    lines = np.arange(len(raw)) + 2
    conc_cols: dict[str, tuple[str, str]] = {}
    for key, col in lower.items():
        m = _ONEIL_CONC.match(key)
        if m:
            conc_cols[m.group(1)] = (col, col[col.index("(") + 1 : col.rindex(")")])
    if set(conc_cols) != {"a", "b"} or "drugb_name" not in lower:
        raise InputError("O'Neil layout needs drugA_name, drugA Conc (unit), drugB_name and "
                         "drugB Conc (unit)", file=source, record=1)  # fmt: skip
    reps = sorted((c for k, c in lower.items() if re.fullmatch(r"viability\d+", k)),
                  key=lambda c: int(re.sub(r"\D", "", c)))  # fmt: skip
    if not reps:
        raise InputError("O'Neil layout needs replicate columns viability1..N", file=source,
                         record=1)  # fmt: skip
    if response == "inhibition":
        raise InputError("O'Neil viability1..N columns hold viability (fraction of control), "
                         "not inhibition", file=source, record=1, field=reps[0])  # fmt: skip
    parts = [raw[lower[k]].astype(str).str.strip() for k in ("batchid", "cell_line")
             if k in lower]  # fmt: skip
    combo = (
        raw[lower["combination_name"]].astype(str).str.strip()
        if "combination_name" in lower
        else raw[lower["druga_name"]].astype(str) + " & " + raw[lower["drugb_name"]]
    )
    block = combo
    for p in reversed(parts):
        block = p + ":" + block
    base = pd.DataFrame({
        "block_id": block.to_numpy(),
        "drug_row": raw[lower["druga_name"]].astype(str).str.strip().to_numpy(),
        "drug_col": raw[lower["drugb_name"]].astype(str).str.strip().to_numpy(),
        "conc_r": _numbers(raw[conc_cols["a"][0]], source=source, lines=lines,
                           field=conc_cols["a"][0], what="a concentration (>= 0)"),
        "conc_c": _numbers(raw[conc_cols["b"][0]], source=source, lines=lines,
                           field=conc_cols["b"][0], what="a concentration (>= 0)"),
        "conc_r_unit": conc_cols["a"][1].replace("μ", "µ").replace("µ", "u"),
        "conc_c_unit": conc_cols["b"][1].replace("μ", "µ").replace("µ", "u"),
        "_line": lines,
    })  # fmt: skip
    _no_negative(base["conc_r"].to_numpy(), source, lines, conc_cols["a"][0])
    _no_negative(base["conc_c"].to_numpy(), source, lines, conc_cols["b"][0])
    _check_drugs(base, source, (lower["druga_name"], lower["drugb_name"]))
    frames = []
    for k, col in enumerate(reps, start=1):
        vals = _numbers(raw[col], source=source, lines=lines, field=col,
                        what="a viability (fraction of control)", allow_missing=True)  # fmt: skip
        part = base.assign(replicate=k, response=100.0 * vals)
        frames.append(part[~np.isnan(vals)])
    out = pd.concat(frames, ignore_index=True).sort_values(["_line", "replicate"],
                                                           kind="stable")  # fmt: skip
    notes = [
        f"O'Neil raw layout: {len(reps)} replicate columns of viability (fraction of "
        "control), converted to % inhibition = 100 * (1 - viability)"
    ]
    return out.reset_index(drop=True), "viability", notes


def _looks_like_matrix(raw: pd.DataFrame) -> bool:
    heads = list(raw.columns[1:])
    if not heads:
        return False
    return all(_is_number(h) for h in heads)


def _is_number(text: object) -> bool:
    try:
        float(str(text))
    except ValueError:
        return False
    return True


def _from_matrix(
    raw: pd.DataFrame, source: Path | None, response: Scale | None, drug_row: str | None,
    drug_col: str | None, unit_row: str, unit_col: str,
) -> tuple[pd.DataFrame, Scale | None, list[str], np.ndarray]:  # fmt: skip
    if not drug_row or not drug_col:
        raise InputError("a plain dose matrix needs the drug names (drug_row=, drug_col=; "
                         "--drug-row/--drug-col)", file=source, record=1)  # fmt: skip
    lines = np.arange(len(raw)) + 2
    first = raw.columns[0]
    conc_r = _numbers(raw[first], source=source, lines=lines, field=str(first),
                      what=f"a concentration of {drug_row} (>= 0)")  # fmt: skip
    _no_negative(conc_r, source, lines, str(first))
    conc_c = np.array([float(c) for c in raw.columns[1:]])
    if (conc_c < 0).any():
        j = int(np.flatnonzero(conc_c < 0)[0])
        raise InputError(f"negative concentration {conc_c[j]:g}; expected >= 0", file=source,
                         record=1, field=str(raw.columns[j + 1]))  # fmt: skip
    blocks = []
    for j, col in enumerate(raw.columns[1:]):
        vals = _numbers(raw[col], source=source, lines=lines, field=str(col),
                        what="a response value", allow_missing=True)  # fmt: skip
        blocks.append(pd.DataFrame({"conc_r": conc_r, "conc_c": conc_c[j], "response": vals,
                                    "_line": lines}))  # fmt: skip
    out = pd.concat(blocks, ignore_index=True)
    out.insert(0, "block_id", "1")
    out.insert(1, "drug_row", drug_row)
    out.insert(2, "drug_col", drug_col)
    out["conc_r_unit"] = unit_row
    out["conc_c_unit"] = unit_col
    if drug_row == drug_col:
        raise InputError(f"both drugs are {drug_row!r}; a block needs two different drugs",
                         file=source)  # fmt: skip
    out = out.sort_values(["_line", "conc_c"], kind="stable").reset_index(drop=True)
    return out, response, ["plain matrix: rows are " + drug_row], out.pop("_line").to_numpy()


def _detect_scale(long: pd.DataFrame, source: Path | None) -> tuple[Scale, float, str]:
    """Scale and factor to percent of a generic response column, from the untreated wells."""
    ctrl = long.loc[(long["conc_r"] == 0) & (long["conc_c"] == 0), "response"]
    if ctrl.empty:
        raise InputError("the response column does not say inhibition or viability and no "
                         "untreated wells (both doses 0) tell; pass response='inhibition' or "
                         "'viability' (--response)", file=source, field="response")  # fmt: skip
    level = float(ctrl.median())
    small = bool(long["response"].abs().max() <= 1.5)
    if small and abs(level - 1) <= 0.3:
        return (
            "viability",
            100.0,
            (
                f"untreated wells at {level:.3g} and every value within "
                "[-1.5, 1.5]: read as viability (fraction of control)"
            ),
        )
    if small:
        raise InputError("every response lies within [-1.5, 1.5]: a fraction? give inhibition "
                         "or viability in percent, or viability as a fraction with untreated "
                         "wells near 1", file=source, field="response")  # fmt: skip
    if abs(level) <= 20:
        return "inhibition", 1.0, f"untreated wells at {level:.3g}: read as % inhibition"
    if abs(level - 100) <= 30:
        return "viability", 1.0, f"untreated wells at {level:.3g}: read as % viability"
    raise InputError(f"untreated wells (both doses 0) at {level:.3g} say neither inhibition "
                     "(near 0) nor viability (near 100 or 1); pass response='inhibition' or "
                     "'viability' (--response)", file=source, field="response")  # fmt: skip


def _finish(
    long: pd.DataFrame,
    scale: Scale | None,
    notes: list[str],
    source: Path | None,
    lines: np.ndarray,
) -> CombinationData:
    keep = ~np.isnan(long["response"].to_numpy(float))
    if not keep.all():
        notes.append(f"{int((~keep).sum())} wells without a response (empty or NA) left out")
        long, lines = long[keep], np.asarray(lines)[keep]
        if long.empty:
            raise InputError("no well has a response", file=source, field="response")
    long = long.reset_index(drop=True)
    factor = 1.0
    if scale is None:
        scale, factor, why = _detect_scale(long, source)
        notes.append(why)
    elif scale == "viability" and "response" in long and not notes[0].startswith("O'Neil"):
        ctrl = long.loc[(long["conc_r"] == 0) & (long["conc_c"] == 0), "response"]
        if not ctrl.empty and abs(float(ctrl.median()) - 1) <= 0.3:
            factor = 100.0
            notes.append("viability given as a fraction of control: scaled to percent")
    resp = long.pop("response").to_numpy(float) * factor
    long["inhibition"] = 100.0 - resp if scale == "viability" else resp
    notes.append(
        f"response read as % {scale}"
        + (" and converted to % inhibition = 100 - viability %" if scale == "viability" else "")
    )
    _check_units(long, source, lines)
    _check_blocks(long, source, lines)
    if "replicate" not in long:
        long["replicate"] = _replicates_from_repeats(long, source, lines, notes)
    else:
        key = long[["block_id", "conc_r", "conc_c", "replicate"]]
        dup = key.duplicated().to_numpy()
        if dup.any():
            i = int(np.flatnonzero(dup)[0])
            raise InputError(f"well (conc {long['conc_r'].iloc[i]:g}, "
                             f"{long['conc_c'].iloc[i]:g}) replicate "
                             f"{long['replicate'].iloc[i]} appears twice in block "
                             f"{long['block_id'].iloc[i]!r}", file=source,
                             record=int(lines[i]), field="replicate")  # fmt: skip
    table = long[TABLE_COLUMNS].copy()
    table["replicate"] = table["replicate"].astype(int)
    for col in ("block_id", "drug_row", "drug_col", "conc_r_unit", "conc_c_unit"):
        table[col] = table[col].astype(str)
    return CombinationData(table=table, source=source, response_was=scale,
                           lines=np.asarray(lines), notes=notes)  # fmt: skip


def _check_units(long: pd.DataFrame, source: Path | None, lines: np.ndarray) -> None:
    seen: dict[str, tuple[str, int]] = {}
    drugs = np.concatenate([long["drug_row"].to_numpy(), long["drug_col"].to_numpy()])
    units = np.concatenate([long["conc_r_unit"].to_numpy(), long["conc_c_unit"].to_numpy()])
    fields = ["conc_r_unit"] * len(long) + ["conc_c_unit"] * len(long)
    rows = np.concatenate([np.arange(len(long))] * 2)
    for k in np.argsort(rows, kind="stable"):
        drug, unit = str(drugs[k]), str(units[k])
        first = seen.setdefault(drug, (unit, int(lines[rows[k]])))
        if first[0] != unit:
            raise InputError(f"drug {drug!r} in {unit!r} here but in {first[0]!r} on line "
                             f"{first[1]}; expected one unit per drug", file=source,
                             record=int(lines[rows[k]]), field=fields[k])  # fmt: skip


def _check_blocks(long: pd.DataFrame, source: Path | None, lines: np.ndarray) -> None:
    pair = long["drug_row"] + "\x00" + long["drug_col"]
    first_pair = pair.groupby(long["block_id"], sort=False).transform("first")
    other = (pair != first_pair).to_numpy()
    if other.any():
        i = int(np.flatnonzero(other)[0])
        raise InputError(f"block {long['block_id'].iloc[i]!r} mixes drug pairs "
                         f"({first_pair.iloc[i].replace(chr(0), ' x ')} and "
                         f"{pair.iloc[i].replace(chr(0), ' x ')}); expected one pair per "
                         "block", file=source, record=int(lines[i]),
                         field="drug_col")  # fmt: skip
    for b, g in long.groupby("block_id", sort=False):
        for col, drug in (("conc_r", "drug_row"), ("conc_c", "drug_col")):
            if not (g[col] > 0).any():
                i = int(g.index[0])
                raise InputError(f"block {b!r} has one drug only: {g[drug].iloc[0]!r} is never "
                                 f"given ({col} is 0 in every well); expected a combination",
                                 file=source, record=int(lines[i]), field=col)  # fmt: skip


def _replicates_from_repeats(
    long: pd.DataFrame, source: Path | None, lines: np.ndarray, notes: list[str]
) -> np.ndarray:
    """Number repeated wells 1..k in file order, where repeats can only be replicates.

    Without a replicate column a repeated well is read as a replicate when every well of its
    block repeats (not necessarily equally often), or when only the untreated well (both
    doses 0: the plate's control wells) repeats. Anything else looks like a pasted duplicate.
    """
    key = [long["block_id"], long["conc_r"], long["conc_c"]]
    rep = long.groupby(key, sort=False).cumcount().to_numpy() + 1
    size = long.groupby(key, sort=False)["conc_r"].transform("size").to_numpy()
    control = ((long["conc_r"] == 0) & (long["conc_c"] == 0)).to_numpy()
    for b, idx in long.groupby("block_id", sort=False).indices.items():
        treated = idx[~control[idx]]
        repeated = size[treated] > 1
        if repeated.any() and not repeated.all():
            i = int(treated[(rep[treated] > 1)][0])
            raise InputError(f"well (conc {long['conc_r'].iloc[i]:g}, "
                             f"{long['conc_c'].iloc[i]:g}) of block {b!r} appears more than "
                             "once but other wells do not; without a replicate column, "
                             "repeated wells are replicates only when every well repeats "
                             "(or only the untreated control)", file=source,
                             record=int(lines[i]), field="conc_c")  # fmt: skip
        if repeated.any():
            lo, hi = int(size[treated].min()), int(size[treated].max())
            times = f"{lo}" if lo == hi else f"{lo} to {hi}"
            notes.append(f"block {b!r}: every well appears {times} times: read as replicates")
    return rep
