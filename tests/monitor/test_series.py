"""Series-level alerts: the budget per patient, exact sequential boundaries, units, LoD."""

import numpy as np
import pandas as pd
import pytest

from oncoresist.errors import InputError
from oncoresist.monitor import BackgroundModel, call_series, emergence_alerts, monitor, spending
from oncoresist.monitor._sequential import discounted_counts, sequential_boundaries

START = pd.Timestamp("2024-01-01")
SHAPE = 2.0


def _oracle(errors: dict[str, float]) -> BackgroundModel:
    """A background that knows each site's beta-binomial exactly (no panel uncertainty)."""
    bg = BackgroundModel()
    err = np.array(list(errors.values()))
    bg.params_ = pd.DataFrame(
        {"context": None, "alpha": SHAPE, "beta": SHAPE * (1 - err) / err, "error": err,
         "concentration": SHAPE / err, "n_normals": 0, "total_alt": 0, "total_depth": 0,
         "source": "oracle"},
        index=pd.Index(list(errors), name="site"),
    )  # fmt: skip
    return bg


def _cohort(rng, errors, patients, *, draws=9, molecules=1500, vaf=None):
    """Variant-free (or one rising allele) series: draws every 28 days, day 0 is baseline."""
    sites = list(errors)
    err = np.array([errors[s] for s in sites])
    shape = (patients, draws, len(sites))
    n = rng.poisson(molecules, shape)
    f = np.zeros(shape) if vaf is None else vaf
    mutant = rng.binomial(n, f)
    alt = mutant + rng.binomial(n - mutant, rng.beta(SHAPE, SHAPE * (1 - err) / err, shape))
    pid = np.repeat(np.arange(patients), draws * len(sites))
    draw = np.tile(np.repeat(np.arange(draws), len(sites)), patients)
    obs = pd.DataFrame(
        {
            "patient_id": pid.astype(str),
            "sample_id": (pid * draws + draw).astype(str),
            "collection_date": START + pd.to_timedelta(draw * 28, "D"),
            "site": np.tile(sites, patients * draws),
            "alt_reads": alt.ravel(),
            "depth": n.ravel(),
        }
    )
    therapy = pd.DataFrame(
        {"patient_id": np.arange(patients).astype(str), "regimen": "x", "start_date": START,
         "end_date": pd.NaT}
    )  # fmt: skip
    return obs, therapy


def _panel(rng, errors, normals: int, columns: tuple[str, str]) -> BackgroundModel:
    """A background fitted to simulated normals (depth ~10,000) counted in ``columns``."""
    rows = []
    for site, e in errors.items():
        depth = rng.poisson(10_000, normals)
        alt = rng.binomial(depth, rng.beta(SHAPE, SHAPE * (1 - e) / e, normals))
        rows.append(pd.DataFrame({"site": site, "sample_id": np.arange(normals),
                                  columns[0]: alt, columns[1]: depth}))  # fmt: skip
    return BackgroundModel().fit(pd.concat(rows, ignore_index=True))


def _alerted(out: pd.DataFrame) -> np.ndarray:
    return out.groupby("patient_id")["series_called"].any().to_numpy()


# ----------------------------------------------------------------------- spending
def test_spending_sums_to_the_budget_and_skips_the_baseline():
    levels = spending(np.arange(0, 400), budget=0.02, horizon=12)
    assert levels[0] == 0.0
    assert levels[1:13] == pytest.approx(np.full(12, 0.0015))
    assert levels.sum() == pytest.approx(0.02, rel=1e-12)
    assert np.all(np.diff(levels[12:]) <= 0)
    default = spending(np.arange(0, 400))  # 90 % over the first 8 draws after the baseline
    assert default[1:9].sum() == pytest.approx(0.018) and default.sum() == pytest.approx(0.02)


