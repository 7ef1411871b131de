"""JSON-safe values for every interface: the server's JSON and CSV, and the CLI's ``--json``, say the same thing.

NaN, NaT and infinities become ``null`` (JSON has no such numbers), dates and timestamps ISO strings, numpy
scalars Python numbers; lists, tuples and dicts are converted item by item.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pandas as pd


def jsonable(value: Any) -> Any:
    """A JSON-safe scalar: NaN/NaT → None, timestamps → ISO strings, numpy scalars → Python."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, list | dict | str):  # numpy scalars (not our objects)
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def records(frame: pd.DataFrame, *, null_label: str | None = None) -> list[dict[str, Any]]:
    """A DataFrame as JSON-safe records (one dict per row, column names as keys).

    ``null_label``: the text that stands for "no value" in the frame's group columns (KPI results group a
    missing segment under ``"(none)"``, because engines group nulls differently) becomes ``null`` again: in
    JSON a missing value is null, not a word a script would have to know.
    """
    out = [{str(k): jsonable(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
    if null_label is not None:
        out = [{k: None if v == null_label else v for k, v in row.items()} for row in out]
    return out
