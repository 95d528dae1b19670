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


def _load(counts: Path, samples: Path | None):
    """The count table and the sheet that comes with it (AnnData's ``obs``), if any."""
    from oncoresist.screens import read_anndata, read_counts

    if counts.suffix.lower() == ".h5ad":
        table, sheet = read_anndata(counts)
        return table, (None if samples is not None else sheet)
    return read_counts(counts), None


def _sheet(counts, samples, treatment, control, versus, given=None):
    """The sample sheet: read (or AnnData's), or built from -t/-c; -t/-c with a sheet select."""
    from oncoresist.screens import check_sheet, read_sample_sheet, sheet_from_samples

    t, c = _names(treatment, "--treatment"), _names(control, "--control")
    if samples is None and given is None:
        if not t or not c:
            raise InputError("give --samples SHEET, or --treatment and --control samples",
                             field="--samples")  # fmt: skip
        sheet = sheet_from_samples(t, c, control_condition=versus)
        check_sheet(sheet, counts)
        return sheet
    sheet = given if given is not None else read_sample_sheet(samples)
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


NORMZ_SCALE = (
    "normZ is sumZ standardised by the median and MAD of all genes: a rank score, not a z-score "
    "under the null (with few guides per gene or heavy-tailed guides, 16 can be noise). Read "
    "significance from pval_supp/fdr_supp, pval_synth/fdr_synth or z_calibrated (the exact "
    "p-value as a signed normal score; z_cal in the terminal)."
)


