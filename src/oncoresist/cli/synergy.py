"""``oncoresist synergy``: drug-combination experiments (dose-response, synergy scores)."""

from __future__ import annotations

import typer

synergy_app = typer.Typer(
    help="Drug combinations: dose-response fits and synergy scores (Bliss, HSA, Loewe, ZIP).",
    no_args_is_help=True,
)
