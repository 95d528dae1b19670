"""PK superposition and steady state, Hill effects, Bliss and HSA combination, rate grids."""

import numpy as np
import pytest

from oncoresist.evolve.model import example_path, load_model, parse_model
from oncoresist.evolve.pharmacology import (
    concentration,
    dose_times,
    effective_rates,
    hill,
    rates_on_grid,
)


def drug_model(pk, effects=None):
    return parse_model(
        {
            "clones": [{"name": "S", "birth": 0.14, "death": 0.13},
                       {"name": "R", "birth": 0.14, "death": 0.13}],
            "drugs": {"A": {"pk": pk, "effects": effects or []},
                      "B": {"pk": pk, "effects": []}},
        }
    )  # fmt: skip


def test_one_compartment_matches_the_closed_form_and_steady_state():
    pk = {"dose_mg": 100, "interval_days": 1, "half_life_days": 1.5, "absorption_per_day": 12,
          "bioavailability": 0.6, "volume_l": 200}  # fmt: skip
    drug = drug_model(pk).drugs["A"]
    ke, ka, amount = np.log(2) / 1.5, 12.0, 0.6 * 100 / 200
    t = np.array([0.0, 0.1, 0.5, 2.0])
    one = concentration(drug, t, np.array([0.0]))
    want = amount * ka / (ka - ke) * (np.exp(-ke * t) - np.exp(-ka * t))
    np.testing.assert_allclose(one, want, rtol=1e-12)
    # daily dosing for 60 days: the trough approaches the geometric-series steady state
    doses = dose_times(0, 60, 1)
    trough = concentration(drug, np.array([59.999]), doses)[0]
    r_e, r_a = np.exp(-ke), np.exp(-ka)
    ss = amount * ka / (ka - ke) * (r_e / (1 - r_e) - r_a / (1 - r_a))
    assert trough == pytest.approx(ss, rel=1e-3)


def test_constant_exposure_and_dose_windows():
    drug = drug_model({"kind": "constant", "level": 2.0, "interval_days": 1}).drugs["A"]
    doses = dose_times(0, 10, 1, on=[(0, 3), (6, 8)])
    assert list(doses) == [0, 1, 2, 6, 7]
    c = concentration(drug, np.array([0.5, 2.5, 4.0, 6.2, 9.0]), doses, scale=0.5)
    assert list(c) == [1.0, 1.0, 0.0, 1.0, 0.0]


def test_hill():
    assert hill(0.0, 0.5, 1.0, 2.0) == 0.0
    assert hill(1.0, 0.5, 1.0, 2.0) == pytest.approx(0.25)
    assert hill(1e9, 0.5, 1.0, 2.0) == pytest.approx(0.5)


def test_bliss_and_hsa():
    effects = [{"clone": "S", "acts_on": "birth", "emax": 0.5, "ic50": 1.0},
               {"clone": "S", "acts_on": "death", "emax": 0.04, "ic50": 1.0}]  # fmt: skip
    model = parse_model(
        {
            "clones": [{"name": "S", "birth": 0.2, "death": 0.1}],
            "drugs": {"A": {"effects": effects}, "B": {"effects": effects}},
        }
    )
    conc = {"A": np.array([1.0]), "B": np.array([1.0])}  # each: E_birth 0.25, E_death 0.02
    b, d = effective_rates(model, conc)
    assert b[0, 0] == pytest.approx(0.2 * 0.75 * 0.75)
    assert d[0, 0] == pytest.approx(0.1 + 0.04)
    b, d = effective_rates(model, conc, interaction="hsa")
    assert b[0, 0] == pytest.approx(0.2 * 0.75)
    assert d[0, 0] == pytest.approx(0.12)
    b, d = effective_rates(model, {})
    assert b.tolist() == [0.2] and d.tolist() == [0.1]


def test_rates_on_grid_averages_the_exposure():
    model = load_model(example_path("egfr_nsclc"))
    edges = np.arange(0.0, 31.0, 1.0)
    birth, death = rates_on_grid(model, edges, {"erlotinib": dose_times(0, 30, 1)})
    assert birth.shape == death.shape == (30, 4)
    names = model.clone_names
    s, t790m = names.index("sensitive"), names.index("T790M")
    # sensitive cells die about 0.17 per day on erlotinib (Bozic's d'), T790M barely more
    assert death[-1, s] == pytest.approx(0.175, abs=0.01)
    assert death[-1, t790m] < 0.131
    _, off_d = rates_on_grid(model, edges, {})
    assert np.all(off_d == 0.13)
