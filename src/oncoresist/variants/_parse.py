"""Parse the text forms people write for alterations into :class:`Alteration` records.

Accepted forms (gene names resolve through the knowledge base's aliases)::

    EGFR T790M   EGFR p.T790M   EGFR p.Thr790Met   EGFR:p.(Thr790Met)   KRAS G12C
    NF1 R1362*   NF1 p.Arg1362Ter   NF1 W2288fs   NF1 p.Trp2288LeufsTer5
    EGFR E746_A750del   EGFR L747_P753delinsS   EGFR D770_N771insSVD   EGFR N771_H773dup
    EGFR exon 19 deletion   EGFR ex19del   EGFR exon 20 insertion   MET exon 14 skipping
    KIT exon 11 mutation   BRAF V600   EGFR G719X (any change at the codon)   AR-V7   AR AR-V7
    HER2 amplification   PTEN loss   RB1 loss   NF1 truncating   ALK fusion
    EML4::ALK   BCR::ABL1   BCR-ABL1   FLT3 ITD   AXL overexpression   KRAS mutation
    transformation:SCLC   transformation:squamous   EMT   TMB-high   MSI-high
    report shorthand: BRAF V600E mutation   EGFR del19   ALK-positive   HER2+   ROS1 rearranged
    HGVS with an accession: NP_005219.2:p.Thr790Met   NM_005228.5(EGFR):c.2369C>T
    EGFR ENSP00000275493:p.T790M   NC_000007.14:g.55181378C>T (a knowledge-base position)

A protein change without its new residue (``EGFR L858``) is read as any change at the
codon (see :func:`codon_level_notes`). The accession's gene is checked against the gene
written beside it (:mod:`oncoresist.variants._accessions`).

An ``X`` after a codon means "any change" in an oncogene (``G719X``) and a stop codon in
a tumour suppressor (``NF1 R1362X``), as both conventions are in use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from oncoresist.errors import InputError, UnknownGeneError
from oncoresist.kb import KnowledgeBase, load_kb
from oncoresist.kb._load import did_you_mean
from oncoresist.variants._accessions import (
    HGVS,
    OTHER_NUMBERING,
    PROTEIN_IN_PARENS,
    accession_gene,
    check_numbering,
    coding_to_protein,
    genomic_site,
)
from oncoresist.variants._alteration import Alteration
from oncoresist.variants._genes import (
    OTHER_CANCER_GENES,
    is_known_gene,
    looks_spreadsheet_mangled,
    resolve_gene,
)

THREE_TO_ONE = {
    "ALA": "A", "ARG": "R", "ASN": "N", "ASP": "D", "CYS": "C", "GLN": "Q", "GLU": "E",
    "GLY": "G", "HIS": "H", "ILE": "I", "LEU": "L", "LYS": "K", "MET": "M", "PHE": "F",
    "PRO": "P", "SER": "S", "THR": "T", "TRP": "W", "TYR": "Y", "VAL": "V", "TER": "*",
    "SEC": "U", "XAA": "X",
}  # fmt: skip
_THREE = re.compile("(" + "|".join(k.capitalize() for k in THREE_TO_ONE) + ")")

ACCEPTED_FORMS = (
    "accepted forms: 'GENE T790M', 'GENE p.Thr790Met', 'GENE E746_A750del', "
    "'GENE D770_N771insSVD', 'GENE R1362*', 'GENE W2288fs', 'GENE exon 19 deletion', "
    "'GENE amplification', 'GENE loss', 'GENE fusion', 'A::B', 'FLT3 ITD', "
    "'transformation:SCLC', 'TMB-high', 'MSI-high'"
)

_AA = "ACDEFGHIKLMNPQRSTVWYUX"
_MISSENSE = re.compile(rf"^([{_AA}])(\d+)([{_AA}*=])$")
_CODON = re.compile(rf"^([{_AA}])(\d+)$")
_FRAMESHIFT = re.compile(rf"^([{_AA}])(\d+)(?:[{_AA}])?fs(?:\*|X|TER)?\d*\??$", re.IGNORECASE)
_DEL = re.compile(rf"^([{_AA}])(\d+)(?:_([{_AA}])(\d+))?del([{_AA}]*)$")
_DELINS = re.compile(rf"^([{_AA}])(\d+)(?:_([{_AA}])(\d+))?delins([{_AA}*]+)$")
_INS = re.compile(rf"^([{_AA}])(\d+)_([{_AA}])(\d+)ins([{_AA}]+)$")
_DUP = re.compile(rf"^([{_AA}])(\d+)(?:_([{_AA}])(\d+))?dup([{_AA}]*)$")
_KEYWORDS = {"delins", "del", "ins", "dup"}
_EXON = re.compile(
    r"^(?:exon|ex)\s*(\d+)\s*"
    r"(deletion|del|insertion|ins|mutation|mut|mutations|skipping|skip|alteration|"
    r"duplication|dup|delins)?$",
    re.IGNORECASE,
)
_EXON_WORD = {
    "deletion": "deletion", "del": "deletion", "insertion": "insertion", "ins": "insertion",
    "duplication": "insertion", "dup": "insertion", "mutation": "mutation",
    "mut": "mutation", "mutations": "mutation", "alteration": "mutation",
    "skipping": "skipping", "skip": "skipping", "delins": "deletion", None: "mutation",
}  # fmt: skip

_WORDS: dict[str, tuple[str, str]] = {}
for _words, _kind, _change in [
    ("amplification amp amplified gain copy-number-gain copy-number-gain", "amplification",
     "amplification"),
    ("loss deletion del homozygous-deletion deep-deletion loss-of-function lof inactivation "
     "biallelic-inactivation biallelic-loss inactivating-mutation truncating "
     "truncating-mutation truncation", "loss", "loss"),
    ("fusion rearrangement translocation fusions", "fusion", "fusion"),
    ("overexpression expression high-expression upregulation over-expression "
     "protein-expression", "expression", "overexpression"),
    ("mutation mutations mutant oncogenic-mutation activating-mutation any-mutation "
     "alteration", "mutation", "mutation"),
    ("itd internal-tandem-duplication", "indel", "ITD"),
    # a secondary mutation that restores a lost gene's reading frame or function (BRCA1/2,
    # PALB2, RAD51C/D after PARP inhibitors or platinum)
    ("reversion reversion-mutation reversions restoring-mutation secondary-reversion",
     "mutation", "reversion"),
]:  # fmt: skip
    for _w in _words.split():
        _WORDS[_w] = (_kind, _change)

PHENOTYPES = {
    "transformation:sclc": "transformation:SCLC",
    "sclc transformation": "transformation:SCLC",
    "small cell transformation": "transformation:SCLC",
    "transformation:small cell": "transformation:SCLC",
    "transformation:squamous": "transformation:squamous",
    "squamous transformation": "transformation:squamous",
    "transformation:neuroendocrine": "transformation:neuroendocrine",
    "neuroendocrine transformation": "transformation:neuroendocrine",
    "transformation:nepc": "transformation:neuroendocrine",
    "emt": "EMT",
    "epithelial-mesenchymal transition": "EMT",
    "epithelial-to-mesenchymal transition": "EMT",
    "tmb-high": "TMB-high",
    "tmb-h": "TMB-high",
    "tmb high": "TMB-high",
    "high tmb": "TMB-high",
    "msi-high": "MSI-high",
    "msi-h": "MSI-high",
    "msi high": "MSI-high",
    "dmmr": "MSI-high",
    "mismatch repair deficient": "MSI-high",
    "hrd": "HRD",
    "hrd-positive": "HRD",
    "hrd positive": "HRD",
    "homologous recombination deficiency": "HRD",
    "homologous recombination deficient": "HRD",
    "genomic instability": "HRD",
}


# What a bare "positive" means for a gene, as reports write it (ALK-positive, HER2+).
POSITIVE_MEANS = {
    "ALK": "fusion", "ROS1": "fusion", "RET": "fusion", "NTRK1": "fusion", "NTRK2": "fusion",
    "NTRK3": "fusion", "FGFR2": "fusion", "ABL1": "fusion", "ERBB2": "amplification",
}  # fmt: skip
_POSITIVE = re.compile(r"^([A-Za-z0-9]+)(?:-positive|-pos|\+)$", re.IGNORECASE)
# A trailing word that adds nothing to a protein change ("V600E mutation").
_SUFFIX = re.compile(r"\s+(mutation|mutated|mutant|mut|variant|substitution)$", re.IGNORECASE)

# Named transcript variants read as expression events of their gene.
SPLICE_VARIANTS = {
    "ar-v7": ("AR", "AR-V7"),
    "arv7": ("AR", "AR-V7"),
    "ar v7": ("AR", "AR-V7"),
    "ar-v7 expression": ("AR", "AR-V7"),
    "ar-v7 positive": ("AR", "AR-V7"),
}


def _one_letter(text: str) -> str:
    """Convert three-letter amino-acid codes to one letter (``Thr790Met`` -> ``T790M``)."""
    return _THREE.sub(lambda m: THREE_TO_ONE[m.group(1).upper()], text)


def _strip_protein_prefix(text: str) -> str:
    change = text.strip()
    if change.lower().startswith("p."):
        change = change[2:]
    if change.startswith("(") and change.endswith(")"):
        change = change[1:-1]
    return change.strip()


def parse_protein_change(text: str, *, gene: str, role: str = "oncogene") -> dict:
    """Parse a protein change (one- or three-letter, with or without ``p.``) into fields.

    Returns
    -------
    dict
        Keyword arguments for :class:`Alteration`: ``kind``, ``change``, ``variant_type``,
        ``position``, ``end_position``, ``ref_aa``, ``alt_aa``, ``inserted``.

    Raises
    ------
    InputError
        When the text is not a protein change of a known form.
    """
    raw = _strip_protein_prefix(text)
    change = _one_letter(raw)
    if "fs" in change.lower():
        m = _FRAMESHIFT.match(change)
        if m:
            pos = int(m.group(2))
            return dict(kind="indel", change=f"{m.group(1)}{pos}fs", variant_type="frameshift",
                        position=pos, end_position=pos, ref_aa=m.group(1))  # fmt: skip
    change = "".join(
        part.lower() if part.lower() in _KEYWORDS else part.upper()
        for part in re.split(r"(delins|del|ins|dup)", change, flags=re.IGNORECASE)
    )
    m = _MISSENSE.match(change)
    if m:
        ref, pos, alt = m.group(1), int(m.group(2)), m.group(3)
        if alt == "X" and role == "tumour_suppressor":
            alt = "*"
        if alt == "=":
            vtype = "synonymous"
        elif alt == "*":
            vtype = "nonsense"
        elif alt == "X":
            vtype = "codon"
        else:
            vtype = "missense"
        return dict(kind="point", change=f"{ref}{pos}{alt}", variant_type=vtype, position=pos,
                    end_position=pos, ref_aa=ref, alt_aa=alt)  # fmt: skip
    m = _CODON.match(change)
    if m:
        ref, pos = m.group(1), int(m.group(2))
        return dict(kind="point", change=f"{ref}{pos}", variant_type="codon", position=pos,
                    end_position=pos, ref_aa=ref, alt_aa="X")  # fmt: skip
    for pattern, vtype, word in ((_DELINS, "delins", "delins"), (_DEL, "deletion", "del"),
                                 (_DUP, "duplication", "dup")):  # fmt: skip
        m = pattern.match(change)
        if m:
            start_aa, start = m.group(1), int(m.group(2))
            end_aa = m.group(3) or start_aa
            end = int(m.group(4)) if m.group(4) else start
            if end < start:
                break
            span = f"{start_aa}{start}" + (f"_{end_aa}{end}" if end != start else "")
            inserted = m.group(5) if vtype == "delins" else None
            suffix = f"delins{inserted}" if vtype == "delins" else word
            return dict(kind="indel", change=f"{span}{suffix}", variant_type=vtype,
                        position=start, end_position=end, ref_aa=start_aa,
                        inserted=inserted)  # fmt: skip
    m = _INS.match(change)
    if m and int(m.group(4)) == int(m.group(2)) + 1:
        start = int(m.group(2))
        change = f"{m.group(1)}{start}_{m.group(3)}{start + 1}ins{m.group(5)}"
        return dict(kind="indel", change=change, variant_type="insertion", position=start,
                    end_position=start + 1, ref_aa=m.group(1), inserted=m.group(5))  # fmt: skip
    raise InputError(
        f"{gene}: cannot read the change {text.strip()!r}; {ACCEPTED_FORMS}", field="alteration"
    )


def _exon_event(text: str) -> tuple[int, str] | None:
    compact = text.strip()
    m = re.match(r"^(?:del\s*(\d+)|(\d+)\s*del)$", compact, re.IGNORECASE)
    if m:  # del19, 19del
        return int(m.group(1) or m.group(2)), "deletion"
    m = re.match(r"^(?:exon|ex)\s*(\d+)\s*([a-z]+)$", compact, re.IGNORECASE)
    if m and m.group(2).lower() in _EXON_WORD:
        compact = f"exon {m.group(1)} {m.group(2)}"
    m = _EXON.match(compact)
    if not m:
        return None
    word = m.group(2).lower() if m.group(2) else None
    return int(m.group(1)), _EXON_WORD[word]


def _gene_role(kb: KnowledgeBase, gene: str) -> str:
    return kb.genes[gene].role if gene in kb.genes else "oncogene"


def parse_change(
    change: str, *, gene: str, kb: KnowledgeBase | None = None, **extra: object
) -> Alteration:
    """Parse the change part of an alteration for an already-resolved gene symbol.

    Parameters
    ----------
    change
        ``T790M``, ``p.Thr790Met``, ``exon 19 deletion``, ``amplification`` ...
    gene
        HGNC symbol (already resolved).
    kb
        Knowledge base (the shipped one by default) for exon ranges and gene roles.
    **extra
        Further :class:`Alteration` fields (``vaf``, ``depth``, ``sample``, coordinates).
    """
    kb = kb or load_kb()
    text = " ".join(change.strip().split())
    if not text:
        raise InputError(f"{gene}: the change is empty; {ACCEPTED_FORMS}", field="alteration")
    lowered = text.lower()
    if lowered in ("wildtype", "wild-type", "wt", "negative", "normal"):
        raise InputError(
            f"{gene} {text}: a wild-type result is not an alteration; leave it out",
            field="alteration",
        )
    if lowered in ("positive", "+", "pos", "rearranged"):
        meaning = POSITIVE_MEANS.get(gene)
        if meaning is None:
            raise InputError(
                f"{gene} {text}: 'positive' is ambiguous for {gene}; say what was found "
                "(amplification, fusion, a protein change)",
                field="alteration",
            )
        text = lowered = meaning
    word = _WORDS.get(lowered.replace(" ", "-"))
    if word is not None:
        kind, canonical = word
        fields: dict = dict(kind=kind, change=canonical)
        if canonical == "ITD":
            fields["variant_type"] = "itd"
        return Alteration(gene=gene, **fields, **extra)
    m = re.match(r"^(.+?)\s+fusion$", text, re.IGNORECASE)
    if m:
        return _fusion_from_pair(kb, m.group(1), gene, **extra)
    exon = _exon_event(text)
    if exon is not None:
        number, what = exon
        return Alteration(
            gene=gene, kind="exon", change=f"exon {number} {what}", exon=number, **extra
        )
    try:
        fields = parse_protein_change(text, gene=gene, role=_gene_role(kb, gene))
    except InputError:
        stripped = _SUFFIX.sub("", text)
        if stripped == text:
            raise
        fields = parse_protein_change(stripped, gene=gene, role=_gene_role(kb, gene))
    fields["exon"] = exon_of(kb, gene, fields.get("position"))
    return Alteration(gene=gene, **fields, **extra)


def exon_of(kb: KnowledgeBase, gene: str, codon: int | None) -> int | None:
    """The exon holding a codon, from the knowledge base's exon codon ranges."""
    if codon is None or gene not in kb.genes:
        return None
    for exon, (first, last) in kb.genes[gene].exons.items():
        if first <= codon <= last:
            return exon
    return None


