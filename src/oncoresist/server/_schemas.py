"""Request and response bodies of the API (pydantic; unknown fields are refused).

Every request body forbids fields it does not declare (no mass assignment), and every
response is built from these models, so a response carries exactly the fields of its
schema: pseudonyms, never a site's identifiers.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from oncoresist.interpret import DrugVerdict, Option

PSEUDONYM_PATTERN = r"^[0-9a-f]{64}$"
Text = Field(min_length=1, max_length=200)


class Strict(BaseModel):
    """A body that refuses undeclared fields."""

    model_config = ConfigDict(extra="forbid")


class Health(Strict):
    status: Literal["ok", "unavailable"]
    version: str
    #: the audit log: ok, torn-tail (recovered at the next append), torn-tail-recovered,
    #: anchor-mismatch (truncated or replaced), unwritable (the service answers 503)
    audit: Literal["ok", "torn-tail", "torn-tail-recovered", "anchor-mismatch", "unwritable"]


class LoginIn(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenOut(Strict):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int = Field(description="seconds")


class Problem(Strict):
    """An error: what went wrong, and for a rejected file where (line and field)."""

    detail: str
    file: str | None = None
    line: int | None = None
    field: str | None = None


class ConsentIn(Strict):
    duo_codes: list[str] = Field(default_factory=list, max_length=20)
    version: str = Field(min_length=1, max_length=32)
    consent_date: dt.date
    disease: str | None = Field(default=None, max_length=100)
    withdrawn: bool = False


class ConsentOut(Strict):
    scope: Literal["clinical_care", "research", "withdrawn"]
    duo_codes: list[str]
    labels: list[str]
    disease: str | None
    version: str
    consent_date: dt.date
    recorded_at: dt.datetime
    recorded_by: str


class PatientItem(Strict):
    pseudonym: str
    disease: str | None
    draws: int
    last_draw: dt.date | None
    alerts: int = Field(description="resistance alerts (category emerging_resistance) only")
    consent: Literal["clinical_care", "research", "withdrawn"] | None


class PatientList(Strict):
    site: str
    patients: list[PatientItem]


class PatientUpdate(Strict):
    disease: str | None = Field(default=None, max_length=100)


class TherapyLineOut(Strict):
    regimen: str
    start_date: dt.date
    end_date: dt.date | None
    reason_stopped: str | None


class SampleOut(Strict):
    sample: str
    collection_date: dt.date
    day: int | None = Field(description="days since the start of the first therapy line")
    cfdna_ng: float | None
    tumor_fraction: float | None
    variants: int
    detected: int


class ObservationOut(Strict):
    gene: str
    alteration: str
    alt_reads: int
    depth: int
    vaf: float
    state: str
    p_value: float | None
    q_value: float | None
    lod_vaf: float | None


class SampleDetail(Strict):
    sample: SampleOut
    observations: list[ObservationOut]


AlertCategory = Literal["emerging_resistance", "new_alteration", "driver_rising",
                        "present_at_baseline"]  # fmt: skip


class AlertOut(Strict):
    alteration: str
    category: AlertCategory = Field(
        description="emerging_resistance (the only resistance alerts), new_alteration, "
        "driver_rising (the tumour's driver coming back, not a resistance mechanism) or "
        "present_at_baseline (resistance there before therapy, not emerging)"
    )
    first_called_date: dt.date
    day: int | None
    vaf: float
    regimen: str | None
    verdict: str | None
    mechanism: str | None
    evidence: str | None
    lead_time_days: float | None
    doubling_time_days: float | None
    message: str


class ResponseOut(Strict):
    sample: str
    collection_date: dt.date
    measure: str
    level: float | None
    change: float | None
    category: str


class TrendOut(Strict):
    alteration: str
    n_detected: int
    doubling_time_days: float | None
    last_vaf: float | None


class PointOut(Strict):
    day: int | None
    collection_date: dt.date
    vaf: float
    state: str
    lod_vaf: float | None


class TrajectoryOut(Strict):
    alteration: str
    points: list[PointOut]


class MonitoringSettingsOut(Strict):
    """What a patient's calls and alerts were computed under."""

    warnings: list[str] = Field(description="what makes these results less certain, e.g. "
                                "reads called although they carry PCR duplicates")  # fmt: skip
    error_model: str = Field(description="the background error model, in words")
    panel: str | None = Field(description="file name of the panel of normals (None: none)")
    count_unit: str | None = Field(description="reads or molecules (None: no draws)")
    budget: float = Field(description="chance that a resistance-free patient's series ever "
                          "raises an alert")  # fmt: skip
    horizon: int = Field(description="draws after the baseline over which 90 % of the "
                         "budget is spent")  # fmt: skip
    fpr: float = Field(description="per-draw level: chance of any false call in a "
                       "variant-free draw")  # fmt: skip
    recovery: float = Field(description="molecule recovery (fraction)")
    sentence: str = Field(description="all of the above in words")


