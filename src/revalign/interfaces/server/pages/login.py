"""``/login`` and ``/logout``: session cookies for people.

The login form is protected by a double-submit CSRF token (a random cookie that the form must echo), since
there is no session yet; after login every form carries the session's own CSRF token. The session cookie is
HttpOnly and SameSite=Lax, and Secure when the request came over https (or ``secure_cookies`` says so).

Attempts go through the :class:`~revalign.interfaces.server.throttle.LoginThrottle`: after too many failures for
a user name or a client address the form answers 429 with ``Retry-After`` (a message on the page, or the API's
JSON error when the client asks for JSON) until the back-off has passed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from revalign.errors import PermissionDenied
from revalign.interfaces.server import security
from revalign.interfaces.server.deps import CSRF_COOKIE, SESSION_COOKIE, CurrentUser, StoreDep
from revalign.interfaces.server.errors import error_body
from revalign.interfaces.server.throttle import Locked, LoginThrottle

router = APIRouter()


def _secure(request: Request) -> bool:
    configured = request.app.state.settings.secure_cookies
    return request.url.scheme == "https" if configured is None else configured


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: an open redirect after login would be a phishing tool."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def wants_json(request: Request) -> bool:
    """A script posting the form with ``Accept: application/json`` gets the API's JSON errors, not HTML."""
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _locked(request: Request, next_url: str, locked: Locked) -> Response:
    """429 with ``Retry-After``: JSON for API clients, the login page with a message for people."""
    what = "this user name" if locked.scope == "user" else "your network address"
    message = f"Too many failed logins for {what}; try again in {locked.retry_after} seconds."
    headers = {"Retry-After": str(locked.retry_after)}
    if wants_json(request):
        field = "username" if locked.scope == "user" else "client"
        errors = [{"loc": ["body", field], "msg": message, "rule": "throttled"}]
        return JSONResponse(error_body(429, message, errors), status_code=429, headers=headers)
    response = _login_page(request, next_url, message, 429)
    response.headers.update(headers)
    return response


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
    throttle: LoginThrottle = request.app.state.throttle
    user = throttle.attempt(username, request.client.host if request.client else "unknown", password)
    if isinstance(user, Locked):
        return _locked(request, _safe_next(next), user)
    if user is None:
        if wants_json(request):
            return JSONResponse(error_body(401, "Wrong username or password."), status_code=401)
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
