"""① The loader: files + mapping → raw copies, canonical current-state tables, ledger events, quarantine.

What a load guarantees, and how:

- **Idempotent.** A file is identified by the sha256 of its bytes; a file already in ``_load_log`` under the same
  mapping is skipped, so loading the same export twice changes nothing. Ledger event ids are deterministic
  hashes, so even a forced reload cannot add an event twice.
- **Nothing a user gave is lost.** Every file is kept as read, all text, in ``_raw_<mapping>_<file stem>`` with
  its data row number and load id; rows that break a rule go to ``_quarantine`` (``sources.quarantine``):
  for every file and target, ``loaded + quarantined + deduplicated = read``.
- **Revalign remembers what the CRM forgets.** Canonical tables hold the current state, upserted by primary
  key. When a newer export changes a tracked field of a known row (a lead source overwritten, an owner
  reassigned, an amount cut, a stage moved), the old and new values go into the append-only ``ledger`` with
  the business time (the export's modified-at column when mapped, else the export time) and the load time.
- **Vectorised.** Rules and casts are column operations (pandas over Arrow); writes go through
  ``Engine.write``, so the same load runs on DuckDB, PostgreSQL and Spark.

Current state is merged in memory (the existing table is read, the new rows are merged by key, the table is
rewritten). That is simple and identical on every engine; it bounds a single table by memory (fine for CRM
exports of a few million rows, see docs/benchmarks.md).
"""

from __future__ import annotations

import binascii
import fnmatch
import re
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from revalign.engine import Engine
from revalign.errors import SchemaError
from revalign.model.tables import LEDGER, TABLES, canonical_table
from revalign.sources import quarantine, rules
from revalign.sources.mapping import EXPORT_TIME, ColumnSpec, Mapping, TargetSpec, load_mapping
from revalign.sources.readers import SourceFile, read_source
from revalign.sources.supersession import with_superseded
from revalign.sources.values import PANDAS_DTYPES, Failure, apply_value_map, blank_out, cast, constant, empty

LOAD_LOG = "_load_log"
LOAD_LOG_SCHEMA = ibis.schema(
    {
        "load_id": "string",
        "mapping": "string",
        "source_name": "string",
        "file": "string",
        "file_sha256": "string",
        "target": "string",
        "table": "string",
        "rows_read": "int64",
        "rows_loaded": "int64",
        "rows_quarantined": "int64",
        "rows_unchanged": "int64",
        "rows_deduplicated": "int64",
        "events_added": "int64",
        "exported_at": "timestamp",
        "loaded_at": "timestamp",
    }
)

TABLE_ORDER = (
    "teams",
    "users",
    "accounts",
    "campaigns",
    "leads",
    "opportunities",
    "touchpoints",
    "subscriptions",
    "quotas",
    "forecasts",
    "spend",
    "web_traffic",
    "ledger",
)
"""Referenced tables first, so foreign keys and lookups see this load's rows of the tables they point at."""
assert set(TABLE_ORDER) == set(TABLES), "every canonical table needs a place in the load order"

TRACKED: dict[str, dict[str, str]] = {
    "leads": {"lead_source": "field", "owner_id": "field", "lifecycle_stage": "lifecycle"},
    "opportunities": {
        "lead_source": "field",
        "owner_id": "field",
        "amount": "field",
        "close_date": "field",
        "stage": "stage",
    },
    "accounts": {"owner_id": "field", "segment": "field"},
}
"""Fields whose changes between two exports become ledger rows: kind ``field`` (name = the field), ``lifecycle``
(name = the stage entered) or ``stage`` (name = the opportunity stage entered), old and new value as text."""

