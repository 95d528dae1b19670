"""``oncoresist clones fit|tree|plot`` from the shell."""

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oncoresist.clones import MutationData, read_mutations, simulate_clones, write_mutations

SVG = "{http://www.w3.org/2000/svg}"
AML = (Path(__file__).resolve().parents[3] / "shared" / "data" / "clonal" / "clonevol_aml1"
       / "aml1_variants.tsv")  # fmt: skip


def cli(*args):
    return subprocess.run([sys.executable, "-m", "oncoresist", "clones", *args],
                          capture_output=True, text=True, timeout=300)  # fmt: skip


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    """600 mutations x 4 samples; one mutation of the resistant clone is EGFR C797S."""
    data, truth = simulate_clones(n_mutations=600, n_samples=4, depth=150, rng=2)
    genes, alts = [""] * data.n_mutations, [""] * data.n_mutations
    i = int(np.flatnonzero(truth.labels == truth.resistant)[0])
    genes[i], alts[i] = "EGFR", "C797S"
    marked = MutationData(mutations=data.mutations, samples=data.samples, alt=data.alt,
                          depth=data.depth, major_cn=data.major_cn, minor_cn=data.minor_cn,
                          normal_cn=data.normal_cn, purity=data.purity, genes=genes,
                          alterations=alts, times=data.times)  # fmt: skip
    path = tmp_path_factory.mktemp("clones") / "series.tsv"
    write_mutations(marked, path)
    return path, truth


@pytest.fixture(scope="module")
def fitted(series, tmp_path_factory):
    """The folder ``clones fit`` wrote for the series."""
    out = tmp_path_factory.mktemp("fitted")
    res = cli("fit", str(series[0]), "-o", str(out))
    assert res.returncode == 0, res.stderr
    return out


def test_fit_writes_tables_tree_figures_and_marks_the_resistant_clone(series, tmp_path):
    path, _ = series
    res = cli("fit", str(path), "--drug", "osimertinib", "-o", str(tmp_path))
    assert res.returncode == 0, res.stderr
    clones = pd.read_csv(tmp_path / "clones.tsv", sep="\t", keep_default_na=False)
    marked = clones[clones["known_resistance"] == "EGFR C797S"]
    assert len(marked) == 1
    row = marked.iloc[0]
    # the marked clone is the rising resistant one: 5 % at t1, 85 % at t4
    assert abs(row["ccf|t1"] - 0.05) < 0.03 and row["ccf|t4"] > 0.75
    muts = pd.read_csv(tmp_path / "mutations.tsv", sep="\t")
    assert len(muts) == 600 and muts["probability"].between(0, 1 + 1e-9).all()
    # each sample's multiplicity (its own copy-number state), its probability, and the flag
    for sample in ("t1", "t4"):
        assert muts[f"multiplicity|{sample}"].ge(1).all()
        assert muts[f"multiplicity_probability|{sample}"].between(0, 1 + 1e-9).all()
    assert muts["multiplicity_decided"].dtype == bool
    trees = pd.read_csv(tmp_path / "trees.tsv", sep="\t")
    assert trees.loc[0, "violation"] == pytest.approx(0.0, abs=1e-9)
    for name in ("fish.svg", "tree.svg", "ccf.svg", "report.html", "selection.tsv"):
        assert (tmp_path / name).stat().st_size > 0
    html = (tmp_path / "report.html").read_text()
    bare = html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # a name, not a link
    assert "carries a known resistance alteration" in html and "http" not in bare
    assert json.loads((tmp_path / "run.json").read_text())["clones"] == str(len(clones))
    assert "EGFR C797S" in res.stdout
    assert "\u2026" not in res.stdout  # 80 columns: headers and cells wrap, never cut


