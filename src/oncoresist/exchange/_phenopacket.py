"""GA4GH Phenopacket v2: a case in, the interpretation out.

The schema is the protobuf classes of the maintained ``phenopackets`` package (GA4GH
Phenopacket schema v2.0); JSON is read and written with protobuf's ``json_format``, never
by hand, and unknown fields are errors rather than ignored. :func:`read_phenopacket`
turns a phenopacket's subject, diseases (OncoTree or NCIt terms), biosamples and genomic
interpretations (gene symbol, HGVS protein or genomic expressions, VCF records,
structural types for fusions and copy-number changes) into the project's
:class:`~oncoresist.interpret.Case`; :func:`to_phenopacket` writes an
:class:`~oncoresist.interpret.Interpretation` back as a phenopacket whose medical
actions carry the verdicts (mapping in ``docs/exchange.md``).

References
----------
Jacobsen JOB et al. The GA4GH Phenopacket schema defines a computable representation of
clinical data. Nat Biotechnol 2022;40:817-820. doi:10.1038/s41587-022-01357-4
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from oncoresist.errors import InputError
from oncoresist.exchange._summary import (
    AlterationSummary,
    kb_version,
    software_version,
    summarise_alterations,
)
from oncoresist.interpret import Case, Interpretation
from oncoresist.kb import KnowledgeBase, load_kb
from oncoresist.variants import Alteration, parse_alteration, parse_change

SCHEMA_VERSION = "2.0"
#: Sequence Ontology terms read as structural types (and written for them)
SO_FUSION = ("SO:0001565", "gene_fusion")
SO_GAIN = ("SO:0001742", "copy_number_gain")
SO_LOSS = ("SO:0001743", "copy_number_loss")
_FUSION_IDS = {"SO:0001565", "SO:0001886"}  # gene_fusion, transcript_fusion
_GAIN_IDS = {"SO:0001742", "SO:0001911"}  # copy_number_gain, copy_number_increase
_LOSS_IDS = {"SO:0001743", "SO:0001912"}  # copy_number_loss, copy_number_decrease
#: the project's own CURIE prefix (verdicts, drugs and diseases without an outside id)
PREFIX = "oncoresist"
#: verdict -> (CURIE, label) written as a medical action's responseToTreatment
VERDICT_TERMS = {
    "resistant": (f"{PREFIX}:verdict/resistant", "predicted resistant"),
    "reduced_response": (f"{PREFIX}:verdict/reduced_response", "predicted reduced response"),
    "sensitive": (f"{PREFIX}:verdict/sensitive", "predicted sensitive"),
}
_THREE = {
    "A": "Ala", "R": "Arg", "N": "Asn", "D": "Asp", "C": "Cys", "Q": "Gln", "E": "Glu",
    "G": "Gly", "H": "His", "I": "Ile", "L": "Leu", "K": "Lys", "M": "Met", "F": "Phe",
    "P": "Pro", "S": "Ser", "T": "Thr", "W": "Trp", "Y": "Tyr", "V": "Val", "*": "Ter",
}  # fmt: skip
_HGVS_G = re.compile(r"^NC_0+(\d+)\.\d+:g\.(\d+)([ACGTN])>([ACGTN])$", re.IGNORECASE)
_CURIE = re.compile(r"^[A-Za-z][\w.\-]*:\S+$")


def _pb():
    """The phenopackets protobuf module (imported on first use: it loads protobuf)."""
    import phenopackets

    return phenopackets


@dataclass
class PhenopacketCase:
    """A case read from a phenopacket.

    Attributes
    ----------
    phenopacket
        The parsed message (``phenopackets.Phenopacket``), kept to write it back.
    case
        The project's case: ``disease`` (knowledge-base disease id), ``alterations``
        (labels), ``description``.
    alterations
        The alterations, each with ``sample`` = the genomic interpretation's subject or
        biosample id and ``source`` = where in the phenopacket it was read.
    descriptors
        Alteration label -> ``(i, j)``: it came from
        ``interpretations[i].diagnosis.genomicInterpretations[j]`` (the first such).
    notes
        What was read but not used (rejected or gene-only interpretations, genes outside
        the knowledge base, further diseases).
    """

    phenopacket: object
    case: Case
    alterations: list[Alteration]
    descriptors: dict[str, tuple[int, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def subject_id(self) -> str | None:
        """The subject's id, as the phenopacket gives it (a pseudonym, not a name)."""
        subject = self.phenopacket.subject  # type: ignore[attr-defined]
        return subject.id or None


