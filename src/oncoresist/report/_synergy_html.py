"""The report page of a drug-combination experiment: ranked blocks, figures, resistance.

:func:`synergy_report_html` lays out one self-contained page (CSS inline, figures as inline
SVG from :mod:`oncoresist.report._synergy_svg`, no script, nothing fetched):

1. what the scores mean (which null model each compares with, the sign, the intervals);
2. the blocks ranked by one model, each linked to its section, with all four block scores
   and their 95 % intervals, the IC50s and the fit status;
3. for the first ``detail`` blocks of that ranking: the dose-response curves, the
   response heat map, one synergy heat map per model (colours centred at 0, the most
   synergistic area outlined) and an isobologram; the page says how many blocks it leaves
   out;
4. the link to resistance for each drug pair shown: the knowledge-base mechanisms each
   drug leaves open and whether the partner answers them, and the Bozic 2013 probability
   that resistance pre-exists at detection for each drug alone and for the pair.

Every string from the data is escaped by the template engine.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from oncoresist.report._synergy_svg import (
    MODEL_NAMES,
    dose_response_svg,
    heatmap_svg,
    isobologram_svg,
    ranking_svg,
    symmetric_limit,
)
from oncoresist.report._templates import number, page

__all__ = ["DEFAULT_DETAIL", "synergy_report_html"]

#: Blocks given a full section by default (a screen's others stay in the ranked table).
DEFAULT_DETAIL = 20
#: Rows of the ranked table at most (the full table is what ``synergy score`` prints).
MAX_ROWS = 200
#: Drug pairs given a resistance section at most.
MAX_PAIRS = 10
_MODELS = ("bliss", "hsa", "loewe", "zip")
_NULLS = {
    "bliss": "Bliss independence: the drugs act independently, expected inhibition "
    "1 \u2212 (1 \u2212 a)(1 \u2212 b) of the observed single-drug inhibitions a and b",
    "hsa": "highest single agent: the combination is expected to do as well as the better "
    "drug alone at the same dose",
    "loewe": "Loewe additivity: each drug behaves as a dilution of the other; the expected "
    "effect solves the isobole equation on the fitted curves exactly (no grid)",
    "zip": "zero interaction potency (Yadav 2015): the fitted curves of each drug in the "
    "presence of the other, against Bliss on the fitted single-drug curves",
}


def _anchor(block_id: object) -> str:
    """An ``id`` for a block's section: letters, digits, ``-`` and ``_`` only."""
    return "block-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", str(block_id)).strip("-") or "x")


def _score(row: Mapping[str, Any], model: str) -> dict[str, str]:
    """A block score and its interval as words for a table cell."""
    v = float(row.get(model, float("nan")))
    lo, hi = (float(row.get(f"{model}_{k}", float("nan"))) for k in ("lo", "hi"))
    interval = f"{number(lo, 1)} to {number(hi, 1)}" if math.isfinite(lo + hi) else ""
    p = float(row.get(f"{model}_p", float("nan")))
    return {"value": number(v, 1), "interval": interval,
            "p": _p(p) if math.isfinite(p) else "",
            "sign": "syn" if v > 0 else ("ant" if v < 0 else "")}  # fmt: skip


def _p(p: float) -> str:
    return "p < 0.001" if p < 1e-3 else f"p = {p:.2g}"


def _dose_words(value: float) -> str:
    return f"{value:.3g}"


def _fit_of(fits: pd.DataFrame | None, block_id: object, role: str, drug: str) -> dict | None:
    """The 4PL fit of one drug of one block (by ``role`` when the table has it)."""
    if fits is None or fits.empty:
        return None
    mine = fits[fits["block_id"].astype(str) == str(block_id)]
    if "role" in mine:
        mine = mine[mine["role"] == role]
    elif "drug" in mine:
        mine = mine[mine["drug"] == drug]
    if mine.empty:
        return None
    return mine.iloc[0].to_dict()


def _mono_wells(wells: pd.DataFrame, role: str) -> tuple[np.ndarray, np.ndarray]:
    """Dose and % inhibition of every well where only the ``role`` drug was given."""
    own, other = ("conc_r", "conc_c") if role == "row" else ("conc_c", "conc_r")
    mono = wells[wells[other] == 0]
    return mono[own].to_numpy(dtype=float), mono["inhibition"].to_numpy(dtype=float)


