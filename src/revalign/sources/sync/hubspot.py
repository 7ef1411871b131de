"""① ``revalign sync hubspot``: copy a HubSpot portal's CRM objects into the project and load them.

One sync, object by object (:data:`~revalign.sources.sync.config.HUBSPOT_OBJECTS`):

1. **owners** and the **deal pipelines** with their stages: small, read whole; landed when one changed since the
   cursor (``updatedAt``);
2. **companies, contacts, deals**: the search API lists the records modified after the object's cursor
   (``hs_lastmodifieddate``, contacts ``lastmodifieddate``), oldest first, page after page (``after``); a batch read
   then fetches them with every property and, for contacts and deals, the full history of the properties the
   mapping reads as ledger events (``propertiesWithHistory``); deals bring their associations with companies and
   contacts (v4 associations);
3. **archived records** (deleted in HubSpot; search never returns them) come from the list API with
   ``archived=true``; the ones archived after their cursor are removed from the raw tables, history and
   associations included;
4. each object's tables and its cursor land in one transaction, as Fivetran's HubSpot connector shapes them
   (``contact``, ``contact_property_history``, ``deal``, ``deal_company``, …: properties as ``property_<name>``).

Then the landed tables load through the shipped ``fivetran_hubspot`` mapping with
:func:`~revalign.sources.warehouse.ingest_tables`, the code path of a Fivetran sync read in place. A second sync
with nothing new lands nothing, so the load skips every table; a sync stopped half-way resumes from the objects
it finished and converges to the same tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from revalign.sources.load.pipeline import ProjectLike
from revalign.sources.sync.config import HUBSPOT_OBJECTS, HubSpotConfig, hubspot_config
from revalign.sources.sync.hubspot_client import HubSpotClient, Record
from revalign.sources.sync.landing import CURSOR_SCHEMA, CURSORS, RawStore, records_table
from revalign.sources.sync.salesforce import ObjectSync, Progress, SyncReport
from revalign.sources.warehouse import ingest_tables

MAPPING = "fivetran_hubspot"
SOURCE_NAME = "hubspot sync"

KINDS = {"number": "double", "datetime": "datetime", "date": "date", "bool": "boolean"}
"""HubSpot property types → the landing's types (every other type — string, enumeration, phone number — is text)."""

HISTORY_COLUMNS = {"name": "string", "value": "string", "timestamp": "datetime", "source": "string",
                   "source_id": "string"}  # fmt: skip


@dataclass(frozen=True)
class Association:
    """Associations of an object's records with another object's, landed as ``table`` (``key``, ``column``)."""

    to_type: str
    table: str
    column: str


@dataclass(frozen=True)
class RecordObject:
    """A CRM object synced by search + batch read, and how Fivetran lands it."""

    name: str
    table: str
    key: str
    cursor_property: str
    deleted: str
    """Fivetran's deleted flag for the table (``is_deleted``, contacts ``_fivetran_deleted``)."""
    history: tuple[str, ...] = ()
    """Properties whose history is read: the ones ``fivetran_hubspot`` turns into ledger events."""
    columns: tuple[tuple[str, str], ...] = ()
    """Properties Fivetran lands in a column of their own (deals: stage, pipeline, owner) as well."""
    associations: tuple[Association, ...] = ()

    @property
    def history_table(self) -> str:
        return f"{self.table}_property_history"

    @property
    def history_key(self) -> str:
        return f"{self.table}_id"


RECORDS = {
    "companies": RecordObject("companies", "company", "id", "hs_lastmodifieddate", "is_deleted"),
    "contacts": RecordObject(
        "contacts", "contact", "id", "lastmodifieddate", "_fivetran_deleted",
        history=("lifecyclestage", "hs_analytics_source", "hubspot_owner_id"),
    ),
    "deals": RecordObject(
        "deals", "deal", "deal_id", "hs_lastmodifieddate", "is_deleted",
        history=("dealstage", "amount", "closedate", "hubspot_owner_id"),
        columns=(("dealstage", "deal_pipeline_stage_id"), ("pipeline", "deal_pipeline_id"),
                 ("hubspot_owner_id", "owner_id")),
        associations=(Association("companies", "deal_company", "company_id"),
                      Association("contacts", "deal_contact", "contact_id")),
    ),
}  # fmt: skip