# ---------------------------------------------------------------------------- parsing
def parse_phenopacket(text: str, *, file: str | Path | None = None):
    """Parse Phenopacket v2 JSON into a ``phenopackets.Phenopacket`` message.

    Unknown fields are errors (protobuf's ``json_format.ParseDict`` with
    ``ignore_unknown_fields=False``), so a misspelt key or a v1 document is caught.

    Raises
    ------
    InputError
        Naming the file, the JSON line for syntax errors, and the field path protobuf
        reports for schema errors.
    """
    from google.protobuf import json_format

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg}); expected a Phenopacket v2 document",
                         file=file, record=exc.lineno) from None  # fmt: skip
    if not isinstance(data, dict):
        raise InputError("expected a JSON object (one phenopacket)", file=file, record=1)
    message = _pb().Phenopacket()
    try:
        json_format.ParseDict(data, message, ignore_unknown_fields=False)
    except json_format.ParseError as exc:
        text_ = str(exc)
        where = re.search(r'at "([^"]+)"', text_)
        raise InputError(
            f"not a valid Phenopacket v2 ({text_}); field names follow the v2 schema "
            "(camelCase JSON names such as metaData, genomicInterpretations)",
            file=file,
            field=where.group(1) if where else None,
        ) from None
    return message


def _ontology_prefix(term_id: str) -> str:
    return term_id.split(":", 1)[0] if ":" in term_id else ""


def _resolve_disease(term, kb: KnowledgeBase) -> str | None:
    """The knowledge-base disease of an OntologyClass (OncoTree code, NCIt id, label)."""
    prefix = _ontology_prefix(term.id).lower()
    local = term.id.split(":", 1)[1] if ":" in term.id else term.id
    if prefix == "oncotree":
        try:
            return kb.resolve_disease(local)
        except InputError:
            pass
    if prefix == PREFIX and local.startswith("disease/"):
        local = local.removeprefix("disease/")
        if local in kb.diseases:
            return local
    for disease in kb.diseases.values():
        for attr in ("ncit", "ncit_id", "ncit_ids"):
            value = getattr(disease, attr, None)
            values = value if isinstance(value, list | tuple) else [value]
            if term.id and term.id in {str(v) for v in values if v}:
                return disease.id
    if term.label:
        try:
            return kb.resolve_disease(term.label)
        except InputError:
            return None
    return None


def _gene(symbol: str, kb: KnowledgeBase) -> str | None:
    return kb.resolve_gene(symbol) if symbol and kb.is_gene(symbol) else None


def _from_structural(descriptor, gene: str | None, kb: KnowledgeBase) -> Alteration | None:
    kind = descriptor.structural_type
    label = descriptor.label or ""
    if kind.id in _FUSION_IDS or "fusion" in kind.label.lower():
        for text in (label, *descriptor.alternate_labels, descriptor.description):
            if "::" in text:
                return parse_alteration(text.split()[0] if " " in text else text, kb=kb)
        return parse_change("fusion", gene=gene, kb=kb) if gene else None
    if kind.id in _GAIN_IDS or kind.label.lower() in ("copy_number_gain", "amplification"):
        return parse_change("amplification", gene=gene, kb=kb) if gene else None
    if kind.id in _LOSS_IDS or kind.label.lower() in ("copy_number_loss", "deletion"):
        return parse_change("loss", gene=gene, kb=kb) if gene else None
    return None


def _from_coordinates(build: str | None, chrom: str, pos: int, ref: str, alt: str,
                      gene: str | None, kb: KnowledgeBase) -> Alteration | None:  # fmt: skip
    from oncoresist.variants._builds import normalise_chrom

    key = (normalise_chrom(chrom), pos, ref.upper(), alt.upper())
    builds = [build] if build in ("GRCh37", "GRCh38") else ["GRCh37", "GRCh38"]
    for name in builds:
        target = kb.coordinates.get(name, {}).get(key)
        if target is not None and (gene is None or target[0] == gene):
            return parse_change(target[1], gene=target[0], kb=kb)
    return None


def _build_of(assembly: str) -> str | None:
    text = assembly.lower()
    if "37" in text or "hg19" in text:
        return "GRCh37"
    if "38" in text or "hg38" in text:
        return "GRCh38"
    return None


