"""⑤ How much of the open pipeline closes in the quarter, learned from the same week of past quarters.

For a forecast on day ``d`` of a quarter, each of the last ``lookback`` quarters gives one snapshot: the
new-business deals open on day ``d`` of *that* quarter, with the stage and amount then known, and what became
of them as known on the forecast's as-of date. Per stage, by amount:

- ``close_rate``: share of the open amount that was won (at any time, as known by the as-of date);
- ``slippage``: share of that won amount that closed only after the quarter ended (the deal slipped out);
- ``weight = close_rate × (1 − slippage)``: the share won inside the quarter, which is what the forecast needs;
- ``age_factor``: the weight of deals older than typical for their stage (older than the stage's median age at
  the snapshots) and of the younger ones, relative to the stage's weight. Stalled deals close less, so an old
  deal gets ``weight × age_factor_old``.

Learning at the same day of the quarter is what makes slippage right: on day 80 little open pipeline can still
close by day 91, on day 5 much can. Every quarter read has ended before the as-of date, so nothing is peeked at.

The run-rate of pipeline not yet created is learned the same way: the amount of deals created after day ``d``
and won before the quarter's end, averaged over the past quarters (per group when the forecast is split).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from revalign.analytics.forecast.snapshots import deals, snapshots
from revalign.model.calendar import add_periods, period_end
from revalign.model.ledger import TableProvider
from revalign.model.tables import OPPORTUNITY_STAGES

MIN_CELL_DEALS = 10
"""An age band with fewer deals than this in the history takes its stage's weight (too few to learn from)."""
STALE = 2.0
"""A deal older than this many times its stage's typical age is in the stalled band."""
LEARN_BY = ("segment",)
"""Rates are learned per segment: an enterprise deal in proposal is months from closing, a small one weeks, so a
pooled rate would follow the segment mix of past quarters rather than this quarter's pipeline."""


@dataclass(frozen=True)
class PastQuarter:
    """A quarter the forecast learns from, and the day in it that matches the forecast's day of quarter."""

    start: dt.date
    end: dt.date  # exclusive
    snapshot: dt.date


def past_quarters(quarter_start: dt.date, as_of: dt.date, lookback: int) -> list[PastQuarter]:
    """The ``lookback`` quarters before the one starting at ``quarter_start``, each with its matching day: as many
    days after its start as ``as_of`` is after the quarter's (first half), or as many days before its end."""
    offset = (as_of - quarter_start).days
    left = (period_end(quarter_start, "quarter") - as_of).days  # days after the as-of day, plus one
    out = []
    for k in range(1, lookback + 1):
        start = add_periods(quarter_start, "quarter", -k)
        end = period_end(start, "quarter")
        # the first half counts from the start, the second back from the end: quarters differ by a day or two,
        # and on a quarter's last day what matters is that no day is left, not that 89 days have passed
        day = start + dt.timedelta(days=offset) if offset < left else end - dt.timedelta(days=left)
        out.append(PastQuarter(start, end, day))
    return out


def _days(quarters: list[PastQuarter]) -> list[tuple[int, dt.date, dt.date]]:
    return [(k, q.snapshot, q.end) for k, q in enumerate(quarters)]


def _history(base: TableProvider, as_of: dt.date, quarters: list[PastQuarter], keys: tuple[str, ...]) -> ir.Table:
    """Every past snapshot's open deals with ``won_in`` / ``won_later`` amounts (as known at ``as_of``)."""
    snap = snapshots(base, as_of, _days(quarters), keys)
    won_in = snap.won_at.notnull() & (snap.won_at < snap.q_end)
    won_later = snap.won_at.notnull() & (snap.won_at >= snap.q_end)
    return snap.select(
        *keys,
        "stage",
        "age_days",
        "amount",
        won_in=ibis.ifelse(won_in, snap.amount, 0.0),
        won_later=ibis.ifelse(won_later, snap.amount, 0.0),
    )


def age_band(table: ir.Table, typical: pd.DataFrame, keys: tuple[str, ...] = ()) -> ir.IntegerValue:
    """Each deal's age band against the typical (median) age of its stage (and ``keys``) in the history: 0 up to
    the typical age, 1 up to :data:`STALE` times it, 2 beyond (stalled)."""
    cases = []
    for row in typical.itertuples(index=False):
        cond = table.stage == row.stage
        for k in keys:
            cond = cond & (table[k] == getattr(row, k))
        a = float(row.typical_age)
        band = ibis.cases((table.age_days <= a, 0), (table.age_days <= STALE * a, 1), else_=2)
        cases.append((cond, band))
    return ibis.cases(*cases, else_=0) if cases else ibis.literal(0)


