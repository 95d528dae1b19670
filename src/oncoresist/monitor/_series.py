"""Series-level resistance alerts: a false-alert budget per patient, spent across draws.

A false resistance alert changes a patient's treatment, so the error that matters is not
per draw but per patient: the probability that a resistance-free patient's whole series of
draws *ever* raises an alert. The user sets that probability, the **budget** ``alpha``
(default 2 %), and this module spends it.

**Where the budget goes.** Draws on or before the baseline (the last draw before the first
therapy line starts; the first draw when no line is given) spend nothing: an alteration
seen there is "present at baseline", not emerging. The ``t``-th draw after the baseline
(``t = 1, 2, ...``) receives

    ``alpha_t = 0.9 alpha / H``  for ``t <= H``,   ``alpha_t = 0.1 alpha 2^-(t - H)``  after,

with ``H`` the horizon (default 8 draws): 90 % of the budget spread evenly over the first
``H`` draws and the rest halved draw by draw, so that ``sum_t alpha_t = alpha`` however long
the series runs. Within a draw ``alpha_t`` is split evenly over the ``m`` sites tracked for
the patient (Bonferroni across sites), so one site may spend ``alpha_t / m`` at draw ``t``.

**The test of one site** is sequential (:mod:`oncoresist.monitor._sequential`): a
discounted alt count over the draws after the baseline, with exact group-sequential
boundaries. Its null distribution among series that have not alerted yet is propagated
draw by draw (averaged over the panel's uncertainty on the site's mean error), and each
draw's boundary removes at most the level it may spend (plus what earlier, discrete
boundaries left unused). The chance that a variant-free site ever alerts is therefore at
most ``sum_t alpha_t / m``, and a resistance-free patient's at most ``alpha``.

**Memory per site.** For an allele growing exponentially at rate ``b`` the most powerful
weights of past counts, ``log(1 + f_i / e)``, fall linearly in time and reach zero where the
allele's VAF ``f_i`` falls to the background ``e``. The discount's time constant is set
accordingly from the site's mean error: ``ln(f_ref / e) / b_ref`` with ``f_ref = 0.2 %``
(what one 10-ng draw can detect) and ``b_ref = ln 2 / 60`` days, clipped to 56-365 days. The
weights depend on the panel only, never on the series, so the size stays exact.

Assumptions: draws are independent given the site's background (no shared batch error
between draws of one patient); the panel of normals was sequenced with the same assay and
counted in the same unit as the series; the background of the patient at a site matches
the panel's (clonal haematopoiesis at a site breaks this and needs a matched white-cell
sample). See ``docs/monitor_design.md`` for the calibration figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from oncoresist.errors import InputError
from oncoresist.monitor._background import BackgroundModel
from oncoresist.monitor._calling import prepare
from oncoresist.monitor._longitudinal import _DATED, _dates, _days, _series_codes, _windows
from oncoresist.monitor._sequential import (
    discounted_counts,
    lattice_size,
    sequential_boundaries,
)

#: Default probability that a resistance-free patient's series ever raises an alert.
DEFAULT_BUDGET = 0.02
#: Default horizon: draws over which 90 % of the budget is spent evenly.
DEFAULT_HORIZON = 8
#: Reference VAF and growth rate (per day) that set a site's memory (see the module text).
MEMORY_VAF = 2e-3
MEMORY_RATE = np.log(2.0) / 60.0
MEMORY_DAYS = (56.0, 365.0)
_CELLS = 4_000_000  # lattice cells (series x nodes x bins) propagated at once

#: Columns :func:`call_series` adds (``series_lod_vaf`` too when asked).
SERIES_COLUMNS = [
    "draw_index",
    "series_statistic",
    "series_boundary",
    "series_p_value",
    "series_level",
    "series_called",
    "series_first_called_date",
]


def spending(index, *, budget: float = DEFAULT_BUDGET, horizon: int = DEFAULT_HORIZON):
    """Share of the false-alert budget spent at on-therapy draw ``index`` (1, 2, ...).

    Parameters
    ----------
    index : array_like of int
        Draw number after the baseline (0 or less: baseline and before, which spend 0).
    budget : float
        Probability that a resistance-free series ever raises an alert.
    horizon : int
        Draws over which 90 % of the budget is spread evenly; later draws get the rest,
        halved draw by draw.

    Returns
    -------
    numpy.ndarray
        ``alpha_t``; summed over every ``t >= 1`` it is ``budget``.

    Examples
    --------
    >>> round(float(spending(1)), 6), round(float(spending(np.arange(1, 200)).sum()), 6)
    (0.00225, 0.02)
    """
    t = np.asarray(index, dtype=float)
    early = 0.9 * budget / horizon
    with np.errstate(over="ignore"):
        late = 0.1 * budget * np.exp2(-(t - horizon))
    return np.where(t < 1, 0.0, np.where(t <= horizon, early, late))


def site_memory(error) -> np.ndarray:
    """Memory of the pooled test (days) for sites of mean background error ``error``."""
    e = np.maximum(np.asarray(error, dtype=float), 1e-12)
    days = np.log(MEMORY_VAF / e) / MEMORY_RATE
    return np.clip(days, *MEMORY_DAYS)


def baseline_dates(
    patients: pd.Series, dates: pd.Series, therapy: pd.DataFrame | None
) -> np.ndarray:
    """Each row's baseline date: its patient's last draw on or before therapy starts.

    A patient without therapy lines (or with every draw after the start) takes the first
    draw. Vectorised over all rows.
    """
    frame = pd.DataFrame({"p": patients.to_numpy(), "d": dates.to_numpy()})
    first = frame.groupby("p", sort=False)["d"].transform("min")
    if therapy is None or therapy.empty:
        return first.to_numpy()
    start = therapy.groupby("patient_id")["start_date"].min()
    s = frame["p"].map(start)
    before = frame["d"].where(frame["d"] <= s)
    last = before.groupby(frame["p"], sort=False).transform("max")
    return last.fillna(first).to_numpy()


def draw_indices(patients: pd.Series, samples: pd.Series, dates: pd.Series, base) -> np.ndarray:
    """Number of each row's draw after its patient's baseline (0 on or before it)."""
    draws = pd.DataFrame(
        {"p": patients.to_numpy(), "s": samples.to_numpy(), "d": dates.to_numpy(), "b": base}
    )
    uniq = draws.drop_duplicates(["p", "s"]).sort_values(["p", "d", "s"], kind="stable")
    after = uniq["d"] > uniq["b"]
    uniq = uniq.assign(t=after.astype(int).groupby(uniq["p"], sort=False).cumsum())
    uniq.loc[~after, "t"] = 0
    key = pd.MultiIndex.from_frame(uniq[["p", "s"]])
    pos = key.get_indexer(pd.MultiIndex.from_frame(draws[["p", "s"]]))
    return uniq["t"].to_numpy()[pos]


def lattice_scale(null_mean) -> np.ndarray:
    """Lattice scale ``L`` of one count: finer where a draw's background gives few counts."""
    m = np.asarray(null_mean, dtype=float)
    return np.select([m <= 0.1, m <= 1.0, m <= 8.0], [8, 4, 2], 1).astype(np.int64)


