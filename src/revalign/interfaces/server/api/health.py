"""``GET /api/v1/health``: liveness without authentication (also the benchmark's baseline)."""

from __future__ import annotations

from fastapi import APIRouter

from revalign import __version__
from revalign.interfaces.server.deps import ProjectDep
from revalign.interfaces.server.schemas import HealthPublic

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthPublic)
def health(project: ProjectDep) -> HealthPublic:
    return HealthPublic(version=__version__, project=project.settings.name)
