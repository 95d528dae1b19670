"""The single-cell page and its figures: valid accessible SVG, bounded sizes, a real render."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from oncoresist.cli import app
from oncoresist.report import _sc_svg as svg
from oncoresist.singlecell._genesets import resistance_programmes
from oncoresist.singlecell._io import write_h5ad
from oncoresist.singlecell._simulate import simulate_cells

sys.path.append(str(Path(__file__).resolve().parents[1] / "figures"))
from figure_checks import SVG, check_svg

CHROMIUM = Path("/usr/bin/chromium")
runner = CliRunner()


def _experiment(tmp: Path, *, positions: bool = True, **options) -> Path:
    emt = resistance_programmes()["emt_axl"]["genes_up"]
    settings = {"n_patients": 3, "cells_per_sample": 150, "n_genes": 500,
                "programme_genes": emt, "persister_fold": 4.0, "programme_lfc": 2.0,
                "rng": 0, **options}  # fmt: skip
    cells = simulate_cells(**settings)
    if positions:
        rng = np.random.default_rng(0)
        cells.var["chromosome"] = rng.choice(["chr1", "chr2", "chr3", "chr4"], cells.n_vars)
        cells.var["start"] = rng.integers(1, 10**8, cells.n_vars)
        cells.var["end"] = cells.var["start"] + 1000
    path = tmp / "cells.h5ad"
    write_h5ad(cells, path)
    return path


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("scpage")
    out = tmp / "report.html"
    result = runner.invoke(app, [
        "sc", "report", str(_experiment(tmp)), "--condition", "condition", "--sample",
        "sample", "--pair", "patient", "--drug", "osimertinib", "--disease", "NSCLC",
        "--design", "~patient+condition", "--reference-key", "state", "--reference", "state0",
        "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def _svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)


def test_page_figures_are_valid_accessible_svg_and_the_page_has_no_script(page: Path):
    html = page.read_text()
    figures = _svgs(html)
    assert len(figures) == 5  # condition, programme, boxes, DA, copy number
    ids = []
    for text in figures:
        root = check_svg(text)
        ids.append(root.get("id"))
        assert len(text) < 400_000
    assert ids == ["embedding-condition", "embedding-score", "programme-distributions",
                   "da-neighbourhoods", "cnv-heatmap"]  # fmt: skip
    assert "<script" not in html.lower() and "http://" not in html.replace(SVG[1:-1], "")
    assert "First two principal components" in html  # no UMAP in the file: PCs, said so


def test_page_links_the_rising_emt_programme_to_the_knowledge_base(page: Path):
    html = page.read_text()
    table = html[html.index('id="kb-link"') :]
    table = table[: table.index("</table>")]
    assert "EMT" in table and "AXL overexpression" in table and "phenotypic" in table
    assert "erlotinib" in table and "PMID:21430269" in table
    assert 'id="shifts"' in html and 'id="cnv-clones"' in html


def test_nested_samples_without_pair_and_no_reference_are_explained_not_failed(tmp_path: Path):
    out = tmp_path / "page.html"
    result = runner.invoke(app, [
        "sc", "report", str(_experiment(tmp_path, positions=False, n_patients=2)),
        "--condition", "condition", "--sample", "sample", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "Programme shifts not tested" in html and "give --pair" in html
    assert "Copy number not inferred" in html
    for text in _svgs(html):
        check_svg(text)


def test_bad_condition_column_exits_2_and_writes_nothing(tmp_path: Path):
    out = tmp_path / "page.html"
    data = _experiment(tmp_path, positions=False, n_patients=2)
    result = runner.invoke(app, ["sc", "report", str(data), "--condition", "arm", "--sample",
                                 "sample", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 2
    assert "obs/arm" in result.stderr and str(data) in result.stderr
    assert not out.exists()


def test_embedding_is_binned_so_its_size_does_not_grow_with_cells():
    rng = np.random.default_rng(0)
    small = svg.embedding_score_svg(rng.normal(size=(500, 2)), rng.normal(size=500),
                                    programme="EMT", basis="PC")  # fmt: skip
    big_xy = rng.normal(size=(50_000, 2))
    big = svg.embedding_score_svg(big_xy, big_xy[:, 0], programme="EMT", basis="PC")
    grid = (620 / 6 + 1) ** 2
    squares = ET.fromstring(big).findall(f".//{SVG}g[@class='cells']/{SVG}rect")
    assert len(squares) < grid and len(big) < 40 * len(small)
    assert "50,000 cells" in ET.fromstring(big).find(f"{SVG}desc").text
    labels = np.where(big_xy[:, 0] > 0, "drug", "ctrl")
    root = check_svg(svg.embedding_condition_svg(big_xy, labels, what="condition", basis="PC"))
    right = [r for r in root.iter(f"{SVG}rect") if r.get("data-label") == "drug"]
    assert right and all(float(r.get("x")) > 300 for r in right)


def test_cnv_heatmap_is_subsampled_and_marks_chromosomes():
    rng = np.random.default_rng(1)
    profiles = np.zeros((5000, 400))
    profiles[2500:, :100] = 0.3  # a gain on chr1 in clone 1
    profiles += rng.normal(0, 0.01, profiles.shape) * (rng.random(profiles.shape) < 0.05)
    clones = np.repeat(["0", "1"], 2500)
    text = svg.cnv_heatmap_svg(profiles, chr_pos={"chr1": 0, "chr2": 100, "chr3": 250},
                               clones=clones, score=(profiles**2).mean(axis=1))  # fmt: skip
    root = check_svg(text)
    strip = root.findall(f".//{SVG}g[@class='clone-strip']/{SVG}rect")
    assert len(strip) == 200  # at most 200 of 5,000 cells drawn
    labels = [t.text for t in root.findall(f".//{SVG}g[@class='chromosomes']/{SVG}text")]
    assert labels == ["1", "2", "3"]
    reds = [r for r in root.findall(f".//{SVG}g[@class='cnv-cells']/{SVG}rect")
            if r.get("fill", "").lower().startswith("#d")]  # fmt: skip
    assert reds and all(float(r.get("x")) < 120 + 850 * 100 / 400 + 1 for r in reds)


def test_da_plot_highlights_significant_neighbourhoods_by_annotation():
    table = pd.DataFrame({"logFC": [2.0, -1.5, 0.1, 0.2], "spatial_fdr": [0.01, 0.02, 0.8, 0.9],
                          "state": ["persister", "state1", "state1", "<b>x"]})  # fmt: skip
    root = check_svg(svg.da_svg(table, annotate="state"))
    classes = [p.get("class") for p in root.iter(f"{SVG}path")]
    assert classes.count("nhood up") == 1 and classes.count("nhood down") == 1
    assert "<b>x" in [t.text for t in root.iter(f"{SVG}text")]  # escaped, shown as words


@pytest.mark.skipif(not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)),
                    reason="needs /usr/bin/chromium (apt-get install chromium)")  # fmt: skip
def test_headless_chromium_screenshot_is_not_blank(page: Path, tmp_path: Path):
    profile, shot = tmp_path / "profile", tmp_path / "shot.png"
    profile.mkdir()
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
               "--no-first-run", "--disable-dev-shm-usage", "--disable-background-networking",
               "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}",
               f"--screenshot={shot}", "--window-size=1280,2400", "--hide-scrollbars",
               page.as_uri()]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False,
                            env={**os.environ, "HOME": str(tmp_path)})  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.stat().st_size > 30_000  # a blank page compresses to a few KB


def test_drug_outside_the_knowledge_base_is_a_note_and_links_still_shown(tmp_path: Path):
    out = tmp_path / "page.html"
    result = runner.invoke(app, [
        "sc", "report", str(_experiment(tmp_path, positions=False)), "--condition",
        "condition", "--sample", "sample", "--pair", "patient", "--drug", "panobinostat",
        "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "is not in the knowledge base" in html and "panobinostat" in html
    assert 'id="kb-link"' in html  # the EMT rise is still linked, for the drugs it covers
