"""kb.gene_knowledge: what the knowledge base says about a screen's genes."""

from oncoresist.kb import gene_knowledge, load_kb


def test_known_genes_with_and_without_the_screen_drug():
    kb = load_kb()
    table = gene_knowledge(kb, ["NF1", "MED12", "EGFR", "not-a-gene"], drug="vemurafenib")
    assert list(table.index) == ["NF1", "EGFR"]  # MED12 is not in the knowledge base
    nf1 = table.loc["NF1"]
    assert nf1["for_drug"] and nf1["known"].startswith("resistant: BRAF V600")
    assert "more assertion" in nf1["known"] and "bypass" in nf1["known"]
    assert not table.loc["EGFR", "for_drug"]
    # without a drug every assertion is listed
    everything = gene_knowledge(kb, ["NF1"]).loc["NF1"]
    assert everything["known"].count(";") + 1 == everything["assertions"]
