"""① The quarantine: every rejected input row, with the file, row, column, rule and value that rejected it.

Bad input never vanishes: a row that breaks a rule is written here (one line per broken rule) instead of into
the canonical tables, so ``loaded + quarantined = read`` holds for every file, and ``revalign check`` can show
the user exactly what to fix in their export.

Entries are never deleted. When a later load fixes what an entry reports, the entry is marked **resolved**
(``resolved_at``, and ``resolved_by`` = that load's id), so the history of what was wrong stays queryable while
``revalign check`` lists only what is still open:

- an entry whose row had a readable primary key (``key``) is resolved by a later load that writes a row with that
  key to the same table (the fixed row is present);
- an entry without one (a missing or unparseable key, a line with the wrong number of fields) is resolved by a
  later load of a newer export with the same file name, through the same mapping and target, that does not
  reject the same column's same value under the same rule.
"""

from __future__ import annotations

from datetime import datetime

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

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
        "key": "string",
        "resolved_at": "timestamp",
        "resolved_by": "string",
    }
)
"""``key``: the rejected row's primary key as text (parts joined by ``|``; null when unreadable).
``resolved_at`` / ``resolved_by``: when and by which load the entry was resolved (null while open)."""

ADDED = ("key", "resolved_at", "resolved_by")
"""Columns added after the first release: a project written before them is upgraded on its next load."""

KEY_SEPARATOR = "|"
_NULL = "\x00"


def _empty() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype="object") for name in SCHEMA.names})


def _table(engine: Engine) -> ibis.Table:
    """The stored quarantine with every column of ``SCHEMA`` (null where an older project lacks one)."""
    t = engine.table(TABLE)
    missing = {c: ibis.null(SCHEMA[c]) for c in ADDED if c not in t.columns}
    return t.mutate(**missing) if missing else t


def _open_only(t: ibis.Table, include_resolved: bool) -> ibis.Table:
    return t if include_resolved else t.filter(t.resolved_at.isnull())


def quarantined(engine: Engine, *, include_resolved: bool = False) -> pd.DataFrame:
    """Quarantined rows still open (or all, with ``include_resolved``), ordered by file, row and rule.

    An empty frame with the columns when nothing was ever quarantined.
    """
    if not engine.has_table(TABLE):
        return _empty()
    t = _open_only(_table(engine), include_resolved)
    frame = engine.execute(t.order_by([t.file, t.row, t.rule, t.column, t.quarantined_at]))
    return frame.reset_index(drop=True)


def quarantine_summary(engine: Engine, *, include_resolved: bool = False) -> pd.DataFrame:
    """Quarantined rows counted by file, table and rule (with one example row and value each).

    Open entries only, unless ``include_resolved``: then a ``status`` column (``open``/``resolved``) splits them.
    """
    keys = ["file", "table", "rule", "column", *(["status"] if include_resolved else [])]
    if not engine.has_table(TABLE):
        return pd.DataFrame(columns=[*keys, "rows", "first_row", "example_value"])
    t = _table(engine)
    t = _open_only(t, include_resolved).mutate(
        status=ibis.ifelse(t.resolved_at.isnull(), ibis.literal("open"), ibis.literal("resolved"))
    )
    expr = t.group_by(keys).agg(rows=t.row.nunique(), first_row=t.row.min(), example_value=t.value.min()).order_by(keys)
    return engine.execute(expr).reset_index(drop=True)


def write(engine: Engine, records: pd.DataFrame, *, exists: bool | None = None) -> None:
    """Append quarantine records (a frame with the columns of ``SCHEMA``); ``exists`` spares a catalog call."""
    present = engine.has_table(TABLE) if exists is None else exists
    if present:
        _upgrade(engine)
    if records.empty:
        if not present:
            engine.write(TABLE, SCHEMA.to_pyarrow().empty_table(), schema=SCHEMA)
        return
    engine.write(TABLE, _to_arrow(records), schema=SCHEMA, mode="append" if present else "overwrite")


