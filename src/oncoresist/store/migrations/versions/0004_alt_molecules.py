"""Counts in molecules: unique molecules carrying the alternate allele.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add observations.alt_molecules (nullable: rows stored before have no molecule count)."""
    op.add_column("observations", sa.Column("alt_molecules", sa.BigInteger, nullable=True))


def downgrade() -> None:
    """Remove observations.alt_molecules."""
    with op.batch_alter_table("observations") as batch:
        batch.drop_column("alt_molecules")
