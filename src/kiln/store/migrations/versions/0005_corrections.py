"""Corrections with a history: amended and retracted experiments, and every earlier value.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Adds experiments.amended (corrections so far) and experiments.retracted, and the revisions table.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the columns and the revisions table."""
    with op.batch_alter_table("experiments") as batch:
        batch.add_column(sa.Column("amended", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("retracted", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "revisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.String(64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("retracted", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_revisions"),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_revisions_campaign_id_campaigns", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.id"], name="fk_revisions_experiment_id_experiments", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("experiment_id", "number", name="uq_revisions_experiment_id_number"),
    )
    op.create_index("ix_revisions_campaign_id", "revisions", ["campaign_id"])


def downgrade() -> None:
    """Drop them again."""
    op.drop_index("ix_revisions_campaign_id", table_name="revisions")
    op.drop_table("revisions")
    with op.batch_alter_table("experiments") as batch:
        batch.drop_column("retracted")
        batch.drop_column("amended")
