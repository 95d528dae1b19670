"""One self-contained HTML page for a clonal deconvolution: fish plot, tree, CCFs, tables."""

from __future__ import annotations

from typing import Any

import pandas as pd

from oncoresist.report._templates import Markup, page

#: Samples shown as columns of the page's clone table; more are summarised in one column.
MAX_SAMPLE_COLUMNS = 6


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


def _cell(text: str, sub: str = "", *, num: bool = False) -> dict[str, Any]:
    """One cell of the clone table: its text, a smaller line under it, numeric or not."""
    return {"text": text, "sub": sub, "num": num}


def clone_summary(clones: pd.DataFrame) -> dict[str, Any]:
    """The clone table as it fits a 1,000 px page: one cell per clone and sample.

    Each cell is the CCF over its 95 % interval (``0.52`` / ``0.48-0.56``), so a sample
    takes one narrow column instead of three; with more than :data:`MAX_SAMPLE_COLUMNS`
    samples, the first, the last and the peak are shown in one column. The full table
    (every interval end and the cluster weight) goes in a details view below it.
    """
    samples = [c[4:] for c in clones.columns if c.startswith("ccf|")]
    many = len(samples) > MAX_SAMPLE_COLUMNS
    head = ["Clone", "Mutations", *(["CCF: first, last, peak"] if many else samples),
            "First detected", "Known resistance"]  # fmt: skip
    rows = []
    for _, r in clones.iterrows():
        cells = [_cell(f"C{r['clone']}"), _cell(str(r["mutations"]), num=True)]
        if many:
            ccf = [float(r[f"ccf|{s}"]) for s in samples]
            peak = max(range(len(ccf)), key=ccf.__getitem__)
            sub = f"peak {ccf[peak]:.2f} ({samples[peak]})"
            cells.append(_cell(f"{ccf[0]:.2f} \u2192 {ccf[-1]:.2f}", sub, num=True))
        else:
            for s in samples:
                lo, hi = (float(r.get(f"{end}|{s}", float("nan"))) for end in ("lo", "hi"))
                sub = f"{lo:.2f}\u2013{hi:.2f}" if lo == lo and hi == hi else ""
                cells.append(_cell(f"{float(r[f'ccf|{s}']):.2f}", sub, num=True))
        cells.append(_cell(str(r.get("first_detected", "") or "\u2013")))
        cells.append(_cell(str(r.get("known_resistance", "") or "")))
        rows.append(cells)
    caption = "Clones: CCF per sample (posterior mean over its 95 % interval)"
    return {"caption": caption, "head": head, "rows": rows, "ident": "clones"}


def clone_report_html(
    *,
    summary: dict[str, str],
    clones: pd.DataFrame,
    selection: pd.DataFrame,
    read_model: pd.DataFrame,
    trees: pd.DataFrame,
    figures: dict[str, str],
    resistance: pd.DataFrame | None = None,
    edges: pd.DataFrame | None = None,
    title: str = "Clones over time",
) -> str:
    """The clone page.

    Parameters
    ----------
    summary : dict of str to str
        Shown at the top (input, mutations, samples, clones, read model, tree).
    clones : pandas.DataFrame
        One row per clone (CCF per sample with intervals, mutations, first detected,
        known resistance alterations): shown compact (:func:`clone_summary`), in full in a
        details view.
    selection, read_model, trees : pandas.DataFrame
        Model selection (ELBO/BIC per cluster count), read models compared, best trees.
    figures : dict of str to str
        Caption -> inline ``<svg>`` (fish plot, tree, CCF trajectories).
    resistance : pandas.DataFrame, optional
        Mutations carrying a knowledge-base resistance alteration, with their clone.
    edges : pandas.DataFrame, optional
        Every edge of the tied trees with its support (``clones fit``'s ``edges.tsv``).
    """
    tables = [
        ("Known resistance alterations", "Mutations the knowledge base links to resistance",
         resistance if resistance is not None and len(resistance) else None, "resistance"),
        ("Trees", "Edges of the trees tied with the best: support is the likelihood-weighted "
         "share of tied trees holding the edge", edges, "edges"),
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
    full = frame_table("Clones: every column of clones.tsv", clones, ident="clones-full")
    return page(
        "clone_report.html", title=title, summary=list(summary.items()),
        figures=[(caption, Markup(svg)) for caption, svg in figures.items()],
        clones=clone_summary(clones), clones_full=full, sections=list(sections.items()),
    )  # fmt: skip
