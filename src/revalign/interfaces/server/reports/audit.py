"""The audit page: credit as recorded vs as audited, roll-ups, and the findings with their review status and evidence.

Every number comes from the façade (``audit_findings``, ``credit_comparison``, ``audit_rollups``,
``audit_evidence``); this module picks the findings asked for (kind, since, actor, a page of them) and lays the
tables out. The reviewers' decisions travel in :class:`AuditFilters` (read from the app state by the API's
dependency), so a cached report is never one computed before the latest decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal, get_args

import pandas as pd

from revalign.analytics.audit.credit import DEFAULT_COUNTED, Counted, finding_statuses
from revalign.analytics.audit.findings import FINDING_KINDS
from revalign.display import DisplayContext
from revalign.errors import RevalignError
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.covers import covers
from revalign.interfaces.server.reports.report import Report, fiscal_start, require_data
from revalign.project import Project

KindName = Literal[
    "lead_source_overwrite",
    "no_opportunity_recreate",
    "duplicate_lead",
    "duplicate_account",
    "close_date_push",
    "stage_skip",
    "backdated_change",
    "owner_flip_before_close",
]
"""The finding kinds the API accepts (OpenAPI's enum): the library's :data:`FINDING_KINDS`."""
if get_args(KindName) != FINDING_KINDS:  # the OpenAPI enum must list the library's kinds
    raise AssertionError(f"KindName {get_args(KindName)} != {FINDING_KINDS}")

PAGE_SIZE: Final = 50
"""Findings per page (each with its evidence timeline)."""
HEADLINE_KPI: Final = "marketing_sourced_revenue"
FINDING_SHOWN: Final = (
    "finding_id",
    "kind",
    "status",
    "entity_type",
    "entity_id",
    "related_id",
    "actor_id",
    "occurred_at",
    "channel_from",
    "channel_to",
    "opportunity_id",
    "revenue_at_stake",
    "confidence",
    "decided_by",
    "reason",
    "detail",
)


@dataclass(frozen=True)
class AuditFilters(Filters):
    """The common filters plus the audit's own, and the review state the report reflects.

    ``decisions`` is ``(finding_id, status, by, reason)`` per decided finding: part of the cache key, not of the
    filters a client sees.
    """

    kind: str | None = None
    since: date | None = None
    actor: str | None = None
    page: int = 1
    counted: Counted = DEFAULT_COUNTED
    decisions: tuple[tuple[str, str, str, str | None], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out = super().as_dict()
        out.pop("decisions", None)
        return out

    def key(self) -> tuple[Any, ...]:
        return (*super().key(), ("decisions", self.decisions))

    def statuses(self) -> dict[str, str]:
        return {fid: status for fid, status, _, _ in self.decisions}


def _period(project: Project, f: AuditFilters) -> tuple[date | None, date | None, str | None]:
    """The headline's period: the one asked for, else the latest year with marketing-sourced revenue."""
    if f.period or f.start or f.end:
        start, end = f.dates(fiscal_start(project))
        return start, end, f.period
    try:
        label = project.latest_period(HEADLINE_KPI, "year")
    except RevalignError:
        return None, None, None
    chosen = Filters(period=label)
    start, end = chosen.dates(fiscal_start(project))
    return start, end, label


def _findings_table(findings: pd.DataFrame, f: AuditFilters) -> pd.DataFrame:
    """The findings with their review status, who decided and why (latest decision), in :data:`FINDING_SHOWN`."""
    decided = {fid: (by, reason) for fid, _, by, reason in f.decisions}
    out = findings.assign(
        status=finding_statuses(findings, f.statuses()).to_numpy(),
        decided_by=findings["finding_id"].map(lambda i: decided.get(i, (None, None))[0]),
        reason=findings["finding_id"].map(lambda i: decided.get(i, (None, None))[1]),
    )
    return out[list(FINDING_SHOWN)].reset_index(drop=True)


def _sentence(project: Project, credit: pd.DataFrame, label: str | None) -> str | None:
    """ "Marketing-sourced revenue in 2025 is $X as recorded, $Y as audited." (numbers through revalign.display)."""
    row = credit[credit["kpi"] == HEADLINE_KPI]
    if row.empty:
        return None
    ctx = DisplayContext.of(project.catalog, project.settings)
    recorded, audited = (ctx.format(float(row.iloc[0][c]), "currency") for c in ("recorded", "audited"))
    when = f" in {label}" if label else ""
    return f"Marketing-sourced new revenue{when} is {recorded} as recorded, {audited} as audited."


def audit(project: Project, filters: Filters) -> Report:
    """Credit as recorded vs audited, roll-ups per rep/team/quarter/kind, and a page of findings with evidence."""
    require_data(project, "The credit audit")
    f = filters if isinstance(filters, AuditFilters) else AuditFilters(**filters.as_dict())
    decisions = f.statuses()
    start, end, label = _period(project, f)
    report = Report(page="audit", title="Credit audit")
    found = project.audit_findings(kinds=f.kind, since=f.since)
    every = found if f.kind is None and f.since is None else None  # unfiltered: they hold every headline finding
    credit = project.credit_comparison(start=start, end=end, decisions=decisions, counted=f.counted, findings=every)
    report.add("credit", f"Credit as recorded and as audited{' in ' + label if label else ''}", credit)
    if f.actor:
        found = found[found["actor_id"] == f.actor]
    table = _findings_table(found, f)
    pages = max(1, -(-len(table) // PAGE_SIZE))
    shown = table.iloc[(f.page - 1) * PAGE_SIZE : f.page * PAGE_SIZE].reset_index(drop=True)
    report.add("findings", "Findings", shown)
    rollups = project.audit_rollups(found, decisions=decisions)
    report.add("by_actor", "Findings per rep (who made the change)", rollups.by_actor)
    report.add("by_team", "Findings per team", rollups.by_team)
    report.add("by_quarter", "Findings per quarter", rollups.by_quarter)
    report.add("trend", "Trend per kind (findings and revenue at stake per quarter)", rollups.trend)
    page_findings = found[found["finding_id"].isin(shown["finding_id"])]
    report.add("evidence", "Evidence (ledger rows of the findings on this page)", project.audit_evidence(page_findings))
    report.meta.update(
        headline="credit",
        credit_sentence=_sentence(project, credit, label),
        credit_period=label,
        counted=f.counted,
        total_findings=len(table),
        page=f.page,
        pages=pages,
        page_size=PAGE_SIZE,
        kinds=list(FINDING_KINDS),
        units={
            "credit": dict.fromkeys(("recorded", "audited", "difference"), "currency"),
            "findings": {"revenue_at_stake": "currency", "confidence": "percent"},
        },
        covers=covers(start, end, label),
        charts=[
            {
                "table": "trend",
                "x": "quarter",
                "y": "findings",
                "color": "kind",
                "kind": "bar",
                "title": "Findings per quarter by kind",
            }
        ],
    )
    if f.page > pages:
        report.notices.append(f"Page {f.page} is past the last page ({pages}); no findings are listed.")
    return report
