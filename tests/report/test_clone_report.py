"""Clone figures: fish plot, clone tree and CCF lines are valid, accessible, self-contained."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from oncoresist.clones._tree import first_detected
from oncoresist.errors import InputError
from oncoresist.report._clone_svg import (
    HIGHLIGHT_TEXT,
    clone_ccf_svg,
    fish_svg,
    hatch_path,
    tree_svg,
)

SVG_NS = "http://www.w3.org/2000/svg"
# The SVG namespace is a name, not a link: every figure carries it (a standalone file needs it).
EXTERNAL = re.compile(r"https?:|src=|url\(|<script|<link|@import|<img|<iframe|href", re.I)
NAMES = ["Founder", "Sub <A> & 'B'", "EGFR C797S", "MET amp", 'tiny "x"']
PARENTS = [None, 0, 1, 0, 2]
CCF = np.array(
    [
        [1.0, 0.9, 0.95, 1.0],
        [0.6, 0.5, 0.7, 0.85],
        [0.0, 0.1, 0.4, 0.7],
        [0.3, 0.35, 0.2, 0.1],
        [0.0, 0.0, 0.05, 0.2],
    ]
)
SD = np.full(CCF.shape, 0.02)
DAYS = [0, 60, 120, 200]


def figures() -> dict[str, str]:
    return {
        "fish": fish_svg(
            CCF,
            PARENTS,
            names=NAMES,
            times=DAYS,
            highlight={2},
            detected=first_detected(CCF, SD),
        ),
        "tree": tree_svg(PARENTS, names=NAMES, ccf=CCF, highlight=[2]),
        "lines": clone_ccf_svg(
            CCF, names=NAMES, lo=CCF - 2 * SD, hi=CCF + 2 * SD, times=DAYS, highlight=[2]
        ),
    }


def parse(svg: str) -> ET.Element:
    """The figure's tree, checked to be in the SVG namespace, with the namespace dropped."""
    root = ET.fromstring(svg)
    assert root.tag == f"{{{SVG_NS}}}svg"
    for e in root.iter():
        e.tag = e.tag.removeprefix(f"{{{SVG_NS}}}")
    return root


def texts(root: ET.Element) -> str:
    return " ".join("".join(e.itertext()) for e in root.iter())


@pytest.mark.parametrize("which", ["fish", "tree", "lines"])
def test_figures_are_xml_accessible_and_self_contained(which):
    svg = figures()[which]
    root = parse(svg)
    assert root.get("role") == "img"
    ident = root.get("id")
    assert root.get("aria-labelledby") == f"{ident}-title {ident}-desc"
    assert root.find("title") is not None and root.find("desc").text
    assert not EXTERNAL.search(svg.replace(f'xmlns="{SVG_NS}"', "", 1))
    for name in NAMES:
        assert name in texts(root)  # the parsed text holds every name as given
    assert "Sub &lt;A&gt; &amp; " in svg and "<A>" not in svg  # escaped in the source
    assert figures()[which] == svg  # deterministic


@pytest.mark.parametrize("which", ["fish", "tree", "lines"])
def test_highlight_legend_only_when_highlighted(which):
    assert HIGHLIGHT_TEXT in texts(parse(figures()[which]))
    plain = {
        "fish": fish_svg(CCF, PARENTS, names=NAMES),
        "tree": tree_svg(PARENTS, names=NAMES),
        "lines": clone_ccf_svg(CCF, names=NAMES),
    }[which]
    assert HIGHLIGHT_TEXT not in plain


