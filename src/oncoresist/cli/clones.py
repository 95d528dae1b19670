"""``oncoresist clones``: clones over time (fit, tree, plot, export)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from oncoresist._files import atomic_write, formula_safe
from oncoresist._words import number
from oncoresist.cli._common import out, spinner
from oncoresist.errors import InputError, OncoresistError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

clones_app = typer.Typer(help="Clones over time: CCF clusters, trees, fish plots.",
                         no_args_is_help=True)  # fmt: skip


def known_resistance(data, *, drugs: list[str] | None = None) -> pd.DataFrame:
    """Mutations whose ``gene alteration`` the knowledge base links to resistance.

    Returns one row per such mutation: ``mutation``, ``alteration``, ``drugs`` (those it
    makes resistant or less responsive; among ``drugs`` when given).
    """
    import pandas as pd

    from oncoresist.interpret import interpret

    rows = []
    if data.genes is None or data.alterations is None:
        return pd.DataFrame(columns=["mutation", "alteration", "drugs"])
    for i, (gene, alt) in enumerate(zip(data.genes, data.alterations, strict=True)):
        if not gene or not alt:
            continue
        text = f"{gene} {alt}"
        try:
            res = interpret([text], drugs=drugs)
        except OncoresistError:
            continue  # not an alteration the knowledge base can read
        hit = sorted({d.drug for d in res.drugs if d.verdict in ("resistant", "reduced_response")
                      and any(r.effect != "sensitive" for r in d.reasons)})  # fmt: skip
        if hit:
            rows.append((data.mutations[i], text, ", ".join(hit)))
    return pd.DataFrame(rows, columns=["mutation", "alteration", "drugs"])


def _read(path: Path, samples: Path | None, fmt: str, patient: str | None):
    from oncoresist.clones import from_serial, read_clonevol_table, read_mutations

    if fmt == "pyclone":
        return read_mutations(path, samples_path=samples)
    if fmt == "clonevol":
        return read_clonevol_table(path)[0]
    if fmt == "serial":
        from oncoresist.monitor import read_serial

        return from_serial(read_serial(path), patient=patient)
    raise InputError(f"{fmt!r}; expected pyclone, clonevol or serial", field="--format")


@clones_app.command("fit")
def fit_cmd(
    input_path: Annotated[Path, typer.Argument(help="Mutations x samples (PyClone-VI TSV).")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    samples: Annotated[
        Path | None, typer.Option("--samples", help="Sample table: sample_id, time, purity.")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="pyclone, clonevol or serial (monitoring table).")
    ] = "pyclone",
    patient: Annotated[
        str | None, typer.Option("--patient", help="Patient of a serial table.")
    ] = None,
    max_clusters: Annotated[int, typer.Option("--max-clusters", help="Clusters to start.")] = 20,
    likelihood: Annotated[
        str, typer.Option("--likelihood", help="auto, binomial or beta-binomial.")
    ] = "auto",
    drug: Annotated[
        list[str] | None, typer.Option("--drug", help="Drug(s) for the resistance marks.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the restarts.")] = 0,
) -> None:
    """Cluster mutations into clones, build their tree, and draw their rise.

    Writes ``clones.tsv`` (CCF per clone and sample, intervals, first detection, known
    resistance), ``mutations.tsv`` (cluster, assignment probability, own CCF interval,
    VAF), ``selection.tsv``, ``read_model.tsv``, ``trees.tsv`` (best trees, which tie),
    ``edges.tsv`` (every edge of a tied tree with its support), ``fish.svg``,
    ``tree.svg``, ``ccf.svg``, ``report.html`` and ``run.json``. The figures draw the
    consensus of the tied trees.
    """
    import numpy as np

    from oncoresist.clones import (
        CloneModel,
        clone_prevalence,
        enumerate_trees,
        first_detected,
        project_to_tree,
    )
    from oncoresist.report._clone_html import clone_report_html
    from oncoresist.report._clone_svg import clone_ccf_svg, fish_svg, tree_svg

    if likelihood not in ("auto", "binomial", "beta-binomial"):
        raise InputError(f"{likelihood!r}; expected auto, binomial or beta-binomial",
                         field="--likelihood")  # fmt: skip
    with spinner() as bar:
        step = bar.add_task(f"reading {input_path.name}", total=None)
        data = _read(input_path, samples, fmt, patient)
        bar.update(step, description=f"fitting {data.n_mutations:,} mutations x "
                                     f"{data.n_samples} samples")  # fmt: skip
        model = CloneModel(max_clusters=max_clusters, likelihood=likelihood,  # type: ignore[arg-type]
                           rng=seed).fit(data)  # fmt: skip
        bar.update(step, description="searching clone trees")
        search = enumerate_trees(model.ccf_, sd=model.ccf_sd_)
        best = search.trees[0]
        drawn = search.consensus.parents
        detected = first_detected(model.ccf_, model.ccf_sd_)
        marks = known_resistance(data, drugs=drug)
        index = {m: i for i, m in enumerate(data.mutations)}
        marked_clone: dict[int, list[str]] = {}
        for _, r in marks.iterrows():
            k = int(model.labels_[index[r["mutation"]]])
            marked_clone.setdefault(k, []).append(r["alteration"])
        marks["clone"] = [int(model.labels_[index[m]]) + 1 for m in marks["mutation"]]
        bar.update(step, description="writing")
        clones = _clone_table(model, data, detected, marked_clone)
        names = [f"C{k + 1}" for k in range(model.n_clusters_)]
        times = data.times.tolist() if data.times is not None else None
        samples = list(data.samples)
        figures = {
            "Fish plot": fish_svg(model.ccf_, drawn, names=names, times=times, samples=samples,
                                  highlight=set(marked_clone), detected=detected),
            "Clone tree": tree_svg(drawn, names=names, ccf=model.ccf_, highlight=set(marked_clone),
                                   support=search.edge_support(drawn), n_ties=search.n_ties),
            "Cancer-cell fraction over samples": clone_ccf_svg(
                model.ccf_, names=names, lo=model.ccf_lo_, hi=model.ccf_hi_, times=times,
                samples=samples, highlight=set(marked_clone),
                projected=project_to_tree(model.ccf_, drawn)),
        }  # fmt: skip
        trees = _tree_table(search, names, samples)
        edges = _edge_table(search, names)
        prevalence = clone_prevalence(project_to_tree(model.ccf_, drawn), drawn)
        out_dir.mkdir(parents=True, exist_ok=True)
        tables = {"clones.tsv": clones, "mutations.tsv": _mutation_table(model, data),
                  "selection.tsv": model.selection_, "read_model.tsv": model.read_model_,
                  "trees.tsv": trees, "edges.tsv": edges, "resistance.tsv": marks}  # fmt: skip
        for name, frame in tables.items():
            with atomic_write(out_dir / name) as fh:
                formula_safe(frame).to_csv(fh, sep="\t", index=False)
        for name, key in (("fish.svg", "Fish plot"), ("tree.svg", "Clone tree"),
                          ("ccf.svg", "Cancer-cell fraction over samples")):  # fmt: skip
            with atomic_write(out_dir / name) as fh:
                fh.write(figures[key])
        summary = {
            "input": input_path.name,
            "mutations x samples": f"{data.n_mutations:,} x {data.n_samples} "
                                   f"({', '.join(data.samples)})",
            "clones": str(model.n_clusters_),
            "read model": f"{model.likelihood_}"
                          + ("" if math.isinf(model.precision_) else
                             f", precision {model.precision_:g}"),
            "best tree": trees.loc[0, "newick"],
            "consensus tree (drawn)": search.consensus.to_newick(names),
            "trees tied with the best": _ties_words(search),
            "tree search": "exhaustive" if search.exhaustive else "node budget reached",
            "clones with a known resistance alteration": ", ".join(
                f"C{k + 1}" for k in sorted(marked_clone)) or "none",
        }  # fmt: skip
        html = clone_report_html(summary=summary, clones=clones, selection=model.selection_,
                                 read_model=model.read_model_, trees=trees, figures=figures,
                                 resistance=marks, edges=edges)  # fmt: skip
        with atomic_write(out_dir / "report.html") as fh:
            fh.write(html)
        with atomic_write(out_dir / "run.json") as fh:
            json.dump({**summary, "elbo": model.elbo_, "seed": seed,
                       "prevalence": np.round(prevalence, 4).tolist(),
                       "samples": samples, "times": times,
                       "tree": " ".join("root" if p is None else str(p + 1) for p in drawn),
                       "tied trees": search.n_ties, "ties complete": search.ties_complete,
                       "tie rule": search.tie_rule,
                       "edges": edges.to_dict(orient="records")}, fh, indent=2)  # fmt: skip
    view = Table(title=f"{model.n_clusters_} clones")
    for col in ("clone", "mutations", *data.samples, "first detected", "parent", "resistance"):
        view.add_column(col, overflow="fold")  # a narrow terminal wraps, never cuts, headers
    for k in range(model.n_clusters_):
        parent = drawn[k]
        det = detected[k]
        view.add_row(f"C{k + 1}", str(int((model.labels_ == k).sum())),
                     *(number(model.ccf_[k, s], ".2f") for s in range(data.n_samples)),
                     "-" if det is None else data.samples[det],
                     "root" if parent is None else f"C{parent + 1}",
                     ", ".join(marked_clone.get(k, [])))  # fmt: skip
    out.print(view)
    for _, r in marks.iterrows():
        k = r["clone"] - 1
        when = "never" if detected[k] is None else data.samples[detected[k]]
        out.print(f"C{r['clone']} carries {r['alteration']} (resistance to {r['drugs']}); "
                  f"clone first detected at {when}")  # fmt: skip
    out.print(f"best tree {trees.loc[0, 'newick']} (violation {best.violation:.3f}); "
              f"{_ties_words(search)}; consensus {search.consensus.to_newick(names)} drawn; "
              f"report.html in {out_dir}")  # fmt: skip


def _ties_words(search) -> str:
    """How many trees tie with the best, under which rule, and whether all were kept."""
    words = f"{search.n_ties} trees tie with the best ({search.tie_rule})"
    if not search.exhaustive:
        words += "; the node budget stopped the search, so more may tie"
    elif not search.ties_complete:
        words += f"; support and consensus from the best {len(search.ties)}"
    return words


def _words(parents) -> str:
    """A parent vector as ``--parents`` takes it: ``root 1 1 3`` (clones counted from 1)."""
    return " ".join("root" if p is None else str(p + 1) for p in parents)


def _tree_table(search, names: list[str], samples: list[str]) -> pd.DataFrame:
    """``trees.tsv``: the best trees, whether each ties with the best, their violations."""
    import pandas as pd

    tied = {tuple(t.parents) for t in search.ties}
    return pd.DataFrame([
        {"rank": i + 1, "parents": _words(t.parents), "tied": tuple(t.parents) in tied,
         "violation": t.violation, "score": t.score, "newick": t.to_newick(names),
         "violations": "; ".join(f"{names[k]} at {samples[s]}: children exceed by {x:.3f}"
                                 for k, s, x in t.violations)}
        for i, t in enumerate(search.trees[:10])])  # fmt: skip


def _edge_table(search, names: list[str]) -> pd.DataFrame:
    """``edges.tsv``: every edge of a tied tree, its support, in the best and the consensus.

    Columns: ``parent``, ``child`` (clone names), ``support`` (likelihood-weighted share of
    the tied trees holding the edge), ``in_best``, ``in_consensus``.
    """
    import pandas as pd

    best, cons = set(search.best.to_edges()), set(search.consensus.to_edges())
    return pd.DataFrame(
        [{"parent": names[p], "child": names[c], "support": round(v, 4),
          "in_best": (p, c) in best, "in_consensus": (p, c) in cons}
         for (p, c), v in sorted(search.support.items(), key=lambda e: (e[0][1], -e[1]))],
        columns=["parent", "child", "support", "in_best", "in_consensus"])  # fmt: skip


def _clone_table(model, data, detected, marked) -> pd.DataFrame:
    import pandas as pd

    rows = []
    for k in range(model.n_clusters_):
        row = {"clone": k + 1, "mutations": int((model.labels_ == k).sum()),
               "weight": float(model.weights_[k])}  # fmt: skip
        for s, name in enumerate(data.samples):
            row[f"ccf|{name}"] = float(model.ccf_[k, s])
            row[f"lo|{name}"] = float(model.ccf_lo_[k, s])
            row[f"hi|{name}"] = float(model.ccf_hi_[k, s])
        for s, name in enumerate(data.samples):  # the SD the tree search used
            row[f"sd|{name}"] = float(model.ccf_sd_[k, s])
        row["first_detected"] = "" if detected[k] is None else data.samples[detected[k]]
        row["known_resistance"] = "; ".join(marked.get(k, []))
        rows.append(row)
    return pd.DataFrame(rows)


def _mutation_table(model, data) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({
        "mutation_id": data.mutations, "clone": model.labels_ + 1,
        "probability": model.assignment_prob_.max(axis=1),
        "early_probability": model.early_prob_})  # fmt: skip
    if data.genes is not None:
        frame["gene"] = data.genes
    if data.alterations is not None:
        frame["alteration"] = data.alterations
    for s, name in enumerate(data.samples):
        frame[f"ccf|{name}"] = model.mutation_ccf_[:, s]
        frame[f"lo|{name}"] = model.mutation_lo_[:, s]
        frame[f"hi|{name}"] = model.mutation_hi_[:, s]
    with np.errstate(invalid="ignore", divide="ignore"):  # depth 0: no VAF (NaN)
        vaf = np.where(data.depth > 0, data.alt / data.depth, np.nan)
    for s, name in enumerate(data.samples):
        frame[f"vaf|{name}"] = vaf[:, s]
    # mutated copies per cancer cell in each sample (its copy-number state there), how sure
    # the reads make it, and whether every sample's is decided (probability >= 0.9)
    for s, name in enumerate(data.samples):
        frame[f"multiplicity|{name}"] = model.multiplicity_[:, s]
        frame[f"multiplicity_probability|{name}"] = model.multiplicity_prob_[:, s]
    frame["multiplicity_decided"] = model.multiplicity_decided_
    return frame


def _read_clone_table(
    path: Path,
) -> tuple[list[str], np.ndarray, np.ndarray | None, list[str], set[int]]:
    """A ``clones.tsv`` of ``clones fit``: names, CCF (K x S), SD, sample names, marked.

    The SD is the fit's (``sd|<sample>``, the one its tree search used), else from the
    95 % intervals; the sample names are those of the ``ccf|<sample>``
    columns, in order; the marked clones are those with a ``known_resistance``.
    """
    import numpy as np
    import pandas as pd

    if not path.exists():
        raise InputError("clone table not found", file=path)
    frame = pd.read_csv(path, sep="\t")
    cols = [c for c in frame.columns if c.startswith("ccf|")]
    if "clone" not in frame.columns or not cols:
        raise InputError("expected the columns clone and ccf|<sample> (clones fit writes them)",
                         file=path, field="header")  # fmt: skip
    ccf = frame[cols].to_numpy(float)
    sd = None
    lo_cols = [c.replace("ccf|", "lo|") for c in cols]
    hi_cols = [c.replace("ccf|", "hi|") for c in cols]
    sd_cols = [c.replace("ccf|", "sd|") for c in cols]
    if set(sd_cols) <= set(frame.columns):
        sd = frame[sd_cols].to_numpy(float)
    elif set(lo_cols + hi_cols) <= set(frame.columns):
        sd = np.maximum((frame[hi_cols].to_numpy(float) - frame[lo_cols].to_numpy(float)) / 3.92,
                        1e-3)  # fmt: skip
    marked = set()
    if "known_resistance" in frame.columns:
        marked = {i for i, v in enumerate(frame["known_resistance"]) if isinstance(v, str) and v}
    return [f"C{c}" for c in frame["clone"]], ccf, sd, [c[4:] for c in cols], marked


def _result(path: Path):
    """What ``clones tree|plot|export`` read from a ``clones fit`` result.

    ``path`` is ``clones.tsv`` or its folder. Returns the clone names, CCF, SD, sample
    names, and the fit's ``run.json`` beside it (empty when absent: its ``times`` and its
    drawn ``tree``) with ``marked``, the clones carrying a known resistance alteration.
    """
    table = path / "clones.tsv" if path.is_dir() else path
    names, ccf, sd, samples, marked = _read_clone_table(table)
    run = {}
    if (table.parent / "run.json").is_file():
        try:
            run = json.loads((table.parent / "run.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise InputError("not readable as JSON", file=table.parent / "run.json") from None
        if run.get("samples") not in (None, samples):
            run = {}  # the run.json of another table: trust only the table
    return names, ccf, sd, samples, {**run, "marked": marked}


def _tree_of(parents: str | None, names, ccf, sd, run) -> tuple[list[int | None], str]:
    """The tree to draw: ``--parents``, else the fit's drawn tree, else the consensus."""
    from oncoresist.clones import enumerate_trees, parse_parents

    if parents is not None:
        return parse_parents(parents.split(), len(names), names=names, base=1,
                             field="--parents"), "the tree given"  # fmt: skip
    if run.get("tree"):
        return parse_parents(str(run["tree"]).split(), len(names), names=names, base=1,
                             field="run.json tree"), "the fit's consensus tree"  # fmt: skip
    return enumerate_trees(ccf, sd=sd).consensus.parents, "the consensus of the tied trees"


