"""CRISPR screen figures and pages: structure, escaping, size, QC flags, NaN and p = 0."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from report_helpers import parse

from oncoresist.errors import InputError
from oncoresist.report._screen_html import (
    QC_THRESHOLDS,
    screen_qc_flags,
    screen_qc_html,
    screen_results_html,
)
from oncoresist.report._screen_svg import (
    essential_svg,
    fmt_p,
    neg_log10,
    rank_svg,
    read_distribution_svg,
    sgrna_lfc_svg,
    text_width,
    volcano_svg,
)

KNOWN_POS = "EGFR inhibitors: bypass (MAPK)"


# ----------------------------------------------------------------------- synthetic data
def _bh(p: np.ndarray) -> np.ndarray:
    n = p.size
    order = np.argsort(p)
    q = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(q[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


def make_genes(n: int = 300, *, seed: int = 0, spread: bool = False) -> pd.DataFrame:
    """A gene table as the screens module writes it: 15 resistance, 15 sensitisation hits.

    ``spread``: every gene a strong hit with random LFC, a worst case for the volcano size.
    """
    rng = np.random.default_rng(seed)
    lfc = rng.normal(0, 0.5, n)
    p_pos, p_neg = rng.uniform(size=n), rng.uniform(size=n)
    p_pos[:15] = 10.0 ** -rng.uniform(4, 12, 15)
    lfc[:15] = rng.uniform(1.5, 4, 15)
    p_neg[15:30] = 10.0 ** -rng.uniform(4, 12, 15)
    lfc[15:30] = rng.uniform(-4, -1.5, 15)
    if spread:
        lfc = rng.uniform(-6, 6, n)
        p = 10.0 ** -rng.uniform(0, 15, n)
        p_pos, p_neg = np.where(lfc > 0, p, 0.9), np.where(lfc > 0, 0.9, p)
    genes = pd.DataFrame(
        {"num": 4, "neg|score": p_neg, "neg|p-value": p_neg, "neg|fdr": _bh(p_neg),
         "neg|rank": pd.Series(p_neg).rank(method="min").astype(int).to_numpy(),
         "neg|lfc": lfc, "pos|score": p_pos, "pos|p-value": p_pos, "pos|fdr": _bh(p_pos),
         "pos|rank": pd.Series(p_pos).rank(method="min").astype(int).to_numpy(),
         "pos|lfc": lfc},
        index=pd.Index([f"G{i}" for i in range(n)], name="id"),
    )  # fmt: skip
    genes["normZ"] = np.sign(lfc) * -np.log10(np.fmin(p_pos, p_neg)) / 2
    genes["known"] = ""
    return genes


def top_genes(genes: pd.DataFrame, direction: str, k: int) -> list[str]:
    return list(genes.sort_values(f"{direction}|rank", kind="stable").index[:k])


@pytest.fixture(scope="module")
def genes() -> pd.DataFrame:
    g = make_genes()
    best = top_genes(g, "pos", 10)
    g.loc[best[3], "known"] = KNOWN_POS
    g.loc[top_genes(g, "neg", 1)[0], "known"] = "BRAF inhibitors: <sensitises>"
    g.loc["G200", "known"] = "known, ranked low"
    return g.rename(index={best[0]: "<b>X"})


@pytest.fixture(scope="module")
def sgrnas(genes) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = [
        (f"{g}_sg{j}", g, float(lfc + rng.normal(0, 0.4)), float(rng.uniform(50, 800)))
        for g, lfc in zip(genes.index, genes["pos|lfc"], strict=True)
        for j in range(4)
    ]
    return pd.DataFrame(rows, columns=["sgRNA", "gene", "lfc", "control_mean"]).set_index("sgRNA")


def _gini(x: np.ndarray) -> float:
    x = np.sort(x.astype(float))
    n = x.size
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * x.sum()))


def make_qc(*, bottlenecked: bool, n: int = 800, seed: int = 2) -> dict[str, object]:
    """QC inputs of two control replicates and one drug arm (bottlenecked or even)."""
    rng = np.random.default_rng(seed)
    gene = [f"G{i // 4}" for i in range(n)]
    drug = (
        np.where(rng.uniform(size=n) < 0.3, 0, rng.lognormal(4, 2.0, n)).astype(np.int64)
        if bottlenecked
        else rng.poisson(300, n)
    )
    counts = pd.DataFrame(
        {"gene": gene, "D14_r1": rng.poisson(300, n), "D14_r2": rng.poisson(300, n),
         "PLX14_r1": drug},
        index=pd.Index([f"sg{i}" for i in range(n)], name="sgRNA"),
    )  # fmt: skip
    stats = {}
    for s in ("D14_r1", "D14_r2", "PLX14_r1"):
        x = counts[s].to_numpy()
        stats[s] = {
            "reads": int(x.sum()), "sgrnas": n, "zero_sgrnas": int((x == 0).sum()),
            "zero_fraction": float((x == 0).mean()), "low_sgrnas": int((x < 30).sum()),
            "median_reads": float(np.median(x)), "gini": _gini(x),
            "top10_share": float(np.sort(x)[::-1][: n // 10].sum() / x.sum()),
        }  # fmt: skip
    sample_qc = pd.DataFrame.from_dict(stats, orient="index").rename_axis("sample")
    r_drug = 0.41 if bottlenecked else 0.9
    correlations = pd.DataFrame(
        [("D14", "D14_r1", "D14_r2", 0.93, 0.91), ("PLX14", "PLX14_r1", "PLX14_r2", r_drug, 0.8)],
        columns=["group", "sample_a", "sample_b", "pearson_log", "spearman"],
    )
    essential = {f"G{i}" for i in range(50)}
    nonessential = {f"G{i}" for i in range(50, 100)}
    lfc = rng.normal(0, 0.5, (n, 3))
    lfc[np.isin(gene, list(essential))] -= 2
    guide_lfc = pd.DataFrame(lfc, columns=list(stats), index=counts.index)
    guide_lfc.insert(0, "gene", gene)
    separation = pd.DataFrame(
        {"roc_auc": [0.95, 0.94, 0.72 if bottlenecked else 0.9], "pr_auc": [0.9, 0.88, 0.6],
         "median_lfc_essential": [-2.0, -1.9, -1.5], "median_lfc_nonessential": [0.0, 0.1, 0.0],
         "delta": [-2.0, -2.0, -1.5], "n_essential": [200] * 3, "n_nonessential": [200] * 3},
        index=pd.Index(list(stats), name="sample"),
    )  # fmt: skip
    nulls = pd.DataFrame(
        [("D14", "D14_r1", "D14_r2", 0, 0), ("PLX14", "PLX14_r1", "PLX14_r2",
                                              3 if bottlenecked else 0, 0)],
        columns=["group", "sample_a", "sample_b", "resistance_fdr05", "sensitisation_fdr05"],
    )  # fmt: skip
    return {
        "counts": counts, "sample_qc": sample_qc, "correlations": correlations,
        "separation": separation, "guide_lfc": guide_lfc, "essential": essential,
        "nonessential": nonessential, "nulls": nulls,
    }  # fmt: skip


# ----------------------------------------------------------------------- helpers
SVG_NS = "http://www.w3.org/2000/svg"


def svg_tree(svg: str) -> ET.Element:
    """The figure's tree, checked to be standalone SVG, with the namespace dropped."""
    assert svg.startswith(f'<svg xmlns="{SVG_NS}" ') and svg.endswith("</svg>")
    tree = ET.fromstring(svg)
    assert tree.tag == f"{{{SVG_NS}}}svg"
    for e in tree.iter():
        e.tag = e.tag.removeprefix(f"{{{SVG_NS}}}")
    return tree


