"""Who am I, and my API tokens (``/api/v1/me``, ``/api/v1/tokens``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from revalign.errors import UnknownNameError
from revalign.interfaces.server.deps import CurrentUser, StoreDep
from revalign.interfaces.server.roles import can_see_pay_data, sees_all_records
from revalign.interfaces.server.schemas import (
    ERROR_RESPONSES,
    OkPublic,
    TokenCreate,
    TokenCreatedPublic,
    TokenPublic,
    TokensPublic,
    UserPublic,
)
from revalign.interfaces.server.state import UserRecord

router = APIRouter(tags=["auth"], responses=ERROR_RESPONSES)
TokenId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The token's id from GET /api/v1/tokens.")]
"""Bounded so a huge number is a 422, not a database overflow (a 500 schemathesis found)."""


def user_public(user: UserRecord) -> UserPublic:
    return UserPublic(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        owner_id=user.owner_id,
        can_see_pay_data=can_see_pay_data(user.role),
        sees_all_records=sees_all_records(user.role),
    )


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> UserPublic:
    """The authenticated user and what their role allows."""
    return user_public(user)


@router.get("/tokens", response_model=TokensPublic)
def list_tokens(user: CurrentUser, store: StoreDep) -> TokensPublic:
    return TokensPublic(tokens=[TokenPublic(**t) for t in store.list_tokens(user)])


@router.post("/tokens", response_model=TokenCreatedPublic, status_code=201)
def create_token(body: TokenCreate, user: CurrentUser, store: StoreDep) -> TokenCreatedPublic:
    """A new API token for yourself; it is shown once, only its hash is stored."""
    return TokenCreatedPublic(token=store.create_token(user.username, body.name), name=body.name)


@router.delete("/tokens/{token_id}", response_model=OkPublic)
def revoke_token(token_id: TokenId, user: CurrentUser, store: StoreDep) -> OkPublic:
    if not store.revoke_token(user, token_id):
        raise UnknownNameError("token", str(token_id), [str(t["id"]) for t in store.list_tokens(user)])
    return OkPublic(message=f"token {token_id} revoked")
