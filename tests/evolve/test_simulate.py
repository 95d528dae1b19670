"""Model dynamics under strategies: PK history, per-patient rates, the exact mean engine."""

import numpy as np
import pytest

from oncoresist.evolve.model import example_path, load_model, parse_model
from oncoresist.evolve.pharmacology import dose_times, rates_on_grid
from oncoresist.evolve.simulate import Dynamics, mean_step, simulate
from oncoresist.evolve.strategies import Continuous, Sequential


def two_type(u=1e-3):
    return parse_model(
        {
            "clones": [{"name": "S", "birth": 0.14, "death": 0.13, "initial": 1e6},
                       {"name": "R", "birth": 0.12, "death": 0.10}],
            "mutations": [{"from": "S", "to": "R", "rate": u}],
        }
    )  # fmt: skip


def test_mean_step_matches_the_two_type_closed_form():
    model = two_type()
    u, t = 1e-3, 50.0
    b = np.array([[0.14, 0.12]])
    d = np.array([[0.13, 0.10]])
    got = mean_step(np.array([[1e6, 0.0]]), b, d, model.mutation_matrix(), t)[0]
    r_s, r_r = 0.14 * (1 - u) - 0.13, 0.02
    s = 1e6 * np.exp(r_s * t)
    r = 1e6 * 0.14 * u * (np.exp(r_s * t) - np.exp(r_r * t)) / (r_s - r_r)
    assert got == pytest.approx([s, r], rel=1e-10)


def test_dynamics_rates_follow_the_dose_history():
    model = load_model(example_path("egfr_nsclc"))
    dyn = Dynamics(model, 2, engine="deterministic")
    # patient 0 on erlotinib, patient 1 off, for 30 days
    dyn._give({"erlotinib": np.array([1.0, 0.0])}, 0.0, 30.0)
    birth, death = dyn.rates(np.arange(0.0, 31.0))
    want_b, want_d = rates_on_grid(model, np.arange(0.0, 31.0), {"erlotinib": dose_times(0, 30, 1)})
    np.testing.assert_allclose(death[0], want_d, rtol=1e-12)
    np.testing.assert_allclose(birth[0], want_b, rtol=1e-12)
    assert np.all(death[1] == 0.13)


def test_sequential_erlotinib_then_osimertinib_on_the_mean():
    """The example's median patient (no between-patient spread): T790M ends erlotinib,
    osimertinib controls it, and what grows after is what escapes both."""
    data = load_model(example_path("egfr_nsclc")).model_dump(by_alias=True)
    for clone in data["clones"]:
        clone["initial_sd_log"] = 0.0
    model = parse_model(data)
    names = model.clone_names
    res = simulate(model, Sequential([["erlotinib"], ["osimertinib"]]), n_replicates=1,
                   t_end=3000, engine="deterministic", visit_days=28)  # fmt: skip
    mono = simulate(model, Continuous(["erlotinib"]), n_replicates=1, t_end=3000,
                    engine="deterministic", visit_days=28)  # fmt: skip
    assert res.ttp_days[0] > mono.ttp_days[0]
    traj = res.trajectory
    last = traj[traj["day"] == traj["day"].max()].set_index("clone")["cells"]
    # on osimertinib, T790M is controlled; what grows is what escapes it
    assert last["T790M"] < last[["T790M_C797S", "MET_amp"]].max()
    assert set(names) <= set(traj["clone"])
