"""① Validation: a target's text cells → typed rows, the rows that pass every rule, and quarantine lines.

Two steps, because some rules need other tables. :func:`prepare` casts each mapped column right after reading
(``type_cast`` and ``date_format`` failures come from the cast itself). :func:`accept` runs when the target's
table is loaded, after the tables it points at (``plan.TABLE_ORDER``): lookups are filled, the automatic and
declared row rules (``sources.rules``) run over whole columns, and every broken rule becomes a quarantine line
naming the file, row, column, rule and value. A row that breaks any rule is not loaded; the rest of the file is.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd

from revalign.model.tables import Table, canonical_table
from revalign.sources import rules
from revalign.sources.load.frames import key_arrow, key_text
from revalign.sources.load.history import history_labels, prepare_history
from revalign.sources.load.run import LoadRun, Prepared, TableLoad
from revalign.sources.mapping import EXPORT_TIME, ColumnSpec, RuleSpec, TargetSpec
from revalign.sources.readers import SourceFile
from revalign.sources.values import (
    PANDAS_DTYPES,
    TRUE_LABELS,
    Failure,
    apply_value_map,
    array_item,
    blank_out,
    cast,
    constant,
    empty,
    source_cells,
    text_series,
)

Failures = list[tuple[str, Failure]]
"""(source column, failure) pairs: the column is the one a quarantine line names."""


# -- prepare: casts, right after reading ---------------------------------------------------------------------
def prepare(run: LoadRun, target: TargetSpec, src: SourceFile, text: pd.DataFrame) -> Prepared:
    """Cast every mapped column; lookups wait for their table (they are filled in :func:`accept`)."""
    if target.history is not None:
        return prepare_history(run, target, src, text)
    spec = run.spec
    model = canonical_table(target.table)
    n = len(text)
    frame: dict[str, pd.Series] = {}
    failures: Failures = []
    set_cols, default_cols = [], []
    for col, cs in target.columns.items():
        dtype = model.column(col).dtype
        if cs.from_ is not None and cs.from_ not in text.columns:  # an optional column this export lacks
            continue
        if cs.from_ is not None:
            values = blank_out(text[cs.from_], [*spec.null_values, *cs.null_values])
            if cs.item is not None:  # a JSON array cell: one of its elements
                values, bad = array_item(values, cs.item)
                failures.append((cs.from_, Failure(bad, "type_cast", f"{cs.from_}: not a JSON array")))
            if cs.when is not None:  # e.g. a close date is the close time once closed (no flag column: never)
                flag = text[cs.when] if cs.when in text.columns else pd.Series("", index=text.index)
                values = values.where(flag.str.strip().str.lower().isin(TRUE_LABELS))
            vmap = spec.value_map(cs)
            if vmap is not None:
                values = apply_value_map(values, vmap)
            typed, fails = cast(values, dtype, cs, timezone=spec.timezone, fx_rate=run.fx_rate, source=cs.from_)
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
    changes = pd.DataFrame(
        {
            "occurred_at": _changed_at(run, target, src, text, failures),
            "actor_id": source_cells(text, target.modified_by, run.spec.null_values),
            "reason": _reason(run, target, text),
        }
    )
    stats = TableLoad(str(src.path), target.name, target.table, rows_read=src.rows_read)
    return Prepared(src, target, text, pd.DataFrame(frame), set_cols, default_cols, failures, changes, stats)


def _reason(run: LoadRun, target: TargetSpec, text: pd.DataFrame) -> pd.Series:
    """Why each row left the funnel: the first non-blank of the reason columns, through its value map."""
    out = pd.Series(None, index=text.index, dtype=object)
    if target.reason is None:
        return out
    vmap = run.spec.value_map(target.reason)
    if not any(c in text.columns for c in target.reason.from_) and (vmap is None or vmap.blank is None):
        return out  # the export has none of the reason columns: no reasons (and no per-cell work to say so)
    for column in target.reason.from_:
        out = out.where(out.notna(), source_cells(text, column, run.spec.null_values))
    return apply_value_map(out.astype("str"), vmap).astype(object) if vmap is not None else out


def _changed_at(run: LoadRun, target: TargetSpec, src: SourceFile, text: pd.DataFrame, failures: Failures) -> pd.Series:
    """When each row last changed: the mapped modified-at column where it parses, else the export time."""
    changed_at = pd.Series(pd.Timestamp(src.exported_at), index=text.index).astype("datetime64[us]")
    if target.modified_at is None or target.modified_at not in text.columns:
        return changed_at
    stamps, fails = cast(
        blank_out(text[target.modified_at], run.spec.null_values),
        "timestamp",
        ColumnSpec(**{"from": target.modified_at}),
        timezone=run.spec.timezone,
        fx_rate=None,
        source=target.modified_at,
    )
    failures += [(target.modified_at, f) for f in fails]
    return stamps.fillna(changed_at)


# -- accept: lookups and row rules, when the target's table loads ----------------------------------------------
def accept(run: LoadRun, p: Prepared, model: Table, state: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.Series]:
    """The rows of ``p`` that break no rule (first of repeated keys when deduplicating) and their changes.

    Records quarantine lines, loaded keys and the target's counts on the run.
    """
    frame = p.frame
    for col, cs in p.target.columns.items():
        if cs.lookup is not None and cs.via in frame.columns:
            ref_table, ref_col = cs.lookup.split(".", 1)
            ref = run.state_of(ref_table)
            frame[col] = frame[cs.via].map(ref[ref_col]).astype(PANDAS_DTYPES[model.column(col).dtype])
    failures = list(p.failures) + row_rules(run, p, model, state)
    bad = rules.first_failures(len(frame), failures)
    run.quarantine.append(quarantine_lines(run, p, failures))
    # a clean file (the usual case) keeps its frames as they are: a boolean take copies every column
    good, good_changes = (frame[~bad], p.changes[~bad]) if bad.any() else (frame, p.changes)
    p.stats.rows_quarantined = int(bad.sum()) + len(p.source.bad_rows)
    key = list(model.primary_key)
    if p.target.dedupe and key:
        dup = good.duplicated(subset=key, keep="first").to_numpy()
        good, good_changes = good[~dup], good_changes[~dup]
        p.stats.rows_deduplicated = int(dup.sum())
    p.stats.rows_loaded = len(good)
    if key and all(k in good.columns for k in key):
        keys = text_series(key_arrow(good, key), pd.RangeIndex(len(good)))
        run.loaded.append(pd.DataFrame({"table": model.name, "key": keys}))
    return good, good_changes


def row_rules(run: LoadRun, p: Prepared, model: Table, state: pd.DataFrame | None) -> Failures:
    """The automatic rules (keys, required columns, codes, references) plus the target's declared ones."""
    label = {c: (cs.from_ or c) for c, cs in p.target.columns.items()} | history_labels(p.target)
    return [
        *_column_rules(p, model, label),
        *_range_rules(run, p, model, label),
        *_declared_rules(p.target, p.frame, model, label),
        *_reference_rules(run, p, model, state, label),
    ]