def test_tree_and_plot_read_the_clone_table(series, fitted, tmp_path):
    path, _ = series
    res = cli("tree", str(fitted / "clones.tsv"), "--top", "3", "-o", str(tmp_path / "t.svg"))
    assert res.returncode == 0, res.stderr
    assert "consistent trees" in res.stdout and (tmp_path / "t.svg").exists()
    res = cli("plot", str(fitted / "clones.tsv"), "-o", str(tmp_path / "f.svg"))
    assert res.returncode == 0 and (tmp_path / "f.svg").read_text().startswith("<svg")
    samples = list(read_mutations(path).samples)
    for figure in (tmp_path / "f.svg", fitted / "fish.svg", fitted / "ccf.svg"):
        text = figure.read_text()  # the samples' names, not "sample 1"
        assert all(f"{s}" in text for s in samples), figure
    res = cli("plot", str(fitted / "clones.tsv"), "-o", str(tmp_path / "g.svg"),
              "--parents", "root 1")  # fmt: skip
    assert res.returncode == 2 and "parents for" in res.stderr


def _svg(path) -> ET.Element:
    return ET.fromstring(path.read_text(encoding="utf-8"))


def test_fit_reports_the_tied_trees_their_consensus_and_each_edge_s_support(fitted):
    clones = pd.read_csv(fitted / "clones.tsv", sep="\t")
    k = len(clones)
    edges = pd.read_csv(fitted / "edges.tsv", sep="\t")
    assert list(edges.columns) == ["parent", "child", "support", "in_best", "in_consensus"]
    assert edges["support"].between(0, 1).all()
    # each clone's parents' supports add up to 1; the consensus holds one edge per clone
    assert np.allclose(edges.groupby("child")["support"].sum(), 1.0, atol=1e-3)
    assert edges["in_consensus"].sum() == edges["in_best"].sum() == k - 1
    run = json.loads((fitted / "run.json").read_text())
    assert run["tied trees"] >= 1 and "nats" in run["tie rule"]
    assert len(run["tree"].split()) == k and run["times"] == [0.0, 100.0, 200.0, 300.0]
    assert len(run["edges"]) == len(edges)
    trees = pd.read_csv(fitted / "trees.tsv", sep="\t")
    assert trees.loc[0, "tied"] and trees["tied"].sum() == min(run["tied trees"], len(trees))
    # the tree figure draws the consensus, each edge with its support
    drawn = [e for e in _svg(fitted / "tree.svg").iter(f"{SVG}line")
             if "edge" in (e.get("class") or "").split()]  # fmt: skip
    assert len(drawn) == k - 1
    for e in drawn:
        dashed = "uncertain" in e.get("class").split()
        assert dashed == (float(e.get("data-support")) < 1 - 1e-6)
        assert (e.get("stroke-dasharray") is not None) == dashed
    html = (fitted / "report.html").read_text()
    assert 'id="edges"' in html and "trees tie with the best" in html


def test_tree_command_writes_edges_and_json(fitted, tmp_path):
    res = cli("tree", str(fitted / "clones.tsv"), "--edges", str(tmp_path / "e.tsv"),
              "--json", str(tmp_path / "t.json"))  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "tie with the best" in res.stdout and "consensus" in res.stdout
    edges = pd.read_csv(tmp_path / "e.tsv", sep="\t")
    record = json.loads((tmp_path / "t.json").read_text())
    assert record["edges"] == json.loads(edges.to_json(orient="records"))
    assert record["tied trees"] >= 1 and record["trees"][0]["tied"]
    assert record["consensus"].split()[0] == "root"
    # the same search as the fit's (clones.tsv carries the SD it used): the same consensus
    # and the same support of every edge
    run = json.loads((fitted / "run.json").read_text())
    assert record["consensus"] == run["tree"] and record["edges"] == run["edges"]


