"""``oncoresist interpret``: per drug, resistant / reduced / sensitive, why, what remains."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from oncoresist._files import formula_safe
from oncoresist.cli._common import emit, err, out, record_progress
from oncoresist.errors import InputError

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


def _split(text: str | None) -> list[str]:
    if not text:
        return []
    return [t.strip() for t in text.replace("\n", ";").replace(",", ";").split(";") if t.strip()]


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

        with record_progress(f"reading {variants.name}") as progress:
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
    emit(text, output)
    if fmt == "tsv":  # the table has no place for case-level caveats: they go to stderr
        for name, result in results:
            for note in result.notes:
                err.print(f"note: {name + ': ' if name else ''}{note}", markup=False)
