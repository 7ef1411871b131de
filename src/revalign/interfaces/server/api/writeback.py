"""``GET /api/v1/writeback/salesforce|hubspot``: the write-back dry run, what ``revalign writeback <crm>`` lists.

The plan reads the CRM (the sync's credentials) and writes nothing: every field of every record that the
write-back would change, old → new. ``format=csv`` gives one table of the write-back page instead (``summary``
or one value's changes, raw values), so the page's "Export CSV" links have something to export. Only admins and
RevOps see it, because they own the CRM's configuration and the plan names records across every team; writing
stays a command-line act (``--apply``), where it is shown first.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel

from revalign.analytics.writeback import UNITS
from revalign.display.units import format_value
from revalign.interfaces.server.deps import ProjectDep, RequireRole, StoreDep
from revalign.interfaces.server.filters import Format, TableName
from revalign.interfaces.server.reports.writeback import writeback_report
from revalign.interfaces.server.roles import Role
from revalign.interfaces.server.schemas import ERROR_RESPONSES
from revalign.interfaces.server.state.audit import AuditDecisions
from revalign.interfaces.server.tabular import report_response
from revalign.project import Project
from revalign.project.writeback import Crm
from revalign.sources.writeback.plan import WritebackPlan

WRITEBACK_ROLES = (Role.ADMIN, Role.REVOPS)
"""Who may see the plan: those who configure the CRM (see the module docstring)."""

router = APIRouter(
    prefix="/writeback",
    tags=["writeback"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(RequireRole(*WRITEBACK_ROLES))],
)


class ChangePublic(BaseModel):
    """One field of one record to set: raw ``old``/``new`` and the same values as people read them."""

    sobject: str
    record_id: str
    field: str
    value_name: str
    old: Any
    new: Any
    old_text: str
    new_text: str


class WritebackPlanPublic(BaseModel):
    """The dry run: the changes, and per value the records already right and those the CRM does not have."""

    crm: str
    changes: list[ChangePublic]
    unchanged: dict[str, int]
    not_in_crm: dict[str, int]


@router.get("/salesforce", response_model=WritebackPlanPublic)
def salesforce_plan(
    project: ProjectDep, store: StoreDep, fmt: Format = "json", table: TableName = None
) -> WritebackPlanPublic | Response:
    """The changes ``revalign writeback salesforce --apply`` would make (nothing is written)."""
    return _answer(project, store, "salesforce", fmt, table)


@router.get("/hubspot", response_model=WritebackPlanPublic)
def hubspot_plan(
    project: ProjectDep, store: StoreDep, fmt: Format = "json", table: TableName = None
) -> WritebackPlanPublic | Response:
    """The changes ``revalign writeback hubspot --apply`` would make (nothing is written)."""
    return _answer(project, store, "hubspot", fmt, table)


def writeback_plan(project: Project, store: StoreDep, crm: Crm) -> WritebackPlan:
    """The dry run under the audit's review decisions (a rejected finding's source is not written back)."""
    return project.writeback_plan(crm, decisions=AuditDecisions(store).statuses())


def _answer(project: Project, store: StoreDep, crm: Crm, fmt: str, table: str | None) -> WritebackPlanPublic | Response:
    plan = writeback_plan(project, store, crm)
    if fmt == "csv":
        return report_response(writeback_report(plan), {}, fmt, table, project)
    changes = [
        ChangePublic(
            **c,
            old_text=format_value(c["old"], UNITS.get(c["value_name"])),
            new_text=format_value(c["new"], UNITS.get(c["value_name"])),
        )
        for c in plan.to_dict()["changes"]
    ]
    return WritebackPlanPublic(
        crm=plan.crm, changes=changes, unchanged=dict(plan.unchanged), not_in_crm=dict(plan.not_in_crm)
    )
