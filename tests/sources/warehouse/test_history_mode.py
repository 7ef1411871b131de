"""Fivetran history mode: Salesforce's lead and opportunity tables with every version of every record, in PostgreSQL
and without field-history tables, load through ``fivetran_salesforce`` to the same KPIs and ledger as the file path;
the credit audit finds the simulator's source overwrites from them alone.

The expectations are the simulator's: its ledger (what changed, when, by whom) and its current tables. What versions
cannot show is counted from those independently: a change to the value it already had (no new version), and a
value set without a ledger event (a deal's close date moved when it closes: a new version, so one more event).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from tests.analytics.audit.scoring import score
from tests.sources.warehouse.compare import CRM_KPIS, EVENT_KEY, kpi_values, ledger_events
from tests.sources.warehouse.history_mode import history_mode_tables
from tests.sources.warehouse.salesforce import history_events, opening_stages, write_parquet, write_postgres

from revalign.analytics.audit.detect import detect
from revalign.engine import Engine, connect
from revalign.model.access import Tables
from revalign.sources import load_mapping, quarantined
from revalign.sources.warehouse import ingest_tables

T = pd.Timestamp
TOUCH_KPIS = ("marketing_influenced_pipeline",)
"""Read campaign members, left out here (``test_fivetran_salesforce`` reads them): no value from this load."""


@pytest.fixture(scope="module")
def project(postgres_server, company) -> Engine:
    """A DuckDB project that loaded the history-mode tables from PostgreSQL (schema ``sf_history``)."""
    url = postgres_server.create_database("fivetran_history")
    tables = history_mode_tables(company)
    del tables["campaign_member"]  # optional, and read as in test_fivetran_salesforce: two thirds of the rows
    write_postgres(tables, url, schema="sf_history")
    engine = connect("duckdb://:memory:")
    report = ingest_tables(engine, "fivetran_salesforce", database=url, schema="sf_history")
    assert report.rows_quarantined == 0 and quarantined(engine).empty
    assert {"sf_history.lead (versions)", "sf_history.opportunity (versions)"} <= {t.file for t in report.tables}
    assert ingest_tables(engine, "fivetran_salesforce", database=url, schema="sf_history").skipped_as_duplicate
    return engine


def _no_op_changes(ledger: pd.DataFrame) -> pd.Series:
    """Changes to the value the field already had: a field history records them, versions cannot."""
    changes = history_events(ledger)
    return (changes["old_value"] == changes["new_value"]).reindex(ledger.index, fill_value=False)


def _close_dates_set_at_close(company) -> set[tuple[str, str]]:
    """(deal, close date) where the current close date is not the last one the ledger gave it."""
    ledger = company.tables["ledger"].to_pandas()
    moved = ledger[(ledger["name"] == "close_date")].sort_values("occurred_at").groupby("entity_id")["new_value"].last()
    deals = company.tables["opportunities"].to_pandas().set_index("opportunity_id")
    current = pd.to_datetime(deals.loc[moved.index, "close_date"]).dt.strftime("%Y-%m-%d")
    return {(d, v) for d, v in current[current != moved].items()}


@pytest.mark.postgres
def test_history_mode_tables_load_to_the_same_ledger_and_kpis(project, file_path, company) -> None:
    ours, theirs = ledger_events(project), ledger_events(file_path)
    merged = theirs.merge(ours, on=EVENT_KEY, how="outer", indicator=True, suffixes=("_file", "_warehouse"))
    only_file = merged[merged["_merge"] == "left_only"]
    simulated = company.tables["ledger"].to_pandas()
    expected_missing = int(opening_stages(theirs).sum()) + int(_no_op_changes(simulated).sum())
    assert len(only_file) == expected_missing and int(_no_op_changes(simulated).sum()) > 0
    only_ours = merged[merged["_merge"] == "right_only"]
    assert set(zip(only_ours["entity_id"], only_ours["new_value"], strict=True)) == _close_dates_set_at_close(company)
    assert (only_ours["name"] == "close_date").all() and len(only_ours) > 0
    both = merged[merged["_merge"] == "both"]
    assert len(both) > 10_000 and both["old_value_file"].equals(both["old_value_warehouse"])
    ledger = project.execute(project.table("ledger"))
    derived = ledger[ledger["kind"] != "lifecycle"]  # lead creation events come from the leads target
    assert (derived["time_precision"] == "exact").all()
    ours, theirs = kpi_values(project), kpi_values(file_path)
    compared = [k for k in CRM_KPIS if k not in TOUCH_KPIS]
    assert theirs.loc[compared].notna().sum() > 200
    pd.testing.assert_series_equal(ours.loc[compared], theirs.loc[compared], rtol=1e-9)


@pytest.mark.postgres
def test_the_audit_finds_every_source_overwrite_from_history_mode_alone(project, company) -> None:
    findings = detect(Tables(project), kinds="lead_source_overwrite")
    s = score(findings, company.truth.labels.to_pandas(), "lead_source_overwrite")
    assert s.labels > 50
    assert (s.precision, s.recall) == (1.0, 1.0), s


@pytest.mark.postgres
def test_field_history_beside_history_mode_adds_only_what_versions_cannot_show(
    project, tables, company, tmp_path
) -> None:
    """The same change from a field-history table and from versions is one event (same id); runs last: it adds."""
    lake = write_parquet({n: tables[n] for n in ("lead_history", "opportunity_field_history")}, tmp_path)
    spec = load_mapping("fivetran_salesforce")
    spec = spec.model_copy(update={"targets": [t for t in spec.targets if t.table == "ledger"]})
    report = ingest_tables(project, spec, database=lake)
    assert report.events_added == int(_no_op_changes(company.tables["ledger"].to_pandas()).sum())


# -- one table, by hand ---------------------------------------------------------------------------------------
def _versions(**overrides: object) -> dict[str, pa.Table]:
    rows: dict[str, list[object]] = {
        "id": ["O1", "O1", "O1", "O2"],
        "created_date": [T("2025-01-05 10:00")] * 3 + [T("2025-01-06 09:00")],
        "stage_name": ["Prospecting", "Qualification", "Closed Won", "Prospecting"],
        "is_closed": [False, False, True, False],
        "is_won": [False, False, True, False],
        "close_date": ["2025-03-31", "2025-03-31", "2025-02-14", "2025-04-30"],
        "amount": [1000.0, 1000.0, 1500.0, 200.0],
        "last_modified_by_id": [None, "U1", "U2", None],
        "_fivetran_start": [
            T(s, tz="UTC") for s in ("2025-01-05 10:00", "2025-01-20 08:00", "2025-02-14 17:30", "2025-01-06 09:00")
        ],
        "_fivetran_active": [False, False, True, True],
        **overrides,
    }
    return {"opportunity": pa.table(rows)}


def _opportunities(history_mode: bool = True):
    spec = load_mapping("fivetran_salesforce")
    targets = [t.model_copy(update={"history_mode": history_mode}) for t in spec.targets if t.name == "opportunities"]
    return spec.model_copy(update={"targets": targets})


def test_the_active_version_is_the_row_and_each_change_between_versions_an_exact_event(tmp_path: Path) -> None:
    engine = connect("duckdb://:memory:")
    ingest_tables(engine, _opportunities(), database=write_parquet(_versions(), tmp_path))
    deals = engine.execute(engine.table("opportunities")).set_index("opportunity_id").sort_index()
    assert deals["stage"].tolist() == ["closed_won", "discovery"] and deals["amount"].tolist() == [1500.0, 200.0]
    ledger = engine.execute(engine.table("ledger")).astype(object)
    got = sorted(
        (r.kind, r.name, r.old_value, r.new_value, r.actor_id, str(r.occurred_at), r.time_precision)
        for r in ledger.where(ledger.notna(), None).itertuples()
    )
    assert got == [
        ("field", "amount", "1000.0", "1500.0", "U2", "2025-02-14 17:30:00", "exact"),
        ("field", "close_date", "2025-03-31 00:00:00", "2025-02-14 00:00:00", "U2", "2025-02-14 17:30:00", "exact"),
        ("stage", "closed_won", "qualification", "closed_won", "U2", "2025-02-14 17:30:00", "exact"),
        ("stage", "qualification", "discovery", "qualification", "U1", "2025-01-20 08:00:00", "exact"),
    ]


def test_history_mode_false_reads_the_active_rows_without_changes(tmp_path: Path) -> None:
    engine = connect("duckdb://:memory:")
    report = ingest_tables(engine, _opportunities(False), database=write_parquet(_versions(), tmp_path))
    assert report.rows_read == 2  # the active versions only
    assert report.events_added == 0 and not engine.has_table("ledger")
