"""Score every block of a combination experiment: fits, four models, summaries, uncertainty.

Blocks are stacked by grid shape and scored in chunks, so thousands of blocks cost a few
vectorised passes and memory stays bounded by the chunk size.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from oncoresist.errors import InputError
from oncoresist.synergy._doseresponse import CurveFits, fit_curves
from oncoresist.synergy._io import CombinationData
from oncoresist.synergy._models import (
    bliss_reference,
    block_mean,
    combination_index,
    hsa_reference,
    loewe_reference,
    most_synergistic_area,
    zip_scores,
)
from oncoresist.synergy._sensitivity import css_scores, relative_inhibition
from oncoresist.synergy._uncertainty import bootstrap_summary, replicate_summary

#: the models :func:`score_blocks` knows; ``"ci"`` adds the Chou-Talalay combination index
MODELS = ("bliss", "hsa", "loewe", "zip")
#: blocks scored together in one vectorised pass
CHUNK_BLOCKS = 1000
#: surfaces (blocks x replicates or bootstrap draws) fitted together
_SURFACES_PER_PASS = 4000


@dataclass
class SynergyResult:
    """Synergy scores of every block of a combination experiment.

    Attributes
    ----------
    blocks
        One row per block: ``block_id, drug_row, drug_col, conc_r_unit, conc_c_unit,
        n_cells`` (combination cells scored), ``n_replicates`` (most replicates in a cell),
        ``uncertainty`` (how intervals were made: ``"replicates"``, ``"parametric
        bootstrap"`` or ``"none"``); per model ``<model>`` (mean score over the combination
        cells, percentage points), ``<model>_lo``/``<model>_hi`` (95 % interval) and
        ``<model>_p`` (two-sided p-value of mean 0) when replicates or ``n_boot`` allow,
        ``<model>_msa`` (most synergistic 3x3 area) with ``<model>_msa_conc_r_lo/_hi`` and
        ``<model>_msa_conc_c_lo/_hi`` (its dose ranges); ``ic50_row``, ``ic50_col`` (with
        ``_lo``/``_hi``), ``ri_row``, ``ri_col`` (relative inhibition, %), ``css_row``
        (row drug's sensitivity with the column drug at its IC50), ``css_col``, ``css``;
        ``fit_status_row``, ``fit_status_col``; ``ci`` (median combination index) when asked.
    cells
        One row per block x (conc_r, conc_c): ``block_id, drug_row, drug_col, conc_r,
        conc_c, n`` (replicates), ``response`` (mean % inhibition), per model ``<model>``
        (observed - reference, percentage points) and ``<model>_ref``; ``zip_fit`` (the
        ZIP fitted surface); ``<model>_lo/_hi/_p`` with replicates or ``n_boot``; ``ci``.
    fits
        One row per block x drug: ``block_id, role`` (``"row"``/``"col"``), ``drug, unit,
        min, max, ic50, hill`` (4PL, :func:`oncoresist.synergy.ll4`), their ``*_se``,
        ``ic50_lo, ic50_hi, sigma, dof, status``.
    notes
        What was decided on the way (input scale, uncertainty method), in words.
    """

    blocks: pd.DataFrame
    cells: pd.DataFrame
    fits: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        """The three tables (records, NaN as null) and the notes as one JSON document."""

        def records(frame: pd.DataFrame) -> list[dict]:
            return json.loads(frame.to_json(orient="records", double_precision=10))

        return json.dumps({"blocks": records(self.blocks), "cells": records(self.cells),
                           "fits": records(self.fits), "notes": self.notes})  # fmt: skip


@dataclass
class _Grid:
    """Blocks of one grid shape as dense arrays."""

    blocks: np.ndarray  # block codes
    conc_r: np.ndarray  # (B, n_r)
    conc_c: np.ndarray  # (B, n_c)
    mean: np.ndarray  # (B, n_r, n_c)
    count: np.ndarray  # (B, n_r, n_c)
    within: np.ndarray  # (B, n_r, n_c) sum of squares around the cell mean
    reps: np.ndarray  # (B, n_r, n_c, R)


def score_blocks(
    data: CombinationData,
    *,
    models: Sequence[str] = MODELS,
    n_boot: int = 0,
    seed: int | np.random.Generator | None = 0,
    progress: Callable[[int, int], None] | None = None,
    chunk_blocks: int = CHUNK_BLOCKS,
    loewe_flat: Literal["constant", "sham"] = "sham",
    zip_fit: Literal["synergyfinder", "rising"] = "synergyfinder",
) -> SynergyResult:
    """Fit the single drugs and score every block under the chosen models.

    Parameters
    ----------
    data
        The experiment (:func:`read_combinations`). Every block needs its monotherapy row
        and column (wells with the other drug at 0) at every tested dose.
    models
        Any of ``"bliss", "hsa", "loewe", "zip"`` and ``"ci"`` (Chou-Talalay combination
        index, CI < 1 synergy).
    n_boot
        Without replicates: draws of a *parametric bootstrap* (the observed surface plus
        Gaussian noise at the residual sd of the block's monotherapy fits) for intervals and
        p-values; 0 gives none. With replicates intervals come from the replicates and
        ``n_boot`` is not used.
    seed
        Seed or generator of the bootstrap.
    progress
        Called as ``progress(done, total)`` (blocks) after each chunk.
    chunk_blocks
        Blocks scored in one vectorised pass (bounds memory).
    loewe_flat
        Loewe reference beside a drug whose curve does not rise: ``"sham"`` (default,
        SynergyFinder's rule: the larger single-drug prediction at the summed dose) or
        ``"constant"`` (its fitted effect at its own dose; an inactive partner scores 0).
        See :func:`oncoresist.synergy.loewe_reference`.
    zip_fit
        The ZIP fits through the combination: ``"synergyfinder"`` (default, SynergyFinder
        3.7.3's: a line rises or falls as its data trend) or ``"rising"`` (rising curves
        only). See :func:`oncoresist.synergy.zip_scores`.

    Returns
    -------
    SynergyResult
        ``blocks``, ``cells`` and ``fits`` tables (see :class:`SynergyResult`).

    Raises
    ------
    InputError
        Located at the block's first line: a missing monotherapy row or column, an unknown
        model.

    References
    ----------
    Ianevski A., He L., Aittokallio T., Tang J. (2017) SynergyFinder. Bioinformatics
    33:2413. Zheng S. et al. (2022) SynergyFinder Plus. Genomics Proteomics Bioinformatics
    20:587. Yadav B. et al. (2015) Comput Struct Biotechnol J 13:504.

    Examples
    --------
    >>> import pandas as pd
    >>> from oncoresist.synergy import CombinationData
    >>> rows = [(a, b, 100 * (1 - (1 - a / (a + 1)) * (1 - b / (b + 2))))
    ...         for a in (0, 0.5, 1, 2) for b in (0, 1, 2, 4)]
    >>> t = pd.DataFrame(rows, columns=["conc_r", "conc_c", "inhibition"]).assign(
    ...     block_id="1", drug_row="A", drug_col="B", conc_r_unit="uM",
    ...     conc_c_unit="uM", replicate=1)
    >>> res = score_blocks(CombinationData(table=t))
    >>> round(float(res.blocks["bliss"].iloc[0]), 6)
    0.0
    """
    wanted = list(dict.fromkeys(models))
    unknown = [m for m in wanted if m not in (*MODELS, "ci")]
    if unknown or not wanted:
        raise InputError(f"unknown model(s) {unknown}; expected some of "
                         f"{', '.join((*MODELS, 'ci'))}", field="models")  # fmt: skip
    rng = np.random.default_rng(seed)
    table = data.table.reset_index(drop=True)
    codes, names = pd.factorize(table["block_id"].astype(str), sort=False)
    first_row = np.full(len(names), -1)
    first_row[codes[::-1]] = np.arange(len(codes))[::-1]
    grids = _grids(table, codes, data, first_row)
    total = len(names)
    done = 0
    parts: list[tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]] = []
    for grid in grids:
        for start in range(0, len(grid.blocks), chunk_blocks):
            sub = _slice(grid, slice(start, start + chunk_blocks))
            parts.append(_score_grid(sub, wanted, n_boot, rng, loewe_flat, zip_fit))
            done += len(sub.blocks)
            if progress is not None:
                progress(done, total)
    info = table.iloc[first_row][["block_id", "drug_row", "drug_col", "conc_r_unit",
                                  "conc_c_unit"]].reset_index(drop=True)  # fmt: skip
    info["_code"] = np.arange(total)
    blocks = pd.concat([p[0] for p in parts], ignore_index=True)
    cells = pd.concat([p[1] for p in parts], ignore_index=True)
    fits = pd.concat([p[2] for p in parts], ignore_index=True)
    blocks = info.merge(blocks, on="_code").sort_values("_code", kind="stable")
    cells = info[["_code", "block_id", "drug_row", "drug_col"]].merge(cells, on="_code")
    cells = cells.sort_values(["_code", "conc_r", "conc_c"], kind="stable")
    fits = info.merge(fits, on="_code").sort_values(["_code", "role"], ascending=[True, False],
                                                    kind="stable")  # fmt: skip
    fits["drug"] = np.where(fits["role"] == "row", fits["drug_row"], fits["drug_col"])
    fits["unit"] = np.where(fits["role"] == "row", fits["conc_r_unit"], fits["conc_c_unit"])
    fit_cols = ["block_id", "role", "drug", "unit", "min", "max", "ic50", "hill", "min_se",
                "max_se", "ic50_se", "hill_se", "ic50_lo", "ic50_hi", "sigma", "dof",
                "status"]  # fmt: skip
    notes = list(data.notes)
    method = set(blocks["uncertainty"])
    if "parametric bootstrap" in method:
        notes.append(f"intervals and p-values from a parametric bootstrap ({n_boot} draws: the "
                     "observed surface plus Gaussian noise at the residual sd of the "
                     "monotherapy fits), not from replicates")  # fmt: skip
    if "replicates" in method:
        notes.append("intervals and p-values from the replicates (each replicate scored on "
                     "its own; Student t on the replicate scores)")  # fmt: skip
    return SynergyResult(
        blocks=blocks.drop(columns="_code").reset_index(drop=True),
        cells=cells.drop(columns="_code").reset_index(drop=True),
        fits=fits[fit_cols].reset_index(drop=True),
        notes=notes,
    )


def _levels(codes: np.ndarray, conc: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """Rank of each row's dose within its block, and the per-block dose levels."""
    key = pd.DataFrame({"b": codes, "c": conc})
    uniq = key.drop_duplicates().sort_values(["b", "c"], kind="stable")
    uniq["k"] = uniq.groupby("b").cumcount()
    rank = key.merge(uniq, on=["b", "c"], how="left")["k"].to_numpy()
    return rank, uniq


def _grids(
    table: pd.DataFrame, codes: np.ndarray, data: CombinationData, first_row: np.ndarray
) -> list[_Grid]:
    conc_r = table["conc_r"].to_numpy(float)
    conc_c = table["conc_c"].to_numpy(float)
    resp = table["inhibition"].to_numpy(float)
    i_r, lev_r = _levels(codes, conc_r)
    i_c, lev_c = _levels(codes, conc_c)
    n_blocks = codes.max() + 1 if len(codes) else 0
    n_r = np.bincount(lev_r["b"], minlength=n_blocks)
    n_c = np.bincount(lev_c["b"], minlength=n_blocks)
    shapes = pd.DataFrame({"n_r": n_r, "n_c": n_c}).groupby(["n_r", "n_c"]).indices
    grids = []
    for (nr, nc), members in shapes.items():
        members = np.sort(members)
        local = np.full(n_blocks, -1)
        local[members] = np.arange(len(members))
        rows = np.flatnonzero(local[codes] >= 0)
        cell = (local[codes[rows]] * nr + i_r[rows]) * nc + i_c[rows]
        size = len(members) * nr * nc
        count = np.bincount(cell, minlength=size).astype(float)
        total = np.bincount(cell, weights=resp[rows], minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        within = np.bincount(cell, weights=(resp[rows] - mean[cell]) ** 2, minlength=size)
        pos = pd.Series(cell).groupby(cell).cumcount().to_numpy()
        n_rep = int(pos.max()) + 1 if len(pos) else 1
        reps = np.full(size * n_rep, np.nan)
        reps[cell * n_rep + pos] = resp[rows]
        lr = lev_r[lev_r["b"].isin(members)].sort_values(["b", "k"])["c"].to_numpy()
        lc = lev_c[lev_c["b"].isin(members)].sort_values(["b", "k"])["c"].to_numpy()
        grid = _Grid(
            blocks=members,
            conc_r=lr.reshape(len(members), nr),
            conc_c=lc.reshape(len(members), nc),
            mean=mean.reshape(len(members), nr, nc),
            count=count.reshape(len(members), nr, nc),
            within=within.reshape(len(members), nr, nc),
            reps=reps.reshape(len(members), nr, nc, n_rep),
        )
        _check_monotherapies(grid, table, data, first_row)
        grids.append(grid)
    return grids


def _check_monotherapies(
    grid: _Grid, table: pd.DataFrame, data: CombinationData, first_row: np.ndarray
) -> None:
    """Every block needs both monotherapies at every tested dose."""
    for axis, (conc, role, other) in enumerate(((grid.conc_r, "drug_row", "conc_c"),
                                                (grid.conc_c, "drug_col", "conc_r"))):  # fmt: skip
        mono = grid.count[:, 1:, 0] if axis == 0 else grid.count[:, 0, 1:]
        no_zero = grid.conc_c[:, 0] > 0 if axis == 0 else grid.conc_r[:, 0] > 0
        missing = no_zero | (mono == 0).any(axis=1)
        if not missing.any():
            continue
        k = int(np.flatnonzero(missing)[0])
        row = int(first_row[grid.blocks[k]])
        drug = table[role].iloc[row]
        bid = table["block_id"].iloc[row]
        if no_zero[k]:
            why = (f"block {bid!r} has no monotherapy wells of {drug!r} ({other} = 0 in no "
                   f"well); synergy needs each drug alone at every tested dose")  # fmt: skip
        else:
            dose = conc[k, 1:][mono[k] == 0][0]
            why = (f"block {bid!r} has no monotherapy well of {drug!r} at "
                   f"{'conc_r' if axis == 0 else 'conc_c'} = {dose:g} ({other} = 0); "
                   "synergy needs each drug alone at every tested dose")  # fmt: skip
        raise InputError(why, file=data.source, record=data.line_of(row), field=other)


def _slice(grid: _Grid, sl: slice | np.ndarray) -> _Grid:
    return _Grid(*(getattr(grid, f)[sl] for f in grid.__dataclass_fields__))


def fit_monotherapies(
    y: np.ndarray,
    weight: np.ndarray,
    conc_r: np.ndarray,
    conc_c: np.ndarray,
    within: np.ndarray | None = None,
) -> tuple[CurveFits, CurveFits]:
    """4PL fits of the row drug (column 0) and the column drug (row 0) of each surface."""
    w_r, w_c = weight[:, :, 0], weight[:, 0, :]
    ws_r = None if within is None else within[:, :, 0].sum(1)
    ws_c = None if within is None else within[:, 0, :].sum(1)
    fit_r = fit_curves(conc_r, y[:, :, 0], w_r, within_ss=ws_r, n_obs=w_r.sum(1))
    fit_c = fit_curves(conc_c, y[:, 0, :], w_c, within_ss=ws_c, n_obs=w_c.sum(1))
    return fit_r, fit_c


def score_surfaces(
    y: np.ndarray,
    weight: np.ndarray,
    conc_r: np.ndarray,
    conc_c: np.ndarray,
    models: Sequence[str],
    within: np.ndarray | None = None,
    loewe_flat: Literal["constant", "sham"] = "sham",
    zip_fit: Literal["synergyfinder", "rising"] = "synergyfinder",
) -> tuple[dict[str, np.ndarray], tuple[CurveFits, CurveFits], np.ndarray | None]:
    """References of each model on stacked surfaces, with the monotherapy fits.

    Returns ``({model: reference}, (fit_row, fit_col), zip_fitted_surface_or_None)``; the
    score of a model is ``y - reference``.
    """
    fit_r, fit_c = fit_monotherapies(y, weight, conc_r, conc_c, within)
    refs: dict[str, np.ndarray] = {}
    fitted = None
    if "bliss" in models:
        refs["bliss"] = bliss_reference(y)
    if "hsa" in models:
        refs["hsa"] = hsa_reference(y)
    if "loewe" in models:
        refs["loewe"] = loewe_reference(y, conc_r, conc_c, fit_r, fit_c, flat=loewe_flat)
    if "zip" in models:
        refs["zip"], fitted = zip_scores(y, weight, conc_r, conc_c, fit_r, fit_c, fit=zip_fit)
    return refs, (fit_r, fit_c), fitted


def _model_scores(
    y: np.ndarray,
    weight: np.ndarray,
    conc_r: np.ndarray,
    conc_c: np.ndarray,
    models: Sequence[str],
    loewe_flat: Literal["constant", "sham"],
    zip_fit: Literal["synergyfinder", "rising"],
) -> dict[str, np.ndarray]:
    """Per-cell scores of each model (the ZIP delta for ``zip``), in passes of bounded size."""
    out: dict[str, list[np.ndarray]] = {m: [] for m in models if m != "ci"}
    for s in range(0, y.shape[0], _SURFACES_PER_PASS):
        sl = slice(s, s + _SURFACES_PER_PASS)
        refs, _, fitted = score_surfaces(y[sl], weight[sl], conc_r[sl], conc_c[sl], models,
                                         loewe_flat=loewe_flat, zip_fit=zip_fit)  # fmt: skip
        for m, ref in refs.items():
            obs = fitted if m == "zip" else y[sl]
            out[m].append(obs - ref)
    return {m: np.concatenate(v) for m, v in out.items()}


def _score_grid(
    g: _Grid,
    models: list[str],
    n_boot: int,
    rng: np.random.Generator,
    loewe_flat: Literal["constant", "sham"],
    zip_fit: Literal["synergyfinder", "rising"],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    n_b, n_r, n_c = g.mean.shape
    refs, (fit_r, fit_c), fitted = score_surfaces(g.mean, g.count, g.conc_r, g.conc_c, models,
                                                  g.within, loewe_flat, zip_fit)  # fmt: skip
    scores = {m: (fitted if m == "zip" else g.mean) - r for m, r in refs.items()}
    cells: dict[str, np.ndarray] = {
        "_code": np.repeat(g.blocks, n_r * n_c),
        "conc_r": np.repeat(g.conc_r, n_c, axis=1).ravel(),
        "conc_c": np.tile(g.conc_c, (1, n_r)).ravel(),
        "n": g.count.ravel().astype(int),
        "response": g.mean.ravel(),
    }
    blocks: dict[str, np.ndarray | list] = {"_code": g.blocks}
    combo_ok = (g.count[:, 1:, 1:] > 0).reshape(n_b, -1)
    blocks["n_cells"] = combo_ok.sum(1)
    blocks["n_replicates"] = g.count.reshape(n_b, -1).max(1).astype(int)
    for m, sc in scores.items():
        cells[m] = sc.ravel()
        cells[f"{m}_ref"] = refs[m].ravel()
        blocks[m] = block_mean(sc)
    if fitted is not None:
        cells["zip_fit"] = fitted.ravel()

    # uncertainty: replicates scored one by one, else a parametric bootstrap on request
    n_rep = g.reps.shape[3]
    has_reps = (g.count[:, 1:, 1:] >= 2).any(axis=(1, 2)) & (n_rep >= 2)
    method = np.where(has_reps, "replicates", "parametric bootstrap" if n_boot > 0 else "none")
    blocks["uncertainty"] = method
    score_models = [m for m in models if m != "ci"]
    for key, summary in (("replicates", replicate_summary),
                         ("parametric bootstrap", bootstrap_summary)):  # fmt: skip
        idx = np.flatnonzero(method == key)
        if idx.size == 0:
            continue
        sub = _slice(g, idx)
        sigma = _pooled_sigma(fit_r, fit_c)[idx]
        draws = _draws(
            sub, score_models, key == "replicates", n_boot, sigma, rng, loewe_flat, zip_fit
        )
        extra = {} if key == "replicates" else {"dof": (fit_r.dof + fit_c.dof)[idx]}
        for m in score_models:
            cell_draws, block_draws = draws[m]
            per_cell = summary(scores[m][idx], cell_draws, **extra)
            per_block = summary(blocks[m][idx, None, None], block_draws[:, :, None, None],
                                **extra)  # fmt: skip
            for stat in ("lo", "hi", "p"):
                col = cells.setdefault(f"{m}_{stat}", np.full(n_b * n_r * n_c, np.nan))
                col.reshape(n_b, -1)[idx] = per_cell[stat].reshape(idx.size, -1)
                blocks.setdefault(f"{m}_{stat}", np.full(n_b, np.nan))[idx] = per_block[stat][
                    :, 0, 0
                ]

    for m in score_models:
        _msa_columns(blocks, m, scores[m], g)
    if "ci" in models:
        ci = combination_index(g.mean, g.conc_r, g.conc_c)
        cells["ci"] = ci.ravel()
        flat = ci[:, 1:, 1:].reshape(n_b, -1)
        has = (~np.isnan(flat)).any(1)
        blocks["ci"] = np.where(has, np.nanmedian(np.where(has[:, None], flat, 0.0), axis=1),
                                np.nan)  # fmt: skip
    _sensitivity_columns(blocks, g, fit_r, fit_c)
    fits = pd.concat([
        fit_r.to_frame().assign(_code=g.blocks, role="row"),
        fit_c.to_frame().assign(_code=g.blocks, role="col"),
    ], ignore_index=True)  # fmt: skip
    return pd.DataFrame(blocks), pd.DataFrame(cells), fits


def _pooled_sigma(fit_r: CurveFits, fit_c: CurveFits) -> np.ndarray:
    """Residual sd pooled over a block's two monotherapy fits (NaN when neither has one)."""
    var = np.stack([fit_r.sigma**2, fit_c.sigma**2])
    ok = np.isfinite(var)
    n = ok.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.sqrt(np.where(ok, var, 0.0).sum(0) / np.maximum(n, 1)), np.nan)


def _draws(
    g: _Grid,
    models: list[str],
    replicates: bool,
    n_boot: int,
    sigma: np.ndarray,
    rng: np.random.Generator,
    loewe_flat: Literal["constant", "sham"],
    zip_fit: Literal["synergyfinder", "rising"],
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-cell and per-block scores of each replicate, or of each bootstrap draw.

    Returns ``{model: (cells (B, K, n_r, n_c), block means (B, K))}``; NaN where a block has
    no such replicate, where a cell or one of its monotherapies is missing from it, or where
    a replicate has fewer than two doses of a drug alone.
    """
    n_b, n_r, n_c = g.mean.shape
    if replicates:
        k = g.reps.shape[3]
        surf = np.moveaxis(g.reps, 3, 1)  # (B, R, n_r, n_c)
    else:
        k = n_boot
        noise = rng.standard_normal((n_b, k, n_r, n_c)) * sigma[:, None, None, None]
        surf = np.where(g.count[:, None] > 0, g.mean[:, None] + noise, np.nan)
    flat = surf.reshape(n_b * k, n_r, n_c)
    weight = (~np.isnan(flat)).astype(float)
    usable = (weight[:, 1:, 0].sum(1) >= 2) & (weight[:, 0, 1:].sum(1) >= 2)
    # a cell counts only where it and both of its monotherapies were measured
    present = (weight > 0) & (weight[:, :, :1] > 0) & (weight[:, :1, :] > 0)
    cr = np.repeat(g.conc_r, k, axis=0)
    cc = np.repeat(g.conc_c, k, axis=0)
    sc = _model_scores(
        np.where(np.isnan(flat), 0.0, flat), weight, cr, cc, models, loewe_flat, zip_fit
    )
    out = {}
    for m, v in sc.items():
        v = np.where(present, v, np.nan)
        v[~usable] = np.nan
        out[m] = (v.reshape(n_b, k, n_r, n_c), block_mean(v).reshape(n_b, k))
    return out


def _msa_columns(blocks: dict, m: str, score: np.ndarray, g: _Grid) -> None:
    value, (i, j, h, w) = most_synergistic_area(score)
    blocks[f"{m}_msa"] = value
    rows = np.arange(len(value))
    cr, cc = g.conc_r[:, 1:], g.conc_c[:, 1:]
    blocks[f"{m}_msa_conc_r_lo"] = cr[rows, i]
    blocks[f"{m}_msa_conc_r_hi"] = cr[rows, i + h - 1]
    blocks[f"{m}_msa_conc_c_lo"] = cc[rows, j]
    blocks[f"{m}_msa_conc_c_hi"] = cc[rows, j + w - 1]


def _sensitivity_columns(blocks: dict, g: _Grid, fit_r: CurveFits, fit_c: CurveFits) -> None:
    for role, fit, conc in (("row", fit_r, g.conc_r), ("col", fit_c, g.conc_c)):
        blocks[f"ic50_{role}"] = np.where(np.isnan(fit.ic50_lo) & (fit.status != "ok"), np.nan,
                                          fit.ic50)  # fmt: skip
        blocks[f"ic50_{role}_lo"] = fit.ic50_lo
        blocks[f"ic50_{role}_hi"] = fit.ic50_hi
        blocks[f"ri_{role}"] = relative_inhibition(fit, conc)
        blocks[f"fit_status_{role}"] = fit.status
    css_r, css_c = css_scores(g.mean, g.count, g.conc_r, g.conc_c, ic50_r=fit_r.ic50,
                              ic50_c=fit_c.ic50)  # fmt: skip
    blocks["css_row"] = css_r
    blocks["css_col"] = css_c
    blocks["css"] = 0.5 * (css_r + css_c)