def _alteration_of(descriptor, kb: KnowledgeBase) -> tuple[Alteration | None, str | None]:
    """The alteration a VariationDescriptor names, or ``(None, why)``."""
    symbol = descriptor.gene_context.symbol
    gene = _gene(symbol, kb)
    if descriptor.HasField("structural_type"):
        found = _from_structural(descriptor, gene, kb)
        if found is not None:
            return found, None
    for expression in descriptor.expressions:
        syntax = expression.syntax.lower()
        value = expression.value.strip()
        if syntax == "hgvs.p" and gene is not None:
            change = value.split(":", 1)[1] if ":" in value else value
            try:
                return parse_change(change, gene=gene, kb=kb), None
            except InputError:
                continue
        if syntax in ("hgvs.g", "hgvs") and (m := _HGVS_G.match(value)):
            chrom = {"23": "X", "24": "Y"}.get(str(int(m.group(1))), str(int(m.group(1))))
            found = _from_coordinates(None, chrom, int(m.group(2)), m.group(3), m.group(4),
                                      gene, kb)  # fmt: skip
            if found is not None:
                return found, None
    if descriptor.HasField("vcf_record"):
        rec = descriptor.vcf_record
        found = _from_coordinates(_build_of(rec.genome_assembly), rec.chrom, rec.pos, rec.ref,
                                  rec.alt, gene, kb)  # fmt: skip
        if found is not None:
            return found, None
    for text in (descriptor.label, *descriptor.alternate_labels):
        if not text:
            continue
        try:
            return parse_alteration(text, kb=kb), None
        except InputError:
            continue
    if symbol and gene is None:
        return None, f"gene {symbol} is not in the knowledge base"
    return None, "no hgvs.p expression, structural type, knowledge-base coordinate or label"


def read_phenopacket(
    path: str | Path, *, disease: str | None = None, kb: KnowledgeBase | None = None
) -> PhenopacketCase:
    """Read a Phenopacket v2 JSON file as a case.

    Parameters
    ----------
    path
        The phenopacket (JSON).
    disease
        The disease to use instead of the phenopacket's (name, synonym or OncoTree code).
    kb
        Knowledge base (the shipped one by default).

    Returns
    -------
    PhenopacketCase
        With ``case.disease`` from the first non-excluded disease whose term is an
        OncoTree code, an NCIt id the knowledge base records, or a label it knows (else
        the interpretations' diagnosis); ``case.alterations`` from every genomic
        interpretation that is not ``REJECTED``: its variation descriptor's HGVS protein
        expression (accession prefixes dropped), structural type (SO gene_fusion,
        copy_number_gain/loss) with the gene context, ``hgvs.g`` expression or VCF record
        at a knowledge-base coordinate, or label (``EGFR T790M``), in that order.

    Raises
    ------
    InputError
        Invalid JSON or schema (unknown fields included), no usable disease, a
        variation descriptor of a knowledge-base gene that names no alteration, or no
        alteration at all. Locations are JSON paths such as
        ``interpretations[0].diagnosis.genomicInterpretations[1]``.
    """
    kb = kb or load_kb()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("phenopacket not found", file=path) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text; expected Phenopacket v2 JSON", file=path) from None
    packet = parse_phenopacket(text, file=path)
    notes: list[str] = []
    disease_id = kb.resolve_disease(disease) if disease else None
    if disease_id is None:
        terms = [(f"diseases[{i}].term", d.term) for i, d in enumerate(packet.diseases)
                 if not d.excluded]  # fmt: skip
        terms += [
            (f"interpretations[{i}].diagnosis.disease", item.diagnosis.disease)
            for i, item in enumerate(packet.interpretations)
            if item.HasField("diagnosis") and item.diagnosis.HasField("disease")
        ]
        for where, term in terms:
            found = _resolve_disease(term, kb)
            if found is not None and disease_id is None:
                disease_id = found
            elif found is not None and found != disease_id:
                notes.append(f"{where} ({term.id} {term.label}) not used: the case is "
                             f"interpreted for {kb.diseases[disease_id].name}")  # fmt: skip
        if disease_id is None:
            shown = ", ".join(f"{t.id} {t.label}".strip() for _, t in terms) or "none"
            raise InputError(
                f"no disease the knowledge base knows (found: {shown}); expected an "
                "OncoTree term (ONCOTREE:LUAD), an NCIt term with a known label, or "
                "--disease",
                file=path,
                field="diseases",
            )
    alterations: list[Alteration] = []
    origin: dict[str, tuple[int, int]] = {}
    for i, item in enumerate(packet.interpretations):
        for j, gi in enumerate(item.diagnosis.genomic_interpretations):
            where = f"interpretations[{i}].diagnosis.genomicInterpretations[{j}]"
            status = _pb().GenomicInterpretation.InterpretationStatus.Name(gi.interpretation_status)
            if status == "REJECTED":
                notes.append(f"{where}: rejected by the submitter; not interpreted")
                continue
            if not gi.HasField("variant_interpretation"):
                notes.append(f"{where}: a gene without a variant; not interpreted")
                continue
            descriptor = gi.variant_interpretation.variation_descriptor
            try:
                alt, why = _alteration_of(descriptor, kb)
            except InputError as exc:
                raise exc.located(
                    file=path, record=where, field="variantInterpretation.variationDescriptor"
                ) from None
            if alt is None:
                if why and "not in the knowledge base" in why:
                    notes.append(f"{where}: {why}; not interpreted")
                    continue
                raise InputError(
                    f"cannot tell the variant: {why}; expected a geneContext symbol with an "
                    "hgvs.p expression, a structural type, a VCF record, or a label such as "
                    "'EGFR T790M'",
                    file=path,
                    record=where,
                    field="variantInterpretation.variationDescriptor",
                )
            sample = gi.subject_or_biosample_id or packet.subject.id or None
            alt = alt.model_copy(update={"sample": sample, "source": f"{path}:{where}"})
            alterations.append(alt)
            origin.setdefault(alt.label, (i, j))
    if not alterations:
        raise InputError(
            "no variant to interpret; expected interpretations[].diagnosis."
            "genomicInterpretations[] with variation descriptors",
            file=path,
            field="interpretations",
        )
    description = f"Phenopacket {packet.id}" if packet.id else "Phenopacket"
    case = Case(
        disease=disease_id,
        alterations=list(dict.fromkeys(a.label for a in alterations)),
        description=description,
    )
    return PhenopacketCase(packet, case, alterations, origin, notes)


