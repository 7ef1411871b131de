"""Disputes: one team contests a number (a KPI value), an MQL's rejection or a record; a thread, an owner, a resolution.

Marketing and sales disagree about numbers; a dispute writes the disagreement down where both sides see it. A
dispute names its **subject** (``kpi``: a KPI, a period and a slice; ``mql_rejection``: a lead sales rejected;
``record``: a row of a canonical table), the side that opened it and **the other side** (the department that owns
the number: a KPI's owner department from the catalog; for an MQL rejection marketing against sales or sales
against marketing), an **owner** (assignee) and a **thread**.

Nothing is updated in place: the subject row is written once, and every step after it (opened, comment, assigned,
resolved) is an event appended to ``dispute_events``. A dispute's status, owner and resolution are read from its
events, so its history is the table itself. The schema is migration ``0006``.

Who may do what is checked here (the roles and sides); what the project knows (does the KPI exist, was the lead
rejected, whose record is it, is it pay data) is the caller's to give as :class:`SubjectFacts`, because this store
does not read revenue data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa

from revalign.errors import PermissionDenied, UnknownNameError
from revalign.interfaces.server.errors import BadRequest
from revalign.interfaces.server.roles import Role
from revalign.interfaces.server.state.store import StateStore, UserRecord
from revalign.model.tables import DEPARTMENTS

KINDS: Final = ("kpi", "mql_rejection", "record")
RESOLUTIONS: Final = ("upheld", "overturned", "withdrawn")
"""``upheld``: the number (or the rejection) stands; ``overturned``: it was wrong and is to be corrected;
``withdrawn``: the side that opened the dispute took it back."""
ACTIONS: Final = ("opened", "comment", "assigned", "resolved")
MAX_TEXT: Final = 2000
ROLE_DEPARTMENT: Final[dict[str, str]] = {
    Role.MARKETING: "marketing",
    Role.SALES: "sales",
    Role.REP: "sales",
    Role.REVOPS: "revops",
    Role.CUSTOMER_SUCCESS: "customer_success",
    Role.FINANCE: "finance",
    Role.LEADERSHIP: "executive",
}
"""The side a role speaks for. An admin names the side it opens a dispute for."""
REFEREE_ROLES: Final = frozenset({Role.ADMIN, Role.REVOPS})
"""May resolve any dispute: RevOps owns the process between the teams, admins everything."""
NAME: Final = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
PERIOD: Final = re.compile(r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2])|-W(0[1-9]|[1-4]\d|5[0-3]))?$")

metadata = sa.MetaData()
disputes = sa.Table(
    "disputes",
    metadata,
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
dispute_events = sa.Table(
    "dispute_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("dispute_id", sa.Integer, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("username", sa.String(128), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("value", sa.String(128)),
    sa.Column("text", sa.Text),
)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _bad(message: str, field_name: str, rule: str = "invalid") -> BadRequest:
    return BadRequest(message, loc=("body", field_name), rule=rule)


def _name(value: str | None, field_name: str) -> str:
    if not NAME.match(value or ""):
        raise _bad(f"{field_name} must be 1-128 letters, digits or _.:@-. Got {value!r} instead.", field_name)
    return str(value)


def checked_text(text: str | None, field_name: str = "note") -> str:
    """``text`` stripped, or :class:`BadRequest`: a dispute's every step says something, within :data:`MAX_TEXT`."""
    out = (text or "").strip()
    if not out:
        raise _bad(f"{field_name} is required: say what is wrong and why, so the other side can answer.", field_name)
    if len(out) > MAX_TEXT:
        raise _bad(f"{field_name} must be at most {MAX_TEXT} characters. Got {len(out)}.", field_name, "length")
    return out


