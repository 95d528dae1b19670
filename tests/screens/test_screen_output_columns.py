"""What the gene table says and how it reads: a calibrated score beside normZ, one arm of a
multi-drug sheet, the replicate-balance note."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from oncoresist.errors import InputError
from oncoresist.screens import analyze
from oncoresist.screens._simulate import simulate_screen


def test_calibrated_z_sits_beside_normz_and_reads_as_a_z_score():
    """``z_calibrated`` is the signed normal quantile of the smaller exact p-value: on a null
    screen it is standard normal (KS at 1 %), where normZ need not be; its sign is normZ's."""
    counts, sheet, _ = simulate_screen(hits=0, rng=8)
    genes = analyze(counts, sheet).genes
    cols = genes.columns.tolist()
    assert cols[cols.index("normZ") + 1] == "z_calibrated"
    z = genes["z_calibrated"].to_numpy()
    assert stats.kstest(z, "norm").pvalue > 0.01
    p = np.minimum(genes["pval_supp"], genes["pval_synth"]).to_numpy()
    tail = p < 0.4
    assert np.abs(z[tail]) == pytest.approx(stats.norm.isf(p[tail]), rel=1e-9)
    big = np.abs(genes["normZ"]) > 1
    assert (np.sign(z[big]) == np.sign(genes["normZ"][big])).all()


def test_calibrated_z_of_planted_hits_matches_their_fdr():
    counts, sheet, truth = simulate_screen(hits=20, rng=9)
    genes = analyze(counts, sheet).genes.join(truth)
    called = genes["fdr_supp"] < 0.05
    assert (genes.loc[called, "z_calibrated"] > 3).all()
    assert (genes.loc[genes["drug_effect"] > 0, "z_calibrated"] > 0).mean() > 0.9


def test_one_arm_of_a_two_drug_sheet():
    """Two drug arms sharing vehicle and T0: each arm is analysed alone; the other arm's
    samples take no part (its planted hits are not called), and no arm is an error."""
    a, sheet, truth_a = simulate_screen(genes=600, hits=15, rng=12)
    b, _, _ = simulate_screen(genes=600, hits=15, rng=13)
    counts = a.copy()
    for r in (1, 2):  # a second drug: screen b's drug arm on screen a's library
        counts[f"drugB_{r}"] = b[f"drug_{r}"].to_numpy()
    arm_b = sheet[sheet["condition"] == "drug"].assign(
        sample=lambda d: d["sample"].str.replace("drug", "drugB")
    )
    full = pd.concat([sheet.assign(arm=np.where(sheet["condition"] == "drug", "A", "")),
                      arm_b.assign(arm="B")], ignore_index=True)  # fmt: skip
    res = analyze(counts, full, arm="A")
    hits_a = set(truth_a.index[truth_a["drug_effect"] > 0])
    called = set(res.genes.index[res.genes["fdr_supp"] < 0.05])
    assert len(called & hits_a) >= 12 and res.params["arm"] == "A"
    only_a = analyze(a, sheet).genes
    assert res.genes["normZ"].to_numpy() == pytest.approx(
        only_a.reindex(res.genes.index)["normZ"].to_numpy()
    )
    with pytest.raises(InputError, match="2 drug arms"):
        analyze(counts, full)


def test_replicate_balance_is_noted_in_the_parameters():
    counts, sheet, _ = simulate_screen(genes=400, hits=0, rng=2)
    assert analyze(counts, sheet).params["balance"] == []
    counts["drug_2"] = np.random.default_rng(0).binomial(counts["drug_2"].to_numpy(), 0.3)
    (note,) = analyze(counts, sheet).params["balance"]
    assert note.startswith("drug_1 vs drug_2 (drug day 14): depth ratio 3.")


def test_guide_table_has_fdrs_beside_its_p_values():
    counts, sheet, truth = simulate_screen(genes=400, hits=10, rng=6)
    sg = analyze(counts, sheet).sgrnas
    cols = sg.columns.tolist()
    assert cols[cols.index("p_low") + 1 :] == ["fdr_high", "fdr_low"]
    assert (sg["fdr_high"] >= sg["p_high"]).all() and (sg["fdr_low"] <= 1).all()
    hits = sg["gene"].isin(truth.index[truth["drug_effect"] > 0])
    assert (sg.loc[sg["fdr_high"] < 0.05, "gene"].isin(truth.index[truth["drug_effect"] > 0])
            .mean() > 0.9)  # fmt: skip
    assert hits[sg["fdr_high"] < 0.05].sum() > 10


def test_time_course_of_one_arm_in_a_two_arm_sheet():
    """Two arms, each at two days, with a vehicle at both days: one arm's slope."""
    a, sheet, truth = simulate_screen(genes=400, hits=10, rng=14)
    rows, counts = [], a[["gene", "T0"]].copy()
    for day, scale in ((7.0, 0.5), (14.0, 1.0)):
        for arm, src in (("", "vehicle"), ("X", "drug"), ("Y", "vehicle")):
            for r in (1, 2):
                name = f"{src}{arm}_{r}_d{day:g}"
                thin = np.random.default_rng(r).binomial(a[f"{src}_{r}"].to_numpy(), scale)
                counts[name] = thin if scale < 1 else a[f"{src}_{r}"].to_numpy()
                cond = "vehicle" if arm == "" else "drug"
                rows.append((name, cond, str(r), day, np.nan, arm))
    sheet2 = pd.concat([sheet[sheet["condition"] == "T0"].assign(arm=""),
                        pd.DataFrame(rows, columns=[*sheet.columns.tolist(), "arm"])],
                       ignore_index=True)  # fmt: skip
    res = analyze(counts, sheet2, arm="X")
    assert "slope over days 7, 14" in res.contrast
    called = set(res.genes.index[res.genes["fdr_supp"] < 0.05])
    assert len(called & set(truth.index[truth["drug_effect"] > 0])) >= 7
    null_arm = analyze(counts, sheet2, arm="Y").genes
    assert (null_arm["fdr_supp"] < 0.05).sum() + (null_arm["fdr_synth"] < 0.05).sum() <= 1
