"""A model file's dynamics under a strategy: PK on a grid, rates per patient, an engine.

:class:`Dynamics` is the ``advance(state, doses, t0, t1, rng)`` that
:func:`~oncoresist.evolve.strategies.run_strategy` calls: it records the doses each patient
gets (each drug on its own schedule, scaled by the strategy's multiplier), computes plasma
concentrations from that history (linear PK: a sum of single-dose curves), turns them into
birth and death rates per patient and clone on a grid of ``grid_days``
(:func:`~oncoresist.evolve.pharmacology.effective_rates`, averaged over each interval) and
advances the cells with the chosen engine over each interval at constant rates:

* ``"deterministic"``: the mean, exactly, as a matrix exponential of the linear
  birth-death-mutation system ``dn/dt = A n`` with ``A_ii = b_i (1 - sum_j U_ij) - d_i`` and
  ``A_ji = b_i U_ij``;
* ``"kendall"`` and ``"gillespie"``: the exact stochastic engines of
  :mod:`oncoresist.evolve.engines`.

:func:`simulate` runs a strategy on ``n_replicates`` virtual patients in one call.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.linalg import expm

from oncoresist.errors import InputError
from oncoresist.evolve import engines
from oncoresist.evolve.model import EvolutionModel
from oncoresist.evolve.pharmacology import effective_rates, single_dose_curve
from oncoresist.evolve.strategies import (
    Progression,
    Strategy,
    StrategyResult,
    run_strategy,
)

Engine = Literal["kendall", "gillespie", "deterministic"]


class Dynamics:
    """``advance(state, doses, t0, t1, rng)`` of an :class:`EvolutionModel`.

    Parameters
    ----------
    model : EvolutionModel
        Clones, mutations and drugs.
    n_patients : int
        Batch size (rows of the state).
    engine : {"kendall", "gillespie", "deterministic"}
        How cells are advanced over each grid interval.
    grid_days : float
        PK resolution: rates are constant over intervals of this length (days).
    samples : int
        Points per interval at which the rates are averaged.
    merge_tol : float
        Consecutive intervals whose rates differ by less than this (per day) are advanced
        as one exact step (at steady-state exposure a whole visit interval is one step).
    """

    def __init__(
        self,
        model: EvolutionModel,
        n_patients: int,
        *,
        engine: Engine = "kendall",
        grid_days: float = 1.0,
        samples: int = 4,
        merge_tol: float = 1e-4,
    ) -> None:
        if engine not in ("kendall", "gillespie", "deterministic"):
            raise InputError(
                f"unknown engine {engine!r}; expected kendall, gillespie or deterministic",
                field="engine",
            )
        if grid_days <= 0:
            raise InputError("must be positive (days)", field="grid_days")
        self.model = model
        self.n = n_patients
        self.engine = engine
        self.grid_days = grid_days
        self.samples = samples
        self.merge_tol = merge_tol
        self.mutation = model.mutation_matrix()
        # dose history per drug: times (days) and the multiplier per patient at each
        self.history: dict[str, tuple[list[float], list[np.ndarray]]] = {
            d: ([], []) for d in model.drugs
        }

    def _give(self, doses: dict[str, np.ndarray], t0: float, t1: float) -> None:
        for name, level in doses.items():
            if name not in self.model.drugs:
                raise InputError(f"the model has no drug {name!r}", field="strategy.drugs")
            every = self.model.drugs[name].pk.interval_days
            times, levels = self.history[name]
            first = np.ceil(t0 / every - 1e-9) * every
            for t in np.arange(first, t1 - 1e-9, every):
                times.append(float(t))
                levels.append(np.broadcast_to(np.asarray(level, float), (self.n,)).copy())

    def _live_doses(self, t: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per drug, the dose times that still matter at ``t`` and their levels (n, doses)."""
        out = {}
        for name, (times, levels) in self.history.items():
            if not times:
                continue
            drug = self.model.drugs[name]
            times = np.asarray(times)
            # doses more than 40 half-lives back add less than 1e-12 of a dose's peak
            reach = drug.pk.interval_days if drug.pk.kind == "constant" else (
                40 * drug.pk.half_life_days)  # fmt: skip
            live = np.flatnonzero(times >= np.min(t) - reach)
            if live.size:
                out[name] = (times[live], np.stack([levels[i] for i in live], axis=1))
        return out

    def concentrations(self, t: np.ndarray, rows=None) -> dict[str, np.ndarray]:
        """Concentration (mg/L) per drug at times ``t`` (shape ``S``), shape ``(n, *S)``.

        ``rows`` restricts the patients (default all).
        """
        out = {}
        for name, (times, lv) in self._live_doses(t).items():
            curves = single_dose_curve(self.model.drugs[name], t[..., None] - times)  # (*S, doses)
            lv = lv if rows is None else lv[rows]
            out[name] = np.tensordot(lv, np.moveaxis(curves, -1, 0), axes=(1, 0))
        return out

    def rates(self, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Birth and death per patient, interval and clone: shape ``(n, intervals, T)``.

        Patients with the same dose history share their rates: they are computed once per
        distinct history (most patients on a fixed regimen share one).
        """
        frac = (np.arange(self.samples) + 0.5) / self.samples
        t = edges[:-1, None] + np.diff(edges)[:, None] * frac[None, :]
        live = self._live_doses(t)
        shape = (self.n, len(edges) - 1, len(self.model.clones))
        if not live:
            birth, death = effective_rates(self.model, {})
            return np.broadcast_to(birth, shape), np.broadcast_to(death, shape)
        key = np.concatenate([lv for _, lv in live.values()], axis=1)
        # rows compared through a fixed random projection (cheaper than np.unique on rows)
        weights = np.random.default_rng(0).random(key.shape[1]) + 0.5
        uniq, inverse = np.unique(key @ weights, return_inverse=True)
        first = np.zeros(len(uniq), dtype=np.int64)
        first[inverse[::-1]] = np.arange(self.n)[::-1]
        birth, death = effective_rates(self.model, self.concentrations(t, rows=first))
        return birth.mean(axis=2)[inverse.ravel()], death.mean(axis=2)[inverse.ravel()]

    def __call__(self, state, doses, t0, t1, rng):
        """Give ``doses`` over ``[t0, t1]`` days and advance ``state`` to ``t1``."""
        self._give(doses, t0, t1)
        steps = max(1, int(np.ceil((t1 - t0) / self.grid_days - 1e-9)))
        edges = np.linspace(t0, t1, steps + 1)
        birth, death = self.rates(edges)
        state = np.asarray(state, dtype=float)
        for lo, hi in _constant_runs(birth, death, self.merge_tol):
            # rates constant (within merge_tol) over intervals lo..hi-1: one exact step
            b = birth[:, lo:hi].mean(axis=1)
            d = death[:, lo:hi].mean(axis=1)
            state = self.step(state, b, d, edges[hi] - edges[lo], rng)
        return state

    def step(self, state, birth, death, dt, rng):
        """Advance ``state`` (n, T) by ``dt`` days at constant per-patient rates."""
        if self.engine == "deterministic":
            return mean_step(state, birth, death, self.mutation, dt)
        return engines.step(state, birth, death, self.mutation, dt, rng=rng, method=self.engine)


def _constant_runs(birth, death, tol) -> list[tuple[int, int]]:
    """Runs ``[lo, hi)`` of grid intervals over which every rate stays within ``tol``."""
    steps = birth.shape[1]
    runs, lo = [], 0
    for k in range(1, steps + 1):
        if k == steps or (
            np.abs(birth[:, k] - birth[:, lo]).max() > tol
            or np.abs(death[:, k] - death[:, lo]).max() > tol
        ):
            runs.append((lo, k))
            lo = k
    return runs


def mean_step(state, birth, death, mutation, dt) -> np.ndarray:
    """Exact mean of the linear birth-death-mutation process after ``dt`` days.

    ``state``, ``birth``, ``death``: shape ``(n, T)``; ``mutation``: ``(T, T)``.
    """
    keep = 1.0 - mutation.sum(axis=1)
    a = np.zeros((*birth.shape, birth.shape[1]))
    idx = np.arange(birth.shape[1])
    a[:, idx, idx] = birth * keep - death
    a += np.einsum("ni,ij->nji", birth, mutation)  # flow i -> j: A[j, i] = b_i U_ij
    return np.einsum("nij,nj->ni", expm(a * dt), state)


def engine_for(model: EvolutionModel, engine: str | None) -> str:
    """The engine a model runs on: ``"ode"`` with a competition block, else ``engine``.

    Raises
    ------
    InputError
        For a stochastic engine asked of a competition model (an ODE), or ``"ode"`` asked
        of a model without one.
    """
    if model.competition is not None:
        if engine not in (None, "ode", "deterministic"):
            raise InputError(
                f"engine {engine!r}: a model with a competition block runs as its ODE; "
                "use --engine ode (or remove the competition block)",
                field="engine",
            )
        return "ode"
    if engine == "ode":
        raise InputError("engine 'ode' needs a competition block in the model", field="engine")
    return engine or "kendall"


def dynamics_for(model: EvolutionModel, engine: Engine, grid_days: float, patients):
    """The ``advance`` of a chunk of patients (picklable with ``functools.partial``).

    A model with a competition block runs as its Lotka-Volterra ODE
    (:func:`~oncoresist.evolve.competition.lotka_volterra`), whatever ``engine`` says;
    others as :class:`Dynamics` on ``engine``.
    """
    if model.competition is not None:
        from oncoresist.evolve.competition import lotka_volterra

        return lotka_volterra(model)
    return Dynamics(model, len(patients), engine=engine, grid_days=grid_days)


def state_names(model: EvolutionModel) -> list[str]:
    """Column names of the state: the clones, then the marker when the model has one."""
    return model.clone_names + ([model.marker.name] if model.marker is not None else [])


def initial_state(
    model: EvolutionModel, n: int, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, float]:
    """Starting states of ``n`` virtual patients and the untreated days before them.

    Clone sizes are the model's ``initial`` (each patient's drawn log-normally around it
    when the clone has ``initial_sd_log``); a marker starts at its ``initial`` or at its
    steady state ``sum_i p_i x_i / decay``; a ``start`` block then grows every patient
    untreated for ``untreated_days`` and on, one day at a time, until the marker (or
    the burden) reaches ``until_marker``.

    Returns
    -------
    state : numpy.ndarray
        ``(n, clones [+ marker])``.
    untreated_days : float
        The longest untreated run before treatment (0 without a ``start`` block).

    Raises
    ------
    InputError
        When ``until_marker`` is not reached within ``start.max_days``.
    """
    if n < 1:
        raise InputError("must be at least 1", field="patients")
    rng = np.random.default_rng(rng)
    sd = np.array([c.initial_sd_log for c in model.clones])
    cells = model.initial_sizes() * np.exp(rng.normal(size=(n, sd.size)) * sd)
    if model.marker is None:
        return cells, 0.0
    mk = model.marker
    level = cells @ np.asarray(mk.production) / mk.decay_per_day if mk.initial is None else (
        np.full(n, mk.initial))  # fmt: skip
    state = np.column_stack([cells, level])
    start = model.start
    if start is None:
        return state, 0.0
    advance = dynamics_for(model, "ode", 1.0, np.arange(n))
    if start.untreated_days > 0:
        state = advance(state, {}, 0.0, start.untreated_days)
    if start.until_marker is None:
        return state, start.untreated_days
    waiting = advance.burden(state) < start.until_marker
    day = 0
    while waiting.any():
        if day >= start.max_days:
            raise InputError(
                f"{int(waiting.sum())} patients never reach until_marker = "
                f"{start.until_marker:g} within max_days = {start.max_days:g} untreated",
                field="start.until_marker",
            )
        state[waiting] = advance(state[waiting], {}, day, day + 1)
        waiting &= advance.burden(state) < start.until_marker
        day += 1
    return state, start.untreated_days + day


def simulate(
    model: EvolutionModel,
    strategy: Strategy,
    *,
    n_replicates: int,
    t_end: float,
    rng: np.random.Generator | int | None = None,
    engine: Engine | Literal["ode"] | None = None,
    visit_days: float = 28.0,
    noise_cv: float = 0.0,
    floor: float = 0.0,
    progression: Progression | None = None,
    grid_days: float = 1.0,
    record: bool = True,
) -> StrategyResult:
    """Run ``strategy`` on ``n_replicates`` copies of the model's patient.

    Parameters
    ----------
    model : EvolutionModel
        The model (initial sizes from its clones).
    strategy : Strategy
        What to give, decided at each visit from the observed burden.
    n_replicates : int
        Virtual patients (independent stochastic replicates).
    t_end : float
        Days.
    rng : numpy.random.Generator or int, optional
        Random source (starting sizes, engine and measurement noise).
    engine : {"kendall", "gillespie", "deterministic", "ode"}
        Engine (see the module docstring); a model with a competition block always runs
        as its ODE (``"ode"``).
    visit_days, noise_cv, floor, progression, record
        As for :func:`~oncoresist.evolve.strategies.run_strategy`.
    grid_days : float
        PK resolution (days).

    Returns
    -------
    StrategyResult
    """
    if n_replicates < 1:
        raise InputError("must be at least 1", field="n_replicates")
    rng = np.random.default_rng(rng)
    dyn = dynamics_for(model, engine_for(model, engine), grid_days, np.arange(n_replicates))
    state, _ = initial_state(model, n_replicates, rng)
    return run_strategy(
        strategy,
        state,
        dyn,
        t_end=t_end,
        visit_days=visit_days,
        noise_cv=noise_cv,
        floor=floor,
        progression=progression,
        clone_names=state_names(model),
        rng=rng,
        record=record,
    )
