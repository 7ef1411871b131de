"""The records behind a number: the rows of one canonical table in a period, segment, channel, stage and owner.

A drill-down lists rows; it aggregates nothing. When the request names a KPI whose semantic model reads the
table, the rows are the ones that KPI counted (its own filters applied, see
:func:`revalign.kpis.query.kpi_rows`) in the period it put them in, so the list behind "won revenue,
2025-Q1" holds exactly the won new-business deals the number added up. The interfaces decide who may see
which owner's rows; this module only filters, orders and pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import ibis.expr.types as ir
import pandas as pd

from revalign.analytics.privacy import Viewer, visible_records
from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.kpis.spec import Kpi, SemanticModel
from revalign.errors import RevalignError
from revalign.kpis.query import kpi_rows
from revalign.model.access import Tables
from revalign.model.tables import TABLES

KPI_TIME = "__kpi_time"
"""The column :func:`revalign.kpis.query.kpi_rows` adds: the time a KPI puts each of its rows in a period by."""


@dataclass(frozen=True)
class RecordTable:
    """Which columns of a listable table carry the owning user and the channel, and whether it is pay data."""

    owner: str | None = None
    channel: str | None = None
    pay: bool = False


RECORD_TABLES: dict[str, RecordTable] = {
    "leads": RecordTable(owner="owner_id", channel="lead_source"),
    "opportunities": RecordTable(owner="owner_id", channel="lead_source"),
    "accounts": RecordTable(owner="owner_id"),
    "touchpoints": RecordTable(channel="channel"),
    "subscriptions": RecordTable(),
    "campaigns": RecordTable(channel="channel"),
    "spend": RecordTable(channel="channel"),
    "quotas": RecordTable(owner="user_id", pay=True),
}
"""Tables whose rows can be listed behind a number, and which columns carry owner and channel."""


@dataclass(frozen=True)
class RecordRequest:
    """What to list. ``start``/``end`` are inclusive days; ``owner`` is the owner the listing is scoped to."""

    table: str
    kpi: str | None = None
    start: date | None = None
    end: date | None = None
    segment: str | None = None
    channel: str | None = None
    stage: str | None = None
    owner: str | None = None
    limit: int = 100
    offset: int = 0
    viewer: Viewer | None = None  # who lists (pay tables are narrowed to whose pay they may see); None: trusted


@dataclass(frozen=True)
class RecordRows:
    """One page of rows, the number of rows in all pages, and the column the period was filtered on."""

    frame: pd.DataFrame
    total: int
    time_column: str | None


# -- what a KPI's rows are --------------------------------------------------------------------------------------


def kpi_source(catalog: Catalog, kpi: str) -> tuple[Kpi, SemanticModel | None]:
    """The KPI whose rows count for ``kpi`` (a ratio's numerator, a conversion's base…) and its semantic model."""
    spec = catalog.get(kpi)
    if spec.semantic_model is None:
        for inp in (spec.numerator, spec.base_metric, spec.input_metric):
            if inp is not None:
                return kpi_source(catalog, inp.name)
        return kpi_source(catalog, spec.input_metrics[0].name) if spec.input_metrics else (spec, None)
    return spec, catalog.semantic_models.get(spec.semantic_model)


def kpi_table(catalog: Catalog, kpi: str) -> str | None:
    """The canonical table behind a KPI (through its semantic model), when the catalog says."""
    model = kpi_source(catalog, kpi)[1]
    return model.table if model is not None else None


def kpi_time_column(catalog: Catalog, kpi: str) -> str | None:
    """The column a KPI puts its rows in periods by (``closed_at`` for won revenue), when the catalog says."""
    spec, model = kpi_source(catalog, kpi)
    name = spec.agg_time_dimension or (model.agg_time_dimension if model is not None else None)
    if name is None:
        return None
    for dim in model.dimensions if model is not None else []:
        if dim.name == name:
            return dim.expr or dim.name
    return name


def rows_behind(tables: Tables, catalog: Catalog, kpi: str, table: str) -> ir.Table | None:
    """The rows of ``table`` that ``kpi`` counts (with :data:`KPI_TIME`), or ``None`` when it reads another table.

    A KPI without rows of its own (derived) drills into its first input, as :func:`kpi_source` resolves.
    """
    try:
        spec, model = kpi_source(catalog, kpi)
        if model is None or model.table != table:
            return None
        return kpi_rows(tables, catalog, spec.name)
    except RevalignError:
        return None


# -- the listing ------------------------------------------------------------------------------------------------


def _filtered(t: ir.Table, time_col: str | None, request: RecordRequest) -> ir.Table:
    spec = RECORD_TABLES[request.table]
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


def _ordered(t: ir.Table, time_col: str | None, table: str) -> ir.Table:
    """Newest first (then by key, so pages are stable); by key alone when the table has no time."""
    key = TABLES[table].primary_key
    if time_col:
        return t.order_by([t[time_col].desc(), t[key[0]] if key else t[time_col]])
    if key:
        return t.order_by(key[0])
    return t


def record_rows(tables: Tables, catalog: Catalog, request: RecordRequest) -> RecordRows:
    """One page of the rows of ``request.table`` that match the request, and how many match in all."""
    t = tables.table(request.table)
    time_col = TABLES[request.table].time_column
    shown_time = time_col
    if request.kpi is not None:
        counted = rows_behind(tables, catalog, request.kpi, request.table)
        if counted is not None:
            t, time_col = counted, KPI_TIME
            shown_time = kpi_time_column(catalog, request.kpi)
    t = visible_records(tables, request.table, _filtered(t, time_col, request), request.viewer, owner=request.owner)
    t = _ordered(t, time_col, request.table)
    total = int(tables.execute(t.count()))
    frame = tables.to_pandas(t.limit(request.limit, offset=request.offset))
    return RecordRows(frame.drop(columns=[KPI_TIME], errors="ignore"), total, shown_time)
