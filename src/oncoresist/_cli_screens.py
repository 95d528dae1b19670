"""``oncoresist screen``: pooled CRISPR screens under drug."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from oncoresist._files import atomic_write
from oncoresist.errors import InputError

screen_app = typer.Typer(help="Pooled CRISPR screens under drug (in progress).",
                         no_args_is_help=True)  # fmt: skip
out = Console(highlight=False, soft_wrap=False)


def _samples(text: str, option: str) -> list[str]:
    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names:
        raise InputError("name at least one sample (comma-separated)", field=option)
    return names


@screen_app.command("analyze")
def analyze_cmd(
    counts: Annotated[Path, typer.Argument(help="Count table: sgRNA, gene, one column/sample.")],
    treatment: Annotated[str, typer.Option("--treatment", "-t", help="Drug samples, a,b")],
    control: Annotated[str, typer.Option("--control", "-c", help="Control samples, a,b")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    alpha: Annotated[float, typer.Option("--alpha", help="alpha-RRA rank cut-off.")] = 0.25,
    top: Annotated[int, typer.Option("--top", help="Genes shown per direction.")] = 10,
) -> None:
    """Drug versus control: sgRNA tests and alpha-RRA genes in both directions.

    Writes ``gene_summary.tsv`` (MAGeCK-compatible columns: ``id, num, neg|score,
    neg|p-value, neg|fdr, neg|rank, neg|lfc, pos|...``) and ``sgrna_summary.tsv``.
    """
    from oncoresist.screens import gene_summary, read_counts, sgrna_test

    table = read_counts(counts)
    t, c = _samples(treatment, "--treatment"), _samples(control, "--control")
    sg = sgrna_test(table, t, c)
    genes = gene_summary(sg, alpha=alpha)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(out_dir / "gene_summary.tsv") as fh:
        genes.to_csv(fh, sep="\t")
    with atomic_write(out_dir / "sgrna_summary.tsv") as fh:
        sg.to_csv(fh, sep="\t")
    for tag, title in (("pos", "enriched under drug (resistance)"),
                       ("neg", "depleted under drug (sensitisation)")):  # fmt: skip
        best = genes.sort_values(f"{tag}|rank").head(top)
        view = Table(title=title)
        for col in ("gene", "sgRNAs", "p-value", "FDR", "median LFC"):
            view.add_column(col)
        for gene, r in best.iterrows():
            view.add_row(gene, str(int(r["num"])), f"{r[f'{tag}|p-value']:.2e}",
                         f"{r[f'{tag}|fdr']:.3f}", f"{r[f'{tag}|lfc']:.2f}")  # fmt: skip
        out.print(view)
    if table.attrs.get("unmangled"):
        out.print(f"{len(table.attrs['unmangled'])} spreadsheet-mangled gene symbols mapped back")
