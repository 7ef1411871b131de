"""Approvals: a versioned definition both teams must sign before it takes effect, with who signed and when.

Generic over what is approved (``subject_kind``: a scoring model today, an agreement between marketing and sales
tomorrow): a proposal names the subject, its version and the hash of its content, and the departments that must
sign. A login signs for the department of its role (``marketing`` signs for marketing, ``sales`` for sales; see
:func:`department_of`). The proposal takes effect — status ``approved``, ``effective_at`` the last signature's
time — only when every required department has signed; the version it replaces becomes ``superseded``. A
signature is for the content hash the signer saw, so a file edited after the proposal cannot be approved
under the old one's signatures.

Tables (``approvals``, ``approval_signatures``) are created by migration ``0004_approvals``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa

from revalign.errors import ConfigError, PermissionDenied, UnknownNameError
from revalign.interfaces.server.state.store import StateStore, UserRecord

SubjectKind = Literal["scoring", "agreement"]
SUBJECT_KINDS: tuple[str, ...] = ("scoring", "agreement")
Status = Literal["proposed", "approved", "superseded"]
SIGNING_ROLES = {"marketing": "marketing", "sales": "sales", "revops": "revops", "customer_success": "customer_success"}
"""Role → the department a login of that role signs for (leaders of each team hold these roles)."""

metadata = sa.MetaData()
approvals = sa.Table(
    "approvals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("subject_kind", sa.String(32)),
    sa.Column("name", sa.String(128)),
    sa.Column("version", sa.String(64)),
    sa.Column("content_hash", sa.String(128)),
    sa.Column("required", sa.String(256)),
    sa.Column("status", sa.String(16)),
    sa.Column("proposed_by", sa.String(128)),
    sa.Column("proposed_at", sa.DateTime),
    sa.Column("effective_at", sa.DateTime),
    sa.Column("note", sa.Text),
)
signatures = sa.Table(
    "approval_signatures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("approval_id", sa.Integer),
    sa.Column("department", sa.String(32)),
    sa.Column("username", sa.String(128)),
    sa.Column("signed_at", sa.DateTime),
)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def department_of(user: UserRecord) -> str | None:
    """The department ``user`` signs for, or ``None`` when their role signs for none."""
    return SIGNING_ROLES.get(user.role)


@dataclass(frozen=True)
class Signature:
    department: str
    username: str
    signed_at: datetime


@dataclass(frozen=True)
class ApprovalRecord:
    """One proposed version and its signatures."""

    id: int
    subject_kind: str
    name: str
    version: str
    content_hash: str
    required: tuple[str, ...]
    status: str
    proposed_by: str
    proposed_at: datetime
    effective_at: datetime | None
    note: str
    signatures: tuple[Signature, ...] = field(default=())

    @property
    def missing(self) -> tuple[str, ...]:
        """Required departments that have not signed yet."""
        signed = {s.department for s in self.signatures}
        return tuple(d for d in self.required if d not in signed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subject_kind": self.subject_kind,
            "name": self.name,
            "version": self.version,
            "content_hash": self.content_hash,
            "required": list(self.required),
            "status": self.status,
            "proposed_by": self.proposed_by,
            "proposed_at": self.proposed_at.isoformat(),
            "effective_at": self.effective_at.isoformat() if self.effective_at else None,
            "note": self.note,
            "missing": list(self.missing),
            "signatures": [
                {"department": s.department, "username": s.username, "signed_at": s.signed_at.isoformat()}
                for s in self.signatures
            ],
        }


class Approvals:
    """Proposals and signatures in the app state database (``store``)."""

    def __init__(self, store: StateStore) -> None:
        self.db = store.db

    def _record(self, conn: sa.Connection, row: Any) -> ApprovalRecord:
        sigs = conn.execute(
            sa.select(signatures).where(signatures.c.approval_id == row.id).order_by(signatures.c.signed_at)
        )
        return ApprovalRecord(
            id=row.id,
            subject_kind=row.subject_kind,
            name=row.name,
            version=row.version,
            content_hash=row.content_hash,
            required=tuple(d for d in (row.required or "").split(",") if d),
            status=row.status,
            proposed_by=row.proposed_by,
            proposed_at=row.proposed_at,
            effective_at=row.effective_at,
            note=row.note or "",
            signatures=tuple(Signature(s.department, s.username, s.signed_at) for s in sigs),
        )

    def _find(self, conn: sa.Connection, kind: str, name: str, version: str) -> Any:
        where = (approvals.c.subject_kind == kind, approvals.c.name == name, approvals.c.version == version)
        return conn.execute(sa.select(approvals).where(*where)).first()

    def propose(
        self,
        kind: str,
        name: str,
        version: str | int,
        content_hash: str,
        required: tuple[str, ...],
        *,
        by: str,
        note: str = "",
    ) -> ApprovalRecord:
        """Record a proposed version (again with the same content: the existing proposal, unchanged)."""
        if kind not in SUBJECT_KINDS:
            raise UnknownNameError("approval subject kind", kind, SUBJECT_KINDS)
        if not required:
            raise ConfigError(f"{kind} {name} v{version}: a proposal needs at least one required signatory.")
        with self.db.begin() as conn:
            row = self._find(conn, kind, name, str(version))
            if row is not None:
                if row.content_hash != content_hash:
                    raise ConfigError(
                        f"{kind} {name} version {version} was proposed with other content (hash "
                        f"{row.content_hash[:12]}…); a changed definition needs a new version number."
                    )
                return self._record(conn, row)
            conn.execute(
                approvals.insert().values(
                    subject_kind=kind,
                    name=name,
                    version=str(version),
                    content_hash=content_hash,
                    required=",".join(required),
                    status="proposed",
                    proposed_by=by,
                    proposed_at=_now(),
                    note=note,
                )
            )
            return self._record(conn, self._find(conn, kind, name, str(version)))

    def get(self, approval_id: int) -> ApprovalRecord:
        with self.db.connect() as conn:
            row = conn.execute(sa.select(approvals).where(approvals.c.id == approval_id)).first()
            if row is None:
                known = [str(r.id) for r in conn.execute(sa.select(approvals.c.id))]
                raise UnknownNameError("approval", str(approval_id), known)
            return self._record(conn, row)

    def sign(self, approval_id: int, user: UserRecord, content_hash: str) -> ApprovalRecord:
        """``user`` signs proposal ``approval_id`` for their department, for the content they saw.

        Refused (:class:`PermissionDenied`) when the role signs for no required department, when the content
        changed, or when the proposal is no longer open; signing twice for a department keeps the first signature.
        """
        dept = department_of(user)
        with self.db.begin() as conn:
            row = conn.execute(sa.select(approvals).where(approvals.c.id == approval_id)).first()
            if row is None:
                raise UnknownNameError("approval", str(approval_id), [])
            rec = self._record(conn, row)
            if rec.status != "proposed":
                raise PermissionDenied(f"{rec.name} v{rec.version} is {rec.status}; only a proposed version is signed.")
            if dept is None or dept not in rec.required:
                raise PermissionDenied(
                    f"{user.username} ({user.role}) cannot sign {rec.name} v{rec.version}: it needs "
                    f"{', '.join(rec.required)} (logins with those roles sign for their department)."
                )
            if content_hash != rec.content_hash:
                raise PermissionDenied(
                    f"{rec.name} v{rec.version} changed since it was shown (hash {content_hash[:12]}… is not "
                    f"{rec.content_hash[:12]}…); reload and review it again."
                )
            if dept not in {s.department for s in rec.signatures}:
                conn.execute(
                    signatures.insert().values(
                        approval_id=rec.id, department=dept, username=user.username, signed_at=_now()
                    )
                )
            rec = self._record(conn, row)
            if not rec.missing:
                self._take_effect(conn, rec)
            return self._record(conn, conn.execute(sa.select(approvals).where(approvals.c.id == approval_id)).first())

    def _take_effect(self, conn: sa.Connection, rec: ApprovalRecord) -> None:
        when = max(s.signed_at for s in rec.signatures)
        same = (approvals.c.subject_kind == rec.subject_kind, approvals.c.name == rec.name)
        conn.execute(approvals.update().where(*same, approvals.c.status == "approved").values(status="superseded"))
        conn.execute(approvals.update().where(approvals.c.id == rec.id).values(status="approved", effective_at=when))

    def proposals(self, kind: str | None = None, *, status: str | None = None) -> list[ApprovalRecord]:
        """Every proposal (of ``kind``, with ``status``), newest first."""
        query = sa.select(approvals).order_by(approvals.c.proposed_at.desc(), approvals.c.id.desc())
        if kind is not None:
            query = query.where(approvals.c.subject_kind == kind)
        if status is not None:
            query = query.where(approvals.c.status == status)
        with self.db.connect() as conn:
            return [self._record(conn, r) for r in conn.execute(query).all()]

    def in_force(self, kind: str, name: str) -> ApprovalRecord | None:
        """The approved version of ``name`` in force now (``None`` when no version was ever approved)."""
        found = [r for r in self.proposals(kind, status="approved") if r.name == name]
        return found[0] if found else None


__all__ = [
    "SIGNING_ROLES",
    "SUBJECT_KINDS",
    "ApprovalRecord",
    "Approvals",
    "Signature",
    "department_of",
]
