"""Deterministic competition models (Lotka-Volterra) for adaptive-therapy questions.

Every model here gives an ``advance(state, doses, t0, t1, rng)`` for
:func:`~oncoresist.evolve.strategies.run_strategy`:

* :class:`StroblModel`, the published two-population model of Strobl et al. 2021 (their
  ``rdModel_nsKill``): sensitive ``S`` and resistant ``R`` in a shared niche normalised to
  ``K = 1``,

      dS/dt = r_S (1 - S - c_RS R) (1 - d_D D) S - d_T S
      dR/dt = r_R (1 - (R + c_SR S) / K_R) R - d_T R

  with drug dose ``D`` in [0, 1] killing in proportion to division (Norton-Simon;
  ``d_D = 1.5`` > 1 makes growth negative under full drug) and turnover ``d_T``;
* :class:`ZhangModel`, the three-population mCRPC model of Zhang et al. 2017 (androgen-
  dependent ``T+``, testosterone-producing ``TP``, androgen-independent ``T-``) and its
  Cunningham et al. 2020 variant (:meth:`ZhangModel.cunningham2020`), with PSA as an
  optional fourth state;
* :class:`LotkaVolterra`, the general form both of those Zhang variants and every model
  file's ``competition`` block (:func:`lotka_volterra`) use:

      dx_i/dt = b_i x_i (1 - sum_j A_ij x_j / K_i) - d_i x_i
      dm/dt   = sum_i p_i x_i - sigma m              (an optional marker, e.g. PSA)

  where each carrying capacity ``K_i`` is either a size or a share of another population
  (``K_T+ = 1.5 x_TP``), and moves linearly with each drug's dose from its value off drug
  to its value at the full dose (several drugs multiply their relative changes).

Sizes are normalised units (the published models: densities, not cells) or cells, with an
extinction floor per model (:attr:`LotkaVolterra.floor`): under ``floor_rule="extinct"``
(default) a population falling through the floor is set to exactly 0 and stays extinct;
under ``"clamp"`` (the published Zhang 2017 code) every population below the floor is
raised to it after each step.

Integrators (``integrator=``): ``"rk4"`` (default) classical fixed-step RK4 in numpy, with
as many sub-steps as keep ``h r_i (|1 - c_i| + c_i) <= 0.02`` and LSODA (rtol 1e-10) for
stiff intervals; ``"euler"``, forward Euler with one-day steps, the published Zhang 2017
integrator (kept to reproduce its figures, not for accuracy); ``"lsoda"``, scipy's LSODA
throughout. With ``rk4`` the marker is advanced exactly for production that is linear in
time over each sub-step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Literal

import numpy as np
from scipy.integrate import solve_ivp

from oncoresist.errors import InputError
from oncoresist.evolve.model import EvolutionModel
from oncoresist.evolve.pharmacology import effective_rates

Integrator = Literal["rk4", "euler", "lsoda"]
FloorRule = Literal["extinct", "clamp"]
#: A carrying capacity: a size, or ``(share, j)`` for ``K_i = share * x_j``.
Capacity = float | tuple[float, int]


def _integrate(
    rhs, state: np.ndarray, t0: float, t1: float, *, rtol: float = 1e-8, atol: float = 1e-12
) -> np.ndarray:
    shape = state.shape
    sol = solve_ivp(
        lambda t, y: rhs(y.reshape(shape)).ravel(),
        (t0, t1),
        state.ravel(),
        method="LSODA",
        rtol=rtol,
        atol=max(atol, 1e-300),
    )
    if not sol.success:  # pragma: no cover - LSODA on these smooth systems
        raise RuntimeError(f"integration failed: {sol.message}")
    return np.maximum(sol.y[:, -1].reshape(shape), 0.0)


@dataclass(frozen=True)
class StroblModel:
    """Strobl et al. 2021 two-population model (rates per day; sizes relative to ``K``).

    Every parameter may also be an array with one value per patient (a virtual cohort).

    Parameters
    ----------
    r_s, r_r : float
        Proliferation rates of sensitive and resistant cells (0.027 per day in the paper; a
        cost of resistance ``c`` is ``r_r = (1 - c) r_s``).
    turnover : float
        Death rate ``d_T`` of both populations as a fraction of ``r_s``.
    kill : float
        Drug kill ``d_D`` (1.5).
    c_rs, c_sr : float
        Competition of R on S and of S on R (1).
    k_r : float
        Resistant carrying capacity relative to the shared ``K`` (1).
    """

    r_s: float = 0.027
    r_r: float = 0.027
    turnover: float = 0.0
    kill: float = 1.5
    c_rs: float = 1.0
    c_sr: float = 1.0
    k_r: float = 1.0

    def __post_init__(self) -> None:
        rates = np.minimum(self.r_s, self.r_r)
        if (
            np.any(rates <= 0)
            or np.any(np.asarray(self.turnover) < 0)
            or np.any(np.asarray(self.kill) < 0)
        ):
            raise InputError("rates must be positive and turnover, kill non-negative")

    def rhs(self, x: np.ndarray, dose: np.ndarray) -> np.ndarray:
        """``d(S, R)/dt`` for states ``x`` of shape ``(patients, 2)``, doses ``(patients,)``."""
        s, r = x[:, 0], x[:, 1]
        d_t = self.turnover * self.r_s
        ds = self.r_s * (1 - s - self.c_rs * r) * (1 - self.kill * dose) * s - d_t * s
        dr = self.r_r * (1 - (r + self.c_sr * s) / self.k_r) * r - d_t * r
        return np.stack([ds, dr], axis=1)

    def advance(self, state, doses, t0, t1, rng=None) -> np.ndarray:
        """The state after ``[t0, t1]`` days at constant dose (``doses["drug"]``)."""
        dose = np.asarray(next(iter(doses.values())) if doses else np.zeros(len(state)))
        return _integrate(lambda x: self.rhs(x, dose), np.asarray(state, float), t0, t1)

    def initial_state(self, size: float = 0.75, resistant_fraction: float = 0.001):
        """``(S, R)`` of a tumour at ``size`` x K with the given resistant fraction."""
        if not 0 < size < 1 or not 0 <= resistant_fraction < 1:
            raise InputError("need 0 < size < 1 and 0 <= resistant_fraction < 1")
        return np.array([size * (1 - resistant_fraction), size * resistant_fraction])


def strobl_for(params, patients: np.ndarray):
    """``advance`` of :class:`StroblModel` for the given rows of a parameter table.

    ``params`` holds columns named after the model's fields (one row per patient, as from
    :func:`~oncoresist.evolve.cohort.sample_parameters`); use with ``functools.partial``
    as the ``advance_for`` of :func:`~oncoresist.evolve.cohort.compare_strategies`.
    """
    fields = {k: np.asarray(params[k], dtype=float)[patients] for k in params.columns}
    return StroblModel(**fields).advance


def _capacity_parts(caps: Sequence[Capacity], k: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Values (sizes or shares) and the population each share refers to (-1: a size)."""
    if len(caps) != k:
        raise InputError(f"expected {k} carrying capacities, got {len(caps)}", field=what)
    value, source = np.empty(k), np.full(k, -1)
    for i, c in enumerate(caps):
        if isinstance(c, tuple):
            share, j = c
            if not 0 <= int(j) < k or int(j) == i:
                raise InputError(f"population {i}: share of population {j}?", field=what)
            value[i], source[i] = float(share), int(j)
        else:
            value[i] = float(c)
    if np.any(~np.isfinite(value)) or np.any(value < 0):
        raise InputError("carrying capacities must be finite and >= 0", field=what)
    return value, source


