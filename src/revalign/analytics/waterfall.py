"""⑤ The pipeline waterfall: how the open new-business pipeline moved, week by week, rebuilt from the ledger.

The open pipeline at a moment is the amount of the new-business deals created by then and not yet closed, each
at its amount then (the amount at creation plus the ledger's amount changes so far). Between two Mondays it
moves only by these, so every week reconciles::

    closing = opening + created + amount_changed − won − lost

- ``created``: deals created in the week, at their amount at creation;
- ``amount_changed``: amount edits (new − old) on deals open at the edit;
- ``won`` / ``lost``: deals closed in the week, at their amount when they closed.

Three moves inside the pipeline are shown beside them; they change what the pipeline is made of, not its total:

- ``advanced``: amount of deals that moved to a later open stage in the week;
- ``pushed_out``: amount of deals whose close date moved from inside the quarter of the edit to after it;
- ``pulled_in``: amount of deals whose close date moved from after that quarter into it.

All of it is one Ibis expression per part over ``opportunities`` and ``ledger``; only the weekly sums per group
come back to pandas, where the running total gives each week's opening.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from revalign.analytics.forecast.snapshots import amount_edits, name_teams, with_dims
from revalign.analytics.revenue import new_business
from revalign.model.access import Tables
from revalign.model.calendar import period_start, truncate
from revalign.model.tables import OPPORTUNITY_STAGES

FLOWS = ("created", "amount_changed", "won", "lost")
MOVES = ("advanced", "pushed_out", "pulled_in")
COLUMNS = ["week", "opening", *FLOWS, "closing", *MOVES]
UNITS = dict.fromkeys(COLUMNS[1:], "currency")
"""Every movement is money (the display layer would read ``created`` or ``won`` as anything)."""
LABELS = {
    "opening": "Opening",
    "created": "Created",
    "amount_changed": "Amount changed",
    "won": "Won",
    "lost": "Lost",
    "closing": "Closing",
}
"""What a chart's axis and a reader call each bar of the bridge (``movement`` stays the stable key)."""


@dataclass(frozen=True)
class Waterfall:
    """Weekly pipeline movements per group (``by``); ``frame`` has one row per week and group."""

    start: dt.date
    end: dt.date  # exclusive
    by: tuple[str, ...]
    frame: pd.DataFrame

    def to_pandas(self) -> pd.DataFrame:
        return self.frame.copy()

    def bridge(self) -> pd.DataFrame:
        """The whole range as one bridge, all groups together: the first week's opening, each flow summed over
        the weeks (won and lost as decreases), the last week's closing — the bars of a waterfall chart, whose
        ``measure`` is Plotly's (absolute, relative, total); opening + the relative bars = closing; ``label`` is the
        bar's name in words."""
        weeks = self.frame.groupby("week")[["opening", *FLOWS, "closing"]].sum().sort_index()
        if weeks.empty:
            return pd.DataFrame(columns=["movement", "label", "measure", "amount"])
        sign = {"created": 1.0, "amount_changed": 1.0, "won": -1.0, "lost": -1.0}
        bars = [("opening", "absolute", float(weeks["opening"].iloc[0]))]
        bars += [(flow, "relative", sign[flow] * float(weeks[flow].sum())) for flow in FLOWS]
        bars.append(("closing", "total", float(weeks["closing"].iloc[-1])))
        frame = pd.DataFrame(bars, columns=["movement", "measure", "amount"])
        frame.insert(1, "label", frame["movement"].map(LABELS))
        return frame

    def to_dict(self) -> dict[str, Any]:
        rows = self.frame.assign(week=self.frame["week"].map(dt.date.isoformat)).to_dict(orient="records")
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "by": list(self.by), "rows": rows}


def _ts(day: dt.date) -> ir.TimestampScalar:
    return ibis.literal(dt.datetime.combine(day, dt.time()), "timestamp")


def _events(tables: Tables, by: tuple[str, ...]) -> ir.Table:
    """Every event that changes the open pipeline, with its signed amount: ``t``, ``kind``, ``delta``, ``by``."""
    base = tables.provider()
    opps = with_dims(base, new_business(base("opportunities")), by)
    edits = amount_edits(base("ledger"))
    j = edits.join(opps, edits.e_id == opps.opportunity_id)
    open_edit = (j.t >= j.created_at) & (j.closed_at.isnull() | (j.t < j.closed_at))
    j = j.mutate(open_edit=open_edit, after_close=j.closed_at.notnull() & (j.t >= j.closed_at))
    per_deal = j.group_by(d_id=j.opportunity_id).agg(
        all_changes=j.delta.sum(), late_changes=j.delta.sum(where=j.after_close)
    )
    o = opps.left_join(per_deal, opps.opportunity_id == per_deal.d_id)
    amount = o.amount.fill_null(0.0)
    amount0 = amount - o.all_changes.fill_null(0.0)
    created = o.select(*by, t=o.created_at, kind=ibis.literal("created"), delta=amount0)
    closed = o.filter(o.is_closed & o.closed_at.notnull())
    closed = closed.select(
        *by,
        t=closed.closed_at,
        kind=ibis.ifelse(closed.is_won, "won", "lost"),
        delta=-(closed.amount.fill_null(0.0) - closed.late_changes.fill_null(0.0)),
    )
    changed = j.filter(j.open_edit).select(*by, t=j.t, kind=ibis.literal("amount_changed"), delta=j.delta)
    return ibis.union(created, changed, closed)


