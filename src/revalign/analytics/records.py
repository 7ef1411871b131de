"""The records behind a number: one page of rows, how many there are in all, and names in place of ids.

Two listings share one pipeline (filter → order → count → page → name):

- :func:`record_rows` lists one canonical table (``/records/<table>``) in a period, segment, channel, stage and
  owner; with a KPI whose drill is that table's rows, the rows the KPI counted;
- :func:`drill_rows` lists what KPI's number counts, part by part as :func:`revalign.analytics.drills.drill_of`
  decides (a ratio's numerator and denominator rows, a cumulative total's whole window, a snapshot's rows valid
  at its point), each part filtered through the KPI's own rows (:class:`revalign.kpis.rows.RowBuilder`), so the
  slice (segment, channel, owner) is resolved exactly as the number was sliced.

A drill-down lists rows; it aggregates nothing but the row count. The interfaces decide who may see which
owner's rows and which tables hold pay data (:data:`SOURCES`); this module only filters, orders, pages and names.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import pandas as pd

from revalign.analytics.drills import Days, Drill, DrillPart, drill_of, part_days
from revalign.analytics.privacy import Viewer, visible_records
from revalign.definitions.kpis.catalog import Catalog
from revalign.errors import UnknownNameError
from revalign.kpis.frames import measure_of
from revalign.kpis.rows import CONVERTED, ROW_TIME, ROW_VALUE, VALID_FROM, VALID_TO, RowBuilder
from revalign.model.access import Tables


@dataclass(frozen=True)
class RecordTable:
    """A listable table: its owner and channel columns, whether it is pay data, its key and its time column."""

    owner: str | None = None
    channel: str | None = None
    pay: bool = False
    key: tuple[str, ...] = ()
    time: str | None = None


RECORD_TABLES: dict[str, RecordTable] = {
    "leads": RecordTable(owner="owner_id", channel="lead_source", key=("lead_id",), time="created_at"),
    "opportunities": RecordTable(owner="owner_id", channel="lead_source", key=("opportunity_id",), time="created_at"),
    "accounts": RecordTable(owner="owner_id", key=("account_id",), time="created_at"),
    "touchpoints": RecordTable(channel="channel", key=("touchpoint_id",), time="occurred_at"),
    "subscriptions": RecordTable(key=("subscription_id",), time="start_date"),
    "campaigns": RecordTable(channel="channel", key=("campaign_id",), time="start_date"),
    "spend": RecordTable(channel="channel", time="date"),
    "quotas": RecordTable(owner="user_id", pay=True, key=("user_id", "period_start"), time="period_start"),
}
"""Tables whose rows can be listed on their own (``/records/<table>``)."""

SOURCES: dict[str, RecordTable] = {
    **RECORD_TABLES,
    "users": RecordTable(owner="user_id", key=("user_id",), time="hired_at"),
    "forecasts": RecordTable(owner="owner_id", key=("forecast_id",), time="period_start"),
    "web_traffic": RecordTable(channel="channel", time="date"),
    "ledger": RecordTable(key=("event_id",), time="occurred_at"),
    "lead_facts": RecordTable(key=("lead_id",), time="created_at"),
    "mrr_movements": RecordTable(key=("account_id", "date"), time="date"),
}
"""Every table or view a KPI's rows can come from (a KPI's drill lists these through the KPI)."""

NAMES: dict[str, tuple[str, str, str]] = {
    "owner_id": ("users", "user_id", "owner_name"),
    "user_id": ("users", "user_id", "user_name"),
    "manager_id": ("users", "user_id", "manager_name"),
    "actor_id": ("users", "user_id", "actor_name"),
    "account_id": ("accounts", "account_id", "account_name"),
    "campaign_id": ("campaigns", "campaign_id", "campaign_name"),
    "team_id": ("teams", "team_id", "team_name"),
}
"""id column → (table, key, name column shown before it): names people read, the id kept beside them."""

COUNTED_VALUE = "counted_value"
"""The column holding what each row adds, when a KPI aggregates an expression rather than a column."""


@dataclass(frozen=True)
class RecordRequest:
    """What to list. ``start``/``end`` are inclusive days; ``owner`` is the owner the listing is scoped to.

    ``table`` lists one table (``None``: the drill of ``kpi``); ``part`` keeps one part of a KPI's drill.
    """

    table: str | None = None
    kpi: str | None = None
    start: date | None = None
    end: date | None = None
    segment: str | None = None
    channel: str | None = None
    stage: str | None = None
    owner: str | None = None
    limit: int = 100
    offset: int = 0
    part: str | None = None
    fiscal_year_start_month: int = 1
    viewer: Viewer | None = None  # who lists (pay tables are narrowed to whose pay they may see); None: trusted


@dataclass(frozen=True)
class RecordRows:
    """One page of rows, the number of rows in all pages, and the column the period was filtered on."""

    frame: pd.DataFrame
    total: int
    time_column: str | None


@dataclass(frozen=True)
class PartRows:
    """One part of a KPI's drill: what it is, the days it covers, its page of rows, and how the KPI aggregates.

    ``measure`` is the listed column the KPI aggregates with ``agg`` (``None`` for a count of rows), so the
    rows can be checked against the number: the sum of ``amount`` behind revenue, the distinct ``account_id``
    behind new customers.
    """

    part: DrillPart
    source: str
    days: Days
    rows: RecordRows
    agg: str
    measure: str | None


@dataclass(frozen=True)
class KpiDrill:
    """The records behind one KPI's number: its parts, or the input KPIs to open when it has no rows."""

    drill: Drill
    parts: list[PartRows]


