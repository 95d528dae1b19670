"""Write the bundled, illustrative serial-ctDNA example (not patient data).

An EGFR L858R lung adenocarcinoma on first-line osimertinib: the truncal L858R and TP53
R273H fall to undetectable, then EGFR C797S emerges (doubling about every 26 days) months
before radiological progression on day 330. Molecules are sampled as Poisson(eta * G * f)
with G = 303 genome equivalents per ng of cfDNA and recovery eta = 0.5; background errors
are added at 1e-4 per base. Run: python scripts/make_example_ctdna.py
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "src" / "oncoresist" / "examples"
START = pd.Timestamp("2024-03-04")
DAYS = [-7, 28, 70, 126, 182, 238, 280, 322, 364]
CFDNA_NG = [22.0, 15.0, 12.0, 14.0, 13.0, 16.0, 18.0, 20.0, 25.0]


def truth(alteration: str, day: int) -> float:
    """True VAF (fraction) of each variant on a given day of therapy."""
    if alteration in ("EGFR L858R", "TP53 R273H"):
        base = 0.052 if alteration == "EGFR L858R" else 0.047
        if day <= 0:
            return base
        low = base * math.exp(-day / 12) + 2e-5  # deep response, then regrowth
        return low if day < 200 else low + 2e-4 * math.exp((day - 200) / 45)
    if alteration == "EGFR C797S":
        return 0.0 if day < 120 else 8e-5 * math.exp((day - 120) / 38)
    return 0.0


def main(seed: int = 11) -> None:
    """Simulate the draws with a fixed seed and write the three CSV files."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, (day, ng) in enumerate(zip(DAYS, CFDNA_NG, strict=True)):
        sample = f"ILLUS-P1-D{i}"
        date = (START + pd.Timedelta(days=day)).date().isoformat()
        genomes = ng * 303.0
        for alteration in ("EGFR L858R", "TP53 R273H", "EGFR C797S", "EGFR T790M"):
            f = truth(alteration, day)
            molecules = int(rng.poisson(0.5 * genomes))
            alt = int(rng.binomial(molecules, min(f, 1.0))) + int(rng.poisson(molecules * 1e-4))
            gene, change = alteration.split()
            rows.append(
                {
                    "patient_id": "ILLUS-P1",
                    "sample_id": sample,
                    "collection_date": date,
                    "gene": gene,
                    "alteration": change,
                    "alt_reads": alt,
                    "depth": molecules,
                    "unique_molecules": molecules,
                    "cfdna_ng": ng,
                }
            )
    pd.DataFrame(rows).to_csv(OUT / "egfr_ctdna_series.csv", index=False)
    pd.DataFrame(
        [{"patient_id": "ILLUS-P1", "regimen": "osimertinib",
          "start_date": START.date().isoformat(), "end_date": "", "reason_stopped": ""}]
    ).to_csv(OUT / "egfr_ctdna_therapy.csv", index=False)  # fmt: skip
    pd.DataFrame(
        [{"patient_id": "ILLUS-P1", "event": "progression",
          "date": (START + pd.Timedelta(days=330)).date().isoformat()}]
    ).to_csv(OUT / "egfr_ctdna_events.csv", index=False)  # fmt: skip


if __name__ == "__main__":
    main()