@screen_app.command("analyze")
def analyze_cmd(
    counts: Annotated[
        Path, typer.Argument(help="Count table (sgRNA, gene, one column/sample) or .h5ad.")
    ],
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
    arm: Annotated[
        str | None,
        typer.Option("--arm", help="Drug arm of a sheet with several (its arm column), or all."),
    ] = None,
    essential: EssentialOpt = None,
    nonessential: NonessentialOpt = None,
    growth: Annotated[
        float | None, typer.Option("--growth", help="Drug/vehicle doublings ratio.")
    ] = None,
    method: Annotated[str, typer.Option("--method", help="replicate or nb.")] = "replicate",
    norm: Annotated[
        str, typer.Option("--norm", help="median, total, control (the --controls) or none.")
    ] = "median",
    depth: Annotated[
        str,
        typer.Option("--depth", help="match (compare samples at the shallowest depth) or none."),
    ] = "match",
    controls: Annotated[
        str | None,
        typer.Option(
            "--controls",
            help="Control guides: a file of sgRNA ids or gene labels "
            "(MAGeCK's control files), or labels such as NonTargeting.",
        ),
    ] = None,
    control_gene: Annotated[
        str | None,
        typer.Option("--control-gene", help="Gene label(s) of control sgRNAs (as --controls)."),
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
    z_calibrated, pval_supp, fdr_supp, pval_synth, fdr_synth`` and the knowledge base's
    ``known``), ``sgrna_summary.tsv``, ``report.html``, the figures as SVG and ``run.json``;
    with ``--arm all``, one folder per arm. normZ is a rank score, not a z-score under the
    null: read significance from the p-values and FDRs, or from z_calibrated.
    """
    from oncoresist.kb import load_kb
    from oncoresist.screens import sheet_arms

    if ranking not in ("sumz", "rra"):
        raise InputError(f"{ranking!r}; expected sumz or rra", field="--ranking")
    if versus not in ("vehicle", "T0"):
        raise InputError(f"{versus!r}; expected vehicle or T0", field="--versus")
    if method not in ("replicate", "nb"):
        raise InputError(f"{method!r}; expected replicate or nb", field="--method")
    if norm not in ("median", "total", "control", "none"):
        raise InputError(f"{norm!r}; expected median, total, control or none", field="--norm")
    if depth not in ("match", "none"):
        raise InputError(f"{depth!r}; expected match or none", field="--depth")
    if null not in ("library", "controls", "nonessential"):
        raise InputError(f"{null!r}; expected library, controls or nonessential", field="--null")
    if controls is not None and control_gene is not None:
        raise InputError("give --controls or --control-gene, not both", field="--controls")
    kb = load_kb()
    if drug is not None:
        try:
            kb.resolve_drug(drug)
        except InputError as exc:
            raise exc.located(field="--drug") from None
    with spinner() as bar:
        step = bar.add_task(f"reading {counts.name}", total=None)
        table, given = _load(counts, samples)
        sheet = _sheet(table, samples, treatment, control, versus, given)
        ess, non = _gene_sets(essential, nonessential)
        found = _control_guides(controls if controls is not None else control_gene, table)
        if not found.n and (norm == "control" or null == "controls"):
            raise InputError("no control guides in the table (none recognised by label); name "
                             "them with --controls", field="--controls")  # fmt: skip
        control_ids = found.ids(table)
        arms = sheet_arms(sheet) if arm == "all" else [arm]
        runs = []
        for one in arms:
            folder = out_dir / _safe(one) if arm == "all" and one else out_dir
            bar.update(step, description=f"scoring guides and genes{_of(one)}")
            res, shown = _analyze_arm(table, sheet, one or None, versus=versus, day=day,
                                      essential=ess, nonessential=non, growth=growth,
                                      method=method, alpha=alpha, norm=norm, depth=depth,
                                      controls=control_ids, null=null, ranking=ranking,
                                      kb=kb, drug=drug)  # fmt: skip
            runs.append((one, folder, res, shown))
        for one, folder, res, shown in runs:  # written only once every arm has run
            bar.update(step, description=f"writing tables and figures{_of(one)}")
            _write_outputs(folder, counts, table, res, shown, fdr=fdr, top=top)
    for one, folder, res, shown in runs:
        if len(runs) > 1:
            out.print(f"arm {one}")
        _print_tops(shown, top)
        out.print(f"{res.contrast}; {_growth_words(res)}; tables, figures and report.html "
                  f"in {folder}")  # fmt: skip
        if found.n or found.unmatched:
            unmatched = f"; {len(found.unmatched):,} entries of the list name nothing in the " \
                "table" if found.unmatched else ""  # fmt: skip
            out.print(f"{found.summary()}{unmatched}")
        for note in res.params.get("balance", []):
            out.print(f"replicates differ enough to matter: {note} (depths matched: "
                      f"--depth {res.params.get('depth', 'match')})")  # fmt: skip
    if table.attrs.get("unmangled"):
        out.print(f"{len(table.attrs['unmangled'])} spreadsheet-mangled gene symbols mapped back")
    out.print(f"normZ: {NORMZ_SCALE}")


def _control_guides(spec: str | None, table):
    """Control guides: recognised by label, or named by a file or comma-separated labels."""
    from oncoresist.screens import find_controls, read_control_list

    if spec is None:
        return find_controls(table)
    path = Path(spec)
    if path.is_file():
        return find_controls(table, read_control_list(path), source=path)
    if path.suffix.lower() in {".txt", ".tsv", ".csv", ".list"}:
        raise InputError("control list not found", file=path, field="--controls")
    return find_controls(table, [c.strip() for c in spec.split(",") if c.strip()])


def _of(arm: str | None) -> str:
    return f" (arm {arm})" if arm else ""


def _safe(name: str) -> str:
    """A folder name for an arm: letters, digits, dot, dash and underscore."""
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "arm"


def _analyze_arm(table, sheet, arm, *, versus, day, essential, nonessential, growth, method,
                 alpha, norm, depth, controls, null, ranking, kb, drug):  # fmt: skip
    """One arm's analysis, its knowledge link and the ranking shown."""
    from oncoresist.kb import gene_knowledge
    from oncoresist.screens import analyze, ranked_view

    used = table[["gene", *sheet["sample"]]]
    null_sgrnas = controls if null == "controls" else None
    if null == "nonessential":
        if nonessential is None:
            raise InputError("--null nonessential needs --nonessential", field="--null")
        null_sgrnas = table.index[table["gene"].isin(nonessential)].tolist()
    res = analyze(used, sheet, compare_with=versus, day=day, essential=essential,
                  nonessential=nonessential, growth=growth, method=method, alpha=alpha,
                  norm=norm, null_sgrnas=null_sgrnas, depth=depth, arm=arm,
                  controls=controls)  # fmt: skip
    genes = res.genes
    known = gene_knowledge(kb, genes.index, drug=drug)
    genes["known"] = known["known"].reindex(genes.index).fillna("")
    genes["known_for_drug"] = known["for_drug"].reindex(genes.index).fillna(False)
    return res, ranked_view(genes, by="rra" if method == "nb" else ranking)


def _write_outputs(folder: Path, counts: Path, table, res, shown, *, fdr: float, top: int) -> None:
    """Gene and sgRNA tables, figures, report.html and run.json of one analysis."""
    from oncoresist.report import screen_results_html
    from oncoresist.report._screen_svg import rank_svg, sgrna_lfc_svg, volcano_svg

    genes = res.genes
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_write(folder / "gene_summary.tsv") as fh:
        formula_safe(genes).to_csv(fh, sep="\t")
    with atomic_write(folder / "sgrna_summary.tsv") as fh:
        formula_safe(res.sgrnas).to_csv(fh, sep="\t")
    figures = {
        "rank_resistance.svg": rank_svg(shown, direction="pos", top=top),
        "rank_sensitisation.svg": rank_svg(shown, direction="neg", top=top),
        "volcano.svg": volcano_svg(shown, fdr=fdr, top=top),
        "sgrna_lfc.svg": sgrna_lfc_svg(res.sgrnas, _top_genes(shown, top)),
    }
    for name, svg in figures.items():
        with atomic_write(folder / name) as fh:
            fh.write(svg)
    summary = _run_summary(res, shown, table, fdr)
    label = f"{res.contrast} (genes ranked by {'alpha-RRA' if shown is genes else 'sumZ'})"
    html = screen_results_html(genes=shown, sgrnas=res.sgrnas, qc_summary=summary,
                               contrast=label, fdr=fdr)  # fmt: skip
    with atomic_write(folder / "report.html") as fh:
        fh.write(html)
    with atomic_write(folder / "run.json") as fh:
        json.dump({"counts": str(counts), "contrast": res.contrast, **summary,
                   "params": _plain(res.params), "normZ": NORMZ_SCALE}, fh,
                  indent=2)  # fmt: skip


def _growth_words(res) -> str:
    growth = ", ".join(
        f"{v:.3f}" + ("" if math.isnan(k) else f" (day {k:g})") for k, v in res.growth.items()
    )
    return f"growth ratio {growth or 'not used'}"


def _plain(params: dict) -> dict:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in params.items()}  # fmt: skip


