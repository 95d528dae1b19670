"""``oncoresist synergy``: drug-combination experiments (dose-response, synergy scores).

``score`` prints one row per block (or per cell with ``--cells``) as CSV, TSV or JSON;
``fit`` the dose-response fits of each drug; ``report`` writes the HTML page; ``resistance``
the knowledge-base mechanisms and Bozic 2013 probabilities of a drug pair. Bad input is one
``error:`` line naming the file, line and field, and exit status 2; nothing is written
unless everything succeeded (files are renamed into place when complete).
"""

from __future__ import annotations

import json
import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from oncoresist.cli._common import emit, err
from oncoresist.errors import InputError

synergy_app = typer.Typer(
    help="Drug combinations: dose-response fits and synergy scores (Bliss, HSA, Loewe, ZIP).",
    no_args_is_help=True,
)

#: Blocks from which ``score`` and ``report`` show a progress bar (on a terminal).
PROGRESS_FROM = 200
_LEAD = ["block_id", "drug_row", "drug_col"]
_MODELS = ("bliss", "hsa", "loewe", "zip")


class Response(StrEnum):
    """What the file's response column holds."""

    inhibition = "inhibition"
    viability = "viability"


class TableFormat(StrEnum):
    """How a table is printed."""

    csv = "csv"
    tsv = "tsv"
    json = "json"


