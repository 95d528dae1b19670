"""Molecular response: how the ctDNA level moves from its baseline under a therapy line.

The ctDNA level of a draw is the tumour fraction when every draw of the patient has one,
otherwise the mean VAF of the truncal variants (those detected at baseline). The baseline is
the last draw on or before the start of the therapy line (the first draw when no line is
given). Categories, with the thresholds as parameters:

- ``baseline``: the baseline draw itself;
- ``clearance``: every truncal variant assessed and none detected;
- ``major_response``: level at most ``(1 - decrease)`` times baseline (default: a fall of at
  least 50 %, the threshold most on-treatment ctDNA studies use);
- ``progression``: level at least ``(1 + increase)`` times the nadir so far (default: a
  doubling from the lowest level), or a truncal variant detected again after clearance;
- ``stable``: anything else;
- ``not_assessable``: no truncal variant could be assessed in the draw.

A variant's VAF is ``alt_count / depth_count`` when the call table carries those counts (in
the unit the caller counted, e.g. unique molecules), else ``alt_reads / depth``. The whole
cohort is processed column-wise: one sort of the calls, per-draw sums and counts, and the
nadir and clearance carried along each patient's draws as cumulative minima and sums.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from oncoresist.errors import InputError

RESPONSE_COLUMNS = [
    "patient_id",
    "sample_id",
    "collection_date",
    "measure",
    "level",
    "baseline_level",
    "change",
    "nadir_level",
    "category",
]


def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{what} lacks columns {missing}; expected {columns}", field=missing[0])


_NAT = np.iinfo(np.int64).min
_LAST = np.iinfo(np.int64).max
_CATEGORIES = np.array(
    ["pre_baseline", "baseline", "not_assessable", "clearance", "progression", "major_response"]
)


def _codes(values: pd.Series, *, sort: bool) -> tuple[np.ndarray, list]:
    """Integer codes of ``values`` (ranked in sorted order when ``sort``; NaN is -1)."""
    codes, uniques = pd.factorize(values, sort=sort)
    return codes.astype(np.int64, copy=False), list(uniques.tolist())


def _objects(values: list) -> np.ndarray:
    """A 1-d object array of ``values`` (kept as they are, tuples included)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _as_dates(values: pd.Series, what: str) -> tuple[pd.Series, np.ndarray]:
    """Datetimes, and the same as int64 nanoseconds (UTC when zoned; NaT is ``_NAT``)."""
    if values.dtype.kind != "M":
        try:
            values = pd.to_datetime(values)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{what} must hold dates: {exc}", field=what) from None
    return values, values.to_numpy(dtype="datetime64[ns]").view(np.int64)


