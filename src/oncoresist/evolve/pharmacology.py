"""Drug exposure and effect: dosing schedules, one-compartment PK, Emax/Hill PD, Bliss.

Units: time in days, doses in mg, volumes in litres, concentrations in mg/L (the unit of
``ic50``), rates per day.

* **PK.** One compartment with first-order absorption (oral dosing): after a dose ``D`` at
  time ``t_i``, ``C(t) = F D k_a / (V (k_a - k_e)) (exp(-k_e s) - exp(-k_a s))`` with
  ``s = t - t_i >= 0`` and ``k_e = ln 2 / half-life``; doses superpose (linear PK). With
  ``k_a = k_e`` the limit ``F D k_e s exp(-k_e s) / V``. ``constant`` exposure holds a
  level while the drug is given.
* **PD.** Per drug and clone, ``E(C) = E_max C^h / (C^h + IC50^h)``; on ``birth`` ``E_max``
  is the fraction of divisions blocked (<= 1), on ``death`` it is extra deaths per day.
* **Combination.** ``bliss`` (default, response additivity for independent action):
  fractions of divisions blocked combine as ``1 - prod(1 - E_i)``, and independent killing
  adds death hazards (``sum E_i``), which is Bliss independence for rates. ``hsa`` (highest
  single agent) keeps the largest effect of each kind.

References
----------
Bliss CI. The toxicity of poisons applied jointly. Ann Appl Biol 1939;26:585-615.
Foo J, Michor F. Evolution of resistance to targeted anti-cancer therapies during
continuous and pulsed administration strategies. PLoS Comput Biol 2009 (PMID 19893618).
Chmielecki J et al. Optimization of dosing for EGFR-mutant non-small cell lung cancer with
evolutionary cancer modeling. Sci Transl Med 2011 (PMID 21734175).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from oncoresist.errors import InputError
from oncoresist.evolve.model import Drug, EvolutionModel

Interaction = Literal["bliss", "hsa"]


def dose_times(
    start_day: float, stop_day: float, interval_days: float, *, on: Sequence[tuple] = ()
) -> np.ndarray:
    """Dose times (days) every ``interval_days`` in ``[start_day, stop_day)``.

    Parameters
    ----------
    start_day, stop_day : float
        First dose and end of dosing (days).
    interval_days : float
        Days between doses (> 0).
    on : sequence of (float, float), optional
        Windows ``[a, b)`` (days) in which the drug is given; empty: always.

    Returns
    -------
    numpy.ndarray
        Sorted dose times (days).
    """
    if interval_days <= 0:
        raise InputError("must be positive (days)", field="interval_days")
    times = np.arange(start_day, stop_day, interval_days)
    if len(on):
        keep = np.zeros(times.size, dtype=bool)
        for a, b in on:
            keep |= (times >= a) & (times < b)
        times = times[keep]
    return times


def concentration(drug: Drug, t: np.ndarray, doses: np.ndarray, *, scale: float = 1.0):
    """Plasma concentration (mg/L) of ``drug`` at times ``t`` (days) after ``doses``.

    Parameters
    ----------
    drug : Drug
        Its PK block.
    t : numpy.ndarray
        Times (days).
    doses : numpy.ndarray
        Dose times (days). For ``constant`` exposure, the drug counts as present from each
        dose for one interval.
    scale : float
        Dose multiplier (dose modulation; 1 = the nominal dose).

    Returns
    -------
    numpy.ndarray
        Concentrations, the shape of ``t``.
    """
    t = np.asarray(t, dtype=float)
    doses = np.asarray(doses, dtype=float)
    pk = drug.pk
    out = np.zeros(t.shape)
    if doses.size == 0:
        return out
    if pk.kind == "constant":
        since = t[..., None] - doses
        present = ((since >= 0) & (since < pk.interval_days)).any(axis=-1)
        return np.where(present, pk.level * scale, 0.0)
    for chunk in np.array_split(doses, max(1, doses.size // 256)):
        out += scale * single_dose_curve(drug, t[..., None] - chunk).sum(axis=-1)
    return out


def single_dose_curve(drug: Drug, s: np.ndarray) -> np.ndarray:
    """Concentration (mg/L) ``s`` days after one nominal dose (0 before it).

    One compartment with first-order absorption (the ``k_a = k_e`` limit where they meet);
    for ``constant`` exposure, ``level`` during the dose's interval.
    """
    pk = drug.pk
    s = np.asarray(s, dtype=float)
    pos = s >= 0
    s = np.where(pos, s, 0.0)
    if pk.kind == "constant":
        return np.where(pos & (s < pk.interval_days), pk.level, 0.0)
    ke = np.log(2.0) / pk.half_life_days
    ka = pk.absorption_per_day
    amount = pk.bioavailability * pk.dose_mg / pk.volume_l
    if abs(ka - ke) < 1e-9 * ke:
        c = amount * ke * s * np.exp(-ke * s)
    else:
        c = amount * ka / (ka - ke) * (np.exp(-ke * s) - np.exp(-ka * s))
    return np.where(pos, c, 0.0)


def hill(conc, emax: float, ic50: float, hill_coef: float) -> np.ndarray:
    """``E_max C^h / (C^h + IC50^h)`` (0 at ``C = 0``)."""
    c = np.maximum(np.asarray(conc, dtype=float), 0.0)
    ratio = (c / ic50) ** hill_coef
    return emax * ratio / (1.0 + ratio)


def effective_rates(
    model: EvolutionModel, conc: dict[str, np.ndarray], *, interaction: Interaction | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Birth and death rates per clone under the given drug concentrations.

    Parameters
    ----------
    model : EvolutionModel
        Clones (base rates per day) and drugs (effects per clone).
    conc : dict of str to numpy.ndarray
        Concentration (mg/L) per drug name, all of one shape ``S`` (e.g. a time grid);
        drugs missing from the dict are absent.
    interaction : {"bliss", "hsa"}, optional
        Combination model; default the model's ``combination``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(birth, death)``, shape ``S + (n_clones,)``, per day. Birth is the rate of
        divisions, including those that give a mutant daughter.
    """
    mode = interaction or model.combination
    shape = np.shape(next(iter(conc.values()))) if conc else ()
    n = len(model.clones)
    blocked_free = np.ones((*shape, n))  # Bliss: product of (1 - E_birth)
    blocked_max = np.zeros((*shape, n))
    kill_sum = np.zeros((*shape, n))
    kill_max = np.zeros((*shape, n))
    index = {c.name: i for i, c in enumerate(model.clones)}
    for name, drug in model.drugs.items():
        if name not in conc:
            continue
        c = np.asarray(conc[name], dtype=float)
        for eff in drug.effects:
            i = index[eff.clone]
            e = hill(c, eff.emax, eff.ic50, eff.hill)
            if eff.acts_on == "birth":
                blocked_free[..., i] *= 1.0 - e
                blocked_max[..., i] = np.maximum(blocked_max[..., i], e)
            else:
                kill_sum[..., i] += e
                kill_max[..., i] = np.maximum(kill_max[..., i], e)
    b0 = np.array([c.birth for c in model.clones])
    d0 = np.array([c.death for c in model.clones])
    if mode == "bliss":
        return b0 * blocked_free, d0 + kill_sum
    if mode == "hsa":
        return b0 * (1.0 - blocked_max), d0 + kill_max
    raise InputError(
        f"unknown interaction {mode!r}; expected 'bliss' or 'hsa'", field="combination"
    )


