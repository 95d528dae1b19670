"""Compare the knowledge base's verdicts with the open CGI biomarker table (CC0, 2017).

Skipped when ``../shared/data/cgi/`` is absent. Each CGI row (one alteration, one drug, a
tumour type) is put to :func:`oncoresist.interpret.interpret` with the drug's target as the
primary driver, and the verdicts are compared: CGI "resistant" agrees with our resistant or
reduced_response, CGI "sensitive" with our sensitive; no_known_effect is "not covered".
Agreement is reported per CGI evidence level. Guideline-level disagreements must be listed,
with the newer evidence that overrides them, in ``cgi_reviewed.tsv`` beside this file.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from oncoresist.errors import InputError
from oncoresist.interpret import interpret
from oncoresist.kb import load_kb
from oncoresist.variants import parse_change

CGI = Path(__file__).resolve().parents[3] / "shared" / "data" / "cgi"
TABLE = CGI / "cgi_resistance_assertions_2017.tsv"
REVIEWED = Path(__file__).with_name("cgi_reviewed.tsv")

TUMOUR = {
    "CML": "CML", "CM": "melanoma", "COREAD": "CRC", "LUAD": "LUAD", "L": "lung",
    "NSCLC": "NSCLC", "GIST": "GIST", "BRCA": "breast", "AML": "AML", "PRAD": "prostate",
    "BCC": "BCC", "CLL": "CLL", "BLCA": "bladder", "ALL": "ALL", "SM": "SM", "MTC": "MTC",
    "THCA": "thyroid", "ST": "gastric", "PAAD": "pancreatic", "CHOL": "CHOL", "G": "glioma",
}  # fmt: skip
CLASSES = {
    "EGFR inhibitor 1st gen": "egfr_tki_1g", "EGFR inhibitor 2nd gen": "egfr_tki_2g",
    "EGFR inhibitor 3rd gen": "egfr_tki_3g", "EGFR mAb inhibitor": "egfr_antibody",
    "BRAF inhibitor": "braf_inhibitor", "MEK inhibitor": "mek_inhibitor",
    "ALK inhibitor": "alk_tki", "BCR-ABL inhibitor 1st gen": "bcr_abl_tki_1g",
    "BCR-ABL inhibitor 2nd gen": "bcr_abl_tki_2g", "BCR-ABL inhibitor 3rd gen": "bcr_abl_tki_3g",
}  # fmt: skip
ALTERATION_WORD = {
    "any_oncogenic_mutation": "mutation", "biallelic_inactivation": "loss", "deletion": "loss",
    "internal_tandem_duplication": "ITD",
}  # fmt: skip
GUIDELINE = ("FDA guidelines", "NCCN guidelines", "NCCN/CAP guidelines",
             "European LeukemiaNet guidelines")  # fmt: skip

pytestmark = pytest.mark.skipif(not TABLE.exists(), reason="../shared/data/cgi is absent")


def _drugs(kb, cell: str) -> list[str]:
    out = []
    for option in cell.split("|"):
        option = option.strip()
        if option.startswith("CLASS:"):
            cid = CLASSES.get(option[6:])
            if cid and cid in kb.classes:
                out.extend(sorted(kb.class_members(cid)))
            continue
        try:
            out.append(kb.resolve_drug(option))
        except InputError:
            continue
    return out


def _alteration(kb, row: dict):
    if row["alteration_type"].startswith("compound") or row["alteration_type"] == "wildtype":
        return None
    gene = row["gene"]
    if not kb.is_gene(gene):
        return None
    text = ALTERATION_WORD.get(row["alteration_type"], row["alteration"])
    if row["alteration_type"] == "expression":
        text = "overexpression"
    try:
        return parse_change(text, gene=kb.resolve_gene(gene), kb=kb)
    except InputError:
        return None


def _driver(kb, drug: str, gene: str) -> list[str]:
    targets = {t for m in kb.members_of(drug) for t in kb.drugs[m].targets if t in kb.genes}
    return sorted(targets) or [gene]


def compare():
    kb = load_kb()
    results = []
    with TABLE.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            alt = _alteration(kb, row)
            if alt is None:
                continue
            tumours = [TUMOUR[t] for t in row["tumor_type"].split(";") if t in TUMOUR]
            disease = tumours[0] if tumours else None
            for drug in _drugs(kb, row["drugs"]):
                r = interpret(
                    [alt], drugs=[drug], disease=disease, driver=_driver(kb, drug, alt.gene), kb=kb
                )
                ours = r.drugs[0].verdict
                if ours == "no_known_effect":
                    outcome = "not covered"
                elif (row["verdict"] == "resistant") == (ours != "sensitive"):
                    outcome = "agree"
                else:
                    outcome = "disagree"
                results.append((row, alt.label, drug, disease, ours, outcome))
    return results


def _reviewed() -> set[tuple[str, str]]:
    with REVIEWED.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t")]
    for r in rows:
        assert r["newer_evidence"].strip(), r
    return {(r["alteration"], r["drug"]) for r in rows}


def test_agreement_with_cgi_by_evidence_level():
    results = compare()
    by_level: dict[str, Counter] = defaultdict(Counter)
    for row, *_, outcome in results:
        by_level[row["evidence_level"]][outcome] += 1
    lines = ["CGI level | agree | disagree | not covered | agreement of covered"]
    for level, c in sorted(by_level.items()):
        covered = c["agree"] + c["disagree"]
        rate = c["agree"] / covered if covered else float("nan")
        lines.append(f"{level} | {c['agree']} | {c['disagree']} | {c['not covered']} | {rate:.2f}")
    print("\n".join(lines))
    reviewed = _reviewed()
    undocumented = [
        (alt, drug, row["verdict"], ours, row["evidence_level"])
        for row, alt, drug, _, ours, outcome in results
        if outcome == "disagree" and row["evidence_level"] in GUIDELINE
        and (alt, drug) not in reviewed
    ]  # fmt: skip
    assert not undocumented, undocumented
    guideline = Counter()
    for level in GUIDELINE:
        guideline.update(by_level.get(level, Counter()))
    covered = guideline["agree"] + guideline["disagree"]
    assert covered >= 100
    assert guideline["agree"] / covered >= 0.9
