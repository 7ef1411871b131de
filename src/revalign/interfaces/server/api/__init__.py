"""The versioned JSON API (``/api/v1``): one module per resource, all under one router."""

from __future__ import annotations

from fastapi import APIRouter

from revalign.interfaces.server.api import (
    admin,
    agreements,
    attribution,
    audit,
    auth,
    channels,
    checks,
    disputes,
    forecast,
    funnel,
    health,
    homes,
    inbox,
    incentives,
    kpis,
    overview,
    pipeline,
    planner,
    records,
    scorecards,
    scoring,
    sla,
    tree,
    views,
    writeback,
)

router = APIRouter(prefix="/api/v1")
for _module in (
    health,
    auth,
    admin,
    checks,
    views,
    kpis,
    overview,
    pipeline,
    scorecards,
    funnel,
    channels,
    attribution,
    records,
    sla,
    scoring,
    audit,
    agreements,
    tree,
    planner,
    incentives,
):
    router.include_router(_module.router)
router.include_router(inbox.router)
router.include_router(disputes.router)
router.include_router(forecast.router)
router.include_router(homes.router)
router.include_router(writeback.router)

__all__ = ["router"]
