"""The role homes' pages: ``/home`` opens the logged-in user's own, ``/home/{role}`` one the role may open."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from revalign.interfaces.server.api.homes import Home, Owner, PageFilters, home_report
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import KnownParameters
from revalign.interfaces.server.pages.rendering import render
from revalign.interfaces.server.reports.homes import ACCEPTS, HOME_TITLES, home_of, homes_for

router = APIRouter()


@router.get("/home")
def my_home(request: Request, user: CurrentUser) -> RedirectResponse:
    """The user's role home, or the overview for a role without one (admin, RevOps, finance); the query goes
    along, so the page it lands on judges its parameters (an unknown one is its 422, never silently dropped)."""
    home = home_of(user.role)
    query = request.url.query
    return RedirectResponse((f"/home/{home}" if home else "/") + (f"?{query}" if query else ""), status_code=303)


@router.get("/home/{home}", response_class=HTMLResponse, dependencies=[KnownParameters])
def home_page(
    request: Request,
    project: ProjectDep,
    cache: CacheDep,
    user: CurrentUser,
    filters: PageFilters,
    home: Home,
    owner: Owner = None,
):
    report = home_report(project, cache, user, home, filters, owner)
    api_path = f"/api/v1/home/{home}"
    tabs = [(h, HOME_TITLES[h]) for h in homes_for(user.role)]
    return render(
        request,
        "home.html",
        report,
        filters=filters,
        api_path=api_path,
        extra={"controls": ACCEPTS, "tabs": tabs, "home": home},
    )
