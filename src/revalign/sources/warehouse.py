"""① Warehouse tables as sources: a mapping whose targets name ``tables:`` loads them in place, through the same
stages as a folder of exports (plan → read → validate → diff → write), so a load stays atomic and idempotent and
bad rows go to quarantine.

``ingest_tables(project, "fivetran_salesforce", database="postgres://…", schema="salesforce")`` reads each table
a target names (``lead``, or ``schema.table``) from ``database`` (a URL or a Parquet folder; none: the project's
own engine) through :class:`~revalign.engine.attach.SourceDatabase`, the only code that knows how to reach it.
A table's rows are read as text, exactly like an export's cells, and in the order of their content, so:

- a quarantine line names the table (``salesforce.opportunity``) and the row's primary key (``key``; ``row`` is
  the row's position in that order, the same on every read of the same content);
- the table's digest is the sha256 of that ordered content: a table that did not change since the last load is
  skipped, a table that did is loaded and diffed into ledger events like a newer export;
- its export time is the newest ``_fivetran_synced`` (or Airbyte's ``_airbyte_extracted_at``) in it, else now.

A source read only by ``mode: update`` targets keeps just the rows that name a record to update (every key
column non-blank): Salesforce's lead table says which opportunity each *converted* lead became, and the others
are not updates of anything (they are read, in full, by the ``leads`` target).

A table in Fivetran history mode (it has ``_fivetran_active``) is read as its active rows, and once more as the
changes between its versions (``salesforce.lead (versions)``): :mod:`revalign.sources.history_mode`. A table that
only optional targets read may be missing (a connector without field history).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from revalign.engine import Engine
from revalign.engine.attach import SourceDatabase
from revalign.errors import SchemaError
from revalign.model.tables import canonical_table
from revalign.sources.history_mode import active_rows, in_history_mode, version_changes, versions_target
from revalign.sources.load.pipeline import ProjectLike, load
from revalign.sources.load.plan import PlannedSource
from revalign.sources.load.run import LoadReport, LoadRun, Progress
from revalign.sources.mapping import Mapping, TargetSpec, load_mapping
from revalign.sources.readers import SourceFile, as_text, check_columns

SYNCED_COLUMNS = ("_fivetran_synced", "_airbyte_extracted_at", "_airbyte_emitted_at")
"""Columns a sync tool stamps each row with when it copied it: the newest is the table's export time."""

Location = tuple[str, str | None, str, TargetSpec | None]
"""Where a planned source is read: table, schema, which rows: ``all``, ``updates`` (only update targets read it) or
``versions`` (the changes between a history-mode table's versions, :mod:`revalign.sources.history_mode`), and for
versions the upsert target whose tracked columns they compare."""


def table_name(entry: str, schema: str | None) -> tuple[str, str | None]:
    """A target's ``tables:`` entry as (table, schema): ``schema.table`` as written, else the given schema."""
    if "." in entry:
        given, table = entry.rsplit(".", 1)
        return table, given
    return entry, schema


def plan_tables(
    spec: Mapping, db: SourceDatabase, schema: str | None = None
) -> tuple[list[PlannedSource], dict[Path, Location]]:
    """Each table the mapping reads, with the targets it feeds (in mapping order) → (table, schema, update only).

    ``schema`` overrides the mapping's ``schema:`` (a connector synced under another name).
    """
    default = schema or spec.schema_
    found: dict[tuple[str, str | None, str, str | None], list[TargetSpec]] = {}
    origins = {target.name: target for target in spec.targets}
    for target in spec.targets:
        for entry in target.tables:
            table, where = table_name(entry, default)
            found.setdefault((table, where, "updates" if target.mode == "update" else "all", None), []).append(target)
            versions = versions_target(target)
            if versions is not None:  # read only if the table turns out to be in history mode
                found[(table, where, "versions", target.name)] = [versions]
    if not found:
        raise ValueError(f"Mapping {spec.name!r} names no tables: its targets read files (use ingest).")
    planned: list[PlannedSource] = []
    locations: dict[Path, Location] = {}
    for (table, where, rows, origin), targets in found.items():
        label = db.label(table, where) + ("" if rows == "all" else f" ({rows})")
        if Path(label) in locations and origin is not None:  # several upsert targets read one history table
            label = f"{label[:-1]} of {origin})"
        planned.append(PlannedSource(Path(label), tuple(targets)))
        locations[Path(label)] = (table, where, rows, origins[origin] if origin else None)
    return planned, locations


