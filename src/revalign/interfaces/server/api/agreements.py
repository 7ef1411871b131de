"""``/api/v1/agreements``: the agreement versions with their sign-off (JSON, or a table as CSV), proposing a
version and signing it.

``POST /api/v1/agreements/propose`` (``{"agreement": "…", "version": 2, "note": "…"}``) puts a version of the
project's files up for signature by the departments of its ``signatories``;
``POST /api/v1/agreements/approvals/{id}/sign`` (``{"content_hash": "…"}``) signs it for the caller's department
(a login with the role ``marketing``, ``sales``, ``revops`` or ``customer_success``), for the content the caller
reviewed. The version counts — the SLA numbers are computed under it from its ``effective_from`` — once every
required department has signed (:mod:`revalign.interfaces.server.state.agreement_signoff`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from revalign.definitions.agreements.spec import AgreementSpec
from revalign.errors import PermissionDenied, UnknownNameError
from revalign.interfaces.server.api.report_endpoint import report_endpoint
from revalign.interfaces.server.api.scoring import ApprovalPublic, SignCreate, approval_public
from revalign.interfaces.server.deps import CurrentUser, ProjectDep, StoreDep
from revalign.interfaces.server.reports.agreements import AgreementFilters, SignoffRow, agreements
from revalign.interfaces.server.schemas import ERROR_RESPONSES
from revalign.interfaces.server.state.agreement_signoff import VersionState, propose_version, version_states
from revalign.interfaces.server.state.approvals import SIGNING_ROLES, Approvals
from revalign.interfaces.server.state.store import UserRecord
from revalign.project import Project

PROPOSING_ROLES = frozenset({*SIGNING_ROLES, "admin"})
"""Who may put a version up for signature: anyone who signs for a department, and admins."""


def _row(state: VersionState) -> SignoffRow:
    rec = state.record
    return SignoffRow(
        agreement=state.spec.agreement,
        version=state.spec.version,
        status=state.status,
        counted=state.counts,
        approval_id=rec.id if rec is not None else None,
        signed=state.signed,
        missing=", ".join(rec.missing) if rec is not None and state.status == "proposed" else "",
        proposed=f"{rec.proposed_by}, {rec.proposed_at:%Y-%m-%d %H:%M}" if rec is not None else "",
    )


def page_filters(project: ProjectDep, store: StoreDep) -> AgreementFilters:
    """FastAPI dependency: every version's sign-off read from the app state (so the cache keys on it)."""
    book, _ = project.checked_agreements()
    return AgreementFilters(signoff=tuple(_row(s) for s in version_states(book, Approvals(store))))


PageFilters = Annotated[AgreementFilters, Depends(page_filters)]
report_router, agreements_report = report_endpoint("agreements", "Agreements", agreements, page_filters)


class ProposeCreate(BaseModel):
    """Which version of the project's files to put up for signature, and why."""

    model_config = ConfigDict(extra="forbid")
    agreement: str = Field(min_length=1, max_length=128, pattern=r"^[\w.-]+$")
    version: int = Field(ge=1, le=2**31 - 1)
    note: str = Field("", max_length=2000)


def _spec(project: Project, agreement: str, version: int) -> AgreementSpec:
    book = project.agreements()
    found = [v for v in book.history(agreement) if v.version == version]
    if not found:
        raise UnknownNameError(
            f"version of {agreement}", str(version), [str(v.version) for v in book.history(agreement)]
        )
    return found[0]


def _may_propose(user: UserRecord) -> None:
    if user.role not in PROPOSING_ROLES:
        raise PermissionDenied(
            f"{user.username} ({user.role}) cannot propose an agreement version: the signatories' departments "
            "(marketing, sales, revops, customer_success) and admins can."
        )


actions = APIRouter(prefix="/agreements", tags=["agreements"], responses=ERROR_RESPONSES)


@actions.post("/propose", response_model=ApprovalPublic)
def propose(body: ProposeCreate, user: CurrentUser, store: StoreDep, project: ProjectDep) -> ApprovalPublic:
    _may_propose(user)
    spec = _spec(project, body.agreement, body.version)
    return approval_public(propose_version(Approvals(store), spec, by=user.username, note=body.note))


@actions.post("/approvals/{approval_id}/sign", response_model=ApprovalPublic)
def sign(
    approval_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: SignCreate,
    user: CurrentUser,
    store: StoreDep,
    project: ProjectDep,
) -> ApprovalPublic:
    approvals = Approvals(store)
    rec = approvals.get(approval_id)
    if rec.subject_kind != "agreement":
        raise UnknownNameError("agreement approval", str(approval_id), [])
    current = _spec(project, rec.name, int(rec.version)).content_hash()
    if current != rec.content_hash:
        raise PermissionDenied(
            f"{rec.name} v{rec.version} changed in the project's files since it was proposed; propose the change "
            "as a new version."
        )
    return approval_public(approvals.sign(approval_id, user, body.content_hash))


router = APIRouter()
router.include_router(actions)
router.include_router(report_router)
