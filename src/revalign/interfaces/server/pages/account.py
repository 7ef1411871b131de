"""The account page: who you are, your API tokens (create one; it is shown once) and your saved views."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from revalign.interfaces.server.api.auth import user_public
from revalign.interfaces.server.deps import CurrentUser, StoreDep

router = APIRouter()


def _page(request: Request, store: StoreDep, user, new_token: str | None = None) -> HTMLResponse:
    context = {
        "user": user,
        "me": user_public(user),
        "csrf": request.state.csrf,
        "nav": (),
        "page": "account",
        "tokens": store.list_tokens(user),
        "views": store.list_views(user),
        "new_token": new_token,
    }
    return request.app.state.templates.TemplateResponse(request, "account.html", context)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, store: StoreDep, user: CurrentUser):
    return _page(request, store, user)


@router.post("/account/tokens", response_class=HTMLResponse)
def account_new_token(
    request: Request, store: StoreDep, user: CurrentUser, name: Annotated[str, Form(min_length=1, max_length=128)]
):
    return _page(request, store, user, new_token=store.create_token(user.username, name))


@router.post("/account/views")
def account_save_view(
    request: Request,
    store: StoreDep,
    user: CurrentUser,
    name: Annotated[str, Form(min_length=1, max_length=128)],
    page: Annotated[str, Form(pattern=r"^(overview|scorecards|funnel|channels|attribution|glossary)$")],
    query: Annotated[str, Form(max_length=2000)] = "",
):
    store.save_view(user, name, page, dict(parse_qsl(query)))
    target = "/" if page == "overview" else f"/{page}"
    return RedirectResponse(f"{target}?{query}" if query else target, status_code=303)
