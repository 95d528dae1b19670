"""The ``oncoresist`` command: one sub-command group per package.

Only this module (and the server) talks to people. Every :class:`InputError` becomes one
line on stderr and exit status 2; no traceback is shown for a user's mistake.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.core import TyperCommand, TyperGroup

from oncoresist._files import atomic_write, formula_safe
from oncoresist._progress import ProgressCallback
from oncoresist.errors import InputError, OncoresistError

# Sub-commands whose modules import heavy libraries (scipy, pandas, the evolve and server
# code) are loaded only when they run: `oncoresist --help` and `oncoresist interpret` do
# not pay for them. name -> (module, attribute, one-line help shown in `--help`); the help
# must be the first line of the loaded command's own help (a test checks it).
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "serve": (
        "oncoresist._cli_server",
        "serve",
        "Run the tumour-board web service (API at /api/v1, browser interface at /).",
    ),
}
LAZY_GROUPS: dict[str, tuple[str, str, str]] = {
    "evolve": (
        "oncoresist._cli_evolve",
        "evolve_app",
        "Evolutionary dynamics under therapy: closed forms, exact simulation, strategies.",
    ),
    "forecast": (
        "oncoresist._cli_forecast",
        "forecast_app",
        "Fit a patient's serial markers and forecast each strategy, with calibrated "
        "uncertainty; backtest the forecasts.",
    ),
    "screen": (
        "oncoresist._cli_screens",
        "screen_app",
        "Pooled CRISPR knockout screens under drug.",
    ),
    "clones": (
        "oncoresist._cli_clones",
        "clones_app",
        "Clones over time: CCF clusters, trees, fish plots.",
    ),
    "audit": ("oncoresist._cli_audit", "audit_app", "The append-only, hash-chained audit log."),
    "users": ("oncoresist._cli_server", "users_app", "Accounts of the web service."),
    "exchange": (
        "oncoresist._cli_exchange",
        "app",
        "Exchange formats: annotated MAF/VCF, GA4GH Phenopacket v2, cBioPortal study files.",
    ),
}
LAZY = {**LAZY_COMMANDS, **LAZY_GROUPS}


def load_lazy(name: str):
    """The click command of a lazily loaded sub-command or group (imports its module)."""
    from importlib import import_module

    module, attribute, _ = LAZY[name]
    target = getattr(import_module(module), attribute)
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)
    else:  # a function registered as one command
        single = typer.Typer(add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyGroup(TyperGroup):
    """The root group: heavy sub-commands are imported when invoked, not when listed.

    ``--help`` lists them from :data:`LAZY` without importing their modules.
    """

    _listing = False

    def list_commands(self, ctx):  # noqa: D102 - click's interface
        eager = [n for n in super().list_commands(ctx) if n not in LAZY]
        return [*LAZY_COMMANDS, *eager, *LAZY_GROUPS]

    def get_command(self, ctx, cmd_name):  # noqa: D102 - click's interface
        command = self.commands.get(cmd_name)
        if command is not None or cmd_name not in LAZY:
            return command
        if self._listing:  # the help's list of commands: a stand-in with the short help
            text = LAZY[cmd_name][2]
            return TyperCommand(cmd_name, short_help=text, help=text)
        command = load_lazy(cmd_name)
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx, formatter):  # noqa: D102 - click's interface
        self._listing = True
        try:
            return super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def resolve_command(self, ctx, args):  # noqa: D102 - click's interface
        # "did you mean" for a mistyped command considers the lazy ones too
        for name in LAZY:
            self.commands.setdefault(name, None)  # type: ignore[arg-type]
        try:
            return super().resolve_command(ctx, args)
        finally:
            for name in LAZY:
                if self.commands.get(name) is None:
                    self.commands.pop(name, None)


app = typer.Typer(
    name="oncoresist",
    help="Targeted-therapy resistance in cancer: knowledge base, interpretation, monitoring.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=LazyGroup,
)
kb_app = typer.Typer(help="The curated, cited knowledge base.", no_args_is_help=True)
variants_app = typer.Typer(help="Parse alterations and read variant files.", no_args_is_help=True)
monitor_app = typer.Typer(
    help="Serial liquid biopsies: calls, limits of detection, response, alerts.",
    no_args_is_help=True,
)
app.add_typer(kb_app, name="kb")
app.add_typer(variants_app, name="variants")
app.add_typer(monitor_app, name="monitor")

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)

Format = Literal["table", "json", "tsv"]
VERDICT_STYLE = {
    "resistant": "bold red",
    "reduced_response": "yellow",
    "sensitive": "bold green",
    "no_known_effect": "dim",
}
# Words as well as colours, so the verdict reads without colour vision.
VERDICT_WORD = {
    "resistant": "RESISTANT",
    "reduced_response": "reduced",
    "sensitive": "sensitive",
    "no_known_effect": "no known effect",
}


def _version(value: bool) -> None:
    if value:
        from oncoresist import __version__

        out.print(f"oncoresist {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Targeted-therapy resistance in cancer."""


