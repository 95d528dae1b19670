"""``oncoresist monitor``: serial liquid biopsies (call, ingest, status, alerts, demo)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from oncoresist._files import atomic_write, formula_safe
from oncoresist._words import call_value
from oncoresist.cli._common import emit, out
from oncoresist.errors import InputError

monitor_app = typer.Typer(
    help="Serial liquid biopsies: calls, limits of detection, response, alerts.",
    no_args_is_help=True,
)


def _monitor(
    serial: Path,
    *,
    normals: Path | None,
    therapy: Path | None,
    events: Path | None,
    disease: str | None,
    fpr: float,
    recovery: float,
    budget: float = 0.02,
    horizon: int = 8,
    unit: str = "auto",
    longitudinal: bool = False,
):
    from oncoresist import monitor

    obs = monitor.read_serial(serial)
    background = monitor.BackgroundModel()
    if normals is not None:
        background = background.fit(monitor.read_normals(normals))
    lines = monitor.read_therapy(therapy) if therapy else None
    clinical = monitor.read_events(events) if events else None
    result = monitor.monitor(
        obs, background=background, therapy=lines, events=clinical, disease=disease, fpr=fpr,
        budget=budget, horizon=horizon, recovery=recovery, unit=unit,
    )  # fmt: skip
    if longitudinal:
        pooled = monitor.call_longitudinal(obs, background, fpr=fpr, unit=unit)
        for column in ("slope_per_day", "slope_ci_low", "slope_ci_high", "doubling_time_days"):
            result.calls[f"trend_{column}"] = pooled[column].to_numpy()
    return result


_CATEGORY_WORDS = {
    "emerging_resistance": "resistance alert",
    "new_alteration": "new alteration",
    "driver_rising": "driver rising",
    "present_at_baseline": "present at baseline",
}


def _print_monitor(result) -> None:
    from oncoresist.monitor import describe_settings

    calls, response, alerts = result.calls, result.response, result.alerts
    for patient, obs in calls.groupby("patient_id", sort=True):
        alterations = sorted(obs["alteration"].unique())
        table = Table(
            title=f"{patient}: VAF per draw (* detected, ! first series alert, "
            "ND not detected, - not assessable)"
        )
        table.add_column("date")
        for alteration in alterations:
            table.add_column(alteration, justify="right")
        table.add_column("response")
        category = response[response["patient_id"] == patient].set_index("sample_id")["category"]
        for sample, draw in obs.groupby("sample_id", sort=False):
            by_alt = draw.set_index("alteration")
            cells = []
            for alteration in alterations:
                if alteration not in by_alt.index:
                    cells.append("")
                    continue
                r = by_alt.loc[alteration]
                first = r.get("series_first_called_date")
                alerted = first is not None and first == r["collection_date"]
                cells.append(_vaf_cell(r, alerted=alerted))
            date = pd_date(draw["collection_date"].iloc[0])
            table.add_row(date, *cells, str(category.get(sample, "")))
        out.print(table)
        mine = alerts[alerts["patient_id"] == patient]
        for kind, message in zip(mine["category"], mine["message"], strict=True):
            out.print(f"[bold]{_CATEGORY_WORDS.get(kind, kind)}[/bold]: {message}",
                      highlight=False)  # fmt: skip
    out.print(describe_settings(result.settings), highlight=False, markup=False)


def _vaf_cell(r, *, alerted: bool) -> str:
    """One call's table cell: the VAF of a detected variant, else ND below the draw's LoD.

    ``*`` marks a detected call, ``!`` the draw of the series' first alert, ``-`` a draw
    that could not be assessed (its LoD above the assessable VAF).
    """
    mark = {"detected": "*", "not_assessable": "-"}.get(r["state"], "")
    if alerted:
        mark += "!"
    vaf = r["alt_count"] / r["depth_count"] if r["depth_count"] else 0.0
    return call_value(vaf, r.get("lod_vaf"), detected=r["state"] == "detected") + mark


def pd_date(value) -> str:
    """A date as YYYY-MM-DD."""
    import pandas as pd

    return pd.Timestamp(value).date().isoformat()


Budget = Annotated[
    float,
    typer.Option(help="Chance that a resistance-free patient's series ever raises an alert."),
]
Horizon = Annotated[
    int, typer.Option(help="Draws after the baseline over which 90 % of the budget is spent.")
]
Unit = Annotated[
    str,
    typer.Option(
        help="Count unit: auto (the panel's, else molecules when given), reads, molecules."
    ),
]


def _check_levels(fpr: float, budget: float, horizon: int, unit: str) -> None:
    if not 0 < fpr < 1 or not 0 < budget < 1:
        raise InputError("fpr and budget must be in (0, 1)", field="--fpr/--budget")
    if horizon < 1:
        raise InputError("must be at least 1 draw", field="--horizon")
    if unit not in ("auto", "reads", "molecules"):
        raise InputError(f"unknown unit {unit!r}; expected auto, reads or molecules",
                         field="--unit")  # fmt: skip


@monitor_app.command("call")
def monitor_call(
    serial: Annotated[Path, typer.Argument(help="Serial ctDNA table (CSV, TSV or Parquet).")],
    normals: Annotated[Path | None, typer.Option(help="Panel of normals.")] = None,
    therapy: Annotated[Path | None, typer.Option(help="Therapy lines.")] = None,
    events: Annotated[Path | None, typer.Option(help="Clinical events (progression).")] = None,
    disease: Annotated[str | None, typer.Option(help="Disease of the patients.")] = None,
    fpr: Annotated[
        float, typer.Option(help="Chance that a variant-free draw has any false per-draw call.")
    ] = 0.05,
    budget: Budget = 0.02,
    horizon: Horizon = 8,
    unit: Unit = "auto",
    recovery: Annotated[float, typer.Option(help="Molecule recovery (fraction).")] = 0.5,
    longitudinal: Annotated[
        bool,
        typer.Option("--trend/--no-trend", help="Add each variant's fitted VAF trend."),
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="table, json or tsv.")] = "table",
    output: Annotated[Path | None, typer.Option("--out", help="Write JSON/TSV here.")] = None,
) -> None:
    """Call variants in serial draws; show response and alerts under a per-patient budget."""
    if fmt not in ("table", "json", "tsv"):
        raise InputError(f"unknown format {fmt!r}; expected table, json or tsv", field="--format")
    _check_levels(fpr, budget, horizon, unit)
    if not 0 < recovery <= 1:
        raise InputError("recovery must be in (0, 1]", field="--recovery")
    result = _monitor(
        serial, normals=normals, therapy=therapy, events=events, disease=disease, fpr=fpr,
        recovery=recovery, budget=budget, horizon=horizon, unit=unit, longitudinal=longitudinal,
    )  # fmt: skip
    if fmt == "table":
        _print_monitor(result)
        if output is None:
            return
        fmt = "json"
    if fmt == "tsv":
        text = formula_safe(result.calls).to_csv(sep="\t", index=False)
    else:
        doc = {key: json.loads(frame.to_json(orient="records", date_format="iso"))
               for key, frame in result.frames().items()}  # fmt: skip
        doc["settings"] = result.settings
        text = json.dumps(doc, indent=1) + "\n"
    emit(text, output)


DbUrl = Annotated[
    str | None,
    typer.Option("--db", help="Store URL (default: ONCORESIST_DB or the user's data directory)."),
]


def _file_kind(path: Path) -> str:
    """serial, therapy, events or measurements, from the file's columns."""
    from oncoresist.variants._sniff import check_exists, iter_lines

    check_exists(path)
    for _, text in iter_lines(path):
        if text.strip() and not text.startswith("#"):
            header = text.lower()
            break
    else:
        raise InputError("the file holds no header line", file=path, record=1, field="header")
    if any(name in header for name in ("alt_reads", "alt_molecules", "unique_alt_molecules")):
        return "serial"
    if "marker" in header:
        return "measurements"
    if "regimen" in header:
        return "therapy"
    if "event" in header:
        return "events"
    raise InputError(
        "cannot tell the kind of file; expected a serial ctDNA table (alt_reads, depth), "
        "therapy lines (regimen), clinical events (event) or marker measurements (marker)",
        file=path,
        record=1,
        field="header",
    )


