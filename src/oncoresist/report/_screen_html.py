"""Two self-contained HTML pages for a pooled CRISPR screen under drug: QC and results.

:func:`screen_qc_html` opens with a verdict (each QC check, its threshold, and what failed:
:func:`screen_qc_flags`), then the per-sample read statistics, the replicate agreement, the
separation of essential from non-essential genes and the built-in null checks, with their
figures. :func:`screen_results_html` shows the gene ranking both ways (resistance: enriched
under drug; sensitisation: depleted), the volcano plot, the sgRNAs of the top genes and the
top-hit tables, where what the knowledge base already says about a gene is highlighted so
the reader tells known hits from new ones.

As with the patient report (:mod:`oncoresist.report._html`): CSS inline, figures as inline
SVG (:mod:`oncoresist.report._screen_svg`), no script, nothing fetched, no URL; every
string that comes from the data is escaped.

References
----------
Li W et al. MAGeCK enables robust identification of essential genes from genome-scale
CRISPR/Cas9 knockout screens. Genome Biol 2014 (PMID 25476604).
Hart T et al. Evaluation and design of genome-wide CRISPR/SpCas9 knockout screens.
G3 2017 (PMID 28655737): essential / non-essential reference sets as a quality measure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Literal

import numpy as np
import pandas as pd

from oncoresist.errors import InputError
from oncoresist.report._screen_svg import (
    P_CAP,
    essential_svg,
    fmt,
    fmt_p,
    gene_lfc,
    rank_svg,
    read_distribution_svg,
    sgrna_lfc_svg,
    volcano_svg,
)
from oncoresist.report._templates import Markup, number, page

__all__ = ["QC_THRESHOLDS", "screen_qc_flags", "screen_qc_html", "screen_results_html"]

#: Default QC thresholds; a check is flagged when its value crosses the threshold.
QC_THRESHOLDS: dict[str, float] = {
    "gini": 0.5,
    "zero_fraction": 0.1,
    "pearson_log": 0.7,
    "roc_auc": 0.8,
    "null_calls": 0,
}

_RULES = {
    "gini": (
        "Gini index of reads over sgRNAs",
        "> {t}",
        "bottlenecked: a few sgRNAs hold most reads (common in drug arms after strong "
        "selection; it costs power)",
    ),
    "zero_fraction": (
        "Fraction of sgRNAs with no read",
        "> {t}",
        "many sgRNAs lost (low coverage or a bottleneck)",
    ),
    "pearson_log": (
        "Replicate Pearson correlation of log counts",
        "< {t}",
        "replicates disagree (drug arms are often bottlenecked, so their replicates agree "
        "less; hits then rest on fewer cells)",
    ),
    "roc_auc": (
        "Essential vs non-essential separation (ROC AUC)",
        "< {t}",
        "essential genes' sgRNAs are barely depleted: weak selection or poor cutting",
    ),
    "null_calls": (
        "Genes called at FDR < 0.05 comparing replicates of one arm",
        "> {t}",
        "the test calls genes where there should be none: expect false positives",
    ),
}


# ----------------------------------------------------------------------- helpers
def _float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def _int(value: object) -> str:
    v = _float(value)
    return "n/a" if not math.isfinite(v) else f"{v:,.0f}"


def _pct(value: object) -> str:
    v = _float(value)
    return "n/a" if not math.isfinite(v) else f"{v:.1%}"


def _cell(text: str, kind: str = "num", *, flagged: bool = False) -> dict[str, str]:
    """One table cell for the ``cells_table`` macro: ``kind`` picks its markup."""
    return {"text": text, "kind": "flag" if flagged else kind}


def _grid(caption: str, head: list[str], rows: list[dict], *, cls: str = "", ident: str = ""):
    """A table for the ``cells_table`` macro (rows: ``attrs`` and ``cells``)."""
    return {"caption": caption, "head": head, "rows": rows, "cls": cls, "ident": ident}


def _row(cells: list[dict[str, str]], **attrs: str) -> dict:
    return {"attrs": {k.replace("_", "-"): v for k, v in attrs.items()}, "cells": cells}


def _need(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"the {what} lacks columns {missing}; it has {list(frame.columns)}", field=missing[0]
        )


# ----------------------------------------------------------------------- QC
def screen_qc_flags(
    *,
    sample_qc: pd.DataFrame,
    correlations: pd.DataFrame,
    separation: pd.DataFrame | None = None,
    nulls: pd.DataFrame | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Every QC check of a screen, its value, threshold and whether it is flagged.

    Parameters
    ----------
    sample_qc
        Index ``sample``: ``gini`` and ``zero_fraction`` (and the other read statistics).
    correlations
        Long table: ``group, sample_a, sample_b, pearson_log`` (replicate pairs).
    separation
        Index ``sample``: ``roc_auc`` of essential vs non-essential sgRNA LFC, or ``None``.
    nulls
        Long table: ``group, sample_a, sample_b, resistance_fdr05, sensitisation_fdr05``
        (genes called comparing two replicates of one arm), or ``None``.
    thresholds
        Overrides of :data:`QC_THRESHOLDS` (keys ``gini``, ``zero_fraction``,
        ``pearson_log``, ``roc_auc``, ``null_calls``).

    Returns
    -------
    pandas.DataFrame
        One row per check and subject: ``check`` (a key of :data:`QC_THRESHOLDS`),
        ``subject`` (sample or pair), ``value``, ``threshold``, ``rule`` (e.g.
        ``"> 0.5"``), ``flagged`` (bool; a NaN value is not flagged) and ``meaning``.

    Examples
    --------
    >>> import pandas as pd
    >>> qc = pd.DataFrame({"gini": [0.2, 0.7], "zero_fraction": [0.0, 0.3]},
    ...                   index=pd.Index(["ctrl", "drug"], name="sample"))
    >>> pairs = pd.DataFrame(columns=["group", "sample_a", "sample_b", "pearson_log"])
    >>> flags = screen_qc_flags(sample_qc=qc, correlations=pairs)
    >>> flags.loc[flags["flagged"], ["check", "subject"]].values.tolist()
    [['gini', 'drug'], ['zero_fraction', 'drug']]
    """
    limits = {**QC_THRESHOLDS, **(thresholds or {})}
    unknown = set(limits) - set(QC_THRESHOLDS)
    if unknown:
        raise InputError(
            f"unknown thresholds {sorted(unknown)}; expected some of {list(QC_THRESHOLDS)}",
            field="thresholds",
        )
    _need(sample_qc, ["gini", "zero_fraction"], "sample QC table")
    rows: list[dict[str, object]] = []

    def add(check: str, subject: str, value: object) -> None:
        v, t = _float(value), float(limits[check])
        above = check in ("gini", "zero_fraction", "null_calls")
        flagged = bool(v > t) if above else bool(v < t)
        rows.append(
            {
                "check": check,
                "subject": subject,
                "value": v,
                "threshold": t,
                "rule": _RULES[check][1].format(t=fmt(t)),
                "flagged": flagged and math.isfinite(v),
                "meaning": _RULES[check][2],
            }
        )

    for sample, row in sample_qc.iterrows():
        add("gini", str(sample), row["gini"])
        add("zero_fraction", str(sample), row["zero_fraction"])
    if not correlations.empty:
        _need(correlations, ["group", "sample_a", "sample_b", "pearson_log"], "correlation table")
        for row in correlations.itertuples(index=False):
            add("pearson_log", f"{row.group}: {row.sample_a} vs {row.sample_b}", row.pearson_log)
    if separation is not None and not separation.empty:
        _need(separation, ["roc_auc"], "separation table")
        for sample, row in separation.iterrows():
            add("roc_auc", str(sample), row["roc_auc"])
    if nulls is not None and not nulls.empty:
        cols = ["group", "sample_a", "sample_b", "resistance_fdr05", "sensitisation_fdr05"]
        _need(nulls, cols, "null-check table")
        for row in nulls.itertuples(index=False):
            calls = _float(row.resistance_fdr05) + _float(row.sensitisation_fdr05)
            add("null_calls", f"{row.group}: {row.sample_a} vs {row.sample_b}", calls)
    columns = ["check", "subject", "value", "threshold", "rule", "flagged", "meaning"]
    return pd.DataFrame(rows, columns=columns).astype({"flagged": bool})