def _top_genes(genes, top: int) -> list[str]:
    up = genes.sort_values("pos|rank").index[: min(top, 10)].tolist()
    down = genes.sort_values("neg|rank").index[: min(top, 10)].tolist()
    return list(dict.fromkeys(up + down))


def _run_summary(res, g, table, fdr: float) -> dict[str, str]:
    cols = ("pos|fdr", "neg|fdr")
    balance = res.params.get("balance", [])
    return {
        "comparison": res.contrast,
        "sgRNAs": str(len(res.sgrnas)),
        "genes": str(len(g)),
        "growth ratio": _growth_words(res),
        "replicate balance": "; ".join(balance) if balance else "no flag",
        f"resistance genes at FDR {fdr:g}": str(int((g[cols[0]] < fdr).sum())),
        f"sensitising genes at FDR {fdr:g}": str(int((g[cols[1]] < fdr).sum())),
        "mangled symbols mapped back": str(len(table.attrs.get("unmangled", {}))),
    }


def _print_tops(genes, top: int) -> None:
    z = "normZ" in genes.columns
    cal = "z_calibrated" in genes.columns
    for tag, title in (
        ("pos", "enriched under drug (resistance)"),
        ("neg", "depleted under drug (sensitisation)"),
    ):
        best = genes.sort_values(f"{tag}|rank").head(top)
        view = Table(title=title)
        for col in ("gene", "sgRNAs", *(["normZ"] if z else []),
                    *(["z_cal"] if cal else []), "p-value", "FDR", "median LFC",
                    "known"):  # fmt: skip
            view.add_column(col)
        for gene, r in best.iterrows():
            view.add_row(
                str(gene), str(int(r["num"])), *([number(r["normZ"], ".1f")] if z else []),
                *([number(r["z_calibrated"], ".1f")] if cal else []),
                number(r[f"{tag}|p-value"], ".1e"), number(r[f"{tag}|fdr"], ".2g"),
                number(r[f"{tag}|lfc"], ".2f"),
                "yes" + (" (this drug)" if r.get("known_for_drug") else "") if r["known"]
                else "new",
            )  # fmt: skip
        out.print(view)


