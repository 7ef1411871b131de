"""A small HubSpot portal as Fivetran syncs it loads through ``fivetran_hubspot``: contacts, companies, deals, their
associations, and property history as exact ledger events (old values chained from the previous value).

Every expectation is read off the hand-written tables below. HubSpot ids are numbers; Fivetran types them so.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest
from tests.sources.warehouse.salesforce import write_parquet

from revalign.engine import Engine, connect
from revalign.sources import quarantined
from revalign.sources.warehouse import ingest_tables

T = pd.Timestamp


def _portal() -> dict[str, pa.Table]:
    return {
        "owner": pa.table({"owner_id": [101, 102], "email": ["ann@corp.example", "sam@corp.example"]}),
        "company": pa.table({"id": [9001], "property_name": ["Acme"], "property_createdate": [T("2025-01-01")]}),
        "contact": pa.table(
            {
                "id": [1, 2, 3],
                "property_email": ["a@acme.example", "b@acme.example", "c@acme.example"],
                "property_createdate": [T("2025-01-02 09:00"), T("2025-01-03 09:00"), T("2025-01-04 09:00")],
                "property_lifecyclestage": ["customer", "marketingqualifiedlead", "partnerlead"],
                "property_hs_analytics_source": ["DIRECT_TRAFFIC", "ORGANIC_SEARCH", "PAID_SEARCH"],
                "property_hubspot_owner_id": [102, 101, 101],
                "property_associatedcompanyid": [9001, 9001, None],
            }
        ),
        "deal": pa.table(
            {
                "deal_id": [501, 502],
                "deal_pipeline_stage_id": ["closedwon", "appointmentscheduled"],
                "property_createdate": [T("2025-02-01 10:00"), T("2025-02-05 10:00")],
                "property_closedate": [T("2025-03-10"), T("2025-06-30")],
                "property_hs_is_closed": [True, False],
                "property_amount": [1200.0, 500.0],
                "owner_id": [102, 101],
            }
        ),
        "deal_contact": pa.table({"deal_id": [501, 501, 502], "contact_id": [1, 2, 2]}),
        "deal_company": pa.table({"deal_id": [501], "company_id": [9001]}),
        "contact_property_history": pa.table(
            {
                "contact_id": [1, 1, 1, 1, 1],
                "name": ["lifecyclestage", "lifecyclestage", "hs_analytics_source", "hs_analytics_source", "email"],
                "value": ["marketingqualifiedlead", "customer", "PAID_SEARCH", "DIRECT_TRAFFIC", "a@acme.example"],
                "timestamp": [
                    T("2025-01-05 08:00"),
                    T("2025-03-10 12:00"),
                    T("2025-01-02 09:00"),
                    T("2025-02-20 16:30"),
                    T("2025-01-02 09:00"),
                ],
                "source": ["CRM_UI", "CRM_UI", "ANALYTICS", "CRM_UI", "FORM"],
                "source_id": ["101", "102", None, "102", None],
            }
        ),
        "deal_property_history": pa.table(
            {
                "deal_id": [501, 501, 501],
                "name": ["dealstage", "dealstage", "amount"],
                "value": ["appointmentscheduled", "closedwon", "1200"],
                "timestamp": [T("2025-02-01 10:00"), T("2025-03-10 15:00"), T("2025-03-01 11:00")],
                "source": ["CRM_UI"] * 3,
                "source_id": ["102"] * 3,
            }
        ),
    }


@pytest.fixture(scope="module")
def portal(tmp_path_factory) -> Engine:
    folder = write_parquet(_portal(), tmp_path_factory.mktemp("lake"), schema="hubspot")
    engine = connect("duckdb://:memory:")
    ingest_tables(engine, "fivetran_hubspot", database=folder)
    return engine


def test_contacts_companies_and_deals_load_with_their_associations(portal) -> None:
    leads = portal.execute(portal.table("leads")).set_index("lead_id").sort_index()
    assert leads.index.tolist() == ["1", "2"]  # contact 3's lifecycle stage is not one the mapping knows
    assert leads["lead_source"].tolist() == ["direct", "organic_search"]
    assert leads["lifecycle_stage"].tolist() == ["customer", "mql"]
    assert leads["account_id"].tolist() == ["9001", "9001"]
    deals = portal.execute(portal.table("opportunities")).set_index("opportunity_id").sort_index()
    assert deals["stage"].tolist() == ["closed_won", "discovery"]
    assert deals["is_won"].tolist() == [True, False]
    assert deals["lead_id"].tolist() == ["1", "2"]  # deal 501's first contact; its second association is dropped
    assert deals.loc["501", "account_id"] == "9001" and pd.isna(deals.loc["502", "account_id"])
    assert deals.loc["501", "closed_at"] == T("2025-03-10") and pd.isna(deals.loc["502", "closed_at"])


def test_an_unknown_lifecycle_stage_is_quarantined_by_table_and_key(portal) -> None:
    bad = quarantined(portal)
    got = [(r.file.rsplit("/", 2)[-2:], r.key, r.column, r.rule, r.value) for r in bad.itertuples()]
    assert got == [(["hubspot", "contact"], "3", "property_lifecyclestage", "enum", "partnerlead")]


def test_property_history_becomes_exact_ledger_events(portal) -> None:
    """Every value a property took is one exact event; the old value is the previous one (none for the first)."""
    ledger = portal.execute(portal.table("ledger"))
    assert (ledger["time_precision"] == "exact").all()
    history = ledger[~((ledger["kind"] == "lifecycle") & (ledger["name"] == "lead"))]  # creation: from contacts
    rows = history.astype(object).where(history.notna(), None).itertuples()
    got = sorted(
        ((r.entity_id, r.kind, r.name, r.old_value, r.new_value, r.actor_id, str(r.occurred_at)) for r in rows), key=str
    )
    assert got == sorted(
        [
            ("1", "field", "email", None, "a@acme.example", None, "2025-01-02 09:00:00"),  # kept under its own name
            ("1", "field", "lead_source", None, "paid_search", None, "2025-01-02 09:00:00"),
            ("1", "lifecycle", "mql", None, "mql", "101", "2025-01-05 08:00:00"),
            ("1", "field", "lead_source", "paid_search", "direct", "102", "2025-02-20 16:30:00"),
            ("1", "lifecycle", "customer", "mql", "customer", "102", "2025-03-10 12:00:00"),
            ("501", "stage", "discovery", None, "discovery", "102", "2025-02-01 10:00:00"),
            ("501", "field", "amount", None, "1200.0", "102", "2025-03-01 11:00:00"),
            ("501", "stage", "closed_won", "discovery", "closed_won", "102", "2025-03-10 15:00:00"),
        ],
        key=str,
    )
    created = ledger[(ledger["kind"] == "lifecycle") & (ledger["name"] == "lead")]
    assert sorted(created["entity_id"]) == ["1", "2"]  # contact 3 was quarantined
