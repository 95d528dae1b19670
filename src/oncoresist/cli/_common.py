"""The spinner the CLI shows on stderr during long steps (one place for all groups)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


def spinner() -> Progress:
    """A transient spinner with the step's description and the elapsed time, on stderr."""
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=True)  # fmt: skip
