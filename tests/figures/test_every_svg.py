"""Every SVG the project writes is valid, accessible XML with no code in it.

The figures are made the way a user makes them: every command that writes a figure runs on
small seeded inputs (clones fit, tree and plot; screen analyze and qc; evolve simulate and
compare; the monitoring demo; a patient report with a PSA forecast), and the web service
serves the same patient's page and downloadable report. Each ``.svg`` file and each
``<svg>`` inside each HTML page is parsed with :mod:`xml.etree.ElementTree`; a figure must be
in the SVG namespace, carry ``role="img"``, a ``<title>`` and a ``<desc>``, and hold no
``<script>``, no ``<foreignObject>`` and no ``on*`` attribute. The only SVGs that are not
figures are the web page's legend swatches, drawn beside their words and hidden from
screen readers (``aria-hidden="true"``), which need no title of their own.

The clone figures are also drawn where their uncertainty shows (issue 21): ``clones tree``
and ``clones plot`` on a clone table whose trees tie (dashed edges with their support) and
whose CCFs break the sum rule (the fish plot's observed-CCF brackets and visible adjustment
note), the CCF lines with the tree-fitted values, and a fish plot of 12 clones (12 colours).
Each of these is checked the same way and screenshotted in headless Chromium: an image
with ink and colours, not an XML error page and not blank.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from figure_checks import SVG, check_svg

# the commands and the service are run by the browser test's helpers, shared with it
sys.path.append(str(Path(__file__).resolve().parents[1] / "report"))
from figure_parity_helpers import (
    browser,
    downloaded_report,
    has_browser,
    ink_share,
    inline_svgs,
    patient_page,
    screenshot,
    uploaded_site,
    write_outputs,
)

STANDALONE = [
    "clones/fish.svg", "clones/tree.svg", "clones/ccf.svg", "tree.svg", "fish.svg",
    "screen/rank_resistance.svg", "screen/rank_sensitisation.svg", "screen/volcano.svg",
    "screen/sgrna_lfc.svg", "simulate/muller.svg", "compare/km.svg",
]  # fmt: skip
# page -> how many figures it holds at least
PAGES = {
    "clones/report.html": 3, "screen/report.html": 4, "qc/qc.html": 2,
    "demo/illustrative_patient_report.html": 2, "report.html": 3, "downloaded report": 2,
    "web patient page": 3, "synergy/report.html": 7, "sc/report.html": 5,
}  # fmt: skip


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_outputs(tmp_path_factory.mktemp("outputs"))


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The web service's pages with figures: the patient page and the report it offers."""
    pytest.importorskip("fastapi")
    site = uploaded_site(tmp_path_factory.mktemp("site"))
    return {"downloaded report": downloaded_report(site), "web patient page": patient_page(site)}


@pytest.fixture
def page(request: pytest.FixtureRequest, outputs: Path) -> tuple[str, str]:
    """``(name, HTML)`` of the page named by the parameter: a command's file or a web page."""
    name = request.param
    if (outputs / name).is_file():
        return name, (outputs / name).read_text(encoding="utf-8")
    return name, request.getfixturevalue("web")[name]


def test_every_command_wrote_its_figures(outputs: Path) -> None:
    written = sorted(p.relative_to(outputs).as_posix() for p in outputs.rglob("*.svg"))
    assert sorted(STANDALONE) == [p for p in written if not p.startswith("inputs/")]


@pytest.mark.parametrize("name", STANDALONE)
def test_every_svg_file_is_valid_accessible_svg(outputs: Path, name: str) -> None:
    data = (outputs / name).read_bytes()
    text = data.decode("utf-8")
    root = check_svg(text.removeprefix('<?xml version="1.0" encoding="UTF-8"?>\n'))
    assert ET.fromstring(data).tag == f"{SVG}svg"  # the file as a whole, declaration and all
    assert (root.find(f"{SVG}desc").text or "").strip(), f"{name}: empty <desc>"


