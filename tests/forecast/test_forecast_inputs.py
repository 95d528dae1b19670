"""Reading serial marker measurements: censoring, dates, treatment, located errors."""

from __future__ import annotations

import pandas as pd
import pytest

from oncoresist.errors import InputError
from oncoresist.forecast._inputs import read_measurements, treatment_days


def _write(tmp_path, text: str):
    path = tmp_path / "m.csv"
    path.write_text(text)
    return path


def test_censored_values_are_kept_at_their_limit_not_zero(tmp_path):
    path = _write(tmp_path, "patient_id,day,marker,value,lower_limit_of_quantification\n"
                            "P1,0,psa,12.5,0.05\nP1,28,psa,<0.1,\nP1,56,psa,,0.05\n"
                            "P1,84,psa,0.01,0.05\nP1,112,psa,3.2,0.05\n")  # fmt: skip
    m = read_measurements(path)
    assert m["censored"].tolist() == [False, True, True, True, False]
    assert m["value"].tolist() == [12.5, 0.1, 0.05, 0.05, 3.2]
    assert m["lower_limit_of_quantification"].tolist()[1] == 0.1


def test_dates_become_days_and_treatment_comes_from_lines_of_therapy(tmp_path):
    path = _write(tmp_path, "Patient,Date,Marker,Value\nP1,2024-01-01,PSA,10\n"
                            "P1,2024-01-29,PSA,5\nP1,2024-03-01,PSA,7\n")  # fmt: skip
    m = read_measurements(path)
    assert m["day"].tolist() == [0.0, 28.0, 60.0]
    therapy = pd.DataFrame({"patient_id": ["P1"], "regimen": ["abiraterone"],
                            "start_date": pd.to_datetime(["2024-01-01"]),
                            "end_date": pd.to_datetime(["2024-02-15"])})  # fmt: skip
    marked = treatment_days(m, therapy)
    assert marked["on_treatment"].tolist() == [1.0, 1.0, 0.0]
    with pytest.raises(InputError, match="no line of therapy"):
        treatment_days(m, therapy.assign(patient_id="P2"))


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        ("patient_id,day,marker,value\nP1,0,psa,1\nP1,30,psa,2\nP1,20,psa,3\n", 4, "day",
         "comes after day 30"),
        ("patient_id,day,marker,value\nP1,0,psa,1\nP1,30,psa,-2\n", 3, "value", ">= 0"),
        ("patient_id,day,marker,value\nP1,0,pas,1\nP1,30,psa,2\n", 2, "marker",
         "unknown marker 'pas'"),
        ("patient_id,day,marker,value\nP1,0,psa,1\nP2,0,psa,2\nP2,9,psa,2\n", 2, "value",
         "single psa measurement"),
        ("patient_id,day,marker,value\nP1,0,ctdna_vaf,12\nP1,9,ctdna_vaf,2\n", 2, "value",
         "percentage"),
        ("patient_id,day,marker,value,on_treatment\nP1,0,psa,1,maybe\nP1,9,psa,2,1\n", 2,
         "on_treatment", "expected 1 or 0"),
        ("patient_id,marker,value\nP1,psa,1\nP1,psa,2\n", 1, "day", "missing column"),
    ],
)  # fmt: skip
def test_bad_input_is_located(tmp_path, text, line, field, message):
    with pytest.raises(InputError, match=message) as info:
        read_measurements(_write(tmp_path, text))
    assert info.value.record == line and info.value.field == field