@dataclass
class _Grid:
    """On-therapy draws of the series, one row per series (padded with empty draws)."""

    order: np.ndarray  # observation rows in the grid, by series then date
    row: np.ndarray  # their grid row
    pos: np.ndarray  # their grid column
    n: np.ndarray
    k: np.ndarray
    level: np.ndarray
    gamma: np.ndarray
    site: np.ndarray  # site code of each grid row
    scale: np.ndarray
    need: np.ndarray  # lattice size of each grid row


def _grid(k, n, days, series, codes, index, level, sa, sb, mult, tau, *, live_only: bool):
    on = np.flatnonzero(index > 0)
    order = on[np.lexsort((days[on], series[on]))]
    ser = series[order]
    pos = _windows(ser, None)[1] - 1  # position of each draw within its series
    if live_only:  # a series without an alt count never alerts: S stays 0
        alt = np.bincount(ser, weights=k[order], minlength=series.max() + 1)
        live = alt[ser] > 0
        order, ser, pos = order[live], ser[live], pos[live]
    if not order.size:
        return None
    sid, row = np.unique(ser, return_inverse=True)
    shape = (sid.size, int(pos.max()) + 1)
    grid = {name: np.zeros(shape) for name in ("n", "k", "level", "day")}
    for name, values in (("n", n), ("k", k), ("level", level), ("day", days)):
        grid[name][row, pos] = values[order]
    day = np.maximum.accumulate(grid["day"], axis=1)  # padding: no time passes
    site = np.zeros(sid.size, dtype=np.int64)
    site[row] = codes[order]
    a, b = sa[site], sb[site]
    gamma = np.exp(-np.diff(day, axis=1, prepend=day[:, :1]) / tau[site][:, None])
    scale = lattice_scale((grid["n"] * (a / (a + b))[:, None]).max(axis=1))
    need = lattice_size(grid["n"], a / (a + b), mult[site], a, scale)
    return _Grid(order, row, pos, grid["n"], grid["k"], grid["level"], gamma, site, scale, need)