def _first_starts(
    therapy: pd.DataFrame | None, patients: list, zoned: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Each patient's first line start (int64 ns) and whether one is known.

    Lines are matched on ``str(patient)``.
    """
    start = np.zeros(len(patients), dtype=np.int64)
    known = np.zeros(len(patients), dtype=bool)
    if therapy is None or therapy.empty:
        return start, known
    firsts = therapy.groupby("patient_id", sort=False)["start_date"].min()
    dates, ns = _as_dates(firsts, "start_date")
    if len(firsts) and isinstance(dates.dtype, pd.DatetimeTZDtype) != zoned:
        raise InputError(
            "collection_date and the therapy start_date must both carry a time zone or "
            "both lack one",
            field="start_date",
        )
    by_patient = dict(zip(firsts.index.tolist(), ns.tolist(), strict=True))
    for i, patient in enumerate(patients):
        value = by_patient.get(str(patient), _NAT)
        start[i], known[i] = value, value != _NAT
    return start, known


def _run_sums(values: np.ndarray, runs: np.ndarray, n_runs: int) -> np.ndarray:
    """Sum of ``values`` over each run of equal (sorted) ``runs`` codes, as ``numpy.sum``.

    ``numpy.sum`` adds pairwise (eight partial sums from eight terms on), so a running sum
    such as ``bincount`` can differ from it in the last bits. Runs of one length are summed
    together with ``sum(axis=1)``, which adds each row as ``numpy.sum`` adds it alone: the
    levels, and the categories their thresholds decide, are those of ``numpy.nanmean`` per
    draw.
    """
    lengths = np.bincount(runs, minlength=n_runs)
    starts = np.cumsum(lengths) - lengths
    sums = np.zeros(n_runs)
    for length in np.unique(lengths[lengths > 0]):
        which = np.flatnonzero(lengths == length)
        sums[which] = values[starts[which, None] + np.arange(length)].sum(axis=1)
    return sums


def molecular_response(
    calls: pd.DataFrame,
    *,
    therapy: pd.DataFrame | None = None,
    truncal: dict[str, list[str]] | None = None,
    decrease: float = 0.5,
    increase: float = 1.0,
) -> pd.DataFrame:
    """Molecular response per draw, relative to the baseline draw of each patient.

    Whole-column operations (one sort of the call table, then per-draw and per-patient
    aggregates): a cohort of 10,000 patients x 8 draws x 50 variants takes seconds.

    Parameters
    ----------
    calls
        Called observations: ``patient_id``, ``sample_id``, ``collection_date``
        (datetimes), ``alteration``, ``alt_reads``, ``depth`` (reads), ``state``
        (``detected`` / ``not_detected`` / ``not_assessable``) and optionally
        ``tumor_fraction``. When the table has both ``alt_count`` and ``depth_count`` (the
        counts in the unit the caller used, e.g. unique molecules, as
        :func:`~oncoresist.monitor.call_draws` writes them), a variant's VAF is
        ``alt_count / depth_count``; otherwise it is ``alt_reads / depth``.
    therapy
        Therapy lines (``patient_id``, ``start_date``); the first line's start sets the
        baseline. ``None``: the first draw is the baseline.
    truncal
        Truncal variants per patient (alteration labels); by default those detected at the
        baseline draw.
    decrease, increase
        Fractional fall from baseline for ``major_response`` and rise over the nadir for
        ``progression``.

    Returns
    -------
    pandas.DataFrame
        One row per patient and draw (patients sorted, draws by date then ``sample_id``):
        ``patient_id``, ``sample_id``, ``collection_date``, ``measure``
        (``tumor_fraction`` or ``mean_vaf_truncal``), ``level`` (fraction; the mean VAF of
        the assessed truncal variants, NaN when none has a finite VAF), ``baseline_level``,
        ``change`` (fractional change from baseline), ``nadir_level`` (lowest level from
        the baseline up to this draw), ``category`` (see the module docstring; draws
        before the baseline are ``pre_baseline``).

    Examples
    --------
    >>> calls = pd.DataFrame({
    ...     "patient_id": ["p"] * 2, "sample_id": ["s1", "s2"],
    ...     "collection_date": pd.to_datetime(["2024-01-01", "2024-02-01"]),
    ...     "alteration": ["EGFR L858R"] * 2, "alt_reads": [40, 0], "depth": [1000, 1000],
    ...     "state": ["detected", "not_detected"]})
    >>> molecular_response(calls)["category"].tolist()
    ['baseline', 'clearance']
    """
    _require(
        calls,
        ["patient_id", "sample_id", "collection_date", "alteration", "alt_reads", "depth", "state"],
        "the call table",
    )
    if not 0 < decrease < 1 or increase <= 0:
        raise InputError("decrease must be in (0, 1) and increase > 0", field="decrease")

    # patients in sorted order; rows without a patient_id are left out, as by groupby
    patient, patients = _codes(calls["patient_id"], sort=True)
    if (patient < 0).any():
        calls, patient = calls[patient >= 0], patient[patient >= 0]
    if calls.empty:
        return pd.DataFrame([], columns=RESPONSE_COLUMNS)
    seen = np.bincount(patient, minlength=len(patients)) > 0
    if not seen.all():  # categories without rows
        patient = (np.cumsum(seen) - 1)[patient]
        patients = [p for p, s in zip(patients, seen, strict=True) if s]
    n_patients = len(patients)
    sample, samples = _codes(calls["sample_id"], sort=True)
    if (sample < 0).any():
        raise InputError("the call table has rows without a sample_id", field="sample_id")
    date_column, dates = _as_dates(calls["collection_date"], "collection_date")
    date_key = np.where(dates == _NAT, _LAST, dates)  # missing dates sort last

    # one sort: rows by draw (patient, sample), inside a draw by date then input order
    key = patient * len(samples) + sample
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    same = sorted_key[1:] == sorted_key[:-1]
    if (same & (date_key[order[1:]] < date_key[order[:-1]])).any():  # a sample, two dates
        order = np.lexsort((date_key, key))  # same draws, same sorted key
    row_draw = np.concatenate(([0], np.cumsum(~same)))  # a draw's rows are contiguous
    first = order[np.flatnonzero(np.concatenate(([True], ~same)))]  # dated by its first row
    n_draws = len(first)

    # draws in output order: patient, date (missing last), sample
    out = np.lexsort((sample[first], date_key[first], patient[first]))
    rank = np.empty(n_draws, dtype=np.int64)
    rank[out] = np.arange(n_draws)
    d_patient, d_date = patient[first][out], dates[first][out]
    d_dated = d_date != _NAT
    patient_first = np.searchsorted(d_patient, np.arange(n_patients))

    # baseline: the last draw on or before the first line's start, else the first draw;
    # of the draws on that date, the first by sample_id
    start, has_start = _first_starts(
        therapy, patients, isinstance(date_column.dtype, pd.DatetimeTZDtype)
    )
    before = d_dated & has_start[d_patient] & (d_date <= start[d_patient])
    n_before = np.bincount(d_patient, weights=before, minlength=n_patients).astype(np.int64)
    base_at = patient_first + np.maximum(n_before - 1, 0)
    if not d_dated[base_at].all():
        lost = patients[int(np.flatnonzero(~d_dated[base_at])[0])]
        raise InputError(
            f"patient {lost} has no draw with a collection_date; expected at least one",
            field="collection_date",
        )
    base_date = d_date[base_at]
    new_date = np.ones(n_draws, dtype=bool)
    new_date[1:] = (d_patient[1:] != d_patient[:-1]) | (d_date[1:] != d_date[:-1])
    base = np.maximum.accumulate(np.where(new_date, np.arange(n_draws), 0))[base_at]

    # truncal variants: those detected in the baseline draw, unless given for the patient
    alteration, alterations = _codes(calls["alteration"], sort=False)
    state = calls["state"]
    detected = state.eq("detected").to_numpy(dtype=bool, na_value=False)
    judgeable = ~state.eq("not_assessable").to_numpy(dtype=bool, na_value=False)
    n_labels = len(alterations) + 1  # code 0: a missing alteration, matched as a label
    pair = patient * n_labels + alteration + 1
    given = np.zeros(n_patients, dtype=bool)
    trunk = []
    if truncal:
        index = pd.Index(alterations, dtype=object)
        code_of = {p: i for i, p in enumerate(patients)}
        for who, labels in truncal.items():
            i = code_of.get(who)
            if i is None:
                continue
            labels = pd.Index(list(labels), dtype=object)
            found = index.get_indexer(labels)
            codes = np.append(found[found >= 0] + 1, [0] if labels.isna().any() else [])
            given[i] = True
            trunk.append(i * n_labels + codes.astype(np.int64))
    row_rank = np.empty_like(key)
    row_rank[order] = rank[row_draw]  # each row's draw, in output order
    at_base = (row_rank == base[patient]) & detected & ~given[patient]
    trunk.append(pair[at_base])
    judged = np.isin(pair, np.concatenate(trunk)) & judgeable

    # per draw: assessed, cleared and level (draws in sorted-key order, then output order)
    in_draw = judged[order]
    j_rows, j_draw = order[in_draw], row_draw[in_draw]
    n_judged = np.bincount(j_draw, minlength=n_draws)
    n_detected = np.bincount(j_draw, weights=detected[j_rows], minlength=n_draws)
    assessed = (n_judged > 0)[out]
    cleared = assessed & (n_detected == 0)[out]
    counts = ("alt_count", "depth_count")
    alt, depth = counts if set(counts) <= set(calls.columns) else ("alt_reads", "depth")
    with np.errstate(invalid="ignore", divide="ignore"):
        vaf = (
            calls[alt].to_numpy(float, na_value=np.nan)[j_rows]
            / calls[depth].to_numpy(float, na_value=np.nan)[j_rows]
        )
        missing = np.isnan(vaf)
        total = _run_sums(np.where(missing, 0.0, vaf), j_draw, n_draws)
        n_vaf = np.bincount(j_draw, weights=~missing, minlength=n_draws)
        finite = np.bincount(j_draw, weights=np.isfinite(vaf), minlength=n_draws) > 0
        level = np.where(finite, total / n_vaf, np.nan)[out]
    if "tumor_fraction" in calls.columns:
        fraction = calls["tumor_fraction"]
        lacking = np.bincount(patient, weights=fraction.isna().to_numpy(), minlength=n_patients)
        use_tf = (lacking == 0)[d_patient]
        level = np.where(use_tf, fraction.to_numpy(float, na_value=np.nan)[first][out], level)
    else:
        use_tf = np.zeros(n_draws, dtype=bool)

    # categories, with the nadir and the clearance seen so far carried along the draws
    baseline = level[base][d_patient]
    own_base = base_date[d_patient]
    pre = d_dated & (d_date < own_base)
    counted = d_dated & (d_date >= own_base) & np.isfinite(level)
    nadir = pd.Series(np.where(counted, level, np.inf)).groupby(d_patient).cummin().to_numpy()
    nadir_before = np.concatenate(([np.inf], nadir[:-1]))
    nadir_before[patient_first] = np.inf
    is_base = np.arange(n_draws) == base[d_patient]
    clearance = ~pre & ~is_base & cleared
    cleared_before = np.cumsum(clearance) - clearance
    cleared_before = (cleared_before - cleared_before[patient_first][d_patient]) > 0
    rise = (1 + increase) * nadir_before
    fall = (1 - decrease) * baseline
    with np.errstate(invalid="ignore", divide="ignore"):
        progression = cleared_before | (np.isfinite(nadir_before) & (level >= rise) & (rise > 0))
        major = (baseline > 0) & (level <= fall)
        change = np.where(
            (baseline != 0) & np.isfinite(level), (level - baseline) / baseline, np.nan
        )
    category = np.select(
        [pre, is_base, ~assessed & ~use_tf, clearance, progression, major],
        _CATEGORIES,
        "stable",
    )
    measure = np.where(use_tf, "tumor_fraction", "mean_vaf_truncal")

    # the labels go through the constructor the row-by-row version used, so their dtypes
    # are inferred the same way (str ids stay str, integer ids int64)
    text = pd.DataFrame(
        list(
            zip(
                _objects(patients)[d_patient].tolist(),
                _objects(samples)[sample[first][out]].tolist(),
                measure.tolist(),
                category.tolist(),
                strict=True,
            )
        ),
        columns=["patient_id", "sample_id", "measure", "category"],
    )
    return pd.DataFrame(
        {
            "patient_id": text["patient_id"],
            "sample_id": text["sample_id"],
            "collection_date": date_column.array[first[out]],
            "measure": text["measure"],
            "level": level,
            "baseline_level": baseline,
            "change": change,
            "nadir_level": np.where(np.isfinite(nadir), nadir, np.nan),
            "category": text["category"],
        },
        columns=RESPONSE_COLUMNS,
    )
