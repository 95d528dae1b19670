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
  of 9,000;
* :func:`lotka_volterra` for an :class:`~oncoresist.evolve.model.EvolutionModel` with a
  ``competition`` block: ``dx_i/dt = b_i x_i (1 - sum_j A_ij x_j / K_i) - d_i x_i``, the
  birth and death rates ``b_i, d_i`` those of the model's PK/PD at the dose given.

Integration: ``scipy.integrate.solve_ivp`` (LSODA) on the whole batch of patients at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from oncoresist.errors import InputError
from oncoresist.evolve.model import EvolutionModel
from oncoresist.evolve.pharmacology import effective_rates


def _integrate(rhs, state: np.ndarray, t0: float, t1: float) -> np.ndarray:
    shape = state.shape
    sol = solve_ivp(
        lambda t, y: rhs(y.reshape(shape)).ravel(),
        (t0, t1),
        state.ravel(),
        method="LSODA",
        rtol=1e-8,
        atol=1e-12,
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
        Carrying capacity of ``T-`` (cells, in the model's units).
    u_off, u_full : float
        ``K_TP`` without abiraterone and at full dose.
    """

    r: tuple[float, float, float] = (2.7726e-3, 3.4657e-3, 6.6542e-3)
    matrix: tuple[tuple[float, ...], ...] = ((1.0, 0.7, 0.8), (0.4, 1.0, 0.6), (0.5, 2.0, 1.0))
    k_resistant: float = 1e4
    u_off: float = 1e4
    u_full: float = 1e3
    #: Total burden at which the published model counts the patient as failed.
    failure_burden: float = 9000.0

    def rhs(self, x: np.ndarray, dose: np.ndarray) -> np.ndarray:
        """``dx/dt`` for states ``(patients, 3)`` and doses in [0, 1] ``(patients,)``."""
        u = self.u_off - (self.u_off - self.u_full) * dose
        cap = np.stack([x[:, 1] * (u / self.u_off + 0.5), u, np.full(len(x), self.k_resistant)], 1)
        crowd = x @ np.asarray(self.matrix).T / np.maximum(cap, 1e-12)
        return np.asarray(self.r) * x * (1.0 - crowd)

    def advance(self, state, doses, t0, t1, rng=None) -> np.ndarray:
        """The state after ``[t0, t1]`` days at constant dose (``doses["abiraterone"]``)."""
        dose = np.asarray(next(iter(doses.values())) if doses else np.zeros(len(state)))
        new = _integrate(lambda x: self.rhs(x, dose), np.asarray(state, float), t0, t1)
        return np.maximum(new, 1.0)  # the published model keeps one cell of each type


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
