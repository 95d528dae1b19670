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


def test_a_compound_assertion_names_the_change_it_needs() -> None:
    """53BP1 loss defeats PARP inhibitors only beside BRCA1 loss: the line must say so, and a
    gene's own assertions come before those it shares with another change."""
    from oncoresist.kb import gene_knowledge, load_kb

    known = gene_knowledge(load_kb(), ["TP53BP1", "BRCA1", "PARP1"], drug="olaparib")["known"]
    assert known["TP53BP1"].startswith("resistant (with BRCA1 loss): ")
    assert "(with " not in known["PARP1"]  # a single-gene assertion names no partner
    parts = known["BRCA1"].split("; ")
    compound = [i for i, p in enumerate(parts) if "(with TP53BP1 loss)" in p]
    alone = [i for i, p in enumerate(parts) if p.startswith("sensitive: ")]
    assert compound and alone and max(alone) < min(compound)
