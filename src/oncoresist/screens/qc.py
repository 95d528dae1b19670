"""Quality control of pooled CRISPR knockout screens.

Per-sample read distribution (depth, dropouts, Gini index, top-guide share), guide-level log2
fold changes against a reference (plasmid or T0), replicate agreement, and how well reference
core-essential genes separate from non-essential ones (ROC and precision-recall AUC).

All functions take a count table as :func:`oncoresist.screens.read_counts` returns it: index
sgRNA, column ``gene`` then one read-count column per sample.

References
----------
.. [1] Li W, et al. "Quality control, modeling, and visualization of CRISPR screens with
   MAGeCK-VISPR." Genome Biol 16, 281 (2015). doi:10.1186/s13059-015-0843-6
.. [2] Hart T, et al. "Evaluation and design of genome-wide CRISPR/SpCas9 knockout screens."
   G3 7, 2719-2727 (2017). doi:10.1534/g3.117.041277 (CEGv2 and NEGv1 reference gene sets)
.. [3] Love MI, Huber W, Anders S. "Moderated estimation of fold change and dispersion for
   RNA-seq data with DESeq2." Genome Biol 15, 550 (2014). doi:10.1186/s13059-014-0550-8
   (median-ratio size factors)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from oncoresist.errors import InputError
from oncoresist.screens._normalise import size_factors

__all__ = [
    "LOW_READS",
    "essential_separation",
    "guide_lfc",
    "null_contrasts",
    "read_gene_set",
    "replicate_balance",
    "replicate_correlation",
    "sample_qc",
]

#: An sgRNA with fewer reads than this in a sample counts as under-represented (reads).
LOW_READS = 30

#: Replicates whose total reads differ by this factor or more are flagged (``depth``). At a
#: ratio r the shallower sample's Poisson counting variance, 1 / (reads ln(2)^2) in log2
#: units, is r times the deeper one's: from 2 on, most of a pair's counting noise sits on one
#: side, and the false calls of replicate-vs-replicate nulls reported in issue 20 came from
#: pairs 2-3x apart in depth. The analysis matches depths (``screens._normalise``); the flag
#: says that it had to, and how much precision the deeper sample gave up.
DEPTH_RATIO_FLAG = 2.0

#: Replicates whose Gini indices differ by this much or more are flagged (``gini``): one
#: infection went through a bottleneck the other did not. 0.1 is the whole drift that
#: MAGeCK-VISPR's QC allows between a library sample and a negative-selection end point
#: (Gini at most 0.1 and 0.2, Li et al. 2015, Table 1); between replicates of one arm and day
#: the real screens here differ by at most 0.03 (A375, HAP1).
GINI_DIFFERENCE_FLAG = 0.1

#: How many of the largest sgRNAs ``top10_share`` sums over.
_TOP = 10

#: First cells that mark a gene-list file's header row (compared lower-cased).
_HEADER_WORDS = frozenset({"gene", "genes", "symbol", "gene_symbol", "gene symbol", "hgnc_symbol"})

#: Fewest genes of each reference set that ``essential_separation`` accepts.
_MIN_GENES = 5


def _sample_columns(counts: pd.DataFrame) -> list[str]:
    return [str(c) for c in counts.columns if c != "gene"]


def _check_samples(counts: pd.DataFrame, names: Iterable[str], *, field: str) -> list[str]:
    """Return ``names`` as a list after checking that each is a sample column of ``counts``."""
    names = [names] if isinstance(names, str) else list(names)
    if not names:
        raise InputError("no samples given; name at least one sample column", field=field)
    known = _sample_columns(counts)
    for name in names:
        if name not in known:
            raise InputError(
                f"no sample {name!r} in the count table; its samples are {', '.join(known)}",
                field=field,
            )
    return names


def _gini(x: np.ndarray) -> float:
    """Gini index of non-negative values: 0 when all equal, (n - 1) / n when one holds all."""
    total = x.sum()
    n = x.size
    if n == 0 or total <= 0:
        return float("nan")
    ranks = np.arange(1, n + 1, dtype=float)
    return float(2.0 * np.dot(ranks, np.sort(x)) / (n * total) - (n + 1.0) / n)


def sample_qc(counts: pd.DataFrame, *, samples: Sequence[str] | None = None) -> pd.DataFrame:
    """Read-distribution metrics of each sample of a count table.

    Parameters
    ----------
    counts
        Count table: index sgRNA, column ``gene``, then one read-count column per sample.
    samples
        Sample columns to summarise, in this order; default all of them.

    Returns
    -------
    pandas.DataFrame
        Index ``sample``; columns

        - ``reads``: total reads of the sample (reads);
        - ``sgrnas``: number of sgRNAs in the table;
        - ``zero_sgrnas``: sgRNAs with no read; ``zero_fraction``: their fraction of ``sgrnas``;
        - ``low_sgrnas``: sgRNAs with fewer than :data:`LOW_READS` (30) reads;
        - ``median_reads``: median reads per sgRNA (reads);
        - ``gini``: Gini index of the reads over sgRNAs, ``2 Σ i·x_(i) / (n Σ x) - (n + 1) / n``
          with ``x_(i)`` sorted ascending; 0 when every sgRNA has the same reads, approaching 1
          when a few sgRNAs carry all reads (NaN for a sample without reads);
        - ``top10_share``: fraction of the sample's reads in its 10 largest sgRNAs.

    Raises
    ------
    InputError
        ``field="samples"``: a name that is not a sample column, or a table without samples.

    References
    ----------
    Li et al. 2015, doi:10.1186/s13059-015-0843-6 (Gini index as a screen QC metric).

    Examples
    --------
    >>> counts = pd.DataFrame({"gene": ["A", "A", "B", "B"], "s": [0, 0, 0, 10]})
    >>> float(sample_qc(counts).loc["s", "gini"])
    0.75
    """
    names = _check_samples(
        counts, _sample_columns(counts) if samples is None else samples, field="samples"
    )
    rows = []
    for name in names:
        x = counts[name].to_numpy(dtype=float)
        reads = x.sum()
        n = x.size
        top = np.sort(x)[::-1][:_TOP].sum()
        rows.append(
            {
                "reads": int(reads),
                "sgrnas": n,
                "zero_sgrnas": int((x == 0).sum()),
                "zero_fraction": float((x == 0).mean()) if n else float("nan"),
                "low_sgrnas": int((x < LOW_READS).sum()),
                "median_reads": float(np.median(x)) if n else float("nan"),
                "gini": _gini(x),
                "top10_share": float(top / reads) if reads > 0 else float("nan"),
            }
        )
    return pd.DataFrame(rows, index=pd.Index(names, name="sample"))


def guide_lfc(
    counts: pd.DataFrame,
    *,
    reference: str | Sequence[str],
    samples: Sequence[str],
    pseudocount: float = 0.5,
) -> pd.DataFrame:
    """Log2 fold change of every sgRNA in each sample against the reference.

    Counts are normalised by median-ratio size factors computed over the ``reference`` and
    ``samples`` columns together; ``lfc = log2((norm_sample + pc) / (norm_reference_mean + pc))``
    where ``norm_reference_mean`` is the mean of the normalised reference columns.

    Parameters
    ----------
    counts
        Count table: index sgRNA, column ``gene``, then one read-count column per sample.
    reference
        The reference sample column(s), e.g. ``"plasmid"`` or the T0 replicates.
    samples
        Sample columns to compare with the reference.
    pseudocount
        Added to normalised reads before the ratio (reads); must be > 0.

    Returns
    -------
    pandas.DataFrame
        Index sgRNA; column ``gene`` then one column per sample (log2 fold change).

    Raises
    ------
    InputError
        ``field="samples"`` or ``field="reference"`` for a name not in the table;
        ``field="pseudocount"`` for a pseudocount that is not positive.

    References
    ----------
    Love et al. 2014, doi:10.1186/s13059-014-0550-8 (median-ratio size factors).

    Examples
    --------
    >>> counts = pd.DataFrame({"gene": ["A", "B"], "t0": [100, 100], "d7": [100, 100]})
    >>> guide_lfc(counts, reference="t0", samples=["d7"])["d7"].tolist()
    [0.0, 0.0]
    """
    refs = _check_samples(counts, reference, field="reference")
    names = _check_samples(counts, samples, field="samples")
    if not (np.isfinite(pseudocount) and pseudocount > 0):
        raise InputError(f"pseudocount {pseudocount!r}; expected > 0 reads", field="pseudocount")
    used = list(dict.fromkeys([*refs, *names]))
    raw = counts[used].astype(float)
    norm = raw / size_factors(raw)
    ref_mean = norm[refs].mean(axis=1).to_numpy()
    out = pd.DataFrame({"gene": counts["gene"]}, index=counts.index)
    for name in names:
        out[name] = np.log2((norm[name].to_numpy() + pseudocount) / (ref_mean + pseudocount))
    return out


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation; NaN when either vector is constant."""
    a = a - a.mean()
    b = b - b.mean()
    denom = np.sqrt(np.dot(a, a) * np.dot(b, b))
    return float(np.dot(a, b) / denom) if denom > 0 else float("nan")


