"""Every figure kind in headless Chromium: the report and the web page draw alike.

The illustrative EGFR patient, with a simulated PSA series, is uploaded to the web service
(as a clinician of site A) and also written by the command line (``oncoresist monitor
demo`` then ``oncoresist report --measurements``). Chromium (through Selenium) opens the web
patient page, the report the page offers for download, and the command line's report,
screenshots each figure they share (therapy timeline, VAF trajectories, forecast fan) and
reads from the DOM the colour, marker and dash that each variant, regimen, event and
strategy is drawn with: the report and the page must agree, and the variants must carry
the figure layer's one assignment (:func:`oncoresist.figures.assign`). Where Pillow is
installed, each series' colour must also be found in both screenshots' pixels. The figures
drawn only in reports (clones, screens, evolution) are each rendered and screenshotted:
an image with a title, not an XML error page and not blank.

Skips without ``/usr/bin/chromium`` and ``/usr/bin/chromedriver``. Chromium resolves no
host but 127.0.0.1. Screenshots are kept under each test's ``tmp_path``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from figure_parity_helpers import (
    LOOKS_JS,
    SVG_NS,
    browser,
    dash,
    downloaded_report,
    has_browser,
    hex_colour,
    ink_share,
    pixels_near,
    screenshot,
    serve,
    uploaded_site,
    write_outputs,
)

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("selenium")

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.wait import WebDriverWait

from oncoresist.figures import FONT, INK, assign

pytestmark = pytest.mark.skipif(
    not has_browser(),
    reason="the browser test needs /usr/bin/chromium and /usr/bin/chromedriver "
    "(apt-get install chromium chromium-driver)",
)
VARIANTS = ["EGFR C797S", "EGFR L858R", "EGFR T790M", "TP53 R273H"]
# figure kind -> its <svg> id on the web page and in the report
SHARED = {
    "timeline": ("therapy-timeline", "timeline-plot"),
    "trajectories": ("trajectory-chart", "trajectory-plot"),
    "forecast": ("forecast-plot", "forecast-plot"),
}
# the paints every figure shares (ink, white, grid, grey limit-of-detection band): not a
# series' colour
NEUTRAL = {INK, "#FFFFFF", "#000000", "#D0D0D0", "#555555", "#BDBDBD", "none"}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_outputs(tmp_path_factory.mktemp("outputs"))


# the figures drawn only in reports: each command's page, and its standalone files
REPORT_ONLY = {
    "clones/report.html": ["fish-plot", "clone-tree", "clone-ccf"],
    "screen/report.html": ["rank-pos-plot", "rank-neg-plot", "volcano-plot", "sgrna-pos-plot",
                           "sgrna-neg-plot"],
    "qc/qc.html": ["read-distribution-plot", "essential-plot"],
    "clones/fish.svg": ["fish-plot"], "clones/tree.svg": ["clone-tree"],
    "clones/ccf.svg": ["clone-ccf"], "fish.svg": ["fish-plot"], "tree.svg": ["clone-tree"],
    "screen/rank_resistance.svg": ["rank-pos-plot"],
    "screen/rank_sensitisation.svg": ["rank-neg-plot"], "screen/volcano.svg": ["volcano-plot"],
    "screen/sgrna_lfc.svg": ["sgrna-plot"], "simulate/muller.svg": ["muller-plot"],
    "compare/km.svg": ["km-plot"],
}  # fmt: skip
_FIGURES_JS = """
const root = document.documentElement;
const svgs = root.localName === 'svg' ? [root] : Array.from(document.querySelectorAll('svg'));
return {
  errors: document.getElementsByTagName('parsererror').length,
  root: [root.namespaceURI, root.localName],
  figures: svgs.filter((s) => s.getAttribute('role') === 'img').map((s) => ({
    id: s.id, ns: s.namespaceURI, font: s.getAttribute('font-family'),
    labelledby: s.getAttribute('aria-labelledby'),
    title: (Array.from(s.children).find((c) => c.localName === 'title') || {}).textContent
  }))
};
"""


def _drawn_by_the_layer(figure: dict, ident: str) -> None:
    """The marks of the layer's :class:`~oncoresist.figures.Svg`: its font, title and desc."""
    assert figure["font"] == FONT, (ident, figure["font"])
    assert figure["labelledby"] == f"{ident}-title {ident}-desc", (ident, figure["labelledby"])


@pytest.fixture(scope="module")
def report_only_driver(tmp_path_factory: pytest.TempPathFactory):
    with browser(tmp_path_factory.mktemp("profile"), height=1400) as driver:
        yield driver


