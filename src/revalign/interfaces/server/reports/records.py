"""The drill-down page: the records behind a number, limited to what the user's role may see.

The library lists the rows (:func:`revalign.analytics.records.record_rows` for one table,
:func:`revalign.analytics.records.drill_rows` for what a KPI's number counts); this module checks the request
(a 422 naming the parameter), decides whose records the user may list (a 403 rather than a silently narrowed
list; every listed table goes through :func:`source_scope`, the one place that rule lives) and turns the rows
into a :class:`Report`: one table per part (a ratio's numerator and denominator), paging links, and for a KPI
built from other KPIs the links to their drills.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pandas as pd

from revalign.analytics.drills import Drill, DrillPart, drill_of
from revalign.analytics.privacy import HIDDEN_NOTICE, check_record_access, is_pay_table
from revalign.analytics.records import (
    RECORD_TABLES,
    SOURCES,
    KpiDrill,
    PartRows,
    RecordRequest,
    RecordTable,
    drill_rows,
    record_rows,
)
from revalign.errors import PermissionDenied
from revalign.interfaces.server.errors import BadRequest
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.privacy import viewer_of
from revalign.interfaces.server.reports.report import Report, fiscal_start, records_link
from revalign.interfaces.server.roles import sees_all_records
from revalign.interfaces.server.state import UserRecord
from revalign.model.tables import TABLES
from revalign.project import Project


@dataclass(frozen=True)
class RecordQuery:
    """The drill-down as the API received it (before the user's scope is applied)."""

    table: str
    filters: Filters
    kpi: str | None = None
    owner_id: str | None = None
    channel: str | None = None
    stage: str | None = None
    limit: int = 100
    offset: int = 0
    part: str | None = None


def source_scope(
    user: UserRecord, table: str, spec: RecordTable, owner_id: str | None, *, has_owner: bool
) -> str | None:
    """The owner a listing of ``table`` is restricted to for ``user`` (``None`` = all), or PermissionDenied.

    Every listing (a table, or each part of a KPI's drill) passes through here. A rep sees only records they
    own: asking for another owner's records is refused (403), not silently narrowed, so a rep cannot mistake
    an empty list for "that colleague has no deals". Person-level pay data (quotas) is narrowed by the library's
    pay-privacy rule (:mod:`revalign.analytics.privacy`): the person's own, their reports', or everyone's for
    pay-data roles. ``has_owner``: whether the rows can be narrowed to one owner at all.
    """
    check_record_access(viewer_of(user), table)  # pay data: the library's rule (analytics.privacy)
    if sees_all_records(user.role):
        return owner_id  # pay tables are narrowed further by the library to whose pay the user may see
    if not has_owner:
        raise PermissionDenied(
            f"As a rep you can list only your own records (leads, opportunities, accounts, quotas); "
            f"{table} has no owner."
        )
    if owner_id is not None and owner_id != user.owner_id:
        raise PermissionDenied("As a rep you can open only your own records, not another rep's.")
    return user.owner_id


def record_scope(user: UserRecord, query: RecordQuery) -> str | None:
    """The owner a listing of ``query.table`` is restricted to (see :func:`source_scope`)."""
    spec = RECORD_TABLES[query.table]
    return source_scope(user, query.table, spec, query.owner_id, has_owner=spec.owner is not None)


def check_query(query: RecordQuery) -> None:
    """A 422 naming the parameter when the table cannot be listed or has no column the query filters on."""
    if query.table not in RECORD_TABLES:
        raise BadRequest(
            f"table must be one of {', '.join(RECORD_TABLES)}. Got {query.table!r} instead.",
            loc=("path", "table"),
            rule="enum",
        )
    spec = RECORD_TABLES[query.table]
    if query.channel is not None and spec.channel is None:
        raise BadRequest(f"{query.table} has no channel column.", loc=("query", "channel"), rule="not_applicable")
    if query.stage is not None and "stage" not in TABLES[query.table].column_names:
        raise BadRequest(f"{query.table} has no stage column.", loc=("query", "stage"), rule="not_applicable")


def record_request(
    project: Project,
    user: UserRecord,
    query: RecordQuery,
    owner: str | None,
    limit: int,
    *,
    table: str | None = None,
    kpi: str | None = None,
    part: str | None = None,
) -> RecordRequest:
    """The library's request for a page's query: its period, slice, scope, page and the viewer (pay privacy)."""
    return RecordRequest(
        table=table,
        kpi=kpi,
        start=query.filters.start,
        end=query.filters.end,
        segment=query.filters.segment,
        channel=query.channel,
        stage=query.stage,
        owner=owner,
        limit=limit,
        offset=query.offset,
        part=part,
        fiscal_year_start_month=fiscal_start(project),
        viewer=viewer_of(user),
    )


def records(project: Project, user: UserRecord, query: RecordQuery, *, max_rows: int) -> Report:
    """The rows behind a number: the table filtered to the period, segment, channel, stage and owner asked for.

    This lists records; it aggregates nothing (the row count is the length of the filtered table).
    """
    check_query(query)
    owner = record_scope(user, query)
    if owner is not None and RECORD_TABLES[query.table].owner is None:
        raise BadRequest(f"{query.table} has no owner column.", loc=("query", "owner_id"), rule="not_applicable")
    report = Report(page="records", title=f"{query.table.capitalize()} behind the number")
    tables = project.tables
    if not tables.has(query.table):
        report.available = False
        report.notices.append(f"No {query.table} were loaded in this project yet.")
        return report
    limit = min(query.limit, max_rows)
    request = record_request(project, user, query, owner, limit, table=query.table, kpi=query.kpi)
    part = _table_part(project, query)
    if part is not None:  # the KPI's rows are this table's: list them as its drill does, and say how it counts
        (found,) = drill_rows(tables, project.catalog, dataclasses.replace(request, table=None)).parts
        rows = found.rows
        report.meta["parts"] = [_part_meta(found)]
    else:
        rows = record_rows(tables, project.catalog, request)
    report.add(query.table, query.table.capitalize(), rows.frame)
    if is_pay_table(query.table) and query.owner_id is None and not viewer_of(user).sees_all_pay:
        report.notices.append(HIDDEN_NOTICE)
    report.meta.update(
        total_rows=rows.total,
        limit=limit,
        offset=query.offset,
        kpi=query.kpi,
        owner_scope=owner,
        time_column=rows.time_column,
    )
    report.meta["pages"] = {query.table: pages(f"/records/{query.table}", query, None, rows.total, limit)}
    if rows.total > query.offset + limit:
        report.notices.append(f"Showing rows {query.offset + 1}–{query.offset + len(rows.frame)} of {rows.total}.")
    return report


# -- the drill behind a KPI ---------------------------------------------------------------------------------------


def _table_part(project: Project, query: RecordQuery) -> DrillPart | None:
    """The KPI's one part when its drill is a list of ``query.table``'s rows (a count or sum over that table)."""
    if query.kpi is None:
        return None
    drill = drill_of(project.catalog, query.kpi)
    if len(drill.parts) != 1:
        return None
    part = drill.parts[0]
    model = project.catalog.get(part.rows_kpi).semantic_model or ""
    return part if project.catalog.semantic_model(model).table == query.table else None


def _params(query: RecordQuery, **changes: Any) -> str:
    f = query.filters
    params = {
        "kpi": query.kpi,
        "start": f.start.isoformat() if f.start else None,
        "end": f.end.isoformat() if f.end else None,
        "segment": f.segment,
        "owner_id": query.owner_id,
        "channel": query.channel,
        "stage": query.stage,
        "part": query.part,
        "limit": query.limit,
        "offset": query.offset,
    }
    params.update(changes)
    return urlencode({k: v for k, v in params.items() if v is not None and not (k == "offset" and v == 0)})


def pages(path: str, query: RecordQuery, part: str | None, total: int, limit: int) -> dict[str, Any]:
    """Paging for one listing: which rows are shown of how many, and the previous/next page links."""
    first = min(query.offset + 1, total)
    last = min(query.offset + limit, total)
    prev = max(query.offset - limit, 0)
    return {
        "total_rows": total,
        "first": first,
        "last": last,
        "prev": f"{path}?{_params(query, part=part, offset=prev)}" if query.offset > 0 else None,
        "next": f"{path}?{_params(query, part=part, offset=query.offset + limit)}" if last < total else None,
    }


def drill_scope(project: Project, user: UserRecord, query: RecordQuery, drill: Drill) -> str | None:
    """The owner every part of ``drill`` is restricted to, through :func:`source_scope` for each part's table.

    A part's rows are narrowed to an owner through the KPI's ``owner`` dimension (the deal's owner, the lead's
    owner behind a lifecycle event), so a rep's drill lists exactly their share of the number.
    """
    owner = query.owner_id
    catalog = project.catalog
    for part in drill.parts:
        source = catalog.semantic_model(catalog.get(part.rows_kpi).semantic_model or "").table
        spec = SOURCES.get(source, RecordTable())
        owner = source_scope(user, source, spec, query.owner_id, has_owner=catalog.can_slice(part.rows_kpi, ["owner"]))
    return owner


def check_slice(project: Project, query: RecordQuery, drill: Drill, owner: str | None) -> None:
    """A 422 naming the parameter when the KPI's rows cannot be cut by it (spend has no segment)."""
    asked = {"segment": query.filters.segment, "channel": query.channel, "stage": query.stage, "owner_id": owner}
    for param, value in asked.items():
        dim = "owner" if param == "owner_id" else param
        for part in drill.parts:
            if value is not None and not project.catalog.can_slice(part.rows_kpi, [dim]):
                raise BadRequest(
                    f"KPI {query.kpi!r} cannot be sliced by {dim}: the {part.role} rows "
                    f"({part.rows_kpi}) have no {dim}. Drop {param} to see them.",
                    loc=("query", param),
                    rule="not_applicable",
                )


def kpi_records(project: Project, user: UserRecord, query: RecordQuery, *, max_rows: int) -> Report:
    """The rows behind a KPI's number for a period: one table per part, or links to its inputs' drills."""
    kpi = project.catalog.get(query.kpi or "")
    drill = drill_of(project.catalog, kpi.name)
    report = Report(page="records", title=f"Records behind {kpi.label or kpi.name}")
    report.meta.update(kpi=kpi.name, start=query.filters.start, end=query.filters.end, parts=[], pages={})
    if not drill.has_rows:
        report.add(
            "inputs",
            f"{kpi.label or kpi.name} is computed from other KPIs: open theirs",
            _inputs(project, query, drill),
        )
        return report
    owner = drill_scope(project, user, query, drill)
    check_slice(project, query, drill, owner)
    limit = min(query.limit, max_rows)
    request = record_request(project, user, query, owner, limit, kpi=kpi.name, part=query.part)
    found = drill_rows(project.tables, project.catalog, request)
    _add_parts(project, report, found, query, limit)
    report.meta.update(owner_scope=owner, limit=limit, offset=query.offset)
    return report


def _add_parts(project: Project, report: Report, found: KpiDrill, query: RecordQuery, limit: int) -> None:
    for pr in found.parts:
        report.add(pr.part.role, _part_title(project, pr), pr.rows.frame)
        report.meta["parts"].append(_part_meta(pr))
        report.meta["pages"][pr.part.role] = pages("/records", query, pr.part.role, pr.rows.total, limit)
    if len(found.parts) == 1:
        report.meta.update(total_rows=found.parts[0].rows.total, time_column=found.parts[0].rows.time_column)


def _part_title(project: Project, pr: PartRows) -> str:
    rows_kpi = project.catalog.get(pr.part.rows_kpi)
    label = rows_kpi.label or rows_kpi.name
    role = "" if pr.part.role == "rows" else f"{pr.part.role.capitalize()}: "
    return f"{role}{label} ({pr.source})"


def _part_meta(pr: PartRows) -> dict[str, Any]:
    """What a part lists, for the page's caption and for a client that checks the rows against the number."""
    return {
        "role": pr.part.role,
        "kpi": pr.part.kpi,
        "rows_kpi": pr.part.rows_kpi,
        "mode": pr.part.mode,
        "source": pr.source,
        "total_rows": pr.rows.total,
        "time_column": pr.rows.time_column,
        "start": pr.days.start,
        "end": pr.days.end,
        "as_of": pr.days.at,
        "agg": pr.agg,
        "measure": pr.measure,
    }


def _inputs(project: Project, query: RecordQuery, drill: Drill) -> pd.DataFrame:
    """The KPIs a derived KPI is computed from, each with the link to its own drill for the same period."""
    f = query.filters
    rows = []
    for name in drill.inputs:
        spec = project.catalog.get(name)
        link = records_link(project, name, None, f.segment, start=f.start, end=f.end)
        rows.append({"kpi": name, "label": spec.label or name, "type": spec.type, "_drill": link})
    return pd.DataFrame(rows, columns=["kpi", "label", "type", "_drill"])