class HubSpotStore(RawStore):
    """The sync's schema: an object's tables (record, history, associations) and its cursor land together."""

    def land_object(self, parts: Sequence[tuple[str, pa.Table, str, pa.Array]], name: str, field: str,
                    cursor: datetime, synced_at: datetime) -> dict[str, int]:  # fmt: skip
        """Each ``(table, rows, key, ids)``: the table without the rows whose ``key`` is in ``ids``, plus ``rows``
        (deleted ones dropped); then the cursor; all in one transaction. The tables' row counts."""
        landed = {table: replaced(self.read(table), rows, key, ids) for table, rows, key, ids in parts}
        cursors = self.cursors()
        cursors.loc[name] = {"field": field, "cursor": cursor, "rows": next(iter(landed.values())).num_rows,
                             "synced_at": synced_at}  # fmt: skip
        state = pa.Table.from_pandas(cursors.reset_index(), schema=CURSOR_SCHEMA, preserve_index=False)
        with self.engine.transaction():
            for table, rows in landed.items():
                self.engine.con.create_table(table, rows.combine_chunks(), database=self.schema, overwrite=True)
            self.engine.con.create_table(CURSORS, state, database=self.schema, overwrite=True)
        return {table: rows.num_rows for table, rows in landed.items()}


def replaced(old: pa.Table | None, new: pa.Table, key: str, ids: pa.Array) -> pa.Table:
    """``old`` without the rows whose ``key`` is in ``ids``, then ``new`` without deleted rows (a record read again
    replaces every row it had: its history and associations come whole with it)."""
    if old is not None:
        kept = old.filter(pc.invert(pc.is_in(old.column(key), value_set=ids.cast(old.schema.field(key).type))))
        new = pa.concat_tables([kept, new], promote_options="permissive")
    for flag in ("is_deleted", "_fivetran_deleted"):
        if flag in new.column_names:
            new = new.filter(pc.invert(pc.fill_null(new.column(flag), False)))
    return new


def sync_hubspot(
    project: ProjectLike,
    *,
    config: HubSpotConfig | None = None,
    client: HubSpotClient | None = None,
    objects: Sequence[str] = HUBSPOT_OBJECTS,
    load: bool = True,
    progress: Progress | None = None,
) -> SyncReport:
    """Sync ``objects`` from the portal ``config`` (default: ``sync.hubspot`` of the project's settings and the
    ``HUBSPOT_*`` environment) into the project, then load them (unless ``load`` is false).

    Raises :class:`~revalign.errors.ConfigError` for missing credentials (naming the variables) and
    :class:`~revalign.sources.sync.client.SyncError` when the API cannot be read; objects finished before the
    error keep their rows and cursors.
    """
    config = config or hubspot_config(project.settings.sync.get("hubspot"))
    client = client or HubSpotClient(config)
    store = HubSpotStore(project.engine, config.schema_)
    synced_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    done: list[ObjectSync] = []
    for name in objects:
        if name == "owners":
            done.append(sync_owners(client, store, synced_at))
        elif name == "pipelines":
            done.append(sync_pipelines(client, store, synced_at))
        else:
            done += sync_records(client, store, RECORDS[name], synced_at, progress)
    report = None
    if load:
        report = ingest_tables(project, MAPPING, schema=config.schema_, source_name=SOURCE_NAME)
    return SyncReport(tuple(done), client.sign_ins, report)


# -- records: companies, contacts, deals -------------------------------------------------------------------------------
def sync_records(client: HubSpotClient, store: HubSpotStore, obj: RecordObject, synced_at: datetime,
                 progress: Progress | None = None) -> list[ObjectSync]:  # fmt: skip
    """The records modified since the cursor, then those archived since the other cursor."""
    types = client.properties(obj.name)
    before = store.cursor(obj.name)
    ids: dict[str, None] = {}
    stamps: list[Any] = []
    pages = 0
    for page in client.changed(obj.name, obj.cursor_property, before):
        pages += 1
        for record in page:
            ids[str(record["id"])] = None
            stamps.append((record.get("properties") or {}).get(obj.cursor_property))
        if progress is not None:
            progress(obj.name, len(ids))
    changed = _landed(client, store, obj, types, list(ids), synced_at, before, _newest(stamps), pages)
    return [changed, _archived(client, store, obj, types, synced_at)]


