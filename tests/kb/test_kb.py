import shutil
from functools import partial
from pathlib import Path

import pytest

from oncoresist.errors import KnowledgeBaseError, UnknownDrugError, UnknownGeneError
from oncoresist.interpret import compile_rules
from oncoresist.kb import load_kb, stats, to_frame, to_records, validate
from oncoresist.kb._schema import COORDINATE_PATTERN
from oncoresist.variants import biomarker_key

FIXTURE = Path(__file__).parents[1] / "interpret" / "kb_fixture"

REQUIRED_GENES = (
    "EGFR",
    "ALK",
    "ROS1",
    "BRAF",
    "KRAS",
    "NRAS",
    "MAP2K1",
    "ABL1",
    "KIT",
    "PDGFRA",
    "ERBB2",
    "ESR1",
    "RET",
    "NTRK1",
    "NTRK2",
    "NTRK3",
    "FGFR2",
    "FGFR3",
    "MET",
    "PIK3CA",
    "PTEN",
    "AR",
    "BTK",
    "PLCG2",
    "FLT3",
    "IDH1",
    "IDH2",
    "SMO",
    "B2M",
    "JAK1",
    "JAK2",
    "STK11",
    "KEAP1",
)
REQUIRED_DRUGS = (
    "osimertinib",
    "lorlatinib",
    "sotorasib",
    "adagrasib",
    "selpercatinib",
    "pralsetinib",
    "asciminib",
    "ripretinib",
    "avapritinib",
    "elacestrant",
    "repotrectinib",
    "pirtobrutinib",
)


@pytest.fixture(scope="module")
def kb():
    return load_kb()


def test_shipped_kb_is_consistent(kb):
    assert validate(kb, biomarker_key=partial(biomarker_key, kb=kb)) == []
    rules = compile_rules(kb)
    assert sum(len(v) for v in rules.single.values()) + len(rules.compound) == len(kb.assertions)


def test_coverage(kb):
    s = stats(kb)
    assert s["assertions"] >= 300
    assert s["drugs"] >= 45
    assert s["genes"] >= 25
    for gene in REQUIRED_GENES:
        assert gene in kb.genes, gene
        assert s["by_gene"].get(gene, 0) > 0, gene
    for drug in REQUIRED_DRUGS:
        assert drug in kb.drugs, drug
    assert set(s["by_effect"]) == {"resistant", "reduced_response", "sensitive"}
    for mechanism in ("on_target", "bypass", "downstream", "phenotypic", "microenvironment"):
        assert s["by_mechanism"].get(mechanism, 0) > 0, mechanism


def test_every_assertion_is_cited_with_evidence(kb):
    for sa in kb.assertions:
        assert sa.assertion.evidence in "ABCDE"
        assert sa.assertion.references
        assert sa.assertion.summary


def test_non_genetic_mechanisms_present(kb):
    texts = {b for sa in kb.assertions for b in sa.assertion.members}
    for needed in ("transformation:SCLC", "transformation:squamous", "TMB-high", "MSI-high"):
        assert needed in texts, needed
    assert "AXL" in kb.genes and "HGF" in kb.genes


def test_names_resolve(kb):
    assert kb.resolve_gene("HER2") == "ERBB2"
    assert kb.resolve_drug("AZD9291") == "osimertinib"
    assert kb.resolve_drug("Tagrisso") == "osimertinib"
    assert kb.resolve_drug("osimertinib+gefitinib") == "gefitinib + osimertinib"
    for name in ("NSCLC", "LUAD", "lung adenocarcinoma", "non-small cell lung cancer"):
        assert kb.resolve_disease(name) in ("NSCLC", "LUAD")
    assert kb.resolve_disease("COADREAD") == "CRC"
    with pytest.raises(UnknownGeneError):
        kb.resolve_gene("NOTAGENE")
    with pytest.raises(UnknownDrugError):
        kb.resolve_drug("aspirinib")


def test_class_expansion_with_exception(kb):
    members = kb.expand_drugs(["class:egfr_tki_1g"], ["icotinib"])
    assert members == {"gefitinib", "erlotinib"}
    combos = kb.expand_drugs(["class:egfr_tki_1g + osimertinib"])
    assert "gefitinib + osimertinib" in combos and "erlotinib + osimertinib" in combos


def test_coordinates_are_consistent(kb):
    by_entry: dict[tuple[str, str], dict[str, tuple]] = {}
    for build, table in kb.coordinates.items():
        for (chrom, pos, ref, alt), (gene, change) in table.items():
            g = kb.genes[gene]
            if g.chromosome:
                assert chrom == g.chromosome, (gene, change, chrom)
            by_entry.setdefault((gene, change, ref, alt), {})[build] = (chrom, pos)
    assert kb.coordinates["GRCh37"][("7", 55249071, "C", "T")] == ("EGFR", "T790M")
    assert kb.coordinates["GRCh38"][("7", 55181378, "C", "T")] == ("EGFR", "T790M")
    # Within one gene the GRCh37 -> GRCh38 shift is the same for every coordinate.
    shifts: dict[str, set[int]] = {}
    for (gene, *_), builds in by_entry.items():
        if len(builds) == 2:
            shifts.setdefault(gene, set()).add(builds["GRCh37"][1] - builds["GRCh38"][1])
    for gene, values in shifts.items():
        assert len(values) == 1, (gene, values)


