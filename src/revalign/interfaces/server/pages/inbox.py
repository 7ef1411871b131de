"""The inbox page: the signed-in user's alerts (the same report as ``/api/v1/inbox``), each with its driver and
links to the records, and a button to mark it read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from revalign.errors import UnknownNameError
from revalign.interfaces.server.deps import CurrentUser, StoreDep
from revalign.interfaces.server.pages.rendering import NAV
from revalign.interfaces.server.reports.inbox import inbox_report
from revalign.interfaces.server.state.alerts import AlertStore

router = APIRouter()


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, store: StoreDep, user: CurrentUser):
    context = {
        "user": user,
        "csrf": request.state.csrf,
        "nav": NAV,
        "page": "inbox",
        "inbox": inbox_report(AlertStore(store), user),
        "api_url": "/api/v1/inbox",
    }
    return request.app.state.templates.TemplateResponse(request, "inbox.html", context)


@router.post("/inbox/{item_id}/read")
def inbox_mark_read(store: StoreDep, user: CurrentUser, item_id: Annotated[int, Path(ge=1, le=2**62)]):
    if not AlertStore(store).mark_read(user.id, item_id):
        raise UnknownNameError("inbox item", str(item_id), [])
    return RedirectResponse("/inbox", status_code=303)
