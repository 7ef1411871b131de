"""The simulated company as Fivetran syncs Salesforce with history mode on: ``lead`` and ``opportunity`` keep one row
per version of each record, and there are no field-history tables.

Each record's versions are rebuilt from the simulator's ledger: the first from its creation (the tracked fields
hold the old value of their first change), then one version per instant at which something changed, with the new
values, its author as ``last_modified_by_id`` and ``_fivetran_start`` the instant of the change. The last version is
the current row of :func:`salesforce_tables` and the only one ``_fivetran_active``; every other version ends one
millisecond before the next starts (``_fivetran_end``), as Fivetran writes them.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
from tests.sources.warehouse.salesforce import CHANNEL, STAGE, STATUS, history_events, salesforce_tables

from revalign.simulate import SimulatedCompany

END_OF_TIME = pd.Timestamp("9999-12-31 23:59:59.999", tz="UTC")
LEAD_COLUMNS = {
    "lifecycle": ("status", STATUS),
    "lead_source": ("lead_source", CHANNEL),
    "owner_id": ("owner_id", None),
}
OPPORTUNITY_COLUMNS = {
    "stage": ("stage_name", STAGE),
    "lead_source": ("lead_source", CHANNEL),
    "owner_id": ("owner_id", None),
    "amount": ("amount", None),
    "close_date": ("close_date", None),
}


def history_mode_tables(company: SimulatedCompany) -> dict[str, pa.Table]:
    """Every table of :func:`salesforce_tables`, ``lead`` and ``opportunity`` with all their versions, no history."""
    tables = salesforce_tables(company)
    changes = history_events(company.tables["ledger"].to_pandas())
    out = {name: t for name, t in tables.items() if not name.endswith("history")}
    out["lead"] = _versions(tables["lead"], changes[changes["entity_type"] == "lead"], LEAD_COLUMNS)
    out["opportunity"] = _versions(
        tables["opportunity"], changes[changes["entity_type"] == "opportunity"], OPPORTUNITY_COLUMNS
    )
    return out


def _same(a: object, b: object) -> bool:
    return bool((pd.isna(a) and pd.isna(b)) or a == b)


def _typed(field: str, text: object, labels: dict[str, str] | None) -> object:
    """A ledger value of ``field`` as the table's cell: its picklist label, a number, a date."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return None
    if field == "amount":
        return float(str(text))
    if field == "close_date":
        return pd.Timestamp(str(text)).date()
    return labels.get(str(text), str(text)) if labels is not None else str(text)


def _versions(current: pa.Table, ev: pd.DataFrame, columns: dict[str, tuple[str, dict[str, str] | None]]) -> pa.Table:
    frame = versions(current, ev, columns)
    if "stage_name" in frame:
        frame["is_closed"] = frame["stage_name"].isin(["Closed Won", "Closed Lost"])
        frame["is_won"] = frame["stage_name"] == "Closed Won"
    schema = current.schema.append(pa.field("last_modified_by_id", pa.string()))
    for name, kind in [("_fivetran_start", pa.timestamp("us", "UTC")), ("_fivetran_end", pa.timestamp("us", "UTC"))]:
        schema = schema.append(pa.field(name, kind))
    schema = schema.append(pa.field("_fivetran_active", pa.bool_()))
    modified = schema.get_field_index("last_modified_date")
    schema = schema.set(modified, pa.field("last_modified_date", pa.timestamp("us")))
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)


def versions(
    current: pa.Table,
    ev: pd.DataFrame,
    columns: dict[str, tuple[str, dict[str, str] | None]],
    *,
    key: str = "id",
    created: str = "created_date",
    modified: str = "last_modified_date",
) -> pd.DataFrame:
    """Every version of every record of ``current`` replayed from the ledger events ``ev`` (see the module), with
    ``_fivetran_start``/``_fivetran_end``/``_fivetran_active`` and the author as ``last_modified_by_id``."""
    rows = {row[key]: row for row in current.to_pandas().to_dict("records")}
    field = ev["name"].where(ev["kind"] == "field", ev["kind"])
    ev = ev.assign(field=field).sort_values(["entity_id", "occurred_at"], kind="stable")
    by_record: dict[str, list[tuple[pd.Timestamp, str, object, object, object]]] = {}
    for e in ev[["entity_id", "occurred_at", "field", "old_value", "new_value", "actor_id"]].itertuples(index=False):
        by_record.setdefault(e.entity_id, []).append((e.occurred_at, e.field, e.old_value, e.new_value, e.actor_id))
    out: list[dict[str, object]] = []
    for record, row in rows.items():
        state = {**row, "last_modified_by_id": None, modified: row[created]}
        state["_fivetran_start"] = row[created]
        changes = by_record.get(record, [])
        for _, name, old, _, _ in reversed(changes):  # each field starts at the old value of its first change
            column, labels = columns[name]
            state[column] = _typed(name, old, labels)
        history = [state]
        for at, name, _, new, actor in changes:
            if at != history[-1]["_fivetran_start"] or len(history) == 1:
                history.append({**history[-1], "_fivetran_start": at, modified: at})
                history[-1]["last_modified_by_id"] = None
            column, labels = columns[name]
            history[-1][column] = _typed(name, new, labels)
            if history[-1]["last_modified_by_id"] is None and isinstance(actor, str):
                history[-1]["last_modified_by_id"] = actor
        final = {column: row[column] for column, _ in columns.values()}
        if any(not _same(history[-1][c], v) for c, v in final.items()):
            history[-1].update(final)  # set without a ledger event (a deal's close date when it closes)
        out += history
    frame = pd.DataFrame(out)
    frame["_fivetran_start"] = pd.to_datetime(frame["_fivetran_start"]).dt.tz_localize("UTC")
    frame = frame.sort_values([key, "_fivetran_start"], kind="stable").reset_index(drop=True)
    following = frame.groupby(key)["_fivetran_start"].shift(-1)
    frame["_fivetran_active"] = following.isna()
    frame["_fivetran_end"] = (following - pd.Timedelta(milliseconds=1)).fillna(END_OF_TIME)
    frame[modified] = pd.to_datetime(frame[modified])
    frame["last_modified_by_id"] = frame["last_modified_by_id"].astype(object)
    return frame
