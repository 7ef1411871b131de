"""② Canonical tables as revalign knew them on a past date, rebuilt from the ledger (field history, as-of).

The CRM only keeps the current value of a field; the ledger keeps every change with the time it happened
(``occurred_at``) and the time revalign learned it (``recorded_at``). A field's value as known at ``as_of`` is:

- the new value of the latest change recorded by then (latest by occurrence), else
- the old value of the first change recorded after it (the value before anything we learned later), else
- the current value (it never changed).

Rows created after ``as_of`` are left out, ledger events recorded after it are left out, and facts dated after it
(touches, spend, traffic, subscriptions) are cut at it; forecast calls recorded after it are left out, and a call
replaced after it still stands. Everything stays a lazy Ibis expression.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import ibis
import ibis.expr.types as ir

TableProvider = Callable[[str], ir.Table]

LEAD_FIELDS = {"lead_source": "string", "owner_id": "string"}
OPPORTUNITY_FIELDS = {"lead_source": "string", "owner_id": "string", "amount": "float64", "close_date": "date"}
CLOSED_STAGES = ("closed_won", "closed_lost")


def _changes(
    ledger: ir.Table, entity_type: str, fields: dict[str, str], stage_kind: str, as_of: dt.datetime
) -> ir.Table:
    """One row per entity: for each field (and the stage), whether a change was known by ``as_of`` and its new
    value, and whether a later change exists and its old value. Stage events carry the stage in ``name``."""
    ev = ledger.filter(ledger.entity_type == entity_type)
    is_field = (ev.kind == "field") & ev.name.isin(list(fields))
    is_stage = ev.kind == stage_kind
    ev = ev.filter(is_field | is_stage)
    ev = ev.mutate(
        __f=ibis.ifelse(ev.kind == "field", ev.name, ibis.literal("__stage")),
        __new=ibis.ifelse(ev.kind == "field", ev.new_value, ev.name),
        __old=ev.old_value,
        __known=ev.recorded_at <= as_of,
    )
    w_last = ibis.window(
        group_by=[ev.entity_id, ev["__f"], ev["__known"]],
        order_by=[ibis.desc(ev.occurred_at), ibis.desc(ev.recorded_at), ibis.desc(ev.event_id)],
    )
    w_first = ibis.window(
        group_by=[ev.entity_id, ev["__f"], ev["__known"]],
        order_by=[ev.occurred_at, ev.recorded_at, ev.event_id],
    )
    ev = ev.mutate(__last=ibis.row_number().over(w_last), __first=ibis.row_number().over(w_first))
    # the latest known change, and the first change learned later
    ev = ev.filter((ev["__known"] & (ev["__last"] == 0)) | (~ev["__known"] & (ev["__first"] == 0)))
    aggs: dict[str, ir.Scalar] = {}
    for f in [*fields, "__stage"]:
        known = (ev["__f"] == f) & ev["__known"]
        later = (ev["__f"] == f) & ~ev["__known"]
        aggs[f"k_{f}"] = ev.count(where=known) > 0
        aggs[f"kv_{f}"] = ev["__new"].max(where=known)
        aggs[f"l_{f}"] = ev.count(where=later) > 0
        aggs[f"lv_{f}"] = ev["__old"].max(where=later)
    return ev.group_by(__eid=ev.entity_id).aggregate(**aggs)


def _rebuild(table: ir.Table, key: str, changes: ir.Table, columns: dict[str, str]) -> ir.Table:
    """Replace each column by its value as known (see the module docstring); ``__stage`` maps to ``stage``."""
    joined = table.left_join(changes, table[key].cast("string") == changes["__eid"])
    updates = {}
    for f, dtype in columns.items():
        col = "lifecycle_stage" if f == "__stage" and "lifecycle_stage" in table.columns else f
        col = "stage" if f == "__stage" and col == f else col
        updates[col] = ibis.cases(
            (joined[f"k_{f}"].fill_null(False), joined[f"kv_{f}"].cast(dtype)),
            (joined[f"l_{f}"].fill_null(False), joined[f"lv_{f}"].cast(dtype)),
            else_=joined[col],
        )
    return joined.mutate(**updates).select(*table.columns)


def as_of_tables(base: TableProvider, as_of: dt.date | dt.datetime) -> TableProvider:
    """A table provider that serves every canonical table as known at the end of ``as_of``."""
    if not isinstance(as_of, dt.datetime):
        as_of = dt.datetime.combine(as_of, dt.time(23, 59, 59, 999999))
    as_of_ts = ibis.literal(as_of, "timestamp")
    as_of_date = ibis.literal(as_of.date(), "date")

    def provide(name: str) -> ir.Table:
        t = base(name)
        raw_ledger = base("ledger")
        if name == "ledger":
            return t.filter(t.recorded_at <= as_of_ts)
        if name == "leads":
            t = t.filter(t.created_at <= as_of_ts)
            changes = _changes(raw_ledger, "lead", LEAD_FIELDS, "lifecycle", as_of)
            return _rebuild(t, "lead_id", changes, {**LEAD_FIELDS, "__stage": "string"})
        if name == "opportunities":
            t = t.filter(t.created_at <= as_of_ts)
            changes = _changes(raw_ledger, "opportunity", OPPORTUNITY_FIELDS, "stage", as_of)
            t = _rebuild(t, "opportunity_id", changes, {**OPPORTUNITY_FIELDS, "__stage": "string"})
            closed = t.stage.isin(CLOSED_STAGES)
            return t.mutate(
                is_closed=closed,
                is_won=t.stage == "closed_won",
                closed_at=ibis.ifelse(closed & (t.closed_at <= as_of_ts), t.closed_at, ibis.null("timestamp")),
            )
        if name == "touchpoints":
            return t.filter(t.occurred_at <= as_of_ts)
        if name in ("spend", "web_traffic"):
            return t.filter(t.date <= as_of_date)
        if name == "accounts":
            return t.filter(t.created_at.isnull() | (t.created_at <= as_of_ts))
        if name == "forecasts":  # calls known by then; a call replaced only later still stood then
            t = t.filter(t.recorded_at.fill_null(t.submitted_at) <= as_of_ts)
            return t.mutate(
                superseded_at=ibis.ifelse(t.superseded_at > as_of_ts, ibis.null("timestamp"), t.superseded_at)
            )
        if name == "subscriptions":
            t = t.filter(t.start_date <= as_of_date)
            return t.mutate(end_date=ibis.ifelse(t.end_date > as_of_date, ibis.null("date"), t.end_date))
        return t

    return provide
