"""⑤ Where the quarter lands: closed-won so far + the open pipeline weighted as past quarters closed + the
run-rate of pipeline not yet created.

::

    landing = won so far
            + Σ open deals  amount × weight(stage, age band)       (rates: close rate × (1 − slippage) × age)
            + run-rate of deals created from tomorrow and won within the quarter (same day of past quarters)

Every input is read as known at the end of the as-of day (the ledger's as-of), so a landing computed for a past
day is the one that day would have shown. The two baselines a forecast must beat sit beside it: the naive
run-rate (won so far ÷ elapsed share of the quarter) and, in :mod:`revalign.analytics.forecast.backtest`, the
reps' standing commit calls.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from revalign.analytics.forecast.rates import LEARN_BY, age_band, not_yet_created, past_quarters, stage_rates
from revalign.analytics.forecast.snapshots import deals, end_of, name_teams, snapshots, start_of
from revalign.model.access import Tables
from revalign.model.calendar import period_end, period_label, period_start

LOOKBACK = 4
"""Past quarters learned from: a year, so every season is in the rates once."""
COLUMNS = ["won", "open_deals", "open_amount", "weighted_open", "run_rate", "landing", "naive"]
UNITS = {
    **dict.fromkeys(("won", "open_amount", "weighted_open", "run_rate", "landing", "naive"), "currency"),
    **dict.fromkeys(("won_in_quarter", "won_later"), "currency"),
    **dict.fromkeys(("close_rate", "slippage", "stage_weight", "weight", "elapsed_share"), "percent"),
    **dict.fromkeys(("weight_typical", "weight_old", "weight_stalled"), "percent"),
    **{"open_deals": "count", "deals": "count", "typical_age": "days", "age_factor": "ratio"},
}
"""The unit of each column of a landing and its rates (``run_rate`` is money, not a percentage), for display."""


@dataclass(frozen=True)
class QuarterLanding:
    """A quarter's forecast on one day: per group (``by``) the parts and the landing; the rates behind it."""

    quarter: str
    quarter_start: dt.date
    quarter_end: dt.date  # exclusive
    as_of: dt.date
    by: tuple[str, ...]
    frame: pd.DataFrame  # by…, won, open_deals, open_amount, weighted_open, run_rate, landing, naive
    rates: pd.DataFrame  # see revalign.analytics.forecast.rates.stage_rates
    lookback: int

    @property
    def elapsed_share(self) -> float:
        """Share of the quarter's days through the as-of day."""
        return ((self.as_of - self.quarter_start).days + 1) / (self.quarter_end - self.quarter_start).days

    def to_pandas(self) -> pd.DataFrame:
        return self.frame.copy()

    def to_dict(self) -> dict[str, Any]:
        return {
            "quarter": self.quarter,
            "quarter_start": self.quarter_start.isoformat(),
            "quarter_end": (self.quarter_end - dt.timedelta(days=1)).isoformat(),
            "as_of": self.as_of.isoformat(),
            "elapsed_share": self.elapsed_share,
            "by": list(self.by),
            "lookback_quarters": self.lookback,
            "rows": self.frame.to_dict(orient="records"),
            "rates": self.rates.to_dict(orient="records"),
        }


def last_known_day(tables: Tables) -> dt.date | None:
    """The last day the ledger has a record for: the default as-of of a forecast (the data's end, not the wall
    clock, so a late load does not read as a slump)."""
    ledger = tables.table("ledger")
    last = tables.execute(ledger.recorded_at.max())
    return None if last is None or pd.isna(last) else pd.Timestamp(last).date()


def _merge(parts: list[pd.DataFrame], by: tuple[str, ...]) -> pd.DataFrame:
    out = parts[0]
    for p in parts[1:]:
        out = out.merge(p, on=list(by), how="outer") if by else pd.concat([out, p], axis=1)
    return out


def quarter_landing(
    tables: Tables,
    as_of: dt.date,
    *,
    by: tuple[str, ...] | list[str] = (),
    lookback: int = LOOKBACK,
    fiscal_year_start_month: int = 1,
) -> QuarterLanding:
    """The landing of the quarter containing ``as_of`` (fiscal quarters from ``fiscal_year_start_month``).

    ``by`` splits it by ``team`` (shown by name), ``segment``, ``channel`` or ``owner``; the rates are learned
    company-wide (a team's few deals are too few to learn a stage's rate from) and applied to each group's own
    deals.
    """
    by = tuple(by)
    base = tables.provider()
    qs = period_start(as_of, "quarter", fiscal_year_start_month)
    qe = period_end(qs, "quarter")
    quarters = past_quarters(qs, as_of, lookback)
    keys = LEARN_BY
    rates = stage_rates(base, tables.to_pandas, as_of, quarters, keys)
    typical = rates[[*keys, "stage", "typical_age"]].drop_duplicates([*keys, "stage"])
    live = snapshots(base, as_of, [(0, as_of, qe)], tuple(dict.fromkeys((*by, *keys))))
    live = live.mutate(age_band=age_band(live, typical, keys))
    cells = list(dict.fromkeys((*keys, "stage", "age_band", *by)))
    cur = tables.to_pandas(live.group_by(*cells).agg(open_deals=live.count(), open_amount=live.amount.sum()))
    on = [*keys, "stage", "age_band"]
    cur = cur.astype({"age_band": "int64"}).merge(rates[[*on, "weight"]], on=on, how="left")
    cur["weighted_open"] = cur["open_amount"].astype("float64") * cur["weight"].fillna(0.0)
    parts = [
        cur.groupby(list(by))[["open_deals", "open_amount", "weighted_open"]].sum().reset_index()
        if by
        else cur[["open_deals", "open_amount", "weighted_open"]].sum().to_frame().T
    ]
    won = deals(base, as_of, by)
    won = won.filter((won.won_at >= start_of(qs)) & (won.won_at <= end_of(as_of))).mutate(amount=won.amount_now)
    parts.append(tables.to_pandas(won.group_by(*by).agg(won=won.amount.sum()) if by else won.agg(won=won.amount.sum())))
    parts.append(tables.to_pandas(not_yet_created(base, as_of, quarters, by)))
    frame = _merge(parts, by)
    for c in ("won", "open_amount", "weighted_open", "run_rate"):
        frame[c] = frame.get(c, pd.Series(dtype="float64")).astype("float64").fillna(0.0)
    frame["open_deals"] = frame["open_deals"].fillna(0).astype("int64")
    frame["landing"] = frame["won"] + frame["weighted_open"] + frame["run_rate"]
    share = ((as_of - qs).days + 1) / (qe - qs).days
    frame["naive"] = frame["won"] / share
    frame = name_teams(tables.to_pandas, base, frame[[*by, *COLUMNS]])
    frame = frame.sort_values(list(by), kind="stable").reset_index(drop=True) if by else frame.reset_index(drop=True)
    label = period_label(qs, "quarter", fiscal_year_start_month)
    return QuarterLanding(label, qs, qe, as_of, by, frame, rates, lookback)


__all__ = ["COLUMNS", "LOOKBACK", "UNITS", "QuarterLanding", "last_known_day", "quarter_landing"]
