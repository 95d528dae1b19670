"""``oncoresist clones``: clones over time (fit, tree, plot)."""

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
    resistance), ``mutations.tsv`` (cluster, assignment probability, own CCF interval),
    ``selection.tsv``, ``read_model.tsv``, ``trees.tsv``, ``fish.svg``, ``tree.svg``,
    ``ccf.svg``, ``report.html`` and ``run.json``.
    """
    import numpy as np
    import pandas as pd

    from oncoresist.clones import CloneModel, clone_prevalence, enumerate_trees, first_detected
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
        figures = {
            "Fish plot": fish_svg(model.ccf_, best.parents, names=names, times=times,
                                  samples=list(data.samples), highlight=set(marked_clone),
                                  detected=detected),
            "Clone tree": tree_svg(best.parents, names=names, ccf=model.ccf_,
                                   highlight=set(marked_clone)),
            "Cancer-cell fraction over samples": clone_ccf_svg(
                model.ccf_, names=names, lo=model.ccf_lo_, hi=model.ccf_hi_, times=times,
                samples=list(data.samples), highlight=set(marked_clone)),
        }  # fmt: skip
        trees = pd.DataFrame([
            {"rank": i + 1, "parents": " ".join("root" if p is None else str(p + 1)
                                                for p in t.parents),
             "violation": t.violation, "score": t.score, "newick": t.to_newick(names),
             "violations": "; ".join(f"C{k + 1} at {data.samples[s]}: children exceed by "
                                     f"{x:.3f}" for k, s, x in t.violations)}
            for i, t in enumerate(search.trees[:10])])  # fmt: skip
        prevalence = clone_prevalence(model.ccf_, best.parents)
        out_dir.mkdir(parents=True, exist_ok=True)
        tables = {"clones.tsv": clones, "mutations.tsv": _mutation_table(model, data),
                  "selection.tsv": model.selection_, "read_model.tsv": model.read_model_,
                  "trees.tsv": trees, "resistance.tsv": marks}  # fmt: skip
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
            "trees tied with the best": str(search.n_ties),
            "tree search": "exhaustive" if search.exhaustive else "node budget reached",
            "clones with a known resistance alteration": ", ".join(
                f"C{k + 1}" for k in sorted(marked_clone)) or "none",
        }  # fmt: skip
        html = clone_report_html(summary=summary, clones=clones, selection=model.selection_,
                                 read_model=model.read_model_, trees=trees, figures=figures,
                                 resistance=marks)  # fmt: skip
        with atomic_write(out_dir / "report.html") as fh:
            fh.write(html)
        with atomic_write(out_dir / "run.json") as fh:
            json.dump({**summary, "elbo": model.elbo_, "seed": seed,
                       "prevalence": np.round(prevalence, 4).tolist()}, fh, indent=2)  # fmt: skip
    view = Table(title=f"{model.n_clusters_} clones")
    for col in ("clone", "mutations", *data.samples, "first detected", "parent", "resistance"):
        view.add_column(col, overflow="fold")  # a narrow terminal wraps, never cuts, headers
    for k in range(model.n_clusters_):
        parent = best.parents[k]
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
              f"report.html in {out_dir}")  # fmt: skip


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
        row["first_detected"] = "" if detected[k] is None else data.samples[detected[k]]
        row["known_resistance"] = "; ".join(marked.get(k, []))
        rows.append(row)
    return pd.DataFrame(rows)


def _mutation_table(model, data) -> pd.DataFrame:
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
    return frame


def _read_clone_table(
    path: Path,
) -> tuple[list[str], np.ndarray, np.ndarray | None, list[str]]:
    """A ``clones.tsv`` of ``clones fit``: names, CCF (K x S), SD, sample names.

    The SD comes from the 95 % intervals; the sample names are those of the ``ccf|<sample>``
    columns, in order.
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
    if set(lo_cols + hi_cols) <= set(frame.columns):
        sd = np.maximum((frame[hi_cols].to_numpy(float) - frame[lo_cols].to_numpy(float)) / 3.92,
                        1e-3)  # fmt: skip
    return [f"C{c}" for c in frame["clone"]], ccf, sd, [c[4:] for c in cols]


