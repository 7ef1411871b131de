"""``/api/v1/scoring``: the lead scoring report (JSON, or one table as CSV), and its versions' approvals.

``GET /api/v1/scoring/approvals`` lists every proposed scoring version with its signatures;
``POST /api/v1/scoring/approvals/{id}/sign`` signs one for the caller's department (a ``marketing`` or ``sales``
login), for the content hash the caller reviewed. The version takes effect when every required department has
signed (:mod:`revalign.interfaces.server.state.approvals`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from revalign.errors import PermissionDenied
from revalign.interfaces.server.api.report_endpoint import report_endpoint
from revalign.interfaces.server.deps import CurrentUser, ProjectDep, StoreDep
from revalign.interfaces.server.filters import Filters, filters_for
from revalign.interfaces.server.reports.scoring import ACCEPTS, scoring
from revalign.interfaces.server.schemas import ERROR_RESPONSES
from revalign.interfaces.server.state.approvals import ApprovalRecord, Approvals

page_filters = filters_for(*ACCEPTS)
PageFilters = Annotated[Filters, Depends(page_filters)]
report_router, scoring_report = report_endpoint("scoring", "Lead scoring", scoring, page_filters)


class SignaturePublic(BaseModel):
    department: str
    username: str
    signed_at: datetime


class ApprovalPublic(BaseModel):
    """A proposed version, who must sign it, who did and when, and whether it is in force."""

    id: int
    subject_kind: str
    name: str
    version: str
    content_hash: str
    required: list[str]
    missing: list[str]
    status: str
    proposed_by: str
    proposed_at: datetime
    effective_at: datetime | None
    note: str
    signatures: list[SignaturePublic]


class ApprovalsPublic(BaseModel):
    approvals: list[ApprovalPublic]


class SignCreate(BaseModel):
    content_hash: str = Field(min_length=16, max_length=128, pattern=r"^[0-9a-f]+$")


def approval_public(rec: ApprovalRecord) -> ApprovalPublic:
    return ApprovalPublic.model_validate(rec.to_dict())


approvals_router = APIRouter(prefix="/scoring/approvals", tags=["scoring"], responses=ERROR_RESPONSES)


@approvals_router.get("", response_model=ApprovalsPublic)
def list_approvals(user: CurrentUser, store: StoreDep) -> ApprovalsPublic:
    return ApprovalsPublic(approvals=[approval_public(r) for r in Approvals(store).proposals("scoring")])


@approvals_router.post("/{approval_id}/sign", response_model=ApprovalPublic)
def sign(
    approval_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: SignCreate,
    user: CurrentUser,
    store: StoreDep,
    project: ProjectDep,
) -> ApprovalPublic:
    approvals = Approvals(store)
    rec = approvals.get(approval_id)
    current = project.scoring_model(rec.name, int(rec.version)).content_hash()
    if current != rec.content_hash:
        raise PermissionDenied(
            f"{rec.name} v{rec.version} changed in the project's files since it was proposed; propose it again "
            "under a new version."
        )
    return approval_public(approvals.sign(approval_id, user, body.content_hash))


router = APIRouter()
router.include_router(approvals_router)
router.include_router(report_router)
