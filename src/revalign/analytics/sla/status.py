"""One SLA's clocks → per-clock status under one agreement version: met, breached, overdue, at risk or open.

- **met**: stopped with working time ≤ the allowance. A stop exactly on the due instant is met: the agreement
  says "within 24 hours", and 24:00:00 is within (the simulator's breach is likewise ``delay > 24 h``).
- **breached**: stopped after the allowance ran out; ``late_hours`` says by how much (working hours).
- **overdue**: still running past its due instant (breached, but not closed: it enters the ledger when done).
- **at risk**: still running with at least ``at_risk`` (a share) of the allowance used.
- **open**: still running, within the allowance and below the at-risk share.

Pauses stop the clock: the working time inside a pause is not counted, and a pause that starts before the due
instant pushes it back by the pause's working length (pauses are merged when they overlap).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import numpy as np
import pandas as pd

from revalign.analytics.sla.calendar import Calendar
from revalign.definitions.agreements.spec import AgreementSpec, SlaSpec

STATUSES = ("met", "breached", "overdue", "at_risk", "open")


def _pause_seconds(
    clocks: pd.DataFrame, pauses: pd.DataFrame, cal: Calendar, as_of: datetime
) -> tuple[np.ndarray, pd.DataFrame]:
    """Per clock: total working seconds paused; and per pause: its start ``F`` and working length."""
    if pauses.empty:
        return np.zeros(len(clocks)), pauses.assign(f_ps=[], dur=[], pos=[])
    pos = pd.Series(np.arange(len(clocks)), index=pd.MultiIndex.from_frame(clocks[["entity_id", "started_at"]]))
    p = pauses.assign(pos=pos.reindex(pd.MultiIndex.from_frame(pauses[["entity_id", "started_at"]])).to_numpy())
    p = p.dropna(subset=["pos"]).astype({"pos": "int64"}).sort_values(["pos", "paused_at"])
    ref = clocks["stopped_at"].fillna(pd.Timestamp(as_of)).to_numpy()[p["pos"].to_numpy()]
    ends = np.minimum(p["resumed_at"].fillna(pd.Timestamp(as_of)).to_numpy(), ref)
    starts = p["paused_at"].to_numpy()
    # overlapping pauses merge: a pause starts no earlier than every earlier pause of its clock has ended
    g = p["pos"].to_numpy()
    prev_end = pd.Series(ends, index=p.index).groupby(g).cummax().groupby(g).shift().to_numpy()
    starts = np.where(np.isnat(prev_end), starts, np.maximum(starts, prev_end))
    f_ps, f_pe = cal.working_seconds(starts), cal.working_seconds(ends)
    p = p.assign(f_ps=f_ps, dur=np.clip(f_pe - f_ps, 0.0, None))
    total = np.bincount(p["pos"].to_numpy(), weights=p["dur"].to_numpy(), minlength=len(clocks))
    return total, p


def _due(f0: np.ndarray, allowance: float, p: pd.DataFrame) -> np.ndarray:
    """Working-seconds position of each clock's due instant, pushed back by the pauses that start before it."""
    x = f0 + allowance
    if p.empty:
        return x
    g = p["pos"].to_numpy()
    before = p.groupby(g)["dur"].cumsum().to_numpy() - p["dur"].to_numpy()
    inside = pd.Series(p["f_ps"].to_numpy() < x[g] + before).groupby(g).cummin().to_numpy()
    return x + np.bincount(g, weights=np.where(inside, p["dur"].to_numpy(), 0.0), minlength=len(x))


def clock_status(
    clocks: pd.DataFrame,
    pauses: pd.DataFrame,
    sla: SlaSpec,
    cal: Calendar,
    as_of: datetime,
) -> pd.DataFrame:
    """``clocks`` (one calendar) with ``due_at, status, elapsed_hours, allowance_hours, late_hours, used_share``."""
    assert sla.within is not None
    allowance = sla.within.allowance(cal.day_seconds / 3600.0)
    f0 = cal.working_seconds(clocks["started_at"])
    stopped = clocks["stopped_at"].notna().to_numpy()
    ref = clocks["stopped_at"].fillna(pd.Timestamp(as_of))
    paused, p = _pause_seconds(clocks, pauses, cal, as_of)
    elapsed = cal.working_seconds(ref) - f0 - paused
    late = elapsed > allowance
    used = elapsed / allowance
    status = np.select(
        [stopped & ~late, stopped & late, late, used >= sla.at_risk],
        ["met", "breached", "overdue", "at_risk"],
        "open",
    )
    return clocks.assign(
        due_at=cal.instant(_due(f0, allowance, p)),
        status=status,
        elapsed_hours=elapsed / 3600.0,
        allowance_hours=allowance / 3600.0,
        late_hours=np.where(late, (elapsed - allowance) / 3600.0, 0.0),
        used_share=used,
    )


def version_status(
    clocks: pd.DataFrame,
    pauses: pd.DataFrame,
    version: AgreementSpec,
    sla: SlaSpec,
    calendars: Mapping[str | None, Calendar],
    as_of: datetime,
) -> pd.DataFrame:
    """Every clock of ``sla`` under ``version``, each on its calendar (the owner team's, a named one, or 24/7)."""
    names = [version.calendar_of(sla, t if isinstance(t, str) else None) for t in clocks["team_id"]]
    clocks = clocks.assign(calendar=names)
    parts = []
    for name, group in clocks.groupby("calendar", dropna=False, sort=True):
        key = None if pd.isna(name) else str(name)
        group = group.reset_index(drop=True)
        mine = pauses.merge(group[["entity_id", "started_at"]], on=["entity_id", "started_at"])
        parts.append(clock_status(group, mine, sla, calendars[key], as_of))
    if not parts:
        return clocks.assign(
            due_at=pd.NaT, status="", elapsed_hours=0.0, allowance_hours=0.0, late_hours=0.0, used_share=0.0
        )
    return pd.concat(parts, ignore_index=True)


__all__ = ["STATUSES", "clock_status", "version_status"]