# ---------------------------------------------------------- sequential boundaries
def test_boundaries_size_is_exact_against_simulation():
    """The propagated null alert probability matches 400,000 simulated null series."""
    rng = np.random.default_rng(11)
    draws, reps = 6, 400_000
    n = np.full((1, draws), 2000.0)
    a, e = np.array([2.0]), 4e-4
    b = a * (1 - e) / e
    gamma = np.full((1, draws), np.exp(-28 / 120))
    level = np.full((1, draws), 0.004)
    scale = np.array([4])
    one = np.ones((1, 1))
    crit, _, _, size = sequential_boundaries(n, a, b, one, one, gamma, level, scale)
    assert 0.5 * level.sum() < size[0] <= level.sum() + 1e-12
    k = rng.binomial(2000, rng.beta(2.0, b[0], (reps, draws)))
    s = discounted_counts(k.astype(float), np.repeat(gamma, reps, 0), np.repeat(scale, reps))
    rate = (s >= crit).any(axis=1).mean()
    se = np.sqrt(size[0] * (1 - size[0]) / reps)
    assert abs(rate - size[0]) < 4 * se


def test_alternative_power_matches_simulation():
    rng = np.random.default_rng(5)
    draws, reps, f = 5, 200_000, 1.5e-3
    n = np.full((1, draws), 1500.0)
    a, e = np.array([2.0]), 1e-5
    b = a * (1 - e) / e
    gamma = np.full((1, draws), 0.8)
    level = np.full((1, draws), 1e-4)
    scale = np.array([8])
    one = np.ones((1, 1))
    crit, _, power, _ = sequential_boundaries(n, a, b, one, one, gamma, level, scale,
                                              vaf=np.array([f]))  # fmt: skip
    k = rng.binomial(1500, f + e * (1 - f), (reps, draws)).astype(float)
    s = discounted_counts(k, np.repeat(gamma, reps, 0), np.repeat(scale, reps))
    rate = (s >= crit).any(axis=1).mean()
    assert rate == pytest.approx(power[0], abs=4 * np.sqrt(power[0] * (1 - power[0]) / reps))


# ------------------------------------------------------------ calibration per patient
@pytest.mark.parametrize("error", [1e-6, 2e-5, 4e-4])
def test_false_alert_patients_within_budget(error):
    """Resistance-free patients alert at most at the budget (exact oracle background)."""
    rng = np.random.default_rng(int(error * 1e7))
    errors = {f"s{i}": error * (1 + 0.2 * i) for i in range(6)}
    obs, therapy = _cohort(rng, errors, 1500)
    out = call_series(obs, _oracle(errors), therapy=therapy, budget=0.05)
    rate = _alerted(out).mean()
    assert rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 1500)
    assert not out.loc[out["draw_index"] == 0, "series_called"].any()  # baseline: never


def test_fitted_panel_keeps_the_budget():
    """With a fitted panel (its uncertainty integrated) the budget still holds."""
    rng = np.random.default_rng(3)
    errors = {f"s{i}": e for i, e in enumerate([3e-4, 1e-4, 6e-4, 2e-4])}
    bg = _panel(rng, errors, 60, ("alt_reads", "depth"))
    obs, therapy = _cohort(rng, errors, 1500)
    rate = _alerted(call_series(obs, bg, therapy=therapy, budget=0.05)).mean()
    assert rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 1500)


def test_a_rising_allele_alerts_and_the_level_is_spent_per_patient():
    rng = np.random.default_rng(8)
    errors = {"s0": 1e-6, "s1": 1e-6}
    vaf = np.zeros((200, 9, 2))
    vaf[:, :, 1] = 1e-4 * 2.0 ** (np.arange(9) * 28 / 30.0)
    obs, therapy = _cohort(rng, errors, 200, vaf=vaf)
    out = call_series(obs, _oracle(errors), therapy=therapy)
    assert _alerted(out).mean() > 0.95
    first = out[out["series_called"]].groupby("patient_id")["draw_index"].min()
    assert first.median() <= 4
    on = out[out["draw_index"] > 0]
    assert on["series_level"].to_numpy() == pytest.approx(0.00225 / 2)