# ---------------------------------------------------------------------------- writing
def _term(pb, curie: str, label: str):
    return pb.OntologyClass(id=curie, label=label)


def _disease_term(pb, disease_id: str | None, kb: KnowledgeBase):
    if disease_id is None:
        return _term(pb, f"{PREFIX}:disease/unspecified", "cancer, disease not given")
    disease = kb.diseases[disease_id]
    for attr in ("ncit", "ncit_id"):
        value = getattr(disease, attr, None)
        if isinstance(value, str) and value:
            return _term(pb, value if ":" in value else f"NCIT:{value}", disease.name)
    if disease.oncotree:
        return _term(pb, f"ONCOTREE:{disease.oncotree[0]}", disease.name)
    return _term(pb, f"{PREFIX}:disease/{disease.id}", disease.name)


def _identifier(kb: KnowledgeBase, table: str, key: str, column: str) -> str:
    """A verified identifier from the knowledge base's identifier tables, else ``""``.

    The tables (``kb/data/identifiers/``) describe the shipped knowledge base only; a
    release without them, or another knowledge base, gives no identifiers.
    """
    try:
        from oncoresist.kb._identifiers import identifiers_for
    except ImportError:
        return ""
    ids = identifiers_for(kb)
    return getattr(ids, table).get(key, column) if ids is not None else ""


def _gene_descriptor(pb, symbol: str, kb: KnowledgeBase):
    hgnc = _identifier(kb, "genes", symbol, "hgnc_id")
    if hgnc:
        return pb.GeneDescriptor(value_id=hgnc, symbol=symbol)
    return pb.GeneDescriptor(value_id=f"hgnc.symbol:{symbol}", symbol=symbol)


def _drug_term(pb, drug: str, kb: KnowledgeBase):
    code = _identifier(kb, "drugs", drug, "ncit_code") if " + " not in drug else ""
    if code:
        return _term(pb, f"NCIT:{code}", drug)
    return _term(pb, f"{PREFIX}:drug/{drug.replace(' + ', '+').replace(' ', '_')}", drug)


def _hgvs_p(alt: Alteration) -> str | None:
    """``p.Thr790Met`` for a single amino-acid change (no reference sequence: see docs)."""
    if alt.kind != "point" or not (alt.ref_aa and alt.alt_aa and alt.position):
        return None
    if alt.ref_aa not in _THREE or alt.alt_aa not in _THREE:
        return None
    return f"p.{_THREE[alt.ref_aa]}{alt.position}{_THREE[alt.alt_aa]}"


