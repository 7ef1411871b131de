"""Disputes (the contested subject, the two sides) and their append-only events (opened, comments, owner, resolution).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject_key", sa.String(512), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("title", sa.String(512), nullable=False),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("against", sa.String(32), nullable=False),
        sa.Column("record_owner", sa.String(128)),
        sa.Column("pay", sa.Boolean, nullable=False),
        sa.Column("opened_by", sa.String(128), nullable=False),
        sa.Column("opened_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_disputes_subject", "disputes", ["subject_key"])
    op.create_table(
        "dispute_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dispute_id", sa.Integer, sa.ForeignKey("disputes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("value", sa.String(128)),
        sa.Column("text", sa.Text),
    )
    op.create_index("ix_dispute_events_dispute", "dispute_events", ["dispute_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_dispute_events_dispute", table_name="dispute_events")
    op.drop_table("dispute_events")
    op.drop_index("ix_disputes_subject", table_name="disputes")
    op.drop_table("disputes")
