"""Shared helpers of the figure tests: every output the command line draws, the SVGs inside
an HTML page, the web service under uvicorn, headless Chromium, and what a figure draws.

:func:`write_outputs` runs, in this process, every command that writes a figure (clones,
screens, evolve, the monitoring demo and a patient report with a forecast) on small,
seeded inputs, so the SVG test and the browser test read the very files a user gets.
"""

from __future__ import annotations

import base64
import io
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import pandas as pd

EXAMPLES = Path(str(resources.files("oncoresist") / "examples"))
EVOLVE_MODEL = Path(str(resources.files("oncoresist") / "evolve" / "examples" / "egfr_nsclc.yaml"))
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PATIENT = "ILLUS-P1"  # the identifier of the bundled, illustrative patient
SVG_NS = "http://www.w3.org/2000/svg"
WAIT = 120  # seconds for one page (the web page computes the PSA forecast)
PASSWORD = "correct horse battery"


def has_browser() -> bool:
    """Whether headless Chromium and its driver are installed."""
    return all(p.exists() and os.access(p, os.X_OK) for p in (CHROMIUM, CHROMEDRIVER))


def psa_measurements() -> bytes:
    """24 simulated PSA readings of the illustrative patient, four weeks apart from 2024-01-01."""
    from oncoresist.forecast import simulate_cohort

    table = simulate_cohort(1, rng=4).table
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(table["day"], unit="D")
    frame = table.assign(patient_id=PATIENT, marker="psa", date=dates.dt.strftime("%Y-%m-%d"),
                         value=table["value"].round(4))  # fmt: skip
    columns = ["patient_id", "marker", "date", "value", "on_treatment"]
    return frame[columns].to_csv(index=False).encode()


