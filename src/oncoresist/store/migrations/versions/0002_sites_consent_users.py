"""Sites, consent and users for the web service.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PSEUDONYM = sa.String(64)


def upgrade() -> None:
    """Add the treating site and disease to patients; create consents and users."""
    op.add_column("patients", sa.Column("site", sa.String(64), nullable=True))
    op.add_column("patients", sa.Column("disease", sa.Text, nullable=True))
    op.create_index("ix_patients_site", "patients", ["site"])
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("patient", PSEUDONYM, nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("duo_codes", sa.Text, nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("consent_date", sa.Date, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_consents"),
        sa.ForeignKeyConstraint(["patient"], ["patients.pseudonym"], name="fk_consents_patient"),
    )
    op.create_index("ix_consents_patient", "consents", ["patient"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("site", sa.String(64), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )


def downgrade() -> None:
    """Drop users and consents; remove the patients' site and disease."""
    op.drop_table("users")
    op.drop_index("ix_consents_patient", table_name="consents")
    op.drop_table("consents")
    op.drop_index("ix_patients_site", table_name="patients")
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("disease")
        batch.drop_column("site")
