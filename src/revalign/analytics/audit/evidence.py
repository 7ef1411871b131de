"""The evidence behind findings: the ledger rows each finding's ``evidence`` names, as a timeline.

A reviewer confirms or dismisses a finding on what happened, not on the detector's word: when the change
happened and when revalign learned of it, who made it, which field, and its old and new value. A finding's
``evidence`` column holds the ledger ``event_id``s (comma-separated); this reads exactly those rows on the engine
(a join with the few ids asked for, never a scan pulled into pandas).
"""

from __future__ import annotations

from typing import Final

import ibis
import ibis.expr.datatypes as dt
import pandas as pd

from revalign.model.access import Tables

EVIDENCE_COLUMNS: Final = (
    "finding_id",
    "event_id",
    "occurred_at",
    "recorded_at",
    "actor_id",
    "entity_type",
    "entity_id",
    "kind",
    "field",
    "old_value",
    "new_value",
    "reason",
)
"""One row per (finding, ledger event): when, who, which record and field, old → new, and the stated reason."""

_S = dt.String(nullable=True)


def evidence_ids(findings: pd.DataFrame) -> pd.DataFrame:
    """``finding_id, event_id`` pairs from the findings' ``evidence`` column (blank ids dropped)."""
    if findings.empty or "evidence" not in findings:
        return pd.DataFrame({"finding_id": pd.Series(dtype="string"), "event_id": pd.Series(dtype="string")})
    pairs = findings[["finding_id", "evidence"]].dropna()
    pairs = pairs.assign(event_id=pairs["evidence"].astype(str).str.split(",")).explode("event_id")
    pairs["event_id"] = pairs["event_id"].str.strip()
    pairs = pairs[pairs["event_id"].astype(bool)]
    return pairs[["finding_id", "event_id"]].astype("string").drop_duplicates().reset_index(drop=True)


def evidence_rows(tables: Tables, findings: pd.DataFrame) -> pd.DataFrame:
    """The ledger rows of ``findings``' evidence, per finding in time order (:data:`EVIDENCE_COLUMNS`).

    An event id the ledger no longer holds is left out; pass only the findings being shown (a page of them).
    """
    pairs = evidence_ids(findings)
    if pairs.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in EVIDENCE_COLUMNS})
    wanted = ibis.memtable(pairs.astype(object), schema={"finding_id": _S, "event_id": _S})
    ledger = tables.table("ledger")
    j = wanted.join(ledger, wanted.event_id == ledger.event_id.cast(_S))
    expr = j.select(
        finding_id=j.finding_id,
        event_id=wanted.event_id,
        occurred_at=j.occurred_at,
        recorded_at=j.recorded_at,
        actor_id=j.actor_id.cast(_S),
        entity_type=j.entity_type.cast(_S),
        entity_id=j.entity_id.cast(_S),
        kind=j.kind.cast(_S),
        field=j.name.cast(_S),
        old_value=j.old_value.cast(_S),
        new_value=j.new_value.cast(_S),
        reason=j.reason.cast(_S),
    )
    frame = tables.to_pandas(expr)
    frame = frame.sort_values(["finding_id", "occurred_at", "event_id"], kind="stable")
    return frame[list(EVIDENCE_COLUMNS)].reset_index(drop=True)


__all__ = ["EVIDENCE_COLUMNS", "evidence_ids", "evidence_rows"]