@pytest.mark.parametrize("name", list(REPORT_ONLY))
def test_report_only_figures_render_as_titled_images(
    outputs: Path, report_only_driver, tmp_path: Path, name: str
) -> None:
    driver = report_only_driver
    driver.get((outputs / name).as_uri())
    seen = driver.execute_script(_FIGURES_JS)
    assert seen["errors"] == 0, f"{name}: the browser shows an XML error page"
    if name.endswith(".svg"):
        assert seen["root"] == [SVG_NS, "svg"], seen["root"]
    by_id = {f["id"]: f for f in seen["figures"]}
    assert set(REPORT_ONLY[name]) <= set(by_id), f"{name}: figures {sorted(by_id)}"
    for ident in REPORT_ONLY[name]:
        assert by_id[ident]["ns"] == SVG_NS and (by_id[ident]["title"] or "").strip(), ident
        _drawn_by_the_layer(by_id[ident], ident)
        png = screenshot(driver, driver.find_element(By.ID, ident))
        (tmp_path / f"{ident}.png").write_bytes(png)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000, (ident, len(png))
        share = ink_share(png)
        if share is not None:  # drawn on: some ink, several colours (axes, text, data)
            ink, colours = share
            assert ink > 0.01 and colours > 8, (ident, ink, colours)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The service with the patient's files uploaded, under uvicorn; the downloaded report."""
    tmp = tmp_path_factory.mktemp("site")
    found = uploaded_site(tmp)
    report = tmp / "downloaded.html"
    report.write_text(downloaded_report(found), encoding="utf-8")
    with serve(found["app"]) as url:
        yield {**found, "url": url, "report": report}


def _read(driver, ident: str, shots: Path, name: str) -> dict:
    """What the figure ``ident`` of the open page draws, and its screenshot (saved)."""
    looks = driver.execute_script(LOOKS_JS, ident)
    assert looks is not None, f"{name}: no <svg id={ident}> on {driver.current_url}"
    png = screenshot(driver, driver.find_element(By.ID, ident))
    (shots / f"{name}.png").write_bytes(png)
    return {**looks, "png": png}


