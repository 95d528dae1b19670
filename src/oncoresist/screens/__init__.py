"""Pooled CRISPR knockout screens under a targeted drug.

Read counts and a sample sheet, compare the drug arm with vehicle or T0 (paired replicates,
several days, the drug arm's slower growth), score sgRNAs and rank genes in both directions
(enriched = resistance, depleted = sensitisation) with MAGeCK- and drugZ-compatible columns.

* :func:`read_counts`, :func:`read_sample_sheet`, :func:`read_anndata`,
  :func:`select_arm` -- inputs, checked (count tables, sample sheets with several arms and
  days, AnnData);
* :func:`analyze` -- the whole comparison (:class:`ScreenResult`);
* :func:`size_factors`, :func:`depth_matched_log2`, :func:`sgrna_test`, :func:`alpha_rra`,
  :func:`gene_summary` -- the steps, for other designs.

See :mod:`oncoresist.screens._model` and :mod:`oncoresist.screens._analysis` for the methods
and their references.
"""

from __future__ import annotations

from oncoresist.screens._analysis import (
    alpha_rra,
    gene_summary,
    ranked_view,
    rra_pvalue,
    sgrna_test,
)
from oncoresist.screens._anndata import read_anndata
from oncoresist.screens._controls import ControlGuides, find_controls, read_control_list
from oncoresist.screens._counts import read_counts, unmangle_gene
from oncoresist.screens._model import build_contrast, growth_ratio, guide_statistics, sumz_test
from oncoresist.screens._normalise import depth_matched_log2, size_factors
from oncoresist.screens._screen import ScreenResult, analyze
from oncoresist.screens._sheet import (
    check_sheet,
    read_sample_sheet,
    select_arm,
    sheet_arms,
    sheet_from_samples,
)

__all__ = [
    "ControlGuides",
    "ScreenResult",
    "alpha_rra",
    "analyze",
    "build_contrast",
    "check_sheet",
    "depth_matched_log2",
    "find_controls",
    "gene_summary",
    "growth_ratio",
    "guide_statistics",
    "ranked_view",
    "read_anndata",
    "read_control_list",
    "read_counts",
    "read_sample_sheet",
    "rra_pvalue",
    "select_arm",
    "sgrna_test",
    "sheet_arms",
    "sheet_from_samples",
    "size_factors",
    "sumz_test",
    "unmangle_gene",
]
