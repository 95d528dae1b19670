"""Benchmark: scoring a combination screen (``oncoresist.synergy.score_blocks``).

10,000 simulated 6x6 blocks (seeded; 40 % synergistic with combination index 0.5, 40 %
antagonistic with CI 2, 20 % with an inactive second drug), 4PL fits of both drugs and the
four models (Bliss, HSA, Loewe exact root, ZIP), no bootstrap: wall and CPU seconds,
blocks/s. Beside it, in the same run, a naive baseline: per-curve
``scipy.optimize.curve_fit`` for every 4PL (the two drugs and ZIP's ten row/column fits) and
a SynergyFinder-style 100-level grid for Loewe, on 200 blocks, extrapolated. Accuracy
against the known truth: sign of the Loewe and Bliss block means by class and their mean
absolute error against the noise-free excess.

Usage::

    python benchmarks/bench_synergy.py [--blocks 10000] [--baseline 200] [--sd 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np
import pandas as pd
from scipy import optimize

from oncoresist.synergy import CombinationData, score_blocks

CONC1 = np.array([0, 0.05, 0.158114, 0.5, 1.581139, 5])
CONC2 = np.array([0, 0.2, 0.632456, 2, 6.324555, 20])


def simulate(n: int, sd: float, seed: int) -> tuple[CombinationData, pd.DataFrame]:
    """Blocks with Hill-1 single drugs (Emax 100 %) and a constant combination index."""
    rng = np.random.default_rng(seed)
    a, b = np.meshgrid(CONC1, CONC2, indexing="ij")
    kind = rng.choice(["synergy", "antagonism", "inactive B"], n, p=[0.4, 0.4, 0.2])
    ci = np.where(kind == "synergy", 0.5, np.where(kind == "antagonism", 2.0, 1.0))
    ic1 = rng.lognormal(np.log(0.5), 0.5, n)[:, None, None]
    ic2 = np.where(kind == "inactive B", 1e9, rng.lognormal(np.log(2), 0.5, n))[:, None, None]
    r = a / ic1 + b / ic2
    both = (a > 0) & (b > 0)
    r_obs = np.where(both, r / ci[:, None, None], r)
    truth = 100 * r_obs / (1 + r_obs)
    loewe_true = (truth - 100 * r / (1 + r))[:, 1:, 1:].mean((1, 2))
    y1, y2 = truth[:, :, :1], truth[:, :1, :]
    bliss_true = (truth - (y1 + y2 - y1 * y2 / 100))[:, 1:, 1:].mean((1, 2))
    noisy = truth + rng.normal(0, sd, truth.shape)
    table = pd.DataFrame({
        "block_id": np.repeat(np.arange(n).astype(str), 36), "drug_row": "A",
        "drug_col": "B", "conc_r": np.tile(a.ravel(), n), "conc_c": np.tile(b.ravel(), n),
        "conc_r_unit": "uM", "conc_c_unit": "uM", "replicate": 1,
        "inhibition": noisy.ravel(),
    })  # fmt: skip
    truth_df = pd.DataFrame({"block_id": np.arange(n).astype(str), "kind": kind,
                             "loewe_true": loewe_true, "bliss_true": bliss_true})  # fmt: skip
    return CombinationData(table=table), truth_df


def _ll4(x, c, d, e, h):
    with np.errstate(divide="ignore", over="ignore"):
        return c + (d - c) / (1 + (e / np.maximum(x, 1e-300)) ** h)


def _fit(x, y, fixed_c=None):
    """One 4PL by curve_fit (the per-curve way); falls back to the mean on failure."""
    try:
        if fixed_c is None:
            p, _ = optimize.curve_fit(_ll4, x, y, p0=[y[0], y.max(), np.median(x[x > 0]), 1.0],
                                      bounds=([-100, -100, 1e-6, 0.05], [200, 200, 1e6, 20]),
                                      maxfev=2000)  # fmt: skip
            return p
        p, _ = optimize.curve_fit(lambda x, d, e, h: _ll4(x, fixed_c, d, e, h), x, y,
                                  p0=[y.max(), np.median(x[x > 0]), 1.0],
                                  bounds=([-100, 1e-6, 0.05], [200, 1e6, 20]),
                                  maxfev=2000)  # fmt: skip
        return np.array([fixed_c, *p])
    except (RuntimeError, ValueError):
        m = float(np.mean(y))
        return np.array([m, m, 1.0, 1.0])


def naive_block(y: np.ndarray) -> tuple[float, float, float, float]:
    """Bliss, HSA, grid Loewe and ZIP of one 6x6 block, one curve_fit per curve."""
    p1, p2 = _fit(CONC1, y[:, 0]), _fit(CONC2, y[0, :])
    y1, y2 = y[:, :1], y[:1, :]
    bliss = (y - (y1 + y2 - y1 * y2 / 100))[1:, 1:].mean()
    hsa = (y - np.maximum(y1, y2))[1:, 1:].mean()
    levels = np.linspace(max(min(p1[0], p1[1]), min(p2[0], p2[1])),
                         min(max(p1[0], p1[1]), max(p2[0], p2[1])), 100)[1:-1]  # fmt: skip

    def inv(p, lv):
        with np.errstate(all="ignore"):
            return p[2] * ((lv - p[0]) / (p[1] - lv)) ** (1 / p[3])

    loewe = []
    for i in range(1, 6):
        for j in range(1, 6):
            with np.errstate(all="ignore"):
                g = np.abs(CONC1[i] / inv(p1, levels) + CONC2[j] / inv(p2, levels) - 1)
            ref = levels[np.nanargmin(g)] if np.isfinite(g).any() else max(
                _ll4(CONC1[i] + CONC2[j], *p1), _ll4(CONC1[i] + CONC2[j], *p2))  # fmt: skip
            loewe.append(y[i, j] - ref)
    f1, f2 = _ll4(CONC1, *p1), _ll4(CONC2, *p2)
    ref = f1[:, None] + f2[None, :] - f1[:, None] * f2[None, :] / 100
    rows = np.array([_ll4(CONC2, *_fit(CONC2, y[i, :], y[i, 0])) for i in range(1, 6)])
    cols = np.array([_ll4(CONC1, *_fit(CONC1, y[:, j], y[0, j])) for j in range(1, 6)]).T
    zip_ = (0.5 * (rows[:, 1:] + cols[1:, :]) - ref[1:, 1:]).mean()
    return bliss, hsa, float(np.mean(loewe)), zip_


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--blocks", type=int, default=10_000)
    ap.add_argument("--baseline", type=int, default=200)
    ap.add_argument("--sd", type=float, default=3.0)
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")  # fmt: skip
    data, truth = simulate(args.blocks, args.sd, seed=2024)

    w0, c0 = time.perf_counter(), time.process_time()
    res = score_blocks(data)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    print(f"oncoresist: {args.blocks} blocks (fits + bliss, hsa, loewe, zip) in {wall:.1f} s "
          f"wall, {cpu:.1f} s CPU: {args.blocks / wall:.0f} blocks/s")  # fmt: skip

    sub = data.table[data.table["block_id"].astype(int) < args.baseline]
    arr = sub["inhibition"].to_numpy().reshape(args.baseline, 6, 6)
    w0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        naive = np.array([naive_block(arr[k]) for k in range(args.baseline)])
    nwall, ncpu = time.perf_counter() - w0, time.process_time() - c0
    scale = args.blocks / args.baseline
    print(f"naive baseline (curve_fit per curve + 100-level grid Loewe): {args.baseline} blocks "
          f"in {nwall:.1f} s wall, {ncpu:.1f} s CPU -> {nwall * scale:.0f} s for {args.blocks} "
          f"(extrapolated); ratio {nwall * scale / wall:.1f}x wall, "
          f"{ncpu * scale / cpu:.1f}x CPU")  # fmt: skip
    ours_sub = res.blocks.iloc[: args.baseline]
    for k, m in enumerate(("bliss", "hsa", "loewe", "zip")):
        d = np.abs(ours_sub[m].to_numpy() - naive[:, k])
        print(f"  {m}: |ours - naive| median {np.median(d):.3f}, max {d.max():.3f} points")

    got = res.blocks.merge(truth, on="block_id")
    print("accuracy against the known truth (block means, percentage points):")
    for kind, g in got.groupby("kind"):
        line = f"  {kind:<11} n={len(g):5d}"
        for m in ("loewe", "bliss"):
            true = g[f"{m}_true"]
            err = (g[m] - true).abs()
            nonzero = true.abs() > 1e-6
            sign = (np.sign(g[m]) == np.sign(true))[nonzero].mean() if nonzero.any() else np.nan
            line += (f" | {m}: true mean {true.mean():6.2f}, ours {g[m].mean():6.2f}, "
                     f"MAE {err.mean():.2f}, sign agrees {100 * sign:.1f} %")  # fmt: skip
        print(line)
    status = pd.concat([res.blocks["fit_status_row"], res.blocks["fit_status_col"]])
    print("fit status:", status.str.split(":").str[0].value_counts().to_dict())


if __name__ == "__main__":
    main()
