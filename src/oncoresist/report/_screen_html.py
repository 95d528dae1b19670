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
from html import escape
from typing import Literal

import numpy as np
import pandas as pd

from oncoresist.errors import InputError
from oncoresist.report._html import CSS as _BASE_CSS
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

CSS = (
    _BASE_CSS
    + """
.qc-verdict { border: 3px solid currentColor; border-radius: 0.4rem; padding: 0.6rem 1rem;
  margin: 0.6rem 0 1rem; font-size: 1.15rem; }
.qc-ok { color: #004d38; background: #d5f0e6; }
.qc-flagged { color: #7a2e00; background: #fde3d3; }
td.flag { background: #fde3d3; font-weight: 700; }
.flag-mark { font-weight: 700; color: #7a2e00; }
td.known { background: #fff3cd; border-left: 6px solid #E69F00; }
.kb-tag { display: inline-block; font-weight: 700; padding: 0 0.35rem; margin-right: 0.3rem;
  border: 2px solid #7a5a00; border-radius: 0.25rem; color: #3d2d00; background: #ffe8a3; }
.new-tag { font-weight: 700; color: #004d38; }
td.sig { font-weight: 700; }
.how p { max-width: 62rem; }
"""
)


# ----------------------------------------------------------------------- helpers
def _table(
    caption: str, head: list[str], rows: list[str], *, cls: str = "", ident: str = ""
) -> str:
    ths = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
    attrs = (f' class="{cls}"' if cls else "") + (f' id="{ident}"' if ident else "")
    return (
        f"<table{attrs}><caption>{caption}</caption><thead><tr>{ths}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def _int(value: object) -> str:
    v = _float(value)
    return "n/a" if not math.isfinite(v) else f"{v:,.0f}"


def _fixed(value: object, digits: int = 2) -> str:
    v = _float(value)
    return "n/a" if not math.isfinite(v) else f"{v:.{digits}f}".replace("-", "\u2212")


def _pct(value: object) -> str:
    v = _float(value)
    return "n/a" if not math.isfinite(v) else f"{v:.1%}"


def _cell(text: str, *, flagged: bool = False) -> str:
    if flagged:
        return f'<td class="num flag">{text} <span class="flag-mark">(flag)</span></td>'
    return f'<td class="num">{text}</td>'


def _need(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"the {what} lacks columns {missing}; it has {list(frame.columns)}", field=missing[0]
        )


def _page(title: str, header: str, body: list[str], footer_note: str) -> str:
    from oncoresist import __version__

    footer = f"<footer><p>Generated by oncoresist {escape(__version__)}. {footer_note}</p></footer>"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        f"<body>{header}<main>{''.join(body)}</main>{footer}</body></html>\n"
    )


def _nav(items: Iterable[tuple[str, str]]) -> str:
    links = "".join(f'<li><a href="#{i}">{escape(t)}</a></li>' for i, t in items)
    return f'<nav aria-label="Sections"><ul>{links}</ul></nav>'


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{caption}</figcaption></figure>"


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


def _verdict_section(flags: pd.DataFrame) -> str:
    flagged = flags[flags["flagged"]]
    if flagged.empty:
        verdict = (
            f'<p class="qc-verdict qc-ok" role="status"><strong>No QC flag</strong>: all '
            f"{len(flags)} checks pass the thresholds below.</p>"
        )
    else:
        items = "".join(
            f"<li><strong>{escape(r.subject)}</strong>: {escape(_RULES[r.check][0])} "
            f"{_value_text(r.check, r.value)} ({escape(r.rule)}): {escape(r.meaning)}.</li>"
            for r in flagged.itertuples(index=False)
        )
        verdict = (
            f'<div class="qc-verdict qc-flagged" role="status"><p><strong>{len(flagged)} of '
            f"{len(flags)} checks flagged</strong>: review these before trusting the hits."
            f"</p><ul>{items}</ul></div>"
        )
    rows = []
    for check, (what, rule, meaning) in _RULES.items():
        mine = flags[flags["check"] == check]
        t = QC_THRESHOLDS[check] if mine.empty else float(mine["threshold"].iloc[0])
        n_flag = int(mine["flagged"].sum())
        status = "not run" if mine.empty else f"{n_flag} of {len(mine)} flagged"
        rows.append(
            f'<tr data-check="{check}"><th scope="row">{escape(what)}</th>'
            f"<td>flag when {escape(rule.format(t=fmt(t)))}</td><td>{escape(meaning)}</td>"
            f"<td>{escape(status)}</td></tr>"
        )
    table = _table(
        "QC checks and their thresholds",
        ["Check", "Rule", "If flagged", "Result"],
        rows,
        cls="qc-checks",
    )
    return (
        '<section id="verdict" aria-labelledby="verdict-h"><h2 id="verdict-h">Verdict</h2>'
        + verdict
        + table
        + '<p class="muted">The thresholds are rules of thumb for genome-wide libraries; '
        "arms under strong drug selection often cross the Gini and correlation thresholds. "
        "A flag asks for a look, not for discarding the screen.</p></section>"
    )