ENTITY_TYPES = {"leads": "lead", "opportunities": "opportunity", "accounts": "account"}

Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``: called as a load advances (the CLI draws a bar with it)."""


@dataclass
class TableLoad:
    """What one target did with one file. ``rows_loaded + rows_quarantined + rows_deduplicated == rows_read``;
    ``rows_unchanged`` counts loaded rows whose key was known with exactly these values."""

    file: str
    target: str
    table: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_unchanged: int = 0
    rows_deduplicated: int = 0
    events_added: int = 0


@dataclass
class LoadReport:
    """The outcome of :func:`ingest`."""

    load_id: str
    mapping: str
    tables: list[TableLoad] = field(default_factory=list)
    events_added: int = 0
    quarantine_resolved: int = 0
    """Open quarantine entries of earlier loads that this load fixed (see ``sources.quarantine``)."""
    skipped_as_duplicate: bool = False
    skipped_files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(t.rows_read for t in self.tables)

    @property
    def rows_quarantined(self) -> int:
        return sum(t.rows_quarantined for t in self.tables)

    def to_frame(self) -> pd.DataFrame:
        """One row per file and target."""
        cols = [f.name for f in TableLoad.__dataclass_fields__.values()]
        return pd.DataFrame([asdict(t) for t in self.tables], columns=cols)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["rows_read"], out["rows_quarantined"] = self.rows_read, self.rows_quarantined
        return out


def load_history(engine: Engine | None) -> pd.DataFrame:
    """``_load_log``: one row per file and target of every load, oldest first."""
    if engine is None or not engine.has_table(LOAD_LOG):
        return pd.DataFrame({n: pd.Series(dtype="object") for n in LOAD_LOG_SCHEMA.names})
    t = engine.table(LOAD_LOG)
    return engine.execute(t.order_by([t.loaded_at, t.file, t.target])).reset_index(drop=True)


# -- the load -----------------------------------------------------------------------------------------------
@dataclass
class _Prepared:
    """A target's rows from one file, typed, before rules that need other tables."""

    source: SourceFile
    target: TargetSpec
    text: pd.DataFrame
    frame: pd.DataFrame
    set_cols: list[str]
    default_cols: list[str]
    failures: list[tuple[str, Failure]]
    changed_at: pd.Series
    stats: TableLoad
    known_keys: pd.Index | None = None  # keys of loaded rows that the table held before this load