# ------------------------------------------------------------------------- kb
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
    _emit(text, output)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    with atomic_write(output) as handle:
        handle.write(text)
    err.print(f"wrote {output}", markup=False)


# ------------------------------------------------------------------- variants
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
    with _record_progress(f"reading {path.name}") as progress:
        records = list(read_variants(path, build=build, sample=sample, progress=progress))
    if not records:
        err.print(f"{path}: no knowledge-base-relevant alterations", markup=False)
    lines = ["\t".join(cols) + "\n"]
    for a in records:
        values = [getattr(a, c) for c in cols]
        lines.append("\t".join("" if v is None else str(v) for v in values) + "\n")
    sys.stdout.write("".join(lines))


# ------------------------------------------------------------------ interpret
def _split(text: str | None) -> list[str]:
    if not text:
        return []
    return [t.strip() for t in text.replace("\n", ";").replace(",", ";").split(";") if t.strip()]


@contextmanager
def _record_progress(description: str) -> Iterator[ProgressCallback | None]:
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


def _parse_phase(values: list[str]) -> list[tuple[str, str, str]]:
    triples = []
    for value in values:
        parts = [p.strip() for p in value.split("|")]
        if len(parts) != 3:
            raise InputError(
                f"{value!r} is not 'ALTERATION|ALTERATION|cis' or '...|trans'", field="--phase"
            )
        triples.append((parts[0], parts[1], parts[2]))
    return triples


def _run_case(
    *,
    alterations: list[str],
    variants: Path | None,
    build: str | None,
    drugs: list[str] | None,
    disease: str | None,
    phase: list,
    driver: str | None,
):
    from oncoresist.interpret import interpret

    items: list = list(alterations)
    if variants is not None:
        from oncoresist.variants import read_variants

        with _record_progress(f"reading {variants.name}") as progress:
            read = list(read_variants(variants, build=build, progress=progress))
        if not read and not items:
            raise InputError(
                "no alterations to interpret: the file holds no knowledge-base-relevant alteration",
                file=variants,
            )
        items.extend(read)
    if not items:
        raise InputError(
            "no alterations to interpret; give --alterations, --variants or a case file"
        )
    result = interpret(items, drugs=drugs, disease=disease, phase=phase or None, driver=driver)
    from oncoresist.variants import parse_alteration
    from oncoresist.variants._parse import codon_level_notes

    alts = [a if not isinstance(a, str) else parse_alteration(a) for a in items]
    extra = [n for n in codon_level_notes(alts) if n not in result.notes]
    if extra:  # "EGFR L858" is read as the codon: say so, in every output format
        result = result.model_copy(update={"notes": [*result.notes, *extra]})
    return result


