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
3. A control-rich library as published (issue 20): 90,000 sgRNAs, 18,300 genes with 4-5
   guides and 1,500 non-targeting guides under one label, T0 + 4 vehicle + 4 drug replicates,
   80 planted hits: read + analyse, controls included, target < 15 s; ``mageck2 test`` with
   the controls as ``--control-sgrna`` beside it.
4. Replicate-vs-replicate nulls with 3x depth imbalance on that library: every 2-vs-2 split
   of one arm's four replicates (3 splits x 2 arms), one side thinned to a third of its
   reads (binomial), both ways round: 12 comparisons that should call nothing. False calls at
   FDR 5 % for every ranking the command line offers (alpha-RRA and sumZ of the replicate
   model, alpha-RRA of ``--method nb``) and for MAGeCK2. ``--reads`` and ``--fitness`` make
   the library shallower and the essential genes' depletion deeper (a harder null).
5. The real screens' replicate-vs-replicate nulls (A375 D14, PLX14, D7, PLX7 R1 vs R2 both
   ways, plasmid as T0; HAP1 T18A/B/C pairs, T0 as T0), the first sample thinned to a third
   of its reads: false calls at FDR 5 % per ranking, beside ``mageck2 test``.

Usage::

    python benchmarks/bench_screens.py [--parts 1,2,3,4,5] [--nulls 12] [--reads 500]