def ingest(
    project_or_engine: Any,
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
    engine: Engine = getattr(project_or_engine, "engine", project_or_engine)
    settings = getattr(project_or_engine, "settings", None)
    spec = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    load_id = f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    report = LoadReport(load_id, spec.name)
    fx_rate = _fx_rate(spec, getattr(settings, "currency", None), report)

    plan = _plan(spec, Path(path))
    total = len(plan) + len(TABLE_ORDER) + 1
    step = 0

    def tick(label: str) -> None:
        nonlocal step
        step += 1
        if progress is not None:
            progress(label, step, total)

    present = set(engine.list_tables())  # one catalog call: listing tables costs ~1 s on Spark
    history = load_history(engine) if LOAD_LOG in present else load_history(None)
    done = set(history.loc[history["mapping"] == spec.name, "file_sha256"].dropna())
    prepared: list[_Prepared] = []
    sources: list[SourceFile] = []
    for file, targets in plan:
        tick(f"read {file.name}")
        required = list(dict.fromkeys(c for t in targets for c in t.source_columns))
        first = targets[0]
        src = read_source(
            file, required=required, format=first.format, delimiter=first.delimiter, encoding=first.encoding
        )
        if src.sha256 in done:
            report.skipped_files.append(str(file))
            continue
        sources.append(src)
        text = src.table.to_pandas()
        for target in targets:
            prepared.append(_prepare(spec, target, src, text, fx_rate))
    if not sources:
        report.skipped_as_duplicate = True
        return report

    states: dict[str, pd.DataFrame] = {}
    events: list[pd.DataFrame] = []
    records: list[pd.DataFrame] = []
    touched: list[str] = []
    appends: dict[str, list[pd.DataFrame]] = {}
    configured: list[pd.DataFrame] = []  # events the mapping wrote: the diff of any table does not repeat them
    diffs: list[tuple[str, pd.DataFrame, pd.DataFrame, pd.Series, int]] = []
    loaded: list[pd.DataFrame] = []  # (table, key) of every row this load writes: it resolves old quarantine
    for table in TABLE_ORDER:
        tick(f"validate {table}")
        mine = [p for p in prepared if p.target.table == table]
        if not mine:
            continue
        touched.append(table)
        _load_table(
            engine,
            present,
            spec,
            table,
            mine,
            states,
            events,
            records,
            appends,
            configured,
            diffs,
            loaded,
            load_id,
            now,
        )

    for table, before, after, changed_at, owner in diffs:  # after every table: configured events are all known
        events.append(_diff_events(table, before, after, changed_at, configured).assign(_from=owner))
    tick("write")
    ledger_rows = _new_ledger_rows(engine, present, events, load_id, now)
    report.events_added = len(ledger_rows)
    _attribute_events(prepared, ledger_rows)
    for src in sources:
        _write_raw(engine, present, spec, src, load_id)
    for table in touched:
        if table in states:
            engine.write(table, _to_arrow(states[table], table), schema=canonical_table(table).schema)
        for frame in appends.get(table, []):
            engine.write(
                table, _to_arrow(frame, table), schema=canonical_table(table).schema, mode=_mode(table, present)
            )
            present.add(table)
    if len(ledger_rows):
        engine.write("ledger", _to_arrow(ledger_rows, "ledger"), schema=LEDGER.schema, mode=_mode("ledger", present))
    fresh = pd.concat([r for r in records if len(r)] or [pd.DataFrame(columns=list(quarantine.SCHEMA.names))])
    quarantine.write(engine, fresh, exists=quarantine.TABLE in present)
    if quarantine.TABLE in present:
        report.quarantine_resolved = quarantine.resolve(
            engine,
            loaded=pd.concat(loaded, ignore_index=True) if loaded else pd.DataFrame(columns=["table", "key"]),
            reexported=pd.DataFrame(
                {
                    "mapping": spec.name,
                    "target": [p.target.name for p in prepared],
                    "file_name": [p.source.path.name for p in prepared],
                }
            ),
            fresh=fresh,
            load_id=load_id,
            now=now,
        )
    report.tables = [p.stats for p in prepared]
    log = pd.DataFrame(
        [
            {
                "load_id": load_id,
                "mapping": spec.name,
                "source_name": source_name or spec.name,
                "file": str(p.source.path),
                "file_sha256": p.source.sha256,
                "target": p.target.name,
                **{k: v for k, v in asdict(p.stats).items() if k not in ("file", "target")},
                "exported_at": p.source.exported_at,
                "loaded_at": now,
            }
            for p in prepared
        ]
    )
    log_table = pa.Table.from_pandas(log, preserve_index=False)
    engine.write(LOAD_LOG, log_table, schema=LOAD_LOG_SCHEMA, mode=_mode(LOAD_LOG, present))
    return report


def _mode(name: str, present: set[str]) -> str:
    """Append to a table that exists, create one that does not (without another catalog call in ``write``)."""
    return "append" if name in present else "overwrite"


def _fx_rate(spec: Mapping, currency: str | None, report: LoadReport) -> float | None:
    if spec.currency is None or spec.currency == currency:
        return None
    if spec.fx_rate is not None:
        return spec.fx_rate
    report.warnings.append(
        f"Money columns of mapping {spec.name!r} are in {spec.currency}"
        + (f", the project reports in {currency}" if currency else "")
        + "; set fx_rate in the mapping to convert them. Amounts are loaded as written."
    )
    return None


def _plan(spec: Mapping, path: Path) -> list[tuple[Path, list[TargetSpec]]]:
    """Which file feeds which targets, in the mapping's order."""
    if not path.exists():
        raise SchemaError(f"Nothing to ingest at {path}: no such file or folder", file=str(path), rule="missing_file")
    found: dict[Path, list[TargetSpec]] = {}
    for target in spec.targets:
        matches: list[Path] = []
        for pattern in target.files:
            if path.is_dir():
                matches += sorted(p for p in path.glob(pattern) if p.is_file() or _is_parquet_table(p))
            elif fnmatch.fnmatch(path.name, pattern):
                matches.append(path)
        if not matches and path.is_dir() and not target.optional:
            raise SchemaError(
                f"No file in {path} matches {', '.join(target.files)} (target {target.name!r} of mapping "
                f"{spec.name!r}). Add the export, or mark the target optional in the mapping",
                file=str(path),
                rule="missing_file",
            )
        for m in dict.fromkeys(matches):
            found.setdefault(m, []).append(target)
    if not found:
        patterns = ", ".join(p for t in spec.targets for p in t.files)
        raise SchemaError(
            f"No file matches mapping {spec.name!r} (expected {patterns})", file=str(path), rule="missing_file"
        )
    return list(found.items())


def _is_parquet_table(path: Path) -> bool:
    return path.is_dir() and any(path.glob("*.parquet"))


def _prepare(
    spec: Mapping, target: TargetSpec, src: SourceFile, text: pd.DataFrame, fx_rate: float | None
) -> _Prepared:
    """Cast every mapped column; lookups wait for their table (they are filled in ``_load_table``)."""
    model = canonical_table(target.table)
    n = len(text)
    frame: dict[str, pd.Series] = {}
    failures: list[tuple[str, Failure]] = []
    set_cols, default_cols = [], []
    for col, cs in target.columns.items():
        dtype = model.column(col).dtype
        if cs.from_ is not None and cs.from_ not in text.columns:  # an optional column this export lacks
            continue
        if cs.from_ is not None:
            values = blank_out(text[cs.from_], [*spec.null_values, *cs.null_values])
            vmap = spec.value_map(cs)
            if vmap is not None:
                values = apply_value_map(values, vmap)
            typed, fails = cast(values, dtype, cs, timezone=spec.timezone, fx_rate=fx_rate, source=cs.from_)
            frame[col] = typed
            failures += [(cs.from_, f) for f in fails]
            set_cols.append(col)
        elif cs.value is not None:
            value = src.exported_at if cs.value == EXPORT_TIME else cs.value
            frame[col] = constant(value, dtype, n, text.index)
            set_cols.append(col)
        elif cs.default is not None:
            frame[col] = constant(cs.default, dtype, n, text.index)
            default_cols.append(col)
        else:
            frame[col] = empty(dtype, text.index)
            set_cols.append(col)
    changed_at = pd.Series(pd.Timestamp(src.exported_at), index=text.index).astype("datetime64[us]")
    if target.modified_at is not None and target.modified_at in text.columns:
        stamps, fails = cast(
            blank_out(text[target.modified_at], spec.null_values),
            "timestamp",
            ColumnSpec(**{"from": target.modified_at}),
            timezone=spec.timezone,
            fx_rate=None,
            source=target.modified_at,
        )
        failures += [(target.modified_at, f) for f in fails]
        changed_at = stamps.fillna(changed_at)
    stats = TableLoad(str(src.path), target.name, target.table, rows_read=src.rows_read)
    return _Prepared(src, target, text, pd.DataFrame(frame), set_cols, default_cols, failures, changed_at, stats)


def _existing(engine: Engine, present: set[str], table: str) -> pd.DataFrame:
    """The canonical table as stored, in the loader's in-memory types, indexed by its key."""
    model = canonical_table(table)
    empty_table = model.schema.to_pyarrow().empty_table()
    arrow = engine.to_pyarrow(engine.table(table)) if table in present else empty_table
    frame = _from_arrow(arrow, table)
    frame.index = _key_index(frame, model.primary_key)
    return frame


def _from_arrow(arrow: pa.Table, table: str) -> pd.DataFrame:
    model = canonical_table(table)
    cols: dict[str, pd.Series] = {}
    for c in model.columns:
        if c.name in arrow.column_names:
            arr = arrow.column(c.name)
            if pa.types.is_date(arr.type):
                arr = arr.cast(pa.timestamp("us"))
            if pa.types.is_timestamp(arr.type) and arr.type.tz is not None:
                arr = arr.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us"))
            series = arr.to_pandas()
            cols[c.name] = series.astype(PANDAS_DTYPES[c.dtype])
        else:
            cols[c.name] = pd.Series(pd.NA, index=range(arrow.num_rows)).astype(PANDAS_DTYPES[c.dtype])
    return pd.DataFrame(cols)


def _to_arrow(frame: pd.DataFrame, table: str) -> pa.Table:
    schema = canonical_table(table).schema.to_pyarrow()
    arrays = []
    for f in schema:
        series = frame[f.name] if f.name in frame else pd.Series(pd.NA, index=frame.index)
        if pa.types.is_date(f.type):
            arr = pa.array(series.astype("datetime64[us]"), from_pandas=True).cast(pa.date32())
        elif pa.types.is_string(f.type):
            arr = pa.array(series.astype("str"), from_pandas=True, type=pa.string())
        else:
            arr = pa.array(series, from_pandas=True).cast(f.type)
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=schema)


