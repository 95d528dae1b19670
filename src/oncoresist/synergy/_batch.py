"""Score a large screen on a Dask cluster: the blocks split into chunks, one task each.

Every block is scored on its own (its fits, references and summaries use only its wells),
so a screen cut into chunks of whole blocks and scored chunk by chunk gives the same tables
as :func:`~oncoresist.synergy.score_blocks` on the whole, put back in the same order. Each
chunk is a :class:`~oncoresist.synergy.CombinationData` holding its blocks' rows (and their
file lines, so an error in a worker still names the line); the workers run
``score_blocks`` on them and the pieces are concatenated here.

With ``n_boot > 0`` (a parametric bootstrap, for blocks without replicates) each chunk draws
from its own random stream (``numpy.random.SeedSequence(seed)`` spawned once per chunk), so
the intervals agree with the in-process path within Monte Carlo error, not to the digit;
everything else agrees to rounding.

Dask is an optional extra (``pip install 'oncoresist[dask]'``), imported only here.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from oncoresist.errors import InputError, MissingExtraError
from oncoresist.synergy._io import CombinationData
from oncoresist.synergy._score import MODELS, SynergyResult, score_blocks

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["chunk_blocks", "local_cluster", "score_blocks_dask"]

#: Fewest blocks in a chunk: below this a task's fixed cost outweighs its work.
MIN_CHUNK = 250
#: Chunks per worker thread, so a slow chunk does not leave the others idle at the end.
CHUNKS_PER_THREAD = 3
#: Where the local cluster's scheduler serves HTTP: any free port, this machine only.
HTTP_ADDRESS = "127.0.0.1:0"


def chunk_blocks(data: CombinationData, chunk_size: int) -> list[CombinationData]:
    """``data`` cut into experiments of at most ``chunk_size`` whole blocks, in block order.

    Blocks keep the order of their first well; each chunk keeps its rows' file lines.
    """
    if not (isinstance(chunk_size, int | np.integer) and chunk_size >= 1):
        raise InputError(f"{chunk_size!r}: expected a whole number of blocks >= 1",
                         field="chunk_size")  # fmt: skip
    table = data.table.reset_index(drop=True)
    codes, names = pd.factorize(table["block_id"].astype(str), sort=False)
    group = codes // int(chunk_size)
    out = []
    for k in range(math.ceil(len(names) / chunk_size)):
        rows = np.flatnonzero(group == k)
        out.append(
            CombinationData(
                table=table.iloc[rows].reset_index(drop=True),
                source=data.source,
                response_was=data.response_was,
                lines=None if data.lines is None else np.asarray(data.lines)[rows],
                notes=list(data.notes),
            )
        )
    return out


def _client(client: Client | str | None, workers: int | None):
    """A client (made here from an address, or on a new LocalCluster) and what to close."""
    try:
        from distributed import Client
    except ImportError:
        raise MissingExtraError("distributed", "dask") from None
    if client is not None and not isinstance(client, str):
        return client, []
    if isinstance(client, str):
        made = Client(client)
        return made, [made]
    cluster = local_cluster(workers)
    made = Client(cluster)
    return made, [made, cluster]


def local_cluster(workers: int | None = None):
    """A ``LocalCluster`` of ``workers`` single-threaded processes, tuned for scoring.

    Dask starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which turns off glibc's
    adaptive mmap threshold: every array above 64 KiB is then mapped and unmapped afresh,
    and scoring a chunk of 1,667 blocks took 7.2 s instead of 2.9-3.2 s in one process with
    that setting. The cluster made here leaves it out. Its scheduler's HTTP server listens
    on a free port of the loopback interface (:data:`HTTP_ADDRESS`): with no dashboard
    address Dask still takes port 8787 and warns when another cluster holds it.
    """
    try:
        import dask
        from distributed import LocalCluster
    except ImportError:
        raise MissingExtraError("distributed", "dask") from None
    if workers is not None and workers < 1:
        raise InputError(f"{workers}: expected at least 1 worker", field="workers")
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    # a nanny writes its pre-spawn variables into this process's own environment, so a
    # cluster started earlier here with Dask's defaults left the setting behind for every
    # later worker to inherit: leave it out while these workers start, then put it back
    inherited = os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
            return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                dashboard_address=HTTP_ADDRESS)  # fmt: skip
    finally:
        if inherited is not None:
            os.environ["MALLOC_TRIM_THRESHOLD_"] = inherited


def score_blocks_dask(
    data: CombinationData,
    *,
    models: Sequence[str] = MODELS,
    n_boot: int = 0,
    seed: int | None = 0,
    client: Client | str | None = None,
    workers: int | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    **options: Any,
) -> SynergyResult:
    """:func:`~oncoresist.synergy.score_blocks` with the blocks scored in chunks on Dask.

    Parameters
    ----------
    data
        The experiment (:func:`~oncoresist.synergy.read_combinations`).
    models, n_boot
        As for :func:`~oncoresist.synergy.score_blocks`.
    seed
        Seed of the bootstrap; each chunk gets its own stream spawned from it.
    client
        A ``distributed.Client``, a scheduler address (a client is made and closed here), or
        ``None``: a ``LocalCluster`` of ``workers`` single-threaded worker processes
        (:func:`local_cluster`) is started and closed here.
    workers
        Worker processes of the local cluster (default: Dask's, one per core).
    chunk_size
        Blocks per task (default about 3 chunks per worker thread, at least 250 blocks).
    progress
        Called as ``progress(done, total)`` (blocks) as chunks finish.
    **options
        Passed to :func:`~oncoresist.synergy.score_blocks` (``loewe_flat``, ``zip_fit``).

    Returns
    -------
    SynergyResult
        The same tables as the in-process path, in the same order.

    Raises
    ------
    MissingExtraError
        ``distributed`` is not installed (``pip install 'oncoresist[dask]'``).
    InputError
        As :func:`~oncoresist.synergy.score_blocks` (raised from the worker, message and
        location intact).

    Examples
    --------
    >>> from oncoresist.synergy import read_combinations
    >>> data = read_combinations("synthetic_bliss_null_6x6.csv")  # doctest: +SKIP
    >>> score_blocks_dask(data, workers=2).blocks["bliss"]  # doctest: +SKIP
    """
    cl, close = _client(client, workers)
    try:
        n_blocks = int(data.table["block_id"].astype(str).nunique())
        if chunk_size is None:
            threads = max(sum(cl.nthreads().values()), 1)
            chunk_size = max(MIN_CHUNK, math.ceil(n_blocks / (CHUNKS_PER_THREAD * threads)))
        chunks = chunk_blocks(data, chunk_size)
        seeds = np.random.SeedSequence(seed).spawn(len(chunks))
        sizes = [int(c.table["block_id"].astype(str).nunique()) for c in chunks]
        # the wells are the bulk: scattered (under random keys), not embedded in the graph
        parts = cl.scatter(chunks, hash=False)
        futures = [
            cl.submit(score_blocks, part, models=tuple(models), n_boot=n_boot,
                      seed=np.random.default_rng(s), pure=False, **options)
            for part, s in zip(parts, seeds, strict=True)
        ]  # fmt: skip
        results: list[SynergyResult | None] = [None] * len(futures)
        order = {f.key: k for k, f in enumerate(futures)}
        done = 0
        from distributed import as_completed

        for future in as_completed(futures):
            k = order[future.key]
            results[k] = future.result()
            done += sizes[k]
            if progress is not None:
                progress(done, n_blocks)
    finally:
        for thing in close:
            thing.close()
    return _concat([r for r in results if r is not None])


def _concat(parts: list[SynergyResult]) -> SynergyResult:
    """The chunks' tables one after the other; the notes once each."""
    if not parts:
        raise InputError("no block to score", field="block_id")
    notes: list[str] = []
    for p in parts:
        notes += [n for n in p.notes if n not in notes]
    return SynergyResult(
        blocks=pd.concat([p.blocks for p in parts], ignore_index=True),
        cells=pd.concat([p.cells for p in parts], ignore_index=True),
        fits=pd.concat([p.fits for p in parts], ignore_index=True),
        notes=notes,
    )
