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