def _key_index(frame: pd.DataFrame, key: tuple[str, ...]) -> pd.Index:
    if not key:
        return pd.RangeIndex(len(frame))
    if len(key) == 1:
        return pd.Index(frame[key[0]].to_numpy(dtype=object), name=key[0])
    return pd.MultiIndex.from_arrays([frame[k].to_numpy(dtype=object) for k in key], names=list(key))


def _load_table(
    engine: Engine,
    present: set[str],
    spec: Mapping,
    table: str,
    prepared: list[_Prepared],
    states: dict[str, pd.DataFrame],
    events: list[pd.DataFrame],
    records: list[pd.DataFrame],
    appends: dict[str, list[pd.DataFrame]],
    configured: list[pd.DataFrame],
    diffs: list[tuple[str, pd.DataFrame, pd.DataFrame, pd.Series, int]],
    loaded: list[pd.DataFrame],
    load_id: str,
    now: datetime,
) -> None:
    """Validate every target of ``table`` and merge its rows into the table's state (or queue appends)."""
    model = canonical_table(table)
    key = list(model.primary_key)
    keyed = table != "ledger" and bool(key)
    before = _existing(engine, present, table) if keyed else None
    state = before.copy() if before is not None else None
    changed_at = pd.Series(dtype="datetime64[us]")
    order = {"upsert": 0, "update": 1, "append": 2}
    for p in sorted(prepared, key=lambda p: order[p.target.mode]):
        frame = p.frame
        for col, cs in p.target.columns.items():
            if cs.lookup is not None and cs.via in frame.columns:
                ref_table, ref_col = cs.lookup.split(".", 1)
                ref = _state_of(engine, present, ref_table, states)
                frame[col] = frame[cs.via].map(ref[ref_col]).astype(PANDAS_DTYPES[model.column(col).dtype])
        failures = list(p.failures) + _row_rules(engine, present, p, model, states, state)
        bad = rules.first_failures(len(frame), failures)
        records.append(_records(spec, p, failures, load_id, now))
        good = frame[~bad]
        good_changed_at = p.changed_at[~bad]
        p.stats.rows_quarantined = int(bad.sum()) + len(p.source.bad_rows)
        if p.target.dedupe and key:
            dup = good.duplicated(subset=key, keep="first").to_numpy()
            good, good_changed_at = good[~dup], good_changed_at[~dup]
            p.stats.rows_deduplicated = int(dup.sum())
        p.stats.rows_loaded = len(good)
        if key and all(k in good.columns for k in key):
            loaded.append(pd.DataFrame({"table": table, "key": _key_text(good, key)}))
        new_events = _configured_events(p.target, good).assign(_from=id(p))
        events.append(new_events)
        configured.append(new_events[["entity_id", "name"]])
        if table == "ledger":
            events.append(good.reset_index(drop=True).assign(_from=id(p)))
            continue
        if not keyed or p.target.mode == "append":
            appends.setdefault(table, []).append(good)
            continue
        good = good.set_axis(_key_index(good, model.primary_key))
        good_changed_at.index = good.index
        if len(before):
            known = good.index.isin(before.index)
            p.known_keys = good.index[known]  # unchanged ones are counted once every target is merged
        state = _merge(state, good, p.set_cols, p.default_cols, table)
        changed_at = pd.concat([changed_at[~changed_at.index.isin(good.index)], good_changed_at])
    if state is None:
        return
    if table == "forecasts":  # which call replaced which is derived from all submissions, old and new
        state = with_superseded(state)
    states[table] = state
    if len(before):
        for p in prepared:
            keys = p.known_keys
            if keys is not None and len(keys):
                p.stats.rows_unchanged = int((~_rows_differ(before.loc[keys], state.loc[keys])).sum())
        if table in TRACKED:
            diffs.append((table, before, state, changed_at, id(prepared[0])))


