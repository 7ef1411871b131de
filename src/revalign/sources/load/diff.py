"""① Merging a load into the current state, and what changed: ledger rows from re-export diffs, supersession.

Current state is merged in memory (the existing table is read, the new rows are merged by key, the table is
rewritten). That is simple and identical on every engine; it bounds a single table by memory (fine for CRM
exports of a few million rows, see docs/benchmarks.md).

**Revalign remembers what the CRM forgets.** When a newer export changes a tracked field of a known row (a lead
source overwritten, an owner reassigned, an amount cut, a stage moved), the old and new values go into the
append-only ``ledger`` with the business time (the export's modified-at column when mapped, else the export
time) and the load time. Ledger event ids are deterministic hashes, so even a forced reload cannot add an event
twice. Forecast supersession (``sources.supersession``) is derived from the merged table, old and new rows.

**Who, why, how precisely.** Such a change carries the row's last modifier (``modified_by``) as ``actor_id``,
resolved to a user id where the users table knows the name or email (:func:`resolve_actors`), its reason when it
enters a stage that leaves the funnel (``reason``), and ``time_precision`` ``between_exports``: it happened after
the earlier export, at or before ``occurred_at``. A change a field history recorded exactly (``load.history``) is
not repeated by the diff (:func:`without_exact_twins`).
"""

from __future__ import annotations

import binascii
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from revalign.engine import Engine, memtable
from revalign.model.tables import LEDGER, canonical_table
from revalign.sources.load.frames import conform, content_keys, digests, existing, key_index, ledger_text
from revalign.sources.load.run import LoadRun, Prepared, TableDiff
from revalign.sources.mapping import TargetSpec
from revalign.sources.supersession import with_superseded
from revalign.sources.values import constant, empty

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
EVENT_COLUMNS = ["entity_type", "entity_id", "kind", "name", "old_value", "new_value", "occurred_at"]
"""What an event id hashes. Who made a change, why and how precise its time is are facts about the event, not its
identity: adding them to a source must not give a known event a second id."""
EXITS = frozenset({"rejected", "recycled", "disqualified", "closed_lost"})
"""Lifecycle and opportunity stages that leave the funnel: a change into one carries the row's reason."""
SAME_CHANGE = ["entity_type", "entity_id", "kind", "name", "old_value", "new_value"]
SAME_MOMENT = ["entity_type", "entity_id", "kind", "name", "new_value", "occurred_at"]
"""One change as two exact sources both see it (not its old value, which only one of them may know)."""
FIELD_OF_RECORD = ["entity_type", "entity_id", "_field"]
"""A record's field (``_field``: see :func:`_field_of`): the history's latest value of it tells a diff's change."""


