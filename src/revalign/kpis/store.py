"""The KPI store: every KPI × grain × standard slice, computed once per data version, read by every request.

Why: a KPI request on a fresh process costs seconds (Ibis compiles the expression, the engine plans it) while
its answer is a few hundred rows that only change when the data does. A refresh
(:func:`revalign.kpis.store_refresh.refresh_store`) materialises those rows into one table in the project's own
engine, :data:`STORE_TABLE`; a request it covers is then one indexed read instead of a compile and a plan, in
this process and in every other (the server, the CLI, a notebook).

One row per (KPI, grain, dimension, member, period)::

    data_version     the tables' fingerprint the rows were computed on (Tables.data_version)
    definition_hash  the KPI's full definition with its inputs and semantic models, and the fiscal year start
    kpi, grain       as asked (``month``, ``quarter``, ``year``)
    dimension        ``""`` for the company, else one standard dimension (``segment`` …)
    member           the dimension's value (``(none)`` where missing), NULL for the company
    period_start     the period; NULL on the one *marker* row every materialised (KPI, grain, dimension) has,
                     so a KPI with no value in any period is still known to be covered (and answered: no rows)
    value            float64, exactly what live evaluation returns before it is normalised
    built_on         the day of the refresh: a snapshot KPI's spine runs to *today* over open-ended rows

A request is answered here only when the answer is the live one, row for row (tests/kpis/test_store.py checks
every default KPI): same data version and definition hash, a stored grain and slice, no extra filter, no
``as_of``, historical definitions, and period bounds on the grain's boundaries (a bound inside a period
makes a partial period that no stored row holds). Two kinds of KPI need more (:func:`reads_today`,
:func:`reads_before_start`): a snapshot is answered on the day it was stored for requests ending by then, a KPI
with an input offset by a window only for open-ended requests. Anything else falls back to live evaluation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import pandas as pd

from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.kpis.spec import STANDARD_DIMENSIONS, Kpi
from revalign.kpis.cache import definition_hash, kpi_hash
from revalign.model import calendar
from revalign.model.access import Tables

STORE_TABLE = "_revalign_kpi_store"
"""The store's table in the project's engine (a leading underscore: not a canonical table)."""
STAGING_TABLE = "_revalign_kpi_store_next"
"""Where a refresh writes the next version before it replaces :data:`STORE_TABLE` in one transaction."""
GRAINS = ("month", "quarter", "year")
"""The grains the pages ask for (the scorecards default to quarter, KPI pages to month)."""
DIMENSIONS: tuple[str, ...] = STANDARD_DIMENSIONS
"""The slices stored besides the company: one dimension at a time."""
COMPANY = ""
"""The ``dimension`` of company-wide rows."""
SCHEMA = ibis.schema(
    {
        "data_version": "string",
        "definition_hash": "string",
        "kpi": "string",
        "grain": "string",
        "dimension": "string",
        "member": "string",
        "period_start": "date",
        "value": "float64",
        "built_on": "date",
    }
)


def stored_hash(catalog: Catalog, name: str, fiscal_year_start_month: int) -> str:
    """What the store keys KPI ``name`` by: its full definition and the fiscal calendar its periods follow."""
    return definition_hash(kpi_hash(catalog, name), fiscal_year_start_month)


def today() -> dt.date:
    """Today, as a snapshot KPI's spine sees it (``ibis.today()`` on the engine; the local date here)."""
    return dt.date.today()


@dataclass(frozen=True)
class StoreRequest:
    """The part of a KPI request the store can answer: grain, at most one dimension, aligned period bounds."""

    grain: str
    by: tuple[str, ...]
    start: dt.date | None
    end: dt.date | None
    fiscal_year_start_month: int = 1

    @property
    def dimension(self) -> str:
        return self.by[0] if self.by else COMPANY

    @property
    def open_ended(self) -> bool:
        return self.start is None and self.end is None

    def is_stored(self) -> bool:
        """Whether the store holds this grain and slice, with bounds on the grain's period boundaries."""
        if self.grain not in GRAINS or len(self.by) > 1 or (self.by and self.by[0] not in DIMENSIONS):
            return False
        fs = self.fiscal_year_start_month
        return all(d is None or calendar.period_start(d, self.grain, fs) == d for d in (self.start, self.end))


