"""``oncoresist sc``: single cells under drug (programmes, abundance, expression, copy number)."""

from __future__ import annotations

import typer

sc_app = typer.Typer(
    help="Single cells under drug: resistance programmes, abundance, expression, copy number.",
    no_args_is_help=True,
)
