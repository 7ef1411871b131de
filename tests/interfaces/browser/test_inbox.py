"""The inbox in a real browser: an alert delivered to the leader's inbox shows with its driver and its records link,
the nav says Inbox, "Mark read" clears it; every page's footer says how fresh the data is."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from revalign.alerts.firing import Alert, Firing, Link
from revalign.definitions.alerts import Audience
from revalign.interfaces.server.state import StateStore
from revalign.interfaces.server.state.alerts import AlertStore
from tests.interfaces.browser.conftest import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def delivered(live_server, tmp_path_factory) -> str:
    """An alert put in the leader's inbox through the state store the live server uses (the project's default)."""
    # the live server's folder (pytest also links it as "browser-democurrent")
    (path,) = {p.resolve() for p in tmp_path_factory.getbasetemp().glob("browser-demo*/.revalign/state.sqlite")}
    store = StateStore(f"sqlite:///{path}")
    state = AlertStore(store)
    title = f"Win rate off target in 2025-Q4 ({dt.datetime.now():%H%M%S%f})"
    firing = Firing(
        "win_rate_low",
        "kpi_off_target",
        "win_rate",
        "2025-Q4",
        "red",
        "critical",
        title,
        "Win rate is 18.0% in 2025-Q4 against a target of 25.0% (28.0% off target).",
        driver="Win rate, sales: −4.1 pts of New revenue, 2025-Q3 → 2025-Q4",
        links=(Link("Records behind the number", "/records?kpi=win_rate&start=2025-10-01&end=2025-12-31"),),
    )
    alert_id = state.record(Alert(firing, "sent", dt.datetime.now(), Audience(users=["leader"]), ("inbox",)))
    state.add_to_inbox(alert_id, [uid for uid, _ in state.inbox_users(Audience(users=["leader"]))])
    store.close()
    return title


def test_the_leader_reads_an_alert_follows_its_link_and_marks_it_read(new_page, delivered, live_server):
    page = new_page()
    log_in(page, "leader", target="/inbox")
    assert page.locator("nav a[href='/inbox']").inner_text() == "Inbox"
    article = page.locator("article.alert", has_text=delivered)
    assert "Win rate, sales: −4.1 pts of New revenue" in article.locator(".driver").inner_text()
    href = article.locator("a", has_text="Records behind the number").get_attribute("href")
    assert href == "/records?kpi=win_rate&start=2025-10-01&end=2025-12-31"
    unread = int(page.locator("#unread").inner_text().split()[0])
    with page.expect_navigation():
        article.locator("button", has_text="Mark read").click()
    article = page.locator("article.alert", has_text=delivered)
    assert article.get_attribute("class") == "alert read" and article.locator("button").count() == 0
    assert page.locator("#unread").inner_text() == f"{unread - 1} unread"
    page.goto(href)
    assert page.locator("h1").first.is_visible()
    fresh = httpx.get(
        live_server.url + "/api/v1/freshness", headers={"Authorization": f"Bearer {live_server.token}"}
    ).json()
    assert f"data to {fresh['latest_data'][:10]}" in page.locator("#freshness").inner_text()