def _block_section(
    row: Mapping[str, Any], cells: pd.DataFrame, wells: pd.DataFrame | None,
    fits: pd.DataFrame | None, models: Sequence[str],
) -> dict[str, Any]:  # fmt: skip
    bid = row["block_id"]
    drug_r, drug_c = str(row["drug_row"]), str(row["drug_col"])
    unit_r, unit_c = str(row.get("conc_r_unit", "") or ""), str(row.get("conc_c_unit", "") or "")
    anchor = _anchor(bid)
    fit_r, fit_c = _fit_of(fits, bid, "row", drug_r), _fit_of(fits, bid, "col", drug_c)
    panels = []
    if wells is not None and not wells.empty:
        for role, drug, unit, fit in (("row", drug_r, unit_r, fit_r), ("col", drug_c, unit_c,
                                                                        fit_c)):  # fmt: skip
            dose, resp = _mono_wells(wells, role)
            panels.append({"drug": drug, "unit": unit, "dose": dose, "response": resp,
                           "fit": fit})  # fmt: skip
    figures = []
    name = f"block {bid}: {drug_r} + {drug_c}"
    if panels:
        figures.append({
            "svg": dose_response_svg(panels, title=f"Dose-response, {name}",
                                     ident=f"{anchor}-dose"),
            "caption": "Each drug alone: every well (circles), the fitted four-parameter "
            "log-logistic curve and its IC50 (diamond; the bar is its 95 % interval). Dose 0 "
            "sits left of the axis break.",
        })  # fmt: skip
    heat = [{
        "svg": heatmap_svg(cells, "response", drug_row=drug_r, drug_col=drug_c, unit_r=unit_r,
                           unit_c=unit_c, title=f"% inhibition, {name}",
                           ident=f"{anchor}-response"),
        "caption": "Observed % inhibition (mean of replicates) at each dose pair.",
    }]  # fmt: skip
    present = [m for m in models if m in cells]
    lim = symmetric_limit(cells[present].to_numpy(dtype=float)) if present else 10.0
    for m in present:
        heat.append({
            "svg": heatmap_svg(cells, m, drug_row=drug_r, drug_col=drug_c, unit_r=unit_r,
                               unit_c=unit_c, title=f"{MODEL_NAMES[m]} synergy, {name}",
                               ident=f"{anchor}-{m}", limit=lim, msa=_msa(row, m)),
            "caption": f"{MODEL_NAMES[m]} score per cell (observed minus expected % "
            "inhibition; vermillion synergy, blue antagonism); the dashed square is the most "
            "synergistic 3 x 3 area.",
        })  # fmt: skip
    iso = isobologram_svg(cells, fit_r, fit_c, drug_row=drug_r, drug_col=drug_c,
                          title=f"Isobologram, {name}", ident=f"{anchor}-iso")  # fmt: skip
    iso_fig = None
    if iso is not None:
        iso_fig = {"svg": iso, "caption": "Dose pairs that reach the effect level, each dose "
                   "divided by the single drug's dose for that level (from its fitted curve). "
                   "The dashed line is Loewe additivity; points below it are synergy."}  # fmt: skip
    facts = [("Drugs", f"{drug_r} (rows, {unit_r or 'no unit'}) + {drug_c} (columns, "
                       f"{unit_c or 'no unit'})")]  # fmt: skip
    for m in present:
        s = _score(row, m)
        words = s["value"] + (f" (95 % CI {s['interval']})" if s["interval"] else "")
        facts.append((f"{MODEL_NAMES[m]} block score", words + (f", {s['p']}" if s["p"] else "")))
    for fit, drug in ((fit_r, drug_r), (fit_c, drug_c)):
        facts.append((f"IC50 of {drug}", _ic50_words(fit)))
    return {"id": anchor, "name": name, "facts": facts, "figures": figures, "heat": heat,
            "iso": iso_fig}  # fmt: skip


