"""The whole monitoring of serial ctDNA in one call, and what its results rest on.

Per-draw calls, series-level alerts, molecular response and trends.

The command line, the HTML report and the web service all call :func:`monitor`, so a
patient's alerts are the same wherever they are read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from oncoresist.kb import KnowledgeBase
from oncoresist.monitor._alerts import emergence_alerts, variant_trends
from oncoresist.monitor._background import BackgroundModel
from oncoresist.monitor._calling import call_draws
from oncoresist.monitor._response import molecular_response
from oncoresist.monitor._series import (
    DEFAULT_BUDGET,
    DEFAULT_HORIZON,
    SERIES_COLUMNS,
    call_series,
)


@dataclass
class MonitorResult:
    """Everything :func:`monitor` found, and the settings it used.

    Attributes
    ----------
    calls : pandas.DataFrame
        Per draw and variant: the per-draw call (:func:`call_draws`) and the series-level
        columns (:func:`call_series`), with ``series_lod_vaf`` when asked.
    response, alerts, trends : pandas.DataFrame
        :func:`molecular_response`, :func:`emergence_alerts`, :func:`variant_trends`.
    settings : dict
        ``warnings`` (list of text: e.g. reads called although they carry duplicates),
        ``error_model`` (one line), ``count_unit``, ``budget`` (per patient series),
        ``horizon`` (draws), ``fpr`` (per draw), ``recovery``.
    """

    calls: pd.DataFrame
    response: pd.DataFrame
    alerts: pd.DataFrame
    trends: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def frames(self) -> dict[str, pd.DataFrame]:
        """The result tables by name (``calls``, ``response``, ``alerts``, ``trends``)."""
        return {"calls": self.calls, "response": self.response, "alerts": self.alerts,
                "trends": self.trends}  # fmt: skip


def unit_warnings(obs: pd.DataFrame, calls: pd.DataFrame) -> list[str]:
    """Warnings about the counting unit: reads called although the table shows duplicates.

    Parameters
    ----------
    obs : pandas.DataFrame
        The observations (``depth`` in reads, optional ``unique_molecules``).
    calls : pandas.DataFrame
        Their calls (``count_unit``).

    Returns
    -------
    list of str
        One sentence per problem; empty when there is none.
    """
    if not len(calls) or calls["count_unit"].iloc[0] != "reads":
        return []
    if "unique_molecules" not in obs.columns:
        return []
    molecules = pd.to_numeric(obs["unique_molecules"], errors="coerce").to_numpy(float)
    reads = obs["depth"].to_numpy(float)
    use = (molecules > 0) & (reads > 0)
    if not use.any():
        return []
    ratio = float(reads[use].sum() / molecules[use].sum())
    if ratio < 1.2:
        return []
    return [
        f"calls counted in reads although depth is {ratio:.1f} reads per unique molecule: PCR "
        "duplicates are not independent evidence, so the error model may be too optimistic; "
        "give alt_molecules (e.g. unique_alt_molecules) and a panel counted in molecules"
    ]


def describe_settings(settings: dict) -> str:
    """The settings as one sentence for a report or a page (warnings first)."""
    warnings = "".join(f"Warning: {w}. " for w in settings.get("warnings", []))
    return warnings + (
        f"Error model: {settings['error_model']}. Calls counted in {settings['count_unit']}. "
        f"Resistance alerts: at most {settings['budget']:.1%} chance that a resistance-free "
        f"patient's series ever alerts (spent over {settings['horizon']} draws after the "
        f"baseline, exact sequential boundaries). Per-draw calls: at most "
        f"{settings['fpr']:.0%} chance of any false call in a variant-free draw."
    )


def monitor(
    obs: pd.DataFrame,
    *,
    background: BackgroundModel | None = None,
    therapy: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    disease: str | dict[str, str] | None = None,
    drivers: dict[str, list[str]] | None = None,
    fpr: float = 0.05,
    budget: float = DEFAULT_BUDGET,
    horizon: int = DEFAULT_HORIZON,
    recovery: float = 0.5,
    unit: str = "auto",
    lod: bool = False,
    kb: KnowledgeBase | None = None,
) -> MonitorResult:
    """Call, alert, measure response and trends for serial ctDNA observations.

    Parameters
    ----------
    obs : pandas.DataFrame
        Tidy observations (:func:`oncoresist.monitor.read_serial`).
    background : BackgroundModel, optional
        Fitted panel of normals; ``None``: the documented default background.
    therapy, events : pandas.DataFrame, optional
        Therapy lines and clinical events (:func:`read_therapy`, :func:`read_events`).
    disease : str or dict, optional
        Disease of every patient, or per patient.
    drivers : dict, optional
        Known drivers per patient (never reported as emerging resistance).
    fpr : float
        Chance that a variant-free draw has any false per-draw call (0.05).
    budget : float
        Chance that a resistance-free patient's series ever raises an alert (0.02).
    horizon : int
        Draws over which 90 % of the budget is spread (8).
    recovery : float
        Molecule recovery (fraction), for the per-draw limits of detection.
    unit : {"auto", "reads", "molecules"}
        Counting unit of the calls.
    lod : bool
        Also each alert-free series' limit of detection (one patient at a time).
    kb : KnowledgeBase, optional
        Knowledge base (the shipped one by default).

    Returns
    -------
    MonitorResult
    """
    background = background if background is not None else BackgroundModel()
    calls = call_draws(obs, background, fpr=fpr, recovery=recovery, unit=unit)
    series = call_series(obs, background, therapy=therapy, budget=budget, horizon=horizon,
                         unit=unit, lod=lod)  # fmt: skip
    for column in SERIES_COLUMNS + (["series_lod_vaf"] if lod else []):
        calls[column] = series[column].to_numpy()
    settings = {
        "warnings": unit_warnings(obs, calls),
        "error_model": background.describe(),
        "count_unit": str(calls["count_unit"].iloc[0]) if len(calls) else unit,
        "budget": budget,
        "horizon": horizon,
        "fpr": fpr,
        "recovery": recovery,
    }
    trends = variant_trends(calls)
    return MonitorResult(
        calls=calls,
        response=molecular_response(calls, therapy=therapy),
        alerts=emergence_alerts(
            calls,
            therapy=therapy,
            events=events,
            disease=disease,
            drivers=drivers,
            kb=kb,
            trends=trends,
        ),
        trends=trends,
        settings=settings,
    )
