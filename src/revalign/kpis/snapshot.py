"""Snapshot KPIs: rows valid at each period's start (or end), counted or aggregated per period.

A row is valid from ``valid_from`` up to (not including) ``valid_to``; NULL ``valid_to`` means still valid. The
state "at" a point is the state at the end of the day before it, so a row counts for a point when
``valid_from < point <= valid_to``. Periods come from a spine of period starts between the first ``valid_from``
and the last ``valid_to`` (or today while rows are still open), or the request's dates.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from revalign.definitions.kpis.spec import Kpi
from revalign.errors import CatalogError
from revalign.kpis import filters
from revalign.kpis.aggregates import aggregate
from revalign.kpis.frames import Frames
from revalign.kpis.request import NONE_LABEL, Request, conditions
from revalign.kpis.windows import add_window
from revalign.model import calendar


def snapshot_table(frames: Frames, kpi: Kpi, req: Request, extra: str | None) -> ir.Table:
    """(period_start, <by…>, value) for a snapshot KPI (see the module docstring)."""
    sm = frames.model(kpi.semantic_model or "")
    if not sm.validity or "valid_from" not in sm.validity:
        raise CatalogError(f"KPI {kpi.name!r}: semantic model {sm.name!r} has no validity: {{valid_from: …}}")
    vf, vt = sm.validity["valid_from"], sm.validity.get("valid_to")
    fr = frames.filtered(sm, kpi, conditions(kpi, req, extra), [vf, *([vt] if vt else []), *req.by])
    t = fr.table
    frm = filters.as_date(t[fr.columns[vf]])
    to = filters.as_date(t[fr.columns[vt]]) if vt else ibis.null("date")
    t = t.mutate(__from=frm, __to=to)
    if kpi.expr:
        t = t.mutate(__v=filters.to_ibis(kpi.expr, fr.resolver(t)))
    t = t.filter(t["__from"].notnull())
    spine = _spine(t, req)
    j = t.cross_join(spine)
    at = j.period_start if kpi.at == "period_start" else j["__next"]
    # the state at the end of the day before ``at``: started before it, not ended before it
    j = j.filter((j["__from"] < at) & (j["__to"].isnull() | (j["__to"] >= at)))
    dims = {d: j[fr.columns[d]].cast("string").fill_null(NONE_LABEL) for d in req.by}
    j = j.mutate(**dims)
    value = aggregate(kpi, kpi.agg or "count", j, "__v" if kpi.expr else None)
    return j.group_by(["period_start", *req.by]).aggregate(value=value.cast("float64"))


def _spine(t: ir.Table, req: Request) -> ir.Table:
    """Every period start between the first valid_from and the last valid_to (or the request's dates)."""
    fs = req.fiscal_year_start_month
    lo = (
        ibis.literal(calendar.period_start(req.start, req.grain, fs))
        if req.start
        else calendar.truncate(t["__from"].min(), req.grain, fs)
    )
    # open-ended rows (valid_to NULL) are still valid today: the spine runs to today then
    last = ibis.greatest(t["__from"].max(), t["__to"].max().fill_null(t["__from"].max()))
    hi_default = ibis.ifelse(t["__to"].isnull().any(), ibis.greatest(last, ibis.today()), last)
    hi = ibis.literal(req.end - dt.timedelta(days=1)) if req.end else hi_default
    bounds = t.aggregate(__lo=lo, __hi=hi)
    if req.grain in ("day", "week"):
        step = 7 if req.grain == "week" else 1
        b = bounds.mutate(
            __lo=calendar.truncate(bounds["__lo"], req.grain, fs),
        )
        days = b.select(__i=ibis.range(0, b["__hi"].delta(b["__lo"], unit="day") + 1, step).unnest())
        spine = days.cross_join(b).select(period_start=(b["__lo"] + days["__i"].as_interval("D")).cast("date"))
    else:
        b = bounds.mutate(
            __lo_i=bounds["__lo"].year() * 12 + bounds["__lo"].month() - 1,
            __hi_i=bounds["__hi"].year() * 12 + bounds["__hi"].month() - 1,
        )
        idx = b.select(__i=ibis.range(b["__lo_i"], b["__hi_i"] + 1).unnest())
        date = ibis.date((idx["__i"] // 12).cast("int32"), (idx["__i"] % 12 + 1).cast("int32"), 1)
        spine = idx.select(period_start=calendar.truncate(date, req.grain, fs)).distinct()
    return spine.mutate(__next=add_window(spine.period_start, 1, req.grain).cast("date"))
