"""``GET /api/v1/audit`` (findings with their status, credit as recorded vs audited, roll-ups, evidence) and
``POST /api/v1/audit/{finding_id}/decision`` (a reviewer confirms, dismisses or reopens a finding).

The decision is JSON (``{"status": "dismissed", "reason": "…"}``); a browser session sends its CSRF token in the
``X-CSRF-Token`` header like every other unsafe request. Errors are the one JSON error shape: 422 for a bad
status or a dismissal without a reason, 403 for a role that may only read, 404 for a finding the audit does not
report.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from revalign.analytics.audit.credit import DEFAULT_COUNTED, Counted
from revalign.interfaces.server.api.report_endpoint import report_endpoint
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep, StoreDep
from revalign.interfaces.server.filters import Filters, filters_for
from revalign.interfaces.server.reports.audit import AuditFilters, KindName, audit
from revalign.interfaces.server.state.audit import MAX_REASON, AuditDecisions
from revalign.project import Project

ACCEPTS = ("start", "end", "period")
"""The common filters the page honours (the headline's period); the audit's own are ``kind``, ``since``,
``actor`` and ``page``."""
_period_filters = filters_for(*ACCEPTS)


def audit_filters(
    store: StoreDep,
    base: Annotated[Filters, Depends(_period_filters)],
    kind: Annotated[KindName | None, Query(description="Only findings of this kind.")] = None,
    since: Annotated[date | None, Query(description="Only findings that occurred on or after this day.")] = None,
    actor: Annotated[
        str | None, Query(pattern=r"^[A-Za-z0-9_.@-]{1,64}$", description="Only changes made by this user_id.")
    ] = None,
    page: Annotated[int, Query(ge=1, le=100_000, description="Page of findings (50 per page).")] = 1,
    counted: Annotated[
        Counted,
        Query(description="Which findings audited credit undoes: not_dismissed (open and confirmed) or confirmed."),
    ] = DEFAULT_COUNTED,
) -> AuditFilters:
    """FastAPI dependency: the audit's filters, with the current review decisions (so the cache keys on them)."""
    latest = AuditDecisions(store).latest()
    decisions = tuple(sorted((d.finding_id, d.status, d.username, d.reason) for d in latest.values()))
    return AuditFilters(
        start=base.start,
        end=base.end,
        period=base.period,
        kind=kind,
        since=since,
        actor=actor,
        page=page,
        counted=counted,
        decisions=decisions,
    )


router, audit_report = report_endpoint("audit", "Credit audit", audit, audit_filters)


class DecisionCreate(BaseModel):
    """A reviewer's decision on one finding: ``confirmed``, ``dismissed`` (with a reason) or ``open`` again."""

    model_config = ConfigDict(extra="forbid")
    status: Annotated[str, Field(pattern=r"^(open|confirmed|dismissed)$", description="open, confirmed or dismissed")]
    reason: Annotated[str | None, Field(max_length=MAX_REASON, description="Why; required to dismiss.")] = None


def _finding_ids(project: Project, cache: CacheDep) -> frozenset[str]:
    """Every finding id the audit reports now (cached with the reports, dropped when the data changes)."""

    def compute() -> frozenset[str]:
        return frozenset(project.audit_findings()["finding_id"].astype(str))

    return cache.get_or_compute(("audit-finding-ids",), compute)


@router.post("/{finding_id}/decision", name="post_audit_decision", status_code=201)
def post_decision(
    body: DecisionCreate,
    project: ProjectDep,
    store: StoreDep,
    cache: CacheDep,
    user: CurrentUser,
    finding_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,64}$", description="A finding's id.")],
) -> dict[str, Any]:
    """Confirm, dismiss (reason required) or reopen a finding; the latest decision is its status, all are kept."""
    decisions = AuditDecisions(store)
    record = decisions.decide(user, finding_id, body.status, body.reason, known=lambda: _finding_ids(project, cache))
    return {"ok": True, "decision": record.to_dict(), "history": [d.to_dict() for d in decisions.history(finding_id)]}
