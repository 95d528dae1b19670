"""Resistant sub-populations: cells (or clusters) high in a programme, compared between conditions.

A cell is *high* when its programme score exceeds a threshold set on the control condition
(by default its 95th percentile, pooled over control cells), so about 5 % of control cells
are high by construction. The fraction of high cells is computed per sample, and the fractions
are compared between conditions with the samples as replicates: a paired t-test on the
empirical logits of the fractions when a pair key (patient) is given, a Welch t-test
otherwise (or the Wilcoxon signed-rank / Mann–Whitney test on the fractions). Cells are never
treated as replicates: with fewer than two samples per condition no test is made.

References
----------
Crowell H.L. et al., "muscat detects subpopulation-specific state transitions from multi-sample
multi-condition single-cell transcriptomics data", Nat Commun 11:6077 (2020) (samples, not
cells, as replicates).
Cox D.R., "The Analysis of Binary Data" (1970) (empirical logit, adding 1/2).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from oncoresist.errors import InputError

Test = Literal["t", "wilcoxon"]


def programme_scores(adata: Any, programme: str, *, obsm_key: str | None = None) -> pd.Series:
    """Find one programme's per-cell scores: in ``obsm[obsm_key]``, any ``obsm`` frame, or ``obs``.

    Raises
    ------
    InputError
        When no frame (or ``obs``) has the column, naming where it looked.
    """
    file = getattr(adata, "filename", None)
    if obsm_key is not None:
        frame = adata.obsm.get(obsm_key)
        if not isinstance(frame, pd.DataFrame) or programme not in frame.columns:
            raise InputError(f"no programme {programme!r} there; run score() first or pick "
                             "another obsm key", file=file, field=f"obsm/{obsm_key}")  # fmt: skip
        return frame[programme].astype(float)
    hits = [key for key, value in adata.obsm.items()
            if isinstance(value, pd.DataFrame) and programme in value.columns]  # fmt: skip
    if len(hits) > 1:
        raise InputError(f"programme {programme!r} is in several obsm frames "
                         f"({', '.join(hits)}); expected obsm_key= to choose one",
                         file=file, field="obsm")  # fmt: skip
    if hits:
        return adata.obsm[hits[0]][programme].astype(float)
    if programme in adata.obs.columns:
        return pd.to_numeric(adata.obs[programme], errors="raise").astype(float)
    frames = [k for k, v in adata.obsm.items() if isinstance(v, pd.DataFrame)]
    raise InputError(f"programme {programme!r} not found in obs or in the obsm frames "
                     f"({', '.join(frames) or 'none'}); expected score() to have run",
                     file=file, field="obsm")  # fmt: skip


def _column(adata: Any, key: str, role: str) -> pd.Series:
    if key not in adata.obs.columns:
        columns = ", ".join(map(str, adata.obs.columns))
        raise InputError(f"no obs column {key!r} (columns: {columns}); expected the {role} of "
                         "each cell", file=getattr(adata, "filename", None),
                         field=f"obs/{key}")  # fmt: skip
    return adata.obs[key].astype(str)


def _empirical_logit(high: np.ndarray, n: np.ndarray) -> np.ndarray:
    return np.log((high + 0.5) / (n - high + 0.5))


def compare_fractions(
    table: pd.DataFrame, *, control: str, treated: str, paired: bool, test: Test = "t"
) -> dict[str, Any]:
    """Compare per-sample fractions of high cells between two conditions.

    Parameters
    ----------
    table
        One row per sample: ``condition``, ``pair`` (used when ``paired``), ``n_cells``,
        ``n_high``, ``fraction``.
    control, treated
        The two conditions.
    paired
        Pair samples by ``pair`` (samples without a partner are dropped).
    test
        ``"t"`` (t-test on empirical logits) or ``"wilcoxon"`` (rank test on fractions).

    Returns
    -------
    dict
        ``n_samples_control``, ``n_samples_treated``, ``n_pairs``, ``mean_fraction_control``,
        ``mean_fraction_treated``, ``log2_fold`` (of the mean fractions), ``effect`` (mean
        difference of logits, treated - control), ``statistic``, ``pvalue``, ``test``.
    """
    a = table[table["condition"] == control]
    b = table[table["condition"] == treated]
    if len(a) < 2 or len(b) < 2:
        raise InputError(
            f"{len(a)} sample(s) in {control!r} and {len(b)} in {treated!r}; expected at least "
            "2 samples per condition: cells are not replicates, so no test is made",
            field="condition")  # fmt: skip
    out: dict[str, Any] = {
        "n_samples_control": len(a),
        "n_samples_treated": len(b),
        "mean_fraction_control": float(a["fraction"].mean()),
        "mean_fraction_treated": float(b["fraction"].mean()),
    }
    out["log2_fold"] = float(np.log2((out["mean_fraction_treated"] + 1e-9)
                                     / (out["mean_fraction_control"] + 1e-9)))  # fmt: skip
    la = _empirical_logit(a["n_high"].to_numpy(float), a["n_cells"].to_numpy(float))
    lb = _empirical_logit(b["n_high"].to_numpy(float), b["n_cells"].to_numpy(float))
    if paired:
        merged = pd.DataFrame({"pair": a["pair"].to_numpy(), "la": la, "fa": a["fraction"]
                               .to_numpy()}).merge(pd.DataFrame({"pair": b["pair"].to_numpy(),
                               "lb": lb, "fb": b["fraction"].to_numpy()}), on="pair")  # fmt: skip
        if len(merged) < 2:
            raise InputError(f"{len(merged)} pair(s) with both {control!r} and {treated!r}; "
                             "expected at least 2 for a paired test", field="pair")  # fmt: skip
        out["n_pairs"] = len(merged)
        differences = (merged["lb"] - merged["la"]).to_numpy()
        out["effect"] = float(differences.mean())
        flat = np.ptp(differences) == 0
        name = "paired t-test on empirical logits" if test == "t" else (
            "Wilcoxon signed-rank on fractions")  # fmt: skip
    else:
        out["n_pairs"] = 0
        out["effect"] = float(lb.mean() - la.mean())
        flat = np.ptp(la) == 0 and np.ptp(lb) == 0
        name = "Welch t-test on empirical logits" if test == "t" else "Mann-Whitney U on fractions"
    if flat:  # no variation between replicates: a test would divide by zero
        statistic, pvalue = (0.0, 1.0) if out["effect"] == 0 else (np.nan, np.nan)
        if out["effect"] != 0:
            name += " (not computed: no variation between samples)"
    else:
        if paired and test == "t":
            res = stats.ttest_rel(merged["lb"], merged["la"])
        elif paired:
            res = stats.wilcoxon(merged["fb"], merged["fa"], zero_method="zsplit")
        elif test == "t":
            res = stats.ttest_ind(lb, la, equal_var=False)
        else:
            res = stats.mannwhitneyu(b["fraction"], a["fraction"], alternative="two-sided")
        statistic, pvalue = float(res.statistic), float(res.pvalue)
    out.update(statistic=statistic, pvalue=pvalue, test=name)
    return out


def resistant_subpopulations(
    adata: Any,
    programme: str,
    *,
    sample: str,
    condition: str,
    control: str,
    treated: str | None = None,
    pair: str | None = None,
    groupby: str | None = None,
    obsm_key: str | None = None,
    quantile: float = 0.95,
    threshold: float | None = None,
    test: Test = "t",
    key_added: str = "oncoresist_subpop",
    copy: bool = False,
) -> pd.DataFrame | tuple[Any, pd.DataFrame]:
    """Find cells (or clusters) high in a programme and compare their fraction between conditions.

    Parameters
    ----------
    adata
        A :class:`CellData` or ``anndata.AnnData`` scored by :func:`score` (or with the
        programme as an ``obs`` column).
    programme
        Programme name (a column of an ``obsm`` score frame, or of ``obs``).
    sample
        ``obs`` column naming each cell's sample (the replicate unit).
    condition
        ``obs`` column with the condition (e.g. ``ctrl`` / ``drug``).
    control
        The control condition: the threshold is set on its cells.
    treated
        The condition(s) compared with ``control``; default every other condition.
    pair
        ``obs`` column pairing samples across conditions (patient): a paired test.
    groupby
        ``obs`` column of clusters: a cluster is high when its median score exceeds the
        threshold, and all its cells count as high (cluster-level sub-populations).
    obsm_key
        Which ``obsm`` frame holds the programme, when several do.
    quantile
        The control cells' quantile used as threshold (0.95: about 5 % of control cells high).
    threshold
        A fixed score threshold instead of the quantile.
    test
        ``"t"`` (t-test on empirical logits; paired with ``pair``) or ``"wilcoxon"``.
    key_added
        ``obs[key_added]`` gets the high/low call per cell; ``uns[key_added]`` the threshold,
        its rule, the per-sample table (``samples``) and the results (``results``).
    copy
        Return ``(copy, results)`` instead of editing ``adata``.

    Returns
    -------
    DataFrame
        One row per treated condition: ``programme``, ``control``, ``treated``,
        ``n_samples_control``, ``n_samples_treated``, ``n_pairs``, ``mean_fraction_control``,
        ``mean_fraction_treated``, ``log2_fold``, ``effect``, ``statistic``, ``pvalue``,
        ``test``, ``threshold``, ``threshold_rule``.

    Raises
    ------
    InputError
        Missing columns or programme, an unknown control, or fewer than 2 samples per
        condition (2 pairs when paired).

    Examples
    --------
    >>> score(cd, "resistance")  # doctest: +SKIP
    >>> resistant_subpopulations(cd, "persister", sample="sample", condition="condition",
    ...                          control="ctrl", pair="patient")  # doctest: +SKIP
    """
    target = adata.copy() if copy else adata
    scores = programme_scores(target, programme, obsm_key=obsm_key).to_numpy()
    samples = _column(target, sample, "sample")
    conditions = _column(target, condition, "condition")
    pairs = _column(target, pair, "pair (patient)") if pair is not None else None
    if control not in set(conditions):
        known = ", ".join(sorted(set(conditions)))
        raise InputError(f"control {control!r} is not a condition (conditions: {known})",
                         field=f"obs/{condition}")  # fmt: skip
    others = sorted(set(conditions) - {control}) if treated is None else [treated]
    for name in others:
        if name not in set(conditions):
            raise InputError(f"treated {name!r} is not a condition", field=f"obs/{condition}")
    per_sample = pd.DataFrame({"sample": samples.to_numpy(), "condition": conditions.to_numpy()})
    mixed = per_sample.groupby("sample")["condition"].nunique()
    if (mixed > 1).any():
        raise InputError(f"sample {mixed[mixed > 1].index[0]!r} has cells in several conditions; "
                         "expected one condition per sample", field=f"obs/{sample}")  # fmt: skip
    if not np.all(np.isfinite(scores)):
        raise InputError(f"programme {programme!r} has missing scores; expected a score per cell",
                         field="obsm")  # fmt: skip
    is_control = conditions.to_numpy() == control
    if threshold is None:
        if not 0 < quantile < 1:
            raise InputError(f"quantile={quantile}; expected between 0 and 1", field="quantile")
        cut = float(np.quantile(scores[is_control], quantile))
        rule = f"{quantile:g} quantile of the {control!r} cells' scores (pooled)"
    else:
        cut, rule = float(threshold), "fixed threshold"
    high = scores > cut
    groups_table = None
    if groupby is not None:
        groups = _column(target, groupby, "cluster")
        medians = pd.Series(scores).groupby(groups.to_numpy()).median()
        high_groups = set(medians.index[medians > cut])
        high = groups.isin(high_groups).to_numpy()
        groups_table = pd.DataFrame({"group": medians.index.astype(str),
                                     "median_score": medians.to_numpy(),
                                     "high": medians.to_numpy() > cut})  # fmt: skip
        rule += f"; cluster-level ({groupby!r}: median score above it)"
    frame = pd.DataFrame({"sample": samples.to_numpy(), "condition": conditions.to_numpy(),
                          "high": high})  # fmt: skip
    frame["pair"] = pairs.to_numpy() if pairs is not None else ""
    table = (frame.groupby(["sample", "condition", "pair"], observed=True)
             .agg(n_cells=("high", "size"), n_high=("high", "sum")).reset_index())  # fmt: skip
    table["fraction"] = table["n_high"] / table["n_cells"]
    rows = []
    for name in others:
        result = compare_fractions(table, control=control, treated=name,
                                   paired=pair is not None, test=test)  # fmt: skip
        rows.append({"programme": programme, "control": control, "treated": name, **result,
                     "threshold": cut, "threshold_rule": rule})  # fmt: skip
    results = pd.DataFrame(rows)
    target.obs[key_added] = pd.Categorical(np.where(high, "high", "low"),
                                           categories=["low", "high"])  # fmt: skip
    record: dict[str, Any] = {"programme": programme, "threshold": cut, "threshold_rule": rule,
                              "samples": table, "results": results}  # fmt: skip
    if groups_table is not None:
        record["groups"] = groups_table
    target.uns[key_added] = record
    return (target, results) if copy else results
