"""Server-rendered pages for people; each calls the same report function as its JSON twin under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from revalign.interfaces.server.pages import (
    account,
    admin,
    agreements,
    attribution,
    audit,
    channels,
    disputes,
    funnel,
    glossary,
    homes,
    inbox,
    incentives,
    login,
    overview,
    pipeline,
    planner,
    records,
    scorecards,
    scoring,
    sla,
    tree,
    writeback,
)

router = APIRouter(include_in_schema=False)
for _module in (
    login,
    overview,
    pipeline,
    scorecards,
    funnel,
    channels,
    attribution,
    glossary,
    records,
    admin,
    account,
    sla,
    scoring,
    audit,
    inbox,
    agreements,
    disputes,
    tree,
    planner,
    incentives,
    homes,
    writeback,
):
    router.include_router(_module.router)

__all__ = ["router"]
