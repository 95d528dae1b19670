"""Identifier tables (HGNC, NCBI Gene, NCIt, ChEMBL, OncoTree codes) and their validation."""

from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path

import pytest

from oncoresist.errors import KnowledgeBaseError
from oncoresist.kb import load_kb, stats, to_records, validate
from oncoresist.kb._identifiers import (
    DISEASE_COLUMNS,
    DRUG_COLUMNS,
    GENE_COLUMNS,
    PATTERNS,
    coverage,
    coverage_lines,
    identifier_problems,
    identifiers_dir,
    load_identifiers,
    read_table,
)
from oncoresist.variants import biomarker_key

FIXTURE = Path(__file__).parents[1] / "interpret" / "kb_fixture"


def _write(path: Path, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    lines = ["# a test table", "\t".join(header)] + ["\t".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def fixture_kb():
    return load_kb(FIXTURE)


@pytest.fixture
def fixture_ids(tmp_path, fixture_kb):
    """Complete, valid tables for the test fixture knowledge base."""
    d = tmp_path / "identifiers"
    d.mkdir()
    hgnc = {"EGFR": "HGNC:3236", "ALK": "HGNC:427", "BRAF": "HGNC:1097", "MET": "HGNC:7029"}
    genes = [(g, hgnc.get(g, ""), "", "", "") for g in sorted(fixture_kb.genes)]
    drugs = [(n, f"C{100 + i}", "", "") for i, n in enumerate(sorted(fixture_kb.drugs))]
    # The fixture's diseases.yaml has two retired codes (MTC, CMLBCRABL1): give current ones.
    current = {"MTC": "THME", "CML": "CML"}
    diseases = [(x, current.get(x, ""), "") for x in sorted(fixture_kb.diseases)]
    _write(d / "genes.tsv", GENE_COLUMNS, genes)
    _write(d / "drugs.tsv", DRUG_COLUMNS, drugs)
    _write(d / "diseases.tsv", DISEASE_COLUMNS, diseases)
    return d


def test_complete_tables_validate_clean(fixture_kb, fixture_ids):
    ids = load_identifiers(fixture_ids)
    assert identifier_problems(fixture_kb, ids) == []
    problems = validate(
        fixture_kb,
        biomarker_key=partial(biomarker_key, kb=fixture_kb),
        identifiers=ids,
    )
    assert problems == []


def test_missing_rows_bad_forms_and_duplicates_are_reported(fixture_kb, fixture_ids):
    genes = fixture_ids / "genes.tsv"
    text = genes.read_text().replace("ALK\tHGNC:427", "ALK\tHGNC-427")
    text = text.replace("BRAF\tHGNC:1097", "BRAF\tHGNC:3236")  # EGFR's id
    text = "\n".join(line for line in text.splitlines() if not line.startswith("MET\t")) + "\n"
    genes.write_text(text)
    drugs = fixture_ids / "drugs.tsv"
    first = sorted(fixture_kb.drugs)[0]
    drugs.write_text(drugs.read_text().replace(f"{first}\tC100\t\t", f"{first}\tC100\tCHEM1\t"))
    diseases = fixture_ids / "diseases.tsv"
    diseases.write_text(diseases.read_text().replace("LUAD\t\t", "LUAD\tNOT_A_CODE\t"))
    problems = "\n".join(identifier_problems(fixture_kb, load_identifiers(fixture_ids)))
    assert "no row for gene 'MET'" in problems
    assert "'HGNC-427' for ALK is not HGNC:<digits>" in problems
    assert "HGNC:3236 is given for both" in problems
    assert "'CHEM1'" in problems and "CHEMBL<digits>" in problems
    assert "'NOT_A_CODE' for LUAD is not a code of OncoTree" in problems
    assert "genes.tsv line" in problems  # each problem names the table and line


def test_oncotree_code_shared_by_two_diseases_is_reported(fixture_kb, fixture_ids):
    diseases = fixture_ids / "diseases.tsv"
    # LUAD's diseases.yaml code given to NSCLC as well: one code, two diseases.
    diseases.write_text(diseases.read_text().replace("NSCLC\t\t", "NSCLC\tLUAD\t"))
    problems = identifier_problems(fixture_kb, load_identifiers(fixture_ids))
    assert any("LUAD names both diseases" in p for p in problems), problems


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("symbol\thgnc\n", "header is symbol/hgnc"),
        ("# only comments\n", "no header line"),
        ("\t".join(GENE_COLUMNS) + "\nEGFR\tHGNC:3236\n", "2 tab-separated cells; expected 5"),
        (
            "\t".join(GENE_COLUMNS) + "\nEGFR\t\t\t\t\nEGFR\t\t\t\t\n",
            "'EGFR' has a row already (line 2)",
        ),
    ],
)
def test_malformed_table_names_file_and_line(tmp_path, content, message):
    path = tmp_path / "genes.tsv"
    path.write_text(content)
    with pytest.raises(KnowledgeBaseError, match=r"genes\.tsv") as info:
        read_table(path, columns=GENE_COLUMNS)
    assert message in str(info.value)


