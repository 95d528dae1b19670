"""Deterministic competition models (Lotka-Volterra) for adaptive-therapy questions.

Two forms, both giving an ``advance(state, doses, t0, t1, rng)`` for
:func:`~oncoresist.evolve.strategies.run_strategy`:

* :class:`StroblModel`, the published two-population model of Strobl et al. 2021 (their
  ``rdModel_nsKill``): sensitive ``S`` and resistant ``R`` in a shared niche normalised to
  ``K = 1``,

      dS/dt = r_S (1 - S - c_RS R) (1 - d_D D) S - d_T S
      dR/dt = r_R (1 - (R + c_SR S) / K_R) R - d_T R

  with drug dose ``D`` in [0, 1] killing in proportion to division (Norton-Simon;
  ``d_D = 1.5`` > 1 makes growth negative under full drug) and turnover ``d_T``;
* :class:`ZhangModel`, the three-population mCRPC model of Zhang et al. 2017 (androgen-
  dependent ``T+``, testosterone-producing ``TP``, androgen-independent ``T-``) as coded by
  Cunningham et al. 2020 (PLoS One 15:e0243386): ``dx_i/dt = r_i x_i (1 - sum_j A_ij x_j /
  K_i)`` with ``K_TP = u``, ``K_T+ = x_TP (u / 10^4 + 0.5)``, ``K_T- = 10^4`` and ``u``
  from 10^4 (no abiraterone) down to 10^3 (full dose); the patient fails at a total burden
  of 9,000; sizes in normalised units with an extinction floor of 1e-9 (a population
  falling through it is set to 0; ``units="absolute"`` uses one cell);
* :func:`lotka_volterra` for an :class:`~oncoresist.evolve.model.EvolutionModel` with a
  ``competition`` block: ``dx_i/dt = b_i x_i (1 - sum_j A_ij x_j / K_i) - d_i x_i``, the
  birth and death rates ``b_i, d_i`` those of the model's PK/PD at the dose given.

Integration: ``scipy.integrate.solve_ivp`` (LSODA) on the whole batch of patients at once;
:class:`ZhangModel` uses fixed-step RK4 in numpy (LSODA in stiff phases) so daily steps are
cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.integrate import solve_ivp

from oncoresist.errors import InputError
from oncoresist.evolve.model import EvolutionModel
from oncoresist.evolve.pharmacology import effective_rates


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


@dataclass(frozen=True)
class ZhangModel:
    """Zhang et al. 2017 mCRPC model (Cunningham et al. 2020 coding); rates per day.

    Parameters
    ----------
    r : tuple of float
        Growth rates of ``T+, TP, T-`` (ln 2 over doubling times of 250, 200 and 104 days).
    matrix : tuple of tuple of float
        Competition coefficients ``A_ij`` (effect of ``j`` on ``i``).
    k_resistant : float
        Carrying capacity of ``T-`` (in the model's units).
    u_off, u_full : float
        ``K_TP`` without abiraterone and at full dose.
    units : {"normalised", "absolute"}
        ``"normalised"`` (the published model: densities, not cell counts) or
        ``"absolute"`` (cell counts).
    extinction_floor : float, optional
        A population that falls through this size during a step (at or above it at the
        step's start, below it at its end) is set to exactly 0 and stays extinct; it is
        never raised to the floor. A population given below the floor (a rare resistant
        clone seeded at 4e-10) follows its ODE trajectory. Default (``None``): 1e-9 in
        normalised units, 1 cell in absolute units (see :attr:`floor`).

    Notes
    -----
    Integration: classical fixed-step RK4 in numpy, with as many sub-steps per interval as
    keep ``h r_i (|1 - c_i| + c_i) <= 0.02`` (``c_i`` the crowding) for every living
    population (one per day in the published regime); intervals that would need
    more than 64 sub-steps (a stiff phase, e.g. ``x_TP`` near 0) go to LSODA (rtol 1e-10).
    A population whose carrying capacity is 0 (``T+`` once ``TP`` is extinct) is extinct.
    10,000 daily steps of one patient under continuous abiraterone take about 0.9 s
    (``tests/evolve/test_zhang.py`` prints the figure).

    References
    ----------
    Zhang J et al. Nat Commun 2017;8:1816 (PMID 29180633). Cunningham JJ et al. PLoS One
    2020;15:e0243386.
    """

    r: tuple[float, float, float] = (2.7726e-3, 3.4657e-3, 6.6542e-3)
    matrix: tuple[tuple[float, ...], ...] = ((1.0, 0.7, 0.8), (0.4, 1.0, 0.6), (0.5, 2.0, 1.0))
    k_resistant: float = 1e4
    u_off: float = 1e4
    u_full: float = 1e3
    #: Total burden at which the published model counts the patient as failed.
    failure_burden: float = 9000.0
    units: Literal["normalised", "absolute"] = "normalised"
    extinction_floor: float | None = None

    def __post_init__(self) -> None:
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

    @property
    def floor(self) -> float:
        """The extinction floor in use: 1e-9 (normalised) or 1 cell (absolute) by default."""
        if self.extinction_floor is not None:
            return float(self.extinction_floor)
        return 1e-9 if self.units == "normalised" else 1.0

    def _rhs_at(self, dose: np.ndarray, n: int):
        """``rhs`` at a fixed dose, with the dose-dependent terms computed once."""
        r = np.asarray(self.r, dtype=float)
        a_t = np.asarray(self.matrix, dtype=float).T
        u = np.broadcast_to(self.u_off - (self.u_off - self.u_full) * dose, (n,))
        tp_share = u / self.u_off + 0.5  # K_T+ = x_TP (u / u_off + 0.5)
        inv_cap = np.empty((n, 3))
        inv_cap[:, 1] = 1.0 / u
        inv_cap[:, 2] = 1.0 / self.k_resistant

        def crowding(x: np.ndarray) -> np.ndarray:
            inv_cap[:, 0] = 1.0 / np.maximum(x[:, 1] * tp_share, 1e-300)
            return (x @ a_t) * inv_cap

        def rhs(x: np.ndarray) -> np.ndarray:
            return r * x * (1.0 - crowding(x))

        return rhs, crowding

    def rhs(self, x: np.ndarray, dose: np.ndarray) -> np.ndarray:
        """``dx/dt`` for states ``(patients, 3)`` and doses in [0, 1] ``(patients,)``."""
        x = np.asarray(x, dtype=float)
        return self._rhs_at(np.asarray(dose, dtype=float), len(x))[0](x)

    def advance(self, state, doses, t0, t1, rng=None) -> np.ndarray:
        """The state after ``[t0, t1]`` days at constant dose (``doses["abiraterone"]``)."""
        x0 = np.array(state, dtype=float)
        dose = np.asarray(next(iter(doses.values())) if doses else np.zeros(len(x0)), float)
        dt = float(t1 - t0)
        rhs, crowding = self._rhs_at(dose, len(x0))
        # a population without a niche (K_T+ = 0 once TP is extinct) is extinct
        x0[:, 0] = np.where(x0[:, 1] > 0, x0[:, 0], 0.0)
        crowd = crowding(x0)
        stiff = np.where(x0 > 0, np.asarray(self.r) * (np.abs(1.0 - crowd) + crowd), 0.0)
        steps = max(1, int(np.ceil(dt * stiff.max(initial=0.0) / 0.02)))
        if steps > 64:
            x = _integrate(rhs, x0, t0, t1, rtol=1e-10, atol=1e-3 * self.floor)
        else:
            h = dt / steps
            x = x0
            for _ in range(steps):
                k1 = rhs(x)
                k2 = rhs(x + 0.5 * h * k1)
                k3 = rhs(x + 0.5 * h * k2)
                k4 = rhs(x + h * k3)
                x = x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
            x = np.maximum(x, 0.0)
        x[(x < self.floor) & (x0 >= self.floor)] = 0.0
        return x


def lotka_volterra(model: EvolutionModel):
    """``advance(state, doses, t0, t1, rng)`` of the model's Lotka-Volterra competition.

    Drug exposure enters through :func:`~oncoresist.evolve.pharmacology.effective_rates` at
    a constant concentration: each drug's dose multiplier times its ``pk.level`` (the
    model's drugs must use ``constant`` PK here).
    """
    if model.competition is None:
        raise InputError("the model has no competition block", field="competition")
    for name, drug in model.drugs.items():
        if drug.pk.kind != "constant":
            raise InputError(
                "competition models take constant exposure", field=f"drugs.{name}.pk.kind"
            )
    cap = np.asarray(model.competition.carrying_capacity, dtype=float)
    a = np.asarray(model.competition.matrix, dtype=float)

    def advance(state, doses, t0, t1, rng=None):
        conc = {d: np.asarray(v, float) * model.drugs[d].pk.level for d, v in doses.items()}
        n = len(state)
        conc = conc or {}
        birth, death = effective_rates(model, conc) if conc else effective_rates(model, {})
        birth = np.broadcast_to(birth, (n, cap.size))
        death = np.broadcast_to(death, (n, cap.size))

        def rhs(x):
            crowd = x @ a.T / cap
            return birth * x * (1 - crowd) - death * x

        return _integrate(rhs, np.asarray(state, float), t0, t1)

    return advance
