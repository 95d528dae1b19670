"""cBioPortal study files: discrete copy number (``data_cna.txt``) and structural variants.

``data_cna.txt`` is a gene-by-sample matrix of GISTIC-style discrete calls: ``-2`` deep
(homozygous) deletion, ``-1`` shallow (hemizygous) loss (``-1.5`` is accepted as the
same), ``0`` neutral, ``1`` gain, ``2`` high-level amplification; ``NA`` or an empty cell
is a gene not profiled in that sample. The first columns are ``Hugo_Symbol`` and/or
``Entrez_Gene_Id`` (a ``Cytoband`` column among them is passed over); every other column
is a sample. Only ``2`` and ``-2`` are called
(``amplification`` and ``loss``), as cBioPortal's AMP and HOMDEL are; the gains and
shallow losses of the genes read are counted in one warning.

``data_sv.txt`` has one row per event: ``Sample_Id``, ``Site1_Hugo_Symbol`` (the 5'
gene) and ``Site2_Hugo_Symbol`` (the 3' gene), or their ``_Entrez_Gene_Id`` columns,
and optionally ``Event_Info``, ``Class``, ``SV_Status``. Two genes give a fusion
``SITE1::SITE2``; one gene (the other site intergenic) gives a fusion with the partner
unknown, with a warning; the same gene at both sites is an intragenic event, read from
``Event_Info`` when it names a change (``exon 14 skipping``), else warned about.

Both readers yield only the alterations of knowledge-base genes (or of ``genes``), in
file order, one per sample, with ``sample`` and ``source`` (``file:line``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from oncoresist.errors import InputError, UnknownGeneError
from oncoresist.kb import KnowledgeBase, load_kb
from oncoresist.variants._alteration import Alteration
from oncoresist.variants._genes import looks_spreadsheet_mangled, resolve_gene
from oncoresist.variants._intervals import symbol_of_entrez
from oncoresist.variants._parse import parse_change
from oncoresist.variants._sniff import PathLike, check_exists, iter_lines
from oncoresist.variants._warn import warn_at

_DISCRETE = {"-2": -2, "-1.5": -1, "-1": -1, "0": 0, "1": 1, "2": 2}
_MISSING = {"", "NA", "NAN", "N/A"}
_GENE_COLUMNS = ("hugo_symbol", "entrez_gene_id", "cytoband")  # before the sample columns
_SV_GENE_COLUMNS = (
    "site1_hugo_symbol",
    "site2_hugo_symbol",
    "site1_entrez_gene_id",
    "site2_entrez_gene_id",
)


def _targets(kb: KnowledgeBase, genes: Iterable[str] | None, path: PathLike) -> frozenset[str]:
    if genes is None:
        return frozenset(kb.genes)
    if isinstance(genes, str):
        genes = [genes]
    out = set()
    for name in genes:
        try:
            out.add(resolve_gene(kb, name))
        except InputError as exc:
            raise exc.located(file=path, field="genes") from None
    return frozenset(out)


def _symbol(kb: KnowledgeBase, hugo: str, entrez: str) -> str | None:
    """The gene of a row: its symbol (aliases resolved), else its Entrez ID's symbol."""
    hugo = hugo.strip()
    if hugo and looks_spreadsheet_mangled(hugo) is None:
        if kb.is_gene(hugo):
            return kb.resolve_gene(hugo)
        return hugo.upper()
    if entrez.strip():
        return symbol_of_entrez(entrez.split(".")[0])
    return None


def _header(path: PathLike, lines: Iterator[tuple[int, str]]) -> tuple[int, list[str]]:
    for number, text in lines:
        if text.startswith("#") or not text.strip():
            continue  # cBioPortal allows '#' comment lines before the header
        return number, text.split("\t")
    raise InputError("the file has no header line", file=path, record=1, field="header")


