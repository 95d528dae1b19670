"""Virtual cohorts: sample patients, run each strategy on all of them, compare survival.

:func:`sample_parameters` draws per-patient parameters from stated distributions;
:func:`compare_strategies` runs every strategy on the same patients (and the same random
streams: common random numbers, so differences come from the strategies) in chunks, on a
Dask cluster when a client or scheduler address is given, otherwise on local processes,
calling progression by a :class:`ProgressionRule` (from the nadir, from baseline,
PCWG3-like, or an absolute burden); :func:`survival_summary` gives per strategy the
Kaplan-Meier median time to progression with its 95 % confidence interval ("not reached"
where the curve stays above one half), the restricted mean time free of progression up to a
horizon with the difference from a reference strategy, and the Cox hazard ratio against
that reference ("not estimable" where an arm has no events or the arms are separated;
:mod:`oncoresist.evolve.survival`); :func:`~oncoresist.evolve.plots.plot_km` draws the
curves.

References
----------
Scher HI et al. Trial design and objectives for castration-resistant prostate cancer:
updated recommendations from the Prostate Cancer Clinical Trials Working Group 3. J Clin
Oncol 2016;34:1402-1418 (PMID 26903579).
Stamey TA et al. Prostate-specific antigen as a serum marker for adenocarcinoma of the
prostate. N Engl J Med 1987;317:909-916 (PMID 2442609).
Royston P, Parmar MKB. BMC Med Res Methodol 2013;13:152 (restricted mean survival time).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import norm

from oncoresist.errors import InputError, MissingExtraError
from oncoresist.evolve.strategies import Advance, Progression, Strategy, run_strategy
from oncoresist.evolve.survival import Z95, cox_two_arms, kaplan_meier

ProgressionKind = Literal["nadir", "baseline", "pcwg3", "absolute"]

#: PSA per volume of prostate cancer, ng/mL per cm^3 (Stamey et al. 1987).
PSA_NG_ML_PER_CM3 = 3.5


def pcwg3_min_rise(detection_cells: float) -> float:
    """The burden analogue of PCWG3's 2 ng/mL PSA rise, in the model's burden units.

    Serum PSA rises about 3.5 ng/mL per cm^3 of prostate cancer (Stamey et al. 1987); a
    model's ``detection_cells`` is the ~1 cm^3 (1e9 cells) of a just-detectable tumour, so
    2 ng/mL is ``2 / 3.5 x detection_cells`` (5.7e8 cells for the bundled examples).

    Examples
    --------
    >>> f"{pcwg3_min_rise(1e9):.3g}"
    '5.71e+08'
    """
    return 2.0 / PSA_NG_ML_PER_CM3 * float(detection_cells)


@dataclass(frozen=True)
class ProgressionRule:
    """How a strategy comparison calls progression from the burden observed at visits.

    Rules (``kind``), each on the observed (noisy, floored) burden at every visit:

    * ``"nadir"`` (default; RECIST-like): above ``factor`` x the smallest burden observed
      so far on the current line (``factor`` 1.2: a 20 % rise);
    * ``"baseline"``: above ``factor`` x the burden at the start of the line (as adaptive
      trials measure it);
    * ``"pcwg3"`` (PCWG3-like, Scher et al. 2016): above ``factor`` (1.25) x the nadir
      *and* at least ``min_rise`` above it (PCWG3's 2 ng/mL of PSA; see
      :func:`pcwg3_min_rise` for the model analogue), confirmed at the next visit
      (``confirm`` 2) and dated at the first visit of the confirmed rise, as PCWG3 dates
      progression;
    * ``"absolute"``: at or above ``threshold`` (e.g. a published model's failure burden).

    ``min_rise`` may also be given with ``nadir`` or ``baseline``. Progression needs
    ``confirm`` consecutive visits meeting the rule; the other rules are dated at the
    confirming visit. On :class:`~oncoresist.evolve.strategies.Sequential` strategies
    progression on a line with a later one switches line (it is not an event) and the
    reference restarts at the burden at the switch. PCWG3's 12-week rule for early rises
    is not applied (a model burden has no flare).

    Parameters
    ----------
    kind : {"nadir", "baseline", "pcwg3", "absolute"}
        The rule.
    factor : float, optional
        Ratio to the reference (default 1.2; 1.25 for ``pcwg3``); not for ``absolute``.
    min_rise : float
        Smallest rise above the reference, burden units (cells); required (> 0) for
        ``pcwg3``.
    threshold : float, optional
        Burden that is progression, for ``absolute`` only (required there).
    confirm : int, optional
        Consecutive visits needed (default 1; 2 for ``pcwg3``).

    Examples
    --------
    >>> ProgressionRule("pcwg3", min_rise=pcwg3_min_rise(1e9)).describe()
    'PCWG3-like: > 1.25 x nadir and >= 5.71e+08 above it, confirmed at the next visit; dated at the first rise'
    """  # noqa: E501

    kind: ProgressionKind = "nadir"
    factor: float | None = None
    min_rise: float = 0.0
    threshold: float | None = None
    confirm: int | None = None

    def __post_init__(self) -> None:
        kinds = ("nadir", "baseline", "pcwg3", "absolute")
        if self.kind not in kinds:
            raise InputError(f"unknown rule {self.kind!r}; expected one of {', '.join(kinds)}",
                             field="progression")  # fmt: skip
        if self.kind == "absolute":
            if self.threshold is None or not self.threshold > 0:
                raise InputError("the absolute rule needs a positive threshold (burden units)",
                                 field="progression.threshold")  # fmt: skip
            if self.factor is not None or self.min_rise:
                raise InputError("the absolute rule takes a threshold, not a factor or a "
                                 "minimum rise", field="progression")  # fmt: skip
        elif self.threshold is not None:
            raise InputError(f"a threshold belongs to the absolute rule, not {self.kind!r}",
                             field="progression.threshold")  # fmt: skip
        if not self.ratio > 1:
            raise InputError("must be above 1", field="progression.factor")
        if not self.min_rise >= 0:
            raise InputError("must be non-negative (burden units)", field="progression.min_rise")
        if self.kind == "pcwg3" and not self.min_rise > 0:
            raise InputError(
                "PCWG3 needs the absolute rise above the nadir in burden units (2 ng/mL of "
                "PSA; pcwg3_min_rise(detection_cells) gives the model analogue)",
                field="progression.min_rise",
            )
        if self.visits < 1:
            raise InputError("must be at least 1", field="progression.confirm")

    @property
    def ratio(self) -> float:
        """The factor in force (the kind's default when not given)."""
        if self.factor is not None:
            return float(self.factor)
        return 1.25 if self.kind == "pcwg3" else 1.2

    @property
    def visits(self) -> int:
        """Consecutive visits needed (the kind's default when not given)."""
        if self.confirm is not None:
            return int(self.confirm)
        return 2 if self.kind == "pcwg3" else 1

    def native(self) -> Progression | None:
        """The same rule as a :class:`Progression`, where ``run_strategy`` applies it itself."""
        if self.kind == "absolute":
            return Progression(threshold=self.threshold, confirm=self.visits)
        if self.kind in ("nadir", "baseline") and self.min_rise == 0:
            return Progression(self.ratio, self.kind, confirm=self.visits)
        return None

    def describe(self) -> str:
        """The rule in words (tables and files state which rule produced them)."""
        if self.kind == "absolute":
            text = f">= {self.threshold:.3g}"
        else:
            ref = "baseline" if self.kind == "baseline" else "nadir"
            text = f"> {self.ratio:g} x {ref}"
            if self.min_rise:
                text += f" and >= {self.min_rise:.3g} above it"
        if self.kind == "pcwg3":
            text = "PCWG3-like: " + text
        n = self.visits
        if n == 1:
            text += ", at one visit"
        elif n == 2:
            text += ", confirmed at the next visit"
        else:
            text += f", at {n} visits in a row"
        if self.kind == "pcwg3":
            text += "; dated at the first rise"
        return text


#: An in-run rule that never fires: the comparison applies its own rule (:class:`_Assessed`).
_NEVER = Progression(threshold=float("inf"))


class _Assessed(Strategy):
    """A strategy whose progression is called by a :class:`ProgressionRule`.

    ``run_strategy`` calls progression itself for the rules a :class:`Progression` can say;
    for the others (a minimum rise, dating at the first rise) this wrapper applies the rule
    to the burden it is shown at each visit, exactly as ``run_strategy`` would (nadir
    update, consecutive visits, line switches through the strategy's ``on_progression``),
    and stops dosing a patient once progressed. The last visit, after which no dose is
    decided, is assessed from the recorded trajectory (:meth:`assess`).
    """

    def __init__(self, inner: Strategy, rule: ProgressionRule) -> None:
        self.inner, self.rule = inner, rule
        self.name, self.drugs = inner.name, inner.drugs

    def all_drugs(self):
        return self.inner.all_drugs()

    def reset(self, n, baseline):
        super().reset(n, baseline)
        self.inner.reset(n, baseline)
        self.ref = self.baseline.copy()
        self.above = np.zeros(n, dtype=np.int64)
        self.rise_day = np.full(n, np.nan)
        self.done = np.zeros(n, dtype=bool)
        self.ttp = np.full(n, np.inf)
        self.confirmed = np.full(n, np.inf)
        self.started = False

    def assess(self, day: float, seen: np.ndarray) -> None:
        """Apply the rule to the burden observed at the visit on ``day``."""
        rule = self.rule
        if rule.kind in ("nadir", "pcwg3"):
            self.ref = np.minimum(self.ref, seen)
        if rule.kind == "absolute":
            over = seen >= rule.threshold
        else:
            over = (seen > rule.ratio * self.ref) & (seen - self.ref >= rule.min_rise)
        over &= ~self.done
        self.rise_day = np.where(over & (self.above == 0), day, self.rise_day)
        self.above = np.where(over, self.above + 1, 0)
        hit = (self.above >= rule.visits) & ~self.done
        moving = self.inner.on_progression(hit)
        self.ref = np.where(moving, seen, self.ref)  # a new line: a new reference
        self.above = np.where(moving, 0, self.above)
        hit &= ~moving
        dated = self.rise_day if rule.kind == "pcwg3" else np.full(self.n, day)
        self.ttp = np.where(hit, dated, self.ttp)
        self.confirmed = np.where(hit, day, self.confirmed)
        self.done |= hit

    def doses(self, day, observed, progressed):
        if self.started:  # the first call sees the baseline, not a follow-up visit
            self.assess(day, observed)
        self.started = True
        out = self.inner.doses(day, observed, progressed | self.done)
        return {d: np.where(self.done, 0.0, v) for d, v in out.items()}


def sample_parameters(
    spec: Mapping[str, Any], n: int, *, rng: np.random.Generator | int | None = None
) -> pd.DataFrame:
    """Per-patient parameters from distributions.

    Parameters
    ----------
    spec : mapping
        Parameter name to a number (fixed), ``("lognormal", median, cv)``,
        ``("normal", mean, sd)`` or ``("uniform", low, high)``.
    n : int
        Patients.
    rng : numpy.random.Generator or int, optional
        Random source.

    Returns
    -------
    pandas.DataFrame
        One row per patient (index ``patient``), one column per parameter.
    """
    if n < 1:
        raise InputError("must be at least 1", field="n")
    rng = np.random.default_rng(rng)
    cols = {}
    for name, law in spec.items():
        if isinstance(law, int | float):
            cols[name] = np.full(n, float(law))
            continue
        kind, a, b = law
        if kind == "lognormal":
            sigma = np.sqrt(np.log1p(b**2))
            cols[name] = a * rng.lognormal(0.0, sigma, n)
        elif kind == "normal":
            cols[name] = rng.normal(a, b, n)
        elif kind == "uniform":
            cols[name] = rng.uniform(a, b, n)
        else:
            raise InputError(
                f"unknown distribution {kind!r}; expected lognormal, normal or uniform",
                field=name,
            )
    return pd.DataFrame(cols, index=pd.RangeIndex(n, name="patient"))


@dataclass(frozen=True)
class _Task:
    strategy: str
    make_strategy: Callable[[], Strategy]
    patients: np.ndarray
    initial: np.ndarray
    advance_for: Callable[[np.ndarray], Advance]
    seed: np.random.SeedSequence
    options: dict
    rule: ProgressionRule | None = None


def _run(task: _Task) -> pd.DataFrame:
    advance = task.advance_for(task.patients)
    strategy = task.make_strategy()
    t_end = task.options["t_end"]
    if task.rule is not None:
        strategy = _Assessed(strategy, task.rule)
    res = run_strategy(
        strategy,
        task.initial,
        advance,
        rng=np.random.default_rng(task.seed),
        record=task.rule is not None,  # the last visit's burden, for the last assessment
        **task.options,
    )
    ttp, progressed, days_off = res.ttp_days, res.progressed, res.days_off
    if task.rule is not None:
        traj = res.trajectory
        last = traj[(traj["clone"] == "observed") & (traj["day"] == traj["day"].max())]
        strategy.assess(t_end, last.sort_values("patient")["cells"].to_numpy())
        ttp, progressed = strategy.ttp, strategy.done
        # run_strategy counted the days after progression (all drugs stopped) as days off
        days_off = days_off - np.where(progressed, t_end - strategy.confirmed, 0.0)
    frame = pd.DataFrame(
        {
            "patient": task.patients,
            "strategy": task.strategy,
            "ttp_days": np.where(progressed, ttp, t_end),
            "progressed": progressed,
            "days_off": days_off,
        }
    )
    for drug, v in res.exposure.items():
        frame[f"exposure_{drug}"] = v
    return frame


def compare_strategies(
    strategies: Mapping[str, Callable[[], Strategy]],
    initial: np.ndarray,
    advance_for: Callable[[np.ndarray], Advance],
    *,
    t_end: float,
    visit_days: float = 28.0,
    noise_cv: float = 0.0,
    floor: float = 0.0,
    progression: Progression | ProgressionRule | None = None,
    rng: int | None = None,
    chunk: int = 250,
    client: Any = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Time to progression of every patient under every strategy.

    Parameters
    ----------
    strategies : mapping of str to callable
        Name to a factory returning a fresh :class:`Strategy` (picklable for processes).
    initial : numpy.ndarray
        Cells per clone at the start, shape ``(patients, clones)``.
    advance_for : callable
        ``advance_for(patient_indices) -> advance`` (see
        :func:`~oncoresist.evolve.strategies.run_strategy`): the model of those patients,
        so per-patient parameters can be bound in. Module-level functions or
        ``functools.partial`` objects pickle.
    t_end, visit_days, noise_cv, floor
        As for :func:`run_strategy`; patients not progressed by ``t_end`` are censored.
    progression : ProgressionRule or Progression, optional
        When a patient has progressed (default: 20 % above the nadir at one visit).
    rng : int, optional
        Seed; each chunk gets its own stream, shared by all strategies.
    chunk : int
        Patients per task.
    client : dask.distributed.Client or str, optional
        Run on this Dask cluster (a ``Client`` or a scheduler address).
    workers : int, optional
        Local processes when no client is given (default: CPU count; 1 runs in-process).
    progress : callable, optional
        ``progress(done, total)`` after each task.

    Returns
    -------
    pandas.DataFrame
        ``patient, strategy, ttp_days, progressed, days_off, exposure_<drug>...``.
    """
    if not strategies:
        raise InputError("name at least one strategy", field="strategies")
    initial = np.asarray(initial, dtype=float)
    if initial.ndim != 2:
        raise InputError("must be (patients, clones)", field="initial")
    n = initial.shape[0]
    starts = range(0, n, chunk)
    seeds = np.random.SeedSequence(rng).spawn(len(starts))
    rule = None
    if isinstance(progression, ProgressionRule):
        native = progression.native()
        rule = None if native is not None else progression
        progression = native if native is not None else _NEVER
    options = {"t_end": t_end, "visit_days": visit_days, "noise_cv": noise_cv, "floor": floor,
               "progression": progression}  # fmt: skip
    tasks = []
    for seed, s in zip(seeds, starts, strict=True):
        idx = np.arange(s, min(s + chunk, n))
        for name, make in strategies.items():
            tasks.append(_Task(name, make, idx, initial[idx], advance_for, seed, options, rule))
    frames = list(_execute(tasks, client=client, workers=workers, progress=progress))
    out = pd.concat(frames, ignore_index=True)
    rank = out["strategy"].map({name: i for i, name in enumerate(strategies)})
    order = np.lexsort((out["patient"].to_numpy(), rank.to_numpy()))
    return out.iloc[order].reset_index(drop=True)  # strategies in the order given


def _execute(tasks, *, client, workers, progress):
    total = len(tasks)
    if client is not None:
        try:
            from distributed import Client, as_completed
        except ImportError:  # pragma: no cover - the extra is in the test set
            raise MissingExtraError("distributed", "dask") from None
        own = isinstance(client, str)
        cl = Client(client) if own else client
        try:
            futures = cl.map(_run, tasks, pure=False)
            results = {}
            for i, fut in enumerate(as_completed(futures), 1):
                results[futures.index(fut)] = fut.result()
                if progress:
                    progress(i, total)
            yield from (results[i] for i in range(total))
        finally:
            if own:
                cl.close()
        return
    workers = workers or os.cpu_count() or 1
    if workers == 1 or total == 1:
        for i, t in enumerate(tasks, 1):
            yield _run(t)
            if progress:
                progress(i, total)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for i, frame in enumerate(pool.map(_run, tasks), 1):
            yield frame
            if progress:
                progress(i, total)


def _days(x: float) -> str:
    return f"{x:.0f}" if np.isfinite(x) else "not reached"


def _median_text(median: float, low: float, high: float) -> str:
    if not np.isfinite(low):  # the lower bound is reached first: nothing is
        return "not reached"
    return f"{_days(median)} ({_days(low)}-{_days(high)})"


def _cox_reason(reason: str, reference: str, name: str) -> str:
    return {
        "no events": "no events in either arm",
        "no events in arm 0": f"no events on {reference}",
        "no events in arm 1": f"no events on {name}",
        "separation": "separation: every event of one arm falls after the other arm's "
        "last patient left follow-up (the partial likelihood has no finite maximum)",
    }.get(reason, reason)


def survival_summary(
    results: pd.DataFrame, *, reference: str | None = None, horizon: float | None = None
) -> pd.DataFrame:
    """Per strategy: KM median TTP, RMST to a horizon, and the Cox hazard ratio vs a reference.

    Every summary is a number or says in words why it is not: a median (or a bound of its
    interval) whose Kaplan-Meier curve never falls to one half is *not reached*; a hazard
    ratio is *not estimable* when an arm has no events or the arms are separated (every
    event of one arm after the other arm's last patient left follow-up), where the Cox
    estimate would run off to 0 or infinity. The restricted mean survival time (RMST, the
    mean days free of progression up to ``horizon``) is always estimable and is the summary
    to read then. Methods: :mod:`oncoresist.evolve.survival`.

    The arms are analysed as independent samples, as a trial's would be; with common random
    numbers the same virtual patients are in every arm, so intervals for differences are
    conservative when outcomes are positively correlated across arms.

    Parameters
    ----------
    results : pandas.DataFrame
        Output of :func:`compare_strategies`.
    reference : str, optional
        The comparator (default: the first strategy).
    horizon : float, optional
        RMST horizon, days (default: the smallest over arms of the largest follow-up time,
        so that every arm's curve is known up to it; an arm whose curve has fallen to 0 is
        known at every time and does not count, and when every arm's has, the largest
        follow-up time is used). For :func:`compare_strategies` output, where patients are
        censored only at ``t_end``, ``t_end`` is always valid.

    Returns
    -------
    pandas.DataFrame
        Index ``strategy``, columns:

        * ``patients, events``;
        * ``median_ttp_days, median_ci_low, median_ci_high``: the KM median and its 95 %
          interval, ``nan`` where not reached; ``median_ttp``: the same as text, e.g.
          ``"392 (364-420)"``, ``"812 (756-not reached)"``, ``"not reached"``;
        * ``rmst_horizon_days, rmst_days, rmst_ci_low, rmst_ci_high`` and ``rmst`` (text);
        * ``rmst_diff_days, rmst_diff_ci_low, rmst_diff_ci_high, rmst_diff_p_value``: RMST
          minus the reference's (0 for the reference itself, with no p-value; normal
          interval, variances added) and ``rmst_diff`` (text, e.g. ``"-98 (-104 to
          -93)"``; ``"reference"`` for the reference);
        * ``hazard_ratio, hr_ci_low, hr_ci_high, hr_p_value``: Cox (Efron ties) against the
          reference, Wald interval and p-value; the reference has hazard ratio 1 and no
          interval, a not-estimable arm ``nan``;
        * ``hr_status``: ``"reference"``, ``"estimated"`` or ``"not estimable: <why>"``;
          ``hr``: the text (``"0.45 (0.38-0.53)"``, ``"reference"``, ``"not estimable
          (separation)"``);
        * ``mean_days_off``.

    Examples
    --------
    >>> res = pd.DataFrame({"strategy": ["a"] * 4 + ["b"] * 4,
    ...                     "ttp_days": [10, 20, 30, 40, 50, 60, 70, 80],
    ...                     "progressed": [True] * 4 + [True, False, False, False],
    ...                     "days_off": 0.0})
    >>> s = survival_summary(res)
    >>> s.loc["b", ["median_ttp", "hr", "rmst_diff"]].tolist()
    ['not reached (50-not reached)', 'not estimable (separation)', '+48 (31 to 64)']
    >>> float(s.loc["b", "rmst_horizon_days"])  # b's censored follow-up (a's curve hit 0)
    80.0
    """
    names = list(dict.fromkeys(results["strategy"]))
    ref = reference or names[0]
    if ref not in names:
        raise InputError(f"no strategy {ref!r}; have {names}", field="reference")
    arms = {name: results[results["strategy"] == name] for name in names}
    curves = {name: kaplan_meier(g["ttp_days"], g["progressed"]) for name, g in arms.items()}
    if horizon is None:
        known = min(km.known_until for km in curves.values())
        tau = known if np.isfinite(known) else max(km.last_time for km in curves.values())
    else:
        tau = float(horizon)
    for name, km in curves.items():
        if tau > km.known_until * (1 + 1e-12):
            raise InputError(
                f"RMST horizon {tau:g} days is beyond the follow-up of {name!r} "
                f"({km.last_time:g} days, censored); choose at most the shortest censored "
                "arm's follow-up",
                field="horizon",
            )
    rmst = {name: km.rmst(tau) for name, km in curves.items()}
    base = arms[ref]
    rows = []
    for name, g in arms.items():
        km = curves[name]
        low, high = km.median_ci
        area, se = rmst[name]
        diff = area - rmst[ref][0]
        se_diff = float(np.hypot(se, rmst[ref][1])) if name != ref else 0.0
        if name == ref:
            p_diff = np.nan
        elif se_diff > 0:
            p_diff = float(2 * norm.sf(abs(diff) / se_diff))
        else:  # no spread (identical patients): the z statistic's limit
            p_diff = 1.0 if diff == 0 else 0.0
        row = {
            "strategy": name,
            "patients": len(g),
            "events": int(g["progressed"].sum()),
            "median_ttp_days": km.median,
            "median_ci_low": low,
            "median_ci_high": high,
            "median_ttp": _median_text(km.median, low, high),
            "rmst_horizon_days": tau,
            "rmst_days": area,
            "rmst_ci_low": area - Z95 * se,
            "rmst_ci_high": area + Z95 * se,
            "rmst": f"{area:.0f} ({area - Z95 * se:.0f}-{area + Z95 * se:.0f})",
            "rmst_diff_days": diff,
            "rmst_diff_ci_low": diff - Z95 * se_diff,
            "rmst_diff_ci_high": diff + Z95 * se_diff,
            "rmst_diff_p_value": p_diff,
            "rmst_diff": "reference" if name == ref else
            f"{round(diff):+d} ({round(diff - Z95 * se_diff)} to {round(diff + Z95 * se_diff)})",
        }  # fmt: skip
        if name == ref:
            row.update(hazard_ratio=1.0, hr_ci_low=np.nan, hr_ci_high=np.nan,
                       hr_p_value=np.nan, hr_status="reference", hr="reference")  # fmt: skip
        else:
            cox = cox_two_arms(
                np.r_[base["ttp_days"], g["ttp_days"]],
                np.r_[base["progressed"], g["progressed"]],
                np.r_[np.zeros(len(base)), np.ones(len(g))],
            )
            if cox.estimable:
                status = "estimated"
                text = f"{cox.hazard_ratio:.3g} ({cox.ci_low:.3g}-{cox.ci_high:.3g})"
            else:
                status = "not estimable: " + _cox_reason(cox.reason, ref, name)
                short = "separation" if cox.reason == "separation" else "no events"
                text = f"not estimable ({short})"
            row.update(hazard_ratio=cox.hazard_ratio, hr_ci_low=cox.ci_low,
                       hr_ci_high=cox.ci_high, hr_p_value=cox.p_value, hr_status=status,
                       hr=text)  # fmt: skip
        row["mean_days_off"] = float(g["days_off"].mean())
        rows.append(row)
    return pd.DataFrame(rows).set_index("strategy")
