from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from oncoresist.errors import InputError
from oncoresist.singlecell import (
    load_hallmark,
    load_progeny,
    load_resistance,
    read_gmt,
    resistance_programmes,
)
from oncoresist.singlecell._genesets import data_dir, programme_network

SHARED = Path(__file__).parents[3] / "shared/data/singlecell/genesets"
KB = Path(__file__).parents[2] / "src/oncoresist/kb/data/genes"
PATHWAYS = {"Androgen", "EGFR", "Estrogen", "Hypoxia", "JAK-STAT", "MAPK", "NFkB", "p53", "PI3K",
            "TGFb", "TNFa", "Trail", "VEGF", "WNT"}  # fmt: skip


@pytest.mark.parametrize("top", [10, 100, 500])
def test_progeny_top_k_per_pathway(top: int):
    model = load_progeny(top=top)
    assert set(model["source"]) == PATHWAYS
    assert (model.groupby("source").size() == top).all()
    assert list(model.columns) == ["source", "target", "weight", "p_value"]


@pytest.mark.skipif(not SHARED.exists(), reason="shared gene sets absent")
def test_progeny_top10_matches_the_reference_selection():
    reference = pd.read_csv(SHARED / "progeny/progeny_human_top10_long.csv")
    ours = load_progeny(top=10)
    left = set(zip(ours["source"], ours["target"], ours["weight"].round(8), strict=True))
    right = set(zip(reference["pathway"], reference["gene"], reference["weight"].round(8),
                    strict=True))  # fmt: skip
    assert left == right


def test_progeny_bad_arguments():
    with pytest.raises(InputError, match="field top"):
        load_progeny(top=501)
    with pytest.raises(InputError, match="organism"):
        load_progeny(organism="mouse")  # type: ignore[arg-type]


def test_hallmark_all_sets():
    table = load_hallmark()
    assert table["source"].nunique() == 50
    emt = set(table.loc[table["source"] == "EPITHELIAL_MESENCHYMAL_TRANSITION", "target"])
    assert {"VIM", "FN1", "SNAI2"} <= emt
    assert set(load_hallmark(["HALLMARK_HYPOXIA", "G2M_CHECKPOINT"])["source"]) == {
        "HYPOXIA", "G2M_CHECKPOINT"}  # fmt: skip
    with pytest.raises(InputError, match="unknown Hallmark set"):
        load_hallmark(["NOT_A_SET"])


def test_licences_and_citations_ship_with_the_data():
    root = data_dir()
    assert "Apache License" in (root / "progeny" / "LICENSE").read_text(encoding="utf-8")
    notice = (root / "progeny" / "NOTICE").read_text(encoding="utf-8")
    assert "Schubert" in notice and "Apache" in notice
    attribution = (root / "hallmark" / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in attribution and "Liberzon" in attribution
    sizes = [p.stat().st_size for p in Path(str(root)).rglob("*") if p.is_file()]
    assert sum(sizes) < 400_000  # package data kept small


def _kb_biomarkers() -> set[str]:
    names = set()
    for path in KB.glob("*.yaml"):
        found = re.findall(r"^\s*- biomarker: (.+)$", path.read_text(encoding="utf-8"), re.M)
        for biomarker in found:
            biomarker = biomarker.strip().strip("'\"")
            names.add(biomarker)
            names.add(f"{path.stem} {biomarker}")
    return names


def test_resistance_programmes_are_cited_and_linked():
    programmes = resistance_programmes()
    assert {"emt_axl", "neuroendocrine", "persister", "mitf_low_axl_high",
            "stress_dissociation"} <= set(programmes)  # fmt: skip
    known = _kb_biomarkers()
    for name, entry in programmes.items():
        assert entry["references"], name
        assert all(re.fullmatch(r"(PMID:\d+|DOI:10\.\S+)", r) for r in entry["references"])
        assert len(entry["genes_up"]) >= 5 and entry["species"] == "human"
        assert not set(entry["genes_up"]) & set(entry["genes_down"]), name
        for biomarker in entry["kb_biomarkers"]:
            assert biomarker in known, (name, biomarker)
    assert "caveat" in programmes["stress_dissociation"]
    table = load_resistance(["emt_axl"])
    assert set(table["weight"]) == {1.0, -1.0}
    assert table.loc[table["target"] == "CDH1", "weight"].item() == -1.0


def test_read_gmt_and_errors(tmp_path: Path):
    path = tmp_path / "sets.gmt"
    path.write_text("SET_A\tdesc\tEGFR\tAXL\tEGFR\nSET_B\tdesc\tVIM\n", encoding="utf-8")
    table = read_gmt(path, strip_prefix="SET_")
    assert list(table["source"]) == ["A", "A", "B"]
    assert list(table["target"]) == ["EGFR", "AXL", "VIM"]
    path.write_text("SET_A\tdesc\tEGFR\nBROKEN\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"sets\.gmt line 2: 1 tab-separated fields"):
        read_gmt(path)


def test_programme_network_forms():
    net, source = programme_network({"up": ["A", "B"], "signed": {"A": 2.0, "C": -1.0}})
    assert source == "custom" and len(net) == 4
    assert net.loc[(net["source"] == "signed") & (net["target"] == "C"), "weight"].item() == -1
    net, _ = programme_network(["emt_axl", "HALLMARK_HYPOXIA", "EGFR"])
    assert set(net["source"]) == {"emt_axl", "HYPOXIA", "EGFR"}
    net, source = programme_network(pd.DataFrame({"source": ["x"], "target": ["A"]}))
    assert source == "custom" and net["weight"].tolist() == [1.0]
    with pytest.raises(InputError, match="unknown programme 'nope'"):
        programme_network(["nope"])
    with pytest.raises(InputError, match="lacks target"):
        programme_network(pd.DataFrame({"source": ["x"]}))
