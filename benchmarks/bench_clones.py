"""Benchmark: CPU time, memory and accuracy of ``oncoresist.clones`` against PyClone-VI.

Each fit runs in its own child process (this script again, with ``--one``), which first
fits a small warm-up series (imports, first-call costs) and then times the fit itself:
CPU seconds as ``time.process_time()`` plus its children, checked against
``resource.getrusage`` (user + system), wall seconds and the child's peak RSS. Series
(``clones._simulate``, seeds 1-3): the 8-clone tree (a resistant clone rising from 5 % to
85 % with a 2 % and a 0 % sub-clone; two clones with parallel trajectories 5 CCF points
apart), purity 0.8, 150x, binomial and beta-binomial (precision 200) reads, at 2,000 x 4 and
10,000 x 4 mutations x samples; and 2,000 x 4 with copy number changing between samples for
70 % of mutations and purity 0.6-0.9. Printed beside each: ARI against the truth, the
"oracle" ARI (each mutation to the clone most likely at the true CCFs), whether the 2 %
sub-clone stays apart, and the ratio to PyClone-VI's CPU seconds.

PyClone-VI (GPL-3; an oracle only, never a dependency) runs on the same files when
``pyclone-vi`` is on PATH (``-c 40 -d beta-binomial -r 10``). Otherwise the baseline is the
measurement of ../shared/reference/clones_and_ctdna.md, section 3 (PyClone-VI 0.1.6, same
options, 2 shared vCPU): :data:`PYCLONE_VI_CPU_S`, :data:`PYCLONE_VI_RSS_MB` and
:data:`PYCLONE_VI_ARI`.

Usage::

    python benchmarks/bench_clones.py [--quick]
"""

from __future__ import annotations

import json
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
    write_mutations,
)

#: PyClone-VI 0.1.6 CPU seconds per fit (../shared/reference/clones_and_ctdna.md, section 3):
#: 27-32 s for 2,000 x 4 with beta-binomial reads (43 s binomial), 152 s for 10,000 x 4.
PYCLONE_VI_CPU_S = {2000: (27.0, 32.0), 10_000: (152.0, 152.0)}
#: Its peak RSS (MB), same source.
PYCLONE_VI_RSS_MB = {2000: 285.0, 10_000: 363.0}
#: Its ARI against the truth on the same kind of series (2,000 x 4 at 150x, seeds 1-3; 10,000).
PYCLONE_VI_ARI = {2000: (0.725, 0.835), 10_000: (0.790, 0.790)}

PURITY_VARIED = [0.9, 0.7, 0.6, 0.8]


def series(n: int, reads: str, seed: int):
    """The simulated data and truth of one benchmark series."""
    od = None if reads == "binomial" else 200.0
    if reads == "cn-changing":
        return simulate_clones(n_mutations=n, n_samples=4, depth=150, purity=PURITY_VARIED,
                               cn_fraction=0.3, cn_change_fraction=0.7, rng=seed)  # fmt: skip
    return simulate_clones(n_mutations=n, n_samples=4, depth=150, overdispersion=od, rng=seed)


def oracle_ari(data, truth) -> float:
    """Each mutation to the true clone most likely at the true CCFs (binomial reads)."""
    table = log_likelihood_table(data, np.linspace(0, 1, 101), likelihood="binomial")
    at = np.rint(truth.ccf * 100).astype(int)
    samples = np.arange(data.n_samples)
    ll = np.stack([table[:, samples, at[k]].sum(axis=1) for k in range(truth.n_clones)], -1)
    ll += np.log(np.bincount(truth.labels, minlength=truth.n_clones) / truth.labels.size)
    return adjusted_rand_index(truth.labels, ll.argmax(axis=1))


