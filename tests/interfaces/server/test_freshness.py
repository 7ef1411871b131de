"""Cached reports follow the project: new data loaded outside the server, or an edited targets file, shows up
without a restart (the cache checks the project's version every ``cache_check_seconds``)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from revalign.interfaces.server import ServerSettings, create_app
from revalign.project import Project
from tests.interfaces.server.conftest import OPPORTUNITIES, USERS, write_canonical

OPPS = OPPORTUNITIES.assign(deal_type="new_business")


@pytest.fixture
def project(tmp_path) -> Iterator[Project]:
    project = Project(tmp_path, engine="duckdb://:memory:")
    write_canonical(project, "opportunities", OPPS)
    write_canonical(project, "users", USERS)
    yield project
    project.close()


def client_for(project: Project, tmp_path, check_seconds: float) -> TestClient:
    app = create_app(
        project,
        state_url=f"sqlite:///{tmp_path / 'state.sqlite'}",
        settings=ServerSettings(cache_check_seconds=check_seconds),
    )
    app.state.store.add_user("lead", "password-123", "leadership")
    token = app.state.store.create_token("lead", "tests")
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def created(client: TestClient) -> dict[str, float]:
    """opportunities_created per month, as the API serves it."""
    body = client.get("/api/v1/kpis/opportunities_created", params={"grain": "month"}).json()
    (values,) = [t for t in body["tables"] if t["name"] == "values"]
    return {r["period_start"][:7]: r["value"] for r in values["rows"]}


def test_new_data_loaded_outside_the_server_is_served(project: Project, tmp_path) -> None:
    client = client_for(project, tmp_path, check_seconds=0)
    # fixture created_at: o1, o3 in January; o2 in February; o4, o5 in March
    assert created(client) == {"2025-01": 2.0, "2025-02": 1.0, "2025-03": 2.0}
    more = OPPS.iloc[[0]].assign(opportunity_id="o6", created_at=pd.Timestamp("2025-02-03 09:00"))
    write_canonical(project, "opportunities", pd.concat([OPPS, more], ignore_index=True))
    assert created(client) == {"2025-01": 2.0, "2025-02": 2.0, "2025-03": 2.0}


def test_within_the_check_interval_the_cached_report_is_served(project: Project, tmp_path) -> None:
    client = client_for(project, tmp_path, check_seconds=3600)
    assert created(client) == {"2025-01": 2.0, "2025-02": 1.0, "2025-03": 2.0}
    write_canonical(project, "opportunities", OPPS.iloc[:2])  # only o1 (January) and o2 (February) left
    assert created(client) == {"2025-01": 2.0, "2025-02": 1.0, "2025-03": 2.0}  # cached: next check in an hour
    client.app.state.cache.check_seconds = 0
    assert created(client) == {"2025-01": 1.0, "2025-02": 1.0}


def test_an_edited_targets_file_invalidates_the_scorecard(project: Project, tmp_path) -> None:
    client = client_for(project, tmp_path, check_seconds=0)
    client.get("/api/v1/kpis/opportunities_created")
    client.get("/api/v1/kpis/opportunities_created")
    calls = client.app.state.cache.misses  # the second request was a hit
    text = "kpi,period,value\nopportunities_created,2025-01,5\n"
    (project.folder / "targets.csv").write_text(text, encoding="utf-8")
    client.get("/api/v1/kpis/opportunities_created")
    assert client.app.state.cache.misses == calls + 1, "an edited targets file must recompute cached reports"
