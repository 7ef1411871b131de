"""Hand-written ledgers for the detector tests: one readable call per ledger event.

``ev("lead", "L1", "field", "lead_source", "2025-01-20", old="webinar", new="outbound_sales", actor="U1")`` is
one ledger row; ``event_id`` is a hash of the row (as the canonical model asks) and ``recorded_at`` is the
occurrence time unless ``recorded`` says otherwise. Other tables go through the funnel tests' ``frame`` (every
canonical column, nulls for what a test does not mention).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from revalign.engine import Engine
from revalign.model.tables import canonical_table
from tests.analytics.funnel.builders import frame


def ev(
    entity_type: str,
    entity_id: str,
    kind: str,
    name: str,
    when: str,
    *,
    old: str | None = None,
    new: str | None = None,
    reason: str | None = None,
    actor: str | None = None,
    recorded: str | None = None,
) -> dict[str, Any]:
    """One ledger row."""
    key = f"{entity_type}|{entity_id}|{kind}|{name}|{old}|{new}|{reason}|{when}"
    return {
        "event_id": hashlib.sha1(key.encode()).hexdigest()[:16],
        "entity_type": entity_type,
        "entity_id": entity_id,
        "kind": kind,
        "name": name,
        "old_value": old,
        "new_value": new if new is not None or kind == "field" else name,
        "reason": reason,
        "actor_id": actor,
        "occurred_at": pd.Timestamp(when),
        "recorded_at": pd.Timestamp(recorded or when),
    }


def write(engine: Engine, **tables: Iterable[Mapping[str, Any]]) -> None:
    """Write each canonical table given with its canonical schema (tables not given stay absent: empty)."""
    for name, rows in tables.items():
        engine.write(name, frame(name, list(rows)), schema=canonical_table(name).schema)


def event_ids(rows: Iterable[Mapping[str, Any]], *picks: int) -> str:
    """The evidence string of the rows at positions ``picks`` (comma-separated, in the order given)."""
    rows = list(rows)
    return ",".join(rows[i]["event_id"] for i in picks)
