"""The write-back page in a real browser, against the fake Salesforce org on loopback (nothing mocked).

A RevOps user opens the dry run of the write-back: the summary and each value's table show what the API's plan
holds (the plan itself is checked against pandas in tests/sources/writeback), old and new values in their units,
every "Export CSV" link downloads that table, and nothing is written to the org. A sales user gets no link and a
refusal.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from revalign.display.units import format_value
from revalign.simulate import simulate
from tests.interfaces.browser.conftest import LAPTOP, PASSWORD, log_in, serving
from tests.sources.sync.conftest import started_org
from tests.sources.warehouse.salesforce import salesforce_tables
from tests.sources.writeback.conftest import CUSTOM_FIELDS, project_in

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Served:
    url: str
    token: str
    fake: object


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``revalign serve``'s app over a project syncing from a fake org (its custom fields created, still empty)."""
    from revalign.interfaces.server import create_app

    company = simulate(scale="xs", seed=0)
    for org in started_org(
        salesforce_tables(company), tmp_path_factory.mktemp("org"), rate_limit_on=None, expire_on=None
    ):
        for (sobject, name), kind in CUSTOM_FIELDS.items():
            org.fake.add_field(sobject, name, kind)
        project = project_in(tmp_path_factory.mktemp("project"), org, company)
        app = create_app(project)
        app.state.store.add_user("ops", PASSWORD, "revops")
        app.state.store.add_user("seller", PASSWORD, "sales")
        token = app.state.store.create_token("ops", "browser-tests")
        with serving(app) as url:
            yield Served(url=url, token=token, fake=org.fake)
        project.close()


@pytest.fixture
def page_of(chromium, served):
    contexts = []

    def make():
        context = chromium.new_context(viewport=LAPTOP, base_url=served.url, accept_downloads=True)
        context.set_default_timeout(120_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def test_the_dry_run_shows_the_apis_plan_in_units_and_writes_nothing(page_of, served):
    headers = {"Authorization": f"Bearer {served.token}"}
    plan = httpx.get(served.url + "/api/v1/writeback/salesforce", headers=headers, timeout=300).json()
    per_value = Counter(c["value_name"] for c in plan["changes"])
    assert set(per_value) == {"lead_score", "audited_source", "marketing_credit"}  # the org's fields start empty

    page = page_of()
    log_in(page, "ops", target="/writeback/salesforce")
    page.goto("/writeback/salesforce", wait_until="load")
    assert page.locator("nav a[href='/writeback/salesforce']").count() == 1
    assert "revalign writeback salesforce --apply" in page.inner_text("#apply-hint")

    # the summary: per value, the records to change as the plan counts them, and those the CRM lacks
    summary = {
        row.locator("td[data-col=value]").inner_text(): row for row in page.locator("#table-summary tbody tr").all()
    }
    titles = {"lead_score": "Lead scores", "audited_source": "Audited sources", "marketing_credit": "Marketing credit"}
    for value, title in titles.items():
        assert summary[title].locator("td[data-col=to_change]").inner_text() == f"{per_value[value]:,}"
        assert summary[title].locator("td[data-col=not_in_crm]").inner_text() == f"{plan['not_in_crm'].get(value, 0):,}"
        # each value's table lists every change, old → new as the API formats it (its unit: a score, a percentage)
        shown = page.locator(f"#table-{value} tbody tr")
        assert shown.count() == per_value[value]
        first = next(c for c in plan["changes"] if c["value_name"] == value)
        row = page.locator(
            f"#table-{value} tbody tr", has=page.locator(f"td[data-col=record_id]:text-is('{first['record_id']}')")
        )
        assert row.locator("td[data-col=new]").inner_text() == first["new_text"]
    credit = next(c for c in plan["changes"] if c["value_name"] == "marketing_credit" and c["new"] not in (0, 100))
    assert credit["new_text"] == format_value(credit["new"], "percent_x100") and credit["new_text"].endswith("%")

    # every "Export CSV" link downloads its table, raw values, one row per change
    for value in titles:
        link = page.locator(f"a.csv[data-table={value}]")
        response = httpx.get(served.url + link.get_attribute("href"), headers=headers, timeout=300)
        assert response.status_code == 200, response.text[:300]
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert len(rows) == per_value[value]
        assert {r["record_id"] for r in rows} == {c["record_id"] for c in plan["changes"] if c["value_name"] == value}

    # a dry run: the org's fields are still empty, the next plan the same
    again = httpx.get(served.url + "/api/v1/writeback/salesforce", headers=headers, timeout=300).json()
    assert again["changes"] == plan["changes"]


def test_a_seller_sees_no_link_and_is_refused(page_of, served):
    page = page_of()
    log_in(page, "seller", target="/")
    assert page.locator("nav a[href^='/writeback']").count() == 0
    response = page.goto("/writeback/salesforce")
    assert response is not None and response.status == 403
    assert "revops" in page.inner_text("main")
