"""The single-cell page: programmes, shifts, knowledge-base links, abundance, copy number.

:func:`singlecell_report` runs the analyses on an AnnData-like object (results stay in it,
under the documented keys) and renders ``templates/singlecell.html`` with the figures of
:mod:`oncoresist.report._sc_svg`. A step the data cannot support (a design without two
samples per condition, no genomic positions, no sample with both conditions) is reported on
the page in words instead of failing the page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from oncoresist.errors import InputError, UnknownDrugError
from oncoresist.report import _sc_svg as svg
from oncoresist.report._clone_html import frame_table
from oncoresist.report._templates import Markup, page

__all__ = ["embedding", "singlecell_report"]

LINK_SHOWN = ["sample", "programme", "shift", "padj", "biomarker", "mechanism", "disease",
              "evidence", "applies_to_drug", "drugs_affected", "references"]  # fmt: skip


def embedding(adata: Any, *, seed: int = 0) -> tuple[np.ndarray, str]:
    """The 2-D embedding to draw and its name (``"UMAP"`` or ``"PC"``).

    ``obsm["X_umap"]`` when present, else the first two principal components
    (``obsm["X_pca"]``, computed when absent).
    """
    if "X_umap" in adata.obsm:
        return np.asarray(adata.obsm["X_umap"])[:, :2], "UMAP"
    if "X_pca" not in adata.obsm:
        from oncoresist.singlecell import pca

        pca(adata, n_comps=min(30, adata.n_vars - 1, adata.n_obs - 1), seed=seed)
    return np.asarray(adata.obsm["X_pca"])[:, :2], "PC"


def _levels(adata: Any, condition: str, treated: str | None, control: str | None):
    if condition not in adata.obs.columns:
        raise InputError(
            f"no obs column {condition!r}; the columns are: "
            f"{', '.join(map(str, adata.obs.columns))}",
            field=f"obs/{condition}",
        )
    levels = sorted(adata.obs[condition].astype(str).unique())
    if treated is None or control is None:
        if len(levels) != 2:
            raise InputError(
                f"{len(levels)} conditions ({', '.join(levels)}); give --treated and --control",
                field=f"obs/{condition}",
            )
        control = control or next(v for v in levels if v != treated)
        treated = treated or next(v for v in levels if v != control)
    return treated, control


def _short(text: str, limit: int = 8) -> str:
    items = [t for t in text.split("; ") if t]
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" and {len(items) - limit} more"


SHIFTS_SHOWN = {"sample": "sample", "programme": "programme", "n_treated": "cells treated",
                "n_control": "cells control", "shift": "shift", "effect_size": "effect (d)",
                "pvalue": "p", "padj": "FDR", "rises": "rises"}  # fmt: skip


def _shift_rows(shifts: pd.DataFrame) -> pd.DataFrame:
    shown = shifts[list(SHIFTS_SHOWN)].rename(columns=SHIFTS_SHOWN)
    shown["rises"] = shown["rises"].map({True: "yes", False: "no"})
    return shown


def _link_rows(link: pd.DataFrame) -> pd.DataFrame:
    shown = link[LINK_SHOWN].copy()
    shown["drugs_affected"] = shown["drugs_affected"].map(_short)
    shown["applies_to_drug"] = shown["applies_to_drug"].map({True: "yes", False: "no"})
    shown["references"] = shown["references"].str.replace("; ", ", ")
    return shown.rename(
        columns={
            "applies_to_drug": "this drug",
            "drugs_affected": "drugs",
            "padj": "FDR",
            "evidence": "level",
        }
    )


def singlecell_report(
    adata: Any,
    *,
    condition: str,
    sample: str,
    treated: str | None = None,
    control: str | None = None,
    pair: str | None = None,
    drug: str | None = None,
    disease: str | None = None,
    design: str | None = None,
    programmes: Sequence[str] = ("resistance",),
    reference_key: str | None = None,
    reference: Sequence[str] | None = None,
    seed: int = 0,
    progress: Callable[[str, Callable[[], Any]], Any] | None = None,
    source: str | None = None,
    title: str = "Single cells under drug",
    batch_key: str | None = None,
) -> str:
    """Run the single-cell analyses and return the page (HTML text).

    Parameters
    ----------
    adata
        AnnData-like object with counts (or log-normalised values) and the ``obs`` columns.
    condition, sample
        ``obs`` columns of the condition and of the sample (the replicate).
    treated, control
        The two conditions compared (default: the two levels, sorted; control first).
    pair
        ``obs`` column pairing treated with control cells (patient); default ``sample``.
    drug, disease
        The treated cells' drug and the disease, for the knowledge-base link.
    design
        Design formula of the DA test (default ``~ condition``).
    programmes
        Programme sources scored (``resistance``, ``progeny``, ``hallmark``).
    reference_key, reference
        Normal cell types for the copy-number step (run when ``var`` has positions).
    seed
        Seed of the PCA, DA sampling and clone clustering.
    progress
        ``progress(description, work)`` runs a step (a spinner on the command line).
    source
        The file the data came from, named on the page.
    batch_key
        ``obs`` column whose groups are centred before the DA neighbour graph (the sample,
        as the command line passes it, keeps a drug's expression response from reading as a
        change in abundance; ``None``: no centring).

    Returns
    -------
    str
        The HTML page. ``adata`` gains ``obsm["oncoresist_<source>"]``,
        ``uns["oncoresist_shifts"]``, ``uns["oncoresist_link"]``, ``uns["oncoresist_da"]``,
        ``obsm["X_pca"]`` (when no UMAP) and the ``cnv`` keys when copy number ran.
    """
    from oncoresist.singlecell import (
        link_programmes,
        programme_shifts,
        resistance_programmes,
        score,
    )

    run = progress or (lambda _description, work: work())
    treated, control = _levels(adata, condition, treated, control)
    for column in (sample, pair):
        if column is not None and column not in adata.obs.columns:
            raise InputError(f"no obs column {column!r}", field=f"obs/{column}")
    notes: list[str] = []
    figures: list[tuple[str, Markup, str]] = []
    sections: list[tuple[str, list[dict[str, Any]], list[str]]] = []

    scored: list[pd.DataFrame] = []
    for name in programmes:
        run(f"scoring {name} programmes", lambda n=name: score(adata, n, rng=seed))
        scored.append(adata.obsm[f"oncoresist_{name}"])
    first = scored[0]
    xy, basis = run("embedding", lambda: embedding(adata, seed=seed))
    cond = adata.obs[condition].astype(str).to_numpy()
    where = ("UMAP from obsm['X_umap']." if basis == "UMAP"
             else "First two principal components (no UMAP in the data).")  # fmt: skip
    figures.append(("Cells by condition", Markup(svg.embedding_condition_svg(
        xy, cond, what=condition, basis=basis)), where))  # fmt: skip
    figures.append(("Programme scores per condition", Markup(svg.programme_box_svg(
        first, cond, adata.obs[sample].astype(str).to_numpy())),
        "Boxes: cells; points: sample means."))  # fmt: skip

    unit = pair or sample
    shifts = link = None
    try:
        shifts = programme_shifts(adata, scores=first, condition=condition, treated=treated,
                                  control=control, sample=unit)  # fmt: skip
    except InputError as exc:
        notes.append(f"Programme shifts not tested: {exc.message}; give --pair (the column "
                     "holding both conditions, e.g. the patient).")  # fmt: skip
    if shifts is not None:
        per_sample = shifts[shifts["sample"] != "(paired)"]
        # technical programmes (dissociation stress) are not shown as the headline
        technical = {n for n, p in resistance_programmes().items() if p.get("caveat")}
        biological = per_sample[~per_sample["programme"].isin(technical)]
        ranked = (biological if len(biological) else per_sample).sort_values(
            "effect_size", ascending=False, kind="stable")  # fmt: skip
        best = ranked.iloc[0]["programme"]
        figures.insert(1, (f"Cells by {best} score", Markup(svg.embedding_score_svg(
            xy, first[best].to_numpy(), programme=best, basis=basis)),
            f"{best}: the programme with the largest rise in one {unit}."))  # fmt: skip
        sections.append(("Programme shifts", [frame_table(
            f"Mean programme score, {treated} minus {control}, per {unit} (Welch test over "
            "cells, BH) and paired over samples", _shift_rows(shifts), ident="shifts")],
            [f"Row '(paired)': the mean of the per-{unit} shifts, paired t-test over "
             f"{unit}s; its cell counts are the numbers of {unit}s."]))  # fmt: skip
        try:
            link = link_programmes(shifts, drug=drug, disease=disease, adata=adata)
        except UnknownDrugError:
            notes.append(f"The drug {drug!r} is not in the knowledge base: the mechanisms "
                         "below are listed for every drug they cover.")  # fmt: skip
            link = link_programmes(shifts, disease=disease, adata=adata)
        if len(link):
            sections.append(
                (
                    "Link to the knowledge base",
                    [
                        frame_table(
                            "Knowledge-base mechanisms of the programmes that rose",
                            _link_rows(link),
                            ident="kb-link",
                        )
                    ],
                    [
                        f"{r.assertion}: {r.summary}"
                        for r in link.drop_duplicates("assertion").itertuples()
                    ],
                )
            )
        else:
            sections.append(("Link to the knowledge base", [], [
                "No resistance programme rose significantly (FDR 5 %, Cohen's d ≥ 0.5) in "
                "any sample, so no knowledge-base mechanism is reported."]))  # fmt: skip

    try:
        from oncoresist.singlecell import da

        table = run("testing differential abundance", lambda: da(
            adata, condition=condition, sample=sample, design=design, treated=treated,
            control=control, seed=seed, batch_key=batch_key))  # fmt: skip
        figures.append(("Differential abundance", Markup(svg.da_svg(table)),
                        "Neighbourhoods (Milo-style); spatial FDR < 0.1 coloured."))  # fmt: skip
        n_sig = int((table["spatial_fdr"] < 0.1).sum())
        notes.append(f"Differential abundance: {n_sig} of {len(table)} neighbourhoods at "
                     "spatial FDR < 0.1.")  # fmt: skip
    except InputError as exc:
        notes.append(f"Differential abundance not tested: {exc.message}")

    if reference_key is not None:
        from oncoresist.singlecell import infer_cnv

        run("inferring copy number", lambda: infer_cnv(
            adata, reference_key=reference_key, reference_categories=reference, rng=seed,
            source=source))  # fmt: skip
        figures.append(("Inferred copy number", Markup(svg.cnv_heatmap_svg(
            adata.obsm["X_cnv"], chr_pos=adata.uns["cnv"]["chr_pos"],
            clones=adata.obs["cnv_clone"].astype(str).to_numpy(),
            score=adata.obs["cnv_score"].to_numpy())),
            f"Reference: {adata.uns['cnv']['reference']}."))  # fmt: skip
        counts = pd.crosstab(adata.obs["cnv_clone"], adata.obs["cnv_malignant"].astype(str))
        counts = counts.reset_index().rename(columns={"cnv_clone": "clone"})
        clone_table = frame_table("Cells per clone and malignancy call", counts,
                                  ident="cnv-clones")  # fmt: skip
        sections.append(("Copy number", [clone_table], []))
    else:
        notes.append("Copy number not inferred: give --reference-key and --reference (normal "
                     "cell types) with genomic positions in var.")  # fmt: skip

    summary = [("Data", source or "(in memory)"), ("Cells", f"{adata.n_obs:,}"),
               ("Genes", f"{adata.n_vars:,}"), ("Comparison", f"{treated} vs {control} "
               f"({condition})"), ("Samples", f"{adata.obs[sample].nunique()} ({sample})"),
               ("Drug", drug or "not given"), ("Embedding", basis)]  # fmt: skip
    return page("singlecell.html", title=title, summary=summary, notes=notes,
                figures=figures, sections=sections)  # fmt: skip
