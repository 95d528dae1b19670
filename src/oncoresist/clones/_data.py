"""Read counts and copy numbers of mutations across samples: the input of clonal deconvolution.

:class:`MutationData` holds, for N mutations in S samples (biopsies, regions or serial
plasma draws, in time order), the alternative-allele and total read counts, the tumour's
major and minor copy numbers at each mutation, the normal copy number and each sample's
purity. :func:`read_mutations` reads PyClone-VI's long TSV (Gillis & Roth 2020, BMC
Bioinformatics 21:571, doi:10.1186/s12859-020-03919-2) as it is; :func:`read_clonevol_table`
reads ClonEvol's clustered-variant tables (Dang et al. 2017, Ann Oncol 28:3076,
doi:10.1093/annonc/mdx517), such as the AML1 patient of Ding et al. 2012 (Nature 481:506).

Two choices differ from PyClone-VI, which drops both kinds of row:

* A mutation with no row for a sample is kept, with depth 0 there: depth 0 means "not
  sequenced" and carries no information. Zero alternative reads at a known depth is
  evidence of absence and is kept as it is.
* A row with ``major_cn`` 0 (no tumour copy of the locus) is kept; the expected VAF there is
  0 whatever the clone's CCF, so the row informs nothing.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import os
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from oncoresist._files import atomic_write
from oncoresist.errors import InputError

PathLike = str | os.PathLike[str]

#: The columns :func:`read_mutations` requires (``ref_counts`` may be replaced by ``depth``).
REQUIRED_COLUMNS = (
    "mutation_id",
    "sample_id",
    "ref_counts",
    "alt_counts",
    "major_cn",
    "minor_cn",
    "normal_cn",
)
_PURITY_COLUMNS = ("tumour_content", "tumor_content", "purity")


@dataclass(frozen=True, eq=False)
class MutationData:
    """Read counts of N mutations in S samples, with copy numbers and purities.

    Arrays are copied on construction and made read-only. Matrices are N x S (mutations in
    rows, samples in columns).

    Parameters
    ----------
    mutations
        The N mutation ids, unique.
    samples
        The S sample ids, unique, in time (or sampling) order.
    alt
        Alternative-allele reads (int64, >= 0).
    depth
        Total reads at the locus, reference + alternative (int64, >= ``alt``). 0 means the
        mutation was not sequenced in that sample: no information.
    major_cn, minor_cn
        Tumour copy numbers of the major and minor allele (int64, ``major >= minor >= 0``).
        Rows with ``major_cn`` 0 are allowed and carry no information.
    normal_cn
        Copy number in normal cells (int64, >= 0); 2 everywhere when omitted.
    purity
        Tumour fraction of each sample's cells, S floats in (0, 1]; a scalar is used for
        every sample; 1.0 when omitted.
    genes, alterations
        Optional per-mutation annotations (e.g. ``"EGFR"``, ``"C797S"``); ``""`` is unknown.
    times
        Optional sampling times (S floats, days), non-decreasing.

    Raises
    ------
    InputError
        With ``field`` naming the argument and ``record`` the mutation and sample: shapes
        that disagree, negative or non-integer counts, ``alt > depth``, ``major < minor``,
        purity outside (0, 1], duplicated ids, times out of order.
    """

    mutations: list[str]
    samples: list[str]
    alt: np.ndarray
    depth: np.ndarray
    major_cn: np.ndarray
    minor_cn: np.ndarray
    normal_cn: np.ndarray = None  # type: ignore[assignment]  # None: 2 everywhere
    purity: np.ndarray = None  # type: ignore[assignment]  # None: 1.0 in every sample
    genes: list[str] | None = None
    alterations: list[str] | None = None
    times: np.ndarray | None = None

    def __post_init__(self) -> None:
        mutations = [str(m) for m in self.mutations]
        samples = [str(s) for s in self.samples]
        _unique(mutations, "mutations")
        _unique(samples, "samples")
        shape = (len(mutations), len(samples))
        if shape[1] == 0:
            raise InputError("no samples; expected at least one", field="samples")
        set_ = object.__setattr__
        set_(self, "mutations", mutations)
        set_(self, "samples", samples)
        for name in ("alt", "depth", "major_cn", "minor_cn", "normal_cn"):
            value = getattr(self, name)
            if value is None:  # only normal_cn has a default
                value = np.full(shape, 2, dtype=np.int64)
            set_(self, name, _int_matrix(value, name, shape, mutations, samples))
        purity = 1.0 if self.purity is None else self.purity
        set_(self, "purity", _per_sample(purity, "purity", samples))
        if self.times is not None:
            times = _per_sample(self.times, "times", samples)
            if np.any(np.diff(times) < 0):
                raise InputError(
                    f"sampling times {times.tolist()} go backwards; give samples in time order",
                    field="times",
                )
            set_(self, "times", times)
        for name in ("genes", "alterations"):
            value = getattr(self, name)
            if value is not None:
                value = ["" if v is None else str(v) for v in value]
                if len(value) != shape[0]:
                    raise InputError(
                        f"{len(value)} values for {shape[0]} mutations; expected one each",
                        field=name,
                    )
                set_(self, name, value)
        self._check()

    def _check(self) -> None:
        def fail(bad: np.ndarray, field: str, message: str) -> None:
            i, j = np.argwhere(bad)[0]
            raise InputError(
                message,
                record=f"mutation {self.mutations[i]!r}, sample {self.samples[j]!r}",
                field=field,
            )

        alt, depth, major, minor = self.alt, self.depth, self.major_cn, self.minor_cn
        for name in ("alt", "depth", "minor_cn", "normal_cn"):
            bad = getattr(self, name) < 0
            if bad.any():
                value = getattr(self, name)[bad][0]
                fail(bad, name, f"{name} is {value}; expected a whole number >= 0")
        bad = alt > depth
        if bad.any():
            fail(
                bad,
                "alt",
                f"{alt[bad][0]} alternative reads but depth {depth[bad][0]}; "
                "expected alt <= depth (depth = reference + alternative reads)",
            )
        bad = major < minor
        if bad.any():
            fail(
                bad,
                "major_cn",
                f"major_cn {major[bad][0]} < minor_cn {minor[bad][0]}; "
                "expected the major allele's copy number to be the larger",
            )
        bad_purity = ~((self.purity > 0) & (self.purity <= 1))
        if bad_purity.any():
            j = int(np.flatnonzero(bad_purity)[0])
            raise InputError(
                f"purity {self.purity[j]}; expected a fraction in (0, 1]",
                record=f"sample {self.samples[j]!r}",
                field="purity",
            )

    @property
    def n_mutations(self) -> int:
        """Number of mutations N."""
        return len(self.mutations)

    @property
    def n_samples(self) -> int:
        """Number of samples S."""
        return len(self.samples)

    @property
    def total_cn(self) -> np.ndarray:
        """Tumour total copy number, ``major_cn + minor_cn`` (N x S int64)."""
        return self.major_cn + self.minor_cn

    @property
    def vaf(self) -> np.ndarray:
        """Variant allele fraction ``alt / depth`` (N x S floats); NaN where depth is 0."""
        out = np.full(self.alt.shape, np.nan)
        np.divide(self.alt, self.depth, out=out, where=self.depth > 0)
        return out


def expected_vaf(
    data: MutationData,
    ccf: np.ndarray,
    multiplicity: np.ndarray | int = 1,
    *,
    reference_cn: np.ndarray | None = None,
) -> np.ndarray:
    """Expected VAF of each mutation in each sample given its cancer-cell fraction.

    The cells of a sample are normal (a fraction ``1 - purity``, ``normal_cn`` copies),
    cancer cells without the mutation (``purity * (1 - CCF)``, ``reference_cn`` copies) and
    cancer cells with it (``purity * CCF``, ``total_cn`` copies of which ``m``, the
    multiplicity, carry the mutation)::

        VAF = purity * CCF * m / ((1 - purity) * normal_cn
                                  + purity * (1 - CCF) * reference_cn
                                  + purity * CCF * total_cn)

    PyClone's genotype model (Roth et al. 2014): a mutation that came *after* a copy-number
    change shares the change with the cells that lack it (``reference_cn = total_cn``, the
    default, which gives ``purity * CCF * m / (purity * total_cn + (1 - purity) *
    normal_cn)``); one that came *before* it lies in the lineage that changed, so the cells
    without it kept the normal copy number (``reference_cn = normal_cn``).

    Parameters
    ----------
    data
        Copy numbers and purities.
    ccf
        Cancer-cell fraction of each mutation (N x S, or N, fractions in [0, 1]).
    multiplicity
        Mutated copies per cell that carries the mutation (N x S, N or scalar ints).
    reference_cn
        Copy number of the cancer cells without the mutation (N x S ints); ``None`` for
        ``total_cn``.

    Returns
    -------
    numpy.ndarray
        N x S expected VAFs (fractions); 0 where the denominator is 0.
    """
    ccf = np.asarray(ccf, dtype=float)
    if ccf.ndim == 1:
        ccf = ccf[:, None]
    mult = np.asarray(multiplicity, dtype=float)
    if mult.ndim == 1:
        mult = mult[:, None]
    purity = data.purity[None, :]
    total = data.total_cn
    ref = total if reference_cn is None else np.asarray(reference_cn, dtype=float)
    denom = (1.0 - purity) * data.normal_cn + purity * (1.0 - ccf) * ref + purity * ccf * total
    num = np.broadcast_to(purity * ccf * mult, denom.shape)
    out = np.zeros(denom.shape)
    np.divide(num, denom, out=out, where=denom > 0)
    return out


# --------------------------------------------------------------------------- reading


def read_mutations(path: PathLike, *, samples_path: PathLike | None = None) -> MutationData:
    r"""Read PyClone-VI's long mutation table (one row per mutation and sample).

    Parameters
    ----------
    path
        Tab-separated (comma-separated when the name ends in ``.csv``; either may be
        gzipped, ``.gz``) with a header and the columns

        * ``mutation_id``, ``sample_id``;
        * ``ref_counts``, ``alt_counts`` (reads; depth = ref + alt). A ``depth`` column
          (total reads) may replace ``ref_counts``; it is ignored when both are given;
        * ``major_cn``, ``minor_cn``, ``normal_cn`` (copy numbers);
        * optional ``tumour_content`` (also ``tumor_content`` or ``purity``; the sample's
          purity, a fraction in (0, 1], the same on every row of a sample; 1.0 when absent),
          ``error_rate`` (allowed, ignored), ``gene``, ``alteration`` (per mutation) and
          ``time`` (days, per sample).

        Other columns are ignored. Blank lines are skipped. A row repeated with identical
        values is read once.
    samples_path
        Optional sample table (same format rules) with ``sample_id`` and optional ``time``
        (days) and ``purity`` (or ``tumour_content``). It lists every sample of ``path``,
        and sets their order and, when given, their times and purities (which must agree
        with ``path`` where both give them).

    Returns
    -------
    MutationData
        Mutations in order of first appearance. Samples in the order of ``samples_path``
        (sorted by its ``time`` when it has one); else by ``time`` when ``path`` has it;
        else in order of first appearance (ties keep that order). A mutation with no row
        for a sample has depth 0 (and alt 0) there, copy numbers taken from another
        sample of the same mutation, and carries no information there.

    Raises
    ------
    InputError
        Naming the file, line (1-based, the header is line 1) and column: a missing file or
        required column, a short or long row, counts or copy numbers that are not whole
        numbers >= 0, alt > depth, major_cn < minor_cn, purity outside (0, 1], a
        mutation/sample pair given twice with different values, purity or time differing
        between rows of a sample, gene or alteration differing between rows of a mutation,
        a sample of ``samples_path`` missing from ``path`` or the other way round.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.tsv"
    >>> _ = p.write_text(
    ...     "mutation_id\tsample_id\tref_counts\talt_counts\tmajor_cn\tminor_cn\tnormal_cn\n"
    ...     "m1\tt1\t90\t10\t1\t1\t2\n"
    ... )
    >>> d = read_mutations(p)
    >>> d.n_mutations, d.n_samples, float(d.vaf[0, 0])
    (1, 1, 0.1)
    """
    table = _Table.read(path, "mutation table")
    ref_col = "ref_counts" if "ref_counts" in table.columns else "depth"
    if "ref_counts" not in table.columns and "depth" not in table.columns:
        table.require(("ref_counts",))
    table.require(tuple(c for c in REQUIRED_COLUMNS if c != "ref_counts"))
    mut = table.text("mutation_id", nonempty=True)
    smp = table.text("sample_id", nonempty=True)
    alt = table.whole("alt_counts", what="reads")
    ref = table.whole(ref_col, what="reads")
    major = table.whole("major_cn", what="copy number")
    minor = table.whole("minor_cn", what="copy number")
    normal = table.whole("normal_cn", what="copy number")
    if ref_col == "ref_counts":
        depth = ref + alt
    else:
        depth = ref
        table.check(
            alt > depth,
            "alt_counts",
            lambda i: (
                f"{alt[i]} alternative reads but depth {depth[i]}; expected alt_counts <= depth"
            ),
        )
    table.check(
        major < minor,
        "major_cn",
        lambda i: (
            f"major_cn {major[i]} < minor_cn {minor[i]}; expected major_cn >= minor_cn "
            "(the major allele is the one with more copies)"
        ),
    )
    purity_col = next((c for c in _PURITY_COLUMNS if c in table.columns), None)
    purity = None if purity_col is None else table.fraction(purity_col)
    time = table.number("time") if "time" in table.columns else None

    frame = pd.DataFrame(
        {
            "mutation": mut,
            "sample": smp,
            "alt": alt,
            "depth": depth,
            "major": major,
            "minor": minor,
            "normal": normal,
            "line": table.lines,
        }
    )
    if purity is not None:
        frame["purity"] = purity
    if time is not None:
        frame["time"] = time
    annotations = [c for c in ("gene", "alteration") if c in table.columns]
    for col in annotations:
        frame[col] = table.text(col)
    fields = {
        "alt": "alt_counts",
        "depth": ref_col,
        "major": "major_cn",
        "minor": "minor_cn",
        "normal": "normal_cn",
        "purity": purity_col or "purity",
    }
    frame = _drop_repeats(frame, table, fields)
    sample_lines = frame.groupby("sample", sort=False)["line"].first()
    for col, field in (("purity", purity_col), ("time", "time")):
        if col in frame.columns:
            _constant_within(frame, "sample", col, table, field, "sample")
    for col in annotations:
        _constant_within(frame, "mutation", col, table, col, "mutation", skip_empty=True)

    samples = list(sample_lines.index)
    sample_purity = (
        frame.groupby("sample", sort=False)["purity"].first() if purity is not None else None
    )
    sample_time = frame.groupby("sample", sort=False)["time"].first() if time is not None else None
    if samples_path is not None:
        samples, sample_purity, sample_time = _apply_sample_table(
            samples_path, samples, sample_lines, sample_purity, sample_time, table.path
        )
    elif sample_time is not None:
        samples = sorted(samples, key=lambda s: sample_time[s])  # stable: ties keep order
    mutations = list(pd.unique(frame["mutation"]))
    i = pd.Index(mutations).get_indexer(frame["mutation"])
    j = pd.Index(samples).get_indexer(frame["sample"])
    shape = (len(mutations), len(samples))

    def matrix(col: str, fill: int) -> np.ndarray:
        out = np.full(shape, fill, dtype=np.int64)
        out[i, j] = frame[col].to_numpy()
        return out

    major_m, minor_m, normal_m = matrix("major", -1), matrix("minor", -1), matrix("normal", -1)
    absent = major_m < 0
    if absent.any():
        # Copy numbers of an unsequenced cell are never used; borrow the mutation's first row.
        first = frame.groupby("mutation", sort=False)[["major", "minor", "normal"]].first()
        rows, _ = np.nonzero(absent)
        for m, col in ((major_m, "major"), (minor_m, "minor"), (normal_m, "normal")):
            m[absent] = first[col].to_numpy()[rows]
    annot: dict[str, list[str]] = {}
    for col in annotations:
        nonempty = frame[frame[col] != ""]
        first_value = nonempty.groupby("mutation", sort=False)[col].first()
        annot[col] = [str(first_value.get(m, "")) for m in mutations]
    try:
        return MutationData(
            mutations=mutations,
            samples=samples,
            alt=matrix("alt", 0),
            depth=matrix("depth", 0),
            major_cn=major_m,
            minor_cn=minor_m,
            normal_cn=normal_m,
            purity=None if sample_purity is None else sample_purity[samples].to_numpy(float),
            genes=annot.get("gene"),
            alterations=annot.get("alteration"),
            times=None if sample_time is None else sample_time[samples].to_numpy(float),
        )
    except InputError as exc:  # pragma: no cover - the row checks above catch these first
        raise exc.located(file=table.path) from None


def _drop_repeats(frame: pd.DataFrame, table: _Table, fields: dict[str, str]) -> pd.DataFrame:
    """Read a mutation/sample pair given twice once; different values are an error.

    ``fields`` maps the frame's columns to the file's, for messages.
    """
    keys = ["mutation", "sample"]
    values = [c for c in frame.columns if c not in (*keys, "line")]
    frame = frame[~frame.duplicated([*keys, *values])]
    dup = frame.duplicated(keys)
    if dup.any():
        k = int(np.flatnonzero(dup.to_numpy())[0])
        row = frame.iloc[k]
        first = frame[(frame["mutation"] == row["mutation"]) & (frame["sample"] == row["sample"])]
        first = first.iloc[0]
        col = next(c for c in values if first[c] != row[c])
        field = fields.get(col, col)
        what = "copy numbers differ" if col in ("major", "minor", "normal") else "values differ"
        raise InputError(
            f"mutation {row['mutation']!r} in sample {row['sample']!r} is given again with "
            f"different values ({what}: {field} {row[col]} here, {first[col]} on line "
            f"{first['line']}); expected one row per mutation and sample",
            file=table.path,
            record=int(row["line"]),
            field=field,
        )
    return frame


def _constant_within(
    frame: pd.DataFrame,
    key: str,
    col: str,
    table: _Table,
    field: str | None,
    what: str,
    *,
    skip_empty: bool = False,
) -> None:
    """Check that ``col`` takes one value on all rows of each ``key`` (sample or mutation)."""
    sub = frame[frame[col] != ""] if skip_empty else frame
    first = sub.groupby(key, sort=False)[col].transform("first")
    bad = (sub[col] != first).to_numpy()
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        row = sub.iloc[k]
        earlier = sub[(sub[key] == row[key])].iloc[0]
        raise InputError(
            f"{field} {_show(row[col])} for {what} {row[key]!r}, but {_show(earlier[col])} on line "
            f"{earlier['line']}; expected one value per {what}",
            file=table.path,
            record=int(row["line"]),
            field=field,
        )


def _apply_sample_table(
    samples_path: PathLike,
    samples: list[str],
    sample_lines: pd.Series,
    purity: pd.Series | None,
    time: pd.Series | None,
    path: Path,
) -> tuple[list[str], pd.Series | None, pd.Series | None]:
    """Order, time and purity of the samples from a sample table."""
    table = _Table.read(samples_path, "sample table")
    table.require(("sample_id",))
    names = table.text("sample_id", nonempty=True)
    seen: dict[str, int] = {}
    for name, line in zip(names, table.lines, strict=True):
        if name in seen:
            raise InputError(
                f"sample {name!r} is listed twice (first on line {seen[name]})",
                file=table.path,
                record=int(line),
                field="sample_id",
            )
        if name not in sample_lines.index:
            shown = ", ".join(samples[:8])
            raise InputError(
                f"unknown sample {name!r}: it has no rows in {path.name} (samples there: {shown})",
                file=table.path,
                record=int(line),
                field="sample_id",
            )
        seen[name] = int(line)
    missing = [s for s in samples if s not in seen]
    if missing:
        raise InputError(
            f"sample {missing[0]!r} is not listed in the sample table {table.path.name}; "
            "expected every sample of the mutation table there",
            file=path,
            record=int(sample_lines[missing[0]]),
            field="sample_id",
        )
    order = list(names)
    purity_col = next((c for c in _PURITY_COLUMNS if c in table.columns), None)
    for col, given, read in (("time", time, table.number), (purity_col, purity, table.fraction)):
        if col is None or col not in table.columns:
            continue
        values = pd.Series(read(col), index=order)
        if given is not None:
            for name, line in zip(order, table.lines, strict=True):
                if not math.isclose(values[name], given[name], rel_tol=1e-9, abs_tol=1e-12):
                    raise InputError(
                        f"{col} {values[name]:g} for sample {name!r}, but {given[name]:g} in "
                        f"{path.name} (line {sample_lines[name]}); expected the same value",
                        file=table.path,
                        record=int(line),
                        field=col,
                    )
        if col == "time":
            time = values
        else:
            purity = values
    if time is not None:
        order = sorted(order, key=lambda s: time[s])
    return order, purity, time


class _Table:
    """A delimited text table held as stripped strings, with the line of every row."""

    def __init__(self, path: Path, header: list[str], rows: list[list[str]], lines: list[int]):
        self.path = path
        self.original = dict(zip((c.lower() for c in header), header, strict=True))
        self.columns = [c.lower() for c in header]
        self.lines = np.asarray(lines, dtype=np.int64)
        self._rows = rows
        self._index = {name: k for k, name in reversed(list(enumerate(self.columns)))}

    @classmethod
    def read(cls, path: PathLike, what: str) -> _Table:
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{what} not found", file=path)
        name = path.name.lower()
        compressed = name.endswith((".gz", ".gzip", ".bgz"))
        stem = name.rsplit(".", 1)[0] if compressed else name
        delimiter = "," if stem.endswith(".csv") else "\t"
        try:
            raw = path.read_bytes()
            if compressed or raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            text = raw.decode("utf-8-sig")
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"not a readable gzip file ({exc})", file=path) from None
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise InputError(f"not UTF-8 text; expected a {what}", file=path, record=line) from None
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header: list[str] | None = None
        rows: list[list[str]] = []
        lines: list[int] = []
        try:
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                if header is None:
                    header = [c.strip() for c in row]
                    header_line = reader.line_num
                    continue
                if len(row) != len(header):
                    sep = "comma" if delimiter == "," else "tab"
                    raise InputError(
                        f"{len(row)} {sep}-separated values, but the header (line "
                        f"{header_line}) has {len(header)}; expected one value per column",
                        file=path,
                        record=reader.line_num,
                        field="row",
                    )
                rows.append([c.strip() for c in row])
                lines.append(reader.line_num)
        except csv.Error as exc:
            raise InputError(
                f"not a readable table ({exc})", file=path, record=reader.line_num
            ) from None
        if header is None:
            raise InputError(f"empty file; expected a {what} with a header line", file=path)
        return cls(path, header, rows, lines)

    def require(self, columns: Sequence[str]) -> None:
        missing = [c for c in columns if c not in self._index]
        if missing:
            raise InputError(
                f"missing column(s) {', '.join(missing)}; found {', '.join(self.columns)}",
                file=self.path,
                record=1,
                field=missing[0],
            )

    def text(self, column: str, *, nonempty: bool = False) -> np.ndarray:
        k = self._index[column]
        values = np.array([row[k] for row in self._rows], dtype=object)
        if nonempty:
            self.check(values == "", column, lambda i: "empty value; expected an id")
        return values

    def _numbers(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        raw = self.text(column)
        return raw, pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce").to_numpy(float)

    def whole(self, column: str, *, what: str, allow_empty: bool = False) -> np.ndarray:
        """Whole numbers >= 0; with ``allow_empty``, an empty or ``NA`` cell gives -1."""
        raw, num = self._numbers(column)
        empty = (
            np.isin(raw, ("", "NA", "na", "NaN", "nan"))
            if allow_empty
            else np.zeros(len(raw), dtype=bool)
        )
        with np.errstate(invalid="ignore"):
            bad = ~empty & (~np.isfinite(num) | (num < 0) | (num != np.round(num)))
        unit = f"number of {what}" if what == "reads" else what
        self.check(bad, column, lambda i: f"{raw[i]!r}; expected a whole {unit} >= 0")
        return np.where(empty, -1, np.nan_to_num(num)).astype(np.int64)

    def number(self, column: str) -> np.ndarray:
        raw, num = self._numbers(column)
        self.check(~np.isfinite(num), column, lambda i: f"{raw[i]!r}; expected a number (days)")
        return num

    def fraction(self, column: str) -> np.ndarray:
        raw, num = self._numbers(column)
        with np.errstate(invalid="ignore"):
            bad = ~((num > 0) & (num <= 1))
        self.check(
            bad,
            column,
            lambda i: f"{raw[i]!r}; expected a purity in (0, 1] (a fraction, not a percent)",
        )
        return num

    def check(self, bad: np.ndarray, column: str, message: Callable[[int], str]) -> None:
        """Raise for the first row where ``bad`` holds, with ``message(row)``."""
        bad = np.asarray(bad, dtype=bool)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                message(i),
                file=self.path,
                record=int(self.lines[i]),
                field=self.original.get(column, column),
            )


# --------------------------------------------------------------------------- writing


def to_frame(data: MutationData) -> pd.DataFrame:
    """The data as PyClone-VI's long table, one row per mutation and sample.

    Returns
    -------
    pandas.DataFrame
        Rows mutation by mutation, samples in order within each; columns ``mutation_id``,
        ``sample_id``, ``ref_counts``, ``alt_counts`` (reads), ``major_cn``, ``minor_cn``,
        ``normal_cn``, ``tumour_content`` (purity, fraction), then ``gene``, ``alteration``
        and ``time`` (days) when the data have them. Cells with depth 0 are written as rows
        with 0 reference and 0 alternative reads, which :func:`read_mutations` reads back
        as depth 0.
    """
    n, s = data.n_mutations, data.n_samples
    frame = pd.DataFrame(
        {
            "mutation_id": np.repeat(np.asarray(data.mutations, dtype=object), s),
            "sample_id": np.tile(np.asarray(data.samples, dtype=object), n),
            "ref_counts": (data.depth - data.alt).ravel(),
            "alt_counts": data.alt.ravel(),
            "major_cn": data.major_cn.ravel(),
            "minor_cn": data.minor_cn.ravel(),
            "normal_cn": data.normal_cn.ravel(),
            "tumour_content": np.tile(data.purity, n),
        }
    )
    if data.genes is not None:
        frame["gene"] = np.repeat(np.asarray(data.genes, dtype=object), s)
    if data.alterations is not None:
        frame["alteration"] = np.repeat(np.asarray(data.alterations, dtype=object), s)
    if data.times is not None:
        frame["time"] = np.tile(data.times, n)
    return frame


def write_mutations(data: MutationData, path: PathLike) -> None:
    """Write the data as PyClone-VI's long table (see :func:`to_frame`), atomically.

    Tab-separated unless ``path`` ends in ``.csv`` (or ``.csv.gz``); gzipped when it ends
    in ``.gz``. The file reads back with :func:`read_mutations` to the same data.
    """
    path = Path(path)
    name = path.name.lower()
    compressed = name.endswith(".gz")
    sep = "," if name.removesuffix(".gz").endswith(".csv") else "\t"
    text = to_frame(data).to_csv(sep=sep, index=False, lineterminator="\n")
    with atomic_write(path, "wb") as handle:
        raw = text.encode("utf-8")
        handle.write(gzip.compress(raw, mtime=0) if compressed else raw)


# --------------------------------------------------------------------------- ClonEvol


def read_clonevol_table(path: PathLike) -> tuple[MutationData, np.ndarray]:
    """Read a ClonEvol clustered-variant table with read counts (e.g. the AML1 vignette).

    Parameters
    ----------
    path
        Tab-separated (comma-separated for ``.csv``) with a ``cluster`` column (whole
        numbers), optional ``gene`` (``-`` or empty for none), and for each sample ``X``
        the columns ``X.ref.count`` and ``X.var.count`` (reads), in the header's order of
        samples. Other columns (``X.vaf``, ``X.ccf``, ``X.depth``, ``is.driver`` ...) are
        ignored: depth is ``ref + var``, as ``X.depth`` can differ from it by a read.

    Returns
    -------
    data : MutationData
        One mutation per row, ids ``var001``, ``var002`` ... (row order), ``genes`` from
        ``gene`` (``""`` for none). Copy-neutral diploid (major 1, minor 1, normal 2) and
        purity 1.0, as in ClonEvol's vignette (its CCF is 2 x VAF). A sample whose ref or
        var count is empty has depth 0 (no information) there.
    labels : numpy.ndarray
        The published cluster of each variant (int64).

    Raises
    ------
    InputError
        Naming file, line and column: missing ``cluster`` column or no ``X.ref.count`` /
        ``X.var.count`` pair, a cluster that is not a whole number, counts that are not
        whole numbers >= 0.
    """
    table = _Table.read(path, "ClonEvol variant table")
    table.require(("cluster",))
    keys = [
        c.removesuffix(".ref.count")
        for c in table.columns
        if c.endswith(".ref.count") and c.removesuffix(".ref.count") + ".var.count" in table.columns
    ]
    samples = [table.original[f"{key}.ref.count"].removesuffix(".ref.count") for key in keys]
    if not samples:
        raise InputError(
            "no read-count columns; expected X.ref.count and X.var.count for each sample X",
            file=table.path,
            record=1,
            field="X.ref.count",
        )
    raw, num = table._numbers("cluster")
    table.check(
        ~np.isfinite(num) | (num != np.round(num)),
        "cluster",
        lambda i: f"{raw[i]!r}; expected a whole cluster number",
    )
    labels = num.astype(np.int64)
    n = len(labels)
    alt = np.zeros((n, len(samples)), dtype=np.int64)
    depth = np.zeros_like(alt)
    for j, key in enumerate(keys):
        ref = table.whole(f"{key}.ref.count", what="reads", allow_empty=True)
        var = table.whole(f"{key}.var.count", what="reads", allow_empty=True)
        both = (ref >= 0) & (var >= 0)
        alt[both, j] = var[both]
        depth[both, j] = ref[both] + var[both]
    width = max(3, len(str(n)))
    genes = None
    if "gene" in table.columns:
        genes = ["" if g in ("-", "NA") else g for g in table.text("gene")]
    ones = np.ones_like(alt)
    data = MutationData(
        mutations=[f"var{k + 1:0{width}d}" for k in range(n)],
        samples=samples,
        alt=alt,
        depth=depth,
        major_cn=ones,
        minor_cn=ones,
        normal_cn=2 * ones,
        purity=np.ones(len(samples)),
        genes=genes,
    )
    return data, labels


# --------------------------------------------------------------------------- helpers


def _show(value: object) -> str:
    """A value for a message: strings quoted, numbers plain."""
    return repr(value) if isinstance(value, str) else f"{value:g}"


def _unique(ids: list[str], field: str) -> None:
    seen: set[str] = set()
    for k, name in enumerate(ids):
        if name in seen:
            raise InputError(
                f"{name!r} appears twice (again at position {k + 1}); expected unique ids",
                field=field,
            )
        seen.add(name)


def _int_matrix(
    value: object, name: str, shape: tuple[int, int], mutations: list[str], samples: list[str]
) -> np.ndarray:
    arr = np.asarray(value)
    if arr.shape != shape:
        raise InputError(f"shape {arr.shape}; expected {shape} (mutations x samples)", field=name)
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise InputError(
                f"{arr[i, j]!r}; expected a whole number",
                record=f"mutation {mutations[i]!r}, sample {samples[j]!r}",
                field=name,
            )
    elif arr.dtype.kind not in "iub":
        raise InputError(f"dtype {arr.dtype}; expected whole numbers", field=name)
    out = np.array(arr, dtype=np.int64)
    out.setflags(write=False)
    return out


def _per_sample(value: object, name: str, samples: list[str]) -> np.ndarray:
    arr = np.array(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(len(samples), float(arr))
    if arr.shape != (len(samples),):
        raise InputError(
            f"shape {arr.shape}; expected one value per sample ({len(samples)})", field=name
        )
    if not np.all(np.isfinite(arr)):
        j = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise InputError(
            f"{arr[j]}; expected a finite number", record=f"sample {samples[j]!r}", field=name
        )
    arr.setflags(write=False)
    return arr


def from_serial(frame: pd.DataFrame, *, patient: str | None = None) -> MutationData:
    """Mutation data from serial ctDNA results (the tidy table of ``monitor.read_serial``).

    Each draw is a sample (ordered by collection date; ``times`` in days since the first);
    each alteration a mutation (copy-neutral and diploid: plasma carries no reliable copy
    number); the draw's ``tumor_fraction`` is its purity, or, where a draw has none, twice
    the VAF of the truncal marker -- the variant with the highest median VAF over the draws,
    taken to be truncal and heterozygous -- (its highest VAF where the marker has no reads;
    at least 0.001). A variant not reported in a draw has depth 0 there (no information).

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``patient_id, sample_id, collection_date, gene, alteration, alt_reads,
        depth, tumor_fraction``.
    patient : str, optional
        The patient to take; required when the table holds several.

    Raises
    ------
    InputError
        Several patients and none chosen, an unknown patient, or a tumour fraction outside
        (0, 1].
    """
    patients = sorted(frame["patient_id"].astype(str).unique())
    if patient is None:
        if len(patients) != 1:
            raise InputError(f"{len(patients)} patients in the table; choose one ("
                             f"{', '.join(patients[:5])}...)", field="patient_id")  # fmt: skip
        patient = patients[0]
    rows = frame[frame["patient_id"].astype(str) == str(patient)]
    if rows.empty:
        raise InputError(f"no draws of patient {patient!r}", field="patient_id")
    vaf = rows["alt_reads"] / rows["depth"].where(rows["depth"] > 0)
    marker = vaf.groupby(rows["alteration"].astype(str)).median().idxmax()
    marker_vaf = vaf.where(rows["alteration"].astype(str) == marker)
    draws = (rows.assign(vaf=vaf, marker=marker_vaf).groupby("sample_id", sort=False)
             .agg(date=("collection_date", "first"), tf=("tumor_fraction", "first"),
                  top=("vaf", "max"), marker=("marker", "max"))
             .sort_values("date"))  # fmt: skip
    given = draws["tf"].notna()
    bad = draws[given & ~((draws["tf"] > 0) & (draws["tf"] <= 1))]
    if len(bad):
        raise InputError(f"draw {bad.index[0]!r}: tumour fraction {bad['tf'].iloc[0]}; "
                         "expected (0, 1]", field="tumor_fraction")  # fmt: skip
    estimate = draws["marker"].where(draws["marker"] > 0, draws["top"]).fillna(0)
    draws["tf"] = draws["tf"].where(given, np.clip(2 * estimate, 1e-3, 1.0))
    samples = [str(s) for s in draws.index]
    labels = list(dict.fromkeys(rows["alteration"].astype(str)))
    pos_m = {m: i for i, m in enumerate(labels)}
    pos_s = {s: j for j, s in enumerate(samples)}
    alt = np.zeros((len(labels), len(samples)), dtype=np.int64)
    depth = np.zeros_like(alt)
    genes = [""] * len(labels)
    changes = [""] * len(labels)
    for r in rows.itertuples(index=False):
        i, j = pos_m[str(r.alteration)], pos_s[str(r.sample_id)]
        alt[i, j], depth[i, j] = int(r.alt_reads), int(r.depth)
        genes[i] = str(r.gene)
        text = str(r.alteration)
        changes[i] = text[len(genes[i]) + 1 :] if text.startswith(genes[i] + " ") else text
    first = draws["date"].iloc[0]
    times = np.array([(d - first).days for d in draws["date"]], dtype=float)
    ones = np.ones_like(alt)
    return MutationData(mutations=labels, samples=samples, alt=alt, depth=depth,
                        major_cn=ones, minor_cn=ones, normal_cn=2 * ones,
                        purity=draws["tf"].to_numpy(float), genes=genes, alterations=changes,
                        times=times)  # fmt: skip
