"""``/api/v1/disputes``: list, open, comment on, assign and resolve disputes (the JSON twin of ``/disputes``).

Every POST is JSON; a browser session sends its CSRF token in the ``X-CSRF-Token`` header like every other unsafe
request. Errors are the one JSON error shape: 422 for a missing note, a bad kind or resolution, a lead that was not
rejected, a dispute already open on the subject; 403 for a step the role may not take; 404 for an unknown KPI,
lead, record or user, and for a dispute the login may not see (pay data, another team's records), which is not
told apart from one that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from revalign.errors import PermissionDenied, UnknownNameError
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep, StoreDep
from revalign.interfaces.server.reports.disputes import Viewing, inbox_notifier, subject_facts, viewing, visible
from revalign.interfaces.server.schemas import ERROR_RESPONSES
from revalign.interfaces.server.state import StateStore
from revalign.interfaces.server.state.disputes import MAX_TEXT, Dispute, Disputes, Subject, side_of

router = APIRouter(prefix="/disputes", tags=["disputes"], responses=ERROR_RESPONSES)
DisputeId = Annotated[int, Path(ge=1, le=2**62, description="The dispute's id.")]
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]


class DisputeCreate(BaseModel):
    """A new dispute: its subject (by ``kind``), a note saying what is wrong, and optionally an owner."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["kpi", "mql_rejection", "record"]
    note: Text
    kpi: str | None = Field(None, description="kind=kpi: the KPI's name.")
    period: str | None = Field(None, description="kind=kpi: 2025, 2025-Q2, 2025-03 or 2025-W14.")
    slice: dict[str, str] | None = Field(None, description='kind=kpi: e.g. {"segment": "smb"} or {"owner": "u1"}.')
    lead_id: str | None = Field(None, description="kind=mql_rejection: the lead sales rejected.")
    table: str | None = Field(None, description="kind=record: leads, opportunities, accounts, …")
    record_id: str | None = Field(None, description="kind=record: the record's id.")
    department: str | None = Field(None, description="The side you open it for (admins only; others: their role's).")
    against: str | None = Field(None, description="kind=record: the other side, when you are not marketing or sales.")
    owner: str | None = Field(None, description="A user name to answer for it (the assignee).")


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Text


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    owner: Annotated[str, Field(min_length=1, max_length=128, description="The user who answers for it.")]


class Resolution(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution: Literal["upheld", "overturned", "withdrawn"]
    note: Text


def _seen(store: StateStore, view: Viewing, dispute_id: int) -> Dispute:
    """The dispute, or 404 when the viewer may not see it (as if it did not exist)."""
    dispute = Disputes(store).get(dispute_id)
    if not view.sees(dispute):
        raise UnknownNameError("dispute", str(dispute_id), [])
    return dispute


def _reply(dispute: Dispute) -> dict[str, Any]:
    return {"ok": True, "dispute": dispute.to_dict()}


@router.get("")
def list_disputes(
    project: ProjectDep,
    store: StoreDep,
    cache: CacheDep,
    user: CurrentUser,
    status: Annotated[Literal["open", "resolved"] | None, Query(description="Only open or resolved ones.")] = None,
    department: Annotated[
        str | None, Query(pattern=r"^[a-z_]{1,32}$", description="Only disputes this department is a side of.")
    ] = None,
) -> dict[str, Any]:
    """The disputes you may see, newest first, each with its thread: ``{open, items: [...]}``."""
    found = visible(store, viewing(project, cache, user), status=status, department=department)
    return {"open": sum(d.status == "open" for d in found), "items": [d.to_dict() for d in found]}


@router.get("/{dispute_id}")
def get_dispute(project: ProjectDep, store: StoreDep, cache: CacheDep, user: CurrentUser, dispute_id: DisputeId):
    """One dispute with its thread."""
    return _reply(_seen(store, viewing(project, cache, user), dispute_id))


@router.post("", status_code=201)
def open_dispute(
    body: DisputeCreate, project: ProjectDep, store: StoreDep, cache: CacheDep, user: CurrentUser
) -> dict[str, Any]:
    """Open a dispute on a KPI value, an MQL's rejection or a record; the other side is told in their inbox."""
    values = body.model_dump(include={"kpi", "period", "slice", "lead_id", "table", "record_id"})
    subject = Subject.checked(body.kind, **values)
    side = side_of(user, body.department)
    facts = subject_facts(project, subject, side, body.against)
    if not viewing(project, cache, user).allows(facts.pay, facts.record_owner):
        raise PermissionDenied(f"You may not see {subject.describe()}, so you may not dispute it.")
    disputes = Disputes(store, inbox_notifier(store))
    return _reply(disputes.open(user, subject, facts, body.note, department=body.department, owner=body.owner))


@router.post("/{dispute_id}/comments", status_code=201)
def comment(
    body: CommentCreate, project: ProjectDep, store: StoreDep, cache: CacheDep, user: CurrentUser, dispute_id: DisputeId
) -> dict[str, Any]:
    """Add to a dispute's thread (anyone who may see the dispute)."""
    _seen(store, viewing(project, cache, user), dispute_id)
    return _reply(Disputes(store, inbox_notifier(store)).comment(user, dispute_id, body.text))


@router.post("/{dispute_id}/assign")
def assign(
    body: Assignment, project: ProjectDep, store: StoreDep, cache: CacheDep, user: CurrentUser, dispute_id: DisputeId
) -> dict[str, Any]:
    """Make a user the dispute's owner (the one who answers for it)."""
    _seen(store, viewing(project, cache, user), dispute_id)
    return _reply(Disputes(store, inbox_notifier(store)).assign(user, dispute_id, body.owner))


@router.post("/{dispute_id}/resolve")
def resolve(
    body: Resolution, project: ProjectDep, store: StoreDep, cache: CacheDep, user: CurrentUser, dispute_id: DisputeId
) -> dict[str, Any]:
    """Resolve: upheld or overturned (the other side, the owner, RevOps, admin), withdrawn (the opener)."""
    _seen(store, viewing(project, cache, user), dispute_id)
    return _reply(Disputes(store, inbox_notifier(store)).resolve(user, dispute_id, body.resolution, body.note))
