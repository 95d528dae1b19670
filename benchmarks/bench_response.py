"""Benchmark: molecular response on a cohort (``oncoresist.monitor.molecular_response``).

Synthetic cohort of 10,000 patients x 8 draws x 50 variants = 4,000,000 calls: string
``patient_id`` / ``sample_id``, datetime ``collection_date`` (draws every 28 days from a
patient's own start), ``state`` a categorical of detected / not_detected / not_assessable,
10 truncal variants per patient whose VAF falls, clears or rises, and one therapy line per
patient starting after the first, second or third draw; 3 % of draws have a fifth of the
depth (their truncal variants are mostly not assessable). Rows are timed in cohort order and
shuffled.

Figures printed:

1. wall time of ``molecular_response`` on the full cohort, rows in cohort order and
   shuffled (target well under 10 s);
2. on a 20,000-call subset (50 patients), the time of the row-by-row version it replaced
   (``_reference_response`` in ``tests/monitor/test_response.py``), the time of the
   current one, their ratio, and whether the two tables are equal.

Usage::

    python benchmarks/bench_response.py            # full cohort
    python benchmarks/bench_response.py --patients 1000
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from oncoresist.monitor import molecular_response

DRAWS = 8
VARIANTS = 50
TRUNCAL = 10
STATES = ["detected", "not_detected", "not_assessable"]
DAY0 = pd.Timestamp("2024-01-01")


def cohort(n_patients: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Calls (``n_patients * 8 * 50`` rows) and one therapy line per patient."""
    rng = np.random.default_rng(seed)
    n = n_patients * DRAWS * VARIANTS
    patient = np.repeat(np.arange(n_patients), DRAWS * VARIANTS)
    draw = np.tile(np.repeat(np.arange(DRAWS), VARIANTS), n_patients)
    variant = np.tile(np.arange(VARIANTS), n_patients * DRAWS)
    offset = rng.integers(0, 365, n_patients)
    day = offset[patient] + 28 * draw
    # truncal variants: VAF 1e-3..5e-2 at baseline, then falling, or falling then rising
    base_vaf = 10 ** rng.uniform(-3, -1.3, n_patients)
    trend = rng.choice([0.3, 0.7, 1.0, 1.6], n_patients)
    vaf = np.where(
        variant < TRUNCAL,
        base_vaf[patient] * trend[patient] ** draw * rng.lognormal(0, 0.3, n),
        rng.uniform(0, 2e-4, n),
    )
    depth = rng.poisson(3000, n)
    depth[np.repeat(rng.random(n_patients * DRAWS) < 0.03, VARIANTS)] //= 5  # failed draws
    alt = rng.binomial(depth, np.minimum(vaf, 1.0))
    state = np.where(alt >= 3, 0, np.where(depth < 1000 + 1900 * (variant % 7 == 0), 2, 1))
    calls = pd.DataFrame(
        {
            "patient_id": pd.Series([f"P{i:05d}" for i in range(n_patients)]).to_numpy()[patient],
            "sample_id": pd.Series(
                [f"P{i:05d}-D{d}" for i in range(n_patients) for d in range(DRAWS)]
            ).to_numpy()[patient * DRAWS + draw],
            "collection_date": DAY0 + pd.to_timedelta(day, unit="D"),
            "alteration": np.array([f"GENE{v:02d} p.X{v}Y" for v in range(VARIANTS)])[variant],
            "alt_reads": alt,
            "depth": depth,
            "state": pd.Categorical.from_codes(state, categories=STATES),
        }
    )
    calls = calls.astype({"patient_id": "str", "sample_id": "str", "alteration": "str"})
    line = rng.integers(0, 6, n_patients)  # a third of the patients draw before the line
    therapy = pd.DataFrame(
        {
            "patient_id": [f"P{i:05d}" for i in range(n_patients)],
            "regimen": "drug",
            "start_date": DAY0 + pd.to_timedelta(offset + 14 + 28 * (line % 3), unit="D"),
        }
    )
    return calls, therapy


def _reference():
    tests = Path(__file__).resolve().parents[1] / "tests" / "monitor"
    sys.path.insert(0, str(tests))
    from test_response import _reference_response

    return _reference_response


def _timed(func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--subset", type=int, default=50, help="patients compared")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")

    calls, therapy = cohort(args.patients, args.seed)
    result, seconds = _timed(molecular_response, calls, therapy=therapy)
    counts = result["category"].value_counts().to_dict()
    print(f"molecular_response on {len(calls):,} calls ({len(result):,} draws): {seconds:.2f} s")
    print(f"  categories: {counts}")
    shuffled = calls.iloc[np.random.default_rng(args.seed).permutation(len(calls))]
    again, seconds = _timed(molecular_response, shuffled, therapy=therapy)
    # the mean VAF adds a draw's variants in row order, as the row-by-row version did, so a
    # shuffle may move the last bit of a level (and only that)
    close = np.allclose(again["level"], result["level"], rtol=1e-12, atol=0, equal_nan=True)
    same = again["category"].equals(result["category"])
    print(
        f"  rows shuffled: {seconds:.2f} s; same categories: {same}, levels within 1e-12: {close}"
    )

    keep = calls["patient_id"].isin(calls["patient_id"].unique()[: args.subset])
    subset = calls[keep].reset_index(drop=True)
    reference = _reference()
    ours, fast = _timed(molecular_response, subset, therapy=therapy)
    theirs, slow = _timed(reference, subset, therapy=therapy)
    equal = ours.equals(theirs)
    print(
        f"subset of {len(subset):,} calls: row by row {slow:.3f} s, now {fast:.3f} s, "
        f"ratio {slow / fast:.0f}x; tables equal: {equal}"
    )


if __name__ == "__main__":
    main()
