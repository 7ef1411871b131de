"""``create_app(project)``: the FastAPI application (REST API under /api/v1, pages, static assets).

A factory rather than a module-level app so that tests, ``revalign serve`` and ``revalign demo`` each build
an isolated app over their own project and state store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from revalign import __version__
from revalign.definitions.target_files import targets_fingerprint
from revalign.display import department_label
from revalign.interfaces.server import access_log, apidocs, errors, middleware, readiness
from revalign.interfaces.server.api import router as api_router
from revalign.interfaces.server.cache import ReportCache
from revalign.interfaces.server.config import ServerSettings
from revalign.interfaces.server.pages import router as pages_router
from revalign.interfaces.server.pages.rendering import NAV, fmt, query_string
from revalign.interfaces.server.reports.freshness import footer_line
from revalign.interfaces.server.reports.homes import home_of
from revalign.interfaces.server.scheduler import RefreshScheduler
from revalign.interfaces.server.state import StateStore, default_state_url
from revalign.interfaces.server.state.agreement_signoff import SignoffWatch
from revalign.interfaces.server.state.approvals import Approvals
from revalign.interfaces.server.warming import ReportWarmer
from revalign.project import Project

HERE = Path(__file__).parent


def plotly_js() -> Path:
    """``plotly.min.js`` from the installed plotly package: the dashboard needs no internet."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def unique_id(route: APIRoute) -> str:
    """Stable OpenAPI operation ids: ``<tag>-<function>`` (client generators name methods after them)."""
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


def project_version(project: Project, signoff: SignoffWatch | None = None) -> tuple[object, ...]:
    """What every cached report depends on besides its own parameters: the loaded data, the targets and (with
    ``signoff``) the agreement versions signed, which the project is set to count here (a signature recomputes)."""
    signed = tuple(sorted(signoff())) if signoff is not None else ()
    return (
        project.tables.data_version(),
        targets_fingerprint(
            project.folder, inline=project.settings.targets, target_files=project.settings.target_files
        ),
        signed,
    )


def after_refresh(cache: ReportCache, warmer: ReportWarmer | None) -> None:
    """After the server's own refresh: forget the reports of the old data, and warm the pages' default views."""
    cache.clear()
    if warmer is not None:
        warmer.request()


def report_cache(project: Project, signoff: SignoffWatch, settings: ServerSettings) -> ReportCache:
    """The reports cache, dropped when the project's version moves (checked at once when the store file moves)."""
    return ReportCache(
        enabled=settings.cache_results,
        pages=settings.cache_pages,
        version=lambda: project_version(project, signoff),
        check_seconds=settings.cache_check_seconds,
        changed=lambda: project.engine.change_token(),
    )


def report_warmer(
    project: Project, cache: ReportCache, store: StateStore, settings: ServerSettings
) -> ReportWarmer | None:
    """The background warming of the pages' default views (none when reports are not cached or it is off)."""
    if not (settings.warm_reports and settings.cache_results):
        return None
    return ReportWarmer(project, cache, store, changed=lambda: project.engine.change_token())


def page_templates() -> Jinja2Templates:
    """The pages' templates with what every page may call: the one formatting layer, the navigation."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["fmt"] = fmt
    templates.env.filters["department"] = department_label
    templates.env.globals["qs"] = query_string
    templates.env.globals["NAV"] = NAV  # the one navigation list, also for pages rendered without a report
    templates.env.globals["home_of"] = home_of  # the overview's "Your home" link
    return templates


def create_app(project: Project, *, state_url: str | None = None, settings: ServerSettings | None = None) -> FastAPI:
    """The dashboard and API over ``project``; users, tokens and saved views live at ``state_url``.

    ``state_url`` defaults to the project's ``state_url`` setting, else SQLite in ``<project>/.revalign/``.
    Migrations run here, so a new version of revalign upgrades the state database on start.
    """
    settings = settings or ServerSettings()
    store = StateStore(state_url or project.settings.state_url or default_state_url(project.folder))
    store.migrate()
    signoff = SignoffWatch(project, Approvals(store))
    signoff()  # only signed agreement versions count, from the first request on

    schedule = project.settings.alerts.refresh
    scheduler = RefreshScheduler(project, store, schedule) if schedule and settings.scheduled_refresh else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if warmer is not None:
            warmer.start()
        if scheduler is not None:
            scheduler.start()
        yield
        if scheduler is not None:
            scheduler.stop()
        if warmer is not None:
            warmer.stop()
        store.close()

    app = FastAPI(
        lifespan=lifespan,
        title=f"{settings.title} API",
        version=__version__,
        description="KPIs, scorecards, driver tree, funnel, channels and attribution of a revalign project. "
        "Authenticate with `Authorization: Bearer <token>` (create one with `revalign users token`).",
        generate_unique_id_function=unique_id,
        docs_url=None,  # apidocs.install serves /docs and /redoc from installed assets, not a CDN
        redoc_url=None,
    )
    templates = page_templates()
    # the write-back page's link, for each CRM the project syncs with (admins and RevOps see it)
    templates.env.globals["writeback_crms"] = tuple(
        crm for crm in ("salesforce", "hubspot") if crm in project.settings.sync
    )
    app.state.project, app.state.store, app.state.settings = project, store, settings
    app.state.cache = report_cache(project, signoff, settings)
    app.state.templates = templates
    app.state.scheduler = scheduler
    app.state.warmer = warmer = report_warmer(project, app.state.cache, store, settings)
    if scheduler is not None:  # a refresh loads data: drop the cached reports at once, then compute them again
        scheduler.after_run = lambda _report: after_refresh(app.state.cache, warmer)
    templates.env.globals["freshness"] = lambda: footer_line(app)

    errors.install(app)
    middleware.install(app, settings)
    apidocs.install(app)
    app.include_router(api_router)
    app.include_router(pages_router)
    app.include_router(readiness.router)  # /readyz: project, state store, migrations (readiness.py)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.get("/assets/plotly.min.js", include_in_schema=False)
    def plotly_asset() -> FileResponse:
        return FileResponse(plotly_js(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, bool]:
        return {"ok": True}

    @app.middleware("http")
    async def blank_filters(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # An empty form field (a GET filter form left blank) means "not set", not an invalid empty value.
        raw = request.scope.get("query_string", b"")
        if raw:
            kept = [(k, v) for k, v in parse_qsl(raw.decode("latin-1"), keep_blank_values=True) if v != ""]
            request.scope["query_string"] = urlencode(kept).encode("latin-1")
        request.state.user, request.state.csrf, request.state.via = None, None, None
        return await call_next(request)

    access_log.install(app)  # last: outermost, so it sees every status and the whole duration
    return app
