"""Benchmark: interpreting a large VCF costs little more than iterating it with cyvcf2.

Generates a bgzipped VCF of ``--records`` random single-sample records (GT:AD:DP) on
several chromosomes, plus a few dozen records at knowledge-base coordinates of GRCh37
(EGFR T790M 7:55249071 C>T, L858R 7:55259515 T>G, ...), then times in the same run:

(a) raw cyvcf2 iteration: ``for v in VCF(path): pass``;
(b) ``interpret(read_vcf(path, build="GRCh37"), disease="NSCLC")``;

and prints both times and their ratio (target: at most 1.5). It then measures the peak
memory of (b) in fresh processes at 250,000 records and at ``--records`` records (max
RSS, and the tracemalloc peak of Python allocations) to show that it does not grow with
the file.

Usage::

    python benchmarks/bench_interpret.py                  # 1,000,000 records
    python benchmarks/bench_interpret.py --records 200000 --repeat 3
    python benchmarks/bench_interpret.py --kb path/to/kb  # another knowledge base
    python benchmarks/bench_interpret.py --annotate       # VEP CSQ on every record
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from oncoresist.kb import load_kb
from oncoresist.variants import CONTIG_LENGTHS, read_vcf
from oncoresist.variants._bgzf import BgzfWriter

BUILD = "GRCh37"
RANDOM_CHROMS = ("1", "2", "3", "7", "12", "17")
MAX_KB_RECORDS = 48
BASES = np.array(list("ACGT"))
_ORDER = {c: i for i, c in enumerate(CONTIG_LENGTHS[BUILD])}


# ----------------------------------------------------------------------- generate
def _kb_records(kb) -> list[tuple[str, int, str, str]]:
    """Knowledge-base coordinates of single-base changes, EGFR first, at most a few dozen."""
    keys = [k for k in kb.coordinates[BUILD] if len(k[2]) == len(k[3]) == 1]
    keys.sort(key=lambda k: (kb.coordinates[BUILD][k][0] != "EGFR", _ORDER[k[0]], k[1], k[3]))
    return sorted(keys[:MAX_KB_RECORDS], key=lambda k: (_ORDER[k[0]], k[1], k[3]))


CSQ_HEADER = (
    '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl '
    "VEP. Format: Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|"
    'INTRON|HGVSc|HGVSp|CANONICAL">'
)
OTHER_GENES = ("TTN", "MUC16", "OBSCN", "SYNE1", "LRP1B", "CSMD3", "RYR2", "FLG")


def _csq(alt: str, gene: str, codon: int) -> str:
    """Three VEP consequences (one canonical) of a missense change in ``gene``."""
    return ",".join(
        f"{alt}|missense_variant|MODERATE|{gene}|ENSG0000{k}|Transcript|ENST0000{k}|"
        f"protein_coding|5/20||c.{3 * codon}G>A|ENSP0000{k}.1:p.Ala{codon}Thr|"
        + ("YES" if k == 0 else "")
        for k in range(3)
    )


def generate(path: Path, n: int, kb, seed: int = 7, annotate: bool = False) -> int:
    """Write a sorted, bgzipped VCF of ``n`` random records plus knowledge-base records.

    With ``annotate``, every record carries a VEP ``CSQ`` field of three consequences in a
    gene outside the knowledge base (the records at knowledge-base coordinates too, so that
    they are found by their coordinates).
    """
    rng = np.random.default_rng(seed)
    kb_records = _kb_records(kb)
    chroms = sorted(set(RANDOM_CHROMS) | {k[0] for k in kb_records}, key=_ORDER.__getitem__)
    share = np.full(len(RANDOM_CHROMS), n // len(RANDOM_CHROMS))
    share[: n % len(RANDOM_CHROMS)] += 1
    per_chrom = dict(zip(RANDOM_CHROMS, share.tolist(), strict=True))
    header = [
        "##fileformat=VCFv4.2",
        f"##reference={BUILD}",
        *(f"##contig=<ID={c},length={CONTIG_LENGTHS[BUILD][c]},assembly=b37>" for c in chroms),
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
        *([CSQ_HEADER] if annotate else []),
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR",
    ]
    written = 0
    with open(path, "wb") as handle:
        out = BgzfWriter(handle, level=6)
        out.write(("\n".join(header) + "\n").encode())
        for chrom in chroms:
            count = per_chrom.get(chrom, 0)
            kb_here = [k for k in kb_records if k[0] == chrom]
            taken = {k[1] for k in kb_here}
            length = CONTIG_LENGTHS[BUILD][chrom]
            pos = np.unique(rng.integers(10_000, length - 10_000, size=int(count * 1.01) + 10))
            pos = pos[~np.isin(pos, list(taken))]
            pos = np.sort(rng.choice(pos, size=min(count, pos.size), replace=False))
            ref_i = rng.integers(0, 4, pos.size)
            alt_i = (ref_i + rng.integers(1, 4, pos.size)) % 4
            ref = BASES[ref_i].astype(object)
            alt = BASES[alt_i].astype(object)
            if kb_here:
                pos = np.concatenate([pos, [k[1] for k in kb_here]])
                ref = np.concatenate([ref, np.array([k[2] for k in kb_here], dtype=object)])
                alt = np.concatenate([alt, np.array([k[3] for k in kb_here], dtype=object)])
                order = np.lexsort((alt.astype(str), pos))
                pos, ref, alt = pos[order], ref[order], alt[order]
            depth = rng.integers(30, 900, pos.size)
            alt_reads = rng.binomial(depth, rng.uniform(0.02, 0.6, pos.size))
            ref_reads = depth - alt_reads
            rows = zip(
                pos.tolist(),
                ref.tolist(),
                alt.tolist(),
                depth.tolist(),
                ref_reads.tolist(),
                alt_reads.tolist(),
                strict=True,
            )
            chunk: list[str] = []
            for i, (p, r, a, d, rr, ar) in enumerate(rows):
                info = f"DP={d}"
                if annotate:
                    info += ";CSQ=" + _csq(a, OTHER_GENES[i % len(OTHER_GENES)], i % 900 + 1)
                chunk.append(
                    f"{chrom}\t{p}\t.\t{r}\t{a}\t60\tPASS\t{info}\tGT:AD:DP\t0/1:{rr},{ar}:{d}\n"
                )
                if len(chunk) == 65536:
                    out.write("".join(chunk).encode())
                    chunk.clear()
            out.write("".join(chunk).encode())
            written += pos.size
        out.close()
    return written


# -------------------------------------------------------------------------- time
def time_raw(path: Path) -> float:
    from cyvcf2 import VCF

    start = time.perf_counter()
    for _v in VCF(str(path)):
        pass
    return time.perf_counter() - start


def run_interpret(path: Path, kb, interpret) -> tuple[int, int, str]:
    """Interpret the file; return (alterations, drugs judged, what ran)."""
    if interpret is None:
        found = sum(1 for _ in read_vcf(path, build=BUILD, kb=kb))
        return found, 0, "read_vcf only"
    result = interpret(read_vcf(path, build=BUILD, kb=kb), disease="NSCLC", kb=kb)
    return len(result.alterations), len(result.drugs), "interpret(read_vcf(...))"


def time_interpret(path: Path, kb, interpret) -> tuple[float, tuple[int, int, str]]:
    start = time.perf_counter()
    info = run_interpret(path, kb, interpret)
    return time.perf_counter() - start, info


def time_read(path: Path, kb) -> float:
    start = time.perf_counter()
    for _a in read_vcf(path, build=BUILD, kb=kb):
        pass
    return time.perf_counter() - start


def load_interpret(kb):
    """``interpret`` if it works with this knowledge base, else ``None`` and the reason."""
    try:
        from oncoresist.interpret import interpret
    except ImportError as exc:
        return None, f"oncoresist.interpret is not available ({exc})"
    try:
        interpret(["EGFR T790M"], disease="NSCLC", kb=kb)  # compiles and caches the rules
    except Exception as exc:
        return None, f"interpret() fails on this knowledge base: {exc}"
    return interpret, None


# ------------------------------------------------------------------------ memory
def _status_mib(key: str) -> float | None:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) so that it covers only what follows."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def _peak_mib() -> float:
    hwm = _status_mib("VmHWM")
    if hwm is not None:
        return hwm
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def child(path: Path, kb_dir: str | None, trace: bool) -> None:
    """Run (b) once in this fresh process and print its memory figures as JSON."""
    kb = load_kb(kb_dir)
    interpret, _ = load_interpret(kb)
    startup = _peak_mib()
    reset = _reset_peak()
    before = _status_mib("VmRSS") or startup
    if trace:
        tracemalloc.start()
    found, _, _ = run_interpret(path, kb, interpret)
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    figures = {"startup": startup, "before": before, "peak": _peak_mib(), "reset": reset}
    print(json.dumps({**figures, "traced": peak, "found": found}))


def measure_memory(path: Path, kb_dir: str | None, trace: bool) -> dict:
    cmd = [sys.executable, __file__, "--child", str(path)]
    if kb_dir:
        cmd += ["--kb", kb_dir]
    if trace:
        cmd.append("--trace")
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# -------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="records (1,000,000)")
    parser.add_argument("--repeat", type=int, default=2, help="timing repeats; best is kept")
    parser.add_argument("--memory-small", type=int, default=250_000, help="small memory run")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory runs")
    parser.add_argument("--kb", help="knowledge-base directory (the shipped one by default)")
    parser.add_argument(
        "--annotate", action="store_true", help="give every record a VEP CSQ annotation"
    )
    parser.add_argument("--workdir", help="where to write the VCFs (a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the generated VCFs")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(Path(args.child), args.kb, args.trace)
        return 0

    kb = load_kb(args.kb)
    interpret, why_not = load_interpret(kb)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="oncoresist-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    files: dict[int, Path] = {}

    def vcf_for(n: int) -> Path:
        if n not in files:
            path = workdir / f"bench_{n}{'_csq' if args.annotate else ''}.vcf.gz"
            start = time.perf_counter()
            total = generate(path, n, kb, annotate=args.annotate)
            print(
                f"generated {path} ({total:,} records, {path.stat().st_size / 2**20:.1f} MiB) "
                f"in {time.perf_counter() - start:.1f} s"
            )
            files[n] = path
        return files[n]

    print(
        f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"cyvcf2 {__import__('cyvcf2').__version__}, numpy {np.__version__}"
    )
    if why_not:
        print(f"NOTE: timing read_vcf alone (consumed), not interpret: {why_not}")
    path = vcf_for(args.records)
    raw, full, read = [], [], []
    info = (0, 0, "")
    for _ in range(max(args.repeat, 1)):
        raw.append(time_raw(path))
        seconds, info = time_interpret(path, kb, interpret)
        full.append(seconds)
        read.append(time_read(path, kb))
    a, b = min(raw), min(full)
    found, judged, what = info
    print(f"(a) raw cyvcf2 iteration          {a:7.3f} s   (best of {len(raw)}: {_fmt(raw)})")
    print(f"(b) {what:<30}{b:7.3f} s   (best of {len(full)}: {_fmt(full)})")
    print(f"    read_vcf alone                {min(read):7.3f} s")
    print(f"    {found} alterations found, {judged} drugs judged")
    ratio = b / a
    print(f"ratio (b)/(a) = {ratio:.2f}  (target <= 1.5: {'met' if ratio <= 1.5 else 'NOT met'})")

    if not args.no_memory:
        print("memory of (b), each in a fresh process (MiB):")
        rows = []
        for n in sorted({args.memory_small, args.records}):
            target = vcf_for(n)
            rss = measure_memory(target, args.kb, trace=False)
            traced = measure_memory(target, args.kb, trace=True)
            rows.append((n, rss, traced))
        what = "peak RSS while reading" if rows[0][1]["reset"] else "max RSS (whole process)"
        print(f"    records   RSS before   {what}   growth   tracemalloc peak")
        for n, rss, traced in rows:
            print(
                f"  {n:>9,}   {rss['before']:10.1f}   {rss['peak']:{len(what)}.1f}   "
                f"{rss['peak'] - rss['before']:6.1f}   {traced['traced']:16.2f}"
            )
        print(f"    (start-up peak before reading, loading the knowledge base: "
              f"{rows[0][1]['startup']:.1f} MiB)")  # fmt: skip
    if not args.keep and not args.workdir:
        for p in files.values():
            p.unlink(missing_ok=True)
        workdir.rmdir()
    return 0


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


if __name__ == "__main__":
    sys.exit(main())
