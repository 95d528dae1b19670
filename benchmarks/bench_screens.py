"""Benchmark: pooled CRISPR screens under drug (``oncoresist.screens``), with MAGeCK beside.

1. A375 + vemurafenib (Shalem 2014; 64,076 sgRNAs, 9 samples) from ``../shared/data/crispr``
   when present: read + analyse the day-14 drug-vs-vehicle contrast (plasmid as T0) and the
   joint day-7 + day-14 time course; wall time, peak memory, ranks of the six validated
   resistance genes. Where ``mageck2`` and its compiled ``RRA`` helper are on PATH
   (``scripts/install_mageck2.sh`` builds it), ``mageck2 test`` runs on the same contrast in
   this script: time ratio, Spearman of the signed gene scores, top-20 overlaps.
2. A simulated genome-wide library: 80,000 sgRNAs (20,000 genes x 4), T0 + 2 vehicle + 2 drug
   replicates with planted hits (``screens._simulate``): end to end from the file. Target:
   < 10 s on this machine.

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
from scipy import stats

from oncoresist.screens import analyze, read_counts, unmangle_gene
from oncoresist.screens._simulate import simulate_screen

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "crispr"
A375 = DATA / "shalem2014_A375_GeCKOv1_vemurafenib_counts.csv.gz"
VALIDATED = ["NF1", "NF2", "MED12", "CUL3", "TADA2B", "TADA1"]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def a375_sheet(days: tuple[int, ...]) -> pd.DataFrame:
    rows = [("plasmid", "T0", "1", 0.0)]
    for d in days:
        for rep in ("R1", "R2"):
            rows += [(f"D{d}_{rep}", "vehicle", rep, float(d)),
                     (f"PLX{d}_{rep}", "drug", rep, float(d))]  # fmt: skip
    sheet = pd.DataFrame(rows, columns=["sample", "condition", "replicate", "day"])
    sheet["doublings"] = np.nan
    return sheet


def ranks(genes: pd.DataFrame) -> str:
    order = genes["normZ"].rank(ascending=False).astype(int)
    return ", ".join(f"{g} {order[g]}" for g in VALIDATED)


def run_mageck(counts: pd.DataFrame, treatment: str, control: str) -> tuple[float, pd.DataFrame]:
    """``mageck2 test`` (unpaired, median normalisation) on a count table: seconds, genes."""
    with tempfile.TemporaryDirectory() as d:
        tsv = Path(d) / "counts.txt"
        counts.reset_index().to_csv(tsv, sep="\t", index=False)
        t = time.perf_counter()
        subprocess.run(["mageck2", "test", "-k", str(tsv), "-t", treatment, "-c", control,
                        "-n", str(Path(d) / "run")], check=True, capture_output=True)  # fmt: skip
        seconds = time.perf_counter() - t
        peer = pd.read_csv(Path(d) / "run.gene_summary.txt", sep="\t", index_col="id")
    peer.index = [unmangle_gene(str(i)) or str(i) for i in peer.index]
    return seconds, peer[~peer.index.duplicated()]


def have_mageck() -> bool:
    if shutil.which("mageck2") and shutil.which("RRA"):
        return True
    print("   mageck2 peer skipped: needs mageck2 and its compiled RRA helper on PATH "
          "(scripts/install_mageck2.sh)")  # fmt: skip
    return False


def mageck_peer(counts: pd.DataFrame, genes: pd.DataFrame, ours_s: float) -> None:
    if not have_mageck():
        return
    t_peer, peer = run_mageck(counts, "PLX14_R1,PLX14_R2", "D14_R1,D14_R2")
    both = genes.join(peer.add_suffix("_mageck"), how="inner")
    signed = np.log10(both["neg|p-value_mageck"]) - np.log10(both["pos|p-value_mageck"])
    rho = stats.spearmanr(both["normZ"], signed)[0]
    ours_rra = np.log10(both["neg|p-value"]) - np.log10(both["pos|p-value"])
    rho_rra = stats.spearmanr(ours_rra, signed)[0]
    up = len(set(genes.sort_values("normZ", ascending=False).index[:20])
             & set(peer.sort_values("pos|rank").index[:20]))  # fmt: skip
    down = len(set(genes.sort_values("normZ").index[:20])
               & set(peer.sort_values("neg|rank").index[:20]))  # fmt: skip
    peer_rank = peer["pos|rank"]
    print(f"   mageck2 test (same contrast, unpaired): {t_peer:.1f} s; "
          f"ratio {t_peer / ours_s:.0f}x; "
          f"FDR<0.05 {(peer['pos|fdr'] < 0.05).sum()} / {(peer['neg|fdr'] < 0.05).sum()}; "
          f"validated ranks {', '.join(f'{g} {peer_rank[g]}' for g in VALIDATED)}")  # fmt: skip
    print(f"   agreement over {len(both):,} genes: Spearman normZ vs MAGeCK signed "
          f"log10 p {rho:.3f} (our alpha-RRA {rho_rra:.3f}); top-20 overlap resistance "
          f"{up}/20, sensitisation {down}/20")  # fmt: skip


def main() -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")  # fmt: skip
    if A375.exists():
        t = time.perf_counter()
        counts = read_counts(A375)
        t_read = time.perf_counter() - t
        for label, days in (("day 14", (14,)), ("days 7 + 14", (7, 14))):
            sheet = a375_sheet(days)
            t = time.perf_counter()
            res = analyze(counts[["gene", *sheet["sample"]]], sheet)
            t_an = time.perf_counter() - t
            g = res.genes
            print(f"1. A375 {label} ({len(counts):,} sgRNAs): read {t_read:.2f} s, analyse "
                  f"{t_an:.2f} s; FDR<0.05 {(g['fdr_supp'] < 0.05).sum()} / "
                  f"{(g['fdr_synth'] < 0.05).sum()}; validated ranks {ranks(g)}; "
                  f"peak RSS {peak_mb():.0f} MB")  # fmt: skip
            if days == (14,):
                day14, t_ours = g, t_read + t_an
        mageck_peer(counts.drop(columns=[c for c in counts if c.startswith("PLX7")
                                         or c.startswith("D7")]), day14, t_ours)  # fmt: skip
    else:
        print("1. skipped: ../shared/data/crispr absent")
    counts, sheet, truth = simulate_screen(genes=20_000, guides_per_gene=4, rng=1)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "sim.tsv"
        counts.reset_index().to_csv(path, sep="\t", index=False)
        t = time.perf_counter()
        table = read_counts(path)
        res = analyze(table, sheet)
        wall = time.perf_counter() - t
    g = res.genes.join(truth)
    hits = (g["fdr_supp"] < 0.05) | (g["fdr_synth"] < 0.05)
    true = hits & (g["drug_effect"] != 0)
    print(f"2. simulated {len(counts):,} sgRNAs x {counts.shape[1] - 1} samples: {wall:.2f} s "
          f"end to end (target < 10 s); {hits.sum()} hits at FDR 0.05, {true.sum()} true of "
          f"{(g['drug_effect'] != 0).sum()} planted; peak RSS {peak_mb():.0f} MB")  # fmt: skip
    if have_mageck():
        t_peer, peer = run_mageck(counts, "drug_1,drug_2", "vehicle_1,vehicle_2")
        p = peer.join(truth)
        called = (p["pos|fdr"] < 0.05) | (p["neg|fdr"] < 0.05)
        print(f"   mageck2 test on the same table: {t_peer:.1f} s; ratio {t_peer / wall:.0f}x; "
              f"{called.sum()} hits, {(called & (p['drug_effect'] != 0)).sum()} true")  # fmt: skip


if __name__ == "__main__":
    main()