@monitor_app.command("ingest")
def monitor_ingest(
    files: Annotated[
        list[Path],
        typer.Argument(help="Serial, therapy, event or marker-measurement tables."),
    ],
    db: DbUrl = None,
) -> None:
    """Store files under pseudonyms, one transaction per file; a file seen before adds nothing."""
    from oncoresist.store import open_store

    with open_store(db) as store:
        for path in files:
            kind = _file_kind(path)
            ingest = {
                "serial": store.ingest_serial,
                "therapy": store.ingest_therapy,
                "events": store.ingest_events,
                "measurements": store.ingest_measurements,
            }[kind]
            result = ingest(path)
            if result.already_ingested:
                out.print(f"{path.name}: {kind}, already ingested; nothing added", markup=False)
            else:
                out.print(
                    f"{path.name}: {kind}, {result.rows} rows ({result.inserted} new, "
                    f"{result.updated} updated, {result.unchanged} unchanged)",
                    markup=False,
                )


def _stored(store, patient: str | None, *, disease: str | None, fpr: float, budget: float):
    from oncoresist import monitor

    obs = store.observations(patient)
    if obs.empty:
        raise InputError(
            "no stored observations for this patient" if patient else "the store is empty",
            field="patient",
        )
    return monitor.monitor(
        obs, therapy=store.therapy(patient), events=store.events(patient), disease=disease,
        fpr=fpr, budget=budget,
    )  # fmt: skip