def _run_case_file(
    case,
    path: Path,
    *,
    alterations: list[str] = (),  # type: ignore[assignment]
    variants: Path | None = None,
    build: str | None = None,
    drugs: list[str] | None = None,
    disease: str | None = None,
    phase: list = (),  # type: ignore[assignment]
    driver: str | None = None,
):
    """Interpret one case file; command-line values fill what the file leaves out."""
    try:
        return _run_case(
            alterations=[*case.alterations, *alterations],
            variants=(path.parent / case.variants).resolve() if case.variants else variants,
            build=case.build or build,
            drugs=case.drugs if case.drugs is not None else drugs,
            disease=case.disease or disease,
            phase=[tuple(p) for p in case.phase] + list(phase),
            driver=case.driver or driver,
        )
    except InputError as exc:
        raise exc.located(file=path) from None


def _evidence_cell(item) -> str:
    """``A`` with its derived AMP/ASCO/CAP tier and ESCAT level beneath, when there are."""
    lines = [item.evidence or ""]
    if item.amp_tier:
        lines.append(item.amp_tier.replace(", level ", " "))
    if item.escat:
        lines.append(f"ESCAT {item.escat}")
    return "\n".join(lines)


def _print_interpretation(name: str | None, result) -> None:
    head = f"[bold]{name}[/bold]: " if name else ""
    out.print(
        f"{head}disease {result.disease_name or 'not given'}; primary driver "
        f"{', '.join(result.primary_driver) or 'not identified'}; alterations: "
        f"{', '.join(result.alterations)}"
    )
    for rel in result.phase:
        out.print(f"  phase {rel.first} / {rel.second}: {rel.relation} ({rel.source})")
    table = Table(title="verdict per drug", show_lines=True)
    for col in ("drug", "verdict", "evidence", "why"):
        table.add_column(col, overflow="fold")
    for v in result.drugs:
        why = "; ".join(
            f"{r.alteration}: {r.mechanism or r.effect} ({r.evidence}"
            f"{', via ' + r.via if r.via else ''})"
            for r in v.reasons
            if r.role == "decisive"
        )
        if v.phase_readings:
            readings = v.phase_readings
            why += f" [phase unknown: cis {readings['cis']}, trans {readings['trans']}]"
        if v.status:
            why += f" [{v.status}]"
        table.add_row(
            Text(v.drug),
            f"[{VERDICT_STYLE[v.verdict]}]{VERDICT_WORD[v.verdict]}[/]",
            Text(_evidence_cell(v)),
            Text(why),  # literal: "[phase unknown: ...]" is not markup
        )
    out.print(table)
    if result.options:
        opt = Table(title="options expected to remain active", show_lines=False)
        for col in ("#", "drug", "evidence", "why"):
            opt.add_column(col, overflow="fold")
        for i, o in enumerate(result.options[:10], start=1):
            why = o.why + (f" — {o.condition}" if o.condition else "")
            opt.add_row(str(i), Text(o.drug), Text(_evidence_cell(o)), Text(why))
        out.print(opt)
    for note in result.notes:
        out.print(f"note: {note}", markup=False)


