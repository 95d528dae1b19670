"""Read the knowledge-base-relevant alterations of a VCF, streaming with cyvcf2.

A record is relevant when a VEP ``CSQ`` or SnpEff ``ANN`` annotation puts a protein change
in a knowledge-base gene (or one of ``genes``), or when its ``(CHROM, POS, REF, ALT)`` is a
knowledge-base coordinate of the file's genome build. Every other record costs one
attribute read (``POS``), one set look-up and, in annotated files, one search of the
annotation text: the reader stays within a small factor of cyvcf2's own iteration and
uses constant memory.

Copy-number and structural records (symbolic alleles such as ``<DUP>`` with ``CN``,
breakends) are placed on genes and called by :mod:`oncoresist.variants._symbolic`; every
record is checked for them (one ``var_type`` read, and a look at ALT when it is not a SNV).

The header is read and checked by this module before htslib sees the file (htslib
accepts a truncated BGZF file and reports some damage only as messages on stderr).
htslib's own warnings ("contig is not defined in the header ... index the file with
tabix", "INFO 'CN' is not defined in the header") are silenced while this module reads:
they are about the header's completeness, which this module checks and reports itself,
and they would otherwise leak to the user's terminal around the tool's own output.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from cyvcf2 import VCF
from cyvcf2 import cyvcf2 as _cyvcf2

from oncoresist._progress import RECORDS_PER_REPORT, ProgressCallback
from oncoresist.errors import InputError
from oncoresist.kb import KnowledgeBase, load_kb
from oncoresist.variants._alteration import Alteration
from oncoresist.variants._builds import (
    BuildEvidence,
    looks_like,
    normalise_chrom,
    resolve_build,
)
from oncoresist.variants._copynumber import DEFAULT_THRESHOLDS, CopyNumberThresholds
from oncoresist.variants._genes import resolve_gene
from oncoresist.variants._parse import parse_change
from oncoresist.variants._sniff import (
    BOM,
    PathLike,
    check_bgzf_complete,
    check_exists,
    gzip_problem,
    iter_lines,
    open_text_bytes,
    read_head,
    sniff,
    truncated_gzip_error,
)
from oncoresist.variants._symbolic import SymbolicRecords, structural_alleles

FIXED_COLUMNS = ("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")
_META = re.compile(r'([A-Za-z_][\w.]*)=("(?:[^"\\]|\\.)*"|[^,>]*)')
_SPLICE = ("splice_donor_variant", "splice_acceptor_variant")
_SYNONYMOUS = object()  # the annotation says the protein does not change
_PLAIN = frozenset({"snp", "mnp"})  # var_type of records that cannot be structural
_HTSLIB_ERRORS_ONLY = 1  # htslib's HTS_LOG_ERROR: errors are shown, warnings are not
_HTSLIB_DEFAULT = 3  # HTS_LOG_WARNING


@functools.cache
def _htslib() -> ctypes.CDLL | None:
    """The htslib that cyvcf2 carries (its extension module exports htslib's symbols)."""
    try:
        lib = ctypes.CDLL(_cyvcf2.__file__)
        lib.hts_get_log_level  # noqa: B018 - present in this build?
    except (OSError, AttributeError):
        return None
    return lib


def _htslib_log_level() -> int:
    """Return htslib's current log level (the default when it cannot be read)."""
    lib = _htslib()
    return _HTSLIB_DEFAULT if lib is None else int(lib.hts_get_log_level())


@contextlib.contextmanager
def _htslib_quiet() -> Iterator[None]:
    """Silence htslib's warnings (not its errors) for the duration, then restore."""
    previous = _htslib_log_level()
    _cyvcf2.set_htslib_log_level(min(previous, _HTSLIB_ERRORS_ONLY))
    try:
        yield
    finally:
        _cyvcf2.set_htslib_log_level(previous)


def _not_vcf_error(path: PathLike, what: str, line: int, detail: str, hint: str) -> InputError:
    return InputError(
        f"this file looks like {what} ({detail}), not a VCF (which starts with "
        f"'##fileformat=VCFv4.x' and has a '#CHROM' header line); {hint}",
        file=path,
        record=line,
        field="format",
    )


_READ_WITH = {
    "maf": "read it with read_maf (or `oncoresist variants read`), or name it .maf",
    "table": "read it with read_table (or `oncoresist variants read`), or name it .csv/.tsv",
    "parquet": "read it with read_table (or `oncoresist variants read`)",
    "cna": "read it with read_cbioportal_cna (or `oncoresist variants read`)",
    "sv": "read it with read_cbioportal_sv (or `oncoresist variants read`)",
    "xlsx": "export the sheet as CSV and read it with read_table",
    "empty": "expected a VCF",
    "unknown": "expected a VCF, MAF, CSV/TSV or Parquet alteration table",
}


# --------------------------------------------------------------------------- header
@dataclass
class _Annotation:
    """Where the fields of a ``CSQ`` (VEP) or ``ANN`` (SnpEff) annotation are."""

    key: str
    gene: int
    hgvsp: int
    allele: int | None = None
    consequence: int | None = None
    biotype: int | None = None
    canonical: int | None = None
    exon: int | None = None
    intron: int | None = None
    rank: int | None = None

    @classmethod
    def from_description(cls, key: str, description: str) -> _Annotation | None:
        if key == "CSQ":
            _, _, fmt = description.partition("Format:")
        else:
            _, _, fmt = description.partition(":")
        names = [n.strip(" '\"") for n in fmt.split("|")]
        index = {name: i for i, name in enumerate(names) if name}

        def pick(*options: str) -> int | None:
            return next((index[o] for o in options if o in index), None)

        gene = pick("SYMBOL", "Gene_Name")
        hgvsp = pick("HGVSp", "HGVS.p")
        if gene is None or hgvsp is None:
            return None
        return cls(
            key=key,
            gene=gene,
            hgvsp=hgvsp,
            allele=pick("Allele"),
            consequence=pick("Consequence", "Annotation"),
            biotype=pick("BIOTYPE", "Transcript_BioType"),
            canonical=pick("CANONICAL"),
            exon=pick("EXON"),
            intron=pick("INTRON"),
            rank=pick("Rank"),
        )


@dataclass
class _Header:
    path: PathLike
    first_record_line: int  # line of the first record (1-based); 1 for BCF record numbers
    samples: list[str]
    evidence: BuildEvidence = field(default_factory=BuildEvidence)
    annotations: list[_Annotation] = field(default_factory=list)
    tumor_sample: str | None = None
    bom: bool = False
    binary: bool = False


def _meta_fields(text: str) -> dict[str, str]:
    inner = text[text.index("<") + 1 : text.rindex(">")] if "<" in text and ">" in text else ""
    return {k: v.strip('"') for k, v in _META.findall(inner)}


def _read_text_header(path: PathLike) -> _Header:
    header: _Header | None = None
    evidence = BuildEvidence()
    annotations: list[_Annotation] = []
    tumor: str | None = None
    last = 0
    lines = iter_lines(path)
    with contextlib.closing(lines):
        for number, text in lines:
            last = number
            if text.startswith("##"):
                _meta_line(text, number, evidence, annotations)
                if text.startswith("##tumor_sample="):
                    tumor = text.partition("=")[2].strip()
                continue
            if text.startswith("#CHROM"):
                header = _chrom_line(path, number, text)
                break
            if not text.strip():
                raise InputError(
                    "blank line inside the header; expected '##' meta lines, then the "
                    "'#CHROM' line",
                    file=path,
                    record=number,
                    field="header",
                )
            raise InputError(
                "missing '#CHROM' header line: expected a tab-separated line "
                "'#CHROM POS ID REF ALT QUAL FILTER INFO [FORMAT SAMPLE...]' after the '##' "
                f"lines and before the first record; found {text[:40]!r}",
                file=path,
                record=number,
                field="#CHROM",
            )
    if header is None:
        raise InputError(
            "missing '#CHROM' header line: the file ends before it (the header is "
            "incomplete or the file is empty)",
            file=path,
            record=last + 1,
            field="#CHROM",
        )
    header.evidence = evidence
    header.annotations = annotations
    header.tumor_sample = tumor
    return header


def _meta_line(
    text: str, number: int, evidence: BuildEvidence, annotations: list[_Annotation]
) -> None:
    if text.startswith("##reference="):
        evidence.add_reference(number, text[len("##reference=") :])
    elif text.startswith("##contig="):
        meta = _meta_fields(text)
        length = meta.get("length")
        evidence.add_contig(
            number,
            meta.get("ID", ""),
            int(length) if length and length.isdigit() else None,
            meta.get("assembly"),
        )
    elif text.startswith("##INFO="):
        meta = _meta_fields(text)
        if meta.get("ID") in ("CSQ", "ANN"):
            found = _Annotation.from_description(meta["ID"], meta.get("Description", ""))
            if found is not None:
                annotations.append(found)


def _chrom_line(path: PathLike, number: int, text: str) -> _Header:
    columns = text.split("\t")
    if len(columns) < len(FIXED_COLUMNS):
        spaced = len(text.split()) >= len(FIXED_COLUMNS)
        raise InputError(
            f"the #CHROM line has {len(columns)} tab-separated column(s); expected at least "
            "8: #CHROM POS ID REF ALT QUAL FILTER INFO, then FORMAT and one column per sample"
            + (" (the columns are separated by spaces; VCF needs tabs)" if spaced else ""),
            file=path,
            record=number,
            field="#CHROM",
        )
    wrong = [(want, got) for want, got in zip(FIXED_COLUMNS, columns, strict=False) if want != got]
    if wrong:
        want, got = wrong[0]
        raise InputError(
            f"column {got!r} where {want!r} was expected; the #CHROM line must start "
            "#CHROM POS ID REF ALT QUAL FILTER INFO",
            file=path,
            record=number,
            field="#CHROM",
        )
    if len(columns) > 8 and columns[8] != "FORMAT":
        raise InputError(
            f"column 9 is {columns[8]!r}; expected FORMAT before the sample columns",
            file=path,
            record=number,
            field="#CHROM",
        )
    samples = columns[9:]
    dupes = sorted({s for s in samples if samples.count(s) > 1})
    if dupes:
        raise InputError(
            f"sample name(s) {', '.join(dupes)} used twice; expected unique sample names",
            file=path,
            record=number,
            field="#CHROM",
        )
    return _Header(path=path, first_record_line=number + 1, samples=samples)


def _read_bcf_header(path: PathLike) -> _Header:
    with _htslib_quiet():
        reader = VCF(str(path))
        try:
            raw = reader.raw_header
            samples = list(reader.samples)
        finally:
            reader.close()
    header = _Header(path=path, first_record_line=1, samples=samples, binary=True)
    tumor = None
    for number, text in enumerate(raw.splitlines(), start=1):
        if text.startswith("##"):
            _meta_line(text, number, header.evidence, header.annotations)
            if text.startswith("##tumor_sample="):
                tumor = text.partition("=")[2].strip()
    header.tumor_sample = tumor
    return header


# --------------------------------------------------------------------------- values
def _int_list(text: str, what: str, src: tuple) -> list[int | None]:
    out: list[int | None] = []
    for item in text.split(","):
        if item in (".", ""):
            out.append(None)
            continue
        try:
            value = int(item)
        except ValueError:
            raise InputError(
                f"{item!r} is not an integer; expected whole read counts",
                file=src[0],
                record=src[1],
                field=what,
            ) from None
        if value < 0:
            raise InputError(
                f"negative read count {value}; expected counts >= 0",
                file=src[0],
                record=src[1],
                field=what,
            )
        out.append(value)
    return out


def _fraction_list(text: str, what: str, src: tuple) -> list[float | None]:
    out: list[float | None] = []
    for item in text.split(","):
        if item in (".", ""):
            out.append(None)
            continue
        try:
            value = float(item)
        except ValueError:
            raise InputError(
                f"{item!r} is not a number; expected an allele fraction between 0 and 1",
                file=src[0],
                record=src[1],
                field=what,
            ) from None
        if not 0.0 <= value <= 1.0:
            hint = " (a percentage? expected a fraction: divide by 100)" if value > 1 else ""
            raise InputError(
                f"allele fraction {item} is outside 0-1{hint}",
                file=src[0],
                record=src[1],
                field=what,
            )
        out.append(value)
    return out


def _count_check(values: list, expected: int, what: str, alleles: str, src: tuple) -> None:
    if len(values) != expected:
        raise InputError(
            f"{len(values)} value(s) for {alleles}; expected {expected}, one per "
            + ("allele (REF and each ALT)" if "AD" in what else "ALT allele"),
            file=src[0],
            record=src[1],
            field=what,
        )


# --------------------------------------------------------------------------- reader
class _VcfReader:
    """One pass over one VCF; see :func:`read_vcf`."""

    def __init__(
        self,
        path: PathLike,
        *,
        build: str | None,
        sample: str | None,
        kb: KnowledgeBase | None,
        genes: Iterable[str] | None,
        progress: ProgressCallback | None = None,
        copy_number: CopyNumberThresholds | None = None,
    ) -> None:
        self.path = path
        self.progress = progress
        self.label = str(path)
        self.kb = kb or load_kb()
        file = check_exists(path)
        found = sniff(file)
        if found.kind not in ("vcf", "bcf"):
            raise _not_vcf_error(
                path, found.description, found.line, found.detail, _READ_WITH[found.kind]
            )
        self.compression = found.compression
        if found.compression == "bgzf":
            check_bgzf_complete(file)
        if found.kind == "bcf":
            self.header = _read_bcf_header(file)
        else:
            self.header = _read_text_header(file)
            self.header.bom = read_head(file, 3).startswith(BOM)
        header = self.header
        self.annotation = header.annotations[0] if header.annotations else None
        end = max(header.first_record_line - 1, 1) if not header.binary else None
        self.build = resolve_build(build, header.evidence, file=path)
        if self.build is None and self.annotation is None:
            raise InputError(
                "cannot tell the genome build: the header has no ##reference naming GRCh37 "
                "or GRCh38 and no ##contig lengths, and the records are not annotated "
                "(no VEP CSQ or SnpEff ANN), so they can only be matched by coordinates; "
                "give build='GRCh37' or 'GRCh38' (--build)",
                file=path,
                record=end,
                field="##reference",
            )
        self.sample_index = self._choose_sample(sample)
        self.sample = None if self.sample_index is None else header.samples[self.sample_index]
        self.targets = self._targets(genes)
        self.coordinates: dict[tuple[str, int, str, str], tuple[str, str]] = {}
        self.positions: dict[int, list[tuple[str, str]]] = {}
        if self.build is not None:
            for key, target in self.kb.coordinates.get(self.build, {}).items():
                chrom, pos, ref, _alt = key
                self.positions.setdefault(pos, []).append((chrom, ref))
                if target[0] in self.targets:
                    self.coordinates[key] = target
        self._symbols: dict[str, str | None] = {}
        self._names: frozenset[str] = frozenset()
        if self.annotation is not None:
            names = set(self.targets)
            for symbol in self.targets:
                if symbol in self.kb.genes:
                    names.update(a.upper() for a in self.kb.genes[symbol].aliases)
            self._names = frozenset(names)
        ann = self.annotation
        self.symbolic = SymbolicRecords(
            path=path,
            label=self.label,
            kb=self.kb,
            build=self.build,
            targets=self.targets,
            thresholds=copy_number or DEFAULT_THRESHOLDS,
            sample=self.sample,
            annotation_key=ann.key if ann is not None else None,
            annotation_gene=ann.gene if ann is not None else None,
            annotation_consequence=ann.consequence if ann is not None else None,
        )

    # ----------------------------------------------------------------- setup
    def _choose_sample(self, sample: str | None) -> int | None:
        samples = self.header.samples
        where = {"file": self.path, "record": self.header.first_record_line - 1 or None}
        if sample is not None:
            if sample not in samples:
                listed = ", ".join(samples) if samples else "none (a sites-only VCF)"
                raise InputError(
                    f"sample {sample!r} is not in the file; its samples are: {listed}",
                    field="sample",
                    **where,  # type: ignore[arg-type]
                )
            return samples.index(sample)
        if not samples:
            return None
        if len(samples) == 1:
            return 0
        if self.header.tumor_sample in samples:
            return samples.index(self.header.tumor_sample)
        named = [i for i, s in enumerate(samples) if s.upper() in ("TUMOR", "TUMOUR")]
        if len(named) == 1:  # Strelka and other somatic callers: NORMAL and TUMOR columns
            return named[0]
        raise InputError(
            f"the file has {len(samples)} samples ({', '.join(samples[:6])}"
            f"{' ...' if len(samples) > 6 else ''}) and no ##tumor_sample line; choose the "
            "tumour sample with sample= (--sample)",
            field="#CHROM",
            **where,  # type: ignore[arg-type]
        )

    def _targets(self, genes: Iterable[str] | None) -> frozenset[str]:
        if genes is None:
            return frozenset(self.kb.genes)
        if isinstance(genes, str):
            genes = [genes]
        resolved = set()
        for name in genes:
            try:
                resolved.add(resolve_gene(self.kb, name))
            except InputError as exc:
                raise exc.located(file=self.path, field="genes") from None
        return frozenset(resolved)

    def _where(self, line: int) -> int | str:
        if self.header.binary:
            return f"record {line}"
        return line

    # ------------------------------------------------------------- iteration
    def __iter__(self) -> Iterator[Alteration]:
        source = self.path
        cleaned: Path | None = None
        if self.header.bom:
            cleaned = _copy_without_bom(self.path)
            source = cleaned
        with _htslib_quiet():
            try:
                reader = VCF(str(source), lazy=True)
            except Exception as exc:  # cyvcf2 raises OSError or a bare Exception
                if cleaned is not None:
                    cleaned.unlink(missing_ok=True)
                raise InputError(
                    f"htslib could not read the header ({exc}); expected a VCF 4.x header",
                    file=self.path,
                    record=self._where(max(self.header.first_record_line - 1, 1)),
                    field="header",
                ) from None
            try:
                yield from self._records(reader)
            finally:
                reader.close()
                if cleaned is not None:
                    cleaned.unlink(missing_ok=True)

    def _records(self, reader: VCF) -> Iterator[Alteration]:
        positions = self.positions
        annotated = self.annotation is not None and bool(self._names)
        key = self.annotation.key if self.annotation is not None else ""
        gene_field = self.annotation.gene if self.annotation is not None else 0
        names = self._names
        line = self.header.first_record_line - 1
        prev = None
        prev_pos = -1
        seen: dict | None = None
        progress = self.progress
        mask = RECORDS_PER_REPORT - 1
        try:
            for line, v in enumerate(reader, self.header.first_record_line):
                if progress is not None and not line & mask:
                    progress(RECORDS_PER_REPORT)
                pos = v.POS
                # Sorted input: a duplicate follows its twin at the same position, so only
                # the records at the current position are remembered.
                seen = self._duplicates(v, prev, line, seen) if pos == prev_pos else None
                prev = v
                prev_pos = pos
                if v.var_type not in _PLAIN and (found := structural_alleles(v.ALT)):
                    yield from self._structural(v, line, found)
                    if len(found) == len(v.ALT):
                        continue  # nothing else in the record (its REF may be N)
                if pos in positions or (
                    annotated and _names_gene(v.INFO.get(key), gene_field, names)
                ):
                    yield from self._alterations(v, line)
        except InputError:
            raise
        except (OSError, UnicodeDecodeError) as exc:
            raise self._broken(exc, line + 1) from None
        except Exception as exc:
            if type(exc) is not Exception:  # a bug here, not htslib failing on a record
                raise
            raise self._broken(exc, line + 1) from None

    def _duplicates(self, v, prev, line: int, seen: dict | None) -> dict:
        if seen is None:
            seen = dict.fromkeys(_allele_keys(prev), line - 1)
        for k in _allele_keys(v):
            if k in seen:
                chrom, ref, alt = k
                raise InputError(
                    f"duplicate record: {chrom}:{v.POS} {ref}>{alt} is also on "
                    f"{'line' if not self.header.binary else 'record'} {seen[k]}; expected "
                    "each variant once (remove duplicates, e.g. bcftools norm -d exact)",
                    file=self.path,
                    record=self._where(line),
                    field="CHROM/POS/REF/ALT",
                )
            seen[k] = line
        return seen

    def _broken(self, exc: Exception, line: int) -> InputError:
        if self.compression is not None:
            problem = gzip_problem(self.path)
            if problem is not None:
                return truncated_gzip_error(self.path, problem, self._where(line))
        if isinstance(exc, UnicodeDecodeError):
            return InputError(
                "a byte is not UTF-8 text; expected UTF-8",
                file=self.path,
                record=self._where(line),
                field="encoding",
            )
        if not self.header.binary:
            diagnosis = _diagnose(self.path, line, len(self.header.samples))
            if diagnosis is not None:
                message, column = diagnosis
                return InputError(message, file=self.path, record=line, field=column)
        return InputError(
            f"htslib could not read this record ({exc}); expected a tab-separated VCF record "
            f"of {8 + (1 + len(self.header.samples) if self.header.samples else 0)} columns",
            file=self.path,
            record=self._where(line),
            field="record",
        )

    # --------------------------------------------------------------- records
    def _alterations(self, v, line: int) -> Iterator[Alteration]:
        src = (self.path, self._where(line))
        chrom = normalise_chrom(v.CHROM)
        pos = v.POS
        ref = v.REF.upper()
        alts = list(v.ALT)
        if self.build is not None:
            self._check_reference(chrom, pos, ref, src)
        try:
            text = str(v)
        except UnicodeDecodeError as exc:
            raise InputError(
                f"byte 0x{exc.object[exc.start]:02X} is not UTF-8 text; expected UTF-8 "
                "(convert the file, e.g. iconv -f latin1 -t utf-8)",
                file=self.path,
                record=src[1],
                field="encoding",
            ) from None
        cols = text.rstrip("\n").split("\t")
        values = self._sample_values(cols)
        alleles = f"{1 + len(alts)} alleles" if len(alts) != 1 else "2 alleles (REF and ALT)"
        ad = _int_list(values["AD"], "FORMAT/AD", src) if "AD" in values else None
        if ad is not None and all(a is None for a in ad):
            ad = None
        if ad is not None:
            _count_check(ad, 1 + len(alts), "FORMAT/AD", alleles, src)
        dp = None
        if "DP" in values:
            dp = _int_list(values["DP"], "FORMAT/DP", src)[0]
        elif self.sample_index is None and (info_dp := _info_value(cols[7], "DP")) is not None:
            dp = _int_list(info_dp, "INFO/DP", src)[0]
        fmt_af = _fraction_list(values["AF"], "FORMAT/AF", src) if "AF" in values else None
        if fmt_af is not None and all(a is None for a in fmt_af):
            fmt_af = None
        if fmt_af is not None:
            _count_check(fmt_af, len(alts), "FORMAT/AF", f"{len(alts)} ALT allele(s)", src)
        info_af_text = _info_value(cols[7], "AF")
        info_af = _fraction_list(info_af_text, "INFO/AF", src) if info_af_text else None
        if info_af is not None and all(a is None for a in info_af):
            info_af = None
        if info_af is not None:
            _count_check(info_af, len(alts), "INFO/AF", f"{len(alts)} ALT allele(s)", src)
        gt = values.get("GT")
        gt_alleles, phased = _genotype(gt)
        phase_set = None
        if phased:
            ps = values.get("PS")
            phase_set = ps if ps not in (None, "", ".") else f"{self.sample or ''}:{v.CHROM}"
        annotation = None
        if self.annotation is not None:
            raw = v.INFO.get(self.annotation.key)
            annotation = raw if isinstance(raw, str) else None
        total = sum(a for a in ad if a is not None) if ad is not None else None
        for k, alt in enumerate(alts, start=1):
            if alt in ("*", ".", "") or alt.startswith("<") or "[" in alt or "]" in alt:
                continue
            found = None
            if annotation is not None:
                found = self._from_annotation(annotation, ref, alt.upper(), len(alts))
                if found is _SYNONYMOUS:
                    continue
            if found is None:
                target = self.coordinates.get((chrom, pos, ref, alt.upper()))
                if target is not None:
                    found = self._from_coordinates(target, src)
            if found is None:
                continue
            alt_reads = ad[k] if ad is not None else None
            vaf = None
            if alt_reads is not None and total:
                vaf = alt_reads / total
            elif fmt_af is not None and fmt_af[k - 1] is not None:
                vaf = fmt_af[k - 1]
            elif info_af is not None and info_af[k - 1] is not None:
                vaf = info_af[k - 1]
            carried = [i for i, a in enumerate(gt_alleles) if a == str(k)]
            called = bool(gt_alleles) and all(a.isdigit() for a in gt_alleles)
            if called and not carried and not (alt_reads or vaf):
                continue  # the sample does not carry this allele
            if not called and alt_reads == 0:
                continue
            haplotype = carried[0] if phased and len(carried) == 1 else None
            yield found.model_copy(
                update={
                    "chrom": chrom,
                    "pos": pos,
                    "ref": ref,
                    "alt": alt.upper(),
                    "build": self.build,
                    "vaf": vaf,
                    "depth": dp if dp is not None else total,
                    "alt_reads": alt_reads,
                    "sample": self.sample,
                    "phase_set": phase_set if phased else None,
                    "haplotype": haplotype,
                    "source": f"{self.label}:{src[1]}",
                }
            )

    def _columns(self, v, where: int | str) -> list[str]:
        try:
            text = str(v)
        except UnicodeDecodeError as exc:
            raise InputError(
                f"byte 0x{exc.object[exc.start]:02X} is not UTF-8 text; expected UTF-8 "
                "(convert the file, e.g. iconv -f latin1 -t utf-8)",
                file=self.path,
                record=where,
                field="encoding",
            ) from None
        return text.rstrip("\n").split("\t")

    def _structural(self, v, line: int, alleles: list[str]) -> Iterator[Alteration]:
        where = self._where(line)
        cols = self._columns(v, where)
        values = self._sample_values(cols)
        gt_alleles, _ = _genotype(values.get("GT"))
        called = bool(gt_alleles) and all(a.isdigit() for a in gt_alleles)
        carried = {int(a) for a in gt_alleles if a != "0"} if called else None
        yield from self.symbolic.alterations(cols, alleles, where, values, carried)

    def _sample_values(self, cols: list[str]) -> dict[str, str]:
        if self.sample_index is None or len(cols) <= 9 + self.sample_index:
            return {}
        keys = cols[8].split(":")
        return dict(zip(keys, cols[9 + self.sample_index].split(":"), strict=False))

    def _check_reference(self, chrom: str, pos: int, ref: str, src: tuple) -> None:
        for kchrom, kref in self.positions.get(pos, ()):
            if kchrom == chrom and not (ref.startswith(kref) or kref.startswith(ref)):
                build = self.build or ""
                raise InputError(
                    f"REF is {ref} at {chrom}:{pos}, but {build} has {kref} there: "
                    f"{looks_like(self.kb.coordinates, chrom, pos, ref, build)}; give the "
                    "file's real build (build=, --build) or fix its header",
                    file=src[0],
                    record=src[1],
                    field="REF",
                )

    def _from_coordinates(self, target: tuple[str, str], src: tuple) -> Alteration:
        gene, text = target
        try:
            return parse_change(text, gene=gene, kb=self.kb)
        except InputError as exc:  # a knowledge-base problem, reported where it showed
            raise exc.located(
                file=src[0], record=src[1], field="knowledge-base coordinate"
            ) from None

    def _symbol(self, name: str) -> str | None:
        if name not in self._symbols:
            symbol = None
            if name in self.targets:
                symbol = name
            elif self.kb.is_gene(name) and self.kb.resolve_gene(name) in self.targets:
                symbol = self.kb.resolve_gene(name)
            self._symbols[name] = symbol
        return self._symbols[name]

    def _from_annotation(
        self, annotation: str, ref: str, alt: str, n_alts: int
    ) -> Alteration | object | None:
        ann = self.annotation
        assert ann is not None
        trimmed = (alt[1:] or "-") if ref[:1] == alt[:1] else alt
        entries = []
        for i, entry in enumerate(annotation.split(",")):
            parts = entry.split("|")
            if len(parts) <= max(ann.gene, ann.hgvsp):
                continue
            symbol = self._symbol(parts[ann.gene])
            if symbol is None:
                continue
            if n_alts > 1 and ann.allele is not None:
                allele = parts[ann.allele].upper()
                if allele not in (alt, trimmed):
                    continue
            canonical = ann.canonical is not None and parts[ann.canonical] == "YES"
            coding = ann.biotype is not None and parts[ann.biotype] == "protein_coding"
            entries.append((not canonical, not coding, i, symbol, parts))
        entries.sort(key=lambda e: e[:3])
        for *_, symbol, parts in entries:
            if symbol == "MET" and self._met_exon14(parts):
                return parse_change("exon 14 skipping", gene="MET", kb=self.kb)
            hgvsp = unquote(parts[ann.hgvsp].strip())
            if not hgvsp:
                continue
            hgvsp = hgvsp.split(":", 1)[1] if ":" in hgvsp else hgvsp
            try:
                found = parse_change(hgvsp, gene=symbol, kb=self.kb)
            except InputError:
                continue  # p.Met1?, extensions ...: not a change the knowledge base names
            return _SYNONYMOUS if found.variant_type == "synonymous" else found
        return None

    def _met_exon14(self, parts: list[str]) -> bool:
        ann = self.annotation
        assert ann is not None
        if ann.consequence is None:
            return False
        terms = parts[ann.consequence].split("&")
        if not any(t in _SPLICE for t in terms):
            return False

        def number(i: int | None) -> int | None:
            if i is None or i >= len(parts) or not parts[i]:
                return None
            head = parts[i].split("/")[0].split("-")[0]
            return int(head) if head.isdigit() else None

        intron = number(ann.intron) if ann.intron is not None else number(ann.rank)
        exon = number(ann.exon)
        return intron in (13, 14) or exon == 14


def _names_gene(annotation: object, index: int, names: frozenset[str]) -> bool:
    """Whether any entry of a CSQ/ANN value has one of ``names`` in its gene field."""
    if not isinstance(annotation, str):
        return False
    for entry in annotation.split(","):
        parts = entry.split("|", index + 1)
        if len(parts) > index and parts[index] in names:
            return True
    return False


def _allele_keys(v) -> list[tuple[str, str, str]]:
    chrom, ref = v.CHROM, v.REF
    # Two symbolic records at one position are one event only if they also end together.
    return [(chrom, ref, f"{alt} END={v.end}" if alt[:1] == "<" else alt) for alt in v.ALT]


def _info_value(info: str, key: str) -> str | None:
    prefix = key + "="
    for item in info.split(";"):
        if item.startswith(prefix):
            return item[len(prefix) :]
    return None


def _genotype(gt: str | None) -> tuple[list[str], bool]:
    if not gt or gt == ".":
        return [], False
    alleles = re.split(r"[/|]", gt.lstrip("|/"))
    phased = "|" in gt and "/" not in gt.lstrip("|/")
    return alleles, phased and len(alleles) > 1


def _diagnose(path: PathLike, line: int, n_samples: int) -> tuple[str, str] | None:
    """Explain why htslib rejected a record, reading that one line again."""
    text = None
    with contextlib.closing(iter_lines(path)) as lines:
        for number, content in lines:
            if number == line:
                text = content
                break
    if text is None:
        return None
    columns = text.split("\t")
    expected = 8 + (1 + n_samples if n_samples else 0)
    if len(columns) < 8 or (n_samples and len(columns) < expected):
        return (
            f"too few columns: {len(columns)} tab-separated column(s); expected {expected} "
            "(CHROM POS ID REF ALT QUAL FILTER INFO"
            + (f" FORMAT and {n_samples} sample column(s))" if n_samples else ")"),
            "record",
        )
    if not columns[1].isdigit():
        return f"POS {columns[1]!r} is not a positive integer", "POS"
    if not re.fullmatch(r"[ACGTNacgtn]+", columns[3]):
        return f"REF {columns[3]!r} is not a DNA sequence; expected A, C, G, T or N", "REF"
    return None


def _copy_without_bom(path: PathLike) -> Path:
    """Copy a VCF without its UTF-8 byte-order mark (htslib does not accept one)."""
    handle, name = tempfile.mkstemp(prefix="oncoresist-", suffix=".vcf")
    with open(handle, "wb") as out, open_text_bytes(path) as src:
        first = True
        while chunk := src.read(1 << 20):
            if first and chunk.startswith(BOM):
                chunk = chunk[len(BOM) :]
            first = False
            out.write(chunk)
    return Path(name)


def read_vcf(
    path: PathLike,
    *,
    build: str | None = None,
    sample: str | None = None,
    kb: KnowledgeBase | None = None,
    genes: Iterable[str] | None = None,
    progress: ProgressCallback | None = None,
    copy_number: CopyNumberThresholds | None = None,
) -> Iterator[Alteration]:
    """Read the knowledge-base-relevant alterations of a VCF (plain, bgzipped or BCF).

    The header is checked when this function is called; records stream lazily from the
    returned iterator, in constant memory.

    Parameters
    ----------
    path
        The VCF. Gzip or BGZF compression is recognised from the content.
    build
        ``GRCh37`` or ``GRCh38`` (``hg19``/``hg38`` accepted). ``None`` infers it from the
        header's ``##contig`` lengths or ``##reference``; a given build is checked against
        them, and against the reference base of records at knowledge-base coordinates.
    sample
        The sample column to read. ``None``: the only sample, or the one named by
        ``##tumor_sample``; a multi-sample file without that line needs it.
    kb
        Knowledge base (the shipped one by default).
    genes
        Genes to report (symbols or aliases); every knowledge-base gene by default.
    progress
        Called with the number of records read, every 65,536 records.
    copy_number
        When a copy number is an amplification or a deep deletion
        (:class:`CopyNumberThresholds`; by default amplification at CN >= 6, deep
        deletion at CN 0).

    Yields
    ------
    Alteration
        One per relevant ALT allele the sample carries: with the VEP/SnpEff protein change
        (``CSQ`` HGVSp, canonical transcript first) or the knowledge-base alteration at
        the coordinate, the coordinates (chromosome without ``chr``), ``vaf`` (FORMAT AD,
        else FORMAT AF, else INFO AF; ``None`` when unknown), ``depth``, ``alt_reads``,
        ``sample``, ``phase_set``/``haplotype`` for phased genotypes and ``source``
        (``file:line``). Copy-number and structural records (``<DUP>``, ``<DEL>``,
        ``<AMP>``, ``<CNV>``, ``<INV>``, breakends) give ``amplification``, ``loss`` and
        ``FIVE::THREE`` fusion alterations of the genes they touch.

    Warns
    -----
    VariantWarning
        For a structural record that is read but not called: a gain or shallow loss, no
        copy number, no END, no genome build, a breakpoint partner outside known genes.

    Raises
    ------
    InputError
        Naming the file, line and field: a file that is not a VCF (a MAF, a table), a
        truncated gzip/BGZF file, a missing ``#CHROM`` line, non-UTF-8 text, a build that
        disagrees with the header or the reference bases, a build that cannot be inferred,
        duplicate records, bad ``AD``/``DP``/``AF`` values, too few columns.

    Examples
    --------
    >>> from importlib import resources
    >>> vcf = resources.files("oncoresist") / "examples/egfr_nsclc_osimertinib_progression.vcf"
    >>> [a.label for a in read_vcf(vcf)]
    ['EGFR T790M', 'EGFR C797S', 'EGFR L858R']
    """
    return iter(
        _VcfReader(
            path,
            build=build,
            sample=sample,
            kb=kb,
            genes=genes,
            progress=progress,
            copy_number=copy_number,
        )
    )