def labels(tree: ET.Element) -> list[ET.Element]:
    return [e for e in tree.iter("text") if "gene-label" in (e.get("class") or "")]


def label_boxes(tree: ET.Element) -> list[tuple[float, float, float, float]]:
    boxes = []
    for e in labels(tree):
        x, y, size = float(e.get("x")), float(e.get("y")), float(e.get("font-size"))
        w = text_width(e.text, size) - 4  # the text itself, without the placement margin
        x0 = x if e.get("text-anchor") == "start" else x - w
        boxes.append((x0, y - 0.95 * size, x0 + w, y + 0.25 * size))  # ascender, descender
    return boxes


def accessible(tree: ET.Element) -> None:
    assert tree.get("role") == "img"
    title, desc = tree.find("title"), tree.find("desc")
    assert title is not None and title.text and desc is not None and desc.text
    assert tree.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"


EXTERNAL = re.compile(r"https?:|src=|url\(|<script|<link|@import|<img|<iframe", re.I)


def no_external(html: str) -> bool:
    """Nothing fetched and no URL; the SVG namespace is a name, not a link."""
    return not EXTERNAL.search(html.replace(f'xmlns="{SVG_NS}"', ""))


# ----------------------------------------------------------------------- figures
@pytest.mark.parametrize("direction", ["pos", "neg"])
def test_rank_plot_labels_the_top_genes(genes, direction):
    tree = svg_tree(rank_svg(genes, direction=direction, top=10))
    accessible(tree)
    assert tree.get("id") == f"rank-{direction}-plot"
    shown = [e.text for e in labels(tree)]
    assert shown == top_genes(genes, direction, 10)
    assert [e.get("data-gene") for e in tree.iter() if "hit" in (e.get("class") or "")] == shown
    word = "resistance" if direction == "pos" else "sensitisation"
    assert f"Gene rank for {word}" in "".join(tree.itertext())


