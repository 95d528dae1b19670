"""Suggestions ("did you mean") for misspelt drugs, genes, diseases and code names."""

import pytest

from oncoresist.errors import UnknownDiseaseError, UnknownDrugError, UnknownGeneError
from oncoresist.kb import load_kb
from oncoresist.kb._load import did_you_mean, suggest


@pytest.fixture(scope="module")
def kb():
    return load_kb()


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("osimertinb", "osimertinib"),
        ("osimeritnib", "osimertinib"),
        ("gefitnib", "gefitinib"),
        ("vemurafinib", "vemurafenib"),
        ("AZD9219", "AZD9291 (osimertinib)"),
    ],
)
def test_misspelt_drug_is_suggested(kb, typed, meant):
    with pytest.raises(UnknownDrugError) as exc:
        kb.resolve_drug(typed)
    assert f"did you mean {meant}" in str(exc.value)
    assert kb.suggest_drugs(typed)[0] == meant


def test_code_name_with_a_hyphen_or_space_resolves(kb):
    assert kb.resolve_drug("AZD-9291") == "osimertinib"
    assert kb.resolve_drug("azd 9291") == "osimertinib"
    assert kb.resolve_drug("gefitinib + AZD-9291") == "gefitinib + osimertinib"


def test_misspelt_member_of_a_combination_is_suggested(kb):
    with pytest.raises(UnknownDrugError, match="did you mean trametinib"):
        kb.resolve_drug("dabrafenib + trametnib")


def test_misspelt_gene_is_suggested(kb):
    with pytest.raises(UnknownGeneError) as exc:
        kb.resolve_gene("EGRF")
    assert "did you mean EGFR" in str(exc.value)
    assert kb.suggest_genes("ALKK") == ["ALK"]
    assert "TP53" in kb.suggest_genes("TP35", ["TP53", "TPM3"])


def test_disease_named_by_part_of_its_name_is_suggested(kb):
    with pytest.raises(UnknownDiseaseError) as exc:
        kb.resolve_disease("colorectal")
    assert "did you mean colorectal cancer (CRC)" in str(exc.value)
    assert kb.suggest_diseases("NSLC")[0].endswith("(NSCLC)")


def test_nothing_close_gives_no_suggestion(kb):
    with pytest.raises(UnknownDrugError) as exc:
        kb.resolve_drug("xyzzy")
    assert "did you mean" not in str(exc.value)
    assert suggest("", {"a": "a"}) == []
    assert did_you_mean([]) == ""
    assert did_you_mean(["a", "b", "c"]) == " (did you mean a, b or c?)"


def test_misspelt_key_in_a_knowledge_base_file_names_its_line_and_the_allowed_keys(tmp_path):
    import shutil
    from pathlib import Path

    from oncoresist.errors import KnowledgeBaseError

    root = tmp_path / "kb"
    shutil.copytree(Path(__file__).parents[1] / "interpret" / "kb_fixture", root)
    path = root / "genes" / "ALK.yaml"
    text = path.read_text()
    path.write_text(text.replace(" evidence:", " evidense:", 1))
    line = 1 + text[: text.index(" evidence:")].count("\n")
    with pytest.raises(KnowledgeBaseError) as exc:
        load_kb(root)
    error = exc.value
    assert error.file == "genes/ALK.yaml"
    assert error.record.endswith(f".evidense (line {line})")
    assert "unknown key 'evidense' (did you mean evidence?)" in error.message
    assert "the allowed keys are id, biomarker" in error.message and "except," in error.message


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("FCR", "cyclophosphamide + fludarabine + rituximab"),
        ("nivo-ipi", "ipilimumab + nivolumab"),
        ("Akeega", "abiraterone + niraparib"),
        ("phesgo", "pertuzumab + trastuzumab"),
    ],
)
def test_a_combination_resolves_by_its_own_name(name, key):
    assert load_kb().resolve_drug(name) == key
