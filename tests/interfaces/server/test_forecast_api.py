"""``/api/v1/forecast``, ``/api/v1/forecast/backtest`` and ``/api/v1/pipeline/waterfall`` serve what the library
computes (the same numbers, formatted by the display layer), and refuse bad parameters with the canonical 422."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from revalign.interfaces.server import ServerSettings, create_app
from revalign.project import Project, init_project, open_project
from revalign.simulate import simulate
from tests.interfaces.server.conftest import PASSWORD, assert_canonical_error, login

AS_OF = dt.date(2025, 5, 10)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    folder = tmp_path_factory.mktemp("forecast-api")
    init_project(folder, engine_url="duckdb://:memory:")
    proj = open_project(folder)
    simulate(scale="xs", seed=1).write(proj.engine)
    yield proj
    proj.close()


@pytest.fixture(scope="module")
def client(project: Project, tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    state = tmp_path_factory.mktemp("state") / "state.sqlite"
    app = create_app(project, state_url=f"sqlite:///{state}", settings=ServerSettings())
    app.state.store.add_user("leader", PASSWORD, "leadership")
    return login(TestClient(app), "leader")


def test_forecast_is_the_library_landing(client, project):
    body = client.get("/api/v1/forecast", params={"as_of": AS_OF.isoformat(), "by": "team"}).json()
    land = project.quarter_landing(AS_OF, by=["team"])
    assert body["quarter"] == land.quarter == "2025-Q2" and body["as_of"] == "2025-05-10"
    assert [r["team"] for r in body["rows"]] == list(land.frame["team"])
    assert [r["landing"] for r in body["rows"]] == pytest.approx(list(land.frame["landing"]))
    assert body["units"]["run_rate"] == "currency"
    assert body["formatted"][0]["landing"].startswith("$")
    assert body["rates"] and {"stage", "close_rate", "slippage", "weight"} <= set(body["rates"][0])


def test_waterfall_is_the_library_waterfall(client, project):
    params = {"start": "2025-04-07", "end": "2025-05-05", "by": "channel"}
    body = client.get("/api/v1/pipeline/waterfall", params=params).json()
    frame = project.pipeline_waterfall("2025-04-07", "2025-05-05", by=["channel"]).frame
    assert len(body["rows"]) == len(frame) and body["start"] == "2025-04-07"
    assert [r["closing"] for r in body["rows"]] == pytest.approx(list(frame["closing"]))
    for r in body["rows"]:
        assert r["opening"] + r["created"] + r["amount_changed"] - r["won"] - r["lost"] == pytest.approx(r["closing"])


def test_backtest_points_and_mape(client):
    body = client.get("/api/v1/forecast/backtest", params={"quarters": "2025-Q3", "weeks": [2, 9]}).json()
    points = body["points"]["rows"]
    assert [p["week"] for p in points] == [2, 9]
    for p in points:
        assert p["forecast_ape"] == pytest.approx(abs(p["forecast"] - p["actual"]) / p["actual"])
    assert [m["week"] for m in body["mape"]["rows"]] == [2, 9]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/forecast", {"as_of": "2025-13-01"}),
        ("/api/v1/forecast", {"by": "owner"}),
        ("/api/v1/forecast", {"asof": "2025-05-01"}),
        ("/api/v1/forecast/backtest", {"quarters": "2025Q3"}),
        ("/api/v1/pipeline/waterfall", {"start": "2025-05-01", "end": "2025-04-01"}),
    ],
)
def test_bad_parameters_are_a_json_422(client, path, params):
    body = assert_canonical_error(client.get(path, params=params), 422)
    assert body["error"]


def test_needs_a_login(project, tmp_path_factory):
    state = tmp_path_factory.mktemp("state2") / "state.sqlite"
    anonymous = TestClient(create_app(project, state_url=f"sqlite:///{state}", settings=ServerSettings()))
    assert_canonical_error(anonymous.get("/api/v1/forecast"), 401)