_SYMBOL = re.compile(r"^[A-Z][A-Z0-9]{0,9}(?:-[A-Z0-9]{1,4})?$")
_FUSION_WORDS = {"fusion", "fusions", "rearrangement", "translocation", "positive", "+"}


def _fusion_partner(kb: KnowledgeBase, name: str) -> str | None:
    """A fusion partner's symbol; unknown but well-formed symbols are kept as written."""
    try:
        return resolve_gene(kb, name)
    except UnknownGeneError:
        if looks_spreadsheet_mangled(name) is None and _SYMBOL.match(name.strip().upper()):
            return None
        raise


def _fusion_from_pair(kb: KnowledgeBase, pair: str, gene_hint: str | None, **extra) -> Alteration:
    parts = [p.strip() for p in re.split(r"::|/|-(?=[A-Z0-9]+$)", pair) if p.strip()]
    if len(parts) != 2:
        raise InputError(
            f"cannot read the fusion {pair!r}; expected 5'::3' partners such as EML4::ALK",
            field="alteration",
        )
    resolved = [_fusion_partner(kb, p) for p in parts]
    if resolved == [None, None]:
        raise UnknownGeneError(
            f"neither partner of the fusion {pair!r} is a known gene", field="alteration"
        )
    five, three = (r or p.upper() for r, p in zip(resolved, parts, strict=True))
    in_kb = [g for g in (three, five) if g in kb.genes]
    gene = gene_hint if gene_hint in (five, three) else in_kb[0] if in_kb else three
    partner = five if gene == three else three
    return Alteration(gene=gene, kind="fusion", change=f"{five}::{three}", partner=partner, **extra)