@screen_app.command("qc")
def qc_cmd(
    counts: Annotated[
        Path, typer.Argument(help="Count table (sgRNA, gene, one column/sample) or .h5ad.")
    ],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    samples: Annotated[
        Path | None, typer.Option("--samples", "-s", help="Sample sheet (.h5ad: its obs).")
    ] = None,
    essential: EssentialOpt = None,
    nonessential: NonessentialOpt = None,
) -> None:
    """Screen QC: reads, Gini, replicate agreement and balance, essential genes, null checks.

    Zero-count guides, replicate correlation per arm and day, separation of essential from
    non-essential genes against T0, and built-in null checks (replicate vs replicate of one
    arm, which should call nothing). Writes ``qc_samples.tsv``, ``qc_correlation.tsv``,
    ``qc_separation.tsv`` (with gene lists and a T0), ``qc_nulls.tsv``, ``qc_balance.tsv``
    (replicates of one arm and day whose depth differs 2-fold or more, or whose Gini index
    differs by 0.1 or more, are flagged) and ``qc.html``.
    """
    import pandas as pd

    from oncoresist.report import screen_qc_html
    from oncoresist.screens import analyze, check_sheet, read_sample_sheet
    from oncoresist.screens.qc import (
        essential_separation,
        guide_lfc,
        null_contrasts,
        replicate_balance,
        replicate_correlation,
        sample_qc,
    )

    with spinner() as bar:
        step = bar.add_task(f"reading {counts.name}", total=None)
        table, sheet = _load(counts, samples)
        if sheet is None:
            if samples is None:
                raise InputError("give --samples SHEET (or an .h5ad whose obs has a condition "
                                 "column)", field="--samples")  # fmt: skip
            sheet = read_sample_sheet(samples)
        check_sheet(sheet, table)
        sheet = sheet[sheet["condition"] != "unused"].reset_index(drop=True)
        ess, non = _gene_sets(essential, nonessential)
        bar.update(step, description="sample metrics")
        names = sheet["sample"].tolist()
        per_sample = sample_qc(table, samples=names)
        label = sheet["condition"] + sheet["arm"].map(lambda a: f" {a}" if a else "") + sheet[
            "day"].map(lambda d: "" if math.isnan(d) else
                                                      f" day {d:g}")  # fmt: skip
        groups = {g: sheet.loc[label == g, "sample"].tolist() for g in dict.fromkeys(label)}
        corr = replicate_correlation(table, groups)
        balance = replicate_balance(table, groups)
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
        frames = {"qc_samples.tsv": per_sample, "qc_correlation.tsv": corr, "qc_nulls.tsv": nulls,
                  "qc_balance.tsv": balance}  # fmt: skip
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
    for r in balance[balance["flag"] != ""].itertuples():
        out.print(f"replicates differ enough to matter ({r.flag}): {r.sample_a} vs {r.sample_b} "
                  f"({r.group}): depth ratio {r.depth_ratio:.1f}, Gini {r.gini_a:.2f} vs "
                  f"{r.gini_b:.2f}")  # fmt: skip
    out.print(f"null checks: {len(nulls)} replicate pairs, {calls} genes called at FDR 0.05 "
              f"(expected 0); qc.html in {out_dir}")  # fmt: skip
