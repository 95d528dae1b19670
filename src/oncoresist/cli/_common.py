"""What every command group shares: the consoles, output, progress and error handling.

Output goes to ``out`` (stdout); messages, warnings and progress to ``err`` (stderr). A file
is written through :func:`emit` (atomically: renamed into place when complete). Bad input
(:class:`~oncoresist.errors.OncoresistError`, a missing or unreadable file) is one
``error:`` line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer
from rich.console import Console

from oncoresist._progress import ProgressCallback

if TYPE_CHECKING:
    from rich.progress import Progress

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)

Format = Literal["table", "json", "tsv"]


def emit(text: str, output: Path | None) -> None:
    """Write ``text`` to ``output`` atomically (and say so on stderr), or to stdout."""
    if output is None:
        sys.stdout.write(text)
        return
    from oncoresist._files import atomic_write

    with atomic_write(output) as handle:
        handle.write(text)
    err.print(f"wrote {output}", markup=False)


@contextmanager
def record_progress(description: str) -> Iterator[ProgressCallback | None]:
    """A live record counter on stderr while a long file is read (only on a terminal)."""
    if not err.is_terminal:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}: {task.completed:,} records"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(description, total=None)
        yield lambda n: bar.advance(task, n)


def spinner() -> Progress:
    """A transient spinner with the step's description and the elapsed time, on stderr."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=True)  # fmt: skip


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a warning as one ``warning:`` line on stderr.

    A reader's warning names its own file and line, so Python's ``<module>:0: Category:``
    prefix would only get in the way.
    """
    err.print(f"warning: {message}", markup=False)


def report_errors(func):
    """Run ``func``; bad input becomes one line on stderr and exit status 2.

    Used by :func:`oncoresist.cli.main` and by groups whose commands must behave so also
    when invoked outside ``main`` (a test's ``CliRunner``).
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from oncoresist.errors import OncoresistError

        try:
            return func(*args, **kwargs)
        except OncoresistError as exc:
            err.print(f"error: {exc}", markup=False)
            raise typer.Exit(2) from None
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            err.print(f"error: {exc.filename}: {exc.strerror}", markup=False)
            raise typer.Exit(2) from None

    return wrapper
