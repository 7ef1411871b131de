"""Both leaders (and RevOps, a signatory of the shipped agreement) approve a proposed agreement version in a real
browser; the SLA page's breach ledger changes only after the last signature — to exactly the ledger the library
computes directly under the two versions (and, before, under version 1 alone)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.interfaces.browser.conftest import LAPTOP, PASSWORD, log_in, serving
from tests.interfaces.server.agreement_versions import V1, V2, book, write_versions

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def signoff_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, list[str]]]]:
    """A server over a small simulated company with agreement versions 1 and 2 in its files (2 not proposed),
    and the breach ledgers the library computes directly under version 1 and under both."""
    from revalign.analytics.sla import breach_ledger, sla_items
    from revalign.interfaces.server import create_app
    from revalign.project import init_project, open_project
    from revalign.simulate import simulate

    folder = tmp_path_factory.mktemp("browser-agreements")
    init_project(folder, name="agreements browser")
    write_versions(folder)
    project = open_project(folder)
    simulate(scale="xs", seed=3).write(project.engine)
    expected = {
        "v1": breach_ledger(sla_items(project.tables, book(V1)))["entity_id"].tolist(),
        "both": breach_ledger(sla_items(project.tables, book(V1, V2)))["entity_id"].tolist(),
    }
    app = create_app(project)
    for user, role in (("cmo", "marketing"), ("cro", "sales"), ("ops", "revops")):
        app.state.store.add_user(user, PASSWORD, role)
    with serving(app) as url:
        yield url, expected
    project.close()


def open_as(chromium, url: str, username: str):
    context = chromium.new_context(viewport=LAPTOP, base_url=url)
    context.set_default_timeout(120_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, username, target="/agreements")
    return context, page, errors


def click_and_reload(page, selector: str, errors: list[str]) -> None:
    with page.expect_navigation():
        page.locator(selector).click()
    page.wait_for_load_state("networkidle")
    assert not errors, errors  # the click reloaded the page: the CSP let the page's own script run


def v2(page):
    return page.locator("#table-versions tbody tr[data-version='2']")


def sla_ledger(page) -> list[str]:
    page.goto("/sla")
    page.wait_for_load_state("networkidle")
    return [c.strip() for c in page.locator("#table-breaches td[data-col=entity_id]").all_inner_texts()]


def test_a_version_counts_only_after_every_signatory_signs(chromium, signoff_server) -> None:
    url, expected = signoff_server
    assert len(expected["both"]) > len(expected["v1"])  # the tighter version 2 breaches more
    ctx1, page, errors = open_as(chromium, url, "cmo")
    assert v2(page).get_attribute("data-status") == "draft"
    assert sla_ledger(page) == expected["v1"]
    page.goto("/agreements")
    click_and_reload(page, "#table-versions tr[data-version='2'] button.propose", errors)
    assert v2(page).locator("[data-col=status]").inner_text() == "proposed"
    assert v2(page).locator("[data-col=missing]").inner_text() == "marketing, sales, revops"
    click_and_reload(page, "#table-versions tr[data-version='2'] button.sign", errors)
    assert v2(page).locator("[data-col=missing]").inner_text() == "sales, revops"
    assert v2(page).locator("button.sign").count() == 0  # marketing has signed; nothing left for it to sign
    assert sla_ledger(page) == expected["v1"]  # one signature is not an agreement

    ctx2, page2, errors2 = open_as(chromium, url, "cro")
    click_and_reload(page2, "#table-versions tr[data-version='2'] button.sign", errors2)
    assert v2(page2).locator("[data-col=missing]").inner_text() == "revops"
    assert sla_ledger(page2) == expected["v1"]  # still not every signatory

    ctx3, page3, errors3 = open_as(chromium, url, "ops")
    click_and_reload(page3, "#table-versions tr[data-version='2'] button.sign", errors3)
    row = v2(page3)
    assert row.locator("[data-col=status]").inner_text() == "signed"
    assert row.locator("[data-col=counted]").inner_text() == "yes"
    signed = row.locator("[data-col=signed]").inner_text()
    assert [s.split(" (")[0] for s in signed.split("; ")] == ["marketing: cmo", "sales: cro", "revops: ops"]
    assert sla_ledger(page3) == expected["both"]  # the last signature changes the numbers
    assert "v2 from 2025-07-01 (signed)" in page3.locator("#agreement-versions").inner_text()
    # the marketing leader's SLA page, reloaded, shows the same numbers
    assert sla_ledger(page) == expected["both"]
    for ctx in (ctx1, ctx2, ctx3):
        ctx.close()
