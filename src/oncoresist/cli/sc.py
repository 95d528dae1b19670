"""``oncoresist sc``: single cells under drug (programmes, abundance, expression, copy number).

Every command reads an h5ad file (or a 10x ``.h5`` file or MTX folder), prints a table (CSV,
TSV or JSON) to stdout or ``--output``, and with ``--out`` writes the annotated object as an
h5ad file. Files are written atomically (a temporary file renamed into place), so a failed run
leaves nothing half-written; bad input is one ``error:`` line naming the file and field, exit
status 2.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from oncoresist.cli._common import emit, err, report_errors, spinner
from oncoresist.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

sc_app = typer.Typer(
    help="Single cells under drug: resistance programmes, abundance, expression, copy number.",
    no_args_is_help=True,
)

TableFormat = Literal["csv", "tsv", "json"]

Data = Annotated[Path, typer.Argument(help="h5ad file (or 10x .h5 file / MTX folder).")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="csv, tsv or json.")]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the table here (default stdout).")
]
OutH5ad = Annotated[
    Path | None, typer.Option("--out", help="Write the annotated object to this h5ad file.")
]
LayerOpt = Annotated[str | None, typer.Option("--layer", help="Layer to use instead of X.")]


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def table_text(frame: pd.DataFrame, fmt: str) -> str:
    """A table as CSV, TSV (spreadsheet-safe) or JSON records."""
    from oncoresist._files import formula_safe

    if fmt == "json":
        records = json.loads(frame.to_json(orient="records", double_precision=15))
        return json.dumps(records, indent=1, ensure_ascii=False) + "\n"
    if fmt in ("csv", "tsv"):
        return formula_safe(frame).to_csv(index=False, sep="," if fmt == "csv" else "\t")
    raise InputError(f"{fmt!r}; expected csv, tsv or json", field="--format")


def _check_format(fmt: str) -> None:
    if fmt not in ("csv", "tsv", "json"):
        raise InputError(f"{fmt!r}; expected csv, tsv or json", field="--format")


def _read(path: Path, layer: str | None = None) -> Any:
    from oncoresist.singlecell import read

    cells = _step(f"reading {path.name}", lambda: read(path))
    if layer is not None and layer not in cells.layers:
        raise InputError(
            f"no layer {layer!r}; the layers are: {', '.join(cells.layers) or 'none'}",
            file=path,
            field=f"layers/{layer}",
        )
    return cells


def _step(description: str, work: Callable[[], Any]) -> Any:
    """Run ``work`` under a transient spinner on stderr (on a terminal only)."""
    if not err.is_terminal:
        return work()
    with spinner() as bar:
        bar.add_task(description, total=None)
        return work()


def _located(path: Path, work: Callable[[], Any]) -> Any:
    """Run ``work``; an input error without a file gets ``path``."""
    try:
        return work()
    except InputError as exc:
        raise exc.located(file=path) from None


def _finish(cells: Any, table: pd.DataFrame, fmt: str, output: Path | None, out: Path | None):
    """Write the h5ad (if asked) and then the table: the table's file last, both atomic."""
    text = table_text(table, fmt)
    if out is not None:
        from oncoresist.singlecell import write_h5ad

        _step(f"writing {out.name}", lambda: write_h5ad(cells, out))
        err.print(f"wrote {out}", markup=False)
    emit(text, output)


@sc_app.command("score")
@report_errors
def score_cmd(
    data: Data,
    programmes: Annotated[
        str,
        typer.Option(help="Comma-separated: progeny, hallmark, resistance (or programme names)."),
    ] = "resistance",
    method: Annotated[str, typer.Option(help="ulm, mean, zscore or tirosh.")] = "ulm",
    layer: LayerOpt = None,
    fmt: FormatOpt = "csv",
    output: OutputOpt = None,
    out: OutH5ad = None,
) -> None:
    """Score resistance programmes per cell (PROGENy, Hallmark, curated resistance states).

    The table has one row per cell: ``cell`` and one column per programme (``source:name``
    when several sources are scored).
    """
    import pandas as pd

    from oncoresist.singlecell import score

    _check_format(fmt)
    cells = _read(data, layer)
    sources = _split(programmes) or ["resistance"]
    known = {"progeny", "hallmark", "resistance"}
    groups = [s for s in sources if s in known]
    named = [s for s in sources if s not in known]
    frames = []
    for group in [*groups, *([named] if named else [])]:
        key = group if isinstance(group, str) else "custom"
        _step(f"scoring {key}", lambda g=group: _located(
            data, lambda: score(cells, g, method=method, layer=layer)))  # fmt: skip
        frames.append((key, cells.obsm[f"oncoresist_{key}"]))
    if len(frames) == 1:
        table = frames[0][1].copy()
    else:
        table = pd.concat([f.add_prefix(f"{key}:") for key, f in frames], axis=1)
    table.insert(0, "cell", [str(name) for name in cells.obs_names])
    _finish(cells, table.reset_index(drop=True), fmt, output, out)