def _closure(catalog: Catalog, name: str) -> list[Kpi]:
    return [catalog.get(n) for n in [name, *catalog.dependencies(name)]]


def reads_today(catalog: Catalog, name: str) -> bool:
    """Whether KPI ``name`` is, or is computed from, a snapshot KPI: over open-ended rows a snapshot's periods run
    to *today*, so its stored rows hold only on the day they were stored, and only for requests ending by then (a
    request ending later has later periods, where open-ended rows are still valid)."""
    return any(k.type == "snapshot" for k in _closure(catalog, name))


def reads_before_start(catalog: Catalog, name: str) -> bool:
    """Whether KPI ``name`` is, or is computed from, an input offset by a window: live evaluation of a bounded
    request then misses the offset input's periods outside the bounds, so only an open-ended request matches."""
    return any(i.offset_window for k in _closure(catalog, name) for i in k.inputs)


def read(
    tables: Tables, catalog: Catalog, names: Sequence[str], version: str, req: StoreRequest
) -> tuple[list[str], pd.DataFrame]:
    """The KPIs of ``names`` the store answers for ``req`` on data ``version``, and their stored rows
    ``kpi, period_start, <dimension>, value`` (one frame: the caller normalises it once). KPIs it does not answer
    are left out: the caller evaluates them live."""
    nothing: tuple[list[str], pd.DataFrame] = ([], pd.DataFrame(columns=["kpi", "period_start", *req.by, "value"]))
    if not req.is_stored() or not tables.has(STORE_TABLE):
        return nothing
    fs = req.fiscal_year_start_month
    day = today()
    wanted = {n: stored_hash(catalog, n, fs) for n in dict.fromkeys(names)}
    dated = {n for n in wanted if reads_today(catalog, n)}
    late = req.end is not None and req.end > day + dt.timedelta(days=1)
    for n in list(wanted):
        if (n in dated and late) or (not req.open_ended and reads_before_start(catalog, n)):
            wanted.pop(n)
    if not wanted:
        return nothing
    t = tables.engine.table(STORE_TABLE)
    keep = (
        (t.data_version == version)
        & (t.grain == req.grain)
        & (t.dimension == req.dimension)
        & t.kpi.isin(list(wanted))
        & t.definition_hash.isin(list(wanted.values()))
    )
    in_range = t.period_start.notnull()
    if req.start is not None:
        in_range &= t.period_start >= req.start
    if req.end is not None:
        in_range &= t.period_start < req.end
    t = t.filter(keep & (t.period_start.isnull() | in_range))
    frame = tables.to_pandas(t.select("kpi", "definition_hash", "member", "period_start", "value", "built_on"))
    frame = frame[frame["definition_hash"] == frame["kpi"].map(wanted)]
    markers = frame[frame["period_start"].isna()]
    fresh = {
        k for k, built in zip(markers["kpi"], markers["built_on"], strict=True) if pd.Timestamp(built).date() == day
    }
    marked = set(markers["kpi"])
    covered = [n for n in wanted if n in marked and (n not in dated or n in fresh)]
    rows = frame[frame["period_start"].notna() & frame["kpi"].isin(covered)]
    rows = rows.rename(columns={"member": req.by[0]}) if req.by else rows
    return covered, rows[["kpi", "period_start", *req.by, "value"]].reset_index(drop=True)


def stored_versions(tables: Tables) -> pd.DataFrame:
    """What the store holds: one row per data version, grain and dimension with its KPI and row counts."""
    if not tables.has(STORE_TABLE):
        return pd.DataFrame(columns=["data_version", "built_on", "grain", "dimension", "kpis", "rows"])
    t = tables.engine.table(STORE_TABLE)
    summary = t.group_by(["data_version", "built_on", "grain", "dimension"]).aggregate(
        kpis=t.kpi.nunique(), rows=t.period_start.count()
    )
    return tables.to_pandas(summary.order_by(["grain", "dimension"]))
