"""Muller layout: nesting, normalisation, errors; figures written as PNG and SVG."""

import numpy as np
import pandas as pd
import pytest

from oncoresist.errors import InputError
from oncoresist.evolve.model import example_path, load_model
from oncoresist.evolve.plots import muller_layout, muller_plot, parents_from_mutations


def frame():
    t = np.arange(0, 400, 20.0)
    return pd.DataFrame(
        {"S": 1e9 * np.exp(-0.02 * t), "R": 10 * np.exp(0.05 * t), "RR": np.exp(0.06 * t) - 1},
        index=t,
    )


def test_children_nest_inside_their_parent():
    cells = frame()
    edges = muller_layout(cells, {"S": None, "R": "S", "RR": "R"})
    s_lo, s_hi = edges["S"]
    r_lo, r_hi = edges["R"]
    rr_lo, rr_hi = edges["RR"]
    assert np.allclose(s_lo, 0) and np.allclose(s_hi, 1)  # fractions of the whole
    assert np.all(r_lo >= s_lo - 1e-12) and np.all(r_hi <= s_hi + 1e-12)
    assert np.all(rr_lo >= r_lo - 1e-12) and np.all(rr_hi <= r_hi + 1e-12)
    # R's band is R plus RR; the resistant line takes over by the end
    frac = cells.div(cells.sum(axis=1), axis=0)
    assert np.allclose(r_hi - r_lo, frac["R"] + frac["RR"])
    assert (r_hi - r_lo)[-1] > 0.9
    absolute = muller_layout(cells, {"S": None, "R": "S", "RR": "R"}, normalise=False)
    assert np.allclose(absolute["S"][1], cells.sum(axis=1))


def test_layout_errors():
    with pytest.raises(InputError, match="no parent"):
        muller_layout(frame(), {"S": None, "R": "S"})
    with pytest.raises(InputError, match="not a clone"):
        muller_layout(frame(), {"S": None, "R": "X", "RR": "R"})
    with pytest.raises(InputError, match="founder"):
        muller_layout(frame(), {"S": "R", "R": "S", "RR": "R"})


def test_plots_written(tmp_path):
    parents = parents_from_mutations(load_model(example_path("egfr_nsclc")))
    assert parents == {"sensitive": None, "T790M": "sensitive", "T790M_C797S": "T790M",
                       "MET_amp": "sensitive"}  # fmt: skip
    png = muller_plot(frame(), {"S": None, "R": "S", "RR": "R"}, tmp_path / "m.png",
                      marks={"switch": 200.0})  # fmt: skip
    assert png.read_bytes()[:4] == b"\x89PNG"
    svg = muller_plot(frame(), {"S": None, "R": "S", "RR": "R"}, tmp_path / "m.svg")
    assert "<svg" in svg.read_text()[:500]
    assert not list(tmp_path.glob("*.tmp*"))
