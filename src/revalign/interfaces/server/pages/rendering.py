"""Turning a report into an HTML page: the same :class:`ReportPublic` the API returns, laid out for people.

Pages format nothing themselves: every number shown is the JSON twin's ``formatted`` text (one formatting layer,
:mod:`revalign.display`, for the pages, the API and the CLI); statuses read as a colour, an icon and a word.

A rendered page is kept in the report cache (:meth:`ReportCache.page`) under everything it shows: the template,
the path and query, the viewer (login, role, person, session's CSRF token: pay data differs per viewer, so a page
is never shared between two logins), the report (by a token of the cached report object: a new computation, after
new data or a cleared cache, is a new token), the filters, the page's extras (sign-off, disputes banner), the
footer's freshness line and the definitions fingerprint. The cache drops every page when the data version moves.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from revalign.analytics.targets import target_for
from revalign.display import UNITS, DisplayContext, currency_symbol, format_value
from revalign.display.periods import as_date
from revalign.display.statuses import status_sign
from revalign.display.tables import row_unit
from revalign.errors import RevalignError
from revalign.interfaces.server.cache import ReportCache
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.freshness import footer_line
from revalign.interfaces.server.reports.report import Report
from revalign.interfaces.server.schemas import ReportPublic
from revalign.interfaces.server.tabular import display_context, report_public
from revalign.project import Project

NAV = (
    ("overview", "/", "Overview"),
    ("home", "/home", "Home"),
    ("tree", "/tree", "Driver tree"),
    ("scorecards", "/scorecards", "Scorecards"),
    ("pipeline", "/pipeline", "Pipeline"),
    ("funnel", "/funnel", "Funnel"),
    ("channels", "/channels", "Channels"),
    ("attribution", "/attribution", "Attribution"),
    ("sla", "/sla", "SLAs"),
    ("agreements", "/agreements", "Agreements"),
    ("scoring", "/scoring", "Scoring"),
    ("audit", "/audit", "Audit"),
    ("planner", "/planner", "Planner"),
    ("incentives", "/incentives", "Incentives"),
    ("glossary", "/glossary", "KPI glossary"),
)


def status_badge(status: Any) -> tuple[str, str]:
    """``(icon, meaning)`` of a scorecard status, as :mod:`revalign.display.statuses` says it everywhere."""
    return status_sign(status)


def fmt(value: Any, unit: str | None = None) -> str:
    """A value for reading in ``unit`` (a unit of :data:`revalign.display.UNITS`; anything else: plain)."""
    return format_value(value, unit if unit in UNITS else None)


def query_string(params: dict[str, Any]) -> str:
    """A link's query: empty values left out, a repeated parameter (``models=a&models=b``) kept whole."""
    return urlencode({k: v for k, v in params.items() if v not in (None, "", [])}, doseq=True)


def page_query(request: Request) -> dict[str, Any]:
    """The page's own query, for its links (CSV, API, other grains): a parameter given several times keeps every
    value (``dict(request.query_params)`` would keep only the last, and the link would show another page)."""
    out: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        out[key] = values if len(values) > 1 else values[0]
    return out


def render(
    request: Request,
    template: str,
    report: Report,
    *,
    filters: Filters | None = None,
    api_path: str,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render ``template`` with the report's public form (exactly what ``api_path`` returns as JSON), once per
    viewer and everything else the page shows (see the module docstring)."""
    project: Project = request.app.state.project
    cache: ReportCache = request.app.state.cache
    freshness = footer_line(request.app) if request.state.user is not None else ""
    key = page_key(request, template, report, filters, api_path, extra, status_code, freshness, project)
    body = cache.page(
        key,
        lambda: _render(request, template, report, filters, api_path, extra, status_code, freshness).body,
    )
    return HTMLResponse(body, status_code=status_code)


_REPORT_TOKENS = itertools.count(1)


def report_token(report: Report) -> int:
    """A number naming this report object for as long as it lives (never reused, unlike ``id``)."""
    token: int = report.__dict__.setdefault("_token", next(_REPORT_TOKENS))
    return token


def page_key(
    request: Request,
    template: str,
    report: Report,
    filters: Filters | None,
    api_path: str,
    extra: dict[str, Any] | None,
    status_code: int,
    freshness: str,
    project: Project,
) -> Hashable:
    """Everything a rendered page shows besides the template's own text (the module docstring says why each)."""
    user = request.state.user
    viewer = (user.username, user.role, user.owner_id, user.display_name) if user is not None else None
    return (
        template,
        request.url.path,
        tuple(sorted(request.query_params.multi_items())),
        viewer,
        request.state.csrf,
        report_token(report),
        repr(filters),
        api_path,
        repr(extra),
        status_code,
        freshness,
        project.definitions_fingerprint(),
    )


def _render(
    request: Request,
    template: str,
    report: Report,
    filters: Filters | None,
    api_path: str,
    extra: dict[str, Any] | None,
    status_code: int,
    freshness: str,
) -> HTMLResponse:
    project: Project = request.app.state.project
    public = report_public(report, filters.as_dict() if filters else {}, project)
    ctx = display_context(project)
    query = page_query(request)
    context = {
        "user": request.state.user,
        "csrf": request.state.csrf,
        "nav": NAV,
        "page": report.page,
        "report": public,
        "filters": filters.as_dict() if filters else {},
        "query": query,
        "api_url": api_path + ("?" + query_string(query) if query else ""),
        "csv_url": lambda table: api_path + "?" + query_string({**query, "format": "csv", "table": table}),
        "qs": query_string,
        "show": lambda value, unit=None: ctx.format(value, unit if unit in UNITS else None),
        "status_badge": status_badge,
        "chart_targets": kpi_chart_targets(project, report, public, filters) if report.page == "kpi" else {},
        "chart_axes": [chart_axis(public, chart, ctx) for chart in public.meta.get("charts") or []],
        "freshness": lambda: freshness,  # the line the key holds (the template global would read it again)
        **(extra or {}),
    }
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, template, context, status_code=status_code
    )
    return response


