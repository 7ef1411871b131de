"""The disputes page: open a dispute (the form is prefilled from a "Dispute" link on a records row or a scorecard),
read each dispute's thread, comment, assign and resolve; the same disputes as ``/api/v1/disputes``, whose POSTs
``static/disputes.js`` calls (so every step goes through one set of checks)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep, StoreDep
from revalign.interfaces.server.pages.rendering import NAV
from revalign.interfaces.server.reports.disputes import viewing, visible
from revalign.interfaces.server.state.disputes import KINDS, RESOLUTIONS, ROLE_DEPARTMENT, may_resolve
from revalign.model.tables import DEPARTMENTS

router = APIRouter()
Field = Annotated[str | None, Query(max_length=128, pattern=r"^[A-Za-z0-9_.:@ -]*$")]


@router.get("/disputes", response_class=HTMLResponse)
def disputes_page(
    request: Request,
    project: ProjectDep,
    store: StoreDep,
    cache: CacheDep,
    user: CurrentUser,
    status: Annotated[Literal["open", "resolved"] | None, Query()] = None,
    kind: Annotated[Literal["kpi", "mql_rejection", "record"] | None, Query()] = None,
    kpi: Field = None,
    period: Field = None,
    slice: Annotated[str | None, Query(max_length=256, pattern=r"^[A-Za-z0-9_.:@=, -]*$")] = None,
    lead_id: Field = None,
    table: Field = None,
    record_id: Field = None,
):
    found = visible(store, viewing(project, cache, user), status=status)
    items = [{**d.to_dict(), "may": {r: may_resolve(user, d, r) for r in RESOLUTIONS}} for d in found]
    prefill = {
        "kind": kind,
        "kpi": kpi,
        "period": period,
        "slice": slice,
        "lead_id": lead_id,
        "table": table,
        "record_id": record_id,
    }
    context = {
        "user": user,
        "csrf": request.state.csrf,
        "nav": NAV,
        "page": "disputes",
        "items": items,
        "open_count": sum(d.status == "open" for d in found),
        "status": status,
        "prefill": prefill,
        "kinds": KINDS,
        "resolutions": RESOLUTIONS,
        "departments": DEPARTMENTS,
        "side": ROLE_DEPARTMENT.get(user.role),
        "api_url": "/api/v1/disputes" + (f"?status={status}" if status else ""),
    }
    return request.app.state.templates.TemplateResponse(request, "disputes.html", context)