def parse_alteration(
    text: str, *, kb: KnowledgeBase | None = None, default_gene: str | None = None, **extra
) -> Alteration:
    """Parse one alteration written as text.

    Parameters
    ----------
    text
        ``EGFR T790M``, ``HER2 amplification``, ``EML4::ALK``, ``transformation:SCLC`` ...
    kb
        Knowledge base for gene aliases, roles and exon ranges (the shipped one by default).
    default_gene
        Gene to assume when the text holds only a change (knowledge-base files use this).
    **extra
        Further :class:`Alteration` fields such as ``vaf``, ``depth``, ``sample``.

    Returns
    -------
    Alteration

    Raises
    ------
    InputError
        Naming the token that failed and the accepted forms.

    Examples
    --------
    >>> parse_alteration("EGFR p.Thr790Met").label
    'EGFR T790M'
    >>> parse_alteration("HER2 amplification").label
    'ERBB2 amplification'
    """
    kb = kb or load_kb()
    cleaned = " ".join(str(text).replace("\u00a0", " ").split())
    if not cleaned:
        raise InputError(f"empty alteration; {ACCEPTED_FORMS}", field="alteration")
    phenotype = PHENOTYPES.get(cleaned.lower())
    if phenotype is None and cleaned.lower().startswith("transformation:"):
        raise InputError(
            f"unknown transformation {cleaned!r}; expected transformation:SCLC, "
            "transformation:squamous or transformation:neuroendocrine",
            field="alteration",
        )
    if phenotype is not None:
        return Alteration(gene=None, kind="phenotype", change=phenotype, **extra)
    splice = SPLICE_VARIANTS.get(cleaned.lower())
    if splice is None:  # the label the tool prints, "AR AR-V7", reads back
        head, _, rest = cleaned.partition(" ")
        named = SPLICE_VARIANTS.get(rest.lower())
        if named is not None and is_known_gene(kb, head) and resolve_gene(kb, head) == named[0]:
            splice = named
    if splice is not None:
        return Alteration(gene=splice[0], kind="expression", change=splice[1], **extra)
    hgvs = HGVS.match(cleaned)
    if hgvs is not None:
        return _parse_hgvs(hgvs, kb, cleaned, **extra)
    cleaned = _POSITIVE.sub(r"\1 positive", cleaned)  # ALK-positive, HER2+ -> "GENE positive"
    head, _, rest = cleaned.partition(" ")
    left, _, right = head.rpartition("-")
    if (
        left and "::" not in head and right.lower() in _WORDS
        and is_known_gene(kb, left) and not is_known_gene(kb, right)
    ):  # fmt: skip
        # "FLT3-ITD": a gene and an event word joined by a hyphen, not a fusion FLT3::ITD
        head, rest = left, f"{right} {rest}".strip()
        cleaned = f"{head} {rest}"
    if "::" in head or ("-" in head and not is_known_gene(kb, head) and _is_gene_pair(kb, head)):
        fusion = _fusion_from_pair(kb, head, None, **extra)
        if not rest or rest.lower() in _FUSION_WORDS:
            return fusion
        # "BCR::ABL1 T315I": a change in the fusion's kinase
        return parse_change(rest, gene=str(fusion.gene), kb=kb, **extra)
    if ":" in head and "::" not in head:
        head, _, first = head.partition(":")
        rest = f"{first} {rest}".strip()
    if not rest:
        if default_gene is not None:
            return parse_change(cleaned, gene=default_gene, kb=kb, **extra)
        if is_known_gene(kb, head):
            raise InputError(
                f"{cleaned!r} names a gene but no change; {ACCEPTED_FORMS}", field="alteration"
            )
    try:
        gene = resolve_gene(kb, head)
    except UnknownGeneError as exc:
        if default_gene is not None:
            return parse_change(cleaned, gene=default_gene, kb=kb, **extra)
        message = with_gene_suggestions(exc, kb, head).message
        raise InputError(f"{message} (in {cleaned!r})", field="gene") from None
    return parse_change(rest, gene=gene, kb=kb, **extra)