@clones_app.command("tree")
def tree_cmd(
    clones_tsv: Annotated[Path, typer.Argument(help="clones.tsv from 'clones fit'.")],
    top: Annotated[int, typer.Option("--top", help="Trees to list.")] = 5,
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="tree.svg")] = None,
) -> None:
    """Rank the clone trees that satisfy the sum rule in every sample."""
    from oncoresist.clones import enumerate_trees
    from oncoresist.report._clone_svg import tree_svg

    names, ccf, sd, _ = _read_clone_table(clones_tsv)
    search = enumerate_trees(ccf, sd=sd, max_trees=max(top, 1))
    view = Table(title=f"{search.n_consistent} consistent trees "
                       f"({'exhaustive' if search.exhaustive else 'node budget reached'}); "
                       f"{search.n_ties} tied with the best")  # fmt: skip
    for col in ("rank", "tree", "violation", "score"):
        view.add_column(col)
    for i, t in enumerate(search.trees[:top]):
        view.add_row(str(i + 1), t.to_newick(names), f"{t.violation:.3f}", f"{t.score:.2f}")
    out.print(view)
    if out_file is not None:
        with atomic_write(out_file) as fh:
            fh.write(tree_svg(search.trees[0].parents, names=names, ccf=ccf))


def _parse_parents(text: str, names: list[str]) -> list[int | None]:
    """``--parents 'root 1 1 3'`` (clone numbers from 1, as the tables print them) -> indices.

    Every error names the clone by its number and name, counted from 1 as the user wrote it.
    """
    words = text.split()
    if len(words) != len(names):
        raise InputError(f"{len(words)} parents for {len(names)} clones", field="--parents")
    tree: list[int | None] = []
    for i, word in enumerate(words):
        clone = f"clone {i + 1} ({names[i]})"
        if word == "root":
            tree.append(None)
        elif not word.isdigit() or not 1 <= int(word) <= len(names):
            raise InputError(f"{clone}: parent {word!r}; expected 'root' or a clone number "
                             f"1..{len(names)}", field="--parents")  # fmt: skip
        elif int(word) == i + 1:
            raise InputError(f"{clone} is its own parent", field="--parents")
        else:
            tree.append(int(word) - 1)
    if tree.count(None) != 1:
        raise InputError(f"{tree.count(None)} clones are 'root'; expected exactly one",
                         field="--parents")  # fmt: skip
    for i in range(len(tree)):
        seen, p = {i}, tree[i]
        while p is not None:
            if p in seen:
                raise InputError(f"the parents loop through clone {i + 1} ({names[i]})",
                                 field="--parents")  # fmt: skip
            seen.add(p)
            p = tree[p]
    return tree


@clones_app.command("plot")
def plot_cmd(
    clones_tsv: Annotated[Path, typer.Argument(help="clones.tsv from 'clones fit'.")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="fish.svg")],
    parents: Annotated[
        str | None, typer.Option("--parents", help="Parent per clone, e.g. 'root 1 1 3'.")
    ] = None,
) -> None:
    """Fish plot of the clones (the best tree unless --parents gives one)."""
    from oncoresist.clones import enumerate_trees
    from oncoresist.report._clone_svg import fish_svg

    names, ccf, sd, samples = _read_clone_table(clones_tsv)
    if parents is None:
        tree = enumerate_trees(ccf, sd=sd).trees[0].parents
    else:
        tree = _parse_parents(parents, names)
    with atomic_write(out_file) as fh:
        fh.write(fish_svg(ccf, tree, names=names, samples=samples))
    out.print(f"fish plot in {out_file}")
