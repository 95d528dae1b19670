"""Gene names: knowledge-base genes and aliases, other cancer genes, spreadsheet damage.

Symbols outside the knowledge base are still genes a report may name (``TP53``, ``RB1``);
they parse, and simply match no assertion. The list below holds HGNC symbols of genes
commonly reported by cancer panels; it is a fact list written for this project.
"""

from __future__ import annotations

import re

from oncoresist.errors import UnknownGeneError
from oncoresist.kb import KnowledgeBase

OTHER_CANCER_GENES = frozenset(
    """
    ABL2 ACVR1 AKT2 AKT3 AMER1 APC AR ARAF ARID1A ARID1B ARID2 ASXL1 ATM ATR ATRX AURKA
    AXIN1 AXIN2 BAP1 BARD1 BCL2 BCL6 BCOR BCR BIRC3 BLM BRCA1 BRCA2 BRD4 BRIP1 CALR CARD11
    CBL CCND1 CCND2 CCND3 CCNE1 CD274 CD79A CD79B CDH1 CDK12 CDK4 CDK6 CDKN1A CDKN1B CDKN2A
    CDKN2B CEBPA CHEK1 CHEK2 CIC CREBBP CRKL CRLF2 CSF1R CSF3R CTCF CTNNB1 CUL3 CXCR4 DAXX
    DDR2 DICER1 DNMT3A DOT1L EED EIF1AX EML4 EP300 EPHA2 ERBB3 ERBB4 ERCC2 ERG ESR2 ETV1
    ETV6 EWSR1 EZH2 FANCA FANCC FAT1 FBXW7 FGF19 FGF3 FGF4 FGFR1 FGFR4 FH FLCN FLT1 FLT4
    FOXA1 FOXL2 FUBP1 GATA1 GATA2 GATA3 GNA11 GNAQ GNAS GRIN2A H3-3A HGF HNF1A HRAS IGF1R
    IKZF1 IL7R INPP4B IRF4 IRS2 JAK3 KAT6A KDM5A KDM5C KDM6A KDR KIF5B KLF4 KMT2A KMT2C
    KMT2D LRP1B MAP2K2 MAP2K4 MAP3K1 MAP3K8 MAPK1 MCL1 MDM2 MDM4 MED12 MEN1 MITF MLH1 MPL
    MRE11 MSH2 MSH3 MSH6 MTOR MUTYH MYC MYCL MYCN MYD88 NBN NCOA4 NF2 NFE2L2 NKX2-1 NOTCH1
    NOTCH2 NOTCH3 NPM1 NSD1 NUP98 PALB2 PAX5 PBRM1 PDGFRB PHF6 PIK3C2B PIK3CB PIK3R1 PIM1
    PMS2 POLD1 POLE PPP2R1A PRDM1 PRKAR1A PTCH1 PTPN11 RAC1 RAD21 RAD51 RAD51B RAD51C RAD51D
    RAF1 RARA RB1 RHOA RICTOR RNF43 RUNX1 SDHA SDHB SDHC SDHD SETD2 SF3B1 SLC34A2 SMAD2
    SMAD4 SMARCA4 SMARCB1 SOCS1 SOX2 SOX9 SPOP SRC SRSF2 STAG2 STAT3 SUFU SUZ12 TACC3 TCF3
    TERT TET2 TGFBR2 TMPRSS2 TNFAIP3 TOP2A TP53 TPM3 TSC1 TSC2 U2AF1 VHL WT1 XPO1 YAP1 ZFHX3
    ZRSR2 CD74 ETV6 NCOA4 CCDC6 TPR LMNA SQSTM1 KIF5B TFG STRN ZCCHC8 BICC1 TACC3 AXL YES1
    CRBN NT5C2 PRPS1 SEMA4D TGFB1 EGF TGFA AREG EREG NRG1 SHC1 IGF2 ABCB1 ABCG2 MAP2K3 ZEB1
    SNAI1 SNAI2 TWIST1 VIM CDH2 YAP1 WWTR1 ASCL1 NEUROD1 POU2F3
    """.split()  # noqa: SIM905
)

_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_EXCEL_PATTERNS = [
    re.compile(rf"^\d{{1,2}}-({_MONTHS})$", re.IGNORECASE),  # 2-Sep
    re.compile(rf"^({_MONTHS})-\d{{1,4}}$", re.IGNORECASE),  # Sep-02, Mar-1
    re.compile(r"^\d{4}-\d{2}-\d{2}$"),  # 2006-09-02
    re.compile(r"^\d{1,2}/\d{1,2}/\d{2,4}$"),  # 9/2/2006
    re.compile(r"^\d+(\.\d+)?E[+-]?\d+$", re.IGNORECASE),  # 2310009E13 read as a number
]
_EXCEL_SOURCE = {
    "SEP": "SEPTIN<n> (formerly SEPT<n>)",
    "MAR": "MARCHF<n> (formerly MARCH<n>)",
    "DEC": "DELEC1 / DEC1",
    "OCT": "POU2F/POU5F (OCT<n>)",
    "NOV": "CCN3 (formerly NOV)",
}


def looks_spreadsheet_mangled(name: str) -> str | None:
    """Say what a spreadsheet-damaged gene name probably was, or ``None`` if it looks fine.

    Examples
    --------
    >>> looks_spreadsheet_mangled("2-Sep")
    'SEPTIN<n> (formerly SEPT<n>)'
    >>> looks_spreadsheet_mangled("EGFR") is None
    True
    """
    text = name.strip()
    for pattern in _EXCEL_PATTERNS:
        if pattern.match(text):
            for month, hint in _EXCEL_SOURCE.items():
                if month in text.upper():
                    return hint
            return "a gene symbol converted to a date or number"
    return None


def resolve_gene(kb: KnowledgeBase, name: str) -> str:
    """Resolve a gene symbol or alias to an HGNC symbol.

    Knowledge-base genes and their aliases resolve to their symbol; other cancer genes are
    accepted as they are (upper case).

    Raises
    ------
    UnknownGeneError
        For spreadsheet-damaged names (``2-Sep``) and names that are not a known gene.
    """
    text = name.strip()
    hint = looks_spreadsheet_mangled(text)
    if hint is not None:
        raise UnknownGeneError(
            f"gene {text!r} looks like a spreadsheet converted it to a date or number "
            f"(probably {hint}); re-export the file with the gene column as text"
        )
    if kb.is_gene(text):
        return kb.resolve_gene(text)
    upper = text.upper()
    if upper in OTHER_CANCER_GENES:
        return upper
    raise UnknownGeneError(
        f"unknown gene {text!r}; expected an HGNC symbol or alias such as EGFR, HER2 (ERBB2), "
        "ALK, BRAF, KRAS, ABL1"
    )


def is_known_gene(kb: KnowledgeBase, name: str) -> bool:
    """Whether ``name`` resolves as a gene (without raising)."""
    text = name.strip()
    return kb.is_gene(text) or text.upper() in OTHER_CANCER_GENES
