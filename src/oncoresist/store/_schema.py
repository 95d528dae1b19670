"""The tables of the store (SQLAlchemy Core); ``migrations/`` creates the same tables.

Identifiers are pseudonyms (64 hex digits, see :mod:`oncoresist.store._pseudonym`); every
row of data names the ingest that wrote it last. ``docs/store.md`` describes each column.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "VERSION_TABLE",
    "audit_anchor",
    "consents",
    "events",
    "ingests",
    "login_throttle",
    "marker_measurements",
    "metadata",
    "observations",
    "patient_pages",
    "patients",
    "revoked_sessions",
    "samples",
    "settings",
    "therapy_lines",
    "users",
]

VERSION_TABLE = "oncoresist_alembic_version"
PSEUDONYM = sa.String(64)

metadata = sa.MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    }
)

settings = sa.Table(
    "store_settings",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)

ingests = sa.Table(
    "ingests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("inserted", sa.Integer, nullable=False),
    sa.Column("updated", sa.Integer, nullable=False),
    sa.UniqueConstraint("kind", "sha256"),
)

patients = sa.Table(
    "patients",
    metadata,
    sa.Column("pseudonym", PSEUDONYM, primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # the treating site (set by the web service; NULL for command-line ingests)
    sa.Column("site", sa.String(64), nullable=True),
    sa.Column("disease", sa.Text, nullable=True),
    sa.Index(None, "site"),
)

samples = sa.Table(
    "samples",
    metadata,
    sa.Column("pseudonym", PSEUDONYM, primary_key=True),
    sa.Column("patient", PSEUDONYM, sa.ForeignKey("patients.pseudonym"), nullable=False),
    sa.Column("collection_date", sa.DateTime, nullable=False),
    sa.Column("cfdna_ng", sa.Double, nullable=True),
    sa.Column("tumor_fraction", sa.Double, nullable=True),
    sa.Column("ingest_id", sa.Integer, sa.ForeignKey("ingests.id"), nullable=False),
    sa.Index(None, "patient"),
)

observations = sa.Table(
    "observations",
    metadata,
    sa.Column("sample", PSEUDONYM, sa.ForeignKey("samples.pseudonym"), primary_key=True),
    sa.Column("alteration", sa.Text, primary_key=True),
    sa.Column("gene", sa.Text, nullable=False),
    sa.Column("alt_reads", sa.BigInteger, nullable=False),
    sa.Column("depth", sa.BigInteger, nullable=False),
    sa.Column("unique_molecules", sa.BigInteger, nullable=True),
    sa.Column("chrom", sa.Text, nullable=True),
    sa.Column("pos", sa.BigInteger, nullable=True),
    sa.Column("ref", sa.Text, nullable=True),
    sa.Column("alt", sa.Text, nullable=True),
    sa.Column("build", sa.Text, nullable=True),
    sa.Column("ingest_id", sa.Integer, sa.ForeignKey("ingests.id"), nullable=False),
    # unique molecules (UMI families) with the alternate allele; added by migration 0004
    sa.Column("alt_molecules", sa.BigInteger, nullable=True),
    sa.CheckConstraint("alt_reads >= 0 AND alt_reads <= depth", name="ck_observations_reads"),
)

therapy_lines = sa.Table(
    "therapy_lines",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("patient", PSEUDONYM, sa.ForeignKey("patients.pseudonym"), nullable=False),
    sa.Column("regimen", sa.Text, nullable=False),
    sa.Column("start_date", sa.DateTime, nullable=False),
    sa.Column("end_date", sa.DateTime, nullable=True),
    sa.Column("reason_stopped", sa.Text, nullable=True),
    sa.Column("ingest_id", sa.Integer, sa.ForeignKey("ingests.id"), nullable=False),
    sa.UniqueConstraint("patient", "regimen", "start_date"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("patient", PSEUDONYM, sa.ForeignKey("patients.pseudonym"), nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("date", sa.DateTime, nullable=False),
    sa.Column("ingest_id", sa.Integer, sa.ForeignKey("ingests.id"), nullable=False),
    sa.UniqueConstraint("patient", "event", "date"),
)

# consent per patient, append-only: the newest row (highest id) is the one in force
consents = sa.Table(
    "consents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("patient", PSEUDONYM, sa.ForeignKey("patients.pseudonym"), nullable=False),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("duo_codes", sa.Text, nullable=False),
    sa.Column("version", sa.String(32), nullable=False),
    sa.Column("consent_date", sa.Date, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("recorded_by", sa.String(64), nullable=False),
    sa.Index(None, "patient"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("site", sa.String(64), nullable=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# the web service's patient page, built from the rows above for one data version of the
# patient (see oncoresist.server._pages); derived, so it can always be rebuilt
patient_pages = sa.Table(
    "patient_pages",
    metadata,
    sa.Column("patient", PSEUDONYM, sa.ForeignKey("patients.pseudonym"), primary_key=True),
    sa.Column("version", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("alerts", sa.Integer, nullable=False),
    sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
)

# the web service's login throttle (migration 0005): one row per keyed hash of an account,
# an address or an account-address pair (never the account or address itself), counting
# failures (or, for a pair that signed in, marking the address as known until ``until``)
login_throttle = sa.Table(
    "login_throttle",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("hits", sa.Integer, nullable=False),
    sa.Column("last_at", sa.Float, nullable=False),  # Unix seconds
    sa.Column("until", sa.Float, nullable=False),  # Unix seconds
    sa.Index(None, "last_at"),
)

# sessions ended by logout (migration 0005): every token of the session is refused until
# the session's absolute end, after which the row may go
revoked_sessions = sa.Table(
    "revoked_sessions",
    metadata,
    sa.Column("session", sa.String(64), primary_key=True),
    sa.Column("expires_at", sa.Float, nullable=False),  # Unix seconds
    sa.Index(None, "expires_at"),
)

# serial marker measurements for forecasts (migration 0006): one row per patient, marker and
# time point; ``at`` is the key of the time point (the ISO date when the file gave one, else
# ``day:<days>``), so a re-ingested file finds its rows whether it gave days or dates
marker_measurements = sa.Table(
    "marker_measurements",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("patient", PSEUDONYM, sa.ForeignKey("patients.pseudonym"), nullable=False),
    sa.Column("marker", sa.String(32), nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("day", sa.Double, nullable=True),  # as the file gave it; NULL with a date
    sa.Column("date", sa.DateTime, nullable=True),
    sa.Column("value", sa.Double, nullable=False),  # the limit itself when censored
    sa.Column("lower_limit_of_quantification", sa.Double, nullable=True),
    sa.Column("censored", sa.Boolean, nullable=False),
    sa.Column("on_treatment", sa.Integer, nullable=True),  # 1/0; NULL: from therapy lines
    sa.Column("ingest_id", sa.Integer, sa.ForeignKey("ingests.id"), nullable=False),
    sa.UniqueConstraint("patient", "marker", "at"),
    sa.CheckConstraint("value >= 0", name="ck_marker_measurements_value"),
)

# the head of each audit log's hash chain (migration 0007): one row per log, named by a keyed
# hash of the log's absolute path; advanced after each group of appended events is on disk,
# frozen (``mismatch`` set) once the log is found shorter than, or forked from, the anchor
audit_anchor = sa.Table(
    "audit_anchor",
    metadata,
    sa.Column("log", sa.String(64), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("mac", sa.String(64), nullable=False),  # HMAC(key, log:seq:hash)
    sa.Column("updated_at", sa.Float, nullable=False),  # Unix seconds
    sa.Column("mismatch", sa.String(400), nullable=True),
    sa.Column("recovered", sa.Integer, nullable=False),  # torn tails since acknowledged
)
