"""``oncoresist demo``: interpret the bundled, illustrative case."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from oncoresist._files import atomic_write
from oncoresist.cli._common import out
from oncoresist.cli.interpret import _print_interpretation, _run_case_file


def demo(
    output: Annotated[Path, typer.Option("--out", help="Directory for the JSON result.")] = Path(
        "results"
    ),
) -> None:
    """Interpret the bundled, illustrative EGFR-mutant NSCLC case (not a real patient)."""
    example = Path(str(resources.files("oncoresist") / "examples"))
    case_path = example / "egfr_nsclc_osimertinib_progression.yaml"
    from oncoresist.interpret import read_case

    case = read_case(case_path)
    out.print(
        "[bold]Illustrative example, not a real patient:[/bold] "
        f"{case.description or case_path.stem}"
    )
    result = _run_case_file(case, case_path)
    _print_interpretation(case_path.stem, result)
    target = output / f"{case_path.stem}.json"
    with atomic_write(target) as handle:
        json.dump([result.to_dict(case=case_path.stem)], handle, indent=2)
        handle.write("\n")
    out.print(f"JSON written to {target}", markup=False)
