"""The synergy report page and its figures.

Every inline SVG parses as XML in the SVG namespace with a title and a description and no
script; names from the data are escaped; the ranked table links to the detailed blocks (at
most ``detail`` of them, and the page says how many it left out); the heat map outlines the
most synergistic area ``score_blocks`` found; on the Loewe-additive surface the isobologram
puts the dose pairs on the additive line (x + y = 1) and on the CI = 0.5 surface below it;
headless Chromium draws a page that is not blank and whose tables fit 1,000 px.
"""

from __future__ import annotations

import os
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oncoresist.report._synergy_html import synergy_report_html
from oncoresist.report._synergy_svg import heatmap_svg, isobologram_svg
from oncoresist.synergy import CombinationData, read_combinations, score_blocks
from oncoresist.synergy._resistance import resistance_link

SVG = "{http://www.w3.org/2000/svg}"
DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "synergy"
CI05 = DATA / "synthetic_ci0.5_6x6_3rep.csv"
LOEWE = DATA / "synthetic_loewe_null_6x6.csv"
MATHEWS = DATA / "synergyfinder_mpl" / "synergyfinder_mathews2014_TMD8_ibrutinib_viability.csv"
CHROMIUM = Path("/usr/bin/chromium")
needs_data = pytest.mark.skipif(not CI05.exists(), reason="needs ../shared/data/synergy")
pytestmark = needs_data


def inline_svgs(html: str) -> list[ET.Element]:
    """Every outermost ``<svg>`` of a page, parsed on its own, with the checks every figure
    must pass."""
    found = re.findall(r"<svg\b.*?</svg>", html, flags=re.S)
    roots = []
    for text in found:
        root = ET.fromstring(text)
        assert root.tag == f"{SVG}svg", "inline SVG without xmlns"
        assert root.get("role") == "img"
        title = root.find(f"{SVG}title")
        assert title is not None and (title.text or "").strip()
        assert (root.find(f"{SVG}desc").text or "").strip()
        for node in root.iter():
            assert node.tag.removeprefix(SVG).lower() not in {"script", "foreignobject"}
            assert not [a for a in node.attrib if a.lower().startswith("on")]
        roots.append(root)
    return roots


def screen(n: int, *, seed: int = 0) -> CombinationData:
    """``n`` noisy 6 x 6 blocks on Bliss-independent surfaces (one replicate each)."""
    rng = np.random.default_rng(seed)
    a = np.array([0, 0.05, 0.158, 0.5, 1.58, 5])
    b = np.array([0, 0.2, 0.632, 2, 6.32, 20])
    A, B = np.meshgrid(a, b, indexing="ij")
    ic_a = rng.lognormal(np.log(0.5), 0.4, n)[:, None, None]
    ic_b = rng.lognormal(np.log(2.0), 0.4, n)[:, None, None]
    y = 100 * (1 - (1 - A / (A + ic_a)) * (1 - B / (B + ic_b))) + rng.normal(0, 3, (n, 6, 6))
    return CombinationData(table=pd.DataFrame({
        "block_id": np.repeat([f"b{i}" for i in range(n)], 36), "drug_row": "dabrafenib",
        "drug_col": "trametinib", "conc_r": np.tile(A.ravel(), n),
        "conc_c": np.tile(B.ravel(), n), "conc_r_unit": "uM", "conc_c_unit": "uM",
        "replicate": 1, "inhibition": y.ravel()}))  # fmt: skip


@pytest.fixture(scope="module")
def ci05():
    data = read_combinations(CI05)
    return data, score_blocks(data)


@pytest.fixture(scope="module")
def page(ci05) -> str:
    data, result = ci05
    links = {("drugA", "drugB"): resistance_link("drugA", "drugB")}
    return synergy_report_html(result, wells=data.table, source="ci05.csv", links=links)


def test_page_holds_every_figure_and_each_parses(page):
    roots = inline_svgs(page)
    classes = [r.get("class") for r in roots]
    # one block: dose-response, % inhibition and four model heat maps, the isobologram
    assert classes.count("synergy-dose-response") == 1
    assert classes.count("synergy-heatmap") == 5
    assert classes.count("synergy-isobologram") == 1
    assert "<script" not in page.lower()
    dose = next(r for r in roots if r.get("class") == "synergy-dose-response")
    assert len(dose.findall(f".//{SVG}polyline[@class='fit']")) == 2  # both curves fitted
    assert len(dose.findall(".//*[@class='well']")) == 2 * 6 * 3  # every monotherapy well


