"""The drill-down page: the records behind a number, limited to what the user's role may see.

The library lists the rows (:func:`revalign.analytics.records.record_rows`); this module checks the request
against the table (a 422 naming the parameter), decides whose records the user may list (a 403 rather than a
silently narrowed list) and turns the rows into a :class:`Report`.
"""

from __future__ import annotations

from dataclasses import dataclass

from revalign.analytics.privacy import HIDDEN_NOTICE, check_record_access, is_pay_table
from revalign.analytics.records import RECORD_TABLES, RecordRequest, record_rows
from revalign.errors import PermissionDenied
from revalign.interfaces.server.errors import BadRequest
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.privacy import viewer_of
from revalign.interfaces.server.reports.report import Report
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


def record_scope(user: UserRecord, query: RecordQuery) -> str | None:
    """The owner a listing is restricted to for ``user`` (``None`` = all), or PermissionDenied.

    A rep sees only records they own: asking for another owner's records is refused (403), not silently
    narrowed, so a rep cannot mistake an empty list for "that colleague has no deals". Person-level pay data
    (quotas) is narrowed by the library's pay-privacy rule (:mod:`revalign.analytics.privacy`): the person's own,
    their reports', or everyone's for pay-data roles.
    """
    spec = RECORD_TABLES[query.table]
    check_record_access(viewer_of(user), query.table)
    if sees_all_records(user.role):
        return query.owner_id  # pay tables are narrowed further by the library (analytics.privacy)
    if spec.owner is None:
        raise PermissionDenied(
            f"As a rep you can list only your own records (leads, opportunities, accounts, quotas); "
            f"{query.table} has no owner."
        )
    if query.owner_id is not None and query.owner_id != user.owner_id:
        raise PermissionDenied("As a rep you can open only your own records, not another rep's.")
    return user.owner_id


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
    request = RecordRequest(
        table=query.table,
        kpi=query.kpi,
        start=query.filters.start,
        end=query.filters.end,
        segment=query.filters.segment,
        channel=query.channel,
        stage=query.stage,
        owner=owner,
        limit=limit,
        offset=query.offset,
        viewer=viewer_of(user),
    )
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
    if rows.total > query.offset + limit:
        report.notices.append(f"Showing rows {query.offset + 1}–{query.offset + len(rows.frame)} of {rows.total}.")
    return report