@dataclass(frozen=True)
class Subject:
    """What is contested: a KPI value (kpi, period, slice), an MQL's rejection (lead_id) or a record (table, id)."""

    kind: str
    kpi: str | None = None
    period: str | None = None
    slice: tuple[tuple[str, str], ...] = ()
    lead_id: str | None = None
    table: str | None = None
    record_id: str | None = None

    @classmethod
    def checked(cls, kind: str, **values: Any) -> Subject:
        """The subject of ``kind`` from the request's fields, or :class:`BadRequest` naming the field at fault."""
        if kind == "kpi":
            period = values.get("period")
            if not PERIOD.match(period or ""):
                raise _bad(
                    f"period must be a year, quarter, month or week (2025, 2025-Q2, 2025-03). Got {period!r}.", "period"
                )
            pairs = tuple(
                sorted((_name(k, "slice"), _name(str(v), "slice")) for k, v in (values.get("slice") or {}).items())
            )
            return cls("kpi", kpi=_name(values.get("kpi"), "kpi"), period=period, slice=pairs)
        if kind == "mql_rejection":
            return cls("mql_rejection", lead_id=_name(values.get("lead_id"), "lead_id"))
        if kind == "record":
            return cls(
                "record",
                table=_name(values.get("table"), "table"),
                record_id=_name(values.get("record_id"), "record_id"),
            )
        raise _bad(f"kind must be one of {', '.join(KINDS)}. Got {kind!r} instead.", "kind", "enum")

    @property
    def key(self) -> str:
        """One string per subject: at most one open dispute per key."""
        if self.kind == "kpi":
            return f"kpi:{self.kpi}|{self.period}|" + ",".join(f"{k}={v}" for k, v in self.slice)
        if self.kind == "mql_rejection":
            return f"mql_rejection:{self.lead_id}"
        return f"record:{self.table}|{self.record_id}"

    def describe(self) -> str:
        """The subject in a few words (the dispute's title starts with it)."""
        if self.kind == "kpi":
            where = f" ({', '.join(f'{k}={v}' for k, v in self.slice)})" if self.slice else ""
            return f"{self.kpi} in {self.period}{where}"
        if self.kind == "mql_rejection":
            return f"rejection of MQL {self.lead_id}"
        return f"{self.table} record {self.record_id}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind == "kpi":
            out.update(kpi=self.kpi, period=self.period, slice=dict(self.slice))
        elif self.kind == "mql_rejection":
            out["lead_id"] = self.lead_id
        else:
            out.update(table=self.table, record_id=self.record_id)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Subject:
        return cls(
            data["kind"],
            kpi=data.get("kpi"),
            period=data.get("period"),
            slice=tuple(sorted((data.get("slice") or {}).items())),
            lead_id=data.get("lead_id"),
            table=data.get("table"),
            record_id=data.get("record_id"),
        )


@dataclass(frozen=True)
class SubjectFacts:
    """What the project knows of a subject (looked up by the caller): the department that owns it, whose record it
    is (a rep sees the disputes of their team's records), whether it is pay data, and a line of context."""

    against: str
    record_owner: str | None = None
    pay: bool = False
    context: str | None = None


@dataclass(frozen=True)
class Event:
    """One step of a dispute: opened, a comment, an assignment, the resolution."""

    id: int
    action: str
    username: str
    role: str
    at: datetime
    value: str | None
    text: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "by": self.username,
            "role": self.role,
            "at": self.at.isoformat(timespec="seconds"),
            "value": self.value,
            "text": self.text,
        }


@dataclass(frozen=True)
class Dispute:
    """A dispute and its events; status, owner and resolution are read from the events."""

    id: int
    subject: Subject
    title: str
    department: str
    against: str
    record_owner: str | None
    pay: bool
    opened_by: str
    opened_at: datetime
    events: tuple[Event, ...] = field(default=())

    def _last(self, action: str) -> Event | None:
        return next((e for e in reversed(self.events) if e.action == action), None)

    @property
    def status(self) -> str:
        return "resolved" if self._last("resolved") is not None else "open"

    @property
    def owner(self) -> str | None:
        last = self._last("assigned")
        return last.value if last is not None else None

    @property
    def resolution(self) -> Event | None:
        return self._last("resolved")

    @property
    def sides(self) -> tuple[str, str]:
        return self.department, self.against

    def to_dict(self) -> dict[str, Any]:
        resolved = self.resolution
        return {
            "id": self.id,
            "title": self.title,
            "subject": self.subject.to_dict(),
            "status": self.status,
            "opened_by": self.opened_by,
            "opened_at": self.opened_at.isoformat(timespec="seconds"),
            "department": self.department,
            "against": self.against,
            "owner": self.owner,
            "resolution": resolved.value if resolved else None,
            "resolution_note": resolved.text if resolved else None,
            "resolved_by": resolved.username if resolved else None,
            "thread": [e.to_dict() for e in self.events],
        }


