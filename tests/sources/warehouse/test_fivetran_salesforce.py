"""Fivetran-shaped Salesforce tables built from the simulator load through ``fivetran_salesforce`` to the same ledger
and KPIs as the file path, and the credit audit finds the simulator's source overwrites from the field history.

Here the tables sit in a Parquet lake folder; ``test_postgres_source.py`` reads the same tables from PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from tests.analytics.audit.scoring import score
from tests.sources.warehouse.compare import EVENT_KEY, kpi_values, ledger_events
from tests.sources.warehouse.salesforce import opening_stages, write_parquet

from revalign.analytics.audit.detect import detect
from revalign.engine import Engine, connect
from revalign.errors import SchemaError
from revalign.model.access import Tables
from revalign.sources import load_history, load_mapping, quarantined
from revalign.sources.warehouse import ingest_tables


@pytest.fixture(scope="module")
def lake(tables, tmp_path_factory) -> Path:
    return write_parquet(tables, tmp_path_factory.mktemp("lake"))


@pytest.fixture(scope="module")
def warehouse(lake) -> Engine:
    engine = connect("duckdb://:memory:")
    ingest_tables(engine, "fivetran_salesforce", database=lake)
    return engine


def assert_same_ledger(file_path: Engine, warehouse: Engine) -> None:
    """Every event of the file path is in the warehouse load with the same old value, except each opportunity's
    opening stage (Salesforce's field history records changes, not the stage a record is created with)."""
    ours, theirs = ledger_events(warehouse), ledger_events(file_path)
    merged = theirs.merge(ours, on=EVENT_KEY, how="outer", indicator=True, suffixes=("_file", "_warehouse"))
    only_file = merged[merged["_merge"] == "left_only"]
    assert (merged["_merge"] != "right_only").all(), merged[merged["_merge"] == "right_only"].head()
    assert len(only_file) == int(opening_stages(theirs).sum()) > 0
    assert ((only_file["kind"] == "stage") & only_file["old_value_file"].isna()).all()
    both = merged[merged["_merge"] == "both"]
    assert both["old_value_file"].equals(both["old_value_warehouse"])


def assert_same_kpis(file_path: Engine, warehouse: Engine) -> None:
    ours, theirs = kpi_values(warehouse), kpi_values(file_path)
    assert theirs.notna().sum() > 200  # every KPI has values in most quarters
    pd.testing.assert_series_equal(ours, theirs, rtol=1e-9)


def test_every_table_loads_without_quarantine(warehouse, tables) -> None:
    log = load_history(warehouse)
    read = log.groupby("file")["rows_read"].sum()
    by_table = {Path(f).name: n for f, n in read.items()}
    assert by_table["lead"] == tables["lead"].num_rows
    assert by_table["lead (updates)"] == pa.compute.sum(tables["lead"]["converted_opportunity_id"].is_valid()).as_py()
    assert by_table["opportunity_field_history"] == tables["opportunity_field_history"].num_rows
    assert quarantined(warehouse).empty


def test_the_ledger_equals_the_file_path(file_path, warehouse) -> None:
    assert_same_ledger(file_path, warehouse)


def test_crm_kpis_equal_the_file_path(file_path, warehouse) -> None:
    assert_same_kpis(file_path, warehouse)


def test_the_audit_finds_every_source_overwrite_from_the_field_history(warehouse, company) -> None:
    ledger = warehouse.execute(warehouse.table("ledger"))
    sourced = ledger[(ledger["kind"] == "field") & (ledger["name"] == "lead_source")]
    assert len(sourced) > 0 and (sourced["time_precision"] == "exact").all()  # no export diff: history rows only
    findings = detect(Tables(warehouse), kinds="lead_source_overwrite")
    s = score(findings, company.truth.labels.to_pandas(), "lead_source_overwrite")
    assert s.labels > 50
    assert (s.precision, s.recall) == (1.0, 1.0), s


def test_loading_the_same_tables_again_adds_nothing(lake, warehouse) -> None:
    before = warehouse.execute(warehouse.table("ledger").count())
    again = ingest_tables(warehouse, "fivetran_salesforce", database=lake)
    assert again.skipped_as_duplicate
    assert warehouse.execute(warehouse.table("ledger").count()) == before


# -- one table, by hand ---------------------------------------------------------------------------------------
OPPORTUNITIES = {
    "id": ["O1", "O2", "O3"],
    "created_date": ["2025-01-05 10:00:00", "2025-01-06 10:00:00", "2025-01-07 10:00:00"],
    "stage_name": ["Prospecting", "Mystery Stage", "Closed Won"],
    "is_closed": [False, False, True],
    "is_won": [False, False, True],
    "close_date": ["2025-03-31", "2025-03-31", "2025-02-14"],
    "amount": [1000.0, 2000.0, 3000.0],
}


def _opportunities_only(tmp_path: Path, rows: dict[str, list[object]]) -> tuple[Path, object]:
    folder = write_parquet({"opportunity": pa.table(rows)}, tmp_path)
    spec = load_mapping("fivetran_salesforce")
    return folder, spec.model_copy(update={"targets": [t for t in spec.targets if t.name == "opportunities"]})


def test_a_bad_row_is_quarantined_by_table_and_key(tmp_path, duckdb_engine) -> None:
    folder, spec = _opportunities_only(tmp_path, OPPORTUNITIES)
    report = ingest_tables(duckdb_engine, spec, database=folder)
    assert (report.rows_read, report.rows_quarantined) == (3, 1)
    bad = quarantined(duckdb_engine)
    assert [(Path(r.file).name, r.key, r.column, r.rule, r.value) for r in bad.itertuples()] == [
        ("opportunity", "O2", "stage_name", "enum", "Mystery Stage")
    ]
    got = duckdb_engine.execute(duckdb_engine.table("opportunities")).set_index("opportunity_id")
    assert got.loc["O3", "closed_at"] == pd.Timestamp("2025-02-14")  # closed: its close date
    assert pd.isna(got.loc["O1", "closed_at"])  # open: no close time yet
    fixed = {**OPPORTUNITIES, "stage_name": ["Prospecting", "Qualification", "Closed Won"]}
    folder, spec = _opportunities_only(tmp_path / "fixed", fixed)
    assert ingest_tables(duckdb_engine, spec, database=folder).quarantine_resolved == 1  # O2 now loads
    assert quarantined(duckdb_engine).empty


def test_a_changed_table_loads_and_its_change_reaches_the_ledger(tmp_path, duckdb_engine) -> None:
    folder, spec = _opportunities_only(tmp_path / "v1", OPPORTUNITIES)
    ingest_tables(duckdb_engine, spec, database=folder)
    changed = {**OPPORTUNITIES, "amount": [1500.0, 2000.0, 3000.0]}
    folder, spec = _opportunities_only(tmp_path / "v2", changed)
    report = ingest_tables(duckdb_engine, spec, database=folder)
    assert not report.skipped_as_duplicate
    ledger = duckdb_engine.execute(duckdb_engine.table("ledger"))
    amounts = ledger[ledger["name"] == "amount"]
    assert amounts[["entity_id", "old_value", "new_value"]].values.tolist() == [["O1", "1000.0", "1500.0"]]


def test_a_missing_table_names_the_tables_there(tmp_path, duckdb_engine) -> None:
    folder = write_parquet({"opportunities": pa.table(OPPORTUNITIES)}, tmp_path)
    spec = load_mapping("fivetran_salesforce")
    spec = spec.model_copy(update={"targets": [t for t in spec.targets if t.name == "opportunities"]})
    with pytest.raises(SchemaError, match=r"No table 'opportunity'.*Did you mean 'opportunities'") as caught:
        ingest_tables(duckdb_engine, spec, database=folder)
    assert str(caught.value.file).endswith("salesforce/opportunity") and caught.value.rule == "missing_file"
