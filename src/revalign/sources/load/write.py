"""① The writes of a load, all at the end: raw copies, canonical tables, ledger, quarantine, load log.

**Atomic in what it decides.** Nothing is written before every source is read and every table validated, so a
file that cannot be read (a :class:`~revalign.errors.SchemaError`) leaves the project as it was. **Idempotent.**
Canonical tables are rewritten from their merged state (or appended for key-less tables), ledger rows already
stored are dropped by event id, and the load log written last is what makes the next load skip these sources.
**Nothing a user gave is lost.** Every source is kept as read, all text, in ``_raw_<mapping>_<file stem>`` with
its data row number and load id; for every file and target, ``loaded + quarantined + deduplicated = read``.
Writes go through ``Engine.write``, so the same load runs on DuckDB, PostgreSQL and Spark.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow as pa

from revalign.model.tables import LEDGER, canonical_table
from revalign.sources import quarantine
from revalign.sources.load.frames import to_arrow
from revalign.sources.load.log import LOAD_LOG, LOAD_LOG_SCHEMA, log_rows
from revalign.sources.load.run import LoadRun
from revalign.sources.readers import SourceFile

_NAME = re.compile(r"[^0-9a-zA-Z]+")


def commit(run: LoadRun, ledger_rows: pd.DataFrame) -> None:
    """Write everything the run decided, the load log last."""
    engine = run.engine
    for src in run.sources:
        write_raw(run, src)
    _write_tables(run)
    if len(ledger_rows):
        engine.write("ledger", to_arrow(ledger_rows, "ledger"), schema=LEDGER.schema, mode=run.mode("ledger"))
    _write_quarantine(run)
    run.report.tables = [p.stats for p in run.prepared]
    engine.write(LOAD_LOG, log_rows(run), schema=LOAD_LOG_SCHEMA, mode=run.mode(LOAD_LOG))


def _write_tables(run: LoadRun) -> None:
    """Keyed tables rewritten from their merged state; rows of key-less (append) targets appended."""
    for table in run.touched:
        schema = canonical_table(table).schema
        if table in run.states:
            run.engine.write(table, to_arrow(run.states[table], table), schema=schema)
        for frame in run.appends.get(table, []):
            run.engine.write(table, to_arrow(frame, table), schema=schema, mode=run.mode(table))
            run.present.add(table)


def _write_quarantine(run: LoadRun) -> None:
    """This load's quarantine lines, then resolve earlier entries that this load fixed."""
    engine = run.engine
    fresh = pd.concat([r for r in run.quarantine if len(r)] or [pd.DataFrame(columns=list(quarantine.SCHEMA.names))])
    quarantine.write(engine, fresh, exists=quarantine.TABLE in run.present)
    if quarantine.TABLE not in run.present:
        return
    loaded = pd.concat(run.loaded, ignore_index=True) if run.loaded else pd.DataFrame(columns=["table", "key"])
    reexported = pd.DataFrame(
        {
            "mapping": run.spec.name,
            "target": [p.target.name for p in run.prepared],
            "file_name": [p.source.path.name for p in run.prepared],
        }
    )
    run.report.quarantine_resolved = quarantine.resolve(
        engine, loaded=loaded, reexported=reexported, fresh=fresh, load_id=run.load_id, now=run.now
    )


def raw_table_name(mapping: str, file: Path) -> str:
    """``_raw_<mapping>_<file stem>`` in lower snake case (identifiers every engine accepts unquoted)."""
    stem = file.name.split(".", 1)[0] if file.is_file() else file.name
    return f"_raw_{_NAME.sub('_', mapping).lower()}_{_NAME.sub('_', stem).strip('_').lower()}"


def write_raw(run: LoadRun, src: SourceFile) -> None:
    """Keep the source as read: text columns (snake-cased names), data row number, load id."""
    names: list[str] = []
    for col in src.table.column_names:
        base = _NAME.sub("_", col).strip("_").lower() or "column"
        name, i = base, 2
        while name in names or name.startswith("_"):
            name, i = f"{base}_{i}", i + 1
        names.append(name)
    table = src.table.rename_columns(names)
    table = table.append_column("_row", pa.array(src.rows, type=pa.int64()))
    table = table.append_column("_load_id", pa.repeat(pa.scalar(run.load_id, pa.string()), table.num_rows))
    name = raw_table_name(run.spec.name, src.path)
    if name in run.present and list(run.engine.table(name).columns) != table.column_names:
        name = f"{name}_{run.load_id.split('-')[-1]}"  # the export's columns changed: keep both layouts
    run.engine.write(name, table.combine_chunks(), mode=run.mode(name))
    run.present.add(name)
