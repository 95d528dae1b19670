"""Simulated single-cell experiments under drug, with known truth.

Samples are nested in patients (one sample per patient and condition), each sample carries a
batch effect (a size factor and a per-gene log shift), cells belong to states with their own
expression profiles, and one state, the *persister*, expands k-fold on drug in chosen samples.
Genes of a programme (given by the caller or made up) are raised in the persister state, and
planted differentially expressed genes move with the drug in every cell. Counts are negative
binomial (gamma-Poisson) around those means, as in Splatter's model of droplet data.

References
----------
Zappia L., Phipson B., Oshlack A. Splatter: simulation of single-cell RNA sequencing data.
Genome Biol 18:174 (2017). doi:10.1186/s13059-017-1305-0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from oncoresist.errors import InputError

from ._celldata import CellData

__all__ = ["simulate_cells"]

PERSISTER = "persister"


def _state_profiles(
    rng: np.random.Generator, n_states: int, n_genes: int, marker_fraction: float, marker_lfc: float
) -> np.ndarray:
    """Natural-log fold changes of each state against the base profile (states × genes)."""
    lfc = np.zeros((n_states, n_genes))
    n_markers = max(1, round(marker_fraction * n_genes))
    for s in range(n_states):
        genes = rng.choice(n_genes, n_markers, replace=False)
        lfc[s, genes] = rng.normal(0.0, marker_lfc, n_markers)
    return lfc


def _state_counts(
    rng: np.random.Generator,
    n_cells: int,
    n_states: int,
    persister_fraction: float,
    fold: float,
) -> np.ndarray:
    """Cells per state in one sample; the persister is the last state."""
    expanded = persister_fraction * fold
    weights = np.full(n_states, (1.0 - expanded) / (n_states - 1))
    weights[-1] = expanded
    return rng.multinomial(n_cells, weights)


def simulate_cells(
    *,
    n_patients: int = 3,
    conditions: tuple[str, str] = ("ctrl", "drug"),
    cells_per_sample: int = 800,
    n_genes: int = 1000,
    n_states: int = 4,
    persister_fraction: float = 0.05,
    persister_fold: float = 5.0,
    expanded_samples: Sequence[str] | None = None,
    programme_genes: Sequence[str] | None = None,
    n_programme_genes: int = 20,
    programme_lfc: float = 1.5,
    n_de_genes: int = 40,
    de_lfc: float = 1.0,
    marker_fraction: float = 0.05,
    marker_lfc: float = 1.5,
    batch_sd: float = 0.2,
    size_factor_sd: float = 0.2,
    library_mean: float = 3000.0,
    dispersion: float = 0.3,
    rng: np.random.Generator | int | None = 0,
) -> CellData:
    """Simulate counts of cells from patients sampled before and on drug.

    Parameters
    ----------
    n_patients
        Patients; each gives one sample per condition (``n_patients * 2`` samples).
    conditions
        Names of the control and drug conditions, in that order.
    cells_per_sample
        Cells drawn per sample.
    n_genes
        Genes (named ``gene0`` ...; programme genes keep the names given).
    n_states
        Cell states including the persister state (named ``state0`` ... and ``persister``).
    persister_fraction
        Fraction of persister cells in a sample where it does not expand.
    persister_fold
        Fold change of the persister state's fraction on drug in ``expanded_samples``
        (``5``: five times the fraction, the other states shrinking evenly; ``1`` = null);
        ``persister_fraction * persister_fold`` must stay below 1.
    expanded_samples
        Samples (``"P1_drug"`` ...) where the persister expands; default every drug sample.
    programme_genes
        Names of the genes planted up in the persister state (e.g. a resistance programme's
        genes, so programme scores can be checked to rank that state first); default
        ``n_programme_genes`` made-up names ``prog0`` ....
    n_programme_genes
        Number of made-up programme genes when ``programme_genes`` is not given.
    programme_lfc
        Natural-log fold change of the programme genes in persister cells.
    n_de_genes
        Genes changed by the drug in every cell (half up, half down).
    de_lfc
        Natural-log fold change of those genes on drug (``1`` ≈ 2.7-fold).
    marker_fraction, marker_lfc
        Fraction of genes that mark each state, and the SD of their natural-log fold changes.
    batch_sd
        SD of the per-sample, per-gene natural-log shift (batch effect).
    size_factor_sd
        SD of the per-sample natural-log size factor (sequencing depth per sample).
    library_mean
        Mean counts per cell before size factors.
    dispersion
        Negative-binomial dispersion ``phi`` (variance = ``mu + phi mu^2``).
    rng
        Seed or generator.

    Returns
    -------
    CellData
        ``X`` (CSR, integer counts) and ``layers["counts"]`` (the same matrix);
        ``obs``: ``patient``, ``condition``, ``sample``, ``state``, ``persister`` (bool),
        ``batch`` (= sample); ``var``: ``symbol``, ``programme`` (bool), ``de_lfc`` (planted
        natural-log fold change on drug, 0 elsewhere); ``uns["truth"]``: ``persister_state``,
        ``persister_fold``, ``expanded_samples``, ``programme_genes``, ``de_genes``,
        ``state_counts`` (DataFrame samples × states), ``dispersion``, ``seed`` (if an int).

    Examples
    --------
    >>> cd = simulate_cells(n_patients=2, cells_per_sample=50, n_genes=100, rng=1)
    >>> cd.shape
    (200, 100)
    >>> sorted(cd.obs["sample"].unique())[:2]
    ['P1_ctrl', 'P1_drug']
    """
    if n_patients < 1 or cells_per_sample < 1 or n_states < 2:
        raise InputError("n_patients and cells_per_sample must be ≥ 1 and n_states ≥ 2")
    if not 0 < persister_fraction < 1:
        raise InputError(f"persister_fraction {persister_fraction}; expected in (0, 1)")
    if persister_fold <= 0 or persister_fraction * persister_fold >= 1 or dispersion < 0:
        raise InputError(
            f"persister_fold {persister_fold}: expected > 0 with persister_fraction × fold < 1;"
            f" dispersion {dispersion}: expected ≥ 0"
        )
    seed = rng if isinstance(rng, int) else None
    rng = np.random.default_rng(rng)
    control, drug = conditions
    prog_names = (
        [str(g) for g in programme_genes]
        if programme_genes is not None
        else [f"prog{i}" for i in range(n_programme_genes)]
    )
    n_prog = len(prog_names)
    if n_prog + n_de_genes > n_genes:
        raise InputError(f"{n_prog} programme + {n_de_genes} DE genes exceed n_genes={n_genes}")
    names = prog_names + [f"gene{i}" for i in range(n_genes - n_prog)]
    if len(set(names)) != n_genes:
        raise InputError("programme_genes repeat a name or clash with gene<i> names")

    base = np.log(rng.gamma(0.6, 1.0 / 0.6, n_genes) + 1e-3)
    base -= np.log(np.exp(base).sum())
    state_lfc = _state_profiles(rng, n_states, n_genes, marker_fraction, marker_lfc)
    state_lfc[-1, :n_prog] = programme_lfc
    de_genes = n_prog + rng.choice(n_genes - n_prog, n_de_genes, replace=False)
    de = np.zeros(n_genes)
    de[de_genes] = np.where(np.arange(n_de_genes) % 2 == 0, de_lfc, -de_lfc)

    samples = [(f"P{p + 1}", c) for p in range(n_patients) for c in (control, drug)]
    sample_names = [f"{p}_{c}" for p, c in samples]
    expanded = (
        [f"{p}_{drug}" for p, _ in samples[::2]]
        if expanded_samples is None
        else [str(s) for s in expanded_samples]
    )
    unknown = sorted(set(expanded) - set(sample_names))
    if unknown:
        raise InputError(
            f"expanded_samples {unknown} are not samples; expected some of {sample_names}"
        )
    state_names = [f"state{i}" for i in range(n_states - 1)] + [PERSISTER]

    blocks, obs_parts, state_table = [], [], []
    for (patient, cond), sname in zip(samples, sample_names, strict=True):
        fold = persister_fold if sname in expanded else 1.0
        per_state = _state_counts(rng, cells_per_sample, n_states, persister_fraction, fold)
        state_table.append(per_state)
        states = np.repeat(np.arange(n_states), per_state)
        shift = rng.normal(0.0, batch_sd, n_genes) + (de if cond == drug else 0.0)
        size = np.exp(rng.normal(0.0, size_factor_sd))
        lib = library_mean * size * np.exp(rng.normal(0.0, 0.3, cells_per_sample))
        logp = base + shift + state_lfc[states]
        p = np.exp(logp - np.log(np.exp(logp).sum(axis=1, keepdims=True)))
        mu = lib[:, None] * p
        lam = rng.gamma(1.0 / dispersion, mu * dispersion) if dispersion > 0 else mu
        blocks.append(sparse.csr_matrix(rng.poisson(lam).astype(np.int32)))
        obs_parts.append(
            pd.DataFrame(
                {
                    "patient": patient,
                    "condition": cond,
                    "sample": sname,
                    "state": np.asarray(state_names)[states],
                    "persister": states == n_states - 1,
                    "batch": sname,
                }
            )
        )
    X = sparse.vstack(blocks, format="csr")
    obs = pd.concat(obs_parts, ignore_index=True)
    for col in ("patient", "condition", "sample", "state", "batch"):
        obs[col] = obs[col].astype("category")
    obs.index = pd.Index([f"cell{i}" for i in range(len(obs))])
    var = pd.DataFrame(
        {"symbol": names, "programme": np.arange(n_genes) < n_prog, "de_lfc": de}, index=names
    )
    truth = {
        "persister_state": PERSISTER,
        "persister_fold": float(persister_fold),
        "expanded_samples": expanded,
        "programme_genes": prog_names,
        "de_genes": [names[i] for i in de_genes],
        "state_counts": pd.DataFrame(state_table, index=sample_names, columns=state_names),
        "dispersion": float(dispersion),
    }
    if seed is not None:
        truth["seed"] = seed
    return CellData(X, obs, var, layers={"counts": X}, uns={"truth": truth})
