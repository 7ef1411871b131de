"""Admin-only: users and the result cache (``/api/v1/admin/…``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from revalign.interfaces.server.api.auth import user_public
from revalign.interfaces.server.deps import CacheDep, RequireRole, StoreDep
from revalign.interfaces.server.schemas import ERROR_RESPONSES, OkPublic, UserCreate, UserPublic, UsersPublic

router = APIRouter(
    prefix="/admin", tags=["admin"], responses=ERROR_RESPONSES, dependencies=[Depends(RequireRole("admin"))]
)


@router.get("/users", response_model=UsersPublic)
def list_users(store: StoreDep) -> UsersPublic:
    return UsersPublic(users=[user_public(u) for u in store.list_users()])


@router.post("/users", response_model=UserPublic, status_code=201)
def add_user(body: UserCreate, store: StoreDep) -> UserPublic:
    """Create a user (a rep needs ``owner_id``: the canonical user_id whose records they own)."""
    user = store.add_user(
        body.username, body.password, body.role, owner_id=body.owner_id, display_name=body.display_name
    )
    return user_public(user)


@router.post("/cache/clear", response_model=OkPublic)
def clear_cache(cache: CacheDep) -> OkPublic:
    """Forget computed reports (after new data was loaded outside the server)."""
    cache.clear()
    return OkPublic(message="result cache cleared")
