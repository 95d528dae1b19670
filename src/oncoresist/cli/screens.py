"""``oncoresist screen``: pooled CRISPR screens under drug (analyze, qc)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from oncoresist._files import atomic_write, formula_safe
from oncoresist._words import number
from oncoresist.cli._common import out, spinner
from oncoresist.errors import InputError

screen_app = typer.Typer(help="Pooled CRISPR knockout screens under drug.",
                         no_args_is_help=True)  # fmt: skip

SamplesOpt = Annotated[
    Path | None, typer.Option("--samples", "-s", help="Sample sheet: sample, condition, ...")
]
EssentialOpt = Annotated[
    Path | None, typer.Option("--essential", help="Core-essential gene list (e.g. CEGv2).")
]
NonessentialOpt = Annotated[
    Path | None, typer.Option("--nonessential", help="Non-essential gene list (e.g. NEGv1).")
]


def _names(text: str | None, option: str) -> list[str]:
    if text is None:
        return []
    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names:
        raise InputError("name at least one sample (comma-separated)", field=option)
    return names


def _sheet(counts, samples, treatment, control, versus):
    """The sample sheet: read, or built from -t/-c; -t/-c with a sheet select samples."""
    from oncoresist.screens import check_sheet, read_sample_sheet, sheet_from_samples

    t, c = _names(treatment, "--treatment"), _names(control, "--control")
    if samples is None:
        if not t or not c:
            raise InputError("give --samples SHEET, or --treatment and --control samples",
                             field="--samples")  # fmt: skip
        sheet = sheet_from_samples(t, c, control_condition=versus)
        check_sheet(sheet, counts)
        return sheet
    sheet = read_sample_sheet(samples)
    check_sheet(sheet, counts)
    if t or c:
        for name in (*t, *c):
            if name not in set(sheet["sample"]):
                raise InputError(f"sample {name!r} is not in the sheet", file=samples,
                                 field="sample")  # fmt: skip
        keep = sheet["sample"].isin([*t, *c]) | (sheet["condition"] == "T0")
        sheet.loc[~keep, "condition"] = "unused"
    used = sheet[sheet["condition"] != "unused"]
    return used.reset_index(drop=True).pipe(_with_attrs, sheet.attrs)


def _with_attrs(frame, attrs):
    frame.attrs.update(attrs)
    return frame


def _gene_sets(essential: Path | None, nonessential: Path | None):
    from oncoresist.screens.qc import read_gene_set

    if (essential is None) != (nonessential is None):
        raise InputError("give both --essential and --nonessential", field="--essential")
    if essential is None:
        return None, None
    return read_gene_set(essential), read_gene_set(nonessential)


@screen_app.command("analyze")
def analyze_cmd(
    counts: Annotated[Path, typer.Argument(help="Count table: sgRNA, gene, one column/sample.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    samples: SamplesOpt = None,
    treatment: Annotated[
        str | None, typer.Option("--treatment", "-t", help="Drug samples, a,b")
    ] = None,
    control: Annotated[
        str | None, typer.Option("--control", "-c", help="Control samples, a,b")
    ] = None,
    versus: Annotated[str, typer.Option("--versus", help="Compare with: vehicle or T0.")] = (
        "vehicle"
    ),
    day: Annotated[float | None, typer.Option("--day", help="Use this day only.")] = None,
    essential: EssentialOpt = None,
    nonessential: NonessentialOpt = None,
    growth: Annotated[
        float | None, typer.Option("--growth", help="Drug/vehicle doublings ratio.")
    ] = None,
    method: Annotated[str, typer.Option("--method", help="replicate or nb.")] = "replicate",
    norm: Annotated[str, typer.Option("--norm", help="median, total or control.")] = "median",
    control_gene: Annotated[
        str | None,
        typer.Option("--control-gene", help="Gene label(s) of control sgRNAs (--norm control)."),
    ] = None,
    null: Annotated[
        str, typer.Option("--null", help="sumZ null: library, controls or nonessential.")
    ] = "library",
    drug: Annotated[
        str | None, typer.Option("--drug", help="The screen's drug, for the knowledge link.")
    ] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="alpha-RRA rank cut-off.")] = 0.25,
    ranking: Annotated[
        str, typer.Option("--ranking", help="Hits shown by: sumz or rra (both in the table).")
    ] = "sumz",
    fdr: Annotated[float, typer.Option("--fdr", help="FDR for hits.")] = 0.05,
    top: Annotated[int, typer.Option("--top", help="Genes shown per direction.")] = 10,
) -> None:
    """Drug versus vehicle (or T0): guide scores and genes in both directions.

    Writes ``gene_summary.tsv`` (MAGeCK's columns ``id, num, neg|score, neg|p-value,
    neg|fdr, neg|rank, neg|goodsgrna, neg|lfc, pos|...`` plus drugZ's ``sumZ, normZ,
    pval_supp, fdr_supp, pval_synth, fdr_synth`` and the knowledge base's ``known``),
    ``sgrna_summary.tsv``, ``report.html``, the figures as SVG and ``run.json``.
    """
    from oncoresist.kb import gene_knowledge, load_kb
    from oncoresist.report import screen_results_html
    from oncoresist.report._screen_svg import rank_svg, sgrna_lfc_svg, volcano_svg
    from oncoresist.screens import analyze, ranked_view, read_counts

    if ranking not in ("sumz", "rra"):
        raise InputError(f"{ranking!r}; expected sumz or rra", field="--ranking")
    if versus not in ("vehicle", "T0"):
        raise InputError(f"{versus!r}; expected vehicle or T0", field="--versus")
    if method not in ("replicate", "nb"):
        raise InputError(f"{method!r}; expected replicate or nb", field="--method")
    if norm not in ("median", "total", "control"):
        raise InputError(f"{norm!r}; expected median, total or control", field="--norm")
    if null not in ("library", "controls", "nonessential"):
        raise InputError(f"{null!r}; expected library, controls or nonessential", field="--null")
    with spinner() as bar:
        step = bar.add_task(f"reading {counts.name}", total=None)
        table = read_counts(counts)
        sheet = _sheet(table, samples, treatment, control, versus)
        ess, non = _gene_sets(essential, nonessential)
        bar.update(step, description="scoring guides and genes")
        used = table[["gene", *sheet["sample"]]]
        controls = None
        if norm == "control" or null == "controls":
            labels = _names(control_gene, "--control-gene")
            controls = table.index[table["gene"].isin(labels)].tolist()
            if not controls:
                raise InputError(f"no sgRNA has gene label {', '.join(labels) or '(none given)'}",
                                 file=counts, field="--control-gene")  # fmt: skip
        null_sgrnas = controls if null == "controls" else None
        if null == "nonessential":
            if non is None:
                raise InputError("--null nonessential needs --nonessential", field="--null")
            null_sgrnas = table.index[table["gene"].isin(non)].tolist()
        res = analyze(used, sheet, compare_with=versus, day=day, essential=ess,
                      nonessential=non, growth=growth, method=method, alpha=alpha,
                      norm=norm, control_sgrnas=controls, null_sgrnas=null_sgrnas)  # fmt: skip
        bar.update(step, description="linking hits to the knowledge base")
        genes = res.genes
        known = gene_knowledge(load_kb(), genes.index, drug=drug)
        genes["known"] = known["known"].reindex(genes.index).fillna("")
        genes["known_for_drug"] = known["for_drug"].reindex(genes.index).fillna(False)
        shown = ranked_view(genes, by="rra" if method == "nb" else ranking)
        bar.update(step, description="writing tables and figures")
        out_dir.mkdir(parents=True, exist_ok=True)
        with atomic_write(out_dir / "gene_summary.tsv") as fh:
            formula_safe(genes).to_csv(fh, sep="\t")
        with atomic_write(out_dir / "sgrna_summary.tsv") as fh:
            formula_safe(res.sgrnas).to_csv(fh, sep="\t")
        figures = {
            "rank_resistance.svg": rank_svg(shown, direction="pos", top=top),
            "rank_sensitisation.svg": rank_svg(shown, direction="neg", top=top),
            "volcano.svg": volcano_svg(shown, fdr=fdr, top=top),
            "sgrna_lfc.svg": sgrna_lfc_svg(res.sgrnas, _top_genes(shown, top)),
        }
        for name, svg in figures.items():
            with atomic_write(out_dir / name) as fh:
                fh.write(svg)
        summary = _run_summary(res, shown, table, fdr)
        label = f"{res.contrast} (genes ranked by {'alpha-RRA' if shown is genes else 'sumZ'})"
        html = screen_results_html(genes=shown, sgrnas=res.sgrnas, qc_summary=summary,
                                   contrast=label, fdr=fdr)  # fmt: skip
        with atomic_write(out_dir / "report.html") as fh:
            fh.write(html)
        with atomic_write(out_dir / "run.json") as fh:
            json.dump({"counts": str(counts), "contrast": res.contrast, **summary,
                       "params": _plain(res.params)}, fh, indent=2)  # fmt: skip
    _print_tops(shown, top)
    out.print(f"{res.contrast}; {summary['growth ratio']}; tables, figures and report.html "
              f"in {out_dir}")  # fmt: skip
    if table.attrs.get("unmangled"):
        out.print(f"{len(table.attrs['unmangled'])} spreadsheet-mangled gene symbols mapped back")


def _plain(params: dict) -> dict:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in params.items()}  # fmt: skip


def _top_genes(genes, top: int) -> list[str]:
    up = genes.sort_values("pos|rank").index[: min(top, 10)].tolist()
    down = genes.sort_values("neg|rank").index[: min(top, 10)].tolist()
    return list(dict.fromkeys(up + down))


def _run_summary(res, g, table, fdr: float) -> dict[str, str]:
    growth = ", ".join(
        f"{v:.3f}" + ("" if math.isnan(k) else f" (day {k:g})") for k, v in res.growth.items()
    )
    cols = ("pos|fdr", "neg|fdr")
    return {
        "comparison": res.contrast,
        "sgRNAs": str(len(res.sgrnas)),
        "genes": str(len(g)),
        "growth ratio": f"growth ratio {growth or 'not used'}",
        f"resistance genes at FDR {fdr:g}": str(int((g[cols[0]] < fdr).sum())),
        f"sensitising genes at FDR {fdr:g}": str(int((g[cols[1]] < fdr).sum())),
        "mangled symbols mapped back": str(len(table.attrs.get("unmangled", {}))),
    }


def _print_tops(genes, top: int) -> None:
    z = "normZ" in genes.columns
    for tag, title in (
        ("pos", "enriched under drug (resistance)"),
        ("neg", "depleted under drug (sensitisation)"),
    ):
        best = genes.sort_values(f"{tag}|rank").head(top)
        view = Table(title=title)
        for col in ("gene", "sgRNAs", *(["normZ"] if z else []), "p-value", "FDR", "median LFC",
                    "known"):  # fmt: skip
            view.add_column(col)
        for gene, r in best.iterrows():
            view.add_row(
                str(gene), str(int(r["num"])), *([number(r["normZ"], ".1f")] if z else []),
                number(r[f"{tag}|p-value"], ".1e"), number(r[f"{tag}|fdr"], ".2g"),
                number(r[f"{tag}|lfc"], ".2f"),
                "yes" + (" (this drug)" if r.get("known_for_drug") else "") if r["known"]
                else "new",
            )  # fmt: skip
        out.print(view)


@screen_app.command("qc")
def qc_cmd(
    counts: Annotated[Path, typer.Argument(help="Count table: sgRNA, gene, one column/sample.")],
    samples: Annotated[Path, typer.Option("--samples", "-s", help="Sample sheet.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    essential: EssentialOpt = None,
    nonessential: NonessentialOpt = None,
) -> None:
    """Screen QC: reads, Gini, replicate agreement, essential genes, null checks.

    Zero-count guides, replicate correlation per arm and day, separation of essential from
    non-essential genes against T0, and built-in null checks (replicate vs replicate of one
    arm, which should call nothing). Writes ``qc_samples.tsv``, ``qc_correlation.tsv``,
    ``qc_separation.tsv`` (with gene lists and a T0), ``qc_nulls.tsv`` and ``qc.html``.
    """
    import pandas as pd

    from oncoresist.report import screen_qc_html
    from oncoresist.screens import analyze, check_sheet, read_counts, read_sample_sheet
    from oncoresist.screens.qc import (
        essential_separation,
        guide_lfc,
        null_contrasts,
        replicate_correlation,
        sample_qc,
    )

    with spinner() as bar:
        step = bar.add_task(f"reading {counts.name}", total=None)
        table = read_counts(counts)
        sheet = read_sample_sheet(samples)
        check_sheet(sheet, table)
        sheet = sheet[sheet["condition"] != "unused"].reset_index(drop=True)
        ess, non = _gene_sets(essential, nonessential)
        bar.update(step, description="sample metrics")
        names = sheet["sample"].tolist()
        per_sample = sample_qc(table, samples=names)
        label = sheet["condition"] + sheet["day"].map(lambda d: "" if math.isnan(d) else
                                                      f" day {d:g}")  # fmt: skip
        groups = {g: sheet.loc[label == g, "sample"].tolist() for g in dict.fromkeys(label)}
        corr = replicate_correlation(table, groups)
        t0 = sheet.loc[sheet["condition"] == "T0", "sample"].tolist()
        others = [s for s in names if s not in t0]
        separation = lfc = None
        if ess is not None and t0:
            separation = essential_separation(table, reference=t0, samples=others,
                                              essential=ess, nonessential=non)  # fmt: skip
            lfc = guide_lfc(table, reference=t0, samples=others)
        rows, skipped = [], []
        pairs = [p for p in null_contrasts(groups) if not p[0].startswith("T0")]
        pairs += [(g, b, a) for g, a, b in pairs]  # both directions
        for group, a, b in bar.track(pairs, description="null checks (replicate vs replicate)"):
            null_sheet = pd.DataFrame({
                "sample": [*t0, a, b], "condition": ["T0"] * len(t0) + ["drug", "vehicle"],
                "replicate": "1", "day": [0.0] * len(t0) + [math.nan, math.nan],
                "doublings": math.nan})  # fmt: skip
            try:
                g = analyze(table[["gene", *null_sheet["sample"]]], null_sheet).genes
            except InputError as exc:  # e.g. a library too small to test
                skipped.append(f"{a} vs {b}: {exc}")
                continue
            rows.append((group, a, b, int((g["fdr_supp"] < 0.05).sum()),
                         int((g["fdr_synth"] < 0.05).sum())))  # fmt: skip
        nulls = pd.DataFrame(rows, columns=["group", "sample_a", "sample_b", "resistance_fdr05",
                                            "sensitisation_fdr05"])  # fmt: skip
        bar.update(step, description="writing")
        out_dir.mkdir(parents=True, exist_ok=True)
        frames = {"qc_samples.tsv": per_sample, "qc_correlation.tsv": corr, "qc_nulls.tsv": nulls}
        if separation is not None:
            frames["qc_separation.tsv"] = separation
        for name, frame in frames.items():
            with atomic_write(out_dir / name) as fh:
                indexed = name in ("qc_samples.tsv", "qc_separation.tsv")
                formula_safe(frame).to_csv(fh, sep="\t", index=indexed)
        html = screen_qc_html(counts=table[["gene", *names]], sample_qc=per_sample,
                              correlations=corr, separation=separation, guide_lfc=lfc,
                              essential=ess, nonessential=non, nulls=nulls,
                              source=str(counts.name))  # fmt: skip
        with atomic_write(out_dir / "qc.html") as fh:
            fh.write(html)
    view = Table(title="samples")
    for col in ("sample", "reads", "zero sgRNAs", "Gini", "top-10 share"):
        view.add_column(col)
    for name, r in per_sample.iterrows():
        view.add_row(str(name), f"{int(r['reads']):,}", f"{int(r['zero_sgrnas'])}",
                     f"{r['gini']:.2f}", f"{r['top10_share']:.1%}")  # fmt: skip
    out.print(view)
    for note in skipped:
        out.print(f"null check not run: {note}")
    calls = int(nulls[["resistance_fdr05", "sensitisation_fdr05"]].to_numpy().sum())
    out.print(f"null checks: {len(nulls)} replicate pairs, {calls} genes called at FDR 0.05 "
              f"(expected 0); qc.html in {out_dir}")  # fmt: skip
