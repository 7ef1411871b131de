"""Reviewers' decisions on audit findings: confirm or dismiss (with a reason), by whom and when, every one kept.

A finding's id is deterministic (a hash of its kind, record and time), so a decision made today still applies
after tomorrow's refresh finds the same finding again. Decisions are appended, never updated: the latest one on
a finding is its status, the earlier ones are its history (who reopened what, and why). Only the roles that
own the numbers' integrity decide (:data:`REVIEWER_ROLES`); everyone else reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa

from revalign.analytics.audit.credit import STATUSES
from revalign.errors import PermissionDenied, UnknownNameError
from revalign.interfaces.server.errors import BadRequest
from revalign.interfaces.server.roles import Role
from revalign.interfaces.server.state.store import StateStore, UserRecord

REVIEWER_ROLES: Final = frozenset({Role.ADMIN, Role.REVOPS, Role.FINANCE})
"""May confirm or dismiss findings: RevOps owns the process, finance the money a finding moves, admins everything.
Sales and marketing are the parties whose credit a finding moves, so they read but do not judge."""
MAX_REASON: Final = 2000
FINDING_ID: Final = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")

metadata = sa.MetaData()
audit_decisions = sa.Table(
    "audit_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("finding_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("user_id", sa.Integer),
    sa.Column("username", sa.String(128), nullable=False),
    sa.Column("decided_at", sa.DateTime, nullable=False),
)


def may_decide(role: str) -> bool:
    """Whether a user with ``role`` may confirm or dismiss findings."""
    return role in REVIEWER_ROLES


@dataclass(frozen=True)
class DecisionRecord:
    """One decision on one finding."""

    id: int
    finding_id: str
    status: str
    reason: str | None
    username: str
    decided_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "finding_id": self.finding_id,
            "status": self.status,
            "reason": self.reason,
            "by": self.username,
            "at": self.decided_at.isoformat(),
        }


def _record(row: Any) -> DecisionRecord:
    return DecisionRecord(
        id=row.id,
        finding_id=row.finding_id,
        status=row.status,
        reason=row.reason,
        username=row.username,
        decided_at=row.decided_at,
    )


def checked_decision(finding_id: str, status: str, reason: str | None) -> tuple[str, str, str | None]:
    """``(finding_id, status, reason)`` stripped, or :class:`BadRequest` naming the field and the rule broken."""
    if not FINDING_ID.match(finding_id or ""):
        raise BadRequest(
            f"finding_id must be 1-64 letters, digits or _.:- (a finding's id from GET /api/v1/audit). "
            f"Got {finding_id!r} instead.",
            loc=("path", "finding_id"),
            rule="finding_id",
        )
    if status not in STATUSES:
        raise BadRequest(
            f"status must be one of {', '.join(STATUSES)}. Got {status!r} instead.", loc=("body", "status"), rule="enum"
        )
    text = (reason or "").strip() or None
    if status == "dismissed" and text is None:
        raise BadRequest(
            "a dismissal needs a reason (say why this is not gaming), so the next reviewer knows.",
            loc=("body", "reason"),
            rule="reason_required",
        )
    if text is not None and len(text) > MAX_REASON:
        raise BadRequest(
            f"reason must be at most {MAX_REASON} characters. Got {len(text)}.", loc=("body", "reason"), rule="length"
        )
    return finding_id, status, text


class AuditDecisions:
    """The decisions table of one :class:`StateStore` (created by the store's migrations)."""

    def __init__(self, store: StateStore) -> None:
        self.db = store.db

    def decide(
        self,
        user: UserRecord,
        finding_id: str,
        status: str,
        reason: str | None = None,
        *,
        known: Callable[[], Collection[str]] | None = None,
    ) -> DecisionRecord:
        """Record ``user``'s decision (the finding's status from now on); earlier decisions stay as history.

        Checked in the order a client can act on: the role (403), the values (422), then that the finding is one
        of ``known()`` (404 naming close ids), asked last because listing the findings runs the audit.
        """
        if not may_decide(user.role):
            allowed = ", ".join(sorted(REVIEWER_ROLES))
            raise PermissionDenied(f"Your role ({user.role}) may read findings but not decide them; {allowed} may.")
        finding_id, status, reason = checked_decision(finding_id, status, reason)
        if known is not None:
            ids = known()
            if finding_id not in ids:
                raise UnknownNameError("audit finding", finding_id, ids)
        when = datetime.now(UTC).replace(tzinfo=None)
        insert = audit_decisions.insert().values(
            finding_id=finding_id,
            status=status,
            reason=reason,
            user_id=user.id,
            username=user.username,
            decided_at=when,
        )
        with self.db.begin() as conn:
            new_id = conn.execute(insert).inserted_primary_key
        assert new_id is not None  # an insert into a table with a primary key always returns it
        return DecisionRecord(int(new_id[0]), finding_id, status, reason, user.username, when)

    def latest(self, finding_ids: Iterable[str] | None = None) -> dict[str, DecisionRecord]:
        """The latest decision per finding (of ``finding_ids``, or all): each finding's status and who set it."""
        last = sa.select(sa.func.max(audit_decisions.c.id)).group_by(audit_decisions.c.finding_id)
        query = sa.select(audit_decisions).where(audit_decisions.c.id.in_(last))
        if finding_ids is not None:
            query = query.where(audit_decisions.c.finding_id.in_(list(finding_ids)))
        with self.db.connect() as conn:
            return {r.finding_id: _record(r) for r in conn.execute(query)}

    def statuses(self) -> dict[str, str]:
        """finding_id → status, for every finding anyone decided (the others are open)."""
        return {k: v.status for k, v in self.latest().items()}

    def history(self, finding_id: str) -> list[DecisionRecord]:
        """Every decision on ``finding_id``, oldest first."""
        query = sa.select(audit_decisions).where(audit_decisions.c.finding_id == finding_id)
        with self.db.connect() as conn:
            return [_record(r) for r in conn.execute(query.order_by(audit_decisions.c.id))]

    def version(self) -> int:
        """The id of the newest decision (0 when none): moves on every decision, so cached reports can key on it."""
        with self.db.connect() as conn:
            return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(audit_decisions.c.id), 0))).scalar_one())


__all__ = [
    "REVIEWER_ROLES",
    "AuditDecisions",
    "DecisionRecord",
    "audit_decisions",
    "checked_decision",
    "may_decide",
]
