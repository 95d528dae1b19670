"""PSA under abiraterone (issue 16): rolling-origin backtest on the Zhang 2022 trial.

Prints, in one run: the model's next-cycle log10-PSA MAE beside the two baselines (last
value carried forward; the previous cycle of the same status, shifted), 80 % / 95 %
coverage, CRPS, PCWG3 progression within 180 days (AUC, sensitivity at specificity
>= 0.85), an in-sample ceiling, timings (one patient fit + 5 strategies; a 100-patient
simulated backtest; a cohort simulated under intermittent androgen deprivation from
another model family, read through the command line's reader), and the machine. Skips the
real data when ``../shared/data/evolve`` is absent.

    python benchmarks/bench_forecast_psa.py [--folds 4]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from oncoresist.cli.forecast import _psa_table
from oncoresist.evolve.zhang2022 import read_trial_psa
from oncoresist.forecast.backtest import (
    cycle_origins,
    next_cycle_targets,
    rolling_origin_backtest,
    summarise,
)
from oncoresist.forecast.iadt import simulate_iadt_cohort
from oncoresist.forecast.psa import (
    PSAForecaster,
    _make_rows,
    check_psa_table,
    simulate_cohort,
    zhang2022_table,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "evolve"
TRIAL = DATA / "zhang2022_abiraterone_trial_psa.csv"


def _report(name: str, s: dict[str, float]) -> None:
    print(f"\n== {name}: {int(s['n_origins'])} origins, {int(s['n_targets'])} targets")
    print(f"{'':28s}{'value':>9s}  target")
    print(f"{'MAE log10 (model)':28s}{s['mae_log10']:9.3f}")
    print(f"{'MAE last value':28s}{s['mae_last_value']:9.3f}")
    print(f"{'MAE repeat previous cycle':28s}{s['mae_repeat_cycle']:9.3f}")
    print(f"{'ratio to last value':28s}{s['ratio_last_value']:9.3f}  <= 0.8")
    print(f"{'ratio to repeat cycle':28s}{s['ratio_repeat_cycle']:9.3f}  <= 0.8")
    print(
        f"{'  (origins with a cycle)':28s}{s['mae_log10_cycles']:9.3f}  vs repeat "
        f"{s['mae_repeat_cycle_cycles']:.3f} (ratio "
        f"{s['mae_log10_cycles'] / s['mae_repeat_cycle_cycles']:.3f})"
    )
    print(f"{'coverage 80 %':28s}{s['coverage_80']:9.3f}  0.75-0.85")
    print(f"{'coverage 95 %':28s}{s['coverage_95']:9.3f}  0.90-0.98")
    print(f"{'CRPS log10':28s}{s['crps_log10']:9.3f}")
    if "auc" in s:
        print(
            f"{'progression 180 d: events':28s}{int(s['n_events']):9d}  of "
            f"{int(s['n_evaluable'])} evaluable origins"
        )
        print(f"{'AUC':28s}{s['auc']:9.3f}  >= 0.8")
        print(
            f"{'sensitivity @ spec >= 0.85':28s}{s['sens_at_spec85']:9.3f}  >= 0.75 "
            f"(spec {s['spec_at_that']:.3f}; anchor 0.50 @ 0.92)"
        )


def _ceiling(table) -> float:
    """MAE of the model curve at each patient's full-data mode (knows the future)."""
    table = check_psa_table(table)
    fc = PSAForecaster(calibrate=False).fit(table)
    o = cycle_origins(table)
    tg = next_cycle_targets(table, o)
    rows = _make_rows(table, [(p, None) for p in fc.patient_ids_])
    prob = fc._problem(rows, fc.error_sd_)
    curve = prob.curve(fc.patient_theta_)
    err = []
    pos = {p: i for i, p in enumerate(fc.patient_ids_)}
    for pid, day, obs in tg[["patient_id", "day", "observed"]].itertuples(index=False):
        i = pos[pid]
        j = int(np.flatnonzero(np.isclose(rows.tau[i] + rows.t_first[i], day))[0])
        err.append(abs(np.log10(obs) - curve[i, j] / np.log(10.0)))
    return float(np.mean(err))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--iad", type=int, default=60, help="IAD patients simulated")
    args = parser.parse_args()
    print(
        f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )
    if TRIAL.exists():
        table = zhang2022_table(read_trial_psa(TRIAL))
        t0 = time.perf_counter()
        res = rolling_origin_backtest(table, PSAForecaster, n_folds=args.folds, rng=0)
        wall = time.perf_counter() - t0
        _report(f"Zhang 2022 trial, 32 patients, {args.folds}-fold by patient", summarise(res))
        print(f"{'wall (s)':28s}{wall:9.1f}")
        for arm, prefix in (("adaptive", "P"), ("standard of care", "C")):
            sub = res.rows[res.rows["patient_id"].str.startswith(prefix)]
            obs = np.log10(sub["observed"])
            print(
                f"  {arm}: MAE {np.mean(np.abs(obs - np.log10(sub['q50']))):.3f}, last value "
                f"{np.mean(np.abs(obs - sub['last_value_log10'])):.3f}, repeat cycle "
                f"{np.mean(np.abs(obs - sub['repeat_cycle_log10'])):.3f}"
            )
        t0 = time.perf_counter()
        print(
            f"{'ceiling (in-sample curve)':28s}{_ceiling(table):9.3f}  "
            f"({time.perf_counter() - t0:.1f} s)"
        )
        # one patient: posterior + 5 strategies, prior from the cohort
        fc = PSAForecaster().fit(table[table["patient_id"] != "P1006"])
        one = table[table["patient_id"] == "P1006"].iloc[:20]
        t0 = time.perf_counter()
        _, summary = fc.forecast_strategies(one, "P1006", rng=0)
        print(f"\none patient fit + 5 strategies: {time.perf_counter() - t0:.2f} s (target < 2)")
        print(summary.round(3).to_string(index=False))
    else:
        print(f"no real data at {TRIAL}; skipping the trial backtest")
    sim = simulate_cohort(100, rng=11).table.drop(columns="true_log_psa")
    t0 = time.perf_counter()
    res = rolling_origin_backtest(sim, PSAForecaster, n_folds=args.folds, rng=0)
    wall = time.perf_counter() - t0
    _report("100 simulated patients (model family), 24 visits each", summarise(res))
    print(f"{'wall (s)':28s}{wall:9.1f}  target < 120")
    # another model family: intermittent androgen deprivation, read as a user's file
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "iad.csv"
        simulate_iadt_cohort(args.iad, rng=7).drop(columns="true_psa").to_csv(path, index=False)
        table = _psa_table(path, None, "psa")
    t0 = time.perf_counter()
    res = rolling_origin_backtest(table, PSAForecaster, n_folds=args.folds, rng=0)
    wall = time.perf_counter() - t0
    cens = np.isfinite(res.rows["below_lloq"]).mean()
    _report(
        f"{args.iad} simulated patients under intermittent androgen deprivation (another "
        f"model family; 5 years, monthly, {cens:.0%} of targets below 0.1 ng/mL)",
        summarise(res),
    )
    print(f"{'wall (s)':28s}{wall:9.1f}")


if __name__ == "__main__":
    main()
