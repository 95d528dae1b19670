"""The report's alerts table fits a 1,000 px window and a printed A4 page (issue 19).

The table (shared with the web patient page, ``_alert_table.html``) wraps its long cells
instead of pushing the page sideways. Headless Chromium through Selenium measures the
table's ``scrollWidth`` against the width of the container it sits in, on screen at
1,000 px and under print media at 718 px (A4 at 96 px per inch less default margins).
Skips when ``/usr/bin/chromium`` or ``/usr/bin/chromedriver`` is absent.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from report_helpers import REPORT_DATE, example_tables

from oncoresist import monitor
from oncoresist.report import build_report, write_report

pytest.importorskip("selenium")

from selenium import webdriver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
pytestmark = pytest.mark.skipif(
    not all(p.exists() and os.access(p, os.X_OK) for p in (CHROMIUM, CHROMEDRIVER)),
    reason="needs /usr/bin/chromium and /usr/bin/chromedriver",
)
#: (table width, width of its container, page width, window width) in CSS px
MEASURE = """const t = document.getElementById(arguments[0]);
const box = t.closest('.table-wrap') || t.parentElement;
const page = document.documentElement;
return [t.scrollWidth, box.clientWidth, page.scrollWidth, page.clientWidth];"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The illustrative patient with three alerts (driver and TP53 missed at baseline)."""
    obs, therapy, events = example_tables()
    missed = (obs["sample_id"] == "ILLUS-P1-D0") & obs["alteration"].isin(
        ["EGFR L858R", "TP53 R273H"]
    )
    obs = obs.assign(alt_reads=obs["alt_reads"].where(~missed, 0))
    html = build_report(monitor.call_draws(obs), therapy=therapy, events=events,
                        disease="LUAD", report_date=REPORT_DATE, show_dates=True)  # fmt: skip
    assert html.count('class="alert-row"') == 3
    path = tmp_path_factory.mktemp("fit") / "report.html"
    write_report(path, html)
    return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--host-resolver-rules=MAP * ~NOTFOUND",
                f"--user-data-dir={tmp_path_factory.mktemp('profile')}"):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(service=webdriver.ChromeService(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


@pytest.mark.parametrize(("media", "width"), [("screen", 1000), ("print", 718)])
def test_alerts_table_fits(report: Path, browser: webdriver.Chrome, media: str, width: int):
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": media})
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": width, "height": 900, "deviceScaleFactor": 1,
                             "mobile": False})  # fmt: skip
    browser.get(report.as_uri())
    table, box, page, window = browser.execute_script(MEASURE, "alerts-table")
    assert table <= box, f"alerts table {table} px in a {box} px container ({media})"
    assert page <= window, f"the page scrolls sideways: {page} px in {window} px ({media})"
