"""Benchmark: programme scores and differential abundance on 200,000 cells × 20,000 genes.

Run: ``.venv/bin/python benchmarks/bench_singlecell.py [--cells 200000] [--genes 20000]``

Data: a seeded simulation generated in chunks of cells (timed apart): 3 patients × (control,
drug) = 6 samples, 8 cell states, a persister state at 5 % expanding 5× on drug, per-sample
size factors and per-gene batch shifts; ~5,000 UMIs and ~1,500–2,500 detected genes per cell
(multinomial draws of each cell's UMIs over its state's gene profile). Genes are named after
PROGENy and Hallmark genes, then padded, so the scores see real overlaps.

Timed: ``score`` (PROGENy top-100 and all 50 Hallmark sets, ULM) and ``da`` (PCA on 2,000
variable genes, refined index cells, kNN of index cells only, NB GLM + QL F-test, spatial FDR)
— wall and CPU seconds and the peak resident memory of the process (``ru_maxrss``; the
counts themselves are part of it). Baseline in the same run: the kNN of *every* cell, which
a Milo-style graph built on all cells needs and ``da`` avoids, plus DA power on the planted
persister expansion (fraction of persister-majority neighbourhoods at spatial FDR < 0.05).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd
from scipy import sparse

from oncoresist.singlecell import CellData, da, load_hallmark, load_progeny, score
from oncoresist.singlecell._neighbours import knn


def gene_names(n_genes: int) -> list[str]:
    real = sorted(set(load_progeny(top=100)["target"]) | set(load_hallmark()["target"]))
    real = real[:n_genes]
    return real + [f"SIMG{i}" for i in range(n_genes - len(real))]


def generate(n_cells: int, n_genes: int, seed: int, chunk: int = 2000) -> CellData:
    """Seeded sparse counts, built chunk by chunk (CSR pieces stacked once)."""
    rng = np.random.default_rng(seed)
    n_states, n_samples = 8, 6
    base = np.log(rng.gamma(0.25, 4.0, n_genes) + 1e-4)
    state_lfc = np.zeros((n_states, n_genes))
    for s in range(n_states):
        genes = rng.choice(n_genes, n_genes // 20, replace=False)
        state_lfc[s, genes] = rng.normal(0.0, 1.5, len(genes))
    sample_shift = rng.normal(0.0, 0.02, (n_samples, n_genes))
    size_factor = np.exp(rng.normal(0.0, 0.1, n_samples))
    per_sample = np.full(n_samples, n_cells // n_samples)
    per_sample[: n_cells - per_sample.sum()] += 1
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    obs = []
    for smp in range(n_samples):
        drug = smp % 2 == 1
        persister = 0.25 if drug else 0.05
        weights = np.full(n_states, (1 - persister) / (n_states - 1))
        weights[-1] = persister
        logits = base + sample_shift[smp] + state_lfc
        cdf = np.cumsum(np.exp(logits - logits.max(axis=1, keepdims=True)), axis=1)
        cdf /= cdf[:, -1:]
        for start in range(0, per_sample[smp], chunk):
            m = min(chunk, per_sample[smp] - start)
            states = np.sort(rng.choice(n_states, m, p=weights))
            lib = np.maximum(
                (3500 * size_factor[smp] * np.exp(rng.normal(0, 0.3, m))).astype(np.int64), 1
            )
            ends = np.cumsum(lib)
            cols = np.empty(ends[-1], dtype=np.int64)
            # Cells are sorted by state, so each state's UMIs are one contiguous run.
            for st in np.unique(states):
                first, last = np.searchsorted(states, [st, st + 1])
                lo, hi = (ends[first - 1] if first else 0), ends[last - 1]
                cols[lo:hi] = np.searchsorted(cdf[st], rng.random(hi - lo))
            rows = np.repeat(np.arange(m), lib)
            cells = np.bincount(rows * n_genes + np.minimum(cols, n_genes - 1),
                                minlength=m * n_genes)  # fmt: skip
            flat = np.flatnonzero(cells)
            parts.append((cells[flat].astype(np.uint16), (flat % n_genes).astype(np.int32),
                          np.bincount(flat // n_genes, minlength=m)))  # fmt: skip
            labels = np.array([f"state{s}" for s in range(n_states - 1)] + ["persister"])
            name = f"P{smp // 2 + 1}"
            cond = "drug" if drug else "ctrl"
            obs.append(
                pd.DataFrame(
                    {"patient": name, "condition": cond, "sample": f"{name}_{cond}",
                     "state": labels[states]}
                )
            )  # fmt: skip
    # Assemble the CSR arrays in place, freeing each chunk as it is copied (peak ≈ result).
    nnz = sum(len(p[0]) for p in parts)
    data = np.empty(nnz, dtype=np.uint16)
    indices = np.empty(nnz, dtype=np.int32)
    row_nnz = np.concatenate([p[2] for p in parts])
    pos = 0
    while parts:
        d, i, _ = parts.pop(0)
        data[pos : pos + len(d)] = d
        indices[pos : pos + len(d)] = i
        pos += len(d)
    # int32 index arrays while they fit: scipy widens every index array to the widest one.
    ptr_type = np.int32 if nnz < 2**31 else np.int64
    indptr = np.concatenate([[0], np.cumsum(row_nnz)]).astype(ptr_type)
    x = sparse.csr_matrix((data, indices, indptr), shape=(len(row_nnz), n_genes))
    frame = pd.concat(obs, ignore_index=True)
    frame.index = pd.Index([f"cell{i}" for i in range(len(frame))])
    return CellData(x, frame, pd.DataFrame(index=gene_names(n_genes)))


def _hwm_gib(reset: bool = False) -> float:
    """Peak resident memory of this process (Linux VmHWM, GiB); ``reset`` restarts it."""
    try:
        if reset:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def timed(label: str, fn, results: dict) -> object:
    _hwm_gib(reset=True)
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    results[label] = (time.perf_counter() - wall, time.process_time() - cpu, _hwm_gib())
    print(f"{label:<34} wall {results[label][0]:7.1f} s   cpu {results[label][1]:7.1f} s   "
          f"peak RSS {results[label][2]:5.2f} GiB", flush=True)  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=200_000)
    parser.add_argument("--genes", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prop", type=float, default=0.05)
    args = parser.parse_args()
    res: dict[str, tuple[float, float, float]] = {}
    cd = timed("generate (not part of the budget)",
               lambda: generate(args.cells, args.genes, args.seed), res)  # fmt: skip
    detected = np.diff(cd.X.indptr)
    print(f"{cd.n_obs} cells × {cd.n_vars} genes, {cd.X.nnz / 1e6:.0f} M non-zeros; detected "
          f"genes per cell: median {np.median(detected):.0f} (5–95 %: "
          f"{np.percentile(detected, 5):.0f}–{np.percentile(detected, 95):.0f})")  # fmt: skip
    rss_after_data = _hwm_gib(reset=True)
    timed("score PROGENy (ULM)", lambda: score(cd, "progeny", method="ulm"), res)
    timed("score Hallmark (ULM)", lambda: score(cd, "hallmark", method="ulm"), res)
    table = timed(
        "da (PCA + index kNN + GLM + FDR)",
        lambda: da(cd, condition="condition", sample="sample", design="~ patient + condition",
                   k=50, prop=args.prop, annotate="state", seed=args.seed),
        res,
    )  # fmt: skip
    peak = max(res[k][2] for k in res if not k.startswith("generate"))
    budget = sum(res[k][0] for k in res if not k.startswith("generate"))
    cpu = sum(res[k][1] for k in res if not k.startswith("generate"))
    truth = (table["state"] == "persister").to_numpy()
    hits = (table["spatial_fdr"] < 0.05).to_numpy()
    print(
        f"\nscoring + DA: wall {budget:.1f} s (budget 300), cpu {cpu:.1f} s; peak RSS "
        f"{peak:.2f} GiB (budget 8; the data alone {rss_after_data:.2f} GiB; generating it is"
        f" not part of the budget)"
    )
    print(
        f"DA: {len(table)} neighbourhoods, {truth.sum()} persister-majority; power at spatial "
        f"FDR < 0.05: {hits[truth].mean():.3f}; other neighbourhoods called: "
        f"{int((hits & ~truth).sum())} (the other states shrink on drug: 95 % -> 75 %)",
        flush=True,
    )
    # Baseline: the kNN of every cell (what a graph over all cells needs), timed on a random
    # 10,000 cells and extrapolated, beside the kNN of the index cells that da asks for.
    emb = cd.obsm["X_pca"]
    sample = np.random.default_rng(1).choice(cd.n_obs, min(10_000, cd.n_obs), replace=False)
    part = timed("baseline: kNN of 10,000 cells", lambda: knn(emb, 50, query=sample), res)
    del part
    index = cd.uns["oncoresist_da"]["index_cells"]
    timed(f"ours: kNN of {len(index)} index cells", lambda: knn(emb, 50, query=index), res)
    every = res["baseline: kNN of 10,000 cells"][0] * cd.n_obs / len(sample)
    ours = res[f"ours: kNN of {len(index)} index cells"][0]
    print(f"kNN of every cell (extrapolated) {every:.0f} s vs index cells {ours:.1f} s: "
          f"{every / ours:.0f}x")  # fmt: skip


if __name__ == "__main__":
    main()
