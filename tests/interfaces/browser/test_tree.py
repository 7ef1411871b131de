"""The driver tree page in a real browser: every KPI of the joint scorecard placed under its parent, each node's
actual and status the API's (currency restated here, not imported), branches fold, nodes open their KPI page
and their records, the segment control re-roots the numbers."""

from __future__ import annotations

import pytest

from tests.interfaces.browser.conftest import PHONE, api_json, log_in, money

pytestmark = pytest.mark.browser


def tree_rows(body: dict) -> list[dict]:
    (table,) = [t for t in body["tables"] if t["name"] == "tree"]
    return table["rows"]


def test_every_kpi_sits_under_its_parent_with_the_scorecards_numbers(new_page, live_server):
    rows = tree_rows(api_json(live_server, "/api/v1/tree"))
    card = api_json(live_server, "/api/v1/scorecards?department=joint")
    (scorecard,) = [t for t in card["tables"] if t["name"] == "scorecard"]
    assert {r["kpi"] for r in rows} == {r["kpi"] for r in scorecard["rows"]}  # every KPI, once
    by_kpi = {r["kpi"]: r for r in scorecard["rows"]}
    for r in rows:  # the same actual and status as the joint scorecard
        assert r["status"] == by_kpi[r["kpi"]]["status"] and r["actual"] == by_kpi[r["kpi"]]["actual"]
    page = new_page()
    log_in(page, "leader", target="/tree")
    nodes = page.locator("#kpi-tree .node")
    linked = [r for r in rows if r["linked"]]
    assert nodes.count() == len(linked)
    assert (
        page.locator("#kpi-tree .node").first.get_attribute("data-kpi") == rows[0]["kpi"] == card["meta"]["north_star"]
    )
    for r in linked:  # each node nested in its parent's list, its status and (money) actual as the API says
        node = page.locator(f'#kpi-tree .node[data-kpi="{r["kpi"]}"]')
        if r["parent"] in {v["kpi"] for v in rows}:  # a parent hidden from this reader leaves it at the top
            parent = page.locator(f'#kpi-tree li:has(> details > summary > .node[data-kpi="{r["parent"]}"])')
            assert parent.locator(f'.node[data-kpi="{r["kpi"]}"]').count() == 1, r["kpi"]
        assert r["status"].replace("_", " ") in node.locator(".status").inner_text()
        if r["unit"] == "currency" and r["actual"] is not None:
            assert node.locator(".actual").inner_text().strip() == money(r["actual"]), r["kpi"]


def test_a_branch_folds_and_a_node_opens_its_kpi_page_and_records(new_page, live_server):
    rows = tree_rows(api_json(live_server, "/api/v1/tree"))
    branch = next(r for r in rows if r["linked"] and r["children"] and r["depth"] == 1)
    child = next(r for r in rows if r["parent"] == branch["kpi"])
    page = new_page()
    log_in(page, "leader", target="/tree")
    child_node = page.locator(f'#kpi-tree .node[data-kpi="{child["kpi"]}"]')
    assert child_node.is_visible()
    page.locator(f'#kpi-tree summary:has(> .node[data-kpi="{branch["kpi"]}"]) .dept').click()
    assert not child_node.is_visible()  # folded
    drill = page.locator(f'#kpi-tree .node[data-kpi="{branch["kpi"]}"] a.drill')
    if drill.count():
        assert page.request.get(drill.get_attribute("href")).status == 200
    with page.expect_navigation():
        page.locator(f'#kpi-tree .node[data-kpi="{branch["kpi"]}"] a.kpi-label').click()
    assert page.url.endswith(f"/glossary/{branch['kpi']}")


def test_the_segment_control_shows_that_segments_tree(new_page, live_server):
    rows = tree_rows(api_json(live_server, "/api/v1/tree?segment=smb"))
    star = rows[0]
    page = new_page(PHONE)
    log_in(page, "leader", target="/tree")
    page.select_option("#f-segment", "smb")
    with page.expect_navigation():
        page.click("#apply")
    assert "segment=smb" in page.url
    shown = page.locator(f'#kpi-tree .node[data-kpi="{star["kpi"]}"] .actual').first.inner_text().strip()
    assert shown == money(star["actual"])
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, "the tree fits a phone's width"