@pytest.fixture(scope="module")
def figures(site: dict, outputs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``{document: {kind: looks and screenshot}}`` for the page and both reports."""
    shots = tmp_path_factory.mktemp("screenshots")
    found: dict[str, dict] = {"page": {}, "downloaded": {}, "cli": {}}
    with browser(tmp_path_factory.mktemp("profile")) as driver:
        driver.get(site["url"] + "/login")
        driver.add_cookie({"name": "oncoresist_session", "value": site["token"], "path": "/"})
        driver.get(f"{site['url']}/patients/{site['pid']}")
        WebDriverWait(driver, 30).until(ec.presence_of_element_located(
            (By.CSS_SELECTOR, "#trajectory-chart[data-state=ready]")))  # fmt: skip
        for kind, (ident, _) in SHARED.items():
            found["page"][kind] = _read(driver, ident, shots, f"page-{kind}")
        found["page"]["keys"] = driver.execute_script(_PAGE_KEYS_JS)
        for doc, path, kinds in (("downloaded", site["report"], ["timeline", "trajectories"]),
                                 ("cli", outputs / "report.html", list(SHARED))):  # fmt: skip
            driver.get(path.as_uri())
            for kind in kinds:
                found[doc][kind] = _read(driver, SHARED[kind][1], shots, f"{doc}-{kind}")
    return found


# the page's legend: toggle buttons outside the chart, each with a small swatch SVG
_PAGE_KEYS_JS = """
const out = {};
for (const key of document.querySelectorAll('#trajectory-legend .legend-key')) {
  const line = key.querySelector('svg line');
  const mark = key.querySelector('svg circle, svg rect, svg polygon');
  const p = mark.localName === 'polygon' ? Array.from(mark.points) : [];
  out[key.dataset.series] = {
    stroke: getComputedStyle(line).stroke, dash: getComputedStyle(line).strokeDasharray,
    fill: getComputedStyle(mark).fill,
    shape: mark.localName !== 'polygon' ? mark.localName
      : p.length === 3 ? (p[0].y < p[1].y ? 'triangle' : 'triangle-down')
      : {4: 'diamond', 5: 'pentagon', 6: 'hexagon', 12: 'plus'}[p.length]};
}
return out;
"""
_SHAPE_OF_TAG = {"circle": "circle", "rect": "square"}


def _variant_styles(looks: dict) -> dict[str, tuple[str, str, str]]:
    """Per variant: (colour, marker, dash) as drawn, each one value over all its draws."""
    out = {}
    for key, marks in looks["groups"].items():
        kind, _, label = key.partition(":")
        if kind != "series":
            continue
        points = [m for m in marks if "point" in m["cls"].split()]
        # a detected draw is filled with the variant's colour, an undetected one outlined
        colours = {hex_colour(m["fill"] if "detected" in m["cls"].split() else m["stroke"])
                   for m in points}  # fmt: skip
        shapes = {_SHAPE_OF_TAG.get(m["shape"], m["shape"]) for m in points}
        dashes = {dash(m["dash"]) for m in marks if m["shape"] == "line"}
        assert len(colours) == len(shapes) == len(dashes) == 1, (label, colours, shapes, dashes)
        out[label] = (colours.pop(), shapes.pop(), dashes.pop())
    return out


def test_each_variant_has_the_layers_one_style_in_reports_and_page(figures: dict) -> None:
    expected = {label: (s.colour.upper(), s.marker, s.dash)
                for label, s in assign(VARIANTS).items()}  # fmt: skip
    assert len({(c, m) for c, m, _ in expected.values()}) == len(VARIANTS)
    for doc in ("page", "downloaded", "cli"):
        assert _variant_styles(figures[doc]["trajectories"]) == expected, doc
    # every mark of every series, not only the points: same shapes, paints and dashes
    page = figures["page"]["trajectories"]["groups"]
    for doc in ("downloaded", "cli"):
        assert figures[doc]["trajectories"]["groups"] == page, doc


def test_every_shared_figure_is_drawn_by_the_layer(figures: dict) -> None:
    for doc, found in figures.items():
        for kind, looks in found.items():
            if kind in SHARED:
                _drawn_by_the_layer(looks, SHARED[kind][doc != "page"])


def test_the_page_legend_keys_match_the_report_legend(figures: dict) -> None:
    keys = figures["page"]["keys"]
    assert sorted(keys) == VARIANTS
    legend = figures["cli"]["trajectories"]["legend"]
    styles = assign(VARIANTS)
    for label, key in keys.items():
        line, mark = legend[label]  # the report's key: a line, then the marker on it
        assert hex_colour(key["stroke"]) == hex_colour(line["stroke"]) == styles[label].colour
        assert dash(key["dash"]) == dash(line["dash"]) == styles[label].dash
        assert hex_colour(key["fill"]) == hex_colour(mark["fill"]) == styles[label].colour
        assert _SHAPE_OF_TAG.get(key["shape"], key["shape"]) == styles[label].marker
        assert _SHAPE_OF_TAG.get(mark["shape"], mark["shape"]) == styles[label].marker


@pytest.mark.parametrize("kind", ["timeline", "forecast"])
def test_timeline_and_forecast_draw_alike_in_reports_and_page(figures: dict, kind: str) -> None:
    page = figures["page"][kind]["groups"]
    prefix = {"timeline": ("regimen:", "event:"), "forecast": ("strategy:",)}[kind]
    assert any(k.startswith(prefix) for k in page), f"no {prefix} groups in the page's {kind}"
    for doc in ("downloaded", "cli") if kind == "timeline" else ("cli",):
        assert figures[doc][kind]["groups"] == page, doc
    if kind == "forecast":  # each strategy's median line in a colour of its own
        medians = {k: {hex_colour(m["stroke"]) for m in marks if "median" in m["cls"].split()}
                   for k, marks in page.items()}  # fmt: skip
        assert all(len(c) == 1 for c in medians.values()), medians
        assert len({c.pop() for c in medians.values()}) == len(medians) >= 3


def _series_colours(looks: dict) -> set[str]:
    paints = {hex_colour(m[p]) for marks in looks["groups"].values() for m in marks
              for p in ("fill", "stroke")}  # fmt: skip
    return paints - NEUTRAL


@pytest.mark.parametrize("kind", list(SHARED))
def test_each_series_colour_is_on_screen_in_report_and_page(figures: dict, kind: str) -> None:
    docs = [d for d in ("page", "downloaded", "cli") if kind in figures[d]]
    colours = _series_colours(figures["page"][kind])
    assert colours, f"no series colour in the page's {kind}"
    for doc in docs:
        png = figures[doc][kind]["png"]
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert width >= 600 and height >= 150, (doc, kind, width, height)
        for colour in colours:
            n = pixels_near(png, colour)
            if n is None:
                pytest.skip("Pillow is not installed: the pixels are not read")
            assert n >= 20, f"{doc} {kind}: {colour} on {n} pixels"