@app.command("interpret")
def interpret_cmd(
    cases: Annotated[
        list[Path] | None, typer.Argument(help="Case files (YAML), interpreted in order.")
    ] = None,
    alterations: Annotated[
        list[str] | None,
        typer.Option("--alterations", "-a", help='e.g. "EGFR L858R; EGFR T790M" (repeatable)'),
    ] = None,
    variants: Annotated[
        Path | None, typer.Option("--variants", "-v", help="VCF, MAF or alteration table.")
    ] = None,
    drugs: Annotated[
        list[str] | None,
        typer.Option(
            "--drugs", "-d", help='e.g. "osimertinib, gefitinib + osimertinib" (repeatable)'
        ),
    ] = None,
    disease: Annotated[str | None, typer.Option(help="Name or OncoTree code.")] = None,
    build: Annotated[str | None, typer.Option(help="GRCh37 or GRCh38.")] = None,
    phase: Annotated[
        list[str] | None, typer.Option(help='"EGFR T790M|EGFR C797S|cis" (repeatable).')
    ] = None,
    driver: Annotated[str | None, typer.Option(help="Primary driver gene.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json or tsv.")] = "table",
    output: Annotated[Path | None, typer.Option("--out", help="Write JSON/TSV here.")] = None,
) -> None:
    """Say, per drug, resistant / reduced / sensitive, why, and what remains active."""
    if fmt not in ("table", "json", "tsv"):
        raise InputError(f"unknown format {fmt!r}; expected table, json or tsv", field="--format")
    results = []
    phase_cli = _parse_phase(phase or [])
    # a repeated -a / -d adds to the list (it used to keep only the last)
    drug_cli = _split(";".join(drugs or [])) or None
    alt_cli = _split(";".join(alterations or []))
    if cases:
        from oncoresist.interpret import read_case

        for path in cases:
            defaults = dict(variants=variants, build=build, disease=disease, driver=driver)
            result = _run_case_file(
                read_case(path), path, alterations=alt_cli, drugs=drug_cli, phase=phase_cli,
                **defaults,
            )  # fmt: skip
            results.append((path.stem, result))
    else:
        result = _run_case(
            alterations=alt_cli,
            variants=variants,
            build=build,
            drugs=drug_cli,
            disease=disease,
            phase=phase_cli,
            driver=driver,
        )
        results.append((None, result))
    _report(results, fmt=fmt, output=output, as_array=bool(cases))


def _report(results: list, *, fmt: str, output: Path | None, as_array: bool) -> None:
    if fmt == "table" and output is None:
        for name, result in results:
            _print_interpretation(name, result)
        return
    if fmt == "tsv":
        import pandas as pd

        frames = []
        for name, result in results:
            frame = result.to_frame()
            frame.insert(0, "case", name or "")
            frames.append(frame)
        text = formula_safe(pd.concat(frames)).to_csv(sep="\t", index=False)
    else:
        docs = [result.to_dict(case=name) for name, result in results]
        payload = docs if as_array else docs[0]
        text = json.dumps(payload, indent=2) + "\n"
    if fmt == "table":
        for name, result in results:
            _print_interpretation(name, result)
    _emit(text, output)
    if fmt == "tsv":  # the table has no place for case-level caveats: they go to stderr
        for name, result in results:
            for note in result.notes:
                err.print(f"note: {name + ': ' if name else ''}{note}", markup=False)


# -------------------------------------------------------------------- monitor
def _monitor(
    serial: Path,
    *,
    normals: Path | None,
    therapy: Path | None,
    events: Path | None,
    disease: str | None,
    fpr: float,
    recovery: float,
    budget: float = 0.02,
    horizon: int = 8,
    unit: str = "auto",
    longitudinal: bool = False,
):
    from oncoresist import monitor

    obs = monitor.read_serial(serial)
    background = monitor.BackgroundModel()
    if normals is not None:
        background = background.fit(monitor.read_normals(normals))
    lines = monitor.read_therapy(therapy) if therapy else None
    clinical = monitor.read_events(events) if events else None
    result = monitor.monitor(
        obs, background=background, therapy=lines, events=clinical, disease=disease, fpr=fpr,
        budget=budget, horizon=horizon, recovery=recovery, unit=unit,
    )  # fmt: skip
    if longitudinal:
        pooled = monitor.call_longitudinal(obs, background, fpr=fpr, unit=unit)
        for column in ("slope_per_day", "slope_ci_low", "slope_ci_high", "doubling_time_days"):
            result.calls[f"trend_{column}"] = pooled[column].to_numpy()
    return result


_CATEGORY_WORDS = {
    "emerging_resistance": "resistance alert",
    "new_alteration": "new alteration",
    "driver_rising": "driver rising",
    "present_at_baseline": "present at baseline",
}