@dataclass(frozen=True)
class LotkaVolterra:
    """Lotka-Volterra competition with dose-dependent carrying capacities and a marker.

    ``dx_i/dt = b_i x_i (1 - sum_j A_ij x_j / K_i) - d_i x_i`` and, with a marker,
    ``dm/dt = sum_i p_i x_i - sigma m``. Rates per day, sizes in the model's units.

    Parameters
    ----------
    growth : sequence of float
        ``b_i`` per day without drug (used unless ``rates`` is given).
    matrix : sequence of sequence of float
        ``A_ij``, the effect of population ``j`` on ``i``.
    capacity : sequence of float or (share, j)
        ``K_i`` off drug: a size, or ``(share, j)`` for ``K_i = share x_j`` (T+ cells live
        on the androgen TP cells make: ``K_T+ = 1.5 x_TP``). A population whose capacity
        is 0 (or whose ``x_j`` is 0) has no niche and is extinct.
    on_drug : mapping of str to sequence of capacities
        Per drug, every ``K_i`` at the full dose, of the same kind as ``capacity``; at
        dose ``D`` in [0, 1] a capacity moves linearly, ``K = K_off (1 - D (1 - K_on /
        K_off))``, and several drugs multiply their relative changes.
    death : sequence of float, optional
        ``d_i`` per day (default 0).
    marker : sequence of float, optional
        ``p_i``: marker made per unit of population ``i`` per day; the state then has
        one more column, the marker (e.g. PSA).
    marker_decay : float
        ``sigma`` per day (Zhang et al. 2017: 0.5).
    rates : callable, optional
        ``rates(doses, n) -> (birth, death)``, each ``(n, populations)`` per day, for
        drugs that act on the rates (a model file's PK/PD); default ``growth`` and
        ``death`` whatever the dose.
    units : {"normalised", "absolute"}
        Densities (the published models) or cells; sets the default floor.
    extinction_floor : float, optional
        Default 1e-9 (normalised) or 1 cell (absolute); see ``floor_rule``.
    floor_rule : {"extinct", "clamp"}
        ``"extinct"``: a population falling through the floor during a step (at or above
        it at the step's start, below it at its end) is set to 0 and stays extinct; one
        given below the floor follows its ODE. ``"clamp"``: every population below the
        floor is raised to it after each step (the published Zhang 2017 code).
    integrator : {"rk4", "euler", "lsoda"}
        See the module docstring.
    """

    growth: Sequence[float]
    matrix: Sequence[Sequence[float]]
    capacity: Sequence[Capacity]
    on_drug: Mapping[str, Sequence[Capacity]] = field(default_factory=dict)
    death: Sequence[float] | None = None
    marker: Sequence[float] | None = None
    marker_decay: float = 0.5
    rates: object = None
    units: Literal["normalised", "absolute"] = "normalised"
    extinction_floor: float | None = None
    floor_rule: FloorRule = "extinct"
    integrator: Integrator = "rk4"

    def __post_init__(self) -> None:
        k = len(self.growth)
        if np.shape(self.matrix) != (k, k):
            raise InputError(f"expected a {k}x{k} competition matrix", field="matrix")
        if np.any(np.asarray(self.growth, float) < 0):
            raise InputError("growth rates must be >= 0 (per day)", field="growth")
        value, source = _capacity_parts(self.capacity, k, "capacity")
        change = {}
        for drug, caps in self.on_drug.items():
            full, _ = _capacity_parts(caps, k, f"on_drug.{drug}")
            if np.any((value == 0) & (full != 0)):
                raise InputError(
                    "a capacity of 0 off drug cannot grow on it", field=f"on_drug.{drug}"
                )
            change[drug] = np.divide(full, value, out=np.ones(k), where=value > 0)
        # parsed once: advance() is called once per visit
        object.__setattr__(self, "_parsed", (value, source, change,
                           np.asarray(self.matrix, dtype=float).T))  # fmt: skip
        for name, vec in (("death", self.death), ("marker", self.marker)):
            if vec is not None and (len(vec) != k or np.any(np.asarray(vec, float) < 0)):
                raise InputError(f"expected {k} values >= 0", field=name)
        if not self.marker_decay > 0:
            raise InputError("must be positive (per day)", field="marker_decay")
        if self.units not in ("normalised", "absolute"):
            raise InputError(
                f"units {self.units!r}: expected 'normalised' or 'absolute'", field="units"
            )
        if self.extinction_floor is not None and not self.extinction_floor >= 0:
            raise InputError(
                f"extinction_floor {self.extinction_floor!r}: expected a size >= 0 "
                "(0 disables extinction)",
                field="extinction_floor",
            )
        if self.floor_rule not in ("extinct", "clamp"):
            raise InputError(
                f"floor_rule {self.floor_rule!r}: expected 'extinct' or 'clamp'", field="floor_rule"
            )
        if self.integrator not in ("rk4", "euler", "lsoda"):
            raise InputError(
                f"integrator {self.integrator!r}: expected 'rk4', 'euler' or 'lsoda'",
                field="integrator",
            )

    @property
    def populations(self) -> int:
        """Number of populations (the state has one more column with a marker)."""
        return len(self.growth)

    @property
    def floor(self) -> float:
        """The extinction floor in use: 1e-9 (normalised) or 1 cell (absolute) by default."""
        if self.extinction_floor is not None:
            return float(self.extinction_floor)
        return 1e-9 if self.units == "normalised" else 1.0

    def _rates(self, doses: Mapping[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
        k = self.populations
        if self.rates is not None:
            birth, death = self.rates(doses, n)
            return np.broadcast_to(birth, (n, k)), np.broadcast_to(death, (n, k))
        death = np.zeros(k) if self.death is None else np.asarray(self.death, float)
        return (np.broadcast_to(np.asarray(self.growth, float), (n, k)),
                np.broadcast_to(death, (n, k)))  # fmt: skip

    def capacities(self, doses: Mapping[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
        """Capacity values ``(n, populations)`` at these doses and their sources.

        A value is a size where ``source`` is -1, else the share of population
        ``source``.
        """
        value, source, change, _ = self._parsed  # type: ignore[attr-defined]
        out = np.tile(value, (n, 1))
        for drug, ratio in change.items():
            if drug in doses:
                dose = np.asarray(doses[drug], dtype=float).reshape(-1, 1)
                out *= 1.0 - dose * (1.0 - ratio)
        return out, source

    def _system(self, doses: Mapping[str, np.ndarray], n: int):
        """``rhs(cells)``, ``crowding(cells)`` and ``niche(cells)`` at fixed doses."""
        birth, death = self._rates(doses, n)
        value, source = self.capacities(doses, n)
        shared = source >= 0
        of = np.where(shared, source, 0)
        a_t = self._parsed[3]  # type: ignore[attr-defined]
        # a fixed capacity of 0 is no niche: its (extinct) population feels no crowding
        fixed = np.where(value > 0, value, np.inf)

        def niche(cells: np.ndarray) -> np.ndarray:
            return (value > 0) & (~shared | (cells[:, of] > 0))

        def crowding(cells: np.ndarray) -> np.ndarray:
            cap = np.where(shared, value * cells[:, of], fixed)
            return (cells @ a_t) / np.maximum(cap, 1e-300)

        def rhs(cells: np.ndarray) -> np.ndarray:
            return birth * cells * (1.0 - crowding(cells)) - death * cells

        return rhs, crowding, niche, birth, death

    def rhs(self, x: np.ndarray, doses: Mapping[str, np.ndarray]) -> np.ndarray:
        """``dx/dt`` (marker column included when ``x`` has it) at constant doses."""
        x = np.asarray(x, dtype=float)
        k = self.populations
        rhs = self._system(doses, len(x))[0]
        return self._full(rhs, k)(x) if x.shape[1] > k else rhs(x)

    def _full(self, rhs, k: int):
        p = np.asarray(self.marker, float)

        def full(x: np.ndarray) -> np.ndarray:
            cells = x[:, :k]
            dm = cells @ p - self.marker_decay * x[:, k]
            return np.column_stack([rhs(cells), dm])

        return full

    def _floored(self, cells: np.ndarray, before: np.ndarray) -> np.ndarray:
        if self.floor_rule == "clamp":
            return np.maximum(cells, self.floor)
        cells = np.maximum(cells, 0.0)
        cells[(cells < self.floor) & (before >= self.floor)] = 0.0
        return cells

    def _check(self, state) -> np.ndarray:
        x = np.array(state, dtype=float)
        k = self.populations
        if x.ndim != 2 or x.shape[1] not in (k, k + 1):
            raise InputError(
                f"state must be (patients, {k}) or (patients, {k + 1}) with the marker; "
                f"got shape {x.shape}",
                field="state",
            )
        if x.shape[1] == k + 1 and self.marker is None:
            raise InputError("the model has no marker column", field="state")
        if not np.all(np.isfinite(x)) or np.any(x < 0):
            raise InputError("sizes must be finite and >= 0", field="state")
        return x

    def advance(self, state, doses, t0, t1, rng=None) -> np.ndarray:
        """The state after ``[t0, t1]`` days at constant doses (``{drug: (patients,)}``)."""
        x0 = self._check(state)
        n, k = len(x0), self.populations
        marked = x0.shape[1] > k
        rhs, crowding, niche, birth, death = self._system(doses or {}, n)
        x0[:, :k] = np.where(niche(x0[:, :k]), x0[:, :k], 0.0)
        dt = float(t1 - t0)
        if self.integrator == "euler":
            return self._euler(x0, rhs, k, marked, dt)
        crowd = crowding(x0[:, :k])
        stiff = np.where(x0[:, :k] > 0, birth * (np.abs(1.0 - crowd) + crowd) + death, 0.0)
        steps = max(1, int(np.ceil(dt * stiff.max(initial=0.0) / 0.02)))
        if self.integrator == "lsoda" or steps > 64:
            f = self._full(rhs, k) if marked else rhs
            x = _integrate(f, x0, t0, t1, rtol=1e-10, atol=1e-3 * max(self.floor, 1e-300))
            x[:, :k] = self._floored(x[:, :k], x0[:, :k])
            return x
        h = dt / steps
        cells, x = x0[:, :k], x0.copy()
        if marked:
            p, sigma = np.asarray(self.marker, float), self.marker_decay
            e = np.exp(-sigma * h)
            w0, w1 = (1.0 - e) / sigma, h / sigma - (1.0 - e) / sigma**2
            made = cells @ p
        for _ in range(steps):
            k1 = rhs(cells)
            k2 = rhs(cells + 0.5 * h * k1)
            k3 = rhs(cells + 0.5 * h * k2)
            k4 = rhs(cells + h * k3)
            cells = cells + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
            if marked:  # exact for production linear in time over the sub-step
                after = cells @ p
                x[:, k] = x[:, k] * e + made * w0 + (after - made) / h * w1
                made = after
        x[:, :k] = self._floored(cells, x0[:, :k])
        return x

    __call__ = advance

    def burden(self, state: np.ndarray) -> np.ndarray:
        """What a visit measures: the marker column when the state has one, else the total."""
        state = np.asarray(state)
        k = self.populations
        return state[:, k] if state.shape[1] > k else state[:, :k].sum(axis=1)

    def _euler(self, x: np.ndarray, rhs, k: int, marked: bool, dt: float) -> np.ndarray:
        f = self._full(rhs, k) if marked else rhs
        steps = max(1, int(np.ceil(dt - 1e-9)))
        h = dt / steps
        for _ in range(steps):
            before = x[:, :k]
            x = x + h * f(x)
            x[:, :k] = self._floored(x[:, :k], before)
        return x

    def equilibrium(self, doses: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        """The stable equilibrium no absent population can invade, shape ``(populations,)``.

        Every subset of surviving populations is tried (largest first): its interior
        equilibrium must be positive, no absent population may grow there, and the
        Jacobian's eigenvalues must have negative real parts. Absent populations are 0
        (the published Zhang 2017 code puts them at its 1e-9 floor).

        Raises
        ------
        InputError
            When no such equilibrium exists (e.g. oscillating or unbounded dynamics).
        """
        doses = doses or {}
        k = self.populations
        birth, death = (v[0] for v in self._rates(doses, 1))
        value, source = (v[0] if v.ndim == 2 else v for v in self.capacities(doses, 1))
        a = np.asarray(self.matrix, dtype=float)
        rhs, crowding, *_ = self._system(doses, 1)
        for size in range(k, 0, -1):
            for alive in combinations(range(k), size):
                x = self._interior(a, birth, death, value, source, list(alive))
                if x is None:
                    continue
                grow = birth * (1.0 - crowding(x[None, :])[0]) - death
                absent = np.setdiff1d(np.arange(k), alive)
                if np.any(grow[absent] > 1e-12) or not self._stable(rhs, x, list(alive)):
                    continue
                return x
        raise InputError("no stable, uninvadable equilibrium", field="competition")

    @staticmethod
    def _interior(a, birth, death, value, source, alive):
        """Positive equilibrium of the populations in ``alive``, or None."""
        m, rhs = [], []
        for i in alive:
            if birth[i] <= death[i]:
                return None
            level = 1.0 - death[i] / birth[i]  # crowding at which i stops growing
            row = a[i, alive].copy()
            if source[i] >= 0:
                if source[i] not in alive:
                    return None
                row[alive.index(source[i])] -= level * value[i]
                rhs.append(0.0)
            else:
                rhs.append(level * value[i])
            m.append(row)
        try:
            sol = np.linalg.solve(np.array(m), np.array(rhs))
        except np.linalg.LinAlgError:
            return None
        if np.any(sol <= 0):
            return None
        x = np.zeros(len(a))
        x[alive] = sol
        return x

    @staticmethod
    def _stable(rhs, x: np.ndarray, alive: list[int]) -> bool:
        jac = np.empty((len(alive), len(alive)))
        for c, j in enumerate(alive):
            h = 1e-6 * max(x[j], 1.0)
            up, down = x.copy(), x.copy()
            up[j] += h
            down[j] -= h
            jac[:, c] = (rhs(up[None, :])[0, alive] - rhs(down[None, :])[0, alive]) / (2 * h)
        return bool(np.all(np.linalg.eigvals(jac).real < 0))


#: Competition matrices of Zhang et al. 2017's representative patients (unit diagonal;
#: their matrices 7 and 5 of the 22 orderings of 0.4-0.9 that satisfy the paper's six
#: inequalities).
ZHANG2017_MATRICES = {
    1: ((1.0, 0.7, 0.8), (0.4, 1.0, 0.5), (0.6, 0.9, 1.0)),
    2: ((1.0, 0.6, 0.8), (0.4, 1.0, 0.7), (0.5, 0.9, 1.0)),
}


@dataclass(frozen=True)
class ZhangModel:
    """Zhang et al. 2017 mCRPC model: ``T+``, ``TP`` and ``T-`` (and PSA); rates per day.

    ``dx_i/dt = r_i x_i (1 - sum_j A_ij x_j / K_i)`` with ``K_T+ = s(D) x_TP``, ``K_TP =
    k(D)``, ``K_T- = 10^4``; off abiraterone ``s = 1.5, k = 10^4``, at the full dose ``s =
    0.5, k = 100`` (Zhang et al. 2017, Methods), linear in the dose ``D`` in [0, 1]
    between. PSA is an optional fourth state, ``dPSA/dt = p sum_i x_i - sigma PSA`` with
    ``sigma = 0.5`` per day: give a state with four columns to carry it.

    The defaults are the paper's representative patient #1 (:meth:`zhang2017`);
    :meth:`cunningham2020` gives the optimal-control variant of Cunningham et al. 2020
    (``K_TP = u`` from 10^4 down to 10^3 at the full dose, ``K_T+ = x_TP (u / 10^4 +
    0.5)``, another matrix). Every parameter is a field, so a fitted patient is one
    ``ZhangModel(...)``.

    Parameters
    ----------
    r : tuple of float
        Growth rates of ``T+, TP, T-`` (ln 2 over doubling times of 250, 200 and 104 days).
    matrix : tuple of tuple of float
        Competition coefficients ``A_ij`` (effect of ``j`` on ``i``).
    producer_capacity : (float, float)
        ``K_TP`` off abiraterone and at the full dose.
    dependent_share : (float, float)
        ``K_T+ / x_TP`` off abiraterone and at the full dose.
    k_resistant : float
        Carrying capacity of ``T-``.
    psa_production, psa_decay : float
        PSA made per unit of burden per day and its decay per day (1 and 0.5).
    failure_burden : float
        Total burden at which Cunningham et al. 2020 count the patient as failed.
    units, extinction_floor, floor_rule, integrator
        As for :class:`LotkaVolterra` (floor 1e-9 in normalised units, populations
        falling through it extinct; RK4). The published code is ``floor_rule="clamp"``,
        ``integrator="euler"`` (see :mod:`oncoresist.evolve.zhang2017`).

    Notes
    -----
    A population whose carrying capacity is 0 (``T+`` once ``TP`` is extinct) is extinct.
    With RK4 one day is one sub-step in the published regime; 10,000 daily steps of one
    patient under continuous abiraterone take about 0.9 s (``tests/evolve/test_zhang.py``
    prints the figure).

    References
    ----------
    Zhang J et al. Nat Commun 2017;8:1816 (PMID 29180633). Cunningham JJ et al. PLoS One
    2020;15:e0243386.
    """

    r: tuple[float, float, float] = (2.7726e-3, 3.4657e-3, 6.6542e-3)
    matrix: tuple[tuple[float, ...], ...] = ZHANG2017_MATRICES[1]
    producer_capacity: tuple[float, float] = (1e4, 100.0)
    dependent_share: tuple[float, float] = (1.5, 0.5)
    k_resistant: float = 1e4
    psa_production: float = 1.0
    psa_decay: float = 0.5
    failure_burden: float = 9000.0
    units: Literal["normalised", "absolute"] = "normalised"
    extinction_floor: float | None = None
    floor_rule: FloorRule = "extinct"
    integrator: Integrator = "rk4"

    @classmethod
    def zhang2017(cls, patient: int = 1, **fields) -> ZhangModel:
        """Representative patient #1 or #2 of Zhang et al. 2017 (their matrices 7 and 5)."""
        if patient not in ZHANG2017_MATRICES:
            raise InputError(f"patient {patient!r}: expected 1 or 2", field="patient")
        return cls(matrix=ZHANG2017_MATRICES[patient], **fields)

    @classmethod
    def cunningham2020(cls, **fields) -> ZhangModel:
        """The Cunningham et al. 2020 coding: ``u`` from 10^4 to 10^3, ``A_T-,TP = 2``."""
        base = {"matrix": ((1.0, 0.7, 0.8), (0.4, 1.0, 0.6), (0.5, 2.0, 1.0)),
                "producer_capacity": (1e4, 1e3), "dependent_share": (1.5, 0.6)}  # fmt: skip
        return cls(**{**base, **fields})

    def __post_init__(self) -> None:
        # validates every field once (LotkaVolterra names the offending one)
        object.__setattr__(self, "_system", self._build())

    def _build(self) -> LotkaVolterra:
        share, producer = self.dependent_share, self.producer_capacity
        return LotkaVolterra(
            growth=self.r,
            matrix=self.matrix,
            capacity=((share[0], 1), producer[0], self.k_resistant),
            on_drug={"abiraterone": ((share[1], 1), producer[1], self.k_resistant)},
            marker=(self.psa_production,) * 3,
            marker_decay=self.psa_decay,
            units=self.units,
            extinction_floor=self.extinction_floor,
            floor_rule=self.floor_rule,
            integrator=self.integrator,
        )

    @property
    def system(self) -> LotkaVolterra:
        """The model as a :class:`LotkaVolterra` (drug ``abiraterone``, marker PSA)."""
        return self._system  # type: ignore[attr-defined]

    @property
    def floor(self) -> float:
        """The extinction floor in use: 1e-9 (normalised) or 1 cell (absolute) by default."""
        return self.system.floor

    @staticmethod
    def _doses(doses) -> dict[str, np.ndarray]:
        return {"abiraterone": next(iter(doses.values()))} if doses else {}

    def rhs(self, x: np.ndarray, dose: np.ndarray) -> np.ndarray:
        """``dx/dt`` for states ``(patients, 3 or 4)`` and doses in [0, 1] ``(patients,)``."""
        return self.system.rhs(x, {"abiraterone": np.asarray(dose, dtype=float)})

    def advance(self, state, doses, t0, t1, rng=None) -> np.ndarray:
        """The state after ``[t0, t1]`` days at a constant dose (the one drug in ``doses``)."""
        return self.system.advance(state, self._doses(doses), t0, t1)

    def equilibrium(self, dose: float = 0.0, *, psa: bool = True) -> np.ndarray:
        """The stable equilibrium at a constant dose: ``T+, TP, T-`` and, with ``psa``, PSA.

        Off drug this is the pre-treatment evolutionarily stable state (ESS) the paper
        starts its patients from (at 40 % of it).
        """
        x = self.system.equilibrium({"abiraterone": np.array([float(dose)])})
        return np.append(x, self.psa_production * x.sum() / self.psa_decay) if psa else x

    @staticmethod
    def psa(state: np.ndarray) -> np.ndarray:
        """The PSA column of a four-column state (what a clinic measures)."""
        return np.asarray(state)[:, 3]


class _PkRates:
    """Birth and death per patient and population at constant exposure (a model's PK/PD)."""

    def __init__(self, model: EvolutionModel) -> None:
        self.model = model

    def __call__(self, doses, n):
        conc = {d: np.asarray(v, float) * self.model.drugs[d].pk.level for d, v in doses.items()}
        return effective_rates(self.model, conc)


def lotka_volterra(model: EvolutionModel) -> LotkaVolterra:
    """The model file's ``competition`` block as a :class:`LotkaVolterra`.

    Birth and death rates come from the model's PK/PD
    (:func:`~oncoresist.evolve.pharmacology.effective_rates`) at a constant concentration:
    each drug's dose multiplier times its ``pk.level`` (the model's drugs must use
    ``constant`` PK here). Carrying capacities, their values on drug, the marker and the
    units come from the ``competition`` and ``marker`` blocks.
    """
    comp = model.competition
    if comp is None:
        raise InputError("the model has no competition block", field="competition")
    for name, drug in model.drugs.items():
        if drug.pk.kind != "constant":
            raise InputError(
                "competition models take constant exposure", field=f"drugs.{name}.pk.kind"
            )
    index = {name: i for i, name in enumerate(model.clone_names)}
    return LotkaVolterra(
        growth=[c.birth for c in model.clones],
        matrix=comp.matrix,
        capacity=[comp.capacity_of(c, index) for c in comp.carrying_capacity],
        on_drug={d: [comp.capacity_of(c, index) for c in caps] for d, caps in comp.on_drug.items()},
        marker=None if model.marker is None else model.marker.production,
        marker_decay=1.0 if model.marker is None else model.marker.decay_per_day,
        rates=_PkRates(model),
        units=comp.units,
        extinction_floor=comp.extinction_floor,
    )