class SeriesLimitOut(Strict):
    """The limit of detection of one alteration's series that was never called (no alert)."""

    alteration: str
    lod_vaf: float | None = Field(
        description="VAF (fraction) that, present at every draw after the baseline, would "
        "have raised an alert by the last draw with probability 0.95; None: no VAF could "
        "(too few molecules or draws after the baseline)"
    )


class PatientDetail(Strict):
    pseudonym: str
    site: str
    disease: str | None
    consent: ConsentOut | None
    therapy: list[TherapyLineOut]
    samples: list[SampleOut]
    alerts: list[AlertOut]
    response: list[ResponseOut]
    trends: list[TrendOut]
    trajectories: list[TrajectoryOut]
    settings: MonitoringSettingsOut
    series_limits: list[SeriesLimitOut] | None = Field(
        description="per alteration series the series-level test never called (so "
        "without an alert); None while being computed (within a minute or so of an upload)"
    )


class AlertsOut(Strict):
    patient: str
    alerts: list[AlertOut]


class InterpretationOut(Strict):
    latest_draw: dt.date | None
    disease: str | None
    alterations: list[str]
    verdicts: list[DrugVerdict]
    options: list[Option]
    notes: list[str]


class LookupIn(Strict):
    identifier: str = Field(min_length=1, max_length=128)


class LookupOut(Strict):
    pseudonym: str


class UploadOut(Strict):
    kind: Literal["serial", "therapy", "events", "measurements"]
    rows: int
    inserted: int
    updated: int
    already_ingested: bool
    ingest_id: int
    patients: list[str]


class VariantsOut(Strict):
    """Stateless interpretation of an uploaded VCF, MAF or alteration table."""

    disease: str | None
    alterations: list[str]
    verdicts: list[DrugVerdict]
    options: list[Option]
    notes: list[str]


class GeneOut(Strict):
    symbol: str
    name: str
    aliases: list[str]
    role: str
    drivers: list[str]
    assertions: list[AssertionOut]


class AssertionOut(Strict):
    id: str
    biomarker: list[str]
    drugs: list[str]
    effect: str
    mechanism: str | None
    disease: str
    evidence: str
    references: list[str]
    summary: str


class DrugOut(Strict):
    name: str
    members: list[str]
    classes: list[str]
    targets: list[str]
    approved: bool
    assertions: list[AssertionOut]


class SearchOut(Strict):
    genes: list[str]
    drugs: list[str]
    classes: list[str]
    diseases: list[str]


class UserIn(Strict):
    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=12, max_length=256)
    role: Literal["clinician", "researcher", "admin"]
    site: str | None = Field(
        default=None,
        max_length=64,
        description="the account's site: the creating admin's own (the default); another "
        "site's account, or a researcher, is refused (403)",
    )


class UserOut(Strict):
    username: str
    role: str
    site: str | None
    active: bool


class UserActive(Strict):
    active: bool


class AuditOut(Strict):
    ok: bool
    events: int
    problem: str | None


class CohortPatient(Strict):
    research_id: str = Field(description="a research pseudonym, unlinkable to the clinical one")
    disease: str | None
    conditions: list[str]
    observations: list[CohortObservation]


class CohortObservation(Strict):
    day: int | None
    gene: str
    alteration: str
    alt_reads: int
    depth: int


class CohortOut(Strict):
    purpose: str
    patients: list[CohortPatient]


GeneOut.model_rebuild()
CohortPatient.model_rebuild()


class ForecastStrategyOut(Strict):
    """One strategy's forecast: chance and median time of PSA progression, days on drug."""

    strategy: str
    assessed: bool = Field(description="false when off drug: PCWG3 progression not assessed")
    prob_progression: float | None = Field(description="within window_days; null if not assessed")
    median_days_to_progression: float | None = Field(
        description="null when not assessed or beyond the horizon"
    )
    mean_days_on: float


class ForecastBandOut(Strict):
    """Predictive quantiles of PSA (ng/mL) at one visit of one strategy."""

    strategy: str
    day: float
    q025: float
    q10: float
    q50: float
    q90: float
    q975: float
    share_on_treatment: float | None


class ForecastOut(Strict):
    """A patient's PSA forecast under each strategy, or what is missing for one."""

    patient: str
    readings: int = Field(description="stored PSA readings")
    refusal: str | None = Field(description="why there is no forecast; null when there is")
    horizon_days: float
    window_days: float
    strategies: list[ForecastStrategyOut]
    bands: list[ForecastBandOut]
    accuracy: str = Field(description="the forecasts' accuracy in the prior's backtest, in words")
    assumptions: list[str]
