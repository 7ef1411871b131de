"""① The writes of a load, all at the end and in one transaction: raw copies, canonical tables, ledger, quarantine, log.

**Atomic.** Nothing is written before every source is read and every table validated, so a file that cannot be
read (a :class:`~revalign.errors.SchemaError`) leaves the project as it was. Then every write of the load runs
inside one :meth:`Engine.transaction <revalign.engine.Engine.transaction>`: on DuckDB and PostgreSQL a crash at
any moment (``kill -9`` included) leaves the store exactly as before the load or exactly as after it. Spark has
no multi-table transactions: there the load log, written last, is the commit marker, and the next load first
discards raw and quarantine rows of loads that never reached the log (:func:`discard_uncommitted`); canonical
tables converge on re-ingest because they are rewritten from their merged state (keyed tables), appended only
with rows whose content is new (``diff.new_rows``) and the ledger deduplicated by event id.
**Idempotent.** Canonical tables are rewritten from their merged state, key-less tables get only rows whose
content the table does not already hold, ledger rows already stored are dropped by event id, and the load log
written last is what makes the next load skip these sources.
**Nothing a user gave is lost.** Every source is kept as read, all text, in ``_raw_<mapping>_<file stem>`` with
its data row number and load id; for every file and target, ``loaded + quarantined + deduplicated = read``.
Writes go through ``Engine.write``, so the same load runs on DuckDB, PostgreSQL and Spark. Each write is a named
step of ``load.faults``, where the crash tests kill the process.
"""

from __future__ import annotations

import re
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa

from revalign.model.tables import LEDGER, canonical_table
from revalign.sources import quarantine
from revalign.sources.load.faults import fault_point
from revalign.sources.load.frames import from_arrow, to_arrow
from revalign.sources.load.log import LOAD_LOG, LOAD_LOG_SCHEMA, log_rows
from revalign.sources.load.run import LoadRun
from revalign.sources.readers import SourceFile

_NAME = re.compile(r"[^0-9a-zA-Z]+")


def commit(run: LoadRun, ledger_rows: pd.DataFrame) -> None:
    """Write everything the run decided in one transaction, the load log last."""
    engine = run.engine
    with engine.transaction():
        fault_point("begin")
        if not engine.transactional:
            discard_uncommitted(run)
        for src in run.sources:
            write_raw(run, src)
        # the ledger before the tables it diffs: without a transaction (Spark), a crash between the two must not
        # leave the new state stored and its field changes unrecorded (a re-ingest would see nothing to diff)
        if len(ledger_rows):
            widen_ledger(run)
            engine.write("ledger", to_arrow(ledger_rows, "ledger"), schema=LEDGER.schema, mode=run.mode("ledger"))
            run.present.add("ledger")
        fault_point("ledger")
        _write_tables(run)
        _write_quarantine(run)
        run.present.add(quarantine.TABLE)
        fault_point("quarantine")
        run.report.tables = [p.stats for p in run.prepared]
        engine.write(LOAD_LOG, log_rows(run), schema=LOAD_LOG_SCHEMA, mode=run.mode(LOAD_LOG))
        run.present.add(LOAD_LOG)
        fault_point("load_log")
    fault_point("commit")


def discard_uncommitted(run: LoadRun) -> None:
    """Drop raw and quarantine rows of earlier loads that never wrote their log row (an engine without
    transactions, where a crashed load can leave them): their re-ingest would otherwise keep them twice.

    Tables are rewritten (materialised first: Spark cannot overwrite a table it reads), and only when they hold
    such rows; one small distinct query per table otherwise.
    """
    if LOAD_LOG not in run.present:
        return
    engine = run.engine
    log = engine.table(LOAD_LOG)
    committed = set(engine.execute(log.select("load_id").distinct())["load_id"])
    columns = {name: "_load_id" for name in run.present if name.startswith("_raw_")}
    if quarantine.TABLE in run.present:
        columns[quarantine.TABLE] = "load_id"
    for name, column in sorted(columns.items()):
        t = engine.table(name)
        ids = set(engine.execute(t.select(column).distinct())[column].dropna())
        orphans = sorted(ids - committed)
        if not orphans:
            continue
        kept = engine.to_pyarrow(t.filter(~t[column].isin(orphans) | t[column].isnull()))
        engine.write(name, kept, schema=ibis.schema(t.schema()))
        run.report.warnings.append(f"Discarded rows of unfinished loads {', '.join(orphans)} from {name}.")


def widen_ledger(run: LoadRun) -> None:
    """Give a ledger stored before a column was added to the model (``time_precision``) that column, as nulls.

    The ledger is append-only and an append must match the stored columns; a project whose ledger predates the
    column is rewritten once, inside the load's transaction, with every row and id as it was. Events recorded
    then keep a null precision: nobody said how precise they were.
    """
    if "ledger" not in run.present:
        return
    stored = run.engine.table("ledger")
    if set(LEDGER.column_names) <= set(stored.columns):
        return
    rows = from_arrow(run.engine.to_pyarrow(stored), "ledger")  # materialised: Spark cannot overwrite what it reads
    run.engine.write("ledger", to_arrow(rows, "ledger"), schema=LEDGER.schema)
    run.report.warnings.append(
        f"Added column(s) {', '.join(sorted(set(LEDGER.column_names) - set(stored.columns)))} "
        "to the stored ledger (null for the events recorded before)."
    )


def _write_tables(run: LoadRun) -> None:
    """Keyed tables rewritten from their merged state; rows of key-less (append) targets appended."""
    for table in run.touched:
        schema = canonical_table(table).schema
        if table in run.states:
            run.engine.write(table, to_arrow(run.states[table], table), schema=schema)
            run.present.add(table)
        for frame in run.appends.get(table, []):
            run.engine.write(table, to_arrow(frame, table), schema=schema, mode=run.mode(table))
            run.present.add(table)
        fault_point(f"table:{table}")


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
    fault_point(f"raw:{name}")
