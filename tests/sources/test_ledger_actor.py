"""Who changed what, why, and how precisely we know when (issue #14, "the evidence must say who").

Through the files a customer has: two successive generic-CRM exports (``tests/sources/crm_exports.py``) and a
field-history file. The expected ledger rows are read off the fixture's texts by hand (its ``CHANGES``).
"""

from __future__ import annotations

import pandas as pd
from tests.sources import crm_exports

from revalign.sources import ingest
from revalign.sources.load.diff import event_ids


def _ledger(engine) -> pd.DataFrame:
    return engine.execute(engine.table("ledger"))


def test_two_exports_put_actor_reason_time_and_precision_in_the_ledger(engine, tmp_path):
    """On DuckDB, PostgreSQL and Spark: the customer's two exports, the ledger rows read off their texts."""
    first, second = crm_exports.write_exports(tmp_path)
    ingest(engine, first, "generic_crm")
    before = set(_ledger(engine)["event_id"])
    report = ingest(engine, second, "generic_crm")
    ledger = _ledger(engine)
    added = ledger[~ledger["event_id"].isin(before)]
    assert crm_exports.ledger_changes(added) == crm_exports.expected_changes()
    assert report.events_added == len(crm_exports.CHANGES)
    # the first load's events: one "lead" per lead and one "opportunity" for O1's lead, all at recorded times
    old = ledger[ledger["event_id"].isin(before)]
    assert sorted(old["entity_id"] + ":" + old["name"]) == [
        "L1:lead",
        "L1:opportunity",
        "L2:lead",
        "L3:lead",
        "L4:lead",
        "L5:lead",
    ]
    assert set(old["time_precision"]) == {"exact"}
    # re-ingesting either folder adds nothing (same bytes are skipped; a forced re-read would dedupe by event id)
    assert ingest(engine, second, "generic_crm").skipped_as_duplicate
    assert len(_ledger(engine)) == len(ledger)


def test_a_field_history_row_replaces_the_between_exports_twin(duckdb_engine, tmp_path):
    first, second = crm_exports.write_exports(tmp_path, history=True)
    ingest(duckdb_engine, first, "generic_crm")
    before = set(_ledger(duckdb_engine)["event_id"])
    ingest(duckdb_engine, second, "generic_crm")
    ledger = _ledger(duckdb_engine)
    added = ledger[~ledger["event_id"].isin(before)]
    assert crm_exports.ledger_changes(added) == crm_exports.expected_changes(history=True)


def test_history_loaded_before_the_export_still_wins(duckdb_engine, tmp_path):
    """The field history arrives in its own load, before the export that shows the same change."""
    first, second = crm_exports.write_exports(tmp_path)
    ingest(duckdb_engine, first, "generic_crm")
    history = tmp_path / "history"
    history.mkdir()
    (history / "field_history.csv").write_text(crm_exports.FIELD_HISTORY, encoding="utf-8")
    ingest(duckdb_engine, history, "generic_crm")
    ingest(duckdb_engine, second, "generic_crm")
    ledger = _ledger(duckdb_engine)
    l1 = ledger[(ledger["entity_id"] == "L1") & (ledger["name"] == "lead_source")]
    assert crm_exports.ledger_changes(l1) == [crm_exports.L1_EXACT]


HISTORY = """Object,Record ID,Field,Old Value,New Value,Changed By,Changed Date,Reason
Lead,L1,LeadSource,Paid Search,Outbound,Sam Seller,2025-03-09 14:22:00,
Lead,L5,Status,Accepted,Disqualified,rita@corp.example,2025-03-15 15:58:00,No Opportunity
Opportunity,O1,StageName,Discovery,Closed Lost,U2,2025-04-02 10:00:00,Lost to competitor
Opportunity,O1,Amount,25000,30000.00,U2,2025-03-03 10:00:00,
Lead,L4,Phone,555-0100,555-0199,Integration User,2025-03-04 08:00:00,
Contract,K1,Status,Draft,Signed,U2,2025-03-05 08:00:00,
Lead,,Lead Source,Email,Outbound,U2,2025-03-06 08:00:00,
Lead,L3,Lead Source,Organic Search,Outbound,U3,not a date,
"""
"""Salesforce-style field names and values; what each row becomes is listed in the test below."""