def test_inline_svgs_are_the_outermost_svg_elements() -> None:
    page = (
        '<p>a</p><svg id="a"><g><svg id="inner"><circle r="1"/></svg></g></svg>'
        '<SVG id="b" viewBox="0 0 1 1"></SVG><svg id="c"/><p>svg</p>'
    )
    assert inline_svgs(page) == [
        '<svg id="a"><g><svg id="inner"><circle r="1"/></svg></g></svg>',
        '<SVG id="b" viewBox="0 0 1 1"></SVG>',
        '<svg id="c"/>',
    ]


def _no_code(node: ET.Element) -> None:
    for n in node.iter():
        assert n.tag.rpartition("}")[2].lower() not in {"script", "foreignobject"}, n.tag
        assert not [a for a in n.attrib if a.lower().startswith("on")], n.attrib


@pytest.mark.parametrize("page", list(PAGES), indirect=True)
def test_every_inline_svg_parses_and_every_figure_is_accessible(page: tuple[str, str]) -> None:
    name, html = page
    figures = 0
    for svg in inline_svgs(html):
        root = ET.fromstring(svg)  # raises on anything not well-formed XML
        _no_code(root)
        if root.get("aria-hidden") == "true" and root.get("role") is None:
            assert "swatch" in root.get("class", "").split(), svg[:200]  # a legend key
            continue
        ns = root.tag.rpartition("}")[0] + "}" if root.tag.startswith("{") else ""
        assert root.get("role") == "img", f"{name}: {svg[:200]}"
        assert (root.findtext(f"{ns}title") or "").strip(), f"{name}: no <title>: {svg[:200]}"
        assert root.find(f"{ns}desc") is not None, f"{name}: no <desc>: {svg[:200]}"
        figures += 1
    assert figures >= PAGES[name], f"{name}: {figures} figures"


@pytest.mark.parametrize("page", list(PAGES), indirect=True)
def test_every_inline_svg_carries_xmlns(page: tuple[str, str]) -> None:
    name, html = page  # figures and the web page's legend swatches alike
    for svg in inline_svgs(html):
        assert ET.fromstring(svg).tag == f"{SVG}svg", f"{name}: no xmlns: {svg[:200]}"


# ----------------------------------------------------------------------- clone uncertainty
#: A clone table (as ``clones fit`` writes it) whose trees tie and whose CCFs break the sum
#: rule: C2 and C3 have the same trajectory (either may hold the other), and C4 exceeds the
#: clone that holds it by 0.08 in the second sample, within the CCF uncertainty (SD 0.05)
#: but moved when fitted to the tree.
UNCERTAIN = {
    "C1": [1.0, 1.0, 1.0],
    "C2": [0.62, 0.60, 0.45],
    "C3": [0.62, 0.60, 0.45],
    "C4": [0.30, 0.68, 0.30],
    "C5": [0.02, 0.10, 0.23],
}
CLONE_FIGURES = {
    "uncertain/tree.svg": "clone-tree",
    "uncertain/fish.svg": "fish-plot",
    "uncertain/ccf.svg": "clone-ccf",
    "uncertain/fish12.svg": "fish-plot",
}


def _uncertain_table(folder: Path) -> Path:
    samples = ["pre", "on-treatment", "progression"]
    rows = []
    for k, ccf in enumerate(UNCERTAIN.values()):
        row = {"clone": k + 1, "mutations": 40, "weight": 0.2}
        for s, v in zip(samples, ccf, strict=True):
            row |= {f"ccf|{s}": v, f"lo|{s}": max(v - 0.098, 0), f"hi|{s}": min(v + 0.098, 1)}
        rows.append(row | {"first_detected": "", "known_resistance": "EGFR C797S" * (k == 4)})
    path = folder / "clones.tsv"
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    return path


