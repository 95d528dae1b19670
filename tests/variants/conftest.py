"""Small builders that write tiny VCF, MAF and table files into ``tmp_path``."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from variants_helpers import MAF_COLUMNS, vcf_text

from oncoresist.variants._bgzf import write_bgzf


@pytest.fixture
def write_vcf(tmp_path: Path) -> Callable[..., Path]:
    """Write a VCF: ``write_vcf(records, name=..., compress=None|'bgzf'|'gzip', **header)``."""

    def write(
        records: Sequence[str],
        *,
        name: str = "t.vcf",
        compress: str | None = None,
        **header,
    ) -> Path:
        data = vcf_text(records, **header).encode()
        path = tmp_path / name
        if compress == "bgzf":
            write_bgzf(path, data)
        elif compress == "gzip":
            path.write_bytes(gzip.compress(data))
        else:
            path.write_bytes(data)
        return path

    return write


@pytest.fixture
def write_maf(tmp_path: Path) -> Callable[..., Path]:
    """Write a MAF from row dicts: ``write_maf(rows, name=..., columns=..., gz=False)``."""

    def write(
        rows: Sequence[dict[str, str]],
        *,
        name: str = "t.maf",
        columns: Sequence[str] = MAF_COLUMNS,
        gz: bool = False,
        comments: Sequence[str] = ("#version 2.4",),
    ) -> Path:
        lines = [*comments, "\t".join(columns)]
        lines += ["\t".join(row.get(c, "") for c in columns) for row in rows]
        data = ("\n".join(lines) + "\n").encode()
        path = tmp_path / name
        path.write_bytes(gzip.compress(data) if gz else data)
        return path

    return write


@pytest.fixture
def write_text(tmp_path: Path) -> Callable[..., Path]:
    """Write text (or bytes) to ``tmp_path / name``."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    return write


@pytest.fixture
def met_kb(tmp_path: Path):
    """A tiny knowledge base with MET (exon 14 = codons 963-1010) and EGFR coordinates."""
    from oncoresist.kb import load_kb

    root = tmp_path / "kb"
    (root / "genes").mkdir(parents=True)
    (root / "genes" / "MET.yaml").write_text(
        "genes:\n"
        "  - symbol: MET\n"
        "    name: MET proto-oncogene\n"
        "    exons: {13: [920, 962], 14: [963, 1010], 15: [1011, 1050]}\n"
    )
    (root / "genes" / "EGFR.yaml").write_text(
        "genes:\n"
        "  - symbol: EGFR\n"
        "    aliases: [HER1]\n"
        "    name: epidermal growth factor receptor\n"
        "    exons: {20: [762, 823], 21: [824, 875]}\n"
        "coordinates:\n"
        '  - {alteration: T790M, GRCh37: "7:55249071:C>T", GRCh38: "7:55181378:C>T"}\n'
    )
    return load_kb(root)