def rates_on_grid(
    model: EvolutionModel,
    edges: np.ndarray,
    doses: dict[str, np.ndarray],
    *,
    scale: dict[str, float] | None = None,
    samples: int = 4,
) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-constant birth and death rates on the intervals of a time grid.

    Each interval gets the mean of the rates at ``samples`` evenly spaced interior points
    (midpoint rule on sub-intervals), which is what an exact engine with piecewise-constant
    rates integrates.

    Parameters
    ----------
    model : EvolutionModel
        The model.
    edges : numpy.ndarray
        Interval edges (days), increasing, length ``n + 1``.
    doses : dict of str to numpy.ndarray
        Dose times (days) per drug given.
    scale : dict of str to float, optional
        Dose multiplier per drug (dose modulation).
    samples : int
        Points per interval.

    Returns
    -------
    tuple of numpy.ndarray
        ``(birth, death)``, shape ``(n, n_clones)``, per day.
    """
    edges = np.asarray(edges, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise InputError("must be an increasing grid of at least two times", field="edges")
    frac = (np.arange(samples) + 0.5) / samples
    t = edges[:-1, None] + np.diff(edges)[:, None] * frac[None, :]
    scale = scale or {}
    conc = {
        name: concentration(model.drugs[name], t, np.asarray(times), scale=scale.get(name, 1.0))
        for name, times in doses.items()
    }
    birth, death = effective_rates(model, conc)
    if not conc:
        n = edges.size - 1
        return np.broadcast_to(birth, (n, birth.size)).copy(), np.broadcast_to(
            death, (n, death.size)
        ).copy()
    return birth.mean(axis=1), death.mean(axis=1)