def test_plot_draws_what_the_fit_figure_draws(fitted, tmp_path):
    """Same tree, time axis and first-detection marks as the fit's fish.svg."""
    res = cli("plot", str(fitted / "clones.tsv"), "-o", str(tmp_path / "f.svg"))
    assert res.returncode == 0, res.stderr
    ours, fits = _svg(tmp_path / "f.svg"), _svg(fitted / "fish.svg")

    def looks(root: ET.Element):
        marks = sorted(e.get("data-clone") for e in root.iter()
                       if "first-detected" in (e.get("class") or ""))  # fmt: skip
        groups = [g for g in root.iter(f"{SVG}g") if "clone" in (g.get("class") or "").split()]
        bands = {g.get("data-clone"): g.find(f"{SVG}polygon").get("points") for g in groups}
        words = [t.text for t in root.iter(f"{SVG}text")]
        return marks, bands, words

    assert looks(ours) == looks(fits)
    assert looks(ours)[0], "the series' later clones are marked where first detected"
    assert "Sample \u00b7 Days" in looks(ours)[2]
    # --parents by name, as the tables print them, draws another tree
    k = len(pd.read_csv(fitted / "clones.tsv", sep="\t"))
    star = "root" + " C1" * (k - 1)
    res = cli("plot", str(fitted / "clones.tsv"), "-o", str(tmp_path / "s.svg"), "--parents", star)
    assert res.returncode == 0, res.stderr


def test_export_writes_timescape_and_fishplot_tables(fitted, tmp_path):
    from oncoresist.clones._export import check_fishplot, check_timescape

    res = cli("export", str(fitted), "--format", "timescape", "-o", str(tmp_path / "ts"))
    assert res.returncode == 0, res.stderr
    prev = pd.read_csv(tmp_path / "ts" / "clonal_prev.csv")
    edges = pd.read_csv(tmp_path / "ts" / "tree_edges.csv")
    assert list(prev.columns) == ["timepoint", "clone_id", "clonal_prev"]
    assert list(edges.columns) == ["source", "target"]
    check_timescape(prev, edges)
    assert "no mutations.csv" in " ".join(res.stdout.split())  # IDs such as "m0001"
    res = cli("export", str(fitted), "--format", "fishplot", "-o", str(tmp_path / "fp"))
    assert res.returncode == 0, res.stderr
    frac = pd.read_csv(tmp_path / "fp" / "frac_table.csv", index_col=0)
    parents = pd.read_csv(tmp_path / "fp" / "parents.csv")
    check_fishplot(frac, parents["parent"].tolist())
    times = pd.read_csv(tmp_path / "fp" / "timepoints.csv")
    assert times["timepoint"].tolist() == [0, 100, 200, 300]
    # the drawn (consensus) tree of the fit, in both
    run = json.loads((fitted / "run.json").read_text())
    assert parents["parent"].tolist() == [0 if w == "root" else int(w)
                                          for w in run["tree"].split()]  # fmt: skip
    res = cli("export", str(fitted), "--format", "pyclone", "-o", str(tmp_path / "x"))
    assert res.returncode == 2 and "expected timescape or fishplot" in res.stderr
    assert not (tmp_path / "x").exists()


def test_bad_input_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("mutation_id\tsample_id\tref_counts\talt_counts\tmajor_cn\tminor_cn\t"
                   "normal_cn\ttumour_content\nm1\ts1\t10\t5\t1\t1\t2\t1.4\n")  # fmt: skip
    res = cli("fit", str(bad), "-o", str(tmp_path / "o"))
    assert res.returncode == 2 and "line 2" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.skipif(not AML.exists(), reason="needs ../shared/data/clonal")
