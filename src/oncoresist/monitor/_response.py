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


def _baseline_date(patient: str, draws: pd.Series, therapy: pd.DataFrame | None) -> pd.Timestamp:
    first = draws.min()
    if therapy is None or therapy.empty:
        return first
    lines = therapy[therapy["patient_id"] == patient]
    if lines.empty:
        return first
    start = lines["start_date"].min()
    before = draws[draws <= start]
    return before.max() if not before.empty else first


def molecular_response(
    calls: pd.DataFrame,
    *,
    therapy: pd.DataFrame | None = None,
    truncal: dict[str, list[str]] | None = None,
    decrease: float = 0.5,
    increase: float = 1.0,
) -> pd.DataFrame:
    """Molecular response per draw, relative to the baseline draw of each patient.

    Parameters
    ----------
    calls
        Called observations: ``patient_id``, ``sample_id``, ``collection_date``,
        ``alteration``, ``alt_reads``, ``depth`` (reads), ``state`` (``detected`` /
        ``not_detected`` / ``not_assessable``) and optionally ``tumor_fraction``.
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
        One row per patient and draw: ``patient_id``, ``sample_id``, ``collection_date``,
        ``measure`` (``tumor_fraction`` or ``mean_vaf_truncal``), ``level`` (fraction),
        ``baseline_level``, ``change`` (fractional change from baseline), ``nadir_level``
        (lowest level up to this draw), ``category`` (see the module docstring).

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
    rows = []
    for patient, obs in calls.groupby("patient_id", sort=True):
        obs = obs.sort_values(["collection_date", "sample_id"])
        draws = obs.drop_duplicates("sample_id")[["sample_id", "collection_date"]]
        base_date = _baseline_date(str(patient), draws["collection_date"], therapy)
        base_sample = draws[draws["collection_date"] == base_date]["sample_id"].iloc[0]
        at_base = obs[obs["sample_id"] == base_sample]
        if truncal is not None and patient in truncal:
            trunk = set(truncal[patient])
        else:
            trunk = set(at_base.loc[at_base["state"] == "detected", "alteration"])
        use_tf = "tumor_fraction" in obs.columns and obs["tumor_fraction"].notna().all()
        measure = "tumor_fraction" if use_tf else "mean_vaf_truncal"
        levels: dict[str, float] = {}
        assessable: dict[str, bool] = {}
        cleared: dict[str, bool] = {}
        for sample, draw in obs.groupby("sample_id", sort=False):
            tracked = draw[draw["alteration"].isin(trunk)]
            judged = tracked[tracked["state"] != "not_assessable"]
            assessable[sample] = not judged.empty
            cleared[sample] = not judged.empty and not (judged["state"] == "detected").any()
            if use_tf:
                levels[sample] = float(draw["tumor_fraction"].iloc[0])
            elif judged.empty:
                levels[sample] = float("nan")
            else:
                with np.errstate(invalid="ignore", divide="ignore"):
                    vaf = judged["alt_reads"].to_numpy(float) / judged["depth"].to_numpy(float)
                levels[sample] = float(np.nanmean(vaf)) if np.isfinite(vaf).any() else np.nan
        baseline = levels[base_sample]
        nadir = np.inf
        was_cleared = False
        for sample, date in draws.itertuples(index=False):
            level = levels[sample]
            if date < base_date:
                category = "pre_baseline"
            elif sample == base_sample:
                category = "baseline"
            elif not assessable[sample] and not use_tf:
                category = "not_assessable"
            elif cleared[sample]:
                category = "clearance"
            elif was_cleared or (np.isfinite(nadir) and level >= (1 + increase) * nadir > 0):
                category = "progression"
            elif baseline > 0 and level <= (1 - decrease) * baseline:
                category = "major_response"
            else:
                category = "stable"
            if date >= base_date and np.isfinite(level):
                nadir = min(nadir, level)
            if category == "clearance":
                was_cleared = True
            change = (level - baseline) / baseline if baseline and np.isfinite(level) else np.nan
            rows.append(
                {
                    "patient_id": patient,
                    "sample_id": sample,
                    "collection_date": date,
                    "measure": measure,
                    "level": level,
                    "baseline_level": baseline,
                    "change": change,
                    "nadir_level": nadir if np.isfinite(nadir) else np.nan,
                    "category": category,
                }
            )
    return pd.DataFrame(rows, columns=RESPONSE_COLUMNS)