def _verdict_section(flags: pd.DataFrame) -> dict:
    flagged = [
        {"subject": r.subject, "what": _RULES[r.check][0], "rule": r.rule, "meaning": r.meaning,
         "value": _value_text(r.check, r.value)}
        for r in flags[flags["flagged"]].itertuples(index=False)
    ]  # fmt: skip
    rows = []
    for check, (what, rule, meaning) in _RULES.items():
        mine = flags[flags["check"] == check]
        t = QC_THRESHOLDS[check] if mine.empty else float(mine["threshold"].iloc[0])
        status = "not run" if mine.empty else f"{int(mine['flagged'].sum())} of {len(mine)} flagged"
        cells = [_cell(what, "th"), _cell(f"flag when {rule.format(t=fmt(t))}", "td"),
                 _cell(meaning, "td"), _cell(status, "td")]  # fmt: skip
        rows.append(_row(cells, data_check=check))
    checks = _grid("QC checks and their thresholds", ["Check", "Rule", "If flagged", "Result"],
                   rows, cls="qc-checks")  # fmt: skip
    return {"flagged": flagged, "n_checks": len(flags), "checks": checks}


def _value_text(check: str, value: float) -> str:
    if check == "zero_fraction":
        return _pct(value)
    if check == "null_calls":
        return _int(value)
    return fmt(value)