def _value_text(check: str, value: float) -> str:
    if check == "zero_fraction":
        return _pct(value)
    if check == "null_calls":
        return _int(value)
    return fmt(value)


def _flag_lookup(flags: pd.DataFrame) -> set[tuple[str, str]]:
    return {(r.check, r.subject) for r in flags.itertuples(index=False) if r.flagged}


def _sample_section(counts: pd.DataFrame, sample_qc: pd.DataFrame, flagged: set) -> str:
    cols = ["reads", "sgrnas", "zero_sgrnas", "zero_fraction", "low_sgrnas", "median_reads"]
    cols += ["gini", "top10_share"]
    _need(sample_qc, cols, "sample QC table")
    rows = []
    for sample, r in sample_qc.iterrows():
        s = str(sample)
        rows.append(
            f'<tr data-sample="{escape(s)}"><th scope="row">{escape(s)}</th>'
            + _cell(_int(r["reads"]))
            + _cell(_int(r["sgrnas"]))
            + _cell(_int(r["zero_sgrnas"]))
            + _cell(_pct(r["zero_fraction"]), flagged=("zero_fraction", s) in flagged)
            + _cell(_int(r["low_sgrnas"]))
            + _cell(_int(r["median_reads"]))
            + _cell(_fixed(r["gini"], 3), flagged=("gini", s) in flagged)
            + _cell(_pct(r["top10_share"]))
            + "</tr>"
        )
    head = ["Sample", "Reads", "sgRNAs", "sgRNAs with 0 reads", "Zero fraction"]
    head += ["Low-count sgRNAs", "Median reads per sgRNA", "Gini index", "Top-10 share"]
    table = _table("Read statistics per sample", head, rows, cls="sample-qc", ident="sample-qc")
    figure = _figure(
        read_distribution_svg(counts),
        "Reads per sgRNA in each sample, log10(reads + 1): whiskers span the 5th to 95th "
        "percentile, the box the 25th to 75th, the bar marks the median. A bottlenecked "
        "sample has a wide box and many sgRNAs at zero.",
    )
    return (
        '<section id="samples" aria-labelledby="samples-h"><h2 id="samples-h">Samples</h2>'
        + table
        + '<p class="muted">Gini index: 0 when every sgRNA has the same reads, 1 when one '
        "sgRNA has them all. Low-count sgRNAs: fewer than 30 reads. "
        "Top-10 share: the fraction of the sample's reads held by its 10 most-read "
        "sgRNAs.</p>" + figure + "</section>"
    )


def _correlation_section(correlations: pd.DataFrame, flagged: set) -> str:
    head = '<section id="replicates" aria-labelledby="replicates-h">'
    head += '<h2 id="replicates-h">Replicate agreement</h2>'
    if correlations.empty:
        return head + "<p>No replicate pairs.</p></section>"
    _need(
        correlations,
        ["group", "sample_a", "sample_b", "pearson_log", "spearman"],
        "correlation table",
    )
    rows = []
    for r in correlations.itertuples(index=False):
        subject = f"{r.group}: {r.sample_a} vs {r.sample_b}"
        rows.append(
            f'<tr><th scope="row">{escape(str(r.group))}</th><td>{escape(str(r.sample_a))}</td>'
            f"<td>{escape(str(r.sample_b))}</td>"
            + _cell(
                _fixed(r.pearson_log, 3),
                flagged=("pearson_log", subject) in flagged,
            )
            + _cell(_fixed(r.spearman, 3))
            + "</tr>"
        )
    table = _table(
        "Correlation of replicate pairs (log counts)",
        ["Group", "Sample A", "Sample B", "Pearson (log counts)", "Spearman"],
        rows,
        cls="correlations",
        ident="correlations",
    )
    return head + table + "</section>"