def _to_arrow(frame: pd.DataFrame) -> pa.Table:
    """``frame`` in ``SCHEMA``'s column order and types; a column that is absent or all missing becomes typed nulls."""
    schema = SCHEMA.to_pyarrow()
    arrays = []
    for f in schema:
        if f.name not in frame.columns or frame[f.name].isna().all():
            arrays.append(pa.nulls(len(frame), f.type))
        else:
            arrays.append(pa.array(frame[f.name], from_pandas=True).cast(f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _upgrade(engine: Engine) -> None:
    """Rewrite a quarantine stored before ``key``/``resolved_*`` existed with those columns (all null)."""
    t = engine.table(TABLE)
    if all(c in t.columns for c in ADDED):
        return
    frame = engine.to_pyarrow(_table(engine)).to_pandas()
    engine.write(TABLE, _to_arrow(frame), schema=SCHEMA)


def resolve(
    engine: Engine,
    *,
    loaded: pd.DataFrame,
    reexported: pd.DataFrame,
    fresh: pd.DataFrame,
    load_id: str,
    now: datetime,
) -> int:
    """Mark open entries of earlier loads that load ``load_id`` fixed; returns how many were resolved.

    ``loaded``: (``table``, ``key``) of every row this load wrote. ``reexported``: (``mapping``, ``target``,
    ``file_name``) of every file this load read. ``fresh``: this load's own quarantine records. The rules are in
    the module docstring; the matching is a pair of vectorised semi-joins (pandas ``MultiIndex.isin``).
    """
    if not engine.has_table(TABLE):
        return 0
    t = _table(engine)
    still_open = t.filter(t.resolved_at.isnull() & (t.load_id != load_id))
    if not int(engine.execute(still_open.count())):
        return 0
    frame = engine.to_pyarrow(t).to_pandas().reindex(columns=list(SCHEMA.names))
    candidate = (frame["resolved_at"].isna() & (frame["load_id"] != load_id)).to_numpy()
    fixed = candidate & (_key_loaded(frame, loaded) | _not_repeated(frame, reexported, fresh))
    if not fixed.any():
        return 0
    frame["resolved_at"] = pd.to_datetime(frame["resolved_at"]).astype("datetime64[us]")
    frame["resolved_by"] = frame["resolved_by"].astype(object)
    frame.loc[fixed, "resolved_at"] = pd.Timestamp(now)
    frame.loc[fixed, "resolved_by"] = load_id
    engine.write(TABLE, _to_arrow(frame), schema=SCHEMA)
    return int(fixed.sum())


def _pairs(frame: pd.DataFrame, columns: list[str]) -> pd.MultiIndex:
    """Rows of ``columns`` as a MultiIndex of text, nulls as one marker (so a missing column matches itself)."""
    return pd.MultiIndex.from_frame(frame[columns].astype(object).fillna(_NULL).astype("str"))


def _file_names(paths: pd.Series) -> pd.Series:
    return paths.astype("str").str.replace(r"^.*[\\/]", "", regex=True)


def _key_loaded(frame: pd.DataFrame, loaded: pd.DataFrame) -> np.ndarray:
    """Entries whose rejected row's key this load wrote to the same table."""
    if loaded.empty:
        return np.zeros(len(frame), dtype=bool)
    has_key = frame["key"].notna().to_numpy()
    return has_key & _pairs(frame, ["table", "key"]).isin(_pairs(loaded, ["table", "key"]))


def _not_repeated(frame: pd.DataFrame, reexported: pd.DataFrame, fresh: pd.DataFrame) -> np.ndarray:
    """Key-less entries of a file this load re-read (same name, mapping, target) that it did not reject again."""
    if reexported.empty:
        return np.zeros(len(frame), dtype=bool)
    named = frame.assign(file_name=_file_names(frame["file"]))
    reread = _pairs(named, ["mapping", "target", "file_name"]).isin(
        _pairs(reexported, ["mapping", "target", "file_name"])
    )
    problem = ["mapping", "target", "file_name", "rule", "column", "value"]
    if fresh.empty:
        again = np.zeros(len(frame), dtype=bool)
    else:
        again = _pairs(named, problem).isin(_pairs(fresh.assign(file_name=_file_names(fresh["file"])), problem))
    return named["key"].isna().to_numpy() & reread & ~again
