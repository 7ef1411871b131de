"""① The quarantine: every rejected input row, with the file, row, column, rule and value that rejected it.

Bad input never vanishes: a row that breaks a rule is written here (one line per broken rule) instead of into
the canonical tables, so ``loaded + quarantined = read`` holds for every file, and ``revalign check`` can show
the user exactly what to fix in their export.
"""

from __future__ import annotations

import ibis
import pandas as pd

from revalign.engine import Engine

TABLE = "_quarantine"
SCHEMA = ibis.schema(
    {
        "load_id": "string",
        "mapping": "string",
        "file": "string",
        "target": "string",
        "table": "string",
        "row": "int64",
        "column": "string",
        "rule": "string",
        "value": "string",
        "message": "string",
        "quarantined_at": "timestamp",
    }
)


def quarantined(engine: Engine) -> pd.DataFrame:
    """Every quarantined row, ordered by file, row and rule (empty, with the columns, when nothing was)."""
    if not engine.has_table(TABLE):
        return pd.DataFrame({name: pd.Series(dtype="object") for name in SCHEMA.names})
    t = engine.table(TABLE)
    frame = engine.execute(t.order_by([t.file, t.row, t.rule, t.column]))
    return frame.reset_index(drop=True)


def quarantine_summary(engine: Engine) -> pd.DataFrame:
    """Quarantined rows counted by file, table and rule (with one example row and value each)."""
    if not engine.has_table(TABLE):
        return pd.DataFrame(columns=["file", "table", "rule", "column", "rows", "first_row", "example_value"])
    t = engine.table(TABLE)
    expr = (
        t.group_by([t.file, t.table, t.rule, t.column])
        .agg(rows=t.row.nunique(), first_row=t.row.min(), example_value=t.value.min())
        .order_by(["file", "table", "rule", "column"])
    )
    return engine.execute(expr).reset_index(drop=True)


def write(engine: Engine, records: pd.DataFrame, *, exists: bool | None = None) -> None:
    """Append quarantine records (a frame with the columns of ``SCHEMA``); ``exists`` spares a catalog call."""
    if records.empty:
        if not (engine.has_table(TABLE) if exists is None else exists):
            engine.write(TABLE, SCHEMA.to_pyarrow().empty_table(), schema=SCHEMA)
        return
    present = engine.has_table(TABLE) if exists is None else exists
    engine.write(TABLE, records[list(SCHEMA.names)], schema=SCHEMA, mode="append" if present else "overwrite")
