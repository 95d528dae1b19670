"""Model files with a competition block: the Zhang 2017 model written as a file runs the
same as :class:`ZhangModel`, through every entry point (library, ``simulate``,
``compare``), and malformed blocks are refused with the key named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from oncoresist.cli import app
from oncoresist.errors import InputError
from oncoresist.evolve import load_model, lotka_volterra, parse_model
from oncoresist.evolve.competition import ZhangModel
from oncoresist.evolve.simulate import initial_state, simulate
from oncoresist.evolve.strategies import Continuous, Progression
from oncoresist.evolve.zhang2017 import starting_state

X0, ZENITH = starting_state(ZhangModel.zhang2017(1, floor_rule="extinct"))
ZHANG2017 = {
    "name": "Zhang 2017 representative patient 1",
    "clones": [
        {"name": "T+", "birth": 2.7726e-3, "death": 0.0, "initial": float(X0[0])},
        {"name": "TP", "birth": 3.4657e-3, "death": 0.0, "initial": float(X0[1])},
        {"name": "T-", "birth": 6.6542e-3, "death": 0.0, "initial": float(X0[2])},
    ],
    "drugs": {"abiraterone": {"pk": {"kind": "constant", "level": 1.0}}},
    "competition": {
        "units": "normalised",
        "carrying_capacity": [{"share": 1.5, "of": "TP"}, 1e4, 1e4],
        "on_drug": {"abiraterone": [{"share": 0.5, "of": "TP"}, 100.0, 1e4]},
        "matrix": [[1.0, 0.7, 0.8], [0.4, 1.0, 0.5], [0.6, 0.9, 1.0]],
    },
    "marker": {
        "name": "PSA",
        "production": [1.0, 1.0, 1.0],
        "decay_per_day": 0.5,
        "initial": float(X0[3]),
    },
    "start": {"until_marker": ZENITH},
}


def test_file_model_matches_zhang_model_step_for_step():
    system = lotka_volterra(parse_model(ZHANG2017))
    zhang = ZhangModel.zhang2017(1)
    a = b = X0[None, :]
    for day in range(1500):
        on = {"abiraterone": np.array([float(day % 300 < 150)])}
        a = system(a, on, day, day + 1)
        b = zhang.advance(b, on, day, day + 1)
    np.testing.assert_allclose(a, b, rtol=1e-12)
    assert system.burden(a)[0] == a[0, 3]  # visits read PSA


def test_start_block_waits_for_the_zenith():
    """Untreated growth from 40 % of the ESS reaches the PSA zenith on day 761 (the
    paper's first abiraterone day)."""
    state, waited = initial_state(parse_model(ZHANG2017), 3)
    assert waited == 761
    assert np.all(state[:, 3] >= ZENITH) and state.shape == (3, 4)


def test_simulate_runs_the_ode_and_records_the_marker():
    model = parse_model(ZHANG2017)
    res = simulate(model, Continuous(["abiraterone"]), n_replicates=2, t_end=560,
                   visit_days=28, progression=Progression(threshold=np.inf))  # fmt: skip
    psa = res.trajectory.query("clone == 'PSA'")
    observed = res.trajectory.query("clone == 'observed'")
    np.testing.assert_allclose(psa["cells"].to_numpy(), observed["cells"].to_numpy())
    assert psa["cells"].iloc[-1] < 0.5 * psa["cells"].iloc[0]  # abiraterone works
    with pytest.raises(InputError, match="competition block runs as its ODE"):
        simulate(model, Continuous(["abiraterone"]), n_replicates=1, t_end=10,
                 engine="kendall")  # fmt: skip


def test_cli_compare_on_a_competition_file(tmp_path):
    path = tmp_path / "zhang.yaml"
    path.write_text(yaml.safe_dump(ZHANG2017))
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["evolve", "compare", str(path), "-s", "continuous:abiraterone",
                                   "-s", "adaptive:abiraterone@0.4/1.0", "-n", "4", "--days",
                                   "3000", "--progression", "baseline", "--workers", "1",
                                   "-o", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["strategy"]) == ["continuous:abiraterone", "adaptive:abiraterone@0.4/1.0"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m["competition"]["carrying_capacity"].__setitem__(0, {"share": 1, "of": "X"}),
         "unknown clone 'X'"),
        (lambda m: m["competition"]["on_drug"]["abiraterone"].__setitem__(1, {"share": 1,
                                                                              "of": "T+"}),
         "same kind"),
        (lambda m: m["competition"]["on_drug"].__setitem__("enzalutamide", [1, 1, 1]),
         "unknown drug"),
        (lambda m: m["marker"].__setitem__("production", [1.0]), "one value per clone"),
    ],
)  # fmt: skip
def test_malformed_competition_blocks_are_refused(tmp_path, change, message):
    data = yaml.safe_load(yaml.safe_dump(ZHANG2017))
    change(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match=message):
        load_model(path)
