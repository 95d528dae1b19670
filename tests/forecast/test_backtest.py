"""Rolling-origin machinery: origins, targets, baselines and summaries on hand-made series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oncoresist.errors import InputError
from oncoresist.forecast.backtest import (
    cycle_origins,
    last_value_baseline,
    next_cycle_targets,
    repeat_cycle_baseline,
    rolling_origin_backtest,
    sensitivity_at_specificity,
    summarise,
)


def _series(pid="a"):
    # on 0-60, off 60-120, on 120-180, off 180-
    return pd.DataFrame(
        {
            "patient_id": pid,
            "day": [0.0, 30, 60, 90, 120, 150, 180, 210, 240],
            "value": [10.0, 1.0, 0.1, 1.0, 10.0, 1.0, 0.1, 1.0, 10.0],
            "on_treatment": [1, 1, 0, 0, 1, 1, 0, 0, 0],
        }
    )


def test_origins_at_switches_and_targets_up_to_the_next_switch():
    t = _series()
    o = cycle_origins(t, min_readings=3)
    assert o["origin_day"].tolist() == [60.0, 120.0, 180.0]
    tg = next_cycle_targets(t, o)
    assert tg[tg["origin_day"] == 60]["day"].tolist() == [90.0, 120.0]
    assert tg[tg["origin_day"] == 180]["day"].tolist() == [210.0, 240.0]
    assert tg["horizon_days"].tolist()[:2] == [30.0, 60.0]
    assert cycle_origins(t, rule="every", min_readings=3)["origin_day"].tolist()[0] == 60.0


def test_baselines_by_hand():
    t = _series()
    o = cycle_origins(t, min_readings=3)
    tg = next_cycle_targets(t, o)
    lv = last_value_baseline(t, tg)
    np.testing.assert_allclose(lv[:2], [-1.0, -1.0])  # log10 0.1 at the origin day 60
    rc, has = repeat_cycle_baseline(t, tg)
    # origin 180 (off): previous off cycle 60 -> 120 went -1, 0, 1 in log10; shifted to -1
    sel = (tg["origin_day"] == 180).to_numpy()
    np.testing.assert_allclose(rc[sel], [0.0, 1.0])
    assert has[sel].all()
    # origin 60 (off): no earlier off cycle -> last value
    assert not has[(tg["origin_day"] == 60).to_numpy()].any()


def test_sensitivity_at_specificity_by_hand():
    scores = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1])
    labels = np.array([1, 1, 0, 1, 0, 0], dtype=bool)
    sens, spec, thr = sensitivity_at_specificity(scores, labels, min_specificity=0.6)
    assert (sens, thr) == (1.0, 0.3) and spec == pytest.approx(2 / 3)


class _Persistence:
    """Forecaster that repeats the origin's value (a perfect copy of the last-value baseline)."""

    def fit(self, table):
        return self

    def forecast_origins(self, table, origins, targets, *, rng=None):
        at = table.set_index(["patient_id", "day"])["value"]
        v = at.loc[list(zip(targets["patient_id"], targets["origin_day"], strict=True))]
        out = targets.reset_index(drop=True).copy()
        for q, f in zip(("q025", "q10", "q50", "q90", "q975"), (0.1, 0.5, 1, 2, 10), strict=True):
            out[q] = v.to_numpy() * f
        out.attrs["samples_log10"] = np.log10(v.to_numpy())[None].repeat(5, axis=0)
        per = origins[["patient_id", "origin_day"]].assign(
            prob_event=np.linspace(0, 1, len(origins)),
            event=[0, 1] * (len(origins) // 2) + [1] * (len(origins) % 2),
        )
        return out, per


def test_rolling_backtest_with_persistence_matches_its_baseline():
    t = pd.concat([_series(p) for p in "abcd"], ignore_index=True)
    res = rolling_origin_backtest(t, _Persistence, n_folds=2, rng=0)
    s = summarise(res)
    assert s["ratio_last_value"] == pytest.approx(1.0)
    assert s["n_origins"] == 12
    assert 0 <= s["coverage_80"] <= 1 and "auc" in s
    assert set(res.rows["fold"]) == {0, 1}


def test_bad_input():
    with pytest.raises(InputError, match="value"):
        cycle_origins(pd.DataFrame({"patient_id": [1], "day": [0], "on_treatment": [1]}))
    with pytest.raises(InputError, match="n_folds"):
        rolling_origin_backtest(_series(), _Persistence, n_folds=5)
