"""``sync_salesforce`` against the fake org (a 429, an expired session, a deleted lead, 200 records a page): the
synced project has the file path's ledger and CRM KPIs and the simulator's counts; a second sync reads and adds
nothing; a change made in the org is read alone and reaches the ledger."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from tests.sources.sync.fake_salesforce import DELETED_LEAD, OBJECT_TABLES
from tests.sources.warehouse.test_fivetran_salesforce import assert_same_kpis, assert_same_ledger

from revalign.model.access import Tables
from revalign.sources.sync import SyncReport, sync_salesforce


@pytest.fixture(scope="module")
def project(org, tmp_path_factory):
    return org.project(tmp_path_factory.mktemp("synced"))


@pytest.fixture(scope="module")
def first(project) -> SyncReport:
    return sync_salesforce(project)


def test_the_sync_pages_and_rides_out_the_rate_limit_and_the_expired_session(first, org, tables) -> None:
    assert (org.fake.rate_limited, org.fake.expired) == (1, 1)
    assert first.sign_ins == org.fake.tokens_issued == 2  # the expired session signed in again, once
    by_object = {o.sobject: o for o in first.objects}
    for sobject, table in OBJECT_TABLES.items():
        served = tables[table].num_rows + (sobject == "Lead")  # the deleted lead comes through queryAll
        assert (by_object[sobject].records, by_object[sobject].pages) == (served, math.ceil(served / 200)), sobject
        assert by_object[sobject].rows == tables[table].num_rows, sobject  # … and does not land
    assert by_object["Lead"].deleted == 1
    assert first.load is not None and first.load.rows_quarantined == 0


def test_the_deleted_lead_is_not_loaded(first, project) -> None:
    leads = project.engine.execute(project.engine.table("leads").select("lead_id"))
    assert DELETED_LEAD not in set(leads["lead_id"]) and len(leads) > 1000


def test_the_ledger_and_crm_kpis_equal_the_file_path(first, project, file_path) -> None:
    assert_same_ledger(file_path, project.engine)
    assert_same_kpis(file_path, project.engine)


def test_counts_equal_the_simulators_ground_truth(first, project, company) -> None:
    truth = {name: company.tables[name].to_pandas() for name in ("leads", "opportunities")}
    won = truth["opportunities"].query("is_won and deal_type == 'new_business'")
    got = project.engine.execute(project.engine.table("opportunities"))
    assert len(project.engine.execute(project.engine.table("leads"))) == len(truth["leads"])
    assert got.query("is_won and deal_type == 'new_business'")["amount"].sum() == pytest.approx(won["amount"].sum())
    assert set(got["opportunity_id"]) == set(truth["opportunities"]["opportunity_id"])


def test_a_second_sync_reads_and_adds_nothing(first, project, org) -> None:
    tables = Tables(project.engine)
    version, events = tables.data_version(), project.engine.execute(project.engine.table("ledger").count())
    again = sync_salesforce(project)
    assert again.records == 0 and again.sign_ins == 1
    assert all(" WHERE " in soql for soql in org.fake.queries[-len(OBJECT_TABLES) :])  # only what is newer
    assert again.load is not None and again.load.skipped_as_duplicate
    assert tables.data_version() == version
    assert project.engine.execute(project.engine.table("ledger").count()) == events


def test_a_change_in_the_org_is_read_alone_and_reaches_the_ledger(first, project, org) -> None:
    opportunities = org.fake.objects["Opportunity"].frame
    record = opportunities[~opportunities["IsClosed"].astype(bool)].iloc[0]
    now = pd.Timestamp.now(tz="UTC").tz_convert(None).floor("ms")
    org.fake.update("Opportunity", record["Id"], {"Amount": float(record["Amount"]) + 1000.0}, at=now)
    report = sync_salesforce(project)
    assert report.records == 1 and {o.sobject for o in report.objects if o.records} == {"Opportunity"}
    ledger = project.engine.execute(project.engine.table("ledger"))
    changed = ledger[(ledger["entity_id"] == record["Id"]) & (ledger["name"] == "amount")]
    latest = changed.sort_values("recorded_at").iloc[-1]
    assert float(latest["new_value"]) == float(record["Amount"]) + 1000.0
    assert float(latest["old_value"]) == float(record["Amount"])
