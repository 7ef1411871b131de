"""The weekly digest per role: the shared scorecard (worst first) and the week's alerts for that role, as HTML and
text from the same data, so a leader who reads no dashboard still sees the numbers every Monday.

The card is the joint one (every KPI tied to the north star) narrowed to the KPIs with a target in the period
(the north star and the role's own department always shown): a KPI without a target has no status to report.
Numbers go through :mod:`revalign.display`, by each KPI's unit, in the project's currency.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from revalign.alerts.firing import AlertState
from revalign.alerts.messages import ENV
from revalign.analytics.governance.scorecard import STATUS_ORDER, Scorecard
from revalign.display import format_value
from revalign.display.statuses import status_sign
from revalign.project import Project

ROLE_DEPARTMENTS: dict[str, str | None] = {
    "marketing": "marketing",
    "sales": "sales",
    "rep": "sales",
    "revops": "revops",
    "customer_success": "customer_success",
}
"""The department whose KPIs a role's digest always lists (other roles: the shared card's targeted KPIs only)."""
WEEK = dt.timedelta(days=7)


@dataclass(frozen=True)
class Digest:
    """One role's digest: the rows of the shared card as text, and the week's alerts for the role."""

    role: str
    period: str
    start: dt.date
    end: dt.date
    card_title: str
    rows: list[dict[str, str]]
    alerts: list[dict[str, Any]]
    url: str
    notices: list[str] = field(default_factory=list)

    def text(self) -> str:
        width = max((len(r["label"]) for r in self.rows), default=10)
        return ENV.get_template("digest.txt").render(d=self, width=width)

    def html(self) -> str:
        return ENV.get_template("digest.html").render(d=self)

    def email(self, *, sender: str, to: list[str]) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = f"[revalign] Weekly digest for {self.role}: {self.period}"
        msg["From"], msg["To"] = sender, ", ".join(to)
        msg.set_content(self.text())
        msg.add_alternative(self.html(), subtype="html")
        return msg


def card_rows(card: Scorecard, department: str | None, currency: str) -> list[dict[str, str]]:
    """The card's rows with a status (and the north star and ``department``'s), worst first, formatted."""
    kept = [
        r
        for r in card.rows
        if not r.dims and (r.status in ("green", "amber", "red") or r.is_north_star or r.department == department)
    ]
    kept.sort(key=lambda r: (not r.is_north_star, STATUS_ORDER[r.status], r.department or "~", r.kpi))
    out = []
    for r in kept:
        icon, meaning = status_sign(r.status)
        out.append(
            {
                "kpi": r.kpi,
                "label": r.label,
                "actual": format_value(r.actual, r.unit, currency=currency),
                "target": format_value(r.target, r.unit, currency=currency),
                "status": meaning,
                "icon": icon,
            }
        )
    return out


def role_alerts(state: AlertState, role: str, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """Alerts sent in [start, end) whose audience names ``role`` (or its team)."""
    team = ROLE_DEPARTMENTS.get(role, role)
    out = []
    for alert in state.sent_between(start, end):
        audience = alert.get("audience") or {}
        if role in audience.get("roles", []) or team in audience.get("teams", []):
            out.append(alert)
    return out


def weekly_digest(
    project: Project, state: AlertState, role: str, *, now: dt.datetime | None = None, base_url: str | None = None
) -> Digest:
    """``role``'s digest for the week ending ``now``: the shared scorecard (latest period) and the week's alerts."""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    department = ROLE_DEPARTMENTS.get(role)
    card = project.scorecard()
    base = (base_url or project.settings.alerts.base_url).rstrip("/")
    return Digest(
        role=role,
        period=card.period,
        start=(now - WEEK).date(),
        end=now.date(),
        card_title=f"Shared scorecard, {card.period}",
        rows=card_rows(card, department, project.settings.currency),
        alerts=role_alerts(state, role, now - WEEK, now),
        url=f"{base}/scorecards",
        notices=list(card.notices),
    )


__all__ = ["ROLE_DEPARTMENTS", "Digest", "card_rows", "role_alerts", "weekly_digest"]
