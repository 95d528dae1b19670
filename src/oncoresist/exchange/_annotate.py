"""Annotated MAF and VCF: the input file with the interpretation's verdicts added per row.

This is what users of OncoKB's MAF annotator expect: every original column, comment line,
header line and row is kept, in order, and verdict columns (MAF) or ``INFO`` fields
(VCF) are added. Each sample is interpreted as one case, so a row's verdicts are read in
the context of the sample's other alterations (a compound in cis, a bypass next to the
driver); a row lists the drugs whose verdict rests on an assertion about that row's
alteration. The file is read twice (once by the project's reader, which checks it, and
once to copy it), in constant memory apart from the alterations found.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from oncoresist._files import atomic_write
from oncoresist.errors import InputError
from oncoresist.exchange._summary import (
    AlterationSummary,
    kb_version,
    software_version,
    summarise_alterations,
)
from oncoresist.kb import KnowledgeBase, load_kb
from oncoresist.variants import Alteration
from oncoresist.variants._sniff import PathLike, check_exists, iter_lines, sniff

#: the columns an annotated MAF gains, in order (see docs/exchange.md)
MAF_COLUMNS = (
    "ONCORESIST_ALTERATION",
    "ONCORESIST_STATUS",
    "ONCORESIST_RESISTANT_DRUGS",
    "ONCORESIST_REDUCED_DRUGS",
    "ONCORESIST_SENSITIVE_DRUGS",
    "ONCORESIST_HIGHEST_LEVEL",
    "ONCORESIST_WEAKEST_LEVEL",
    "ONCORESIST_MECHANISM",
    "ONCORESIST_ASSERTIONS",
)

#: the INFO fields an annotated VCF gains: (ID, Number, description)
VCF_INFO = (
    ("ONCORESIST_STATUS", "1",
     "oncoresist: matched (a knowledge-base assertion about this record decides a verdict), "
     "no_assertion (read, but no assertion applies) or not_assessed (not a "
     "knowledge-base alteration of the sample)"),
    ("ONCORESIST_ALTERATION", ".", "oncoresist: the alteration(s) read from this record"),
    ("ONCORESIST_RESISTANT", ".",
     "oncoresist: drugs this record's alteration makes resistant (combinations joined by +)"),
    ("ONCORESIST_REDUCED", ".",
     "oncoresist: drugs with a reduced response because of this record's alteration"),
    ("ONCORESIST_SENSITIVE", ".", "oncoresist: drugs this record's alteration sensitises to"),
    ("ONCORESIST_HIGHEST_LEVEL", "1",
     "oncoresist: strongest evidence level (A-E) among the assertions used"),
    ("ONCORESIST_WEAKEST_LEVEL", "1",
     "oncoresist: weakest evidence level (A-E) among the assertions used"),
    ("ONCORESIST_MECHANISM", ".", "oncoresist: resistance mechanism(s) of those assertions"),
    ("ONCORESIST_ASSERTIONS", ".", "oncoresist: knowledge-base assertion ids used"),
)  # fmt: skip

PROVENANCE_KEY = "oncoresist_annotation"
_NOT_ASSESSED = "not_assessed"


@dataclass(frozen=True)
class AnnotationReport:
    """What an annotation wrote.

    Attributes
    ----------
    path
        The annotated file.
    rows
        Data rows (MAF) or records (VCF) copied.
    matched
        Rows with at least one knowledge-base assertion deciding a verdict.
    read
        Rows the project's reader turned into an alteration (matched or not).
    samples
        Samples interpreted (each as one case).
    """

    path: Path
    rows: int
    matched: int
    read: int
    samples: int


def _line_of(alteration: Alteration) -> int | None:
    """The 1-based line a reader took ``alteration`` from (its ``source`` is ``file:line``)."""
    if not alteration.source or ":" not in alteration.source:
        return None
    tail = alteration.source.rsplit(":", 1)[1]
    return int(tail) if tail.isdigit() else None


def _interpret_samples(
    alterations: Iterable[Alteration],
    *,
    disease: str | None,
    kb: KnowledgeBase,
    diseases: Mapping[str, str] | None = None,
) -> tuple[dict[int, list[AlterationSummary]], dict[int, list[str]], int]:
    """Interpret each sample as one case; the summaries of each source line."""
    from oncoresist.interpret import interpret

    by_sample: dict[str | None, list[Alteration]] = {}
    for alt in alterations:
        by_sample.setdefault(alt.sample, []).append(alt)
    summaries: dict[int, list[AlterationSummary]] = {}
    labels: dict[int, list[str]] = {}
    for sample, alts in by_sample.items():
        own = (diseases or {}).get(sample) if sample is not None else None
        result = interpret(alts, disease=own or disease, kb=kb)
        found = summarise_alterations(result)
        for alt in alts:
            line = _line_of(alt)
            if line is None:
                continue
            labels.setdefault(line, [])
            if alt.label not in labels[line]:
                labels[line].append(alt.label)
                summaries.setdefault(line, []).append(found[alt.label])
    return summaries, labels, len(by_sample)


def _merge(items: list[AlterationSummary]) -> AlterationSummary:
    """One summary for a row that holds several alterations (a multi-allelic VCF record)."""
    if len(items) == 1:
        return items[0]
    from oncoresist.kb import EVIDENCE_RANK

    levels = sorted({lv for s in items for lv in (s.highest_level, s.weakest_level) if lv},
                    key=EVIDENCE_RANK.__getitem__)  # fmt: skip
    severity = {"resistant": 3, "reduced_response": 2, "sensitive": 1}
    effect: dict[str, str] = {}
    for s in items:
        for name in severity:
            for drug in s.drugs(name):
                if drug not in effect or severity[name] > severity[effect[drug]]:
                    effect[drug] = name
    return AlterationSummary(
        alteration=" / ".join(s.alteration for s in items),
        resistant=tuple(sorted(d for d, e in effect.items() if e == "resistant")),
        reduced_response=tuple(sorted(d for d, e in effect.items() if e == "reduced_response")),
        sensitive=tuple(sorted(d for d, e in effect.items() if e == "sensitive")),
        highest_level=levels[-1] if levels else None,
        weakest_level=levels[0] if levels else None,
        mechanisms=tuple(sorted({m for s in items for m in s.mechanisms})),
        assertions=tuple(sorted({a for s in items for a in s.assertions})),
    )


def _provenance(disease: str | None, kb: KnowledgeBase) -> str:
    try:
        disease_id = kb.resolve_disease(disease) if disease else None
    except InputError as exc:
        raise exc.located(field="disease") from None
    return (
        f"software={software_version().replace(' ', '/')},knowledge_base={kb_version(kb)},"
        f"disease={disease_id or 'not_given'}"
    )


# ----------------------------------------------------------------------------- MAF
def _maf_cells(labels: list[str] | None, summary: AlterationSummary | None) -> list[str]:
    if labels is None or summary is None:
        return [""] + [_NOT_ASSESSED] + [""] * (len(MAF_COLUMNS) - 2)
    return [
        "; ".join(labels),
        "matched" if summary.matched else "no_assertion",
        ", ".join(summary.resistant),
        ", ".join(summary.reduced_response),
        ", ".join(summary.sensitive),
        summary.highest_level or "",
        summary.weakest_level or "",
        ", ".join(summary.mechanisms),
        ", ".join(summary.assertions),
    ]


def annotate_maf(
    path: PathLike,
    out: PathLike,
    *,
    disease: str | None = None,
    diseases: Mapping[str, str] | None = None,
    kb: KnowledgeBase | None = None,
) -> AnnotationReport:
    r"""Write ``path`` (a MAF) to ``out`` with the verdict columns added to every row.

    Parameters
    ----------
    path
        A MAF (plain or gzipped), as :func:`oncoresist.variants.read_maf` reads it.
    out
        The annotated MAF (plain text); written to a temporary file and renamed, so a
        failure leaves nothing behind. It may not be ``path`` itself, nor end in ``.gz``.
    disease
        The disease of every sample (name, synonym or OncoTree code); ``None`` applies
        the assertions of every disease.
    diseases
        Per-sample diseases (``Tumor_Sample_Barcode`` -> disease), e.g. from a cBioPortal
        sample file (:func:`read_sample_diseases`); they take precedence over
        ``disease``.
    kb
        Knowledge base (the shipped one by default).

    Returns
    -------
    AnnotationReport
        Rows copied, rows read and matched, samples interpreted.

    Notes
    -----
    Columns added (or, in a file annotated before, replaced where they are):
    ``ONCORESIST_ALTERATION`` (the alteration read from the row), ``ONCORESIST_STATUS``
    (``matched``, ``no_assertion`` or ``not_assessed`` for rows the reader skips: genes
    outside the knowledge base, silent and non-coding changes),
    ``ONCORESIST_RESISTANT_DRUGS``, ``ONCORESIST_REDUCED_DRUGS``,
    ``ONCORESIST_SENSITIVE_DRUGS`` (comma-separated),
    ``ONCORESIST_HIGHEST_LEVEL``, ``ONCORESIST_WEAKEST_LEVEL`` (A-E),
    ``ONCORESIST_MECHANISM`` and ``ONCORESIST_ASSERTIONS``. One comment line
    ``#oncoresist_annotation software=...,knowledge_base=sha256:...,disease=...`` is
    written before the header (an older one is replaced).

    Raises
    ------
    InputError
        Whatever :func:`~oncoresist.variants.read_maf` raises (naming file, line and
        column), an unknown disease, or ``out`` being the input file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.maf").write_text(
    ...     "Hugo_Symbol\tVariant_Classification\tTumor_Sample_Barcode\tHGVSp_Short\n"
    ...     "EGFR\tMissense_Mutation\tS1\tp.L858R\n")
    >>> annotate_maf(d / "a.maf", d / "b.maf", disease="LUAD").matched
    1
    """
    from oncoresist.variants import read_maf

    kb = kb or load_kb()
    source = check_exists(path)
    target = Path(out)
    _not_same(source, target)
    provenance = _provenance(disease, kb)
    if diseases:
        provenance += ",per_sample_diseases=yes"
    summaries, labels, samples = _interpret_samples(
        read_maf(source, kb=kb), disease=disease, kb=kb, diseases=diseases
    )
    rows = matched = 0
    header: list[str] | None = None
    slots: list[int] = []
    width = 0
    with atomic_write(target) as handle:
        for number, text in iter_lines(source):
            if header is None:
                if text.startswith(f"#{PROVENANCE_KEY}"):
                    continue  # an earlier annotation's line; the new one replaces it
                if text.startswith("#") or not text.strip():
                    handle.write(text + "\n")
                    continue
                header = text.split("\t")
                width = len(header)
                names = [c.strip() for c in header]
                slots = []
                for column in MAF_COLUMNS:
                    if column in names:
                        slots.append(names.index(column))
                    else:
                        slots.append(len(header))
                        header.append(column)
                handle.write(f"#{PROVENANCE_KEY} {provenance}\n")
                handle.write("\t".join(header) + "\n")
                continue
            if not text.strip():
                handle.write(text + "\n")
                continue
            row = text.split("\t")
            if any(cell.strip() for cell in row[width:]):
                raise InputError(
                    f"{len(row)} tab-separated values, but the header has {width} columns; "
                    "expected no values beyond the header's columns",
                    file=path,
                    record=number,
                    field="row",
                )
            row = row[:width] + [""] * (len(header) - min(len(row), width))
            found = summaries.get(number)
            summary = _merge(found) if found else None
            for slot, cell in zip(slots, _maf_cells(labels.get(number), summary), strict=True):
                row[slot] = cell
            rows += 1
            matched += bool(summary is not None and summary.matched)
            handle.write("\t".join(row) + "\n")
    return AnnotationReport(target, rows, matched, len(summaries), samples)


def read_sample_diseases(path: PathLike, *, kb: KnowledgeBase | None = None) -> dict[str, str]:
    """Per-sample diseases from a clinical sample table (``SAMPLE_ID`` -> disease id).

    Parameters
    ----------
    path
        Tab-separated, ``#`` lines skipped (a cBioPortal ``data_clinical_sample.txt``
        works as it is), with a ``SAMPLE_ID`` column and an ``ONCOTREE_CODE`` (or
        ``DISEASE``) column, as OncoKB's annotator takes with its clinical file.
    kb
        Knowledge base (the shipped one by default).

    Returns
    -------
    dict of str to str
        Sample -> knowledge-base disease id; samples with an empty or ``NA`` code are
        left out (their rows use ``disease``).

    Raises
    ------
    InputError
        A missing column, a sample listed twice with different diseases, or a code the
        knowledge base does not know, naming the line and column.
    """
    kb = kb or load_kb()
    source = check_exists(path)
    header: list[str] | None = None
    sample_col = disease_col = 0
    disease_name = ""
    out: dict[str, str] = {}
    for number, text in iter_lines(source):
        if text.startswith("#") or not text.strip():
            continue
        cells = [c.strip() for c in text.split("\t")]
        if header is None:
            header = [c.upper() for c in cells]
            disease_name = next((c for c in ("ONCOTREE_CODE", "DISEASE") if c in header), "")
            if "SAMPLE_ID" not in header or not disease_name:
                raise InputError(
                    "expected a tab-separated header with SAMPLE_ID and ONCOTREE_CODE (or "
                    "DISEASE) columns",
                    file=path,
                    record=number,
                    field="SAMPLE_ID" if "SAMPLE_ID" not in header else "ONCOTREE_CODE",
                )
            sample_col, disease_col = header.index("SAMPLE_ID"), header.index(disease_name)
            continue
        if len(cells) <= max(sample_col, disease_col):
            raise InputError(f"{len(cells)} column(s); the header has {len(header)}",
                             file=path, record=number, field="row")  # fmt: skip
        sample, code = cells[sample_col], cells[disease_col]
        if not sample or code in ("", "NA", "N/A"):
            continue
        try:
            found = kb.resolve_disease(code)
        except InputError as exc:
            raise InputError(exc.message, file=path, record=number, field=disease_name) from None
        if out.get(sample, found) != found:
            raise InputError(f"sample {sample!r} is listed with two diseases",
                             file=path, record=number, field=disease_name)  # fmt: skip
        out[sample] = found
    if header is None:
        raise InputError("no header line; expected SAMPLE_ID and ONCOTREE_CODE columns",
                         file=path, record=1, field="header")  # fmt: skip
    return out


# ----------------------------------------------------------------------------- VCF
_RESERVED = re.compile(r"[%;=,\s]")
_ESCAPES = {"%": "%25", ";": "%3B", "=": "%3D", ",": "%2C"}


def info_value(text: str) -> str:
    """``text`` as one INFO list item: spaces become ``_``, ``% ; = ,`` are %-encoded.

    VCF 4.3 reserves these characters inside INFO values; a drug combination
    ``gefitinib + osimertinib`` is written ``gefitinib+osimertinib``.
    """
    text = text.replace(" + ", "+")
    return _RESERVED.sub(lambda m: "_" if m.group().isspace() else _ESCAPES[m.group()], text)


def _info_fields(labels: list[str] | None, summary: AlterationSummary | None) -> list[str]:
    if labels is None or summary is None:
        return [f"ONCORESIST_STATUS={_NOT_ASSESSED}"]

    def items(values: Iterable[str]) -> str:
        return ",".join(info_value(v) for v in values)

    fields = [
        f"ONCORESIST_STATUS={'matched' if summary.matched else 'no_assertion'}",
        f"ONCORESIST_ALTERATION={items(labels)}",
    ]
    for key, values in (
        ("ONCORESIST_RESISTANT", summary.resistant),
        ("ONCORESIST_REDUCED", summary.reduced_response),
        ("ONCORESIST_SENSITIVE", summary.sensitive),
        ("ONCORESIST_HIGHEST_LEVEL", [summary.highest_level] if summary.highest_level else []),
        ("ONCORESIST_WEAKEST_LEVEL", [summary.weakest_level] if summary.weakest_level else []),
        ("ONCORESIST_MECHANISM", summary.mechanisms),
        ("ONCORESIST_ASSERTIONS", summary.assertions),
    ):
        if values:
            fields.append(f"{key}={items(values)}")
    return fields


def _strip_ours(info: str) -> list[str]:
    if info in ("", "."):
        return []
    return [f for f in info.split(";") if not f.split("=", 1)[0].startswith("ONCORESIST_")]


def annotate_vcf(
    path: PathLike,
    out: PathLike,
    *,
    disease: str | None = None,
    build: str | None = None,
    sample: str | None = None,
    kb: KnowledgeBase | None = None,
) -> AnnotationReport:
    """Write ``path`` (a VCF) to ``out`` with ``ONCORESIST_*`` INFO fields on every record.

    Parameters
    ----------
    path
        A text VCF, plain or (b)gzipped. A BCF is refused (convert it with
        ``bcftools view``).
    out
        The annotated VCF (plain text), written to a temporary file and renamed.
    disease
        The patient's disease (name, synonym or OncoTree code), or ``None``.
    build, sample
        As for :func:`oncoresist.variants.read_vcf`: the genome build when the header
        does not say, and the sample column of a multi-sample file.
    kb
        Knowledge base (the shipped one by default).

    Returns
    -------
    AnnotationReport

    Notes
    -----
    The header gains one ``##INFO`` line per field of :data:`VCF_INFO` and a
    ``##oncoresist_annotation=`` line, just before ``#CHROM`` (those of an earlier
    annotation are replaced). Every record gets ``ONCORESIST_STATUS``; records with an
    alteration get the others when they have values. Values follow VCF 4.3's INFO
    rules (:func:`info_value`). Other INFO fields, columns and samples are copied as
    they are.

    Raises
    ------
    InputError
        What :func:`~oncoresist.variants.read_vcf` raises, a BCF, an unknown disease,
        or ``out`` being the input file.
    """
    from oncoresist.variants import read_vcf

    kb = kb or load_kb()
    source = check_exists(path)
    target = Path(out)
    _not_same(source, target)
    found = sniff(source)
    if found.kind == "bcf":
        raise InputError(
            "a BCF cannot be annotated in place; expected a text VCF (plain or bgzipped): "
            "convert it with `bcftools view -Oz`",
            file=path,
            field="format",
        )
    provenance = _provenance(disease, kb)
    summaries, labels, samples = _interpret_samples(
        read_vcf(source, build=build, sample=sample, kb=kb), disease=disease, kb=kb
    )
    declared = {key for key, _, _ in VCF_INFO}
    rows = matched = 0
    in_header = True
    with atomic_write(target) as handle:
        for number, text in iter_lines(source):
            if in_header:
                if text.startswith("##"):
                    meta_id = re.match(r"##INFO=<ID=([^,>]+)", text)
                    if meta_id and meta_id.group(1) in declared:
                        continue
                    if text.startswith(f"##{PROVENANCE_KEY}="):
                        continue
                    handle.write(text + "\n")
                    continue
                if text.startswith("#CHROM"):
                    for key, count, description in VCF_INFO:
                        handle.write(f'##INFO=<ID={key},Number={count},Type=String,'
                                     f'Description="{description}">\n')  # fmt: skip
                    handle.write(f"##{PROVENANCE_KEY}={provenance}\n")
                    handle.write(text + "\n")
                    in_header = False
                    continue
            if not text.strip():
                continue
            cols = text.split("\t")
            found_here = summaries.get(number)
            summary = _merge(found_here) if found_here else None
            info = _strip_ours(cols[7]) + _info_fields(labels.get(number), summary)
            cols[7] = ";".join(info)
            rows += 1
            matched += bool(summary is not None and summary.matched)
            handle.write("\t".join(cols) + "\n")
    return AnnotationReport(target, rows, matched, len(summaries), samples)


def _not_same(source: Path, target: Path) -> None:
    if target.suffix.lower() in (".gz", ".bgz", ".gzip", ".bcf"):
        raise InputError(
            "the annotated file is written as plain text; expected a name without a "
            "compression suffix (compress it afterwards, e.g. with bgzip)",
            file=target,
            field="--out",
        )
    if target.exists() and target.resolve() == source.resolve():
        raise InputError(
            "the output is the input file; expected another path (the input is read twice)",
            file=target,
            field="--out",
        )