def _moves(tables: Tables, by: tuple[str, ...], fiscal_year_start_month: int) -> ir.Table:
    """Stage advances and close-date pushes/pulls of new-business deals: ``t``, ``kind``, ``amount``, ``by``."""
    base = tables.provider()
    opps = with_dims(base, new_business(base("opportunities")), by)
    ledger = base("ledger").filter(base("ledger").entity_type == "opportunity")
    order = {s: i for i, s in enumerate(OPPORTUNITY_STAGES[:5])}
    rank = {c: ledger[c].cases(*order.items(), else_=-1) for c in ("name", "old_value")}
    adv = ledger.filter((ledger.kind == "stage") & (rank["name"] > rank["old_value"]) & (rank["old_value"] >= 0))
    adv = adv.select(e_id=adv.entity_id, t=adv.occurred_at, kind=ibis.literal("advanced"))
    cd = ledger.filter((ledger.kind == "field") & (ledger.name == "close_date"))
    q_start = truncate(cd.occurred_at, "quarter", fiscal_year_start_month)
    q_end = q_start.cast("date") + ibis.interval(months=3)
    old, new = cd.old_value.cast("date"), cd.new_value.cast("date")
    kind = ibis.cases(((old < q_end) & (new >= q_end), "pushed_out"), ((old >= q_end) & (new < q_end), "pulled_in"))
    cd = cd.select(e_id=cd.entity_id, t=cd.occurred_at, kind=kind)
    moves = ibis.union(adv, cd.filter(cd.kind.notnull()))
    j = moves.join(opps, moves.e_id == opps.opportunity_id)
    return j.select(*by, t=j.t, kind=j.kind, delta=j.amount.fill_null(0.0))


def pipeline_waterfall(
    tables: Tables,
    *,
    start: dt.date,
    end: dt.date,
    by: tuple[str, ...] | list[str] = (),
    fiscal_year_start_month: int = 1,
) -> Waterfall:
    """Weekly pipeline movements for the weeks (Monday to Sunday) that start in ``[start, end)``, per ``by``
    (``team``, ``channel``, ``segment``, ``owner``). Amounts are positive; ``won`` and ``lost`` are subtracted.
    Teams come by name, as the forecast's tables show them (a CRO reads "EMEA Enterprise", not "T06")."""
    by = tuple(by)
    first = period_start(start, "week")
    lo, hi = _ts(first), _ts(end)
    ev = _events(tables, by)
    before = ev.filter(ev.t < lo)
    opening = tables.to_pandas(
        before.group_by(*by).agg(opening=before.delta.sum()) if by else before.agg(opening=before.delta.sum())
    )
    rows = ibis.union(ev, _moves(tables, by, fiscal_year_start_month))
    rows = rows.filter((rows.t >= lo) & (rows.t < hi))
    rows = rows.mutate(week=truncate(rows.t, "week"))
    weekly = tables.to_pandas(rows.group_by("week", "kind", *by).agg(amount=rows.delta.sum()))
    frame = name_teams(tables.to_pandas, tables.provider(), _assemble(weekly, opening, first, end, by))
    return Waterfall(first, end, by, frame)


def _assemble(
    weekly: pd.DataFrame, opening: pd.DataFrame, first: dt.date, end: dt.date, by: tuple[str, ...]
) -> pd.DataFrame:
    """Weekly sums → one row per week and group, with the running opening and closing."""
    weeks = pd.date_range(first, end - dt.timedelta(days=1), freq="7D").date
    weekly = weekly.assign(week=pd.to_datetime(weekly["week"]).dt.date)
    wide = weekly.pivot_table(index=["week", *by], columns="kind", values="amount", aggfunc="sum", fill_value=0.0)
    groups = pd.concat([opening[list(by)], weekly[list(by)]]).drop_duplicates() if by else pd.DataFrame(index=[0])
    grid = pd.DataFrame({"week": weeks}).merge(groups, how="cross")
    frame = grid.merge(wide.reset_index(), on=["week", *by], how="left")
    for c in (*FLOWS, *MOVES):
        frame[c] = frame[c].astype("float64").fillna(0.0) if c in frame else 0.0
    frame[["won", "lost"]] = 0.0 - frame[["won", "lost"]]
    frame = frame.merge(opening, on=list(by), how="left") if by else frame.assign(opening=opening["opening"].sum())
    frame["opening"] = frame["opening"].astype("float64").fillna(0.0)
    frame = frame.sort_values([*by, "week"], kind="stable").reset_index(drop=True)
    net = frame["created"] + frame["amount_changed"] - frame["won"] - frame["lost"]
    cum = net.groupby([frame[b] for b in by]).cumsum() if by else net.cumsum()
    frame["closing"] = frame["opening"] + cum
    frame["opening"] = frame["closing"] - net
    return frame[["week", *by, *COLUMNS[1:]]].sort_values(["week", *by], kind="stable").reset_index(drop=True)


__all__ = ["COLUMNS", "FLOWS", "LABELS", "MOVES", "UNITS", "Waterfall", "pipeline_waterfall"]
