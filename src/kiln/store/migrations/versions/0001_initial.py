"""Create the campaigns, experiments and events tables.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Written by hand; it must create exactly the tables of ``kiln.store.schema`` as they were at this revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the three tables with their keys and indexes."""
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
        sa.UniqueConstraint("name", name="uq_campaigns_name"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "experiments",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("candidate", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_experiments"),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name="fk_experiments_campaign_id_campaigns",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("campaign_id", "seq", name="uq_experiments_campaign_id_seq"),
    )
    op.create_index("ix_experiments_campaign_id_status", "experiments", ["campaign_id", "status"])
    op.create_table(
        "events",
        sa.Column("cursor", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cursor", name="pk_events"),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name="fk_events_campaign_id_campaigns",
            ondelete="CASCADE",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_campaign_id_cursor", "events", ["campaign_id", "cursor"])


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_index("ix_events_campaign_id_cursor", table_name="events")
    op.drop_table("events")
    op.drop_index("ix_experiments_campaign_id_status", table_name="experiments")
    op.drop_table("experiments")
    op.drop_table("campaigns")
