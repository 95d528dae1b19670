"""Bozic et al. 2013 by exact simulation: two drugs given together or one after the other.

The model of Bozic et al. (eLife 2013;2:e00747, PMID 23805382): a lesion grows from one
sensitive cell (birth ``b``, death ``d`` per day) to ``M`` cells, then treatment starts.
A division gives a daughter resistant to drug 1 only, drug 2 only or both with
probabilities ``u n1``, ``u n2`` and ``u n12``; a cell resistant to one drug gains the
other with ``u (n_other + n12)``. Cells sensitive to a drug being given divide at ``b'``
and die at ``d'``; resistant cells keep ``b`` and ``d``.

How it is simulated, exactly in distribution:

* **Growth to M.** Every cell type is advanced by the Kendall engine
  (:func:`oncoresist.evolve.engines.kendall_step`: binomial and negative-binomial steps,
  mutants as Poisson streams), which is exact at any size. The lesion is conditioned on
  surviving (as Bozic's runs are) without discarding runs: a surviving birth-death
  process splits into *immortal* cells, whose lineage never dies (they divide at
  ``b + d``, giving two immortal daughters with probability ``(b - d) / (b + d)`` and an
  immortal and a mortal one otherwise, and never die), and *mortal* cells, a birth-death
  process with the rates swapped (birth ``d``, death ``b``). Each cell of a surviving
  lineage is immortal with probability ``s = 1 - d/b``, and mutations mark divisions at
  the original total rate ``b`` per cell. Once a run holds 100 immortal cells (extinction
  chance below ``e^-100``) its sensitive cells are merged into one type with rates
  ``(b, d)``. A run stops when it reaches ``M`` cells: its last step is shortened by
  scaling its rates (a birth-death process over ``h`` days at rates ``k b, k d`` is the
  process over ``k h`` days), so treatment starts at ``M`` to within the bulk's relative
  fluctuation (``~1e-5``).
* **Treatment.** Where rates no longer change, the fate of every cell is known in closed
  form: the probability that one cell's lineage ends in a surviving fully resistant
  lineage is the fixed point of its generating function
  (:func:`oncoresist.evolve.analytic.prob_eradication_dual` states the equations). The
  probability of failure given a simulated state is therefore exact, and averaging it
  over runs (Rao-Blackwellisation) estimates the failure probability with a smaller
  variance than counting failed runs. For sequential therapy the relapse under drug 1 is
  simulated with the Kendall engine up to ``M`` cells; drug 2 is then treated in closed
  form.

Rates are per day, sizes in cells, mutation rates per site per division. Bozic's figures
are reproduced within the tests' tolerances: sequential therapy fails in all lesions, 73.7 %
of failures from cells resistant before drug 1 (``n12 = 1``, ``M = 1e9``); dual therapy
fails in 53 % and 32 % of lesions of ``1e11`` cells dividing daily, without and with a 10 %
cost of resistance (Table 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from oncoresist.errors import InputError
from oncoresist.evolve.analytic import _dual_rates, _failure_root, _valid
from oncoresist.evolve.engines import kendall_step

__all__ = ["TherapyOutcome", "simulate_sequential", "simulate_simultaneous"]

#: Immortal cells a run holds before its sensitive cells are merged into one type.
MERGE_IMMORTAL = 100
#: Steps after which a simulation gives up (a guard; real runs need a few hundred).
MAX_STEPS = 100_000

# Column layout of the growth phase.
_IMMORTAL, _BULK, _A, _B, _AB1, _AB2 = range(6)


@dataclass(frozen=True)
class TherapyOutcome:
    """Failure probability of a therapy estimated by simulation, and where failures come from.

    Attributes
    ----------
    p_failure
        Estimated probability that the lesion is not eradicated.
    se
        Its standard error (over runs).
    n_runs
        Simulated lesions.
    origin
        Fractions of the failure probability by origin of the fully resistant lineage
        that causes it (keys documented by each simulation function).
    origin_se
        Standard errors of the numerators of ``origin`` divided by ``p_failure``.
    """

    p_failure: float
    se: float
    n_runs: int
    origin: dict[str, float]
    origin_se: dict[str, float]


def _rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _check_common(M, b, d, d_treated, u, b_treated, n_runs, step_days, sites):
    M, b, d = (float(_valid(k, v)) for k, v in (("M", M), ("b", b), ("d", d)))
    d_t, u = float(_valid("d_treated", d_treated)), float(_valid("u", u))
    b_t = b if b_treated is None else float(_valid("b_treated", b_treated))
    if not b > d:
        raise InputError("the lesion must grow before treatment: needs b > d", field="d")
    if not d_t > b_t:
        raise InputError("treatment must make sensitive cells decline: needs d_treated > "
                         "b_treated", field="d_treated")  # fmt: skip
    if M * (1 - d / b) <= 1:
        raise InputError("needs M * s > 1 (the lesion must outgrow its start)", field="M")
    n = [float(_valid(k, v, rule="n_sites")) for k, v in sites.items()]
    if u * sum(n) >= 1:
        raise InputError("u * (n1 + n2 + n12) must be < 1 (a probability per division)",
                         field="u")  # fmt: skip
    if not (isinstance(n_runs, int | np.integer) and n_runs >= 2):
        raise InputError(f"n_runs = {n_runs!r}: expected a whole number >= 2", field="n_runs")
    if not (math.isfinite(step_days) and step_days > 0):
        raise InputError(f"step_days = {step_days!r}: expected days > 0", field="step_days")
    return M, b, d, d_t, u, b_t, *n


def _grow_to_size(M, b, d, u, n1, n2, n12, b1, b2, n_runs, h, rng) -> np.ndarray:
    """Lesions grown from one cell, conditioned on surviving, to ``M`` cells (6 columns)."""
    state = np.zeros((n_runs, 6), dtype=np.int64)
    state[:, _IMMORTAL] = 1
    birth = np.tile([b + d, d, b1, b1, b1, b2], (n_runs, 1)).astype(float)
    death = np.tile([0.0, b, d, d, d, d], (n_runs, 1))
    mutation = np.zeros((6, 6))
    mutation[_IMMORTAL, _BULK] = 2 * d / (b + d)
    for row in (_IMMORTAL, _BULK):
        mutation[row, [_A, _B, _AB1]] = u * n1, u * n2, u * n12
    mutation[_A, _AB2] = u * (n2 + n12)
    mutation[_B, _AB2] = u * (n1 + n12)
    r = b - d
    merged = np.zeros(n_runs, dtype=bool)
    active = np.ones(n_runs, dtype=bool)
    for _ in range(MAX_STEPS):
        merge = active & ~merged & (state[:, _IMMORTAL] >= MERGE_IMMORTAL)
        if merge.any():
            state[merge, _BULK] += state[merge, _IMMORTAL]
            state[merge, _IMMORTAL] = 0
            birth[merge, _IMMORTAL] = death[merge, _IMMORTAL] = 0.0
            birth[merge, _BULK], death[merge, _BULK] = b, d
            merged |= merge
        total = state.sum(axis=1).astype(float)
        # The last step of a run is shortened (rates scaled) to end at M cells.
        last = active & merged & (total * math.exp(r * h) >= M)
        fraction = np.ones(n_runs)
        fraction[last] = np.clip(np.log(M / total[last]) / (r * h), 0.0, 1.0)
        scale = np.where(active, fraction, 0.0)[:, None]
        state = kendall_step(state, birth * scale, death * scale, mutation, h, rng)
        active &= ~last
        if not active.any():
            return state
    raise RuntimeError(f"growth to M = {M:g} cells did not finish in {MAX_STEPS} steps")


def _mean_se(x: np.ndarray) -> tuple[float, float]:
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


def _log_no_failure(counts: np.ndarray, failure: np.ndarray) -> np.ndarray:
    """``sum_k n_k log(1 - y_k)`` per run: the log-probability that no cell's lineage fails."""
    return counts.astype(float) @ np.log1p(-np.asarray(failure, dtype=float))


