"""``oncoresist variants``: parse alteration texts and read variant files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from oncoresist.cli._common import err, out, record_progress

variants_app = typer.Typer(help="Parse alterations and read variant files.", no_args_is_help=True)


@variants_app.command("parse")
def variants_parse(
    alterations: Annotated[list[str], typer.Argument(help="Alteration texts.")],
) -> None:
    """Normalise alteration texts (``EGFR p.Thr790Met`` -> ``EGFR T790M``)."""
    from oncoresist.variants import parse_alteration

    table = Table()
    for col in ("input", "gene", "kind", "change", "type", "exon"):
        table.add_column(col)
    parsed = []
    for text in alterations:
        a = parse_alteration(text)
        parsed.append(a)
        table.add_row(text, a.gene or "", a.kind, a.change, a.variant_type or "", str(a.exon or ""))
    out.print(table)
    from oncoresist.variants._parse import codon_level_notes

    for note in codon_level_notes(parsed):
        out.print(f"note: {note}", markup=False)


@variants_app.command("read")
def variants_read(
    path: Path,
    build: Annotated[str | None, typer.Option(help="GRCh37 or GRCh38.")] = None,
    sample: Annotated[str | None, typer.Option(help="Sample column of a VCF.")] = None,
) -> None:
    """Read a VCF, MAF or table and print the knowledge-base-relevant alterations as TSV."""
    from oncoresist.variants import read_variants

    cols = ["gene", "change", "kind", "vaf", "depth", "sample", "phase_set", "source"]
    # Every record is read (and checked) before the first line is written: a bad record
    # late in the file must not leave a half-written table on stdout.
    with record_progress(f"reading {path.name}") as progress:
        records = list(read_variants(path, build=build, sample=sample, progress=progress))
    if not records:
        err.print(f"{path}: no knowledge-base-relevant alterations", markup=False)
    lines = ["\t".join(cols) + "\n"]
    for a in records:
        values = [getattr(a, c) for c in cols]
        lines.append("\t".join("" if v is None else str(v) for v in values) + "\n")
    sys.stdout.write("".join(lines))
