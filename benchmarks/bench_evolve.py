"""Benchmark: exact evolution engines and strategy cohorts (``oncoresist.evolve``).

1. Peer: the two-type model S -> R (u = 1e-7 per division; b = 0.14, d = 0.13 per day;
   on drug d_S = 0.17), one year, 100 trajectories from 1e5 sensitive cells, run by
   GillesPy2's compiled SSA solver (``pip install 'oncoresist[bench]'``; skipped with a
   message when absent) and by the Kendall engine in the same script: wall time, their
   ratio (target >= 100x), and agreement of S and R at one year (means, P(R > 0)).
2. Throughput: exact virtual patient-years per second for the same model at 1e9 and 1e11
   starting cells, 10,000 patients, with one-day steps and with one step per year (exact
   for constant rates); target >= 10,000 per second.
3. Cohort: 1,000 patients x 4 strategies on the bundled EGFR model (PK, noise, visits every
   28 days), three and five years of follow-up; target < 10 s.
4. Zhang et al. 2017: representative patients #1 and #2, standard of care and adaptive,
   10,000 daily visits each with the numpy RK4 and the published Euler integrators; target
   < 2 s per patient-arm; baseline in the same run: scipy ``solve_ivp`` (LSODA) called once
   per day, and the figures against the published ones.

Usage::

    python benchmarks/bench_evolve.py            # full
    python benchmarks/bench_evolve.py --quick    # fewer patients, no peer
    python benchmarks/bench_evolve.py --only zhang
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from functools import partial

import numpy as np
from scipy.integrate import solve_ivp
from scipy.stats import binom

from oncoresist.evolve.cohort import compare_strategies, survival_summary
from oncoresist.evolve.competition import ZhangModel
from oncoresist.evolve.engines import kendall_step
from oncoresist.evolve.model import example_path, load_model
from oncoresist.evolve.simulate import dynamics_for, initial_state
from oncoresist.evolve.strategies import Progression, parse_strategy
from oncoresist.evolve.zhang2017 import PUBLISHED, representative_patient, starting_state

B, D, D_DRUG, U = 0.14, 0.13, 0.17, 1e-7
MUTATION = np.array([[0.0, U], [0.0, 0.0]])


def oncoresist_two_type(n0: float, reps: int, step_days: float, rng) -> np.ndarray:
    x = np.zeros((reps, 2), dtype=np.int64)
    x[:, 0] = int(n0)
    birth = np.array([B, B])
    death = np.array([D_DRUG, D])
    for _ in range(round(365 / step_days)):
        x = kendall_step(x, birth, death, MUTATION, step_days, rng)
    return x


def gillespy2_two_type(n0: int, reps: int, seed: int):
    import gillespy2

    # GillesPy2 builds its C++ solver with ``python -m SCons`` on the base interpreter; let
    # that interpreter see this environment's packages (SCons comes with the bench extra)
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)

    model = gillespy2.Model(name="sr")
    s = gillespy2.Species(name="S", initial_value=n0)
    r = gillespy2.Species(name="R", initial_value=0)
    model.add_species([s, r])
    pars = {
        "kb": B * (1 - U), "kd": D_DRUG, "km": B * U, "rb": B, "rd": D,
    }  # fmt: skip
    model.add_parameter([gillespy2.Parameter(name=k, expression=v) for k, v in pars.items()])
    model.add_reaction(
        [
            gillespy2.Reaction(name="sb", reactants={s: 1}, products={s: 2}, rate="kb"),
            gillespy2.Reaction(name="sd", reactants={s: 1}, products={}, rate="kd"),
            gillespy2.Reaction(name="sm", reactants={s: 1}, products={s: 1, r: 1}, rate="km"),
            gillespy2.Reaction(name="r_birth", reactants={r: 1}, products={r: 2}, rate="rb"),
            gillespy2.Reaction(name="r_death", reactants={r: 1}, products={}, rate="rd"),
        ]
    )
    model.timespan(np.linspace(0, 365, 2))
    solver = gillespy2.SSACSolver(model=model)  # compiles once
    t = time.perf_counter()
    results = model.run(solver=solver, number_of_trajectories=reps, seed=seed)
    wall = time.perf_counter() - t
    end = np.array([[traj["S"][-1], traj["R"][-1]] for traj in results])
    return end, wall


def compare_ends(a: np.ndarray, b: np.ndarray) -> str:
    """Means of ``a`` (few runs) and ``b`` (many) with z from ``b``'s variance, and P(R > 0)
    with the chance of ``a``'s count of runs with R under ``b``'s rate (binomial)."""
    parts = []
    for k, name in enumerate(("S", "R")):
        ma, mb = a[:, k].mean(), b[:, k].mean()
        se = np.sqrt(b[:, k].var() * (1 / len(a) + 1 / len(b)))
        parts.append(f"mean {name} {ma:.4g} vs {mb:.4g} (z = {(ma - mb) / max(se, 1e-12):.2f})")
    hits, pb = int((a[:, 1] > 0).sum()), (b[:, 1] > 0).mean()
    tail = binom.sf(hits - 1, len(a), pb) if hits else binom.cdf(0, len(a), pb)
    parts.append(f"runs with R {hits}/{len(a)} vs rate {pb:.4f} (binomial P = {tail:.2f})")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--only", choices=["peer", "throughput", "cohort", "zhang"])
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")  # fmt: skip

    sections = {"peer": peer, "throughput": throughput, "cohort": cohort, "zhang": zhang}
    for name, section in sections.items():
        if args.only in (None, name):
            section(args, rng)


def peer(args, rng) -> None:
    """Section 1: the GillesPy2 ratio."""
    print("\n1. peer: S -> R, one year, 100 trajectories from 1e5 cells, drug on")
    t = time.perf_counter()
    oncoresist_two_type(1e5, 100, 1.0, rng)
    t_ours = time.perf_counter() - t
    big = oncoresist_two_type(1e5, 20_000, 1.0, rng)
    print(f"   oncoresist Kendall (1-day steps): {t_ours:.3f} s for 100 trajectories")
    try:
        import gillespy2  # noqa: F401
    except ImportError:
        print("   GillesPy2 not installed: pip install 'oncoresist[bench]' for the peer run")
    else:
        if args.quick:
            print("   GillesPy2 skipped (--quick)")
        else:
            peer, t_peer = gillespy2_two_type(100_000, 100, args.seed)
            print(f"   GillesPy2 SSACSolver: {t_peer:.2f} s; ratio {t_peer / t_ours:.0f}x "
                  "(target >= 100x)")  # fmt: skip
            print(f"   agreement (100 GillesPy2 vs 20,000 Kendall runs): "
                  f"{compare_ends(peer, big)}")  # fmt: skip


def throughput(args, rng) -> None:
    """Section 2: exact patient-years per second."""
    print("\n2. throughput: exact patient-years per second, 10,000 patients, S -> R on drug")
    reps = 2_000 if args.quick else 10_000
    for n0 in (1e9, 1e11):
        ends = {}
        for step_days in (1.0, 365.0):
            t = time.perf_counter()
            ends[step_days] = oncoresist_two_type(n0, reps, step_days, rng)
            wall = time.perf_counter() - t
            print(f"   {n0:.0e} cells, {step_days:g}-day steps: {reps / wall:,.0f} "
                  f"patient-years/s ({wall:.2f} s; target >= 10,000)")  # fmt: skip
        print(f"   one-year vs one-day steps: {compare_ends(ends[365.0], ends[1.0])}")


def cohort(args, rng) -> None:
    """Section 3: a strategy cohort on the EGFR example."""
    print("\n3. cohort: 1,000 patients x 4 strategies, EGFR model, visits every 28 days")
    model = load_model(example_path("egfr_nsclc"))
    texts = ["continuous:erlotinib", "sequential:erlotinib>osimertinib",
             "combination:erlotinib+osimertinib", "intermittent:erlotinib@56/28"]  # fmt: skip
    n = 200 if args.quick else 1000
    for years in (3, 5):
        t = time.perf_counter()
        res = compare_strategies(
            {s: partial(parse_strategy, s) for s in texts},
            initial_state(model, n, np.random.default_rng([args.seed, 1]))[0],
            partial(dynamics_for, model, "kendall", 1.0),
            t_end=365.0 * years, noise_cv=0.1, floor=model.detection_cells / 10,
            progression=Progression(confirm=2), rng=args.seed,
        )  # fmt: skip
        wall = time.perf_counter() - t
        summary = survival_summary(res)
        hr = ", ".join(f"{k.split(':')[0]} {v}" for k, v in summary["hr"].items())
        print(f"   {years} years: {wall:.1f} s (target < 10 s); hazard ratios vs continuous: {hr}")


def _lsoda_daily(model: ZhangModel, x0: np.ndarray, days: int) -> None:
    """Baseline: scipy's LSODA called once per day (continuous abiraterone)."""
    x = x0.copy()
    for _ in range(days):
        sol = solve_ivp(lambda t, y: model.rhs(y[None, :], np.ones(1))[0], (0, 1), x,
                        method="LSODA", rtol=1e-8, atol=1e-12)  # fmt: skip
        x = np.maximum(sol.y[:, -1], 0.0)


