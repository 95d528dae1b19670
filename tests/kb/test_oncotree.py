"""The bundled OncoTree table and disease resolution through its parent chain."""

from __future__ import annotations

from pathlib import Path

import pytest

from oncoresist.errors import KnowledgeBaseError, UnknownDiseaseError
from oncoresist.kb import load_kb
from oncoresist.kb._identifiers import DISEASE_COLUMNS, DRUG_COLUMNS, GENE_COLUMNS, load_identifiers
from oncoresist.kb._oncotree import (
    kb_codes,
    load_oncotree,
    resolve_disease,
    resolve_disease_id,
)

FIXTURE = Path(__file__).parents[1] / "interpret" / "kb_fixture"


@pytest.fixture(scope="module")
def tree():
    return load_oncotree()


@pytest.fixture
def kb():
    return load_kb(FIXTURE)


@pytest.fixture
def ids(tmp_path):
    """Tables for the fixture: current codes for its two retired ones, and LUNG for 'lung'."""
    d = tmp_path / "ids"
    d.mkdir()
    (d / "genes.tsv").write_text("\t".join(GENE_COLUMNS) + "\n")
    (d / "drugs.tsv").write_text("\t".join(DRUG_COLUMNS) + "\n")
    rows = ["MTC\tTHME\t", "CML\tCML\t", "lung\tLUNG\t", "haem\tHEMATOPOIETIC\t"]
    (d / "diseases.tsv").write_text("\t".join(DISEASE_COLUMNS) + "\n" + "\n".join(rows) + "\n")
    return load_identifiers(d)


# ------------------------------------------------------------------------ the table
def test_bundled_release_is_whole_and_consistent(tree):
    assert tree.version == "oncotree_2026_05_21"
    assert len(tree.nodes) > 1000
    root = tree.nodes["TISSUE"]
    assert root.parent is None and root.level == 0
    for node in tree.nodes.values():
        lineage = tree.lineage(node.code)
        assert lineage[-1] == "TISSUE", node.code  # every type reaches the root
        assert node.level == len(lineage) - 1, node.code
        if node.parent:
            assert tree.nodes[node.parent].level == node.level - 1


def test_known_codes_names_and_parents(tree):
    assert tree.nodes["LUAD"].name == "Lung Adenocarcinoma"
    assert tree.lineage("LUAD") == ["LUAD", "NSCLC", "LUNG", "TISSUE"]
    assert tree.nodes["PAAD"].tissue == "Pancreas"
    assert tree.nodes["PAAD"].main_type == "Pancreatic Cancer"
    assert tree.lineage("CML")[:2] == ["CML", "MPN"]


def test_lookup_by_code_or_name_any_case(tree):
    assert tree.lookup("paad").code == "PAAD"
    assert tree.lookup("  pancreatic   adenocarcinoma ").code == "PAAD"


def test_a_name_shared_by_several_types_asks_for_the_code(tree):
    with pytest.raises(UnknownDiseaseError, match=r"BMT .*OMT .*VMT"):
        tree.lookup("Mature Teratoma")


def test_unknown_text_suggests_close_codes_and_names(tree):
    with pytest.raises(UnknownDiseaseError, match="did you mean PAAD"):
        tree.lookup("PAADX")
    with pytest.raises(UnknownDiseaseError, match="Lung Adenocarcinoma"):
        tree.lookup("lung adenocarcnoma")


def test_malformed_table_names_file_and_line(tmp_path):
    path = tmp_path / "oncotree.tsv"
    path.write_text("# release x\ncode\tname\tmain_type\ttissue\tparent\tlevel\nA\tA\tM\tT\tB\t1\n")
    with pytest.raises(KnowledgeBaseError, match="parent 'B' of A is not a code"):
        load_oncotree(path)
    path.write_text("code\tname\n")
    with pytest.raises(KnowledgeBaseError, match=r"oncotree\.tsv line 1"):
        load_oncotree(path)
    path.write_text("code\tname\tmain_type\ttissue\tparent\tlevel\nA\tA\tM\tT\t\tone\n")
    with pytest.raises(KnowledgeBaseError, match="level 'one' is not an integer"):
        load_oncotree(path)


