"""``oncoresist evolve``: closed forms, simulations and strategy comparisons from the shell."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from oncoresist._files import atomic_write
from oncoresist.errors import InputError

evolve_app = typer.Typer(
    help="Evolutionary dynamics under therapy: closed forms, exact simulation, strategies.",
    no_args_is_help=True,
)
out = Console(highlight=False, soft_wrap=False)


class Question(StrEnum):
    """Closed-form questions ``evolve analytic`` answers."""

    extinction = "extinction"
    resistance_at_detection = "resistance-at-detection"
    expected_resistant = "expected-resistant"
    eradication = "eradication"
    hitting_time = "hitting-time"
    time_to_resistance = "time-to-resistance"


def _answer(q: Question, *, b, d, u, sites, size, n0, d_treated, drugs, cross_sites):
    from oncoresist.evolve import analytic as an

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
    if d_treated is None:
        raise InputError("eradication needs the death rate under treatment", field="--d-treated")
    names = [chr(ord("A") + i) for i in range(drugs)]
    pattern = {(n,): sites for n in names}
    if cross_sites:
        pattern[tuple(names)] = cross_sites
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
    output: Annotated[Path | None, typer.Option("--out", "-o", help="Write JSON here.")] = None,
) -> None:
    """Closed forms (Iwasa 2006, Bozic 2013, Kendall) with their inputs echoed.

    Example: ``oncoresist evolve analytic -q eradication --drugs 2 --sites 50
    --cross-sites 1 --d-treated 0.17 --size 1e9`` gives Bozic's 26 %.
    """
    if drugs < 1:
        raise InputError("must be at least 1", field="--drugs")
    values = _answer(question, b=b, d=d, u=u, sites=sites, size=size, n0=n0,
                     d_treated=d_treated, drugs=drugs, cross_sites=cross_sites)  # fmt: skip
    inputs = {"b": b, "d": d, "u": u, "sites": sites, "size": size, "n0": n0,
              "d_treated": d_treated, "drugs": drugs, "cross_sites": cross_sites}  # fmt: skip
    result = {"question": question.value, "inputs": inputs,
              "values": {k: float(v) for k, v in values.items()}}  # fmt: skip
    if output is not None:
        with atomic_write(output) as fh:
            fh.write(json.dumps(result, indent=2) + "\n")
    table = Table(title=f"evolve analytic: {question.value}")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for k, v in result["values"].items():
        table.add_row(k, f"{v:.6g}")
    out.print(table)
