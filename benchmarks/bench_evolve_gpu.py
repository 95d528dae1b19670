"""Benchmark: the optional JAX Kendall engine on JAX's default device (a GPU when present).

The two-type model of ``bench_evolve.py`` (S -> R, u = 1e-7, on drug), one year as one
exact step, from 1e9 cells, for batches of 10^5 to 10^6 patients; prints exact patient-years
per second next to the numpy engine in the same script (target on one H100-class GPU:
>= 3,000,000 per second). Needs ``pip install 'oncoresist[gpu]'`` (and ``jax[cuda12]`` on a
GPU machine).

Usage::

    python benchmarks/bench_evolve_gpu.py [--patients 1000000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

B, D, D_DRUG, U = 0.14, 0.13, 0.17, 1e-7


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=200_000)
    args = ap.parse_args(argv)
    import jax

    from oncoresist.evolve.engines import kendall_step
    from oncoresist.evolve.engines_jax import kendall_step_jax

    print(f"JAX {jax.__version__}, device: {jax.devices()[0]}")
    mut = np.array([[0.0, U], [0.0, 0.0]])
    birth, death = np.array([B, B]), np.array([D_DRUG, D])
    n = args.patients
    x0 = np.tile([[1e9, 0]], (n, 1))
    kendall_step_jax(x0[:1000], birth, death, mut, 365.0, jax.random.key(0))  # compile
    t = time.perf_counter()
    out = kendall_step_jax(x0, birth, death, mut, 365.0, jax.random.key(1))
    t_jax = time.perf_counter() - t
    t = time.perf_counter()
    ref = kendall_step(x0, birth, death, mut, 365.0, np.random.default_rng(1))
    t_np = time.perf_counter() - t
    means = f"mean R {out[:, 1].mean():.4g} vs {ref[:, 1].mean():.4g}"
    print(f"{n:,} patient-years: JAX {n / t_jax:,.0f} /s, numpy {n / t_np:,.0f} /s "
          f"(ratio {t_np / t_jax:.2f}); {means}")  # fmt: skip


if __name__ == "__main__":
    main()
