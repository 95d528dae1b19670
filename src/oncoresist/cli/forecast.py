"""``oncoresist forecast``: a patient's own serial markers, fitted and forecast under strategies.

``fit`` writes a population prior, ``predict`` forecasts one patient under each strategy,
``backtest`` evaluates rolling-origin forecasts beside naive baselines. PSA runs on
:class:`oncoresist.forecast.PSAForecaster` (Zhang 2022 competition model); tumour size and
ctDNA on :class:`oncoresist.forecast.size.SizeForecaster` (growth inhibition, stacked).
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from oncoresist._files import atomic_write
from oncoresist._words import number
from oncoresist.cli._common import out
from oncoresist.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

forecast_app = typer.Typer(
    help="Fit a patient's serial markers and forecast each strategy, with calibrated "
    "uncertainty; backtest the forecasts.",
    no_args_is_help=True,
)

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
Marker = Annotated[
    str,
    typer.Option(
        "--marker",
        help="The marker to forecast: psa, sum_of_diameters, "
        "lesion_volume, ctdna_mtm_per_ml or ctdna_vaf.",
    ),
]
Seed = Annotated[int, typer.Option("--seed")]
Dask = Annotated[
    str | None,
    typer.Option("--dask", help="Dask scheduler address: fit the cohort on that cluster."),
]
OutDir = Annotated[Path, typer.Option("--out", "-o", help="Output folder.")]


#: Markers the command line forecasts, and with what.
FORECAST_MARKERS = ("psa", "sum_of_diameters", "lesion_volume", "ctdna_mtm_per_ml", "ctdna_vaf")


def _check_marker(marker: str) -> None:
    if marker not in FORECAST_MARKERS:
        raise InputError(f"--marker {marker}: expected one of {', '.join(FORECAST_MARKERS)}",
                         field="--marker")  # fmt: skip


def _forecaster(marker: str):
    """A factory of unfitted forecasters of the marker."""
    if marker == "psa":
        from oncoresist.forecast.psa import PSAForecaster

        return PSAForecaster
    from oncoresist.forecast.size import SizeForecaster

    return partial(SizeForecaster, marker=marker)


def _psa_table(measurements: Path, therapy: Path | None, marker: str) -> pd.DataFrame:
    """The long table a forecaster reads: patient_id, day, value, on_treatment, LLOQ."""
    import numpy as np
    import pandas as pd

    from oncoresist.forecast._inputs import read_measurements, treatment_days
    from oncoresist.forecast.psa import check_psa_table

    _check_marker(marker)
    m = read_measurements(measurements)
    m = m[m["marker"] == marker]
    if m.empty:
        raise InputError(f"no {marker} measurements", file=str(measurements), field="marker")
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
    if marker == "psa":
        return check_psa_table(table, source=str(measurements))
    from oncoresist.forecast.size import check_marker_table

    return check_marker_table(table, marker=marker, source=str(measurements))


def _write(frame: pd.DataFrame, path: Path) -> None:
    with atomic_write(path) as fh:
        frame.to_csv(fh, index=False)


def _summary_json(summary: dict, path: Path) -> None:
    import numpy as np

    clean = {k: (float(v) if np.isfinite(v) else None) for k, v in summary.items()}
    with atomic_write(path) as fh:
        fh.write(json.dumps(clean, indent=2) + "\n")


@forecast_app.command("fit")
def fit_cmd(
    measurements: Measurements,
    prior_out: Annotated[Path, typer.Option("--out", "-o", help="Prior file to write (JSON).")],
    therapy: Therapy = None,
    marker: Marker = "psa",
    dask: Dask = None,
) -> None:
    """Learn a population prior from a reference cohort and write it (JSON).

    The file holds population quantities only (mean and covariance of the patients'
    parameters, error, calibrated discrepancy and tails): no patient's readings or
    parameters. ``forecast predict --prior`` uses it for patients outside the cohort.
    """
    import numpy as np

    from oncoresist.forecast._dask import using_client
    from oncoresist.forecast.psa import PSAForecaster

    if marker != "psa":
        _check_marker(marker)
        raise InputError(
            f"--marker {marker}: 'fit' writes PSA priors; backtest and predict fit size and "
            "ctDNA forecasters on the file's own cohort",
            field="--marker",
        )
    table = _psa_table(measurements, therapy, marker)
    n = table["patient_id"].nunique()
    if n < 5:
        raise InputError(f"{n} patients; a population prior needs at least 5",
                         file=str(measurements), field="patient_id")  # fmt: skip
    with _spinner(f"fitting {n} patients"), using_client(dask) as client:
        fc = PSAForecaster().fit(table, client=client)
    fc.source_ = f"fitted on {n} patients of {measurements.name}"
    fc.assumptions_ = [f"Population prior learnt from {n} patients of {measurements.name}."]
    fc.save(prior_out)
    shown = Table(title=f"population prior: {n} patients", caption=str(prior_out))
    shown.add_column("figure")
    shown.add_column("value")
    shown.add_row("error sd, log PSA", number(fc.error_sd_, ".3f"))
    shown.add_row("discrepancy, log PSA per sqrt(day)", number(fc.discrepancy_, ".4f"))
    shown.add_row("spread factor (80 %)", number(fc.spread_, ".3f"))
    tails = "Gaussian" if not np.isfinite(fc.tail_df_) else f"Student t, {fc.tail_df_:.1f} df"
    shown.add_row("predictive tails (95 %)", tails)
    out.print(shown)


@forecast_app.command("backtest")
def backtest_cmd(
    measurements: Measurements,
    out_dir: OutDir,
    therapy: Therapy = None,
    marker: Marker = "psa",
    folds: Annotated[int, typer.Option("--folds", help="Folds by patient.")] = 5,
    seed: Seed = 0,
    dask: Dask = None,
    origins: Annotated[
        str | None,
        typer.Option(
            "--origins",
            help="'switch' (each change of treatment; default for psa) "
            "or 'every' (each reading; default for size and ctDNA).",
        ),
    ] = None,
) -> None:
    """Rolling-origin backtest: forecast each treatment cycle from the data before it.

    Patients are split into folds; each fold is forecast with a population prior learnt
    from the other folds only. Writes ``forecasts.csv`` (one row per patient_id,
    origin_day, target_day: observed, below_lloq, median, q10, q90, q025, q975),
    ``origins.csv`` (predicted probability of PSA progression within 180 days and within
    the next treatment cycle, beside what happened) and ``summary.json``, and prints the
    metrics beside the two baselines of the same run (last value carried forward; the
    previous cycle repeated).
    """
    from oncoresist.forecast._dask import using_client
    from oncoresist.forecast.backtest import rolling_origin_backtest, summarise

    table = _psa_table(measurements, therapy, marker)
    rule = origins or ("switch" if marker == "psa" else "every")
    if rule not in ("switch", "every"):
        raise InputError(f"--origins {rule}: expected 'switch' or 'every'", field="--origins")
    floor = 1e-4 if marker == "ctdna_vaf" else 1e-3
    if dask is not None and marker != "psa":
        raise InputError("--dask runs PSA fits; size and ctDNA fits run in this process",
                         field="--dask")  # fmt: skip
    with _progress() as bar, using_client(dask) as client:
        task = bar.add_task(f"backtest, {folds} folds", total=folds)
        res = rolling_origin_backtest(
            table, _forecaster(marker), n_folds=folds, rng=seed, client=client, rule=rule,
            floor=floor, progress=lambda done, _: bar.update(task, completed=done),
        )  # fmt: skip
    summary = summarise(res, floor=floor)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = res.rows.rename(columns={"day": "target_day", "q50": "median"})
    keep = ["patient_id", "origin_day", "target_day", "observed", "below_lloq", "median", "q10",
            "q90", "q025", "q975", "horizon_days", "last_value_log10",
            "repeat_cycle_log10"]  # fmt: skip
    _write(rows[[c for c in keep if c in rows]], out_dir / "forecasts.csv")
    origins = res.origins.rename(columns={
        "prob_event": "prob_progression_180d", "event": "progressed_180d",
        "prob_event_cycle": "prob_progression_next_cycle",
        "event_cycle": "progressed_next_cycle",
    })  # fmt: skip
    _write(origins, out_dir / "origins.csv")
    _summary_json(summary, out_dir / "summary.json")
    table_out = Table(title=f"forecast backtest: {len(table['patient_id'].unique())} patients",
                      caption=f"MAE on log10 {marker} of the readings that follow each origin "
                      "(the next cycle); model forecasts use priors from the other folds "
                      "only.")  # fmt: skip
    for col in ("figure", "model", "last value", "repeat previous cycle"):
        table_out.add_column(col)
    table_out.add_row("MAE, log10", number(summary["mae_log10"], ".3f"),
                      number(summary["mae_last_value"], ".3f"),
                      number(summary["mae_repeat_cycle"], ".3f"))  # fmt: skip
    covered = f"{number(summary['coverage_80'], '.3f')} / {number(summary['coverage_95'], '.3f')}"
    table_out.add_row("80 % / 95 % coverage", covered, "", "")
    table_out.add_row("CRPS, log10", number(summary["crps_log10"], ".3f"), "", "")
    for suffix, label in (("", "<= 180 d"), ("_cycle", "in the next cycle")):
        if f"auc{suffix}" in summary:
            events = f"{summary[f'n_events{suffix}']:.0f}/{summary[f'n_evaluable{suffix}']:.0f}"
            table_out.add_row(f"progression {label}: AUC ({events} events)",
                              number(summary[f"auc{suffix}"], ".3f"), "", "")  # fmt: skip
            table_out.add_row(f"  sensitivity at specificity >= 0.85 ({label})",
                              number(summary[f"sens_at_spec85{suffix}"], ".3f"), "",
                              "")  # fmt: skip
    out.print(table_out)


@forecast_app.command("predict")
def predict_cmd(
    measurements: Measurements,
    patient: Annotated[str, typer.Option("--patient", help="The patient to forecast.")],
    out_dir: OutDir,
    therapy: Therapy = None,
    marker: Marker = "psa",
    prior: Annotated[
        Path | None,
        typer.Option(
            "--prior",
            help="A prior written by 'forecast fit' (default: fit on the "
            "other patients of the file if there are 5, else the bundled prior).",
        ),
    ] = None,
    horizon: Annotated[float, typer.Option("--horizon", help="Days ahead.")] = 360.0,
    seed: Seed = 0,
) -> None:
    """Forecast one patient under each strategy (continue, stop, adaptive, intermittent).

    The population prior comes from ``--prior``, else from the other patients of the
    file (at least 5), else the bundled prior (Zhang 2022 trial), named as an
    assumption. Writes ``paths.csv`` (strategy, day, median and 50/80/95 % bands of PSA)
    and ``strategies.csv`` (probability of PSA progression within 180 days, quartiles of
    days to progression, days on drug). A patient with fewer than four readings, or none
    after a start of treatment, is refused with what is missing.
    """
    import numpy as np

    from oncoresist.forecast.priors import default_forecaster
    from oncoresist.forecast.psa import PSAForecaster, readiness

    table = _psa_table(measurements, therapy, marker)
    mine = table[table["patient_id"].astype(str) == patient]
    if mine.empty:
        raise InputError(f"no {marker} measurements of patient {patient!r}", field="--patient")
    why = readiness(mine)
    if why:
        if marker != "psa":
            why = why.replace("PSA reading", f"{marker} reading")
        raise InputError(f"patient {patient}: {why}", field="--patient")
    reference = table[table["patient_id"].astype(str) != patient]
    if marker != "psa":
        if prior is not None:
            raise InputError("--prior holds PSA priors", field="--prior")
        if reference["patient_id"].nunique() < 5:
            raise InputError(
                f"fewer than 5 other patients with {marker} in the file; the population "
                "prior needs a reference cohort",
                field="measurements",
            )
        with _spinner(f"fitting the prior on {reference['patient_id'].nunique()} patients"):
            fc = _forecaster(marker)().fit(reference)
        source = f"the other {reference['patient_id'].nunique()} patients of the file"
    elif prior is not None:
        fc, source = PSAForecaster.load(prior), f"the prior in {prior.name}"
    elif reference["patient_id"].nunique() >= 5:
        with _spinner(f"fitting the prior on {reference['patient_id'].nunique()} patients"):
            fc = PSAForecaster().fit(reference)
        source = f"the other {reference['patient_id'].nunique()} patients of the file"
    else:
        fc = default_forecaster("psa")
        source = "the bundled prior (Zhang 2022 abiraterone trial; fewer than 5 other patients)"
    paths, summary = fc.forecast_strategies(mine, mine["patient_id"].iloc[0],
                                            horizon_days=horizon, rng=seed)  # fmt: skip
    out_dir.mkdir(parents=True, exist_ok=True)
    _write(paths, out_dir / "paths.csv")
    _write(summary, out_dir / "strategies.csv")
    model = (
        "Zhang 2022 two-population model"
        if marker == "psa"
        else "growth-inhibition models stacked (Stein, Claret; on/off treatment)"
    )
    rule = {"psa": "PSA progression per PCWG3", "sum_of_diameters": "RECIST 1.1 progression",
            "lesion_volume": "RECIST 1.1 progression (diameter from volume)"}.get(
        marker, "ctDNA progression: a confirmed 2-fold rise above the nadir")  # fmt: skip
    notes = "; ".join(summary["assumption"].dropna().unique()) if "assumption" in summary else ""
    shown = Table(title=f"forecast for {patient}: next {horizon:.0f} days",
                  caption=f"Assumptions: {model}, population prior from {source}; {rule}"
                  + (f"; {notes}" if notes else "") + ".")  # fmt: skip
    for col in ("strategy", "P(progression <= 180 d)", "days to progression (median, IQR)",
                "days on drug"):  # fmt: skip
        shown.add_column(col)
    for row in summary.itertuples(index=False):
        if marker == "psa" and row.mean_days_on == 0:  # PCWG3: a rise on treatment
            chance, when = "not assessed (off drug)", "not assessed (off drug)"
        else:
            chance = number(row.prob_progression, ".2f")
            when = _days(row.median_days_to_progression)
            if np.isfinite(row.median_days_to_progression) and hasattr(row, "ttp_q25"):
                when += f" ({_days(row.ttp_q25)}-{_days(row.ttp_q75)})"
        shown.add_row(row.strategy, chance, when, number(row.mean_days_on, ".0f"))
    out.print(shown)


def _days(x: float) -> str:
    import numpy as np

    return "not within horizon" if not np.isfinite(x) else f"{x:.0f}"


def _progress():
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=True)  # fmt: skip


def _spinner(text: str):
    return Console(stderr=True).status(text)