"""

from __future__ import annotations

import argparse
import itertools
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
from oncoresist.screens._controls import find_controls
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


def run_mageck(
    counts: pd.DataFrame, treatment: str, control: str, controls: list[str] | None = None
) -> tuple[float, pd.DataFrame]:
    """``mageck2 test`` (unpaired, median normalisation) on a count table: seconds, genes.

    With ``controls`` (sgRNA ids) they go in as ``--control-sgrna`` (normalisation and null).
    """
    with tempfile.TemporaryDirectory() as d:
        tsv = Path(d) / "counts.txt"
        counts.reset_index().to_csv(tsv, sep="\t", index=False)
        cmd = ["mageck2", "test", "-k", str(tsv), "-t", treatment, "-c", control,
               "-n", str(Path(d) / "run")]  # fmt: skip
        if controls:
            (Path(d) / "controls.txt").write_text("\n".join(controls) + "\n")
            cmd += ["--control-sgrna", str(Path(d) / "controls.txt")]
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
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


def false_calls(g: pd.DataFrame) -> dict[str, int]:
    """Genes at FDR 5 % in either direction, per ranking of the gene table (false in a null)."""
    out = {}
    for name, up, down in (("sumZ", "fdr_supp", "fdr_synth"), ("alpha-RRA", "pos|fdr",
                                                               "neg|fdr")):  # fmt: skip
        if up in g:
            out[name] = int(((g[up] < 0.05) | (g[down] < 0.05)).sum())
    return out


def control_rich_library(
    seed: int = 20, *, reads: float = 500.0, fitness: float = -0.15
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """90,000 sgRNAs: 18,300 genes with 4-5 guides and 1,500 non-targeting guides (part 3).

    ``reads`` per guide per sample; ``fitness``: log2 change per doubling of the essential
    genes' guides (10 % of genes, 10 doublings).
    """
    counts, sheet, truth = simulate_screen(genes=18_600, guides_per_gene=5, replicates=4,
                                           hits=40, reads_per_guide=reads, fitness=fitness,
                                           rng=seed)  # fmt: skip
    rng = np.random.default_rng(seed)
    quiet = truth.index[(truth["drug_effect"] == 0) & ~truth["essential"]]
    ntc = rng.choice(quiet, 300, replace=False)
    counts.loc[counts["gene"].isin(ntc), "gene"] = "Non-Targeting"
    truth = truth.drop(index=ntc)
    four = rng.choice(truth.index, 3_000, replace=False)  # these genes lose their 5th guide
    fifth = counts.groupby("gene").cumcount() == 4
    counts = counts[~(fifth & counts["gene"].isin(four))]
    return counts, sheet, truth


def part3(counts: pd.DataFrame, sheet: pd.DataFrame, truth: pd.DataFrame) -> None:
    used = counts[["gene", *sheet["sample"]]]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "library.tsv"
        used.reset_index().to_csv(path, sep="\t", index=False)
        cpu, t = time.process_time(), time.perf_counter()
        table = read_counts(path)
        res = analyze(table, sheet)
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    g = res.genes.join(truth)
    planted = g["drug_effect"] != 0
    true = false_calls(g[planted])
    line = [f"{k} {v} calls, {true[k]} true of {planted.sum()}" for k, v in false_calls(g).items()]
    finite = np.isfinite(g[["pos|fdr", "neg|fdr", "fdr_supp", "fdr_synth"]]).all().all()
    print(f"3. control-rich library, {len(used):,} sgRNAs x {used.shape[1] - 1} samples "
          f"({res.genes.attrs.get('controls_summary', '?')}): {wall:.2f} s wall, {cpu:.2f} s "
          f"CPU end to end (target < 15 s); FDRs finite: {finite}; FDR 5 %: "
          f"{'; '.join(line)}; peak RSS {peak_mb():.0f} MB")  # fmt: skip
    if have_mageck():
        drug = ",".join(sheet.loc[sheet["condition"] == "drug", "sample"])
        veh = ",".join(sheet.loc[sheet["condition"] == "vehicle", "sample"])
        ids = find_controls(used).ids(used)
        child = resource.getrusage(resource.RUSAGE_CHILDREN)
        t_peer, peer = run_mageck(used.drop(columns="T0"), drug, veh, ids)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_peer = after.ru_utime + after.ru_stime - child.ru_utime - child.ru_stime
        p = peer.join(truth, how="inner")
        called = (p["pos|fdr"] < 0.05) | (p["neg|fdr"] < 0.05)
        print(f"   mageck2 test --control-sgrna ({len(ids):,} controls), same table: "
              f"{t_peer:.1f} s wall ({t_peer / wall:.1f}x ours), {cpu_peer:.1f} s CPU "
              f"({cpu_peer / cpu:.0f}x ours); {called.sum()} calls, "
              f"{(called & (p['drug_effect'] != 0)).sum()} true, "
              f"{(called & p['essential']).sum()} of them core-essential (no T0 or growth "
              f"ratio in MAGeCK's model: the drug arm's slower growth)")  # fmt: skip


def null_designs(sheet: pd.DataFrame, limit: int):
    """2-vs-2 splits of each arm's four replicates, each side thinned in turn (part 4)."""
    for arm in ("vehicle", "drug"):
        reps = sheet.loc[sheet["condition"] == arm, "sample"].tolist()
        for a in itertools.combinations(reps[1:], 1):
            side_a = [reps[0], *a]
            side_b = [r for r in reps if r not in side_a]
            for thin in ("a", "b"):
                if limit <= 0:
                    return
                limit -= 1
                yield arm, side_a, side_b, thin


def part4(counts: pd.DataFrame, sheet: pd.DataFrame, limit: int) -> None:
    rng = np.random.default_rng(4)
    rows = []
    for arm, side_a, side_b, thin in null_designs(sheet, limit):
        table = counts[["gene", "T0", *side_a, *side_b]].copy()
        for col in side_a if thin == "a" else side_b:
            table[col] = rng.binomial(table[col].to_numpy(), 1 / 3)
        pairs = [("T0", "T0", "1")] + [(s, "drug", str(i)) for i, s in enumerate(side_a)]
        pairs += [(s, "vehicle", str(i)) for i, s in enumerate(side_b)]
        nsheet = pd.DataFrame(pairs, columns=["sample", "condition", "replicate"])
        nsheet["day"] = np.where(nsheet["condition"] == "T0", 0.0, 14.0)
        nsheet["doublings"] = np.nan
        row = {"null": f"{arm} {'+'.join(side_a)} vs {'+'.join(side_b)}, {thin} at 1/3"}
        row.update(false_calls(analyze(table, nsheet).genes))
        row["nb alpha-RRA"] = false_calls(analyze(table, nsheet, method="nb").genes)["alpha-RRA"]
        if shutil.which("mageck2") and shutil.which("RRA"):
            ids = find_controls(table).ids(table)
            _, peer = run_mageck(table.drop(columns="T0"), ",".join(side_a), ",".join(side_b),
                                 ids)  # fmt: skip
            row["MAGeCK2"] = false_calls(peer)["alpha-RRA"]
        rows.append(row)
        print("   " + "; ".join(f"{k} {v}" for k, v in row.items()), flush=True)
    frame = pd.DataFrame(rows).set_index("null")
    total = ", ".join(f"{k} {v}" for k, v in frame.sum().items())
    worst = ", ".join(f"{k} {v}" for k, v in frame.max().items())
    print(
        f"4. {len(frame)} replicate-vs-replicate nulls, 3x depth imbalance, false calls at "
        f"FDR 5 % (genes, both directions): total {total}; worst single null {worst}"
    )
    if "MAGeCK2" not in frame:
        have_mageck()


