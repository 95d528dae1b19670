"""Growth models: closed forms against their ODEs, the Richards family's special cases, shapes.

Tolerance: closed form and LSODA (rtol 1e-10, atol 1e-14) agree to a relative 1e-6.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from oncoresist.errors import InputError
from oncoresist.forecast.growth import MODELS, get_model

THETA = {
    "constant": [np.log(50.0)],
    "exponential": [np.log(50.0), -0.004],
    "logistic": [np.log(50.0), np.log(300.0), np.log(0.02)],
    "gompertz": [np.log(50.0), np.log(300.0), np.log(0.01)],
    "classical_bertalanffy": [np.log(500.0), np.log(80.0), np.log(0.01)],
    "general_bertalanffy": [np.log(50.0), np.log(300.0), np.log(0.01), 0.6],
    "stein": [np.log(50.0), np.log(0.02), np.log(0.003)],
    "claret": [np.log(50.0), np.log(0.004), np.log(0.03), np.log(0.01)],
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_closed_form_matches_the_ode(name):
    model = MODELS[name]
    theta = np.array(THETA[name])
    days = np.array([0.0, 20.0, 75.0, 150.0, 400.0])
    v0 = float(model(np.array([0.0]), theta)[0])
    sol = solve_ivp(
        lambda t, v: model.rhs(t, v, theta),
        (0.0, days[-1]),
        [v0],
        t_eval=days,
        method="LSODA",
        rtol=1e-10,
        atol=1e-14,
    )
    np.testing.assert_allclose(model(days, theta), sol.y[0], rtol=1e-6)


@pytest.mark.parametrize(("gamma", "name"), [(0.0, "gompertz"), (1 / 3, "classical_bertalanffy"),
                                             (-1.0, "logistic"), (1e-10, "gompertz")])  # fmt: skip
def test_general_bertalanffy_special_cases(gamma, name):
    days = np.linspace(-20.0, 500.0, 11)
    base = [np.log(40.0), np.log(250.0), np.log(0.012)]
    general = MODELS["general_bertalanffy"](days, np.array([*base, gamma]))
    np.testing.assert_allclose(general, MODELS[name](days, np.array(base)), rtol=1e-7)


def test_curves_broadcast_over_patients_and_draws():
    model = MODELS["general_bertalanffy"]
    theta = np.tile(THETA["general_bertalanffy"], (7, 3, 1))  # draws x patients x k
    days = np.tile(np.linspace(0.0, 100.0, 5), (3, 1))  # patients x readings
    out = model(days, theta)
    assert out.shape == (7, 3, 5)
    np.testing.assert_allclose(out[4, 1], model(days[1], np.array(THETA["general_bertalanffy"])))


def test_value_at_day_zero_is_v0_and_natural_parameters():
    for name, theta in THETA.items():
        v0 = np.exp(theta[0])
        assert MODELS[name](np.array([0.0]), np.array(theta))[0] == pytest.approx(v0)
    nat = MODELS["gompertz"].natural(np.array(THETA["gompertz"]))
    assert nat["v0"] == pytest.approx(50.0) and nat["rate"] == pytest.approx(0.01)


def test_initial_guess_is_inside_the_box():
    t = np.array([[0.0, 30, 60, 90], [0.0, 40, 80, 80]])
    y = np.array([[10.0, 8, 6, 5], [0.0, 3, 6, 0]])
    mask = np.array([[True] * 4, [True, True, True, False]])
    for model in MODELS.values():
        guess = model.initial_guess(t, y, mask)
        box = model.bounds(np.log(5.0))
        assert guess.shape == (2, model.n_params)
        assert np.all(np.isfinite(guess))
        assert np.all((guess >= box[:, 0]) & (guess <= box[:, 1]))


def test_unknown_model_and_wrong_parameter_count_are_input_errors():
    with pytest.raises(InputError, match="unknown growth model 'gompertzz'"):
        get_model("gompertzz")
    with pytest.raises(InputError, match="takes 3 parameters"):
        MODELS["gompertz"](np.array([0.0]), np.zeros(2))
