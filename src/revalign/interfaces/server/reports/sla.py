"""The SLA page: compliance per SLA and team, the breach ledger, and the clocks still running (at risk first).

One call to the façade (``Project.sla_items``) gives every clock with its status under the agreement version in
force at its start; the tables below are cuts of those clocks by the library's own functions (compliance, the
breach ledger), so the page, its JSON twin and ``revalign sla`` show the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from revalign.analytics.sla import breach_ledger, compliance
from revalign.interfaces.server.errors import NotAvailable
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.covers import covers
from revalign.interfaces.server.reports.report import Report, fiscal_start, require_data
from revalign.project import Project

ACCEPTS = ("start", "end", "period", "owner", "team")
"""The filters the page honours (any other is a 422 naming it)."""
RUNNING = ("overdue", "at_risk", "open")
OPEN_COLUMNS = ["sla", "entity_id", "owner_id", "team_id", "started_at", "due_at", "status", "used_share"]


@dataclass(frozen=True)
class SlaFilters(Filters):
    """The page's filters plus the agreement sign-off the numbers are computed under.

    ``signoff`` is ``(agreement, version, status, counts)`` per version (read from the app state by the API's
    dependency): part of the cache key, so a signature recomputes the page; ``None`` computes under every
    version in the files (no sign-off applied, as the library does by default).
    """

    signoff: tuple[tuple[str, int, str, bool], ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        out = super().as_dict()
        out.pop("signoff", None)
        return out

    def key(self) -> tuple[Any, ...]:
        return (*super().key(), ("signoff", self.signoff))

    @property
    def approved(self) -> frozenset[tuple[str, int]] | None:
        if self.signoff is None:
            return None
        return frozenset((name, version) for name, version, _, counts in self.signoff if counts)


SIGNOFF_TEXT = {
    "signed": "signed",
    "baseline": "baseline, never put up for signature: counted",
    "proposed": "proposed, not signed: not counted",
    "draft": "draft, not proposed: not counted",
    "changed": "changed since it was proposed: not counted",
    "in the files": "in the files",
}
"""How the page says whether a version's numbers count (statuses of :mod:`...state.agreement_signoff`)."""


def signoff_line(project: Project, f: Filters) -> list[dict[str, Any]]:
    """Each agreement version with whether the numbers count it: signed (or the baseline) or not signed."""
    book = project.agreements()
    states = (
        {(a, v): (status, counts) for a, v, status, counts in f.signoff}
        if isinstance(f, SlaFilters) and f.signoff is not None
        else {}
    )
    out = []
    for v in book.versions:
        status, counts = states.get(v.key, ("in the files", True))
        out.append(
            {
                "agreement": v.agreement,
                "version": v.version,
                "effective_from": v.effective_from.isoformat(),
                "status": status,
                "counted": counts,
                "text": SIGNOFF_TEXT.get(status, status),
            }
        )
    return out


def sla(project: Project, filters: Filters) -> Report:
    """SLA compliance by SLA and team, the breach list, the open clocks (for an owner or team if asked) and the
    volume SLAs (team-wide by nature: they are not narrowed by owner or team)."""
    require_data(project, "SLAs")
    start, end = filters.dates(fiscal_start(project))
    approved = filters.approved if isinstance(filters, SlaFilters) else None
    if not project.agreements(approved).versions:
        raise NotAvailable("SLAs", "no version of the agreement is signed yet: its signatories sign it on /agreements.")
    items = project.sla_items(start=start, end=end, approved=approved)
    if filters.owner is not None:
        items = items[items["owner_id"] == filters.owner]
    if filters.team is not None:
        items = items[items["team_id"] == filters.team]
    report = Report(page="sla", title="SLAs")
    report.add("compliance", "Compliance by SLA", compliance(items, ("sla",), grain=None))
    report.add("by_team", "Compliance by SLA and team", compliance(items, ("sla", "team_id"), grain=None))
    report.add("breaches", "Breach ledger (closed breaches)", breach_ledger(items))
    running = items[items["status"].isin(RUNNING)].sort_values("used_share", ascending=False, kind="stable")
    report.add("open", "Open clocks: overdue, at risk, running", running[OPEN_COLUMNS].reset_index(drop=True))
    volumes = project.sla_volumes(start=start, end=end, approved=approved)
    report.add("volumes", "Volume SLAs per month (a KPI against the agreed minimum)", volumes)
    report.meta["headline"] = "compliance"
    report.meta["covers"] = covers(start, end, filters.period)
    report.meta["agreements"] = signoff_line(project, filters)
    return report
