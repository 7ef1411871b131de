"""A fake Salesforce org serving the simulated company (scale xs) with the write-back's custom fields, and a
project holding the same company (its ids are the org's record ids), with applied scores, configured to write
back to the org with the linear credit model (whose shares a test can compute by hand)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from tests.sources.sync.conftest import CLIENT_ID_ENV, SECRET_ENV, Org, started_org
from tests.sources.warehouse.salesforce import salesforce_tables

from revalign.definitions.scoring import DEFAULT_DIR
from revalign.project import Project, open_project
from revalign.simulate import SimulatedCompany, simulate
from revalign.sources import ingest

CUSTOM_FIELDS = {
    ("Lead", "Revalign_Score__c"): "double",
    ("Opportunity", "Revalign_Audited_Source__c"): "string",
    ("Opportunity", "Revalign_Marketing_Credit__c"): "percent",
}
NOT_IN_PROJECT_LEAD = "00QONLYINCRM0001"
"""A lead of the org that revalign never loaded: the plan has no value for it."""


@pytest.fixture(scope="package")
def company() -> SimulatedCompany:
    return simulate(scale="xs", seed=0)


@pytest.fixture(scope="package")
def tables(company) -> dict[str, pa.Table]:
    return salesforce_tables(company)


@pytest.fixture(scope="module")
def org(tables, tmp_path_factory) -> Iterator[Org]:
    """The org without faults (the sync's tests cover them), its admin having created the custom fields."""
    for org in started_org(tables, tmp_path_factory.mktemp("org"), rate_limit_on=None, expire_on=None):
        for (sobject, name), kind in CUSTOM_FIELDS.items():
            org.fake.add_field(sobject, name, kind)
        yield org


def project_in(folder: Path, org: Org, company: SimulatedCompany, writeback: str = "") -> Project:
    """A project in ``folder``: the company loaded from files, lead_score applied, syncing from ``org``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "revalign.yaml").write_text(
        "engine: duckdb:///revalign.duckdb\n"
        "sync:\n"
        "  salesforce:\n"
        f"    login_url: {org.fake.url}\n"
        f"    client_id: ${{{CLIENT_ID_ENV}}}\n"
        f"    client_secret: ${{{SECRET_ENV}}}\n"
        f"    ca_bundle: {org.bundle}\n"
        "writeback:\n"
        "  credit_model: linear\n"
        "  salesforce: {batch_size: 150}\n" + writeback,
        encoding="utf-8",
    )
    (folder / "scoring").mkdir(exist_ok=True)
    shutil.copyfile(DEFAULT_DIR / "simulator.yaml", folder / "scoring" / "lead_score.yaml")
    data = folder / "data"
    company.to_parquet(data)
    project = open_project(folder)
    ingest(project, data, "canonical")
    leads = company.tables["leads"].to_pandas()
    project.apply_scores(project.scoring_model("lead_score"), leads["created_at"].max().to_pydatetime())
    return project
