"""Result tables as JSON rows and as CSV downloads, with the same values in both.

The JSON also carries each value as people read it (``TablePublic.formatted``, from :mod:`revalign.display`),
so the pages show exactly the API's value in its unit and a client need not re-implement the units. CSV keeps
the raw values.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
from fastapi.responses import Response

from revalign.display import DisplayContext, column_units, format_rows
from revalign.interfaces.server.errors import BadRequest
from revalign.interfaces.server.reports.report import Report
from revalign.interfaces.server.schemas import ColumnPublic, ReportPublic, TablePublic
from revalign.interfaces.spreadsheet import safe_frame
from revalign.jsonsafe import jsonable, records
from revalign.kpis.request import NONE_LABEL
from revalign.project import Project

ONE_KPI_TABLES = {"north_star_trend": "north_star"}
"""Tables whose every row is one KPI's value (table → the ``meta`` key naming that KPI): values in its unit."""


def display_context(project: Project | None) -> DisplayContext:
    """The project's currency, fiscal calendar and KPI units (defaults when no project is given)."""
    return DisplayContext() if project is None else DisplayContext.of(project.catalog, project.settings)


def table_public(
    name: str,
    title: str,
    frame: pd.DataFrame,
    ctx: DisplayContext | None = None,
    *,
    units: dict[str, str] | None = None,
    kpi: str | None = None,
) -> TablePublic:
    """``frame`` as a :class:`TablePublic` (every row, every column, values unchanged), each number column with
    its unit and every row's values as text (``units``: the report's own column → unit; ``kpi``: the KPI every
    row is about)."""
    ctx = ctx or DisplayContext()
    rows = records(frame, null_label=NONE_LABEL)
    dtypes = {str(c): str(frame[c].dtype) for c in frame.columns}
    unit_of = column_units(dtypes, ctx, rows, units, kpi=kpi)
    columns = [ColumnPublic(name=c, dtype=d, unit=unit_of[c].name if c in unit_of else None) for c, d in dtypes.items()]
    formatted = format_rows(rows, unit_of, ctx)
    for shown, raw in zip(formatted, frame.to_dict(orient="records"), strict=True):
        # a missing group is null in the JSON and reads "(none)" on the page and in charts' legends
        shown.update({str(c): NONE_LABEL for c, v in raw.items() if isinstance(v, str) and v == NONE_LABEL})
    return TablePublic(name=name, title=title, columns=columns, rows=rows, row_count=len(rows), formatted=formatted)


def csv_response(table: TablePublic, filename: str) -> Response:
    """The table as a CSV download; the same values the JSON carries (full precision, ISO dates), except that text
    a spreadsheet would run as a formula gets a leading apostrophe (:mod:`revalign.interfaces.spreadsheet`)."""
    frame = pd.DataFrame(table.rows, columns=[c.name for c in table.columns])
    buffer = io.StringIO()
    safe_frame(frame).to_csv(buffer, index=False)
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in filename)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{safe}.csv"'},
    )


def report_public(
    report: Report, filters: dict[str, Any] | None = None, project: Project | None = None
) -> ReportPublic:
    """A :class:`~revalign.interfaces.server.reports.report.Report` as its JSON model, built once per report,
    filters and display context: cached reports are shown many times, and converting their tables is most of a
    warm request's work. ``project`` gives the currency, fiscal calendar and KPI units of the formatted values."""
    ctx = display_context(project)
    key = (repr(sorted((filters or {}).items())), ctx)
    memo = report.__dict__.setdefault("_public", {})
    if key not in memo:
        memo[key] = _build_public(report, filters, ctx)
    return memo[key]


def report_json(report: Report, filters: dict[str, Any], project: Project | None = None) -> Response:
    """The report's JSON, serialised once per report, filters and display context."""
    key = (repr(sorted(filters.items())), display_context(project))
    memo = report.__dict__.setdefault("_json", {})
    if key not in memo:
        memo[key] = report_public(report, filters, project).model_dump_json().encode()
    return Response(memo[key], media_type="application/json")


def _build_public(report: Report, filters: dict[str, Any] | None, ctx: DisplayContext) -> ReportPublic:
    meta = report.meta
    ctx = ctx.at(meta.get("grain") or (filters or {}).get("grain") or "month")
    declared = meta.get("units") or {}
    tables = [
        table_public(
            name,
            title,
            frame,
            ctx,
            units=declared.get(name),
            kpi=meta.get(ONE_KPI_TABLES[name]) if name in ONE_KPI_TABLES else None,
        )
        for name, (title, frame) in report.tables.items()
    ]
    return ReportPublic(
        page=report.page,
        title=report.title,
        available=report.available,
        notices=report.notices,
        filters=filters or {},
        tables=tables,
        meta=jsonable(meta),
        currency=ctx.currency,
    )


def report_response(
    report: Report, filters: dict[str, Any], fmt: str, table: str | None, project: Project | None = None
) -> Any:
    """JSON (the :class:`ReportPublic`) or, with ``format=csv``, one of its tables as CSV (raw values).

    ``project`` (every API route passes it) sets the currency, fiscal calendar and KPI units of the JSON's
    formatted values."""
    if fmt != "csv":
        return report_json(report, filters, project)
    public = report_public(report, filters, project)
    if not public.tables:
        raise BadRequest(f"{report.title} has no table to export yet.", loc=("query", "format"), rule="no_table")
    names = [t.name for t in public.tables]
    name = table or names[0]
    if name not in names:
        raise BadRequest(
            f"table must be one of {', '.join(names)} on this page. Got {name!r} instead.",
            loc=("query", "table"),
            rule="enum",
        )
    chosen = next(t for t in public.tables if t.name == name)
    return csv_response(chosen, f"{report.page}-{name}")
