"""Keep other data recorded with a result (e.g. each workflow step's measurements).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21

Adds experiments.outputs (JSON, null for existing rows).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add experiments.outputs."""
    with op.batch_alter_table("experiments") as batch:
        batch.add_column(sa.Column("outputs", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop it again."""
    with op.batch_alter_table("experiments") as batch:
        batch.drop_column("outputs")
