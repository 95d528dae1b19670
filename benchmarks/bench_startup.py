"""Benchmark: start-up of the ``oncoresist`` command (issue 18, item 6).

Wall time of fresh processes, median of ``--runs`` runs each, measured in this script
against two baselines run the same way on the same machine:

* ``python -c pass``: the interpreter alone (the floor no command can beat);
* the full stack imported at once (every sub-command module: scipy, pandas, the evolve,
  forecast, screen, clone and server code), which is what every command paid before the
  sub-command groups were loaded lazily.

Measured: ``oncoresist --help`` (target < 0.5 s) and a one-case ``oncoresist interpret``
(two alterations, one drug; target < 1.5 s), each also as a ratio to both baselines; the
interpretation again with the knowledge base's YAML parsed rather than read from its
cache (``ONCORESIST_CACHE_DIR=off``), as on a first run.

Usage::

    python benchmarks/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

FULL_STACK = (
    "import oncoresist.cli, oncoresist.cli.evolve, oncoresist.cli.forecast, "
    "oncoresist.cli.screens, oncoresist.cli.clones, oncoresist.cli.audit, "
    "oncoresist.cli.server, oncoresist.cli.exchange, oncoresist.interpret"
)
CLI = [sys.executable, "-m", "oncoresist"]
INTERPRET = ["interpret", "-a", "EGFR L858R; EGFR T790M", "-d", "osimertinib", "--disease", "NSCLC"]
CASES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import of the full stack": [sys.executable, "-c", FULL_STACK],
    "oncoresist --help": [*CLI, "--help"],
    "oncoresist interpret (one case)": [*CLI, *INTERPRET],
    "  the same, knowledge base parsed": ["env", "ONCORESIST_CACHE_DIR=off", *CLI, *INTERPRET],
}
TARGETS = {"oncoresist --help": 0.5, "oncoresist interpret (one case)": 1.5}


def wall(command: list[str]) -> float:
    """Seconds one fresh process takes from start to exit (output discarded)."""
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    """Measure every case, interleaved so that load on the machine hits all alike."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per case (median taken)")
    args = parser.parse_args()
    env_note = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    print(f"python {platform.python_version()} on {platform.system()} ({env_note})")
    for command in CASES.values():  # warm the file cache and the bytecode
        wall(command)
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.runs):
        for name, command in CASES.items():
            times[name].append(wall(command))
    median = {name: statistics.median(values) for name, values in times.items()}
    floor = median["python -c pass"]
    full = median["import of the full stack"]
    print(f"{'case':34} {'median s':>9} {'min s':>7} {'x python':>9} {'x full stack':>13}")
    for name, values in times.items():
        print(
            f"{name:34} {median[name]:9.3f} {min(values):7.3f} {median[name] / floor:9.1f} "
            f"{median[name] / full:13.2f}"
        )
    for name, target in TARGETS.items():
        state = "met" if median[name] < target else "NOT met"
        print(f"target {name} < {target} s: {state} ({median[name]:.3f} s)")


if __name__ == "__main__":
    main()
