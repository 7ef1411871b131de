"""① ``revalign sync salesforce``: copy a Salesforce org's CRM objects into the project and load them.

One sync, object by object (:data:`~revalign.sources.sync.config.OBJECTS`: users, accounts, campaigns and members,
leads, opportunities and the two field-history objects):

1. describe the object and select every field a query can return;
2. query (``queryAll``, so deleted records come too) what changed since the object's cursor —
   ``SystemModstamp > cursor``, or ``CreatedDate`` for history objects — ordered by it, page after page;
3. land the records in the project's engine as Fivetran lands them and move the cursor, in one transaction
   (:mod:`~revalign.sources.sync.landing`).

Then the landed tables load through the shipped ``fivetran_salesforce`` mapping with
:func:`~revalign.sources.warehouse.ingest_tables`: the same code path as a Fivetran sync read in place, with its
rules, quarantine, ledger and idempotence. A second sync with nothing new changes no table, so the load skips them
all; a sync stopped half-way resumes from the objects it finished and converges to the same tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from revalign.sources.load.pipeline import ProjectLike
from revalign.sources.load.run import LoadReport
from revalign.sources.sync.client import SalesforceClient
from revalign.sources.sync.config import OBJECTS, SalesforceConfig, salesforce_config
from revalign.sources.sync.landing import RawStore, fivetran_name, records_table
from revalign.sources.warehouse import ingest_tables

MAPPING = "fivetran_salesforce"
SOURCE_NAME = "salesforce sync"

Progress = Callable[[str, int], None]
"""Called with the object being read and the records read of it so far."""


@dataclass(frozen=True)
class ObjectSync:
    """What one object's sync read and landed."""

    sobject: str
    table: str
    cursor_field: str
    cursor_before: datetime | None
    cursor_after: datetime | None
    pages: int
    records: int
    deleted: int
    rows: int
    """Rows of the landed table after the merge."""


@dataclass(frozen=True)
class SyncReport:
    """One sync: each object read, the sign-ins it took, and the load of the landed tables."""

    objects: tuple[ObjectSync, ...]
    sign_ins: int
    load: LoadReport | None = field(default=None)

    @property
    def records(self) -> int:
        """Records read from the API, over every object (0: nothing changed since the last sync)."""
        return sum(o.records for o in self.objects)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(o) for o in self.objects])

    def to_dict(self) -> dict[str, Any]:
        frame = self.to_frame().astype(object)
        return {
            "records": self.records,
            "sign_ins": self.sign_ins,
            "objects": frame.where(frame.notna(), None).map(_plain).to_dict(orient="records"),
            "load": self.load.to_dict() if self.load is not None else None,
        }


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | pd.Timestamp) else value


def sync_salesforce(
    project: ProjectLike,
    *,
    config: SalesforceConfig | None = None,
    client: SalesforceClient | None = None,
    objects: Sequence[str] = OBJECTS,
    load: bool = True,
    progress: Progress | None = None,
) -> SyncReport:
    """Sync ``objects`` from the org ``config`` (default: ``sync.salesforce`` of the project's settings and the
    ``SALESFORCE_*`` environment) into the project, then load them (unless ``load`` is false).

    Raises :class:`~revalign.errors.ConfigError` for missing credentials (naming the variable) and
    :class:`~revalign.sources.sync.client.SyncError` when the API cannot be read; objects finished before the
    error keep their rows and cursors.
    """
    config = config or salesforce_config(project.settings.sync.get("salesforce"))
    client = client or SalesforceClient(config)
    store = RawStore(project.engine, config.schema_)
    synced_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    done = tuple(sync_object(client, store, name, synced_at, progress) for name in objects)
    report = None
    if load:
        report = ingest_tables(project, MAPPING, schema=config.schema_, source_name=SOURCE_NAME)
    return SyncReport(done, client.sign_ins, report)


def sync_object(
    client: SalesforceClient, store: RawStore, sobject: str, synced_at: datetime, progress: Progress | None = None
) -> ObjectSync:
    """Read what changed in ``sobject`` since its cursor and land it (nothing is written when nothing changed)."""
    fields = client.fields(sobject)
    cursor_field = "SystemModstamp" if "SystemModstamp" in fields else "CreatedDate"
    before = store.cursor(sobject)
    parts: list[pa.Table] = []
    read = 0
    for records in client.pages(soql(sobject, fields, cursor_field, before)):
        parts.append(records_table(records, fields, synced_at))
        read += len(records)
        if progress is not None:
            progress(sobject, read)
    table = fivetran_name(sobject)
    if not read:
        landed = store.read(table)
        rows = landed.num_rows if landed is not None else 0
        return ObjectSync(sobject, table, cursor_field, before, before, len(parts), 0, 0, rows)
    rows_read = pa.concat_tables(parts)
    after = pc.max(rows_read.column(fivetran_name(cursor_field))).as_py()
    deleted = int(pc.sum(rows_read.column("is_deleted")).as_py() or 0) if "is_deleted" in rows_read.column_names else 0
    rows = store.land(table, rows_read, sobject, cursor_field, after, synced_at)
    return ObjectSync(sobject, table, cursor_field, before, after, len(parts), read, deleted, rows)


def soql(sobject: str, fields: dict[str, str], cursor_field: str, cursor: datetime | None) -> str:
    """``SELECT <every field> FROM <object> [WHERE <cursor field> > <cursor>] ORDER BY <cursor field>, Id``."""
    where = f" WHERE {cursor_field} > {soql_datetime(cursor)}" if cursor is not None else ""
    return f"SELECT {', '.join(fields)} FROM {sobject}{where} ORDER BY {cursor_field}, Id"


def soql_datetime(moment: datetime) -> str:
    """A naive UTC time as a SOQL datetime literal (``2025-03-31T09:15:00.250Z``): milliseconds, as the API keeps."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