@monitor_app.command("status")
def monitor_status(
    patient: Annotated[str, typer.Argument(help="The site's patient identifier.")],
    db: DbUrl = None,
    disease: Annotated[str | None, typer.Option(help="Disease of the patient.")] = None,
    fpr: Annotated[float, typer.Option(help="False-positive rate per draw.")] = 0.05,
    budget: Budget = 0.02,
) -> None:
    """A stored patient's draws, calls, molecular response and alerts."""
    from oncoresist.store import open_store

    _check_levels(fpr, budget, 8, "auto")
    with open_store(db) as store:
        _print_monitor(_stored(store, patient, disease=disease, fpr=fpr, budget=budget))


@monitor_app.command("alerts")
def monitor_alerts(
    db: DbUrl = None,
    disease: Annotated[str | None, typer.Option(help="Disease of the patients.")] = None,
    fpr: Annotated[float, typer.Option(help="False-positive rate per draw.")] = 0.05,
    budget: Budget = 0.02,
) -> None:
    """Alerts of every stored patient (pseudonyms only)."""
    from oncoresist.store import open_store

    _check_levels(fpr, budget, 8, "auto")
    with open_store(db) as store:
        alerts = _stored(store, None, disease=disease, fpr=fpr, budget=budget).alerts
    if alerts.empty:
        out.print("no alerts")
        return
    resistance = int((alerts["category"] == "emerging_resistance").sum())
    table = Table(
        title=f"{resistance} resistance alerts, {len(alerts) - resistance} other findings"
    )
    for col in ("patient", "alteration", "kind", "first called", "message"):
        table.add_column(col, overflow="fold")
    for row in alerts.itertuples(index=False):
        table.add_row(
            str(row.patient_id)[:12], row.alteration, _CATEGORY_WORDS.get(row.category),
            pd_date(row.first_called_date), row.message,
        )  # fmt: skip
    out.print(table)


@monitor_app.command("demo")
def monitor_demo(
    output: Annotated[
        Path | None, typer.Option("--out", help="Directory for a demo store and the report.")
    ] = None,
) -> None:
    """Monitor the bundled, illustrative serial-ctDNA case (simulated, not a real patient).

    With ``--out DIR`` the case is also ingested into an embedded demo store in DIR (under a
    demo key kept in DIR/demo.key, outside the database) and its HTML report is written.
    """
    example = Path(str(resources.files("oncoresist") / "examples"))
    series = example / "egfr_ctdna_series.csv"
    therapy = example / "egfr_ctdna_therapy.csv"
    events = example / "egfr_ctdna_events.csv"
    out.print(
        "[bold]Illustrative example, not a real patient:[/bold] EGFR L858R lung "
        "adenocarcinoma on osimertinib, serial plasma draws"
    )
    result = _monitor(
        series, normals=None, therapy=therapy, events=events,
        disease="LUAD", fpr=0.05, recovery=0.5,
    )  # fmt: skip
    _print_monitor(result)
    if output is None:
        return
    from oncoresist.store import new_key, open_store

    output.mkdir(parents=True, exist_ok=True)
    key_file = output / "demo.key"
    if not key_file.exists():
        with atomic_write(key_file) as handle:
            handle.write(new_key() + "\n")
    key = bytes.fromhex(key_file.read_text().strip())
    with open_store(f"sqlite:///{output / 'monitor_demo.sqlite'}", key=key) as store:
        for path, ingest in ((series, store.ingest_serial), (therapy, store.ingest_therapy),
                             (events, store.ingest_events)):  # fmt: skip
            done = ingest(path)
            state = "already stored" if done.already_ingested else f"{done.rows} rows stored"
            out.print(f"{path.name}: {state}", markup=False)
        from oncoresist.cli.report import _write_patient_report

        _write_patient_report(
            store, "ILLUS-P1", output / "illustrative_patient_report.html", disease="LUAD",
            fpr=0.05, illustrative=True,
        )  # fmt: skip