def _flag_lookup(flags: pd.DataFrame) -> set[tuple[str, str]]:
    return {(r.check, r.subject) for r in flags.itertuples(index=False) if r.flagged}


def _sample_section(sample_qc: pd.DataFrame, flagged: set) -> dict:
    cols = ["reads", "sgrnas", "zero_sgrnas", "zero_fraction", "low_sgrnas", "median_reads"]
    _need(sample_qc, [*cols, "gini", "top10_share"], "sample QC table")
    rows = []
    for sample, r in sample_qc.iterrows():
        s = str(sample)
        cells = [
            _cell(s, "th"), _cell(_int(r["reads"])), _cell(_int(r["sgrnas"])),
            _cell(_int(r["zero_sgrnas"])),
            _cell(_pct(r["zero_fraction"]), flagged=("zero_fraction", s) in flagged),
            _cell(_int(r["low_sgrnas"])), _cell(_int(r["median_reads"])),
            _cell(number(r["gini"], 3), flagged=("gini", s) in flagged),
            _cell(_pct(r["top10_share"])),
        ]  # fmt: skip
        rows.append(_row(cells, data_sample=s))
    head = ["Sample", "Reads", "sgRNAs", "sgRNAs with 0 reads", "Zero fraction"]
    head += ["Low-count sgRNAs", "Median reads per sgRNA", "Gini index", "Top-10 share"]
    return _grid("Read statistics per sample", head, rows, cls="sample-qc", ident="sample-qc")


def _pairs(frame: pd.DataFrame, columns: list[tuple[str, int | None, str]], flagged: set):
    """Rows of replicate pairs: group, samples, then ``(column, digits, check)`` cells."""
    rows = []
    for r in frame.itertuples(index=False):
        subject = f"{r.group}: {r.sample_a} vs {r.sample_b}"
        cells = [_cell(str(r.group), "th"), _cell(str(r.sample_a), "td"),
                 _cell(str(r.sample_b), "td")]  # fmt: skip
        for column, digits, check in columns:
            value = getattr(r, column)
            text = _int(value) if digits is None else number(value, digits)
            bad = (check, subject) in flagged and (digits is not None or _float(value) > 0)
            cells.append(_cell(text, flagged=bad))
        rows.append(_row(cells))
    return rows