def _print_monitor(result) -> None:
    from oncoresist.monitor import describe_settings

    calls, response, alerts = result.calls, result.response, result.alerts
    for patient, obs in calls.groupby("patient_id", sort=True):
        alterations = sorted(obs["alteration"].unique())
        table = Table(
            title=f"{patient}: VAF per draw (* detected, ! first series alert, - not assessable)"
        )
        table.add_column("date")
        for alteration in alterations:
            table.add_column(alteration, justify="right")
        table.add_column("response")
        category = response[response["patient_id"] == patient].set_index("sample_id")["category"]
        for sample, draw in obs.groupby("sample_id", sort=False):
            by_alt = draw.set_index("alteration")
            cells = []
            for alteration in alterations:
                if alteration not in by_alt.index:
                    cells.append("")
                    continue
                r = by_alt.loc[alteration]
                vaf = r["alt_count"] / r["depth_count"] if r["depth_count"] else 0.0
                mark = {"detected": "*", "not_assessable": "-"}.get(r["state"], "")
                first = r.get("series_first_called_date")
                if first is not None and first == r["collection_date"]:
                    mark += "!"
                cells.append(f"{vaf * 100:.2f}%{mark}")
            date = pd_date(draw["collection_date"].iloc[0])
            table.add_row(date, *cells, str(category.get(sample, "")))
        out.print(table)
        mine = alerts[alerts["patient_id"] == patient]
        for kind, message in zip(mine["category"], mine["message"], strict=True):
            out.print(f"[bold]{_CATEGORY_WORDS.get(kind, kind)}[/bold]: {message}",
                      highlight=False)  # fmt: skip
    out.print(describe_settings(result.settings), highlight=False, markup=False)


def pd_date(value) -> str:
    """A date as YYYY-MM-DD."""
    import pandas as pd

    return pd.Timestamp(value).date().isoformat()


Budget = Annotated[
    float,
    typer.Option(help="Chance that a resistance-free patient's series ever raises an alert."),
]
Horizon = Annotated[
    int, typer.Option(help="Draws after the baseline over which 90 % of the budget is spent.")
]
Unit = Annotated[
    str,
    typer.Option(
        help="Count unit: auto (the panel's, else molecules when given), reads, molecules."
    ),
]


def _check_levels(fpr: float, budget: float, horizon: int, unit: str) -> None:
    if not 0 < fpr < 1 or not 0 < budget < 1:
        raise InputError("fpr and budget must be in (0, 1)", field="--fpr/--budget")
    if horizon < 1:
        raise InputError("must be at least 1 draw", field="--horizon")
    if unit not in ("auto", "reads", "molecules"):
        raise InputError(f"unknown unit {unit!r}; expected auto, reads or molecules",
                         field="--unit")  # fmt: skip


@monitor_app.command("call")
def monitor_call(
    serial: Annotated[Path, typer.Argument(help="Serial ctDNA table (CSV, TSV or Parquet).")],
    normals: Annotated[Path | None, typer.Option(help="Panel of normals.")] = None,
    therapy: Annotated[Path | None, typer.Option(help="Therapy lines.")] = None,
    events: Annotated[Path | None, typer.Option(help="Clinical events (progression).")] = None,
    disease: Annotated[str | None, typer.Option(help="Disease of the patients.")] = None,
    fpr: Annotated[
        float, typer.Option(help="Chance that a variant-free draw has any false per-draw call.")
    ] = 0.05,
    budget: Budget = 0.02,
    horizon: Horizon = 8,
    unit: Unit = "auto",
    recovery: Annotated[float, typer.Option(help="Molecule recovery (fraction).")] = 0.5,
    longitudinal: Annotated[
        bool,
        typer.Option("--trend/--no-trend", help="Add each variant's fitted VAF trend."),
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="table, json or tsv.")] = "table",
    output: Annotated[Path | None, typer.Option("--out", help="Write JSON/TSV here.")] = None,
) -> None:
    """Call variants in serial draws; show response and alerts under a per-patient budget."""
    if fmt not in ("table", "json", "tsv"):
        raise InputError(f"unknown format {fmt!r}; expected table, json or tsv", field="--format")
    _check_levels(fpr, budget, horizon, unit)
    if not 0 < recovery <= 1:
        raise InputError("recovery must be in (0, 1]", field="--recovery")
    result = _monitor(
        serial, normals=normals, therapy=therapy, events=events, disease=disease, fpr=fpr,
        recovery=recovery, budget=budget, horizon=horizon, unit=unit, longitudinal=longitudinal,
    )  # fmt: skip
    if fmt == "table":
        _print_monitor(result)
        if output is None:
            return
        fmt = "json"
    if fmt == "tsv":
        text = formula_safe(result.calls).to_csv(sep="\t", index=False)
    else:
        doc = {key: json.loads(frame.to_json(orient="records", date_format="iso"))
               for key, frame in result.frames().items()}  # fmt: skip
        doc["settings"] = result.settings
        text = json.dumps(doc, indent=1) + "\n"
    _emit(text, output)


