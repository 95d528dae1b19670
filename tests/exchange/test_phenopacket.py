"""GA4GH Phenopacket v2: a case in, the interpretation out, valid against the schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import phenopackets as pp
import pytest
from google.protobuf import json_format
from typer.testing import CliRunner

from oncoresist.cli.exchange import app
from oncoresist.errors import InputError
from oncoresist.exchange import (
    kb_version,
    parse_phenopacket,
    phenopacket_json,
    read_phenopacket,
    to_phenopacket,
    validate_phenopacket,
)
from oncoresist.interpret import interpret, read_case
from oncoresist.kb import load_kb
from oncoresist.variants import read_vcf

DATA = Path(__file__).parent / "data"
PACKET = DATA / "luad_progression.phenopacket.json"
EXAMPLE_VCF = Path(
    str(resources.files("oncoresist") / "examples/egfr_nsclc_osimertinib_progression.vcf")
)
CREATED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def _strict(text: str) -> pp.Phenopacket:
    """The schema check the issue asks for: protobuf parsing that ignores nothing."""
    return json_format.Parse(text, pp.Phenopacket(), ignore_unknown_fields=False)


def _round_trip(path: Path = PACKET) -> tuple[object, object, str]:
    case = read_phenopacket(path)
    result = interpret(case.alterations, disease=case.case.disease)
    packet = to_phenopacket(result, source=case, created=CREATED)
    return case, result, phenopacket_json(packet)


def test_import_reads_disease_variants_and_samples():
    case = read_phenopacket(PACKET)
    assert case.case.disease == "LUAD"  # NCIT:C3512, known by its label
    assert [(a.label, a.sample) for a in case.alterations] == [
        ("EGFR L858R", "PSEUDO-7F3A-B1"),  # hgvs.p with a RefSeq accession
        ("EGFR T790M", "PSEUDO-7F3A-B2"),  # hgvs.g at a knowledge-base coordinate
        ("MET amplification", "PSEUDO-7F3A-B2"),  # SO copy_number_gain + gene context
    ]
    assert case.case.alterations == ["EGFR L858R", "EGFR T790M", "MET amplification"]
    assert case.subject_id == "PSEUDO-7F3A"
    assert any("genomicInterpretations[3]: rejected" in n for n in case.notes)  # KRAS


def test_round_trip_validates_against_the_schema():
    _, _, text = _round_trip()
    packet = _strict(text)  # unknown fields would raise
    assert validate_phenopacket(packet) == []
    assert validate_phenopacket(text) == []
    doc = json.loads(text)
    meta = doc["metaData"]
    assert meta["created"] == "2026-12-01T09:30:00Z"
    assert meta["createdBy"].startswith("oncoresist ")
    assert meta["phenopacketSchemaVersion"] == "2.0"
    prefixes = {r["namespacePrefix"] for r in meta["resources"]}
    assert {"NCIT", "HGNC", "SO", "UBERON", "oncoresist"} <= prefixes
    ours = next(r for r in meta["resources"] if r["id"] == "oncoresist")
    assert ours["version"] == kb_version(load_kb())
    for resource in meta["resources"]:
        assert all(resource.get(k) for k in ("id", "name", "url", "version", "namespacePrefix",
                                             "iriPrefix"))  # fmt: skip
    # the submitter's content is kept, the interpretation added
    assert doc["id"] == "illustrative-luad-1" and doc["subject"]["id"] == "PSEUDO-7F3A"
    assert [b["id"] for b in doc["biosamples"]] == ["PSEUDO-7F3A-B1", "PSEUDO-7F3A-B2"]
    assert [i["id"] for i in doc["interpretations"]] == ["submitter-interpretation-1",
                                                          "oncoresist-1"]  # fmt: skip
    ours = doc["interpretations"][1]
    assert ours["diagnosis"]["disease"] == {"id": "NCIT:C3512", "label": "Lung Adenocarcinoma"}
    calls = ours["diagnosis"]["genomicInterpretations"]
    assert [c["subjectOrBiosampleId"] for c in calls] == [
        "PSEUDO-7F3A-B1", "PSEUDO-7F3A-B2", "PSEUDO-7F3A-B2",
    ]  # fmt: skip
    t790m = calls[1]["variantInterpretation"]
    assert t790m["therapeuticActionability"] == "ACTIONABLE"
    assert t790m["variationDescriptor"]["id"] == "var-t790m"  # the submitter's descriptor
    extensions = {e["name"]: e["value"] for e in t790m["variationDescriptor"]["extensions"]}
    assert "gefitinib" in extensions["oncoresist_resistant_drugs"].split(", ")
    assert "on_target" in extensions["oncoresist_mechanism"].split(", ")


def test_verdicts_become_medical_actions():
    _, result, text = _round_trip()
    actions = json.loads(text)["medicalActions"]
    by_drug = {}
    for action in actions:
        term = (
            action.get("treatment", {}).get("agent")
            or action["therapeuticRegimen"]["ontologyClass"]
        )
        by_drug[term["label"]] = action
    gefitinib = by_drug["gefitinib"]
    assert gefitinib["responseToTreatment"]["id"] == "oncoresist:verdict/resistant"
    assert gefitinib["responseToTreatment"]["label"].startswith("predicted resistant")
    assert gefitinib["treatmentTarget"]["id"] == "NCIT:C3512"
    combo = next(v for v in result.drugs if len(v.members) > 1 and v.verdict != "no_known_effect")
    assert "therapeuticRegimen" in by_drug[combo.drug]
    shown = {v.drug for v in result.drugs if v.verdict != "no_known_effect"}
    assert set(by_drug) == shown


def test_exported_packet_reads_back_as_the_same_case(tmp_path: Path):
    case, _, text = _round_trip()
    out = tmp_path / "out.json"
    out.write_text(text)
    again = read_phenopacket(out)
    assert again.case.disease == case.case.disease
    assert [(a.label, a.sample) for a in again.alterations] == [
        (a.label, a.sample) for a in case.alterations
    ] * 2  # the submitter's interpretation and ours name the same variants


def test_export_without_a_source_from_a_vcf():
    alterations = [*read_vcf(EXAMPLE_VCF), "MET amplification"]
    result = interpret(alterations, disease="LUAD")
    parsed = [a for a in alterations if not isinstance(a, str)]
    packet = to_phenopacket(result, alterations=parsed, subject_id="PSEUDO-1", created=CREATED)
    assert validate_phenopacket(packet) == []
    doc = json.loads(phenopacket_json(packet))
    assert doc["diseases"] == [{"term": {"id": "ONCOTREE:LUAD", "label": "lung adenocarcinoma"}}]
    descriptors = {
        c["variantInterpretation"]["variationDescriptor"]["label"]: c["variantInterpretation"][
            "variationDescriptor"
        ]
        for c in doc["interpretations"][0]["diagnosis"]["genomicInterpretations"]
    }
    t790m = descriptors["EGFR T790M"]
    assert t790m["expressions"] == [{"syntax": "hgvs.p", "value": "p.Thr790Met"}]
    assert t790m["vcfRecord"]["pos"] == "55249071"
    assert t790m["geneContext"]["symbol"] == "EGFR"
    assert descriptors["MET amplification"]["structuralType"]["id"] == "SO:0001742"


def test_variant_file_sample_names_do_not_leave():
    alterations = list(read_vcf(EXAMPLE_VCF))
    assert {a.sample for a in alterations} == {"TUMOR_ILLUSTRATIVE"}
    result = interpret(alterations, disease="LUAD")
    text = phenopacket_json(to_phenopacket(result, alterations=alterations, subject_id="PSEUDO-1"))
    assert "TUMOR_ILLUSTRATIVE" not in text
    with pytest.raises(InputError, match="pseudonym"):
        to_phenopacket(result, alterations=alterations)


def test_validation_finds_missing_required_fields():
    _, _, text = _round_trip()
    doc = json.loads(text)
    del doc["metaData"]["created"]
    doc["metaData"]["resources"] = [r for r in doc["metaData"]["resources"] if r["id"] != "so"]
    doc["metaData"]["resources"][0]["version"] = ""
    doc["id"] = ""
    problems = validate_phenopacket(json.dumps(doc))
    assert "metaData.created: required" in problems
    assert "id: required" in problems
    assert "metaData.resources: no resource for the prefix 'SO'" in problems
    assert "metaData.resources[0].version: required" in problems
    doc = json.loads(text)
    calls = doc["interpretations"][1]["diagnosis"]["genomicInterpretations"]
    calls[0]["subjectOrBiosampleId"] = "B-UNKNOWN"
    assert validate_phenopacket(json.dumps(doc)) == [
        "interpretations[1].diagnosis.genomicInterpretations[0].subjectOrBiosampleId: "
        "'B-UNKNOWN' is neither the subject nor a biosample"
    ]
    doc = json.loads(text)
    doc["subject"]["name"] = "not a v2 field"
    [problem] = validate_phenopacket(json.dumps(doc))
    assert "no field named" in problem and "name" in problem


def test_unknown_fields_and_bad_json_are_located(tmp_path: Path):
    doc = json.loads(PACKET.read_text())
    doc["interpretations"][0]["diagnosis"]["genomicInterpretations"][0]["variant"] = {}
    with pytest.raises(InputError, match="no field named") as info:
        parse_phenopacket(json.dumps(doc), file="x.json")
    assert info.value.file == "x.json" and "GenomicInterpretation" in str(info.value)
    with pytest.raises(InputError) as info:
        parse_phenopacket('{\n "id": "a",\n}', file="y.json")
    assert info.value.record == 3


def test_variant_that_cannot_be_read_is_located(tmp_path: Path):
    doc = json.loads(PACKET.read_text())
    calls = doc["interpretations"][0]["diagnosis"]["genomicInterpretations"]
    calls[1]["variantInterpretation"]["variationDescriptor"]["expressions"] = [
        {"syntax": "hgvs.p", "value": "p.Xyz1Abc"}
    ]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError) as info:
        read_phenopacket(path)
    assert info.value.record == "interpretations[0].diagnosis.genomicInterpretations[1]"
    assert info.value.field == "variantInterpretation.variationDescriptor"


def test_disease_unknown_to_the_knowledge_base(tmp_path: Path):
    doc = json.loads(PACKET.read_text())
    term = {"id": "NCIT:C0000", "label": "no such tumour"}
    doc["diseases"][0]["term"] = term
    doc["interpretations"][0]["diagnosis"]["disease"] = term
    path = tmp_path / "d.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="no disease the knowledge base knows") as info:
        read_phenopacket(path)
    assert info.value.field == "diseases"
    assert read_phenopacket(path, disease="NSCLC").case.disease == "NSCLC"


def test_cli_phenopacket_in_and_out(tmp_path: Path):
    runner = CliRunner()
    case_yaml = tmp_path / "case.yaml"
    done = runner.invoke(app, ["phenopacket-in", str(PACKET), "--format", "case",
                               "--out", str(case_yaml)])  # fmt: skip
    assert done.exit_code == 0, done.output
    case = read_case(case_yaml)
    assert (case.disease, case.alterations) == (
        "LUAD", ["EGFR L858R", "EGFR T790M", "MET amplification"]
    )  # fmt: skip
    done = runner.invoke(app, ["phenopacket-in", str(PACKET)])
    assert done.exit_code == 0 and "\tgefitinib\tresistant\t" in done.output
    out = tmp_path / "out.json"
    done = runner.invoke(app, ["phenopacket-out", "--phenopacket", str(PACKET), "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert validate_phenopacket(_strict(out.read_text())) == []
    out2 = tmp_path / "from_case.json"
    done = runner.invoke(app, ["phenopacket-out", str(case_yaml), "-o", str(out2)])
    assert done.exit_code == 2 and "--subject" in done.output and not out2.exists()
    done = runner.invoke(app, ["phenopacket-out", str(case_yaml), "--subject", "PSEUDO-2",
                               "-o", str(out2)])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert _strict(out2.read_text()).subject.id == "PSEUDO-2"


def test_cli_bad_phenopacket_exits_2_and_writes_nothing(tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "x", "subjekt": {}}')
    out = tmp_path / "out.json"
    done = CliRunner().invoke(app, ["phenopacket-out", "--phenopacket", str(bad), "-o", str(out)])
    assert done.exit_code == 2
    assert "bad.json" in done.output and "subjekt" in done.output
    assert "Traceback" not in done.output and not out.exists()