def _range_rules(run: LoadRun, p: Prepared, model: Table, label: dict[str, str]) -> Failures:
    """Amounts and counts below zero (unless the target allows credits) and dates outside the date window.

    Only values read from the file are checked against the window; a constant or the export time is the
    mapping's own choice.
    """
    frame, target = p.frame, p.target
    declared = {c for r in target.rules if r.rule == "non_negative" for c in r.columns}  # reported once
    out: Failures = []
    for col in rules.NON_NEGATIVE.get(model.name, ()):
        if col in frame.columns and col not in target.allow_negative and col not in declared:
            out.append((label[col], rules.non_negative(frame[col], label[col])))
    earliest, latest = run.spec.date_window.bounds(run.now)
    for col, cs in target.columns.items():
        if cs.from_ is not None and col in frame.columns and model.column(col).dtype in ("date", "timestamp"):
            window = rules.date_range(frame[col], pd.Timestamp(earliest), pd.Timestamp(latest), label[col])
            out.append((label[col], window))
    return out


def _column_rules(p: Prepared, model: Table, label: dict[str, str]) -> Failures:
    """Required values (a cell that failed its cast is reported once, not also as missing) and canonical codes."""
    target, frame = p.target, p.frame
    required = set(model.primary_key)
    if target.mode != "update":
        required |= {c.name for c in model.columns if not c.nullable}
    for rule in target.rules:
        if rule.rule == "not_null":
            required |= set(rule.columns)
    unparsed: dict[str, np.ndarray] = {}
    for source, f in p.failures:
        unparsed[source] = unparsed.get(source, np.zeros(len(frame), dtype=bool)) | f.mask
    out: Failures = []
    for col in frame.columns:
        if col in required:
            missing = rules.not_null(frame[col], label[col])
            if label[col] in unparsed:
                missing = Failure(missing.mask & ~unparsed[label[col]], missing.rule, missing.message)
            out.append((label[col], missing))
        enum = model.column(col).enum
        if enum is not None:
            out.append((label[col], rules.enum(frame[col], enum, label[col])))
    return out