def _landed(
    client: HubSpotClient, store: HubSpotStore, obj: RecordObject, types: dict[str, str], ids: list[str],
    synced_at: datetime, before: datetime | None, after: datetime | None, pages: int,
) -> ObjectSync:  # fmt: skip
    if not ids or after is None:
        return ObjectSync(
            obj.name, obj.table, obj.cursor_property, before, before, pages, 0, 0, _rows(store, obj.table)
        )
    records = client.read(obj.name, ids, list(types), obj.history)
    parts = _parts(client, obj, types, records, synced_at)
    rows = store.land_object(parts, obj.name, obj.cursor_property, after, synced_at)
    return ObjectSync(obj.name, obj.table, obj.cursor_property, before, after, pages, len(records), 0, rows[obj.table])


def _archived(client: HubSpotClient, store: HubSpotStore, obj: RecordObject, types: dict[str, str],
              synced_at: datetime) -> ObjectSync:  # fmt: skip
    name = f"{obj.name} (archived)"
    before = store.cursor(name)
    gone: list[Record] = []
    pages = 0
    for page in client.archived(obj.name):
        pages += 1
        gone += [r for r in page if before is None or _stamp(r.get("archivedAt")) > before]
    if not gone or obj.table not in store.tables():
        return ObjectSync(name, obj.table, "archivedAt", before, before, pages, 0, 0, _rows(store, obj.table))
    after = _newest([r.get("archivedAt") for r in gone])
    parts = _parts(client, obj, types, gone, synced_at, associations=False)
    rows = store.land_object(parts, name, "archivedAt", after or synced_at, synced_at)
    return ObjectSync(name, obj.table, "archivedAt", before, after, pages, len(gone), len(gone), rows[obj.table])


def _parts(client: HubSpotClient, obj: RecordObject, types: dict[str, str], records: list[Record],
           synced_at: datetime, associations: bool = True) -> list[tuple[str, pa.Table, str, pa.Array]]:  # fmt: skip
    """The object's tables for ``records``: ``(table, rows, key, ids replaced)``."""
    ids = pa.array([str(r["id"]) for r in records], pa.string())
    parts = [(obj.table, record_rows(obj, types, records, synced_at), obj.key, ids)]
    if obj.history:
        live = [] if not associations else records  # an archived record's history leaves with it
        parts.append((obj.history_table, history_rows(obj, live, synced_at), obj.history_key, ids))
    for link in obj.associations:
        found = client.associations(obj.name, link.to_type, ids.to_pylist()) if associations else {}
        rows = [{obj.history_key: i, link.column: to} for i in ids.to_pylist() for to in found.get(i, [])]
        fields = {obj.history_key: "string", link.column: "string"}
        parts.append((link.table, records_table(rows, fields, synced_at), obj.history_key, ids))
    return parts


def record_rows(obj: RecordObject, types: dict[str, str], records: list[Record], synced_at: datetime) -> pa.Table:
    """Records as Fivetran's table: the id, ``property_<name>`` per property (typed by its definition), the
    columns of their own, and the deleted flag."""
    fields = {obj.key: "string", **{f"property_{p}": KINDS.get(kind, "string") for p, kind in types.items()}}
    fields |= {column: KINDS.get(types.get(p, "string"), "string") for p, column in obj.columns}
    fields[obj.deleted] = "boolean"
    rows = []
    for record in records:
        values = record.get("properties") or {}
        row = {obj.key: str(record["id"]), obj.deleted: bool(record.get("archived", False))}
        row |= {f"property_{p}": _value(values.get(p), kind) for p, kind in types.items()}
        row |= {column: _value(values.get(p), types.get(p, "string")) for p, column in obj.columns}
        rows.append(row)
    return records_table(rows, fields, synced_at)


def history_rows(obj: RecordObject, records: list[Record], synced_at: datetime) -> pa.Table:
    """Every value each history property took: ``(<object>_id, name, value, timestamp, source, source_id)``;
    ``source_id`` is the user who made a change (``updatedByUserId``) when there is one, else HubSpot's
    ``sourceId``."""
    rows = []
    for record in records:
        for name, versions in (record.get("propertiesWithHistory") or {}).items():
            for v in versions:
                user = v.get("updatedByUserId")
                rows.append({obj.history_key: str(record["id"]), "name": name, "value": v.get("value") or None,
                             "timestamp": v.get("timestamp"), "source": v.get("sourceType"),
                             "source_id": str(user) if user is not None else v.get("sourceId")})  # fmt: skip
    return records_table(rows, {obj.history_key: "string", **HISTORY_COLUMNS}, synced_at)


# -- owners and pipelines ----------------------------------------------------------------------------------------------
OWNER_FIELDS = {
    "owner_id": "string", "email": "string", "first_name": "string", "last_name": "string", "user_id": "string",
    "created_at": "datetime", "updated_at": "datetime", "is_active": "boolean",
}  # fmt: skip


