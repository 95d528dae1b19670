"""The monitoring, forecast and evolution figures, drawn with the figure layer."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from figure_checks import SVG, check_svg

from oncoresist.evolve.plots import km_svg, muller_plot, muller_svg
from oncoresist.report._forecast_svg import Band, History, Panel, fan_chart_svg
from oncoresist.report._svg import (
    DayScale,
    Event,
    Line,
    Point,
    Series,
    series_styles,
    timeline_svg,
    trajectory_svg,
)

HOSTILE = 'KRAS <G12C> & "x" onload=alert(1)'


def twelve_series() -> list[Series]:
    out = []
    for i in range(12):
        label = HOSTILE if i == 0 else f"GENE{i} p.A{i}V"
        pts = [Point(d, "detected" if d > 0 else "not_detected", 0.01 * (i + 1), 0.001, 5,
                     500) for d in (-7.0, 60.0, 120.0)]  # fmt: skip
        out.append(Series(label, pts))
    return out


def test_trajectories_twelve_variants_are_told_apart() -> None:
    series = twelve_series()
    scale = DayScale.covering([-7, 120])
    svg = trajectory_svg(series, [(60.0, 0.001, 0.0005, 0.002)], [Event("progression", 100)],
                         scale, standalone=True)  # fmt: skip
    root = check_svg(svg)
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "series"]
    assert [g.get("data-series") for g in groups] == [s.label for s in series]  # intact
    looks = set()
    for g in groups:
        filled = next(n for n in g if "detected" in (n.get("class") or "").split())
        looks.add((filled.get("fill"), g.get("data-shape")))
        assert g.get("data-colour") == filled.get("fill")
    assert len(looks) == 12
    check_svg(trajectory_svg(series, [], [], scale))  # inside the report too: xmlns included


def test_the_report_styles_are_the_assignment() -> None:
    series = twelve_series()
    svg = trajectory_svg(series, [], [], DayScale.covering([0, 120]), standalone=True)
    styles = series_styles([s.label for s in series])
    for g in check_svg(svg).iter(f"{SVG}g"):
        if g.get("class") == "series":
            st = styles[g.get("data-series")]
            assert (g.get("data-colour"), g.get("data-shape"), g.get("data-dash")) == tuple(st)


def test_timeline_and_fan_chart_are_valid_standalone_svg() -> None:
    scale = DayScale.covering([0, 300])
    check_svg(timeline_svg([Line(HOSTILE, 0, None)], [Event(HOSTILE, 200)], [0.0, 90.0], scale,
                           standalone=True))  # fmt: skip
    history = [History(0, 20.0, on_treatment=True), History(28, 0.1, censored=True)]
    bands = [Band(56 + 28 * k, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2, 2.0, 0.7) for k in range(4)]
    root = check_svg(fan_chart_svg(history, [Panel("continue", "P = 0.2", bands)],
                                   origin_day=28, threshold=4.0, standalone=True))  # fmt: skip
    assert [p.get("data-level") for p in root.iter(f"{SVG}polygon") if p.get("data-level")] == [
        "95", "80", "50"
    ]  # fmt: skip


def test_a_late_lines_label_stays_inside_the_timeline() -> None:
    scale = DayScale.covering([0, 300])
    lines = [Line("osimertinib", 0, 250), Line("osimertinib + savolitinib", 250, None)]
    root = check_svg(timeline_svg(lines, [], [], scale))
    labels = [n for n in root.iter(f"{SVG}text") if "(from day" in (n.text or "")]
    assert len(labels) == 2
    for node in labels:
        _inside(root, node)


def frame() -> pd.DataFrame:
    t = np.arange(0, 400, 20.0)
    return pd.DataFrame(
        {"S": 1e9 * np.exp(-0.02 * t), "R": 10 * np.exp(0.05 * t), "RR": np.exp(0.06 * t) - 1},
        index=t,
    )


def _inside(root, node) -> None:
    """A text node's estimated box lies inside the viewBox."""
    _, _, w, h = (float(v) for v in root.get("viewBox").split())
    size = float(node.get("font-size"))
    width = 0.56 * size * len(node.text)  # a generous average glyph width for sans-serif
    x, y = float(node.get("x")), float(node.get("y"))
    left = {"middle": x - width / 2, "end": x - width}.get(node.get("text-anchor"), x)
    assert left >= 0 and left + width <= w, (left, width, w)
    assert size <= y <= h, (y, size, h)


def test_muller_title_is_inside_the_figure(tmp_path) -> None:
    title = "EGFR-mutant NSCLC under osimertinib: sensitive, T790M and T790M+C797S clones " * 2
    path = muller_plot(frame(), {"S": None, "R": "S", "RR": "R"}, tmp_path / "m.svg",
                       title=title, marks={"switch": 200.0})  # fmt: skip
    root = check_svg(path.read_text(encoding="utf-8").split("\n", 1)[1])
    assert root.find(f"{SVG}title").text == title
    shown = [n for n in root.iter(f"{SVG}text") if n.text == title]
    assert len(shown) == 1
    _inside(root, shown[0])
    bands = [p for p in root.iter(f"{SVG}polygon") if p.get("class") == "clone-band"]
    assert [b.get("data-clone") for b in bands] == ["S", "R", "RR"]
    assert len({b.get("fill") for b in bands}) == 3


def test_muller_and_survival_svg_text() -> None:
    check_svg(muller_svg(frame(), {"S": None, "R": "S", "RR": "R"}, normalise=False))
    rng = np.random.default_rng(0)
    results = pd.DataFrame({
        "strategy": np.repeat(["continuous", "adaptive", HOSTILE], 20),
        "ttp_days": rng.exponential(300, 60).round() + 1,
        "progressed": rng.random(60) < 0.8,
    })  # fmt: skip
    root = check_svg(km_svg(results, title="Time to progression"))
    curves = [g for g in root.iter(f"{SVG}g") if g.get("class") == "km-curve"]
    assert [g.get("data-strategy") for g in curves] == ["continuous", "adaptive", HOSTILE]
    assert re.search(r"median", root.find(f"{SVG}desc").text)
