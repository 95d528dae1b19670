"""Clones from serial ctDNA (the monitoring table): draws as samples, the truncal marker's
VAF as tumour fraction where none is given."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oncoresist.clones import CloneModel, from_serial
from oncoresist.errors import InputError
from oncoresist.monitor import read_serial

EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "oncoresist" / "examples" / (
    "egfr_ctdna_series.csv")  # fmt: skip


def test_bundled_series_gives_a_truncal_and_a_resistant_clone():
    data = from_serial(read_serial(EXAMPLE))
    assert data.samples[0].endswith("D0") and data.times[0] == 0 and (np.diff(data.times) > 0).all()
    assert set(data.mutations) == {"EGFR L858R", "TP53 R273H", "EGFR T790M", "EGFR C797S"}
    model = CloneModel(rng=0).fit(data)
    label = dict(zip(data.mutations, model.labels_, strict=True))
    assert label["EGFR L858R"] == label["TP53 R273H"]  # truncal
    assert label["EGFR C797S"] != label["EGFR L858R"]
    resistant = label["EGFR C797S"]
    assert model.ccf_[resistant][0] < 0.2 < model.ccf_[resistant][-1]


def test_given_tumour_fraction_is_the_purity_and_bad_ones_are_refused():
    frame = pd.DataFrame({
        "patient_id": "P", "sample_id": ["a", "a", "b", "b"],
        "collection_date": pd.to_datetime(["2024-01-01"] * 2 + ["2024-02-01"] * 2),
        "gene": "EGFR", "alteration": ["EGFR L858R", "EGFR T790M"] * 2,
        "alt_reads": [50, 0, 40, 20], "depth": [1000] * 4,
        "tumor_fraction": [0.1, 0.1, 0.08, 0.08]})  # fmt: skip
    data = from_serial(frame)
    assert data.purity.tolist() == [0.1, 0.08] and data.times.tolist() == [0.0, 31.0]
    assert data.alterations == ["L858R", "T790M"]
    with pytest.raises(InputError, match="expected \\(0, 1\\]"):
        from_serial(frame.assign(tumor_fraction=5.0))
    with pytest.raises(InputError, match="choose one"):
        from_serial(pd.concat([frame, frame.assign(patient_id="Q")]))
