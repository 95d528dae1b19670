"""The audit log's anchor: the head of its hash chain, kept in the store.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-16
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create audit_anchor: one row per audit log (sequence, hash and HMAC of its head)."""
    op.create_table(
        "audit_anchor",
        sa.Column("log", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("mismatch", sa.String(400), nullable=True),
        sa.Column("recovered", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("log", name="pk_audit_anchor"),
    )


def downgrade() -> None:
    """Drop audit_anchor."""
    op.drop_table("audit_anchor")
