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
    assert "xmlns" not in inline and inline.startswith('<svg id="t"')
    ET.fromstring(inline)  # well-formed XML as well


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
