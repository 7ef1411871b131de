"""⑤ The reverse funnel: from a revenue target for a period to the deals, opportunities, SQLs, MQLs, leads and spend per
channel it takes, and when each is due (docs/planner.md).

The arithmetic (:func:`reverse_funnel`, pure: a target and :class:`LiveRates` in, a :class:`RevenuePlan` out)::

    deals won      = target ÷ average deal size
    opportunities  = deals won ÷ win yield (won deals per opportunity created)
    SQLs           = opportunities ÷ opportunities per SQL
    MQLs           = SQLs ÷ SQLs per MQL
    leads          = MQLs ÷ MQLs per lead
    channel leads  = leads × the channel's share of recent leads;  channel spend = channel leads × its cost per lead

Each volume is due in the window of the target period's length that starts ``lag_months[stage]`` months before the
period (leads created in March become revenue in June when lead→won takes three months). Volumes are rounded up to
whole units (you cannot plan 0.4 of a deal); the rounding is done once per stage, on the unrounded chain, so a
rounded-up stage does not inflate the stages above it.

:meth:`RevenuePlan.to_targets` turns the plan into project targets (the ``targets.csv`` layout: ``kpi, period,
channel, value, note``): one row per stage KPI, at the target period's label when the lag is a whole number of
periods, else one row per month of the window; leads also per channel (``new_leads`` with ``channel``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import pandas as pd

from revalign.analytics.planner.capacity import Capacity
from revalign.analytics.planner.rates import REVENUE_KPI, STAGES, LiveRates
from revalign.jsonsafe import jsonable
from revalign.model.calendar import Period, add_periods, period_label

STAGE_LABELS: Mapping[str, str] = {
    "new_revenue": "Revenue (target)",
    "deals_won": "Deals won",
    "opportunities_created": "Opportunities",
    "sqls": "SQLs",
    "mqls": "MQLs",
    "new_leads": "Leads",
}
PLAN_COLUMNS = ("stage", "kpi", "value", "unit", "rate", "rate_meaning", "lag_months", "due_from", "due_to", "due")
CHANNEL_COLUMNS = ("channel", "share", "leads", "cost_per_lead", "spend")
NEXT_STAGE: Mapping[str, str] = {above: stage for above, stage in pairwise(STAGES)}
"""Stage → the stage below it in the funnel (``new_leads`` → ``mqls`` … ``opportunities_created`` → ``deals_won``)."""
RATE_MEANING: Mapping[str, str] = {
    "deals_won": "won deals per opportunity",
    "opportunities_created": "opportunities per SQL",
    "sqls": "SQLs per MQL",
    "mqls": "MQLs per lead",
}
"""The yield *into* a stage (``LiveRates.yields`` key) in words."""


@dataclass(frozen=True)
class RevenuePlan:
    """A reverse-funnel plan for one revenue target and period."""

    target: float
    period: Period
    rates: LiveRates
    stages: pd.DataFrame
    """One row per stage, revenue first: ``PLAN_COLUMNS`` (``value`` in the row's ``unit``; ``rate``: the yield from
    this stage into the one below, which this stage's value is that one's divided by, a fraction; deals won are
    revenue ÷ the average deal size, named in ``rate_meaning``)."""
    channels: pd.DataFrame
    """Leads and spend per channel: ``CHANNEL_COLUMNS``."""
    capacity: Capacity | None = None
    notices: tuple[str, ...] = ()
    fiscal_year_start_month: int = 1
    exact: Mapping[str, float] = field(default_factory=dict)
    """Stage → its volume before rounding up (what the arithmetic gives)."""

    def volume(self, kpi: str) -> float:
        """The planned (rounded-up) volume of stage ``kpi``."""
        return float(self.stages.set_index("kpi").loc[kpi, "value"])

    @property
    def total_spend(self) -> float:
        return float(self.channels["spend"].sum()) if not self.channels.empty else 0.0

    def to_targets(self) -> pd.DataFrame:
        """The plan as project targets: ``kpi, period, channel, value, note`` (see the module docstring)."""
        rows: list[dict[str, Any]] = []
        note = f"revalign plan: {self.period.label} revenue target {self.target:,.0f}"
        for rec in self.stages.to_dict(orient="records"):
            if not math.isfinite(float(rec["value"])):
                continue  # a stage the rates could not plan (named in the notices) gets no target
            for period, value in self._phased(rec["kpi"], float(rec["value"]), int(rec["lag_months"])):
                rows.append({"kpi": rec["kpi"], "period": period, "channel": None, "value": value, "note": note})
        lag = int(self.stages.set_index("kpi").loc["new_leads", "lag_months"])
        for rec in self.channels.to_dict(orient="records"):
            for period, value in self._phased("new_leads", float(rec["leads"]), lag):
                rows.append({"kpi": "new_leads", "period": period, "channel": rec["channel"], "value": value,
                             "note": note})  # fmt: skip
        return pd.DataFrame(rows, columns=["kpi", "period", "channel", "value", "note"])

    def _phased(self, kpi: str, volume: float, lag: int) -> list[tuple[str, float]]:
        """``(period label, value)``: the period's own grain when the lag is whole periods, else by month."""
        p, fs = self.period, self.fiscal_year_start_month
        months = _months(p)
        if p.grain in ("month", "quarter", "year") and lag % months == 0:
            return [(period_label(add_periods(p.start, "month", -lag), p.grain, fs), volume)]
        first = add_periods(p.start, "month", -lag)
        labels = [period_label(add_periods(first, "month", i), "month", fs) for i in range(months)]
        if kpi == REVENUE_KPI:
            return [(label, round(volume / months, 2)) for label in labels]
        base, extra = divmod(int(volume), months)
        return [(label, float(base + (1 if i < extra else 0))) for i, label in enumerate(labels)]

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "target": self.target,
                "period": self.period.label,
                "grain": self.period.grain,
                "stages": self.stages.to_dict(orient="records"),
                "channels": self.channels.to_dict(orient="records"),
                "total_spend": self.total_spend,
                "capacity": self.capacity.to_dict() if self.capacity is not None else None,
                "rates": self.rates.to_dict(),
                "notices": list(self.notices),
            }
        )