def test_rank_plot_marks_known_genes(genes):
    tree = svg_tree(rank_svg(genes, direction="pos", top=10))
    known = {e.get("data-gene"): e for e in tree.iter() if "known" in (e.get("class") or "")}
    top4 = top_genes(genes, "pos", 4)[3]
    assert set(known) == {top4, "G200", top_genes(genes, "neg", 1)[0]}
    assert known[top4].tag == "polygon"  # a diamond, unlike the circles of the other hits
    assert all(e.tag == "circle" for e in tree.iter() if e.get("class") == "hit")
    assert KNOWN_POS in known[top4].find("title").text
    legend = "".join(next(e for e in tree.iter("g") if e.get("class") == "legend").itertext())
    assert "in knowledge base" in legend


def test_labels_do_not_overlap(genes):
    crowded = make_genes(2000, seed=5)
    for svg in (
        rank_svg(genes, top=10),
        rank_svg(crowded, direction="neg", top=25, x_scale="linear"),
        volcano_svg(genes, top=10),
        volcano_svg(crowded, top=20),
    ):
        boxes = label_boxes(svg_tree(svg))
        assert boxes
        for a, b in itertools.combinations(boxes, 2):
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)


def test_gene_names_are_escaped(genes, sgrnas):
    for svg in (
        rank_svg(genes),
        volcano_svg(genes),
        sgrna_lfc_svg(sgrnas, top_genes(genes, "pos", 3)),
    ):
        assert "<b>X" not in svg and "&lt;b&gt;X" in svg
        tree = svg_tree(svg)
        assert "<b>X" in "".join(tree.itertext())


def test_volcano_colours_hits_by_direction(genes):
    tree = svg_tree(volcano_svg(genes, fdr=0.05, top=5))
    accessible(tree)
    n_pos = int((genes["pos|fdr"] < 0.05).sum())
    n_neg = int((genes["neg|fdr"] < 0.05).sum())
    text = "".join(tree.itertext())
    assert f"resistance hit: pos FDR < 0.05 ({n_pos})" in text
    assert f"sensitisation hit: neg FDR < 0.05 ({n_neg})" in text
    paths = {e.get("class"): e for e in tree.iter("path") if e.get("class")}
    assert paths["hits-pos"].get("fill") == "#D55E00"
    assert paths["hits-neg"].get("fill") == "#0072B2"
    assert [e.text for e in labels(tree)] == top_genes(genes, "pos", 5) + top_genes(genes, "neg", 5)


def test_volcano_stays_small_for_a_genome_wide_table():
    realistic = volcano_svg(make_genes(20_000, seed=3))
    worst = volcano_svg(make_genes(20_000, seed=4, spread=True))  # every gene a spread-out hit
    for svg in (realistic, worst):
        svg_tree(svg)
        assert len(svg.encode()) < 400_000
    assert len(realistic.encode()) < 150_000