def _cells(
    path: PathLike, lines: Iterator[tuple[int, str]], width: int, header_line: int
) -> Iterator[tuple[int, list[str]]]:
    """The data rows' tab-separated cells, each as wide as the header (located error if not)."""
    for number, text in lines:
        if not text.strip() or text.startswith("#"):
            continue
        cells = text.split("\t")
        if len(cells) != width:
            raise InputError(
                f"{len(cells)} tab-separated column(s); expected {width}, as in the "
                f"header (line {header_line})",
                file=path,
                record=number,
                field="row",
            )
        yield number, cells


def read_cbioportal_cna(
    path: PathLike,
    *,
    sample: str | None = None,
    kb: KnowledgeBase | None = None,
    genes: Iterable[str] | None = None,
) -> Iterator[Alteration]:
    """Read amplifications and deep deletions from a cBioPortal ``data_cna.txt``.

    The header is checked when this function is called; rows stream from the returned
    iterator.

    Parameters
    ----------
    path
        The file (tab-separated, plain or gzipped).
    sample
        The sample column to read; ``None`` reads every sample.
    kb
        Knowledge base (the shipped one by default).
    genes
        Genes to report (symbols or aliases); every knowledge-base gene by default.

    Yields
    ------
    Alteration
        ``GENE amplification`` for ``2``, ``GENE loss`` for ``-2``, with ``sample`` and
        ``source`` (``file:line``).

    Warns
    -----
    VariantWarning
        Once per file, counting the gains (``1``) and shallow losses (``-1``) read but
        not called.

    Raises
    ------
    InputError
        Naming the file, line and column: no ``Hugo_Symbol``/``Entrez_Gene_Id`` column,
        no sample column, a duplicate sample, a row of the wrong length, a row naming no
        gene, a gene read twice, a value other than -2, -1, 0, 1, 2 (a continuous
        log2 file), an unknown ``sample``.
    """
    kb = kb or load_kb()
    file = check_exists(path)
    targets = _targets(kb, genes, path)
    lines = iter_lines(file)
    number, columns = _header(path, lines)
    names = [c.strip() for c in columns]
    lowered = [c.lower() for c in names]
    gene_cols = [i for i, c in enumerate(lowered) if c in _GENE_COLUMNS]
    if not gene_cols or gene_cols != list(range(len(gene_cols))) or lowered[0] == "cytoband":
        raise InputError(
            f"the header starts {', '.join(names[:3])!s}; expected Hugo_Symbol and/or "
            "Entrez_Gene_Id as the first column(s) (and optionally Cytoband), then one "
            "column per sample",
            file=path,
            record=number,
            field="header",
        )
    samples = names[len(gene_cols) :]
    if not samples:
        raise InputError(
            "no sample columns; expected one column per sample after the gene column(s)",
            file=path,
            record=number,
            field="header",
        )
    dupes = sorted({s for s in samples if samples.count(s) > 1})
    if dupes:
        raise InputError(
            f"sample column(s) {', '.join(dupes)} appear twice; expected unique samples",
            file=path,
            record=number,
            field="header",
        )
    chosen = list(range(len(samples)))
    if sample is not None:
        if sample not in samples:
            shown = ", ".join(samples[:6]) + (" ..." if len(samples) > 6 else "")
            raise InputError(
                f"sample {sample!r} is not in the file; its samples are: {shown}",
                file=path,
                record=number,
                field="sample",
            )
        chosen = [samples.index(sample)]
    return _cna_rows(path, lines, number, lowered, samples, chosen, targets, kb)


