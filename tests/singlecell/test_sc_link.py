"""Programme shifts under a drug and their link to the knowledge base's mechanisms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oncoresist.errors import InputError
from oncoresist.singlecell._celldata import CellData
from oncoresist.singlecell._link import link_programmes, programme_shifts

PROGRAMMES = ["emt_axl", "neuroendocrine", "persister", "stress_dissociation"]


def _cells(rise: dict[str, float], *, seed: int, n_patients: int = 6, n_cells: int = 150):
    """Programme scores of cells from patients before and on drug; ``rise`` planted shifts
    (programme -> shift in SD units) in the first half of the patients."""
    rng = np.random.default_rng(seed)
    rows, scores = [], []
    for p in range(n_patients):
        offset = rng.normal(0, 0.5, len(PROGRAMMES))  # patient effect
        for condition in ("pre", "osimertinib"):
            block = rng.normal(0, 1, (n_cells, len(PROGRAMMES))) + offset
            if condition == "osimertinib" and p < n_patients // 2:
                for name, shift in rise.items():
                    block[:, PROGRAMMES.index(name)] += shift
            scores.append(block)
            rows += [{"patient": f"P{p}", "condition": condition}] * n_cells
    obs = pd.DataFrame(rows, index=[f"c{i}" for i in range(len(rows))])
    table = pd.DataFrame(np.vstack(scores), index=obs.index, columns=PROGRAMMES)
    cells = CellData(np.zeros((len(obs), 1)), obs)
    cells.obsm["oncoresist_resistance"] = table
    return cells


def _shifts(cells):
    return programme_shifts(cells, condition="condition", treated="osimertinib", control="pre",
                            sample="patient")  # fmt: skip


def test_emt_rising_on_osimertinib_reports_the_emt_and_axl_mechanisms_and_egfr_drugs():
    cells = _cells({"emt_axl": 1.0}, seed=0)
    shifts = _shifts(cells)
    risen = shifts[shifts["rises"] & (shifts["sample"] != "(paired)")]
    assert set(risen["sample"]) == {"P0", "P1", "P2"}
    assert set(risen["programme"]) == {"emt_axl"}
    link = link_programmes(shifts, drug="osimertinib", disease="NSCLC", adata=cells)
    assert cells.uns["oncoresist_link"]["table"] is link
    applies = link[link["applies_to_drug"]]
    assert set(applies["sample"]) == {"P0", "P1", "P2"}
    assert {"EMT", "AXL overexpression"} <= set(applies["biomarker"])
    emt = applies[applies["biomarker"] == "EMT"].iloc[0]
    assert emt["mechanism"] == "phenotypic" and emt["drug"] == "osimertinib"
    affected = emt["drugs_affected"].split("; ")
    assert {"osimertinib", "erlotinib", "gefitinib", "afatinib"} <= set(affected)
    assert "PMID:21430269" in emt["references"]
    # assertions for other drugs on the same biomarker come after, flagged
    assert not link["applies_to_drug"].iloc[len(applies) :].any()


def test_erlotinib_brand_name_resolves_and_melanoma_filter_drops_nsclc_assertions():
    shifts = _shifts(_cells({"emt_axl": 1.0}, seed=1))
    link = link_programmes(shifts, drug="Tarceva")
    assert link["drug"].iloc[0] == "erlotinib"
    assert "AXL-001" in set(link.loc[link["applies_to_drug"], "assertion"])
    melanoma = link_programmes(shifts, drug="erlotinib", disease="melanoma")
    assert set(melanoma["disease"]) <= {"melanoma", "any"}
    assert not melanoma["applies_to_drug"].any()


def test_null_reports_nothing_and_cell_level_pvalues_are_calibrated():
    link = link_programmes(_shifts(_cells({}, seed=2)), drug="osimertinib")
    assert link.empty and list(link.columns)[:3] == ["sample", "programme", "drug"]
    pvalues = np.concatenate([
        _shifts(_cells({}, seed=s)).query("sample != '(paired)'")["pvalue"].to_numpy()
        for s in range(10, 30)
    ])  # fmt: skip
    # 480 null tests: the fraction under 0.05 within binomial 99.9% bounds of 5%
    assert 0.015 <= (pvalues < 0.05).mean() <= 0.09
    assert 0.4 <= np.median(pvalues) <= 0.6


def test_paired_rows_test_the_per_patient_shifts():
    shifts = _shifts(_cells({"neuroendocrine": 1.0}, seed=3, n_patients=6))
    paired = shifts[shifts["sample"] == "(paired)"].set_index("programme")
    assert paired.loc["neuroendocrine", "n_treated"] == 6
    assert paired.loc["neuroendocrine", "shift"] == pytest.approx(0.5, abs=0.15)


def test_unknown_drug_and_missing_columns_are_located_errors():
    cells = _cells({}, seed=4, n_patients=2, n_cells=5)
    with pytest.raises(InputError, match="obs/arm"):
        programme_shifts(cells, condition="arm", treated="x", control="pre", sample="patient")
    with pytest.raises(InputError, match=r"obs/condition.*'drug'.*osimertinib, pre"):
        programme_shifts(cells, condition="condition", treated="drug", control="pre",
                         sample="patient")  # fmt: skip
    with pytest.raises(InputError, match="obsm/scores"):
        programme_shifts(cells, scores="scores", condition="condition", treated="osimertinib",
                         control="pre", sample="patient")  # fmt: skip
    with pytest.raises(InputError, match=r"field drug.*unknown drug"):
        link_programmes(_shifts(cells), drug="notadrug")
