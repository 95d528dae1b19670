"""Scoring a screen on Dask: a real LocalCluster (worker processes, so every chunk is
serialised) gives the same tables as one process, in the same order.

Every block is scored on its own, so chunks of whole blocks are expected to agree to
rounding: tolerance 1e-9 (absolute) on every number. With a parametric bootstrap each chunk
draws its own stream, so only the point scores are compared there.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest

from oncoresist.errors import InputError, MissingExtraError
from oncoresist.synergy import CombinationData, score_blocks
from oncoresist.synergy._batch import chunk_blocks, local_cluster, score_blocks_dask

distributed = pytest.importorskip("distributed")  # in the test extra
TOL = 1e-9


def screen(n: int, *, seed: int = 0, replicates: int = 1) -> CombinationData:
    """``n`` noisy 6 x 6 blocks (Bliss-independent surfaces), block ids out of sort order."""
    rng = np.random.default_rng(seed)
    a = np.array([0, 0.05, 0.158, 0.5, 1.58, 5])
    b = np.array([0, 0.2, 0.632, 2, 6.32, 20])
    A, B = np.meshgrid(a, b, indexing="ij")
    ic_a = rng.lognormal(np.log(0.5), 0.5, n)[:, None, None, None]
    ic_b = rng.lognormal(np.log(2.0), 0.5, n)[:, None, None, None]
    A4, B4 = A[None, :, :, None], B[None, :, :, None]
    y = 100 * (1 - (1 - A4 / (A4 + ic_a)) * (1 - B4 / (B4 + ic_b)))
    y = y + rng.normal(0, 4, (n, 6, 6, replicates))
    ids = [f"plate{k}" for k in rng.permutation(n)]
    return CombinationData(table=pd.DataFrame({
        "block_id": np.repeat(ids, 36 * replicates), "drug_row": "A", "drug_col": "B",
        "conc_r": np.tile(np.repeat(A.ravel(), replicates), n),
        "conc_c": np.tile(np.repeat(B.ravel(), replicates), n),
        "conc_r_unit": "uM", "conc_c_unit": "uM",
        "replicate": np.tile(np.arange(1, replicates + 1), n * 36),
        "inhibition": y.ravel()}), lines=np.arange(2, n * 36 * replicates + 2))  # fmt: skip


@pytest.fixture(scope="module")
def client():
    with local_cluster(2) as cluster, distributed.Client(cluster) as cl:
        yield cl


def assert_same(a, b) -> None:
    for name in ("blocks", "cells", "fits"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=False,
                                      rtol=0, atol=TOL)  # fmt: skip


@pytest.mark.parametrize("replicates", [1, 3])
def test_dask_equals_one_process(client, replicates):
    data = screen(70, seed=replicates, replicates=replicates)
    local = score_blocks(data)
    seen = []
    on_dask = score_blocks_dask(data, client=client, chunk_size=25,
                                progress=lambda *done: seen.append(done))  # fmt: skip
    assert_same(local, on_dask)
    assert list(on_dask.blocks["block_id"]) == list(dict.fromkeys(data.table["block_id"]))
    assert sorted(seen)[-1] == (70, 70) and len(seen) == 3  # three chunks of 25, 25, 20
    assert local.notes == on_dask.notes


def test_bootstrap_points_agree_and_intervals_exist(client):
    data = screen(30, seed=5)
    local = score_blocks(data, n_boot=20, seed=1)
    on_dask = score_blocks_dask(data, client=client, chunk_size=10, n_boot=20, seed=1)
    for m in ("bliss", "hsa", "loewe", "zip"):
        np.testing.assert_allclose(on_dask.blocks[m], local.blocks[m], rtol=0, atol=TOL)
        assert on_dask.blocks[f"{m}_lo"].notna().all()
        assert (on_dask.blocks[f"{m}_lo"] <= on_dask.blocks[m] + TOL).all()


def test_chunks_keep_whole_blocks_and_their_lines():
    data = screen(10)
    chunks = chunk_blocks(data, 4)
    assert [c.table["block_id"].nunique() for c in chunks] == [4, 4, 2]
    joined = pd.concat([c.table for c in chunks], ignore_index=True)
    pd.testing.assert_frame_equal(joined, data.table)
    np.testing.assert_array_equal(np.concatenate([c.lines for c in chunks]), data.lines)
    with pytest.raises(InputError, match="chunk_size"):
        chunk_blocks(data, 0)


def test_an_error_in_a_worker_keeps_its_location(client):
    data = screen(12)
    t = data.table
    # the fifth block's row drug alone at its top dose is missing
    drop = (t["block_id"] == t["block_id"].unique()[4]) & (t["conc_r"] == 5) & (t["conc_c"] == 0)
    broken = CombinationData(table=t[~drop].reset_index(drop=True),
                             lines=data.lines[~drop.to_numpy()])  # fmt: skip
    with pytest.raises(InputError) as local:
        score_blocks(broken)
    with pytest.raises(InputError) as remote:
        score_blocks_dask(broken, client=client, chunk_size=3)
    assert str(remote.value) == str(local.value)
    assert "line" in str(remote.value) and "monotherapy" in str(remote.value)


def test_missing_extra_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingExtraError, match=r"oncoresist\[dask\]"):
        score_blocks_dask(screen(2))
    with pytest.raises(MissingExtraError, match=r"oncoresist\[dask\]"):
        local_cluster(1)


def _malloc_trim() -> str | None:
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def test_local_cluster_leaves_out_malloc_trim(client, monkeypatch):
    env = client.run(_malloc_trim)  # the fixture's cluster is a local_cluster
    assert len(env) == 2 and set(env.values()) == {None}
    # ... also after a cluster with Dask's defaults left the setting in this process
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    from distributed import Client

    with local_cluster(1) as cluster, Client(cluster) as other:
        assert set(other.run(_malloc_trim).values()) == {None}
    assert os.environ["MALLOC_TRIM_THRESHOLD_"] == "65536"  # put back for others
    with pytest.raises(InputError, match="field workers"):
        local_cluster(0)
