"""A ratio KPI's drill in a real browser: its numerator and denominator tables, each with the total the API
reports, and paging that moves to other rows."""

from __future__ import annotations

import httpx
import pytest

from tests.interfaces.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_a_ratio_drill_shows_numerator_and_denominator_with_their_totals(new_page, live_server):
    url = "/records?kpi=win_rate&start=2025-01-01&end=2025-12-31&limit=5"
    page = new_page()
    log_in(page, "leader", target=url)
    api = httpx.get(live_server.url + "/api/v1" + url, headers={"Authorization": f"Bearer {live_server.token}"}).json()
    totals = {p["role"]: p["total_rows"] for p in api["meta"]["parts"]}
    for role in ("numerator", "denominator"):
        assert page.locator(f"#table-{role} tbody tr").count() == min(5, totals[role])
        assert int(page.locator(f"#total-{role}").inner_text()) == totals[role]
    first = page.locator("#table-denominator tbody tr").first.inner_text()
    with page.expect_navigation():
        page.locator("nav.paging[data-table=denominator] a[rel=next]").click()
    assert "offset=5" in page.url and "part=denominator" in page.url
    assert page.locator("#table-denominator tbody tr").first.inner_text() != first
