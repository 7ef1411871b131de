"""① Fivetran history mode: a table that keeps every version of every record, read as current state plus exact changes.

With history mode on, Fivetran never overwrites a row: each change of a record closes its current version
(``_fivetran_end``) and adds a new one from ``_fivetran_start``, flagged ``_fivetran_active``. Such a table holds
two things revalign wants, and the loader reads them as two sources of the same table:

- the **current state**: only the active versions (``active_rows``), so a record is loaded once, as it is now;
- the **changes**: every version-to-version change of a tracked field (``diff.TRACKED``: lead source, owner,
  lifecycle, stage, amount, close date, …) as one field-history row: record, field, old value, new value, who
  (the target's ``modified_by`` column of the newer version) and when (its ``_fivetran_start``). The rows go
  through :mod:`revalign.sources.load.history` exactly like Salesforce's ``OpportunityFieldHistory``, so the
  same change recorded by a field-history table too has the same ledger event id and is stored once.

A record's first version is not a change (what it was created with): like a CRM's field history, history mode
says what changed, and the ``events:`` of the target still say when a record appeared. A table is in history
mode when it has ``_fivetran_active`` (detected, nothing to configure); ``history_mode: false`` on a target keeps
reading its active rows but derives no changes (for a table whose versions are not edits, e.g. a re-keyed sync).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from revalign.model.tables import canonical_table
from revalign.sources.load.diff import ENTITY_TYPES, TRACKED
from revalign.sources.mapping import HistoryField, HistorySpec, TargetSpec

ACTIVE = "_fivetran_active"
START = "_fivetran_start"
VERSION_COLUMNS = ("record_id", "field", "old_value", "new_value", "changed_by", "changed_at")
"""The columns of the change rows derived from a history-mode table (the history spec below reads them)."""


def in_history_mode(arrow: pa.Table) -> bool:
    """Fivetran adds ``_fivetran_active`` (with ``_fivetran_start``/``_fivetran_end``) to a history-mode table."""
    return ACTIVE in arrow.column_names and START in arrow.column_names


def active_rows(arrow: pa.Table) -> pa.Table:
    """The versions that are current (``_fivetran_active`` true; a text column reads ``true``/``t``/``1``)."""
    flags = arrow.column(ACTIVE)
    if not pa.types.is_boolean(flags.type):
        flags = pc.is_in(pc.utf8_lower(pc.cast(flags, pa.string())), pa.array(["true", "t", "1"]))
    return arrow.filter(pc.fill_null(flags, False))


def tracked_columns(target: TargetSpec) -> dict[str, HistoryField]:
    """Source column → the tracked canonical field it fills (with its value map), for a target's versions."""
    tracked = TRACKED.get(target.table, {})
    fields: dict[str, HistoryField] = {}
    for name, spec in target.columns.items():
        if name in tracked and spec.from_ is not None and spec.when is None:
            fields.setdefault(spec.from_.lower(), HistoryField(name=name, values=spec.values))
    return fields


def versions_target(target: TargetSpec) -> TargetSpec | None:
    """The history target that reads ``target``'s table's version changes; None when there is nothing to derive
    (not a record table, not an upsert, ``history_mode: false``, or no tracked field mapped)."""
    if target.table not in ENTITY_TYPES or target.mode != "upsert" or not target.history_mode:
        return None
    fields = tracked_columns(target)
    if not fields:
        return None
    spec = HistorySpec(
        entity=ENTITY_TYPES[target.table],
        id="record_id",
        field="field",
        old_value="old_value",
        new_value="new_value",
        changed_by="changed_by",
        changed_at="changed_at",
        fields=fields,
    )
    return TargetSpec(name=f"{target.name}_versions", tables=target.tables, table="ledger", mode="append", history=spec)


def version_changes(arrow: pa.Table, target: TargetSpec, text: pa.Table) -> pa.Table:
    """Every change of a tracked field between consecutive versions of a record, as field-history text rows.

    ``arrow`` is the typed table (its ``_fivetran_start`` orders versions exactly), ``text`` the same rows as text
    cells (values compared and written as the loader reads them).
    """
    key = target.columns[_key(target)].from_
    assert key is not None, "an upsert target maps its key from a column"
    fields = [c for c in text.column_names if c.lower() in tracked_columns(target)]
    frame = text.select([key, START, *fields]).to_pandas()
    frame["_order"] = pd.to_datetime(arrow.column(START).to_pandas(), utc=True).to_numpy()
    by = target.modified_by
    frame["_by"] = text.column(by).to_pandas() if by is not None and by in text.column_names else None
    frame = frame.sort_values([key, "_order"], kind="stable").reset_index(drop=True)
    same_record = (frame[key] == frame[key].shift()).to_numpy()
    parts = []
    for column in fields:
        before = frame[column].shift()
        changed = same_record & ~_same(frame[column], before)
        rows = frame[changed]
        parts.append(
            pd.DataFrame(
                {
                    "record_id": rows[key],
                    "field": column,
                    "old_value": before[changed],
                    "new_value": rows[column],
                    "changed_by": rows["_by"],
                    "changed_at": rows[START],
                }
            )
        )
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(VERSION_COLUMNS))
    cells = {c: out[c].astype(object).where(out[c].notna(), None) for c in VERSION_COLUMNS}
    return pa.table({c: pa.array(v, pa.string()) for c, v in cells.items()})


def _key(target: TargetSpec) -> str:
    """The canonical key column of a record table (leads, opportunities, accounts: one column each)."""
    return canonical_table(target.table).primary_key[0]


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Equal text, or both missing."""
    return ((a == b) | (a.isna() & b.isna())).to_numpy(dtype=bool)
