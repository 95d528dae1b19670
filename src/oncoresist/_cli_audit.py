"""``oncoresist audit``: check the hash-chained audit log."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

audit_app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)


@audit_app.command("verify")
def verify_cmd(
    log: Annotated[Path, typer.Argument(help="The audit log (one JSON event per line).")],
    keyed: Annotated[
        bool | None,
        typer.Option("--keyed/--unkeyed", help="HMAC with the site key (default: when set)."),
    ] = None,
) -> None:
    """Check every event's hash and link; exit 1 at the first break, naming its line."""
    from oncoresist.store import KEY_ENV, KEY_FILE_ENV, resolve_key, verify_log

    if keyed is None:
        keyed = bool(os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV))
    report = verify_log(log, key=resolve_key() if keyed else None)
    mode = "HMAC with the site key" if keyed else "SHA-256, no key"
    if report.ok:
        out.print(f"{log}: {report.events} events, chain intact ({mode})")
        return
    out.print(f"{log} line {report.line}: {report.problem}; {report.events} events before it "
              f"verified ({mode})")  # fmt: skip
    raise typer.Exit(1)
