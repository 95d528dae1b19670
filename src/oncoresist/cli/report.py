"""``oncoresist report``: a stored patient's self-contained HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oncoresist.cli._common import out
from oncoresist.cli.monitor import Budget, DbUrl, _check_levels
from oncoresist.errors import InputError


def report_cmd(
    patient: Annotated[str, typer.Argument(help="The site's patient identifier.")],
    output: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    db: DbUrl = None,
    disease: Annotated[str | None, typer.Option(help="Disease of the patient.")] = None,
    fpr: Annotated[float, typer.Option(help="False-positive rate per draw.")] = 0.05,
    budget: Budget = 0.02,
    normals: Annotated[Path | None, typer.Option(help="Panel of normals.")] = None,
    label: Annotated[
        str | None, typer.Option(help="Name for the patient (default: short pseudonym).")
    ] = None,
    illustrative: Annotated[
        bool, typer.Option("--illustrative", help="Mark the report as illustrative.")
    ] = False,
    dates: Annotated[
        bool, typer.Option("--dates", help="Print calendar dates beside the day offsets.")
    ] = False,
    measurements: Annotated[
        Path | None,
        typer.Option(
            "--measurements",
            help="Serial marker measurements (patient_id, day or date, marker, value ...): "
            "adds the PSA forecast under each strategy (stored measurements are used without it).",
        ),
    ] = None,
    therapy: Annotated[
        Path | None,
        typer.Option(
            "--therapy",
            help="Lines of therapy for measurements without an on_treatment column "
            "(default: the stored lines).",
        ),
    ] = None,
) -> None:
    """Write a stored patient's self-contained HTML report (pseudonym, no raw identifier).

    With ``--measurements`` (or measurements stored for the patient) the report adds a
    forecast of PSA under each strategy, or says what is missing for one.
    """
    from oncoresist import monitor
    from oncoresist.store import open_store

    _check_levels(fpr, budget, 8, "auto")
    background = monitor.BackgroundModel()
    if normals is not None:
        background = background.fit(monitor.read_normals(normals))
    with open_store(db) as store:
        _write_patient_report(
            store, patient, output, disease=disease, fpr=fpr, label=label,
            illustrative=illustrative, dates=dates, budget=budget, background=background,
            measurements=measurements, therapy_file=therapy,
        )  # fmt: skip


def _patient_forecast(store, patient: str, measurements: Path | None, therapy_file: Path | None):
    """The patient's PSA forecast for the report: from the file, else from the store.

    ``None`` when neither holds measurements of the patient (no section).
    """
    from oncoresist.report import forecast_patient, psa_table

    lines = None
    if therapy_file is not None:
        from oncoresist.monitor import read_therapy

        lines = read_therapy(therapy_file)
        lines = lines[lines["patient_id"].astype(str) == patient]
    if measurements is not None:
        from oncoresist.forecast._inputs import read_measurements

        frame = read_measurements(measurements)
        frame = frame[frame["patient_id"].astype(str) == patient]
        if frame.empty:
            raise InputError(f"no measurements of patient {patient}", file=measurements,
                             field="patient_id")  # fmt: skip
        if lines is None:  # the stored lines, under the file's identifier
            lines = store.therapy(patient).assign(patient_id=patient)
    else:
        frame = store.measurements(patient)
        if frame.empty:
            return None
        if lines is None:
            lines = store.therapy(patient)
        else:
            lines = lines.assign(patient_id=frame["patient_id"].iloc[0])
    table = psa_table(frame, lines)
    if table.empty:
        raise InputError("no psa measurements of this patient", field="marker")
    return forecast_patient(table, table["patient_id"].iloc[0])


def _write_patient_report(
    store, patient: str, output: Path, *, disease, fpr, label=None, illustrative=False,
    dates=False, budget=0.02, background=None, measurements=None, therapy_file=None,
) -> None:  # fmt: skip
    from oncoresist.report import build_report, write_report

    obs = store.observations(patient)
    if obs.empty:
        raise InputError("no stored observations for this patient", field="patient")
    forecast = _patient_forecast(store, patient, measurements, therapy_file)
    html = build_report(
        obs, therapy=store.therapy(patient), events=store.events(patient), disease=disease,
        patient_label=label, illustrative=illustrative, show_dates=dates, fpr=fpr,
        budget=budget, background=background, forecast=forecast,
    )  # fmt: skip
    write_report(output, html)
    out.print(f"report written to {output}", markup=False)
