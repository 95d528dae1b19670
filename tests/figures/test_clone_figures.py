"""Clone figures on the shared figure layer: standalone SVG and one style per clone."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from figure_checks import SVG as NS
from figure_checks import check_svg
from markupsafe import Markup

from oncoresist.clones._tree import descendant_matrix
from oncoresist.figures import SHAPES, assign, write_svg
from oncoresist.report._clone_svg import clone_ccf_svg, fish_svg, tree_svg

NAMES = [f"clone {i + 1}" for i in range(12)]


def twelve_clones() -> tuple[list[int | None], list[str], np.ndarray]:
    """A 12-clone tree (a root, two branches, nested subclones) with valid CCFs."""
    parents = [None, 0, 0, 1, 1, 2, 2, 3, 4, 5, 6, 7]
    own = np.random.default_rng(7).uniform(0.02, 0.08, (12, 4))  # each clone's own cells
    ccf = descendant_matrix(parents) @ own
    return parents, NAMES, ccf / ccf[0].max()


def figures() -> dict[str, str]:
    parents, names, ccf = twelve_clones()
    return {
        "fish": fish_svg(ccf, parents, names=names, times=[0, 30, 60, 90], highlight=[3]),
        "tree": tree_svg(parents, names=names, ccf=ccf, highlight=[3]),
        "lines": clone_ccf_svg(ccf, names=names, lo=ccf * 0.9, hi=np.minimum(ccf * 1.1, 1)),
    }


def drawn_shape(e: ET.Element) -> str:
    """The marker shape name an element draws (triangles told apart by their apex)."""
    tag = e.tag.removeprefix(NS)
    if tag != "polygon":
        return {"circle": "circle", "rect": "square"}[tag]
    pts = [tuple(map(float, p.split(","))) for p in e.get("points").split()]
    if len(pts) == 3:  # apex first: above the base for "triangle", below for "triangle-down"
        return "triangle" if pts[0][1] < pts[1][1] else "triangle-down"
    return {4: "diamond", 5: "pentagon", 6: "hexagon", 12: "plus"}[len(pts)]


@pytest.mark.parametrize("which", ["fish", "tree", "lines"])
def test_every_figure_is_standalone_accessible_svg(which, tmp_path):
    svg = figures()[which]
    root = check_svg(svg)  # XML in the SVG namespace, role, title, desc, no script
    assert root.find(f"{NS}desc").text.strip()
    check_svg(Markup(svg))  # inside an HTML page too: the same text, xmlns included
    written = write_svg(svg, tmp_path / f"{which}.svg")
    assert ET.parse(written).getroot().tag == f"{NS}svg"


@pytest.mark.parametrize("which", ["fish", "tree", "lines"])
def test_twelve_clones_get_twelve_distinct_colour_marker_pairs(which):
    root = ET.fromstring(figures()[which])
    cls = {"fish": "clone", "tree": "node", "lines": "series"}[which]
    groups = [g for g in root.iter(f"{NS}g") if cls in (g.get("class") or "").split()]
    assert len(groups) == 12
    pairs = set()
    for g in groups:
        s = assign(NAMES)[g.get("data-clone")]  # the layer's style of the clone's name
        shape = g.get("data-shape")
        assert shape == s.marker
        if which == "fish":  # the band is the clone's colour; its label has the marker
            assert g.find(f"{NS}polygon").get("fill") == s.colour
            marks = [e for e in g.iter() if e.get("class") == "clone-marker"]
            assert all(e.get("fill") == "#ffffff" for e in marks)  # white: shows on any band
        else:  # tree nodes and CCF points are the clone's marker
            marks = [
                e
                for e in g
                if e.tag.removeprefix(NS) in {"circle", "rect", "polygon"}
                and e.get("fill") != "none"  # not the highlight's dashed ring
            ]
            assert marks and all(e.get("fill") == s.colour for e in marks)
        assert all(drawn_shape(e) == shape for e in marks)
        pairs.add((s.colour, shape))
    assert len(pairs) == 12  # colours repeat after 8; the markers keep clones apart


def test_fish_legend_keys_show_each_clones_colour_and_marker():
    root = ET.fromstring(figures()["fish"])
    items = [g for g in root.iter(f"{NS}g") if g.get("class") == "legend-item"]
    pairs = []
    for item in items[:12]:
        block = item.find(f"{NS}rect")
        mark = [e for e in item if e is not block and e.tag.removeprefix(NS) != "text"
                and e.tag.removeprefix(NS) != "path"][-1]  # fmt: skip
        pairs.append((block.get("fill"), drawn_shape(mark)))
    styles = assign(NAMES)
    assert pairs == [(styles[n].colour, styles[n].marker) for n in NAMES]
    assert len(set(pairs)) == 12
    assert len({c for c, _ in pairs}) == 12  # twelve colours before any repeats
    assert {m for _, m in pairs} <= set(SHAPES)
