"""Initial schema: patients, samples, observations, therapy lines, events, ingests.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

PSEUDONYM = sa.String(64)


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "store_settings",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_store_settings"),
    )
    op.create_table(
        "ingests",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("inserted", sa.Integer, nullable=False),
        sa.Column("updated", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ingests"),
        sa.UniqueConstraint("kind", "sha256", name="uq_ingests_kind_sha256"),
    )
    op.create_table(
        "patients",
        sa.Column("pseudonym", PSEUDONYM, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pseudonym", name="pk_patients"),
    )
    op.create_table(
        "samples",
        sa.Column("pseudonym", PSEUDONYM, nullable=False),
        sa.Column("patient", PSEUDONYM, nullable=False),
        sa.Column("collection_date", sa.DateTime, nullable=False),
        sa.Column("cfdna_ng", sa.Double, nullable=True),
        sa.Column("tumor_fraction", sa.Double, nullable=True),
        sa.Column("ingest_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("pseudonym", name="pk_samples"),
        sa.ForeignKeyConstraint(["patient"], ["patients.pseudonym"], name="fk_samples_patient"),
        sa.ForeignKeyConstraint(["ingest_id"], ["ingests.id"], name="fk_samples_ingest_id"),
    )
    op.create_index("ix_samples_patient", "samples", ["patient"])
    op.create_table(
        "observations",
        sa.Column("sample", PSEUDONYM, nullable=False),
        sa.Column("alteration", sa.Text, nullable=False),
        sa.Column("gene", sa.Text, nullable=False),
        sa.Column("alt_reads", sa.BigInteger, nullable=False),
        sa.Column("depth", sa.BigInteger, nullable=False),
        sa.Column("unique_molecules", sa.BigInteger, nullable=True),
        sa.Column("chrom", sa.Text, nullable=True),
        sa.Column("pos", sa.BigInteger, nullable=True),
        sa.Column("ref", sa.Text, nullable=True),
        sa.Column("alt", sa.Text, nullable=True),
        sa.Column("build", sa.Text, nullable=True),
        sa.Column("ingest_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("sample", "alteration", name="pk_observations"),
        sa.ForeignKeyConstraint(["sample"], ["samples.pseudonym"], name="fk_observations_sample"),
        sa.ForeignKeyConstraint(["ingest_id"], ["ingests.id"], name="fk_observations_ingest_id"),
        sa.CheckConstraint("alt_reads >= 0 AND alt_reads <= depth", name="ck_observations_reads"),
    )
    op.create_table(
        "therapy_lines",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("patient", PSEUDONYM, nullable=False),
        sa.Column("regimen", sa.Text, nullable=False),
        sa.Column("start_date", sa.DateTime, nullable=False),
        sa.Column("end_date", sa.DateTime, nullable=True),
        sa.Column("reason_stopped", sa.Text, nullable=True),
        sa.Column("ingest_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_therapy_lines"),
        sa.ForeignKeyConstraint(
            ["patient"], ["patients.pseudonym"], name="fk_therapy_lines_patient"
        ),
        sa.ForeignKeyConstraint(["ingest_id"], ["ingests.id"], name="fk_therapy_lines_ingest_id"),
        sa.UniqueConstraint(
            "patient", "regimen", "start_date", name="uq_therapy_lines_patient_regimen_start_date"
        ),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("patient", PSEUDONYM, nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("date", sa.DateTime, nullable=False),
        sa.Column("ingest_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.ForeignKeyConstraint(["patient"], ["patients.pseudonym"], name="fk_events_patient"),
        sa.ForeignKeyConstraint(["ingest_id"], ["ingests.id"], name="fk_events_ingest_id"),
        sa.UniqueConstraint("patient", "event", "date", name="uq_events_patient_event_date"),
    )


def downgrade() -> None:
    """Drop the tables."""
    for table in (
        "events",
        "therapy_lines",
        "observations",
        "samples",
        "patients",
        "ingests",
        "store_settings",
    ):
        op.drop_table(table)