def test_a_knowledge_base_elsewhere_is_not_checked_against_the_shipped_tables(fixture_kb):
    # The fixture's drugs (alpha, beta, ...) have no rows in the shipped tables; validating
    # it without tables must not report them.
    assert validate(fixture_kb, biomarker_key=partial(biomarker_key, kb=fixture_kb)) == []
    assert all(r["hgnc_ids"] == [] for r in to_records(fixture_kb))
    assert "identifiers" not in stats(fixture_kb)


def test_coverage_counts_and_lines(fixture_kb, fixture_ids):
    counts = coverage(fixture_kb, load_identifiers(fixture_ids))
    n_genes, n_drugs = len(fixture_kb.genes), len(fixture_kb.drugs)
    assert counts["HGNC"] == [4, n_genes]
    assert counts["NCIt"] == [n_drugs, n_drugs]
    assert counts["ChEMBL"] == [0, n_drugs]
    lines = coverage_lines(counts)
    assert f"HGNC 4/{n_genes} genes" in lines
    assert f"NCIt {n_drugs}/{n_drugs} drugs" in lines


# ------------------------------------------------------------------- shipped tables
def test_shipped_tables_parse_and_every_filled_cell_has_its_form():
    ids = load_identifiers()
    assert Path(ids.genes.path).parent == identifiers_dir()
    for table in (ids.genes, ids.drugs):
        for key, row in table.rows.items():
            for column, value in row.items():
                if value and column in PATTERNS:
                    assert PATTERNS[column].match(value), (key, column, value)


def test_shipped_identifiers_spot_checks():
    """Identifiers checked by hand against HGNC, NCBI Gene and NCIt entries."""
    ids = load_identifiers()
    assert ids.genes.get("EGFR", "hgnc_id") == "HGNC:3236"
    assert ids.genes.get("EGFR", "entrez_id") == "1956"
    assert ids.genes.get("BRAF", "hgnc_id") == "HGNC:1097"
    assert ids.genes.get("KRAS", "hgnc_id") == "HGNC:6407"
    assert ids.genes.get("TP53", "entrez_id") == "7157"
    assert ids.drugs.get("osimertinib", "ncit_code") == "C116377"
    assert ids.drugs.get("sotorasib", "ncit_code") == "C154287"
    assert ids.disease_codes("MTC") == ["THME"]


def test_shipped_tables_have_a_header_naming_their_sources():
    for name in ("genes.tsv", "drugs.tsv", "diseases.tsv"):
        head = (identifiers_dir() / name).read_text().splitlines()[:3]
        assert head[0].startswith("#"), name
    genes = (identifiers_dir() / "genes.tsv").read_text()
    assert "medizininformatik-initiative/kerndatensatzmodul-molekulares-tumorboard" in genes
    drugs = (identifiers_dir() / "drugs.tsv").read_text()
    assert "TMO-HD/NCT-POT" in drugs and "cBioPortal/cbioportal-frontend" in drugs


def test_shipped_kb_has_a_row_for_every_entry():
    kb = load_kb()
    ids = load_identifiers()
    problems = identifier_problems(kb, ids)
    assert problems == [], problems[:10]
    s = stats(kb)
    assert s["identifiers"]["HGNC"][1] == len(kb.genes)
    assert any(line.startswith("HGNC ") for line in s["identifier_coverage"])


def test_copied_kb_checked_against_its_own_tables(tmp_path):
    root = tmp_path / "kb"
    shutil.copytree(FIXTURE, root)
    ids_dir = root / "identifiers"
    ids_dir.mkdir()
    _write(ids_dir / "genes.tsv", GENE_COLUMNS, [])
    _write(ids_dir / "drugs.tsv", DRUG_COLUMNS, [])
    _write(ids_dir / "diseases.tsv", DISEASE_COLUMNS, [])
    kb = load_kb(root)
    problems = validate(kb, identifiers=load_identifiers(ids_dir))
    assert sum("no row for gene" in p for p in problems) == len(kb.genes)


def test_retired_diseases_yaml_code_needs_a_current_one(fixture_kb, fixture_ids):
    diseases = fixture_ids / "diseases.tsv"
    diseases.write_text(diseases.read_text().replace("MTC\tTHME\t", "MTC\t\t"))
    problems = identifier_problems(fixture_kb, load_identifiers(fixture_ids))
    assert any("disease MTC: OncoTree code 'MTC' is not in OncoTree" in p for p in problems)