def replicate_correlation(
    counts: pd.DataFrame, groups: Mapping[str, Sequence[str]]
) -> pd.DataFrame:
    """Agreement of the replicates of each condition, one row per replicate pair.

    Counts are normalised by median-ratio size factors over all samples named in ``groups``.

    Parameters
    ----------
    counts
        Count table: index sgRNA, column ``gene``, then one read-count column per sample.
    groups
        Condition name -> its replicate sample columns, in sheet order.

    Returns
    -------
    pandas.DataFrame
        Columns ``group, sample_a, sample_b`` (the pair, in sheet order), ``pearson_log``
        (Pearson correlation of ``log2(normalised reads + 1)`` over sgRNAs) and ``spearman``
        (Spearman rank correlation of normalised reads). Groups with one sample give no row.

    Raises
    ------
    InputError
        ``field="groups"``: a sample not in the table, or listed twice in one group.

    Examples
    --------
    >>> counts = pd.DataFrame({"gene": list("ABC"), "r1": [1, 5, 9], "r2": [2, 10, 18]})
    >>> replicate_correlation(counts, {"d7": ["r1", "r2"]})["spearman"].tolist()
    [1.0]
    """
    pairs = null_contrasts(groups)
    used = list(dict.fromkeys(s for members in groups.values() for s in members))
    columns = ["group", "sample_a", "sample_b", "pearson_log", "spearman"]
    if used:
        _check_samples(counts, used, field="groups")
    if not pairs:
        empty = {c: pd.Series(dtype=object) for c in columns[:3]}
        empty.update({c: pd.Series(dtype=float) for c in columns[3:]})
        return pd.DataFrame(empty)
    raw = counts[used].astype(float)
    norm = raw / size_factors(raw)
    rows = []
    for group, a, b in pairs:
        x = norm[a].to_numpy()
        y = norm[b].to_numpy()
        rows.append(
            (
                group,
                a,
                b,
                _corr(np.log2(x + 1.0), np.log2(y + 1.0)),
                _corr(rankdata(x), rankdata(y)),
            )
        )
    return pd.DataFrame(rows, columns=columns)