def _blocks(g: _Grid, nodes: int, chunk: int):
    """Grid rows in blocks of one lattice size and bounded memory."""
    for size in np.unique(g.need):
        same = np.flatnonzero(g.need == size)
        block = max(1, min(chunk, _CELLS // (nodes * int(size))))
        for s in range(0, same.size, block):
            yield same[s : s + block]


def _sequential_calls(k, n, days, series, codes, index, level, sa, sb, mult, weight, tau,
                      chunk):  # fmt: skip
    """Per row: null tail, boundary and observed statistic of the sequential test."""
    size = k.size
    p = np.ones(size)
    crit = np.full(size, np.nan)
    stat = np.zeros(size)
    g = _grid(k, n, days, series, codes, index, level, sa, sb, mult, tau, live_only=True)
    if g is None:
        return p, crit, stat
    s_obs = discounted_counts(g.k, g.gamma, g.scale)
    out_c = np.empty(g.n.shape, dtype=np.int64)
    out_p = np.empty(g.n.shape)
    for r in _blocks(g, mult.shape[1], chunk):
        site = g.site[r]
        out_c[r], out_p[r], _, _ = sequential_boundaries(
            g.n[r], sa[site], sb[site], mult[site], weight[site], g.gamma[r], g.level[r],
            g.scale[r], s_obs[r],
        )  # fmt: skip
    p[g.order] = out_p[g.row, g.pos]
    none = out_c > g.need[:, None]  # no boundary reachable on the lattice at that draw
    crit[g.order] = np.where(none, np.inf, out_c)[g.row, g.pos]
    stat[g.order] = s_obs[g.row, g.pos]
    return p, crit, stat


def _series_lod(k, n, days, series, codes, index, level, sa, sb, mult, weight, tau, *,
                power: float, chunk: int):  # fmt: skip
    """Per series code: the constant VAF alerted by the last draw with probability ``power``."""
    out = np.full(int(series.max()) + 1 if series.size else 0, np.nan)
    g = _grid(k, n, days, series, codes, index, level, sa, sb, mult, tau, live_only=False)
    if g is None:
        return out
    lo = np.full(g.n.shape[0], np.log(1e-6))
    hi = np.full(g.n.shape[0], np.log(1.0))
    for _ in range(10):  # bisection on log VAF over [1e-6, 1]: within 1.4 %
        mid = 0.5 * (lo + hi)
        reach = np.empty(mid.size)
        for r in _blocks(g, mult.shape[1], chunk):
            site = g.site[r]
            _, _, reach[r], _ = sequential_boundaries(
                g.n[r], sa[site], sb[site], mult[site], weight[site], g.gamma[r], g.level[r],
                g.scale[r], vaf=np.exp(mid[r]),
            )  # fmt: skip
        enough = reach >= power
        hi = np.where(enough, mid, hi)
        lo = np.where(enough, lo, mid)
    lod = np.exp(hi)
    lod[lod >= 0.999] = np.inf  # not reachable at any VAF (e.g. no test in the series)
    ser = series[g.order]
    out[ser] = lod[g.row]
    return out


def call_series(
    obs: pd.DataFrame,
    background: BackgroundModel | None = None,
    *,
    therapy: pd.DataFrame | None = None,
    budget: float = DEFAULT_BUDGET,
    horizon: int = DEFAULT_HORIZON,
    memory_days: float | None = None,
    unit: str = "auto",
    lod: bool = False,
    power: float = 0.95,
    chunk: int = 50_000,
) -> pd.DataFrame:
    """Series-level calls: which sites of which patients raise an alert, and when.

    Parameters
    ----------
    obs : pandas.DataFrame
        Tidy observations: ``patient_id, sample_id, collection_date``, ``site`` or
        ``alteration``, counts in reads (``alt_reads, depth``) and/or molecules
        (``alt_molecules, unique_molecules``).
    background : BackgroundModel, optional
        Fitted background (its unit is the calls' unit); ``None``: the documented default.
    therapy : pandas.DataFrame, optional
        Therapy lines (``patient_id, start_date``): the baseline is the last draw on or
        before the first start.
    budget : float
        Probability that a resistance-free patient's series ever raises an alert (0.02).
    horizon : int
        Draws over which 90 % of the budget is spread evenly (8).
    memory_days : float, optional
        Reach of the pooled test (days); ``None``: per site from its background error
        (:func:`site_memory`).
    unit : {"auto", "reads", "molecules"}
        Counting unit (:func:`oncoresist.monitor._calling.count_unit`).
    lod : bool
        Also the per-series limit of detection of every series without an alert (within
        1.4 %; costs 10 propagations per series: meant for one patient's report or page,
        not a cohort).
    power : float
        Alert probability that defines the per-series limit of detection (0.95).
    chunk : int
        Windows computed per block (memory).

    Returns
    -------
    pandas.DataFrame
        A copy of ``obs`` (same index and order) plus ``draw_index`` (0 on or before the
        baseline, then 1, 2, ...), ``series_p_value`` (exact pooled p-value of the site at
        this draw; 1 on or before the baseline), ``series_level`` (the level spent on this
        test: ``alpha_t / m``), ``series_called`` (the draw's statistic is at or above its
        boundary; the alert is the first such draw),
        ``series_first_called_date`` (per patient and site; NaT if never),
        ``series_statistic`` and ``series_boundary`` (the discounted count ``S_t`` and the
        boundary it had to reach, :mod:`oncoresist.monitor._sequential`), ``count_unit``
        and, with ``lod``, ``series_lod_vaf``: for a series that never alerted, the VAF
        that, present at every draw after the baseline, would have raised an alert by the
        last draw with probability ``power`` (NaN for alerted series; ``inf`` when no VAF
        could).

    Examples
    --------
    >>> obs = pd.DataFrame({"patient_id": "p", "sample_id": ["a", "b", "c"],
    ...     "collection_date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
    ...     "site": "EGFR C797S", "alt_reads": [0, 0, 9], "depth": [3000, 3000, 3000]})
    >>> call_series(obs)["series_called"].tolist()
    [False, False, True]
    """
    if not 0 < budget < 1:
        raise InputError("must lie in (0, 1)", field="budget")
    if horizon < 1:
        raise InputError("must be at least 1 draw", field="horizon")
    if memory_days is not None and not memory_days > 0:
        raise InputError("must be positive (days)", field="memory_days")
    k, n, unit, codes, sa, sb, mult, weight = prepare(obs, _DATED, background, unit)
    dates = _dates(obs)

    patients = obs["patient_id"]
    base = baseline_dates(patients, dates, therapy)
    index = draw_indices(patients, obs["sample_id"], dates, base)
    series = _series_codes(obs)
    sites = pd.Series(series).groupby(patients.to_numpy()).transform("nunique").to_numpy()
    level = spending(index, budget=budget, horizon=horizon) / sites

    days = _days(dates)
    tau = site_memory(sa / (sa + sb)) if memory_days is None else np.full(sa.size, memory_days)
    p, crit, stat = _sequential_calls(k, n, days, series, codes, index, level, sa, sb, mult,
                                      weight, tau, chunk)  # fmt: skip

    with np.errstate(invalid="ignore"):
        called = stat >= crit
    call_day = pd.Series(np.where(called, dates.to_numpy(), np.datetime64("NaT")))
    first = call_day.groupby(series).transform("min").to_numpy()
    out = obs.copy()
    out["draw_index"] = index
    out["series_statistic"] = stat
    out["series_boundary"] = crit
    out["series_p_value"] = p
    out["series_level"] = level
    out["series_called"] = called
    out["series_first_called_date"] = first
    out["count_unit"] = unit
    if lod:
        if not 0 < power < 1:
            raise InputError("must lie in (0, 1)", field="power")
        per = _series_lod(k, n, days, series, codes, index, level, sa, sb, mult, weight, tau,
                          power=power, chunk=chunk)  # fmt: skip
        alerted = pd.Series(called).groupby(series).transform("any").to_numpy()
        out["series_lod_vaf"] = np.where(alerted, np.nan, per[series])
    return out
