"""``oncoresist clones fit|tree|plot`` from the shell."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oncoresist.clones import MutationData, read_mutations, simulate_clones, write_mutations

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


def test_tree_and_plot_read_the_clone_table(series, tmp_path):
    path, _ = series
    assert cli("fit", str(path), "-o", str(tmp_path)).returncode == 0
    res = cli("tree", str(tmp_path / "clones.tsv"), "--top", "3", "-o", str(tmp_path / "t.svg"))
    assert res.returncode == 0, res.stderr
    assert "consistent trees" in res.stdout and (tmp_path / "t.svg").exists()
    res = cli("plot", str(tmp_path / "clones.tsv"), "-o", str(tmp_path / "f.svg"))
    assert res.returncode == 0 and (tmp_path / "f.svg").read_text().startswith("<svg")
    samples = list(read_mutations(path).samples)
    for figure in ("f.svg", "fish.svg", "ccf.svg"):  # the samples' names, not "sample 1"
        text = (tmp_path / figure).read_text()
        assert all(f"{s}" in text for s in samples), figure
    res = cli("plot", str(tmp_path / "clones.tsv"), "-o", str(tmp_path / "g.svg"),
              "--parents", "root 1")  # fmt: skip
    assert res.returncode == 2 and "parents for" in res.stderr


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
    from oncoresist.cli.clones import _parse_parents
    from oncoresist.errors import InputError

    with pytest.raises(InputError, match=re.escape(words)):
        _parse_parents(text, ["A", "B", "C"])
    assert _parse_parents("root 1 1", ["A", "B", "C"]) == [None, 0, 0]