def _roc_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(positive score > negative score) + P(tie) / 2, via the Mann-Whitney U statistic."""
    ranks = rankdata(np.concatenate([pos, neg]))  # average ranks count ties as 1/2
    u = ranks[: pos.size].sum() - pos.size * (pos.size + 1) / 2.0
    return float(u / (pos.size * neg.size))


def _average_precision(pos: np.ndarray, neg: np.ndarray) -> float:
    """Σ_k (R_k - R_{k-1}) P_k over descending distinct score thresholds (tied scores at once)."""
    scores = np.concatenate([pos, neg])
    labels = np.concatenate([np.ones(pos.size), np.zeros(neg.size)])
    order = np.argsort(-scores, kind="stable")
    scores = scores[order]
    tp = np.cumsum(labels[order])
    # The last index of each run of tied scores is one threshold.
    last = np.r_[np.flatnonzero(np.diff(scores) != 0), scores.size - 1]
    tp = tp[last]
    seen = last + 1.0
    precision = tp / seen
    recall = tp / pos.size
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def essential_separation(
    counts: pd.DataFrame,
    *,
    reference: str | Sequence[str],
    samples: Sequence[str],
    essential: Iterable[str],
    nonessential: Iterable[str],
) -> pd.DataFrame:
    """How well each sample's depletion separates core-essential from non-essential genes.

    Guide log2 fold changes against ``reference`` come from :func:`guide_lfc` (pseudocount
    0.5); a gene's score is the mean of its guides' fold changes. Essential genes are the
    positive class, scored by minus the gene fold change (more depleted, more essential); only
    genes in ``essential`` or ``nonessential`` enter the ranking.

    Parameters
    ----------
    counts
        Count table: index sgRNA, column ``gene``, then one read-count column per sample.
    reference
        The reference sample column(s), e.g. ``"plasmid"`` or T0.
    samples
        Sample columns to score.
    essential, nonessential
        Gene symbols of the positive and negative reference sets (e.g. CEGv2 and NEGv1, see
        :func:`read_gene_set`); symbols must match the table's ``gene`` column.

    Returns
    -------
    pandas.DataFrame
        Index ``sample``; columns

        - ``roc_auc``: area under the ROC curve, the Mann-Whitney probability that an essential
          gene is more depleted than a non-essential one, ties counted 1/2;
        - ``pr_auc``: average precision with essential genes positive;
        - ``median_lfc_essential``, ``median_lfc_nonessential``: median guide log2 fold change
          over the guides of each set's genes;
        - ``delta``: ``median_lfc_essential - median_lfc_nonessential`` (negative when essential
          genes drop out);
        - ``n_essential``, ``n_nonessential``: genes of each set present in the table.

    Raises
    ------
    InputError
        Fewer than 5 genes of either set in the table (``field="essential"`` or
        ``"nonessential"``), a gene in both sets, or a sample or reference not in the table.

    References
    ----------
    Hart et al. 2017, doi:10.1534/g3.117.041277 (CEGv2/NEGv1 reference sets).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> genes = [f"E{i}" for i in range(10)] + [f"N{i}" for i in range(10)]
    >>> t0 = rng.poisson(500, 20)
    >>> d14 = np.r_[rng.poisson(50, 10), rng.poisson(500, 10)]
    >>> counts = pd.DataFrame({"gene": genes, "t0": t0, "d14": d14})
    >>> qc = essential_separation(counts, reference="t0", samples=["d14"],
    ...     essential=genes[:10], nonessential=genes[10:])
    >>> float(qc.loc["d14", "roc_auc"])
    1.0
    """
    ess = set(essential)
    non = set(nonessential)
    both = sorted(ess & non)
    if both:
        raise InputError(
            f"{len(both)} genes are in both the essential and non-essential sets "
            f"(e.g. {', '.join(both[:3])}); a gene can be in only one",
            field="nonessential",
        )
    table_genes = set(counts["gene"])
    present = {}
    for field, genes in (("essential", ess), ("nonessential", non)):
        found = genes & table_genes
        if len(found) < _MIN_GENES:
            raise InputError(
                f"only {len(found)} of the {len(genes)} {field} genes are in the count table; "
                f"need at least {_MIN_GENES}. Gene symbols must match the table's gene column "
                "(same spelling and case, e.g. HGNC symbols)",
                field=field,
            )
        present[field] = found
    lfc = guide_lfc(counts, reference=reference, samples=samples)
    names = [c for c in lfc.columns if c != "gene"]
    is_ess = lfc["gene"].isin(present["essential"]).to_numpy()
    is_non = lfc["gene"].isin(present["nonessential"]).to_numpy()
    gene_lfc = lfc[is_ess | is_non].groupby("gene", sort=True)[names].mean()
    gene_is_ess = gene_lfc.index.isin(present["essential"])
    rows = []
    for name in names:
        score = -gene_lfc[name].to_numpy()
        pos = score[gene_is_ess]
        neg = score[~gene_is_ess]
        med_e = float(np.median(lfc[name].to_numpy()[is_ess]))
        med_n = float(np.median(lfc[name].to_numpy()[is_non]))
        rows.append(
            {
                "roc_auc": _roc_auc(pos, neg),
                "pr_auc": _average_precision(pos, neg),
                "median_lfc_essential": med_e,
                "median_lfc_nonessential": med_n,
                "delta": med_e - med_n,
                "n_essential": len(present["essential"]),
                "n_nonessential": len(present["nonessential"]),
            }
        )
    return pd.DataFrame(rows, index=pd.Index(names, name="sample"))


def read_gene_set(path: str | Path) -> set[str]:
    r"""Read a gene list: a TSV/CSV whose first column is the symbol, or one symbol per line.

    A header row is recognised when its first cell is ``GENE``, ``gene``, ``symbol`` or the
    like (case-insensitive), as in BAGEL's ``GENE  HGNC_ID  ENTREZ_ID``. Whitespace is
    stripped; empty lines and ``#`` comments are skipped; quotes around a cell are removed.

    Parameters
    ----------
    path
        The gene-list file.

    Returns
    -------
    set of str
        The gene symbols.

    Raises
    ------
    InputError
        Naming the file: it does not exist, is not text, or holds no gene symbol.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "ceg.tsv"
    ...     _ = p.write_text("GENE\tHGNC_ID\nRPL3\tHGNC:10332\n# comment\n\nPOLR2A\t1\n")
    ...     sorted(read_gene_set(p))
    ['POLR2A', 'RPL3']
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("gene list not found", file=path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not a text file; expected one gene symbol per line", file=path) from None
    genes: set[str] = set()
    first = True
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        cell = line.replace(",", "\t").split("\t", 1)[0].strip().strip("\"'").strip()
        if first:
            first = False
            if cell.lower() in _HEADER_WORDS:
                continue
        if cell:
            genes.add(cell)
    if not genes:
        raise InputError("no gene symbols in the gene list", file=path)
    return genes


def null_contrasts(groups: Mapping[str, Sequence[str]]) -> list[tuple[str, str, str]]:
    """Replicate-versus-replicate pairs within each condition, for use as null contrasts.

    Two replicates of one condition should differ only by noise, so a hit-calling method run
    on such a pair should find (almost) nothing.

    Parameters
    ----------
    groups
        Condition name -> its replicate sample columns, in sheet order.

    Returns
    -------
    list of tuple
        ``(group, sample_a, sample_b)`` for every pair within every group with at least two
        replicates, groups and samples in sheet order.

    Raises
    ------
    InputError
        ``field="groups"``: a sample listed twice within one group.

    Examples
    --------
    >>> null_contrasts({"plasmid": ["p"], "d14": ["d14_r1", "d14_r2", "d14_r3"]})
    [('d14', 'd14_r1', 'd14_r2'), ('d14', 'd14_r1', 'd14_r3'), ('d14', 'd14_r2', 'd14_r3')]
    """
    out = []
    for group, members in groups.items():
        members = [members] if isinstance(members, str) else list(members)
        if len(set(members)) != len(members):
            raise InputError(
                f"group {group!r} lists a sample more than once: {', '.join(members)}",
                field="groups",
            )
        out.extend((group, a, b) for a, b in itertools.combinations(members, 2))
    return out


def replicate_balance(counts: pd.DataFrame, groups: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Depth and Gini of each replicate pair, flagged where they differ enough to matter.

    Parameters
    ----------
    counts
        Count table: index sgRNA, column ``gene``, then one read-count column per sample.
    groups
        Condition name -> its replicate sample columns, in sheet order (as for
        :func:`replicate_correlation`).

    Returns
    -------
    pandas.DataFrame
        One row per pair of :func:`null_contrasts`: ``group, sample_a, sample_b``,
        ``reads_a``, ``reads_b`` (total reads), ``depth_ratio`` (deeper over shallower, >= 1),
        ``median_reads_low`` (median reads per sgRNA of the shallower sample), ``gini_a``,
        ``gini_b``, ``gini_difference`` (absolute), and ``flag``: ``""``, ``"depth"``
        (``depth_ratio`` >= :data:`DEPTH_RATIO_FLAG`), ``"gini"`` (``gini_difference`` >=
        :data:`GINI_DIFFERENCE_FLAG`) or ``"depth, gini"``.

    Raises
    ------
    InputError
        ``field="groups"``: a sample not in the table, or listed twice in one group.

    References
    ----------
    Li et al. 2015, doi:10.1186/s13059-015-0843-6 (Gini index expectations, Table 1).

    Examples
    --------
    >>> counts = pd.DataFrame({"gene": list("ABCD"), "r1": [90, 110, 100, 100],
    ...                        "r2": [30, 40, 30, 30]})
    >>> row = replicate_balance(counts, {"D14": ["r1", "r2"]}).iloc[0]
    >>> round(float(row["depth_ratio"]), 2), row["flag"]
    (3.08, 'depth')
    """
    pairs = null_contrasts(groups)
    used = list(dict.fromkeys(s for members in groups.values() for s in members))
    if used:
        _check_samples(counts, used, field="groups")
    per = sample_qc(counts, samples=used) if used else None
    rows = []
    for group, a, b in pairs:
        ra, rb = per.loc[a], per.loc[b]
        low = ra if ra["reads"] <= rb["reads"] else rb
        ratio = max(ra["reads"], rb["reads"]) / max(min(ra["reads"], rb["reads"]), 1)
        diff = abs(ra["gini"] - rb["gini"])
        flags = [name for name, hit in (("depth", ratio >= DEPTH_RATIO_FLAG),
                                        ("gini", diff >= GINI_DIFFERENCE_FLAG)) if hit]  # fmt: skip
        rows.append((group, a, b, int(ra["reads"]), int(rb["reads"]), float(ratio),
                     float(low["median_reads"]), float(ra["gini"]), float(rb["gini"]),
                     float(diff), ", ".join(flags)))  # fmt: skip
    columns = ["group", "sample_a", "sample_b", "reads_a", "reads_b", "depth_ratio",
               "median_reads_low", "gini_a", "gini_b", "gini_difference", "flag"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)