def _bands(root: ET.Element) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Clone name -> (top, bottom) pixel y of its band at each sample."""
    out = {}
    for g in root.iter("g"):
        if "clone" not in (g.get("class") or "").split():
            continue
        pts = np.array(
            [[float(v) for v in p.split(",")] for p in g.find("polygon").get("points").split()]
        )
        n = len(pts) // 2
        out[g.get("data-clone")] = (pts[:n, 1], pts[n:, 1][::-1])
    return out


def test_fish_bands_nest_inside_their_parents_even_for_noisy_ccfs():
    noisy = CCF.copy()
    noisy[2, 1] = 0.6  # child above its parent (0.5): the sum rule fails
    svg = fish_svg(noisy, PARENTS, names=NAMES, times=DAYS)
    root = parse(svg)
    bands = _bands(root)
    assert set(bands) == set(NAMES)
    for child, parent in enumerate(PARENTS):
        if parent is None:
            continue
        top_c, bot_c = bands[NAMES[child]]
        top_p, bot_p = bands[NAMES[parent]]
        assert (top_c >= top_p - 0.11).all() and (bot_c <= bot_p + 0.11).all()
    assert "adjusted by up to" in root.find("desc").text


def test_fish_band_heights_are_the_ccfs():
    root = parse(fish_svg(CCF, PARENTS, names=NAMES, times=DAYS))
    bands = _bands(root)
    height = 400  # px for CCF 0..1
    for i, name in enumerate(NAMES):
        top, bottom = bands[name]
        assert bottom - top == pytest.approx(CCF[i] * height, abs=0.2)


def test_fish_marks_clones_first_detected_after_the_first_sample():
    svg = figures()["fish"]
    root = parse(svg)
    marks = [e for e in root.iter() if "first-detected" in (e.get("class") or "")]
    # detected at samples [0, 0, 1, 0, 2]: two clones emerge later
    assert sorted(m.get("data-clone") for m in marks) == sorted([NAMES[2], NAMES[4]])
    assert "first detected" in texts(root)
    assert "EGFR C797S (day 60)" in root.find("desc").text


def test_fish_hatches_the_highlighted_band():
    root = parse(figures()["fish"])
    hatched = [g for g in root.iter("g") if "highlighted" in (g.get("class") or "")]
    assert [g.get("data-clone") for g in hatched] == [NAMES[2]]
    assert hatched[0].find("path").get("class") == "hatch"


def test_fish_accepts_prevalences_and_one_sample():
    prev = np.array([[0.5], [0.3], [0.2]])
    root = parse(fish_svg(prev, [None, 0, 1], names=["a", "b", "c"], kind="prevalence"))
    bands = _bands(root)
    top, bottom = bands["a"]
    assert bottom - top == pytest.approx([400, 400], abs=0.2)  # the root holds everything
    with pytest.raises(InputError, match="at most 1"):
        fish_svg(prev * 3, [None, 0, 1], names=["a", "b", "c"], kind="prevalence")


def test_hatch_lines_stay_inside_the_region():
    path = hatch_path([10, 110], [20, 40], [60, 50])
    segments = re.findall(r"M([\d.]+) ([\d.]+)L([\d.]+) ([\d.]+)", path)
    assert len(segments) > 3
    for x0, y0, x1, y1 in (map(float, s) for s in segments):
        for x, y in ((x0, y0), (x1, y1)):
            assert 10 - 0.05 <= x <= 110 + 0.05
            top, bottom = 20 + 20 * (x - 10) / 100, 60 - 10 * (x - 10) / 100
            assert top - 0.1 <= y <= bottom + 0.1


def test_tree_draws_every_edge_and_ccf_label():
    root = parse(figures()["tree"])
    edges = [e for e in root.iter("line") if e.get("class") == "edge"]
    assert len(edges) == len(PARENTS) - 1
    assert "CCF 0.60 / 0.50 / 0.70 / 0.85" in texts(root)
    assert "Founder to Sub <A> & 'B'" in root.find("desc").text


def test_ccf_lines_draw_intervals_for_every_point():
    root = parse(figures()["lines"])
    intervals = [e for e in root.iter("path") if e.get("class") == "interval"]
    assert len(intervals) == CCF.size
    assert "Days" in texts(root)
    unlabelled = parse(clone_ccf_svg(CCF, names=NAMES))
    assert not [e for e in unlabelled.iter("path") if e.get("class") == "interval"]
    assert "Sample" in texts(unlabelled)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: fish_svg(CCF, PARENTS, names=NAMES[:2]), "names"),
        (lambda: fish_svg(CCF, PARENTS, names=["C1", "C2", "C1", "C4", "C5"]), "names"),
        (lambda: fish_svg(CCF, PARENTS, names=NAMES, highlight=[9]), "highlight"),
        (lambda: fish_svg(CCF, PARENTS, names=NAMES, times=[3, 2, 1, 0]), "times"),
        (lambda: fish_svg(CCF, PARENTS, names=NAMES, detected=[0, 9, 0, 0, 0]), "detected"),
        (lambda: fish_svg(CCF, PARENTS, names=NAMES, kind="vaf"), "kind"),
        (lambda: fish_svg(CCF, [None, 0, 0], names=NAMES), "parents"),
        (lambda: tree_svg(PARENTS, names=NAMES, ccf=CCF[:2]), "ccf"),
        (lambda: clone_ccf_svg(CCF, names=NAMES, lo=CCF[:, :2], hi=CCF), "lo"),
    ],
)
def test_bad_figure_input(call, field):
    with pytest.raises(InputError) as err:
        call()
    assert err.value.field == field


def test_sample_names_label_the_axis_and_the_tooltips():
    """The x axis shows the samples' own names, not "Sample 1..4" (issue 21); with days,
    the names go beside the day."""
    import xml.etree.ElementTree as ET

    from oncoresist.errors import InputError
    from oncoresist.report._clone_svg import clone_ccf_svg, fish_svg

    ccf = np.array([[1.0, 1.0, 1.0], [0.4, 0.7, 0.9]])
    names = ["PRE-treatment", "ON-day-56", "a-very-long-progression-sample"]
    svg = fish_svg(ccf, [None, 0], names=["C1", "C2"], samples=names)
    texts = [t.text for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert "PRE-treatment" in texts and "ON-day-56" in texts
    assert "a-very-long-p\u2026" in texts  # cut to fit about 14 labels
    assert not any((t or "").startswith("Sample ") for t in texts if t != "Sample")
    dated = clone_ccf_svg(ccf, names=["C1", "C2"], samples=names, times=[0, 56, 180])
    assert "ON-day-56 (day 56)" in dated
    with pytest.raises(InputError, match="2 sample names for 3 samples"):
        fish_svg(ccf, [None, 0], names=["C1", "C2"], samples=names[:2])