# ------------------------------------------------------------------------ resolution
def test_knowledge_base_names_resolve_as_before(kb, ids):
    r = resolve_disease(kb, "LUAD", ids=ids)
    assert (r.disease, r.exact, r.oncotree) == ("LUAD", True, "LUAD")
    assert resolve_disease(kb, "non-small cell lung cancer", ids=ids).disease == "NSCLC"


def test_kb_id_that_spells_another_oncotree_type_is_not_called_that_type(tree):
    kb = load_kb()
    # 'MF' is myelofibrosis in the knowledge base and myofibroma in OncoTree.
    assert tree.nodes["MF"].name == "Myofibroma"
    r = resolve_disease(kb, "MF")
    assert (r.disease, r.oncotree, r.exact) == ("MF", None, True)
    assert resolve_disease(kb, "PMF").oncotree == "PMF"


def test_oncotree_code_walks_to_nearest_kb_disease(kb, ids):
    # Clear cell carcinoma of the lung > large cell lung carcinoma > NSCLC.
    r = resolve_disease(kb, "CCLC", ids=ids)
    assert r.disease == "NSCLC"
    assert (r.oncotree, r.via, r.path, r.exact) == (
        "CCLC",
        "NSCLC",
        ("CCLC", "LCLC", "NSCLC"),
        False,
    )
    assert "nearest knowledge-base context" in r.describe(kb)
    assert "NSCLC (non-small cell lung cancer)" in r.describe(kb)


def test_oncotree_name_resolves_like_its_code(kb, ids):
    assert resolve_disease(kb, "Lung Adenosquamous Carcinoma", ids=ids).disease == "NSCLC"
    assert resolve_disease(kb, "LUAS", ids=ids).disease == "NSCLC"


def test_type_without_kb_disease_on_its_path_falls_back_to_pan_tumour_root(kb, ids):
    r = resolve_disease(kb, "Undifferentiated Carcinoma of the Pancreas", ids=ids)
    assert r.disease == "solid" and r.via is None
    assert r.path == ("UCP", "PANCREAS", "TISSUE")
    assert "pan-tumour context solid" in r.describe(kb)


def test_haematopoietic_type_falls_back_to_haem(kb):
    # Without a code for 'haem' in any table the root is chosen by OncoTree tissue.
    r = resolve_disease(kb, "MYELOID", ids=None)
    assert r.disease == "haem"


def test_table_codes_take_part_in_the_walk(kb, ids):
    # THME (medullary thyroid cancer) is MTC only through the diseases table.
    assert resolve_disease(kb, "THME", ids=ids).disease == "MTC"
    # A lung type with no NSCLC/SCLC ancestor reaches 'lung' through the LUNG code.
    assert resolve_disease(kb, "PPB", ids=ids).disease == "lung"


def test_unknown_disease_is_a_clear_error(kb, ids):
    with pytest.raises(
        UnknownDiseaseError, match="neither a knowledge-base disease nor an OncoTree"
    ):
        resolve_disease(kb, "no such cancer", ids=ids)


def test_kb_codes_merge_yaml_and_table(kb, ids):
    codes = kb_codes(kb, ids)
    assert codes["LUAD"] == "LUAD"  # diseases.yaml
    assert codes["THME"] == "MTC"  # identifiers/diseases.tsv


def test_every_oncotree_type_resolves_in_the_shipped_kb():
    """Acceptance (issue 18): every OncoTree disease is resolvable by code and by name."""
    kb = load_kb()
    tree = load_oncotree()
    names = {}
    for node in tree.nodes.values():
        names.setdefault(node.name.lower(), []).append(node.code)
    for code, node in tree.nodes.items():
        disease = resolve_disease_id(kb, code)
        assert disease in kb.diseases, code
        if len(names[node.name.lower()]) == 1:
            assert resolve_disease(kb, node.name).disease in kb.diseases, node.name


def test_shipped_examples():
    kb = load_kb()
    assert resolve_disease(kb, "PAAD").disease == "pancreatic"
    assert resolve_disease(kb, "Pancreatic Adenocarcinoma").disease == "pancreatic"
    assert resolve_disease(kb, "GB").disease == "glioma"
    assert resolve_disease(kb, "DLBCLCS").disease == "DLBCL"
    assert resolve_disease(kb, "UCP").disease == "solid"