# -- one table ----------------------------------------------------------------------------------------------------


def _table_filtered(t: ir.Table, time_col: str | None, request: RecordRequest, spec: RecordTable) -> ir.Table:
    if time_col and request.start is not None:
        t = t.filter(t[time_col] >= pd.Timestamp(request.start))
    if time_col and request.end is not None:
        t = t.filter(t[time_col] < pd.Timestamp(request.end + timedelta(days=1)))
    if request.segment is not None and "segment" in t.columns:
        t = t.filter(t["segment"] == request.segment)
    if request.channel is not None and spec.channel is not None:
        t = t.filter(t[spec.channel] == request.channel)
    if request.stage is not None:
        t = t.filter(t["stage"] == request.stage)
    if request.owner is not None and spec.owner is not None:
        t = t.filter(t[spec.owner] == request.owner)
    return t


def record_rows(tables: Tables, catalog: Catalog, request: RecordRequest) -> RecordRows:
    """One page of the rows of ``request.table`` that match the request, and how many match in all.

    With a KPI whose drill is one list of this table's rows (a simple KPI), the rows are the ones it counted;
    any other KPI's drill is :func:`drill_rows`.
    """
    table = request.table or ""
    spec = RECORD_TABLES[table]
    if request.kpi is not None:
        drill = drill_of(catalog, request.kpi)
        if len(drill.parts) == 1 and _source(catalog, drill.parts[0]) == table:
            (part,) = drill_rows(tables, catalog, dataclasses.replace(request, table=None)).parts
            return part.rows
    t = _table_filtered(tables.table(table), spec.time, request, spec)
    return _page(tables, t, spec.time, spec, request, table)


# -- a KPI's drill ------------------------------------------------------------------------------------------------


def _source(catalog: Catalog, part: DrillPart) -> str:
    """The table (or view) a part's rows come from."""
    return catalog.semantic_model(catalog.get(part.rows_kpi).semantic_model or "").table


def _slice(catalog: Catalog, kpi: str, request: RecordRequest) -> list[str]:
    """The request's segment, channel, stage and owner as conditions on ``kpi``'s dimensions.

    They are resolved like a slice of the number (through joins where the dimension lives on another table), so
    the rows behind "new revenue, smb" are the deals the smb figure counted. A dimension the KPI cannot be cut
    by is an error naming it, not an ignored filter.
    """
    asked = {"segment": request.segment, "channel": request.channel, "stage": request.stage, "owner": request.owner}
    out = []
    for dim, value in asked.items():
        if value is None:
            continue
        if not catalog.can_slice(kpi, [dim]):
            raise UnknownNameError(
                f"dimension of KPI {kpi!r} to filter its records by", dim, catalog.dimensions_of(kpi)
            )
        out.append(f"{dim} = '{value.replace(chr(39), chr(39) * 2)}'")
    return out


def _part_table(builder: RowBuilder, part: DrillPart, days: Days, where: list[str]) -> tuple[ir.Table, str]:
    """The part's rows over its days, and the column to order them by."""
    flt = [part.filter] if part.filter else []
    if part.mode in ("converted", "base"):
        t = builder.converted(part.kpi, on=days.start, where=[*flt, *where])
        if part.mode == "converted":
            t = t.filter(t[CONVERTED] == 1)
    else:
        on = days.start if part.mode == "period" else days.at
        t = builder.rows(part.rows_kpi, on=on, where=[*flt, *where])
    if part.mode == "snapshot":
        if days.at is not None:
            at = ibis.literal(days.at)
            t = t.filter((t[VALID_FROM] < at) & (t[VALID_TO].isnull() | (t[VALID_TO] >= at)))
        return t, VALID_FROM
    if days.start is not None:
        t = t.filter(t[ROW_TIME] >= pd.Timestamp(days.start))
    if days.end is not None:
        t = t.filter(t[ROW_TIME] < pd.Timestamp(days.end + timedelta(days=1)))
    return t, ROW_TIME