def sync_owners(client: HubSpotClient, store: HubSpotStore, synced_at: datetime) -> ObjectSync:
    """Owners updated since the cursor (the API has no filter: every owner is read, few are kept)."""
    before = store.cursor("owners")
    kept: list[Record] = []
    pages = 0
    for page in client.owners():
        pages += 1
        kept += [o for o in page if before is None or _stamp(o.get("updatedAt")) > before]
    after = _newest([o.get("updatedAt") for o in kept])
    if after is None:
        return ObjectSync("owners", "owner", "updatedAt", before, before, pages, 0, 0, _rows(store, "owner"))
    rows = [{"owner_id": str(o["id"]), "email": o.get("email"), "first_name": o.get("firstName"),
             "last_name": o.get("lastName"), "user_id": _text(o.get("userId")), "created_at": o.get("createdAt"),
             "updated_at": o.get("updatedAt"), "is_active": not o.get("archived", False)} for o in kept]  # fmt: skip
    ids = pa.array([r["owner_id"] for r in rows], pa.string())
    landed = store.land_object([("owner", records_table(rows, OWNER_FIELDS, synced_at), "owner_id", ids)],
                               "owners", "updatedAt", after, synced_at)  # fmt: skip
    return ObjectSync("owners", "owner", "updatedAt", before, after, pages, len(kept), 0, landed["owner"])


PIPELINE_FIELDS = {"pipeline_id": "string", "label": "string", "display_order": "int", "active": "boolean"}
STAGE_FIELDS = {"stage_id": "string", "pipeline_id": "string", "label": "string", "display_order": "int",
                "probability": "double", "is_closed": "boolean", "active": "boolean"}  # fmt: skip


def sync_pipelines(client: HubSpotClient, store: HubSpotStore, synced_at: datetime) -> ObjectSync:
    """The deal pipelines and their stages (``deal_pipeline``, ``deal_pipeline_stage``), when one changed."""
    before = store.cursor("pipelines")
    found = client.pipelines("deals")
    stamps = [p.get("updatedAt") for p in found] + [s.get("updatedAt") for p in found for s in p.get("stages", [])]
    after = _newest(stamps)
    if after is None or (before is not None and after <= before):
        return ObjectSync("pipelines", "deal_pipeline", "updatedAt", before, before, 1, 0, 0,
                          _rows(store, "deal_pipeline"))  # fmt: skip
    pipelines = [{"pipeline_id": p["id"], "label": p.get("label"), "display_order": p.get("displayOrder"),
                  "active": not p.get("archived", False)} for p in found]  # fmt: skip
    stages = [{"stage_id": s["id"], "pipeline_id": p["id"], "label": s.get("label"),
               "display_order": s.get("displayOrder"), "probability": (s.get("metadata") or {}).get("probability"),
               "is_closed": (s.get("metadata") or {}).get("isClosed") == "true", "active": not s.get("archived", False)}
              for p in found for s in p.get("stages", [])]  # fmt: skip
    ids = pa.array([p["pipeline_id"] for p in pipelines], pa.string())
    landed = store.land_object(
        [("deal_pipeline", records_table(pipelines, PIPELINE_FIELDS, synced_at), "pipeline_id", ids),
         ("deal_pipeline_stage", records_table(stages, STAGE_FIELDS, synced_at), "pipeline_id", ids)],
        "pipelines", "updatedAt", after, synced_at,
    )  # fmt: skip
    return ObjectSync("pipelines", "deal_pipeline", "updatedAt", before, after, 1, len(found), 0,
                      landed["deal_pipeline"])  # fmt: skip


# -- values ------------------------------------------------------------------------------------------------------------
def _value(value: Any, kind: str) -> Any:
    """A property's JSON value (always text, ``""`` when blank) as the landing types it."""
    if value is None or value == "":
        return None
    if kind == "bool":
        return str(value).lower() == "true"
    return value


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _stamp(value: Any) -> datetime:
    """An ISO time of the API as naive UTC."""
    return pd.Timestamp(value).tz_convert(None).to_pydatetime()


def _newest(values: Iterable[Any]) -> datetime | None:
    stamps = [_stamp(v) for v in values if v]
    return max(stamps) if stamps else None


def _rows(store: RawStore, table: str) -> int:
    landed = store.read(table)
    return landed.num_rows if landed is not None else 0
