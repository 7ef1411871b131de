"""The role homes in a real browser, at laptop and phone widths: each role's "Home" opens its own home, every KPI
the page shows reads as the joint scorecard's value for that KPI and period (a rep's: the scorecard by owner),
formatted by the display rules restated here, and a rep sees nobody else's rows."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.interfaces.browser.conftest import LAPTOP, PASSWORD, PHONE, SCREENSHOTS, log_in

pytestmark = pytest.mark.browser

USERS = {"home_cmo": "marketing", "home_cs": "customer_success", "home_cro": "sales"}
"""Logins this module adds, named apart from other modules' logins on the same session server (the disputes tests
add a ``marketer``)."""
HOMES = [
    ("home_cmo", "cmo", ("kpis",)),
    ("home_cs", "cs", ("onboarding", "churn", "expansion", "advocacy")),
    ("home_cro", "cro", ("kpis",)),
]


@pytest.fixture(scope="module")
def home_users(live_server) -> None:
    headers = {"Authorization": f"Bearer {live_server.admin_token}"}
    for name, role in USERS.items():
        body = {"username": name, "password": PASSWORD, "role": role}
        response = httpx.post(live_server.url + "/api/v1/admin/users", json=body, headers=headers, timeout=60)
        assert response.status_code in (201, 409), response.text


def api(live_server, path: str) -> dict:
    headers = {"Authorization": f"Bearer {live_server.admin_token}"}
    response = httpx.get(live_server.url + path, headers=headers, timeout=300)
    assert response.status_code == 200, response.text[:500]
    return response.json()


def card_by_kpi(live_server, period: str, by: str | None = None) -> dict[tuple[str | None, str], dict]:
    """The joint scorecard's rows (as the admin sees them: every row), keyed by (owner, kpi)."""
    body = api(live_server, f"/api/v1/scorecards?department=joint&period={period}" + (f"&by={by}" if by else ""))
    (table,) = [t for t in body["tables"] if t["name"] == "scorecard"]
    return {(r.get("owner"), r["kpi"]): r for r in table["rows"]}


def minus(text: str, value: float) -> str:
    return ("−" if value < 0 else "") + text


def shown(value: float | None, unit: str) -> str | None:
    """The display rules for the units a home's KPIs mostly have (None: a unit not restated here)."""
    if value is None:
        return "—"
    x = abs(value)
    if unit == "currency":
        return minus(f"${x:,.0f}" if x >= 1000 or x == round(x) else f"${x:,.2f}", value)
    if unit == "count":
        return minus(f"{x:,.0f}", value)
    if unit == "percent":
        return minus(f"{x * 100:.1f}%", value)
    if unit == "ratio":
        return minus(f"{x:.2f}×", value)
    return None


def check_actuals(page, table: str, card: dict, owner: str | None = None) -> int:
    """Every row of ``table`` on the page shows the card's actual for its KPI; returns how many rows it read."""
    rows = page.locator(f"#table-{table} tbody tr").all()
    for row in rows:
        kpi = row.get_attribute("data-kpi")
        expected = card[(owner, kpi)]
        text = row.locator("td[data-col=actual]").inner_text().strip()
        restated = shown(expected["actual"], expected["unit"])
        assert text == (restated if restated is not None else text), (table, kpi, text, expected["actual"])
    return len(rows)


def screenshots(page, name: str, tmp_path) -> None:
    shots = SCREENSHOTS if os.environ.get("REVALIGN_UPDATE_SCREENSHOTS") == "1" else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"{name}-laptop.png"), full_page=False)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(400)  # let Plotly's responsive relayout run
    assert page.locator("h1").first.is_visible()
    page.screenshot(path=str(shots / f"{name}-phone.png"), full_page=False)
    page.set_viewport_size(LAPTOP)


@pytest.mark.parametrize(("user", "home", "tables"), HOMES)
def test_home_shows_the_joint_scorecards_numbers(new_page, live_server, home_users, tmp_path, user, home, tables):
    page = new_page(LAPTOP)
    log_in(page, user, target="/home")
    assert page.url.endswith(f"/home/{home}")
    assert page.locator("nav[aria-label=Pages] a", has_text="Home").get_attribute("href") == "/home"
    period = page.locator("#report-data").evaluate("el => JSON.parse(el.textContent).meta.period")
    card = card_by_kpi(live_server, period)
    assert sum(check_actuals(page, t, card) for t in tables) > 0
    for chart in page.locator("figure.chart").all():
        assert chart.get_attribute("data-rendered") == "1"
    screenshots(page, f"home-{home}", tmp_path)


def test_rep_home_shows_only_the_reps_own_rows(new_page, live_server, tmp_path):
    page = new_page(LAPTOP)
    log_in(page, "rep", target="/home")
    assert page.url.endswith("/home/rep")
    period = page.locator("#report-data").evaluate("el => JSON.parse(el.textContent).meta.period")
    card = card_by_kpi(live_server, period, by="owner")
    owners = {c.strip() for c in page.locator("#table-kpis td[data-col=owner]").all_inner_texts()}
    assert owners == {live_server.rep_owner}
    assert check_actuals(page, "kpis", card, owner=live_server.rep_owner) > 0
    assert live_server.other_owner not in page.locator("main").inner_text()
    screenshots(page, "home-rep", tmp_path)
    response = page.goto(f"/home/rep?owner={live_server.other_owner}")
    assert response is not None and response.status == 403


def test_leadership_sees_all_four_homes_and_the_overview_links_home(new_page, live_server):
    page = new_page(PHONE)
    log_in(page, "leader")  # the login lands on the overview, which links to the leader's home
    link = page.locator("#your-home")
    assert link.is_visible() and link.get_attribute("href") == "/home/cro"
    with page.expect_navigation():
        link.click()
    tabs = page.locator("nav.home-tabs a")
    assert [t.get_attribute("id") for t in tabs.all()] == [f"home-tab-{h}" for h in ("cmo", "cro", "rep", "cs")]
    assert page.locator("#table-reps").is_visible()