def test_p_zero_nan_and_infinite_values():
    g = make_genes(120, seed=7)
    g.loc["G0", ["pos|p-value", "pos|score", "pos|fdr", "pos|rank"]] = [0.0, 0.0, 0.0, 1]
    g.loc["G1", "pos|p-value"] = np.nan
    g.loc["G2", "pos|rank"] = np.nan
    g.loc["G3", "pos|lfc"] = np.inf
    g.loc["G4", "neg|p-value"] = 0.0
    g.loc["G5", ["pos|p-value", "neg|p-value"]] = np.nan
    g.loc["G6", "known"] = np.nan
    g = g.drop(columns="known").assign(known=g["known"])
    rank = svg_tree(rank_svg(g, top=5))
    desc = rank.find("desc").text
    assert "capped at 16" in desc and "drawn at the cap (p = 0 or below 1e\u221216): 1." in desc
    assert "Genes not drawn (no rank or p-value): 3." in desc  # G1, G2, G5
    assert any(e.get("class") == "cap-line" for e in rank.iter("line"))
    assert "G0" in [e.text for e in labels(rank)]
    volcano = svg_tree(volcano_svg(g, top=3))
    desc = volcano.find("desc").text
    assert "drawn at the cap (p = 0 or below 1e\u221216): 2." in desc
    assert "Genes with an infinite LFC, drawn at the axis edge: 1." in desc
    assert "Genes not drawn (no LFC or p-value): 1." in desc
    y, clipped = neg_log10(np.array([0.0, 1e-20, 0.01, np.nan, -1.0, 2.0, 1.0]))
    np.testing.assert_allclose(y, [16, 16, 2, np.nan, np.nan, np.nan, 0])
    assert clipped.tolist() == [True, True, False, False, False, False, False]
    assert fmt_p(0.0) == "<1e\u221216" and fmt_p(np.nan) == "n/a"


def test_score_instead_of_p_value(genes):
    tree = svg_tree(rank_svg(genes, value="score", top=3))
    assert "\u2212log10 RRA score" in "".join(tree.itertext())
    with pytest.raises(InputError, match="direction"):
        rank_svg(genes, direction="up")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"pos\|rank"):
        rank_svg(genes.drop(columns="pos|rank"))


def test_sgrna_strip_plot(genes, sgrnas):
    sg = sgrnas.copy()
    show = top_genes(genes, "pos", 3)
    first = sg.index[sg["gene"] == show[0]]
    sg.loc[first[0], "lfc"] = np.inf
    sg.loc[first[1], "lfc"] = np.nan
    tree = svg_tree(sgrna_lfc_svg(sg, [*show, "ABSENT"], title="Top resistance sgRNAs"))
    accessible(tree)
    rows = [e for e in tree.iter("g") if e.get("class") == "gene-row"]
    assert [e.get("data-gene") for e in rows] == [*show, "ABSENT"]
    assert len([e for e in rows[0].iter() if e.get("class") == "sgrna"]) == 3
    assert len([e for e in rows[1].iter() if e.get("class") == "sgrna"]) == 4
    assert "not in the sgRNA table" in "".join(rows[3].itertext())
    assert next(e for e in tree.iter("rect") if e.get("class") == "library-band") is not None
    assert any(e.get("class") == "zero-line" for e in tree.iter("line"))
    desc = tree.find("desc").text
    assert "infinite LFC, drawn at the axis edge: 1." in desc and "left out (no LFC): 1." in desc
    assert "5th to 95th percentile" in desc


def test_qc_figures():
    qc = make_qc(bottlenecked=True)
    reads = svg_tree(read_distribution_svg(qc["counts"]))
    accessible(reads)
    rows = [e.get("data-sample") for e in reads.iter("g") if e.get("class") == "sample-row"]
    assert rows == ["D14_r1", "D14_r2", "PLX14_r1"]
    assert "log10(reads + 1)" in "".join(reads.itertext())
    ess = svg_tree(essential_svg(qc["guide_lfc"], qc["essential"], qc["nonessential"]))
    accessible(ess)
    boxes = [e.get("class") for e in ess.iter("g") if "box" in (e.get("class") or "")]
    assert boxes.count("box essential") == 3 and boxes.count("box non-essential") == 3
    assert "log2 fold change vs T0" in "".join(ess.itertext())
    lone = svg_tree(essential_svg(qc["guide_lfc"], {"NOPE"}, qc["nonessential"]))
    assert "no essential sgRNAs" in "".join(lone.itertext())


