"""One call from a count table and a sample sheet to sgRNA and gene tables."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as st

from oncoresist.errors import InputError
from oncoresist.screens._analysis import gene_summary, sgrna_test
from oncoresist.screens._controls import find_controls
from oncoresist.screens._model import (
    Contrast,
    build_contrast,
    growth_ratio,
    guide_statistics,
    log_abundance,
)
from oncoresist.screens._normalise import Norm
from oncoresist.screens._sheet import check_sheet, select_arm, sheet_from_samples
from oncoresist.screens.qc import replicate_balance


@dataclass
class ScreenResult:
    """What :func:`analyze` found.

    Attributes
    ----------
    genes : pandas.DataFrame
        The gene table of :func:`~oncoresist.screens.gene_summary`.
    sgrnas : pandas.DataFrame
        The sgRNA table (:func:`~oncoresist.screens._model.guide_statistics`, or
        :func:`~oncoresist.screens.sgrna_test` for ``method="nb"``).
    contrast : str
        The comparison in words.
    growth : dict of float to float
        Growth ratio of the drug arm to the vehicle arm used per day (1 = uncorrected).
    params : dict
        Method, normalisation, depth matching, alpha, replicate-variance prior, the arm, and
        ``balance``: replicate pairs of one arm whose depth or Gini differ enough to matter
        (see :func:`~oncoresist.screens.qc.replicate_balance`), as text.
    """

    genes: pd.DataFrame
    sgrnas: pd.DataFrame
    contrast: str
    growth: dict[float, float] = field(default_factory=dict)
    params: dict = field(default_factory=dict)


def analyze(
    counts: pd.DataFrame,
    sheet: pd.DataFrame | None = None,
    *,
    treatment: Sequence[str] | None = None,
    control: Sequence[str] | None = None,
    compare_with: Literal["vehicle", "T0"] = "vehicle",
    day: float | None = None,
    essential: Collection[str] | None = None,
    nonessential: Collection[str] | None = None,
    growth: float | None = None,
    method: Literal["replicate", "nb"] = "replicate",
    norm: Norm = "median",
    control_sgrnas: Sequence[str] | None = None,
    null_sgrnas: Sequence[str] | None = None,
    alpha: float = 0.25,
    depth: Literal["match", "none"] = "match",
    arm: str | None = None,
    controls: Sequence[str] | None = None,
) -> ScreenResult:
    """Find the genes whose loss is enriched (resistance) or depleted under the drug.

    Parameters
    ----------
    counts : pandas.DataFrame
        From :func:`~oncoresist.screens.read_counts`.
    sheet : pandas.DataFrame, optional
        From :func:`~oncoresist.screens.read_sample_sheet`; or give ``treatment`` and
        ``control`` sample lists (replicates paired by position).
    compare_with : {"vehicle", "T0"}
        The comparison arm.
    day : float, optional
        Restrict to one day; by default every drug day (a slope when there are several).
    essential, nonessential : collections of str, optional
        Core-essential and non-essential reference genes: with a T0 they give the drug arm's
        growth ratio (:func:`~oncoresist.screens._model.growth_ratio`) unless ``growth`` or
        the sheet's doublings give it.
    growth : float, optional
        Growth ratio of the drug to the vehicle arm (doublings under drug / doublings under
        vehicle), used at every day.
    method : {"replicate", "nb"}
        ``replicate``: the calibrated replicate model (:mod:`oncoresist.screens._model`);
        ``nb``: MAGeCK's negative-binomial sgRNA test on arm means
        (:func:`~oncoresist.screens.sgrna_test`; no T0, growth or time course).
    norm : {"median", "total", "control", "none"}
        Size factors: median ratio (default), total reads, median ratio over
        ``control_sgrnas`` (non-targeting or safe-targeting guides), or none (counts already
        comparable).
    control_sgrnas : sequence of str, optional
        sgRNA ids of the guides that set the size factors with ``norm="control"``; by
        default the control guides (``controls``).
    null_sgrnas : sequence of str, optional
        sgRNA ids whose scores make the sumZ null (non-targeting controls, or the guides of
        non-essential genes); by default the library's own guides.
    alpha : float
        alpha-RRA rank cut-off.
    depth : {"match", "none"}
        ``match``: the samples compared are put at the depth of the shallowest of them
        (:func:`~oncoresist.screens._normalise.depth_matched_log2`), so that unequal depth
        does not move low-abundance guides; ``none``: plain log2 normalised counts.
    arm : str, optional
        The drug arm to analyse, for a sheet with several (its ``arm`` column).
    controls : sequence of str, optional
        Control guides (non-targeting, safe-harbour...), by sgRNA id or gene label: never
        scored as a gene (:func:`~oncoresist.screens.gene_summary`). By default the guides
        whose label reads as a control; an empty list for none.

    Returns
    -------
    ScreenResult
        Its gene table has, beside the columns of :func:`~oncoresist.screens.gene_summary`,
        ``z_calibrated`` (replicate model): the standard normal quantile of the smaller of
        the exact sumZ p-values, signed (positive = enriched under drug), so that it reads
        as a z-score under the null, which ``normZ`` does not.
    """
    if sheet is None:
        if not treatment or not control:
            raise InputError("give a sample sheet, or treatment and control samples",
                             field="samples")  # fmt: skip
        sheet = sheet_from_samples(treatment, control, control_condition=compare_with)
    check_sheet(sheet, counts)
    sheet = select_arm(sheet, arm)
    sheet = sheet[sheet["condition"] != "unused"].reset_index(drop=True)
    found = find_controls(counts, controls)
    if norm == "control" and control_sgrnas is None:
        if not found.n:
            raise InputError("control normalisation needs control sgRNAs; name them (controls=)",
                             field="controls")  # fmt: skip
        control_sgrnas = found.ids(counts)
    if method == "nb":
        t = sheet.loc[sheet["condition"] == "drug", "sample"].tolist()
        c = sheet.loc[sheet["condition"] == compare_with, "sample"].tolist()
        sg = sgrna_test(counts, t, c)
        return ScreenResult(gene_summary(sg, alpha=alpha, controls=found), sg,
                            f"drug vs {compare_with} (NB)",
                            params={"method": "nb", "alpha": alpha, "arm": arm or "",
                                    "controls": found.as_dict()})  # fmt: skip
    if method != "replicate":
        raise InputError(f"{method!r}; expected replicate or nb", field="method")
    ratios = _growth(counts, sheet, compare_with, day, essential, nonessential, growth)
    contrast: Contrast = build_contrast(sheet, control=compare_with, day=day, growth=ratios)
    sg = guide_statistics(counts, contrast, norm=norm, controls=control_sgrnas, depth=depth)
    null = None
    if null_sgrnas is not None:
        null = sg.index.isin(list(null_sgrnas))
        if null.sum() < 20:
            raise InputError(f"{int(null.sum())} of the null sgRNAs are in the table; need 20",
                             field="null_sgrnas")  # fmt: skip
    genes = _with_calibrated_z(gene_summary(sg, alpha=alpha, null=null, controls=found))
    params = {"method": "replicate", "norm": norm, "depth": depth, "alpha": alpha,
              "null": "library" if null is None else f"{int(null.sum())} sgRNAs",
              "replicates": len(contrast.weights), "arm": arm or "",
              "prior_df": sg.attrs["prior_df"], "prior_var": sg.attrs["prior_var"],
              "balance": _balance(counts, sheet), "controls": found.as_dict()}  # fmt: skip
    return ScreenResult(genes, sg, contrast.label, contrast.growth, params)


def _with_calibrated_z(genes: pd.DataFrame) -> pd.DataFrame:
    """Insert ``z_calibrated`` after ``normZ``: the exact p-values as a signed normal score."""
    supp = genes["pval_supp"].to_numpy()
    synth = genes["pval_synth"].to_numpy()
    z = np.where(supp <= synth, st.norm.isf(supp), -st.norm.isf(synth))
    genes.insert(genes.columns.get_loc("normZ") + 1, "z_calibrated", np.clip(z, -37.0, 37.0))
    return genes


def _balance(counts: pd.DataFrame, sheet: pd.DataFrame) -> list[str]:
    """Replicate pairs of one arm and day flagged by depth or Gini, as text."""
    keys = sheet["condition"] + sheet["day"].map(lambda d: "" if np.isnan(d) else f" day {d:g}")
    groups = {k: sheet.loc[keys == k, "sample"].tolist() for k in dict.fromkeys(keys)}
    table = replicate_balance(counts, groups)
    return [f"{r.sample_a} vs {r.sample_b} ({r.group}): depth ratio {r.depth_ratio:.1f}, "
            f"Gini {r.gini_a:.2f} vs {r.gini_b:.2f}"
            for r in table.itertuples() if r.flag]  # fmt: skip


def _growth(counts, sheet, compare_with, day, essential, nonessential, growth):
    """Growth ratio per drug day: given, from doublings (in build_contrast), or from genes."""
    t0 = sheet.loc[sheet["condition"] == "T0", "sample"].tolist()
    drug = sheet[sheet["condition"] == "drug"]
    if day is not None:
        drug = drug[drug["day"] == day]
    days = sorted(drug["day"].dropna().unique()) or [np.nan]
    if growth is not None:
        if not 0 < growth <= 2:
            raise InputError(f"{growth}; expected a ratio of doublings in (0, 2]",
                             field="growth")  # fmt: skip
        return {float(d): float(growth) for d in days}
    if compare_with != "vehicle" or not t0 or not essential or not nonessential:
        return None
    if drug["doublings"].notna().all():
        return None  # the sheet's doublings are the measured answer
    y = log_abundance(counts, sheet["sample"].tolist(), compared=sheet.loc[
        sheet["condition"] != "T0", "sample"].tolist())  # fmt: skip
    out = {}
    for d in days:
        at = drug if np.isnan(d) else drug[drug["day"] == d]
        veh = sheet[(sheet["condition"] == "vehicle")]
        veh = veh if np.isnan(d) else veh[veh["day"] == d]
        if veh.empty:
            continue
        out[float(d)] = growth_ratio(y, counts["gene"], drug=at["sample"].tolist(),
                                     vehicle=veh["sample"].tolist(), t0=t0,
                                     essential=essential, nonessential=nonessential)  # fmt: skip
    return out