def _correlation_section(correlations: pd.DataFrame, flagged: set) -> dict | None:
    if correlations.empty:
        return None
    _need(correlations, ["group", "sample_a", "sample_b", "pearson_log", "spearman"],
          "correlation table")  # fmt: skip
    rows = _pairs(correlations, [("pearson_log", 3, "pearson_log"), ("spearman", 3, "")], flagged)
    return _grid("Correlation of replicate pairs (log counts)",
                 ["Group", "Sample A", "Sample B", "Pearson (log counts)", "Spearman"], rows,
                 cls="correlations", ident="correlations")  # fmt: skip


def _separation_section(separation: pd.DataFrame | None, flagged: set) -> dict | None:
    if separation is None or separation.empty:
        return None
    cols = ["roc_auc", "pr_auc", "median_lfc_essential", "median_lfc_nonessential"]
    _need(separation, [*cols, "delta", "n_essential", "n_nonessential"], "separation table")
    rows = []
    for sample, r in separation.iterrows():
        s = str(sample)
        cells = [
            _cell(s, "th"), _cell(number(r["roc_auc"], 3), flagged=("roc_auc", s) in flagged),
            _cell(number(r["pr_auc"], 3)), _cell(number(r["median_lfc_essential"], 2)),
            _cell(number(r["median_lfc_nonessential"], 2)), _cell(number(r["delta"], 2)),
            _cell(_int(r["n_essential"])), _cell(_int(r["n_nonessential"])),
        ]  # fmt: skip
        rows.append(_row(cells, data_sample=s))
    head = ["Sample", "ROC AUC", "PR AUC", "Median LFC, essential"]
    head += ["Median LFC, non-essential", "Difference", "Essential sgRNAs", "Non-essential sgRNAs"]
    caption = ("How well each sample's sgRNA LFC (vs T0) separates essential from "
               "non-essential genes")  # fmt: skip
    return _grid(caption, head, rows, cls="separation", ident="separation")


def _null_section(nulls: pd.DataFrame | None, flagged: set) -> dict | None:
    if nulls is None or nulls.empty:
        return None
    columns = [(c, None, "null_calls") for c in ("resistance_fdr05", "sensitisation_fdr05")]
    return _grid("Genes called at FDR < 0.05 comparing two replicates of one arm (should be 0)",
                 ["Group", "Sample A", "Sample B", "Resistance calls", "Sensitisation calls"],
                 _pairs(nulls, columns, flagged), cls="nulls", ident="null-checks")  # fmt: skip


def screen_qc_html(
    *,
    counts: pd.DataFrame,
    sample_qc: pd.DataFrame,
    correlations: pd.DataFrame,
    separation: pd.DataFrame | None = None,
    guide_lfc: pd.DataFrame | None = None,
    essential: set[str] | None = None,
    nonessential: set[str] | None = None,
    nulls: pd.DataFrame | None = None,
    title: str = "CRISPR screen QC",
    source: str = "",
    thresholds: Mapping[str, float] | None = None,
) -> str:
    """The QC page of a screen: verdict, samples, replicates, essential genes, null checks.

    Parameters
    ----------
    counts
        The count table (index sgRNA; ``gene`` then one column of reads per sample).
    sample_qc
        Index ``sample``: ``reads, sgrnas, zero_sgrnas, zero_fraction, low_sgrnas,
        median_reads, gini, top10_share``.
    correlations
        Long: ``group, sample_a, sample_b, pearson_log, spearman``.
    separation
        Index ``sample``: ``roc_auc, pr_auc, median_lfc_essential,
        median_lfc_nonessential, delta, n_essential, n_nonessential``; or ``None``.
    guide_lfc, essential, nonessential
        sgRNA LFC vs T0 per sample (index sgRNA; ``gene`` then one column per sample) and
        the reference gene sets, for the essential-depletion figure; drawn when all three
        are given.
    nulls
        Long: ``group, sample_a, sample_b, resistance_fdr05, sensitisation_fdr05``; or
        ``None``.
    title
        Page title.
    source
        Where the data came from (shown as text).
    thresholds
        Overrides of :data:`QC_THRESHOLDS`.

    Returns
    -------
    str
        The HTML document, self-contained (no script, no URL).
    """
    flags = screen_qc_flags(
        sample_qc=sample_qc,
        correlations=correlations,
        separation=separation,
        nulls=nulls,
        thresholds=thresholds,
    )
    flagged = _flag_lookup(flags)
    n_genes = counts["gene"].nunique() if "gene" in counts.columns else None
    facts = [
        ("Source", source or "not given"),
        ("Samples", str(len(sample_qc))),
        ("sgRNAs", f"{len(counts):,}"),
        ("Genes", f"{n_genes:,}" if n_genes is not None else "n/a"),
    ]
    samples = _sample_section(sample_qc, flagged)
    essential_figure = None
    if guide_lfc is not None and essential is not None and nonessential is not None:
        essential_figure = Markup(essential_svg(guide_lfc, essential, nonessential))
    return page(
        "screen_qc.html", title=title, header_facts=facts, **_verdict_section(flags),
        samples=samples, reads_svg=Markup(read_distribution_svg(counts)),
        correlations=_correlation_section(correlations, flagged),
        separation=_separation_section(separation, flagged), essential_svg=essential_figure,
        nulls=_null_section(nulls, flagged),
    )  # fmt: skip


