"""Rendered pages kept per viewer (``ReportCache.page``, ``pages/rendering.py``).

The oracle of every page is the same server with the page cache off (``ServerSettings(cache_pages=False)``): it
renders each request, so a cached page must be byte-identical to it. Pay data differs per viewer, so the rep and
finance logins of the hand-worked incentives company (tests/analytics/incentives/hand.py: the rep A1 sees only
A1's pay rows, finance everyone's) must each get their own page, never the other's; new data and an edited
definition file must render again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from revalign.interfaces.server import ServerSettings, create_app
from revalign.project import Project, init_project, open_project
from tests.analytics.incentives.hand import PLAN_YAML, write_company
from tests.interfaces.server.conftest import USERS, login, write_canonical
from tests.project.test_memo import OPPS, new_revenue

WINDOW = "plan=team_plan&start=2025-01-01&end=2025-06-30"
LOGINS = {"rep": ("rep", "A1"), "finance": ("finance", None)}
PAGES = ("/", "/tree", "/scorecards", "/funnel", "/sla", "/agreements", "/audit", "/glossary", f"/incentives?{WINDOW}")


def pay_users(html: str) -> set[str]:
    """The people whose pay rows a page lists (the ``user_id`` cells)."""
    return {part.split("<")[0].strip() for part in html.split('data-col="user_id">')[1:]}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    folder = tmp_path_factory.mktemp("pages")
    init_project(folder, name="pages")
    (folder / "comp_plans").mkdir()
    (folder / "comp_plans" / "team_plan.yaml").write_text(PLAN_YAML)
    proj = open_project(folder)
    write_company(proj.engine)
    yield proj
    proj.close()


def app_over(project: Project, state: Path, *, pages: bool, check_seconds: float = 5.0) -> FastAPI:
    app = create_app(
        project,
        state_url=f"sqlite:///{state}",
        settings=ServerSettings(cache_pages=pages, cache_check_seconds=check_seconds, scheduled_refresh=False),
    )
    for name, (role, owner) in LOGINS.items():
        app.state.store.add_user(name, "correct-horse-1", role, owner_id=owner)
    return app


def token_client(app: FastAPI, username: str) -> TestClient:
    token = app.state.store.create_token(username, "test")
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="module")
def apps(project: Project, tmp_path_factory: pytest.TempPathFactory) -> tuple[FastAPI, FastAPI]:
    """The same project served with the page cache on and off (each with its own state store)."""
    folder = tmp_path_factory.mktemp("state")
    return app_over(project, folder / "on.sqlite", pages=True), app_over(project, folder / "off.sqlite", pages=False)


@pytest.mark.parametrize("path", PAGES)
def test_a_cached_page_is_byte_identical_to_a_fresh_render(apps, path: str) -> None:
    cached_app, fresh_app = apps
    cached, fresh = token_client(cached_app, "finance"), token_client(fresh_app, "finance")
    first = cached.get(path)
    hits = cached_app.state.cache.page_hits
    second = cached.get(path)
    assert cached_app.state.cache.page_hits == hits + 1  # the second request was served from the cache
    oracle = fresh.get(path)
    assert first.status_code == second.status_code == oracle.status_code == 200
    assert first.content == second.content == oracle.content
    assert second.headers["content-type"] == oracle.headers["content-type"]
    assert fresh_app.state.cache.page_hits == 0  # the oracle never came from a page cache


def test_viewers_with_different_pay_access_never_get_each_others_page(apps) -> None:
    cached_app, fresh_app = apps
    path = f"/incentives?{WINDOW}"
    finance, rep = token_client(cached_app, "finance"), token_client(cached_app, "rep")
    shown = {"finance": finance.get(path).text, "rep": rep.get(path).text}  # finance first: its page is cached
    shown_again = {"rep": rep.get(path).text, "finance": finance.get(path).text}
    # by the rule: the rep A1 sees only A1's pay rows, finance every paid person's
    assert pay_users(shown["rep"]) == pay_users(shown_again["rep"]) == {"A1"}
    assert pay_users(shown["finance"]) == pay_users(shown_again["finance"]) == {"A1", "A2", "S1", "M1"}
    for who in LOGINS:
        assert shown[who] == shown_again[who] == token_client(fresh_app, who).get(path).text


def csrf_of(html: str) -> str:
    return html.split('name="csrf_token" value="')[1].split('"')[0]


def test_each_session_gets_its_own_csrf_token(apps) -> None:
    cached_app, _ = apps
    one, two = login(TestClient(cached_app), "finance"), login(TestClient(cached_app), "finance")
    first = csrf_of(one.get("/glossary").text)
    second = csrf_of(two.get("/glossary").text)  # the same login and page, another session
    assert first and second and first != second
    assert csrf_of(one.get("/glossary").text) == first
    assert csrf_of(two.get("/glossary").text) == second


# -- invalidation ------------------------------------------------------------------------------------------------


@pytest.fixture
def small(tmp_path: Path) -> Iterator[tuple[Project, FastAPI, FastAPI]]:
    """The memo tests' tiny project (won new business: o1, 1,000, closed in 2025-01) served with the page cache
    on and off, checking the data version on every request (so a write is seen at once, as after a refresh)."""
    project = Project(tmp_path / "project", engine="duckdb://:memory:")
    write_canonical(project, "opportunities", OPPS)
    write_canonical(project, "users", USERS)
    on = app_over(project, tmp_path / "on.sqlite", pages=True, check_seconds=0)
    off = app_over(project, tmp_path / "off.sqlite", pages=False, check_seconds=0)
    yield project, on, off
    project.close()


def test_new_data_renders_again(small) -> None:
    project, on, off = small
    cached, fresh = token_client(on, "finance"), token_client(off, "finance")
    path = "/glossary/new_revenue?grain=month"
    before = cached.get(path).text
    assert cached.get(path).text == before == fresh.get(path).text
    # another won new-business deal of 98,765 closed in January: January's new revenue becomes 99,765
    grown = pd.concat([OPPS, OPPS.iloc[[0]].assign(opportunity_id="o9", amount=98765.0)], ignore_index=True)
    assert new_revenue(grown, "2025-01") == 99765.0
    write_canonical(project, "opportunities", grown)
    after = cached.get(path).text
    assert "99,765" in after and "99,765" not in before
    assert after == fresh.get(path).text


def test_an_edited_definition_file_renders_again(small) -> None:
    project, on, _ = small
    cached = token_client(on, "finance")
    cached.get("/glossary")
    cache = on.state.cache
    misses = cache.page_misses
    cached.get("/glossary")
    assert cache.page_misses == misses  # unchanged: served from the cache
    project.folder.mkdir(parents=True, exist_ok=True)
    (project.folder / "funnels.yaml").write_text("{}\n", encoding="utf-8")  # a definition file, not targets
    cached.get("/glossary")
    assert cache.page_misses == misses + 1


def test_a_refresh_clears_the_pages(small) -> None:
    _, on, _ = small
    cached = token_client(on, "finance")
    cached.get("/glossary")
    cache = on.state.cache
    misses = cache.page_misses
    cache.clear()  # what the server's own refresh does (app.after_refresh)
    cached.get("/glossary")
    assert cache.page_misses == misses + 1
