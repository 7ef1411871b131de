"""A person's path through the dashboard in a real browser: log in, every page, filters, drill-down, CSV
export, log out; and the access rules a rep runs into. Screenshots of each page land in docs/screenshots/ when
REVALIGN_UPDATE_SCREENSHOTS=1 (a temporary folder otherwise)."""

from __future__ import annotations

import os
import re

import httpx
import pandas as pd
import pytest

from tests.interfaces.browser.conftest import LAPTOP, PHONE, SCREENSHOTS, log_in

pytestmark = pytest.mark.browser

PAGES = {
    "overview": "/",
    "tree": "/tree",
    "pipeline": "/pipeline?period=2025-Q3",
    "scorecards": "/scorecards",
    "funnel": "/funnel",
    "channels": "/channels",
    "attribution": "/attribution",
    "glossary": "/glossary",
    "kpi": "/glossary/win_rate",
    "records": "/records/opportunities?start=2025-01-01&end=2025-03-31",
    "incentives": "/incentives",
    "home-cmo": "/home/cmo",
    "home-cro": "/home/cro",
    "home-cs": "/home/cs",
}


def test_anonymous_visitor_is_sent_to_login(new_page):
    page = new_page()
    page.goto("/scorecards")
    assert "/login?next=%2Fscorecards" in page.url
    assert page.locator("#username").is_visible()


def test_every_page_opens_at_laptop_and_phone_width(new_page, tmp_path):
    shots = SCREENSHOTS if os.environ.get("REVALIGN_UPDATE_SCREENSHOTS") == "1" else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    page = new_page(LAPTOP)
    log_in(page, "leader")
    for name, path in PAGES.items():
        response = page.goto(path)
        assert response is not None and response.status == 200, (name, response and response.status)
        page.wait_for_load_state("networkidle")
        assert page.locator("h1").first.is_visible()
        assert page.locator(".error-page").count() == 0
        # either real content or the clear "not available yet" state; never a blank page
        assert page.locator("table, .glossary, .kpi-tree, #not-available").count() > 0, name
        for chart in page.locator("figure.chart").all():
            assert chart.get_attribute("data-rendered") == "1", f"{name}: chart not drawn"
        page.set_viewport_size(LAPTOP)
        page.screenshot(path=str(shots / f"{name}-laptop.png"), full_page=False)
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(400)  # let Plotly's responsive relayout run
        page.screenshot(path=str(shots / f"{name}-phone.png"), full_page=False)
        page.set_viewport_size(LAPTOP)


def first_actuals(page) -> list[str]:
    return page.locator("#table-scorecard tbody tr td:nth-child(5)").all_inner_texts()[:10]


def test_changing_a_filter_changes_the_numbers(new_page):
    page = new_page()
    log_in(page, "leader", target="/scorecards?department=sales")
    before = first_actuals(page)
    page.select_option("#f-grain", "month")
    with page.expect_navigation():
        page.click("#apply")
    page.wait_for_load_state("networkidle")
    assert "grain=month" in page.url
    assert page.locator("#table-scorecard").count(), (page.url, page.inner_text("main")[:800])
    after = first_actuals(page)
    assert before and after and before != after, (page.url, page.inner_text("main")[:500])


def test_drill_down_opens_the_records_behind_a_number(new_page, live_server):
    page = new_page()
    log_in(page, "leader", target="/scorecards?department=sales")
    link = page.locator("#table-scorecard a.drill").first
    href = link.get_attribute("href")
    assert href and href.startswith("/records/")
    with page.expect_navigation():
        link.click()
    page.wait_for_load_state("networkidle")
    assert "/records/" in page.url
    total = int(page.locator("#total-rows").inner_text())
    api = httpx.get(live_server.url + "/api/v1" + href, headers={"Authorization": f"Bearer {live_server.token}"}).json()
    assert total == api["meta"]["total_rows"]


def test_csv_export_totals_match_the_api(new_page, live_server):
    page = new_page()
    log_in(page, "leader", target="/scorecards?department=sales")
    with page.expect_download() as info:
        page.click("a.csv[data-table='scorecard']")
    frame = pd.read_csv(info.value.path())
    api = httpx.get(
        live_server.url + "/api/v1/scorecards?department=sales",
        headers={"Authorization": f"Bearer {live_server.token}"},
    ).json()
    rows = next(t for t in api["tables"] if t["name"] == "scorecard")["rows"]
    assert len(frame) == len(rows)
    assert frame["actual"].sum() == pytest.approx(sum(r["actual"] or 0 for r in rows))
    assert {"green", "red"} <= set(frame["status"])  # scored against the planned targets (conftest)


def test_log_out_ends_the_session(new_page):
    page = new_page()
    log_in(page, "leader")
    with page.expect_navigation():
        page.click("#logout")
    page.wait_for_load_state("networkidle")
    assert "/login" in page.url
    page.goto("/")
    assert "/login" in page.url


def test_a_rep_cannot_open_another_reps_records_or_admin(new_page, live_server):
    page = new_page()
    log_in(page, "rep")
    own = page.goto("/records/opportunities")
    assert own is not None and own.status == 200
    headers = page.locator("#table-opportunities thead th").all_inner_texts()
    col = headers.index("owner id") + 1  # the owner's name stands before the id
    owners = set(page.locator(f"#table-opportunities tbody tr td:nth-child({col})").all_inner_texts())
    assert owners <= {live_server.rep_owner}
    other = page.goto(f"/records/opportunities?owner_id={live_server.other_owner}")
    assert other is not None and other.status == 403
    assert "Not allowed" in page.inner_text("h1")
    admin = page.goto("/admin")
    assert admin is not None and admin.status == 403


def test_keyboard_reaches_the_skip_link_and_the_filters(new_page):
    page = new_page()
    log_in(page, "leader", target="/funnel")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    for _ in range(3):
        page.keyboard.press("Tab")
    tag = page.evaluate("document.activeElement.tagName")
    assert re.match("INPUT|SELECT|A|BUTTON", tag)
