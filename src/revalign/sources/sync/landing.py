"""① Where a sync's raw rows land: one table per Salesforce object in a schema of the project's engine, in the shape
Fivetran writes (``lead``, ``campaign_member``, lower-snake columns, ``_fivetran_synced``), so the shipped
``fivetran_salesforce`` mapping loads them exactly as it loads a Fivetran sync (``sources.warehouse``).

Each object's new and changed records are merged into its table by ``id`` (the newest version wins; a record the
API returns as deleted leaves the table), and the object's cursor — the newest ``SystemModstamp`` (or
``CreatedDate`` for history objects, which are never modified) it has seen — is written in the same transaction
as the rows. A sync stopped at any point therefore leaves every object either as before or fully merged with its
cursor: the next sync asks only for what is newer than the cursors, and merging a record twice is harmless.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from revalign.engine import Engine

CURSORS = "_revalign_sync_cursor"
"""The table (in the sync's schema) holding one cursor per object."""

CURSOR_SCHEMA = pa.schema(
    [("object", pa.string()), ("field", pa.string()), ("cursor", pa.timestamp("us")), ("rows", pa.int64()),
     ("synced_at", pa.timestamp("us"))]
)  # fmt: skip

_NUMBERS = {"double": pa.float64(), "currency": pa.float64(), "percent": pa.float64(), "int": pa.int64()}
_WORD = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def fivetran_name(api_name: str) -> str:
    """A Salesforce API name as Fivetran names its table or column: ``CampaignMember`` → ``campaign_member``,
    ``NumberOfEmployees`` → ``number_of_employees``, ``Segment__c`` → ``segment__c``."""
    return _WORD.sub("_", api_name).lower()


def records_table(records: list[dict[str, Any]], fields: Mapping[str, str], synced_at: datetime) -> pa.Table:
    """API records as a Fivetran-shaped table: columns in lower snake case, typed by the object's describe
    (datetimes as naive UTC), and ``_fivetran_synced``."""
    columns: dict[str, pa.Array] = {}
    for name, kind in fields.items():
        columns[fivetran_name(name)] = _typed([r.get(name) for r in records], kind)
    columns["_fivetran_synced"] = pa.array([synced_at] * len(records), pa.timestamp("us"))
    return pa.table(columns)


def _typed(values: list[Any], kind: str) -> pa.Array:
    """One field's JSON values as the Arrow type Fivetran gives its Salesforce type."""
    if kind == "datetime":
        stamps = pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
        return pa.array(stamps.dt.tz_convert(None), pa.timestamp("us"))
    if kind == "date":
        return pa.array(pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601").dt.date, pa.date32())
    if kind == "boolean":
        return pa.array(values, pa.bool_())
    if kind in _NUMBERS:
        return pa.array([None if v is None else float(v) for v in values]).cast(_NUMBERS[kind])
    return pa.array([None if v is None else str(v) for v in values], pa.string())


def merged(old: pa.Table | None, new: pa.Table) -> pa.Table:
    """``old`` with ``new``'s records replacing those of the same ``id`` (the last version wins), then without
    deleted records (``is_deleted`` true)."""
    table = new if old is None else pa.concat_tables([old, new], promote_options="permissive")
    order = pa.array(np.arange(table.num_rows))
    last = table.append_column("__n", order).group_by("id").aggregate([("__n", "max")])
    table = table.take(np.sort(last.column("__n_max").to_numpy()))
    if "is_deleted" in table.column_names:
        table = table.filter(pc.invert(pc.fill_null(table.column("is_deleted"), False)))
    return table


class RawStore:
    """The sync's schema in the project's engine: raw tables and cursors, written together."""

    def __init__(self, engine: Engine, schema: str) -> None:
        self.engine, self.schema = engine, schema
        if schema not in self.engine.con.list_databases():
            self.engine.con.create_database(schema)

    def tables(self) -> list[str]:
        return list(self.engine.con.list_tables(database=self.schema))

    def read(self, table: str) -> pa.Table | None:
        """The table as landed so far, or ``None`` before its first sync."""
        if table not in self.tables():
            return None
        return self.engine.con.table(table, database=self.schema).to_pyarrow()

    def cursors(self) -> pd.DataFrame:
        """One row per object synced so far: its cursor field, cursor, rows landed and when."""
        found = self.read(CURSORS)
        return (found if found is not None else CURSOR_SCHEMA.empty_table()).to_pandas().set_index("object")

    def cursor(self, sobject: str) -> datetime | None:
        """The newest cursor value landed for ``sobject`` (``None``: never synced, read everything)."""
        cursors = self.cursors()
        return None if sobject not in cursors.index else cursors.loc[sobject, "cursor"].to_pydatetime()

    def land(self, table: str, rows: pa.Table, sobject: str, field: str, cursor: datetime, synced_at: datetime) -> int:
        """Merge ``rows`` into ``table`` and move the object's cursor, in one transaction; the table's row count."""
        landed = merged(self.read(table), rows)
        cursors = self.cursors()
        cursors.loc[sobject] = {"field": field, "cursor": cursor, "rows": landed.num_rows, "synced_at": synced_at}
        state = pa.Table.from_pandas(cursors.reset_index(), schema=CURSOR_SCHEMA, preserve_index=False)
        with self.engine.transaction():
            self.engine.con.create_table(table, landed.combine_chunks(), database=self.schema, overwrite=True)
            self.engine.con.create_table(CURSORS, state, database=self.schema, overwrite=True)
        return landed.num_rows