# ----------------------------------------------------------------------- results
def _top(genes: pd.DataFrame, direction: Literal["pos", "neg"], n: int) -> pd.DataFrame:
    rank = pd.to_numeric(genes[f"{direction}|rank"], errors="coerce")
    keep = rank.notna()
    order = np.argsort(rank[keep].to_numpy(float), kind="stable")
    return genes[keep.to_numpy()].iloc[order[: max(n, 0)]]


def _known_text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip()


def _hit_table(
    genes: pd.DataFrame, direction: Literal["pos", "neg"], *, top: int, fdr: float
) -> dict:
    word = "resistance" if direction == "pos" else "sensitisation"
    best = _top(genes, direction, top)
    has_z = "normZ" in genes.columns
    lfc = gene_lfc(genes) if "lfc" in genes.columns else genes.get(f"{direction}|lfc")
    rows = []
    for gene, r in best.iterrows():
        known = _known_text(r.get("known"))
        q = _float(r[f"{direction}|fdr"])
        cells = [
            _cell(_int(r[f"{direction}|rank"])), _cell(str(gene), "th"), _cell(_int(r.get("num"))),
            _cell(number(lfc[gene] if lfc is not None else math.nan, 2)),
            _cell(fmt_p(_float(r[f"{direction}|p-value"]))),
            _cell(fmt_p(q), "sig" if q < fdr else "num"),
            *([_cell(number(r["normZ"], 2))] if has_z else []),
            _cell(known, "known" if known else "new"),
        ]  # fmt: skip
        rows.append(_row(cells, **{"class": "known" if known else "new", "data_gene": str(gene)}))
    head = ["Rank", "Gene", "sgRNAs", "LFC (log2)", "p-value", "FDR"]
    head += [*(["normZ"] if has_z else []), "Knowledge base"]
    n_hits = int((pd.to_numeric(genes[f"{direction}|fdr"], errors="coerce") < fdr).sum())
    caption = (
        f"Top {len(best)} {word} genes by rank ({n_hits} genes at FDR < {fmt(fdr)}; "
        "FDR in bold when below it). Highlighted: what the knowledge base already says."
    )
    return _grid(caption, head, rows, cls=f"hits hits-{direction}", ident=f"hits-{direction}")