def kpi_chart_targets(
    project: Project, report: Report, public: ReportPublic, filters: Filters | None
) -> dict[str, list[Any]]:
    """:func:`chart_targets`, once per cached report and filters (the cache drops the report when targets change)."""
    memo = report.__dict__.setdefault("_chart_targets", {})
    key = repr(sorted((filters.as_dict() if filters else {}).items()))
    if key not in memo:
        memo[key] = chart_targets(project, public, filters)
    return memo[key]


def chart_targets(project: Project, public: ReportPublic, filters: Filters | None) -> dict[str, list[Any]]:
    """The target in force for each period of a KPI's trend (``{"x": [...], "y": [...]}``: a line on its chart).

    Looked up as the scorecard looks it up (project targets before the catalog's, for the KPI, grain and slice),
    so the line is the target the scorecard scores against; periods without a target leave a gap.
    """
    name = str(public.meta.get("kpi", {}).get("name") or public.title)
    values = next((t for t in public.tables if t.name == "values"), None)
    grain = (filters.grain if filters else None) or "month"
    if values is None or not values.rows or "period_start" not in values.rows[0] or (filters and filters.by):
        return {}  # one line per slice (``by``) would need one target line each: none rather than a wrong one
    try:
        kpi, book = project.catalog.get(name), project.targets()
    except RevalignError:  # an unknown KPI or a broken targets file: the chart shows without a target line
        return {}
    segment = filters.segment if filters else None
    xs: list[Any] = []
    ys: list[float | None] = []
    for row in values.rows:
        start = as_date(row["period_start"])
        if start is None:
            continue
        entry = target_for(
            kpi,
            grain,
            start,
            {"segment": segment} if segment else None,
            book=book,
            fiscal_year_start_month=project.fiscal_year_start_month,
            name=name,
        )
        xs.append(row["period_start"])
        ys.append(entry.value if entry is not None else None)
    if all(y is None for y in ys):
        return {}
    ctx = display_context(project)
    return {"x": xs, "y": ys, "text": [ctx.format(y, kpi.unit) for y in ys]}


AXIS_FORMATS: dict[str, dict[str, str]] = {
    "percent": {"tickformat": ".0%"},
    "percent_x100": {"ticksuffix": "%"},
    "percent_points": {"tickformat": "+.1%"},
    "percent_points_x100": {"tickformat": "+.1f", "ticksuffix": " pts"},
    "ratio": {"tickformat": ".2~f", "ticksuffix": "×"},
    "count": {"tickformat": ",~r"},
    "people": {"tickformat": ",~r"},
    "days": {"ticksuffix": " d"},
    "hours": {"ticksuffix": " h"},
    "months": {"ticksuffix": " mo"},
}
"""Plotly axis settings per unit, so a chart's axis reads like the table beside it (currency: see chart_axis)."""


def chart_axis(public: ReportPublic, chart: dict[str, Any], ctx: DisplayContext) -> dict[str, str]:
    """The y axis format of ``chart`` from the unit of the column it plots (a per-KPI column: the first row's)."""
    table = next((t for t in public.tables if t.name == chart.get("table")), None)
    column = next((c for c in table.columns if c.name == chart.get("y")), None) if table else None
    if table is None or column is None or column.unit is None:
        return {}
    unit = row_unit(table.rows[0], ctx) if column.unit.startswith("kpi") and table.rows else column.unit
    if unit in ("currency", "currency_per_day"):
        return {"tickprefix": currency_symbol(ctx.currency), "tickformat": "~s"}
    return {k: v for k, v in AXIS_FORMATS.get(unit or "", {}).items() if v}
