"""``oncoresist exchange``: the field's exchange formats.

Annotated MAF/VCF, GA4GH Phenopacket v2, cBioPortal clinical and timeline files. Every
file is written to a temporary file (or directory) beside its target and renamed, so a
failure leaves nothing half-written; bad input is one line on stderr and exit status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from oncoresist.cli._common import emit, report_errors

app = typer.Typer(
    help="Exchange formats: annotated MAF/VCF, GA4GH Phenopacket v2, cBioPortal study files.",
    no_args_is_help=True,
)

DiseaseOpt = Annotated[
    str | None, typer.Option("--disease", help="Disease: name, synonym or OncoTree code.")
]


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")


# ------------------------------------------------------------------------ annotate
@app.command("annotate")
@report_errors
def annotate(
    source: Annotated[Path, typer.Argument(help="A MAF or a VCF (plain or gzipped).")],
    output: Annotated[Path, typer.Option("--out", "-o", help="The annotated file to write.")],
    disease: DiseaseOpt = None,
    build: Annotated[str | None, typer.Option(help="VCF genome build: GRCh37 or GRCh38.")] = None,
    sample: Annotated[
        str | None, typer.Option(help="The sample column of a multi-sample VCF.")
    ] = None,
    clinical: Annotated[
        Path | None,
        typer.Option(
            "--clinical",
            help="MAF: per-sample diseases, a TSV with SAMPLE_ID and ONCOTREE_CODE columns "
            "(a cBioPortal data_clinical_sample.txt works).",
        ),
    ] = None,
) -> None:
    """Add the verdicts to every row of a MAF (columns) or VCF (INFO fields)."""
    from oncoresist.errors import InputError
    from oncoresist.exchange import annotate_maf, annotate_vcf, read_sample_diseases
    from oncoresist.variants._sniff import check_exists, sniff

    found = sniff(check_exists(source))
    if found.kind == "maf":
        if build or sample:
            raise InputError(
                "--build and --sample are for a VCF; a MAF names its build and samples in its rows",
                field="--build/--sample",
            )
        diseases = read_sample_diseases(clinical) if clinical is not None else None
        report = annotate_maf(source, output, disease=disease, diseases=diseases)
        what = "rows"
    elif found.kind in ("vcf", "bcf"):
        if clinical is not None:
            raise InputError(
                "--clinical is for a MAF; give a VCF's disease with --disease",
                field="--clinical",
            )
        report = annotate_vcf(source, output, disease=disease, build=build, sample=sample)
        what = "records"
    else:
        raise InputError(
            f"this file looks like {found.description} ({found.detail}); expected a MAF or a VCF",
            file=source,
            record=found.line,
            field="format",
        )
    _say(
        f"wrote {report.path}: {report.rows} {what}, {report.read} read as alterations, "
        f"{report.matched} with a knowledge-base verdict, {report.samples} sample(s)"
    )


# --------------------------------------------------------------------- phenopackets
@app.command("phenopacket-in")
@report_errors
def phenopacket_in(
    packet: Annotated[Path, typer.Argument(help="A GA4GH Phenopacket v2 (JSON).")],
    disease: DiseaseOpt = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="tsv (the interpretation table), json (the interpretation) or case (a case "
            "YAML for `oncoresist interpret`).",
        ),
    ] = "tsv",
    output: Annotated[Path | None, typer.Option("--out", "-o", help="Write here.")] = None,
) -> None:
    """Read a phenopacket's case and write its interpretation table, or a case YAML."""
    from oncoresist.errors import InputError

    if fmt not in ("tsv", "json", "case"):
        raise InputError(f"unknown format {fmt!r}; expected tsv, json or case", field="--format")
    from oncoresist.exchange import read_phenopacket

    imported = read_phenopacket(packet, disease=disease)
    for note in imported.notes:
        _say(f"note: {note}")
    if fmt == "case":
        import yaml

        body = imported.case.model_dump(exclude_none=True, exclude_defaults=True)
        text = f"# read from the phenopacket {packet.name} by oncoresist exchange\n"
        text += yaml.safe_dump(body, sort_keys=False, allow_unicode=True)
        emit(text, output)
        return
    from oncoresist.interpret import interpret

    result = interpret(imported.alterations, disease=imported.case.disease)
    if fmt == "json":
        import json

        emit(json.dumps(result.to_dict(case=packet.stem), indent=2) + "\n", output)
        return
    from oncoresist._files import formula_safe

    frame = result.to_frame()
    frame.insert(0, "case", packet.stem)
    emit(formula_safe(frame).to_csv(sep="\t", index=False), output)


