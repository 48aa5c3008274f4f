"""Run leases: one row per campaign that a run drives now (owner, host, pid, since, heartbeat, expiry).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the leases table."""
    op.create_table(
        "leases",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_leases_campaign_id_campaigns", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("campaign_id", name="pk_leases"),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("leases")