def uploaded_site(folder: Path) -> dict:
    """A service on a fresh store with the patient's four files uploaded by site A's clinician.

    Returns ``app``, ``client`` (a test client), ``token`` (the clinician's session) and
    ``pid`` (the patient's pseudonym), once the page's limits of detection are computed.
    """
    from fastapi.testclient import TestClient

    from oncoresist.server import ServerSettings, create_app
    from oncoresist.server._users import add_user

    settings = ServerSettings(db=f"sqlite:///{folder / 's.sqlite'}", key=bytes(range(32)),
                              audit_log=folder / "audit.log", parse_timeout=600.0)  # fmt: skip
    app = create_app(settings)
    add_user(app.state.oncoresist.store.engine, "alice", PASSWORD, role="clinician",
             site="SITEA")  # fmt: skip
    client = TestClient(app)
    login = client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    token = login.json()["access_token"]
    files = [(kind, name, (EXAMPLES / name).read_bytes()) for kind, name in (
        ("serial", "egfr_ctdna_series.csv"), ("therapy", "egfr_ctdna_therapy.csv"),
        ("events", "egfr_ctdna_events.csv"))]  # fmt: skip
    for kind, name, data in [*files, ("measurements", "psa.csv", psa_measurements())]:
        response = client.post(f"/api/v1/uploads/{kind}", files={"file": (name, data, "text/csv")},
                               headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert response.status_code == 200, response.text
    assert app.state.oncoresist.limits.wait(WAIT), "limits of detection still computing"
    return {"app": app, "client": client, "token": token, "pid": response.json()["patients"][0]}


def downloaded_report(site: dict) -> str:
    """The report the web page offers for download (``GET /api/v1/patients/{pid}/report``)."""
    response = site["client"].get(f"/api/v1/patients/{site['pid']}/report",
                                  headers={"Authorization": f"Bearer {site['token']}"})  # fmt: skip
    assert response.status_code == 200, response.text
    return response.text


def patient_page(site: dict) -> str:
    """The web patient page's HTML, read with the clinician's session cookie."""
    client = site["client"]
    client.cookies.set("oncoresist_session", site["token"])
    try:
        response = client.get(f"/patients/{site['pid']}")
    finally:
        client.cookies.clear()
    assert response.status_code == 200, response.text
    return response.text


def _inputs(folder: Path) -> dict[str, Path]:
    """Small seeded inputs: clone read counts, a screen with its gene lists, PSA readings."""
    from oncoresist.clones import simulate_clones, write_mutations
    from oncoresist.screens._simulate import simulate_screen

    folder.mkdir(parents=True, exist_ok=True)
    paths = {k: folder / n for k, n in (("mutations", "mutations.tsv"), ("counts", "counts.csv"),
             ("sheet", "sheet.csv"), ("essential", "essential.txt"),
             ("nonessential", "nonessential.txt"), ("psa", "psa.csv"))}  # fmt: skip
    data, _ = simulate_clones(n_mutations=150, n_samples=3, depth=100, rng=2)
    write_mutations(data, paths["mutations"])
    counts, sheet, truth = simulate_screen(genes=150, hits=5, rng=3)
    counts.to_csv(paths["counts"])
    sheet.to_csv(paths["sheet"], index=False)
    paths["essential"].write_text("\n".join(truth.index[truth["essential"]]) + "\n")
    paths["nonessential"].write_text("\n".join(truth.index[~truth["essential"]]) + "\n")
    paths["psa"].write_bytes(psa_measurements())
    paths["synergy"] = _combination_table(folder / "combinations.csv")
    paths["cells"] = _cell_file(folder / "cells.h5ad")
    return paths


def _combination_table(path: Path) -> Path:
    """Two 6 x 6 checkerboards in SynergyFinder's long format (% inhibition): Hill curves
    combined Bliss-independently, one block with extra effect in its combination cells."""
    import numpy as np
    import pandas as pd

    dose_a = np.array([0, 0.05, 0.158, 0.5, 1.58, 5.0])
    dose_b = np.array([0, 0.2, 0.632, 2.0, 6.32, 20.0])
    rows = []
    for block, extra in ((1, 0.0), (2, 12.0)):
        for a in dose_a:
            for b in dose_b:
                i_a, i_b = a**1.2 / (a**1.2 + 0.5**1.2), b**0.8 / (b**0.8 + 2.0**0.8)
                effect = 100 * (1 - (1 - i_a) * (1 - i_b)) + (extra if a and b else 0.0)
                rows.append((block, "drugA", "drugB", a, b, min(effect, 100.0), "uM", "uM"))
    columns = ["block_id", "drug_row", "drug_col", "conc_r", "conc_c", "response",
               "conc_r_unit", "conc_c_unit"]  # fmt: skip
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


def _cell_file(path: Path) -> Path:
    """A small simulated single-cell experiment (h5ad) with an EMT programme planted and
    genomic positions, as ``oncoresist sc report`` reads it."""
    import numpy as np

    from oncoresist.singlecell import resistance_programmes, simulate_cells, write_h5ad

    emt = resistance_programmes()["emt_axl"]["genes_up"]
    cells = simulate_cells(n_patients=3, cells_per_sample=60, n_genes=500, programme_genes=emt,
                           rng=0)  # fmt: skip
    rng = np.random.default_rng(0)
    cells.var["chromosome"] = rng.choice(["chr1", "chr2", "chr3"], cells.n_vars)
    cells.var["start"] = rng.integers(1, 10**8, cells.n_vars)
    cells.var["end"] = cells.var["start"] + 1000
    write_h5ad(cells, path)
    return path


def write_outputs(out: Path) -> Path:
    """Run every command that draws a figure, writing under ``out``; return ``out``.

    Writes ``clones/`` (fit: fish, tree, CCF and report.html), ``tree.svg`` and
    ``fish.svg`` (clones tree and plot), ``screen/`` (analyze: rank, volcano, sgRNA and
    report.html), ``qc/qc.html``, ``simulate/muller.svg``, ``compare/km.svg``, ``demo/``
    (the monitoring demo's report), ``report.html`` (the demo patient with a forecast),
    ``synergy/report.html`` (two checkerboards) and ``sc/report.html`` (simulated cells).
    """
    from typer.testing import CliRunner

    from oncoresist.cli import app

    i = _inputs(out / "inputs")
    demo = out / "demo"
    model, db = str(EVOLVE_MODEL), f"sqlite:///{demo / 'monitor_demo.sqlite'}"
    quick = ["--engine", "deterministic", "--figure", "svg"]
    runs = [
        ["clones", "fit", i["mutations"], "-o", out / "clones"],
        ["clones", "tree", out / "clones" / "clones.tsv", "--top", "2", "-o", out / "tree.svg"],
        ["clones", "plot", out / "clones" / "clones.tsv", "-o", out / "fish.svg"],
        ["screen", "analyze", i["counts"], "-s", i["sheet"], "-o", out / "screen"],
        ["screen", "qc", i["counts"], "-s", i["sheet"], "--essential", i["essential"],
         "--nonessential", i["nonessential"], "-o", out / "qc"],
        ["evolve", "simulate", model, "-s", "sequential:erlotinib>osimertinib", *quick,
         "-n", "2", "--days", "600", "-o", out / "simulate"],
        ["evolve", "compare", model, "-s", "continuous:erlotinib", "-s",
         "sequential:erlotinib>osimertinib", *quick, "-n", "4", "--days", "1500",
         "--workers", "1", "-o", out / "compare"],
        ["monitor", "demo", "--out", demo],
        ["report", PATIENT, "--db", db, "--measurements", i["psa"], "--disease", "LUAD",
         "--illustrative", "--out", out / "report.html"],
        ["synergy", "report", i["synergy"], "--response", "inhibition", "--out",
         out / "synergy" / "report.html"],
        ["sc", "report", i["cells"], "--condition", "condition", "--sample", "sample",
         "--pair", "patient", "--drug", "osimertinib", "--reference-key", "state",
         "--reference", "state0", "--out", out / "sc" / "report.html"],
    ]  # fmt: skip
    env = {"ONCORESIST_KEY_FILE": str(demo / "demo.key"), "COLUMNS": "200"}
    for args in runs:
        result = CliRunner().invoke(app, [str(a) for a in args], env=env)
        said = f"{result.output[-2000:]}{result.exception!r}"
        assert result.exit_code == 0, f"{' '.join(map(str, args[:2]))} failed: {said}"
    return out


_SVG_TAG = re.compile(r"<(/?)svg\b[^>]*?(/?)>", re.I)


def inline_svgs(html: str) -> list[str]:
    """The source text of each outermost ``<svg>...</svg>`` of an HTML page, in order."""
    found, depth, start = [], 0, 0
    for tag in _SVG_TAG.finditer(html):
        closing, empty = tag.group(1), tag.group(2)
        if not closing and not depth:
            start = tag.start()
        if empty and not depth:
            found.append(tag.group(0))
        elif not empty:
            depth += -1 if closing else 1
            if closing and not depth:
                found.append(html[start : tag.end()])
    return found


@contextmanager
def serve(app) -> Iterator[str]:
    """The ASGI ``app`` under uvicorn on a free port of 127.0.0.1; yields its base URL."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off",
                            ws="none", http="h11")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:  # uvicorn offers no event to wait on
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def browser(profile: Path, *, width: int = 1280, height: int = 1600):
    """Headless Chromium under Selenium that resolves no host but 127.0.0.1."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--force-device-scale-factor=1",
                "--no-first-run", "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--hide-scrollbars",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                f"--user-data-dir={profile}"):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(service=webdriver.ChromeService(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver, element) -> bytes:
    """A PNG of the whole ``element``, even where it runs past the window.

    Selenium's ``element.screenshot_as_png`` crops an element taller than the viewport; the
    DevTools capture of the element's page rectangle does not.
    """
    x, y, width, height = driver.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height];",
        element,
    )
    clip = {"x": x, "y": y, "width": width, "height": height, "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True}
    )
    return base64.b64decode(shot["data"])


