"""``/api/v1/sla`` and ``/sla`` show exactly what the library computes: compliance, the breach ledger, open clocks."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from revalign.analytics.sla import breach_ledger, compliance
from revalign.interfaces.server import create_app
from revalign.project import Project
from tests.interfaces.server.conftest import assert_canonical_error
from tests.interfaces.server.test_reports import assert_same, table


@pytest.fixture(scope="module")
def sim_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    from revalign.simulate import simulate

    project = Project(tmp_path_factory.mktemp("sla"), engine="duckdb://:memory:")
    simulate(scale="xs", seed=3).write(project.engine)
    yield project
    project.close()


@pytest.fixture(scope="module")
def client(sim_project: Project, tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    app = create_app(sim_project, state_url=f"sqlite:///{tmp_path_factory.mktemp('st') / 's.sqlite'}")
    app.state.store.add_user("lead", "password-123", "leadership")
    token = app.state.store.create_token("lead", "tests")
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def test_the_report_equals_the_library(client, sim_project):
    body = client.get("/api/v1/sla").json()
    assert body["available"], body["notices"]
    items = sim_project.sla_items()
    ledger = breach_ledger(items)
    assert len(ledger) > 0
    assert_same(table(body, "breaches"), ledger, ["sla", "entity_id", "owner_id", "team_id", "late_hours"])
    lib = compliance(items, ("sla", "team_id"), grain=None)
    cols = ["sla", "team_id", "started", "met", "breached", "overdue", "compliance_rate"]
    assert_same(table(body, "by_team"), lib, cols)
    running = items[items["status"].isin(("overdue", "at_risk", "open"))]
    assert len(table(body, "open")) == len(running)
    assert [a["version"] for a in body["meta"]["agreements"]] == [1]


def test_owner_and_team_filters_narrow_every_table(client, sim_project):
    ledger = sim_project.sla_breaches()
    team = ledger["team_id"].value_counts().index[0]
    owner = ledger["owner_id"].value_counts().index[-1]
    by_team = table(client.get(f"/api/v1/sla?team={team}").json(), "breaches")
    mine = ledger[ledger["team_id"] == team].reset_index(drop=True)
    assert_same(by_team, mine, ["entity_id", "sla", "owner_id"])
    assert set(by_team["team_id"]) == {team}
    by_owner = table(client.get(f"/api/v1/sla?owner={owner}").json(), "breaches")
    assert set(by_owner["owner_id"]) == {owner} and len(by_owner) == (ledger["owner_id"] == owner).sum()
    comp = table(client.get(f"/api/v1/sla?team={team}").json(), "by_team")
    assert set(comp["team_id"]) == {team}


def test_the_csv_export_and_a_bad_filter(client):
    csv = client.get("/api/v1/sla?format=csv&table=breaches")
    assert csv.status_code == 200 and csv.text.splitlines()[0].startswith("sla,agreement,version,entity_id")
    assert_canonical_error(client.get("/api/v1/sla?segment=smb"), 422)
    assert_canonical_error(client.get("/api/v1/sla?team=T05;drop"), 422)


def test_the_page_shows_the_tables(client, sim_project):
    html = client.get("/sla").text
    assert 'id="table-breaches"' in html and 'id="table-by_team"' in html and 'id="f-team"' in html
    assert "marketing_sales v1 from 2024-01-01" in html
    first = pd.Timestamp(sim_project.sla_breaches()["done_at"].iloc[0]).isoformat()[:10]
    assert first in html
