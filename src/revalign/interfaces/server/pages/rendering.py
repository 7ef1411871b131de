"""Turning a report into an HTML page: the same :class:`ReportPublic` the API returns, laid out for people.

Pages only format numbers (thousands separators, percentages) and lay them out; every value comes from the
report the JSON twin returns.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.report import Report
from revalign.interfaces.server.tabular import report_public

NAV = (
    ("overview", "/", "Overview"),
    ("scorecards", "/scorecards", "Scorecards"),
    ("funnel", "/funnel", "Funnel"),
    ("channels", "/channels", "Channels"),
    ("attribution", "/attribution", "Attribution"),
    ("glossary", "/glossary", "KPI glossary"),
)


PERCENT_COLUMNS = frozenset(
    {"pct_change", "attainment", "contribution_pct", "rate_from_previous", "rate_from_first", "romi", "share"}
)
"""Columns that hold ratios where 1.0 means 100 % (formatted as percentages; the JSON keeps the ratio)."""


def fmt(value: Any, unit: str | None = None) -> str:
    """A value for reading: 1,234.5 / 12.3% / — for missing. ``unit`` is a KPI unit or a column name."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if unit in ("percent", "ratio", "rate", "share") or unit in PERCENT_COLUMNS:
            return f"{value:.1%}"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:,.2f}"
        return f"{value:.4g}"
    return str(value)


def query_string(params: dict[str, Any]) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "", [])})


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
    """Render ``template`` with the report's public form (exactly what ``api_path`` returns as JSON)."""
    public = report_public(report, filters.as_dict() if filters else {})
    query = dict(request.query_params)
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
        **(extra or {}),
    }
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status_code)
