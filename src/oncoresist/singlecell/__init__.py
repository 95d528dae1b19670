"""Single cells under drug: reading, programme scores, resistant sub-populations, abundance,
expression, copy number and the link to the knowledge base (issue 23).

AnnData in, AnnData out: every function accepts a :class:`CellData` or an
``anndata.AnnData`` and writes its results to ``obs``/``obsm``/``uns`` under documented keys
(``key_added=``, ``copy=False``). See docs/singlecell.md.

Names are imported on first use, so ``import oncoresist.singlecell`` stays fast.
"""  # noqa: D205

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "CellData": "_celldata",
    "RawData": "_celldata",
    "read": "_io",
    "read_h5ad": "_io",
    "read_10x_h5": "_io",
    "read_10x_mtx": "_io",
    "write_h5ad": "_io",
    "counts_matrix": "_io",
    "match_genes": "_io",
    "load_progeny": "_genesets",
    "load_hallmark": "_genesets",
    "load_resistance": "_genesets",
    "read_gmt": "_genesets",
    "resistance_programmes": "_genesets",
    "score": "_score",
    "progeny": "_score",
    "resistant_subpopulations": "_subpop",
    "normalise_log1p": "_neighbours",
    "pca": "_neighbours",
    "knn": "_neighbours",
    "simulate_cells": "_simulate",
    "da": "_da",
    "pseudobulk_de": "_de",
    "infer_cnv": "_cnv",
    "cnv_clones": "_cnv",
    "genomic_order": "_cnv",
    "link_programmes": "_link",
    "programme_shifts": "_link",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'oncoresist.singlecell' has no attribute {name!r}")
    value = getattr(import_module(f"oncoresist.singlecell.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
