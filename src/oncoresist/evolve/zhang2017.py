"""Zhang et al. 2017's representative-patient simulations, run on :class:`ZhangModel`.

Zhang et al. (Nat Commun 2017;8:1816) simulate two representative patients (their
competition matrices 7 and 5) under standard-of-care and adaptive abiraterone. Their
published simulation code sets up each run as follows, and so does
:func:`representative_patient`:

1. start at 40 % of the untreated evolutionarily stable state (ESS), PSA included, with
   populations absent at the ESS put at the 1e-9 floor (so patient #1's ``T-`` starts
   at 4e-10);
2. grow untreated until PSA reaches the zenith, 0.8 x the ESS PSA: the first abiraterone
   day;
3. standard of care: abiraterone every day from then to day 10,000. Adaptive: decided
   daily from PSA, on once PSA is above the zenith and off once it is below 0.4 x the
   zenith (the trial stopped at a 50 % fall from the pre-treatment PSA; the simulation
   code stops at 40 % of the zenith, and the threshold is a parameter here);
4. read off the first day ``T-`` exceeds 5 % and 90 % of the cells and the abiraterone
   days as a percentage of standard of care's (from the first abiraterone day to day
   10,000).

The published integrator is forward Euler with one-day steps and every population
clamped up to 1e-9 after each step (``integrator="euler", floor_rule="clamp"``, the
defaults here, which reproduce :data:`PUBLISHED`). An accurate integrator moves the late
thresholds by days to thousands of days (patient #2 adaptive: ``T-`` never passes 90 %
under Euler, it does at day ~5,200 under RK4); ``docs/evolve.md`` tabulates both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from oncoresist.errors import InputError
from oncoresist.evolve.competition import FloorRule, Integrator, ZhangModel
from oncoresist.evolve.strategies import Adaptive, Continuous, Progression, run_strategy

Arm = Literal["soc", "adaptive"]

#: The figures of the authors' simulation code for each (patient, arm): first
#: abiraterone day, days ``T-`` passes 5 % and 90 % of the cells (None: not by day 10,000)
#: and abiraterone exposure as % of standard of care (forward Euler, one-day steps).
PUBLISHED: dict[tuple[int, str], tuple[int, int, int | None, float]] = {
    (1, "soc"): (761, 3922, 4592, 100.0),
    (1, "adaptive"): (761, 8475, None, 1.18),
    (2, "soc"): (724, 381, 802, 100.0),
    (2, "adaptive"): (724, 381, None, 0.34),
}


@dataclass(frozen=True)
class RepresentativeRun:
    """One representative-patient simulation and the figures the paper reads off it.

    Attributes
    ----------
    first_drug_day : int
        Day PSA first reaches the zenith (abiraterone starts).
    resistant_5pct_day, resistant_90pct_day : float
        First day ``T-`` is above 5 % and 90 % of the cells (``nan``: not by the end).
    exposure_pct_of_soc : float
        Abiraterone days as a percentage of the days from ``first_drug_day`` to the end.
    trajectory : pandas.DataFrame
        Daily ``day, T+, TP, T-, PSA, abiraterone`` (dose over the day that starts there).
    """

    patient: int
    arm: str
    integrator: str
    first_drug_day: int
    resistant_5pct_day: float
    resistant_90pct_day: float
    exposure_pct_of_soc: float
    trajectory: pd.DataFrame = field(repr=False)


def starting_state(model: ZhangModel) -> tuple[np.ndarray, float]:
    """40 % of the untreated ESS (absent populations at the floor) and the PSA zenith."""
    ess = model.equilibrium()
    ess[:3] = np.maximum(ess[:3], model.floor)
    return 0.4 * ess, 0.8 * float(ess[3])


def representative_patient(
    patient: int = 1,
    arm: Arm = "soc",
    *,
    days: int = 10_000,
    stop_fraction: float = 0.4,
    integrator: Integrator = "euler",
    floor_rule: FloorRule = "clamp",
) -> RepresentativeRun:
    """Run Zhang et al. 2017's representative patient #1 or #2 under one arm.

    Parameters
    ----------
    patient : {1, 2}
        Representative patient (competition matrix 7 or 5).
    arm : {"soc", "adaptive"}
        Standard of care (continuous abiraterone) or adaptive therapy.
    days : int
        Days simulated from the start (10,000 in the paper).
    stop_fraction : float
        Adaptive: abiraterone stops below this fraction of the zenith (code: 0.4).
    integrator, floor_rule
        As for :class:`~oncoresist.evolve.competition.LotkaVolterra`; the defaults are
        the published code's.

    Returns
    -------
    RepresentativeRun
    """
    if arm not in ("soc", "adaptive"):
        raise InputError(f"arm {arm!r}: expected 'soc' or 'adaptive'", field="arm")
    model = ZhangModel.zhang2017(patient, integrator=integrator, floor_rule=floor_rule)
    x, zenith = starting_state(model)
    untreated = [x]
    while untreated[-1][3] < zenith:
        if len(untreated) > days:
            raise InputError(f"PSA never reaches the zenith within {days} days", field="days")
        untreated.append(model.advance(untreated[-1][None, :], {}, 0, 1)[0])
    first = len(untreated) - 1
    if arm == "soc":
        strategy = Continuous(["abiraterone"])
    else:
        strategy = Adaptive(["abiraterone"], stop_fraction=stop_fraction,
                            resume_fraction=1.0, reference=zenith)  # fmt: skip
    res = run_strategy(strategy, untreated[-1][None, :], model.advance, t_end=days - first,
                       visit_days=1, burden=model.psa,
                       progression=Progression(threshold=np.inf), record=True)  # fmt: skip
    treated = res.trajectory.pivot(index="day", columns="clone", values="cells")
    states = np.vstack([np.array(untreated[:-1]), treated[[f"clone{i}" for i in range(4)]]])
    dose = np.zeros(days + 1)
    dose[first:days] = _daily_doses(strategy, res, first, days)
    trajectory = pd.DataFrame(states, columns=["T+", "TP", "T-", "PSA"])
    trajectory.insert(0, "day", np.arange(days + 1))
    trajectory["abiraterone"] = dose
    share = trajectory["T-"] / trajectory[["T+", "TP", "T-"]].sum(axis=1)
    return RepresentativeRun(
        patient=patient,
        arm=arm,
        integrator=integrator,
        first_drug_day=first,
        resistant_5pct_day=_first_day(share > 0.05),
        resistant_90pct_day=_first_day(share > 0.90),
        exposure_pct_of_soc=100.0 * float(res.exposure["abiraterone"][0]) / (days - first),
        trajectory=trajectory,
    )


def _daily_doses(strategy, res, first: int, days: int) -> np.ndarray:
    """The dose of each treated day, re-read from the PSA each visit saw."""
    if isinstance(strategy, Continuous):
        return np.ones(days - first)
    seen = res.trajectory.query("clone == 'observed'")["cells"].to_numpy()[:-1]
    strategy.reset(1, seen[:1])
    return np.array([strategy.doses(0, seen[i : i + 1], None)["abiraterone"][0]
                     for i in range(days - first)])  # fmt: skip


def _first_day(hit: pd.Series) -> float:
    days = np.flatnonzero(hit.to_numpy())
    return float(days[0]) if days.size else float("nan")
