"""A sales manager disputes an MQL's rejection in a real browser; marketing sees it (banner, inbox, the disputes
page), comments and overturns it; the banners and the page follow each step.

The lead is found independently of the server: the simulator's own ledger (scale xs, seed 5, the live server's
company) read in pandas, sales' latest accept/reject decision per lead, the first lead whose latest is a rejection.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from revalign.interfaces.server.state import StateStore
from tests.interfaces.browser.conftest import PASSWORD, log_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def rejected(live_server, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """``(lead id, reason)`` of a rejected MQL, and a sales manager and a marketer on the live server."""
    from revalign.simulate import simulate

    ledger = simulate(scale="xs", seed=5).tables["ledger"].to_pandas()
    decided = ledger[
        (ledger.entity_type == "lead") & (ledger.kind == "lifecycle") & ledger.name.isin(["accepted", "rejected"])
    ]
    latest = decided.sort_values(["occurred_at", "event_id"]).groupby("entity_id").tail(1)
    rejected = latest[latest.name == "rejected"].sort_values("entity_id")
    assert not rejected.empty, "the simulator rejects some MQLs at scale xs"
    lead = rejected.iloc[0]
    (path,) = {p.resolve() for p in tmp_path_factory.getbasetemp().glob("browser-demo*/.revalign/state.sqlite")}
    store = StateStore(f"sqlite:///{Path(path)}")
    store.add_user("salesmgr", PASSWORD, "sales", replace=True)
    store.add_user("marketer", PASSWORD, "marketing", replace=True)
    store.close()
    return str(lead.entity_id), str(lead.reason) if isinstance(lead.reason, str) and not pd.isna(lead.reason) else ""


def banner(page, url: str) -> str:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    found = page.locator("#disputes-banner")
    return found.inner_text() if found.count() else ""


def test_sales_disputes_a_rejection_and_marketing_overturns_it(new_page, rejected):
    lead, reason = rejected
    sales = new_page()
    log_in(sales, "salesmgr", target="/disputes")
    sales.click("#new-dispute summary")
    sales.select_option("#d-kind", "mql_rejection")
    sales.fill("#d-lead", lead)
    sales.fill("#d-note", "They told us the budget is approved")
    with sales.expect_navigation():
        sales.click("#d-open")
    sales.wait_for_load_state("networkidle")
    article = sales.locator("article.dispute", has_text=f"rejection of MQL {lead}")
    title = article.locator("h2").inner_text()
    dispute_id = title.split()[0].lstrip("#")
    assert title == f"#{dispute_id} sales disputes rejection of MQL {lead} (rejected{': ' + reason if reason else ''})"
    assert article.locator(".dispute-status").inner_text() == "open"
    assert "sales against marketing" in article.locator(".dispute-meta").inner_text()
    # both teams' scorecards carry the banner; a team not involved does not
    for department in ("sales", "marketing"):
        assert f"#{dispute_id} sales disputes rejection of MQL {lead}" in banner(
            sales, f"/scorecards?department={department}"
        )
    assert f"#{dispute_id} " not in banner(sales, "/scorecards?department=customer_success")

    marketing = new_page()
    log_in(marketing, "marketer", target="/inbox")
    notice = marketing.locator("article.alert", has_text=f"Dispute #{dispute_id} opened")
    assert "They told us the budget is approved" in notice.locator(".message").inner_text()
    assert f"#{dispute_id} sales disputes" in banner(marketing, "/")
    marketing.goto(f"/disputes#dispute-{dispute_id}")
    article = marketing.locator(f"#dispute-{dispute_id}")
    article.locator("input.d-comment").fill("Checking the call notes with the SDR")
    with marketing.expect_navigation():
        article.locator(".comment-form button").click()
    article = marketing.locator(f"#dispute-{dispute_id}")
    assert [t.strip() for t in article.locator(".thread .text").all_inner_texts()] == [
        "They told us the budget is approved",
        "Checking the call notes with the SDR",
    ]
    # marketing may uphold or overturn (the side answering), not withdraw (the opener's)
    assert article.locator("select.d-resolution option").all_inner_texts() == ["upheld", "overturned"]
    article.locator("select.d-resolution").select_option("overturned")
    article.locator("input.d-resolution-note").fill("Budget confirmed: back to sales as an MQL")
    with marketing.expect_navigation():
        article.locator(".resolve-form button").click()
    article = marketing.locator(f"#dispute-{dispute_id}")
    assert article.locator(".dispute-status").inner_text() == "resolved: overturned"
    assert "by marketer: Budget confirmed" in article.locator(".dispute-resolution").inner_text()
    assert article.locator(".resolve-form").count() == 0
    # the banners are gone from both teams' pages; the opener hears of the resolution
    assert f"#{dispute_id} " not in banner(marketing, "/scorecards?department=marketing")
    assert f"#{dispute_id} " not in banner(sales, "/scorecards?department=sales")
    sales.goto("/inbox")
    assert sales.locator("article.alert", has_text=f"Dispute #{dispute_id} resolved: overturned").count() == 1
