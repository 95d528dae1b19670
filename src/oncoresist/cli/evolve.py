"""``oncoresist evolve``: closed forms, simulations and strategy comparisons from the shell."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from oncoresist._files import atomic_write, formula_safe
from oncoresist._words import NOT_REACHED, number
from oncoresist.cli._common import out
from oncoresist.errors import InputError

EngineName = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="kendall (exact, the default), gillespie or deterministic; ode for a model "
        "with a competition block (its default and only engine).",
    ),
]
VisitDays = Annotated[float, typer.Option("--visit-days", help="Days between visits.")]
NoiseCv = Annotated[float, typer.Option("--noise-cv", help="Burden measurement CV.")]
Floor = Annotated[
    float | None,
    typer.Option("--floor", help="Smallest measurable burden, cells (default: detection/10)."),
]
Confirm = Annotated[
    int, typer.Option("--confirm", help="Visits above the progression threshold needed in a row.")
]
Seed = Annotated[int, typer.Option("--seed")]
Figure = Annotated[str, typer.Option("--figure", help="png or svg.")]

evolve_app = typer.Typer(
    help="Evolutionary dynamics under therapy: closed forms, exact simulation, strategies.",
    no_args_is_help=True,
)


class Question(StrEnum):
    """Closed-form questions ``evolve analytic`` answers."""

    extinction = "extinction"
    resistance_at_detection = "resistance-at-detection"
    expected_resistant = "expected-resistant"
    eradication = "eradication"
    hitting_time = "hitting-time"
    time_to_resistance = "time-to-resistance"
    extinction_time = "extinction-time"
    resistant_to_all = "resistant-to-all"
    dual_eradication = "dual-eradication"
    sequential = "sequential"


_NEEDS_D_TREATED = {Question.eradication, Question.extinction_time,
                    Question.dual_eradication, Question.sequential}  # fmt: skip


def _pattern(drugs: int, sites: int, cross_sites: int) -> dict[tuple[str, ...], int]:
    names = [chr(ord("A") + i) for i in range(drugs)]
    pattern = {(n,): sites for n in names}
    if cross_sites:
        pattern[tuple(names)] = cross_sites
    return pattern


def _answer(q: Question, *, b, d, u, sites, size, n0, d_treated, drugs, cross_sites, cost=0.0):
    from oncoresist.evolve import analytic as an

    if q in _NEEDS_D_TREATED and d_treated is None:
        raise InputError(f"{q.value} needs the death rate under treatment", field="--d-treated")
    if q is Question.extinction_time:  # the sensitive cells of a lesion of --size cells
        return {"mean_days_to_extinction": an.mean_extinction_time(size, b, d_treated),
                "asymptotic_days": an.mean_extinction_time(size, b, d_treated,
                                                           method="asymptotic")}  # fmt: skip
    if q is Question.resistant_to_all:
        return {"expected_cells_resistant_to_all": an.expected_resistant_to_all(
            size, b, d, u, _pattern(drugs, sites, cross_sites))}  # fmt: skip
    if q is Question.dual_eradication:
        return {"probability_eradication": an.prob_eradication_dual(
            size, b, d, d_treated, u, n1=sites, n2=sites, n12=cross_sites, cost=cost)}  # fmt: skip
    if q is Question.sequential:
        return an.sequential_therapy(size, b, d, d_treated, u, n1=sites, n2=sites,
                                     n12=cross_sites)  # fmt: skip
    if q is Question.extinction:
        return {"extinction_probability": an.extinction_probability(b, d, n0)}
    if q is Question.resistance_at_detection:
        return {
            "probability_resistance_exists": an.prob_resistance_at_detection(
                size, b, d, u, n_sites=sites
            ),
            "expected_resistant_cells": an.expected_resistant_at_detection(
                size, b, d, u, n_sites=sites
            ),
        }
    if q is Question.expected_resistant:
        return {
            "expected_resistant_cells": an.expected_resistant_at_detection(
                size, b, d, u, n_sites=sites
            )
        }
    if q is Question.hitting_time:
        return {"mean_days_to_size": an.mean_hitting_time(size, b, d, n0=n0)}
    if q is Question.time_to_resistance:
        return {"mean_days_to_surviving_resistant_cell": an.mean_time_to_resistance(
            b, d, u, n0=n0, n_sites=sites)}  # fmt: skip
    pattern = _pattern(drugs, sites, cross_sites)
    factors = an.eradication_factors(size, b, d, d_treated, u, pattern)
    return {"probability_eradication": an.prob_eradication(size, b, d, d_treated, u, pattern),
            **{k: v for k, v in factors.items()}}  # fmt: skip


@evolve_app.command("analytic")
def analytic_cmd(
    question: Annotated[Question, typer.Option("--question", "-q", help="What to compute.")],
    b: Annotated[float, typer.Option("--b", help="Birth rate per day.")] = 0.14,
    d: Annotated[float, typer.Option("--d", help="Death rate per day.")] = 0.13,
    u: Annotated[float, typer.Option("--u", help="Mutation rate per site per division.")] = 1e-9,
    sites: Annotated[int, typer.Option("--sites", help="Resistance sites (per drug).")] = 1,
    size: Annotated[float, typer.Option("--size", help="Detection / treatment size, cells.")] = 1e9,
    n0: Annotated[int, typer.Option("--n0", help="Starting cells.")] = 1,
    d_treated: Annotated[
        float | None, typer.Option("--d-treated", help="Death rate per day on therapy.")
    ] = None,
    drugs: Annotated[int, typer.Option("--drugs", help="Drugs combined (eradication).")] = 1,
    cross_sites: Annotated[
        int, typer.Option("--cross-sites", help="Sites resistant to all drugs at once.")
    ] = 0,
    cost: Annotated[
        float,
        typer.Option(
            "--cost", help="Loss of net growth per resistance mutation (dual-eradication)."
        ),
    ] = 0.0,
    output: Annotated[Path | None, typer.Option("--out", "-o", help="Write JSON here.")] = None,
) -> None:
    """Closed forms (Iwasa 2006, Bozic 2013, Kendall) with their inputs echoed.

    Example: ``oncoresist evolve analytic -q eradication --drugs 2 --sites 50
    --cross-sites 1 --d-treated 0.17 --size 1e9`` gives Bozic's 26 %; ``-q sequential``
    with the same options gives sequential therapy's failure and its 73.7 / 26.3 % split,
    ``-q dual-eradication --cost 0.1`` the eradication probability with costly
    resistance, ``-q extinction-time`` the mean days for the sensitive cells of a lesion
    of ``--size`` cells to die out under treatment (birth ``--b``, death ``--d-treated``),
    and ``-q resistant-to-all`` the expected cells resistant to every drug (Bozic's X).
    """
    if drugs < 1:
        raise InputError("must be at least 1", field="--drugs")
    values = _answer(question, b=b, d=d, u=u, sites=sites, size=size, n0=n0,
                     d_treated=d_treated, drugs=drugs, cross_sites=cross_sites,
                     cost=cost)  # fmt: skip
    inputs = {"b": b, "d": d, "u": u, "sites": sites, "size": size, "n0": n0,
              "d_treated": d_treated, "drugs": drugs, "cross_sites": cross_sites,
              "cost": cost}  # fmt: skip
    result = {"question": question.value, "inputs": inputs,
              "values": {k: float(v) for k, v in values.items()}}  # fmt: skip
    if output is not None:
        with atomic_write(output) as fh:
            fh.write(json.dumps(result, indent=2) + "\n")
    table = Table(title=f"evolve analytic: {question.value}")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for k, v in result["values"].items():
        table.add_row(k, number(v, ".6g"))
    out.print(table)


def _floor(model, floor: float | None) -> float:
    if floor is not None:
        return floor
    if model.marker is not None:
        return model.marker.limit_of_detection
    return model.detection_cells / 10


def _write_table(frame, path: Path) -> None:
    with atomic_write(path) as fh:
        formula_safe(frame).to_csv(fh, index=False)


@evolve_app.command("simulate")
def simulate_cmd(
    config: Annotated[Path, typer.Argument(help="Model YAML (see docs/evolve.md).")],
    strategy: Annotated[
        str, typer.Option("--strategy", "-s", help="e.g. sequential:erlotinib>osimertinib")
    ],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    t_end: Annotated[float, typer.Option("--days", help="Days to simulate.")] = 1095.0,
    replicates: Annotated[int, typer.Option("--replicates", "-n")] = 100,
    engine: EngineName = None,
    visit_days: VisitDays = 28.0,
    noise_cv: NoiseCv = 0.1,
    floor: Floor = None,
    confirm: Confirm = 2,
    seed: Seed = 1,
    figure: Figure = "png",
) -> None:
    """Run one strategy on replicate virtual patients of a model file.

    Writes ``trajectories.csv`` (replicate, day, clone, cells; ``observed`` burden rows),
    ``outcomes.csv`` (time to progression, exposure, days off), ``summary.json`` and a
    Muller plot of the median replicate's clones.
    """
    from oncoresist.evolve.model import load_model
    from oncoresist.evolve.plots import muller_plot, parents_from_mutations
    from oncoresist.evolve.simulate import engine_for, simulate
    from oncoresist.evolve.strategies import Progression, parse_strategy

    model = load_model(config)
    engine = engine_for(model, engine)
    strat = parse_strategy(strategy)
    if figure not in ("png", "svg"):
        raise InputError("expected png or svg", field="--figure")
    res = simulate(model, strat, n_replicates=replicates, t_end=t_end, rng=seed,
                   engine=engine, visit_days=visit_days, noise_cv=noise_cv,
                   floor=_floor(model, floor),
                   progression=Progression(confirm=confirm))  # fmt: skip
    out_dir.mkdir(parents=True, exist_ok=True)
    traj = res.trajectory.rename(columns={"patient": "replicate"})
    _write_table(traj, out_dir / "trajectories.csv")
    import numpy as np
    import pandas as pd

    outcomes = pd.DataFrame({"replicate": np.arange(replicates), "ttp_days": res.ttp_days,
                             "progressed": res.progressed, "days_off": res.days_off,
                             **{f"exposure_{d}": v for d, v in res.exposure.items()}})  # fmt: skip
    _write_table(outcomes, out_dir / "outcomes.csv")
    ttp = res.ttp_days[res.progressed]
    summary = {
        "model": model.name, "strategy": strategy, "engine": engine, "replicates": replicates,
        "days": t_end, "progressed": int(res.progressed.sum()),
        "median_ttp_days_of_progressed": float(np.median(ttp)) if ttp.size else None,
        "mean_days_off": float(res.days_off.mean()),
    }  # fmt: skip
    with atomic_write(out_dir / "summary.json") as fh:
        fh.write(json.dumps(summary, indent=2) + "\n")
    cells = traj[traj["clone"] != "observed"]
    order = np.argsort(np.where(res.progressed, res.ttp_days, np.inf))
    median = int(order[len(order) // 2])
    one = cells[cells["replicate"] == median].pivot(index="day", columns="clone", values="cells")
    muller_plot(one[model.clone_names], parents_from_mutations(model),
                out_dir / f"muller.{figure}", title=f"{model.name}: {strategy}")  # fmt: skip
    table = Table(title=f"evolve simulate: {strategy}")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for k, v in summary.items():
        # None: no replicate progressed, so their median time to progression is not reached
        table.add_row(k, NOT_REACHED if v is None else number(v, "") if isinstance(v, float)
                      else str(v))  # fmt: skip
    out.print(table)


class ProgressionChoice(StrEnum):
    """Progression rules ``evolve compare`` offers (see ``ProgressionRule``)."""

    nadir = "nadir"
    baseline = "baseline"
    pcwg3 = "pcwg3"
    absolute = "absolute"


_RULE_FLAGS = {"progression.threshold": "--threshold", "progression.factor": "--factor",
               "progression.min_rise": "--min-rise", "progression.confirm": "--confirm",
               "progression": "--progression"}  # fmt: skip


def _rule(kind: ProgressionChoice, *, factor, min_rise, threshold, confirm, detection_cells,
          marker=None):  # fmt: skip
    from oncoresist.evolve.cohort import ProgressionRule, pcwg3_min_rise

    if min_rise is None and kind is ProgressionChoice.pcwg3:
        min_rise = pcwg3_min_rise(detection_cells) if marker is None else marker.min_rise
    min_rise = 0.0 if min_rise is None else min_rise
    try:
        return ProgressionRule(kind.value, factor=factor, min_rise=min_rise,
                               threshold=threshold, confirm=confirm)  # fmt: skip
    except InputError as exc:  # name the flag, not the field
        raise InputError(exc.message, field=_RULE_FLAGS.get(exc.field, exc.field)) from None


@evolve_app.command("compare")
def compare_cmd(
    config: Annotated[Path, typer.Argument(help="Model YAML (see docs/evolve.md).")],
    strategies: Annotated[
        list[str], typer.Option("--strategy", "-s", help="Repeat: one per strategy.")
    ],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    patients: Annotated[int, typer.Option("--patients", "-n")] = 1000,
    t_end: Annotated[float, typer.Option("--days", help="Days of follow-up.")] = 1825.0,
    engine: EngineName = None,
    visit_days: VisitDays = 28.0,
    noise_cv: NoiseCv = 0.1,
    floor: Floor = None,
    progression: Annotated[
        ProgressionChoice,
        typer.Option(
            "--progression",
            help="nadir: > factor x the smallest burden so far (RECIST-like); baseline: "
            "> factor x the starting burden; pcwg3: >= 25 % and >= --min-rise above the "
            "nadir, confirmed at the next visit, dated at the first rise; absolute: "
            ">= --threshold.",
        ),
    ] = ProgressionChoice.nadir,
    factor: Annotated[
        float | None,
        typer.Option("--factor", help="Ratio to the reference (default 1.2; pcwg3 1.25)."),
    ] = None,
    min_rise: Annotated[
        float | None,
        typer.Option(
            "--min-rise",
            help="Smallest rise above the reference, cells (pcwg3 default: 2 ng/mL of PSA "
            "at 3.5 ng/mL per cm3, i.e. 2/3.5 x detection_cells).",
        ),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", help="Burden (cells) that is progression (absolute)."),
    ] = None,
    confirm: Confirm = 2,
    horizon: Annotated[
        float | None,
        typer.Option(
            "--horizon",
            help="RMST horizon, days (default: the follow-up, --days).",
        ),
    ] = None,
    seed: Seed = 1,
    dask: Annotated[
        str | None, typer.Option("--dask", help="Dask scheduler address (else local processes).")
    ] = None,
    workers: Annotated[int | None, typer.Option("--workers")] = None,
    figure: Figure = "png",
) -> None:
    """Compare strategies on one virtual cohort: KM medians, RMST, hazard ratios, KM curves.

    Writes ``outcomes.csv`` (patient, strategy, ttp_days, progressed, exposure, days off),
    ``summary.csv`` (per strategy: median TTP with 95 % CI or "not reached", restricted
    mean time free of progression to the horizon and its difference from the first
    strategy, Cox hazard ratio against the first strategy or "reference"/"not estimable",
    and the progression rule used) and ``km.png`` (or ``.svg``).
    """
    from functools import partial

    import numpy as np
    from rich.progress import Progress

    from oncoresist.evolve.cohort import compare_strategies, survival_summary
    from oncoresist.evolve.model import load_model
    from oncoresist.evolve.plots import plot_km
    from oncoresist.evolve.simulate import dynamics_for, engine_for, initial_state
    from oncoresist.evolve.strategies import parse_strategy

    model = load_model(config)
    engine = engine_for(model, engine)
    if figure not in ("png", "svg"):
        raise InputError("expected png or svg", field="--figure")
    rule = _rule(progression, factor=factor, min_rise=min_rise, threshold=threshold,
                 confirm=confirm, detection_cells=model.detection_cells,
                 marker=model.marker)  # fmt: skip
    if horizon is not None and not 0 < horizon <= t_end:
        raise InputError(f"must lie in (0, --days = {t_end:g}]", field="--horizon")
    factories = {}
    for text in strategies:
        parse_strategy(text)  # fail early on a typo
        factories[text] = partial(parse_strategy, text)
    initial, _ = initial_state(model, patients, np.random.default_rng([seed, 1]))
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("patients x strategies", total=None)
        res = compare_strategies(
            factories, initial, partial(dynamics_for, model, engine, 1.0), t_end=t_end,
            visit_days=visit_days, noise_cv=noise_cv, floor=_floor(model, floor),
            progression=rule, rng=seed, client=dask, workers=workers,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )  # fmt: skip
    summary = survival_summary(res, horizon=t_end if horizon is None else horizon)
    summary["progression"] = rule.describe()
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_table(res, out_dir / "outcomes.csv")
    _write_table(summary.reset_index(), out_dir / "summary.csv")
    plot_km(res, out_dir / f"km.{figure}", title=model.name)
    tau = float(summary["rmst_horizon_days"].iloc[0])
    ref = summary.index[0]
    table = Table(
        title=f"evolve compare: {patients} patients",
        caption=f"progression: {rule.describe()}. Median: Kaplan-Meier (95 % CI), not "
        "reached where the curve stays above 1/2. RMST: mean days free of progression up "
        f"to day {tau:.0f}. HR: Cox (Efron ties) vs {ref}; not estimable when an arm has "
        "no events or the arms are separated.",
    )
    columns = ("strategy", "events", "median TTP (95% CI), days",
               f"RMST to day {tau:.0f} (95% CI)", "RMST difference", "HR (95% CI)",
               "days off")  # fmt: skip
    for col in columns:
        table.add_column(col)
    for name, r in summary.iterrows():
        table.add_row(name, f"{int(r.events)}/{int(r.patients)}", r.median_ttp, r.rmst,
                      r.rmst_diff, r.hr, number(r.mean_days_off, ".0f"))  # fmt: skip
    out.print(table)
