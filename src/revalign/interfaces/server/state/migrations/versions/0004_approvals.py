"""Approvals of versioned definitions (scoring models, agreements) and who signed them when.

Revision ID: 0004
Revises: 0003_audit_decisions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003_audit_decisions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subject_kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("content_hash", sa.String(128), nullable=False),
        sa.Column("required", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("proposed_by", sa.String(128), nullable=False),
        sa.Column("proposed_at", sa.DateTime, nullable=False),
        sa.Column("effective_at", sa.DateTime),
        sa.Column("note", sa.Text),
        sa.UniqueConstraint("subject_kind", "name", "version", name="uq_approvals_subject_version"),
    )
    op.create_table(
        "approval_signatures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("approval_id", sa.Integer, sa.ForeignKey("approvals.id"), nullable=False),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("signed_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("approval_id", "department", name="uq_approval_signatures_department"),
    )


def downgrade() -> None:
    op.drop_table("approval_signatures")
    op.drop_table("approvals")
