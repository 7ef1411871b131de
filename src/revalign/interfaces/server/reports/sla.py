"""The SLA page: compliance per SLA and team, the breach ledger, and the clocks still running (at risk first).

One call to the façade (``Project.sla_items``) gives every clock with its status under the agreement version in
force at its start; the tables below are cuts of those clocks by the library's own functions (compliance, the
breach ledger), so the page, its JSON twin and ``revalign sla`` show the same numbers.
"""

from __future__ import annotations

from revalign.analytics.sla import breach_ledger, compliance
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.covers import covers
from revalign.interfaces.server.reports.report import Report, fiscal_start, require_data
from revalign.project import Project

ACCEPTS = ("start", "end", "period", "owner", "team")
"""The filters the page honours (any other is a 422 naming it)."""
RUNNING = ("overdue", "at_risk", "open")
OPEN_COLUMNS = ["sla", "entity_id", "owner_id", "team_id", "started_at", "due_at", "status", "used_share"]


def sla(project: Project, filters: Filters) -> Report:
    """SLA compliance by SLA and team, the breach list, the open clocks (for an owner or team if asked) and the
    volume SLAs (team-wide by nature: they are not narrowed by owner or team)."""
    require_data(project, "SLAs")
    start, end = filters.dates(fiscal_start(project))
    items = project.sla_items(start=start, end=end)
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
    volumes = project.sla_volumes(start=start, end=end)
    report.add("volumes", "Volume SLAs per month (a KPI against the agreed minimum)", volumes)
    report.meta["headline"] = "compliance"
    report.meta["covers"] = covers(start, end, filters.period)
    book = project.agreements()
    report.meta["agreements"] = [
        {"agreement": v.agreement, "version": v.version, "effective_from": v.effective_from.isoformat()}
        for v in book.versions
    ]
    return report
