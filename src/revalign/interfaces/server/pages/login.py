"""``/login`` and ``/logout``: session cookies for people.

The login form is protected by a double-submit CSRF token (a random cookie that the form must echo), since
there is no session yet; after login every form carries the session's own CSRF token. The session cookie is
HttpOnly and SameSite=Lax, and Secure when the request came over https (or ``secure_cookies`` says so).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from revalign.errors import PermissionDenied
from revalign.interfaces.server import security
from revalign.interfaces.server.deps import CSRF_COOKIE, SESSION_COOKIE, CurrentUser, StoreDep

router = APIRouter()


def _secure(request: Request) -> bool:
    configured = request.app.state.settings.secure_cookies
    return request.url.scheme == "https" if configured is None else configured


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: an open redirect after login would be a phishing tool."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(request: Request, next_url: str, error: str | None, status: int) -> Response:
    token = request.cookies.get(CSRF_COOKIE) or security.new_token()
    response = request.app.state.templates.TemplateResponse(
        request,
        "login.html",
        {"csrf": token, "next": next_url, "error": error, "user": None, "nav": ()},
        status_code=status,
    )
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/login")
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    return _login_page(request, _safe_next(next), None, 200)


@router.post("/login")
def login(
    request: Request,
    store: StoreDep,
    username: Annotated[str, Form(max_length=128)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    if not security.same_token(csrf_token, request.cookies.get(CSRF_COOKIE)):
        return _login_page(request, _safe_next(next), "The form expired; please try again.", 403)
    user = store.authenticate(username, password)
    if user is None:
        return _login_page(request, _safe_next(next), "Wrong username or password.", 401)
    token, _csrf = store.open_session(user, hours=request.app.state.settings.session_hours)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(request.app.state.settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    response.delete_cookie(CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, store: StoreDep, user: CurrentUser) -> Response:
    """Ends the session (the CSRF check runs in ``CurrentUser``); a stolen cookie stops working too."""
    if request.state.via != "session":
        raise PermissionDenied("Log out ends a browser session; revoke an API token instead.")
    store.close_session(request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
