"""Gene sets shipped with the package: PROGENy weights, MSigDB Hallmarks, resistance programmes.

Every set is returned as a long "network" table in decoupler's layout: one row per
(programme, gene) with columns ``source`` (programme), ``target`` (gene symbol) and ``weight``.
The data files, their licences and citations are in ``oncoresist/singlecell/data/``.

References
----------
Schubert M. et al., "Perturbation-response genes reveal signaling footprints in cancer gene
expression", Nat Commun 9:20 (2018), doi:10.1038/s41467-017-02391-6.
Liberzon A. et al., "The Molecular Signatures Database Hallmark Gene Set Collection",
Cell Systems 1:417 (2015), doi:10.1016/j.cels.2015.12.004.
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from oncoresist.errors import InputError

Source = Literal["progeny", "hallmark", "resistance"]
SOURCES: tuple[str, ...] = ("progeny", "hallmark", "resistance")

#: citation per shipped source (the licence files sit beside the data)
CITATIONS = {
    "progeny": "Schubert M. et al., Nat Commun 9:20 (2018), doi:10.1038/s41467-017-02391-6; "
    "Holland C.H. et al., Genome Biol 21:36 (2020), doi:10.1186/s13059-020-1949-z "
    "(PROGENy, Apache-2.0)",
    "hallmark": "Liberzon A. et al., Cell Systems 1:417 (2015), doi:10.1016/j.cels.2015.12.004; "
    "Subramanian A. et al., PNAS 102:15545 (2005) (MSigDB Hallmark v7.0, CC BY 4.0)",
    "resistance": "oncoresist resistance programmes; papers per programme in "
    "uns[key]['programmes']['references']",
}


def data_dir() -> Any:
    """The package folder holding the gene-set files (an importlib Traversable)."""
    return files("oncoresist.singlecell") / "data"


def _read_gz(*parts: str) -> bytes:
    node = data_dir()
    for part in parts:
        node = node / part
    return gzip.decompress(node.read_bytes())


@lru_cache(maxsize=4)
def _progeny_table(top: int) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(_read_gz("progeny", f"progeny_human_top{top}.csv.gz")))


def load_progeny(*, top: int = 100, organism: Literal["human"] = "human") -> pd.DataFrame:
    """PROGENy pathway weights: the ``top`` genes per pathway by smallest p-value.

    As R ``progeny::getModel``: genes tied with the ``top``-th p-value are kept too.

    Parameters
    ----------
    top
        Genes per pathway, 1 to 500 (100 is PROGENy's default, 500 decoupler's).
    organism
        Only ``"human"`` is shipped.

    Returns
    -------
    DataFrame
        ``source`` (pathway), ``target`` (gene symbol), ``weight``, ``p_value``.
    """
    if organism != "human":
        raise InputError(f"organism {organism!r} is not shipped; expected 'human'",
                         field="organism")  # fmt: skip
    if not 1 <= int(top) <= 500:
        raise InputError(f"top={top}; expected 1 to 500 genes per pathway", field="top")
    table = _progeny_table(100 if top <= 100 else 500)
    rank = table.groupby("pathway")["p.value"].rank(method="min")
    picked = table[rank <= top]
    return pd.DataFrame({
        "source": picked["pathway"].to_numpy(),
        "target": picked["gene"].to_numpy(),
        "weight": picked["weight"].to_numpy(dtype=float),
        "p_value": picked["p.value"].to_numpy(dtype=float),
    })  # fmt: skip


def read_gmt(path: str | os.PathLike[str] | None = None, *, text: str | None = None,
             strip_prefix: str = "") -> pd.DataFrame:  # fmt: skip
    """Read a GMT file (name, description, genes…, tab-separated) as a long table, weight 1.

    Parameters
    ----------
    path
        The GMT file (or pass its ``text``).
    text
        GMT content, instead of ``path``.
    strip_prefix
        Removed from the start of set names (``"HALLMARK_"``).

    Returns
    -------
    DataFrame
        ``source``, ``target``, ``weight`` (1.0).
    """
    where = None if path is None else Path(path)
    if text is None:
        if where is None:
            raise InputError("neither a path nor text given; expected a GMT file")
        try:
            text = where.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError("file not found; expected a GMT gene-set file", file=where) from None
    rows: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.rstrip("\r").split("\t")
        if len(fields) < 3:
            raise InputError(f"{len(fields)} tab-separated fields; expected name, description "
                             "and at least one gene", file=where, record=number)  # fmt: skip
        name = fields[0].removeprefix(strip_prefix) if strip_prefix else fields[0]
        rows.extend((name, gene) for gene in dict.fromkeys(g for g in fields[2:] if g))
    frame = pd.DataFrame(rows, columns=["source", "target"])
    frame["weight"] = 1.0
    return frame


@lru_cache(maxsize=1)
def _hallmark() -> pd.DataFrame:
    text = _read_gz("hallmark", "h.all.v7.0.symbols.gmt.gz").decode("utf-8")
    return read_gmt(text=text, strip_prefix="HALLMARK_")


def load_hallmark(sets: Iterable[str] | None = None) -> pd.DataFrame:
    """MSigDB Hallmark v7.0 gene sets (``HALLMARK_`` prefix removed), weight 1.

    Parameters
    ----------
    sets
        Names to keep (with or without the prefix); all 50 by default.

    Returns
    -------
    DataFrame
        ``source``, ``target``, ``weight``.
    """
    table = _hallmark()
    if sets is None:
        return table.copy()
    wanted = [s.removeprefix("HALLMARK_") for s in sets]
    unknown = sorted(set(wanted) - set(table["source"]))
    if unknown:
        raise InputError(f"unknown Hallmark set(s) {', '.join(unknown)}; expected names such "
                         "as EPITHELIAL_MESENCHYMAL_TRANSITION or HYPOXIA",
                         field="programmes")  # fmt: skip
    return table[table["source"].isin(wanted)].reset_index(drop=True)


@lru_cache(maxsize=1)
def resistance_programmes() -> dict[str, dict[str, Any]]:
    """The curated resistance programmes (``programmes.yaml``): genes, references, KB links.

    Returns
    -------
    dict
        Programme name → ``title``, ``species``, ``genes_up``, ``genes_down``,
        ``references`` (PMIDs), ``kb_biomarkers`` (knowledge-base biomarker names), ``note``
        and, for technical programmes, ``caveat``.
    """
    import yaml

    text = (data_dir() / "programmes.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)["programmes"]


def load_resistance(names: Iterable[str] | None = None) -> pd.DataFrame:
    """Resistance programmes as a long table: up genes weight +1, down genes weight -1.

    Returns
    -------
    DataFrame
        ``source``, ``target``, ``weight``.
    """
    programmes = resistance_programmes()
    chosen = list(programmes) if names is None else list(names)
    rows = []
    for name in chosen:
        if name not in programmes:
            raise InputError(f"unknown resistance programme {name!r}; expected one of "
                             f"{', '.join(programmes)}", field="programmes")  # fmt: skip
        entry = programmes[name]
        rows += [(name, g, 1.0) for g in entry["genes_up"]]
        rows += [(name, g, -1.0) for g in entry["genes_down"]]
    return pd.DataFrame(rows, columns=["source", "target", "weight"])


def programme_network(
    programmes: str | Iterable[str] | Mapping[str, Any] | pd.DataFrame, *, progeny_top: int = 100
) -> tuple[pd.DataFrame, str]:
    """Resolve the ``programmes=`` argument of :func:`score` into a long network table.

    Parameters
    ----------
    programmes
        ``"progeny"``, ``"hallmark"`` or ``"resistance"``; a list of programme names from
        these sources (Hallmark names with or without prefix); a dict of name → gene list
        (weight 1) or name → {gene: weight}; or a long table with ``source``, ``target`` and
        optionally ``weight``.
    progeny_top
        Genes per PROGENy pathway.

    Returns
    -------
    network, source
        The table (``source``, ``target``, ``weight``) and a short label for the key
        (``"progeny"``, ``"hallmark"``, ``"resistance"`` or ``"custom"``).
    """
    if isinstance(programmes, str):
        if programmes == "progeny":
            return load_progeny(top=progeny_top)[["source", "target", "weight"]], "progeny"
        if programmes == "hallmark":
            return load_hallmark(), "hallmark"
        if programmes == "resistance":
            return load_resistance(), "resistance"
        programmes = [programmes]
    if isinstance(programmes, pd.DataFrame):
        missing = {"source", "target"} - set(programmes.columns)
        if missing:
            raise InputError(f"network table lacks {', '.join(sorted(missing))}; expected "
                             "columns source, target and weight", field="programmes")  # fmt: skip
        net = programmes.copy()
        if "weight" not in net.columns:
            net["weight"] = 1.0
        return net[["source", "target", "weight"]].reset_index(drop=True), "custom"
    if isinstance(programmes, Mapping):
        rows = []
        for name, genes in programmes.items():
            items = genes.items() if isinstance(genes, Mapping) else ((g, 1.0) for g in genes)
            rows += [(str(name), str(g), float(w)) for g, w in items]
        return pd.DataFrame(rows, columns=["source", "target", "weight"]), "custom"
    parts = []
    progeny = load_progeny(top=progeny_top)[["source", "target", "weight"]]
    hallmark = _hallmark()
    resistance = resistance_programmes()
    for name in programmes:
        short = str(name).removeprefix("HALLMARK_")
        if name in resistance:
            parts.append(load_resistance([name]))
        elif short in set(hallmark["source"]):
            parts.append(hallmark[hallmark["source"] == short])
        elif name in set(progeny["source"]):
            parts.append(progeny[progeny["source"] == name])
        else:
            raise InputError(f"unknown programme {name!r}; expected 'progeny', 'hallmark', "
                             "'resistance', a PROGENy pathway, a Hallmark set or one of "
                             f"{', '.join(resistance)}", field="programmes")  # fmt: skip
    return pd.concat(parts, ignore_index=True), "custom"


def network_matrix(net: pd.DataFrame) -> tuple[pd.Index, pd.Index, np.ndarray]:
    """Genes × programmes weight matrix of a long table (absent pairs weigh 0).

    Returns
    -------
    genes, programmes, weights
        Row labels, column labels (in first-seen order) and the dense matrix.
    """
    programmes = pd.Index(pd.unique(net["source"].astype(str)))
    genes = pd.Index(pd.unique(net["target"].astype(str)))
    weights = np.zeros((len(genes), len(programmes)))
    rows = genes.get_indexer(net["target"].astype(str))
    cols = programmes.get_indexer(net["source"].astype(str))
    weights[rows, cols] = net["weight"].to_numpy(dtype=float)
    return genes, programmes, weights
