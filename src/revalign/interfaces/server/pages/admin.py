"""The admin page: users and roles (admins only; everyone else gets a 403)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from revalign.interfaces.server.deps import AdminUser, StoreDep
from revalign.interfaces.server.roles import ROLES

router = APIRouter()


def _page(request: Request, store: StoreDep, message: str | None = None, status: int = 200) -> HTMLResponse:
    context = {
        "user": request.state.user,
        "csrf": request.state.csrf,
        "nav": (),
        "page": "admin",
        "users": store.list_users(),
        "roles": ROLES,
        "message": message,
    }
    return request.app.state.templates.TemplateResponse(request, "admin.html", context, status_code=status)


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, store: StoreDep, user: AdminUser):
    return _page(request, store)


@router.post("/admin/users")
def admin_add_user(
    request: Request,
    store: StoreDep,
    user: AdminUser,
    username: Annotated[str, Form(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@-]+$")],
    password: Annotated[str, Form(min_length=8, max_length=256)],
    role: Annotated[str, Form(max_length=32)],
    owner_id: Annotated[str, Form(max_length=128)] = "",
):
    store.add_user(username, password, role, owner_id=owner_id or None)
    return RedirectResponse("/admin", status_code=303)