DbUrl = Annotated[
    str | None,
    typer.Option("--db", help="Store URL (default: ONCORESIST_DB or the user's data directory)."),
]


def _file_kind(path: Path) -> str:
    """serial, therapy, events or measurements, from the file's columns."""
    from oncoresist.variants._sniff import check_exists, iter_lines

    check_exists(path)
    for _, text in iter_lines(path):
        if text.strip() and not text.startswith("#"):
            header = text.lower()
            break
    else:
        raise InputError("the file holds no header line", file=path, record=1, field="header")
    if any(name in header for name in ("alt_reads", "alt_molecules", "unique_alt_molecules")):
        return "serial"
    if "marker" in header:
        return "measurements"
    if "regimen" in header:
        return "therapy"
    if "event" in header:
        return "events"
    raise InputError(
        "cannot tell the kind of file; expected a serial ctDNA table (alt_reads, depth), "
        "therapy lines (regimen), clinical events (event) or marker measurements (marker)",
        file=path,
        record=1,
        field="header",
    )


@monitor_app.command("ingest")
def monitor_ingest(
    files: Annotated[
        list[Path],
        typer.Argument(help="Serial, therapy, event or marker-measurement tables."),
    ],
    db: DbUrl = None,
) -> None:
    """Store files under pseudonyms, one transaction per file; a file seen before adds nothing."""
    from oncoresist.store import open_store

    with open_store(db) as store:
        for path in files:
            kind = _file_kind(path)
            ingest = {
                "serial": store.ingest_serial,
                "therapy": store.ingest_therapy,
                "events": store.ingest_events,
                "measurements": store.ingest_measurements,
            }[kind]
            result = ingest(path)
            if result.already_ingested:
                out.print(f"{path.name}: {kind}, already ingested; nothing added", markup=False)
            else:
                out.print(
                    f"{path.name}: {kind}, {result.rows} rows ({result.inserted} new, "
                    f"{result.updated} updated, {result.unchanged} unchanged)",
                    markup=False,
                )


def _stored(store, patient: str | None, *, disease: str | None, fpr: float, budget: float):
    from oncoresist import monitor

    obs = store.observations(patient)
    if obs.empty:
        raise InputError(
            "no stored observations for this patient" if patient else "the store is empty",
            field="patient",
        )
    return monitor.monitor(
        obs, therapy=store.therapy(patient), events=store.events(patient), disease=disease,
        fpr=fpr, budget=budget,
    )  # fmt: skip


@monitor_app.command("status")
def monitor_status(
    patient: Annotated[str, typer.Argument(help="The site's patient identifier.")],
    db: DbUrl = None,
    disease: Annotated[str | None, typer.Option(help="Disease of the patient.")] = None,
    fpr: Annotated[float, typer.Option(help="False-positive rate per draw.")] = 0.05,
    budget: Budget = 0.02,
) -> None:
    """A stored patient's draws, calls, molecular response and alerts."""
    from oncoresist.store import open_store

    _check_levels(fpr, budget, 8, "auto")
    with open_store(db) as store:
        _print_monitor(_stored(store, patient, disease=disease, fpr=fpr, budget=budget))