def _state_of(engine: Engine, present: set[str], table: str, states: dict[str, pd.DataFrame]) -> pd.DataFrame:
    if table not in states:
        states[table] = _existing(engine, present, table)
    return states[table]


def _row_rules(
    engine: Engine,
    present: set[str],
    p: _Prepared,
    model: Any,
    states: dict[str, pd.DataFrame],
    state: pd.DataFrame | None,
) -> list[tuple[str, Failure]]:
    """The automatic rules (keys, required columns, codes, references) plus the target's declared ones."""
    target, frame = p.target, p.frame
    label = {c: (cs.from_ or c) for c, cs in target.columns.items()}
    out: list[tuple[str, Failure]] = []
    required = set(model.primary_key)
    if target.mode != "update":
        required |= {c.name for c in model.columns if not c.nullable}
    for rule in target.rules:
        if rule.rule == "not_null":
            required |= set(rule.columns)
    unparsed: dict[str, np.ndarray] = {}  # a cell that failed its cast is reported once, not also as missing
    for source, f in p.failures:
        unparsed[source] = unparsed.get(source, np.zeros(len(frame), dtype=bool)) | f.mask
    for col in frame.columns:
        if col in required:
            missing = rules.not_null(frame[col], label[col])
            if label[col] in unparsed:
                missing = Failure(missing.mask & ~unparsed[label[col]], missing.rule, missing.message)
            out.append((label[col], missing))
        enum = model.column(col).enum
        if enum is not None:
            out.append((label[col], rules.enum(frame[col], enum, label[col])))
    if model.primary_key and not target.dedupe and target.mode != "append":
        pk = list(model.primary_key)
        out.append((label[pk[0]], rules.unique(frame, pk, label[pk[0]])))
    for rule in target.rules:
        if not all(c in frame.columns for c in rule.columns):
            continue
        if rule.rule == "unique":
            out.append((label[rule.columns[0]], rules.unique(frame, rule.columns, label[rule.columns[0]])))
        elif rule.rule == "order_of_dates":
            for a, b in zip(rule.columns, rule.columns[1:], strict=False):
                out.append((label[b], rules.order_of_dates(frame[a], frame[b], (a, b), label[b])))
        elif rule.rule == "non_negative":
            out += [(label[c], rules.non_negative(frame[c], label[c])) for c in rule.columns]
    for fk in model.foreign_keys:
        if fk.column not in frame.columns:
            continue
        if fk.ref_table == model.name and state is not None:
            known = state.index.append(pd.Index(frame[fk.ref_column].dropna().to_numpy(dtype=object)))
        else:
            ref = _state_of(engine, present, fk.ref_table, states)
            if ref.empty:
                continue  # the referenced table was never loaded: nothing to check against
            known = ref.index
        out.append((label[fk.column], rules.foreign_key(frame[fk.column], known, fk.ref_table, label[fk.column])))
    if target.mode == "update" and state is not None:
        keys = frame[model.primary_key[0]]
        pk_label = label[model.primary_key[0]]
        out.append(
            (
                pk_label,
                Failure(
                    (keys.notna() & ~keys.isin(state.index)).to_numpy(),
                    "foreign_key",
                    f"{pk_label}: no {model.name} row with this key to update",
                ),
            )
        )
    return out


