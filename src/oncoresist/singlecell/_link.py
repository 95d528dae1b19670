"""Programme shifts under a drug, linked back to the knowledge base's phenotypic mechanisms.

A resistance programme (EMT/AXL, neuroendocrine transformation, drug-tolerant persister,
MITF-low/AXL-high; ``singlecell/data/programmes.yaml``) that rises in a sample's cells on a
drug is reported with the knowledge-base assertions of the biomarkers it maps to (``EMT``,
``AXL overexpression``, ``transformation:SCLC`` ...): the mechanism, the drugs the assertion
covers, its evidence level and its citations.

Per sample (or patient), the shift is the difference of the mean programme score of the
treated and the control cells, tested with Welch's t-test on the cells (cells are the units
within one sample, so the test says whether this sample's cells moved, not whether patients
do); the standardised effect (Cohen's d) must also reach ``min_effect``, because with
thousands of cells a trivial shift is "significant". Across samples, a paired t-test on the
per-sample shifts says whether the programme rises in patients (needs ≥ 2 pairs).
Benjamini–Hochberg adjusts each family of tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from oncoresist.errors import InputError, UnknownDrugError
from oncoresist.singlecell._de import bh_adjust

__all__ = ["link_programmes", "programme_shifts"]

SHIFT_COLUMNS = ["sample", "programme", "n_treated", "n_control", "mean_treated",
                 "mean_control", "shift", "effect_size", "pvalue", "padj", "rises"]  # fmt: skip
LINK_COLUMNS = ["sample", "programme", "drug", "shift", "effect_size", "padj", "biomarker",
                "mechanism", "effect", "disease", "evidence", "applies_to_drug",
                "drugs_affected", "references", "assertion", "summary"]  # fmt: skip


def _scores(adata: Any, scores: str | pd.DataFrame) -> pd.DataFrame:
    if isinstance(scores, pd.DataFrame):
        frame = scores
    elif scores in adata.obsm:
        frame = adata.obsm[scores]
        if not isinstance(frame, pd.DataFrame):
            raise InputError(
                "expected a cells × programmes table with programme names as columns",
                file=getattr(adata, "filename", None),
                field=f"obsm/{scores}",
            )
    else:
        raise InputError(
            f"no programme scores; the obsm keys are: {', '.join(adata.obsm) or 'none'} "
            "(run `oncoresist sc score` or oncoresist.singlecell.score first)",
            file=getattr(adata, "filename", None),
            field=f"obsm/{scores}",
        )
    if len(frame) != adata.n_obs:
        raise InputError(f"{len(frame)} rows for {adata.n_obs} cells", field=f"obsm/{scores}")
    return frame


def _column(adata: Any, name: str) -> pd.Series:
    if name not in adata.obs.columns:
        raise InputError(
            f"no obs column {name!r}; the columns are: {', '.join(map(str, adata.obs.columns))}",
            file=getattr(adata, "filename", None),
            field=f"obs/{name}",
        )
    return adata.obs[name].astype("string").reset_index(drop=True)


def programme_shifts(
    adata: Any,
    *,
    scores: str | pd.DataFrame = "oncoresist_resistance",
    condition: str,
    treated: str,
    control: str,
    sample: str,
    fdr: float = 0.05,
    min_effect: float = 0.5,
    key_added: str = "oncoresist_shifts",
) -> pd.DataFrame:
    """Per-sample change of each programme's mean score between two conditions.

    Parameters
    ----------
    adata
        AnnData-like object with programme scores in ``obsm[scores]`` (cells × programmes).
    scores
        The ``obsm`` key (``oncoresist_resistance`` from ``score(programmes="resistance")``)
        or the table itself.
    condition, treated, control
        The ``obs`` column of conditions and its treated and control values.
    sample
        The ``obs`` column that pairs treated with control cells (patient, line).
    fdr, min_effect
        A programme "rises" in a sample when its Benjamini–Hochberg adjusted p-value is below
        ``fdr`` and Cohen's d (shift / pooled SD) is at least ``min_effect``.
    key_added
        The table is also stored in ``adata.uns[key_added]``.

    Returns
    -------
    pandas.DataFrame
        One row per sample and programme: ``sample``, ``programme``, ``n_treated``,
        ``n_control``, ``mean_treated``, ``mean_control``, ``shift`` (treated − control, score
        units), ``effect_size`` (Cohen's d), ``pvalue`` (Welch t-test over the sample's cells),
        ``padj`` (BH over all rows), ``rises`` (bool); and the rows ``sample == "(paired)"``:
        the mean shift over samples with both conditions, tested by a paired t-test on the
        per-sample means (NaN p-value with fewer than 2 samples).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from oncoresist.singlecell import CellData
    >>> obs = pd.DataFrame({"patient": ["P1"] * 40, "arm": ["pre"] * 20 + ["drug"] * 20})
    >>> cells = CellData(np.zeros((40, 1)), obs)
    >>> emt = np.r_[np.zeros(20), np.ones(20)] + np.tile([-0.1, 0.1], 20)
    >>> cells.obsm["oncoresist_resistance"] = pd.DataFrame({"emt_axl": emt}, index=obs.index)
    >>> table = programme_shifts(cells, condition="arm", treated="drug", control="pre",
    ...                          sample="patient")
    >>> row = table.iloc[0]
    >>> row["sample"], round(float(row["shift"]), 3), bool(row["rises"])
    ('P1', 1.0, True)
    """
    table = _scores(adata, scores)
    cond = _column(adata, condition)
    samples = _column(adata, sample)
    for value in (treated, control):
        if not (cond == value).any():
            raise InputError(
                f"no cell has {condition} = {value!r}; the values are: "
                f"{', '.join(sorted(cond.dropna().unique()))}",
                file=getattr(adata, "filename", None),
                field=f"obs/{condition}",
            )
    values = table.to_numpy(dtype=float)
    rows: list[dict[str, Any]] = []
    for name in sorted(samples.dropna().unique()):
        here = (samples == name).to_numpy()
        on, off = here & (cond == treated).to_numpy(), here & (cond == control).to_numpy()
        if on.sum() < 2 or off.sum() < 2:
            continue
        for j, programme in enumerate(table.columns):
            a, b = values[on, j], values[off, j]
            pooled = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
            shift = a.mean() - b.mean()
            test = stats.ttest_ind(a, b, equal_var=False)
            rows.append({"sample": name, "programme": str(programme), "n_treated": int(on.sum()),
                         "n_control": int(off.sum()), "mean_treated": a.mean(),
                         "mean_control": b.mean(), "shift": shift,
                         "effect_size": shift / pooled if pooled > 0 else 0.0,
                         "pvalue": float(test.pvalue) if pooled > 0 else 1.0})  # fmt: skip
    if not rows:
        raise InputError(
            f"no {sample} has at least 2 cells in both {treated!r} and {control!r}",
            file=getattr(adata, "filename", None),
            field=f"obs/{sample}",
        )
    frame = pd.DataFrame(rows)
    frame["padj"] = bh_adjust(frame["pvalue"].to_numpy())
    frame["rises"] = (frame["padj"] < fdr) & (frame["effect_size"] >= min_effect)
    paired: list[dict[str, Any]] = []
    for programme, group in frame.groupby("programme", sort=False):
        shifts = group["shift"].to_numpy()
        p = float(stats.ttest_1samp(shifts, 0.0).pvalue) if len(shifts) >= 2 else np.nan
        sd = shifts.std(ddof=1) if len(shifts) >= 2 else np.nan
        paired.append({"sample": "(paired)", "programme": programme, "n_treated": len(shifts),
                       "n_control": len(shifts), "mean_treated": group["mean_treated"].mean(),
                       "mean_control": group["mean_control"].mean(), "shift": shifts.mean(),
                       "effect_size": shifts.mean() / sd if sd and sd > 0 else np.nan,
                       "pvalue": p})  # fmt: skip
    across = pd.DataFrame(paired)
    across["padj"] = bh_adjust(across["pvalue"].to_numpy())
    across["rises"] = (across["padj"] < fdr) & (across["shift"] > 0)
    result = pd.concat([frame, across], ignore_index=True)[SHIFT_COLUMNS]
    adata.uns[key_added] = {
        "table": result,
        "params": {
            "condition": condition,
            "treated": treated,
            "control": control,
            "sample": sample,
            "fdr": fdr,
            "min_effect": min_effect,
        },
    }
    return result


def _label(sourced: Any) -> str:
    """An assertion's biomarker as programmes.yaml names it (``AXL overexpression``)."""
    biomarker = sourced.assertion.biomarker
    text = " + ".join(biomarker) if isinstance(biomarker, list) else biomarker
    return f"{sourced.default_gene} {text}" if sourced.default_gene else text


