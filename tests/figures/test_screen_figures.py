"""Screen figures on the shared figure layer: standalone SVG, accessible, no script."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from figure_checks import SVG as NS
from figure_checks import check_svg
from markupsafe import Markup

from oncoresist.figures import write_svg
from oncoresist.report._screen_svg import (
    essential_svg,
    rank_svg,
    read_distribution_svg,
    sgrna_lfc_svg,
    volcano_svg,
)


def tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A 60-gene screen: gene table, sgRNA table (4 per gene) and guide LFC per sample."""
    rng = np.random.default_rng(11)
    n = 60
    names = [f"G{i}" for i in range(n - 1)] + ["<b>X & 'y'"]
    p_pos, p_neg = rng.uniform(1e-9, 1, n), rng.uniform(1e-9, 1, n)
    p_pos[-1], p_neg[1] = 0.0, 1e-12  # beyond the cap; "<b>X ..." tops the resistance list
    genes = pd.DataFrame(
        {"num": 4, "pos|p-value": p_pos, "pos|fdr": np.minimum(p_pos * n, 1),
         "pos|score": p_pos, "neg|p-value": p_neg, "neg|fdr": np.minimum(p_neg * n, 1),
         "neg|score": p_neg, "lfc": rng.normal(0, 1.5, n),
         "known": ["MEK inhibitors: bypass"] + [""] * (n - 1)},
        index=pd.Index(names, name="id"),
    )  # fmt: skip
    genes["pos|rank"] = genes["pos|p-value"].rank(method="first")
    genes["neg|rank"] = genes["neg|p-value"].rank(method="first")
    guides = np.repeat(names, 4)
    sgrnas = pd.DataFrame(
        {"gene": guides, "lfc": rng.normal(0, 1, guides.size)},
        index=[f"sg{i}" for i in range(guides.size)],
    )
    guide_lfc = pd.DataFrame(
        {"gene": guides, "drug": rng.normal(-0.5, 1, guides.size),
         "vehicle": rng.normal(0, 1, guides.size)},
        index=sgrnas.index,
    )  # fmt: skip
    return genes, sgrnas, guide_lfc


def figures() -> dict[str, str]:
    genes, sgrnas, guide_lfc = tables()
    counts = guide_lfc.assign(drug=np.arange(len(guide_lfc)) * 3, vehicle=50)
    return {
        "rank": rank_svg(genes, direction="pos", top=5),
        "rank-score": rank_svg(genes, direction="neg", value="score", x_scale="linear"),
        "volcano": volcano_svg(genes, top=5),
        "sgrna": sgrna_lfc_svg(sgrnas, ["G0", "G1", "<b>X & 'y'"]),
        "reads": read_distribution_svg(counts.drop(columns="gene")),
        "essential": essential_svg(guide_lfc, ["G0", "G2", "G4"], ["G1", "G3", "G5"]),
    }


KINDS = ["rank", "rank-score", "volcano", "sgrna", "reads", "essential"]


@pytest.mark.parametrize("which", KINDS)
def test_every_screen_figure_is_standalone_accessible_svg(which, tmp_path):
    svg = figures()[which]
    root = check_svg(svg)  # XML in the SVG namespace, role, title, desc, no script
    ident = root.get("id")
    assert root.get("aria-labelledby") == f"{ident}-title {ident}-desc"
    assert root.find(f"{NS}desc").text.strip()
    check_svg(Markup(svg))  # inside an HTML page too: the same text, xmlns included
    if which in ("rank", "volcano", "sgrna"):  # a gene name is text, never markup
        assert "<b>X" not in svg and "&lt;b&gt;X &amp; " in svg
    written = write_svg(svg, tmp_path / f"{which}.svg")
    assert ET.parse(written).getroot().tag == f"{NS}svg"


@pytest.mark.parametrize("which", KINDS)
def test_axes_and_legend_come_from_the_layer(which):
    root = ET.fromstring(figures()[which])
    legends = [g for g in root.iter(f"{NS}g") if g.get("class") == "legend"]
    assert len(legends) == 1
    items = [g for g in legends[0] if g.get("class") == "legend-item"]
    assert items and all(g.find(f"{NS}text").get("x") == "54" for g in items)  # layer layout
    axis_lines = [e for e in root.iter(f"{NS}line") if e.get("stroke-width") == "1.5"]
    assert axis_lines  # the axis line (grid lines are 1 px)
