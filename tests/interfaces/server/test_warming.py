"""Warming (interfaces/server/warming.py): every page's default view is in the report cache before anyone asks,
and it is the very report a request would have computed; a refresh drops the old reports and warms again.

The oracle for "the same report" is a second app over the same project with warming off: each page's JSON from
the warmed app must equal the JSON the cold app computes on request. "Served from the cache" is checked on the
cache's keys: after warming, opening a page adds no report, only the per-viewer pay scope.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from revalign.interfaces.server import ServerSettings, create_app
from revalign.interfaces.server.app import after_refresh
from revalign.interfaces.server.pages.rendering import NAV
from revalign.interfaces.server.warming import DEFAULT_VIEWS
from revalign.project import Project, init_project, open_project
from revalign.simulate import simulate

pytestmark = pytest.mark.slow

API_PATHS = (
    "/api/v1/overview",
    "/api/v1/home/cmo",
    "/api/v1/home/cro",
    "/api/v1/home/cs",
    "/api/v1/tree",
    "/api/v1/scorecards",
    "/api/v1/pipeline",
    "/api/v1/funnel",
    "/api/v1/channels",
    "/api/v1/attribution",
    "/api/v1/sla",
    "/api/v1/agreements",
    "/api/v1/scoring",
    "/api/v1/audit",
    "/api/v1/incentives",
    "/api/v1/kpis",
)
PER_VIEWER = {"pay_scope", "dispute_team"}
"""Cache entries made per person (pay privacy's scope, the disputes banner's team): not reports, never warmed."""


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    folder = tmp_path_factory.mktemp("warming")
    init_project(folder, name="warming")
    project = open_project(folder)
    simulate(scale="xs", seed=3).write(project.engine)
    yield project
    project.close()


def app_for(project: Project, folder, *, warm: bool) -> tuple[FastAPI, dict[str, str]]:
    app = create_app(
        project,
        state_url=f"sqlite:///{folder / ('warm' if warm else 'cold')}.sqlite",
        settings=ServerSettings(warm_reports=warm, cache_check_seconds=3600),
    )
    app.state.store.add_user("lead", "password-123", "leadership")
    return app, {"Authorization": f"Bearer {app.state.store.create_token('lead', 'tests')}"}


def report_keys(app: FastAPI) -> set[Hashable]:
    return {k for k in app.state.cache.cached_keys() if not (isinstance(k, tuple) and k[0] in PER_VIEWER)}


def same(a: object, b: object) -> bool:
    """Equal JSON, floats to 1e-9 relative: the engine sums in parallel, so the last digit may differ between two
    computations of the same report (a cold app computes it again)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def wait_for(done: Callable[[], bool], seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "warming did not finish"
        time.sleep(0.05)


def test_every_page_in_the_navigation_has_a_default_view() -> None:
    warmed = {name.split("-")[0] for name, _ in DEFAULT_VIEWS}
    # the Planner has no default view (it needs a target); Home is the three shared homes
    assert {page for page, _, _ in NAV} - {"planner"} <= warmed


def test_warming_fills_the_cache_with_what_a_request_computes(company: Project, tmp_path) -> None:
    warm_app, warm_auth = app_for(company, tmp_path, warm=True)
    cold_app, cold_auth = app_for(company, tmp_path, warm=False)
    assert cold_app.state.warmer is None
    took = warm_app.state.warmer.warm_once()
    assert set(took) == {name for name, _ in DEFAULT_VIEWS}
    warmed = report_keys(warm_app)
    warm, cold = TestClient(warm_app, headers=warm_auth), TestClient(cold_app, headers=cold_auth)
    for path in API_PATHS:
        got = warm.get(path)
        assert got.status_code == 200, (path, got.text)
        assert report_keys(warm_app) == warmed, f"{path} computed a report warming had not"
        assert same(got.json(), cold.get(path).json()), path
    for _, href, _ in NAV:  # the pages themselves: rendered from the warmed reports, nothing computed
        if href != "/planner":
            assert warm.get(href).status_code == 200, href
            assert report_keys(warm_app) == warmed, f"page {href} computed a report warming had not"


def test_a_refresh_drops_the_old_reports_and_warms_again(tmp_path) -> None:
    init_project(tmp_path / "p", name="refresh")
    project = open_project(tmp_path / "p")
    try:
        simulate(scale="xs", seed=4).write(project.engine)
        app, auth = app_for(project, tmp_path, warm=True)
        with TestClient(app, headers=auth) as client:  # the lifespan starts the warmer: it warms at once
            warmer = app.state.warmer
            wait_for(lambda: warmer.passes >= 1)
            before = client.get("/api/v1/overview").json()
            opps = project.tables.to_pandas(project.table("opportunities"))
            won = opps[opps["is_won"].fillna(False).astype(bool)]
            project.engine.write("opportunities", opps.drop(won.index[: len(won) // 2]))  # new data: half the wins
            after_refresh(app.state.cache, warmer)  # what the scheduler calls after its refresh
            assert "overview" not in {k[0] for k in app.state.cache.cached_keys()}
            wait_for(lambda: warmer.passes >= 2)
            warmed = report_keys(app)
            after = client.get("/api/v1/overview").json()
            assert report_keys(app) == warmed  # served from the second warming
            assert after != before
        cold_app, cold_auth = app_for(project, tmp_path, warm=False)
        assert same(after, TestClient(cold_app, headers=cold_auth).get("/api/v1/overview").json())
    finally:
        project.close()
