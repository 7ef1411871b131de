"""FastAPI dependencies: the project, the state store, the current user and role checks.

A request is authenticated by ``Authorization: Bearer <API token>`` (scripts) or by the session cookie set at
login (people). Unsafe methods authenticated by cookie must carry the session's CSRF token (a form field
``csrf_token`` or an ``X-CSRF-Token`` header); token-authenticated requests need none, since a browser never
sends a bearer token on its own.

Every request that reads the project does so inside one ``engine.session()``: on a DuckDB file the server's
read-only connection is opened on the request's first read and closed when the last request in flight ends, so
CLI commands can write the file between requests (docs/server.md, "Working alongside the CLI").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from revalign.errors import PermissionDenied
from revalign.interfaces.server import security
from revalign.interfaces.server.cache import ReportCache
from revalign.interfaces.server.errors import NotAuthenticated
from revalign.interfaces.server.state import StateStore, UserRecord
from revalign.project import Project

SESSION_COOKIE = "revalign_session"
CSRF_COOKIE = "revalign_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_project(request: Request) -> Iterator[Project]:
    """The project, held for this request only (a cached report served without reading opens nothing)."""
    project: Project = request.app.state.project
    with project.engine.session():
        yield project


def get_store(request: Request) -> StateStore:
    return request.app.state.store


def get_cache(request: Request) -> ReportCache:
    return request.app.state.cache


ProjectDep = Annotated[Project, Depends(get_project)]
StoreDep = Annotated[StateStore, Depends(get_store)]
CacheDep = Annotated[ReportCache, Depends(get_cache)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def current_user(request: Request, store: StoreDep) -> UserRecord:
    """The authenticated user, or 401 (JSON) / a redirect to the login page (HTML)."""
    token = _bearer(request)
    if token is not None:
        user = store.user_for_token(token)
        if user is None:
            raise NotAuthenticated("The API token is unknown or revoked. Create one with `revalign users token`.")
        request.state.user, request.state.csrf, request.state.via = user, None, "token"
        return user
    cookie = request.cookies.get(SESSION_COOKIE)
    record = store.session(cookie) if cookie else None
    if record is None:
        raise NotAuthenticated("Log in first (session cookie), or send 'Authorization: Bearer <API token>'.")
    request.state.user, request.state.csrf, request.state.via = record.user, record.csrf_token, "session"
    if request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token")
        if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            field = (await request.form()).get("csrf_token")  # a str, or an UploadFile from a hostile form
            sent = field if isinstance(field, str) else None
        if not security.same_token(sent if isinstance(sent, str) else None, record.csrf_token):
            raise PermissionDenied("The form's CSRF token is missing or stale. Reload the page and try again.")
    return record.user


CurrentUser = Annotated[UserRecord, Depends(current_user)]


class RequireRole:
    """Dependency that lets only the given roles through: ``Depends(RequireRole("admin"))``."""

    def __init__(self, *roles: str) -> None:
        self.roles = frozenset(roles)

    def __call__(self, user: CurrentUser) -> UserRecord:
        if user.role not in self.roles:
            allowed = ", ".join(sorted(self.roles))
            raise PermissionDenied(f"Your role ({user.role}) may not open this; it needs one of: {allowed}.")
        return user


AdminUser = Annotated[UserRecord, Depends(RequireRole("admin"))]
