"""The Fivetran Salesforce tables in a real PostgreSQL: read from a DuckDB project through the database URL, and
from a PostgreSQL project's own schema, they load to the same ledger and KPIs as the file path."""

from __future__ import annotations

import pytest
from tests.sources.warehouse.salesforce import write_postgres
from tests.sources.warehouse.test_fivetran_salesforce import assert_same_kpis, assert_same_ledger

from revalign.engine import connect
from revalign.sources.warehouse import ingest_tables

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def synced(postgres_server, tables) -> str:
    """A database holding the org's tables in schema ``sf_prod`` (a connector named otherwise than the default)."""
    url = postgres_server.create_database("fivetran")
    write_postgres(tables, url, schema="sf_prod")
    return url


def test_a_duckdb_project_reads_the_postgres_tables_to_the_same_ledger_and_kpis(synced, file_path) -> None:
    project = connect("duckdb://:memory:")
    report = ingest_tables(project, "fivetran_salesforce", database=synced, schema="sf_prod")
    assert report.rows_quarantined == 0
    assert {t.file for t in report.tables} >= {"sf_prod.opportunity", "sf_prod.lead_history"}
    assert_same_ledger(file_path, project)
    assert_same_kpis(file_path, project)
    assert ingest_tables(project, "fivetran_salesforce", database=synced, schema="sf_prod").skipped_as_duplicate


def test_a_postgres_project_reads_its_own_schema(synced, file_path) -> None:
    project = connect(synced)  # the project's tables in public, the connector's in sf_prod
    try:
        report = ingest_tables(project, "fivetran_salesforce", schema="sf_prod")
        assert report.rows_quarantined == 0
        assert_same_ledger(file_path, project)
    finally:
        project.close()
