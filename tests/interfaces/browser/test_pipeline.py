"""The Pipeline page in a real browser: the landing reads the API's numbers as money (the rule restated here), the
quarter's pipeline is drawn as a waterfall whose bars are the API's (opening + movements = closing), and the
split control shows the landing by team."""

from __future__ import annotations

import pytest

from tests.interfaces.browser.conftest import api_json, log_in, money
from tests.interfaces.browser.conftest import table_rows as rows

pytestmark = pytest.mark.browser


def test_the_landing_and_the_pipeline_waterfall(new_page, live_server):
    body = api_json(live_server, "/api/v1/pipeline?period=2025-Q3")
    (landing,) = rows(body, "landing")
    bridge = rows(body, "bridge")
    assert [b["movement"] for b in bridge] == ["opening", "created", "amount_changed", "won", "lost", "closing"]
    assert bridge[0]["amount"] + sum(b["amount"] for b in bridge[1:-1]) == pytest.approx(bridge[-1]["amount"])
    assert landing["landing"] == pytest.approx(landing["won"] + landing["weighted_open"] + landing["run_rate"])
    page = new_page()
    log_in(page, "leader", target="/pipeline?period=2025-Q3")
    shown = page.locator("#table-landing td[data-col=landing]").inner_text().strip()
    assert shown == money(landing["landing"])
    fig = page.locator("figure.chart", has=page.locator("figcaption", has_text="How the open pipeline moved"))
    assert fig.get_attribute("data-rendered") == "1"
    drawn = fig.locator(".plot").evaluate("el => el.data.map(t => [t.type, t.y, t.x])")
    words = ["Opening", "Created", "Amount changed", "Won", "Lost", "Closing"]  # bars named in words, not keys
    assert drawn == [["waterfall", [b["amount"] for b in bridge], words]]


def test_the_split_shows_the_landing_by_team(new_page, live_server):
    by_team = rows(api_json(live_server, "/api/v1/pipeline?period=2025-Q3&by=team"), "landing_by")
    page = new_page()
    log_in(page, "leader", target="/pipeline?period=2025-Q3")
    page.select_option("#f-by", "team")
    with page.expect_navigation():
        page.click("#apply")
    assert "by=team" in page.url
    teams = [c.strip() for c in page.locator("#table-landing_by td[data-col=team]").all_inner_texts()]
    assert teams == [r["team"] for r in by_team] and len(teams) > 1


def test_the_scorecards_attainment_chart_draws_only_kpis_with_a_target(new_page, live_server):
    card = rows(api_json(live_server, "/api/v1/scorecards?department=joint"), "scorecard")
    with_target = [r["label"] for r in card if r["attainment"] is not None]
    assert 0 < len(with_target) < len(card)  # the card has KPIs without a target: they must not be empty slots
    page = new_page()
    log_in(page, "leader", target="/scorecards")
    fig = page.locator("figure.chart", has=page.locator("figcaption", has_text="Attainment vs target"))
    assert fig.get_attribute("data-rendered") == "1"
    assert fig.locator(".plot").evaluate("el => el.data[0].x") == with_target
