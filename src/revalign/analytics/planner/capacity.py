"""⑤ The planner's capacity check: can the reps who carry quota close the revenue target?

**Quota in force.** The quotas whose period overlaps the target period (``quotas`` rows, each counted in full when its
period lies inside the target period, else pro rata by days); when no quota overlaps (a period not yet planned), the
latest quota period's rows stand in for the team as it is today, scaled to the target period's length, and a notice
says so.

**Reps needed** = ⌈target ÷ average quota per rep⌉ (the average over the quota holders above, for the period's length).
**Coverage** = total quota ÷ target: below 1 the target asks more than the team is carrying.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from revalign.jsonsafe import jsonable
from revalign.model.access import Tables
from revalign.model.calendar import Period


@dataclass(frozen=True)
class Capacity:
    """Quota capacity against one revenue target."""

    target: float
    reps: int
    quota: float
    basis: str
    """Which quota rows: ``in force`` (they overlap the period) or ``latest (<start> … <end>)``."""

    @property
    def average_quota(self) -> float:
        return self.quota / self.reps if self.reps else float("nan")

    @property
    def coverage(self) -> float:
        return self.quota / self.target if self.target else float("nan")

    @property
    def reps_needed(self) -> int | None:
        avg = self.average_quota
        return math.ceil(round(self.target / avg, 6)) if self.reps and avg > 0 else None

    @property
    def shortfall(self) -> float:
        return max(0.0, self.target - self.quota)

    @property
    def ok(self) -> bool:
        return self.quota >= self.target

    @property
    def notices(self) -> tuple[str, ...]:
        if not self.reps:
            return ("No rep carries quota: the capacity check needs a quotas table.",)
        if self.ok:
            return ()
        return (
            f"Quota carried ({self.quota:,.0f} by {self.reps} reps) is below the target: {self.reps_needed} reps at "
            f"today's average quota ({self.average_quota:,.0f}) would carry it.",
        )

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "target": self.target,
                "reps": self.reps,
                "quota": self.quota,
                "average_quota": self.average_quota,
                "coverage": self.coverage,
                "reps_needed": self.reps_needed,
                "shortfall": self.shortfall,
                "ok": self.ok,
                "basis": self.basis,
            }
        )


def _overlap_days(start: dt.date, end: dt.date, lo: dt.date, hi: dt.date) -> int:
    return max(0, (min(end, hi) - max(start, lo)).days)


def quota_capacity(tables: Tables, period: Period, target: float) -> Capacity:
    """The quota the reps carry in ``period`` against ``target`` (see the module docstring)."""
    if not tables.has("quotas"):
        return Capacity(target, 0, 0.0, "no quotas")
    q = tables.table("quotas")
    frame: pd.DataFrame = tables.to_pandas(
        q.select("user_id", "period_start", "period_end", "amount").filter(q.period_start < period.end)
    )  # quota rows are one per rep and period: small
    if frame.empty:
        return Capacity(target, 0, 0.0, "no quotas")
    frame["start"] = [pd.Timestamp(v).date() for v in frame["period_start"]]
    frame["end"] = [pd.Timestamp(v).date() + dt.timedelta(days=1) for v in frame["period_end"]]  # inclusive end
    length = (period.end - period.start).days
    inside = frame[frame["end"] > period.start]
    basis = "in force"
    if inside.empty:
        latest = frame["start"].max()
        inside = frame[frame["start"] == latest]
        basis = f"latest ({latest.isoformat()} … {(inside['end'].max() - dt.timedelta(days=1)).isoformat()})"
        scale = [length / max(1, (e - s).days) for s, e in zip(inside["start"], inside["end"], strict=True)]
    else:
        scale = [
            _overlap_days(s, e, period.start, period.end) / max(1, (e - s).days)
            for s, e in zip(inside["start"], inside["end"], strict=True)
        ]
    quota = float((inside["amount"].astype(float) * pd.Series(scale, index=inside.index)).sum())
    return Capacity(float(target), int(inside["user_id"].nunique()), round(quota, 2), basis)


__all__ = ["Capacity", "quota_capacity"]