def link_programmes(
    shifts: pd.DataFrame,
    *,
    drug: str | None = None,
    disease: str | None = None,
    programmes: dict[str, dict[str, Any]] | None = None,
    kb: Any = None,
    adata: Any = None,
    key_added: str = "oncoresist_link",
) -> pd.DataFrame:
    """The knowledge base's mechanisms behind programmes that rose under a drug.

    Parameters
    ----------
    shifts
        :func:`programme_shifts`' table (or any table with ``sample``, ``programme``,
        ``shift`` and ``rises``; ``effect_size`` and ``padj`` are carried when present).
    drug
        The drug the treated cells received (a name, brand or code the knowledge base knows).
        Assertions covering it come first (``applies_to_drug``); the others on the same
        biomarker are kept, flagged False. An unknown drug is an error.
    disease
        Keep assertions for this disease or its ancestors (and ``any``).
    programmes
        Programme definitions with ``kb_biomarkers``; defaults to the vendored
        ``programmes.yaml``.
    kb
        A :class:`~oncoresist.kb.KnowledgeBase`; defaults to the bundled one.
    adata
        When given, the table is stored in ``adata.uns[key_added]``.

    Returns
    -------
    pandas.DataFrame
        One row per risen (sample, programme) and matching resistance assertion: ``sample``,
        ``programme``, ``drug``, ``shift``, ``effect_size``, ``padj``, ``biomarker``,
        ``mechanism``, ``effect``, ``disease``, ``evidence``, ``applies_to_drug``,
        ``drugs_affected`` (the assertion's drugs, classes expanded, ``; ``-joined),
        ``references`` (``; ``-joined PMIDs/DOIs), ``assertion`` (its id), ``summary``.
        Empty (with these columns) when nothing rose.

    Examples
    --------
    >>> import pandas as pd
    >>> shifts = pd.DataFrame({"sample": ["P1"], "programme": ["emt_axl"], "shift": [0.8],
    ...                        "rises": [True]})
    >>> link = link_programmes(shifts, drug="osimertinib", disease="NSCLC")
    >>> link.loc[link["applies_to_drug"], "biomarker"].tolist()
    ['EMT', 'AXL overexpression']
    """
    from oncoresist.kb import load_kb

    kb = kb if kb is not None else load_kb()
    if programmes is None:
        from oncoresist.singlecell._genesets import resistance_programmes

        programmes = resistance_programmes()
    drug_key = None
    if drug is not None:
        try:
            drug_key = kb.resolve_drug(drug)
        except UnknownDrugError as exc:
            raise exc.located(field="drug") from None
    lineage = None
    if disease is not None:
        lineage = set(kb.disease_lineage(kb.resolve_disease(disease))) | {"any"}
    risen = shifts[shifts["rises"].astype(bool) & (shifts["shift"] > 0)]
    rows: list[dict[str, Any]] = []
    for _, row in risen.iterrows():
        wanted = set(programmes.get(row["programme"], {}).get("kb_biomarkers", []))
        for sourced in kb.assertions:
            assertion = sourced.assertion
            if _label(sourced) not in wanted or assertion.effect == "sensitive":
                continue
            if lineage is not None and assertion.disease not in lineage:
                continue
            affected = kb.expand_drugs(assertion.drugs, assertion.except_)
            rows.append({
                "sample": row["sample"], "programme": row["programme"], "drug": drug_key or "",
                "shift": row["shift"], "effect_size": row.get("effect_size", np.nan),
                "padj": row.get("padj", np.nan), "biomarker": _label(sourced),
                "mechanism": assertion.mechanism or "", "effect": assertion.effect,
                "disease": assertion.disease, "evidence": assertion.evidence,
                "applies_to_drug": drug_key in affected if drug_key else False,
                "drugs_affected": "; ".join(sorted(affected)),
                "references": "; ".join(assertion.references), "assertion": sourced.id,
                "summary": " ".join(assertion.summary.split()),
            })  # fmt: skip
    table = pd.DataFrame(rows, columns=LINK_COLUMNS)
    if len(table):
        table = table.sort_values(
            ["applies_to_drug", "sample", "programme", "evidence"],
            ascending=[False, True, True, True],
            kind="stable",
        ).reset_index(drop=True)
    if adata is not None:
        adata.uns[key_added] = {"table": table, "drug": drug_key or "", "disease": disease or ""}
    return table
