"""``GET /api/v1/inbox`` (the signed-in user's alerts), ``POST /api/v1/inbox/{id}/read`` (mark one read) and
``GET /api/v1/freshness`` (latest load, latest data, last and next refresh): the JSON twins of the inbox page and
of every page's footer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from revalign.errors import UnknownNameError
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep, StoreDep
from revalign.interfaces.server.reports.freshness import freshness_report
from revalign.interfaces.server.reports.inbox import inbox_report
from revalign.interfaces.server.schemas import ERROR_RESPONSES
from revalign.interfaces.server.state.alerts import AlertStore

router = APIRouter(tags=["alerts"], responses=ERROR_RESPONSES)
ItemId = Annotated[int, Path(ge=1, le=2**62, description="The inbox item's id.")]


def next_refresh(request: Request) -> Any:
    scheduler = request.app.state.scheduler
    return scheduler.next_at if scheduler is not None else None


@router.get("/inbox")
def get_inbox(
    store: StoreDep,
    user: CurrentUser,
    unread: Annotated[bool, Query(description="Only unread alerts.")] = False,
) -> dict[str, Any]:
    """Your alerts, newest first: ``{unread, items: [{id, arrived, read, severity, title, message, driver, …}]}``."""
    return inbox_report(AlertStore(store), user, unread_only=unread)


@router.post("/inbox/{item_id}/read")
def mark_read(store: StoreDep, user: CurrentUser, item_id: ItemId) -> dict[str, Any]:
    """Mark one of your inbox items read (404 when it is not in your inbox)."""
    state = AlertStore(store)
    if not state.mark_read(user.id, item_id):
        raise UnknownNameError("inbox item", str(item_id), [])
    return {"ok": True, "unread": state.unread_count(user.id)}


@router.get("/freshness")
def get_freshness(
    request: Request, project: ProjectDep, cache: CacheDep, store: StoreDep, user: CurrentUser
) -> dict[str, Any]:
    """When data was last loaded, the latest time the data reaches, the last refresh run and the next one."""
    return freshness_report(project, cache, store, next_refresh(request))