def test_bad_options_are_input_errors():
    obs, _ = _cohort(np.random.default_rng(0), {"s0": 1e-5}, 2)
    with pytest.raises(InputError, match="budget"):
        call_series(obs, budget=1.5)
    with pytest.raises(InputError, match="horizon"):
        call_series(obs, horizon=0)


# ------------------------------------------------------------------ reads and molecules
def _duplicated(rng, molecules: pd.DataFrame) -> pd.DataFrame:
    """The same draws as reads: every molecule read 1-6 times (PCR duplicates)."""
    reads = molecules.copy()
    copies = rng.integers(1, 7, len(reads))
    reads["alt_molecules"] = molecules["alt_reads"]
    reads["unique_molecules"] = molecules["depth"]
    reads["alt_reads"] = molecules["alt_reads"] * copies
    reads["depth"] = molecules["depth"] * copies
    return reads


def _molecule_panel(rng, errors) -> BackgroundModel:
    return _panel(rng, errors, 100, ("alt_molecules", "unique_molecules"))


def test_reads_with_duplicates_are_called_on_their_molecules():
    rng = np.random.default_rng(21)
    errors = {"s0": 2e-4, "s1": 3e-4}
    panel = _molecule_panel(rng, errors)
    assert panel.unit_ == "molecules"
    molecules, therapy = _cohort(rng, errors, 300)
    both = _duplicated(rng, molecules)
    as_molecules = molecules.rename(columns={"alt_reads": "alt_molecules",
                                             "depth": "unique_molecules"})  # fmt: skip
    a = call_series(as_molecules, panel, therapy=therapy)
    b = call_series(both, panel, therapy=therapy)
    assert (b["count_unit"] == "molecules").all()
    assert a["series_called"].tolist() == b["series_called"].tolist()
    assert _alerted(b).mean() <= 0.02 + 3 * np.sqrt(0.02 / 300)


def test_reads_only_against_a_molecule_panel_are_refused():
    rng = np.random.default_rng(2)
    errors = {"s0": 2e-4}
    panel = _molecule_panel(rng, errors)
    molecules, therapy = _cohort(rng, errors, 5)
    reads = _duplicated(rng, molecules).drop(columns=["alt_molecules", "unique_molecules"])
    with pytest.raises(InputError) as exc:
        call_series(reads, panel, therapy=therapy)
    message = str(exc.value)
    assert "alt_molecules" in message and "unique_molecules" in message
    assert "alt_reads, depth" in message
    with pytest.raises(InputError, match="not comparable"):
        call_series(molecules, panel, therapy=therapy, unit="reads")


# ----------------------------------------------------------------- limit of detection
def test_series_limit_of_detection_is_the_95_percent_point():
    rng = np.random.default_rng(4)
    errors = {"s0": 1e-5}
    obs, therapy = _cohort(rng, errors, 1, molecules=2000)
    obs["alt_reads"] = 0
    out = call_series(obs, _oracle(errors), therapy=therapy, lod=True)
    lod = out["series_lod_vaf"].iloc[0]
    assert 1e-4 < lod < 5e-3
    # simulate the series at the LoD: alerted by the last draw about 95 % of the time
    vaf = np.full((2000, 9, 1), lod)
    vaf[:, 0, :] = 0.0
    reps, therapy_r = _cohort(rng, errors, 2000, molecules=2000, vaf=vaf)
    reps["depth"] = np.tile(obs["depth"].to_numpy(), 2000)  # same depths as the series
    reps["alt_reads"] = rng.binomial(reps["depth"], np.where(reps["collection_date"] > START,
                                                              lod + 1e-5, 1e-5))  # fmt: skip
    rate = _alerted(call_series(reps, _oracle(errors), therapy=therapy_r)).mean()
    assert rate == pytest.approx(0.95, abs=0.03)


