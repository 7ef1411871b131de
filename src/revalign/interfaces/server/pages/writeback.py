"""The write-back page: the dry run of ``revalign writeback <crm>`` (the same plan as ``/api/v1/writeback/<crm>``).

Admins and RevOps only, as for the API: they configure the CRM, and the plan names records of every team.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from revalign.interfaces.server.api.writeback import WRITEBACK_ROLES, writeback_plan
from revalign.interfaces.server.deps import ProjectDep, RequireRole, StoreDep
from revalign.interfaces.server.filters import KnownParameters
from revalign.interfaces.server.pages.rendering import render
from revalign.interfaces.server.reports.writeback import writeback_report
from revalign.project.writeback import Crm

router = APIRouter(dependencies=[Depends(RequireRole(*WRITEBACK_ROLES)), KnownParameters])


@router.get("/writeback/{crm}", response_class=HTMLResponse)
def writeback_page(request: Request, crm: Crm, project: ProjectDep, store: StoreDep):
    report = writeback_report(writeback_plan(project, store, crm))
    return render(request, "writeback.html", report, api_path=f"/api/v1/writeback/{crm}")
