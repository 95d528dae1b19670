"""``oncoresist sc``: formats that parse back, located errors (exit 2, nothing written)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from oncoresist.cli import app
from oncoresist.singlecell._genesets import resistance_programmes
from oncoresist.singlecell._io import read, write_h5ad
from oncoresist.singlecell._simulate import simulate_cells

runner = CliRunner()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small simulated experiment with EMT genes planted and genomic positions."""
    emt = resistance_programmes()["emt_axl"]["genes_up"]
    cells = simulate_cells(n_patients=3, cells_per_sample=60, n_genes=500, programme_genes=emt,
                           rng=0)  # fmt: skip
    rng = np.random.default_rng(0)
    cells.var["chromosome"] = rng.choice(["chr1", "chr2", "chr3"], cells.n_vars)
    cells.var["start"] = rng.integers(1, 10**8, cells.n_vars)
    cells.var["end"] = cells.var["start"] + 1000
    path = tmp_path_factory.mktemp("sc") / "cells.h5ad"
    write_h5ad(cells, path)
    return path


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, ["sc", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _fails(args: list[str], *expected: str) -> str:
    result = runner.invoke(app, ["sc", *args])
    assert result.exit_code == 2, result.output
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(
        result.exception, SystemExit
    )
    for words in expected:
        assert words in result.stderr, result.stderr
    return result.stderr


CNV = ["--reference-key", "state", "--reference", "state0", "--window", "30", "--step", "5"]


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json"])
def test_cnv_table_parses_back_in_every_format(data: Path, fmt: str):
    text = _ok(["cnv", str(data), *CNV, "--format", fmt])
    if fmt == "json":
        table = pd.DataFrame(json.loads(text))
    else:
        table = pd.read_csv(io.StringIO(text), sep="," if fmt == "csv" else "\t")
    assert list(table.columns) == ["cell", "cnv_score", "cnv_clone", "cnv_malignant"]
    assert len(table) == 360 and table["cnv_score"].ge(0).all()


def test_cnv_writes_the_annotated_h5ad_and_the_table(data: Path, tmp_path: Path):
    out, output = tmp_path / "cnv.h5ad", tmp_path / "cnv.csv"
    _ok(["cnv", str(data), *CNV, "--out", str(out), "--output", str(output)])
    cells = read(out)
    assert cells.obsm["X_cnv"].shape[0] == 360
    assert "cnv_score" in cells.obs and "cnv" in cells.uns
    assert len(pd.read_csv(output)) == 360


def test_de_prints_one_row_per_gene_with_the_required_columns(data: Path):
    text = _ok(["de", str(data), "--groupby", "condition", "--treated", "drug", "--control",
                "ctrl", "--pair", "patient", "--format", "csv"])  # fmt: skip
    table = pd.read_csv(io.StringIO(text))
    assert {"gene", "log2fc", "pvalue", "padj"} <= set(table.columns)
    assert len(table) == table["gene"].nunique() > 100


def test_score_and_da_tables(data: Path):
    scores = pd.read_csv(io.StringIO(_ok(["score", str(data), "--programmes", "resistance"])))
    assert scores.columns[0] == "cell" and "emt_axl" in scores.columns and len(scores) == 360
    args = ["da", str(data), "--condition", "condition", "--sample", "sample", "--design",
            "~patient+condition", "--k", "20", "--format", "json"]  # fmt: skip
    da = json.loads(_ok(args))
    assert {"logFC", "pvalue", "spatial_fdr"} <= set(da[0])


def test_missing_obs_column_is_located_and_nothing_is_written(data: Path, tmp_path: Path):
    out, output = tmp_path / "x.h5ad", tmp_path / "x.csv"
    _fails(["cnv", str(data), "--reference-key", "cell_type", "--reference", "T",
            "--out", str(out), "--output", str(output)], str(data), "obs/cell_type")  # fmt: skip
    assert not out.exists() and not output.exists()
    assert list(tmp_path.iterdir()) == []


def test_bad_reference_value_format_and_file_are_errors(data: Path, tmp_path: Path):
    _fails(["cnv", str(data), "--reference-key", "state", "--reference", "nope"],
           "obs/state", "'nope' not found")  # fmt: skip
    _fails(["cnv", str(data), "--reference", "state0"], "--reference-key")
    _fails(["cnv", str(data), "--format", "xml"], "--format", "csv, tsv or json")
    _fails(["cnv", str(tmp_path / "absent.h5ad")], "absent.h5ad")
    _fails(["de", str(data), "--groupby", "condition", "--treated", "drugX", "--control",
            "ctrl", "--pair", "patient"], "drugX")  # fmt: skip


def test_genes_without_positions_name_the_missing_var_column(tmp_path: Path):
    cells = simulate_cells(n_patients=2, cells_per_sample=20, n_genes=100, rng=1)
    path = tmp_path / "nopos.h5ad"
    write_h5ad(cells, path)
    _fails(["cnv", str(path), "--reference-key", "state", "--reference", "state0"],
           str(path), "var/chromosome")  # fmt: skip


def test_missing_h5py_names_the_extra_to_install(data: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "h5py", None)  # import h5py now raises ImportError
    _fails(["cnv", str(data), *CNV], "pip install 'oncoresist[singlecell]'")


ZHAO = Path(__file__).parents[3] / "shared/data/singlecell/zhao2021_gbm_panobinostat_5000x300.h5ad"


@pytest.mark.skipif(not ZHAO.exists(), reason="shared single-cell data absent")
def test_da_on_the_balanced_panobinostat_design_finds_nothing_by_default():
    """A negative control (500 cells per sample, sub-sampled): each sample is centred before
    the neighbour graph by default, so panobinostat's shift of every cell's expression is not
    read as abundance; without centring many neighbourhoods are called."""
    args = ["da", str(ZHAO), "--condition", "condition", "--sample", "sample_id",
            "--design", "~patient_id+condition", "--treated", "panobinostat", "--control",
            "ctrl"]  # fmt: skip
    centred = pd.read_csv(io.StringIO(_ok(args)))
    assert len(centred) > 100 and (centred["spatial_fdr"] >= 0.1).all()
    raw = pd.read_csv(io.StringIO(_ok([*args, "--batch-key", "none"])))
    assert (raw["spatial_fdr"] < 0.1).sum() > 10
