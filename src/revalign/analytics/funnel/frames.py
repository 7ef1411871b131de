"""Result frames as JSON-safe records (NaN → null, dates → ISO strings) for the API and ``--json``."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pandas as pd


def jsonable(value: Any) -> Any:
    """A JSON-safe scalar: dates as ISO strings, numpy scalars as Python ones, NaN/NaT/NA as ``None``.

    ``FunnelResult.to_dict`` must survive ``json.dumps`` (the API and ``--json`` print it), which rejects
    timestamps and numpy integers and would write NaN, which is not JSON.
    """
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame as a list of JSON-safe dicts."""
    return [{k: jsonable(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