@pytest.fixture(scope="module")
def clone_outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clone figures where ties and adjustments show, made by the commands and layer."""
    from typer.testing import CliRunner

    from oncoresist.cli import app
    from oncoresist.clones import project_to_tree
    from oncoresist.clones._tree import descendant_matrix
    from oncoresist.report._clone_svg import clone_ccf_svg, fish_svg

    out = tmp_path_factory.mktemp("clone-figures")
    folder = out / "uncertain"
    folder.mkdir()
    table = _uncertain_table(folder)
    runner = CliRunner()
    for args in (["tree", table, "-o", folder / "tree.svg"],
                 ["plot", table, "-o", folder / "fish.svg"]):  # fmt: skip
        res = runner.invoke(app, ["clones", *map(str, args)])
        assert res.exit_code == 0, res.output
    ccf = np.array(list(UNCERTAIN.values()))
    star = [None, 0, 0, 2, 2]
    svg = clone_ccf_svg(ccf, names=list(UNCERTAIN), projected=project_to_tree(ccf, star),
                        samples=["pre", "on-treatment", "progression"])  # fmt: skip
    (folder / "ccf.svg").write_text(svg, encoding="utf-8")
    parents = [None, 0, 0, 1, 1, 2, 2, 3, 4, 5, 6, 7]
    own = np.random.default_rng(7).uniform(0.02, 0.08, (12, 4))
    twelve = descendant_matrix(parents) @ own
    svg = fish_svg(twelve / twelve[0].max(), parents, names=[f"C{i + 1}" for i in range(12)])
    (folder / "fish12.svg").write_text(svg, encoding="utf-8")
    return out


@pytest.mark.parametrize("name", list(CLONE_FIGURES))
def test_clone_figures_with_uncertainty_are_valid_accessible_svg(clone_outputs, name):
    root = check_svg((clone_outputs / name).read_text(encoding="utf-8"))
    assert root.get("id") == CLONE_FIGURES[name]
    assert (root.find(f"{SVG}desc").text or "").strip()


def _classed(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}{tag}") if cls in (e.get("class") or "").split()]


def test_tied_edges_are_drawn_dashed_with_their_support(clone_outputs):
    root = ET.parse(clone_outputs / "uncertain/tree.svg").getroot()
    weak = _classed(root, "line", "uncertain")
    assert weak and all(e.get("stroke-dasharray") for e in weak)
    labels = [e.text for e in _classed(root, "text", "support")]
    assert sorted(labels) == sorted(f"{float(e.get('data-support')):.2f}" for e in weak)
    words = [t.text for t in root.iter(f"{SVG}text")]
    assert any((w or "").startswith("dashed edge") for w in words)  # said in the legend
    assert all("\u2026" not in (w or "") for w in words)  # no label cut


def test_adjusted_ccfs_are_shown_not_hidden(clone_outputs):
    fish = ET.parse(clone_outputs / "uncertain/fish.svg").getroot()
    note = _classed(fish, "text", "adjustment")
    assert len(note) == 1 and "adjusted by up to" in note[0].text  # visible, not only <desc>
    assert _classed(fish, "path", "observed")  # the observed CCF beside its band
    ccf = ET.parse(clone_outputs / "uncertain/ccf.svg").getroot()
    assert _classed(ccf, "g", "projected") and _classed(ccf, "text", "adjustment")


def test_twelve_clones_get_twelve_colours(clone_outputs):
    root = ET.parse(clone_outputs / "uncertain/fish12.svg").getroot()
    bands = [g.find(f"{SVG}polygon") for g in _classed(root, "g", "clone")]
    assert len(bands) == 12 and len({b.get("fill") for b in bands}) == 12


@pytest.mark.skipif(not has_browser(), reason="needs /usr/bin/chromium and chromedriver")
def test_every_clone_figure_kind_renders_in_chromium(clone_outputs, tmp_path):
    pytest.importorskip("selenium")
    from selenium.webdriver.common.by import By

    with browser(tmp_path / "profile", height=1400) as driver:
        for name, ident in CLONE_FIGURES.items():
            driver.get((clone_outputs / name).as_uri())
            errors = driver.execute_script(
                "return document.getElementsByTagName('parsererror').length"
            )
            assert errors == 0, f"{name}: the browser shows an XML error page"
            png = screenshot(driver, driver.find_element(By.ID, ident))
            (tmp_path / name.replace("/", "-")).with_suffix(".png").write_bytes(png)
            assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000, (name, len(png))
            share = ink_share(png)
            if share is not None:  # drawn on: some ink, several colours
                assert share[0] > 0.01 and share[1] > 8, (name, share)
