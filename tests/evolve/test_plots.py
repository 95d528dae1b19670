"""Muller layout: nesting, normalisation, errors; figures written as PNG and SVG."""

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from oncoresist.errors import InputError
from oncoresist.evolve.model import example_path, load_model
from oncoresist.evolve.plots import muller_plot, muller_svg, parents_from_mutations
from oncoresist.figures import assign
from oncoresist.figures._bands import clone_key, hatch, hatch_path, muller_layout


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


SVG = "{http://www.w3.org/2000/svg}"
TREE = {"S": None, "R": "S", "RR": "R"}


def test_muller_bands_carry_each_clones_marker_and_name():
    root = ET.fromstring(muller_svg(frame(), TREE))
    styles = assign(TREE)
    groups = [g for g in root.iter(f"{SVG}g") if "clone" in (g.get("class") or "").split()]
    assert [g.get("data-clone") for g in groups] == ["S", "R", "RR"]  # parents first
    for g in groups:
        band = g.find(f"{SVG}polygon")
        assert band.get("class") == "clone-band" and g.get("data-clone") in band.findtext(
            f"{SVG}title"
        )
        assert (band.get("fill"), g.get("data-shape")) == tuple(styles[g.get("data-clone")])[:2]
    # every band wide enough somewhere is labelled: its marker in white, then its name
    labelled = [g for g in groups if g.find(f"{SVG}*[@class='clone-marker']") is not None]
    assert {g.get("data-clone") for g in labelled} == {"S", "R", "RR"}
    words = [t.text for t in root.iter(f"{SVG}text") if t.get("paint-order") == "stroke"]
    assert sorted(words) == ["R", "RR", "S"]
    keys = [g for g in root.iter(f"{SVG}g") if g.get("class") == "legend-item"]
    assert [len(list(k)) for k in keys] == [3, 3, 3]  # colour block, marker, name


def test_long_titles_are_fitted_to_the_width():
    title = "T790M and C797S " * 12
    root = ET.fromstring(muller_svg(frame(), TREE, title=title))
    shown = next(t for t in root.iter(f"{SVG}text") if t.get("class") == "figure-title")
    width = float(root.get("viewBox").split()[2])
    assert float(shown.get("textLength")) <= width - 20  # the browser squeezes it to fit
    assert shown.get("lengthAdjust") == "spacingAndGlyphs"
    assert 0.62 * float(shown.get("font-size")) * len(title) <= width
    short = ET.fromstring(muller_svg(frame(), TREE, title="Muller"))
    assert next(t for t in short.iter(f"{SVG}text") if t.text == "Muller").get("textLength") is None


def test_clone_key_is_a_block_of_the_clones_colour_with_its_marker():
    s = assign(["C1"])["C1"]
    plain, hatched = clone_key(s), clone_key(s, hatched=True)
    assert f'fill="{s.colour}"' in plain and 'class="hatch"' not in plain
    assert 'class="hatch"' in hatched and hatched.count('fill="#ffffff"') == 1  # the marker
    assert clone_key(None, hatched=True).count("<") == 2  # a white block and its hatching
    assert hatch_path([0, 10], [0, 0], [0, 0]) == hatch([0, 10], [0, 0], [0, 0]) == ""
