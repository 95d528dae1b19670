"""One self-contained HTML page for a clonal deconvolution: fish plot, tree, CCFs, tables."""

from __future__ import annotations

from html import escape

import pandas as pd

from oncoresist.report._screen_html import _page, _table


def _frame_table(caption: str, frame: pd.DataFrame, *, ident: str) -> str:
    head = [str(c) for c in frame.columns]
    rows = []
    for _, r in frame.iterrows():
        cells = []
        for value in r:
            if isinstance(value, float):
                text = f"{value:.3g}" if value == value else ""
                cells.append(f'<td class="num">{escape(text)}</td>')
            else:
                cells.append(f"<td>{escape(str(value))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return _table(escape(caption), head, rows, ident=ident)


def clone_report_html(
    *,
    summary: dict[str, str],
    clones: pd.DataFrame,
    selection: pd.DataFrame,
    read_model: pd.DataFrame,
    trees: pd.DataFrame,
    figures: dict[str, str],
    resistance: pd.DataFrame | None = None,
    title: str = "Clones over time",
) -> str:
    """The clone page.

    Parameters
    ----------
    summary : dict of str to str
        Shown at the top (input, mutations, samples, clones, read model, tree).
    clones : pandas.DataFrame
        One row per clone (CCF per sample with intervals, mutations, first detected,
        known resistance alterations).
    selection, read_model, trees : pandas.DataFrame
        Model selection (ELBO/BIC per cluster count), read models compared, best trees.
    figures : dict of str to str
        Caption -> inline ``<svg>`` (fish plot, tree, CCF trajectories).
    resistance : pandas.DataFrame, optional
        Mutations carrying a knowledge-base resistance alteration, with their clone.
    """
    header = (f"<header><h1>{escape(title)}</h1>"
              + _table("Summary", ["Item", "Value"],
                       [f"<tr><th scope=\"row\">{escape(k)}</th><td>{escape(v)}</td></tr>"
                        for k, v in summary.items()], ident="summary")
              + "</header>")  # fmt: skip
    body = []
    for caption, svg in figures.items():
        body.append(f"<section><h2>{escape(caption)}</h2><figure>{svg}</figure></section>")
    body.append("<section><h2>Clones</h2>"
                + _frame_table("Clones: CCF per sample (posterior mean and 95 % interval)",
                               clones, ident="clones") + "</section>")  # fmt: skip
    if resistance is not None and len(resistance):
        body.append("<section><h2>Known resistance alterations</h2>"
                    + _frame_table("Mutations the knowledge base links to resistance",
                                   resistance, ident="resistance") + "</section>")  # fmt: skip
    body.append("<section><h2>Trees</h2>" + _frame_table(
        "Best clone trees (violation of the sum rule in CCF units; 0 = consistent)", trees,
        ident="trees") + "</section>")  # fmt: skip
    body.append("<section><h2>Model selection</h2>"
                + _frame_table("ELBO and BIC per number of clusters visited", selection,
                               ident="selection")
                + _frame_table("Read models compared by ELBO", read_model, ident="reads")
                + "</section>")  # fmt: skip
    note = ("Clusters by variational inference over cancer-cell fractions (docs/clones.md); "
            "trees by exhaustive branch and bound under the sum rule.")  # fmt: skip
    return _page(title, header, body, note)
