"""Closed-form checks of Bliss, HSA, Loewe, ZIP and the combination index.

The synthetic surfaces (``../shared/data/synergy``, CC0) have known truth: Bliss-null,
Loewe-null and a constant combination index of 0.5. Hand-built surfaces cover the rest.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncoresist.synergy import (
    CombinationData,
    fit_curves,
    inverse_ll4,
    loewe_reference,
    most_synergistic_area,
    read_combinations,
    score_blocks,
)

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "synergy"
BLISS_NULL = DATA / "synthetic_bliss_null_6x6.csv"
LOEWE_NULL = DATA / "synthetic_loewe_null_6x6.csv"
CI05 = DATA / "synthetic_ci0.5_6x6_3rep.csv"
needs_data = pytest.mark.skipif(not BLISS_NULL.exists(), reason="needs ../shared/data/synergy")

CONC1 = np.array([0, 0.05, 0.158114, 0.5, 1.581139, 5])
CONC2 = np.array([0, 0.2, 0.632456, 2, 6.324555, 20])
MODELS = ("bliss", "hsa", "loewe", "zip")


def _table(surface: np.ndarray, conc_r=CONC1, conc_c=CONC2, block="1") -> pd.DataFrame:
    a, b = np.meshgrid(conc_r, conc_c, indexing="ij")
    return pd.DataFrame({"block_id": block, "drug_row": "A", "drug_col": "B",
                         "conc_r": a.ravel(), "conc_c": b.ravel(), "conc_r_unit": "uM",
                         "conc_c_unit": "uM", "replicate": 1,
                         "inhibition": surface.ravel()})  # fmt: skip


def _loewe_surface(ci: float = 1.0) -> np.ndarray:
    a, b = np.meshgrid(CONC1, CONC2, indexing="ij")
    r = a / 1.0 + b / 4.0
    both = (a > 0) & (b > 0)
    r = np.where(both, r / ci, r)
    return 100 * r / (1 + r)


def _combo(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[(frame.conc_r > 0) & (frame.conc_c > 0)]


# --------------------------------------------------------------------------- shared surfaces
@needs_data
def test_bliss_null_scores_zero_under_bliss_and_zip_and_positive_under_hsa():
    res = score_blocks(read_combinations(BLISS_NULL), models=(*MODELS, "ci"))
    cells = _combo(res.cells)
    assert cells["bliss"].abs().max() < 2e-6  # the file rounds to 1e-6
    assert cells["zip"].abs().max() < 1e-4
    assert (cells["hsa"] > 0).all()
    assert res.blocks["hsa"].item() == pytest.approx(7.3768116, abs=1e-5)


@needs_data
def test_loewe_null_scores_zero_under_loewe_and_ci_is_one():
    res = score_blocks(read_combinations(LOEWE_NULL), models=(*MODELS, "ci"))
    cells = _combo(res.cells)
    assert cells["loewe"].abs().max() < 1e-5
    np.testing.assert_allclose(cells["ci"], 1.0, atol=1e-6)
    # README: the Loewe-null surface is antagonistic by Bliss, mean -3.189 points
    assert res.blocks["bliss"].item() == pytest.approx(-3.189, abs=5e-4)


@needs_data
def test_ci05_noise_free_column_gives_positive_loewe_and_ci_one_half():
    raw = pd.read_csv(CI05)
    one = raw[raw["replicate"] == 1]
    t = pd.DataFrame({"block_id": "1", "drug_row": "drugA", "drug_col": "drugB",
                      "conc_r": one["conc1"], "conc_c": one["conc2"], "conc_r_unit": "uM",
                      "conc_c_unit": "uM", "replicate": 1,
                      "inhibition": one["inhibition_pct_noise_free"]})  # fmt: skip
    res = score_blocks(CombinationData(table=t), models=(*MODELS, "ci"))
    cells = _combo(res.cells)
    np.testing.assert_allclose(cells["ci"], 0.5, atol=1e-5)
    assert (cells["loewe"] > 0).all()
    # exact Loewe reference on CI = 0.5: r_ref = r / 2 -> reference 100 r/2 / (1 + r/2)
    a, b = cells["conc_r"].to_numpy(), cells["conc_c"].to_numpy()
    r = a + b / 4
    np.testing.assert_allclose(cells["loewe_ref"], 100 * r / (1 + r), atol=1e-4)


@needs_data
def test_ci05_noisy_replicates_recover_the_combination_index():
    res = score_blocks(read_combinations(CI05), models=(*MODELS, "ci"))
    assert res.blocks["ci"].item() == pytest.approx(0.5, abs=0.08)
    assert res.blocks["loewe"].item() > 5
    assert res.blocks["loewe_p"].item() < 0.01


# --------------------------------------------------------------------------- hand-built
def test_antagonistic_block_is_negative_under_every_model():
    res = score_blocks(CombinationData(table=_table(_loewe_surface(ci=3.0))),
                       models=(*MODELS, "ci"))  # fmt: skip
    row = res.blocks.iloc[0]
    for m in MODELS:
        assert row[m] < -5, m
    assert row["ci"] == pytest.approx(3.0, rel=1e-4)
    assert row["ci"] > 1  # CI > 1 is antagonism


def test_bliss_and_hsa_by_hand():
    surf = np.array([[0.0, 20.0, 40.0], [30.0, 60.0, 50.0], [50.0, 70.0, 80.0]])
    res = score_blocks(CombinationData(table=_table(surf, CONC1[:3], CONC2[:3])),
                       models=("bliss", "hsa"))  # fmt: skip
    c = res.cells.set_index(["conc_r", "conc_c"])
    cell = c.loc[(CONC1[1], CONC2[2])]
    assert cell["bliss_ref"] == pytest.approx(30 + 40 - 30 * 40 / 100)
    assert cell["bliss"] == pytest.approx(50 - 58)
    assert cell["hsa"] == pytest.approx(50 - 40)
    assert c.loc[(CONC1[2], 0.0), "bliss"] == 0.0  # monotherapies score 0
    assert res.blocks["bliss"].item() == pytest.approx(np.mean([60 - 44, 50 - 58, 70 - 60,
                                                                80 - 70]))  # fmt: skip


def test_loewe_root_solves_the_isobole_equation_in_every_cell():
    rng = np.random.default_rng(2)
    n = 50
    fits = []
    for ic50, hill, emax in ((1.0, 1.3, 90.0), (3.0, 0.7, 60.0)):
        y = ll4_grid(CONC1 if ic50 == 1.0 else CONC2, ic50, hill, emax, n, rng)
        fits.append(fit_curves(np.tile(CONC1 if ic50 == 1.0 else CONC2, (n, 1)), y))
    surf = np.zeros((n, 6, 6))
    ref = loewe_reference(surf, np.tile(CONC1, (n, 1)), np.tile(CONC2, (n, 1)), *fits)
    x1 = CONC1[None, 1:, None]
    x2 = CONC2[None, None, 1:]
    p = [tuple(np.asarray(v)[:, None, None] for v in (f.min, f.max, f.ic50, f.hill))
         for f in fits]  # fmt: skip
    r = ref[:, 1:, 1:]
    total = x1 / inverse_ll4(r, *p[0]) + x2 / inverse_ll4(r, *p[1])
    np.testing.assert_allclose(total, 1.0, atol=1e-8)


def ll4_grid(dose, ic50, hill, emax, n, rng):
    return (emax * dose**hill / (dose**hill + ic50**hill))[None, :] + rng.normal(0, 0.5, (n, 6))


def test_loewe_beyond_the_weaker_drugs_maximum_uses_the_stronger_drug_alone():
    # drug B tops out at 30 %; where the combination is expected above 30 %, B's term is 0
    # and the reference is the effect of A's dose x1 alone on A's curve, scaled by nothing
    a, b = np.meshgrid(CONC1, CONC2, indexing="ij")
    ya = 100 * a / (a + 0.5)
    yb = 30 * b / (b + 2)
    surf = np.maximum(ya, yb)
    res = score_blocks(CombinationData(table=_table(surf)), models=("loewe",))
    fit_a = res.fits[res.fits.role == "row"].iloc[0]
    cells = _combo(res.cells)
    high = cells["loewe_ref"] > 30.5
    assert high.any()
    x1 = cells.loc[high, "conc_r"].to_numpy()
    ref = cells.loc[high, "loewe_ref"].to_numpy()
    x_a = inverse_ll4(ref, fit_a["min"], fit_a["max"], fit_a["ic50"], fit_a["hill"])
    np.testing.assert_allclose(x1 / x_a, 1.0, atol=1e-6)


def test_most_synergistic_area_is_the_best_3x3_window():
    score = np.zeros((1, 6, 6))
    score[0, 3:6, 2:5] = 9.0
    value, (i, j, h, w) = most_synergistic_area(score)
    assert value[0] == pytest.approx(9.0)
    assert (i[0], j[0], h, w) == (2, 1, 3, 3)


def test_blocks_are_scored_independently_of_their_neighbours():
    one = _table(_loewe_surface(0.6), block="x")
    two = pd.concat([_table(_loewe_surface(2.0), block="y"), one], ignore_index=True)
    alone = score_blocks(CombinationData(table=one)).blocks.set_index("block_id")
    both = score_blocks(CombinationData(table=two)).blocks.set_index("block_id")
    cols = ["bliss", "hsa", "loewe", "zip", "ic50_row", "css"]
    pd.testing.assert_frame_equal(alone.loc[["x"], cols], both.loc[["x"], cols])
    assert list(both.index) == ["y", "x"]


def test_progress_reports_every_chunk():
    frames = [_table(_loewe_surface(0.5), block=str(k)) for k in range(5)]
    seen = []
    score_blocks(CombinationData(table=pd.concat(frames, ignore_index=True)),
                 progress=lambda done, total: seen.append((done, total)),
                 chunk_blocks=2)  # fmt: skip
    assert seen == [(2, 5), (4, 5), (5, 5)]


def test_result_serialises_to_json_with_nulls():
    import json

    res = score_blocks(CombinationData(table=_table(_loewe_surface(0.5))))
    doc = json.loads(res.to_json())
    assert set(doc) == {"blocks", "cells", "fits", "notes"}
    assert doc["blocks"][0]["loewe"] == pytest.approx(res.blocks["loewe"].item())
    assert doc["cells"][0]["zip_fit"] is not None and len(doc["cells"]) == 36
    assert doc["blocks"][0]["ic50_row_lo"] == pytest.approx(res.blocks["ic50_row_lo"].item())
    a, _ = np.meshgrid(CONC1, CONC2, indexing="ij")
    inactive = CombinationData(table=_table(100 * a / (a + 0.5)))
    inactive_b = score_blocks(inactive)
    fits = json.loads(inactive_b.to_json())["fits"]
    assert fits[1]["status"] == "flat" and fits[1]["ic50"] is None
    # an inactive partner: SynergyFinder's summed-dose rule (the default) calls it
    # antagonism; loewe_flat="constant" scores it 0
    assert inactive_b.blocks["loewe"].item() < -20
    constant = score_blocks(inactive, models=("loewe",), loewe_flat="constant")
    assert constant.blocks["loewe"].item() == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("n", [2, 3, 4, 8])
def test_grids_of_other_sizes_in_one_screen(n):
    c1 = np.r_[0, np.geomspace(0.05, 5, n - 1)]
    c2 = np.r_[0, np.geomspace(0.2, 20, n - 1)]
    a, b = np.meshgrid(c1, c2, indexing="ij")
    r = a / 1.0 + b / 4.0
    small = _table(100 * r / (1 + r), c1, c2, block="small")
    big = _table(_loewe_surface(0.5), block="big")
    res = score_blocks(CombinationData(table=pd.concat([small, big], ignore_index=True)),
                       n_boot=20)  # fmt: skip
    blocks = res.blocks.set_index("block_id")
    assert list(blocks.index) == ["small", "big"]
    assert blocks.loc["small", "n_cells"] == (n - 1) ** 2
    assert blocks.loc["small", "bliss"] == pytest.approx(
        res.cells[(res.cells.block_id == "small") & (res.cells.conc_r > 0)
                  & (res.cells.conc_c > 0)]["bliss"].mean())  # fmt: skip
    if n >= 4:
        assert blocks.loc["small", "loewe"] == pytest.approx(0.0, abs=1e-5)
    assert blocks.loc["big", "loewe"] > 5


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    ic1=st.floats(0.08, 3.0), h1=st.floats(0.5, 3.0), e1=st.floats(40.0, 100.0),
    ic2=st.floats(0.3, 12.0), h2=st.floats(0.5, 3.0), e2=st.floats(40.0, 100.0),
)  # fmt: skip
def test_any_bliss_independent_pair_scores_zero_under_bliss_and_zip(ic1, h1, e1, ic2, h2, e2):
    a, b = np.meshgrid(CONC1, CONC2, indexing="ij")
    with np.errstate(divide="ignore"):
        ya = e1 * a**h1 / (a**h1 + ic1**h1)
        yb = e2 * b**h2 / (b**h2 + ic2**h2)
    surf = ya + yb - ya * yb / 100
    res = score_blocks(CombinationData(table=_table(surf)), models=("bliss", "zip", "hsa"))
    cells = _combo(res.cells)
    assert cells["bliss"].abs().max() < 1e-9
    assert cells["zip"].abs().max() < 0.05
    assert (cells["hsa"] >= -1e-9).all()


# --------------------------------------------------------------------------- ZIP line fits
def test_zip_lines_fall_with_their_data_and_a_jump_after_a_fall_stays_at_baseline():
    from oncoresist.synergy._models import _fit_lines

    x = np.tile(CONC2, (3, 1))
    lx = np.log(CONC2[1:])
    falling = np.r_[60, 60 - 40 / (1 + np.exp(-2 * (lx - np.log(2))))]
    jump = np.r_[40, 10, 5, 8, 6, 90]  # falls, then jumps at the highest dose
    rising = np.r_[10, 10 + 80 / (1 + np.exp(-2 * (lx - np.log(2))))]
    y = np.array([falling, jump, rising])
    w = np.ones_like(y)
    sf = _fit_lines(x, y, w, "synergyfinder")
    up = _fit_lines(x, y, w, "rising")
    # a falling line is fitted as it falls (rising-only fits collapse to its mean)
    np.testing.assert_allclose(sf[0], falling, atol=1e-4)
    assert np.ptp(up[0]) < 1e-9
    # the jump after a fall stays at its baseline; rising-only fits the jump
    np.testing.assert_allclose(sf[1], 40.0)
    assert up[1, -1] == pytest.approx(90, abs=1e-3)
    # a rising line is the same in both
    np.testing.assert_allclose(sf[2], up[2], atol=1e-9)
    np.testing.assert_allclose(sf[2], rising, atol=1e-4)