DataArg = Annotated[
    Path, typer.Argument(help="Combination table (SynergyFinder long, O'Neil raw or a matrix).")
]
ResponseOpt = Annotated[
    Response | None,
    typer.Option("--response", help="The file holds % inhibition or % viability (default: "
                 "from the column name, else from the values; said on stderr)."),
]  # fmt: skip
FormatOpt = Annotated[TableFormat, typer.Option("--format", "-f", help="csv, tsv or json.")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Write here (else stdout).")]
BootOpt = Annotated[
    int, typer.Option("--boot", help="Parametric bootstrap draws for blocks without replicates.")
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.")]
ModelsOpt = Annotated[
    str, typer.Option("--models", help="Comma-separated: bliss, hsa, loewe, zip (and ci).")
]
DaskOpt = Annotated[
    bool, typer.Option("--dask", help="Score the blocks in chunks on a local Dask cluster.")
]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", help="Dask worker processes (default: one per core).")
]
SchedulerOpt = Annotated[
    str | None, typer.Option("--scheduler", help="Dask scheduler address (implies --dask).")
]


class LoeweFlat(StrEnum):
    """What a drug whose curve does not rise contributes to the Loewe reference."""

    sham = "sham"
    constant = "constant"


class ZipFit(StrEnum):
    """How ZIP fits each row and column of the combination."""

    synergyfinder = "synergyfinder"
    rising = "rising"


LoeweFlatOpt = Annotated[
    LoeweFlat,
    typer.Option("--loewe-flat", help="A drug whose curve does not rise: 'sham' (default, "
                 "SynergyFinder's summed-dose rule; an inactive partner reads as antagonism) "
                 "or 'constant' (its own fitted effect; an inactive partner scores 0)."),
]  # fmt: skip
ZipFitOpt = Annotated[
    ZipFit,
    typer.Option("--zip-fit", help="ZIP line fits: 'synergyfinder' (default, as SynergyFinder "
                 "3.7.3) or 'rising' (rising curves only)."),
]  # fmt: skip


def _models(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(s.strip().lower() for s in text.split(",") if s.strip()))
    unknown = [n for n in names if n not in (*_MODELS, "ci")]
    if unknown or not names:
        raise InputError(f"{text!r}: expected some of bliss, hsa, loewe, zip, ci "
                         "(comma-separated)", field="--models")  # fmt: skip
    return names


def _read(data: Path, response: Response | None):
    from oncoresist.synergy import read_combinations

    return read_combinations(data, response=None if response is None else response.value)


def _score(data, *, models, boot, seed, dask, workers, scheduler, loewe_flat=LoeweFlat.sham,
           zip_fit=ZipFit.synergyfinder):  # fmt: skip
    """Score every block, in this process or on Dask, with a progress bar on a terminal."""
    options = {"loewe_flat": LoeweFlat(loewe_flat).value, "zip_fit": ZipFit(zip_fit).value}
    if boot < 0:
        raise InputError(f"{boot}: expected a number of draws >= 0", field="--boot")
    n_blocks = int(data.table["block_id"].astype(str).nunique())
    with _Bar(n_blocks) as progress:
        if dask or scheduler is not None:
            from oncoresist.synergy._batch import score_blocks_dask

            return score_blocks_dask(data, models=models, n_boot=boot, seed=seed,
                                     client=scheduler, workers=workers,
                                     progress=progress, **options)  # fmt: skip
        from oncoresist.synergy import score_blocks

        return score_blocks(data, models=models, n_boot=boot, seed=seed, progress=progress,
                            **options)  # fmt: skip


class _Bar:
    """A rich progress bar of blocks on stderr (a terminal and a long batch only)."""

    def __init__(self, total: int) -> None:
        self.total, self.progress = total, None

    def __enter__(self):
        if self.total < PROGRESS_FROM or not err.is_terminal:
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self.progress = Progress("scoring blocks", BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=err, transient=True)  # fmt: skip
        self.progress.start()
        task = self.progress.add_task("blocks", total=self.total)
        return lambda done, total: self.progress.update(task, completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()


def _ordered(frame, models):
    """Block or cell table with the identifiers and the models' scores first."""
    lead = [c for c in _LEAD if c in frame]
    scores = [c for m in models for c in (m, f"{m}_lo", f"{m}_hi", f"{m}_p") if c in frame]
    rest = [c for c in frame.columns if c not in lead and c not in scores]
    return frame[lead + scores + rest]


def _table_text(frame, fmt: TableFormat, *, key: str, notes: list[str]) -> str:
    from oncoresist._files import formula_safe

    if fmt is TableFormat.json:
        records = json.loads(frame.to_json(orient="records", double_precision=10))
        return json.dumps({key: records, "notes": notes}, indent=1, allow_nan=False) + "\n"
    return formula_safe(frame).to_csv(index=False, sep="\t" if fmt is TableFormat.tsv else ",")


def _say_notes(notes: list[str], fmt: TableFormat) -> None:
    if fmt is not TableFormat.json:
        for note in notes:
            err.print(f"note: {note}", markup=False)


@synergy_app.command("score")
def score_cmd(
    data: DataArg,
    response: ResponseOpt = None,
    fmt: FormatOpt = TableFormat.csv,
    cells: Annotated[bool, typer.Option("--cells", help="One row per dose pair.")] = False,
    boot: BootOpt = 0,
    seed: SeedOpt = 0,
    models: ModelsOpt = "bliss,hsa,loewe,zip",
    output: OutOpt = None,
    dask: DaskOpt = False,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    loewe_flat: LoeweFlatOpt = LoeweFlat.sham,
    zip_fit: ZipFitOpt = ZipFit.synergyfinder,
) -> None:
    """Synergy scores of every block: Bliss, HSA, Loewe and ZIP, with intervals.

    One row per block: ``block_id, drug_row, drug_col``, each model's block score (mean over
    the combination cells, percentage points, > 0 synergy) with ``_lo``/``_hi`` (95 %
    interval) and ``_p`` when replicates or ``--boot`` allow, the most synergistic area,
    IC50s, relative inhibition, CSS and the fit status. ``--cells`` prints the per-cell
    scores instead.
    """
    chosen = _models(models)
    combos = _read(data, response)
    result = _score(combos, models=chosen, boot=boot, seed=seed, dask=dask, workers=workers,
                    scheduler=scheduler, loewe_flat=loewe_flat, zip_fit=zip_fit)  # fmt: skip
    frame = _ordered(result.cells if cells else result.blocks, chosen)
    text = _table_text(frame, fmt, key="cells" if cells else "blocks", notes=result.notes)
    emit(text, output)
    _say_notes(result.notes, fmt)


@synergy_app.command("fit")
def fit_cmd(
    data: DataArg,
    response: ResponseOpt = None,
    fmt: FormatOpt = TableFormat.csv,
    output: OutOpt = None,
) -> None:
    """Dose-response fits of each drug of each block (4PL, drc's LL.4).

    One row per block and drug: ``block_id, role`` (row or col), ``drug, unit, min, max,
    ic50, hill`` (``min`` the response at dose 0, ``max`` at an infinite dose, % inhibition),
    their standard errors, ``ic50_lo``/``ic50_hi`` (95 % interval), ``sigma``, ``dof`` and
    ``status`` (ok, flat or failed: why).
    """
    combos = _read(data, response)
    result = _score(combos, models=("bliss",), boot=0, seed=0, dask=False, workers=None,
                    scheduler=None)  # fmt: skip
    emit(_table_text(result.fits, fmt, key="fits", notes=result.notes), output)
    _say_notes(result.notes, fmt)


def _params(size, mutation, sites, shared_sites):
    from oncoresist.synergy._resistance import EvolutionParams

    given = {"detection_cells": size, "mutation_rate": mutation, "sites_per_drug": sites,
             "sites_per_shared_mechanism": shared_sites}  # fmt: skip
    return EvolutionParams(**{k: v for k, v in given.items() if v is not None})


SizeOpt = Annotated[
    float | None, typer.Option("--size", help="Cells when treatment starts (Bozic: 1e9).")
]
MutationOpt = Annotated[
    float | None,
    typer.Option("--mutation-rate", help="Per base per division (Bozic: 1e-9)."),
]
SitesOpt = Annotated[
    float | None, typer.Option("--sites", help="Resistance mutations per drug (Bozic: 50).")
]
SharedOpt = Annotated[
    float | None,
    typer.Option("--shared-sites", help="Cross-resistance sites per shared mechanism (1)."),
]
DiseaseOpt = Annotated[
    str | None, typer.Option("--disease", help="Mechanisms of this disease only (e.g. NSCLC).")
]


@synergy_app.command("report")
def report_cmd(
    data: DataArg,
    output: Annotated[Path, typer.Option("--out", "-o", help="The HTML page to write.")],
    response: ResponseOpt = None,
    boot: BootOpt = 0,
    seed: SeedOpt = 0,
    rank_by: Annotated[str, typer.Option("--rank-by", help="Model that ranks the blocks.")] = "zip",
    detail: Annotated[
        int, typer.Option("--detail", help="Blocks given a full section (the best ranked).")
    ] = 20,
    resistance: Annotated[
        bool,
        typer.Option(
            "--resistance/--no-resistance",
            help="Link each drug pair to the knowledge base and Bozic 2013.",
        ),
    ] = True,
    disease: DiseaseOpt = None,
    size: SizeOpt = None,
    mutation_rate: MutationOpt = None,
    sites: SitesOpt = None,
    shared_sites: SharedOpt = None,
    dask: DaskOpt = False,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    loewe_flat: LoeweFlatOpt = LoeweFlat.sham,
    zip_fit: ZipFitOpt = ZipFit.synergyfinder,
) -> None:
    """The HTML report: blocks ranked, curves, heat maps, isobologram, link to resistance."""
    from oncoresist._files import atomic_write
    from oncoresist.report._synergy_html import synergy_report_html

    if rank_by not in _MODELS:
        raise InputError(f"{rank_by!r}; expected bliss, hsa, loewe or zip", field="--rank-by")
    if detail < 0:
        raise InputError(f"{detail}: expected a number of blocks >= 0", field="--detail")
    params = _params(size, mutation_rate, sites, shared_sites)
    combos = _read(data, response)
    result = _score(combos, models=_MODELS, boot=boot, seed=seed, dask=dask, workers=workers,
                    scheduler=scheduler, loewe_flat=loewe_flat, zip_fit=zip_fit)  # fmt: skip
    links = _links(result.blocks, disease, params) if resistance else None
    notes = list(result.notes)
    for link in (links or {}).values():
        notes += [n for n in link.notes if n not in notes]
    html = synergy_report_html(result, wells=combos.table, title=f"Drug combinations: "
                               f"{data.name}", source=str(data), links=links, rank_by=rank_by,
                               detail=detail, notes=notes)  # fmt: skip
    with atomic_write(output) as fh:
        fh.write(html)
    err.print(f"wrote {output}", markup=False)


def _links(blocks, disease, params):
    """The resistance link of each drug pair, best-ranked pairs first (at most MAX_PAIRS)."""
    from oncoresist.kb import load_kb
    from oncoresist.report._synergy_html import MAX_PAIRS
    from oncoresist.synergy._resistance import resistance_link

    kb = load_kb()
    links = {}
    for a, b in zip(blocks["drug_row"].astype(str), blocks["drug_col"].astype(str), strict=True):
        if (a, b) not in links and len(links) < MAX_PAIRS:
            links[(a, b)] = resistance_link(a, b, kb=kb, disease=disease, params=params)
    return links


@synergy_app.command("resistance")
def resistance_cmd(
    drug_a: Annotated[str, typer.Argument(help="First drug.")],
    drug_b: Annotated[str, typer.Argument(help="Second drug.")],
    disease: DiseaseOpt = None,
    size: SizeOpt = None,
    mutation_rate: MutationOpt = None,
    sites: SitesOpt = None,
    shared_sites: SharedOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    output: OutOpt = None,
) -> None:
    """A drug pair against resistance: knowledge-base mechanisms and Bozic 2013 odds.

    Which resistance mechanisms of each drug the partner (or the pair) answers or shares,
    with their references, and the probability that resistance pre-exists when treatment
    starts (and that therapy eradicates the lesion) for each drug alone and for the pair.
    """
    from oncoresist.synergy._resistance import resistance_link

    link = resistance_link(drug_a, drug_b, disease=disease,
                           params=_params(size, mutation_rate, sites, shared_sites))  # fmt: skip
    if as_json or output is not None:
        emit(json.dumps(_plain(link.to_dict()), indent=1) + "\n", output)
        return
    _print_link(link)


def _plain(value):
    """JSON-safe: NaN and infinities as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _print_link(link) -> None:
    from rich.table import Table

    from oncoresist.cli._common import out

    for note in link.notes:
        err.print(f"note: {note}", markup=False)
    evo = Table(title=f"{link.drug_a} + {link.drug_b}: resistance at the start of treatment "
                "(Bozic 2013)")  # fmt: skip
    for col in ("therapy", "resistance sites", "P(pre-exists)", "P(eradication)"):
        evo.add_column(col)
    for r in link.evolution.to_dict(orient="records"):
        evo.add_row(r["therapy"], r["sites"], f"{r['p_preexisting']:.4g}",
                    f"{r['p_eradication']:.4g}")  # fmt: skip
    out.print(evo)
    mech = Table(title="Resistance mechanisms in the knowledge base")
    for col in ("resistance to", "alteration", "mechanism", "partner or pair", "references"):
        mech.add_column(col)
    for r in link.mechanisms.to_dict(orient="records"):
        mech.add_row(r["drug"], f"{r['gene']} {r['biomarker']}".strip(), r["mechanism"],
                     f"{r['status']}: {r['by']}" if r["by"] else r["status"],
                     r["references"])  # fmt: skip
    out.print(mech)
    out.print(f"shared (cross-resistance, n12 = {link.n12:g} sites): "
              f"{', '.join(link.shared) or 'none'}")  # fmt: skip
