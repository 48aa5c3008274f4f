"""Record where each experiment was dispatched, and experiments that need an operator.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

Adds experiments.instrument, .handle, .dispatched_at and .attention (empty for existing rows).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the four dispatch columns."""
    with op.batch_alter_table("experiments") as batch:
        batch.add_column(sa.Column("instrument", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("handle", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("attention", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table("experiments") as batch:
        for name in ("attention", "dispatched_at", "handle", "instrument"):
            batch.drop_column(name)
