"""The incentives page in a real browser: whose statements each login sees, and the gains shown.

The live server's project has no ``comp_plans/``, so the shipped example plan (``ae_plan``) is used, as in the demo.
The pay-privacy rule, restated: a person's statements are shown to them, to everyone above them in the
``users.manager_id`` tree, and to the finance/RevOps/admin roles. The leader's login is linked to the top of the
tree, so it sees the statements of the people under it (computed here with pandas from the users records), and a
rep only their own. The gains on the page are the API's raw values formatted as currency
(``revalign.display.format_value(gain, "currency")``).
"""

from __future__ import annotations

import httpx
import pandas as pd
import pytest

from revalign.display import format_value
from revalign.simulate import simulate
from tests.interfaces.browser.conftest import log_in

pytestmark = pytest.mark.browser


def _api(live_server, path: str, token: str) -> dict:
    response = httpx.get(live_server.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=600)
    assert response.status_code == 200, response.text
    return response.json()


def _below(users: pd.DataFrame, top: str) -> set[str]:
    """``top`` and everyone whose manager chain reaches it (pandas, apart from the library's walk)."""
    found = {top}
    while True:
        more = set(users.loc[users["manager_id"].isin(found), "user_id"]) - found
        if not more:
            return found
        found |= more


def _users_shown(page, table: str) -> set[str]:
    return set(page.locator(f"#table-{table} td[data-col=user_id]").all_inner_texts())


def test_leader_sees_statements_of_people_under_them_only(new_page, live_server):
    users = simulate(scale="xs", seed=5).tables["users"].to_pandas()  # the live server's company (conftest.py)
    top = _api(live_server, "/api/v1/me", live_server.token)["owner_id"]
    allowed = _below(users[["user_id", "manager_id"]], top)
    everyone = {r["user_id"] for r in _tables(live_server, live_server.admin_token)["statements"]["rows"]}
    page = new_page()
    log_in(page, "leader", target="/incentives")
    page.goto("/incentives")
    shown = _users_shown(page, "statements")
    assert shown and shown == everyone & allowed


def _tables(live_server, token: str) -> dict[str, dict]:
    return {t["name"]: t for t in _api(live_server, "/api/v1/incentives", token)["tables"]}


def test_a_rep_sees_only_their_own_statement(new_page, live_server):
    page = new_page()
    log_in(page, "rep", target="/incentives")
    page.goto("/incentives")
    assert page.locator("h1").first.inner_text().startswith("Incentives")
    assert _users_shown(page, "statements") <= {live_server.rep_owner}
    assert _users_shown(page, "payouts") <= {live_server.rep_owner}
    assert page.locator("#table-alignment").count() == 0  # a figure over many people: pay-data roles only


def test_the_gains_shown_equal_the_api_formatted_as_currency(new_page, live_server):
    gains = _tables(live_server, live_server.admin_token)["gains"]["rows"]
    assert gains, "the example plan pays more for sales-sourced deals: the check must flag re-labelling"
    page = new_page()
    log_in(page, "admin", target="/incentives")
    page.goto("/incentives")
    cells = page.locator("#table-gains td[data-col=gain]").all_inner_texts()
    assert cells == [format_value(g["gain"], "currency", currency="USD") for g in gains]
    first = page.locator("#gain-sentences li").first
    g = gains[0]
    assert first.inner_text() == (
        f"this plan pays {g['user_id']} {format_value(g['gain'], 'currency', currency='USD')} more for "
        + first.inner_text().split(" more for ", 1)[1]
    )
    assert first.get_attribute("data-record") == g["record_id"]
