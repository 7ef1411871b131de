"""What the server knows of a dispute that the state store does not: the facts of its subject (read from the
project), who may see it (pay privacy, a rep's team), the banner on the teams' pages and the inbox notices.

- :func:`subject_facts` — the department that owns the subject, whose record it is, whether it is pay data: a
  KPI's owner department comes from the catalog (a joint KPI, or a team's own KPI contested by that team, is
  RevOps's to answer: RevOps computes the numbers); an MQL rejection must be one
  (sales' latest decision on the lead, from the ledger)
  and is marketing's against sales or sales' against marketing; a record must exist in its canonical table (the
  look-ups are :mod:`revalign.analytics.subjects`).
- :class:`Viewing` — which disputes one login sees: a dispute about a pay KPI's value only where the viewer may see
  that value (:mod:`revalign.analytics.privacy`), a rep only the disputes about their own team's records.
- :func:`banner` — "2 open disputes: …" for the overview and for each department's scorecard.
- :func:`inbox_notifier` — each dispute opened goes to the other side's inbox, each resolution to the opener's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from revalign.alerts.firing import Alert, Firing, Link
from revalign.analytics.privacy import PAY_ROLES, PayScope, is_pay_kpi
from revalign.analytics.records import RECORD_TABLES
from revalign.analytics.subjects import find_record, lead_decision, team_mates
from revalign.definitions.alerts import Audience
from revalign.errors import UnknownNameError
from revalign.interfaces.server.cache import ReportCache
from revalign.interfaces.server.errors import BadRequest
from revalign.interfaces.server.privacy import scope_of
from revalign.interfaces.server.roles import Role, sees_all_records
from revalign.interfaces.server.state import StateStore, UserRecord
from revalign.interfaces.server.state.alerts import TEAM_ROLES, AlertStore
from revalign.interfaces.server.state.disputes import Dispute, Disputes, Notify, Subject, SubjectFacts
from revalign.model.tables import DEPARTMENTS
from revalign.project import Project

OPPOSITE = {"marketing": "sales", "sales": "marketing"}
"""The other side of the marketing–sales hand-off (an MQL rejection, a lead or deal record)."""
JOINT_OWNER = "revops"
"""Who answers for a joint KPI (no one department owns it): RevOps runs the process between the teams."""


def _other(side: str, what: str, against: str | None = None) -> str:
    if against is not None:
        if against not in DEPARTMENTS:
            raise BadRequest(
                f"against must be one of {', '.join(DEPARTMENTS)}. Got {against!r}.",
                loc=("body", "against"),
                rule="enum",
            )
        return against
    if side not in OPPOSITE:
        raise BadRequest(
            f"{what} is contested between marketing and sales; you speak for {side}. Name the other side (against).",
            loc=("body", "against"),
            rule="side",
        )
    return OPPOSITE[side]


def _kpi_facts(project: Project, subject: Subject, side: str) -> SubjectFacts:
    kpi = project.catalog.get(str(subject.kpi))  # UnknownNameError (404) with close names
    owner = str(kpi.department) if kpi.department in DEPARTMENTS else JOINT_OWNER
    if owner == side:  # a team contesting its own number (a rep their attainment) asks whoever computes it
        owner = JOINT_OWNER
    pay = is_pay_kpi(project.catalog, kpi.name)
    return SubjectFacts(against=owner, record_owner=dict(subject.slice).get("owner"), pay=pay)


def _rejection_facts(project: Project, subject: Subject, side: str) -> SubjectFacts:
    lead = str(subject.lead_id)
    found = lead_decision(project.tables, lead)
    if found is None:
        raise UnknownNameError("lead", lead, [])
    if found.decision != "rejected":
        state = f"its latest decision is {found.decision}" if found.decision else "no decision yet"
        raise BadRequest(f"Lead {lead} was not rejected ({state}).", loc=("body", "lead_id"), rule="not_rejected")
    return SubjectFacts(
        against=_other(side, "An MQL's rejection"),
        record_owner=found.owner,
        context=f"rejected: {found.reason}" if found.reason else "rejected",
    )


def _record_facts(project: Project, subject: Subject, side: str, against: str | None) -> SubjectFacts:
    table = str(subject.table)
    keyed = [name for name, spec in RECORD_TABLES.items() if spec.key]
    if table not in keyed:
        raise BadRequest(f"table must be one of {', '.join(keyed)}. Got {table!r}.", loc=("body", "table"), rule="enum")
    found = find_record(project.tables, table, str(subject.record_id))
    if found is None:
        raise UnknownNameError(f"{table} record", str(subject.record_id), [])
    return SubjectFacts(against=_other(side, f"A {table} record", against), record_owner=found.owner)


def subject_facts(project: Project, subject: Subject, side: str, against: str | None = None) -> SubjectFacts:
    """The facts of ``subject`` for a dispute opened by ``side`` (see the module docstring)."""
    if subject.kind == "kpi":
        return _kpi_facts(project, subject, side)
    if subject.kind == "mql_rejection":
        return _rejection_facts(project, subject, side)
    return _record_facts(project, subject, side, against)


@dataclass(frozen=True)
class Viewing:
    """Which disputes one login sees: ``team`` is the owners whose records a rep sees (None: every record)."""

    scope: PayScope
    team: frozenset[str] | None

    def allows(self, pay: bool, record_owner: str | None) -> bool:
        """Whether a dispute about a subject with these facts is this viewer's to see (and so to open)."""
        if pay and not (self.scope.allows(record_owner) if record_owner else self.scope.everyone):
            return False
        return self.team is None or record_owner in self.team

    def sees(self, dispute: Dispute) -> bool:
        return self.allows(dispute.pay, dispute.record_owner)


