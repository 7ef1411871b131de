"""Result tables as JSON rows and as CSV downloads, with the same values in both."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
from fastapi.responses import Response

from revalign.interfaces.server.errors import BadRequest
from revalign.interfaces.server.reports.report import Report
from revalign.interfaces.server.schemas import ColumnPublic, ReportPublic, TablePublic
from revalign.interfaces.spreadsheet import safe_frame
from revalign.jsonsafe import jsonable, records


def table_public(name: str, title: str, frame: pd.DataFrame) -> TablePublic:
    """``frame`` as a :class:`TablePublic` (every row, every column, values unchanged)."""
    columns = [ColumnPublic(name=str(c), dtype=str(frame[c].dtype)) for c in frame.columns]
    rows = records(frame)
    return TablePublic(name=name, title=title, columns=columns, rows=rows, row_count=len(rows))


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


def report_public(report: Report, filters: dict[str, Any] | None = None) -> ReportPublic:
    """A :class:`~revalign.interfaces.server.reports.report.Report` as its JSON model, built once per report and
    filters: cached reports are shown many times, and converting their tables is most of a warm request's work."""
    key = repr(sorted((filters or {}).items()))
    memo = report.__dict__.setdefault("_public", {})
    if key not in memo:
        memo[key] = _build_public(report, filters)
    return memo[key]


def report_json(report: Report, filters: dict[str, Any]) -> Response:
    """The report's JSON, serialised once per report and filters."""
    key = repr(sorted(filters.items()))
    memo = report.__dict__.setdefault("_json", {})
    if key not in memo:
        memo[key] = report_public(report, filters).model_dump_json().encode()
    return Response(memo[key], media_type="application/json")


def _build_public(report: Report, filters: dict[str, Any] | None) -> ReportPublic:
    return ReportPublic(
        page=report.page,
        title=report.title,
        available=report.available,
        notices=report.notices,
        filters=filters or {},
        tables=[table_public(name, title, frame) for name, (title, frame) in report.tables.items()],
        meta=jsonable(report.meta),
    )


def report_response(report: Report, filters: dict[str, Any], fmt: str, table: str | None) -> Any:
    """JSON (the :class:`ReportPublic`) or, with ``format=csv``, one of its tables as CSV."""
    if fmt != "csv":
        return report_json(report, filters)
    public = report_public(report, filters)
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
