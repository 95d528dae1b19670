"""Text builders for tiny VCF and MAF files (imported by the variant tests and conftest)."""

from __future__ import annotations

from collections.abc import Sequence

from oncoresist.variants._builds import CONTIG_LENGTHS

# EGFR knowledge-base coordinates (GRCh37 / GRCh38) used throughout.
T790M_37 = ("7", 55249071, "C", "T")
L858R_37 = ("7", 55259515, "T", "G")
C797S_37 = ("7", 55249092, "G", "C")
T790M_38 = ("7", 55181378, "C", "T")

FORMAT_META = (
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
    '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">',
    '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">',
    '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">',
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth">',
)


def vcf_text(
    records: Sequence[str],
    *,
    samples: Sequence[str] = ("TUMOR",),
    build: str | None = "GRCh37",
    contigs: Sequence[str] = ("7",),
    meta: Sequence[str] = (),
    reference: str | None = None,
) -> str:
    """A VCF: header (contig lengths of ``build`` unless None) and the given record lines.

    Records are written with single spaces between columns for readability in tests and
    turned into tabs here.
    """
    lines = ["##fileformat=VCFv4.2"]
    if reference is not None:
        lines.append(f"##reference={reference}")
    if build is not None:
        lines += [
            f"##contig=<ID={c},length={CONTIG_LENGTHS[build][c.removeprefix('chr')]}>"
            for c in contigs
        ]
    lines += list(FORMAT_META) + list(meta)
    columns = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]
    if samples:
        columns += ["FORMAT", *samples]
    lines.append("\t".join(columns))
    lines += ["\t".join(r.split()) for r in records]
    return "\n".join(lines) + "\n"


def record(
    variant: tuple[str, int, str, str],
    sample: str = "0/1:60,40:100",
    fmt: str = "GT:AD:DP",
    info: str = ".",
    chrom: str | None = None,
) -> str:
    c, pos, ref, alt = variant
    return f"{chrom or c} {pos} . {ref} {alt} 50 PASS {info} {fmt} {sample}"


MAF_COLUMNS = (
    "Hugo_Symbol",
    "Chromosome",
    "Start_Position",
    "Reference_Allele",
    "Tumor_Seq_Allele2",
    "Variant_Classification",
    "HGVSp_Short",
    "Tumor_Sample_Barcode",
    "t_ref_count",
    "t_alt_count",
    "t_depth",
    "NCBI_Build",
)


def maf_row(
    gene: str = "EGFR",
    protein: str = "p.T790M",
    *,
    classification: str = "Missense_Mutation",
    variant: tuple[str, int, str, str] = T790M_37,
    sample: str = "T1",
    ref_count: str = "60",
    alt_count: str = "40",
    depth: str = "100",
    build: str = "GRCh37",
) -> dict[str, str]:
    chrom, pos, ref, alt = variant
    return {
        "Hugo_Symbol": gene,
        "Chromosome": chrom,
        "Start_Position": str(pos),
        "Reference_Allele": ref,
        "Tumor_Seq_Allele2": alt,
        "Variant_Classification": classification,
        "HGVSp_Short": protein,
        "Tumor_Sample_Barcode": sample,
        "t_ref_count": ref_count,
        "t_alt_count": alt_count,
        "t_depth": depth,
        "NCBI_Build": build,
    }
