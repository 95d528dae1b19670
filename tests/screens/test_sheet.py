"""Sample sheets: parsing, synonyms, checks against the count table."""

import math

import pandas as pd
import pytest

from oncoresist.errors import InputError
from oncoresist.screens import check_sheet, read_sample_sheet, sheet_from_samples


def write(tmp_path, text, name="sheet.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_sheet_reads_synonyms_days_and_numbers_replicates(tmp_path):
    sheet = read_sample_sheet(write(tmp_path, (
        "sample,condition,day,doublings\nplasmid,pDNA,,\nd1,DMSO,14,10\nd2,DMSO,14,10\n"
        "p1,treated,14,7\np2,treated,14,7\n")))  # fmt: skip
    assert sheet["condition"].tolist() == ["T0", "vehicle", "vehicle", "drug", "drug"]
    assert sheet["replicate"].tolist() == ["1", "1", "2", "1", "2"]
    assert sheet.loc[0, "day"] == 0 and sheet.loc[3, "doublings"] == 7


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("sample,condition\na,drug\na,vehicle\n", 3, "sample", "listed twice"),
        ("sample,condition\na,chemo\n", 2, "condition", "expected T0"),
        ("sample,condition,day\na,drug,two\n", 2, "day", "number >= 0"),
        ("sample,condition,day\na,T0,3\n", 2, "day", "T0 is day 0"),
        ("sample,condition,doublings\na,drug,0\n", 2, "doublings", "> 0"),
        ("sample,arm\na,drug\n", None, "condition", "no 'condition' column"),
    ],
)
def test_sheet_errors_name_line_and_field(tmp_path, text, line, field, words):
    with pytest.raises(InputError) as err:
        read_sample_sheet(write(tmp_path, text))
    assert err.value.record == line and err.value.field == field and words in str(err.value)


def test_check_sheet_both_ways(tmp_path):
    counts = pd.DataFrame({"gene": ["A"], "a": [1], "b": [2], "c": [3]})
    sheet = read_sample_sheet(write(tmp_path, "sample,condition\na,drug\nb,vehicle\n"))
    with pytest.raises(InputError, match="c missing from the sample sheet"):
        check_sheet(sheet, counts)
    sheet = read_sample_sheet(write(tmp_path, "sample,condition\na,drug\nb,vehicle\nx,T0\n"))
    with pytest.raises(InputError, match="'x' is not a column") as err:
        check_sheet(sheet, counts)
    assert err.value.record == 4
    ok = read_sample_sheet(write(tmp_path, "sample,condition\na,drug\nb,vehicle\nc,unused\n"))
    check_sheet(ok, counts)


def test_sheet_from_samples_pairs_by_position():
    sheet = sheet_from_samples(["t1", "t2"], ["c1", "c2"])
    assert sheet["replicate"].tolist() == ["1", "2", "1", "2"]
    assert math.isnan(sheet.loc[0, "day"])
    with pytest.raises(InputError, match="both arms"):
        sheet_from_samples(["a"], ["a"])


def test_arms_of_a_multi_condition_sheet(tmp_path):
    """Two drugs against one shared vehicle and a time course: replicates are numbered within
    arm and day, and selecting an arm turns the other arm's samples unused."""
    from oncoresist.screens._sheet import select_arm, sheet_arms

    sheet = read_sample_sheet(write(tmp_path, (
        "sample,condition,day,treatment\nt0,T0,,\nv1,vehicle,14,\nv2,vehicle,14,\n"
        "o1,drug,14,olaparib\no2,drug,14,olaparib\nz1,drug,14,talazoparib\n"
        "z2,drug,14,talazoparib\nzv,DMSO,14,talazoparib\n")))  # fmt: skip
    assert sheet_arms(sheet) == ["olaparib", "talazoparib"]
    assert sheet["replicate"].tolist() == ["1", "1", "2", "1", "2", "1", "2", "1"]
    ola = select_arm(sheet, "olaparib")
    assert ola.loc[ola["condition"] == "drug", "sample"].tolist() == ["o1", "o2"]
    assert ola.loc[ola["condition"] == "vehicle", "sample"].tolist() == ["v1", "v2"]
    assert ola.attrs["file"] == sheet.attrs["file"]
    tala = select_arm(sheet, "talazoparib")
    assert tala.loc[tala["condition"] == "vehicle", "sample"].tolist() == ["v1", "v2", "zv"]
    with pytest.raises(InputError, match="2 drug arms") as err:
        select_arm(sheet)
    assert err.value.field == "arm"
    with pytest.raises(InputError, match="did you mean olaparib"):
        select_arm(sheet, "olaparb")
    plain = read_sample_sheet(write(tmp_path, "sample,condition\na,drug\nb,vehicle\n"))
    assert select_arm(plain) is plain and sheet_arms(plain) == [""]


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("sample,condition,arm\na,T0,olaparib\n", 2, "arm", "T0 is shared"),
        ("sample,condition,arm,drug\na,drug,x,y\n", None, "drug", "both name the arm"),
        ("sample,condition\na,olaparib\n", 2, "condition", "'arm' column"),
    ],
)
def test_arm_errors_name_line_and_field(tmp_path, text, line, field, words):
    with pytest.raises(InputError) as err:
        read_sample_sheet(write(tmp_path, text))
    assert err.value.record == line and err.value.field == field and words in str(err.value)


def test_sheet_from_frame_names_records_as_given():
    from oncoresist.screens._sheet import sheet_from_frame

    raw = pd.DataFrame({"sample": ["s1", "s2"], "condition": ["drug", "chemo"]})
    with pytest.raises(InputError) as err:
        sheet_from_frame(raw, file="x.h5ad", records=["obs 's1'", "obs 's2'"])
    assert str(err.value).startswith("x.h5ad obs 's2', field condition:")