def screen_results_html(
    *,
    genes: pd.DataFrame,
    sgrnas: pd.DataFrame,
    qc_summary: Mapping[str, str] | None = None,
    contrast: str = "PLX14 vs D14",
    fdr: float = 0.05,
    top: int = 20,
    title: str = "CRISPR screen results",
) -> str:
    """The results page of a screen: rankings both ways, volcano, sgRNAs and hit tables.

    Parameters
    ----------
    genes
        The gene table (index: gene symbols): ``num``, ``{pos,neg}|{score,p-value,fdr,
        rank,lfc}``, optionally ``normZ`` (signed, positive = resistance), ``known`` (the
        knowledge base's text, '' where none) and ``lfc`` (gene LFC; else ``pos|lfc``).
    sgrnas
        The sgRNA table: ``gene``, ``lfc`` (log2, drug vs control).
    qc_summary
        A few QC facts (label to text) shown as a small table, e.g. the QC verdict.
    contrast
        What was compared, e.g. "PLX14 vs D14" (drug arm vs control arm).
    fdr
        FDR threshold for hits.
    top
        Rows of each hit table.
    title
        Page title.

    Returns
    -------
    str
        The HTML document, self-contained (no script, no URL).

    Examples
    --------
    >>> import pandas as pd
    >>> genes = pd.DataFrame(
    ...     {"num": 4, "pos|rank": [1, 2], "pos|p-value": [1e-9, 0.4], "pos|fdr": [2e-9, 0.4],
    ...      "neg|rank": [2, 1], "neg|p-value": [0.9, 1e-4], "neg|fdr": [0.9, 2e-4],
    ...      "pos|lfc": [2.1, -1.5], "known": ["MEK inhibitors: bypass", ""]},
    ...     index=pd.Index(["NF1", "KEAP1"], name="id"))
    >>> sgrnas = pd.DataFrame({"gene": ["NF1", "NF1", "KEAP1"], "lfc": [2.3, 1.9, -1.5]},
    ...                       index=pd.Index(["sg1", "sg2", "sg3"], name="sgRNA"))
    >>> html = screen_results_html(genes=genes, sgrnas=sgrnas, contrast="drug vs DMSO")
    >>> bare = html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # a name, not a link
    >>> html.startswith("<!DOCTYPE html>"), "http" in bare
    (True, False)
    """
    if not 0 < fdr < 1:
        raise InputError(f"fdr {fdr!r}; expected a number in (0, 1)", field="fdr")
    cols = [f"{d}|{c}" for d in ("pos", "neg") for c in ("p-value", "fdr", "rank")]
    _need(genes, ["num", *cols], "gene table")
    _need(sgrnas, ["gene", "lfc"], "sgRNA table")
    known = (
        genes["known"].map(_known_text)
        if "known" in genes.columns
        else pd.Series("", index=genes.index)
    )
    hits = {
        d: pd.to_numeric(genes[f"{d}|fdr"], errors="coerce").to_numpy(float) < fdr
        for d in ("pos", "neg")
    }
    is_known = (known != "").to_numpy()
    f = fmt(fdr)
    facts = [("Contrast", contrast), ("Genes tested", f"{len(genes):,}"),
             ("sgRNAs", f"{len(sgrnas):,}")]  # fmt: skip
    for d, word in (("pos", "Resistance"), ("neg", "Sensitisation")):
        facts.append((f"{word} hits (FDR < {f})", f"{int(hits[d].sum())}, of which "
                      f"{int((hits[d] & is_known).sum())} in the knowledge base"))  # fmt: skip
    top_fig = 10
    directions = [
        {"word": word, "meaning": meaning, "hits": _hit_table(genes, d, top=top, fdr=fdr),
         "svg": Markup(rank_svg(genes, direction=d, top=top_fig))}
        for d, word, meaning in (("pos", "resistance", "enriched under drug"),
                                 ("neg", "sensitisation", "depleted under drug"))
    ]  # type: ignore[arg-type]  # fmt: skip
    strips = []
    for d, word in (("pos", "resistance"), ("neg", "sensitisation")):
        names = [str(g) for g in _top(genes, d, top_fig).index]  # type: ignore[arg-type]
        svg = sgrna_lfc_svg(sgrnas, names, title=f"sgRNAs of the top {len(names)} {word} genes",
                            ident=f"sgrna-{d}-plot")  # fmt: skip
        strips.append({"svg": Markup(svg), "n": len(names), "word": word})
    return page(
        "screen_results.html", title=title, header_facts=facts, contrast=contrast, fdr=f,
        fdr_pct=f"{fdr:.0%}", p_cap=fmt(P_CAP), p_cap_int=int(P_CAP), top_fig=top_fig,
        qc_summary=[(str(k), str(v)) for k, v in (qc_summary or {}).items()],
        directions=directions, volcano=Markup(volcano_svg(genes, fdr=fdr, top=top_fig)),
        strips=strips,
    )  # fmt: skip
