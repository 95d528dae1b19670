"""Benchmark: a population fit of thousands of patients in one process and on Dask.

A simulated Gompertz cohort (default 4,000 patients, 8 readings each, cube-root error 0.05,
seed 0) is fitted by ``PopulationModel("gompertz").fit`` in one process, then on a
``distributed.LocalCluster`` of worker processes (default 2 workers x 1 thread) in the same
run: first with Dask's default worker environment, then without its
``MALLOC_TRIM_THRESHOLD_`` (which turns off glibc's adaptive mmap threshold, so every
array of more than 128 KiB is mapped and unmapped afresh). Printed: wall times and their
ratio, the largest difference between the two fits, the time spent in the patients'
MAP fits (the only part that runs on the cluster) and the bound that puts on the gain
(Amdahl), and peak memory (this process's and each worker's peak RSS).

Usage::

    python benchmarks/bench_forecast_dask.py                     # 4,000 patients, 2 workers
    python benchmarks/bench_forecast_dask.py --patients 20000 --workers 8
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time

import dask
import distributed
import numpy as np
import pandas as pd

from oncoresist.forecast import PopulationModel
from oncoresist.forecast import population as population_module
from oncoresist.forecast.growth import MODELS

MU = np.array([np.log(1.0), np.log(0.3), np.log(0.01)])
OMEGA = np.diag([0.2, 0.3, 0.1]) ** 2 * 4


def simulate(n: int, n_readings: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = np.arange(n_readings) * 42.0
    theta = rng.multivariate_normal(MU, OMEGA, size=n)
    f = MODELS["gompertz"](np.tile(days, (n, 1)), theta)
    y = np.maximum(f ** (1 / 3) + 0.05 * rng.standard_normal(f.shape), 0.0) ** 3
    return pd.DataFrame(
        {
            "patient_id": np.repeat([f"p{i}" for i in range(n)], n_readings),
            "day": np.tile(days, n),
            "value": y.ravel(),
        }
    )


def peak_rss_mib() -> float:
    """This process's peak resident memory (``VmHWM``; ``ru_maxrss`` of a spawned worker
    would start from its parent's)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # not Linux


class MapTimer:
    """Wraps ``population.map_fit`` to add up the seconds spent in it."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self._inner = population_module.map_fit

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self._inner(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start
            self.calls += 1

    def __enter__(self) -> MapTimer:
        population_module.map_fit = self
        return self

    def __exit__(self, *exc: object) -> None:
        population_module.map_fit = self._inner


def timed_fit(data: pd.DataFrame, client=None) -> tuple[PopulationModel, float, MapTimer]:
    with MapTimer() as timer:
        start = time.perf_counter()
        model = PopulationModel("gompertz").fit(data, client=client)
        return model, time.perf_counter() - start, timer


def differences(a: PopulationModel, b: PopulationModel) -> float:
    return max(
        float(np.max(np.abs(a.mu_ - b.mu_))),
        float(np.max(np.abs(a.omega_ - b.omega_))),
        float(np.max(np.abs(np.subtract(a.error_, b.error_)))),
        abs(a.discrepancy_ - b.discrepancy_),
        float(np.max(np.abs(a.posterior_.theta - b.posterior_.theta))),
    )


def on_cluster(data, workers, *, malloc_trim: bool):
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
    if not malloc_trim:
        environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        started = time.perf_counter()
        with (
            distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            startup = time.perf_counter() - started
            model, seconds, timer = timed_fit(data, client)
            worker_rss = client.run(peak_rss_mib)
    return model, seconds, timer, startup, sorted(worker_rss.values())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=4000)
    parser.add_argument("--readings", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{sys.version.split()[0]}, dask {dask.__version__}, numpy {np.__version__}"
    )
    data = simulate(args.patients, args.readings)
    print(f"cohort: {args.patients:,} simulated Gompertz patients x {args.readings} readings")

    local, t_local, timer = timed_fit(data)
    share = timer.seconds / t_local
    bound = 1.0 / (1.0 - share + share / args.workers)
    print(
        f"\none process: {t_local:.2f} s ({local.n_iter_} EM iterations), peak RSS "
        f"{peak_rss_mib():.0f} MiB"
    )
    print(
        f"  MAP fits (what runs on the cluster): {timer.seconds:.2f} s in {timer.calls} "
        f"calls, {100 * share:.0f} % of the fit; the rest (error model, population "
        "moments, calibration) stays on the calling process"
    )
    print(f"  Amdahl bound with {args.workers} workers and no overhead: {bound:.2f}x")

    for malloc_trim in (True, False):
        model, seconds, timer, startup, rss = on_cluster(
            data, args.workers, malloc_trim=malloc_trim
        )
        label = "Dask defaults" if malloc_trim else "without MALLOC_TRIM_THRESHOLD_"
        print(f"\nLocalCluster, {args.workers} worker processes x 1 thread, {label}:")
        print(
            f"  fit {seconds:.2f} s (cluster start {startup:.1f} s, not counted); "
            f"one process / Dask = {t_local / seconds:.2f}x"
        )
        print(
            f"  MAP fits {timer.seconds:.2f} s in {timer.calls} calls "
            f"({1000 * timer.seconds / timer.calls:.0f} ms per call, one round trip each)"
        )
        print(f"  largest difference from the one-process fit: {differences(local, model):.1e}")
        print(
            f"  peak RSS: this process {peak_rss_mib():.0f} MiB, workers "
            + ", ".join(f"{r:.0f}" for r in rss)
            + " MiB"
        )

    print(
        f"\nOn {os.cpu_count()} cores the gain is bounded: the workers share the cores with "
        "the calling process (and here with other jobs), each EM iteration is one round "
        "trip, and most of a fit of this cheap closed-form model is serial. Dask pays off "
        "with more cores, more patients or costlier models."
    )


if __name__ == "__main__":
    main()