def one(n: int, reads: str, seed: int) -> dict:
    """In a child process: warm up, then time one fit."""
    warm, _ = simulate_clones(n_mutations=300, n_samples=4, depth=150, rng=99)
    CloneModel(rng=0).fit(warm)
    data, truth = series(n, reads, seed)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu0, wall0, kids0 = time.process_time(), time.perf_counter(), os.times()
    model = CloneModel(rng=0).fit(data)
    kids1 = os.times()
    cpu = time.process_time() - cpu0 + (kids1.children_user - kids0.children_user) + (
        kids1.children_system - kids0.children_system)  # fmt: skip
    wall = time.perf_counter() - wall0
    after = resource.getrusage(resource.RUSAGE_SELF)
    rusage_cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    lab = model.labels_
    two, zero = truth.names.index("resistant-2pct"), truth.names.index("resistant-0pct")
    empty = int((np.bincount(lab, minlength=model.n_clusters_) == 0).sum())
    apart = bool(np.bincount(lab[truth.labels == two]).argmax()
                 != np.bincount(lab[truth.labels == zero]).argmax())  # fmt: skip
    return {"n": n, "reads": reads, "seed": seed, "cpu_s": cpu, "rusage_cpu_s": rusage_cpu,
            "wall_s": wall, "peak_rss_mb": after.ru_maxrss / 1024, "clones": model.n_clusters_,
            "ari": adjusted_rand_index(truth.labels, lab), "oracle_ari": oracle_ari(data, truth),
            "apart": apart, "empty": empty,
            "peer": pyclone_vi(data, truth)}  # fmt: skip


def pyclone_vi(data, truth) -> str:
    """PyClone-VI on the same data where it is on PATH: its CPU seconds and ARI."""
    exe = shutil.which("pyclone-vi")
    if exe is None:
        return ""
    with tempfile.TemporaryDirectory() as d:
        tsv, h5, outp = Path(d) / "in.tsv", Path(d) / "fit.h5", Path(d) / "out.tsv"
        write_mutations(data, tsv)
        before = os.times()
        subprocess.run([exe, "fit", "-i", str(tsv), "-o", str(h5), "-c", "40", "-d",
                        "beta-binomial", "-r", "10"], check=True, capture_output=True)  # fmt: skip
        subprocess.run([exe, "write-results-file", "-i", str(h5), "-o", str(outp)],
                       check=True, capture_output=True)  # fmt: skip
        after = os.times()
        res = pd.read_csv(outp, sep="\t").drop_duplicates("mutation_id")
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system)  # fmt: skip
    labels = res.set_index("mutation_id")["cluster_id"].reindex(data.mutations).fillna(-1)
    return f"pyclone-vi {cpu:.1f} CPU-s, ARI {adjusted_rand_index(truth.labels, labels):.3f}"


def run_child(n: int, reads: str, seed: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", str(n), reads, str(seed)],
                         check=True, capture_output=True, text=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(one(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))))
        return
    quick = "--quick" in sys.argv
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    plan = [(2000, "binomial", (1, 2, 3)), (2000, "beta-binomial", (1, 2, 3)),
            (2000, "cn-changing", (1, 2, 3)), (10_000, "binomial", (1,)),
            (10_000, "beta-binomial", (1,))]  # fmt: skip
    if quick:
        plan = [(2000, "binomial", (1,))]
    for n, reads, seeds in plan:
        rows = pd.DataFrame([run_child(n, reads, s) for s in seeds])
        lo, hi = PYCLONE_VI_CPU_S[n]
        cpu = rows["cpu_s"].mean()
        print(f"{n:,} x 4, {reads}: CPU {cpu:.1f} s (getrusage {rows['rusage_cpu_s'].mean():.1f}; "
              f"per seed {', '.join(f'{c:.1f}' for c in rows['cpu_s'])}), wall "
              f"{rows['wall_s'].mean():.1f} s, peak RSS {rows['peak_rss_mb'].max():.0f} MB; "
              f"ARI {rows['ari'].mean():.3f} (oracle {rows['oracle_ari'].mean():.3f}), clones "
              f"{rows['clones'].tolist()}, empty {int(rows['empty'].sum())}, 2 % sub-clone apart "
              f"{int(rows['apart'].sum())}/{len(rows)}")  # fmt: skip
        print(f"   PyClone-VI (reference): {lo:g}-{hi:g} CPU-s, {PYCLONE_VI_RSS_MB[n]:g} MB, ARI "
              f"{PYCLONE_VI_ARI[n][0]:.3f}-{PYCLONE_VI_ARI[n][1]:.3f}; CPU ratio "
              f"{cpu / hi:.2f}-{cpu / lo:.2f} (target <= 0.5)")  # fmt: skip
        for peer in rows["peer"]:
            if peer:
                print(f"   {peer}")


if __name__ == "__main__":
    main()