def _records(
    spec: Mapping, p: _Prepared, failures: list[tuple[str, Failure]], load_id: str, now: datetime
) -> pd.DataFrame:
    """Quarantine lines: one per broken rule and row (plus lines that could not be split into fields).

    Each carries the row's primary key as text when it could be read, so a later load of that key resolves it.
    """
    key = [k for k in canonical_table(p.target.table).primary_key if k in p.frame.columns]
    if len(key) != len(canonical_table(p.target.table).primary_key):
        key = []
    parts = []
    for column, f in failures:
        if not f.mask.any():
            continue
        idx = np.flatnonzero(f.mask)
        if column in p.text.columns:
            values = p.text[column].iloc[idx].to_numpy(dtype=object)
        else:
            values = p.frame[column].iloc[idx].astype("str").to_numpy(dtype=object) if column in p.frame else None
        parts.append(
            pd.DataFrame(
                {
                    "row": p.source.rows[idx],
                    "column": column,
                    "rule": f.rule,
                    "value": values,
                    "message": f.message,
                    "key": _key_text(p.frame.iloc[idx], key) if key else None,
                }
            )
        )
    for row, line, message in p.source.bad_rows:
        parts.append(
            pd.DataFrame(
                {
                    "row": [row],
                    "column": [None],
                    "rule": ["field_count"],
                    "value": [line],
                    "message": [message],
                    "key": [None],
                }
            )
        )
    if not parts:
        return pd.DataFrame()
    out = pd.concat(parts, ignore_index=True)
    out.insert(0, "load_id", load_id)
    out.insert(1, "mapping", spec.name)
    out.insert(2, "file", str(p.source.path))
    out.insert(3, "target", p.target.name)
    out.insert(4, "table", p.target.table)
    out["quarantined_at"] = now
    return out


def _merge(
    state: pd.DataFrame, rows: pd.DataFrame, set_cols: list[str], default_cols: list[str], table: str
) -> pd.DataFrame:
    """Upsert ``rows`` into ``state`` by key: mapped columns overwrite, ``default:`` columns only fill gaps."""
    model = canonical_table(table)
    dtypes = {c.name: PANDAS_DTYPES[c.dtype] for c in model.columns}
    if state.empty:  # a first load: nothing to merge with
        return rows.reindex(columns=state.columns).astype(dtypes)
    old = rows.index.isin(state.index)
    parts = [state[~state.index.isin(rows.index)]]
    if old.any():
        keys = rows.index[old]
        cur = state.loc[keys].copy()
        for c in set_cols:
            cur[c] = rows.loc[old, c].to_numpy()
        for c in default_cols:
            cur[c] = cur[c].where(cur[c].notna(), rows.loc[old, c].to_numpy())
        parts.append(cur)
    if (~old).any():
        parts.append(rows[~old].reindex(columns=state.columns))
    merged = pd.concat([p for p in parts if len(p)] or [state.iloc[:0]])
    return merged.astype(dtypes)


def _text(series: pd.Series) -> pa.Array:
    """Values as text for comparing and for the ledger (null for missing), by Arrow and numpy kernels.

    The formats are the ones the ledger has always held (``YYYY-MM-DD HH:MM:SS``, ``repr`` of a float, ``true``/
    ``false``); no per-row Python, so diffing a million-row re-export costs column operations only.
    """
    missing = series.isna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(series):
        stamps = pa.array(series.astype("datetime64[us]"), type=pa.timestamp("us"), from_pandas=True)
        seconds = pc.floor_temporal(stamps, unit="second").cast(pa.timestamp("s"))
        return pc.strftime(seconds, format="%Y-%m-%d %H:%M:%S")
    if pd.api.types.is_float_dtype(series):  # numpy's float64 → str is the shortest round-trip form, as repr
        floats = series.to_numpy(dtype="float64", na_value=np.nan)
        return pa.array(floats.astype(str), type=pa.string(), mask=missing)
    if pd.api.types.is_bool_dtype(series):
        flags = series.to_numpy(dtype=bool, na_value=False)
        return pa.array(np.where(flags, "true", "false"), type=pa.string(), mask=missing)
    try:
        return pa.array(series, from_pandas=True).cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):  # mixed Python objects
        return pa.array(series.astype("str").to_numpy(dtype=object), type=pa.string(), mask=missing)


def _key_text(frame: pd.DataFrame, key: list[str] | tuple[str, ...]) -> np.ndarray:
    """Each row's primary key as text (parts joined by ``|``), None where a part is missing."""
    parts = [_text(frame[k]) for k in key]
    joined = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, quarantine.KEY_SEPARATOR)
    return joined.to_numpy(zero_copy_only=False)