def zhang(args, rng) -> None:
    """Section 4: Zhang 2017 representative patients, 10,000 daily visits."""
    print("\n4. Zhang 2017 representative patients: 10,000 daily visits per patient-arm")
    for integrator, floor_rule in (("rk4", "extinct"), ("euler", "clamp")):
        for (patient, arm), published in PUBLISHED.items():
            t = time.perf_counter()
            run = representative_patient(patient, arm, integrator=integrator,
                                         floor_rule=floor_rule)  # fmt: skip
            wall = time.perf_counter() - t
            print(f"   {integrator:5s} #{patient} {arm:8s}: {wall:.2f} s (target < 2 s); first "
                  f"drug day {run.first_drug_day}, T- > 5 % day {run.resistant_5pct_day:.0f}, "
                  f"> 90 % day {run.resistant_90pct_day:.0f}, exposure "
                  f"{run.exposure_pct_of_soc:.2f} % (published {published})")  # fmt: skip
    model = ZhangModel.zhang2017(1)
    x0, _ = starting_state(model)
    days = 1000 if args.quick else 2000
    t = time.perf_counter()
    _lsoda_daily(model, x0, days)
    per_day = (time.perf_counter() - t) / days
    print(f"   baseline, scipy LSODA once per day: {per_day * 1e3:.2f} ms per day, i.e. "
          f"{per_day * 10_000:.1f} s per 10,000-day patient-arm")  # fmt: skip


if __name__ == "__main__":
    main()