@monitor_app.command("alerts")
def monitor_alerts(
    db: DbUrl = None,
    disease: Annotated[str | None, typer.Option(help="Disease of the patients.")] = None,
    fpr: Annotated[float, typer.Option(help="False-positive rate per draw.")] = 0.05,
    budget: Budget = 0.02,
) -> None:
    """Alerts of every stored patient (pseudonyms only)."""
    from oncoresist.store import open_store

    _check_levels(fpr, budget, 8, "auto")
    with open_store(db) as store:
        alerts = _stored(store, None, disease=disease, fpr=fpr, budget=budget).alerts
    if alerts.empty:
        out.print("no alerts")
        return
    resistance = int((alerts["category"] == "emerging_resistance").sum())
    table = Table(
        title=f"{resistance} resistance alerts, {len(alerts) - resistance} other findings"
    )
    for col in ("patient", "alteration", "kind", "first called", "message"):
        table.add_column(col, overflow="fold")
    for row in alerts.itertuples(index=False):
        table.add_row(
            str(row.patient_id)[:12], row.alteration, _CATEGORY_WORDS.get(row.category),
            pd_date(row.first_called_date), row.message,
        )  # fmt: skip
    out.print(table)


@monitor_app.command("demo")
def monitor_demo(
    output: Annotated[
        Path | None, typer.Option("--out", help="Directory for a demo store and the report.")
    ] = None,
) -> None:
    """Monitor the bundled, illustrative serial-ctDNA case (simulated, not a real patient).

    With ``--out DIR`` the case is also ingested into an embedded demo store in DIR (under a
    demo key kept in DIR/demo.key, outside the database) and its HTML report is written.
    """
    example = Path(str(resources.files("oncoresist") / "examples"))
    series = example / "egfr_ctdna_series.csv"
    therapy = example / "egfr_ctdna_therapy.csv"
    events = example / "egfr_ctdna_events.csv"
    out.print(
        "[bold]Illustrative example, not a real patient:[/bold] EGFR L858R lung "
        "adenocarcinoma on osimertinib, serial plasma draws"
    )
    result = _monitor(
        series, normals=None, therapy=therapy, events=events,
        disease="LUAD", fpr=0.05, recovery=0.5,
    )  # fmt: skip
    _print_monitor(result)
    if output is None:
        return
    from oncoresist.store import new_key, open_store

    output.mkdir(parents=True, exist_ok=True)
    key_file = output / "demo.key"
    if not key_file.exists():
        with atomic_write(key_file) as handle:
            handle.write(new_key() + "\n")
    key = bytes.fromhex(key_file.read_text().strip())
    with open_store(f"sqlite:///{output / 'monitor_demo.sqlite'}", key=key) as store:
        for path, ingest in ((series, store.ingest_serial), (therapy, store.ingest_therapy),
                             (events, store.ingest_events)):  # fmt: skip
            done = ingest(path)
            state = "already stored" if done.already_ingested else f"{done.rows} rows stored"
            out.print(f"{path.name}: {state}", markup=False)
        _write_patient_report(
            store, "ILLUS-P1", output / "illustrative_patient_report.html", disease="LUAD",
            fpr=0.05, illustrative=True,
        )  # fmt: skip


