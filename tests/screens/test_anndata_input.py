"""Screen counts as AnnData (samples x guides, the sample sheet in ``obs``).

The conversion is tested on a light stand-in object with AnnData's attributes, so that it runs
without the optional ``anndata`` package; the ``.h5ad`` round trip runs where it is installed.
"""

import builtins
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from oncoresist.errors import InputError, MissingExtraError
from oncoresist.screens import analyze
from oncoresist.screens._anndata import read_anndata
from oncoresist.screens._simulate import simulate_screen


def fake_anndata(x, obs, var, layers=None):
    """An object with the AnnData attributes the reader uses."""
    return SimpleNamespace(X=x, obs=obs, var=var, obs_names=obs.index, var_names=var.index,
                           layers=layers or {})  # fmt: skip


def from_screen(counts, sheet):
    """A simulated screen as AnnData: samples in obs (with the sheet), guides in var."""
    samples = sheet["sample"].tolist()
    obs = sheet.set_index("sample")[["condition", "replicate", "day", "doublings"]]
    obs.index = pd.Index(samples)
    var = pd.DataFrame({"gene": counts["gene"].to_numpy()}, index=counts.index.astype(str))
    return fake_anndata(counts[samples].to_numpy().T.astype(float), obs, var)


def test_anndata_screen_analyses_like_the_count_table():
    """Counts and sheet read from the object give the same gene table as the originals."""
    counts, sheet, _ = simulate_screen(genes=400, hits=10, rng=3)
    table, obs_sheet = read_anndata(from_screen(counts, sheet))
    assert table.index.name == "sgRNA" and table.columns[0] == "gene"
    assert (table[sheet["sample"]].to_numpy() == counts[sheet["sample"]].to_numpy()).all()
    assert obs_sheet["condition"].tolist() == sheet["condition"].tolist()
    assert obs_sheet["doublings"].tolist() == pytest.approx(sheet["doublings"].tolist(),
                                                            nan_ok=True)  # fmt: skip
    a = analyze(table, obs_sheet).genes
    b = analyze(counts, sheet).genes
    assert a["normZ"].to_numpy() == pytest.approx(b["normZ"].to_numpy())


def test_transposed_object_and_counts_layer():
    """Guides in obs with the sheet in var, and raw reads in layers['counts'] (X holding
    normalised values) are read too."""
    obs = pd.DataFrame({"Gene": ["A", "A", "B"]}, index=["g1", "g2", "g3"])
    var = pd.DataFrame({"condition": pd.Categorical(["drug", "DMSO"])}, index=["s1", "s2"])
    raw = np.array([[1, 2], [3, 4], [5, 6]])
    obj = fake_anndata(np.log1p(raw), obs, var, layers={"counts": raw})
    table, sheet = read_anndata(obj)
    assert table["s2"].tolist() == [2, 4, 6] and table["gene"].tolist() == ["A", "A", "B"]
    assert sheet["condition"].tolist() == ["drug", "vehicle"]
    guides = pd.DataFrame({"gene": ["A", "A", "B"]}, index=["g1", "g2", "g3"])
    no_sheet = fake_anndata(raw.T, pd.DataFrame(index=["s1", "s2"]), guides)
    assert read_anndata(no_sheet)[1] is None


@pytest.mark.parametrize(
    ("change", "record", "field", "words"),
    [
        (lambda x, o, v: (x * 0.5, o, v), "var 'g1'", "s1", "whole number"),
        (
            lambda x, o, v: (x, o, v.rename(columns={"gene": "symbol"})),
            None,
            "var.gene",
            "no gene column",
        ),
        (
            lambda x, o, v: (x, o.assign(condition=["drug", "chemo"]), v),
            "obs 's2'",
            "condition",
            "expected T0",
        ),
        (
            lambda x, o, v: (x, o, v.set_axis(["g1", "g1", "g3"])),
            "var 'g1'",
            "var_names",
            "appears twice",
        ),
        (lambda x, o, v: (x, o, v.assign(gene=["A", " ", "B"])), "var 'g2'", "gene", "empty gene"),
    ],
)
def test_malformed_objects_are_located(change, record, field, words):
    x = np.array([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]])
    obs = pd.DataFrame({"condition": ["drug", "vehicle"]}, index=["s1", "s2"])
    var = pd.DataFrame({"gene": ["A", "A", "B"]}, index=["g1", "g2", "g3"])
    with pytest.raises(InputError) as err:
        read_anndata(fake_anndata(*change(x, obs, var)))
    assert err.value.record == record and err.value.field == field
    assert words in str(err.value)


def test_missing_anndata_names_the_extra(monkeypatch, tmp_path):
    real = builtins.__import__

    def no_anndata(name, *args, **kwargs):
        if name == "anndata":
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_anndata)
    with pytest.raises(MissingExtraError, match=r"oncoresist\[sc\]"):
        read_anndata(tmp_path / "screen.h5ad")


def test_h5ad_round_trip(tmp_path):
    anndata = pytest.importorskip("anndata")
    counts, sheet, _ = simulate_screen(genes=200, hits=5, rng=1)
    fake = from_screen(counts, sheet)
    obs = fake.obs.astype({"condition": object, "replicate": object})
    adata = anndata.AnnData(X=fake.X, obs=obs, var=fake.var)
    if hasattr(anndata.settings, "allow_write_nullable_strings"):
        anndata.settings.allow_write_nullable_strings = True
    path = tmp_path / "screen.h5ad"
    adata.write_h5ad(path)
    table, read_sheet = read_anndata(path)
    assert (table[sheet["sample"]].to_numpy() == counts[sheet["sample"]].to_numpy()).all()
    assert read_sheet.attrs["file"] == str(path)
    with pytest.raises(InputError, match="not found"):
        read_anndata(tmp_path / "none.h5ad")
    bad = tmp_path / "bad.h5ad"
    bad.write_text("not hdf5")
    with pytest.raises(InputError, match=r"not a readable \.h5ad"):
        read_anndata(bad)