def _cna_rows(
    path: PathLike,
    lines: Iterator[tuple[int, str]],
    header_line: int,
    lowered: list[str],
    samples: list[str],
    chosen: list[int],
    targets: frozenset[str],
    kb: KnowledgeBase,
) -> Iterator[Alteration]:
    hugo_at = lowered.index("hugo_symbol") if "hugo_symbol" in lowered else None
    entrez_at = lowered.index("entrez_gene_id") if "entrez_gene_id" in lowered else None
    first = len(lowered) - len(samples)
    width = len(lowered)
    seen: dict[str, int] = {}
    gains = losses = 0
    try:
        for number, cells in _cells(path, lines, width, header_line):
            hugo = cells[hugo_at] if hugo_at is not None else ""
            entrez = cells[entrez_at] if entrez_at is not None else ""
            if not hugo.strip() and not entrez.strip():
                raise InputError(
                    "the row names no gene; expected a Hugo_Symbol or an Entrez_Gene_Id",
                    file=path,
                    record=number,
                    field="Hugo_Symbol",
                )
            gene = _symbol(kb, hugo, entrez)
            if gene is None or gene not in targets:
                continue
            if gene in seen:
                raise InputError(
                    f"{gene} is also on line {seen[gene]}; expected one row per gene",
                    file=path,
                    record=number,
                    field="Hugo_Symbol",
                )
            seen[gene] = number
            for k in chosen:
                raw = cells[first + k].strip()
                if raw.upper() in _MISSING:
                    continue
                value = _DISCRETE.get(raw)
                if value is None:
                    value = _discrete(raw, path, number, samples[k])
                extra = {"sample": samples[k], "source": f"{path}:{number}"}
                if value == 2:
                    yield parse_change("amplification", gene=gene, kb=kb, **extra)
                elif value == -2:
                    yield parse_change("loss", gene=gene, kb=kb, **extra)
                elif value == 1:
                    gains += 1
                elif value == -1:
                    losses += 1
    finally:
        lines.close()  # type: ignore[attr-defined]
    if gains or losses:
        warn_at(
            f"{gains} gain(s) (1) and {losses} shallow loss(es) (-1) of the genes read are "
            "reported here, not called: only 2 (amplification) and -2 (deep deletion) are",
            file=path,
        )


def _discrete(raw: str, path: PathLike, line: int, sample: str) -> int:
    try:
        number = float(raw)
    except ValueError:
        number = None
    if number is not None and number in (-2, -1, 0, 1, 2):
        return int(number)
    hint = ""
    if number is not None and number != int(number):
        hint = (
            " (a continuous value: this looks like data_log2_cna.txt or a segment file; "
            "give the discrete data_cna.txt)"
        )
    elif number is not None:
        hint = " (an absolute copy number? data_cna.txt holds GISTIC-style calls -2 to 2)"
    raise InputError(
        f"{raw!r} is not a discrete copy-number call; expected -2, -1, 0, 1, 2 or NA{hint}",
        file=path,
        record=line,
        field=sample,
    )


def read_cbioportal_sv(
    path: PathLike,
    *,
    sample: str | None = None,
    kb: KnowledgeBase | None = None,
    genes: Iterable[str] | None = None,
) -> Iterator[Alteration]:
    """Read fusions from a cBioPortal structural-variant file (``data_sv.txt``).

    Parameters
    ----------
    path
        The file (tab-separated, plain or gzipped).
    sample
        The ``Sample_Id`` to read; ``None`` reads every sample.
    kb
        Knowledge base (the shipped one by default).
    genes
        Genes to report (symbols or aliases); every knowledge-base gene by default.

    Yields
    ------
    Alteration
        ``SITE1::SITE2`` fusions (``Site1`` is the 5' gene), fusions with the partner
        unknown, or the change ``Event_Info`` names for an intragenic event; with
        ``sample`` and ``source`` (``file:line``).

    Warns
    -----
    VariantWarning
        For an event with one gene (partner unknown) and an intragenic event whose
        ``Event_Info`` names no change.

    Raises
    ------
    InputError
        Naming the file, line and column: no ``Sample_Id`` or site gene columns, a row
        of the wrong length, a row without a sample or without a gene, an unknown
        ``sample``.
    """
    kb = kb or load_kb()
    file = check_exists(path)
    targets = _targets(kb, genes, path)
    lines = iter_lines(file)
    number, columns = _header(path, lines)
    lowered = [c.strip().lower() for c in columns]
    if "sample_id" not in lowered or not any(c in lowered for c in _SV_GENE_COLUMNS):
        raise InputError(
            "expected the cBioPortal structural-variant columns Sample_Id and "
            "Site1_Hugo_Symbol / Site2_Hugo_Symbol (or their _Entrez_Gene_Id columns); "
            f"found {', '.join(c.strip() for c in columns[:6])}",
            file=path,
            record=number,
            field="header",
        )
    return _sv_rows(path, lines, number, lowered, sample, targets, kb)


