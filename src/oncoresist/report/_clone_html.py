"""One self-contained HTML page for a clonal deconvolution: fish plot, tree, CCFs, tables."""

from __future__ import annotations

from typing import Any

import pandas as pd

from oncoresist.report._templates import Markup, page


def frame_table(caption: str, frame: pd.DataFrame, *, ident: str) -> dict[str, Any]:
    """A data frame as the template macro ``frame_table`` shows it (floats to 3 digits)."""
    rows = []
    for _, r in frame.iterrows():
        cells = []
        for value in r:
            if isinstance(value, float):
                cells.append((f"{value:.3g}" if value == value else "", True))
            else:
                cells.append((str(value), False))
        rows.append(cells)
    return {"caption": caption, "head": [str(c) for c in frame.columns], "rows": rows,
            "ident": ident}  # fmt: skip


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
    tables = [
        ("Clones", "Clones: CCF per sample (posterior mean and 95 % interval)", clones, "clones"),
        ("Known resistance alterations", "Mutations the knowledge base links to resistance",
         resistance if resistance is not None and len(resistance) else None, "resistance"),
        ("Trees", "Best clone trees (violation of the sum rule in CCF units; 0 = consistent)",
         trees, "trees"),
        ("Model selection", "ELBO and BIC per number of clusters visited", selection,
         "selection"),
        ("Model selection", "Read models compared by ELBO", read_model, "reads"),
    ]  # fmt: skip
    sections: dict[str, list[dict[str, Any]]] = {}
    for heading, caption, frame, ident in tables:
        if frame is not None:
            sections.setdefault(heading, []).append(frame_table(caption, frame, ident=ident))
    return page(
        "clone_report.html", title=title, summary=list(summary.items()),
        figures=[(caption, Markup(svg)) for caption, svg in figures.items()],
        sections=list(sections.items()),
    )  # fmt: skip
