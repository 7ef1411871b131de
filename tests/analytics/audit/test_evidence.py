"""The evidence timeline: exactly the ledger rows a finding names, in time order, on every engine."""

from __future__ import annotations

import pandas as pd

from revalign.analytics.audit.evidence import EVIDENCE_COLUMNS, evidence_ids, evidence_rows
from revalign.model.access import Tables
from tests.analytics.funnel.builders import write

LEDGER = [
    {
        "event_id": "e1",
        "entity_type": "lead",
        "entity_id": "L1",
        "kind": "field",
        "name": "lead_source",
        "old_value": "webinar",
        "new_value": "outbound_sales",
        "actor_id": "U7",
        "occurred_at": pd.Timestamp("2025-03-02 10:00"),
        "recorded_at": pd.Timestamp("2025-03-03 08:00"),
    },
    {
        "event_id": "e0",
        "entity_type": "lead",
        "entity_id": "L1",
        "kind": "lifecycle",
        "name": "mql",
        "new_value": "mql",
        "occurred_at": pd.Timestamp("2025-03-01 09:00"),
        "recorded_at": pd.Timestamp("2025-03-01 09:05"),
    },
    {
        "event_id": "e9",
        "entity_type": "lead",
        "entity_id": "L2",
        "kind": "lifecycle",
        "name": "disqualified",
        "reason": "no_opportunity",
        "occurred_at": pd.Timestamp("2025-01-01"),
        "recorded_at": pd.Timestamp("2025-01-01"),
    },
]
FINDINGS = pd.DataFrame({"finding_id": ["f1", "f2", "f3"], "evidence": ["e1, e0", "e9,missing", None]})


def test_evidence_rows_are_the_named_ledger_rows_in_time_order(engine):
    write(engine, ledger=LEDGER)
    rows = evidence_rows(Tables(engine), FINDINGS)
    assert list(rows.columns) == list(EVIDENCE_COLUMNS)
    assert rows[["finding_id", "event_id"]].values.tolist() == [["f1", "e0"], ["f1", "e1"], ["f2", "e9"]]
    change = rows.set_index("event_id").loc["e1"]
    assert (change["field"], change["old_value"], change["new_value"], change["actor_id"]) == (
        "lead_source",
        "webinar",
        "outbound_sales",
        "U7",
    )
    assert rows.set_index("event_id").loc["e9", "reason"] == "no_opportunity"


def test_no_evidence_is_an_empty_timeline(duckdb_engine):
    assert evidence_ids(FINDINGS.iloc[2:]).empty
    assert list(evidence_rows(Tables(duckdb_engine), FINDINGS.iloc[2:]).columns) == list(EVIDENCE_COLUMNS)