def simulate_simultaneous(
    M: float,
    b: float,
    d: float,
    d_treated: float,
    u: float,
    *,
    n1: float = 50,
    n2: float = 50,
    n12: float = 0,
    cost: float = 0.0,
    b_treated: float | None = None,
    n_runs: int = 2000,
    step_days: float = 20.0,
    rng: np.random.Generator | int | None = None,
) -> TherapyOutcome:
    """Simulate dual therapy given from ``M`` cells; return the probability of failure.

    Bozic et al. 2013, Figures 3 and 5B-D and Table 2. Lesions grow exactly (Kendall
    engine, conditioned on surviving) to ``M`` cells; given each lesion's cells of types
    00, 10, 01 and 11 at the start of treatment, the probability that no lineage ends in
    surviving resistance to both drugs is exact (generating-function fixed points), and its
    complement averaged over lesions is ``p_failure``.

    A fitness cost multiplies the net growth rate ``r = b - d`` by ``1 - cost`` per
    resistance mutation through a lower birth rate (Table 2 footnote: "each resistance
    mutation reduces the net growth rate by a factor c via a decrease of the birth rate"):
    one-mutation cells divide at ``d + r (1 - cost)``, two-mutation cells at
    ``d + r (1 - cost)^2``; fully resistant cells keep these rates under treatment, and
    cells resistant to one drug divide at ``b_treated`` less the same cost.

    Parameters
    ----------
    M
        Lesion size at the start of treatment, cells.
    b, d
        Birth and death rates of sensitive cells per day before treatment; ``b > d``.
    d_treated
        Death rate per day, under treatment, of cells sensitive to at least one drug.
    u
        Point-mutation rate per site per division.
    n1, n2, n12
        Sites conferring resistance to drug 1 only, drug 2 only, and both.
    cost
        Fractional loss of net growth per resistance mutation, in [0, 1).
    b_treated
        Birth rate per day of sensitive cells under treatment (default ``b``).
    n_runs
        Lesions simulated.
    step_days
        Kendall step in days (exact for any step; mutants founded within a step do not
        mutate again before its end, a loss of order ``step_days / (2 T)`` of the
        second-step mutations, ``T`` the growth time). Checked on Table 2's hardest row
        (``M = 1e11``, ``b = 1``, 3000 runs): failure 0.524 with 20-day steps throughout
        and 0.524 with 0.25-day steps until the lesion is established (SE 0.006).
    rng
        Seed or generator.

    Returns
    -------
    TherapyOutcome
        ``origin["resistant_at_start"]``: the share of the failure probability due to fully
        resistant cells present at the start of treatment whose lineage survives;
        ``origin["during_treatment"]``: the rest.

    References
    ----------
    Bozic I et al. (2013). eLife 2:e00747, Table 2. PMID 23805382.

    Examples
    --------
    >>> out = simulate_simultaneous(1e7, 0.14, 0.13, 0.17, 1e-8, n12=1, n_runs=50, rng=1)
    >>> 0 <= out.p_failure <= 1
    True
    """
    M, b, d, d_t, u, b_t, n1, n2, n12 = _check_common(
        M, b, d, d_treated, u, b_treated, n_runs, step_days, {"n1": n1, "n2": n2, "n12": n12}
    )
    cost = float(_valid("cost", cost))
    b1, b2, b1_t = _dual_rates(b, d, b_t, d_t, cost)
    state = _grow_to_size(M, b, d, u, n1, n2, n12, b1, b2, n_runs, step_days, _rng(rng))
    s1, s2 = 1 - d / b1, 1 - d / b2
    y_a = _failure_root(b1_t, d_t, u * (n2 + n12), u * (n2 + n12) * s2)
    y_b = _failure_root(b1_t, d_t, u * (n1 + n12), u * (n1 + n12) * s2)
    y00 = _failure_root(b_t, d_t, u * (n1 + n2 + n12), u * (n1 * y_a + n2 * y_b + n12 * s1))
    failure = np.array([y00, y00, y_a, y_b, s1, s2])
    fail = -np.expm1(_log_no_failure(state, failure))
    at_start = -np.expm1(_log_no_failure(state[:, [_AB1, _AB2]], failure[[_AB1, _AB2]]))
    return _outcome(fail, {"resistant_at_start": at_start, "during_treatment": fail - at_start})


