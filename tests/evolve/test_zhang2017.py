"""Zhang et al. 2017's representative patients reproduced (Nat Commun 8:1816).

The published figures (:data:`PUBLISHED`) are those of the authors' simulation code:
forward Euler with one-day steps and a 1e-9 clamp. Run with that integrator, every figure
must come out within 2 % (days within 2 % of the published day, exposure within 2 % of
the published percentage). The accurate integrator (RK4, populations falling through the
floor extinct) keeps the paper's conclusions: adaptive therapy delays the T- takeover
and uses about 1 % of standard of care's abiraterone.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from oncoresist.errors import InputError
from oncoresist.evolve.competition import ZhangModel
from oncoresist.evolve.zhang2017 import PUBLISHED, representative_patient, starting_state


@pytest.mark.parametrize(("patient", "arm"), list(PUBLISHED))
def test_published_figures_within_two_percent_with_the_published_integrator(patient, arm):
    first, t5, t90, exposure = PUBLISHED[patient, arm]
    run = representative_patient(patient, arm)  # Euler, one-day steps, 1e-9 clamp
    assert run.integrator == "euler"
    assert run.first_drug_day == pytest.approx(first, rel=0.02)
    assert run.resistant_5pct_day == pytest.approx(t5, rel=0.02)
    if t90 is None:
        assert math.isnan(run.resistant_90pct_day)
    else:
        assert run.resistant_90pct_day == pytest.approx(t90, rel=0.02)
    assert run.exposure_pct_of_soc == pytest.approx(exposure, rel=0.02)


def test_the_ess_is_the_papers_starting_point():
    """The untreated ESS of matrices 7 and 5 (the authors hard-code 6060.6, 7575.8, -,
    27272.7 and 6270.6, 7260.7, 330.0, 27722.8); patient #1 starts with T- at 4e-10."""
    ess = {1: [6060.60606, 7575.75758, 0.0, 27272.72727],
           2: [6270.62706, 7260.72607, 330.03300, 27722.77228]}  # fmt: skip
    for patient, expected in ess.items():
        np.testing.assert_allclose(ZhangModel.zhang2017(patient).equilibrium(), expected, rtol=1e-8)
    x0, zenith = starting_state(ZhangModel.zhang2017(1))
    assert x0[2] == pytest.approx(4e-10)
    assert zenith == pytest.approx(0.8 * 27272.72727)


def test_accurate_integrator_keeps_the_conclusions():
    """RK4 (floor: extinct) moves the late days but not the story: adaptive keeps T- under
    5 % at least twice as long as standard of care and gives under 2 % of its drug."""
    soc = representative_patient(1, "soc", integrator="rk4", floor_rule="extinct")
    ada = representative_patient(1, "adaptive", integrator="rk4", floor_rule="extinct")
    assert soc.first_drug_day == ada.first_drug_day == 761
    assert ada.resistant_5pct_day > 2 * soc.resistant_5pct_day
    assert soc.resistant_90pct_day < 5000 and math.isnan(ada.resistant_90pct_day)
    assert 0.5 < ada.exposure_pct_of_soc < 2.0
    # the Euler figures are within 5 % of the accurate ones for the standard-of-care arm
    assert soc.resistant_5pct_day == pytest.approx(PUBLISHED[1, "soc"][1], rel=0.05)


def test_trajectory_and_doses_are_consistent():
    run = representative_patient(2, "adaptive", days=3000)
    traj = run.trajectory
    assert len(traj) == 3001
    assert list(traj.columns) == ["day", "T+", "TP", "T-", "PSA", "abiraterone"]
    assert traj["abiraterone"].iloc[: run.first_drug_day].eq(0).all()
    days_on = traj["abiraterone"].iloc[run.first_drug_day : 3000].sum()
    assert run.exposure_pct_of_soc == pytest.approx(100 * days_on / (3000 - run.first_drug_day))
    # abiraterone goes off only below 0.4 x the zenith and on only above the zenith
    zenith = starting_state(ZhangModel.zhang2017(2))[1]
    dose, psa = traj["abiraterone"].to_numpy(), traj["PSA"].to_numpy()
    switched_off = np.flatnonzero((dose[:-1] == 1) & (dose[1:] == 0)) + 1
    switched_on = np.flatnonzero((dose[:-1] == 0) & (dose[1:] == 1)) + 1
    assert switched_off.size and np.all(psa[switched_off] < 0.4 * zenith)
    assert np.all(psa[switched_on] >= zenith)


def test_bad_arguments():
    with pytest.raises(InputError, match="patient"):
        representative_patient(3)
    with pytest.raises(InputError, match="arm"):
        representative_patient(1, "mtd")