BatchKeyOpt = Annotated[
    str | None,
    typer.Option("--batch-key", help="obs column whose groups are centred on their own mean "
                 "before the neighbour graph (default: the --sample column; 'none': off)."),
]  # fmt: skip


def _batch_key(batch_key: str | None, sample: str) -> str | None:
    """The column to centre on: the sample unless named, none when the user says so."""
    if batch_key is None:
        return sample
    return None if batch_key.lower() == "none" else batch_key


@sc_app.command("da")
@report_errors
def da_cmd(
    data: Data,
    condition: Annotated[str, typer.Option(help="obs column of the condition.")],
    sample: Annotated[str, typer.Option(help="obs column of the sample (the replicate).")],
    design: Annotated[
        str | None, typer.Option(help='Sample-level design, e.g. "~patient_id+condition".')
    ] = None,
    treated: Annotated[str | None, typer.Option(help="Treated level of the condition.")] = None,
    control: Annotated[str | None, typer.Option(help="Control level of the condition.")] = None,
    k: Annotated[int, typer.Option(help="Neighbourhood size (cells).")] = 30,
    prop: Annotated[float, typer.Option(help="Fraction of cells sampled as index cells.")] = 0.1,
    annotate: Annotated[
        str | None, typer.Option(help="obs column naming each neighbourhood (cell type).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sampling and the PCA.")] = 0,
    batch_key: BatchKeyOpt = None,
    fmt: FormatOpt = "csv",
    output: OutputOpt = None,
    out: OutH5ad = None,
) -> None:
    """Differential abundance of kNN neighbourhoods between conditions (Milo-style).

    One row per neighbourhood: ``nhood``, ``index_cell``, ``n_cells``, ``logFC``, ``SE``,
    ``F``, ``pvalue``, ``spatial_fdr``, ``kth_distance`` (and the annotation). Each sample is
    centred on its own mean before the neighbour graph (``--batch-key``), so a drug that
    shifts every cell's expression is not read as a change in abundance.
    """
    from oncoresist.singlecell import da

    _check_format(fmt)
    cells = _read(data)
    centre = _batch_key(batch_key, sample)
    table = _step("testing neighbourhoods", lambda: _located(data, lambda: da(
        cells, condition=condition, sample=sample, design=design, treated=treated,
        control=control, k=k, prop=prop, annotate=annotate, seed=seed,
        batch_key=centre)))  # fmt: skip
    _finish(cells, table, fmt, output, out)


@sc_app.command("de")
@report_errors
def de_cmd(
    data: Data,
    groupby: Annotated[str, typer.Option(help="obs column of the condition.")],
    treated: Annotated[str, typer.Option(help="Treated level (log2fc is treated/control).")],
    control: Annotated[str, typer.Option(help="Control level.")],
    pair: Annotated[
        str | None, typer.Option(help="obs column of the block (patient) for a paired test.")
    ] = None,
    sample: Annotated[
        str | None, typer.Option(help="obs column of the sample summed into one profile.")
    ] = None,
    cell_group: Annotated[
        str | None, typer.Option("--cell-group", help="Test each group of this obs column.")
    ] = None,
    layer: LayerOpt = None,
    fmt: FormatOpt = "csv",
    output: OutputOpt = None,
    out: OutH5ad = None,
) -> None:
    """Paired pseudobulk differential expression (negative-binomial GLM, DESeq2-style).

    One row per gene: ``gene`` (symbol where the data has one), ``gene_id``, ``log2fc``,
    ``lfc_se``, ``stat``, ``pvalue``, ``padj``, ``base_mean``, ``n_pairs_up``,
    ``n_pairs_down``.
    """
    from oncoresist.singlecell import pseudobulk_de

    _check_format(fmt)
    cells = _read(data, layer)
    table = _step("fitting pseudobulk models", lambda: _located(data, lambda: pseudobulk_de(
        cells, groupby=groupby, treated=treated, control=control, pair=pair, sample=sample,
        cell_group=cell_group, layer=layer)))  # fmt: skip
    _finish(cells, table, fmt, output, out)


