"""Cohort fitting on Dask: a real LocalCluster (worker processes, so everything shipped is
serialised) gives the same population fit and posteriors as one process, chunks of patients
come back in order, and a scheduler address works as well as a client.

The Levenberg-Marquardt treats each patient on its own, so the chunked fits are expected to
agree to rounding: tolerance 1e-10 (absolute) on every fitted number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oncoresist.errors import InputError
from oncoresist.forecast import PopulationModel, as_batch
from oncoresist.forecast._dask import (
    chunk_bounds,
    client_from,
    default_chunk_size,
    map_fit,
    using_client,
)
from oncoresist.forecast.growth import MODELS
from oncoresist.forecast.population import _fit_map, _safe_inv

distributed = pytest.importorskip("distributed")  # in the test extra

DAYS = np.array([0.0, 42, 84, 126, 168, 210, 252, 294])
MU = np.array([np.log(1.0), np.log(0.3), np.log(0.01)])
OMEGA = np.diag([0.2, 0.3, 0.1]) ** 2 * 4
TOL = 1e-10


def simulate(n: int, *, seed: int) -> pd.DataFrame:
    """Gompertz cohort, 8 readings each, cube-root error 0.05, LLOQ 0.15 (about 2 % censored)."""
    rng = np.random.default_rng(seed)
    theta = rng.multivariate_normal(MU, OMEGA, size=n)
    f = MODELS["gompertz"](np.tile(DAYS, (n, 1)), theta)
    y = np.maximum(f ** (1 / 3) + 0.05 * rng.standard_normal(f.shape), 0.0) ** 3
    frame = pd.DataFrame(
        {
            "patient_id": np.repeat([f"p{i}" for i in range(n)], len(DAYS)),
            "day": np.tile(DAYS, n),
            "value": y.ravel(),
            "lower_limit_of_quantification": 0.15,
        }
    )
    frame.loc[frame["value"] < 0.15, "value"] = 0.0
    return frame


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster) as cl:
        yield cl


@pytest.fixture(scope="module")
def fits(client):
    cohort = simulate(150, seed=4)  # default chunks: 64, 64, 22 patients
    assert (cohort["value"] == 0).any()  # the censored branch is exercised
    local = PopulationModel("gompertz").fit(cohort)
    on_dask = PopulationModel("gompertz").fit(cohort, client=client)
    return local, on_dask


def test_population_fit_on_a_cluster_matches_one_process(fits):
    local, on_dask = fits
    assert on_dask.n_iter_ == local.n_iter_
    np.testing.assert_allclose(on_dask.mu_, local.mu_, rtol=0, atol=TOL)
    np.testing.assert_allclose(on_dask.omega_, local.omega_, rtol=0, atol=TOL)
    np.testing.assert_allclose(on_dask.error_, local.error_, rtol=0, atol=TOL)
    for name in ("discrepancy_", "noise_factor_", "spread_"):
        assert getattr(on_dask, name) == pytest.approx(getattr(local, name), abs=TOL)
    np.testing.assert_allclose(on_dask.posterior_.theta, local.posterior_.theta, atol=TOL)
    np.testing.assert_allclose(on_dask.posterior_.cov, local.posterior_.cov, atol=TOL)
    # the calibration fits (per-patient leave-one-out priors) went through the cluster too
    cal_local, cal_dask = local.calibration_["posterior"], on_dask.calibration_["posterior"]
    np.testing.assert_allclose(cal_dask.theta, cal_local.theta, atol=TOL)
    # nothing of the cluster stays on the model
    assert not any(isinstance(v, distributed.Client) for v in vars(on_dask).values())


def test_posteriors_on_a_cluster_match_one_process(fits, client):
    local, _ = fits
    new = simulate(70, seed=5)
    a = local.posterior(new)
    b = local.posterior(new, client=client)
    np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_allclose(b.theta, a.theta, rtol=0, atol=TOL)
    np.testing.assert_allclose(b.cov, a.cov, rtol=0, atol=TOL)
    pa = local.predict(a, {"p3": [350.0]}, rng=1)
    pb = local.predict(b, {"p3": [350.0]}, rng=1)
    pd.testing.assert_frame_equal(pa, pb, atol=TOL)


def test_map_fit_puts_uneven_chunks_back_in_order(fits, client):
    model, _ = fits
    batch = as_batch(simulate(50, seed=6))
    prob = model._problem(batch)
    start = np.clip(model.model_.initial_guess(batch.t, batch.y, batch.mask), *model._box.T)
    # a different prior for every patient, so a misplaced chunk cannot go unnoticed
    rng = np.random.default_rng(0)
    mu = model.mu_ + 0.3 * rng.standard_normal((50, 3))
    prec = _safe_inv(model.omega_) * rng.uniform(0.5, 2.0, 50)[:, None, None]
    want = _fit_map(prob, start, mu, prec, model._box)
    got = map_fit(prob, start, mu, prec, model._box, client=client, chunk_size=7)  # 7 x 7 + 1
    assert len(chunk_bounds(50, 7)) == 8 and chunk_bounds(50, 7)[-1] == (49, 50)
    for w, g in zip(want, got, strict=True):
        np.testing.assert_allclose(g, w, rtol=0, atol=TOL)
    # shared prior, and the patients in reverse order: the same modes, reversed
    back = np.arange(50)[::-1]
    shared = _fit_map(prob, start, model.mu_, _safe_inv(model.omega_), model._box)
    rev = map_fit(
        prob.subset(back),
        start[back],
        model.mu_,
        _safe_inv(model.omega_),
        model._box,
        client=client,
        chunk_size=16,
    )
    np.testing.assert_allclose(rev[0], shared[0][back], rtol=0, atol=TOL)
    np.testing.assert_allclose(rev[1], shared[1][back], rtol=0, atol=TOL)


def test_a_scheduler_address_works_like_a_client(fits, cluster):
    local, _ = fits
    new = simulate(20, seed=7)
    a = local.posterior(new)
    b = local.posterior(new, client=cluster.scheduler_address)
    np.testing.assert_allclose(b.theta, a.theta, rtol=0, atol=TOL)
    with using_client(cluster.scheduler_address) as cl:
        assert isinstance(cl, distributed.Client) and len(cl.nthreads()) == 2
    assert cl.status == "closed"  # made here, so closed here
    assert client_from(None) is None


def test_a_given_client_is_left_open(client):
    assert client_from(client) is client
    with using_client(client) as cl:
        assert cl is client
    assert client.status == "running"


def test_chunk_sizes():
    assert default_chunk_size(4000, 2) == 667  # 3 chunks per thread
    assert default_chunk_size(100, 2) == 64  # never under 64 patients
    assert chunk_bounds(5, 2) == [(0, 2), (2, 4), (4, 5)]
    with pytest.raises(InputError, match="chunk_size must be >= 1"):
        chunk_bounds(5, 0)
