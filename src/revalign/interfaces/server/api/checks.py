"""``GET /api/v1/checks``: everything that needs a person's attention, the sections ``revalign check`` prints.

Catalog, driver-tree, funnel and target issues (file and line, or row and column) and quarantined input rows,
computed by :mod:`revalign.checks`. Like the admin page, this is for the people who fix the project rather
than read its numbers: admins and RevOps (who own the KPI definitions, the targets files and the data feeds).
Quarantined rows carry raw values from the exports (names, e-mail addresses), so departments and reps get a 403.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from revalign.checks import Section, needs_attention, project_checks
from revalign.interfaces.server.deps import ProjectDep, RequireRole
from revalign.interfaces.server.roles import Role
from revalign.interfaces.server.schemas import ERROR_RESPONSES
from revalign.jsonsafe import records

CHECK_ROLES = (Role.ADMIN, Role.REVOPS)
"""Who may list the checks: those who fix definitions and data (see the module docstring)."""

router = APIRouter(
    prefix="/checks",
    tags=["checks"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(RequireRole(*CHECK_ROLES))],
)


class CheckSectionPublic(BaseModel):
    """One kind of finding: ``summary`` as ``revalign check`` prints it, ``rows`` every finding in detail."""

    name: str
    title: str
    problems: int
    hint: str
    summary: list[dict[str, Any]]
    rows: list[dict[str, Any]]


class ChecksPublic(BaseModel):
    """``ok`` is false when any section has a problem (``revalign check`` exits 1 then)."""

    ok: bool
    sections: list[CheckSectionPublic]


def section_public(section: Section) -> CheckSectionPublic:
    return CheckSectionPublic(
        name=section.name,
        title=section.title,
        problems=section.problems,
        hint=section.hint,
        summary=records(section.frame),
        rows=records(section.rows),
    )


@router.get("", response_model=ChecksPublic)
def list_checks(
    project: ProjectDep,
    include_resolved: Annotated[bool, Query(description="Also list quarantined rows a later load resolved.")] = False,
) -> ChecksPublic:
    """Every section of ``revalign check``: catalog, tree, funnel and target issues, quarantined rows."""
    sections = project_checks(project, include_resolved=include_resolved)
    return ChecksPublic(ok=not needs_attention(sections), sections=[section_public(s) for s in sections])
