"""Benchmark: clonal deconvolution (``oncoresist.clones``) on simulated series with truth.

2,000 x 4 and 10,000 x 4 mutations x samples at 150x (8 true clones, a rising resistant
clone with a 2 % and a 0 % sub-clone, parallel trajectories; binomial reads, and
beta-binomial of precision 200), seeds 1-3: wall time, peak memory, ARI and V-measure
against the truth, whether the 2 % sub-clone stays apart, and an "oracle" ARI (each
mutation given to the clone that maximises its likelihood at the true CCFs: what a
clustering could reach). Where ``pyclone-vi`` is on PATH (GPL-3; an oracle only, never a
dependency), it runs on the same files in this script (``-c 40 -d beta-binomial -r 10``)
and the ratio is printed; otherwise the measured reference (30 s CPU for 2,000 x 4, 152 s
for 10,000 x 4, ARI 0.73-0.84; ../shared/reference/clones_and_ctdna.md) is quoted.

Usage::

    python benchmarks/bench_clones.py [--quick]
"""

from __future__ import annotations

import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from oncoresist.clones import (
    CloneModel,
    adjusted_rand_index,
    log_likelihood_table,
    simulate_clones,
    v_measure,
    write_mutations,
)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def oracle_ari(data, truth, overdispersion) -> float:
    grid = np.linspace(0, 1, 101)
    if overdispersion is None:
        table = log_likelihood_table(data, grid, likelihood="binomial")
    else:
        table = log_likelihood_table(data, grid, likelihood="beta-binomial",
                                     precision=overdispersion)  # fmt: skip
    idx = np.rint(truth.ccf * 100).astype(int)
    s = np.arange(data.n_samples)
    ll = np.stack([table[:, :, s, idx[k]].sum(axis=2) for k in range(len(truth.names))], -1)
    best = np.logaddexp.reduce(ll, axis=0) + np.log(np.bincount(truth.labels) / len(truth.labels))
    return adjusted_rand_index(truth.labels, best.argmax(axis=1))


def pyclone_vi(data, truth) -> str:
    exe = shutil.which("pyclone-vi")
    if exe is None:
        return "pyclone-vi not on PATH"
    with tempfile.TemporaryDirectory() as d:
        tsv, h5, outp = Path(d) / "in.tsv", Path(d) / "fit.h5", Path(d) / "out.tsv"
        write_mutations(data, tsv)
        t = time.perf_counter()
        subprocess.run([exe, "fit", "-i", str(tsv), "-o", str(h5), "-c", "40", "-d",
                        "beta-binomial", "-r", "10"], check=True, capture_output=True)  # fmt: skip
        subprocess.run([exe, "write-results-file", "-i", str(h5), "-o", str(outp)],
                       check=True, capture_output=True)  # fmt: skip
        wall = time.perf_counter() - t
        res = pd.read_csv(outp, sep="\t").drop_duplicates("mutation_id")
    labels = res.set_index("mutation_id")["cluster_id"].reindex(data.mutations).fillna(-1)
    ari = adjusted_rand_index(truth.labels, labels.to_numpy())
    return f"pyclone-vi {wall:.1f} s, ARI {ari:.3f}"


def main() -> None:
    quick = "--quick" in sys.argv
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")  # fmt: skip
    sizes = (2000,) if quick else (2000, 10_000)
    for n in sizes:
        for od in (None, 200.0):
            rows = []
            for seed in (1, 2, 3):
                data, truth = simulate_clones(n_mutations=n, n_samples=4, depth=150,
                                              overdispersion=od, rng=seed)  # fmt: skip
                t = time.perf_counter()
                model = CloneModel(rng=0).fit(data)
                wall = time.perf_counter() - t
                lab = model.labels_
                two, zero = truth.names.index("resistant-2pct"), truth.names.index("resistant-0pct")
                apart = (np.bincount(lab[truth.labels == two]).argmax()
                         != np.bincount(lab[truth.labels == zero]).argmax())  # fmt: skip
                rows.append((seed, wall, model.n_clusters_,
                             adjusted_rand_index(truth.labels, lab),
                             v_measure(truth.labels, lab).v_measure, oracle_ari(data, truth, od),
                             apart, pyclone_vi(data, truth)))  # fmt: skip
            frame = pd.DataFrame(rows, columns=["seed", "wall_s", "clones", "ari", "v",
                                                "oracle_ari", "2pct_apart", "peer"])  # fmt: skip
            reads = "binomial" if od is None else f"beta-binomial {od:g}"
            ari, oracle = frame["ari"].mean(), frame["oracle_ari"].mean()
            apart = int(frame["2pct_apart"].sum())
            print(f"{n:,} x 4, {reads} reads: mean wall {frame['wall_s'].mean():.1f} s, "
                  f"mean ARI {ari:.3f} (oracle {oracle:.3f}), V {frame['v'].mean():.3f}, "
                  f"clones {frame['clones'].tolist()}, 2 % sub-clone apart in {apart}/3; "
                  f"peak RSS {peak_mb():.0f} MB")  # fmt: skip
            print("   " + "; ".join(f"seed {r.seed}: {r.wall_s:.1f} s, ARI {r.ari:.3f}, {r.peer}"
                                    for r in frame.itertuples()))  # fmt: skip
    print(
        "reference (../shared/reference/clones_and_ctdna.md, same kind of machine): PyClone-VI "
        "0.1.6 takes 27-32 s CPU for 2,000 x 4 and 152 s for 10,000 x 4; ARI 0.725-0.835"
    )


if __name__ == "__main__":
    main()
