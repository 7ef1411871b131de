"""Fivetran history mode on HubSpot: ``contact`` and ``deal`` with every version of every record (``_fivetran_active``,
``_fivetran_start``, ``_fivetran_end``) beside the property history load through ``fivetran_hubspot`` to the same
ledger and KPIs as the same portal without history mode; an edit after that is one event, the history's.

The versions are replayed from the simulator's ledger (``history_mode.versions``); the expectations are the plain
tables loaded in place (which ``test_sync_hubspot`` checks against the simulator) and, for what versions alone can
show, the simulator's current tables: a deal's close date set when it closes has no ledger event, so its version
is one more (exact) event.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest
from tests.sources.warehouse.compare import EVENT_KEY, ledger_events
from tests.sources.warehouse.history_mode import versions
from tests.sources.warehouse.hubspot import LIFECYCLE, SOURCE, STAGE, hubspot_tables
from tests.sources.warehouse.salesforce import history_events, write_parquet
from tests.sources.warehouse.test_fivetran_salesforce import assert_same_kpis
from tests.sources.warehouse.test_history_mode import _close_dates_set_at_close

from revalign.engine import Engine, connect
from revalign.simulate import SimulatedCompany, simulate
from revalign.sources import quarantined
from revalign.sources.warehouse import ingest_tables

CONTACT = {
    "lifecycle": ("property_lifecyclestage", LIFECYCLE),
    "lead_source": ("property_hs_analytics_source", SOURCE),
    "owner_id": ("property_hubspot_owner_id", None),
}
DEAL = {
    "stage": ("deal_pipeline_stage_id", STAGE),
    "amount": ("property_amount", None),
    "close_date": ("property_closedate", None),
    "owner_id": ("owner_id", None),
}
KEY = [*EVENT_KEY, "actor_id"]
"""One event of both loads (the old value is compared apart: versions know it where the history may not)."""


def _versions(current: pa.Table, ev: pd.DataFrame, columns: dict, key: str, modified: str) -> pa.Table:
    """``current`` with every version of its records, as Fivetran's history mode writes a HubSpot table."""
    field = ev["name"].where(ev["kind"] == "field", ev["kind"])
    frame = versions(current, ev[field.isin(list(columns))], columns, key=key, created="property_createdate",
                     modified=modified).drop(columns="last_modified_by_id")  # fmt: skip
    if "property_closedate" in frame:
        frame["property_closedate"] = pd.to_datetime(frame["property_closedate"])
        frame["property_hs_is_closed"] = frame["deal_pipeline_stage_id"].isin(["closedwon", "closedlost"])
    return pa.Table.from_pandas(frame, preserve_index=False)


def history_mode(company: SimulatedCompany) -> dict[str, pa.Table]:
    tables = hubspot_tables(company)
    changes = history_events(company.tables["ledger"].to_pandas())
    by = changes["entity_type"]
    tables["contact"] = _versions(tables["contact"], changes[by == "lead"], CONTACT, "id", "property_lastmodifieddate")
    tables["deal"] = _versions(tables["deal"], changes[by == "opportunity"], DEAL, "deal_id",
                               "property_hs_lastmodifieddate")  # fmt: skip
    return tables


@pytest.fixture(scope="module")
def company() -> SimulatedCompany:
    return simulate(scale="xs", seed=0)


@pytest.fixture(scope="module")
def in_place(company, tmp_path_factory) -> Engine:
    engine = connect("duckdb://:memory:")
    ingest_tables(engine, "fivetran_hubspot", database=write_parquet(hubspot_tables(company),
                  tmp_path_factory.mktemp("plain"), "hubspot"))  # fmt: skip
    return engine


@pytest.fixture(scope="module")
def tables(company) -> dict[str, pa.Table]:
    return history_mode(company)