def stage_rates(
    base: TableProvider,
    run: Callable[[ir.Table], pd.DataFrame],
    as_of: dt.date,
    quarters: list[PastQuarter],
    keys: tuple[str, ...] = LEARN_BY,
) -> pd.DataFrame:
    """Per ``keys``, stage and ``age_band``: open, won-in-quarter and won-later amounts and the weights.

    ``run`` executes an Ibis table (the caller's engine). Columns: ``keys``…, ``stage``, ``age_band``, ``deals``,
    ``open_amount``, ``won_in_quarter``, ``won_later``, ``typical_age``, ``close_rate``, ``slippage``,
    ``stage_weight``, ``age_factor``, ``weight``.
    """
    hist = _history(base, as_of, quarters, keys)
    typical = run(hist.group_by(*keys, "stage").agg(typical_age=hist.age_days.median()))
    hist = hist.mutate(age_band=age_band(hist, typical, keys))
    cells = run(
        hist.group_by(*keys, "stage", "age_band").agg(
            deals=hist.count(),
            open_amount=hist.amount.sum(),
            won_in_quarter=hist.won_in.sum(),
            won_later=hist.won_later.sum(),
        )
    )
    return weights(cells, typical, keys)


_RATE_COLUMNS = frozenset(
    {"age_band", "deals", "open_amount", "won_in_quarter", "won_later", "typical_age", "close_rate", "slippage"}
    | {"stage_weight", "age_factor", "weight"}
)


def weights(cells: pd.DataFrame, typical: pd.DataFrame, keys: tuple[str, ...] = ()) -> pd.DataFrame:
    """The learned weights from per-(keys, stage, age band) sums (see the module docstring); pure pandas, so a
    hand-worked table checks it directly."""
    group = [*keys, "stage"]
    cells = cells.astype({"age_band": "int64", "deals": "int64"}).copy()
    for c in ("open_amount", "won_in_quarter", "won_later"):
        cells[c] = cells[c].astype("float64")
    stage = cells.groupby(group)[["open_amount", "won_in_quarter", "won_later"]].sum()
    won = stage["won_in_quarter"] + stage["won_later"]
    stage["close_rate"] = won / stage["open_amount"].where(stage["open_amount"] > 0)
    stage["slippage"] = (stage["won_later"] / won.where(won > 0)).fillna(0.0)
    stage["stage_weight"] = stage["close_rate"] * (1.0 - stage["slippage"])
    out = cells.merge(stage[["close_rate", "slippage", "stage_weight"]].reset_index(), on=group)
    out = out.merge(typical, on=group, how="left")
    cell_weight = out["won_in_quarter"] / out["open_amount"].where(out["open_amount"] > 0)
    enough = out["deals"] >= MIN_CELL_DEALS
    out["weight"] = cell_weight.where(enough, out["stage_weight"]).fillna(0.0)
    out["age_factor"] = out["weight"] / out["stage_weight"].where(out["stage_weight"] > 0)
    order = {s: i for i, s in enumerate(OPPORTUNITY_STAGES)}
    out = out.assign(_o=out["stage"].map(order)).sort_values([*keys, "_o", "age_band"]).drop(columns="_o")
    cols = [*keys, "stage", "age_band", "deals", "open_amount", "won_in_quarter", "won_later", "typical_age"]
    return out[[*cols, "close_rate", "slippage", "stage_weight", "age_factor", "weight"]].reset_index(drop=True)


BANDS = ("typical", "old", "stalled")
"""Names of the age bands 0, 1, 2 (up to the typical age, up to :data:`STALE` times it, beyond)."""


def stage_summary(rates: pd.DataFrame) -> pd.DataFrame:
    """One row per segment and stage: the stage's rates and the weight of each age band (``weight_typical``,
    ``weight_old``, ``weight_stalled``): the rates table as a person reads it."""
    keys = [c for c in rates.columns if c not in _RATE_COLUMNS]
    first = rates.groupby(keys, sort=False)[["typical_age", "close_rate", "slippage", "stage_weight"]].first()
    sums = rates.groupby(keys, sort=False)[["deals", "open_amount"]].sum()
    bands = rates.pivot_table(index=keys, columns="age_band", values="weight", aggfunc="first")
    bands = bands.rename(columns={i: f"weight_{b}" for i, b in enumerate(BANDS)})
    out = sums.join(first).join(bands).reset_index()
    return out.rename_axis(columns=None)


def not_yet_created(
    base: TableProvider, as_of: dt.date, quarters: list[PastQuarter], by: tuple[str, ...] = ()
) -> ir.Table:
    """Per group: the average amount of deals created after the matching day and won within the quarter."""
    d = deals(base, as_of, by)
    days = ibis.memtable(
        {
            "snap": [dt.datetime.combine(q.snapshot, dt.time(23, 59, 59, 999999)) for q in quarters],
            "q_end": [dt.datetime.combine(q.end, dt.time()) for q in quarters],
        },
        schema={"snap": "timestamp", "q_end": "timestamp"},
    )
    j = d.cross_join(days)
    rows = j.filter((j.created_at > j.snap) & j.won_at.notnull() & (j.won_at < j.q_end))
    n = float(len(quarters))
    if by:
        return rows.group_by(*by).agg(run_rate=rows.amount_now.sum() / n)
    return rows.agg(run_rate=rows.amount_now.sum().fill_null(0.0) / n)


__all__ = [
    "BANDS",
    "LEARN_BY",
    "MIN_CELL_DEALS",
    "PastQuarter",
    "age_band",
    "not_yet_created",
    "past_quarters",
    "stage_rates",
    "stage_summary",
    "weights",
]
