"""Reviewers' decisions on audit findings (confirm or dismiss, with a reason), every decision kept.

Revision ID: 0003_audit_decisions
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_audit_decisions"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("finding_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("user_id", sa.Integer),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("decided_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_audit_decisions_finding", "audit_decisions", ["finding_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_decisions_finding", table_name="audit_decisions")
    op.drop_table("audit_decisions")
