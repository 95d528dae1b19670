"""Serial marker measurements (PSA, ctDNA levels, lesion sizes) per patient, for forecasts.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-14
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create marker_measurements: one row per patient, marker and day (or date)."""
    op.create_table(
        "marker_measurements",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("patient", sa.String(64), nullable=False),
        sa.Column("marker", sa.String(32), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("day", sa.Double, nullable=True),
        sa.Column("date", sa.DateTime, nullable=True),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("lower_limit_of_quantification", sa.Double, nullable=True),
        sa.Column("censored", sa.Boolean, nullable=False),
        sa.Column("on_treatment", sa.Integer, nullable=True),
        sa.Column("ingest_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_marker_measurements"),
        sa.ForeignKeyConstraint(
            ["patient"], ["patients.pseudonym"], name="fk_marker_measurements_patient"
        ),
        sa.ForeignKeyConstraint(
            ["ingest_id"], ["ingests.id"], name="fk_marker_measurements_ingest_id"
        ),
        sa.UniqueConstraint(
            "patient", "marker", "at", name="uq_marker_measurements_patient_marker_at"
        ),
        sa.CheckConstraint("value >= 0", name="ck_marker_measurements_value"),
    )


def downgrade() -> None:
    """Drop marker_measurements."""
    op.drop_table("marker_measurements")
