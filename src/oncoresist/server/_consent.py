"""Consent per patient as GA4GH Data Use Ontology (DUO) codes, and what it permits.

A consent record holds DUO codes (a permission such as general research use, plus
modifiers such as non-commercial use), the consent form's version and date, and whether it
was withdrawn. Records are only ever added; the newest one is in force. The treating site
sees its patients whatever their consent (clinical care); research queries and exports keep
only patients whose consent in force permits the stated purpose (:func:`permits`).

The matching follows DUO's hierarchy: no restriction (NRES) permits every purpose; general
research use (GRU) permits general, health/medical and disease-specific research; health or
medical or biomedical research (HMB) permits health/medical and disease-specific research;
disease-specific research (DS) permits research on the consented disease only; clinical care
use (CC) permits no research. Modifiers narrow a permission: non-commercial (NCU) and
not-for-profit (NPU, NPUNCU) refuse commercial use, ethics approval required (IRB) refuses a
query without it. Other modifiers are kept and shown with every export as conditions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa

from oncoresist.errors import InputError
from oncoresist.store import _schema as s

__all__ = ["DUO", "PERMISSIONS", "Consent", "ResearchPurpose", "consent_in_force", "permits",
           "record_consent"]  # fmt: skip

#: DUO codes understood here: code -> (abbreviation, label)
DUO: dict[str, tuple[str, str]] = {
    "DUO:0000004": ("NRES", "no restriction"),
    "DUO:0000042": ("GRU", "general research use"),
    "DUO:0000006": ("HMB", "health or medical or biomedical research"),
    "DUO:0000007": ("DS", "disease specific research"),
    "DUO:0000011": ("POA", "population origins or ancestry research only"),
    "DUO:0000043": ("CC", "clinical care use"),
    "DUO:0000046": ("NCU", "non-commercial use only"),
    "DUO:0000045": ("NPU", "not-for-profit use only"),
    "DUO:0000018": ("NPUNCU", "not-for-profit, non-commercial use only"),
    "DUO:0000021": ("IRB", "ethics approval required"),
    "DUO:0000019": ("PUB", "publication required"),
    "DUO:0000020": ("COL", "collaboration required"),
    "DUO:0000022": ("GS", "geographical restriction"),
    "DUO:0000024": ("MOR", "publication moratorium"),
    "DUO:0000025": ("TS", "time limit on use"),
    "DUO:0000026": ("US", "user specific restriction"),
    "DUO:0000027": ("PS", "project specific restriction"),
    "DUO:0000028": ("IS", "institution specific restriction"),
    "DUO:0000029": ("RTN", "return to database or resource"),
}
PERMISSIONS = ("DUO:0000004", "DUO:0000042", "DUO:0000006", "DUO:0000007", "DUO:0000011",
               "DUO:0000043")  # fmt: skip
_NON_COMMERCIAL = {"DUO:0000046", "DUO:0000045", "DUO:0000018"}
_PURPOSES: dict[str, set[str]] = {
    # research purpose -> permissions that allow it (DS also needs the disease to match)
    "general": {"DUO:0000004", "DUO:0000042"},
    "health": {"DUO:0000004", "DUO:0000042", "DUO:0000006"},
    "disease": {"DUO:0000004", "DUO:0000042", "DUO:0000006", "DUO:0000007"},
    "ancestry": {"DUO:0000004", "DUO:0000042", "DUO:0000011"},
}
Scope = Literal["clinical_care", "research", "withdrawn"]


@dataclass(frozen=True)
class ResearchPurpose:
    """What a research query is for: kind, disease (for ``disease``), commercial, IRB."""

    kind: Literal["general", "health", "disease", "ancestry"] = "general"
    disease: str | None = None
    commercial: bool = False
    irb_approved: bool = False


@dataclass(frozen=True)
class Consent:
    """The consent in force for one patient."""

    scope: Scope
    duo_codes: tuple[str, ...]
    disease: str | None
    version: str
    consent_date: dt.date
    recorded_at: dt.datetime
    recorded_by: str


def _scope(codes: tuple[str, ...], withdrawn: bool) -> Scope:
    if withdrawn:
        return "withdrawn"
    research = set(PERMISSIONS) - {"DUO:0000043"}
    return "research" if research & set(codes) else "clinical_care"


def check_codes(codes: list[str], disease: str | None, withdrawn: bool) -> tuple[str, ...]:
    """Validate DUO codes; return them sorted and unique. Raises InputError."""
    unknown = [c for c in codes if c not in DUO]
    if unknown:
        raise InputError(
            f"unknown DUO code(s) {', '.join(unknown)}; expected codes such as DUO:0000042 "
            "(general research use) or DUO:0000043 (clinical care use)",
            field="duo_codes",
        )
    unique = tuple(sorted(set(codes)))
    if not withdrawn and not set(unique) & set(PERMISSIONS):
        raise InputError(
            "expected one permission code (NRES, GRU, HMB, DS, POA or CC) besides modifiers",
            field="duo_codes",
        )
    if "DUO:0000007" in unique and not disease:
        raise InputError("disease-specific consent (DUO:0000007) names its disease",
                         field="disease")  # fmt: skip
    return () if withdrawn else unique


def record_consent(
    connection: sa.Connection,
    patient: str,
    *,
    duo_codes: list[str],
    version: str,
    consent_date: dt.date,
    recorded_by: str,
    disease: str | None = None,
    withdrawn: bool = False,
) -> Consent:
    """Add a consent record for ``patient`` (pseudonym) on an open transaction.

    Raises
    ------
    InputError
        Invalid DUO codes, or a consent date after today (UTC, with a day's grace for time
        zones): a consent not yet given is not in force.
    """
    codes = check_codes(duo_codes, disease, withdrawn)
    latest = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    if consent_date > latest:
        raise InputError(
            f"consent_date {consent_date.isoformat()} is in the future; expected the date the "
            "consent was given (today at the latest)",
            field="consent_date",
        )
    stored = " ".join(codes) + (f" disease={disease}" if disease and not withdrawn else "")
    now = dt.datetime.now(dt.UTC)
    connection.execute(
        sa.insert(s.consents).values(
            patient=patient,
            scope=_scope(codes, withdrawn),
            duo_codes=stored.strip(),
            version=version,
            consent_date=consent_date,
            recorded_at=now,
            recorded_by=recorded_by,
        )
    )
    return Consent(_scope(codes, withdrawn), codes, None if withdrawn else disease, version,
                   consent_date, now, recorded_by)  # fmt: skip


def _parse(row) -> Consent:
    parts = row.duo_codes.split()
    disease = next((p.split("=", 1)[1] for p in parts if p.startswith("disease=")), None)
    codes = tuple(p for p in parts if not p.startswith("disease="))
    recorded = row.recorded_at
    if recorded.tzinfo is None:
        recorded = recorded.replace(tzinfo=dt.UTC)
    return Consent(row.scope, codes, disease, row.version, row.consent_date, recorded,
                   row.recorded_by)  # fmt: skip


def consent_in_force(connection: sa.Connection, patients: list[str]) -> dict[str, Consent]:
    """The newest consent record of each patient that has one."""
    c = s.consents
    newest = (
        sa.select(c.c.patient, sa.func.max(c.c.id).label("id"))
        .where(c.c.patient.in_(patients))
        .group_by(c.c.patient)
        .subquery()
    )
    rows = connection.execute(sa.select(c).join(newest, c.c.id == newest.c.id)).all()
    return {row.patient: _parse(row) for row in rows}


def consent_history(connection: sa.Connection, patient: str) -> list[Consent]:
    """Every consent record of a patient, oldest first."""
    c = s.consents
    rows = connection.execute(sa.select(c).where(c.c.patient == patient).order_by(c.c.id)).all()
    return [_parse(row) for row in rows]


def permits(consent: Consent | None, purpose: ResearchPurpose) -> bool:
    """Whether the consent in force permits a research query for ``purpose``.

    No consent record, a withdrawal or clinical-care-only consent permits no research.
    """
    if consent is None or consent.scope != "research":
        return False
    codes = set(consent.duo_codes)
    allowed = codes & _PURPOSES[purpose.kind]
    if not allowed:
        return False
    if allowed == {"DUO:0000007"}:
        wanted = (purpose.disease or "").strip().lower()
        if not wanted or wanted != (consent.disease or "").strip().lower():
            return False
    if purpose.commercial and codes & _NON_COMMERCIAL:
        return False
    return not ("DUO:0000021" in codes and not purpose.irb_approved)


def conditions(consent: Consent) -> list[str]:
    """The modifiers that travel with an export (abbreviations such as ``PUB``, ``COL``)."""
    return [DUO[c][0] for c in consent.duo_codes if c not in PERMISSIONS]