def viewing(project: Project, cache: ReportCache, user: UserRecord) -> Viewing:
    """What ``user`` may see of disputes (the pay scope and, for a rep, their team; cached until the data changes)."""
    scope = scope_of(project, cache, user)
    if sees_all_records(user.role):
        return Viewing(scope, None)
    if user.owner_id is None:
        return Viewing(scope, frozenset())
    owner = user.owner_id
    return Viewing(scope, cache.get_or_compute(("dispute_team", owner), lambda: team_mates(project.tables, owner)))


def visible(
    store: StateStore, view: Viewing, *, status: str | None = None, department: str | None = None
) -> list[Dispute]:
    """The disputes ``view`` sees (of one status, involving one department), newest first."""
    return [
        d for d in Disputes(store).find(status=status) if view.sees(d) and (department is None or department in d.sides)
    ]


def banner(store: StateStore, view: Viewing, department: str | None = None) -> dict[str, Any] | None:
    """``{"count", "text", "items", "href"}`` of the open disputes ``view`` sees (involving ``department``, or all),
    or None when there are none: the line both teams' pages show."""
    found = visible(store, view, status="open", department=department)
    if not found:
        return None
    noun = "dispute" if len(found) == 1 else "disputes"
    items = [{"id": d.id, "title": d.title, "href": f"/disputes#dispute-{d.id}"} for d in found]
    return {"count": len(found), "text": f"{len(found)} open {noun}", "items": items, "href": "/disputes?status=open"}


def _audience(dispute: Dispute, action: str) -> Audience | None:
    """Who hears of ``action``: the other side of an opened dispute, the opener's side of a resolved one (its
    managers' roles: a rep hears of their team's disputes on the page); pay disputes only the roles that see all
    pay data, and the opener."""
    if action == "opened":
        team, users = dispute.against, []
    elif action == "resolved":
        team, users = dispute.department, [dispute.opened_by]
    else:
        return None
    if dispute.pay:
        return Audience(roles=sorted(PAY_ROLES), users=users)
    return Audience(roles=[r for r in TEAM_ROLES.get(team, ()) if r != Role.REP], users=users)


def inbox_notifier(store: StateStore) -> Notify:
    """A :data:`Notify` that puts opened and resolved disputes in the inboxes of :func:`_audience`."""
    alerts = AlertStore(store)

    def notify(dispute: Dispute, action: str, actor: UserRecord) -> None:
        audience = _audience(dispute, action)
        if audience is None:
            return
        event = dispute.events[-1]
        verb = "resolved: " + str(event.value) if action == "resolved" else "opened"
        firing = Firing(
            rule="dispute",
            condition=f"dispute_{action}",
            subject=f"dispute:{dispute.id}",
            period=dispute.subject.period or "",
            state=dispute.status,
            severity="warning" if action == "opened" else "info",
            title=f"Dispute #{dispute.id} {verb}: {dispute.title}",
            message=f"{actor.username} ({actor.role}): {event.text}",
            links=(Link("The dispute", f"/disputes#dispute-{dispute.id}"),),
        )
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        alert_id = alerts.record(Alert(firing, "sent", now, audience, ("inbox",)))
        alerts.add_to_inbox(alert_id, [uid for uid, name in alerts.inbox_users(audience) if name != actor.username])

    return notify


__all__ = ["JOINT_OWNER", "OPPOSITE", "Viewing", "banner", "inbox_notifier", "subject_facts", "viewing", "visible"]