@clones_app.command("tree")
def tree_cmd(
    clones_tsv: Annotated[Path, typer.Argument(help="clones.tsv from 'clones fit'.")],
    top: Annotated[int, typer.Option("--top", help="Trees to list.")] = 5,
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="tree.svg")] = None,
    edges_file: Annotated[
        Path | None, typer.Option("--edges", help="Write the edges with their support (TSV).")
    ] = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Write trees, ties and edges as JSON.")
    ] = None,
) -> None:
    """Rank the clone trees under the sum rule: ties with the best, consensus, edge support.

    Lists the best trees (and which tie with the best), every edge of the tied trees with
    its support, and draws the consensus tree (-o) with its uncertain edges dashed.
    """
    from oncoresist.clones import enumerate_trees
    from oncoresist.report._clone_svg import tree_svg

    names, ccf, sd, samples, _ = _result(clones_tsv)
    search = enumerate_trees(ccf, sd=sd, max_trees=max(top, 1))
    view = Table(title=f"{search.n_consistent} consistent trees "
                       f"({'exhaustive' if search.exhaustive else 'node budget reached'}); "
                       f"{search.n_ties} tied with the best")  # fmt: skip
    for col in ("rank", "tree", "tied", "violation", "score"):
        view.add_column(col, overflow="fold")
    tied = {tuple(t.parents) for t in search.ties}
    for i, t in enumerate(search.trees[:top]):
        view.add_row(str(i + 1), t.to_newick(names), "yes" if tuple(t.parents) in tied else "",
                     f"{t.violation:.3f}", f"{t.score:.2f}")  # fmt: skip
    out.print(view)
    edges = _edge_table(search, names)
    shown = Table(title="Edges of the tied trees (support: likelihood-weighted share)")
    for col in edges.columns:
        shown.add_column(col, overflow="fold")
    for r in edges.itertuples(index=False):
        shown.add_row(r.parent, r.child, f"{r.support:.2f}", "yes" if r.in_best else "",
                      "yes" if r.in_consensus else "")  # fmt: skip
    out.print(shown)
    out.print(f"{_ties_words(search)}; consensus {search.consensus.to_newick(names)}")
    if edges_file is not None:
        with atomic_write(edges_file) as fh:
            formula_safe(edges).to_csv(fh, sep="\t", index=False)
    if json_file is not None:
        record = {"samples": samples, "tied trees": search.n_ties,
                  "ties complete": search.ties_complete, "tie rule": search.tie_rule,
                  "exhaustive": search.exhaustive,
                  "best": _words(search.best.parents),
                  "consensus": _words(search.consensus.parents),
                  "trees": _tree_table(search, names, samples).to_dict(orient="records"),
                  "edges": edges.to_dict(orient="records")}  # fmt: skip
        with atomic_write(json_file) as fh:
            json.dump(record, fh, indent=2)
    if out_file is not None:
        drawn = search.consensus.parents
        with atomic_write(out_file) as fh:
            fh.write(tree_svg(drawn, names=names, ccf=ccf, support=search.edge_support(drawn),
                              n_ties=search.n_ties))  # fmt: skip