def with_gene_suggestions(exc: UnknownGeneError, kb: KnowledgeBase, name: str) -> InputError:
    """The error of an unknown gene with "did you mean" added (``EGRF`` -> ``EGFR``).

    Symbols and aliases of the knowledge base and the other cancer genes are suggested;
    a spreadsheet-damaged name (``2-Sep``) keeps its own explanation.
    """
    quoted = f"unknown gene {name.strip()!r}"
    hint = did_you_mean(kb.suggest_genes(name, OTHER_CANCER_GENES))
    if not hint or not exc.message.startswith(quoted) or "(did you mean" in exc.message:
        return exc
    return type(exc)(
        quoted + hint + exc.message[len(quoted) :],
        file=exc.file,
        record=exc.record,
        field=exc.field,
    )


def _parse_hgvs(m: re.Match, kb: KnowledgeBase, text: str, **extra) -> Alteration:
    """Parse an accession-qualified HGVS name (``NP_005219.2:p.Thr790Met``).

    The accession's gene is checked against a gene written beside it.
    """
    accession, version = m.group("accession"), m.group("version")
    written = accession + (f".{version}" if version else "")
    kind, change = m.group("type"), m.group("change").strip()
    if kind == "g":
        if not accession.startswith("NC_"):
            raise InputError(f"{written}: g. changes need a chromosome accession (NC_...)",
                             field="alteration")  # fmt: skip
        build, chrom, pos, ref, alt = genomic_site(accession, version, change)
        found = kb.coordinates[build].get((chrom, pos, ref, alt))
        if found is None:
            raise InputError(
                f"{text!r}: {build} chr{chrom}:{pos} {ref}>{alt} is not a position the "
                "knowledge base knows; give the protein change (GENE p.Thr790Met) instead",
                field="alteration",
            )
        return parse_change(found[1], gene=found[0], kb=kb, **extra)
    named = [g for g in (m.group("gene"), m.group("gene2")) if g]
    gene = None
    for name in named:
        try:
            symbol = resolve_gene(kb, name)
        except UnknownGeneError as exc:
            raise with_gene_suggestions(exc, kb, name).located(field="gene") from None
        if gene is not None and symbol != gene:
            raise InputError(f"{text!r} names two genes, {gene} and {symbol}", field="gene")
        gene = symbol
    owner = accession_gene(accession)
    if owner is None and accession in OTHER_NUMBERING:
        owner = OTHER_NUMBERING[accession][0]
    if owner is not None and gene is not None and owner != gene:
        raise InputError(
            f"{written} is a reference of {owner}, not of {gene} (in {text!r}); check the "
            "accession and the gene",
            field="alteration",
        )
    gene = gene or owner
    if gene is None:
        raise InputError(
            f"{written} is not an accession this project knows, so its gene is unknown; "
            f"name the gene too: 'GENE {written}:{kind}.{change}' or "
            f"'{written}(GENE):{kind}.{change}'",
            field="alteration",
        )
    check_numbering(accession)
    if kind == "c":
        both = PROTEIN_IN_PARENS.match(change)  # ClinVar: c.2369C>T (p.Thr790Met)
        if both is not None:
            return parse_change(both.group("protein"), gene=gene, kb=kb, **extra)
        if accession.startswith(("NP_", "XP_", "ENSP")):
            raise InputError(f"{written} is a protein; a c. change needs a transcript",
                             field="alteration")  # fmt: skip
        try:
            protein = coding_to_protein(gene, written, change)
        except InputError as exc:
            raise exc.located(field="alteration") from None
        return parse_change(protein, gene=gene, kb=kb, **extra)
    return parse_change(f"p.{change}", gene=gene, kb=kb, **extra)


