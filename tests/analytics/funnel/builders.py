"""Tiny canonical fixtures written by hand: a ledger of readable tuples plus the few columns a test needs.

Every column a test does not mention is null (or a neutral default for non-null columns), so each test shows
only the data its rule is about.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from revalign.model.tables import canonical_table

_DEFAULTS: dict[str, dict[str, Any]] = {
    "leads": {"created_at": pd.Timestamp("2024-01-01")},
    "opportunities": {"created_at": pd.Timestamp("2024-01-01"), "is_closed": False, "is_won": False},
}


def frame(table: str, rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A DataFrame with every column of canonical ``table``; missing values are null (or the default)."""
    spec = canonical_table(table)
    rows = [{**_DEFAULTS.get(table, {}), **r} for r in rows]
    out = pd.DataFrame([{c: r.get(c) for c in spec.column_names} for r in rows], columns=spec.column_names)
    for col in spec.columns:
        if col.dtype == "timestamp":
            out[col.name] = pd.to_datetime(out[col.name])
        elif col.dtype == "date":
            out[col.name] = pd.to_datetime(out[col.name]).dt.date
    return out


def ledger_rows(events: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """``(entity_type, entity_id, kind, name, occurred_at[, reason])`` tuples → ledger rows."""
    rows = []
    for e in events:
        etype, eid, kind, name, when = e[:5]
        reason = e[5] if len(e) > 5 else None
        digest = hashlib.sha1(f"{etype}|{eid}|{kind}|{name}|{when}|{reason}".encode()).hexdigest()[:16]
        rows.append(
            {
                "event_id": digest,
                "entity_type": etype,
                "entity_id": eid,
                "kind": kind,
                "name": name,
                "reason": reason,
                "occurred_at": pd.Timestamp(when),
                "recorded_at": pd.Timestamp(when),
            }
        )
    return rows


def write(engine: Any, **tables: Iterable[Mapping[str, Any]]) -> None:
    """Write each canonical table given (``ledger=`` may be tuples) with its canonical schema."""
    for name, rows in tables.items():
        rows = list(rows)
        if name == "ledger" and rows and isinstance(rows[0], tuple):
            rows = ledger_rows(rows)
        engine.write(name, frame(name, rows), schema=canonical_table(name).schema)


def lifecycle(lead: str, *steps: tuple[str, str]) -> list[tuple[Any, ...]]:
    """Lifecycle events of one lead: ``lifecycle("L1", ("lead", "2024-01-01"), ("mql", "2024-01-03"))``."""
    return [("lead", lead, "lifecycle", name, when) for name, when in steps]