def drill_rows(tables: Tables, catalog: Catalog, request: RecordRequest) -> KpiDrill:
    """One page of each part of the drill behind ``request.kpi`` in the period ``start``..``end``.

    ``request.owner`` (a rep's scope) and the slice are applied through each part's KPI; ``request.part`` keeps
    one part (to page through it alone).
    """
    drill = drill_of(catalog, request.kpi or "")
    parts = [p for p in drill.parts if request.part in (None, p.role)]
    if request.part is not None and not parts:
        raise UnknownNameError(
            f"part of the drill behind KPI {drill.kpi!r}", request.part, [p.role for p in drill.parts]
        )
    builder = RowBuilder(catalog, tables.provider())
    out = []
    for part in parts:
        source = _source(catalog, part)
        days = part_days(catalog, part, request.start, request.end, request.fiscal_year_start_month)
        t, order = _part_table(builder, part, days, _slice(catalog, part.rows_kpi, request))
        rows_kpi = catalog.get(part.rows_kpi)
        agg, expr = measure_of(rows_kpi, catalog.semantic_model(rows_kpi.semantic_model or ""))
        measure = None if expr is None else expr if expr in t.columns else COUNTED_VALUE
        if measure != COUNTED_VALUE and ROW_VALUE in t.columns:
            t = t.drop(ROW_VALUE)  # the KPI aggregates a column already listed
        page = _page(tables, t, order, SOURCES.get(source, RecordTable()), request, source)
        time_col = _time_name(catalog, part.rows_kpi) if part.mode != "snapshot" else None
        out.append(PartRows(part, source, days, dataclasses.replace(page, time_column=time_col), agg, measure))
    return KpiDrill(drill, out)


def _time_name(catalog: Catalog, kpi: str) -> str | None:
    """The column a KPI puts its rows in periods by, as the model names it (``closed_at`` for won revenue)."""
    spec = catalog.get(kpi)
    model = catalog.semantic_model(spec.semantic_model or "")
    measure = next((m for m in model.measures if m.name == spec.measure), None)
    return spec.agg_time_dimension or (measure.agg_time_dimension if measure else None) or model.agg_time_dimension


# -- paging and names ---------------------------------------------------------------------------------------------


def _order(t: ir.Table, time_col: str | None, key: tuple[str, ...]) -> list[ir.Value]:
    """Newest first, then by key (or by every other column when the table has none), so pages are stable."""
    rest = [c for c in (key or t.columns) if c != time_col]
    first = [t[time_col].desc()] if time_col else []
    return [*first, *[t[c] for c in rest]]


def _one_page(t: ir.Table, order: list[ir.Value], limit: int, offset: int) -> ir.Table:
    """Rows ``offset`` .. ``offset + limit`` in ``order``, numbered with a window function rather than
    ``LIMIT … OFFSET`` (which Ibis's PySpark backend returns with an extra column on some expressions)."""
    numbered = t.mutate(__page_row=ibis.row_number().over(ibis.window(order_by=order)))
    row = numbered["__page_row"]
    return numbered.filter((row >= offset) & (row < offset + limit)).order_by("__page_row")


def _page(
    tables: Tables, t: ir.Table, time_col: str | None, spec: RecordTable, request: RecordRequest, source: str
) -> RecordRows:
    t = visible_records(tables, source, t, request.viewer, owner=request.owner)
    total = int(tables.execute(t.count()))
    frame = tables.to_pandas(_one_page(t, _order(t, time_col, spec.key), request.limit, request.offset))
    frame = frame.rename(columns={ROW_VALUE: COUNTED_VALUE, CONVERTED: "converted"})
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("__")])
    if "converted" in frame.columns:
        frame["converted"] = frame["converted"].astype(bool)
    return RecordRows(with_names(tables, frame, source), total, spec.time)


def with_names(tables: Tables, frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """``frame`` with a name column before each id column people know by name (owner, account, campaign, team).

    Only the ids on the page are looked up (one small query per kind of id); an id with no match shows no name.
    """
    out = frame.copy()
    for col, (table, key, name_col) in NAMES.items():
        if col not in out.columns or table == source or name_col in out.columns or not tables.has(table):
            continue
        ids = sorted({str(v) for v in out[col].dropna()})
        if not ids:
            continue
        t = tables.table(table)
        found = tables.to_pandas(t.filter(t[key].cast("string").isin(ids)).select(key, "name"))
        names = dict(zip(found[key].astype(str), found["name"], strict=True))
        values = [None if pd.isna(v) else names.get(str(v)) for v in out[col]]
        out.insert(list(out.columns).index(col), name_col, pd.Series(values, index=out.index, dtype=object))
    return out
