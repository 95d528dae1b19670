"""Virtual cohorts: parameter sampling, strategy comparison locally and on a real Dask
LocalCluster (same answers), survival summaries and Kaplan-Meier plots."""

from functools import partial

import numpy as np
import pandas as pd
import pytest

from oncoresist.errors import InputError
from oncoresist.evolve.cohort import compare_strategies, sample_parameters, survival_summary
from oncoresist.evolve.competition import StroblModel, strobl_for
from oncoresist.evolve.plots import plot_km
from oncoresist.evolve.strategies import Adaptive, Continuous, Progression

STRATEGIES = {
    "continuous": partial(Continuous, ["drug"]),
    "adaptive": partial(Adaptive, ["drug"]),
}


def cohort(n=40, seed=3):
    params = sample_parameters(
        {"r_s": ("lognormal", 0.027, 0.2), "turnover": ("uniform", 0.0, 0.05), "kill": 1.5},
        n,
        rng=seed,
    )
    params["r_r"] = params["r_s"]
    x0 = np.array([StroblModel().initial_state(0.6, 0.001)] * n)
    return params, x0


def run(params, x0, **kw):
    return compare_strategies(STRATEGIES, x0, partial(strobl_for, params), t_end=4000,
                              visit_days=7, noise_cv=0.05, chunk=15, rng=11,
                              progression=Progression(1.2, "baseline"), **kw)  # fmt: skip


def test_sample_parameters():
    p = sample_parameters({"a": ("lognormal", 2.0, 0.5), "b": ("uniform", 1, 3), "c": 4}, 20_000,
                          rng=1)  # fmt: skip
    assert np.median(p["a"]) == pytest.approx(2.0, rel=0.03)
    assert p["a"].std() / p["a"].mean() == pytest.approx(0.5, rel=0.05)
    assert p["b"].between(1, 3).all() and (p["c"] == 4).all()
    with pytest.raises(InputError, match="unknown distribution"):
        sample_parameters({"a": ("beta", 1, 2)}, 3)


def test_comparison_local_and_on_a_dask_cluster_agree(tmp_path):
    distributed = pytest.importorskip("distributed")  # in the test extra
    params, x0 = cohort()
    local = run(params, x0, workers=1)
    assert len(local) == 80 and set(local["strategy"]) == {"continuous", "adaptive"}
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        on_dask = run(params, x0, client=client)
    pd.testing.assert_frame_equal(local, on_dask)
    # adaptive therapy beats continuous for most patients, as in Strobl et al. 2021 (with
    # 5 % measurement noise a few patients are called early on either arm)
    wide = local.pivot(index="patient", columns="strategy", values="ttp_days")
    assert (wide["adaptive"] > wide["continuous"]).mean() >= 0.85
    summary = survival_summary(local, reference="continuous")
    assert summary.loc["continuous", "hazard_ratio"] == 1.0
    assert summary.loc["adaptive", "hazard_ratio"] < 1.0
    med = summary["median_ttp_days"]
    assert med["adaptive"] > med["continuous"]
    off = summary["mean_days_off"]
    assert off["adaptive"] > 0 and off["continuous"] == 0
    png = plot_km(local, tmp_path / "km.png", title="Strobl model")
    assert png.read_bytes()[:4] == b"\x89PNG"
    svg = plot_km(local, tmp_path / "km.svg")
    assert "<svg" in svg.read_text()[:500]
    with pytest.raises(InputError):
        plot_km(local, tmp_path / "km.pdf")


def test_local_processes_match_in_process():
    params, x0 = cohort(n=20)
    one = run(params, x0, workers=1)
    two = run(params, x0, workers=2)
    pd.testing.assert_frame_equal(one, two)