def _months(period: Period) -> int:
    """Whole months in ``period`` (1 for a shorter one)."""
    return max(1, (period.end.year - period.start.year) * 12 + period.end.month - period.start.month)


def _up(x: float) -> float:
    """Round a volume up to whole units, forgiving float noise (3.0000000001 deals is 3)."""
    return float(math.ceil(round(x, 6))) if math.isfinite(x) else float("nan")


def _chain(target: float, rates: LiveRates) -> dict[str, float]:
    """Stage → unrounded volume, bottom-up from the revenue target."""
    exact = {REVENUE_KPI: target, "deals_won": target / rates.average_deal_size}
    for above, stage in reversed(list(pairwise(STAGES))):
        exact[above] = exact[stage] / rates.yields[stage]
    return exact


def _channels(leads: float, mix: pd.DataFrame) -> pd.DataFrame:
    """Leads per channel by ``mix`` (largest remainder, so they add up to ``leads``) and their spend."""
    if mix.empty or not math.isfinite(leads):
        return pd.DataFrame(columns=list(CHANNEL_COLUMNS))
    raw = mix["share"].astype(float) * leads
    whole = raw.apply(math.floor)
    order = (raw - whole).sort_values(ascending=False, kind="stable").index[: int(leads - whole.sum())]
    whole.loc[order] += 1
    out = pd.DataFrame({"channel": mix["channel"], "share": mix["share"].astype(float), "leads": whole.astype(float)})
    out["cost_per_lead"] = mix["cost_per_lead"].astype(float)
    out["spend"] = (out["leads"] * out["cost_per_lead"]).round(2)
    return out.reset_index(drop=True)


def _unknown_rates(rates: LiveRates) -> list[str]:
    """The stages whose rate is missing, not finite or not positive (the chain cannot divide by it)."""
    values = {"deals_won": rates.average_deal_size, **{s: rates.yields.get(s, float("nan")) for s in STAGES[1:]}}
    return [s for s, v in values.items() if not (math.isfinite(v) and v > 0)]


def _due(period: Period, lag: int, fs: int) -> tuple[str, str, str]:
    first = add_periods(period.start, "month", -lag)
    last = add_periods(first, "month", _months(period) - 1)
    start, end = period_label(first, "month", fs), period_label(last, "month", fs)
    return start, end, start if start == end else f"{start} … {end}"


def reverse_funnel(
    target: float,
    period: Period,
    rates: LiveRates,
    *,
    capacity: Capacity | None = None,
    fiscal_year_start_month: int = 1,
) -> RevenuePlan:
    """The plan for ``target`` revenue in ``period`` at ``rates`` (see the module docstring)."""
    if not target > 0:
        raise ValueError(f"the revenue target must be a positive amount. Got {target!r} instead.")
    notices = [
        f"The {'average deal size' if s == 'deals_won' else RATE_MEANING[s]} is unknown or zero (no "
        f"{s.replace('_', ' ')} in the window): the stages above it cannot be planned."
        for s in _unknown_rates(rates)
    ]
    exact = _chain(target, rates) if not notices else {REVENUE_KPI: target}
    lag_m = rates.lag_months
    rows = []
    for kpi in (REVENUE_KPI, *reversed(STAGES)):
        lag = lag_m.get("deals_won", 0) - lag_m.get(kpi, 0) if kpi != REVENUE_KPI else 0
        lag = max(0, lag)
        below = NEXT_STAGE.get(kpi)
        rate = rates.yields.get(below) if below else None
        meaning = RATE_MEANING.get(below) if below else None
        if kpi == "deals_won":
            meaning = f"revenue ÷ average deal size {rates.average_deal_size:,.2f}"
        value = exact.get(kpi, float("nan"))
        volume = value if kpi == REVENUE_KPI else _up(value)
        unit = "currency" if kpi == REVENUE_KPI else "count"
        due = _due(period, lag, fiscal_year_start_month)
        rows.append([STAGE_LABELS[kpi], kpi, volume, unit, rate, meaning, lag, *due])
    stages = pd.DataFrame(rows, columns=list(PLAN_COLUMNS))
    leads = float(stages.set_index("kpi").loc["new_leads", "value"])
    return RevenuePlan(
        target=float(target),
        period=period,
        rates=rates,
        stages=stages,
        channels=_channels(leads, rates.channels),
        capacity=capacity,
        notices=tuple(notices) + (capacity.notices if capacity is not None else ()),
        fiscal_year_start_month=fiscal_year_start_month,
        exact=exact,
    )


def needed_by(plan: RevenuePlan, kpi: str) -> dt.date:
    """The first day of the window in which stage ``kpi``'s volume is due."""
    lag = int(plan.stages.set_index("kpi").loc[kpi, "lag_months"])
    return add_periods(plan.period.start, "month", -lag)


__all__ = [
    "CHANNEL_COLUMNS",
    "NEXT_STAGE",
    "PLAN_COLUMNS",
    "RATE_MEANING",
    "STAGE_LABELS",
    "RevenuePlan",
    "needed_by",
    "reverse_funnel",
]