# What each element of a figure draws, read in the browser: the computed paint (so CSS
# counts as much as attributes) and the marker shape (polygons by their vertices; a
# triangle's apex is its first point).
LOOKS_JS = """
const svg = document.getElementById(arguments[0]);
if (!svg) { return null; }
const shape = (n) => {
  const tag = n.localName;
  if (tag !== 'polygon') { return tag; }
  const p = Array.from(n.points);
  if (p.length === 3) { return p[0].y < p[1].y ? 'triangle' : 'triangle-down'; }
  return {4: 'diamond', 5: 'pentagon', 6: 'hexagon', 12: 'plus'}[p.length] || 'polygon';
};
const look = (n) => {
  const cs = getComputedStyle(n);
  return {shape: shape(n), fill: cs.fill, stroke: cs.stroke, dash: cs.strokeDasharray,
          cls: n.getAttribute('class') || ''};
};
const marks = 'circle, rect, polygon, polyline, line, path';
const groups = {};
for (const g of svg.querySelectorAll('g[data-series], g[data-regimen], g[data-event], '
                                     + 'g[data-strategy]')) {
  const key = ['series', 'regimen', 'event', 'strategy'].find((k) => g.dataset[k] !== undefined);
  groups[key + ':' + g.dataset[key]] = Array.from(g.querySelectorAll(marks), look);
}
const legend = {};
for (const item of svg.querySelectorAll('g.legend-item')) {
  legend[item.textContent.trim()] = Array.from(item.querySelectorAll(marks), look);
}
return {groups: groups, legend: legend, font: svg.getAttribute('font-family'),
        labelledby: svg.getAttribute('aria-labelledby')};
"""


def hex_colour(css: str) -> str:
    """``rgb(0, 114, 178)`` -> ``#0072B2``; anything else (``none``) as it is."""
    found = re.fullmatch(r"rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*[\d.]+)?\)", css.strip())
    return "#{:02X}{:02X}{:02X}".format(*map(int, found.groups())) if found else css


def dash(css: str) -> str:
    """A computed ``stroke-dasharray`` (``2px, 4px``) as the layer writes it (``2 4``)."""
    return "" if css in {"none", ""} else " ".join(re.findall(r"[\d.]+", css))


def pixels_near(png: bytes, colour: str, *, tolerance: int = 3) -> int | None:
    """How many pixels of ``png`` have ``colour`` (within ``tolerance`` per channel).

    ``None`` when Pillow is not installed (it is no dependency of the project).
    """
    try:
        from PIL import Image
    except ImportError:
        return None
    target = [int(colour[k : k + 2], 16) for k in (1, 3, 5)]
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(
        n for n, rgb in image.getcolors(image.width * image.height)
        if all(abs(a - b) <= tolerance for a, b in zip(rgb, target, strict=True))
    )  # fmt: skip


def ink_share(png: bytes) -> tuple[float, int] | None:
    """The share of pixels that are not white, and the number of distinct colours.

    ``None`` when Pillow is not installed.
    """
    try:
        from PIL import Image
    except ImportError:
        return None
    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(image.width * image.height)
    white = sum(n for n, rgb in colours if min(rgb) >= 250)
    return 1 - white / (image.width * image.height), len(colours)