# -- merging into the current state ----------------------------------------------------------------------------
def merge_target(
    state: pd.DataFrame,
    before: pd.DataFrame,
    p: Prepared,
    good: pd.DataFrame,
    good_changes: pd.DataFrame,
    changes: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``state`` with the accepted rows of ``p`` upserted, and when, by whom and why each key last changed."""
    good = good.set_axis(key_index(good, canonical_table(p.target.table).primary_key))
    good_changes = good_changes.set_axis(good.index)  # not in place: it may be the prepared frame itself
    if len(before):
        known = good.index.isin(before.index)
        p.known_keys = good.index[known]  # unchanged ones are counted once every target is merged
    state = merge(state, good, p.set_cols, p.default_cols, p.target.table)
    if not len(changes):  # the table's first target: nothing for its rows' changes to replace
        return state, good_changes
    return state, pd.concat([changes[~changes.index.isin(good.index)], good_changes])


def merge(
    state: pd.DataFrame, rows: pd.DataFrame, set_cols: list[str], default_cols: list[str], table: str
) -> pd.DataFrame:
    """Upsert ``rows`` into ``state`` by key: mapped columns overwrite, ``default:`` columns only fill gaps."""
    if state.empty:  # a first load: nothing to merge with
        return conform(rows, table)
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
        parts.append(conform(rows[~old], table))
    merged = pd.concat([p for p in parts if len(p)] or [state.iloc[:0]])
    return conform(merged, table)


def settle(
    run: LoadRun,
    table: str,
    before: pd.DataFrame,
    state: pd.DataFrame,
    changes: pd.DataFrame,
    prepared: list[Prepared],
) -> None:
    """Keep the merged state for writing; count unchanged rows and queue the table's diff against ``before``."""
    if table == "forecasts":  # which call replaced which is derived from all submissions, old and new
        state = with_superseded(state)
    run.states[table] = state
    if not len(before):
        return
    for p in prepared:
        keys = p.known_keys
        if keys is not None and len(keys):
            p.stats.rows_unchanged = int((~_rows_differ(before.loc[keys], state.loc[keys])).sum())
    if table in TRACKED:
        run.diffs.append(TableDiff(table, before, state, changes, id(prepared[0])))


def new_rows(run: LoadRun, table: str, batches: list[tuple[Prepared, pd.DataFrame]]) -> list[pd.DataFrame]:
    """The accepted rows of append targets that the table does not already hold, by content key.

    A table without a primary key (spend, web traffic) cannot be upserted, and keying its appends by the file's
    digest let a re-saved file (CRLF line endings) or a re-ingest after a crash add every row again. Here a row's
    identity is its content (``frames.content_keys``): a batch adds only the rows beyond those of the same content
    that the table, with this load's earlier batches, already holds. Rows skipped so count as loaded, unchanged.
    """
    seen = content_keys(existing(run.engine, run.present, table), table)
    out = []
    for p, good in batches:
        keys = content_keys(good, table)
        fresh = ~keys.isin(seen)
        p.stats.rows_unchanged += int((~fresh).sum())
        seen = seen.append(keys[fresh])
        out.append(good[fresh])
    return out


# -- comparing two states ------------------------------------------------------------------------------------
def _comparable(series: pd.Series) -> pa.Array:
    """Values as two exports are compared: times to the whole second (what the ledger text shows), the rest as
    their ledger text. Cheaper than :func:`ledger_text` for times, which are only formatted for rows that changed.
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        stamps = pa.array(series.astype("datetime64[us]"), type=pa.timestamp("us"), from_pandas=True)
        return pc.floor_temporal(stamps, unit="second")
    return ledger_text(series)


def _differs(a: pa.Array, b: pa.Array) -> np.ndarray:
    """Element-wise "not the same text", a null and a value counting as different, two nulls as equal."""
    unequal = pc.fill_null(pc.not_equal(a, b), False)
    one_null = pc.xor(pc.is_null(a), pc.is_null(b))
    return pc.or_(unequal, one_null).to_numpy(zero_copy_only=False)


def _pick(series: pd.Series, mask: np.ndarray) -> np.ndarray:
    """The ledger texts where ``mask`` holds, as an object array with None for nulls."""
    return ledger_text(series[mask]).to_numpy(zero_copy_only=False)


def _rows_differ(before: pd.DataFrame, after: pd.DataFrame) -> np.ndarray:
    out = np.zeros(len(before), dtype=bool)
    for c in before.columns:
        out |= _differs(_comparable(before[c]), _comparable(after[c]))
    return out


def diff_events(diff: TableDiff, configured: list[pd.DataFrame]) -> pd.DataFrame:
    """Ledger rows for tracked fields that changed on keys known before this load.

    The two states are aligned by key (an index intersection), each tracked column is compared as text with
    Arrow kernels, and events the mapping already wrote are dropped by an anti-join on (entity, name).
    """
    keys = diff.before.index.intersection(diff.after.index)
    if not len(keys):
        return pd.DataFrame()
    old_rows, new_rows = diff.before.loc[keys], diff.after.loc[keys]
    written = pd.concat(configured, ignore_index=True) if configured else pd.DataFrame()
    parts = []
    for col, kind in TRACKED[diff.table].items():
        mask = _differs(_comparable(old_rows[col]), _comparable(new_rows[col]))
        if not mask.any():
            continue
        new_values = _pick(new_rows[col], mask)
        change = diff.changes.reindex(keys[mask])
        exits = np.isin(new_values.astype(str), list(EXITS)) & (kind != "field")
        frame = pd.DataFrame(
            {
                "entity_type": ENTITY_TYPES[diff.table],
                "entity_id": np.asarray(keys[mask], dtype=object).astype(str),
                "kind": kind,
                "name": np.full(mask.sum(), col, dtype=object) if kind == "field" else new_values,
                "old_value": _pick(old_rows[col], mask),
                "new_value": new_values,
                "occurred_at": change["occurred_at"].to_numpy(),
                "actor_id": change["actor_id"].to_numpy(dtype=object),
                "reason": np.where(exits, change["reason"].to_numpy(dtype=object), None),
                "time_precision": "between_exports",
            }
        )
        if kind != "field":  # an event the mapping already wrote (with its real time) is not repeated
            frame = _not_written(frame, written)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _not_written(frame: pd.DataFrame, written: pd.DataFrame) -> pd.DataFrame:
    """Stage/lifecycle events minus those the mapping wrote (same entity and name), and without a name."""
    if len(written):
        known = pd.MultiIndex.from_frame(written[["entity_id", "name"]].astype(object))
        seen = pd.MultiIndex.from_frame(frame[["entity_id", "name"]].astype(object)).isin(known)
        frame = frame[~seen]
    return frame[frame["name"].notna()]


def configured_events(target: TargetSpec, rows: pd.DataFrame) -> pd.DataFrame:
    """The events a target's ``events:`` writes for its accepted rows (where ``when`` holds)."""
    parts = []
    for ev in target.events:
        if not all(c in rows.columns for c in (ev.id, ev.at, ev.when) if c is not None):
            continue
        sel = rows
        if ev.when is not None:
            sel = rows[rows[ev.when].fillna(False).astype(bool).to_numpy()]
        sel = sel[sel[ev.id].notna() & sel[ev.at].notna()]
        index, n = pd.RangeIndex(len(sel)), len(sel)
        # text columns as Arrow-backed ``str`` (constants by one kernel): one event per row of a million-row
        # export must not become millions of Python strings that the ledger's types convert back
        parts.append(
            pd.DataFrame(
                {
                    "entity_type": constant(ev.entity, "string", n, index),
                    "entity_id": sel[ev.id].astype("str").set_axis(index),
                    "kind": constant(ev.kind, "string", n, index),
                    "name": constant(ev.name, "string", n, index),
                    "old_value": constant(ev.old_value, "string", n, index),
                    "new_value": constant(ev.name, "string", n, index),
                    "occurred_at": sel[ev.at].astype("datetime64[us]").set_axis(index),
                    "time_precision": constant("exact", "string", n, index),  # the CRM recorded the date itself
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    return pd.concat(parts, ignore_index=True)


# -- ledger rows ---------------------------------------------------------------------------------------------
def event_ids(frame: pd.DataFrame) -> pd.Series:
    """Deterministic 128-bit ids from entity, kind, name, values and business time (same event, same id).

    The fields are joined into one text per event in Arrow, hashed twice with different keys by pandas' stable
    hash, and written as 32 hex digits, without a Python loop (a million events take about a second).
    """
    return _hex_ids(event_digests(frame), frame.index)


def event_digests(frame: pd.DataFrame) -> np.ndarray:
    """The 128 bits of each event's id as two unsigned 64-bit columns: numbers, so finding repeated ids among a
    million new events hashes integers rather than 32-digit texts."""
    arrays = []
    for c in EVENT_COLUMNS:
        values = frame[c]
        if c == "occurred_at":
            arr = pa.array(values.astype("datetime64[us]").to_numpy(), type=pa.timestamp("us"))
        elif pd.api.types.is_string_dtype(values) and not pd.api.types.is_object_dtype(values):
            arr = pa.array(values, from_pandas=True)
        else:
            arr = pa.array(values.astype(object).where(values.notna(), None).to_numpy(), type=pa.string())
        arrays.append(arr.cast(pa.string()))
    joined = pc.binary_join_element_wise(*arrays, "\x1f", null_handling="replace", null_replacement="\x00")
    return digests(joined)


def _hex_ids(digest: np.ndarray, index: pd.Index) -> pd.Series:
    """Digests as the 32 hex digits of an event id."""
    raw = digest.astype(">u8").tobytes()
    hexed = pa.array(np.frombuffer(binascii.hexlify(raw), dtype="S32"), type=pa.binary(32)).cast(pa.string())
    return pd.Series(hexed.to_pandas(types_mapper=pd.ArrowDtype).astype("str").array, index=index)


def ledger_rows(run: LoadRun) -> pd.DataFrame:
    """This load's new ledger rows (configured events, rows of ledger targets, diffs); sets the event counts."""
    diffs = [diff_events(d, run.configured).assign(_from=d.owner) for d in run.diffs]  # configured ones all known
    run.events += [without_exact_twins(run, d) for d in diffs if len(d)]
    rows = _new_ledger_rows(run.engine, run.present, run.events, run.load_id, run.now)
    if len(rows):
        rows["actor_id"] = resolve_actors(rows["actor_id"], run.state_of("users"))
    run.report.events_added = len(rows)
    _attribute_events(run.prepared, rows)
    return rows


def _new_ledger_rows(
    engine: Engine, present: set[str], events: list[pd.DataFrame], load_id: str, now: datetime
) -> pd.DataFrame:
    """This load's events with ids, minus those the ledger (or this load) already holds."""
    parts = [e for e in events if len(e)]
    if not parts:
        return pd.DataFrame(columns=LEDGER.column_names)
    frame = pd.concat(parts, ignore_index=True)
    # columns no part has (ids, load and record time of configured events) start as typed nulls, not as NaN
    # objects that every later step would convert row by row
    cols = {c.name: frame[c.name] if c.name in frame else empty(c.dtype, frame.index) for c in LEDGER.columns}
    frame = _one_per_exact_change(pd.DataFrame({**cols, "_from": frame["_from"]}, index=frame.index))
    missing_id = frame["event_id"].isna()
    if missing_id.all():  # the usual load: every id is new, and repeats are found on its digest's numbers
        digest = event_digests(frame)
        frame["event_id"] = _hex_ids(digest, frame.index)
        repeated = pd.DataFrame(digest).duplicated(keep="first").to_numpy()
    else:
        if missing_id.any():
            frame["event_id"] = frame["event_id"].astype(object)
            frame.loc[missing_id, "event_id"] = event_ids(frame[missing_id]).to_numpy(dtype=object)
        repeated = frame["event_id"].duplicated(keep="first").to_numpy()
    frame["recorded_at"] = pd.to_datetime(frame["recorded_at"]).fillna(pd.Timestamp(now)).astype("datetime64[us]")
    if frame["load_id"].isna().all():
        frame["load_id"] = constant(load_id, "string", len(frame), frame.index)
    else:
        frame["load_id"] = frame["load_id"].astype(object).where(frame["load_id"].notna(), load_id)
    if repeated.any():  # one row per event id (a clean load has none repeated: no copy)
        frame = frame[~repeated]
    if "ledger" in present:
        known = engine.execute(engine.table("ledger").event_id)
        frame = _not_stored_twins(engine, present, frame[~frame["event_id"].isin(known)])
    return conform(frame.reset_index(drop=True), "ledger").assign(_from=frame["_from"].to_numpy())


def _one_per_exact_change(frame: pd.DataFrame) -> pd.DataFrame:
    """This load's exact events with one row per change: record, kind, name, new value and time.

    Two exact sources can record the same change and disagree on what they do not both know: a history-mode
    table's versions know the value before (the previous version) but not always who (HubSpot's tables name no
    modifier), HubSpot's property history knows who but no old value for a record's first change. Their event ids
    differ (the old value is part of one), so both would be stored. The twins become one event that keeps what
    either knows (the first known old value, author and reason); its id follows from that, the same on every load
    that reads both sources.
    """
    exact = ((frame["time_precision"] == "exact") & frame["event_id"].isna()).to_numpy(dtype=bool)
    # twins share their time: only rows whose time recurs among the exact ones are compared on every column
    # (hashing six columns of a million configured events costs a second; sorting their times, a tenth)
    times = frame["occurred_at"].astype("datetime64[us]").to_numpy().view("int64")
    exact = exact & _recurring(np.where(exact, times, np.iinfo(np.int64).min))
    if not exact.any():
        return frame
    rows = frame[exact]
    twins = rows[rows.duplicated(SAME_MOMENT, keep=False).to_numpy(dtype=bool)]
    if not len(twins):
        return frame
    facts = ["old_value", "actor_id", "reason"]
    known = twins[facts].astype(object).groupby([twins[c] for c in SAME_MOMENT], dropna=False, sort=False)
    merged = twins.assign(**known.transform("first")).drop_duplicates(SAME_MOMENT)
    merged = merged.astype({c: frame[c].dtype for c in facts})
    return pd.concat([frame.drop(index=twins.index), merged]).sort_index(kind="stable")


def _recurring(values: np.ndarray) -> np.ndarray:
    """Which of ``values`` (integers) occur more than once, found by one sort."""
    order = np.argsort(values, kind="stable")
    same = np.diff(values[order]) == 0
    sorted_out = np.zeros(len(values), dtype=bool)
    sorted_out[1:] |= same
    sorted_out[:-1] |= same
    out = np.empty(len(values), dtype=bool)
    out[order] = sorted_out
    return out


def _not_stored_twins(engine: Engine, present: set[str], frame: pd.DataFrame) -> pd.DataFrame:
    """New events minus exact ones whose change the ledger already holds exactly (same record, kind, name, new
    value and time) under another id: stored from two sources, or from one that knew less, in an earlier load. A
    load that re-reads only one of two sources (the other unchanged, so skipped) must not add it a second time."""
    exact = (frame["time_precision"].astype(object) == "exact").to_numpy(dtype=bool)
    if not exact.any():
        return frame
    stored = _stored_exact(engine, present, frame.loc[exact, "entity_id"].unique())
    if not len(stored):
        return frame
    held = exact & _moments(frame).isin(_moments(stored))
    return frame[~held]


def _moments(events: pd.DataFrame) -> pd.MultiIndex:
    """Each event's change as :data:`SAME_MOMENT` (texts as objects, times to the microsecond): comparable keys."""
    typed = events[SAME_MOMENT].astype({**dict.fromkeys(SAME_MOMENT, object), "occurred_at": "datetime64[us]"})
    return pd.MultiIndex.from_frame(typed)


def _attribute_events(prepared: list[Prepared], rows: pd.DataFrame) -> None:
    """Per-target counts of the events really added (a field change counts for its table's first target)."""
    counts = rows["_from"].value_counts() if len(rows) else pd.Series(dtype="int64")
    for p in prepared:
        p.stats.events_added = int(counts.get(id(p), 0))


# -- who and how precisely -----------------------------------------------------------------------------------
def without_exact_twins(run: LoadRun, diffs: pd.DataFrame) -> pd.DataFrame:
    """Changes seen between two exports minus those a field history recorded exactly (this load or before).

    A diff says only that a field went from one value to another since the last export; a field history (or a
    history-mode table) says how and when. When the history's latest exact change of the same record and field
    (for stage and lifecycle moves: of the same kind) reached the value the export now shows, the history already
    tells this change, with its exact time and author, and the diff adds nothing. That holds when it took several
    steps (500 → 700 → 900 is two exact events, not a third ``between_exports`` one from 500 to 900), and it does
    not depend on the export's time: a sync stamps its tables with a time taken before it reads (to the second),
    so the exact change it reads can look later than the export that shows it. A change the history has not
    recorded (yet) leaves the history's latest value different from the export's: the diff keeps it.
    """
    ids = diffs["entity_id"].unique()
    exact = [e.loc[_is_exact(e, ids), [*SAME_CHANGE, "occurred_at"]] for e in run.events if "time_precision" in e]
    parts = [p for p in [*exact, _stored_exact(run.engine, run.present, ids)] if len(p)]
    if not parts:
        return diffs
    known = pd.concat(parts, ignore_index=True).astype({"occurred_at": "datetime64[us]"})
    known = known.astype(dict.fromkeys(SAME_CHANGE, object)).assign(_field=_field_of)
    latest = known.sort_values("occurred_at", kind="stable").drop_duplicates(FIELD_OF_RECORD, keep="last")
    told = pd.MultiIndex.from_frame(latest[[*FIELD_OF_RECORD, "new_value"]])
    seen = pd.MultiIndex.from_frame(diffs.assign(_field=_field_of)[[*FIELD_OF_RECORD, "new_value"]].astype(object))
    return diffs[~seen.isin(told)]


def _field_of(events: pd.DataFrame) -> pd.Series:
    """What a change changes: a field's name, or for a lifecycle or stage move (named by the stage entered) its
    kind, so that a record's moves chain like its field changes do."""
    return events["name"].where(events["kind"] == "field", events["kind"]).astype(object)


def _is_exact(events: pd.DataFrame, entity_ids: np.ndarray) -> np.ndarray:
    """Exact events of these entities (the others cannot be the twin of a change among them)."""
    exact = (events["time_precision"].astype(object) == "exact").to_numpy(dtype=bool)
    return exact & events["entity_id"].isin(entity_ids).to_numpy(dtype=bool)


def _stored_exact(engine: Engine, present: set[str], entity_ids: np.ndarray) -> pd.DataFrame:
    """Exact events the ledger already holds for these entities (none when it has no time precision yet)."""
    empty = pd.DataFrame(columns=[*SAME_CHANGE, "occurred_at"])
    if "ledger" not in present or not len(entity_ids):
        return empty
    ledger = engine.table("ledger")
    if "time_precision" not in ledger.columns:
        return empty
    # a semi-join on the changed entities, not an IN list: a large re-export changes many thousands of rows
    changed = memtable(pd.DataFrame({"entity_id": [str(i) for i in entity_ids]}))
    query = ledger.filter(ledger.time_precision == "exact").semi_join(changed, "entity_id")
    found = engine.execute(query.select(*SAME_CHANGE, "occurred_at"))
    return found.astype({"occurred_at": "datetime64[us]"})


def resolve_actors(actors: pd.Series, users: pd.DataFrame) -> pd.Series:
    """Actors as user ids: a user id stays, a user's name or email (any case) becomes their id, and anything else
    is kept as written, so a rep whom the users export lacks is still named rather than lost."""
    if not len(users) or not actors.notna().any():
        return actors
    ids = pd.Series(users.index.astype(str), index=users.index.astype(str))
    by_label: dict[str, str] = {}
    for column in ("email", "name"):
        labels = users[column].astype(object).where(users[column].notna(), None)
        pairs = pd.DataFrame({"label": labels.str.strip().str.lower(), "id": users.index.astype(str)}).dropna()
        unique = pairs.drop_duplicates("label", keep=False)  # a name two users share names nobody
        by_label.update({k: v for k, v in zip(unique["label"], unique["id"], strict=True) if k not in by_label})
    text = actors.astype(object)
    known = text.isin(ids.index)
    mapped = text.str.strip().str.lower().map(by_label)
    return text.where(known | mapped.isna(), mapped).astype(actors.dtype)