def _outcome(fail: np.ndarray, parts: dict[str, np.ndarray]) -> TherapyOutcome:
    """Mean failure and each part's share of it (the parts add up to ``fail`` per run)."""
    p, se = _mean_se(fail)
    origin, origin_se = {}, {}
    for name, values in parts.items():
        mean, err = _mean_se(values)
        origin[name], origin_se[name] = mean / p, err / p
    return TherapyOutcome(p, se, int(fail.size), origin, origin_se)


def _relapse_fraction(resistant, declining, r, r_t, h, M) -> np.ndarray:
    """Fraction of a step after which ``resistant e^{r t} + declining e^{r_t t}`` is ``M``."""
    lo, hi = np.zeros(resistant.size), np.ones(resistant.size)
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        over = resistant * np.exp(r * h * mid) + declining * np.exp(r_t * h * mid) >= M
        hi, lo = np.where(over, mid, hi), np.where(over, lo, mid)
    return hi


def simulate_sequential(
    M: float,
    b: float,
    d: float,
    d_treated: float,
    u: float,
    *,
    n1: float = 50,
    n2: float = 50,
    n12: float = 0,
    b_treated: float | None = None,
    n_runs: int = 2000,
    step_days: float = 20.0,
    rng: np.random.Generator | int | None = None,
) -> TherapyOutcome:
    """Simulate sequential therapy: drug 1 from ``M`` cells until relapse at ``M``, then drug 2.

    Bozic et al. 2013, Figure 5A and C. Lesions grow exactly to ``M`` cells (as in
    :func:`simulate_simultaneous`); under drug 1, cells resistant to it (10, 11) keep
    ``(b, d)`` and the others decline at ``(b', d')``; the Kendall engine follows every
    type, with the fully resistant cells (11) labelled by origin, until the lesion is back
    at ``M`` cells (relapse) or extinct (cured by drug 1). Under drug 2 the failure
    probability given the cells at the switch is exact: a lineage resistant to drug 2 (01
    or 11) fails if it survives; 00 and 10 cells decline and fail through mutation.

    Parameters
    ----------
    M
        Lesion size at the start of drug 1 and at relapse (the switch), cells.
    b, d
        Birth and death rates per day before treatment and of resistant cells; ``b > d``.
    d_treated
        Death rate per day of cells sensitive to the drug being given.
    u
        Point-mutation rate per site per division.
    n1, n2, n12
        Sites conferring resistance to drug 1 only, drug 2 only, and both.
    b_treated
        Birth rate per day of sensitive cells under treatment (default ``b``).
    n_runs
        Lesions simulated.
    step_days
        Kendall step in days.
    rng
        Seed or generator.

    Returns
    -------
    TherapyOutcome
        ``origin`` holds the shares of the failure probability due to surviving fully
        resistant lineages of each origin, counted at the switch:
        ``"resistant_before_drug_1"`` (cells 11 at the start of drug 1),
        ``"from_sensitive_during_drug_1"`` (11 cells that arose under drug 1 from cells it
        kills, 00 or 01, and 01 cells still alive at the switch) and
        ``"from_resistant_during_drug_1"`` (11 cells that arose from 10 cells growing
        under drug 1). Bozic's "present at the start" (73.7 % at ``n12 = 1``, ``M = 1e9``)
        is the first two together: the failures simultaneous therapy would share. Each
        failure is given to the first origin in that order that it has.

    References
    ----------
    Bozic I et al. (2013). eLife 2:e00747, Figure 5 and Figure 5-figure supplement 1.
    PMID 23805382.

    Examples
    --------
    >>> out = simulate_sequential(1e7, 0.14, 0.13, 0.17, 1e-8, n12=1, n_runs=50, rng=1)
    >>> out.p_failure > 0.99
    True
    """
    M, b, d, d_t, u, b_t, n1, n2, n12 = _check_common(
        M, b, d, d_treated, u, b_treated, n_runs, step_days, {"n1": n1, "n2": n2, "n12": n12}
    )
    rng = _rng(rng)
    h = step_days
    grown = _grow_to_size(M, b, d, u, n1, n2, n12, b, b, n_runs, h, rng)
    # Drug 1: columns 00, 10, 01, 11 present at start, 11 from 00/01, 11 from 10.
    s00, a, bb, pre, sens, res = range(6)
    state = np.zeros((n_runs, 6), dtype=np.int64)
    state[:, s00] = grown[:, _IMMORTAL] + grown[:, _BULK]
    state[:, a], state[:, bb] = grown[:, _A], grown[:, _B]
    state[:, pre] = grown[:, _AB1] + grown[:, _AB2]
    birth = np.tile([b_t, b, b_t, b, b, b], (n_runs, 1))
    death = np.tile([d_t, d, d_t, d, d, d], (n_runs, 1))
    mutation = np.zeros((6, 6))
    mutation[s00, [a, bb, sens]] = u * n1, u * n2, u * n12
    mutation[bb, sens] = u * (n1 + n12)
    mutation[a, res] = u * (n2 + n12)
    r, r_t = b - d, b_t - d_t
    active = np.ones(n_runs, dtype=bool)
    for _ in range(MAX_STEPS):
        total = state.sum(axis=1).astype(float)
        active &= total > 0  # extinct: cured by drug 1
        resistant = state[:, [a, pre, sens, res]].sum(axis=1).astype(float)
        declining = (state[:, s00] + state[:, bb]).astype(float)
        ahead = resistant * math.exp(r * h) + declining * math.exp(r_t * h)
        last = active & (ahead >= M)
        fraction = np.ones(n_runs)
        fraction[last] = _relapse_fraction(resistant[last], declining[last], r, r_t, h, M)
        scale = np.where(active, fraction, 0.0)[:, None]
        state = kendall_step(state, birth * scale, death * scale, mutation, h, rng)
        active &= ~last
        if not active.any():
            break
    else:
        raise RuntimeError(f"drug 1 did not resolve within {MAX_STEPS} steps")
    # Drug 2 from the switch: 01 and 11 lineages fail if they survive (probability s);
    # 10 and 00 decline and fail through a mutant resistant to drug 2.
    s = 1 - d / b
    y_a = _failure_root(b_t, d_t, u * (n2 + n12), u * (n2 + n12) * s)
    y00 = _failure_root(b_t, d_t, u * (n1 + n2 + n12), u * (n1 * y_a + (n2 + n12) * s))
    failure = np.array([y00, y_a, s, s, s, s])
    fail = -np.expm1(_log_no_failure(state, failure))
    first = -np.expm1(_log_no_failure(state[:, [pre]], failure[[pre]]))
    shared = -np.expm1(_log_no_failure(state[:, [pre, sens, bb]], failure[[pre, sens, bb]]))
    return _outcome(
        fail,
        {
            "resistant_before_drug_1": first,
            "from_sensitive_during_drug_1": shared - first,
            "from_resistant_during_drug_1": fail - shared,
        },
    )