def part5(limit: int) -> None:
    """Real screens: replicate vs replicate of one arm, one side thinned to a third."""
    designs = []
    if A375.exists():
        a375 = read_counts(A375)
        for arm in ("D14", "PLX14", "D7", "PLX7"):
            for a, b in ((f"{arm}_R1", f"{arm}_R2"), (f"{arm}_R2", f"{arm}_R1")):
                designs.append(("A375", a375, "plasmid", a, b))
    hap1_path = DATA / "hart_HAP1_TKOv3_counts.tsv.gz"
    if hap1_path.exists():
        hap1 = read_counts(hap1_path)
        for a, b in itertools.permutations(("HAP1_T18A", "HAP1_T18B", "HAP1_T18C"), 2):
            designs.append(("HAP1", hap1, "HAP1_T0", a, b))
    if not designs:
        print("5. skipped: ../shared/data/crispr absent")
        return
    rng = np.random.default_rng(5)
    rows = []
    for screen, counts, t0, a, b in designs[:limit]:
        table = counts[["gene", t0, a, b]].copy()
        table[a] = rng.binomial(table[a].to_numpy(), 1 / 3)  # 'drug' side at a third
        sheet = pd.DataFrame({"sample": [t0, a, b], "condition": ["T0", "drug", "vehicle"],
                              "replicate": "1", "day": [0.0, np.nan, np.nan],
                              "doublings": np.nan})  # fmt: skip
        row = {"null": f"{screen} {a} (1/3 reads) vs {b}"}
        row.update(false_calls(analyze(table, sheet).genes))
        if shutil.which("mageck2") and shutil.which("RRA"):
            _, peer = run_mageck(table.drop(columns=t0), a, b)
            row["MAGeCK2"] = false_calls(peer)["alpha-RRA"]
        rows.append(row)
        print("   " + "; ".join(f"{k} {v}" for k, v in row.items()), flush=True)
    frame = pd.DataFrame(rows).set_index("null")
    total = ", ".join(f"{k} {v}" for k, v in frame.sum().items())
    print(
        f"5. {len(frame)} real replicate-vs-replicate nulls (A375, HAP1), first sample at a "
        f"third of its reads, T0 as T0: false calls at FDR 5 %, total {total}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="1,2,3,4,5", help="which parts to run, e.g. 3,4")
    parser.add_argument("--nulls", type=int, default=12, help="nulls in part 4 (at most 12)")
    parser.add_argument("--reads", type=float, default=500.0, help="reads per guide, parts 3-4")
    parser.add_argument("--fitness", type=float, default=-0.15,
                        help="essential genes' log2 change per doubling, parts 3-4")  # fmt: skip
    args = parser.parse_args()
    parts = {int(x) for x in args.parts.split(",")}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")  # fmt: skip
    if parts & {3, 4}:
        counts, sheet, truth = control_rich_library(reads=args.reads, fitness=args.fitness)
        print(f"   library: {args.reads:g} reads per guide per sample, essential genes "
              f"{args.fitness:g} log2 per doubling (10 doublings)")  # fmt: skip
        if 3 in parts:
            part3(counts, sheet, truth)
        if 4 in parts:
            part4(counts, sheet, args.nulls)
    if 5 in parts:
        part5(args.nulls + 2)
    if 1 not in parts:
        pass
    elif A375.exists():
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
    if 2 not in parts:
        return
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
