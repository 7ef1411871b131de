"""A real uvicorn server on a free loopback port over a small simulated company, and Debian's Chromium.

Never ``playwright install``: the browser is the system's ``/usr/bin/chromium`` (the test command installs
it with apt), launched headless with everything that would reach the network turned off.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "browser-pass-1"
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
"""Where ``REVALIGN_UPDATE_SCREENSHOTS=1`` writes the screenshots; otherwise they go to a temporary folder, so
``make test`` leaves the working tree as it found it."""
LAPTOP, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}


@dataclass(frozen=True)
class LiveServer:
    url: str
    rep_owner: str
    other_owner: str
    token: str
    """The leader's API token (leadership: every page, pay data only for the people under it)."""
    admin_token: str
    """An admin's API token: every number, pay data included (the every-KPI display tests)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from revalign.interfaces.server import create_app
    from revalign.project import init_project, open_project
    from revalign.simulate import simulate

    folder = tmp_path_factory.mktemp("browser-demo")
    init_project(folder, name="browser demo")
    project = open_project(folder)
    simulate(scale="xs", seed=5).write(project.engine)
    # the demo's plan (2025 from 2024), so the scorecards and their screenshots show real statuses
    from revalign.interfaces.cli.demo import DEMO_PLAN, pick_leader

    project.plan(2025, grain="quarter", **DEMO_PLAN).write(folder / "targets.csv")
    opps = project.engine.execute(project.table("opportunities").select("owner_id"))
    owners = sorted(opps["owner_id"].dropna().astype(str).unique())
    app = create_app(project)
    store = app.state.store
    # bound to the top of the management tree, as in the demo: pay data is visible up the tree
    store.add_user("leader", PASSWORD, "leadership", owner_id=pick_leader(project))
    store.add_user("admin", PASSWORD, "admin")
    store.add_user("rep", PASSWORD, "rep", owner_id=owners[0])
    token = store.create_token("leader", "browser-tests")
    admin_token = store.create_token("admin", "browser-tests")
    with serving(app) as url:
        # compute the landing page's report once up front, so the first login does not race a cold computation
        httpx.get(url + "/api/v1/overview", headers={"Authorization": f"Bearer {token}"}, timeout=300)
        yield LiveServer(url=url, rep_owner=owners[0], other_owner=owners[1], token=token, admin_token=admin_token)
    project.close()


@contextmanager
def serving(app: object) -> Iterator[str]:
    """``app`` served by uvicorn in a thread on a free loopback port: its URL once ``/healthz`` answers."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        pytest.fail("uvicorn did not start")
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/setup.sh test does it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium, live_server):
    """A fresh browser context (own cookies) per call; closed after the test."""
    contexts = []

    def make(viewport: dict[str, int] = LAPTOP):
        context = chromium.new_context(viewport=viewport, base_url=live_server.url, accept_downloads=True)
        context.set_default_timeout(120_000)
        context.set_default_navigation_timeout(120_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in(page, username: str, password: str = PASSWORD, target: str = "/") -> None:
    page.goto(target)
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("#login")
    page.wait_for_load_state("networkidle")


def api_json(live_server: LiveServer, path: str) -> dict:
    """A report's JSON twin as the leader's API token sees it (what the page must show, formatted)."""
    headers = {"Authorization": f"Bearer {live_server.token}"}
    response = httpx.get(live_server.url + path, headers=headers, timeout=300)
    assert response.status_code == 200, response.text[:500]
    return response.json()


def table_rows(body: dict, name: str) -> list[dict]:
    """The raw rows of one table of a report's JSON."""
    (table,) = [t for t in body["tables"] if t["name"] == name]
    return table["rows"]


def money(value: float) -> str:
    """US dollars as the display rules say (restated here, not imported): thousands separators, cents only under
    $1,000 and not whole, a minus sign (−) for negatives."""
    x = abs(value)
    return ("−" if value < 0 else "") + (f"${x:,.0f}" if x >= 1000 or x == round(x) else f"${x:,.2f}")