def side_of(user: UserRecord, department: str | None = None) -> str:
    """The department ``user`` speaks for: their role's, or (an admin) the one they name."""
    own = ROLE_DEPARTMENT.get(user.role)
    if own is not None:
        return own
    if department in DEPARTMENTS:
        return str(department)
    raise _bad(
        f"Your role ({user.role}) is on no side: name the department you open this for ({', '.join(DEPARTMENTS)}).",
        "department",
        "department_required",
    )


def may_resolve(user: UserRecord, dispute: Dispute, resolution: str) -> bool:
    """Withdrawing is the opener's (or a referee's); upholding or overturning is the other side's, the owner's or a
    referee's (:data:`REFEREE_ROLES`)."""
    if user.role in REFEREE_ROLES:
        return True
    if resolution == "withdrawn":
        return user.username == dispute.opened_by
    return ROLE_DEPARTMENT.get(user.role) == dispute.against or user.username == dispute.owner


Notify = Callable[[Dispute, str, UserRecord], None]
"""Told of each step (the dispute, the action, who took it): the server puts it in the other side's inbox."""


class Disputes:
    """The disputes of one :class:`StateStore` (created by the store's migrations)."""

    def __init__(self, store: StateStore, notify: Notify | None = None) -> None:
        self.store = store
        self.db = store.db
        self.notify = notify

    def _append(
        self, conn: sa.Connection, dispute_id: int, user: UserRecord, action: str, value: str | None, text: str | None
    ) -> None:
        conn.execute(
            dispute_events.insert().values(
                dispute_id=dispute_id,
                action=action,
                username=user.username,
                role=user.role,
                at=_now(),
                value=value,
                text=text,
            )
        )

    def open(
        self,
        user: UserRecord,
        subject: Subject,
        facts: SubjectFacts,
        note: str,
        *,
        department: str | None = None,
        owner: str | None = None,
    ) -> Dispute:
        """Open a dispute on ``subject`` for ``user``'s side against ``facts.against``; one open dispute per subject."""
        text = checked_text(note)
        side = side_of(user, department)
        if side == facts.against:
            raise _bad(
                f"{subject.describe()} is owned by {side}, your own side: a dispute is between two teams.",
                "kind",
                "same_side",
            )
        existing = self.find_open(subject.key)
        if existing is not None:
            raise _bad(
                f"Dispute #{existing.id} on {subject.describe()} is already open: add to its thread.",
                "kind",
                "duplicate",
            )
        assignee = self._user(owner) if owner else None
        title = f"{side} disputes {subject.describe()}" + (f" ({facts.context})" if facts.context else "")
        values = dict(
            kind=subject.kind, subject_key=subject.key, subject=json.dumps(subject.to_dict()), title=title[:512],
            department=side, against=facts.against, record_owner=facts.record_owner, pay=facts.pay,
            opened_by=user.username, opened_at=_now(),
        )  # fmt: skip
        with self.db.begin() as conn:
            key = conn.execute(disputes.insert().values(**values)).inserted_primary_key
            assert key is not None  # an insert into a table with a primary key always returns it
            new_id = int(key[0])
            self._append(conn, new_id, user, "opened", None, text)
            if assignee is not None:
                self._append(conn, new_id, user, "assigned", assignee.username, None)
        return self._told(self.get(new_id), "opened", user)

    def _told(self, dispute: Dispute, action: str, user: UserRecord) -> Dispute:
        if self.notify is not None:
            self.notify(dispute, action, user)
        return dispute

    def _user(self, username: str) -> UserRecord:
        return self.store.get_user(username)  # UnknownNameError (404) naming close user names

    def comment(self, user: UserRecord, dispute_id: int, text: str) -> Dispute:
        """Add ``user``'s comment to the thread (open or resolved: the record of the argument stays whole)."""
        body = checked_text(text, "text")
        self.get(dispute_id)
        with self.db.begin() as conn:
            self._append(conn, dispute_id, user, "comment", None, body)
        return self._told(self.get(dispute_id), "comment", user)

    def assign(self, user: UserRecord, dispute_id: int, owner: str) -> Dispute:
        """Make ``owner`` (a user name) the one who answers for the dispute."""
        dispute = self.get(dispute_id)
        if dispute.status != "open":
            raise _bad(f"Dispute #{dispute_id} is resolved; it has no one left to answer it.", "owner", "resolved")
        assignee = self._user(_name(owner, "owner"))
        with self.db.begin() as conn:
            self._append(conn, dispute_id, user, "assigned", assignee.username, None)
        return self._told(self.get(dispute_id), "assigned", user)

    def resolve(self, user: UserRecord, dispute_id: int, resolution: str, note: str) -> Dispute:
        """Close an open dispute as upheld, overturned or withdrawn, with a note saying why."""
        if resolution not in RESOLUTIONS:
            raise _bad(
                f"resolution must be one of {', '.join(RESOLUTIONS)}. Got {resolution!r} instead.", "resolution", "enum"
            )
        text = checked_text(note)
        dispute = self.get(dispute_id)
        if dispute.status != "open":
            raise _bad(
                f"Dispute #{dispute_id} is already resolved ({dispute.to_dict()['resolution']}).",
                "resolution",
                "resolved",
            )
        if not may_resolve(user, dispute, resolution):
            who = "the side that opened it" if resolution == "withdrawn" else f"{dispute.against}, its owner"
            raise PermissionDenied(f"Only {who}, RevOps or an admin may mark dispute #{dispute_id} {resolution}.")
        with self.db.begin() as conn:
            self._append(conn, dispute_id, user, "resolved", resolution, text)
        return self._told(self.get(dispute_id), "resolved", user)

    def find_open(self, subject_key: str) -> Dispute | None:
        """The open dispute on ``subject_key``, if any."""
        return next((d for d in self.find(status="open") if d.subject.key == subject_key), None)

    def get(self, dispute_id: int) -> Dispute:
        """One dispute with its thread, or :class:`UnknownNameError` (404)."""
        found = self._load(sa.select(disputes).where(disputes.c.id == dispute_id))
        if not found:
            raise UnknownNameError("dispute", str(dispute_id), [])
        return found[0]

    def find(self, *, status: str | None = None) -> list[Dispute]:
        """Every dispute (or only the ``open`` / ``resolved`` ones), newest first."""
        found = self._load(sa.select(disputes).order_by(disputes.c.id.desc()))
        return [d for d in found if status is None or d.status == status]

    def _load(self, query: sa.Select[Any]) -> list[Dispute]:
        with self.db.connect() as conn:
            rows = conn.execute(query).all()
            ids = [r.id for r in rows]
            events: dict[int, list[Event]] = {i: [] for i in ids}
            q = sa.select(dispute_events).where(dispute_events.c.dispute_id.in_(ids)).order_by(dispute_events.c.id)
            for e in conn.execute(q) if ids else ():
                events[e.dispute_id].append(Event(e.id, e.action, e.username, e.role, e.at, e.value, e.text))
        return [_dispute(r, events[r.id]) for r in rows]

    def version(self) -> int:
        """The newest event's id (0 when none): moves on every step."""
        with self.db.connect() as conn:
            return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(dispute_events.c.id), 0))).scalar_one())


def _dispute(row: Any, events: Iterable[Event]) -> Dispute:
    return Dispute(
        id=row.id,
        subject=Subject.from_dict(json.loads(row.subject)),
        title=row.title,
        department=row.department,
        against=row.against,
        record_owner=row.record_owner,
        pay=bool(row.pay),
        opened_by=row.opened_by,
        opened_at=row.opened_at,
        events=tuple(events),
    )


__all__ = [
    "ACTIONS",
    "KINDS",
    "RESOLUTIONS",
    "ROLE_DEPARTMENT",
    "Dispute",
    "Disputes",
    "Event",
    "Subject",
    "SubjectFacts",
    "checked_text",
    "dispute_events",
    "disputes",
    "may_resolve",
    "side_of",
]
