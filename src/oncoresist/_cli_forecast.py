"""``oncoresist forecast``: a patient's own serial markers, fitted and forecast under strategies.

Implemented for PSA under abiraterone (the Zhang 2022 competition model with a population
prior, :class:`oncoresist.forecast.PSAForecaster`); tumour-size markers are forecast
through the Python API (:class:`oncoresist.forecast.PopulationModel`) for now.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from oncoresist._files import atomic_write
from oncoresist.errors import InputError

forecast_app = typer.Typer(
    help="Fit a patient's serial markers and forecast each strategy, with calibrated "
    "uncertainty; backtest the forecasts.",
    no_args_is_help=True,
)
out = Console(highlight=False, soft_wrap=False)

Measurements = Annotated[
    Path,
    typer.Argument(
        help="Serial measurements: patient_id, day or date, marker, value "
        "(optional lower_limit_of_quantification, on_treatment)."
    ),
]
Therapy = Annotated[
    Path | None,
    typer.Option(
        "--therapy",
        help="Lines of therapy (patient_id, regimen, start_date, "
        "end_date), instead of an on_treatment column.",
    ),
]
Marker = Annotated[str, typer.Option("--marker", help="The marker to forecast (psa).")]
Seed = Annotated[int, typer.Option("--seed")]
#: Readings a patient needs before a forecast is shown (issue 16: fewer is a refusal).
MIN_READINGS = 4


def _psa_table(measurements: Path, therapy: Path | None, marker: str) -> pd.DataFrame:
    """The long PSA table the forecaster reads: patient_id, day, value, on_treatment, LLOQ."""
    from oncoresist.forecast._inputs import read_measurements, treatment_days
    from oncoresist.forecast.psa import check_psa_table

    if marker != "psa":
        raise InputError(
            f"--marker {marker}: the command line forecasts psa under abiraterone for now; "
            "forecast tumour size through oncoresist.forecast.PopulationModel",
            field="--marker",
        )
    m = read_measurements(measurements)
    m = m[m["marker"] == "psa"]
    if m.empty:
        raise InputError("no psa measurements", file=str(measurements), field="marker")
    if therapy is not None:
        from oncoresist.monitor import read_therapy

        m = treatment_days(m, read_therapy(therapy))
    if m["on_treatment"].isna().any():
        row = m[m["on_treatment"].isna()].iloc[0]
        raise InputError(
            f"patient {row['patient_id']} day {row['day']:g}: no treatment status; expected "
            "an on_treatment column (1/0) or --therapy",
            file=str(measurements), record=int(row["line"]), field="on_treatment",
        )  # fmt: skip
    lloq = m["lower_limit_of_quantification"]
    table = pd.DataFrame({
        "patient_id": m["patient_id"].to_numpy(),
        "day": m["day"].to_numpy(dtype=float),
        "value": np.where(m["censored"], 0.0, m["value"]),
        "on_treatment": m["on_treatment"].astype(int).to_numpy(),
        "lower_limit_of_quantification": lloq.to_numpy(dtype=float),
    })  # fmt: skip
    return check_psa_table(table, source=str(measurements))


def _write(frame: pd.DataFrame, path: Path) -> None:
    with atomic_write(path) as fh:
        frame.to_csv(fh, index=False)


@forecast_app.command("backtest")
def backtest_cmd(
    measurements: Measurements,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    therapy: Therapy = None,
    marker: Marker = "psa",
    folds: Annotated[int, typer.Option("--folds", help="Folds by patient.")] = 5,
    seed: Seed = 0,
) -> None:
    """Rolling-origin backtest: forecast each treatment cycle from the data before it.

    Patients are split into folds; each fold is forecast with a population prior learnt
    from the other folds only. Writes ``forecasts.csv`` (one row per patient_id,
    origin_day, target_day: observed, median, q10, q90, q025, q975), ``origins.csv``
    (predicted probability of PSA progression within 180 days beside what happened) and
    ``summary.json``, and prints the metrics beside the two baselines of the same run
    (last value carried forward; the previous cycle repeated).
    """
    from rich.progress import Progress

    from oncoresist.forecast.backtest import rolling_origin_backtest, summarise
    from oncoresist.forecast.psa import PSAForecaster

    table = _psa_table(measurements, therapy, marker)
    with Progress(console=Console(stderr=True), transient=True) as bar:
        bar.add_task(f"backtest, {folds} folds", total=None)
        res = rolling_origin_backtest(table, PSAForecaster, n_folds=folds, rng=seed)
    summary = summarise(res)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = res.rows.rename(columns={"day": "target_day", "q50": "median"})
    keep = ["patient_id", "origin_day", "target_day", "observed", "median", "q10", "q90",
            "q025", "q975", "horizon_days", "last_value_log10", "repeat_cycle_log10"]  # fmt: skip
    _write(rows[[c for c in keep if c in rows]], out_dir / "forecasts.csv")
    origins = res.origins.rename(columns={"prob_event": "prob_progression_180d",
                                          "event": "progressed_180d"})  # fmt: skip
    _write(origins, out_dir / "origins.csv")
    with atomic_write(out_dir / "summary.json") as fh:
        fh.write(json.dumps({k: float(v) for k, v in summary.items()}, indent=2) + "\n")
    table_out = Table(title=f"forecast backtest: {len(table['patient_id'].unique())} patients",
                      caption="MAE on log10 PSA of the next cycle's readings; model forecasts "
                      "use priors from the other folds only.")  # fmt: skip
    for col in ("figure", "model", "last value", "repeat previous cycle"):
        table_out.add_column(col)
    table_out.add_row("MAE, log10", f"{summary['mae_log10']:.3f}",
                      f"{summary['mae_last_value']:.3f}",
                      f"{summary['mae_repeat_cycle']:.3f}")  # fmt: skip
    covered = f"{summary['coverage_80']:.3f} / {summary['coverage_95']:.3f}"
    table_out.add_row("80 % / 95 % coverage", covered, "", "")
    if "auc" in summary:
        table_out.add_row("progression <= 180 d: AUC", f"{summary['auc']:.3f}", "", "")
        table_out.add_row("sensitivity at specificity >= 0.85",
                          f"{summary['sens_at_spec85']:.3f}", "", "")  # fmt: skip
    out.print(table_out)


@forecast_app.command("predict")
def predict_cmd(
    measurements: Measurements,
    patient: Annotated[str, typer.Option("--patient", help="The patient to forecast.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    therapy: Therapy = None,
    marker: Marker = "psa",
    horizon: Annotated[float, typer.Option("--horizon", help="Days ahead.")] = 360.0,
    seed: Seed = 0,
) -> None:
    """Forecast one patient under each strategy (continue, stop, adaptive, intermittent).

    The population prior is learnt from the other patients of the file. Writes
    ``paths.csv`` (strategy, day, median and 50/80/95 % bands of PSA) and
    ``strategies.csv`` (probability of PSA progression within 180 days, median days to
    progression, days on drug). A patient with fewer than four readings, or whose
    treatment never changed, is refused: there is nothing to fit a response to.
    """
    from oncoresist.forecast.psa import PSAForecaster

    table = _psa_table(measurements, therapy, marker)
    mine = table[table["patient_id"].astype(str) == patient]
    if mine.empty:
        raise InputError(f"no psa measurements of patient {patient!r}", field="--patient")
    never_on = bool((mine["on_treatment"] == 0).all())
    if len(mine) < MIN_READINGS or never_on:
        raise InputError(
            f"patient {patient}: {len(mine)} readings"
            + (", never on treatment" if never_on else "")
            + f"; a forecast needs at least {MIN_READINGS} readings including some on "
            "treatment (the response is what is fitted)",
            field="--patient",
        )
    reference = table[table["patient_id"].astype(str) != patient]
    if reference["patient_id"].nunique() < 5:
        raise InputError(
            "fewer than 5 other patients in the file; the population prior needs a reference "
            "cohort",
            field="measurements",
        )
    fc = PSAForecaster().fit(reference)
    paths, summary = fc.forecast_strategies(mine, mine["patient_id"].iloc[0],
                                            horizon_days=horizon, rng=seed)  # fmt: skip
    out_dir.mkdir(parents=True, exist_ok=True)
    _write(paths, out_dir / "paths.csv")
    _write(summary, out_dir / "strategies.csv")
    shown = Table(title=f"forecast for {patient}: next {horizon:.0f} days",
                  caption="Assumptions: Zhang 2022 two-population model, population prior "
                  "from the other patients; PSA progression per PCWG3.")  # fmt: skip
    for col in ("strategy", "P(progression <= 180 d)", "median days to progression",
                "days on drug"):  # fmt: skip
        shown.add_column(col)
    for row in summary.itertuples(index=False):
        days = row.median_days_to_progression
        if row.mean_days_on == 0:  # PCWG3 progression is a rise on treatment
            chance, when = "not assessed (off drug)", "not assessed (off drug)"
        else:
            chance = f"{row.prob_progression:.2f}"
            when = "not within horizon" if not np.isfinite(days) else f"{days:.0f}"
        shown.add_row(row.strategy, chance, when, f"{row.mean_days_on:.0f}")
    out.print(shown)