class TableReader:
    """Reads each planned table from the source database, as one batch of text cells in content order."""

    def __init__(self, db: SourceDatabase, locations: dict[Path, Location]) -> None:
        self.db, self.locations = db, locations
        self._last: tuple[tuple[str, str | None], pa.Table] | None = None

    def _table(self, table: str, schema: str | None) -> pa.Table:
        """The table, read once for the consecutive sources planned from it (rows, updates, versions)."""
        if self._last is None or self._last[0] != (table, schema):
            self._last = ((table, schema), self.db.read(table, schema))
        return self._last[1]

    def read(self, source: PlannedSource) -> Iterator[SourceFile]:
        table, schema, rows, origin = self.locations[source.path]
        try:
            arrow = self._table(table, schema)
        except SchemaError as exc:
            if exc.rule == "missing_file" and all(t.optional for t in source.targets):
                return  # an optional table the connector does not sync (field history under history mode)
            raise
        exported_at = _synced_at(arrow)
        history_mode = in_history_mode(arrow)
        if rows == "versions":
            if not history_mode:
                return  # a table without versions has no changes to read
            assert origin is not None, "a versions source names the target it compares"
            text = pa.table({name: as_text(arrow.column(name)) for name in arrow.column_names})
            text = version_changes(arrow, origin, text)
            text = _in_content_order(text)
            yield SourceFile(source.path, _digest(text), exported_at, text, np.arange(1, text.num_rows + 1))
            return
        if history_mode and any(t.history is None for t in source.targets):  # a history table's rows are events
            arrow = active_rows(arrow)
        text = pa.table({name: as_text(arrow.column(name)) for name in arrow.column_names})
        if rows == "updates":
            text = text.filter(_names_a_record(text, source.targets))
        check_columns(source.path, text.column_names, source.required, delimiter=None, header_line=None)
        text = _in_content_order(text)
        yield SourceFile(source.path, _digest(text), exported_at, text, np.arange(1, text.num_rows + 1))


def _names_a_record(text: pa.Table, targets: tuple[TargetSpec, ...]) -> pa.Array:
    """Rows whose key columns (as every update target maps them) are all non-blank."""
    keep = pa.array(np.ones(text.num_rows, dtype=bool))
    for target in targets:
        for key in canonical_table(target.table).primary_key:
            column = target.columns[key].from_
            if column is not None and column in text.column_names:
                cells = text.column(column)
                present = pc.and_(pc.is_valid(cells), pc.not_equal(pc.utf8_trim_whitespace(cells), ""))
                keep = pc.and_(keep, pc.fill_null(present, False))
    return keep


def _in_content_order(text: pa.Table) -> pa.Table:
    """Rows sorted by every column (a warehouse returns rows in no particular order)."""
    if text.num_rows == 0 or text.num_columns == 0:
        return text
    keys = [(name, "ascending") for name in text.column_names]
    return text.take(pc.sort_indices(text, sort_keys=keys))


def _digest(text: pa.Table) -> str:
    """sha256 of the table's columns and ordered cells (nulls distinct from blanks)."""
    h = hashlib.sha256()
    h.update("\x1f".join(text.column_names).encode())
    for name in text.column_names:
        cells = text.column(name).fill_null("\x00").to_pylist()
        h.update("\x1e".join(cells).encode())
    return h.hexdigest()


def _synced_at(arrow: pa.Table) -> datetime:
    """The newest sync stamp in the table (naive UTC), else now."""
    for name in SYNCED_COLUMNS:
        if name in arrow.column_names and arrow.num_rows:
            newest = pd.Timestamp(pc.max(arrow.column(name)).as_py())
            if not pd.isna(newest):
                stamp = newest.tz_convert("UTC").tz_localize(None) if newest.tzinfo else newest
                return stamp.to_pydatetime().replace(microsecond=0)
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def ingest_tables(
    project_or_engine: Engine | ProjectLike,
    mapping: str | Path | Mapping,
    *,
    database: str | Path | None = None,
    schema: str | None = None,
    source_name: str | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Load the warehouse tables ``mapping`` names into the project's canonical tables.

    ``database``: a URL (``postgres://user@host:5432/db``) or a folder of Parquet tables; none reads the project's
    own engine. ``schema`` overrides the mapping's ``schema:``. Tables whose content was loaded before are skipped.
    Raises :class:`~revalign.errors.SchemaError` when a table is missing or lacks a column the mapping needs.
    """
    if isinstance(project_or_engine, Engine):
        engine, currency = project_or_engine, None
    else:
        engine, currency = project_or_engine.engine, project_or_engine.settings.currency
    spec = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    with SourceDatabase(engine, database) as db:
        planned, locations = plan_tables(spec, db, schema)
        run = LoadRun.start(engine, spec, currency=currency, source_name=source_name, progress=progress)
        return load(run, planned, TableReader(db, locations))
