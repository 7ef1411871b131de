"""① A CRM field-history file → ledger rows with the exact time and author of every change.

Two exports only show that a field changed somewhere between them, and the row's "Last Modified By" is whoever
touched it last. A CRM's field history (Salesforce ``LeadHistory`` / ``OpportunityFieldHistory``, HubSpot property
history) records each change as it happened: record, field, old and new value, who, when. A mapping target with
``history:`` (``mapping.HistorySpec``) reads such a file; each row becomes one ledger row, ``time_precision``
``exact``, in the same text the export diff writes (``diff.TRACKED`` says which fields are lifecycle or stage
moves, the field's canonical type and value map give the text), so the same change from both sources is one event:
the diff of the record's table drops a change that the history's latest change of that field already reached
(``diff.without_exact_twins``).

Fields the mapping does not name are kept under their own name as written (nothing a user gave is lost); a row
of an unknown object, without a record id, field or time, or whose value does not read as its field, is
quarantined like any other row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from revalign.model.tables import canonical_table
from revalign.sources.load.diff import ENTITY_TYPES, TRACKED
from revalign.sources.load.frames import ledger_text
from revalign.sources.load.run import LoadRun, Prepared, TableLoad
from revalign.sources.mapping import ColumnSpec, HistoryField, HistorySpec, TargetSpec
from revalign.sources.readers import SourceFile
from revalign.sources.values import Failure, apply_value_map, cast, source_cells

TABLE_OF = {entity: table for table, entity in ENTITY_TYPES.items()}
Failures = list[tuple[str, Failure]]


def history_labels(target: TargetSpec) -> dict[str, str]:
    """Ledger column → the history file's column it comes from (what a quarantine line names)."""
    h = target.history
    if h is None:
        return {}
    return {
        "entity_type": h.object or h.id,
        "entity_id": h.id,
        "kind": h.field,
        "name": h.field,
        "old_value": h.old_value or h.new_value,
        "new_value": h.new_value,
        "reason": h.reason or h.field,
        "actor_id": h.changed_by or h.field,
        "occurred_at": h.changed_at,
        "time_precision": h.changed_at,
    }


def prepare_history(run: LoadRun, target: TargetSpec, src: SourceFile, text: pd.DataFrame) -> Prepared:
    """The history file's rows as ledger rows (event id, recorded time and load are added with the others)."""
    h = target.history
    assert h is not None, "prepare_history is for history targets"
    nulls = run.spec.null_values
    failures: Failures = []
    if h.object is None:  # a history of one object (``entity:``): every row is that entity
        entity = pd.Series(h.entity, index=text.index, dtype=object)
    else:
        entity = _entities(h, h.object, source_cells(text, h.object, nulls), failures)
    field = source_cells(text, h.field, nulls)
    occurred, fails = cast(
        source_cells(text, h.changed_at, nulls),
        "timestamp",
        ColumnSpec(**{"from": h.changed_at, "format": h.changed_at_format}),
        timezone=run.spec.timezone,
        fx_rate=None,
        source=h.changed_at,
    )
    failures += [(h.changed_at, f) for f in fails]
    frame = pd.DataFrame(
        {
            "entity_type": entity,
            "entity_id": source_cells(text, h.id, nulls),
            "kind": "field",
            "name": field,
            "old_value": source_cells(text, h.old_value, nulls),
            "new_value": source_cells(text, h.new_value, nulls),
            "reason": source_cells(text, h.reason, nulls),
            "actor_id": source_cells(text, h.changed_by, nulls),
            "occurred_at": occurred,
            "time_precision": "exact",
        },
        index=text.index,
    ).astype({"kind": object, "name": object, "old_value": object, "new_value": object, "time_precision": object})
    reasons = run.spec.named_map(h.reason_values)
    if reasons is not None:
        frame["reason"] = apply_value_map(frame["reason"].astype("str"), reasons).astype(object)
    keys = field.str.lower()
    for (key, ent), rows in frame.groupby([keys, entity], sort=False, dropna=True):
        spec = h.fields.get(str(key))
        if spec is not None:
            failures += _canonical_values(run, h, frame, rows.index, spec, str(ent))
    if h.old_value is None or h.old_value not in text.columns:
        frame["old_value"] = _previous_values(frame)
    changes = frame[["occurred_at", "actor_id", "reason"]]
    stats = TableLoad(str(src.path), target.name, target.table, rows_read=src.rows_read)
    return Prepared(src, target, text, frame, list(frame.columns), [], failures, changes, stats)


def _entities(h: HistorySpec, column: str, objects: pd.Series, failures: Failures) -> pd.Series:
    """Object labels → entity types; a label the mapping does not know is a failure (rule enum)."""
    entity = objects.str.lower().map(h.objects).astype(object)
    unknown = (objects.notna() & entity.isna()).to_numpy()
    labels = ", ".join(sorted(h.objects))
    failures.append((column, Failure(unknown, "enum", f"{column}: not an object this mapping reads ({labels})")))
    return entity


def _canonical_values(
    run: LoadRun, h: HistorySpec, frame: pd.DataFrame, index: pd.Index, spec: HistoryField, entity: str
) -> Failures:
    """Rewrite the rows ``index`` (one field of one object) as the canonical field: name, kind and value text.

    Values go through the field's value map and its canonical type, then into ledger text, exactly as a diff of
    two exports writes them, so both sources of the same change agree on the event.
    """
    table = TABLE_OF[entity]
    model = canonical_table(table)
    where = frame.index.get_indexer(index)
    if spec.name not in model.column_names:
        mask = np.zeros(len(frame), dtype=bool)
        mask[where] = True
        return [(h.field, Failure(mask, "enum", f"{h.field}: {spec.name} is not a column of {table}"))]
    vmap = run.spec.named_map(spec.values)
    failures: Failures = []
    texts = {}
    for side in ("old_value", "new_value"):
        values = frame.loc[index, side].astype("str")
        if vmap is not None:
            values = apply_value_map(values, vmap)
        label = (h.old_value or h.new_value) if side == "old_value" else h.new_value
        typed, fails = cast(
            values,
            model.column(spec.name).dtype,
            ColumnSpec(**{"from": label, "format": spec.format}),
            timezone=run.spec.timezone,
            fx_rate=run.fx_rate,
            source=label,
        )
        for f in fails:
            mask = np.zeros(len(frame), dtype=bool)
            mask[where] = f.mask
            failures.append((label, Failure(mask, f.rule, f.message)))
        texts[side] = ledger_text(typed).to_numpy(zero_copy_only=False)
    kind = TRACKED.get(table, {}).get(spec.name, "field")
    frame.loc[index, "old_value"] = texts["old_value"]
    frame.loc[index, "new_value"] = texts["new_value"]
    frame.loc[index, "kind"] = kind
    frame.loc[index, "name"] = spec.name if kind == "field" else texts["new_value"]
    return failures


def _previous_values(frame: pd.DataFrame) -> pd.Series:
    """Without an old-value column (HubSpot's property history has none), a change's old value is the new value
    of the record's previous change of the same field in the file."""
    order = frame.sort_values("occurred_at", kind="stable")
    field = order["name"].where(order["kind"] == "field", order["kind"])  # lifecycle/stage moves chain by kind
    previous = order.groupby([order["entity_type"], order["entity_id"], field], dropna=False)["new_value"].shift()
    return previous.reindex(frame.index).astype(object)