def test_a_field_history_file_becomes_exact_ledger_rows(duckdb_engine, tmp_path):
    first, _ = crm_exports.write_exports(tmp_path)
    ingest(duckdb_engine, first, "generic_crm")
    before = set(_ledger(duckdb_engine)["event_id"])
    folder = tmp_path / "history"
    folder.mkdir()
    (folder / "field_history.csv").write_text(HISTORY, encoding="utf-8")
    report = ingest(duckdb_engine, folder, "generic_crm")
    ledger = _ledger(duckdb_engine)
    added = crm_exports.ledger_changes(ledger[~ledger["event_id"].isin(before)])
    exact = "exact"
    assert added == sorted(
        [
            # a name and an email among the users become their ids; "Integration User" is kept as written
            ("lead", "L1", "field", "lead_source", "paid_search", "outbound_sales", None, "U2", "2025-03-09 14:22:00",
             exact),
            ("lead", "L5", "lifecycle", "disqualified", "accepted", "disqualified", "no_opportunity", "U3",
             "2025-03-15 15:58:00", exact),
            ("opportunity", "O1", "stage", "closed_lost", "discovery", "closed_lost", "competitor", "U2",
             "2025-04-02 10:00:00", exact),
            ("opportunity", "O1", "field", "amount", "25000.0", "30000.0", None, "U2", "2025-03-03 10:00:00", exact),
            ("lead", "L4", "field", "Phone", "555-0100", "555-0199", None, "Integration User", "2025-03-04 08:00:00",
             exact),
        ],
        key=crm_exports._order,
    )  # fmt: skip
    quarantined = duckdb_engine.execute(duckdb_engine.table("_quarantine"))
    quarantined = quarantined[quarantined["load_id"] == report.load_id]
    assert sorted(zip(quarantined["row"], quarantined["column"], quarantined["rule"], strict=True)) == [
        (6, "Object", "enum"),
        (7, "Record ID", "not_null"),
        (8, "Changed Date", "date_format"),
    ]
    (t,) = report.tables
    assert (t.rows_read, t.rows_loaded, t.rows_quarantined) == (8, 5, 3)


def test_without_an_old_value_column_the_previous_change_gives_it(duckdb_engine, tmp_path):
    """HubSpot's property history lists values, not changes: the old value is the record's previous value."""
    text = """Object,Record ID,Field,New Value,Changed By,Changed Date
Deal,D1,dealstage,Discovery,U1,2025-01-01 09:00:00
Deal,D1,dealstage,Proposal,U1,2025-01-09 09:00:00
Deal,D1,amount,1000,U1,2025-01-02 09:00:00
Deal,D1,amount,1500,U1,2025-01-05 09:00:00
"""
    (tmp_path / "field_history.csv").write_text(text, encoding="utf-8")
    ingest(duckdb_engine, tmp_path, "generic_crm")
    got = crm_exports.ledger_changes(_ledger(duckdb_engine))
    assert [(r[2], r[3], r[4], r[5]) for r in got] == [
        ("field", "amount", None, "1000.0"),
        ("field", "amount", "1000.0", "1500.0"),
        ("stage", "discovery", None, "discovery"),
        ("stage", "proposal", "discovery", "proposal"),
    ]


def test_event_ids_hash_only_the_event_columns():
    """Who, why and how precise are facts about an event, not its identity: the id of a known event is unchanged
    by them (the ids of every existing project's events stay valid)."""
    base = pd.DataFrame(
        {
            "entity_type": ["lead"],
            "entity_id": ["L1"],
            "kind": ["field"],
            "name": ["lead_source"],
            "old_value": ["email"],
            "new_value": ["outbound_sales"],
            "occurred_at": [pd.Timestamp("2025-03-10 09:00:00")],
        }
    )
    richer = base.assign(actor_id="U2", reason="no_opportunity", time_precision="between_exports")
    assert event_ids(richer).tolist() == event_ids(base).tolist()
    assert event_ids(base.assign(new_value="paid_search")).tolist() != event_ids(base).tolist()


def test_a_ledger_stored_before_time_precision_gains_the_column(duckdb_engine, tmp_path):
    """A project whose ledger predates the column: the next load adds it (nulls before), every event kept."""
    first, second = crm_exports.write_exports(tmp_path)
    ingest(duckdb_engine, first, "generic_crm")
    old = _ledger(duckdb_engine).drop(columns=["time_precision"])
    duckdb_engine.write("ledger", old)
    report = ingest(duckdb_engine, second, "generic_crm")
    ledger = _ledger(duckdb_engine)
    assert any("time_precision" in w for w in report.warnings)
    kept = ledger[ledger["event_id"].isin(old["event_id"])]
    assert len(kept) == len(old) and kept["time_precision"].isna().all()
    added = ledger[~ledger["event_id"].isin(old["event_id"])]
    assert crm_exports.ledger_changes(added) == crm_exports.expected_changes()
