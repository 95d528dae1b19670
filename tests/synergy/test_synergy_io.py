"""Readers of combination experiments: every layout, the scale, replicates, located errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oncoresist.errors import InputError
from oncoresist.synergy import TABLE_COLUMNS, read_combinations, score_blocks

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "synergy"
ONEIL = DATA / "oneil2016_excerpt_A2058_5FU_ABT888.csv"
MATHEWS = DATA / "synergyfinder_mpl" / "synergyfinder_mathews2014_TMD8_ibrutinib_viability.csv"
SF_ONEIL = DATA / "synergyfinder_mpl" / "synergyfinder_oneil2016_2blocks_inhibition.csv"
needs_data = pytest.mark.skipif(not ONEIL.exists(), reason="needs ../shared/data/synergy")

LONG_HEADER = "block_id,drug_row,drug_col,conc_r,conc_c,response,conc_r_unit,conc_c_unit\n"


def _grid_rows(block: str = "1", a: str = "A", b: str = "B", unit: str = "uM") -> list[str]:
    out = []
    for x in (0, 1, 2):
        for y in (0, 1, 2):
            resp = 100 * (1 - (1 - x / (x + 1)) * (1 - y / (y + 2)))
            out.append(f"{block},{a},{b},{x},{y},{resp:.4f},{unit},{unit}\n")
    return out


def _write(tmp_path: Path, text: str, name: str = "combo.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- layouts
def test_synergyfinder_long_table_detects_inhibition_from_untreated_wells(tmp_path):
    data = read_combinations(_write(tmp_path, LONG_HEADER + "".join(_grid_rows())))
    assert list(data.table.columns) == TABLE_COLUMNS
    assert data.response_was == "inhibition"
    assert any("inhibition" in n for n in data.notes)
    assert data.table["replicate"].eq(1).all()
    assert data.table["block_id"].eq("1").all()


def _with_response(rows: list[str], convert) -> list[str]:
    out = []
    for r in rows:
        parts = r.split(",")
        parts[5] = f"{convert(float(parts[5])):.6f}"
        out.append(",".join(parts))
    return out


def test_viability_in_percent_and_in_fractions_is_converted(tmp_path):
    rows = _grid_rows()
    vi = _with_response(rows, lambda inh: 100 - inh)
    frac = _with_response(rows, lambda inh: (100 - inh) / 100)
    ref = read_combinations(_write(tmp_path, LONG_HEADER + "".join(rows), "i.csv"))
    pct = read_combinations(_write(tmp_path, LONG_HEADER + "".join(vi), "v.csv"))
    fr = read_combinations(_write(tmp_path, LONG_HEADER + "".join(frac), "f.csv"))
    assert pct.response_was == "viability" and fr.response_was == "viability"
    np.testing.assert_allclose(pct.table["inhibition"], ref.table["inhibition"], atol=1e-3)
    np.testing.assert_allclose(fr.table["inhibition"], ref.table["inhibition"], atol=1e-3)


def test_explicit_response_overrides_detection(tmp_path):
    path = _write(tmp_path, LONG_HEADER + "".join(_grid_rows()))
    data = read_combinations(path, response="viability")
    assert data.response_was == "viability"
    assert data.table["inhibition"].iloc[0] == pytest.approx(100.0)


def test_ambiguous_generic_response_asks_for_the_scale(tmp_path):
    rows = [r.replace("1,A,B,0,0,0.0000", "1,A,B,0,0,50.0000") for r in _grid_rows()]
    with pytest.raises(InputError, match="pass response=") as err:
        read_combinations(_write(tmp_path, LONG_HEADER + "".join(rows)))
    assert err.value.field == "response"


def test_drug1_drug2_variant_with_replicate_column_and_tsv(tmp_path):
    text = "drug1\tdrug2\tconc1\tconc2\tconc_unit\treplicate\tinhibition\n"
    for rep in (1, 2):
        for x in (0, 1):
            for y in (0, 1):
                text += f"A\tB\t{x}\t{y}\tnM\t{rep}\t{10 * x + 5 * y + rep}\n"
    data = read_combinations(_write(tmp_path, text, "combo.tsv"))
    assert sorted(data.table["replicate"].unique()) == [1, 2]
    assert data.table["conc_r_unit"].eq("nM").all()
    assert len(data.table) == 8


def test_plain_matrix_needs_names_and_reads_rows_as_drug_row(tmp_path):
    text = "conc,0,1,2\n0,0,10,20\n1,30,40,50\n2,60,70,80\n"
    path = _write(tmp_path, text)
    with pytest.raises(InputError, match="drug names"):
        read_combinations(path)
    data = read_combinations(path, drug_row="dabrafenib", drug_col="trametinib",
                             unit_row="nM", response="inhibition")  # fmt: skip
    t = data.table
    assert t.loc[(t.conc_r == 1) & (t.conc_c == 2), "inhibition"].item() == 50
    assert set(t["drug_row"]) == {"dabrafenib"}
    assert set(t["conc_c_unit"]) == {"nM"}


def test_parquet_screen_table_with_many_blocks(tmp_path):
    pytest.importorskip("pyarrow")
    frames = []
    for b in range(3):
        rows = [r.split(",") for r in _grid_rows(block=f"b{b}", a=f"D{b}", b="X")]
        frames.append(pd.DataFrame([[c.strip() for c in r] for r in rows],
                                   columns=LONG_HEADER.strip().split(",")))  # fmt: skip
    path = tmp_path / "screen.parquet"
    pd.concat(frames).to_parquet(path)
    data = read_combinations(path)
    assert data.table["block_id"].nunique() == 3
    res = score_blocks(data, models=("bliss",))
    assert res.blocks["bliss"].abs().max() < 1e-3


def test_equally_repeated_wells_are_replicates(tmp_path):
    rows = _grid_rows()
    data = read_combinations(_write(tmp_path, LONG_HEADER + "".join(rows + rows)))
    assert sorted(data.table["replicate"].unique()) == [1, 2]
    assert any("replicates" in n for n in data.notes)


@needs_data
def test_synergyfinder_oneil_file_has_four_replicates_per_well():
    data = read_combinations(SF_ONEIL)
    counts = data.table.groupby(["block_id", "conc_r", "conc_c"]).size()
    assert counts.eq(4).all()
    assert data.response_was == "inhibition"


@needs_data
def test_mathews_viability_file_is_detected_as_viability():
    data = read_combinations(MATHEWS)
    assert data.response_was == "viability"
    first = data.table.iloc[0]
    assert first["inhibition"] == pytest.approx(100 - 7.802637)


@needs_data
def test_oneil_raw_excerpt_loads_and_scoring_names_the_missing_monotherapy():
    data = read_combinations(ONEIL)
    t = data.table
    assert len(t) == 40  # 10 wells x 4 replicate columns
    assert set(t["drug_row"]) == {"5-FU"} and set(t["drug_col"]) == {"ABT-888"}
    assert set(t["conc_r_unit"]) == {"uM"}
    assert t["inhibition"].iloc[0] == pytest.approx(100 * (1 - 0.971))
    assert data.response_was == "viability"
    with pytest.raises(InputError, match="no monotherapy") as err:
        score_blocks(data)
    assert err.value.file == str(ONEIL) and err.value.record == 2


# --------------------------------------------------------------------------- located errors
@pytest.mark.parametrize(
    ("edit", "line", "field", "words"),
    [
        (lambda rows: rows.__setitem__(4, rows[4].replace(",1,1,", ",1,x1,")), 6, "conc_c",
         "not a number"),
        (lambda rows: rows.__setitem__(3, rows[3].replace(",1,0,", ",-1,0,")), 5, "conc_r",
         "negative concentration"),
        (lambda rows: rows.__setitem__(2, rows[2].rsplit(",", 3)[0] + ",abc,uM,uM\n"), 4,
         "response", "not a number"),
        (lambda rows: rows.__setitem__(5, rows[5].replace(",uM,uM", ",nM,uM")), 7,
         "conc_r_unit", "one unit per drug"),
        (lambda rows: rows.append(rows[4]), 11, "conc_c", "appears more than once"),
        (lambda rows: rows.__setitem__(6, rows[6].replace("1,A,B", "1,A,C")), 8, "drug_col",
         "mixes drug pairs"),
    ],
)  # fmt: skip
def test_bad_cells_are_located(tmp_path, edit, line, field, words):
    rows = _grid_rows()
    edit(rows)
    with pytest.raises(InputError, match=words) as err:
        read_combinations(_write(tmp_path, LONG_HEADER + "".join(rows)))
    assert err.value.file == str(tmp_path / "combo.csv")
    assert err.value.record == line
    assert err.value.field == field


def test_block_with_one_drug_only_is_an_error(tmp_path):
    rows = [r for r in _grid_rows() if r.split(",")[4] == "0"]
    with pytest.raises(InputError, match="one drug only") as err:
        read_combinations(_write(tmp_path, LONG_HEADER + "".join(rows)))
    assert err.value.field == "conc_c" and err.value.record == 2


def test_same_drug_twice_is_an_error(tmp_path):
    rows = [r.replace("1,A,B", "1,A,A") for r in _grid_rows()]
    with pytest.raises(InputError, match="two different drugs") as err:
        read_combinations(_write(tmp_path, LONG_HEADER + "".join(rows)))
    assert err.value.record == 2


def test_missing_monotherapy_dose_is_located_at_scoring(tmp_path):
    rows = [r for r in _grid_rows() if not r.startswith("1,A,B,2,0,")]
    data = read_combinations(_write(tmp_path, LONG_HEADER + "".join(rows)))
    with pytest.raises(InputError, match="at conc_r = 2") as err:
        score_blocks(data)
    assert err.value.record == 2 and err.value.field == "conc_c"


def test_missing_file_and_unknown_layout(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_combinations(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="not a combination table"):
        read_combinations(_write(tmp_path, "a,b\n1,2\n"))


def test_duplicated_replicate_number_is_located(tmp_path):
    text = "drug1,drug2,conc1,conc2,conc_unit,replicate,inhibition\n"
    text += "A,B,0,0,uM,1,0\nA,B,1,0,uM,1,5\nA,B,0,1,uM,1,5\nA,B,1,1,uM,1,9\nA,B,1,1,uM,1,8\n"
    with pytest.raises(InputError, match="appears twice") as err:
        read_combinations(_write(tmp_path, text))
    assert err.value.record == 6 and err.value.field == "replicate"


def test_empty_and_na_responses_leave_their_wells_out(tmp_path):
    rows = _grid_rows()
    rows[4] = rows[4].rsplit(",", 3)[0] + ",NA,uM,uM\n"
    rows[8] = rows[8].rsplit(",", 3)[0] + ",,uM,uM\n"
    data = read_combinations(_write(tmp_path, LONG_HEADER + "".join(rows)))
    assert len(data.table) == 7
    assert any("2 wells without a response" in n for n in data.notes)
    assert data.line_of(4) == 7  # the lines still point into the file


def test_repeated_untreated_controls_and_uneven_replicates_are_replicates(tmp_path):
    rows = _grid_rows()
    controls = [rows[0]] * 3
    data = read_combinations(_write(tmp_path, LONG_HEADER + "".join(rows + controls)))
    t = data.table
    assert t[(t.conc_r == 0) & (t.conc_c == 0)]["replicate"].tolist() == [1, 2, 3, 4]
    uneven = rows + rows + rows[1:4]
    data = read_combinations(_write(tmp_path, LONG_HEADER + "".join(uneven), "u.csv"))
    assert data.table.groupby(["conc_r", "conc_c"]).size().max() == 3
    assert any("2 to 3 times" in n for n in data.notes)


def test_replicate_labels_may_be_words(tmp_path):
    text = "drug1,drug2,conc1,conc2,conc_unit,replicate,inhibition\n"
    for rep in ("plateB", "plateA"):
        for x in (0, 1):
            for y in (0, 1):
                text += f"A,B,{x},{y},uM,{rep},{10 * x + 5 * y}\n"
    data = read_combinations(_write(tmp_path, text))
    assert data.table["replicate"].tolist() == [2] * 4 + [1] * 4