# ----------------------------------------------------------------------- QC page
def test_qc_flags_fire_on_a_bottlenecked_sample_only():
    bad = make_qc(bottlenecked=True)
    assert bad["sample_qc"].loc["PLX14_r1", "gini"] > 0.5
    flags = screen_qc_flags(
        sample_qc=bad["sample_qc"], correlations=bad["correlations"],
        separation=bad["separation"], nulls=bad["nulls"],
    )  # fmt: skip
    fired = set(map(tuple, flags.loc[flags["flagged"], ["check", "subject"]].to_numpy()))
    assert fired == {
        ("gini", "PLX14_r1"),
        ("zero_fraction", "PLX14_r1"),
        ("pearson_log", "PLX14: PLX14_r1 vs PLX14_r2"),
        ("roc_auc", "PLX14_r1"),
        ("null_calls", "PLX14: PLX14_r1 vs PLX14_r2"),
    }
    good = make_qc(bottlenecked=False)
    flags = screen_qc_flags(
        sample_qc=good["sample_qc"], correlations=good["correlations"],
        separation=good["separation"], nulls=good["nulls"],
    )  # fmt: skip
    assert not flags["flagged"].any() and len(flags) == 13
    relaxed = screen_qc_flags(
        sample_qc=bad["sample_qc"], correlations=bad["correlations"], thresholds={"gini": 0.95}
    )
    assert ("gini", "PLX14_r1") not in set(
        map(tuple, relaxed.loc[relaxed["flagged"], ["check", "subject"]].to_numpy())
    )
    with pytest.raises(InputError, match="unknown thresholds"):
        screen_qc_flags(sample_qc=bad["sample_qc"], correlations=bad["correlations"],
                        thresholds={"gni": 0.4})  # fmt: skip


def test_qc_page_verdict_tables_and_figures():
    html = screen_qc_html(**make_qc(bottlenecked=True), source="screen <A>.csv")
    assert html.startswith("<!DOCTYPE html>")
    tree = parse(html)
    verdict = tree.find_id("verdict")
    text = verdict.text()
    assert "5 of 13 checks flagged" in text and "bottlenecked" in text
    for rule in ("> 0.5", "> 0.1", "< 0.7", "< 0.8", "> 0"):
        assert f"flag when {rule}" in text
    sample_table = tree.find_id("sample-qc")
    flagged_rows = [
        r.attrs["data-sample"] for r in sample_table.iter("tr")
        if any("flag" in c.classes for c in r.iter("td"))
    ]  # fmt: skip
    assert flagged_rows == ["PLX14_r1"]
    for ident in ("correlations", "separation", "null-checks"):
        assert any("flag" in c.classes for c in tree.find_id(ident).iter("td"))
    svgs = list(tree.iter("svg"))
    assert [s.attrs["id"] for s in svgs] == ["read-distribution-plot", "essential-plot"]
    assert "screen &lt;A&gt;.csv" in html
    _self_contained(html)


def test_qc_page_without_optional_parts_and_no_flags():
    qc = make_qc(bottlenecked=False)
    html = screen_qc_html(
        counts=qc["counts"], sample_qc=qc["sample_qc"], correlations=qc["correlations"]
    )
    tree = parse(html)
    assert "No QC flag" in tree.find_id("verdict").text()
    assert "Not computed" in tree.find_id("essential").text()
    assert "Not run" in tree.find_id("nulls").text()
    assert [s.attrs["id"] for s in tree.iter("svg")] == ["read-distribution-plot"]
    _self_contained(html)


def _self_contained(html: str) -> None:
    assert no_external(html)
    tree = parse(html)
    for svg in tree.iter("svg"):
        assert svg.attrs.get("role") == "img"
        assert next(svg.iter("title")).text() and next(svg.iter("desc")).text()
    for th in tree.iter("th"):
        assert th.attrs.get("scope") in ("col", "row")
    ids = [n.attrs["id"] for n in tree.iter() if "id" in n.attrs]
    assert len(ids) == len(set(ids))


