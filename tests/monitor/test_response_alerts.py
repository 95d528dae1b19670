import math

import numpy as np
import pandas as pd
import pytest

from oncoresist.errors import InputError
from oncoresist.monitor import emergence_alerts, molecular_response, variant_trends

START = pd.Timestamp("2024-01-10")


def _calls(rows):
    frame = pd.DataFrame(
        rows,
        columns=["sample_id", "day", "alteration", "alt_reads", "depth", "state"],
    )
    frame.insert(0, "patient_id", "P1")
    frame["collection_date"] = START + pd.to_timedelta(frame.pop("day"), unit="D")
    return frame


@pytest.fixture
def egfr_case():
    """Illustrative: L858R clears on osimertinib, C797S then rises from day 212."""
    rows = []
    schedule = [
        ("s0", -5, 500, 0), ("s1", 30, 120, 0), ("s2", 90, 0, 0), ("s3", 150, 0, 0),
        ("s4", 212, 15, 31), ("s5", 270, 60, 120), ("s6", 330, 150, 300),
    ]  # fmt: skip
    for sample, day, l858r, c797s in schedule:
        rows.append(
            (sample, day, "EGFR L858R", l858r, 10000, "detected" if l858r else "not_detected")
        )
        rows.append(
            (sample, day, "EGFR C797S", c797s, 10000, "detected" if c797s else "not_detected")
        )
    therapy = pd.DataFrame(
        {"patient_id": ["P1"], "regimen": ["osimertinib"], "start_date": [START],
         "end_date": [pd.NaT], "reason_stopped": [None]}
    )  # fmt: skip
    events = pd.DataFrame(
        {"patient_id": ["P1"], "event": ["progression"], "date": [START + pd.Timedelta(days=300)]}
    )
    return _calls(rows), therapy, events


def test_molecular_response_categories(egfr_case):
    calls, therapy, _ = egfr_case
    r = molecular_response(calls, therapy=therapy)
    assert r["category"].tolist() == [
        "baseline", "major_response", "clearance", "clearance", "progression", "progression",
        "progression",
    ]  # fmt: skip
    assert r["measure"].unique().tolist() == ["mean_vaf_truncal"]
    assert r.loc[0, "level"] == pytest.approx(0.05)
    assert r.loc[1, "change"] == pytest.approx(-0.76)
    assert r.loc[2, "nadir_level"] == 0.0


def test_response_uses_tumour_fraction_when_every_draw_has_it(egfr_case):
    calls, therapy, _ = egfr_case
    fractions = {"s0": 0.2, "s1": 0.05, "s2": 0.04, "s3": 0.05, "s4": 0.09, "s5": 0.2, "s6": 0.3}
    calls["tumor_fraction"] = calls["sample_id"].map(fractions)
    r = molecular_response(calls, therapy=therapy)
    assert r["measure"].iloc[0] == "tumor_fraction"
    # clearance still means every truncal variant undetected, whatever the level measure
    assert r["category"].tolist()[1:5] == [
        "major_response", "clearance", "clearance", "progression",
    ]  # fmt: skip
    assert r["level"].tolist()[:3] == [0.2, 0.05, 0.04]


def test_response_from_tumour_fraction_alone():
    rows = [("s0", 0, "EGFR L858R", 500, 10000, "detected"),
            ("s1", 30, "EGFR L858R", 300, 10000, "detected"),
            ("s2", 60, "EGFR L858R", 200, 10000, "detected"),
            ("s3", 90, "EGFR L858R", 400, 10000, "detected")]  # fmt: skip
    calls = _calls(rows)
    calls["tumor_fraction"] = [0.2, 0.15, 0.04, 0.09]
    r = molecular_response(calls)
    assert r["category"].tolist() == ["baseline", "stable", "major_response", "progression"]


def test_emergence_alert_is_linked_to_the_regimen(egfr_case):
    calls, therapy, events = egfr_case
    alerts = emergence_alerts(calls, therapy=therapy, events=events, disease="NSCLC")
    assert alerts["alteration"].tolist() == ["EGFR C797S"]
    alert = alerts.iloc[0]
    assert alert["day"] == 212 and alert["vaf"] == pytest.approx(0.0031)
    assert alert["regimen"] == "osimertinib" and alert["verdict"] == "resistant"
    assert alert["mechanism"] == "on_target"
    assert alert["lead_time_days"] == 88
    assert alert["message"].startswith("EGFR C797S, first called on day 212 at VAF 0.31%")
    assert "resistant to osimertinib (on_target, B)" in alert["message"]
    assert "88 days before clinical progression" in alert["message"]
    # doubling time of C797S: 31 -> 120 -> 300 reads over 118 days
    slope = np.polyfit([0, 58, 118], np.log([31, 120, 300]), 1)[0]
    assert alert["doubling_time_days"] == pytest.approx(math.log(2) / slope)


def test_phase_unknown_is_said():
    rows = [
        ("s0", 0, "EGFR L858R", 300, 10000, "detected"),
        ("s0", 0, "EGFR T790M", 0, 10000, "not_detected"),
        ("s0", 0, "EGFR C797S", 0, 10000, "not_detected"),
        ("s1", 100, "EGFR L858R", 200, 10000, "detected"),
        ("s1", 100, "EGFR T790M", 80, 10000, "detected"),
        ("s1", 100, "EGFR C797S", 40, 10000, "detected"),
    ]
    therapy = pd.DataFrame(
        {"patient_id": ["P1"], "regimen": ["osimertinib"], "start_date": [START],
         "end_date": [pd.NaT]}
    )  # fmt: skip
    alerts = emergence_alerts(_calls(rows), therapy=therapy, disease="NSCLC")
    c797s = alerts.set_index("alteration").loc["EGFR C797S"]
    assert c797s["phase_note"] == "phase with EGFR T790M unknown"
    assert np.isnan(c797s["lead_time_days"])


def test_no_therapy_still_alerts(egfr_case):
    calls, _, _ = egfr_case
    alerts = emergence_alerts(calls)
    assert alerts["regimen"].isna().all() and alerts["verdict"].isna().all()
    assert alerts["message"].iloc[0].startswith("EGFR C797S, first called on day 217")


def test_trends(egfr_case):
    calls, _, _ = egfr_case
    trends = variant_trends(calls).set_index("alteration")
    assert trends.loc["EGFR C797S", "n_detected"] == 3
    assert trends.loc["EGFR C797S", "doubling_time_days"] > 0
    assert np.isnan(trends.loc["EGFR L858R", "doubling_time_days"])  # falling


def test_missing_columns_are_input_errors():
    with pytest.raises(InputError, match="lacks columns"):
        molecular_response(pd.DataFrame({"patient_id": ["x"]}))
    with pytest.raises(InputError, match="lacks columns"):
        emergence_alerts(pd.DataFrame({"patient_id": ["x"]}))