def _msa(row: Mapping[str, Any], model: str) -> tuple[float, ...] | None:
    """The most synergistic area of ``model`` from the block's row, if it has one."""
    keys = [f"{model}_msa_conc_{a}_{b}" for a in ("r", "c") for b in ("lo", "hi")]
    if not all(k in row for k in keys):
        return None
    return (*(float(row[k]) for k in keys), float(row.get(f"{model}_msa", float("nan"))))


def _ic50_words(fit: Mapping[str, Any] | None) -> str:
    if fit is None:
        return "no fit"
    status = str(fit.get("status", ""))
    if status != "ok":
        return status or "no fit"
    ic50 = float(fit.get("ic50", float("nan")))
    lo, hi = float(fit.get("ic50_lo", float("nan"))), float(fit.get("ic50_hi", float("nan")))
    ci = f" (95 % CI {_dose_words(lo)} to {_dose_words(hi)})" if math.isfinite(lo + hi) else ""
    return f"{_dose_words(ic50)}{ci}"


def _by_block(frame: pd.DataFrame, wanted: set[str]) -> dict[str, pd.DataFrame]:
    """The rows of each wanted block (a screen's other blocks are never grouped)."""
    ids = frame["block_id"].astype(str)
    keep = frame[ids.isin(wanted)]
    return {str(k): g for k, g in keep.groupby(ids[ids.isin(wanted)])}


def _summary_rows(blocks: pd.DataFrame, detailed: set[str], models: Sequence[str]) -> list[dict]:
    rows = []
    for rank, (_, r) in enumerate(blocks.iterrows(), start=1):
        bid = str(r["block_id"])
        rows.append({
            "rank": rank, "block": bid, "anchor": _anchor(bid) if bid in detailed else "",
            "drugs": f"{r['drug_row']} + {r['drug_col']}",
            "scores": [_score(r, m) for m in models],
            "fit": " / ".join(str(r.get(f"fit_status_{k}", "")) or "n/a" for k in ("row", "col")),
        })  # fmt: skip
    return rows


def _link_section(link: Any) -> dict[str, Any]:
    """One drug pair's resistance section (from a ``ResistanceLink``)."""
    evo = [{
        "therapy": r["therapy"], "sites": r["sites"],
        "pre": _probability(float(r["p_preexisting"])),
        "erad": _probability(float(r["p_eradication"])),
    } for r in link.evolution.to_dict(orient="records")]  # fmt: skip
    mech = []
    for r in link.mechanisms.to_dict(orient="records"):
        mech.append({
            "drug": r["drug"], "alteration": f"{r['gene']} {r['biomarker']}".strip(),
            "mechanism": str(r["mechanism"]).replace("_", " "),
            "effect": str(r["effect"]).replace("_", " "), "disease": r["disease"],
            "evidence": r["evidence"], "refs": r["references"], "status": r["status"],
            "by": r["by"], "by_refs": r["by_references"],
        })  # fmt: skip
    params = link.params
    sources = type(params).sources()
    facts = [
        (name, f"{getattr(params, name):g} ({sources[name]})")
        for name in ("detection_cells", "birth", "death", "death_treated", "mutation_rate",
                     "sites_per_drug", "sites_per_shared_mechanism")
    ]  # fmt: skip
    counts = link.mechanisms["status"].value_counts().to_dict() if len(link.mechanisms) else {}
    return {
        "id": "pair-" + re.sub(r"[^A-Za-z0-9_-]+", "-", f"{link.drug_a}-{link.drug_b}").strip("-"),
        "name": f"{link.drug_a} + {link.drug_b}", "notes": list(link.notes), "evolution": evo,
        "mechanisms": mech, "shared": ", ".join(link.shared) or "none",
        "n12": f"{link.n12:g}", "params": facts, "disease": link.disease or "every disease",
        "counts": {k: int(counts.get(k, 0)) for k in ("answered", "shared", "not known")},
    }  # fmt: skip


def _probability(p: float) -> str:
    if not math.isfinite(p):
        return "n/a"
    if p >= 0.9995 and p < 1:
        return f"1 \u2212 {1 - p:.1e}"
    if p == 1:
        return "1 (to double precision)"
    if p < 1e-3:
        return f"{p:.1e}"
    return f"{p:.3g}"


