"""The alert log, the per-user inbox and the refresh history, in the app state database beside users and sessions.

:class:`AlertStore` is the :class:`~revalign.alerts.firing.AlertState` the evaluator remembers through: the
last alert sent per condition key (de-duplication), how many a rule sent lately (rate limits), who is in an
audience (the app's users, by name, role or team) and each user's inbox. The schema is migration ``0005``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from revalign.alerts.firing import Alert, SentAlert
from revalign.definitions.alerts import Audience
from revalign.interfaces.server.state.store import StateStore, users

metadata = sa.MetaData()
alert_log = sa.Table(
    "alert_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(512)),
    sa.Column("rule", sa.String(128)),
    sa.Column("condition", sa.String(64)),
    sa.Column("subject", sa.String(512)),
    sa.Column("period", sa.String(64)),
    sa.Column("state", sa.String(128)),
    sa.Column("severity", sa.String(16)),
    sa.Column("title", sa.String(512)),
    sa.Column("outcome", sa.String(16)),
    sa.Column("at", sa.DateTime),
    sa.Column("body", sa.Text),
)
alert_inbox = sa.Table(
    "alert_inbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("alert_id", sa.Integer),
    sa.Column("user_id", sa.Integer),
    sa.Column("created_at", sa.DateTime),
    sa.Column("read_at", sa.DateTime),
)
refresh_runs = sa.Table(
    "refresh_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("started_at", sa.DateTime),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("ok", sa.Boolean),
    sa.Column("summary", sa.Text),
    sa.Column("body", sa.Text),
)

TEAM_ROLES: dict[str, tuple[str, ...]] = {
    "marketing": ("marketing",),
    "sales": ("sales", "rep"),
    "revops": ("revops",),
    "customer_success": ("customer_success",),
    "finance": ("finance",),
    "executive": ("leadership",),
}
"""The app roles that make up each team (department) an alert's audience can name."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class AlertStore:
    """Alert log, inbox and refresh runs on a :class:`StateStore`'s database (migrated by it)."""

    def __init__(self, store: StateStore) -> None:
        self.db = store.db

    # -- the log (AlertState) -------------------------------------------------------------------------------------
    def last_sent(self, key: str) -> SentAlert | None:
        q = (
            sa.select(alert_log.c.key, alert_log.c.rule, alert_log.c.state, alert_log.c.at)
            .where(alert_log.c.key == key, alert_log.c.outcome == "sent")
            .order_by(alert_log.c.at.desc(), alert_log.c.id.desc())
            .limit(1)
        )
        with self.db.connect() as conn:
            row = conn.execute(q).first()
        return SentAlert(row.key, row.rule, row.state, row.at) if row is not None else None

    def sent_count(self, rule: str, since: dt.datetime) -> int:
        q = sa.select(sa.func.count()).where(
            alert_log.c.rule == rule, alert_log.c.outcome == "sent", alert_log.c.at >= since
        )
        with self.db.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def _values(self, alert: Alert) -> dict[str, Any]:
        f = alert.firing
        return {
            "key": f.key,
            "rule": f.rule,
            "condition": f.condition,
            "subject": f.subject,
            "period": f.period,
            "state": f.state,
            "severity": f.severity,
            "title": f.title,
            "outcome": alert.outcome,
            "at": alert.at,
            "body": json.dumps(alert.to_dict(), default=str),
        }

    def record(self, alert: Alert) -> int:
        with self.db.begin() as conn:
            result = conn.execute(alert_log.insert().values(**self._values(alert)).returning(alert_log.c.id))
            return int(result.scalar_one())

    def update(self, alert: Alert) -> None:
        with self.db.begin() as conn:
            conn.execute(alert_log.update().where(alert_log.c.id == alert.id).values(**self._values(alert)))

    def log(self, *, limit: int = 100, outcome: str | None = None) -> list[dict[str, Any]]:
        """The latest alerts (any outcome, or one), newest first, as ``Alert.to_dict`` rows with their id."""
        q = sa.select(alert_log.c.id, alert_log.c.body).order_by(alert_log.c.at.desc(), alert_log.c.id.desc())
        if outcome is not None:
            q = q.where(alert_log.c.outcome == outcome)
        with self.db.connect() as conn:
            rows = conn.execute(q.limit(limit)).all()
        return [{**json.loads(r.body), "id": r.id} for r in rows]

    def sent_between(self, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
        q = (
            sa.select(alert_log.c.id, alert_log.c.body)
            .where(alert_log.c.outcome == "sent", alert_log.c.at >= start, alert_log.c.at < end)
            .order_by(alert_log.c.at.desc(), alert_log.c.id.desc())
        )
        with self.db.connect() as conn:
            return [{**json.loads(r.body), "id": r.id} for r in conn.execute(q).all()]

    # -- the inbox ------------------------------------------------------------------------------------------------
    def inbox_users(self, audience: Audience) -> Sequence[tuple[int, str]]:
        roles = set(audience.roles) | {r for team in audience.teams for r in TEAM_ROLES.get(team, ())}
        q = (
            sa.select(users.c.id, users.c.username)
            .where(sa.or_(users.c.disabled.is_(False), users.c.disabled.is_(None)))
            .where(sa.or_(users.c.username.in_(audience.users), users.c.role.in_(sorted(roles))))
            .order_by(users.c.username)
        )
        with self.db.connect() as conn:
            return [(int(r.id), str(r.username)) for r in conn.execute(q).all()]

    def add_to_inbox(self, alert_id: int, user_ids: Sequence[int]) -> None:
        now = _now()
        with self.db.begin() as conn:
            for uid in user_ids:
                conn.execute(alert_inbox.insert().values(alert_id=alert_id, user_id=uid, created_at=now, read_at=None))

    def inbox(self, user_id: int, *, unread_only: bool = False, limit: int = 200) -> list[dict[str, Any]]:
        """The user's inbox, newest first: each item's id, when it arrived, when it was read, and the alert."""
        q = (
            sa.select(alert_inbox.c.id, alert_inbox.c.created_at, alert_inbox.c.read_at, alert_log.c.body)
            .join(alert_log, alert_log.c.id == alert_inbox.c.alert_id)
            .where(alert_inbox.c.user_id == user_id)
            .order_by(alert_inbox.c.created_at.desc(), alert_inbox.c.id.desc())
            .limit(limit)
        )
        if unread_only:
            q = q.where(alert_inbox.c.read_at.is_(None))
        with self.db.connect() as conn:
            rows = conn.execute(q).all()
        return [
            {"id": r.id, "created_at": r.created_at, "read_at": r.read_at, "alert": json.loads(r.body)} for r in rows
        ]

    def unread_count(self, user_id: int) -> int:
        q = sa.select(sa.func.count()).where(alert_inbox.c.user_id == user_id, alert_inbox.c.read_at.is_(None))
        with self.db.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def mark_read(self, user_id: int, item_id: int) -> bool:
        """Mark one of the user's own inbox items read; False when it is not theirs (or does not exist)."""
        with self.db.begin() as conn:
            result = conn.execute(
                alert_inbox.update()
                .where(alert_inbox.c.id == item_id, alert_inbox.c.user_id == user_id)
                .values(read_at=sa.func.coalesce(alert_inbox.c.read_at, _now()))
            )
            return bool(result.rowcount)

    # -- refresh runs ---------------------------------------------------------------------------------------------
    def record_refresh(self, started: dt.datetime, finished: dt.datetime, ok: bool, summary: str, body: Any) -> None:
        with self.db.begin() as conn:
            conn.execute(
                refresh_runs.insert().values(
                    started_at=started, finished_at=finished, ok=ok, summary=summary, body=json.dumps(body, default=str)
                )
            )

    def last_refresh(self) -> dict[str, Any] | None:
        """The latest refresh run (when it started and finished, whether it went well, its summary), or None."""
        q = sa.select(refresh_runs).order_by(refresh_runs.c.finished_at.desc(), refresh_runs.c.id.desc()).limit(1)
        with self.db.connect() as conn:
            row = conn.execute(q).first()
        if row is None:
            return None
        return {"started_at": row.started_at, "finished_at": row.finished_at, "ok": row.ok, "summary": row.summary}


__all__ = ["TEAM_ROLES", "AlertStore", "alert_inbox", "alert_log", "refresh_runs"]
