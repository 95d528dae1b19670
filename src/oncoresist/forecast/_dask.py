"""Patient posterior modes on a Dask cluster: the cohort split into chunks of patients.

The Levenberg-Marquardt of :func:`~oncoresist.forecast.population._fit_map` treats every
patient on its own (vectorised, but no patient's step depends on another's), so a cohort
can be cut into chunks, each fitted by a worker, and the pieces put back in order with the
same numbers as one call on the whole cohort. :class:`~oncoresist.forecast.PopulationModel`
does this in every Laplace-EM iteration and in its calibration fits when given a client;
the rest of each iteration (error model, population moments, calibration of the
discrepancy) stays on the calling process, so the gain is bounded by that serial part
(Amdahl) and by the number of worker threads.

Dask is an optional extra (``pip install 'oncoresist[dask]'``), imported only when a client
or an address is given.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from oncoresist.errors import InputError, MissingExtraError

if TYPE_CHECKING:
    from distributed import Client

    from oncoresist.forecast.population import _Problem

#: Fewest patients in a chunk: below this a chunk's fixed cost (a task, a vectorised
#: iteration's Python overhead) outweighs its share of the work.
MIN_CHUNK = 64
#: Chunks per worker thread: a few, so a chunk of slow patients does not leave the other
#: threads idle at the end.
CHUNKS_PER_THREAD = 3


def client_from(address_or_client: str | Client | None) -> Client | None:
    """A Dask client for a scheduler address; a client or ``None`` is returned as is.

    Parameters
    ----------
    address_or_client : str, distributed.Client or None
        A scheduler address (``"tcp://10.0.0.5:8786"``), a connected client, or ``None``
        (run in this process).

    Returns
    -------
    distributed.Client or None
        A client made here from an address is the caller's to close (or use
        :func:`using_client`, which does).

    Raises
    ------
    MissingExtraError
        An address was given and ``distributed`` is not installed.
    """
    if address_or_client is None or not isinstance(address_or_client, str):
        return address_or_client
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - the extra is in the test set
        raise MissingExtraError("distributed", "dask") from None
    return Client(address_or_client)


@contextmanager
def using_client(address_or_client: str | Client | None) -> Iterator[Client | None]:
    """:func:`client_from` for a ``with`` block; a client made from an address is closed."""
    client = client_from(address_or_client)
    try:
        yield client
    finally:
        if isinstance(address_or_client, str) and client is not None:
            client.close()


def chunk_bounds(n_patients: int, chunk_size: int) -> list[tuple[int, int]]:
    """``[start, stop)`` of consecutive chunks of at most ``chunk_size`` patients."""
    if chunk_size < 1:
        raise InputError(f"chunk_size must be >= 1; got {chunk_size}", field="chunk_size")
    return [(s, min(s + chunk_size, n_patients)) for s in range(0, n_patients, chunk_size)]


def default_chunk_size(n_patients: int, n_threads: int) -> int:
    """About :data:`CHUNKS_PER_THREAD` chunks per worker thread, none under :data:`MIN_CHUNK`."""
    return max(MIN_CHUNK, math.ceil(n_patients / (CHUNKS_PER_THREAD * max(n_threads, 1))))


def map_fit(
    prob: _Problem,
    theta0: np.ndarray,
    mu: np.ndarray,
    prec: np.ndarray,
    box: np.ndarray,
    *,
    max_iter: int = 200,
    tol: float = 1e-9,
    client: str | Client | None = None,
    chunk_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every patient's posterior mode, in this process or in chunks on a Dask cluster.

    Parameters
    ----------
    prob : _Problem
        The cohort's likelihood (a subclass's :meth:`~_Problem.subset` is used to cut it).
    theta0 : ndarray, shape (P, k)
        Starting points.
    mu : ndarray, shape (k,) or (P, k)
        Prior mean, shared or per patient.
    prec : ndarray, shape (k, k) or (P, k, k)
        Prior precision, shared or per patient.
    box : ndarray, shape (k, 2)
        Bounds of the unconstrained parameters.
    max_iter, tol
        As for :func:`~oncoresist.forecast.population._fit_map`.
    client : distributed.Client or str, optional
        A client or a scheduler address (a client is made and closed here); ``None`` calls
        ``_fit_map`` directly.
    chunk_size : int, optional
        Patients per task; default about 3 chunks per worker thread, at least 64 patients.

    Returns
    -------
    theta : ndarray, shape (P, k)
        Posterior modes, in the patients' order.
    hess : ndarray, shape (P, k, k)
        Gauss-Newton Hessians of the negative log posterior there.
    cost : ndarray, shape (P,)
        Negative log posterior (up to a constant) at the modes.
    """
    # here, not at the top: population imports this module
    from oncoresist.forecast.population import _fit_map

    if client is None or len(theta0) == 0:
        return _fit_map(prob, theta0, mu, prec, box, max_iter=max_iter, tol=tol)
    with using_client(client) as cl:
        n_pat = len(theta0)
        if chunk_size is None:
            chunk_size = default_chunk_size(n_pat, sum(cl.nthreads().values()))
        parts = [slice(s, e) for s, e in chunk_bounds(n_pat, chunk_size)]
        mu, prec = np.asarray(mu, dtype=float), np.asarray(prec, dtype=float)
        # the data are scattered (they are the bulk) under random keys: a problem's error
        # parameters change between EM iterations and no result may come from a cache
        probs = cl.scatter([prob.subset(np.arange(p.start, p.stop)) for p in parts], hash=False)
        futures = cl.map(
            _fit_map,
            probs,
            [theta0[p] for p in parts],
            [_rows(mu, p, n_pat, per_patient_ndim=2) for p in parts],
            [_rows(prec, p, n_pat, per_patient_ndim=3) for p in parts],
            box=box,
            max_iter=max_iter,
            tol=tol,
            pure=False,
        )
        results = cl.gather(futures)
    theta, hess, cost = (np.concatenate(pieces, axis=0) for pieces in zip(*results, strict=True))
    return theta, hess, cost


def _rows(a: np.ndarray, part: slice, n_pat: int, *, per_patient_ndim: int) -> np.ndarray:
    """The chunk's rows of a per-patient prior; a shared one whole."""
    if a.ndim == per_patient_ndim and a.shape[0] == n_pat:
        return a[part]
    return a
