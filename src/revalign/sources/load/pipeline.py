"""① A load, stage by stage: plan → read → validate (per table, referenced tables first) → diff → write.

:func:`ingest` is the file front door (a folder or a file of exports); :func:`load` runs any planned sources
through any :class:`~.read.Reader`, so a warehouse-table or CRM-API reader plugs in without touching the stages.
Each stage works on one :class:`~.run.LoadRun`. The guarantees (idempotent, atomic, nothing lost, ledger diffs)
are stated where they are kept: ``plan``, ``write`` and ``diff``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import pandas as pd

from revalign.engine import Engine
from revalign.model.tables import canonical_table
from revalign.settings import Settings
from revalign.sources.load.diff import configured_events, ledger_rows, merge_target, new_rows, settle
from revalign.sources.load.frames import existing
from revalign.sources.load.plan import TABLE_ORDER, PlannedSource, loaded_digests, plan_files
from revalign.sources.load.read import FileReader, Reader
from revalign.sources.load.run import LoadReport, LoadRun, Prepared, Progress, no_changes
from revalign.sources.load.validate import accept, prepare
from revalign.sources.load.write import commit
from revalign.sources.mapping import Mapping, load_mapping

MODE_ORDER = {"upsert": 0, "update": 1, "append": 2}
"""Within a table, upserts first: an ``update`` target patches rows an upsert target of the same load wrote."""


class ProjectLike(Protocol):
    """What :func:`ingest` needs of a project: its engine and its settings (for the reporting currency)."""

    @property
    def engine(self) -> Engine: ...

    @property
    def settings(self) -> Settings: ...


def ingest(
    project_or_engine: Engine | ProjectLike,
    path: str | Path,
    mapping: str | Path | Mapping = "generic_crm",
    *,
    source_name: str | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Load a folder (or one file) of exports through ``mapping`` into the project's canonical tables.

    ``mapping`` is a shipped mapping name (``olist``, ``x_education``, ``generic_crm``, ``canonical``), a YAML
    path, or a :class:`Mapping`. Files already loaded (same bytes, same mapping) are skipped. Raises
    :class:`~revalign.errors.SchemaError` when a file cannot be read as its table; rows that break a rule are
    quarantined, not raised.
    """
    if isinstance(project_or_engine, Engine):
        engine, currency = project_or_engine, None
    else:
        engine, currency = project_or_engine.engine, project_or_engine.settings.currency
    spec = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    planned = plan_files(spec, Path(path))
    run = LoadRun.start(engine, spec, currency=currency, source_name=source_name, progress=progress)
    return load(run, planned, FileReader())


def load(run: LoadRun, planned: list[PlannedSource], reader: Reader) -> LoadReport:
    """Read ``planned`` sources with ``reader``, validate, diff and write them; the run's report."""
    run.total_steps = len(planned) + len(TABLE_ORDER) + 1
    with run.timed("read"):
        _read(run, planned, reader)
    if not run.sources:
        run.report.skipped_as_duplicate = True
        return run.report
    with run.timed("validate"):
        for table in TABLE_ORDER:
            run.tick(f"validate {table}")
            mine = [p for p in run.prepared if p.target.table == table]
            if mine:
                run.touched.append(table)
                _load_table(run, table, mine)
    with run.timed("diff"):
        rows = ledger_rows(run)
    run.tick("write")
    with run.timed("write"):
        commit(run, rows)
    return run.report


def _read(run: LoadRun, planned: list[PlannedSource], reader: Reader) -> None:
    """Read every source (skipping content already loaded) and cast it once per target."""
    done = loaded_digests(run)
    for source in planned:
        run.tick(f"read {source.path.name}")
        for src in reader.read(source):
            if src.sha256 in done:
                run.report.skipped_files.append(str(src.path))
                continue
            run.sources.append(src)
            text = src.table.to_pandas()
            run.prepared += [prepare(run, target, src, text) for target in source.targets]


def _load_table(run: LoadRun, table: str, prepared: list[Prepared]) -> None:
    """Validate every target of ``table`` and merge its rows into the table's state (or queue the appends whose
    content is new)."""
    model = canonical_table(table)
    keyed = table != "ledger" and bool(model.primary_key)
    before = existing(run.engine, run.present, table) if keyed else None
    state = before.copy() if before is not None else None
    changes = no_changes()
    appended: list[tuple[Prepared, pd.DataFrame]] = []
    for p in sorted(prepared, key=lambda p: MODE_ORDER[p.target.mode]):
        good, good_changes = accept(run, p, model, state)
        new_events = configured_events(p.target, good).assign(_from=id(p))
        run.events.append(new_events)
        run.configured.append(new_events[["entity_id", "name"]])
        if table == "ledger":
            run.events.append(good.reset_index(drop=True).assign(_from=id(p)))
        elif state is None or before is None or p.target.mode == "append":
            appended.append((p, good))
        else:
            state, changes = merge_target(state, before, p, good, good_changes, changes)
    if appended:
        run.appends[table] = new_rows(run, table, appended)
    if state is not None and before is not None:
        settle(run, table, before, state, changes, prepared)
