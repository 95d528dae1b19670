"""Issue 21's acceptance on series with known truth: purity and copy number varying between
samples, copy number changing between samples for most mutations, and PyClone-VI's own
real example read as a user would.

Tolerances: ARI is the mean over three seeds (each seed at least 0.80); the series are
2,000 (1,000 where copy number changes for most mutations) mutations x 4 samples, 8 true
clones (the 2 % resistant sub-clone holds 8 % of the mutations); benchmarks/bench_clones.py
runs 2,000 and 10,000 with timings.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oncoresist.clones._data import read_mutations
from oncoresist.clones._metrics import adjusted_rand_index
from oncoresist.clones._model import DECIDED, CloneModel, log_likelihood_table
from oncoresist.clones._simulate import simulate_clones, simulate_cn_changing

TRACERX = (Path(__file__).resolve().parents[3] / "shared" / "data" / "clonal"
           / "pyclone_vi_tracerx" / "tracerx.tsv")  # fmt: skip
PURITY = [0.9, 0.7, 0.6, 0.8]


def majority(labels, truth_labels, clone):
    return int(np.bincount(labels[truth_labels == clone]).argmax())


def fit_series(depth: float, change: float, n: int) -> list:
    out = []
    for seed in (1, 2, 3):
        data, truth = simulate_clones(n_mutations=n, n_samples=4, depth=depth,
                                      purity=PURITY, cn_fraction=0.3,
                                      cn_change_fraction=change, rng=seed)  # fmt: skip
        out.append((data, truth, CloneModel(rng=0).fit(data)))
    return out


@pytest.fixture(scope="module", params=[150.0, 500.0], ids=["150x", "500x"])
def varied(request):
    """Purity 0.6-0.9 by sample; 30 % of mutations in altered segments of one state, 15 %
    with copy number changing between samples."""
    return fit_series(request.param, 0.15, 2000)


def test_no_empty_clone_and_the_2pct_subclone_apart(varied):
    for _data, truth, model in varied:
        counts = np.bincount(model.labels_, minlength=model.n_clusters_)
        assert (counts >= 1).all() and model.ccf_.shape[0] == model.n_clusters_
        assert model.selection_["clusters"].max() <= model.n_clusters_ + 3
        two = majority(model.labels_, truth.labels, truth.names.index("resistant-2pct"))
        zero = majority(model.labels_, truth.labels, truth.names.index("resistant-0pct"))
        parent = majority(model.labels_, truth.labels, truth.resistant)
        assert len({two, zero, parent}) == 3
        assert model.ccf_[two][0] > 0.005  # seen at 2 % in the first sample


def oracle_ari(data, truth) -> float:
    """Each mutation to the true clone most likely at the true CCFs: what the data allow."""
    table = log_likelihood_table(data, np.linspace(0.0, 1.0, 101), likelihood="binomial")
    at = np.rint(truth.ccf * 100).astype(int)
    samples = np.arange(data.n_samples)
    ll = np.stack([table[:, samples, at[k]].sum(axis=1) for k in range(truth.n_clones)], 1)
    ll += np.log(np.bincount(truth.labels, minlength=truth.n_clones) / truth.labels.size)
    return adjusted_rand_index(truth.labels, ll.argmax(axis=1))


def test_ari_at_both_depths(varied):
    """Mean ARI >= 0.85 and within 0.03 of the oracle's in every seed. Measured at 150x:
    0.865, 0.887, 0.862 (oracle 0.865, 0.877, 0.858): the parallel pair, 5 CCF points
    apart, is what 150x cannot resolve mutation by mutation. With purity down to 0.45 and
    30 % of segments changing, even the oracle falls to 0.86 at 150x."""
    aris = [adjusted_rand_index(truth.labels, model.labels_) for _, truth, model in varied]
    assert np.mean(aris) >= 0.85 and min(aris) >= 0.80, aris
    for (data, truth, _), ari in zip(varied, aris, strict=True):
        assert ari >= oracle_ari(data, truth) - 0.03


def test_copy_number_changing_for_most_mutations():
    """80 % of mutations draw their copy-number state and genotype in each sample, at 500x;
    the multiplicity is reported, right in >= 90 % of cells and >= 97 % where decided."""
    fits = fit_series(500.0, 0.8, 1000)
    aris = [adjusted_rand_index(truth.labels, model.labels_) for _, truth, model in fits]
    assert np.mean(aris) >= 0.85 and min(aris) >= 0.80, aris
    data, truth, model = fits[0]
    cells = data.depth > 0
    right = model.multiplicity_ == truth.multiplicity
    assert right[cells].mean() >= 0.9
    decided = model.multiplicity_decided_
    assert 0 < decided.mean() < 1 and right[decided].mean() >= 0.97
    assert (model.multiplicity_prob_[~decided] < DECIDED).any(axis=1).all()


def test_series_of_pyclone_vi_kind():
    """100 x 4 at 100x, purity 1, 8 clusters with uniform CCFs and copy number drawn anew in
    every sample (PyClone-VI's synthetic example is of this kind): mean ARI over 8 seeds
    >= 0.85 (measured 0.87; the oracle -- each mutation to the cluster most likely at the
    true CCFs -- 0.91; one multiplicity per mutation across samples reached 0.60)."""
    aris = []
    for seed in range(8):
        data, truth = simulate_cn_changing(n_mutations=100, rng=seed)
        aris.append(adjusted_rand_index(truth.labels, CloneModel(rng=0).fit(data).labels_))
    assert np.mean(aris) >= 0.85, aris


@pytest.mark.skipif(not TRACERX.exists(), reason="needs ../shared/data/clonal")
def test_pyclone_vi_tracerx_example_through_the_command(tmp_path):
    """PyClone-VI's own example (TRACERx CRUK0001, 3 regions, purity 0.11-0.21, copy number
    changing between regions) through ``oncoresist clones fit`` as a user runs it. The file
    holds no clustering and the data README gives no truth, so the checks are: every
    mutation assigned, no empty clone, a truncal clone, the same clustering as the library
    fit, and the read model not at its loosest precision (it fell to 30 when one
    multiplicity was shared across regions). Measured: 8 clones, precision 300."""
    run = subprocess.run([sys.executable, "-m", "oncoresist", "clones", "fit", str(TRACERX),
                          "-o", str(tmp_path)], capture_output=True, text=True,
                         timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr
    muts = pd.read_csv(tmp_path / "mutations.tsv", sep="\t")
    assert len(muts) == 2458
    model = CloneModel(rng=0).fit(read_mutations(TRACERX))
    assert adjusted_rand_index(model.labels_, muts["clone"].to_numpy()) == 1.0
    assert (np.bincount(model.labels_) >= 1).all() and model.ccf_[0].min() > 0.85
    assert model.precision_ > 30