def _separation_section(
    separation: pd.DataFrame | None,
    guide_lfc: pd.DataFrame | None,
    essential: Iterable[str] | None,
    nonessential: Iterable[str] | None,
    flagged: set,
) -> str:
    out = [
        '<section id="essential" aria-labelledby="essential-h">'
        '<h2 id="essential-h">Essential-gene depletion (positive control)</h2>'
    ]
    if separation is None or separation.empty:
        out.append("<p>Not computed: no essential / non-essential reference sets given.</p>")
    else:
        cols = ["roc_auc", "pr_auc", "median_lfc_essential", "median_lfc_nonessential"]
        cols += ["delta", "n_essential", "n_nonessential"]
        _need(separation, cols, "separation table")
        rows = []
        for sample, r in separation.iterrows():
            s = str(sample)
            rows.append(
                f'<tr data-sample="{escape(s)}"><th scope="row">{escape(s)}</th>'
                + _cell(_fixed(r["roc_auc"], 3), flagged=("roc_auc", s) in flagged)
                + _cell(_fixed(r["pr_auc"], 3))
                + _cell(_fixed(r["median_lfc_essential"]))
                + _cell(_fixed(r["median_lfc_nonessential"]))
                + _cell(_fixed(r["delta"]))
                + _cell(_int(r["n_essential"]))
                + _cell(_int(r["n_nonessential"]))
                + "</tr>"
            )
        head = ["Sample", "ROC AUC", "PR AUC", "Median LFC, essential"]
        head += ["Median LFC, non-essential", "Difference", "Essential sgRNAs"]
        head += ["Non-essential sgRNAs"]
        out.append(
            _table(
                "How well each sample's sgRNA LFC (vs T0) separates essential from "
                "non-essential genes",
                head,
                rows,
                cls="separation",
                ident="separation",
            )
        )
        out.append(
            '<p class="muted">ROC AUC: the chance that an essential gene\'s sgRNA is more '
            "depleted than a non-essential one's (0.5: no separation, 1: perfect). LFC in "
            "log2 units against the T0 or plasmid reference.</p>"
        )
    if guide_lfc is not None and essential is not None and nonessential is not None:
        out.append(
            _figure(
                essential_svg(guide_lfc, essential, nonessential),
                "Log2 fold change vs T0 of the sgRNAs of essential (vermillion, downward "
                "triangle at the median) and non-essential genes (blue, circle), per sample. "
                "In a screen that worked, the essential box lies well left of zero and of the "
                "non-essential box.",
            )
        )
    out.append("</section>")
    return "".join(out)


