"""The web service's stored patient pages.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create patient_pages: one built page per patient, under its data version."""
    op.create_table(
        "patient_pages",
        sa.Column("patient", sa.String(64), nullable=False),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("alerts", sa.Integer, nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("patient", name="pk_patient_pages"),
        sa.ForeignKeyConstraint(
            ["patient"], ["patients.pseudonym"], name="fk_patient_pages_patient"
        ),
    )


def downgrade() -> None:
    """Drop patient_pages."""
    op.drop_table("patient_pages")