def _sv_rows(
    path: PathLike,
    lines: Iterator[tuple[int, str]],
    header_line: int,
    lowered: list[str],
    sample: str | None,
    targets: frozenset[str],
    kb: KnowledgeBase,
) -> Iterator[Alteration]:
    at = {c: i for i, c in enumerate(lowered)}
    width = len(lowered)
    found_sample = False
    samples: set[str] = set()

    def cell(cells: list[str], name: str) -> str:
        i = at.get(name)
        return cells[i].strip() if i is not None else ""

    try:
        for number, cells in _cells(path, lines, width, header_line):
            sample_id = cell(cells, "sample_id")
            if not sample_id:
                raise InputError(
                    "empty Sample_Id; expected the sample the event was found in",
                    file=path,
                    record=number,
                    field="Sample_Id",
                )
            samples.add(sample_id)
            if sample is not None and sample_id != sample:
                continue
            found_sample = True
            site1 = _symbol(
                kb, cell(cells, "site1_hugo_symbol"), cell(cells, "site1_entrez_gene_id")
            )
            site2 = _symbol(
                kb, cell(cells, "site2_hugo_symbol"), cell(cells, "site2_entrez_gene_id")
            )
            if site1 is None and site2 is None:
                raise InputError(
                    "the row names no gene; expected Site1_Hugo_Symbol and/or "
                    "Site2_Hugo_Symbol (or a known Entrez_Gene_Id)",
                    file=path,
                    record=number,
                    field="Site1_Hugo_Symbol",
                )
            if not ({site1, site2} & targets):
                continue
            extra = {"sample": sample_id, "source": f"{path}:{number}"}
            event = cell(cells, "event_info")
            where = {"file": path, "record": number}
            if site1 is not None and site2 is not None and site1 != site2:
                gene = site2 if site2 in targets else site1
                try:
                    yield parse_change(f"{site1}::{site2} fusion", gene=gene, kb=kb, **extra)
                except InputError as exc:
                    raise exc.located(field="Site1_Hugo_Symbol", **where) from None
                continue
            gene = site1 or site2
            assert gene is not None
            if site1 == site2:
                change = _intragenic(kb, gene, event)
                if change is not None:
                    yield change.model_copy(update=extra)
                else:
                    warn_at(
                        f"an event with both sites in {gene} (Event_Info {event or 'empty'!r})"
                        " is not interpreted: expected Event_Info to name a change such as "
                        "'exon 14 skipping'",
                        field="Event_Info",
                        **where,  # type: ignore[arg-type]
                    )
                continue
            missing = "Site2" if site2 is None else "Site1"
            warn_at(
                f"{missing} names no gene; reported as {gene} fusion with the partner unknown",
                field=f"{missing}_Hugo_Symbol",
                **where,  # type: ignore[arg-type]
            )
            yield parse_change("fusion", gene=gene, kb=kb, **extra)
    finally:
        lines.close()  # type: ignore[attr-defined]
    if sample is not None and not found_sample:
        shown = ", ".join(sorted(samples)[:6]) or "none"
        raise InputError(
            f"sample {sample!r} is not in the file; its Sample_Id values are: {shown}",
            file=path,
            field="Sample_Id",
        )


def _intragenic(kb: KnowledgeBase, gene: str, event: str) -> Alteration | None:
    """The change an intragenic event's ``Event_Info`` names (``exon 14 skipping``)."""
    text = event.strip()
    if text.upper().startswith(gene + " "):
        text = text[len(gene) + 1 :]
    if not text:
        return None
    try:
        found = parse_change(text, gene=gene, kb=kb)
    except (InputError, UnknownGeneError):
        return None
    return None if found.kind == "fusion" else found
