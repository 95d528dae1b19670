"""Render the report in headless Chromium: the DOM it builds and a screenshot.

Skips when ``/usr/bin/chromium`` is absent (``.ci/run`` installs it when it can). Network
is kept off: the page holds no URL, and Chromium is told to resolve no host.
"""

from __future__ import annotations

import os
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from report_helpers import REPORT_DATE, example_tables, parse

from oncoresist import monitor
from oncoresist.report import build_report, write_report

CHROMIUM = Path("/usr/bin/chromium")
WIDTH, HEIGHT = 1280, 2000
TIMEOUT = 180

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)),
    reason="headless browser test needs /usr/bin/chromium (apt-get install chromium)",
)


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-dev-shm-usage", "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}", *args,
    ]  # fmt: skip
    env = {**os.environ, "HOME": str(tmp_path)}
    try:
        return subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT, env=env, check=False
        )
    except subprocess.TimeoutExpired:  # pragma: no cover - depends on the machine
        pytest.fail(f"chromium did not finish within {TIMEOUT} s: {' '.join(command)}")


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    obs, therapy, events = example_tables()
    html = build_report(
        monitor.call_draws(obs), therapy=therapy, events=events, disease="LUAD",
        illustrative=True, report_date=REPORT_DATE,
    )  # fmt: skip
    target = tmp_path_factory.mktemp("report") / "report.html"
    write_report(target, html)
    return target


def _png(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the decompressed (still filtered) image data of a PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, width, height, idat = 8, 0, 0, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def test_rendered_dom(page: Path, tmp_path: Path) -> None:
    result = _chromium(tmp_path, "--dump-dom", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    tree = parse(result.stdout)
    trajectories = tree.find_id("trajectories")
    assert trajectories is not None, "no trajectories section in the rendered DOM"
    svg = next(trajectories.iter("svg"), None)
    assert svg is not None and svg.attrs.get("id") == "trajectory-plot"
    assert len([g for g in svg.iter("g") if "series" in g.classes]) == 4
    alerts = tree.find_id("alerts-table")
    assert alerts is not None and alerts.tag == "table"
    assert "EGFR C797S" in alerts.text()
    verdicts = tree.find_id("verdicts-table")
    assert verdicts is not None and "osimertinib" in verdicts.text()


def test_screenshot(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    result = _chromium(
        tmp_path, f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}",
        "--hide-scrollbars", page.as_uri(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.exists(), f"no screenshot written; stderr: {result.stderr[-2000:]}"
    assert shot.stat().st_size > 30_000  # a blank page compresses to a few KB
    width, height, raw = _png(shot)
    assert (width, height) == (WIDTH, HEIGHT)
    # many distinct byte values in the pixel data: text, plots and colours, not one colour
    assert len(set(raw)) > 64
