"""Revalign remembers what the CRM forgets: a newer export that overwrote lead sources leaves ledger rows.

Two hand-written exports of the same leads; the expected ledger rows are read off the two texts.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import make_engine

from revalign.sources import ingest, load_history

V1 = """Lead ID,Email,Created Date,Lead Source,Owner ID,Last Modified Date
L1,a@x.com,2024-01-02,Paid Search,U1,2024-01-02 10:00:00
L2,b@x.com,2024-01-03,Webinar,U1,2024-01-03 10:00:00
L3,c@x.com,2024-01-04,Organic Search,U2,2024-01-04 10:00:00
L4,d@x.com,2024-01-05,Email,U2,2024-01-05 10:00:00
"""
# L1: source Paid Search → Outbound (a rep re-sourced a marketing lead); L3: owner U2 → U3;
# L4: source Email → blank (stripped); L2 unchanged; L5 new.
V2 = """Lead ID,Email,Created Date,Lead Source,Owner ID,Last Modified Date
L1,a@x.com,2024-01-02,Outbound,U1,2024-02-01 09:00:00
L2,b@x.com,2024-01-03,Webinar,U1,2024-01-03 10:00:00
L3,c@x.com,2024-01-04,Organic Search,U3,2024-02-02 09:00:00
L4,d@x.com,2024-01-05,,U2,2024-02-03 09:00:00
L5,e@x.com,2024-02-04,Email,U2,2024-02-04 10:00:00
"""


def _export(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "leads.csv").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_engine(request):
    """DuckDB and PostgreSQL (Spark's parity is shown by the Olist test; two more Spark loads cost ~30 s)."""
    eng = make_engine(request.param, request)
    yield eng
    eng.close()


def test_changed_sources_become_ledger_rows_and_the_original_stays_queryable(sql_engine, tmp_path):
    engine = sql_engine
    first = ingest(engine, _export(tmp_path / "v1", V1), "generic_crm")
    second = ingest(engine, _export(tmp_path / "v2", V2), "generic_crm")
    ledger = engine.table("ledger")
    changes = engine.execute(
        ledger.filter(ledger.kind == "field").select("entity_id", "name", "old_value", "new_value", "occurred_at")
    )
    got = sorted(map(tuple, changes.assign(occurred_at=changes["occurred_at"].astype(str)).values.tolist()))
    assert got == [
        ("L1", "lead_source", "paid_search", "outbound_sales", "2024-02-01 09:00:00"),
        ("L3", "owner_id", "U2", "U3", "2024-02-02 09:00:00"),
        ("L4", "lead_source", "email", "unknown", "2024-02-03 09:00:00"),
    ]
    # current state is the newer export; the original source is still known from the ledger
    leads = engine.execute(engine.table("leads")).set_index("lead_id")
    assert leads.loc["L1", "lead_source"] == "outbound_sales"
    original = engine.execute(
        ledger.filter((ledger.entity_id == "L1") & (ledger.name == "lead_source")).old_value
    ).tolist()
    assert original == ["paid_search"]
    # 4 + 1 "lead" lifecycle events (one per lead ever seen) + 3 changes
    assert first.events_added == 4 and second.events_added == 1 + 3
    assert int(engine.execute(ledger.count())) == 8
    (t,) = second.tables
    assert (t.rows_read, t.rows_loaded, t.rows_unchanged) == (5, 5, 1)  # only L2 is unchanged
    assert t.events_added == second.events_added
    # the raw copy of both exports is kept, per load
    raw = engine.execute(engine.table("_raw_generic_crm_leads"))
    assert raw.groupby("_load_id").size().sort_values().tolist() == [4, 5]
    assert len(load_history(engine)) == 2


def test_loading_the_older_export_again_changes_nothing(duckdb_engine, tmp_path):
    v1 = _export(tmp_path / "v1", V1)
    ingest(duckdb_engine, v1, "generic_crm")
    ingest(duckdb_engine, _export(tmp_path / "v2", V2), "generic_crm")
    before = duckdb_engine.execute(duckdb_engine.table("ledger").count())
    assert ingest(duckdb_engine, v1, "generic_crm").skipped_as_duplicate
    assert duckdb_engine.execute(duckdb_engine.table("ledger").count()) == before


def test_defaults_fill_gaps_but_never_overwrite_what_is_known(duckdb_engine, shared_data, tmp_path):
    """Olist: loading the MQL export again (a newer copy) must not reset converted leads to 'mql'."""
    folder = shared_data / "olist_marketing_funnel"
    ingest(duckdb_engine, folder, "olist")
    copy = tmp_path / "olist_marketing_qualified_leads_dataset.csv"
    copy.write_bytes((folder / copy.name).read_bytes() + b"")
    text = copy.read_text().splitlines()
    text[1] = text[1].replace("social", "email")  # the CRM now says the first lead came from email
    copy.write_text("\n".join(text) + "\n")
    report = ingest(duckdb_engine, copy, "olist")
    assert [t.target for t in report.tables] == ["mqls", "landing_pages"]
    leads = duckdb_engine.execute(duckdb_engine.table("leads"))
    assert (leads["lifecycle_stage"] == "customer").sum() == 842
    ledger = duckdb_engine.table("ledger")
    changes = duckdb_engine.execute(ledger.filter(ledger.kind == "field"))
    first_id = text[1].split(",")[0]
    assert changes[["entity_id", "old_value", "new_value"]].values.tolist() == [[first_id, "paid_social", "email"]]
    assert pd.Timestamp(changes["occurred_at"].iloc[0]) == pd.Timestamp(report.tables[0].file and _mtime(copy))


def _mtime(path: Path) -> pd.Timestamp:
    return pd.Timestamp(path.stat().st_mtime, unit="s").floor("s")