@pytest.fixture(scope="module")
def versioned(tables, tmp_path_factory) -> Engine:
    engine = connect("duckdb://:memory:")
    report = ingest_tables(engine, "fivetran_hubspot", database=write_parquet(tables, tmp_path_factory.mktemp("hm"),
                           "hubspot"))  # fmt: skip
    assert report.rows_quarantined == 0 and quarantined(engine).empty
    read = {t.file.rsplit("/", 1)[-1] for t in report.tables}
    assert {"contact (versions)", "deal (versions)"} <= read, read
    return engine


def test_versions_beside_the_property_history_add_only_what_the_history_lacks(versioned, in_place, company) -> None:
    ours, theirs = ledger_events(versioned), ledger_events(in_place)
    merged = theirs.merge(ours, on=KEY, how="outer", indicator=True, suffixes=("_history", "_versions"))
    assert (merged["_merge"] != "left_only").all()  # every event of the history, at its time, with its author
    extra = merged[merged["_merge"] == "right_only"]
    assert (extra["name"] == "close_date").all() and len(extra) > 0
    assert set(zip(extra["entity_id"], extra["new_value"], strict=True)) == _close_dates_set_at_close(company)
    both = merged[merged["_merge"] == "both"]
    old = both[["old_value_history", "old_value_versions"]].astype(object)
    differs = old.iloc[:, 0].fillna("-") != old.iloc[:, 1].fillna("-")
    assert old.loc[differs, "old_value_history"].isna().all() and old.loc[differs, "old_value_versions"].notna().all()
    assert 0 < differs.sum() < len(both) / 5  # a first change the rendered history has no value before
    assert_same_kpis(in_place, versioned)


def test_an_edit_after_is_one_event_the_historys(versioned, tables, tmp_path) -> None:
    """A new version of a deal and its property-history row: one exact event with the history's author, not also
    a version event or a ``between_exports`` diff of the active rows."""
    deal = tables["deal"].to_pandas()
    row = deal[deal["_fivetran_active"] & ~deal["property_hs_is_closed"]].iloc[0]
    at = pd.Timestamp("2030-01-02 09:15:00.250", tz="UTC")
    edited = row.copy()
    edited[["property_amount", "_fivetran_start", "property_hs_lastmodifieddate"]] = [
        row["property_amount"] + 1000.0, at, at.tz_convert(None)]  # fmt: skip
    deal.loc[row.name, ["_fivetran_active", "_fivetran_end"]] = [False, at - pd.Timedelta(milliseconds=1)]
    deal = pd.concat([deal, edited.to_frame().T], ignore_index=True).astype(deal.dtypes.to_dict())
    history = tables["deal_property_history"].to_pandas()
    added = {"deal_id": row["deal_id"], "name": "amount", "value": str(edited["property_amount"]),
             "timestamp": at.tz_convert(None), "source": "CRM_UI", "source_id": "U001"}  # fmt: skip
    history = pd.concat([history, pd.DataFrame([added])], ignore_index=True).astype(history.dtypes.to_dict())
    synced = pd.Timestamp("2030-01-02 09:15:00")  # the sync's stamp, to the second: before the edit's millisecond
    again = {**tables, "deal": pa.Table.from_pandas(deal, preserve_index=False),
             "deal_property_history": pa.Table.from_pandas(history, preserve_index=False)}  # fmt: skip
    again = {n: t.set_column(t.schema.get_field_index("_fivetran_synced"), "_fivetran_synced",
                             pa.array([synced] * t.num_rows, t.schema.field("_fivetran_synced").type))
             for n, t in again.items()}  # fmt: skip
    report = ingest_tables(versioned, "fivetran_hubspot", database=write_parquet(again, tmp_path, "hubspot"))
    assert report.events_added == 1
    ledger = versioned.execute(versioned.table("ledger"))
    new = ledger[ledger["load_id"] == report.load_id].iloc[0]
    assert (new["entity_id"], new["name"], float(new["old_value"]), float(new["new_value"])) == (
        str(row["deal_id"]), "amount", row["property_amount"], row["property_amount"] + 1000.0)  # fmt: skip
    assert (new["time_precision"], new["actor_id"], new["occurred_at"]) == ("exact", "U001", at.tz_convert(None))