# ----------------------------------------------------------------------- report
@app.command("report")
def report_cmd(
    patient: Annotated[str, typer.Argument(help="The site's patient identifier.")],
    output: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    db: DbUrl = None,
    disease: Annotated[str | None, typer.Option(help="Disease of the patient.")] = None,
    fpr: Annotated[float, typer.Option(help="False-positive rate per draw.")] = 0.05,
    budget: Budget = 0.02,
    normals: Annotated[Path | None, typer.Option(help="Panel of normals.")] = None,
    label: Annotated[
        str | None, typer.Option(help="Name for the patient (default: short pseudonym).")
    ] = None,
    illustrative: Annotated[
        bool, typer.Option("--illustrative", help="Mark the report as illustrative.")
    ] = False,
    dates: Annotated[
        bool, typer.Option("--dates", help="Print calendar dates beside the day offsets.")
    ] = False,
    measurements: Annotated[
        Path | None,
        typer.Option(
            "--measurements",
            help="Serial marker measurements (patient_id, day or date, marker, value ...): "
            "adds the PSA forecast under each strategy (stored measurements are used without it).",
        ),
    ] = None,
    therapy: Annotated[
        Path | None,
        typer.Option(
            "--therapy",
            help="Lines of therapy for measurements without an on_treatment column "
            "(default: the stored lines).",
        ),
    ] = None,
) -> None:
    """Write a stored patient's self-contained HTML report (pseudonym, no raw identifier).

    With ``--measurements`` (or measurements stored for the patient) the report adds a
    forecast of PSA under each strategy, or says what is missing for one.
    """
    from oncoresist import monitor
    from oncoresist.store import open_store

    _check_levels(fpr, budget, 8, "auto")
    background = monitor.BackgroundModel()
    if normals is not None:
        background = background.fit(monitor.read_normals(normals))
    with open_store(db) as store:
        _write_patient_report(
            store, patient, output, disease=disease, fpr=fpr, label=label,
            illustrative=illustrative, dates=dates, budget=budget, background=background,
            measurements=measurements, therapy_file=therapy,
        )  # fmt: skip


def _patient_forecast(store, patient: str, measurements: Path | None, therapy_file: Path | None):
    """The patient's PSA forecast for the report: from the file, else from the store.

    ``None`` when neither holds measurements of the patient (no section).
    """
    from oncoresist.report import forecast_patient, psa_table

    lines = None
    if therapy_file is not None:
        from oncoresist.monitor import read_therapy

        lines = read_therapy(therapy_file)
        lines = lines[lines["patient_id"].astype(str) == patient]
    if measurements is not None:
        from oncoresist.forecast._inputs import read_measurements

        frame = read_measurements(measurements)
        frame = frame[frame["patient_id"].astype(str) == patient]
        if frame.empty:
            raise InputError(f"no measurements of patient {patient}", file=measurements,
                             field="patient_id")  # fmt: skip
        if lines is None:  # the stored lines, under the file's identifier
            lines = store.therapy(patient).assign(patient_id=patient)
    else:
        frame = store.measurements(patient)
        if frame.empty:
            return None
        if lines is None:
            lines = store.therapy(patient)
        else:
            lines = lines.assign(patient_id=frame["patient_id"].iloc[0])
    table = psa_table(frame, lines)
    if table.empty:
        raise InputError("no psa measurements of this patient", field="marker")
    return forecast_patient(table, table["patient_id"].iloc[0])


def _write_patient_report(
    store, patient: str, output: Path, *, disease, fpr, label=None, illustrative=False,
    dates=False, budget=0.02, background=None, measurements=None, therapy_file=None,
) -> None:  # fmt: skip
    from oncoresist.report import build_report, write_report

    obs = store.observations(patient)
    if obs.empty:
        raise InputError("no stored observations for this patient", field="patient")
    forecast = _patient_forecast(store, patient, measurements, therapy_file)
    html = build_report(
        obs, therapy=store.therapy(patient), events=store.events(patient), disease=disease,
        patient_label=label, illustrative=illustrative, show_dates=dates, fpr=fpr,
        budget=budget, background=background, forecast=forecast,
    )  # fmt: skip
    write_report(output, html)
    out.print(f"report written to {output}", markup=False)


# ----------------------------------------------------------------------- demo
@app.command("demo")
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


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a warning as one ``warning:`` line on stderr.

    A reader's warning names its own file and line, so Python's ``<module>:0: Category:``
    prefix would only get in the way.
    """
    err.print(f"warning: {message}", markup=False)


def main() -> None:
    """Entry point: run the app, turning input errors into one line and exit status 2."""
    import warnings

    warnings.showwarning = _show_warning
    try:
        app()
    except OncoresistError as exc:
        err.print(f"error: {exc}", markup=False)
        sys.exit(2)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        err.print(f"error: {exc.filename}: {exc.strerror}", markup=False)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
