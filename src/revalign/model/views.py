"""Derived views over canonical tables that semantic models may use like tables.

Some KPIs need one aggregation step before they can be stated as "aggregate a column of a table": MRR
movements (new, expansion, contraction, churn) come from subscription lines, and speed to lead needs each
lead's first sales touch. Those steps are written once here as Ibis expressions over canonical tables (so they
run on every engine and stay lazy) and semantic models refer to them by name like any table.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import ibis
import ibis.expr.types as ir

from revalign.model.access import unbound_table
from revalign.model.tables import TABLES

TableProvider = Callable[[str], ir.Table]
EPSILON = 0.005
"""MRR below half a cent counts as zero (sums of float lines leave tiny residues)."""


def lead_facts(tables: TableProvider) -> ir.Table:
    """One row per lead: when it was created and when it was first touched (any, marketing, sales)."""
    leads = tables("leads")
    tp = tables("touchpoints")
    firsts = tp.group_by(tp.lead_id).aggregate(
        first_touch_at=tp.occurred_at.min(),
        first_marketing_touch_at=tp.occurred_at.min(where=tp.touch_type == "marketing"),
        first_sales_touch_at=tp.occurred_at.min(where=tp.touch_type == "sales"),
        touches=tp.count(),
    )
    out = leads.select("lead_id", "created_at").left_join(firsts, "lead_id")
    return out.select(
        "lead_id",
        "created_at",
        "first_touch_at",
        "first_marketing_touch_at",
        "first_sales_touch_at",
        touches=out.touches.fill_null(0),
    )


def mrr_movements(tables: TableProvider) -> ir.Table:
    """One row per account and day on which its MRR changed, classified as new, expansion, contraction,
    churn or reactivation, with the MRR before and after and the movement's (positive) amount."""
    subs = tables("subscriptions")
    starts = subs.select(account_id=subs.account_id, date=subs.start_date.cast("date"), delta=subs.mrr.cast("float64"))
    ended = subs.filter(subs.end_date.notnull())
    ends = ended.select(
        account_id=ended.account_id, date=ended.end_date.cast("date"), delta=(-ended.mrr).cast("float64")
    )
    days = starts.union(ends).group_by(["account_id", "date"]).aggregate(delta=ibis._.delta.sum())
    w = ibis.cumulative_window(group_by=days.account_id, order_by=days.date)
    days = days.mutate(mrr_after=days.delta.sum().over(w), nth=ibis.row_number().over(w))
    days = days.mutate(mrr_before=days.mrr_after - days.delta)
    was, now = days.mrr_before > EPSILON, days.mrr_after > EPSILON
    movement = ibis.cases(
        (~was & now & (days.nth == 0), "new"),
        (~was & now, "reactivation"),
        (was & ~now, "churn"),
        (days.delta > EPSILON, "expansion"),
        (days.delta < -EPSILON, "contraction"),
        else_="none",
    )
    return days.select(
        "account_id",
        "date",
        "mrr_before",
        "mrr_after",
        movement=movement,
        amount=days.delta.abs(),
    )


VIEWS: dict[str, Callable[[TableProvider], ir.Table]] = {
    "lead_facts": lead_facts,
    "mrr_movements": mrr_movements,
}
"""Views by name; semantic models may name them in ``table:``."""


@cache
def source_tables(name: str) -> frozenset[str]:
    """The canonical tables a canonical table or view reads (a view is compiled over recording unbound tables,
    so no data is touched); empty for a name that is neither.

    A KPI over a view is undefined, not zero, when one of these tables was never loaded. Cached: the views are
    code, so the answer never changes in a process, and every KPI query asks it.
    """
    if name in TABLES:
        return frozenset({name})
    if name not in VIEWS:
        return frozenset()
    seen: set[str] = set()

    def record(table: str) -> ir.Table:
        seen.add(table)
        return unbound_table(table)

    VIEWS[name](record)
    return frozenset(seen)


def table_columns(name: str) -> set[str] | None:
    """Columns of a canonical table or a view (a view compiled over unbound tables: no data is touched);
    None for a name that is neither."""
    if name in TABLES:
        return set(TABLES[name].column_names)
    if name in VIEWS:
        return set(VIEWS[name](unbound_table).columns)
    return None