def _descriptor(pb, alt: Alteration, index: int, kb: KnowledgeBase):
    descriptor = pb.VariationDescriptor(id=f"{PREFIX}:variant/{index}", label=alt.label)
    if alt.gene:
        descriptor.gene_context.CopyFrom(_gene_descriptor(pb, alt.gene, kb))
    protein = _hgvs_p(alt)
    if protein is not None:
        descriptor.expressions.append(pb.Expression(syntax="hgvs.p", value=protein))
        descriptor.molecule_context = pb.MoleculeContext.Value("protein")
    elif alt.kind == "fusion":
        descriptor.structural_type.CopyFrom(_term(pb, *SO_FUSION))
    elif alt.kind == "amplification":
        descriptor.structural_type.CopyFrom(_term(pb, *SO_GAIN))
    elif alt.kind == "loss":
        descriptor.structural_type.CopyFrom(_term(pb, *SO_LOSS))
    if alt.chrom and alt.pos and alt.ref and alt.alt and alt.build:
        descriptor.vcf_record.CopyFrom(
            pb.VcfRecord(
                genome_assembly=alt.build, chrom=alt.chrom, pos=alt.pos, ref=alt.ref, alt=alt.alt
            )
        )
        if protein is None:
            descriptor.molecule_context = pb.MoleculeContext.Value("genomic")
    return descriptor


def _extensions(pb, summary: AlterationSummary) -> list:
    pairs = [
        ("oncoresist_resistant_drugs", ", ".join(summary.resistant)),
        ("oncoresist_reduced_drugs", ", ".join(summary.reduced_response)),
        ("oncoresist_sensitive_drugs", ", ".join(summary.sensitive)),
        ("oncoresist_highest_level", summary.highest_level or ""),
        ("oncoresist_weakest_level", summary.weakest_level or ""),
        ("oncoresist_mechanism", ", ".join(summary.mechanisms)),
        ("oncoresist_assertions", ", ".join(summary.assertions)),
    ]
    return [pb.Extension(name=name, value=value) for name, value in pairs if value]


def _resources(pb, used: set[str], kb: KnowledgeBase, given: list) -> list:
    known = {r.namespace_prefix.lower(): r for r in given if r.namespace_prefix}
    defaults = {
        PREFIX: dict(id=PREFIX, name="oncoresist knowledge base and verdicts",
                     url="urn:oncoresist", version=kb_version(kb),
                     namespace_prefix=PREFIX, iri_prefix="urn:oncoresist:"),
        "oncotree": dict(id="oncotree", name="OncoTree", url="https://oncotree.mskcc.org",
                         version="unspecified", namespace_prefix="ONCOTREE",
                         iri_prefix="https://oncotree.mskcc.org/?version=oncotree_latest_stable&field=CODE&search="),
        "ncit": dict(id="ncit", name="NCI Thesaurus",
                     url="http://purl.obolibrary.org/obo/ncit.owl", version="unspecified",
                     namespace_prefix="NCIT", iri_prefix="http://purl.obolibrary.org/obo/NCIT_"),
        "so": dict(id="so", name="Sequence types and features ontology",
                   url="http://purl.obolibrary.org/obo/so.owl", version="unspecified",
                   namespace_prefix="SO", iri_prefix="http://purl.obolibrary.org/obo/SO_"),
        "hgnc": dict(id="hgnc", name="HUGO Gene Nomenclature Committee",
                     url="https://www.genenames.org", version="unspecified",
                     namespace_prefix="HGNC", iri_prefix="https://identifiers.org/hgnc:"),
        "hgnc.symbol": dict(id="hgnc.symbol", name="HGNC gene symbols",
                            url="https://www.genenames.org", version="unspecified",
                            namespace_prefix="hgnc.symbol",
                            iri_prefix="https://identifiers.org/hgnc.symbol:"),
    }  # fmt: skip
    out = []
    for prefix in sorted(used):
        key = prefix.lower()
        if key == PREFIX:
            out.append(pb.Resource(**defaults[PREFIX]))  # always this knowledge base's
        elif key in known:
            out.append(known[key])
        elif key in defaults:
            out.append(pb.Resource(**defaults[key]))
        else:
            out.append(pb.Resource(id=key, name=prefix, url="unspecified",
                                   version="unspecified", namespace_prefix=prefix,
                                   iri_prefix="unspecified"))  # fmt: skip
    return out


def _repeated(fd) -> bool:
    """Whether a protobuf field is repeated (``label`` is deprecated in protobuf 6)."""
    flag = getattr(fd, "is_repeated", None)
    if flag is None:
        return fd.label == fd.LABEL_REPEATED
    return bool(flag() if callable(flag) else flag)