@app.command("phenopacket-out")
@report_errors
def phenopacket_out(
    case: Annotated[
        Path | None, typer.Argument(help="A case YAML (as for `oncoresist interpret`).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="The phenopacket JSON to write.")
    ] = None,
    packet: Annotated[
        Path | None,
        typer.Option(
            "--phenopacket",
            help="A phenopacket to interpret and write back (its subject, biosamples and "
            "variants are kept).",
        ),
    ] = None,
    alterations: Annotated[
        str | None, typer.Option("--alterations", "-a", help='e.g. "EGFR L858R; EGFR T790M"')
    ] = None,
    variants: Annotated[
        Path | None, typer.Option("--variants", "-v", help="VCF, MAF or alteration table.")
    ] = None,
    disease: DiseaseOpt = None,
    build: Annotated[str | None, typer.Option(help="GRCh37 or GRCh38 (VCF).")] = None,
    subject: Annotated[
        str | None,
        typer.Option("--subject", help="The subject's pseudonym (never a name or record number)."),
    ] = None,
    packet_id: Annotated[str | None, typer.Option("--id", help="The phenopacket's id.")] = None,
) -> None:
    """Interpret a case (or a phenopacket) and write the result as a Phenopacket v2."""
    from oncoresist.errors import InputError, OncoresistError
    from oncoresist.exchange import (
        phenopacket_json,
        read_phenopacket,
        to_phenopacket,
        validate_phenopacket,
    )
    from oncoresist.interpret import interpret

    if case is None and packet is None and not (alterations or variants):
        raise InputError(
            "nothing to interpret; give a case YAML, --phenopacket, or --alterations/--variants",
            field="CASE",
        )
    if case is not None and packet is not None:
        raise InputError("give a case YAML or --phenopacket, not both", field="--phenopacket")
    source = None
    items: list = []
    phase: list = []
    driver = None
    if packet is not None:
        source = read_phenopacket(packet, disease=disease)
        for note in source.notes:
            _say(f"note: {note}")
        items = list(source.alterations)
        disease = source.case.disease
    if case is not None:
        from oncoresist.interpret import read_case

        spec = read_case(case)
        items += list(spec.alterations)
        if spec.variants:
            variants = (case.parent / spec.variants).resolve()
        build = spec.build or build
        disease = spec.disease or disease
        phase = [tuple(p) for p in spec.phase]
        driver = spec.driver
    if alterations:
        items += [a.strip() for a in alterations.replace(",", ";").split(";") if a.strip()]
    if variants is not None:
        from oncoresist.variants import read_variants

        try:
            items += list(read_variants(variants, build=build))
        except InputError as exc:
            raise exc.located(file=variants) from None
    if not items:
        raise InputError("no alterations to interpret", file=case, field="alterations")
    try:
        result = interpret(items, disease=disease, phase=phase or None, driver=driver)
    except InputError as exc:
        raise exc.located(file=case) if case is not None else exc from None
    from oncoresist.variants import Alteration

    parsed = [a for a in items if isinstance(a, Alteration)]
    if subject is None and source is None:
        raise InputError(
            "give the subject's pseudonym with --subject (never a name or record number)",
            field="--subject",
        )
    name = subject
    message = to_phenopacket(
        result, source=source, alterations=parsed or None, subject_id=name,
        phenopacket_id=packet_id,
    )  # fmt: skip
    inherited = validate_phenopacket(source.phenopacket) if source is not None else []
    for problem in inherited:
        _say(f"note: {packet}: {problem} (kept as the input has it)")
    problems = [p for p in validate_phenopacket(message) if p not in inherited]
    if problems:  # a fault of this program, not of the input
        raise OncoresistError("the phenopacket written would not validate: " + "; ".join(problems))
    emit(phenopacket_json(message), output)


# ------------------------------------------------------------------------ cBioPortal
@app.command("cbioportal")
@report_errors
def cbioportal(
    output: Annotated[
        Path, typer.Option("--out", "-o", help="The study directory to create (new or empty).")
    ],
    serial: Annotated[
        Path | None,
        typer.Argument(help="Serial ctDNA table (as for `monitor call`); without it, --db."),
    ] = None,
    therapy: Annotated[Path | None, typer.Option(help="Therapy lines.")] = None,
    events: Annotated[Path | None, typer.Option(help="Clinical events (progression).")] = None,
    normals: Annotated[Path | None, typer.Option(help="Panel of normals.")] = None,
    disease: DiseaseOpt = None,
    study_id: Annotated[
        str, typer.Option("--study-id", help="cancer_study_identifier.")
    ] = "oncoresist_ctdna",
    name: Annotated[
        str, typer.Option("--name", help="The study's name.")
    ] = "oncoresist serial ctDNA monitoring",
    fpr: Annotated[float, typer.Option(help="Per-draw false-call rate.")] = 0.05,
    budget: Annotated[float, typer.Option(help="Per-patient false-alert budget.")] = 0.02,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Export every patient of the store instead of a table (default store: "
            "ONCORESIST_DB, else the user's data directory).",
        ),
    ] = None,
) -> None:
    """Write the monitor's serial ctDNA results as a cBioPortal study (clinical + timeline).

    Patient and sample ids are written as keyed pseudonyms (the key from ONCORESIST_KEY
    or ONCORESIST_KEY_FILE, as for the store; a store's patients are stored under
    pseudonyms already); dates as days from the first therapy line.
    """
    from oncoresist.errors import InputError

    if not 0 < fpr < 1 or not 0 < budget < 1:
        raise InputError("fpr and budget must be in (0, 1)", field="--fpr/--budget")
    from oncoresist import monitor
    from oncoresist.exchange import write_cbioportal_study

    if serial is None:
        if therapy is not None or events is not None:
            raise InputError("--therapy and --events go with a serial table; the store has "
                             "its own", field="--therapy/--events")  # fmt: skip
        obs, lines, clinical = _stored_series(db)
        key = None
    else:
        if db is not None:
            raise InputError("give a serial table or --db, not both", field="--db")
        key = _key()
        obs = monitor.read_serial(serial)
        lines = monitor.read_therapy(therapy) if therapy else None
        clinical = monitor.read_events(events) if events else None
    background = monitor.BackgroundModel()
    if normals is not None:
        background = background.fit(monitor.read_normals(normals))
    result = monitor.monitor(
        obs, background=background, therapy=lines, events=clinical, disease=disease, fpr=fpr,
        budget=budget,
    )  # fmt: skip
    study = write_cbioportal_study(
        result, output, key=key, study_id=study_id, name=name, therapy=lines,
        events=clinical, disease=disease,
    )  # fmt: skip
    _say(
        f"wrote {study.directory}: {len(study.files)} files, {len(study.patients)} "
        f"patient(s), {len(study.samples)} sample(s) (pseudonymous ids)"
    )


def _key() -> bytes:
    from oncoresist.errors import InputError
    from oncoresist.store import StoreKeyError, resolve_key

    try:
        return resolve_key()
    except StoreKeyError as exc:
        raise InputError(
            f"{exc} (the study's patient and sample ids are written as keyed pseudonyms)",
            field="ONCORESIST_KEY",
        ) from None


def _stored_series(db: str | None):
    """Every stored patient's draws, therapy lines and events (ids are pseudonyms)."""
    from oncoresist.errors import InputError
    from oncoresist.store import open_store
    from oncoresist.store._engine import resolve_url

    url = resolve_url(db)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        raise InputError(
            f"no store at {url.database}; give a serial table, or --db (or ONCORESIST_DB)",
            field="--db",
        )
    with open_store(db) as store:
        obs = store.observations()
        if obs.empty:
            raise InputError("the store holds no draws", field="--db")
        return obs, store.therapy(), store.events()
