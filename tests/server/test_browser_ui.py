"""The browser interface in headless Chromium (Selenium): log in, read a patient, upload,
look a patient up by the site's identifier, set the disease.

Runs the app under uvicorn on a free port of 127.0.0.1 in a background thread, and drives
Chromium through chromedriver; checks that the chart script ran (series drawn, legend
toggles, keyboard moves between points), takes a screenshot, and sends a malformed file
through the upload form. Skips when ``/usr/bin/chromium`` or ``/usr/bin/chromedriver`` is
absent (``.ci/run`` installs both when it can). Chromium resolves no host but 127.0.0.1.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("selenium")

import uvicorn
from fastapi.testclient import TestClient
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from oncoresist.server import ServerSettings, create_app
from oncoresist.server._users import add_user

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
pytestmark = pytest.mark.skipif(
    not all(p.exists() and os.access(p, os.X_OK) for p in (CHROMIUM, CHROMEDRIVER)),
    reason="the browser test needs /usr/bin/chromium and /usr/bin/chromedriver "
    "(apt-get install chromium chromium-driver)",
)
PASSWORD = "correct horse battery"
EXAMPLES = Path(str(resources.files("oncoresist") / "examples"))
WAIT = 20  # seconds for any one page state


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service with site A's illustrative patient, served by uvicorn."""
    tmp = tmp_path_factory.mktemp("browser-ui")
    settings = ServerSettings(db=f"sqlite:///{tmp / 's.sqlite'}", key=bytes(range(32)),
                              audit_log=tmp / "audit.log")  # fmt: skip
    app = create_app(settings)
    add_user(app.state.oncoresist.store.engine, "alice", PASSWORD, role="clinician",
             site="SITEA")  # fmt: skip
    api = TestClient(app)
    login = api.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    for kind, name in (("serial", "egfr_ctdna_series.csv"), ("therapy", "egfr_ctdna_therapy.csv"),
                       ("events", "egfr_ctdna_events.csv")):  # fmt: skip
        data = (EXAMPLES / name).read_bytes()
        response = api.post(f"/api/v1/uploads/{kind}", headers=bearer,
                            files={"file": (name, data, "text/csv")})  # fmt: skip
        assert response.status_code == 200, response.text
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off",
                            ws="none", http="h11")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=WAIT)


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    profile = tmp_path_factory.mktemp("chromium-profile")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1800", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                f"--user-data-dir={profile}"):  # fmt: skip
        options.add_argument(arg)
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))
    browser = webdriver.Chrome(service=service, options=options)
    browser.set_page_load_timeout(WAIT)
    yield browser
    browser.quit()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def _wait(driver: webdriver.Chrome):
    return WebDriverWait(driver, WAIT)


def test_log_in_read_a_patient_and_upload(base_url: str, driver: webdriver.Chrome,
                                          tmp_path: Path) -> None:  # fmt: skip
    # log in through the form (an unauthenticated page sends the browser there)
    driver.get(base_url + "/")
    _wait(driver).until(ec.url_to_be(base_url + "/login"))
    driver.find_element(By.ID, "username").send_keys("alice")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
    table = _wait(driver).until(ec.presence_of_element_located((By.ID, "patient-table")))
    assert "⚠ 1 resistance alert" in table.text
    assert not driver.execute_script("return document.cookie")  # HttpOnly: not visible to JS

    # open the patient; the chart script draws every point (9 draws x 4 variants)
    table.find_element(By.CSS_SELECTOR, "tbody a").click()
    _wait(driver).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#trajectory-chart[data-state=ready]"))
    )
    points = driver.find_elements(By.CSS_SELECTOR, "#trajectory-chart .series .point")
    assert len(points) == 36
    series = driver.find_elements(By.CSS_SELECTOR, "#trajectory-chart .series")
    assert len(series) == 4
    assert "EGFR C797S" in driver.find_element(By.ID, "alert-table").text
    assert "resistant" in driver.find_element(By.ID, "verdict-table").text
    assert driver.find_elements(By.CSS_SELECTOR, "#trajectory-chart .point.not-detected")
    assert driver.find_element(By.ID, "trajectory-values").get_attribute("open") is None

    # the legend toggles a series, by click and by keyboard
    key = driver.find_element(By.CSS_SELECTOR, ".legend-key[data-series='EGFR C797S']")
    group = driver.find_element(By.CSS_SELECTOR, ".series[data-series='EGFR C797S']")
    key.click()
    assert key.get_attribute("aria-pressed") == "false"
    assert not group.is_displayed()
    key.send_keys(Keys.SPACE)
    assert key.get_attribute("aria-pressed") == "true"
    assert group.is_displayed()

    # a point takes focus and shows its tooltip; the arrow keys move along the series
    first = group.find_element(By.CSS_SELECTOR, ".point")
    driver.execute_script("arguments[0].focus()", first)
    tip = driver.find_element(By.ID, "trajectory-tip")
    assert tip.is_displayed() and "Day -7" in tip.text and "not detected" in tip.text
    webdriver.ActionChains(driver).send_keys(Keys.END).perform()
    active = driver.switch_to.active_element
    assert "EGFR C797S, day 364" in active.get_attribute("aria-label")
    assert "detected" in tip.text and "Day 364" in tip.text

    # no console error: nothing refused by the Content Security Policy, no script error
    assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []

    png = driver.get_screenshot_as_png()
    width, height = _png_size(png)
    assert width >= 800 and height >= 600 and len(png) > 20_000
    (tmp_path / "patient.png").write_bytes(png)

    # a malformed file through the upload form: the error names line and field, and has focus
    rows = (EXAMPLES / "egfr_ctdna_series.csv").read_text().splitlines()
    rows[3] = rows[3].replace(",0,3311,", ",99999,3311,")
    bad = tmp_path / "series.csv"
    bad.write_text("\n".join(rows) + "\n")
    driver.get(base_url + "/upload")
    driver.find_element(By.ID, "kind-serial").click()
    driver.find_element(By.ID, "upload-file").send_keys(str(bad))
    driver.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
    error = _wait(driver).until(ec.presence_of_element_located((By.ID, "upload-error")))
    assert "series.csv line 4, field alt_reads" in error.text
    assert error.get_attribute("role") == "alert"
    assert driver.switch_to.active_element.get_attribute("id") == "upload-error"