def _curies(message) -> set[str]:
    """Prefixes of every OntologyClass id and GeneDescriptor valueId inside ``message``."""
    out: set[str] = set()
    name = message.DESCRIPTOR.name
    if name == "OntologyClass" and ":" in message.id:
        out.add(_ontology_prefix(message.id))
    if name == "GeneDescriptor" and ":" in message.value_id:
        out.add(_ontology_prefix(message.value_id))
    for fd, value in message.ListFields():
        if fd.message_type is None:
            continue
        if fd.message_type.GetOptions().map_entry:
            continue
        items = value if _repeated(fd) else [value]
        for item in items:
            out |= _curies(item)
    return out


def to_phenopacket(
    result: Interpretation,
    *,
    source: PhenopacketCase | None = None,
    alterations: list[Alteration] | None = None,
    subject_id: str | None = None,
    phenopacket_id: str | None = None,
    created: datetime | None = None,
    kb: KnowledgeBase | None = None,
):
    """The interpretation as a ``phenopackets.Phenopacket`` (v2).

    Parameters
    ----------
    result
        The interpretation.
    source
        The phenopacket the case was read from: its subject, biosamples, diseases,
        measurements, phenotypic features, files and earlier interpretations and
        medical actions are kept, its variation descriptors are reused for the same
        variants, and its resources are kept for the prefixes still used.
    alterations
        The interpreted alterations, for their coordinates and samples (otherwise the
        labels of ``result`` are parsed again).
    subject_id
        The subject's id (a pseudonym), required when there is no ``source`` with one.
        A genomic interpretation names the biosample its variant came from when that is a
        biosample of the phenopacket, else the subject (a variant file's sample names
        are not copied).
    phenopacket_id
        The new phenopacket's id (default: the source's id, else
        ``oncoresist-<subject>``).
    created
        ``metaData.created`` (default: now, UTC).
    kb
        Knowledge base (the shipped one by default).

    Returns
    -------
    phenopackets.Phenopacket
        See ``docs/exchange.md``: a new interpretation ``oncoresist-<n>`` whose diagnosis
        is the disease and whose genomic interpretations are the alterations
        (``CONTRIBUTORY`` and ``ACTIONABLE`` when an assertion decides a verdict,
        else ``CANDIDATE``/``UNKNOWN_ACTIONABILITY``; the per-variant verdicts as
        ``extensions``); one medical action per drug with a verdict other than no known
        effect (a treatment, or a therapeutic regimen for a combination), with
        ``responseToTreatment`` ``oncoresist:verdict/<verdict>``; ``metaData`` with
        ``createdBy`` ``oncoresist <version>``, schema version 2.0 and a resource for
        every prefix used, the ``oncoresist`` one versioned by the knowledge-base digest.
    """
    pb = _pb()
    kb = kb or load_kb()
    packet = pb.Phenopacket()
    if source is not None:
        packet.CopyFrom(source.phenopacket)  # type: ignore[arg-type]
    if subject_id and not packet.subject.id:
        packet.subject.id = subject_id
    if not packet.subject.id:
        raise InputError(
            "the phenopacket needs a subject id; expected the subject's pseudonym (never a "
            "name or record number)",
            field="subject_id",
        )
    subject = packet.subject.id
    # a variant's sample is kept only when it names this packet's subject or a biosample
    # of it: a VCF's sample column may hold a site's identifier, which must not leave
    known_ids = {subject} | {b.id for b in packet.biosamples if b.id}
    packet.id = phenopacket_id or packet.id or f"oncoresist-{subject}"
    disease_term = _disease_term(pb, result.disease, kb)
    if source is not None:
        for item in source.phenopacket.diseases:  # type: ignore[attr-defined]
            if not item.excluded and _resolve_disease(item.term, kb) == result.disease:
                disease_term = item.term
                break
    if not any(d.term.id == disease_term.id for d in packet.diseases):
        packet.diseases.append(pb.Disease(term=disease_term))
    by_label: dict[str, Alteration] = {}
    for alt in alterations or (source.alterations if source else []):
        by_label.setdefault(alt.label, alt)
    summaries = summarise_alterations(result)
    interpretation = pb.Interpretation(
        id=_new_interpretation_id(packet),
        progress_status=pb.Interpretation.ProgressStatus.Value("COMPLETED"),
        summary=_summary_text(result),
    )
    interpretation.diagnosis.disease.CopyFrom(disease_term)
    for index, label in enumerate(result.alterations, start=1):
        alt = by_label.get(label)
        if alt is None:
            alt = parse_alteration(label, kb=kb)
        summary = summaries[label]
        descriptor = None
        if source is not None and label in source.descriptors:
            i, j = source.descriptors[label]
            original = source.phenopacket.interpretations[i].diagnosis  # type: ignore[attr-defined]
            descriptor = pb.VariationDescriptor()
            descriptor.CopyFrom(
                original.genomic_interpretations[j].variant_interpretation.variation_descriptor
            )
            if not descriptor.id:
                descriptor.id = f"{PREFIX}:variant/{index}"
        if descriptor is None:
            descriptor = _descriptor(pb, alt, index, kb)
        kept = [e for e in descriptor.extensions if not e.name.startswith(f"{PREFIX}_")]
        del descriptor.extensions[:]
        descriptor.extensions.extend(kept + _extensions(pb, summary))
        status = "CONTRIBUTORY" if summary.matched else "CANDIDATE"
        actionability = "ACTIONABLE" if summary.matched else "UNKNOWN_ACTIONABILITY"
        gi = pb.GenomicInterpretation(
            subject_or_biosample_id=alt.sample if alt.sample in known_ids else subject,
            interpretation_status=pb.GenomicInterpretation.InterpretationStatus.Value(status),
        )
        gi.variant_interpretation.acmg_pathogenicity_classification = (
            pb.AcmgPathogenicityClassification.Value("NOT_PROVIDED")
        )
        gi.variant_interpretation.therapeutic_actionability = pb.TherapeuticActionability.Value(
            actionability
        )
        gi.variant_interpretation.variation_descriptor.CopyFrom(descriptor)
        interpretation.diagnosis.genomic_interpretations.append(gi)
    packet.interpretations.append(interpretation)
    for verdict in result.drugs:
        if verdict.verdict not in VERDICT_TERMS:
            continue
        curie, label = VERDICT_TERMS[verdict.verdict]
        if verdict.evidence:
            label += f", evidence level {verdict.evidence}"
        action = pb.MedicalAction()
        if len(verdict.members) > 1:
            action.therapeutic_regimen.ontology_class.CopyFrom(_drug_term(pb, verdict.drug, kb))
            action.therapeutic_regimen.regimen_status = pb.TherapeuticRegimen.RegimenStatus.Value(
                "UNKNOWN_STATUS"
            )
        else:
            action.treatment.agent.CopyFrom(_drug_term(pb, verdict.drug, kb))
        action.treatment_target.CopyFrom(disease_term)
        action.response_to_treatment.CopyFrom(_term(pb, curie, label))
        packet.medical_actions.append(action)
    given = list(packet.meta_data.resources)
    meta = pb.MetaData(
        created_by=software_version(),
        phenopacket_schema_version=SCHEMA_VERSION,
        submitted_by=packet.meta_data.submitted_by,
    )
    meta.created.FromDatetime(created or datetime.now(UTC))
    meta.updates.extend(packet.meta_data.updates)
    meta.external_references.extend(packet.meta_data.external_references)
    packet.meta_data.CopyFrom(meta)
    used = _curies(packet) | {PREFIX}
    packet.meta_data.resources.extend(_resources(pb, used, kb, given))
    return packet


