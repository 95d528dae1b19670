"""Simulated pooled screens with a known truth, for calibration tests and benchmarks.

Each guide starts at a log-normal library abundance. Every replicate infection draws the
cells that carry each guide (gamma with shape ``coverage``: fewer cells per guide, more
bottleneck noise); the infected pool is split into a vehicle and a drug arm, which grow for
``doublings`` and ``doublings * growth`` population doublings. A gene's fitness effect acts
per doubling in both arms; its drug effect (log2, planted on ``hits`` genes per direction)
acts in the drug arm only, on the fraction ``efficiency`` of its guides that cut. The drug
arm passes through a second bottleneck (``drug_coverage`` cells per guide). Reads are
negative binomial around each sample's depth (``reads_per_guide``) with ``dispersion``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def simulate_screen(
    *,
    genes: int = 2000,
    guides_per_gene: int = 4,
    replicates: int = 2,
    reads_per_guide: float = 500.0,
    coverage: float = 300.0,
    drug_coverage: float = 100.0,
    doublings: float = 10.0,
    growth: float = 0.7,
    essential_fraction: float = 0.1,
    fitness: float = -0.15,
    hits: int = 40,
    effect: float = 2.0,
    efficiency: float = 0.8,
    dispersion: float = 0.01,
    rng: np.random.Generator | int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A screen with T0, vehicle and drug arms and its truth.

    Parameters
    ----------
    fitness : float
        log2 fold change per doubling of the essential genes' guides (both arms).
    effect : float
        |log2 fold change| of a hit's effective guides under drug (``hits`` enriched and
        ``hits`` depleted genes).

    Returns
    -------
    counts : pandas.DataFrame
        Index ``sgRNA``: ``gene`` then ``T0``, ``vehicle_<r>``, ``drug_<r>`` (int64 reads).
    sheet : pandas.DataFrame
        The sample sheet (``sample, condition, replicate, day, doublings``).
    truth : pandas.DataFrame
        Index gene: ``essential`` (bool), ``drug_effect`` (log2; 0 for null genes).
    """
    rng = np.random.default_rng(rng)
    n = genes * guides_per_gene
    names = np.array([f"G{i:05d}" for i in range(genes)])
    gene_of = np.repeat(names, guides_per_gene)
    essential = rng.random(genes) < essential_fraction
    drug_effect = np.zeros(genes)
    chosen = rng.choice(np.flatnonzero(~essential), 2 * hits, replace=False)
    drug_effect[chosen[:hits]] = effect
    drug_effect[chosen[hits:]] = -effect
    cuts = rng.random(n) < efficiency
    per_doubling = np.repeat(np.where(essential, fitness, 0.0), guides_per_gene) * cuts
    drug_guide = np.repeat(drug_effect, guides_per_gene) * cuts
    library = rng.lognormal(0.0, 0.6, n)
    library /= library.sum()

    def reads(share: np.ndarray) -> np.ndarray:
        mean = reads_per_guide * n * share / share.sum()
        size = 1.0 / dispersion
        return rng.negative_binomial(size, size / (size + mean))

    cols = {"T0": reads(library)}
    rows = [("T0", "T0", "1", 0.0, np.nan)]
    for r in range(1, replicates + 1):
        cells = rng.gamma(coverage, library / coverage)
        veh = cells * 2.0 ** (per_doubling * doublings)
        drug = rng.gamma(drug_coverage, cells / drug_coverage)
        drug = drug * 2.0 ** (per_doubling * doublings * growth + drug_guide)
        cols[f"vehicle_{r}"] = reads(veh)
        cols[f"drug_{r}"] = reads(drug)
        rows += [(f"vehicle_{r}", "vehicle", str(r), 14.0, doublings),
                 (f"drug_{r}", "drug", str(r), 14.0, doublings * growth)]  # fmt: skip
    index = pd.Index([f"sg{i:06d}" for i in range(n)], name="sgRNA")
    counts = pd.DataFrame({"gene": gene_of, **cols}, index=index)
    sheet = pd.DataFrame(rows, columns=["sample", "condition", "replicate", "day", "doublings"])
    truth = pd.DataFrame({"essential": essential, "drug_effect": drug_effect},
                         index=pd.Index(names, name="gene"))  # fmt: skip
    return counts, sheet, truth