def _script_errors(driver: webdriver.Chrome) -> list[dict]:
    """Severe console entries since the last call, but the network's (a 404 or 422 answer)."""
    return [e for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and e.get("source") != "network"]  # fmt: skip


def _sign_in(driver: webdriver.Chrome, base_url: str) -> None:
    """Open the patient list, through the login form when the browser has no session."""
    driver.get_log("browser")  # what earlier tests left
    driver.get(base_url + "/")
    if driver.current_url == base_url + "/login":
        driver.find_element(By.ID, "username").send_keys("alice")
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
    _wait(driver).until(ec.presence_of_element_located((By.ID, "lookup-form")))


def test_look_a_patient_up_by_the_sites_identifier(base_url: str,
                                                   driver: webdriver.Chrome) -> None:  # fmt: skip
    _sign_in(driver, base_url)
    # an unknown identifier: the error has focus, and the form comes back empty
    field = driver.find_element(By.ID, "lookup-identifier")
    field.send_keys("MRN-NOBODY-4711")
    driver.find_element(By.CSS_SELECTOR, "#lookup-form button[type=submit]").click()
    error = _wait(driver).until(ec.presence_of_element_located((By.ID, "lookup-error")))
    assert "No patient of your site has this identifier." in error.text
    assert driver.switch_to.active_element.get_attribute("id") == "lookup-error"
    assert driver.find_element(By.ID, "lookup-identifier").get_attribute("value") == ""
    assert "MRN-NOBODY-4711" not in driver.page_source + driver.current_url

    # the site's own identifier opens the patient's page; the URL names only the pseudonym
    driver.find_element(By.ID, "lookup-identifier").send_keys("ILLUS-P1")
    driver.find_element(By.CSS_SELECTOR, "#lookup-form button[type=submit]").click()
    _wait(driver).until(ec.url_matches(r"/patients/[0-9a-f]{64}$"))
    assert "ILLUS-P1" not in driver.current_url
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith("Patient ")
    assert driver.find_element(By.ID, "verdict-table")
    assert _script_errors(driver) == []


def test_set_the_disease_and_see_the_verdicts_follow(base_url: str,
                                                     driver: webdriver.Chrome) -> None:  # fmt: skip
    _sign_in(driver, base_url)
    driver.find_element(By.CSS_SELECTOR, "#patient-table tbody a").click()
    _wait(driver).until(ec.presence_of_element_located((By.ID, "disease-form")))

    def choose(disease: str) -> None:
        old_page = driver.find_element(By.TAG_NAME, "html")
        Select(driver.find_element(By.ID, "disease-select")).select_by_value(disease)
        driver.find_element(By.CSS_SELECTOR, "#disease-form button[type=submit]").click()
        # the URL says saved=disease from the first choice on: wait for the new page itself
        _wait(driver).until(ec.staleness_of(old_page))
        _wait(driver).until(ec.url_contains("saved=disease"))
        _wait(driver).until(ec.presence_of_element_located((By.ID, "verdict-context")))

    choose("melanoma")  # the lung evidence on C797S decides nothing in melanoma
    assert "Disease saved" in driver.find_element(By.ID, "notice").text
    assert "melanoma" in driver.find_element(By.ID, "verdict-context").text
    row = driver.find_element(By.CSS_SELECTOR, "#verdict-table tr[data-drug=osimertinib]")
    assert row.get_attribute("data-verdict") == "no_known_effect"
    selected = Select(driver.find_element(By.ID, "disease-select")).first_selected_option
    assert selected.get_attribute("value") == "melanoma"

    choose("LUAD")
    assert "lung adenocarcinoma" in driver.find_element(By.ID, "verdict-context").text
    row = driver.find_element(By.CSS_SELECTOR, "#verdict-table tr[data-drug=osimertinib]")
    assert row.get_attribute("data-verdict") == "resistant"
    assert "Disease: lung adenocarcinoma" in driver.find_element(By.CSS_SELECTOR, ".lede").text
    assert _script_errors(driver) == []


def test_alert_table_fits_a_1000_px_window(base_url: str, driver: webdriver.Chrome) -> None:
    """The alerts table (the report's own partial) wraps its cells instead of overflowing."""
    _sign_in(driver, base_url)
    driver.find_element(By.CSS_SELECTOR, "#patient-table tbody a").click()
    _wait(driver).until(ec.presence_of_element_located((By.ID, "alert-table")))
    try:
        for media, width in (("screen", 1000), ("print", 718)):
            driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": media})
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": width, "height": 900, "deviceScaleFactor": 1,
                                    "mobile": False})  # fmt: skip
            table, box = driver.execute_script(
                "const t = document.getElementById('alert-table');"
                "return [t.scrollWidth, t.closest('.table-wrap').clientWidth];"
            )
            assert table <= box, f"alerts table {table} px in a {box} px container ({media})"
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