@sc_app.command("cnv")
@report_errors
def cnv_cmd(
    data: Data,
    reference_key: Annotated[
        str | None, typer.Option(help="obs column of cell types (normal ones as reference).")
    ] = None,
    reference: Annotated[
        str | None, typer.Option(help="Comma-separated normal categories of --reference-key.")
    ] = None,
    window: Annotated[int, typer.Option(help="Running-mean window (genes).")] = 100,
    step: Annotated[int, typer.Option(help="Stride between windows (genes).")] = 10,
    clones: Annotated[
        int | None, typer.Option(help="Number of sub-clones (default: by silhouette).")
    ] = None,
    call: Annotated[str, typer.Option(help="Malignancy call per 'cell' or per 'clone'.")] = "cell",
    seed: Annotated[int, typer.Option(help="Seed of the clustering.")] = 0,
    layer: LayerOpt = None,
    fmt: FormatOpt = "csv",
    output: OutputOpt = None,
    out: OutH5ad = None,
) -> None:
    """Copy number from expression: CNV score, sub-clone and malignant call per cell.

    Needs ``chromosome``, ``start`` and ``end`` in ``var``. One row per cell: ``cell``,
    ``cnv_score``, ``cnv_clone``, ``cnv_malignant`` (empty without a reference).
    """
    from oncoresist.singlecell import infer_cnv

    _check_format(fmt)
    if call not in ("cell", "clone"):
        raise InputError(f"{call!r}; expected cell or clone", field="--call")
    if (reference_key is None) != (reference is None):
        raise InputError(
            "give both --reference-key (the obs column) and --reference (its normal categories)",
            field="--reference" if reference is None else "--reference-key",
        )
    cells = _read(data, layer)
    _step("inferring copy number", lambda: _located(data, lambda: infer_cnv(
        cells, reference_key=reference_key, reference_categories=_split(reference) or None,
        window=window, step=step, n_clones=clones, call=call, rng=seed, layer=layer,
        source=str(data))))  # fmt: skip
    table = cells.obs[["cnv_score", "cnv_clone", "cnv_malignant"]].copy()
    table.insert(0, "cell", [str(name) for name in cells.obs_names])
    err.print(f"reference: {cells.uns['cnv']['reference']}", markup=False)
    _finish(cells, table.reset_index(drop=True), fmt, output, out)


@sc_app.command("report")
@report_errors
def report_cmd(
    data: Data,
    condition: Annotated[str, typer.Option(help="obs column of the condition.")],
    sample: Annotated[str, typer.Option(help="obs column of the sample (the replicate).")],
    out: Annotated[Path, typer.Option("--out", help="The HTML page to write.")],
    treated: Annotated[str | None, typer.Option(help="Treated level of the condition.")] = None,
    control: Annotated[str | None, typer.Option(help="Control level of the condition.")] = None,
    pair: Annotated[
        str | None, typer.Option(help="obs column pairing treated and control (patient).")
    ] = None,
    drug: Annotated[
        str | None, typer.Option(help="The drug of the treated cells (for the knowledge base).")
    ] = None,
    disease: Annotated[str | None, typer.Option(help="Disease, for the knowledge base.")] = None,
    design: Annotated[str | None, typer.Option(help="Design of the DA test.")] = None,
    reference_key: Annotated[
        str | None, typer.Option(help="obs column of cell types, to run copy number.")
    ] = None,
    reference: Annotated[
        str | None, typer.Option(help="Comma-separated normal categories (copy number).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    batch_key: BatchKeyOpt = None,
) -> None:
    """One offline HTML page: programmes, their shifts, abundance, copy number, KB links.

    Programmes (resistance states and PROGENy) are scored, their per-sample shifts tested and
    linked to the knowledge base; neighbourhood abundance is tested; copy number is inferred
    when ``var`` has genomic positions and a reference is given.
    """
    from oncoresist.report._sc_html import singlecell_report

    cells = _read(data)
    html = _located(data, lambda: singlecell_report(
        cells, condition=condition, sample=sample, treated=treated, control=control,
        pair=pair, drug=drug, disease=disease, design=design, reference_key=reference_key,
        reference=_split(reference) or None, seed=seed, progress=_step,
        source=str(data), batch_key=_batch_key(batch_key, sample)))  # fmt: skip
    from oncoresist._files import atomic_write

    with atomic_write(out) as handle:
        handle.write(html)
    err.print(f"wrote {out}", markup=False)
