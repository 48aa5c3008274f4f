"""Keep a note with a result (free text a person recorded with it).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Adds experiments.note (text, empty for existing rows).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add experiments.note."""
    with op.batch_alter_table("experiments") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    """Drop it again."""
    with op.batch_alter_table("experiments") as batch:
        batch.drop_column("note")
