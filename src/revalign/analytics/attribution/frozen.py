"""Frozen credit: every model's credit for a closed period, stored once in the engine and read back after.

Closing a quarter freezes its credit (:func:`~revalign.analytics.attribution.record.freeze_period`); later
comparisons for exactly the same period and setting read the stored rows instead of recomputing, so
late-arriving touches or a re-mapped channel cannot move last quarter's commission or board numbers. The rows
live in the table ``_attribution_frozen`` of the project's engine, append-only.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd

from revalign.engine import Engine

FROZEN_TABLE = "_attribution_frozen"
FROZEN_SCHEMA = ibis.schema(
    {
        "period": "string",
        "start": "string",
        "end": "string",
        "conversion": "string",
        "lookback_days": "int64",
        "by": "string",
        "model": "string",
        "key": "string",
        "conversions": "float64",
        "revenue": "float64",
        "frozen_at": "timestamp",
    }
)


def iso(value: dt.date | dt.datetime | str | None) -> str:
    """A period bound as stored: an ISO date (a datetime at midnight is its date), ``""`` for no bound."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    return value.isoformat()


class FrozenCredit:
    """The frozen-credit store of one engine: look a period's credit up, append a newly frozen period."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __repr__(self) -> str:
        return f"<FrozenCredit in {FROZEN_TABLE} on {self.engine!r}>"

    def lookup(
        self,
        *,
        conversion: str,
        lookback_days: int,
        by: str,
        start: dt.date | dt.datetime | str | None,
        end: dt.date | dt.datetime | str | None,
    ) -> pd.DataFrame | None:
        """The frozen credit rows for exactly this period and setting, or ``None`` when nothing was frozen."""
        if not self.engine.has_table(FROZEN_TABLE):
            return None
        t = self.engine.table(FROZEN_TABLE)
        t = t.filter(
            (t.start == iso(start))
            & (t.end == iso(end))
            & (t.conversion == conversion)
            & (t.lookback_days == int(lookback_days))
            & (t["by"] == by)
        )
        rows = self.engine.execute(t)
        return None if rows.empty else rows

    def append(self, rows: pd.DataFrame) -> None:
        """Store newly frozen rows (columns of :data:`FROZEN_SCHEMA`)."""
        self.engine.write(FROZEN_TABLE, rows, schema=FROZEN_SCHEMA, mode="append")
