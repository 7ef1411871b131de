"""SLA clocks, the breach ledger and compliance, computed under the agreement version in force.

:func:`sla_items` is every clock of every clock-SLA (met, breached, overdue, at risk, open); :func:`sla_breaches`
is the **breach ledger**: one row per closed breach (entity, SLA, agreement version, responsible owner and team,
due, done, by how much). A closed breach depends only on ledger events up to its stop and on the version in force
when its clock started, and the ledger is append-only, so recomputing later only ever adds rows (a test holds
this). :func:`sla_compliance` counts the clocks per SLA, team and month: the compliance KPIs come from the SLA
objects themselves, so the threshold lives in the agreement and nowhere else.

Effective dating: each clock is computed under the version whose ``effective_from`` is on or before the day it
started (UTC), with that version's events, allowance and calendars.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from revalign.analytics.funnel.periods import as_timestamp
from revalign.analytics.sla.calendar import BusinessCalendar, Calendar, ContinuousCalendar
from revalign.analytics.sla.clocks import pull_clocks
from revalign.analytics.sla.status import STATUSES, version_status
from revalign.definitions.agreements.loader import AgreementBook
from revalign.definitions.agreements.spec import AgreementSpec
from revalign.model.access import Tables

ITEM_COLUMNS = (
    "sla",
    "agreement",
    "version",
    "entity_id",
    "owner_id",
    "team_id",
    "calendar",
    "started_at",
    "due_at",
    "stopped_at",
    "status",
    "elapsed_hours",
    "allowance_hours",
    "late_hours",
    "used_share",
)
BREACH_COLUMNS = (
    "sla",
    "agreement",
    "version",
    "entity_id",
    "owner_id",
    "team_id",
    "due_at",
    "done_at",
    "late_hours",
)


def data_as_of(tables: Tables) -> datetime:
    """The latest event time in the ledger: the default ``as_of`` (what the data knows, not the wall clock)."""
    led = tables.table("ledger")
    value = tables.execute(led.occurred_at.max())
    return pd.Timestamp(value).to_pydatetime() if value is not None and not pd.isna(value) else datetime(1970, 1, 1)


def _calendars(version: AgreementSpec, years: Sequence[int]) -> dict[str | None, Calendar]:
    out: dict[str | None, Calendar] = {None: ContinuousCalendar()}
    for name, spec in version.calendars.items():
        out[name] = BusinessCalendar.from_spec(spec, years)
    return out


def _windows(book: AgreementBook, name: str | None) -> list[tuple[AgreementSpec, datetime, datetime | None]]:
    """Each version with the instants it is in force: ``[effective_from, next version's effective_from)``."""
    hist = book.history(name)
    bounds = [datetime.combine(v.effective_from, dt.time()) for v in hist]
    return [(v, bounds[i], bounds[i + 1] if i + 1 < len(hist) else None) for i, v in enumerate(hist)]


def _clip(
    lo: datetime, hi: datetime | None, start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime | None]:
    lo = max(lo, start) if start is not None else lo
    hi = min(hi, end) if hi is not None and end is not None else (hi or end)
    return lo, hi


def sla_items(
    tables: Tables,
    book: AgreementBook,
    *,
    agreement: str | None = None,
    slas: Sequence[str] | None = None,
    start: object = None,
    end: object = None,
    as_of: object = None,
) -> pd.DataFrame:
    """Every clock started in ``[start, end)`` of every clock-SLA, with its status as of ``as_of``."""
    now = as_timestamp(as_of) or data_as_of(tables)
    lo_req, hi_req = as_timestamp(start), as_timestamp(end)
    parts = []
    for version, lo, hi in _windows(book, agreement):
        lo, hi = _clip(lo, hi, lo_req, hi_req)
        if (hi is not None and hi <= lo) or lo > now:
            continue
        years = range(lo.year - 1, now.year + 2)
        calendars = _calendars(version, years)
        for sla in version.slas:
            if sla.type != "clock" or (slas is not None and sla.name not in slas):
                continue
            clocks, pauses = pull_clocks(tables, sla, now, lo, hi)
            done = version_status(clocks, pauses, version, sla, calendars, now)
            parts.append(done.assign(sla=sla.name, agreement=version.agreement, version=version.version))
    if not parts:
        return pd.DataFrame(columns=list(ITEM_COLUMNS))
    items = pd.concat(parts, ignore_index=True)[list(ITEM_COLUMNS)]
    return items.sort_values(["sla", "started_at", "entity_id"], kind="stable").reset_index(drop=True)


def breach_ledger(items: pd.DataFrame) -> pd.DataFrame:
    """The closed breaches of ``items`` in the ledger's shape (``done_at`` = when the clock stopped)."""
    b = items[items["status"] == "breached"].rename(columns={"stopped_at": "done_at"})
    return b[list(BREACH_COLUMNS)].sort_values(["done_at", "sla", "entity_id"], kind="stable").reset_index(drop=True)


def sla_breaches(
    tables: Tables,
    book: AgreementBook,
    *,
    agreement: str | None = None,
    slas: Sequence[str] | None = None,
    owner: str | None = None,
    team: str | None = None,
    start: object = None,
    end: object = None,
    as_of: object = None,
) -> pd.DataFrame:
    """The breach ledger of clocks started in ``[start, end)``, optionally for one owner or team."""
    items = sla_items(tables, book, agreement=agreement, slas=slas, start=start, end=end, as_of=as_of)
    if owner is not None:
        items = items[items["owner_id"] == owner]
    if team is not None:
        items = items[items["team_id"] == team]
    return breach_ledger(items)


def compliance(items: pd.DataFrame, by: Sequence[str] = ("sla",), grain: str | None = "month") -> pd.DataFrame:
    """Counts per status and ``compliance_rate`` = met / (met + breached + overdue) per ``by`` and start period.

    Clocks still within their allowance (open, at risk) are not yet decided and stay out of the share.
    """
    keys = list(by)
    frame = items.copy()
    if grain is not None:
        frame["period"] = frame["started_at"].dt.to_period(grain[0].upper()).dt.start_time.dt.date
        keys = ["period", *keys]
    frame[keys] = frame[keys].astype(object).where(frame[keys].notna(), None)
    counts = pd.crosstab([frame[k].fillna("—") for k in keys], frame["status"]) if not frame.empty else None
    if counts is None:
        return pd.DataFrame(columns=[*keys, "started", *STATUSES, "compliance_rate"])
    counts = counts.reindex(columns=list(STATUSES), fill_value=0).astype("int64")
    counts.insert(0, "started", counts.sum(axis=1))
    decided = counts["met"] + counts["breached"] + counts["overdue"]
    counts["compliance_rate"] = (counts["met"] / decided.where(decided > 0)).astype("float64")
    return counts.reset_index().rename_axis(columns=None)


def sla_compliance(
    tables: Tables,
    book: AgreementBook,
    *,
    by: Sequence[str] = ("sla",),
    grain: str | None = "month",
    agreement: str | None = None,
    start: object = None,
    end: object = None,
    as_of: object = None,
) -> pd.DataFrame:
    """Compliance per SLA (and ``team_id``/``owner_id`` when in ``by``) per month of the clocks' start."""
    items = sla_items(tables, book, agreement=agreement, start=start, end=end, as_of=as_of)
    return compliance(items, by, grain)


__all__ = [
    "BREACH_COLUMNS",
    "ITEM_COLUMNS",
    "STATUSES",
    "breach_ledger",
    "compliance",
    "data_as_of",
    "sla_breaches",
    "sla_compliance",
    "sla_items",
]
