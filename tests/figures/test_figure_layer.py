"""The figure layer itself: valid, accessible, script-free SVG; scales; styles; export."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from figure_checks import SVG, check_svg

from oncoresist import figures as fg

HOSTILE = '<script>alert(1)</script> & "quoted" <b onload="x()">'


def test_a_figure_is_valid_accessible_svg_with_escaped_text() -> None:
    fig = fg.Svg(300, 200, title=HOSTILE, desc=HOSTILE, ident="t")
    fig.add(fg.text(10, 20, HOSTILE), fg.marker("circle", 50, 50, 5, fill="#000", stroke="#000",
                                                title=HOSTILE, data_label=HOSTILE))  # fmt: skip
    root = check_svg(fig.standalone())
    assert root.find(f"{SVG}title").text == HOSTILE  # escaped on the way in, intact out
    assert root.get("aria-labelledby") == "t-title t-desc"
    inline = fig.inline()
    assert inline.startswith('<svg xmlns="http://www.w3.org/2000/svg" id="t"')
    check_svg(inline)  # valid in HTML5 and in the SVG namespace as XML


def test_the_builder_refuses_code() -> None:
    with pytest.raises(ValueError, match="event-handler"):
        fg.el("circle", r=1, onclick="x()")
    with pytest.raises(ValueError, match="script"):
        fg.el("script")
    fig = fg.Svg(10, 10, title="t", desc="d")
    with pytest.raises(ValueError, match="script"):
        fig.add("<script>x()</script>")
    with pytest.raises(ValueError, match="title"):
        fg.Svg(10, 10, title=" ", desc="d")


def test_scales_and_ticks() -> None:
    assert fg.nice_ticks(0, 7.3) == [0, 1, 2, 3, 4, 5, 6, 7]
    assert fg.nice_ticks(0, 7.3, 3) == [0, 2, 4, 6]
    assert fg.nice_ticks(-0.05, 1.02, 5) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    log = fg.LogScale((1e-4, 1.0), (400.0, 0.0))
    assert log.ticks() == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    assert log(1e-2) == pytest.approx(200.0)
    assert log(0.0) == log(1e-9) == pytest.approx(400.0)  # clipped, never an error
    lin = fg.LinearScale((0.0, 10.0), (100.0, 200.0))
    assert lin(5.0) == 150.0
    days = fg.DayScale.covering([0, 364])
    assert days.ticks() == [0, 60, 120, 180, 240, 300, 360]
    with pytest.raises(ValueError, match="positive"):
        fg.LogScale((0.0, 1.0), (0.0, 1.0))


def test_twelve_series_get_twelve_distinct_colour_marker_pairs() -> None:
    labels = [f"GENE{i} p.X{i}Y" for i in range(12)]
    styles = fg.assign(labels)
    assert len({(s.colour, s.marker) for s in styles.values()}) == 12
    # the first 8 colours are all used before any repeats
    assert len({s.colour for s in fg.assign(labels[:8]).values()}) == 8
    # 64 pairs, then dash patterns keep up to 512 apart
    assert len({(s.colour, s.marker) for s in fg.assign(f"v{i}" for i in range(64)).values()}) == 64
    assert len(set(fg.assign(f"v{i}" for i in range(200)).values())) == 200
    assert len({(s.colour, s.marker) for s in map(fg.style, range(64))}) == 64


def test_the_assignment_depends_on_the_labels_not_their_order() -> None:
    labels = ["EGFR T790M", "EGFR C797S", "TP53 R273H", "EGFR L858R", "MET amp"]
    assert fg.assign(labels) == fg.assign(reversed(labels)) == fg.assign(sorted(labels))
    assert set(fg.assign(labels)["EGFR T790M"]) <= set(fg.OKABE_ITO) | set(fg.SHAPES) | set(
        fg.DASHES
    )


def test_svg_and_png_files_are_written_whole(tmp_path) -> None:
    fig = fg.Svg(200, 100, title="A figure", desc="One blue circle.", ident="f")
    fig.add(fg.marker("circle", 50, 50, 20, fill=fg.OKABE_ITO[0], stroke=fg.INK),
            fg.text(100, 50, "words"))  # fmt: skip
    path = fg.write_svg(fig, tmp_path / "f.svg")
    text = path.read_text(encoding="utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    check_svg(text.split("\n", 1)[1])
    png = fg.write_png(fig, tmp_path / "f.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 500
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png", "f.svg"]  # no temporaries


def _node(markup: str) -> ET.Element:
    return ET.fromstring(f'<svg xmlns="{SVG[1:-1]}">{markup}</svg>')[0]


def test_band_polyline_and_line_primitives() -> None:
    band = _node(fg.band([(0, 1), (10, 2.25)], [(0, 5), (10, 6)], fg.tip("a & b"), fill="#000"))
    assert band.tag == f"{SVG}polygon" and band.get("stroke") == "none"
    assert band.get("points") == "0,1 10,2.2 10,6 0,5"  # out along the top, back along the bottom
    assert band.find(f"{SVG}title").text == "a & b"
    line = _node(fg.polyline([(0, 1 / 3), (2, 4)], stroke="#111", class_="median"))
    assert (line.get("points"), line.get("fill"), line.get("class")) == (
        "0,0.3 2,4",
        "none",
        "median",
    )
    seg = _node(fg.line(1, 2.04, 3, 4, stroke_dasharray="6 3"))
    assert [seg.get(k) for k in ("x1", "y1", "x2", "y2", "stroke-dasharray")] == [
        "1", "2", "3", "4", "6 3"
    ]  # fmt: skip


def test_axes_share_one_drawing() -> None:
    scale = fg.LinearScale((0.0, 10.0), (100.0, 300.0))
    box = {"left": 100, "right": 300, "top": 20, "bottom": 220}
    x = [_node(m) for m in fg.x_axis(scale, [0, 5], label="dose", **box)]
    assert [(n.get("x1"), n.get("y1"), n.get("x2"), n.get("y2")) for n in x[:3:2]] == [
        ("100", "20", "100", "220"), ("200", "20", "200", "220")
    ]  # fmt: skip
    assert (x[-2].get("x1"), x[-2].get("y1"), x[-2].get("x2")) == ("100", "220", "300")
    assert x[-1].text == "dose" and x[-1].get("y") == "268" and x[-1].get("transform") is None
    y = [_node(m) for m in fg.y_axis(scale, [5], label="vaf", label_x=30, **box)]
    assert (y[0].get("x1"), y[0].get("y1"), y[0].get("x2")) == ("100", "200", "300")
    assert (y[1].get("x"), y[1].get("text-anchor")) == ("92", "end")
    assert (y[2].get("x1"), y[2].get("y1"), y[2].get("y2")) == ("100", "20", "220")
    assert y[3].get("transform") == "rotate(-90 30 120)"


def test_marker_shapes() -> None:
    plus = _node(fg.marker("plus", 0, 0, 10, fill="#000", stroke="#000"))
    assert (
        plus.get("points") == "-4,-11 4,-11 4,-4 11,-4 11,4 4,4 4,11 -4,11 -4,4 -11,4 -11,-4 -4,-4"
    )
    square = _node(fg.marker("square", 10, 10, 10, fill="#000", stroke="#000", width=1))
    assert [square.get(k) for k in ("x", "y", "width", "stroke-width")] == ["1", "1", "18", "1"]
    tri = _node(fg.marker("triangle", 0, 0, 8, fill="#000", stroke="#000"))
    assert tri.get("points") == "0,-10 8.7,5 -8.7,5"
    with pytest.raises(ValueError, match="shape"):
        fg.marker("star", 0, 0, 1, fill="#000", stroke="#000")