def test_page_states_intervals_and_unknown_drugs(page, ci05):
    _, result = ci05
    lo, hi = (float(result.blocks[f"bliss_{k}"].iloc[0]) for k in ("lo", "hi"))
    assert f"{lo:.1f} to {hi:.1f}".replace("-", "\u2212") in page
    assert "unknown drug &#39;drugA&#39;" in page  # said, escaped, not an error
    assert "P(resistance pre-exists)" in page


def test_hostile_names_are_escaped():
    data = screen(2)
    t = data.table.copy()
    t["block_id"] = t["block_id"].map({"b0": "<script>alert(1)</script>", "b1": 'x" onload="y'})
    t["drug_row"] = "A&B <i>"
    data = CombinationData(table=t)
    html = synergy_report_html(score_blocks(data), wells=data.table)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<i>" not in html and "A&amp;B &lt;i&gt;" in html
    roots = inline_svgs(html)
    assert len(roots) == 1 + 2 * 7  # the ranking, then 7 figures per block
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "duplicate ids"


def test_many_blocks_are_ranked_and_detail_is_capped():
    data = screen(30, seed=3)
    result = score_blocks(data)
    html = synergy_report_html(result, wells=data.table, rank_by="bliss", detail=5)
    sections = re.findall(r'<section id="(block-[^"]+)" class="block"', html)
    assert len(sections) == 5
    assert "The 5 best-ranked of 30 blocks" in html
    best = result.blocks.sort_values("bliss", ascending=False)["block_id"].head(5)
    assert sections == [f"block-{b}" for b in best]
    links = re.findall(r'<a href="#(block-[^"]+)">', html)
    assert set(links) == set(sections)  # every link has its section, and only those
    ranking = inline_svgs(html)[0]
    assert ranking.get("class") == "synergy-ranking"
    assert len(ranking.findall(".//*[@class='block-score']")) == 30


def test_heatmap_outlines_the_most_synergistic_area(ci05):
    _, result = ci05
    b = result.blocks.iloc[0]
    cells = result.cells
    msa = [b[f"bliss_msa_conc_{a}_{e}"] for a in ("r", "c") for e in ("lo", "hi")]
    svg = heatmap_svg(cells, "bliss", drug_row="A", drug_col="B", title="t", ident="h",
                      msa=(*msa, b["bliss_msa"]))  # fmt: skip
    root = ET.fromstring(svg)
    box = root.find(f".//{SVG}rect[@class='msa']")
    x0, y0 = float(box.get("x")), float(box.get("y"))
    x1, y1 = x0 + float(box.get("width")), y0 + float(box.get("height"))
    inside = [
        float(r.get("data-value"))
        for r in root.iter(f"{SVG}rect")
        if r.get("class") == "cell"
        and x0 - 1e-6 <= float(r.get("x")) < x1 - 1 and y0 - 1e-6 <= float(r.get("y")) < y1 - 1
    ]  # fmt: skip
    assert len(inside) == 9
    assert np.mean(inside) == pytest.approx(b["bliss_msa"], abs=0.01)
    assert "most synergistic" in root.find(f"{SVG}desc").text
    none = ET.fromstring(heatmap_svg(cells, "bliss", drug_row="A", drug_col="B", title="t",
                                     ident="h"))  # fmt: skip
    assert none.find(f".//{SVG}rect[@class='msa']") is None


def _iso_sums(path: Path) -> np.ndarray:
    data = read_combinations(path, response="inhibition")
    result = score_blocks(data)
    fits = {r["role"]: r for r in result.fits.to_dict(orient="records")}
    svg = isobologram_svg(result.cells, fits["row"], fits["col"], drug_row="A", drug_col="B",
                          title="iso", ident="iso")  # fmt: skip
    assert svg is not None
    titles = [m.find(f"{SVG}title").text for m in ET.fromstring(svg).iter()
              if m.get("class") == "iso"]  # fmt: skip
    return np.array([float(re.search(r"x \+ y = ([0-9.]+)", t).group(1)) for t in titles])


def test_isobologram_on_known_surfaces():
    # Loewe-additive surface: every dose pair that reaches 50 % lies on x + y = 1; the
    # tolerance covers the interpolation between tested doses (log-linear, 3-fold steps)
    additive = _iso_sums(LOEWE)
    assert additive.size >= 3
    np.testing.assert_allclose(additive, 1.0, atol=0.08)
    # CI = 0.5 in every combination cell (noisy replicates): well below the line
    synergy = _iso_sums(CI05)
    assert synergy.size >= 3 and np.all(synergy < 0.8)


