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
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from figure_checks import SVG, check_svg

# the commands and the service are run by the browser test's helpers, shared with it
sys.path.append(str(Path(__file__).resolve().parents[1] / "report"))
from figure_parity_helpers import (
    downloaded_report,
    inline_svgs,
    patient_page,
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
    "web patient page": 3,
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