# ------------------------------------------------------------------- alert categories
def _patient(rows):
    frame = pd.DataFrame(rows, columns=["sample_id", "day", "alteration", "alt_reads", "depth"])
    frame.insert(0, "patient_id", "P1")
    frame["collection_date"] = START + pd.to_timedelta(frame.pop("day"), unit="D")
    frame["gene"] = frame["alteration"].str.split().str[0]
    return frame


def test_a_driver_missed_at_baseline_is_not_an_emerging_resistance():
    rows = []
    for i, (l858r, c797s) in enumerate([(0, 0), (0, 0), (3, 0), (12, 0), (30, 14), (60, 40)]):
        rows += [(f"s{i}", 28 * i, "EGFR L858R", l858r, 3000),
                 (f"s{i}", 28 * i, "EGFR C797S", c797s, 3000)]  # fmt: skip
    therapy = pd.DataFrame({"patient_id": ["P1"], "regimen": ["osimertinib"],
                            "start_date": [START], "end_date": [pd.NaT]})  # fmt: skip
    result = monitor(_patient(rows), therapy=therapy, disease="NSCLC")
    kinds = result.alerts.set_index("alteration")["category"].to_dict()
    assert kinds == {"EGFR L858R": "driver_rising", "EGFR C797S": "emerging_resistance"}
    message = result.alerts.set_index("alteration").loc["EGFR L858R", "message"]
    assert "driver rising" in message and "not a resistance mechanism" in message


def test_resistance_present_at_baseline_is_said_so():
    rows = []
    for i, (l858r, t790m) in enumerate([(300, 40), (100, 30), (50, 30)]):
        rows += [(f"s{i}", 28 * i, "EGFR L858R", l858r, 3000),
                 (f"s{i}", 28 * i, "EGFR T790M", t790m, 3000)]  # fmt: skip
    therapy = pd.DataFrame({"patient_id": ["P1"], "regimen": ["erlotinib"],
                            "start_date": [START], "end_date": [pd.NaT]})  # fmt: skip
    alerts = monitor(_patient(rows), therapy=therapy, disease="NSCLC").alerts
    assert alerts["category"].tolist() == ["present_at_baseline"]
    assert alerts["message"].iloc[0].startswith("EGFR T790M, present at baseline")


def test_declared_drivers_are_never_emerging():
    rows = [("s0", 0, "KRAS G12C", 0, 3000), ("s1", 28, "KRAS G12C", 40, 3000)]
    calls = monitor(_patient(rows)).calls
    alerts = emergence_alerts(calls, drivers={"P1": ["KRAS G12C"]})
    assert alerts["category"].tolist() == ["driver_rising"]


def test_reads_with_duplicates_and_no_panel_are_flagged():
    rng = np.random.default_rng(9)
    obs, therapy = _cohort(rng, {"s0": 1e-5}, 3)
    obs["alteration"] = "EGFR C797S"
    reads = obs.assign(unique_molecules=obs["depth"], depth=obs["depth"] * 4,
                       alt_reads=obs["alt_reads"] * 4)  # fmt: skip
    result = monitor(reads, therapy=therapy)
    assert result.settings["count_unit"] == "reads"
    assert "4.0 reads per unique molecule" in result.settings["warnings"][0]
    assert monitor(obs, therapy=therapy).settings["warnings"] == []


def test_resistance_at_a_baseline_drawn_before_therapy_starts():
    rows = []
    for i, (l858r, t790m) in enumerate([(300, 40), (100, 30), (50, 30)]):
        rows += [(f"s{i}", 28 * i, "EGFR L858R", l858r, 3000),
                 (f"s{i}", 28 * i, "EGFR T790M", t790m, 3000)]  # fmt: skip
    therapy = pd.DataFrame({"patient_id": ["P1"], "regimen": ["erlotinib"],
                            "start_date": [START + pd.Timedelta(days=5)],
                            "end_date": [pd.NaT]})  # fmt: skip
    alerts = monitor(_patient(rows), therapy=therapy, disease="NSCLC").alerts
    assert alerts["category"].tolist() == ["present_at_baseline"]
    assert alerts["regimen"].tolist() == ["erlotinib"]
