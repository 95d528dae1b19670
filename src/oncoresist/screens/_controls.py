"""Control guides of a screen library: non-targeting, safe-harbour, intergenic and the like.

Control guides are not genes. They are recognised by their gene label
(:data:`CONTROL_PATTERNS`, case-insensitive) or named in a list of gene labels or sgRNA ids:
MAGeCK's ``--control-sgrna`` file, one sgRNA id per line (:func:`read_control_list`).
:func:`find_controls` returns which guides they are; the gene tables leave them out and
say how many there were, and they can make the null distribution and the size factors
(``null="controls"``, ``norm="control"``).

References
----------
Li W et al. MAGeCK enables robust identification of essential genes from genome-scale
CRISPR/Cas9 knockout screens. Genome Biol 2014 (PMID 25476604) -- control sgRNAs for
normalisation and the RRA null.
Hart T et al. Evaluation and design of genome-wide CRISPR/SpCas9 knockout screens.
G3 2017 (PMID 28655737) -- TKOv3's EGFP, LacZ and luciferase control guides.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from oncoresist.errors import InputError

#: Gene labels read as control guides, by kind (matched case-insensitively, anywhere in the
#: label unless anchored). Bare ``CTRL`` is a gene (chymotrypsin-like) and is not matched.
CONTROL_PATTERNS: dict[str, re.Pattern[str]] = {
    "non-targeting": re.compile(
        r"non[-_ ]?target|no[-_ ]?target|^ntc([-_ ]?\d+)?$|^nt[-_]\d+$", re.IGNORECASE
    ),
    "safe-harbour": re.compile(
        r"safe[-_ ]?(harbou?r|target)|^safe([-_ ]|$)|^(aavs1|rosa26|ccr5[-_]safe)([-_ ]?\d+)?$",
        re.IGNORECASE,
    ),
    "intergenic": re.compile(r"intergenic", re.IGNORECASE),
    "control": re.compile(r"control|^ctrl[-_ ]?\d|^neg(ative)?[-_ ]?ctrl", re.IGNORECASE),
    "reporter": re.compile(r"^(e?gfp|lacz|luciferase|luc|rfp|mcherry|tdtomato)$", re.IGNORECASE),
}


@dataclass(frozen=True)
class ControlGuides:
    """Which guides of a table are controls, and how they were found.

    Attributes
    ----------
    mask : numpy.ndarray of bool
        One entry per row of the table: a control guide.
    labels : dict of str to int
        Control gene labels and their guide counts.
    source : str
        ``"label pattern"``, ``"list"`` or ``"none"``.
    unmatched : list of str
        Entries of the list that name neither a guide nor a gene label of the table.
    guides : tuple of str
        The control guides' sgRNA ids, to find them in another table of the same library
        (:meth:`mask_for`).
    """

    mask: np.ndarray
    labels: dict[str, int] = field(default_factory=dict)
    source: str = "none"
    unmatched: list[str] = field(default_factory=list)
    guides: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        """Number of control guides."""
        return int(self.mask.sum())

    def ids(self, table: pd.DataFrame | None = None) -> list[str]:
        """The sgRNA ids of the control guides (those in ``table``, when given)."""
        if table is None:
            return list(self.guides)
        return table.index[self.mask_for(table)].astype(str).tolist()

    def mask_for(self, table: pd.DataFrame) -> np.ndarray:
        """Which rows of ``table`` (index: sgRNA ids) are control guides, matched by id."""
        return np.asarray(table.index.astype(str).isin(self.guides))

    def summary(self) -> str:
        """One line for logs and reports, e.g. ``1,500 control guides (Non-Targeting ...)``."""
        if not self.n:
            return "no control guides"
        shown = sorted(self.labels.items(), key=lambda kv: -kv[1])
        names = ", ".join(f"{g} {c:,}" for g, c in shown[:4])
        more = f" and {len(shown) - 4} more labels" if len(shown) > 4 else ""
        how = "recognised by label" if self.source == "label pattern" else "from the list"
        return (f"{self.n:,} control guides ({names}{more}; {how}) left out of the gene "
                f"table")  # fmt: skip

    def as_dict(self) -> dict:
        """Plain record for ``run.json`` and ``attrs``."""
        return {"guides": self.n, "labels": dict(self.labels), "source": self.source,
                "unmatched": len(self.unmatched)}  # fmt: skip


def control_kind(label: str) -> str | None:
    """The kind of control a gene label names (a key of :data:`CONTROL_PATTERNS`), or None.

    Examples
    --------
    >>> control_kind("Non-Targeting Control"), control_kind("AAVS1"), control_kind("CTRL")
    ('non-targeting', 'safe-harbour', None)
    """
    for kind, pattern in CONTROL_PATTERNS.items():
        if pattern.search(label):
            return kind
    return None


def read_control_list(path: str | Path) -> list[str]:
    """Control sgRNA ids (or gene labels) from a file, one per line (MAGeCK's format).

    The first whitespace-separated field of each line is taken; blank lines and lines
    starting with ``#`` are skipped.

    Raises
    ------
    InputError
        The file is missing, not text, or names nothing.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("control list not found", file=path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise InputError("not a text file; expected one sgRNA id per line", file=path) from None
    names = [ln.split()[0] for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not names:
        raise InputError("no sgRNA id in the file; expected one per line", file=path)
    return list(dict.fromkeys(names))


def find_controls(
    table: pd.DataFrame,
    controls: Sequence[str] | None = None,
    *,
    source: str | Path | None = None,
) -> ControlGuides:
    """The control guides of a count or sgRNA table.

    Parameters
    ----------
    table : pandas.DataFrame
        Index sgRNA id, column ``gene``.
    controls : sequence of str, optional
        sgRNA ids or gene labels of the control guides. ``None`` (default): guides whose
        gene label matches :data:`CONTROL_PATTERNS`; an empty sequence: no controls.
    source : str or Path, optional
        Where ``controls`` came from (a file), for the error message.

    Returns
    -------
    ControlGuides

    Raises
    ------
    InputError
        A list of which no entry names a guide or gene label of the table.

    Examples
    --------
    >>> t = pd.DataFrame({"gene": ["NF1", "NF1", "Non-Targeting", "Non-Targeting"]},
    ...                  index=["s1", "s2", "nt1", "nt2"])
    >>> find_controls(t).summary()
    '2 control guides (Non-Targeting 2; recognised by label) left out of the gene table'
    """
    genes = table["gene"].astype(str)
    if controls is None:
        kinds = {g: control_kind(g) for g in pd.unique(genes)}
        mask = genes.map(kinds).notna().to_numpy()
        how = "label pattern" if mask.any() else "none"
        return ControlGuides(mask, _counts(genes[mask]), how, guides=_ids(table, mask))
    wanted = [str(c) for c in controls]
    if not wanted:
        return ControlGuides(np.zeros(len(table), dtype=bool))
    ids = table.index.astype(str)
    mask = ids.isin(wanted) | genes.isin(wanted).to_numpy()
    unmatched = sorted(set(wanted) - set(ids[mask]) - set(genes[mask]))
    if not mask.any():
        raise InputError(f"none of the {len(wanted):,} control entries (e.g. {wanted[0]!r}) is "
                         "an sgRNA id or gene label of the count table", file=source,
                         field="controls")  # fmt: skip
    mask = np.asarray(mask)
    return ControlGuides(mask, _counts(genes[mask]), "list", unmatched, _ids(table, mask))


def _counts(genes: pd.Series) -> dict[str, int]:
    return {str(g): int(c) for g, c in genes.value_counts().items()}


def _ids(table: pd.DataFrame, mask: np.ndarray) -> tuple[str, ...]:
    return tuple(table.index[mask].astype(str))
