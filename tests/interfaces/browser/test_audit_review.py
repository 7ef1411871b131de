"""A reviewer confirms one finding and dismisses another on the audit page, in a real browser; the audited
number the page states follows, checked against the simulator's true lead sources computed here in pandas.

The company is its own (scale xs, seed 0: six findings, two of them on deals won in 2025), so the ground truth is
at hand and the shared live server's state is left alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pandas as pd
import pytest

from revalign.display import DisplayContext
from tests.interfaces.browser.conftest import LAPTOP, PASSWORD, log_in, serving

pytestmark = pytest.mark.browser
MARKETING = ("organic_search", "paid_search", "paid_social", "email", "events", "webinar", "content", "direct")
PERIOD = "2025"


@dataclass(frozen=True)
class AuditServer:
    url: str
    truth: dict[str, str]
    """lead id → true source (GroundTruth.true_sources)."""
    leads: pd.DataFrame
    opportunities: pd.DataFrame
    display: DisplayContext
    token: str


@pytest.fixture(scope="module")
def audit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuditServer]:
    from revalign.interfaces.server import create_app
    from revalign.project import init_project, open_project
    from revalign.simulate import simulate

    folder = tmp_path_factory.mktemp("audit-browser")
    init_project(folder, name="audit review")
    project = open_project(folder)
    company = simulate(scale="xs", seed=0)
    company.write(project.engine)
    frames = {n: project.engine.execute(project.table(n)) for n in ("leads", "opportunities")}
    app = create_app(project)
    app.state.store.add_user("ops", PASSWORD, "revops")
    token = app.state.store.create_token("ops", "audit-browser")
    with serving(app) as url:
        display = DisplayContext.of(project.catalog, project.settings)
        yield AuditServer(url, company.truth.true_sources, frames["leads"], frames["opportunities"], display, token)
    project.close()


def marketing_revenue(s: AuditServer, restored_leads: set[str]) -> float:
    """Won new-business revenue closed in 2025 whose channel is marketing, each deal credited to its lead's true
    source when its lead is in ``restored_leads`` and to the CRM's recorded source otherwise (plain pandas)."""
    o = s.opportunities
    closed = pd.to_datetime(o["closed_at"])
    won = o[o["is_won"].astype(bool) & (o["deal_type"] == "new_business") & (closed.dt.year == int(PERIOD))]
    channel = [
        s.truth.get(lead, recorded) if lead in restored_leads else recorded
        for lead, recorded in zip(won["lead_id"], won["lead_source"], strict=True)
    ]
    return float(won.loc[[c in MARKETING for c in channel], "amount"].sum())


def sentence(s: AuditServer, recorded: float, audited: float) -> str:
    shown = (s.display.format(v, "currency") for v in (recorded, audited))
    return "Marketing-sourced new revenue in {} is {} as recorded, {} as audited.".format(PERIOD, *shown)


def findings(s: AuditServer) -> list[dict[str, Any]]:
    body = httpx.get(
        s.url + "/api/v1/audit", params={"period": PERIOD}, headers={"Authorization": f"Bearer {s.token}"}, timeout=300
    ).json()
    return next(t for t in body["tables"] if t["name"] == "findings")["rows"]


def decide(page, finding_id: str, button: str, reason: str | None = None) -> None:
    form = page.locator(f"form.decision[data-finding='{finding_id}']")
    if reason is not None:
        form.locator("input[name=reason]").fill(reason)
    with page.expect_navigation():  # the script reloads the page once the API saved the decision
        form.locator(f"button.{button}").click()
    page.wait_for_load_state("networkidle")


def test_a_reviewer_confirms_and_dismisses_and_the_audited_number_follows(chromium, audit_server):
    s = audit_server
    rows = findings(s)
    headline = [r for r in rows if r["kind"] in ("lead_source_overwrite", "no_opportunity_recreate")]
    won = s.opportunities.set_index("opportunity_id")
    in_period = [
        r
        for r in headline
        if r["opportunity_id"] in won.index
        and bool(won.loc[r["opportunity_id"], "is_won"])
        and pd.Timestamp(won.loc[r["opportunity_id"], "closed_at"]).year == int(PERIOD)
        and s.truth.get(r["entity_id"]) in MARKETING
    ]
    assert len(in_period) >= 2, "the demo company must have two won 2025 deals at stake"
    confirmed, dismissed = in_period[0], in_period[1]
    every = {r["entity_id"] for r in headline}
    recorded = marketing_revenue(s, set())

    context = chromium.new_context(viewport=LAPTOP, base_url=s.url)
    context.set_default_timeout(120_000)
    page = context.new_page()
    try:
        # only confirmed findings count: nothing is confirmed yet, so audited = recorded
        log_in(page, "ops", target=f"/audit?period={PERIOD}&counted=confirmed")
        assert page.locator("#credit-sentence").inner_text() == sentence(s, recorded, recorded)
        decide(page, confirmed["finding_id"], "confirm")
        after_confirm = marketing_revenue(s, {confirmed["entity_id"]})
        assert after_confirm > recorded
        assert page.locator("#credit-sentence").inner_text() == sentence(s, recorded, after_confirm)
        row = page.locator(f"tr.finding[data-finding='{confirmed['finding_id']}']")
        assert row.get_attribute("data-status") == "confirmed" and "by ops" in row.inner_text()

        # the default: open and confirmed findings count; dismissing one (with a reason) takes its deal back out
        page.goto(f"/audit?period={PERIOD}")
        assert page.locator("#credit-sentence").inner_text() == sentence(s, recorded, marketing_revenue(s, every))
        decide(page, dismissed["finding_id"], "dismiss", reason="moved to sales by agreement with the CMO")
        expected = marketing_revenue(s, every - {dismissed["entity_id"]})
        assert expected < marketing_revenue(s, every)
        assert page.locator("#credit-sentence").inner_text() == sentence(s, recorded, expected)
        row = page.locator(f"tr.finding[data-finding='{dismissed['finding_id']}']")
        assert row.get_attribute("data-status") == "dismissed"
        assert "moved to sales by agreement with the CMO" in row.inner_text()
        # a dismissal without a reason is refused and says why, on the page
        form = page.locator(f"form.decision[data-finding='{confirmed['finding_id']}']")
        form.locator("button.dismiss").click()
        error = form.locator(".decision-error")
        error.wait_for(state="visible")
        assert "needs a reason" in error.inner_text()
        # the evidence timeline names who changed what
        details = page.locator(f"#evidence-{confirmed['finding_id']}")
        details.locator("summary").click()
        assert details.locator(".timeline li").count() >= 1
    finally:
        context.close()
