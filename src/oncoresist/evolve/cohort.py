"""Virtual cohorts: sample patients, run each strategy on all of them, compare survival.

:func:`sample_parameters` draws per-patient parameters from stated distributions;
:func:`compare_strategies` runs every strategy on the same patients (and the same random
streams: common random numbers, so differences come from the strategies) in chunks, on a
Dask cluster when a client or scheduler address is given, otherwise on local processes;
:func:`survival_summary` gives per strategy the Kaplan-Meier median time to progression
with its 95 % confidence interval and the hazard ratio against a reference strategy (Cox
proportional hazards; :mod:`oncoresist.evolve.survival`);
:func:`~oncoresist.evolve.plots.plot_km` draws the curves.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from oncoresist.errors import InputError, MissingExtraError
from oncoresist.evolve.strategies import Advance, Progression, Strategy, run_strategy
from oncoresist.evolve.survival import cox_two_arms, kaplan_meier


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


def _run(task: _Task) -> pd.DataFrame:
    advance = task.advance_for(task.patients)
    res = run_strategy(
        task.make_strategy(),
        task.initial,
        advance,
        rng=np.random.default_rng(task.seed),
        record=False,
        **task.options,
    )
    frame = pd.DataFrame(
        {
            "patient": task.patients,
            "strategy": task.strategy,
            "ttp_days": np.where(res.progressed, res.ttp_days, task.options["t_end"]),
            "progressed": res.progressed,
            "days_off": res.days_off,
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
    progression: Progression | None = None,
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
    t_end, visit_days, noise_cv, floor, progression
        As for :func:`run_strategy`; patients not progressed by ``t_end`` are censored.
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
    options = {"t_end": t_end, "visit_days": visit_days, "noise_cv": noise_cv, "floor": floor,
               "progression": progression}  # fmt: skip
    tasks = []
    for seed, s in zip(seeds, starts, strict=True):
        idx = np.arange(s, min(s + chunk, n))
        for name, make in strategies.items():
            tasks.append(_Task(name, make, idx, initial[idx], advance_for, seed, options))
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


def survival_summary(results: pd.DataFrame, *, reference: str | None = None) -> pd.DataFrame:
    """Kaplan-Meier median TTP (95 % CI) per strategy and the Cox hazard ratio vs ``reference``.

    Parameters
    ----------
    results : pandas.DataFrame
        Output of :func:`compare_strategies`.
    reference : str, optional
        The comparator (default: the first strategy).

    Returns
    -------
    pandas.DataFrame
        Index ``strategy``: ``patients, events, median_ttp_days, median_ci_low,
        median_ci_high`` (``inf`` where fewer than half progressed),
        ``hazard_ratio, hr_ci_low, hr_ci_high, hr_p_value`` against the reference (1 for
        itself) and ``mean_days_off``. Methods: :mod:`oncoresist.evolve.survival`.
    """
    names = list(dict.fromkeys(results["strategy"]))
    ref = reference or names[0]
    if ref not in names:
        raise InputError(f"no strategy {ref!r}; have {names}", field="reference")
    rows = []
    base = results[results["strategy"] == ref]
    for name in names:
        g = results[results["strategy"] == name]
        km = kaplan_meier(g["ttp_days"], g["progressed"])
        low, high = km.median_ci
        row = {
            "strategy": name,
            "patients": len(g),
            "events": int(g["progressed"].sum()),
            "median_ttp_days": km.median,
            "median_ci_low": low,
            "median_ci_high": high,
            "mean_days_off": float(g["days_off"].mean()),
        }
        if name == ref:
            row.update(hazard_ratio=1.0, hr_ci_low=1.0, hr_ci_high=1.0, hr_p_value=1.0)
        else:
            cox = cox_two_arms(
                np.r_[base["ttp_days"], g["ttp_days"]],
                np.r_[base["progressed"], g["progressed"]],
                np.r_[np.zeros(len(base)), np.ones(len(g))],
            )
            row.update(hazard_ratio=cox.hazard_ratio, hr_ci_low=cox.ci_low,
                       hr_ci_high=cox.ci_high, hr_p_value=cox.p_value)  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows).set_index("strategy")