def _is_gene_pair(kb: KnowledgeBase, text: str) -> bool:
    parts = text.split("-")
    if len(parts) == 2 and all(is_known_gene(kb, p) for p in parts):
        return True
    if len(parts) == 2 and any(kb.is_gene(p) for p in parts):
        return all(_SYMBOL.match(p.upper()) for p in parts)
    # symbols with hyphens (NKX2-1) followed by a partner: try each split point
    for i in range(1, len(parts)):
        left, right = "-".join(parts[:i]), "-".join(parts[i:])
        if is_known_gene(kb, left) and is_known_gene(kb, right):
            return True
    return False


def codon_level_notes(
    alterations: Iterable[Alteration], kb: KnowledgeBase | None = None
) -> list[str]:
    """Notes for protein changes written without their new residue (``EGFR L858``).

    Such a change is read as "some change at this codon": it matches assertions written
    for the codon (``MET D1228``), its exon or its gene, but not those about one specific
    change (``EGFR L858R``), since the residue it became is unknown. The note says so, and
    names the specific changes the knowledge base holds at that codon.

    Returns
    -------
    list of str
        One note per such alteration (in order, without repeats).
    """
    kb = kb or load_kb()
    notes: list[str] = []
    for alt in alterations:
        if alt.kind != "point" or alt.variant_type != "codon" or alt.position is None:
            continue
        specific = sorted(
            {label for label in _specific_changes(kb, alt.gene, alt.position)},
            key=lambda label: (len(label), label),
        )
        note = (
            f"{alt.label}: the new residue is not given, so it is read as a change of codon "
            f"{alt.position} of unknown kind; it matches assertions written for the codon, "
            "its exon or its gene"
        )
        if specific:
            note += f", not those about a specific change ({', '.join(specific)})"
        note += "; give the full change if the report has it"
        if note not in notes:
            notes.append(note)
    return notes


def _specific_changes(kb: KnowledgeBase, gene: str | None, codon: int) -> set[str]:
    """Labels of knowledge-base biomarkers that are one specific change at a codon."""
    found = set()
    for sourced in kb.assertions:
        for text in sourced.assertion.members:
            try:
                pattern = parse_alteration(text, kb=kb, default_gene=sourced.default_gene)
            except InputError:
                continue
            if (
                pattern.gene == gene and pattern.kind == "point" and pattern.position == codon
                and pattern.variant_type in ("missense", "nonsense")
            ):  # fmt: skip
                found.add(pattern.label)
    return found


def biomarker_key(
    text: str, default_gene: str | None = None, *, kb: KnowledgeBase | None = None
) -> str:
    """Normalised identity of a knowledge-base biomarker text (``GENE change``)."""
    return parse_alteration(text, kb=kb, default_gene=default_gene).key


@lru_cache(maxsize=65536)
def _cached(text: str, default_gene: str | None) -> Alteration:
    return parse_alteration(text, default_gene=default_gene)


def parse_biomarker(text: str, default_gene: str | None = None) -> Alteration:
    """Parse a biomarker of the shipped knowledge base (cached)."""
    return _cached(text, default_gene)
