"""``oncoresist kb``: the curated, cited knowledge base (validate, stats, show, export)."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from oncoresist._files import formula_safe
from oncoresist.cli._common import emit, err, out
from oncoresist.errors import InputError

kb_app = typer.Typer(help="The curated, cited knowledge base.", no_args_is_help=True)


def _kb(root: Path | None):
    from oncoresist.kb import load_kb

    return load_kb(root)


KbRoot = Annotated[
    Path | None, typer.Option("--kb", help="A knowledge-base directory (default: shipped).")
]


@kb_app.command("validate")
def kb_validate(kb_root: KbRoot = None) -> None:
    """Check the knowledge base: references, evidence, drugs, genes, contradictions."""
    from oncoresist.interpret import compile_rules
    from oncoresist.kb import stats, validate
    from oncoresist.variants import biomarker_key

    kb = _kb(kb_root)
    problems = validate(kb, biomarker_key=partial(biomarker_key, kb=kb))
    if problems:
        for line in problems:
            err.print(f"error: {line}", markup=False)
        err.print(f"{len(problems)} problem(s) in the knowledge base", markup=False)
        raise typer.Exit(2)
    compile_rules(kb)
    s = stats(kb)
    out.print(
        f"knowledge base is consistent: {s['assertions']} assertions, {s['drugs']} drugs, "
        f"{s['genes']} genes, {s['references']} references"
    )


@kb_app.command("stats")
def kb_stats(
    kb_root: KbRoot = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Coverage: counts of assertions, drugs, genes, and assertions by category."""
    from oncoresist.kb import stats

    s = stats(_kb(kb_root))
    if as_json:
        out.print_json(json.dumps(s))
        return
    table = Table(title="oncoresist knowledge base", show_header=False)
    for key in ("assertions", "drugs", "drug_classes", "combinations", "genes", "diseases"):
        table.add_row(key, str(s[key]))
    table.add_row("references (PMIDs)", f"{s['references']} ({s['pmids']})")
    table.add_row("coordinates", ", ".join(f"{b}: {n}" for b, n in s["coordinates"].items()))
    for key in ("by_effect", "by_mechanism", "by_evidence"):
        table.add_row(key, ", ".join(f"{k} {v}" for k, v in s[key].items()))
    table.add_row("by_gene", ", ".join(f"{k} {v}" for k, v in s["by_gene"].items()))
    if s.get("identifier_coverage"):
        table.add_row("identifiers", ", ".join(s["identifier_coverage"]))
    out.print(table)


def _assertion_table(rows: list[dict], title: str) -> Table:
    table = Table(title=title, show_lines=False)
    for col in ("biomarker", "drugs", "effect", "mechanism", "disease", "ev.", "references"):
        table.add_column(col, overflow="fold")
    for row in rows:
        drugs = ", ".join(row["drugs"])
        if row["except"]:
            drugs += f" (except {', '.join(row['except'])})"
        biomarker = " + ".join(row["biomarker"])
        if row["phase"] != "any":
            biomarker += f" ({row['phase']})"
        if row["driver"]:
            biomarker += f" [driver {row['driver']}]"
        table.add_row(
            biomarker,
            drugs,
            row["effect"],
            row["mechanism"] or "",
            row["disease"],
            row["evidence"],
            ", ".join(row["references"]),
        )
    return table


@kb_app.command("show")
def kb_show(gene: str, kb_root: KbRoot = None) -> None:
    """Show a gene: aliases, drivers, coordinates and every assertion naming it."""
    from oncoresist.kb import to_records

    kb = _kb(kb_root)
    symbol = kb.resolve_gene(gene)
    g = kb.genes[symbol]
    out.print(f"[bold]{symbol}[/bold] {g.name}; aliases: {', '.join(g.aliases) or '-'}")
    out.print(f"role: {g.role}; drivers: {', '.join(g.drivers) or '-'} (rank {g.driver_rank})")
    coords = [
        f"{alt} {build} {c[0]}:{c[1]}:{c[2]}>{c[3]}"
        for build, table in kb.coordinates.items()
        for c, (gg, alt) in table.items()
        if gg == symbol
    ]
    if coords:
        out.print("coordinates: " + "; ".join(sorted(coords)))
    rows = [r for r in to_records(kb) if symbol in r["genes"]]
    out.print(_assertion_table(rows, f"{len(rows)} assertions naming {symbol}"))


