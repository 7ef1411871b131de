"""A fake Salesforce org and a fake HubSpot portal serving the simulated company (scale xs) with the write-back's
custom fields, projects holding the same company (its ids are the CRM's record ids), with applied scores,
configured to write back with the linear credit model (whose shares a test can compute by hand), and the values
expected, computed with pandas apart from the write-back code."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from tests.sources.sync.conftest import CLIENT_ID_ENV, SECRET_ENV, Org, started_org
from tests.sources.sync.fake_hubspot import ENVIRONMENT, FakeHubSpot, environment, start
from tests.sources.warehouse.hubspot import hubspot_tables
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
HUBSPOT_PROPERTIES = {
    ("contacts", "revalign_score"): "number",
    ("deals", "revalign_audited_source"): "string",
    ("deals", "revalign_marketing_credit"): "number",
}
LOOKBACK = pd.Timedelta(days=90)
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


@pytest.fixture(scope="module")
def portal(company) -> Iterator[FakeHubSpot]:
    """The portal without faults (the sync's tests cover them), its admin having created the custom properties."""
    fake = start(hubspot_tables(company), rate_limit_on=None, expire_on=None)
    with pytest.MonkeyPatch.context() as env:
        for name, value in environment(fake).items():
            env.setenv(name, value)
        for (object_type, name), kind in HUBSPOT_PROPERTIES.items():
            fake.add_property(object_type, name, kind)
        try:
            yield fake
        finally:
            fake.server.stop()


def project_in(folder: Path, org: Org, company: SimulatedCompany, writeback: str = "") -> Project:
    """A project in ``folder``: the company loaded from files, lead_score applied, syncing from ``org``."""
    sync = (
        "  salesforce:\n"
        f"    login_url: {org.fake.url}\n"
        f"    client_id: ${{{CLIENT_ID_ENV}}}\n"
        f"    client_secret: ${{{SECRET_ENV}}}\n"
        f"    ca_bundle: {org.bundle}\n"
    )
    return _project(folder, company, sync, "  salesforce: {batch_size: 150}\n" + writeback)


def hubspot_project_in(folder: Path, portal: FakeHubSpot, company: SimulatedCompany) -> Project:
    """A project in ``folder`` as :func:`project_in`, syncing from (and writing back to) ``portal`` with OAuth."""
    client_id, secret, refresh = ENVIRONMENT
    sync = (
        "  hubspot:\n"
        f"    base_url: {portal.url}\n"
        f"    client_id: ${{{client_id}}}\n"
        f"    client_secret: ${{{secret}}}\n"
        f"    refresh_token: ${{{refresh}}}\n"
    )
    return _project(folder, company, sync, "")


def _project(folder: Path, company: SimulatedCompany, sync: str, writeback: str) -> Project:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "revalign.yaml").write_text(
        "engine: duckdb:///revalign.duckdb\nsync:\n" + sync + "writeback:\n  credit_model: linear\n" + writeback,
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


def expected_values(project: Project) -> dict[str, pd.Series]:
    """record id → value, per value name, computed with pandas from the canonical tables and the audit's findings
    (not the write-back code): the latest run's scores; each deal's recorded source, or, when the audit restored
    its lead's source and the deal carries the lead's recorded (false) one, the restored source; the linear model's
    marketing share = the lead's marketing touches / all its touches in the 90 days up to the deal's creation."""
    table = project.engine.table
    scores = project.engine.execute(table("scores"))
    latest = scores[(scores["model"] == "lead_score") & (scores["version"] == scores["version"].max())]
    latest = latest[latest["scored_at"] == latest["scored_at"].max()]
    opps = project.engine.execute(table("opportunities"))
    leads = project.engine.execute(table("leads")).set_index("lead_id")["lead_source"]
    findings = project.audit_findings(kinds=("lead_source_overwrite", "no_opportunity_recreate"))
    restored = findings[findings["entity_type"] == "lead"].set_index("entity_id")["channel_from"]
    assert len(restored) >= 3  # the audit has something to undo at this scale
    false_source = opps["lead_id"].map(leads)
    fixed = opps["lead_id"].isin(restored.index) & (opps["lead_source"] == false_source)
    assert fixed.sum() >= 2  # deals whose audited source differs from the recorded one
    audited = opps["lead_source"].where(~fixed, opps["lead_id"].map(restored))
    touches = project.engine.execute(table("touchpoints"))
    deals = opps[opps["deal_type"].isna() | (opps["deal_type"] == "new_business")].dropna(subset=["lead_id"])
    joined = deals[["opportunity_id", "lead_id", "created_at"]].merge(touches, on="lead_id")
    age = joined["created_at"] - joined["occurred_at"]
    inside = joined[(age >= pd.Timedelta(0)) & (age < LOOKBACK)]
    share = inside.groupby("opportunity_id")["touch_type"].agg(lambda t: round(100.0 * (t == "marketing").mean(), 2))
    return {
        "lead_score": latest.set_index("lead_id")["score"].round(0),
        "audited_source": pd.Series(audited.to_numpy(), index=opps["opportunity_id"]).dropna(),
        "marketing_credit": share,
    }
