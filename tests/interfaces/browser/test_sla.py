"""The SLA page in a real browser: compliance rates and hours late read as the API's raw values formatted by
the display rules (restated here, not imported), and the team filter narrows the breach ledger."""

from __future__ import annotations

import httpx
import pytest

from tests.interfaces.browser.conftest import log_in

pytestmark = pytest.mark.browser


def api(live_server, query: str = "") -> dict:
    headers = {"Authorization": f"Bearer {live_server.token}"}
    response = httpx.get(live_server.url + "/api/v1/sla" + query, headers=headers, timeout=300)
    assert response.status_code == 200, response.text[:500]
    return response.json()


def rows(body: dict, name: str) -> list[dict]:
    (table,) = [t for t in body["tables"] if t["name"] == name]
    return table["rows"]


def cells(page, table: str, column: str) -> list[str]:
    return [c.strip() for c in page.locator(f"#table-{table} td[data-col={column}]").all_inner_texts()]


def test_the_sla_page_reads_what_the_api_computes(new_page, live_server):
    body = api(live_server)
    page = new_page()
    log_in(page, "leader", target="/sla")
    expected = [
        f"{r['compliance_rate'] * 100:,.1f}%" if r["compliance_rate"] is not None else "—"
        for r in rows(body, "compliance")
    ]
    assert cells(page, "compliance", "compliance_rate") == expected
    assert cells(page, "compliance", "sla") == [r["sla"] for r in rows(body, "compliance")]
    breaches = rows(body, "breaches")
    assert breaches, "the simulated company breaches its SLAs"
    assert cells(page, "breaches", "late_hours") == [f"{r['late_hours']:,.1f} h" for r in breaches]
    assert page.locator("#agreement-versions").inner_text().startswith("Agreement marketing_sales v1")


def test_the_team_filter_narrows_the_breach_ledger(new_page, live_server):
    everyone = rows(api(live_server), "breaches")
    team = sorted({r["team_id"] for r in everyone if r["team_id"]})[0]
    page = new_page()
    log_in(page, "leader", target="/sla")
    page.fill("#f-team", team)
    with page.expect_navigation():
        page.click("#apply")
    assert f"team={team}" in page.url
    shown = cells(page, "breaches", "team_id")
    assert shown and set(shown) == {team}
    assert len(shown) == sum(r["team_id"] == team for r in everyone)
    assert cells(page, "by_team", "team_id") and set(cells(page, "by_team", "team_id")) == {team}