@kb_app.command("drug")
def kb_drug(name: str, kb_root: KbRoot = None) -> None:
    """Show a drug: synonyms, classes, targets and every assertion that covers it."""
    from oncoresist.kb import to_records

    kb = _kb(kb_root)
    key = kb.resolve_drug(name)
    for member in kb.members_of(key):
        d = kb.drugs[member]
        out.print(
            f"[bold]{member}[/bold] ({d.modality}); synonyms: {', '.join(d.synonyms) or '-'}; "
            f"classes: {', '.join(kb.drug_classes(member)) or '-'}; "
            f"targets: {', '.join(d.targets) or '-'}" + ("" if d.approved else "; not approved")
        )
    rows = [r for r in to_records(kb) if key in r["expanded_drugs"]]
    out.print(_assertion_table(rows, f"{len(rows)} assertions covering {key}"))


@kb_app.command("search")
def kb_search(text: str, kb_root: KbRoot = None) -> None:
    """Find genes, drugs, classes, diseases and assertions whose text contains TEXT."""
    from oncoresist.kb import to_records

    kb = _kb(kb_root)
    needle = text.lower()
    genes = [s for s, g in kb.genes.items() if needle in " ".join([s, g.name, *g.aliases]).lower()]
    drugs = [n for n, d in kb.drugs.items() if needle in " ".join([n, *d.synonyms]).lower()]
    classes = [c for c, k in kb.classes.items() if needle in f"{c} {k.name}".lower()]
    diseases = [
        i for i, d in kb.diseases.items()
        if needle in " ".join([i, d.name, *d.oncotree, *d.synonyms]).lower()
    ]  # fmt: skip
    out.print(f"genes: {', '.join(genes) or '-'}")
    out.print(f"drugs: {', '.join(drugs) or '-'}")
    out.print(f"drug classes: {', '.join(classes) or '-'}")
    out.print(f"diseases: {', '.join(diseases) or '-'}")
    rows = [
        r for r in to_records(kb)
        if needle in " ".join([*r["biomarker"], *r["drugs"], r["summary"], *r["genes"],
                               *r["references"]]).lower()
    ]  # fmt: skip
    out.print(_assertion_table(rows, f"{len(rows)} assertions mentioning {text!r}"))


@kb_app.command("diseases")
def kb_diseases(kb_root: KbRoot = None) -> None:
    """List the diseases with OncoTree codes and synonyms."""
    kb = _kb(kb_root)
    table = Table(title="diseases")
    for col in ("id", "name", "OncoTree", "synonyms", "parent"):
        table.add_column(col, overflow="fold")
    for d in kb.diseases.values():
        table.add_row(d.id, d.name, ", ".join(d.oncotree), ", ".join(d.synonyms), d.parent or "")
    out.print(table)


@kb_app.command("export")
def kb_export(
    fmt: Annotated[str, typer.Option("--format", help="tsv or json")] = "tsv",
    output: Annotated[Path | None, typer.Option("--out", help="File (default stdout).")] = None,
    kb_root: KbRoot = None,
) -> None:
    """Export every assertion, one row per assertion, as TSV or JSON."""
    from oncoresist.kb import to_frame, to_records

    kb = _kb(kb_root)
    if fmt == "tsv":
        text = formula_safe(to_frame(kb)).to_csv(sep="\t", index=False)
    elif fmt == "json":
        text = json.dumps(to_records(kb), indent=1) + "\n"
    else:
        raise InputError(f"unknown format {fmt!r}; expected tsv or json", field="--format")
    emit(text, output)
