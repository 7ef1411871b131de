"""The inbox report: a user's alerts, newest first, with what is unread; the page and ``/api/v1/inbox`` both show it.

Nothing is computed here: the alerts were evaluated (and their numbers formatted by :mod:`revalign.display`) when
they fired; this only reads the user's items from the state store and turns each link into the server's path.
"""

from __future__ import annotations

from typing import Any

from revalign.interfaces.server.state import UserRecord
from revalign.interfaces.server.state.alerts import AlertStore


def _item(row: dict[str, Any]) -> dict[str, Any]:
    alert = row["alert"]
    return {
        "id": row["id"],
        "arrived": row["created_at"].isoformat(timespec="minutes") if row["created_at"] else None,
        "read": row["read_at"] is not None,
        "read_at": row["read_at"].isoformat(timespec="minutes") if row["read_at"] else None,
        "severity": alert.get("severity"),
        "title": alert.get("title"),
        "message": alert.get("message"),
        "driver": alert.get("driver"),
        "rule": alert.get("rule"),
        "condition": alert.get("condition"),
        "subject": alert.get("subject"),
        "period": alert.get("period"),
        "links": [{"label": link["label"], "url": link["path"]} for link in alert.get("links", [])],
    }


def inbox_report(state: AlertStore, user: UserRecord, *, unread_only: bool = False) -> dict[str, Any]:
    """``{"unread": n, "items": [...]}`` for ``user`` (every item, or only the unread ones)."""
    items = [_item(r) for r in state.inbox(user.id, unread_only=unread_only)]
    return {"unread": state.unread_count(user.id), "items": items}