@clones_app.command("plot")
def plot_cmd(
    clones_tsv: Annotated[Path, typer.Argument(help="clones.tsv from 'clones fit'.")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="fish.svg")],
    parents: Annotated[
        str | None,
        typer.Option("--parents", help="Parent per clone, e.g. 'root 1 1 3' (or names)."),
    ] = None,
) -> None:
    """Fish plot of the clones (the fit's drawn tree unless --parents gives one).

    Like the fit's figure: the samples' names and days (from the fit's run.json) on the x
    axis, and each clone's first detection marked.
    """
    from oncoresist.clones import first_detected
    from oncoresist.report._clone_svg import fish_svg

    names, ccf, sd, samples, run = _result(clones_tsv)
    tree, how = _tree_of(parents, names, ccf, sd, run)
    times = run.get("times")
    with atomic_write(out_file) as fh:
        fh.write(fish_svg(ccf, tree, names=names, samples=samples, times=times,
                          detected=first_detected(ccf, sd), highlight=run["marked"]))  # fmt: skip
    out.print(f"fish plot of {how} ({_words(tree)}) in {out_file}")


@clones_app.command("export")
def export_cmd(
    result_dir: Annotated[Path, typer.Argument(help="Folder written by 'clones fit'.")],
    fmt: Annotated[str, typer.Option("--format", help="timescape or fishplot.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    parents: Annotated[
        str | None, typer.Option("--parents", help="Parent per clone, e.g. 'root 1 1 3'.")
    ] = None,
) -> None:
    """Tables for timescape or fishplot, checked against the tools' own constraints.

    timescape: ``clonal_prev.csv``, ``tree_edges.csv`` and (when the mutation IDs hold
    positions) ``mutations.csv``. fishplot: ``frac_table.csv`` (CCF %), ``parents.csv``,
    ``timepoints.csv``. The tree is the fit's drawn (consensus) tree unless --parents.
    """
    import pandas as pd

    from oncoresist.clones._export import fishplot_tables, timescape_tables

    if fmt not in ("timescape", "fishplot"):
        raise InputError(f"{fmt!r}; expected timescape or fishplot", field="--format")
    if not result_dir.is_dir():
        raise InputError("expected the folder 'clones fit' wrote", file=result_dir)
    names, ccf, sd, samples, run = _result(result_dir)
    tree, how = _tree_of(parents, names, ccf, sd, run)
    if fmt == "timescape":
        muts = None
        if (result_dir / "mutations.tsv").is_file():
            muts = pd.read_csv(result_dir / "mutations.tsv", sep="\t")
            if {"mutation_id", "clone"} <= set(muts.columns):
                muts = muts.assign(clone=muts["clone"] - 1)
            else:
                muts = None
        tables = timescape_tables(ccf, tree, names=names, samples=samples, mutations=muts)
    else:
        tables = fishplot_tables(ccf, tree, names=names, samples=samples, times=run.get("times"))
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        with atomic_write(out_dir / f"{name}.csv") as fh:
            formula_safe(frame).to_csv(fh, index=name == "frac_table")
    skipped = "" if fmt == "fishplot" or "mutations" in tables else (
        "; no mutations.csv: the mutation IDs hold no chromosome and position")  # fmt: skip
    out.print(f"{fmt} tables of {how} ({_words(tree)}): "
              f"{', '.join(f'{n}.csv' for n in tables)} in {out_dir}{skipped}")  # fmt: skip
