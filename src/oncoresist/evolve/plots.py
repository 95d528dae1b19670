"""Figures of evolution under therapy: Muller (fish) plots and Kaplan-Meier curves.

In a Muller plot each clone is a band whose height is its cells plus its descendants',
drawn inside its parent's band (children centred in the parent), so a resistant clone is
seen arising from the clone it came from and taking over. Time runs along x; the bands are
fractions of the tumour (``normalise=True``) or cells on a linear scale.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from oncoresist.errors import InputError, MissingExtraError
from oncoresist.evolve.survival import kaplan_meier

#: Colour-blind-safe palette (Okabe and Ito 2008).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def muller_layout(
    cells: pd.DataFrame, parents: Mapping[str, str | None], *, normalise: bool = True
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Lower and upper edge of every clone's band at each time.

    Parameters
    ----------
    cells : pandas.DataFrame
        Index: time (days); one column per clone (cells).
    parents : mapping of str to str or None
        Parent of each clone (``None`` for the founder).
    normalise : bool
        Bands as fractions of the total at each time.

    Returns
    -------
    dict of str to (numpy.ndarray, numpy.ndarray)
        ``clone -> (lower, upper)``, one value per time.
    """
    clones = list(cells.columns)
    for c in clones:
        if c not in parents:
            raise InputError(f"no parent given for clone {c!r}", field="parents")
        p = parents[c]
        if p is not None and p not in clones:
            raise InputError(f"parent {p!r} of {c!r} is not a clone", field="parents")
    children: dict[str | None, list[str]] = {}
    for c in clones:
        children.setdefault(parents[c], []).append(c)
    x = cells.to_numpy(dtype=float)
    if normalise:
        total = x.sum(axis=1, keepdims=True)
        x = np.divide(x, total, out=np.zeros_like(x), where=total > 0)
    own = {c: x[:, i] for i, c in enumerate(clones)}
    size: dict[str, np.ndarray] = {}

    def subtree(c: str) -> np.ndarray:
        if c not in size:
            size[c] = own[c] + sum((subtree(k) for k in children.get(c, [])), np.zeros(len(x)))
        return size[c]

    edges: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def place(c: str, lower: np.ndarray) -> None:
        edges[c] = (lower, lower + subtree(c))
        start = lower + own[c] / 2.0
        for k in children.get(c, []):
            place(k, start)
            start = start + subtree(k)

    roots = children.get(None, [])
    if not roots:
        raise InputError("no founder clone (a clone whose parent is None)", field="parents")
    base = np.zeros(len(x))
    for r in roots:
        place(r, base)
        base = base + subtree(r)
    return edges


def parents_from_mutations(model) -> dict[str, str | None]:
    """Each clone's parent: the source of the first mutation into it (``None`` if none)."""
    parent: dict[str, str | None] = {c: None for c in model.clone_names}
    for m in model.mutations:
        if parent[m.target] is None:
            parent[m.target] = m.source
    return parent


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - in the evolve and test extras
        raise MissingExtraError("matplotlib", "evolve") from None
    return plt


def _figure_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in {".png", ".svg"}:
        raise InputError("expected a .png or .svg file name", file=path)
    return path


def _save(fig, path: Path) -> Path:
    """Write atomically: a temporary file beside ``path``, then a rename."""
    tmp = path.with_name(path.name + ".tmp" + path.suffix)
    fig.savefig(tmp)
    _pyplot().close(fig)
    os.replace(tmp, path)
    return path


def plot_km(results: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """Kaplan-Meier curves of time to progression per strategy, as PNG or SVG.

    ``results`` is the table of :func:`~oncoresist.evolve.cohort.compare_strategies`.
    """
    path = _figure_path(path)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    styles = ["-", "--", "-.", ":"]
    for i, name in enumerate(dict.fromkeys(results["strategy"])):
        g = results[results["strategy"] == name]
        km = kaplan_meier(g["ttp_days"], g["progressed"])
        colour, style = PALETTE[i % len(PALETTE)], styles[i % len(styles)]
        t = np.r_[0.0, km.times]
        ax.step(t, np.r_[1.0, km.survival], where="post", color=colour, linestyle=style,
                label=name)  # fmt: skip
        ax.fill_between(t, np.r_[1.0, km.lower], np.r_[1.0, km.upper], step="post",
                        color=colour, alpha=0.15, linewidth=0)  # fmt: skip
    ax.legend(frameon=False)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("days")
    ax.set_ylabel("progression-free")
    ax.set_title(title)
    fig.tight_layout()
    return _save(fig, path)


def muller_plot(
    cells: pd.DataFrame,
    parents: Mapping[str, str | None],
    path: str | Path,
    *,
    normalise: bool = True,
    title: str = "",
    marks: Mapping[str, float] | None = None,
) -> Path:
    """Draw a Muller plot to PNG or SVG.

    Parameters
    ----------
    cells, parents, normalise
        As for :func:`muller_layout`.
    path : str or Path
        ``.png`` or ``.svg`` output (written atomically).
    title : str
        Figure title.
    marks : mapping of str to float, optional
        Vertical lines at named days (e.g. a drug switch, detection).

    Returns
    -------
    Path
        The file written.
    """
    path = _figure_path(path)
    plt = _pyplot()
    edges = muller_layout(cells, parents, normalise=normalise)
    t = cells.index.to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    order = list(edges)  # parents before children: children drawn on top
    for i, c in enumerate(order):
        lo, hi = edges[c]
        ax.fill_between(t, lo, hi, color=PALETTE[i % len(PALETTE)], label=c, linewidth=0)
    for label, day in (marks or {}).items():
        ax.axvline(day, color="black", linestyle="--", linewidth=1)
        ax.text(day, ax.get_ylim()[1], f" {label}", va="top", fontsize=8)
    ax.set_xlabel("days")
    ax.set_ylabel("fraction of tumour" if normalise else "cells")
    ax.set_xlim(t.min(), t.max())
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    return _save(fig, path)
