"""Benchmark: drug-versus-control analysis of pooled CRISPR screens (``oncoresist.screens``).

1. A375 + vemurafenib (Shalem 2014; 64,076 sgRNAs, 11 samples) from ``../shared/data/crispr``
   when present: read + analyse (PLX14 vs D14), wall time and peak memory, and MAGeCK2's
   ``mageck2 test`` on the same contrast when it runs on this machine (``pip install mageck2``
   needs its compiled ``RRA`` helper on PATH; skipped with the reason otherwise).
2. A simulated genome-wide library: 80,000 sgRNAs (20,000 genes x 4), 2 + 2 samples at
   ~500 reads per sgRNA, negative-binomial counts; end to end. Target: < 10 s.

Usage::

    python benchmarks/bench_screens.py
"""

from __future__ import annotations

import os
import platform
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from oncoresist.screens import analyze, read_counts

A375 = Path(__file__).resolve().parents[2] / "shared" / "data" / "crispr" / (
    "shalem2014_A375_GeCKOv1_vemurafenib_counts.csv.gz")  # fmt: skip


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def simulated(path: Path, rng) -> None:
    genes = 20_000
    sg = genes * 4
    mean = rng.gamma(2.0, 250.0, sg)
    cols = {}
    for name in ("ctrl_1", "ctrl_2", "drug_1", "drug_2"):
        cols[name] = rng.negative_binomial(10, 10 / (10 + mean))
    names = np.repeat([f"G{i}" for i in range(genes)], 4)
    frame = pd.DataFrame({"sgRNA": [f"sg{i}" for i in range(sg)], "gene": names, **cols})
    frame.to_csv(path, sep="\t", index=False)


def main() -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")  # fmt: skip
    if A375.exists():
        t = time.perf_counter()
        counts = read_counts(A375)
        t_read = time.perf_counter() - t
        t = time.perf_counter()
        genes = analyze(counts, ["PLX14_R1", "PLX14_R2"], ["D14_R1", "D14_R2"])
        t_an = time.perf_counter() - t
        top = ", ".join(genes.index[:5])
        print(f"1. A375 ({len(counts):,} sgRNAs): read {t_read:.2f} s, analyse {t_an:.2f} s; "
              f"top 5 enriched {top}; peak RSS {peak_mb():.0f} MB")  # fmt: skip
        mageck = shutil.which("mageck2")
        if mageck and shutil.which("RRA"):
            with tempfile.TemporaryDirectory() as d:
                tsv = Path(d) / "a375.txt"
                counts.reset_index().to_csv(tsv, sep="\t", index=False)
                t = time.perf_counter()
                subprocess.run([mageck, "test", "-k", str(tsv), "-t", "PLX14_R1,PLX14_R2",
                                "-c", "D14_R1,D14_R2", "-n", str(Path(d) / "a375")],
                               check=True, capture_output=True)  # fmt: skip
                t_peer = time.perf_counter() - t
            print(f"   mageck2 test: {t_peer:.1f} s; ratio {t_peer / (t_read + t_an):.1f}x")
        else:
            print("   mageck2 peer skipped: needs mageck2 and its compiled RRA helper on PATH")
    else:
        print("1. skipped: ../shared/data/crispr absent")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "sim.tsv"
        simulated(path, np.random.default_rng(1))
        t = time.perf_counter()
        counts = read_counts(path)
        analyze(counts, ["drug_1", "drug_2"], ["ctrl_1", "ctrl_2"])
        wall = time.perf_counter() - t
    print(f"2. simulated 80,000 sgRNAs x 4 samples: {wall:.2f} s end to end (target < 10 s); "
          f"peak RSS {peak_mb():.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
