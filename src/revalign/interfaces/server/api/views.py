"""Saved views: a named set of filters on a page, per user (``/api/v1/views``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from revalign.errors import UnknownNameError
from revalign.interfaces.server.deps import CurrentUser, StoreDep
from revalign.interfaces.server.schemas import (
    ERROR_RESPONSES,
    OkPublic,
    SavedViewCreate,
    SavedViewPublic,
    SavedViewsPublic,
)

router = APIRouter(prefix="/views", tags=["views"], responses=ERROR_RESPONSES)
ViewName = Annotated[str, Path(min_length=1, max_length=128, description="A saved view's name.")]


@router.get("", response_model=SavedViewsPublic)
def list_views(user: CurrentUser, store: StoreDep) -> SavedViewsPublic:
    return SavedViewsPublic(views=[SavedViewPublic(**v) for v in store.list_views(user)])


@router.post("", response_model=SavedViewPublic, status_code=201)
def save_view(body: SavedViewCreate, user: CurrentUser, store: StoreDep) -> SavedViewPublic:
    return SavedViewPublic(**store.save_view(user, body.name, body.page, body.query))


@router.delete("/{name}", response_model=OkPublic)
def delete_view(name: ViewName, user: CurrentUser, store: StoreDep) -> OkPublic:
    if not store.delete_view(user, name):
        raise UnknownNameError("saved view", name, [v["name"] for v in store.list_views(user)])
    return OkPublic(message=f"view {name!r} deleted")