# ----------------------------------------------------------------------- results page
def test_results_page(genes, sgrnas):
    html = screen_results_html(
        genes=genes, sgrnas=sgrnas, qc_summary={"QC verdict": "5 flags <see QC>"}, top=12
    )
    _self_contained(html)
    tree = parse(html)
    assert [s.attrs["id"] for s in tree.iter("svg")] == [
        "rank-pos-plot", "rank-neg-plot", "volcano-plot", "sgrna-pos-plot", "sgrna-neg-plot",
    ]  # fmt: skip
    how = tree.find_id("how").text()
    for term in ("RRA score", "Benjamini-Hochberg", "normZ"):
        assert term in how
    assert "5 flags <see QC>" in tree.find_id("qc").text() and "&lt;see QC&gt;" in html
    for direction, word in (("pos", "resistance"), ("neg", "sensitisation")):
        table = tree.find_id(f"hits-{direction}")
        assert f"{word} genes by rank" in next(table.iter("caption")).text()
        head = [th.text() for th in next(table.iter("thead")).iter("th")]
        assert head == ["Rank", "Gene", "sgRNAs", "LFC (log2)", "p-value", "FDR", "normZ",
                        "Knowledge base"]  # fmt: skip
        rows = list(next(table.iter("tbody")).iter("tr"))
        assert [r.attrs["data-gene"] for r in rows] == top_genes(genes, direction, 12)
    rows = {r.attrs["data-gene"]: r for r in tree.find_id("hits-pos").iter("tr") if r.attrs}
    known = rows[top_genes(genes, "pos", 4)[3]]
    assert "known" in known.classes
    cell = next(c for c in known.iter("td") if "known" in c.classes)
    assert KNOWN_POS in cell.text()
    assert "new" in rows[top_genes(genes, "pos", 2)[1]].classes
    assert "<b>X" in tree.find_id("hits-pos").text() and "<b>X" not in html
    neg_rows = {r.attrs["data-gene"]: r for r in tree.find_id("hits-neg").iter("tr") if r.attrs}
    assert "BRAF inhibitors: <sensitises>" in neg_rows[top_genes(genes, "neg", 1)[0]].text()


def test_results_page_without_optional_columns(genes, sgrnas):
    bare = genes.drop(columns=["normZ", "known"])
    tree = parse(screen_results_html(genes=bare, sgrnas=sgrnas, top=5))
    head = [th.text() for th in next(tree.find_id("hits-pos").iter("thead")).iter("th")]
    assert "normZ" not in head
    assert not [r for r in tree.find_id("hits-pos").iter("tr") if "known" in r.classes]
    with pytest.raises(InputError, match="num"):
        screen_results_html(genes=bare.drop(columns="num"), sgrnas=sgrnas)
    with pytest.raises(InputError, match="fdr"):
        screen_results_html(genes=bare, sgrnas=sgrnas, fdr=5)


def test_results_page_genome_wide_size():
    g = make_genes(20_000, seed=3)
    rng = np.random.default_rng(0)
    sg = pd.DataFrame(
        {"gene": np.repeat(g.index, 4), "lfc": np.repeat(g["pos|lfc"].to_numpy(), 4)
         + rng.normal(0, 0.4, 80_000)},
        index=pd.Index([f"sg{i}" for i in range(80_000)], name="sgRNA"),
    )  # fmt: skip
    html = screen_results_html(genes=g, sgrnas=sg)
    assert len(html.encode()) < 600_000
    assert no_external(html)


def test_thresholds_are_the_documented_ones():
    assert QC_THRESHOLDS == {
        "gini": 0.5, "zero_fraction": 0.1, "pearson_log": 0.7, "roc_auc": 0.8, "null_calls": 0,
    }  # fmt: skip


def test_empty_tables_still_render():
    g = make_genes(40).iloc[:0]
    for svg in (rank_svg(g), rank_svg(g, x_scale="linear"), volcano_svg(g)):
        svg_tree(svg)
    sg = pd.DataFrame({"gene": pd.Series([], dtype=str), "lfc": pd.Series([], dtype=float)})
    svg_tree(sgrna_lfc_svg(sg, ["A"]))
    _self_contained(screen_results_html(genes=g, sgrnas=sg))


def test_docstring_examples_run():
    import doctest

    from oncoresist.report import _screen_html, _screen_svg

    for module in (_screen_svg, _screen_html):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.attempted > 0 and result.failed == 0


def test_axes_end_on_round_labelled_ticks():
    from oncoresist.report._screen_svg import _round_scale, _tick

    xs, ticks = _round_scale(-0.3, 13.8, (0, 100))
    assert xs.domain == (ticks[0], ticks[-1]) == (-2.0, 14.0)
    assert ticks == [-2.0, 0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0]  # the layer's step
    assert [_tick(t) for t in ticks[:3]] == ["\u22122", "0", "2"]  # a true minus sign
    assert _round_scale(0.0, 17.28, (470, 30))[1] == [0.0, 5.0, 10.0, 15.0, 20.0]
    qc = make_qc(bottlenecked=True)
    tree = svg_tree(essential_svg(qc["guide_lfc"], qc["essential"], qc["nonessential"]))
    words = [e.text for e in tree.iter("text")]
    assert "\u22123" in words and not any(w.startswith("-") for w in words)  # not "−3.0"
