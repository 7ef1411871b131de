"""Airbyte-shaped HubSpot tables built from the simulator, in PostgreSQL, load through ``airbyte_hubspot`` to the same
KPIs and ledger as the file path, with the property history as exact ledger events (epoch-millisecond times).

The expectations are the simulator's: every event of its ledger, with the same old value (chained from the previous
history row: HubSpot records none), plus what HubSpot's history holds and the ledger does not, computed from the
ledger independently (:func:`creation_values`: the value a record was created with, for fields changed later).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from tests.analytics.audit.scoring import score
from tests.sources.warehouse.airbyte_hubspot import airbyte_tables, creation_values, write_airbyte_postgres
from tests.sources.warehouse.compare import CRM_KPIS, EVENT_KEY, kpi_values, ledger_events
from tests.sources.warehouse.salesforce import write_parquet

from revalign.analytics.audit.detect import detect
from revalign.engine import Engine, connect
from revalign.model.access import Tables
from revalign.sources import load_mapping, quarantined
from revalign.sources.warehouse import ingest_tables

T = pd.Timestamp
TOUCH_KPIS = ("marketing_influenced_pipeline",)
"""Read touchpoints (campaign membership), which HubSpot's streams here do not carry: no value from either path."""


@pytest.fixture(scope="module")
def project(postgres_server, company) -> Engine:
    """A DuckDB project that loaded the streams from PostgreSQL (schema ``hubspot_airbyte``)."""
    url = postgres_server.create_database("airbyte")
    write_airbyte_postgres(airbyte_tables(company), url, schema="hubspot_airbyte")
    engine = connect("duckdb://:memory:")
    report = ingest_tables(engine, "airbyte_hubspot", database=url, schema="hubspot_airbyte")
    assert report.rows_quarantined == 0 and quarantined(engine).empty
    assert ingest_tables(engine, "airbyte_hubspot", database=url, schema="hubspot_airbyte").skipped_as_duplicate
    return engine


@pytest.mark.postgres
def test_the_ledger_is_the_simulators_plus_the_creation_values_hubspot_records(project, file_path, company) -> None:
    ours, theirs = ledger_events(project), ledger_events(file_path)
    merged = theirs.merge(ours, on=EVENT_KEY, how="outer", indicator=True, suffixes=("_file", "_warehouse"))
    assert (merged["_merge"] != "left_only").all()  # every event of the file path, creation and opening stage too
    both = merged[merged["_merge"] == "both"]
    assert len(both) == len(theirs) and both["old_value_file"].equals(both["old_value_warehouse"])
    extra = merged[merged["_merge"] == "right_only"]
    created = creation_values(company.tables["ledger"].to_pandas()).dropna(subset=["new_value"])  # set at creation
    assert len(extra) == len(created) > 100 and extra["old_value_warehouse"].isna().all()
    assert set(zip(extra["entity_id"], extra["name"], strict=True)) == set(
        zip(created["entity_id"], created["name"], strict=True)
    )
    ledger = project.execute(project.table("ledger"))
    assert (ledger["time_precision"] == "exact").all()
    closing = ledger[(ledger["kind"] == "stage") & (ledger["name"] == "closed_won")]
    assert closing["occurred_at"].dt.microsecond.eq(0).all() and closing["actor_id"].notna().all()


@pytest.mark.postgres
def test_crm_kpis_equal_the_file_path(project, file_path) -> None:
    ours, theirs = kpi_values(project), kpi_values(file_path)
    compared = [k for k in CRM_KPIS if k not in TOUCH_KPIS]
    assert theirs.loc[compared].notna().sum() > 200
    pd.testing.assert_series_equal(ours.loc[compared], theirs.loc[compared], rtol=1e-9)
    touch = ours[ours.index.get_level_values("kpi").isin(TOUCH_KPIS)]
    assert touch.isna().all()  # not computed (no touchpoints table), or no value


@pytest.mark.postgres
def test_deals_take_their_first_associated_contact_and_company(project, company) -> None:
    deals = project.execute(project.table("opportunities")).set_index("opportunity_id").sort_index()
    truth = company.tables["opportunities"].to_pandas().set_index("opportunity_id").sort_index()
    for column in ("lead_id", "account_id"):
        assert deals[column].fillna("").tolist() == truth[column].fillna("").tolist()


@pytest.mark.postgres
def test_the_audit_finds_every_source_overwrite_from_the_property_history(project, company) -> None:
    findings = detect(Tables(project), kinds="lead_source_overwrite")
    s = score(findings, company.truth.labels.to_pandas(), "lead_source_overwrite")
    assert s.labels > 50
    assert (s.precision, s.recall) == (1.0, 1.0), s


# -- by hand ----------------------------------------------------------------------------------------------------
def test_a_bad_association_array_or_epoch_time_is_quarantined_by_column_and_rule(tmp_path) -> None:
    """``item: 0`` reads a JSON array's first element; ``epoch_ms`` a whole number of milliseconds."""
    deals = pa.table(
        {
            "id": ["D1", "D2", "D3"],
            "properties_dealstage": ["closedwon", "appointmentscheduled", "qualifiedtobuy"],
            "properties_createdate": ["2025-01-02T10:00:00Z"] * 3,
            "properties_hs_is_closed": [True, False, False],
            "properties_hs_is_closed_won": [True, False, False],
            "contacts": ['["C7", "C8"]', "[]", "C9"],
        }
    )
    history = pa.table(
        {
            "dealId": ["D1", "D1"],
            "property": ["dealstage", "dealstage"],
            "value": ["appointmentscheduled", "closedwon"],
            "timestamp": ["1735812000000", "2025-01-09"],  # 2025-01-02 10:00 UTC; not epoch milliseconds
            "updatedByUserId": ["U1", "U2"],
        }
    )
    lake = write_parquet({"deals": deals, "deals_property_history": history}, tmp_path, schema="hubspot")
    spec = load_mapping("airbyte_hubspot")
    spec = spec.model_copy(update={"targets": [t for t in spec.targets if t.name.startswith("deals")]})
    engine = connect("duckdb://:memory:")
    ingest_tables(engine, spec, database=lake)
    got = engine.execute(engine.table("opportunities")).set_index("opportunity_id")["lead_id"]
    assert got.fillna("-").to_dict() == {"D1": "C7", "D2": "-"}  # D2's array is empty: no lead
    bad = [(Path(r.file).name, r.column, r.rule, r.value) for r in quarantined(engine).itertuples()]
    assert sorted(bad) == [
        ("deals", "contacts", "type_cast", "C9"),
        ("deals_property_history", "timestamp", "date_format", "2025-01-09"),
    ]
    ledger = engine.execute(engine.table("ledger"))
    assert ledger[["name", "occurred_at"]].values.tolist() == [["discovery", T("2025-01-02 10:00")]]
