"""Benchmark: a large combination screen scored in one process and on a Dask LocalCluster.

The screen is ``bench_synergy.simulate`` (6x6 blocks, seeded; 40 % synergistic with
combination index 0.5, 40 % antagonistic with CI 2, 20 % with an inactive second drug;
noise sd 3 points), default 50,000 blocks. In the same run it is scored by
``score_blocks`` in this process (the baseline), then by ``score_blocks_dask`` on a
``distributed.LocalCluster`` of single-threaded worker processes (default: one per core;
``_batch.local_cluster``, which leaves out Dask's ``MALLOC_TRIM_THRESHOLD_``; ``--dask-env``
keeps Dask's worker environment as it is), whose start-up is timed apart. Printed: wall
seconds, blocks per second, the ratio to the baseline, and the largest difference between
the two block tables (expected: rounding).

Usage::

    python benchmarks/bench_synergy_dask.py                        # 50,000 blocks
    python benchmarks/bench_synergy_dask.py --blocks 10000 --workers 2 --chunk 1000
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import time

import distributed
import numpy as np

from bench_synergy import simulate
from oncoresist.synergy import score_blocks
from oncoresist.synergy._batch import HTTP_ADDRESS, local_cluster, score_blocks_dask

MODELS = ("bliss", "hsa", "loewe", "zip")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--chunk", type=int, default=None, help="blocks per task")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--dask-env",
        action="store_true",
        help="workers with Dask's own environment (MALLOC_TRIM_THRESHOLD_)",
    )
    args = parser.parse_args()

    data, _ = simulate(args.blocks, 3.0, args.seed)
    print(f"{args.blocks:,} blocks of 6x6, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")  # fmt: skip

    # the cluster starts first and its workers import the scoring code at once, so both
    # paths run the same code even if the source changes during a long run
    t0 = time.perf_counter()
    if args.dask_env:
        cluster = distributed.LocalCluster(
            n_workers=args.workers, threads_per_worker=1, dashboard_address=HTTP_ADDRESS
        )
    else:
        cluster = local_cluster(args.workers)
    with cluster, distributed.Client(cluster) as client:
        client.wait_for_workers(args.workers)
        client.run(importlib.import_module, "oncoresist.synergy._score")
        t_start = time.perf_counter() - t0
        t0 = time.perf_counter()
        local = score_blocks(data, models=MODELS)
        t_local = time.perf_counter() - t0
        print(f"in one process: {t_local:.1f} s ({args.blocks / t_local:,.0f} blocks/s)")
        t0 = time.perf_counter()
        on_dask = score_blocks_dask(data, models=MODELS, client=client, chunk_size=args.chunk)
        t_dask = time.perf_counter() - t0
    env = "Dask's worker environment" if args.dask_env else "without MALLOC_TRIM_THRESHOLD_"
    print(f"LocalCluster start and imports ({args.workers} workers x 1 thread, {env}): "
          f"{t_start:.1f} s")  # fmt: skip
    print(f"on Dask: {t_dask:.1f} s ({args.blocks / t_dask:,.0f} blocks/s); "
          f"{t_local / t_dask:.2f}x the one-process speed "
          f"({t_local / (t_dask + t_start):.2f}x counting the start)")  # fmt: skip
    diff = max(
        float(np.nanmax(np.abs(on_dask.blocks[m].to_numpy() - local.blocks[m].to_numpy())))
        for m in MODELS
    )
    same_order = list(on_dask.blocks["block_id"]) == list(local.blocks["block_id"])
    print(f"largest difference in a block score: {diff:.2e} points; same order: {same_order}")


if __name__ == "__main__":
    main()
