"""The planner page and the IDC scorecard's template choice in a real browser, at laptop and phone widths: the form
plans a target, and the plan table reads what ``/api/v1/planner`` computes. Screenshots land in docs/screenshots/
with ``REVALIGN_UPDATE_SCREENSHOTS=1``."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.interfaces.browser.conftest import LAPTOP, PHONE, SCREENSHOTS, log_in

pytestmark = pytest.mark.browser
TARGET, PERIOD = "600000", "2026-Q1"


def cells(page, table: str, column: str) -> list[str]:
    return [c.strip() for c in page.locator(f"#table-{table} td[data-col={column}]").all_inner_texts()]


def api_plan(live_server) -> dict:
    headers = {"Authorization": f"Bearer {live_server.token}"}
    query = f"?target={TARGET}&period={PERIOD}"
    response = httpx.get(live_server.url + "/api/v1/planner" + query, headers=headers, timeout=300)
    assert response.status_code == 200, response.text[:500]
    return response.json()


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_the_planner_form_plans_a_target(new_page, live_server, viewport, tmp_path):
    page = new_page(viewport)
    log_in(page, "leader", target="/planner")
    assert page.locator("#not-available").is_visible()  # no target yet: the form and a hint, not an error
    page.fill("#f-target", TARGET)
    page.fill("#f-period", PERIOD)
    with page.expect_navigation():
        page.click("#apply")
    page.wait_for_load_state("networkidle")
    assert f"target={TARGET}" in page.url and f"period={PERIOD}" in page.url
    rows = {t["name"]: t for t in api_plan(live_server)["tables"]}["plan"]["rows"]
    assert cells(page, "plan", "kpi") == [r["kpi"] for r in rows]
    leads = next(r for r in rows if r["kpi"] == "new_leads")["value"]
    assert cells(page, "plan", "value")[-1] == f"{leads:,.0f}"  # a count, with thousands separators
    assert page.locator("#table-channels").is_visible() and page.locator("#table-plan").is_visible()
    shots = SCREENSHOTS if os.environ.get("REVALIGN_UPDATE_SCREENSHOTS") == "1" else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(400)  # let Plotly's responsive relayout run
    page.screenshot(path=str(shots / f"planner-{'laptop' if viewport == LAPTOP else 'phone'}.png"), full_page=False)


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_the_scorecards_page_shows_the_idc_template(new_page, viewport, tmp_path):
    page = new_page(viewport)
    log_in(page, "admin", target="/scorecards")  # every row: quota attainment is pay data, hidden from the leader
    page.select_option("#f-template", "idc")
    with page.expect_navigation():
        page.click("#apply")
    page.wait_for_load_state("networkidle")
    assert "template=idc" in page.url
    assert page.locator("h1").first.inner_text().startswith("Customer Creation Scorecard")
    sections = cells(page, "scorecard", "section")
    assert len(sections) == 8 and set(sections) == {"investment", "staff_efficiency", "productivity_levers"}
    shots = SCREENSHOTS if os.environ.get("REVALIGN_UPDATE_SCREENSHOTS") == "1" else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(400)
    page.screenshot(path=str(shots / f"idc-{'laptop' if viewport == LAPTOP else 'phone'}.png"), full_page=False)
