"""Normalisation of count tables: per-sample size factors.

Median ratio to the per-sgRNA geometric mean (default, as DESeq and MAGeCK), total count, or
median ratio over control sgRNAs (non-targeting or safe-targeting guides).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from oncoresist.errors import InputError


def size_factors(
    counts: pd.DataFrame,
    *,
    method: Literal["median", "total", "control"] = "median",
    controls: Sequence[str] | None = None,
) -> pd.Series:
    """Per-sample size factors (reads), so that ``counts / factor`` are comparable.

    ``counts`` holds one column per sample (the ``gene`` column, if present, is ignored);
    ``controls`` names control sgRNAs for ``method="control"``.
    """
    x = counts.drop(columns=["gene"], errors="ignore").astype(float)
    if method == "total":
        tot = x.sum()
        return tot / np.exp(np.log(tot).mean())
    if method == "control":
        if not controls:
            raise InputError("control normalisation needs control sgRNAs", field="controls")
        x = x.loc[x.index.intersection(list(controls))]
        if x.empty:
            raise InputError("none of the control sgRNAs is in the table", field="controls")
    elif method != "median":
        raise InputError(f"unknown method {method!r}; expected median, total or control",
                         field="method")  # fmt: skip
    with np.errstate(divide="ignore"):
        logx = np.log(x.where(x > 0))
    geo = logx.mean(axis=1, skipna=False)
    ok = np.isfinite(geo)
    if not ok.any():
        raise InputError("no sgRNA has reads in every sample", field="counts")
    return np.exp(logx[ok].sub(geo[ok], axis=0).median())
