"""``oncoresist exchange``: the field's exchange formats.

Annotated MAF/VCF, GA4GH Phenopacket v2, cBioPortal clinical and timeline files.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Exchange formats: annotated MAF/VCF, GA4GH Phenopacket v2, cBioPortal study files.",
    no_args_is_help=True,
)