def synergy_report_html(
    result: Any,
    *,
    wells: pd.DataFrame | None = None,
    title: str = "Drug combination synergy",
    source: str = "",
    links: Mapping[tuple[str, str], Any] | None = None,
    rank_by: str = "zip",
    detail: int = DEFAULT_DETAIL,
    notes: Sequence[str] = (),
    facts: Sequence[tuple[str, str]] = (),
) -> str:
    """The HTML page of a scored combination experiment.

    Parameters
    ----------
    result
        What :func:`oncoresist.synergy.score_blocks` returns: ``blocks`` (one row per
        block: ``block_id, drug_row, drug_col``, the model scores and their ``_lo``, ``_hi``
        and ``_p``), ``cells`` (``block_id, conc_r, conc_c, response`` and the scores) and
        ``fits`` (the 4PL fits: ``block_id``, ``role`` or ``drug``, ``min, max, ic50, hill,
        ic50_lo, ic50_hi, status``).
    wells
        The wells (``CombinationData.table``: ``block_id, conc_r, conc_c, inhibition``) for
        the dose-response points; ``None`` draws no dose-response figure.
    title, source
        The page's heading and the input file's name.
    links
        ``(drug_row, drug_col) -> ResistanceLink`` for the pairs to discuss
        (:func:`oncoresist.synergy._resistance.resistance_link`); at most
        :data:`MAX_PAIRS` are shown, those of the best-ranked blocks first.
    rank_by
        The model the blocks are ranked by (``bliss``, ``hsa``, ``loewe``, ``zip``).
    detail
        Blocks given a full section (the best ranked); the others stay in the table.
    notes
        Sentences shown under the heading (what the reader decided, unknown drugs).
    facts
        Extra ``(label, value)`` pairs for the heading.

    Returns
    -------
    str
        The page.
    """
    blocks = result.blocks.copy()
    models = [m for m in _MODELS if m in blocks]
    if rank_by not in models:
        rank_by = models[0] if models else rank_by
    if rank_by in blocks:
        blocks = blocks.sort_values(rank_by, ascending=False, na_position="last", kind="stable")
    shown = blocks.head(max(detail, 0))
    detailed = {str(b) for b in shown["block_id"]}
    cells_by = _by_block(result.cells, detailed)
    wells_by = {} if wells is None else _by_block(wells, detailed)
    sections = [
        _block_section(r, cells_by.get(str(r["block_id"]), result.cells.iloc[:0]),
                       wells_by.get(str(r["block_id"])), getattr(result, "fits", None), models)
        for r in shown.to_dict(orient="records")
    ]  # fmt: skip
    pairs = []
    for r in blocks.to_dict(orient="records"):
        key = (str(r["drug_row"]), str(r["drug_col"]))
        if links and key in links and key not in pairs:
            pairs.append(key)
    resistance = [_link_section(links[k]) for k in pairs[:MAX_PAIRS]] if links else []
    ranking = None
    if rank_by in blocks and len(blocks) > 1:
        ranking = ranking_svg(blocks, rank_by, title=f"Blocks ranked by {MODEL_NAMES[rank_by]}",
                              ident="ranking", top=30)  # fmt: skip
    n_rep = int(result.blocks["n_replicates"].max()) if "n_replicates" in result.blocks else 0
    header = [("Input", source or "table"), ("Blocks", f"{len(blocks):,}"),
              ("Ranked by", MODEL_NAMES.get(rank_by, rank_by)),
              ("Replicates per cell", str(n_rep) if n_rep else "not stated"), *facts]  # fmt: skip
    return page(
        "synergy.html",
        title=title,
        header_facts=header,
        notes=list(notes),
        models=[{"key": m, "name": MODEL_NAMES[m], "null": _NULLS[m]} for m in models],
        summary=_summary_rows(blocks.head(MAX_ROWS), detailed, models),
        max_rows=MAX_ROWS,
        rank_name=MODEL_NAMES.get(rank_by, rank_by),
        ranking=ranking,
        sections=sections,
        n_blocks=len(blocks),
        n_detailed=len(sections),
        resistance=resistance,
        n_pairs=len(pairs),
        max_pairs=MAX_PAIRS,
    )
