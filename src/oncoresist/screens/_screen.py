"""One call from a count table and a sample sheet to sgRNA and gene tables."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from oncoresist.errors import InputError
from oncoresist.screens._analysis import gene_summary, sgrna_test
from oncoresist.screens._model import (
    Contrast,
    build_contrast,
    growth_ratio,
    guide_statistics,
    log_abundance,
)
from oncoresist.screens._sheet import check_sheet, sheet_from_samples


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
        Method, alpha, replicate-variance prior.
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
    norm: Literal["median", "total", "control"] = "median",
    control_sgrnas: Sequence[str] | None = None,
    null_sgrnas: Sequence[str] | None = None,
    alpha: float = 0.25,
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
    norm : {"median", "total", "control"}
        Size factors: median ratio (default), total reads, or median ratio over
        ``control_sgrnas`` (non-targeting or safe-targeting guides).
    control_sgrnas : sequence of str, optional
        sgRNA ids of the control guides, for ``norm="control"``.
    null_sgrnas : sequence of str, optional
        sgRNA ids whose scores make the sumZ null (non-targeting controls, or the guides of
        non-essential genes); by default the library's own guides.
    alpha : float
        alpha-RRA rank cut-off.
    """
    if sheet is None:
        if not treatment or not control:
            raise InputError("give a sample sheet, or treatment and control samples",
                             field="samples")  # fmt: skip
        sheet = sheet_from_samples(treatment, control, control_condition=compare_with)
    check_sheet(sheet, counts)
    if method == "nb":
        t = sheet.loc[sheet["condition"] == "drug", "sample"].tolist()
        c = sheet.loc[sheet["condition"] == compare_with, "sample"].tolist()
        sg = sgrna_test(counts, t, c)
        return ScreenResult(gene_summary(sg, alpha=alpha), sg, f"drug vs {compare_with} (NB)",
                            params={"method": "nb", "alpha": alpha})  # fmt: skip
    if method != "replicate":
        raise InputError(f"{method!r}; expected replicate or nb", field="method")
    ratios = _growth(counts, sheet, compare_with, day, essential, nonessential, growth)
    contrast: Contrast = build_contrast(sheet, control=compare_with, day=day, growth=ratios)
    sg = guide_statistics(counts, contrast, norm=norm, controls=control_sgrnas)
    null = None
    if null_sgrnas is not None:
        null = sg.index.isin(list(null_sgrnas))
        if null.sum() < 20:
            raise InputError(f"{int(null.sum())} of the null sgRNAs are in the table; need 20",
                             field="null_sgrnas")  # fmt: skip
    genes = gene_summary(sg, alpha=alpha, null=null)
    params = {"method": "replicate", "norm": norm, "alpha": alpha,
              "null": "library" if null is None else f"{int(null.sum())} sgRNAs",
              "replicates": len(contrast.weights),
              "prior_df": sg.attrs["prior_df"], "prior_var": sg.attrs["prior_var"]}  # fmt: skip
    return ScreenResult(genes, sg, contrast.label, contrast.growth, params)


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
    y = log_abundance(counts, sheet["sample"].tolist())
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