def test_mathews_blocks_page_and_resistance_link():
    if not MATHEWS.exists():
        pytest.skip("needs the SynergyFinder example data")
    data = read_combinations(MATHEWS)
    result = score_blocks(data)
    links = {("ispinesib", "ibrutinib"): resistance_link("ispinesib", "ibrutinib")}
    html = synergy_report_html(result, wells=data.table, links=links)
    assert len(inline_svgs(html)) == 1 + 2 * 6 + 1  # the ispinesib fit fails: no isobologram
    assert "BTK C481S" in html and "PMID:24869598" in html
    assert "No isobologram" in html


# ----------------------------------------------------------------------- in a browser
browser = pytest.mark.skipif(not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)),
                             reason="needs /usr/bin/chromium")  # fmt: skip


@pytest.fixture(scope="module")
def page_file(tmp_path_factory, ci05) -> Path:
    """The CI = 0.5 block beside the osimertinib + capmatinib link (the longest table)."""
    data, result = ci05
    links = {("drugA", "drugB"): resistance_link("osimertinib", "capmatinib")}
    page = synergy_report_html(result, wells=data.table, source="ci05.csv", links=links)
    path = tmp_path_factory.mktemp("synergy") / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


@browser
def test_screenshot_is_not_blank(page_file, tmp_path):
    from PIL import Image

    shot = tmp_path / "shot.png"
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-dev-shm-usage", "--host-resolver-rules=MAP * ~NOTFOUND",
               f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
               "--window-size=1000,3000", "--hide-scrollbars", page_file.as_uri()]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=180,
                            env={**os.environ, "HOME": str(tmp_path)})  # fmt: skip
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    image = np.asarray(Image.open(shot).convert("RGB"))
    assert image.shape[:2] == (3000, 1000)
    colours = {tuple(c) for c in image[::7, ::7].reshape(-1, 3)}
    assert len(colours) > 200  # text, heat-map colours and curves, not a blank page
    assert (image < 128).any(axis=2).mean() > 0.01  # dark ink somewhere


@browser
def test_tables_fit_1000_px(page_file, tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    if not Path("/usr/bin/chromedriver").exists():
        pytest.skip("needs /usr/bin/chromedriver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={tmp_path}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=webdriver.ChromeService("/usr/bin/chromedriver"),
                              options=options)  # fmt: skip
    try:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 1000, "height": 900, "deviceScaleFactor": 1,
                                "mobile": False})  # fmt: skip
        driver.get(page_file.as_uri())
        widths = driver.execute_script(
            "return [...document.querySelectorAll('table')].map(t => [t.id, t.scrollWidth,"
            " (t.closest('.table-wrap') || t.parentElement).clientWidth]);"
            ""
        )
        page = driver.execute_script("return [document.documentElement.scrollWidth,"
                                     " document.documentElement.clientWidth];")  # fmt: skip
    finally:
        driver.quit()
    assert {w[0] for w in widths} >= {"summary-table", "pair-osimertinib-capmatinib-mechanisms"}
    for ident, table, box in widths:
        assert table <= box, f"table {ident}: {table} px in {box} px"
    assert page[0] <= page[1], f"the page scrolls sideways: {page}"


def test_flat_and_failed_fits_draw_no_curve():
    from oncoresist.report._synergy_svg import dose_response_svg
    from oncoresist.synergy import fit_dose_response

    dose = np.array([0, 0.1, 0.3, 1, 3, 10.0])
    flat = np.array([1, -2, 0.5, 1.5, -1, 0.3])
    fit = fit_dose_response(dose, flat)
    assert fit["status"] == "flat"
    failed = {**fit_dose_response(dose, 100 * dose / (dose + 1)).to_dict(), "status": "failed: x"}
    svg = dose_response_svg([{"drug": "A", "unit": "uM", "dose": dose, "response": flat,
                              "fit": fit.to_dict()},
                             {"drug": "B", "unit": "uM", "dose": dose, "response": flat,
                              "fit": failed}], title="t", ident="d")  # fmt: skip
    root = ET.fromstring(svg)
    assert root.find(f".//{SVG}polyline[@class='fit']") is None  # no wild curve
    assert root.find(f".//{SVG}line[@class='flat']") is not None  # the mean it predicts
    assert "No curve drawn (failed: x)" in root.find(f"{SVG}desc").text