def _comparable(series: pd.Series) -> pa.Array:
    """Values as two exports are compared: times to the whole second (what the ledger text shows), the rest as
    their ledger text. Cheaper than :func:`_text` for times, which are only formatted for rows that changed."""
    if pd.api.types.is_datetime64_any_dtype(series):
        stamps = pa.array(series.astype("datetime64[us]"), type=pa.timestamp("us"), from_pandas=True)
        return pc.floor_temporal(stamps, unit="second")
    return _text(series)


def _differs(a: pa.Array, b: pa.Array) -> np.ndarray:
    """Element-wise "not the same text", a null and a value counting as different, two nulls as equal."""
    unequal = pc.fill_null(pc.not_equal(a, b), False)
    one_null = pc.xor(pc.is_null(a), pc.is_null(b))
    return pc.or_(unequal, one_null).to_numpy(zero_copy_only=False)


def _pick(series: pd.Series, mask: np.ndarray) -> np.ndarray:
    """The ledger texts where ``mask`` holds, as an object array with None for nulls."""
    return _text(series[mask]).to_numpy(zero_copy_only=False)


def _rows_differ(before: pd.DataFrame, after: pd.DataFrame) -> np.ndarray:
    out = np.zeros(len(before), dtype=bool)
    for c in before.columns:
        out |= _differs(_comparable(before[c]), _comparable(after[c]))
    return out


