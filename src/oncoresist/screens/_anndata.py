"""Screen counts as AnnData, for scverse users: samples x guides, the sample sheet in ``obs``.

The scverse convention is observations (samples) in rows and variables (guides) in columns:
``X`` (or ``layers["counts"]``) holds raw reads, ``obs`` the sample sheet (``condition``,
optionally ``replicate``, ``day``, ``doublings``, ``arm``) and ``var`` each guide's gene
(``gene``, ``Gene``, ``gene_symbol`` or ``target_gene``). An object stored the other way
round (guides in ``obs``, the sheet in ``var``) is read too. ``anndata`` is imported only
here, when a file is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from oncoresist.errors import InputError, MissingExtraError
from oncoresist.screens._sheet import sheet_from_frame

#: Annotation columns that name a guide's gene, in order of preference.
GENE_KEYS = ("gene", "Gene", "gene_symbol", "target_gene", "target")


def _gene_key(frame: pd.DataFrame) -> str | None:
    return next((k for k in GENE_KEYS if k in frame.columns), None)


def _load(path: Path) -> Any:
    try:
        import anndata
    except ImportError:
        raise MissingExtraError("anndata", "sc") from None
    if not path.exists():
        raise InputError("AnnData file not found", file=path)
    try:
        return anndata.read_h5ad(path)
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise InputError(f"not a readable .h5ad file ({exc})", file=path) from None


def read_anndata(
    source: str | Path | Any, *, layer: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Count table and sample sheet from an AnnData object or ``.h5ad`` file.

    Parameters
    ----------
    source : str, Path or anndata.AnnData
        The file, or an object with ``X``, ``obs``, ``var``, ``obs_names``, ``var_names``
        (and optionally ``layers``).
    layer : str, optional
        Layer of raw reads; default ``layers["counts"]`` when present, else ``X``.

    Returns
    -------
    counts : pandas.DataFrame
        As :func:`~oncoresist.screens.read_counts`: index ``sgRNA`` (the guide names),
        column ``gene``, one int64 column per sample.
    sheet : pandas.DataFrame or None
        As :func:`~oncoresist.screens.read_sample_sheet`, from the sample annotation when it
        has a ``condition`` column; ``None`` otherwise.

    Raises
    ------
    InputError
        Naming the file, the guide or sample and the field: no gene column, a duplicated
        guide or sample name, a count that is negative or not a whole number, a malformed
        sheet (see :func:`~oncoresist.screens._sheet.sheet_from_frame`).
    MissingExtraError
        ``anndata`` is not installed and a file was given.
    """
    file: Path | None = None
    if isinstance(source, (str, Path)):
        file = Path(source)
        adata = _load(file)
    else:
        adata = source
    obs, var = adata.obs, adata.var
    samples_in_obs = "condition" in obs.columns or (
        "condition" not in var.columns and _gene_key(var) is not None
    )
    guides = var if samples_in_obs else obs
    axis_name = "var" if samples_in_obs else "obs"
    key = _gene_key(guides)
    if key is None:
        raise InputError(f"no gene column in {axis_name}; expected one of {', '.join(GENE_KEYS)}",
                         file=file, field=f"{axis_name}.gene")  # fmt: skip
    layers = getattr(adata, "layers", {}) or {}
    if layer is not None and layer not in layers:
        raise InputError(f"no layer {layer!r} (layers: {', '.join(layers) or 'none'})",
                         file=file, field="layer")  # fmt: skip
    name = layer if layer is not None else ("counts" if "counts" in layers else None)
    matrix = layers[name] if name is not None else adata.X
    matrix = matrix.toarray() if hasattr(matrix, "toarray") else np.asarray(matrix)
    values = np.asarray(matrix, dtype=float)
    if not samples_in_obs:
        values = values.T  # now samples x guides
    sample_names = [str(s) for s in (adata.obs_names if samples_in_obs else adata.var_names)]
    guide_names = [str(g) for g in (adata.var_names if samples_in_obs else adata.obs_names)]
    sample_axis = "obs" if samples_in_obs else "var"
    for what, names, axis in (("guide", guide_names, axis_name), ("sample", sample_names,
                                                                   sample_axis)):  # fmt: skip
        seen = pd.Index(names)
        if seen.has_duplicates:
            dup = seen[seen.duplicated()][0]
            raise InputError(f"{what} {dup!r} appears twice", file=file,
                             record=f"{axis} {dup!r}", field=f"{axis}_names")  # fmt: skip
    bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
    if bad.any():
        i, j = (int(k[0]) for k in np.nonzero(bad))
        raise InputError(f"count {values[i, j]!r}; expected a whole number >= 0 (raw reads, "
                         "not normalised values)", file=file,
                         record=f"{axis_name} {guide_names[j]!r}",
                         field=sample_names[i])  # fmt: skip
    genes = guides[key].astype(str).str.strip().to_numpy()
    empty = np.flatnonzero(genes == "")
    if empty.size:
        g = guide_names[int(empty[0])]
        raise InputError("empty gene label", file=file, record=f"{axis_name} {g!r}", field=key)
    counts = pd.DataFrame(values.T.astype(np.int64), columns=sample_names,
                          index=pd.Index(guide_names, name="sgRNA"))  # fmt: skip
    counts.insert(0, "gene", genes)
    counts.attrs["unmangled"] = {}
    annotation = obs if samples_in_obs else var
    if "condition" not in annotation.columns:
        return counts, None
    raw = annotation.astype(object).where(annotation.notna(), "").astype(str)
    raw = raw.drop(columns=[c for c in raw.columns if c.strip().lower() == "sample"])
    raw.insert(0, "sample", sample_names)
    records = [f"{sample_axis} {s!r}" for s in sample_names]
    return counts, sheet_from_frame(raw.reset_index(drop=True), file=file, records=records)