def test_aml_tree_is_the_published_chain(tmp_path):
    """Published (ClonEvol/timescape): 1 -> 2, 1 -> 3 -> 4 -> 5; cluster 2 has no read
    counts here, so the recoverable tree is the chain founder -> 3 -> 4 -> relapse."""
    res = cli("fit", str(AML), "--format", "clonevol", "-o", str(tmp_path))
    assert res.returncode == 0, res.stderr
    trees = pd.read_csv(tmp_path / "trees.tsv", sep="\t")
    assert trees.loc[0, "parents"] == "root 1 2 3"
    assert trees.loc[0, "violation"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("root 1 5", "clone 3 (C): parent '5'; expected 'root' or a clone number 1..3"),
        ("root 2 1", "clone 2 (B) is its own parent"),
        ("root root 1", "2 clones are 'root'; expected exactly one"),
        ("root 3 2", "the parents loop through clone 2 (B)"),
        ("root x 1", "clone 2 (B): parent 'x'"),
    ],
)
def test_parents_are_counted_from_one_in_every_error(text, words):
    from oncoresist.clones import parse_parents
    from oncoresist.errors import InputError

    def parse(words: str) -> list[int | None]:  # as --parents reads its words
        return parse_parents(words.split(), 3, names=["A", "B", "C"], base=1, field="--parents")

    with pytest.raises(InputError, match=re.escape(words)) as err:
        parse(text)
    assert err.value.field == "--parents"
    assert parse("root 1 1") == parse("root A A") == [None, 0, 0]


def test_parents_error_from_the_shell_counts_from_one(fitted, tmp_path):
    res = cli("plot", str(fitted / "clones.tsv"), "-o", str(tmp_path / "f.svg"),
              "--parents", "root 1 99" + " 1" * 10)  # fmt: skip
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "parents for" in res.stderr or "clone 3 (C3): parent '99'" in res.stderr
    assert not (tmp_path / "f.svg").exists()


def _wide_clone_table(n_samples: int, k: int = 8) -> pd.DataFrame:
    """A clone table of ``k`` clones over ``n_samples`` samples with long names."""
    rng = np.random.default_rng(5)
    rows = []
    for c in range(k):
        row = {"clone": c + 1, "mutations": 100 + c, "weight": 0.1}
        for s in range(n_samples):
            name = f"progression-biopsy-region-{s + 1}-liver"
            v = float(rng.uniform(0, 1))
            row |= {f"ccf|{name}": v, f"lo|{name}": v * 0.9, f"hi|{name}": min(v * 1.1, 1)}
        rows.append(row | {"first_detected": name, "known_resistance": "EGFR C797S; MET amp"})
    return pd.DataFrame(rows)


def test_report_clone_table_is_one_narrow_column_per_sample():
    from oncoresist.report._clone_html import clone_summary

    four = clone_summary(_wide_clone_table(4))
    assert len(four["head"]) == 2 + 4 + 2
    assert four["rows"][0][2]["sub"].count("\u2013") == 1  # the interval under the value
    many = clone_summary(_wide_clone_table(10))
    assert many["head"][2] == "CCF: first, last, peak" and len(many["head"]) == 5
    assert "\u2192" in many["rows"][0][2]["text"] and "peak" in many["rows"][0][2]["sub"]


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs chromium")
def test_report_clone_table_fits_a_1000_px_window(fitted, tmp_path):
    """The clone table (4 and 10 samples with long names) fits 1,000 px: no sideways
    scrolling; the full table is in a details view that scrolls inside its own box."""
    pytest.importorskip("selenium")
    sys.path.append(str(Path(__file__).resolve().parents[1] / "report"))
    from figure_parity_helpers import browser

    from oncoresist.report._clone_html import clone_report_html

    wide = tmp_path / "wide.html"
    frame = _wide_clone_table(10)
    empty = pd.DataFrame({"k": [1]})
    wide.write_text(clone_report_html(summary={"input": "x"}, clones=frame, selection=empty,
                                      read_model=empty, trees=empty, figures={}),
                    encoding="utf-8")  # fmt: skip
    measure = """const t = document.getElementById('clones');
    const page = document.documentElement;
    return [t.scrollWidth, t.parentElement.clientWidth, page.scrollWidth, page.clientWidth,
            document.getElementById('clones-full') !== null];"""
    with browser(tmp_path / "profile", width=1000, height=900) as driver:
        for page in (fitted / "report.html", wide):
            driver.get(page.as_uri())
            table, box, scroll, window = driver.execute_script(measure)[:4]
            assert table <= box and scroll <= window, (page.name, table, box, scroll, window)
            assert driver.execute_script(measure)[4], "the full table in a details view"
