"""⑤ How fresh the numbers are: when data was last loaded, and the latest day the data itself reaches.

Every page footer and the API say both, because they answer different questions: "did the nightly sync run?"
(the load time, from the load log) and "up to when do these numbers count?" (the latest time value of any
canonical table: a sync that ran but brought nothing new leaves it behind). One aggregate query over the tables
present; nothing is pulled but the maxima.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import pandas as pd

from revalign.model.access import Tables
from revalign.model.tables import TABLES
from revalign.sources.load.log import LOAD_LOG


@dataclass(frozen=True)
class Freshness:
    """The latest load (``None``: nothing was ever ingested) and the latest data time (``None``: no data)."""

    latest_load: dt.datetime | None
    latest_data: dt.datetime | None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "latest_load": self.latest_load.isoformat() if self.latest_load else None,
            "latest_data": self.latest_data.isoformat() if self.latest_data else None,
        }


def _stamp(value: object) -> dt.datetime | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(str(value)).to_pydatetime()


def data_freshness(tables: Tables) -> Freshness:
    """The latest ``loaded_at`` of the load log and the latest time value over the canonical tables present."""
    engine = tables.engine
    present = set(engine.con.list_tables())
    parts: list[ibis.Table] = []
    for name in sorted(TABLES):
        column = TABLES[name].time_column
        if name not in present or not column:
            continue
        t = engine.con.table(name)
        if column in t.columns:
            parts.append(t.aggregate(latest=t[column].cast("timestamp").max()))
    latest_data = None
    if parts:
        latest_data = _stamp(engine.execute(ibis.union(*parts).aggregate(latest=ibis._.latest.max()))["latest"].iloc[0])
    latest_load = None
    if LOAD_LOG in present:
        log = engine.con.table(LOAD_LOG)
        latest_load = _stamp(engine.execute(log.aggregate(latest=log.loaded_at.max()))["latest"].iloc[0])
    return Freshness(latest_load, latest_data)


__all__ = ["Freshness", "data_freshness"]