def _declared_rules(target: TargetSpec, frame: pd.DataFrame, model: Table, label: dict[str, str]) -> Failures:
    """The key's uniqueness (unless deduplicating or appending) and the target's ``rules:``."""
    out: Failures = []
    if model.primary_key and not target.dedupe and target.mode != "append":
        pk = list(model.primary_key)
        out.append((label[pk[0]], rules.unique(frame, pk, label[pk[0]])))
    for rule in target.rules:
        if all(c in frame.columns for c in rule.columns):
            out += _declared(rule, frame, model, label)
    return out


def _declared(rule: RuleSpec, frame: pd.DataFrame, model: Table, label: dict[str, str]) -> Failures:
    cols = rule.columns
    if rule.rule == "unique":
        return [(label[cols[0]], rules.unique(frame, cols, label[cols[0]]))]
    if rule.rule == "order_of_dates":
        out: Failures = []
        for a, b in pairwise(cols):
            by_day = "date" in (model.column(a).dtype, model.column(b).dtype)  # a date against a timestamp
            out.append((label[b], rules.order_of_dates(frame[a], frame[b], (a, b), label[b], by_day=by_day)))
        return out
    if rule.rule == "non_negative":
        return [(label[c], rules.non_negative(frame[c], label[c])) for c in cols]
    return []  # not_null is part of the required columns


def _reference_rules(
    run: LoadRun, p: Prepared, model: Table, state: pd.DataFrame | None, label: dict[str, str]
) -> Failures:
    """Foreign keys against this load's state of the referenced table; an update target's key must exist."""
    frame = p.frame
    out: Failures = []
    for fk in model.foreign_keys:
        if fk.column not in frame.columns:
            continue
        if fk.ref_table == model.name and state is not None:
            known = state.index.append(pd.Index(frame[fk.ref_column].dropna().to_numpy(dtype=object)))
        else:
            ref = run.state_of(fk.ref_table)
            if ref.empty:
                continue  # the referenced table was never loaded: nothing to check against
            known = ref.index
        out.append((label[fk.column], rules.foreign_key(frame[fk.column], known, fk.ref_table, label[fk.column])))
    if p.target.mode == "update" and state is not None:
        keys = frame[model.primary_key[0]]
        pk_label = label[model.primary_key[0]]
        missing = (keys.notna() & ~keys.isin(state.index)).to_numpy()
        message = f"{pk_label}: no {model.name} row with this key to update"
        out.append((pk_label, Failure(missing, "foreign_key", message)))
    return out


# -- quarantine lines ----------------------------------------------------------------------------------------
def quarantine_lines(run: LoadRun, p: Prepared, failures: Failures) -> pd.DataFrame:
    """Quarantine lines: one per broken rule and row (plus lines that could not be split into fields).

    Each carries the row's primary key as text when it could be read, so a later load of that key resolves it.
    """
    pk = canonical_table(p.target.table).primary_key
    key = [k for k in pk if k in p.frame.columns]
    if len(key) != len(pk):
        key = []
    parts = [_failed_cells(p, column, f, key) for column, f in failures if f.mask.any()]
    for bad in p.source.bad_rows:
        parts.append(
            pd.DataFrame(
                {
                    "row": [bad.row],
                    "column": [None],
                    "rule": [bad.rule],
                    "value": [bad.text],
                    "message": [bad.message],
                    "key": [None],
                }
            )
        )
    if not parts:
        return pd.DataFrame()
    out = pd.concat(parts, ignore_index=True)
    out.insert(0, "load_id", run.load_id)
    out.insert(1, "mapping", run.spec.name)
    out.insert(2, "file", str(p.source.path))
    out.insert(3, "target", p.target.name)
    out.insert(4, "table", p.target.table)
    out["quarantined_at"] = run.now
    return out


def _failed_cells(p: Prepared, column: str, f: Failure, key: list[str]) -> pd.DataFrame:
    """One line per row that broke ``f``: the value as the file wrote it (or as typed, for a computed column)."""
    idx = np.flatnonzero(f.mask)
    if column in p.text.columns:
        values = p.text[column].iloc[idx].to_numpy(dtype=object)
    else:
        values = p.frame[column].iloc[idx].astype("str").to_numpy(dtype=object) if column in p.frame else None
    return pd.DataFrame(
        {
            "row": p.source.rows[idx],
            "column": column,
            "rule": f.rule,
            "value": values,
            "message": f.message,
            "key": key_text(p.frame.iloc[idx], key) if key else None,
        }
    )
