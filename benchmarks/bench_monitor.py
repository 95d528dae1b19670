"""Benchmark: calling tracked variants in serial ctDNA (``oncoresist.monitor``).

Simulation (all counts are unique molecules, i.e. UMI-consensus counting):

* input ``G = 303 * ng`` genome equivalents, molecule recovery ``eta = 0.5``; the depth at
  a site is ``n ~ Poisson(eta G)`` (every recovered molecule is counted);
* the mutant molecules counted are ``Binomial(n, f)`` (so ``Poisson(eta G f)`` sampled);
* background errors on the other molecules are ``BetaBinomial`` with a per-site mean error
  drawn log-uniformly in a range (scenario ``duplex``: 3e-7 to 3e-6; ``umi``: 3e-6 to
  3e-5) and beta shape 2 (per-sample error rates with a coefficient of variation of 0.7);
* the background model is fitted to a simulated panel of 200 normals (depth ~10,000).

Figures printed:

1. per-draw sensitivity at ``fpr`` (BH within each 50-site draw) on a VAF x input grid,
   next to the sampling bound ``1 - exp(-eta G f)`` and their ratio (target >= 0.85
   wherever ``eta G f >= 3``);
2. specificity on variant-free series: false calls per 1,000 site-draws, per draw and
   longitudinal (target <= 1);
3. rising alleles (one per patient, at a site drawn per patient): mean number of draws by
   which longitudinal calling precedes per-draw calling (target >= 1), a series never
   called counting as draw 8;
4. end-to-end time of ``call_draws`` (and ``call_longitudinal``) on a cohort of 10,000
   patients x 8 draws x 50 variants = 4,000,000 observations (target < 60 s).

Usage::

    python benchmarks/bench_monitor.py            # full
    python benchmarks/bench_monitor.py --quick    # smaller replicates and cohort
    python benchmarks/bench_monitor.py --seed 7 --scenario umi
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pandas as pd

from oncoresist.monitor._background import BackgroundModel
from oncoresist.monitor._calling import call_draws
from oncoresist.monitor._lod import sampling_bound
from oncoresist.monitor._longitudinal import call_longitudinal

ETA = 0.5
GE_PER_NG = 303.0
SITES = 50
FPR = 0.05  # per draw: ~1e-3 false calls per site-draw at 50 sites
SCENARIOS = {"duplex": (3e-7, 3e-6), "umi": (3e-6, 3e-5)}
SHAPE = 2.0
NORMALS = 200  # panel of normals per site
VAFS = (0.0005, 0.001, 0.002, 0.005, 0.01)
INPUTS_NG = (1.0, 3.0, 10.0, 30.0)
START = pd.Timestamp("2024-01-01")
#: Rising alleles (start VAF, doubling time in days), sampled every 28 days.
RISING = ((1e-4, 30.0), (1e-4, 60.0), (5e-5, 45.0), (1e-4, 90.0))
SITE_NAMES = np.array([f"site{i:02d}" for i in range(SITES)])


def site_errors(rng, scenario: str) -> np.ndarray:
    lo, hi = SCENARIOS[scenario]
    return np.exp(rng.uniform(np.log(lo), np.log(hi), SITES))


def errors_on(rng, n, err):
    """Background error counts on ``n`` molecules at per-site mean errors ``err``.

    Every sample (each element of ``n``) draws its own error rate around the site's mean.
    """
    n, err = np.broadcast_arrays(n, err)
    return rng.binomial(n, rng.beta(SHAPE, SHAPE * (1 - err) / err))


def fit_background(rng, err) -> BackgroundModel:
    normals = NORMALS
    n = rng.poisson(10_000, (SITES, normals))
    k = errors_on(rng, n, err[:, None])
    panel = pd.DataFrame(
        {
            "site": np.repeat(SITE_NAMES, normals),
            "sample_id": np.tile(np.arange(normals), SITES),
            "alt_reads": k.ravel(),
            "depth": n.ravel(),
        }
    )
    return BackgroundModel().fit(panel)


def simulate(rng, err, *, patients, draws, vaf, ng, spacing=28):
    """Observations of ``patients x draws x SITES``; ``vaf`` shaped (patients, draws, SITES)."""
    shape = (patients, draws, SITES)
    ng = np.broadcast_to(np.asarray(ng, dtype=float), (patients, draws))
    n = rng.poisson(ETA * GE_PER_NG * ng[:, :, None], shape)
    mutant = rng.binomial(n, np.minimum(vaf, 1.0))
    alt = mutant + errors_on(rng, n - mutant, err[None, None, :])
    pid = np.repeat(np.arange(patients), draws * SITES)
    draw = np.tile(np.repeat(np.arange(draws), SITES), patients)
    day = draw * spacing
    return pd.DataFrame(
        {
            "patient_id": pid,
            "sample_id": pid * draws + draw,
            "collection_date": START + pd.to_timedelta(day, "D"),
            "site": pd.Categorical.from_codes(
                np.tile(np.arange(SITES), patients * draws), categories=SITE_NAMES
            ),
            "alt_reads": alt.ravel(),
            "depth": n.ravel(),
            "cfdna_ng": np.repeat(ng.ravel(), SITES),
            "draw": draw,
        }
    )


# ------------------------------------------------------------------ 1 sensitivity
def sensitivity_grid(rng, err, bg, reps: int) -> pd.DataFrame:
    frames = []
    cells = [(f, g) for f in VAFS for g in INPUTS_NG]
    for ci, (f, g) in enumerate(cells):
        vaf = np.zeros((reps, 1, SITES))
        where = rng.integers(0, SITES, reps)
        vaf[np.arange(reps), 0, where] = f
        obs = simulate(rng, err, patients=reps, draws=1, vaf=vaf, ng=g)
        obs["sample_id"] += ci * reps
        obs["is_variant"] = vaf.ravel() > 0
        obs["cell"] = ci
        frames.append(obs)
    obs = pd.concat(frames, ignore_index=True)
    out = call_draws(obs, bg, fpr=FPR, recovery=ETA)
    hit = out[obs["is_variant"]]
    sens = (hit["state"] == "detected").groupby(hit["cell"]).mean()
    lod = hit.groupby("cell")["lod_vaf"].median()
    rows = []
    for ci, (f, g) in enumerate(cells):
        bound = sampling_bound(f, g * GE_PER_NG, ETA)
        rows.append(
            {"vaf": f, "ng": g, "eta_G_f": ETA * GE_PER_NG * g * f, "sensitivity": sens[ci],
             "bound": bound, "ratio": sens[ci] / bound, "median_lod": lod[ci]}
        )  # fmt: skip
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ 2 specificity
def specificity(rng, err, bg, patients: int) -> tuple[float, float, int]:
    ng = np.exp(rng.normal(np.log(10.0), 0.6, (patients, 8)))
    obs = simulate(rng, err, patients=patients, draws=8, vaf=np.zeros((patients, 8, SITES)), ng=ng)
    per = call_draws(obs, bg, fpr=FPR, recovery=ETA)
    lon = call_longitudinal(obs, bg, fpr=FPR)
    n = len(obs)
    return 1000 * (per["state"] == "detected").mean(), 1000 * lon["called"].mean(), n


# ------------------------------------------------------------------ 3 lead time
def lead_time(rng, err, bg, patients: int, vaf0: float, doubling: float, ng: float):
    """First-call draws of one rising allele per patient, at a site drawn per patient."""
    draws = 8
    day = np.arange(draws) * 28
    vaf = np.zeros((patients, draws, SITES))
    site = rng.integers(0, SITES, patients)
    vaf[np.arange(patients), :, site] = vaf0 * 2.0 ** (day / doubling)
    obs = simulate(rng, err, patients=patients, draws=draws, vaf=vaf, ng=ng)
    per = call_draws(obs, bg, fpr=FPR, recovery=ETA)
    lon = call_longitudinal(obs, bg, fpr=FPR)
    true = vaf.ravel() > 0
    pid = obs["patient_id"].to_numpy()

    def first(called: np.ndarray) -> pd.Series:  # never called: draw 8
        return pd.Series(np.where(true & called, obs["draw"], draws)).groupby(pid).min()

    fp = first((per["state"] == "detected").to_numpy())
    fl = first(lon["called"].to_numpy())
    # ideal pooling: a call as soon as the alt molecules seen so far reach the count one
    # draw needs (the draw's critical count), as if every draw had been one library
    alt = np.where(true, obs["alt_reads"], 0)
    so_far = pd.Series(alt).groupby(pid).cumsum().to_numpy()
    fi = first(so_far >= per["critical_count"].to_numpy())
    lead = fp - fl
    return (
        lead.mean(),
        (lead < 0).mean(),
        (fp < draws).mean(),
        (fl < draws).mean(),
        (fp - fi).mean(),
    )


# ------------------------------------------------------------------ 4 cohort
def cohort(rng, err, patients: int):
    draws = 8
    day = np.arange(draws) * 28.0
    vaf = np.zeros((patients, draws, SITES), dtype=float)
    # 3 truncal variants per patient: VAF ~ 1 % at baseline, halving every 60 days
    base = np.exp(rng.normal(np.log(0.01), 1.0, (patients, 1, 3)))
    vaf[:, :, :3] = base * 2.0 ** (-day[None, :, None] / 60.0)
    # 2 resistance variants rising from 1e-4 with doubling times of 20-90 days
    dbl = rng.uniform(20, 90, (patients, 1, 2))
    vaf[:, :, 3:5] = 1e-4 * 2.0 ** (day[None, :, None] / dbl)
    ng = np.exp(rng.normal(np.log(10.0), 0.6, (patients, draws)))
    return simulate(rng, err, patients=patients, draws=draws, vaf=vaf, ng=ng)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer replicates, 1,000-patient cohort")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--scenario", choices=sorted(SCENARIOS), default="duplex")
    ap.add_argument("--no-longitudinal-cohort", action="store_true")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    reps = 500 if args.quick else 2000
    spec_patients = 500 if args.quick else 2500
    lead_patients = 500 if args.quick else 2000
    cohort_patients = 1000 if args.quick else 10_000

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    err = site_errors(rng, args.scenario)
    lo, hi = SCENARIOS[args.scenario]
    print(
        f"scenario {args.scenario}: site errors log-uniform {lo:g}-{hi:g}, beta shape {SHAPE}, "
        f"recovery {ETA}, fpr {FPR} (BH within each {SITES}-site draw), seed {args.seed}"
    )
    t = time.perf_counter()
    bg = fit_background(rng, err)
    fitted = bg.params_.loc[SITE_NAMES, "error"].to_numpy()
    print(
        f"background fit: {SITES} sites x 200 normals in {time.perf_counter() - t:.2f} s; "
        f"median fitted/true error {np.median(fitted / err):.2f}"
    )

    print(f"\n1. per-draw sensitivity ({reps} draws per cell)")
    grid = sensitivity_grid(rng, err, bg, reps)
    print("   VAF      ng   eta*G*f  sensitivity  bound   ratio  median LoD")
    for r in grid.itertuples():
        flag = "" if r.eta_G_f < 3 else ("  ok" if r.ratio >= 0.85 else "  BELOW 0.85")
        print(f"   {r.vaf:<7g} {r.ng:>4g}  {r.eta_G_f:7.2f}  {r.sensitivity:11.3f}  "
              f"{r.bound:5.3f}  {r.ratio:6.3f}  {r.median_lod:.5f}{flag}")  # fmt: skip
    big = grid[grid["eta_G_f"] >= 3]
    print(
        f"   cells with eta*G*f >= 3: {len(big)}, min ratio {big['ratio'].min():.3f} "
        f"(target >= 0.85: {'met' if (big['ratio'] >= 0.85).all() else 'NOT met'})"
    )

    print(f"\n2. specificity ({spec_patients} variant-free patients x 8 draws x {SITES} sites)")
    fp_per, fp_lon, n = specificity(rng, err, bg, spec_patients)
    print(
        f"   false calls per 1,000 site-draws: per-draw {fp_per:.4f}, longitudinal "
        f"{fp_lon:.4f} over {n:,} site-draws (target <= 1)"
    )

    print(f"\n3. rising alleles ({lead_patients} patients, draws every 28 days, 10 ng, site drawn")
    print("   per patient; lead = per-draw first call - longitudinal first call, in draws)")
    leads = []
    for vaf0, dbl in RISING:
        lead, later, cp, cl, ideal = lead_time(rng, err, bg, lead_patients, vaf0, dbl, 10.0)
        leads.append((lead, ideal))
        print(f"   start VAF {vaf0:g}, doubling {dbl:g} d: called per-draw {cp:.3f}, longitudinal "
              f"{cl:.3f}; mean lead {lead:.2f} draws (ideal pooling {ideal:.2f}), later than "
              f"per-draw {later:.3f}")  # fmt: skip
    lead, ideal = np.mean(leads, axis=0)
    print(f"   mean lead over the {len(RISING)} scenarios {lead:.2f} draws (target >= 1); "
          f"ideal pooling {ideal:.2f}")  # fmt: skip

    print(f"\n4. cohort: {cohort_patients:,} patients x 8 draws x {SITES} variants")
    obs = cohort(rng, err, cohort_patients)
    print(f"   {len(obs):,} observations")
    t = time.perf_counter()
    out = call_draws(obs, bg, fpr=FPR, recovery=ETA)
    t_draws = time.perf_counter() - t
    print(
        f"   call_draws: {t_draws:.1f} s (target < 60 s); "
        f"{(out['state'] == 'detected').mean():.4f} detected"
    )
    if not args.no_longitudinal_cohort:
        t = time.perf_counter()
        lon = call_longitudinal(obs, bg, fpr=FPR)
        t_lon = time.perf_counter() - t
        print(
            f"   call_longitudinal: {t_lon:.1f} s; {lon['called'].mean():.4f} called; "
            f"total {t_draws + t_lon:.1f} s"
        )


if __name__ == "__main__":
    main()