def _null_section(nulls: pd.DataFrame | None, flagged: set) -> str:
    head = (
        '<section id="nulls" aria-labelledby="nulls-h"><h2 id="nulls-h">Null checks</h2>'
        "<p>One replicate compared with another of the same arm: no gene should be called. "
        "Calls here estimate how many of the real hits may be noise.</p>"
    )
    if nulls is None or nulls.empty:
        return head + "<p>Not run (an arm needs at least two replicates).</p></section>"
    rows = []
    for r in nulls.itertuples(index=False):
        subject = f"{r.group}: {r.sample_a} vs {r.sample_b}"
        bad = ("null_calls", subject) in flagged
        rows.append(
            f'<tr><th scope="row">{escape(str(r.group))}</th><td>{escape(str(r.sample_a))}</td>'
            f"<td>{escape(str(r.sample_b))}</td>"
            + _cell(_int(r.resistance_fdr05), flagged=bad and _float(r.resistance_fdr05) > 0)
            + _cell(_int(r.sensitisation_fdr05), flagged=bad and _float(r.sensitisation_fdr05) > 0)
            + "</tr>"
        )
    return (
        head
        + _table(
            "Genes called at FDR < 0.05 comparing two replicates of one arm (should be 0)",
            ["Group", "Sample A", "Sample B", "Resistance calls", "Sensitisation calls"],
            rows,
            cls="nulls",
            ident="null-checks",
        )
        + "</section>"
    )


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
        ("Source", escape(source) if source else "not given"),
        ("Samples", str(len(sample_qc))),
        ("sgRNAs", f"{len(counts):,}"),
        ("Genes", f"{n_genes:,}" if n_genes is not None else "n/a"),
    ]
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    header = f'<header><h1>{escape(title)}</h1><dl class="facts">{dl}</dl></header>' + _nav(
        [
            ("verdict", "Verdict"),
            ("samples", "Samples"),
            ("replicates", "Replicates"),
            ("essential", "Essential genes"),
            ("nulls", "Null checks"),
        ]
    )
    body = [
        _verdict_section(flags),
        _sample_section(counts, sample_qc, flagged),
        _correlation_section(correlations, flagged),
        _separation_section(separation, guide_lfc, essential, nonessential, flagged),
        _null_section(nulls, flagged),
    ]
    return _page(title, header, body, "Screen QC as described in the oncoresist screens docs.")


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
) -> str:
    word = "resistance" if direction == "pos" else "sensitisation"
    best = _top(genes, direction, top)
    has_z = "normZ" in genes.columns
    lfc = gene_lfc(genes) if "lfc" in genes.columns else genes.get(f"{direction}|lfc")
    rows = []
    for gene, r in best.iterrows():
        g = str(gene)
        known = _known_text(r.get("known"))
        q = _float(r[f"{direction}|fdr"])
        kb = (
            f'<td class="known"><span class="kb-tag">known</span>{escape(known)}</td>'
            if known
            else '<td class="new"><span class="new-tag">new</span>: not in the knowledge base</td>'
        )
        rows.append(
            f'<tr class="{"known" if known else "new"}" data-gene="{escape(g)}">'
            f'<td class="num">{_int(r[f"{direction}|rank"])}</td>'
            f'<th scope="row">{escape(g)}</th>'
            f'<td class="num">{_int(r.get("num"))}</td>'
            f'<td class="num">{_fixed(lfc[gene] if lfc is not None else math.nan)}</td>'
            f'<td class="num">{fmt_p(_float(r[f"{direction}|p-value"]))}</td>'
            f'<td class="num{" sig" if q < fdr else ""}">{fmt_p(q)}</td>'
            + (f'<td class="num">{_fixed(r["normZ"])}</td>' if has_z else "")
            + kb
            + "</tr>"
        )
    head = ["Rank", "Gene", "sgRNAs", "LFC (log2)", "p-value", "FDR"]
    head += [*(["normZ"] if has_z else []), "Knowledge base"]
    n_hits = int((pd.to_numeric(genes[f"{direction}|fdr"], errors="coerce") < fdr).sum())
    caption = (
        f"Top {len(best)} {word} genes by rank ({n_hits} genes at FDR &lt; {escape(fmt(fdr))}; "
        "FDR in bold when below it). Highlighted: what the knowledge base already says."
    )
    return _table(caption, head, rows, cls=f"hits hits-{direction}", ident=f"hits-{direction}")


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
    >>> html.startswith("<!DOCTYPE html>"), "http" in html
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
    f = escape(fmt(fdr))
    facts = [
        ("Contrast", escape(contrast)),
        ("Genes tested", f"{len(genes):,}"),
        ("sgRNAs", f"{len(sgrnas):,}"),
        (
            f"Resistance hits (FDR &lt; {f})",
            f"{int(hits['pos'].sum())}, of which {int((hits['pos'] & is_known).sum())} in the "
            "knowledge base",
        ),
        (
            f"Sensitisation hits (FDR &lt; {f})",
            f"{int(hits['neg'].sum())}, of which {int((hits['neg'] & is_known).sum())} in the "
            "knowledge base",
        ),
    ]
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    header = f'<header><h1>{escape(title)}</h1><dl class="facts">{dl}</dl></header>' + _nav(
        [
            ("how", "How to read this"),
            ("resistance", "Resistance"),
            ("sensitisation", "Sensitisation"),
            ("volcano", "Volcano"),
            ("sgrnas", "sgRNAs"),
        ]
    )
    body = []
    if qc_summary:
        rows = [
            f'<tr><th scope="row">{escape(str(k))}</th><td>{escape(str(v))}</td></tr>'
            for k, v in qc_summary.items()
        ]
        body.append(
            '<section id="qc" aria-labelledby="qc-h"><h2 id="qc-h">QC summary</h2>'
            + _table("Screen QC at a glance", ["Item", "Value"], rows, cls="qc-summary")
            + "</section>"
        )
    body.append(
        '<section id="how" class="how" aria-labelledby="how-h"><h2 id="how-h">How to read '
        f"this</h2><p>Each gene is tested both ways in {escape(contrast)} (drug arm vs "
        "control arm). <strong>Resistance</strong> genes are enriched under drug (their "
        "knockout helps cells survive it); <strong>sensitisation</strong> genes are depleted "
        "(their knockout makes the drug work better). The <strong>RRA score</strong> "
        "(robust rank aggregation, as MAGeCK's alpha-RRA) asks whether a gene's sgRNAs rank "
        "near the top of all sgRNAs more than chance allows; smaller is stronger, and rank 1 "
        "is the strongest gene. Its p-value is exact under the null of random ranks; the "
        "<strong>FDR</strong> is the Benjamini-Hochberg adjusted p-value over all genes, so "
        f"of the genes called at FDR &lt; {f} about {fdr:.0%} are expected to be false. "
        "<strong>LFC</strong> is the gene's log2 fold change, drug vs control. "
        "<strong>normZ</strong>, where shown, is the gene's normalised z-score (as in "
        "drugZ: its sgRNAs' calibrated z-scores summed and divided by the square root of "
        "their number, then centred and scaled across genes by median and MAD); positive "
        "means resistance, negative sensitisation; its p-values (pval_supp, pval_synth) "
        "compare the sum with sums of as many random sgRNAs of the library. "
        f"{escape(chr(0x2212))}log10 p-values are capped at {fmt(P_CAP)} in the figures "
        f"(p = 0 is shown as &lt;1e{escape(chr(0x2212))}{int(P_CAP)}). A highlighted "
        "<em>knowledge base</em> cell means the gene is already known for this context; "
        "the others are candidates new to the knowledge base.</p></section>"
    )
    top_fig = 10
    for d, word, meaning in (
        ("pos", "resistance", "enriched under drug"),
        ("neg", "sensitisation", "depleted under drug"),
    ):
        body.append(
            f'<section id="{word}" aria-labelledby="{word}-h"><h2 id="{word}-h">'
            f"{word.capitalize()} ({meaning})</h2>"
            + _figure(
                rank_svg(genes, direction=d, top=top_fig),  # type: ignore[arg-type]
                f"Genes ordered by {word} rank (log scale) against {chr(0x2212)}log10 "
                f"p-value; the top {top_fig} are labelled, diamonds mark genes in the "
                "knowledge base. Hover a marker for its numbers.",
            )
            + _hit_table(genes, d, top=top, fdr=fdr)  # type: ignore[arg-type]
            + "</section>"
        )
    body.append(
        '<section id="volcano" aria-labelledby="volcano-h"><h2 id="volcano-h">Volcano plot'
        "</h2>"
        + _figure(
            volcano_svg(genes, fdr=fdr, top=top_fig),
            f"Gene log2 fold change against {chr(0x2212)}log10 of the better directional "
            f"p-value. Vermillion upward triangles: resistance hits (FDR &lt; {f}); blue "
            "downward triangles: sensitisation hits; grey: the rest, merged per 2 px.",
        )
        + "</section>"
    )
    strips = []
    for d, word in (("pos", "resistance"), ("neg", "sensitisation")):
        names = [str(g) for g in _top(genes, d, top_fig).index]  # type: ignore[arg-type]
        strips.append(
            _figure(
                sgrna_lfc_svg(
                    sgrnas,
                    names,
                    title=f"sgRNAs of the top {len(names)} {word} genes",
                    ident=f"sgrna-{d}-plot",
                ),
                f"sgRNA log2 fold changes of the top {len(names)} {word} genes, one row each; "
                "the grey band spans the 5th to 95th percentile of all sgRNAs. Consistent "
                "sgRNAs make a gene more credible than one outlier sgRNA.",
            )
        )
    body.append(
        '<section id="sgrnas" aria-labelledby="sgrnas-h"><h2 id="sgrnas-h">sgRNAs of the '
        "top genes</h2>" + "".join(strips) + "</section>"
    )
    note = (
        "Gene ranking by alpha-RRA (Li et al., Genome Biol 2014, PMID 25476604); FDR by "
        "Benjamini-Hochberg. Knowledge-base text from the bundled knowledge base."
    )
    return _page(title, header, body, note)
