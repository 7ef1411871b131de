"""``sync_hubspot`` against the fake portal (OAuth with an expiring token, a 429, an archived contact, 100 records
a page), on the simulator's company at scale xs: the synced project equals the same Fivetran tables loaded in
place (ledger and CRM KPIs) and the simulator's counts; a second sync reads and adds nothing; a change in the
portal is read alone; a sync stopped midway resumes from the command line and converges."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from tests.sources.sync.fake_hubspot import DELETED_CONTACT, FakeHubSpot, environment, start, write_project
from tests.sources.warehouse.compare import ledger_events
from tests.sources.warehouse.hubspot import hubspot_tables
from tests.sources.warehouse.salesforce import write_parquet
from tests.sources.warehouse.test_fivetran_salesforce import assert_same_kpis

from revalign.engine import Engine, connect
from revalign.errors import ConfigError
from revalign.interfaces.cli import EXIT_CONFIG, EXIT_OK, main
from revalign.model.access import Tables
from revalign.project import Project, open_project
from revalign.simulate import SimulatedCompany, simulate
from revalign.sources.sync import HubSpotClient, SyncError, SyncReport, hubspot_config, sync_hubspot
from revalign.sources.sync.hubspot import HubSpotStore
from revalign.sources.warehouse import ingest_tables

RECORD_TABLES = {"companies": "company", "contacts": "contact", "deals": "deal"}


@pytest.fixture(scope="module")
def company() -> SimulatedCompany:
    return simulate(scale="xs", seed=0)


@pytest.fixture(scope="module")
def tables(company) -> dict[str, pa.Table]:
    return hubspot_tables(company)


@pytest.fixture(scope="module")
def in_place(tables, tmp_path_factory) -> Engine:
    """The same tables as a Fivetran sync leaves them, loaded in place: what a direct sync must reproduce."""
    engine = connect("duckdb://:memory:")
    lake = write_parquet(tables, tmp_path_factory.mktemp("lake"), "hubspot")
    ingest_tables(engine, "fivetran_hubspot", database=lake)
    return engine


def running(tables: dict[str, pa.Table], **faults: Any) -> Iterator[FakeHubSpot]:
    fake = start(tables, **faults)
    with pytest.MonkeyPatch.context() as env:
        for name, value in environment(fake).items():
            env.setenv(name, value)
        try:
            yield fake
        finally:
            fake.server.stop()


@pytest.fixture(scope="module")
def portal(tables) -> Iterator[FakeHubSpot]:
    """A 429 on the 4th API request, the access token expiring on the 7th, an archived contact."""
    yield from running(tables)


@pytest.fixture(scope="module")
def project(portal, tmp_path_factory) -> Project:
    return open_project(write_project(portal, tmp_path_factory.mktemp("synced")))


@pytest.fixture(scope="module")
def first(project) -> SyncReport:
    return sync_hubspot(project)


def test_the_sync_pages_and_rides_out_the_rate_limit_and_the_expired_token(first, portal, tables) -> None:
    assert (portal.rate_limited, portal.expired) == (1, 1)
    assert first.sign_ins == portal.tokens_issued == 2  # the first token, and one refresh after it expired
    by_object = {o.sobject: o for o in first.objects}
    for name, table in RECORD_TABLES.items():
        served = tables[table].num_rows
        assert by_object[name].records == served, name
        assert by_object[name].pages >= math.ceil(served / 100), name  # more when a page ends amid ties
        assert by_object[name].rows == served, name
    assert (by_object["contacts (archived)"].records, by_object["contacts (archived)"].deleted) == (1, 1)
    assert by_object["owners"].rows == tables["owner"].num_rows
    assert first.load is not None and first.load.rows_quarantined == 0


def test_the_landed_tables_are_fivetrans(first, project, tables) -> None:
    store = HubSpotStore(project.engine, "hubspot")
    for name in ("contact", "deal", "deal_contact", "deal_company", "contact_property_history",
                 "deal_property_history", "owner", "company"):  # fmt: skip
        landed, expected = store.read(name), tables[name]
        assert landed is not None and landed.num_rows == expected.num_rows, name
    contact = store.read("contact").to_pandas().set_index("id").sort_index()  # type: ignore[union-attr]
    want = tables["contact"].to_pandas().set_index("id").sort_index()
    assert DELETED_CONTACT not in contact.index
    for column in ("property_lifecyclestage", "property_hs_analytics_source", "property_createdate"):
        pd.testing.assert_series_equal(contact[column], want[column], check_dtype=False, check_names=False)
    deal = store.read("deal").to_pandas().set_index("deal_id").sort_index()  # type: ignore[union-attr]
    want_deal = tables["deal"].to_pandas().set_index("deal_id").sort_index()
    for column in ("deal_pipeline_stage_id", "owner_id", "property_amount", "property_hs_is_closed"):
        pd.testing.assert_series_equal(deal[column], want_deal[column], check_dtype=False, check_names=False)


def assert_same_ledger(expected: Engine, got: Engine) -> None:
    """Every ledger event, with its old value and actor, the same."""
    key = ["entity_type", "entity_id", "kind", "name", "occurred_at", "new_value", "old_value", "actor_id"]
    ours = ledger_events(got).sort_values(key, na_position="first").reset_index(drop=True)
    theirs = ledger_events(expected).sort_values(key, na_position="first").reset_index(drop=True)
    assert len(theirs) > 1000
    pd.testing.assert_frame_equal(ours[key], theirs[key])


def test_the_ledger_and_crm_kpis_equal_the_tables_loaded_in_place(first, project, in_place) -> None:
    assert_same_ledger(in_place, project.engine)
    assert_same_kpis(in_place, project.engine)


def test_counts_equal_the_simulators_ground_truth(first, project, company) -> None:
    truth = {name: company.tables[name].to_pandas() for name in ("leads", "opportunities")}
    got = project.engine.execute(project.engine.table("opportunities"))
    leads = project.engine.execute(project.engine.table("leads"))
    assert set(leads["lead_id"]) == set(truth["leads"]["lead_id"])
    assert set(got["opportunity_id"]) == set(truth["opportunities"]["opportunity_id"])
    won = truth["opportunities"].query("is_won and deal_type == 'new_business'")
    assert got.query("is_won and deal_type == 'new_business'")["amount"].sum() == pytest.approx(won["amount"].sum())
    stages = got.set_index("opportunity_id")["stage"].sort_index()
    pd.testing.assert_series_equal(stages, truth["opportunities"].set_index("opportunity_id")["stage"].sort_index(),
                                   check_dtype=False)  # fmt: skip
    lead_of = got.set_index("opportunity_id")["lead_id"].dropna().sort_index()
    assert lead_of.to_dict() == truth["opportunities"].set_index("opportunity_id")["lead_id"].dropna().to_dict()


def test_a_second_sync_reads_and_adds_nothing(first, project, portal) -> None:
    tables = Tables(project.engine)
    version, events = tables.data_version(), project.engine.execute(project.engine.table("ledger").count())
    searched = len(portal.searches)
    again = sync_hubspot(project)
    assert again.records == 0
    assert all(s["filterGroups"] for s in portal.searches[searched:])  # only what is newer than the cursors
    assert again.load is not None and again.load.skipped_as_duplicate
    assert tables.data_version() == version
    assert project.engine.execute(project.engine.table("ledger").count()) == events


def test_a_change_in_the_portal_is_read_alone_and_reaches_the_ledger(first, project, portal) -> None:
    deals = portal.objects["deals"].records
    deal_id, deal = next((i, d) for i, d in deals.items() if d["hs_is_closed"] == "false" and d["amount"])
    now = pd.Timestamp.now(tz="UTC").tz_convert(None).floor("ms")
    before, amount = float(deal["amount"]), float(deal["amount"]) + 1000.0
    portal.update("deals", deal_id, {"amount": str(amount)}, at=now)
    report = sync_hubspot(project)
    assert report.records == 1 and {o.sobject for o in report.objects if o.records} == {"deals"}
    ledger = project.engine.execute(project.engine.table("ledger"))
    changed = ledger[(ledger["entity_id"] == deal_id) & (ledger["name"] == "amount")]
    edit = changed[changed["new_value"].astype(float) == amount]
    assert len(edit) == 1  # the property history's event alone, not also the deal table's diff (#19)
    exact = edit.iloc[0]
    assert (float(exact["new_value"]), float(exact["old_value"]), exact["time_precision"]) == (amount, before, "exact")
    assert exact["occurred_at"] == now  # the time the property history gives, to the millisecond


def test_a_contact_deleted_after_its_sync_leaves_the_raw_tables_with_its_history(first, project, portal) -> None:
    store = HubSpotStore(project.engine, "hubspot")
    history = store.read("contact_property_history").to_pandas()  # type: ignore[union-attr]
    gone = history["contact_id"].value_counts().index[0]  # the contact with the most history
    rows = {name: store.read(name).num_rows for name in ("contact", "contact_property_history")}  # type: ignore[union-attr]
    portal.archive("contacts", gone, at=pd.Timestamp.now(tz="UTC").tz_convert(None).floor("ms"))
    report = {o.sobject: o for o in sync_hubspot(project, load=False).objects}
    assert (report["contacts (archived)"].records, report["contacts (archived)"].deleted) == (1, 1)
    assert report["contacts"].records == 0
    contact, after = store.read("contact"), store.read("contact_property_history")
    assert contact is not None and after is not None
    assert gone not in contact["id"].to_pylist() and contact.num_rows == rows["contact"] - 1
    assert after.num_rows == rows["contact_property_history"] - int((history["contact_id"] == gone).sum())


@pytest.fixture
def few(tables) -> Iterator[FakeHubSpot]:
    """A portal of 12 contacts (and their history), 5 of them modified in the same millisecond."""
    small = {name: table.slice(0, 12) for name, table in tables.items()}
    for fake in running(small, rate_limit_on=None, expire_on=None):
        for record_id in list(fake.objects["contacts"].records)[3:8]:
            fake.objects["contacts"].records[record_id]["lastmodifieddate"] = "2025-06-01T12:00:00.000Z"
        yield fake


def test_the_search_reads_every_record_once_through_ties_and_edits_made_while_paging(few) -> None:
    credentials = {"HUBSPOT_CLIENT_ID": few.client_id, "HUBSPOT_CLIENT_SECRET": few.client_secret,
                   "HUBSPOT_REFRESH_TOKEN": few.refresh_token}  # fmt: skip
    config = hubspot_config({"base_url": few.url, "page_size": 2}, environ=credentials)
    contacts = few.objects["contacts"].records
    read: list[str] = []
    for n, page in enumerate(HubSpotClient(config).changed("contacts", "lastmodifieddate", None)):
        read += [r["id"] for r in page]
        if n == 1:  # a contact read on the first page is edited: it moves to the end, the rest move up
            few.update("contacts", read[0], {"email": "new@example.com"}, at=pd.Timestamp("2030-01-01"))
    assert sorted(read) == sorted(contacts)  # none skipped, none twice
    operators = [s["filterGroups"][0]["filters"][0]["operator"] for s in few.searches if s["filterGroups"]]
    assert "GTE" in operators and any("after" in s for s in few.searches)  # keyset paging, and after amid the ties


class Interrupted(Exception):
    """The process dying half-way through a sync."""


class StopsAfter(HubSpotClient):
    """A real client whose process 'dies' once it has made ``requests`` requests."""

    def __init__(self, *args: Any, requests: int) -> None:
        super().__init__(*args)
        self.left = requests

    def request(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if self.left == 0:
            raise Interrupted
        self.left -= 1
        return super().request(*args, **kwargs)


def test_a_sync_stopped_midway_resumes_and_converges(tables, in_place, tmp_path, capsys) -> None:
    for fake in running(tables, rate_limit_on=None, expire_on=None):
        project = open_project(write_project(fake, tmp_path / "proj"))
        config = hubspot_config(project.settings.sync["hubspot"])
        with pytest.raises(Interrupted):  # owners 2, pipelines 1, companies 13, contacts 1: dies in its search
            sync_hubspot(project, client=StopsAfter(config, requests=17))
        store = HubSpotStore(project.engine, "hubspot")
        finished = list(store.cursors().index)
        assert finished == ["owners", "pipelines", "companies"]
        assert "contact" not in store.tables()  # half an object never lands
        capsys.readouterr()
        assert main(["sync", "hubspot", "-p", str(project.folder), "--json"]) == EXIT_OK
        resumed = {o["sobject"]: o for o in json.loads(capsys.readouterr().out)["objects"]}
        assert all(resumed[name]["records"] == 0 for name in finished)  # not read again
        assert resumed["contacts"]["records"] == tables["contact"].num_rows
        for table in RECORD_TABLES.values():
            key = "deal_id" if table == "deal" else "id"
            landed = store.read(table)
            assert landed is not None and sorted(landed[key].to_pylist()) == sorted(tables[table][key].to_pylist())
        assert_same_ledger(in_place, project.engine)  # the KPIs follow from these tables (the first test)


def test_credentials_come_from_the_environment_and_are_never_written(tmp_path: Path) -> None:
    config = hubspot_config(None, environ={"HUBSPOT_ACCESS_TOKEN": "pat-na1-x"})
    assert (config.flow, config.base_url, config.schema_) == ("private_app", "https://api.hubapi.com", "hubspot")
    with pytest.raises(ConfigError, match=r"HUBSPOT_ACCESS_TOKEN.*HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET"):
        hubspot_config(None, environ={"HUBSPOT_REFRESH_TOKEN": "r"})
    with pytest.raises(ConfigError, match=r"access_token: .*must be a \$\{ENV_VAR\} reference"):
        hubspot_config({"access_token": "pat-na1-secret"}, environ={})
    with pytest.raises(ConfigError, match=r"sync\.hubspot\.refresh_token reads the environment variable MY_HS_REFRESH"):
        hubspot_config({"client_id": "c", "client_secret": "${S}", "refresh_token": "${MY_HS_REFRESH}"},
                       environ={"S": "s"})  # fmt: skip


def test_a_private_apps_token_is_sent_as_is_and_a_refused_one_says_so(few) -> None:
    config = hubspot_config({"base_url": few.url, "access_token": "${T}"}, environ={"T": few.private_token})
    client = HubSpotClient(config)
    owners = [o["id"] for page in client.owners() for o in page]
    assert owners and client.sign_ins == 0 and few.tokens_issued == 0
    refused = HubSpotClient(config.model_copy(update={"access_token": "pat-na1-revoked"}))
    with pytest.raises(SyncError, match="refused the private app's access token"):
        list(refused.owners())


def test_missing_credentials_stop_the_command_before_any_request(tmp_path, monkeypatch) -> None:
    for variable in ("HUBSPOT_ACCESS_TOKEN", "HUBSPOT_CLIENT_ID", "HUBSPOT_CLIENT_SECRET", "HUBSPOT_REFRESH_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    (tmp_path / "revalign.yaml").write_text("engine: duckdb:///revalign.duckdb\n", encoding="utf-8")
    assert main(["sync", "hubspot", "-p", str(tmp_path)]) == EXIT_CONFIG


def test_a_refused_refresh_token_says_so(portal) -> None:
    config = hubspot_config({"base_url": portal.url, "client_id": "c", "client_secret": "${S}", "refresh_token":
                             "${R}"}, environ={"S": "wrong", "R": "nope"})  # fmt: skip
    with pytest.raises(SyncError, match=r"refused to refresh the access token .*unknown refresh token"):
        HubSpotClient(config).sign_in()