def _new_interpretation_id(packet) -> str:
    taken = {item.id for item in packet.interpretations}
    n = 1
    while f"{PREFIX}-{n}" in taken:
        n += 1
    return f"{PREFIX}-{n}"


def _summary_text(result: Interpretation) -> str:
    lines = [f"oncoresist interpretation; disease {result.disease_name or 'not given'}"]
    for verdict in result.drugs:
        decisive = sorted({r.assertion for r in verdict.reasons if r.role == "decisive"})
        level = f", evidence {verdict.evidence}" if verdict.evidence else ""
        basis = f" ({', '.join(decisive)})" if decisive else ""
        lines.append(f"{verdict.drug}: {verdict.verdict}{level}{basis}")
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines)


def phenopacket_json(packet) -> str:
    """The phenopacket as JSON (protobuf's ``json_format``; camelCase field names)."""
    from google.protobuf import json_format

    return json_format.MessageToJson(packet, indent=2) + "\n"


# ---------------------------------------------------------------------------- checking
def validate_phenopacket(packet) -> list[str]:
    """Problems with a phenopacket against the v2 specification's required fields.

    Parameters
    ----------
    packet
        A ``phenopackets.Phenopacket``, or its JSON text (parsed strictly first, so
        unknown fields are problems too).

    Returns
    -------
    list of str
        One line per problem (``path: what``); empty when the phenopacket is valid.
        Checked: ``id``; ``metaData`` with ``created``, ``createdBy``,
        ``phenopacketSchemaVersion`` 2.x and ``resources`` (each with id, name, url,
        version, namespacePrefix, iriPrefix); a resource for every CURIE prefix used;
        every OntologyClass with a CURIE id and a label; subject and biosample ids;
        disease terms; interpretations' id and diagnosis disease; genomic
        interpretations' subjectOrBiosampleId (the subject or one of its biosamples) and
        call (gene or variant), variation
        descriptors' id; medical actions' action and agent.
    """
    if isinstance(packet, str | bytes):
        try:
            packet = parse_phenopacket(packet.decode() if isinstance(packet, bytes) else packet)
        except InputError as exc:
            return [str(exc)]
    problems: list[str] = []

    def need(value: object, where: str) -> None:
        if not value:
            problems.append(f"{where}: required")

    need(packet.id, "id")
    if not packet.HasField("meta_data"):
        problems.append("metaData: required")
    meta = packet.meta_data
    if not meta.HasField("created"):
        problems.append("metaData.created: required")
    need(meta.created_by, "metaData.createdBy")
    if not meta.phenopacket_schema_version.startswith("2"):
        problems.append(
            f"metaData.phenopacketSchemaVersion: {meta.phenopacket_schema_version!r}; expected 2.x"
        )
    need(len(meta.resources), "metaData.resources")
    declared = set()
    for i, resource in enumerate(meta.resources):
        for name, json_name in (("id", "id"), ("name", "name"), ("url", "url"),
                                ("version", "version"), ("namespace_prefix", "namespacePrefix"),
                                ("iri_prefix", "iriPrefix")):  # fmt: skip
            need(getattr(resource, name), f"metaData.resources[{i}].{json_name}")
        declared.add(resource.namespace_prefix.lower())
    for prefix in sorted(_curies(packet)):
        if prefix.lower() not in declared:
            problems.append(f"metaData.resources: no resource for the prefix {prefix!r}")
    _check_terms(packet, "", problems)
    if packet.HasField("subject"):
        need(packet.subject.id, "subject.id")
    for i, sample in enumerate(packet.biosamples):
        need(sample.id, f"biosamples[{i}].id")
    for i, disease in enumerate(packet.diseases):
        need(disease.term.id, f"diseases[{i}].term.id")
    ids = {packet.subject.id} | {b.id for b in packet.biosamples}
    for i, item in enumerate(packet.interpretations):
        where = f"interpretations[{i}]"
        need(item.id, f"{where}.id")
        need(item.diagnosis.disease.id, f"{where}.diagnosis.disease")
        for j, gi in enumerate(item.diagnosis.genomic_interpretations):
            at = f"{where}.diagnosis.genomicInterpretations[{j}]"
            need(gi.subject_or_biosample_id, f"{at}.subjectOrBiosampleId")
            if gi.subject_or_biosample_id and gi.subject_or_biosample_id not in ids:
                problems.append(f"{at}.subjectOrBiosampleId: {gi.subject_or_biosample_id!r} "
                                "is neither the subject nor a biosample")  # fmt: skip
            if not (gi.HasField("gene") or gi.HasField("variant_interpretation")):
                problems.append(f"{at}: one of gene or variantInterpretation is required")
            if gi.HasField("variant_interpretation"):
                vd = gi.variant_interpretation.variation_descriptor
                need(vd.id, f"{at}.variantInterpretation.variationDescriptor.id")
                for k, expression in enumerate(vd.expressions):
                    need(expression.syntax, f"{at}...expressions[{k}].syntax")
                    need(expression.value, f"{at}...expressions[{k}].value")
    for i, action in enumerate(packet.medical_actions):
        kind = action.WhichOneof("action")
        if kind is None:
            problems.append(f"medicalActions[{i}]: one action (treatment, procedure, "
                            "radiationTherapy, therapeuticRegimen) is required")  # fmt: skip
        elif kind == "treatment":
            need(action.treatment.agent.id, f"medicalActions[{i}].treatment.agent")
    return problems


def _check_terms(message, path: str, problems: list[str]) -> None:
    for fd, value in message.ListFields():
        if fd.message_type is None or fd.message_type.GetOptions().map_entry:
            continue
        items = list(value) if _repeated(fd) else [value]
        for k, item in enumerate(items):
            where = f"{path}.{fd.json_name}" if path else fd.json_name
            if _repeated(fd):
                where += f"[{k}]"
            if item.DESCRIPTOR.name == "OntologyClass":
                if not _CURIE.match(item.id):
                    problems.append(f"{where}.id: {item.id!r} is not a CURIE (prefix:id)")
                if not item.label:
                    problems.append(f"{where}.label: required")
            else:
                _check_terms(item, where, problems)