def _diff_events(
    table: str,
    before: pd.DataFrame,
    after: pd.DataFrame,
    changed_at: pd.Series,
    configured: list[pd.DataFrame],
) -> pd.DataFrame:
    """Ledger rows for tracked fields that changed on keys known before this load.

    The two states are aligned by key (an index intersection), each tracked column is compared as text with
    Arrow kernels, and events the mapping already wrote are dropped by an anti-join on (entity, name).
    """
    keys = before.index.intersection(after.index)
    if not len(keys):
        return pd.DataFrame()
    old_rows, new_rows = before.loc[keys], after.loc[keys]
    written = pd.concat(configured, ignore_index=True) if configured else pd.DataFrame()
    parts = []
    for col, kind in TRACKED[table].items():
        mask = _differs(_comparable(old_rows[col]), _comparable(new_rows[col]))
        if not mask.any():
            continue
        ids = np.asarray(keys[mask], dtype=object).astype(str)
        new_values = _pick(new_rows[col], mask)
        names = np.full(mask.sum(), col, dtype=object) if kind == "field" else new_values
        frame = pd.DataFrame(
            {
                "entity_type": ENTITY_TYPES[table],
                "entity_id": ids,
                "kind": kind,
                "name": names,
                "old_value": _pick(old_rows[col], mask),
                "new_value": new_values,
                "occurred_at": changed_at.reindex(keys[mask]).to_numpy(),
            }
        )
        if kind != "field":  # an event the mapping already wrote (with its real time) is not repeated
            if len(written):
                known = pd.MultiIndex.from_frame(written[["entity_id", "name"]].astype(object))
                seen = pd.MultiIndex.from_frame(frame[["entity_id", "name"]].astype(object)).isin(known)
                frame = frame[~seen]
            frame = frame[frame["name"].notna()]
        parts.append(frame)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _configured_events(target: TargetSpec, rows: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for ev in target.events:
        if not all(c in rows.columns for c in (ev.id, ev.at, ev.when) if c is not None):
            continue
        sel = rows
        if ev.when is not None:
            sel = rows[rows[ev.when].fillna(False).astype(bool).to_numpy()]
        sel = sel[sel[ev.id].notna() & sel[ev.at].notna()]
        parts.append(
            pd.DataFrame(
                {
                    "entity_type": ev.entity,
                    "entity_id": sel[ev.id].astype("str").to_numpy(dtype=object),
                    "kind": ev.kind,
                    "name": ev.name,
                    "old_value": ev.old_value,
                    "new_value": ev.name,
                    "occurred_at": sel[ev.at].astype("datetime64[us]").to_numpy(),
                }
            )
        )
    if not parts:
        return pd.DataFrame(
            columns=["entity_type", "entity_id", "kind", "name", "old_value", "new_value", "occurred_at"]
        )
    return pd.concat(parts, ignore_index=True)


def event_ids(frame: pd.DataFrame) -> pd.Series:
    """Deterministic 128-bit ids from entity, kind, name, values and business time (same event, same id).

    The fields are joined into one text per event in Arrow, hashed twice with different keys by pandas' stable
    hash, and written as 32 hex digits, without a Python loop (a million events take about a second).
    """
    cols = ["entity_type", "entity_id", "kind", "name", "old_value", "new_value", "occurred_at"]
    arrays = []
    for c in cols:
        values = frame[c]
        if c == "occurred_at":
            arr = pa.array(values.astype("datetime64[us]").to_numpy(), type=pa.timestamp("us"))
        elif pd.api.types.is_string_dtype(values) and not pd.api.types.is_object_dtype(values):
            arr = pa.array(values, from_pandas=True)
        else:
            arr = pa.array(values.astype(object).where(values.notna(), None).to_numpy(), type=pa.string())
        arrays.append(arr.cast(pa.string()))
    joined = pc.binary_join_element_wise(*arrays, "\x1f", null_handling="replace", null_replacement="\x00")
    text = pd.Series(joined.to_numpy(zero_copy_only=False), dtype=object)
    halves = [
        pd.util.hash_pandas_object(text, index=False, hash_key=key, categorize=False).to_numpy()
        for key in ("revalign-ledger1", "revalign-ledger2")
    ]
    raw = np.stack(halves, axis=1).astype(">u8").tobytes()
    hexed = pa.array(np.frombuffer(binascii.hexlify(raw), dtype="S32"), type=pa.binary(32)).cast(pa.string())
    return pd.Series(hexed.to_pandas(types_mapper=pd.ArrowDtype).astype("str").array, index=frame.index)


def _new_ledger_rows(
    engine: Engine, present: set[str], events: list[pd.DataFrame], load_id: str, now: datetime
) -> pd.DataFrame:
    """This load's events with ids, minus those the ledger (or this load) already holds."""
    parts = [e for e in events if len(e)]
    if not parts:
        return pd.DataFrame(columns=LEDGER.column_names)
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.reindex(columns=[*LEDGER.column_names, "_from"]).astype({"event_id": object, "load_id": object})
    missing_id = frame["event_id"].isna()
    if missing_id.any():
        frame.loc[missing_id, "event_id"] = event_ids(frame[missing_id]).to_numpy(dtype=object)
    frame["recorded_at"] = pd.to_datetime(frame["recorded_at"]).fillna(pd.Timestamp(now)).astype("datetime64[us]")
    frame["load_id"] = frame["load_id"].where(frame["load_id"].notna(), load_id)
    frame = frame.drop_duplicates(subset=["event_id"], keep="first")
    if "ledger" in present:
        known = engine.execute(engine.table("ledger").event_id)
        frame = frame[~frame["event_id"].isin(known)]
    return frame.reset_index(drop=True).astype({c.name: PANDAS_DTYPES[c.dtype] for c in LEDGER.columns})


def _attribute_events(prepared: list[_Prepared], ledger_rows: pd.DataFrame) -> None:
    """Per-target counts of the events really added (a field change counts for its table's first target)."""
    counts = ledger_rows["_from"].value_counts() if len(ledger_rows) else pd.Series(dtype="int64")
    for p in prepared:
        p.stats.events_added = int(counts.get(id(p), 0))


_NAME = re.compile(r"[^0-9a-zA-Z]+")


def raw_table_name(mapping: str, file: Path) -> str:
    """``_raw_<mapping>_<file stem>`` in lower snake case (identifiers every engine accepts unquoted)."""
    stem = file.name.split(".", 1)[0] if file.is_file() else file.name
    return f"_raw_{_NAME.sub('_', mapping).lower()}_{_NAME.sub('_', stem).strip('_').lower()}"


def _write_raw(engine: Engine, present: set[str], spec: Mapping, src: SourceFile, load_id: str) -> None:
    """Keep the file as read: text columns (snake-cased names), data row number, load id."""
    names: list[str] = []
    for col in src.table.column_names:
        base = _NAME.sub("_", col).strip("_").lower() or "column"
        name, i = base, 2
        while name in names or name.startswith("_"):
            name, i = f"{base}_{i}", i + 1
        names.append(name)
    table = src.table.rename_columns(names)
    table = table.append_column("_row", pa.array(src.rows, type=pa.int64()))
    table = table.append_column("_load_id", pa.repeat(pa.scalar(load_id, pa.string()), table.num_rows))
    name = raw_table_name(spec.name, src.path)
    if name in present and list(engine.table(name).columns) != table.column_names:
        name = f"{name}_{load_id.split('-')[-1]}"  # the export's columns changed: keep both layouts
    engine.write(name, table.combine_chunks(), mode=_mode(name, present))
    present.add(name)


def table_counts(engine: Engine) -> pd.DataFrame:
    """Rows per canonical table (0 when never loaded), with when a load last wrote to it."""
    history = load_history(engine)
    rows = []
    for name in TABLES:
        n = int(engine.execute(engine.table(name).count())) if engine.has_table(name) else 0
        mine = history[history["table"] == name] if len(history) else history
        last = mine["loaded_at"].max() if len(mine) else None
        rows.append({"table": name, "rows": n, "last_loaded_at": last})
    return pd.DataFrame(rows)
