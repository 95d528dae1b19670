"""Clone results as the field's viewers read them: timescape and fishplot tables, checked.

* **timescape** (Smith et al. 2017, the ``timescape`` R/htmlwidgets package):
  ``clonal_prev`` (``timepoint, clone_id, clonal_prev``: each clone's own share of the
  sample, summing to at most 1 per time point), ``tree_edges`` (``source, target``) and,
  when the mutation IDs hold positions, ``mutations`` (``chrom, coord, clone_id,
  timepoint, VAF``).
* **fishplot** (Miller et al. 2016, ``createFishObject(frac.table, parents, timepoints)``):
  a clones x time points matrix of CCFs in percent, the parents vector (0 for the root,
  else the parent's 1-based row) and the time points.

Both are written from a CCF matrix projected onto the tree's sum rule
(:func:`~oncoresist.clones._tree.project_to_tree`) and rounded **on the prevalences**, in
whole units of 1e-6 of a cell, so that the rounded tables still obey the tools' own
checks: fishplot refuses a child whose fraction exceeds its parent's minus its siblings'
at any time point, and timescape's prevalences must sum to at most 1 per time point.
:func:`check_fishplot` and :func:`check_timescape` apply those checks to any such tables
(the bundled timescape examples pass them too).

References
----------
Smith MA et al. E-scape: interactive visualization of single-cell phylogenetics and cancer
evolution. Nat Methods 2017;14:549-550.
Miller CA et al. Visualizing tumor evolution with the fishplot package for R. BMC Genomics
2016;17:880.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from oncoresist.clones._tree import descendant_matrix, parse_parents, project_to_tree
from oncoresist.errors import InputError

__all__ = [
    "check_fishplot",
    "check_timescape",
    "fishplot_tables",
    "mutation_position",
    "timescape_tables",
]

#: Prevalences are rounded down to whole multiples of this (a millionth of the cells).
UNIT = 1e-6
#: Float slack of the checks (tables read back from text).
SLACK = 1e-9
_POSITION = re.compile(r"(?:^|[:_|\-])(?:chr)?([0-9]{1,2}|X|Y|MT|M)[:_\-](\d+)(?=$|[:_|\-])", re.I)


def mutation_position(mutation_id: str) -> tuple[str, int] | None:
    """``(chrom, coord)`` read from an ID such as ``chr7:55191822:T:G`` or ``P1:17_7577120``.

    Returns ``None`` when the ID holds no chromosome and position.

    Examples
    --------
    >>> mutation_position("CRUK0001:1:1564541:C"), mutation_position("m0001")
    (('1', 1564541), None)
    """
    found = _POSITION.search(str(mutation_id))
    if found is None:
        return None
    chrom = found.group(1).upper()
    return ("MT" if chrom == "M" else chrom), int(found.group(2))


def _prevalence_units(ccf, parents: list[int | None]) -> tuple[np.ndarray, np.ndarray]:
    """Each clone's own cells and its CCF, in whole :data:`UNIT` s (integers), K x S.

    The CCF is projected onto the tree's sum rule first; rounding the prevalences down
    keeps every sum exact, so children never exceed their parent after rounding. Then every
    clone with cells below it keeps at least one unit of its own, and the prevalences sum
    to at most ``1 - UNIT``: the tables are read back as binary floats, whose sums of
    decimals can exceed an equal decimal by a rounding error, and the tools' checks are
    strict.
    """
    projected = project_to_tree(ccf, parents)
    a = descendant_matrix(parents)
    own = np.linalg.solve(a, projected)  # prevalences: A @ own = CCF
    units = np.floor(np.clip(own, 0.0, 1.0) / UNIT + 1e-6).astype(np.int64)
    below = a.astype(bool) & ~np.eye(len(parents), dtype=bool)  # below[p, d]: d under p
    leaves = ~below.any(axis=1)
    depth = below.sum(axis=0)
    for p in sorted(range(len(parents)), key=lambda i: -depth[i]):  # deepest parents first
        if not leaves[p]:
            _keep_one(units, p, np.flatnonzero(below[p]), leaves)
    full = units.sum(axis=0) >= round(1 / UNIT)
    for s in np.flatnonzero(full):  # the root's CCF just under 1
        _take_one(units[:, s], np.arange(len(parents)), leaves)
    return units, a.astype(np.int64) @ units


def _take_one(units: np.ndarray, among: np.ndarray, leaves: np.ndarray) -> bool:
    """Take one unit from the largest clone ``among`` that can spare it; ``False`` if none.

    A leaf can spare its last unit; a clone with clones below it keeps one of its own.
    """
    spare = [d for d in among if units[d] >= (1 if leaves[d] else 2)]
    if not spare:
        return False
    units[max(spare, key=lambda d: units[d])] -= 1
    return True


def _keep_one(units: np.ndarray, p: int, under: np.ndarray, leaves: np.ndarray) -> None:
    """Give clone ``p`` a unit of its own, taken from below it, where it has cells below."""
    for s in range(units.shape[1]):
        empty = units[p, s] == 0 and units[under, s].sum() > 0
        if empty and _take_one(units[:, s], under, leaves):
            units[p, s] += 1


def _check_names(names: Sequence[str], samples: Sequence[str], shape) -> None:
    k, n_s = shape
    if len(names) != k or len(set(map(str, names))) != k:
        raise InputError(f"{len(names)} clone names for {k} clones; expected one distinct name "
                         "per clone", field="names")  # fmt: skip
    if len(samples) != n_s or len(set(map(str, samples))) != n_s:
        raise InputError(f"{len(samples)} sample names for {n_s} samples; expected one distinct "
                         "name per sample", field="samples")  # fmt: skip


def timescape_tables(
    ccf,
    parents: Sequence[int | None],
    *,
    names: Sequence[str],
    samples: Sequence[str],
    mutations: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """The tables timescape reads: ``clonal_prev``, ``tree_edges`` and ``mutations``.

    Parameters
    ----------
    ccf : array-like, K x S
        CCF per clone and sample (projected onto the tree's sum rule here).
    parents : sequence of int or None
        Parent of each clone (``None`` for the root).
    names, samples : sequence of str
        Clone IDs (``clone_id``, ``source``, ``target``) and time point names.
    mutations : pandas.DataFrame, optional
        One row per mutation: ``mutation_id``, ``clone`` (its index in ``names``) and
        ``vaf|<sample>`` columns (VAF fractions, NaN where unread). The ``mutations`` table
        is written only when every ``mutation_id`` holds a position
        (:func:`mutation_position`).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``clonal_prev`` (``timepoint, clone_id, clonal_prev``: own share of the sample, a
        fraction; per time point the sum is the root's CCF, at most 1), ``tree_edges``
        (``source, target``), and ``mutations`` (``chrom, coord, clone_id, timepoint, VAF``)
        when positions are known.
    """
    tree = parse_parents(parents, len(parents))
    units, _ = _prevalence_units(ccf, tree)
    _check_names(names, samples, units.shape)
    prev = pd.DataFrame(
        [(str(samples[s]), str(names[k]), round(units[k, s] * UNIT, 6))
         for s in range(units.shape[1]) for k in range(units.shape[0])],
        columns=["timepoint", "clone_id", "clonal_prev"],
    )  # fmt: skip
    edges = pd.DataFrame(
        [(str(names[p]), str(names[i])) for i, p in enumerate(tree) if p is not None],
        columns=["source", "target"],
    )
    out = {"clonal_prev": prev, "tree_edges": edges}
    if mutations is not None and len(mutations):
        where = [mutation_position(m) for m in mutations["mutation_id"]]
        if all(w is not None for w in where):
            rows = []
            for (chrom, coord), (_, r) in zip(where, mutations.iterrows(), strict=True):
                for s in samples:
                    vaf = r.get(f"vaf|{s}", np.nan)
                    if vaf == vaf:  # read in that sample
                        clone = str(names[int(r["clone"])])
                        rows.append((chrom, coord, clone, str(s), round(float(vaf), 6)))
            out["mutations"] = pd.DataFrame(
                rows, columns=["chrom", "coord", "clone_id", "timepoint", "VAF"]
            )
    check_timescape(out["clonal_prev"], out["tree_edges"])
    return out


def fishplot_tables(
    ccf,
    parents: Sequence[int | None],
    *,
    names: Sequence[str],
    samples: Sequence[str],
    times: Sequence[float] | None = None,
) -> dict[str, pd.DataFrame]:
    """The inputs of fishplot's ``createFishObject(frac.table, parents, timepoints)``.

    Parameters
    ----------
    ccf, parents
        As for :func:`timescape_tables`.
    names, samples : sequence of str
        Clone names (rows) and sample names (columns).
    times : sequence of float, optional
        Time of each sample (days); default 1, 2, 3, ...

    Returns
    -------
    dict of str to pandas.DataFrame
        ``frac_table`` (index ``clone``, one column per sample: CCF in percent, 0-100),
        ``parents`` (``clone, parent``: 0 for the root, else the parent's 1-based row) and
        ``timepoints`` (``sample, timepoint``).
    """
    tree = parse_parents(parents, len(parents))
    _, ccf_units = _prevalence_units(ccf, tree)
    _check_names(names, samples, ccf_units.shape)
    t = np.arange(1.0, len(samples) + 1) if times is None else np.asarray(times, dtype=float)
    if t.shape != (len(samples),) or not np.isfinite(t).all() or (np.diff(t) <= 0).any():
        raise InputError(f"times {list(t)}; expected one strictly increasing number per sample",
                         field="times")  # fmt: skip
    # whole units of 1e-4 %, written as the short decimals they are (99.9997, not 99.99969...)
    frac = pd.DataFrame(np.round(ccf_units * (UNIT * 100), 4), columns=[str(s) for s in samples])
    frac.insert(0, "clone", [str(n) for n in names])
    frac = frac.set_index("clone")
    par = pd.DataFrame({"clone": [str(n) for n in names],
                        "parent": [0 if p is None else p + 1 for p in tree]})  # fmt: skip
    check_fishplot(frac, par["parent"].tolist())
    points = pd.DataFrame({"sample": [str(s) for s in samples], "timepoint": t})
    return {"frac_table": frac, "parents": par, "timepoints": points}


def check_fishplot(frac: pd.DataFrame, parents: Sequence[int]) -> None:
    """Check fishplot's own constraints on ``frac.table`` and ``parents``.

    Fractions are percentages in [0, 100]; ``parents`` has one entry per row, 0 for the
    root(s) and otherwise a 1-based row; at every time point each clone's fraction is at
    least the sum of its children's.

    Raises
    ------
    InputError
        Naming the clone (row), the time point (column) and the numbers.
    """
    x = frac.to_numpy(dtype=float)
    rows = [str(r) for r in frac.index]
    cols = [str(c) for c in frac.columns]
    par = [int(p) for p in parents]
    if len(par) != len(rows):
        raise InputError(f"{len(par)} parents for {len(rows)} clones", field="parents")
    if not np.isfinite(x).all() or (x < -SLACK).any() or (x > 100 + SLACK).any():
        raise InputError("fractions must be percentages in [0, 100]", field="frac.table")
    for i, p in enumerate(par):
        if not 0 <= p <= len(rows) or p == i + 1:
            raise InputError(f"clone {rows[i]}: parent {p}; expected 0 or another clone's row "
                             f"1..{len(rows)}", field="parents")  # fmt: skip
    for p in range(1, len(rows) + 1):
        kids = [i for i, q in enumerate(par) if q == p]
        if not kids:
            continue
        total = x[kids].sum(axis=0)
        for s in np.flatnonzero(total > x[p - 1] + SLACK):
            raise InputError(
                f"clone {rows[p - 1]} at {cols[s]}: children sum to {total[s]:.6g} % but the "
                f"clone is {x[p - 1, s]:.6g} %; fishplot needs children <= parent",
                field="frac.table",
            )


def check_timescape(clonal_prev: pd.DataFrame, tree_edges: pd.DataFrame) -> None:
    """Check timescape's constraints on ``clonal_prev`` and ``tree_edges``.

    Prevalences are fractions in [0, 1] summing to at most 1 per time point, every clone of
    the edges is in the prevalence table, and the edges form one rooted tree.

    Raises
    ------
    InputError
        Naming the time point or clone and the numbers.
    """
    need = {"timepoint", "clone_id", "clonal_prev"}
    if missing := need - set(clonal_prev.columns):
        raise InputError(f"clonal_prev lacks {sorted(missing)}", field="clonal_prev")
    if {"source", "target"} - set(tree_edges.columns):
        raise InputError("tree_edges needs the columns source and target", field="tree_edges")
    value = pd.to_numeric(clonal_prev["clonal_prev"], errors="coerce")
    if value.isna().any() or (value < -SLACK).any() or (value > 1 + SLACK).any():
        raise InputError("clonal_prev must be fractions in [0, 1]", field="clonal_prev")
    sums = value.groupby(clonal_prev["timepoint"].astype(str), sort=False).sum()
    for tp, total in sums.items():
        if total > 1 + SLACK:
            raise InputError(f"time point {tp}: prevalences sum to {total:.6g}; timescape needs "
                             "at most 1", field="clonal_prev")  # fmt: skip
    clones = set(clonal_prev["clone_id"].astype(str))
    src, dst = tree_edges["source"].astype(str), tree_edges["target"].astype(str)
    if unknown := sorted((set(src) | set(dst)) - clones):
        raise InputError(f"tree_edges name clone {unknown[0]}, which clonal_prev does not have",
                         field="tree_edges")  # fmt: skip
    if dst.duplicated().any():
        raise InputError(f"clone {dst[dst.duplicated()].iloc[0]} has two parents",
                         field="tree_edges")  # fmt: skip
    parent = dict(zip(dst, src, strict=True))
    for c in parent:
        seen, q = {c}, parent.get(c)
        while q is not None:
            if q in seen:
                raise InputError(f"the edges loop through clone {c}", field="tree_edges")
            seen.add(q)
            q = parent.get(q)