def test_export(kb):
    frame = to_frame(kb)
    assert len(frame) == len(kb.assertions)
    assert {"biomarker", "drugs", "expanded_drugs", "evidence", "references"} <= set(frame)
    assert all(isinstance(r["expanded_drugs"], list) for r in to_records(kb))


# ------------------------------------------------------------- malformed files
def _copy_fixture(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    shutil.copytree(FIXTURE, root)
    return root


def test_missing_reference_names_file_and_entry(tmp_path):
    root = _copy_fixture(tmp_path)
    path = root / "genes" / "BRAF.yaml"
    path.write_text(path.read_text().replace("references: [PMID:22281684], ", ""))
    with pytest.raises(KnowledgeBaseError) as info:
        load_kb(root)
    text = str(info.value)
    assert "genes/BRAF.yaml" in text and "assertions[1]" in text and "references" in text


def test_bad_reference_format(tmp_path):
    root = _copy_fixture(tmp_path)
    path = root / "genes" / "BRAF.yaml"
    path.write_text(path.read_text().replace("PMID:22281684", "Smith et al 2012"))
    with pytest.raises(KnowledgeBaseError, match="neither PMID"):
        load_kb(root)


def test_unknown_key_and_bad_level(tmp_path):
    root = _copy_fixture(tmp_path)
    path = root / "genes" / "MET.yaml"
    path.write_text(path.read_text().replace("evidence: B", "evidence: Z", 1))
    with pytest.raises(KnowledgeBaseError, match=r"genes/MET\.yaml"):
        load_kb(root)
    path.write_text(path.read_text().replace("evidence: Z", "evidense: B", 1))
    with pytest.raises(KnowledgeBaseError, match=r"MET.yaml assertions\[0\]"):
        load_kb(root)


def test_invalid_yaml_gives_line(tmp_path):
    root = _copy_fixture(tmp_path)
    (root / "genes" / "BROKEN.yaml").write_text("assertions:\n  - {id: x\n")
    with pytest.raises(KnowledgeBaseError, match=r"BROKEN\.yaml line"):
        load_kb(root)


def test_validate_finds_contradiction_and_unknown_names(tmp_path):
    root = _copy_fixture(tmp_path)
    (root / "genes" / "EXTRA.yaml").write_text(
        "assertions:\n"
        "  - {id: x1, biomarker: EGFR L858R, drugs: [alpha], effect: resistant,"
        " mechanism: on_target, disease: NSCLC, evidence: E, references: [PMID:123456],"
        " summary: contradicts f-l858r}\n"
        "  - {id: x2, biomarker: EGFR L858R, drugs: [zeta], effect: sensitive,"
        " disease: NSCLC, evidence: E, references: [PMID:123456], summary: unknown drug}\n"
        "  - {id: x4, biomarker: EGFR L858R, drugs: [alpha], preferred: [gamma],"
        " effect: sensitive, disease: LUAD, evidence: E, references: [PMID:123456],"
        " summary: preferred outside drugs}\n"
        "  - {id: x3, biomarker: EGFR Q99Z9, drugs: [alpha], effect: sensitive,"
        " disease: mars, evidence: E, references: [PMID:123456], summary: bad}\n"
    )
    kb = load_kb(root)
    problems = validate(kb, biomarker_key=partial(biomarker_key, kb=kb))
    text = "\n".join(problems)
    assert (
        "x1 (resistant) contradicts" in text or "contradicts genes/EXTRA.yaml assertion x1" in text
    )
    assert "unknown drug 'zeta'" in text
    assert "disease 'mars'" in text
    assert "Q99Z9" in text
    assert "x4: preferred drugs ['gamma'] are not in its drugs" in text


def test_fixture_validates_clean():
    kb = load_kb(FIXTURE)
    assert validate(kb, biomarker_key=partial(biomarker_key, kb=kb)) == []


def test_coordinate_pattern():
    assert COORDINATE_PATTERN.match("7:55249071:C>T")
    assert COORDINATE_PATTERN.match("chrX:100:A>G")
    assert not COORDINATE_PATTERN.match("7-55249071-C-T")


def test_coordinate_alleles_must_agree_across_builds(tmp_path):
    root = _copy_fixture(tmp_path)
    path = root / "genes" / "EGFR.yaml"
    path.write_text(
        path.read_text().replace('GRCh38: "7:55181378:C>T"', 'GRCh38: "7:55181378:C>A"')
    )
    with pytest.raises(KnowledgeBaseError, match="same chromosome and alleles"):
        load_kb(root)


def test_coordinate_on_wrong_chromosome_is_reported(tmp_path):
    root = _copy_fixture(tmp_path)
    path = root / "genes" / "EGFR.yaml"
    name = "    name: epidermal growth factor receptor\n"
    text = path.read_text().replace(name, name + "    chromosome: '12'\n")
    path.write_text(text)
    kb = load_kb(root)
    problems = validate(kb)
    assert any("T790M GRCh37 is on chromosome 7; EGFR is on 12" in p for p in problems)
