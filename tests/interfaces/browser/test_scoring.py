"""The approve-a-new-version flow in a real browser: a marketing leader and a sales leader each approve a proposed
scoring version on /scoring; it is in force only after both, and the page says who signed and when."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from revalign.definitions.scoring import DEFAULT_DIR
from tests.interfaces.browser.conftest import LAPTOP, PASSWORD, log_in, serving

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def scoring_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server over a small simulated company with the simulator's scoring model proposed (not yet approved)."""
    from revalign.interfaces.server import create_app
    from revalign.interfaces.server.state.approvals import Approvals
    from revalign.project import init_project, open_project
    from revalign.simulate import simulate

    folder = tmp_path_factory.mktemp("browser-scoring")
    init_project(folder, name="scoring browser")
    (folder / "scoring").mkdir()
    shutil.copyfile(DEFAULT_DIR / "simulator.yaml", folder / "scoring" / "lead_score.yaml")
    project = open_project(folder)
    simulate(scale="xs", seed=6).write(project.engine)
    app = create_app(project)
    store = app.state.store
    for user, role in (("cmo", "marketing"), ("cro", "sales")):
        store.add_user(user, PASSWORD, role)
    model = project.scoring_model()
    Approvals(store).propose(
        "scoring", model.name, model.version, model.content_hash(), ("marketing", "sales"), by="ops"
    )
    with serving(app) as url:
        yield url
    project.close()


def approve_as(chromium, url: str, username: str):
    context = chromium.new_context(viewport=LAPTOP, base_url=url)
    context.set_default_timeout(120_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, username, target="/scoring")
    row = page.locator("#table-approvals tbody tr").first
    assert row.locator("[data-col=status]").inner_text() == "proposed"
    with page.expect_navigation():
        row.locator("button.approve").click()
    page.wait_for_load_state("networkidle")
    assert not errors, errors  # the click reloaded the page: the CSP let the page's own script run
    return context, page


def test_a_version_is_in_force_only_after_marketing_and_sales_approve(chromium, scoring_server) -> None:
    ctx1, page = approve_as(chromium, scoring_server, "cmo")
    row = page.locator("#table-approvals tbody tr").first
    assert row.locator("[data-col=status]").inner_text() == "proposed"  # one signature is not an agreement
    assert row.locator("[data-col=missing]").inner_text() == "sales"
    assert "marketing: cmo (" in row.locator("[data-col=signed]").inner_text()
    assert row.locator("button.approve").count() == 0  # marketing has signed; nothing left for it to sign
    ctx2, page = approve_as(chromium, scoring_server, "cro")
    row = page.locator("#table-approvals tbody tr").first
    status = row.locator("[data-col=status]").inner_text()
    assert status.startswith("in force since ")
    signed = row.locator("[data-col=signed]").inner_text()
    assert "marketing: cmo (" in signed and "sales: cro (" in signed
    assert row.locator("[data-col=missing]").inner_text() == "—"
    # the marketing leader's page, reloaded, shows the same agreement
    ctx1.pages[0].reload()
    assert ctx1.pages[0].locator("#table-approvals [data-col=status]").first.inner_text() == status
    assert int(page.locator("#scored-leads").inner_text()) > 0
    ctx1.close()
    ctx2.close()


def test_the_model_section_shows_the_apis_formatted_metrics_and_draws_calibration(chromium, scoring_server) -> None:
    """The three scores' metrics on the page are the JSON twin's formatted text (revalign.display), and the
    calibration chart (with its diagonal) and the lift chart were drawn."""
    context = chromium.new_context(viewport=LAPTOP, base_url=scoring_server)
    context.set_default_timeout(120_000)
    page = context.new_page()
    log_in(page, "cmo", target="/scoring")
    page.locator("#backtest-link a").click()  # the model is fitted only when asked
    page.wait_for_load_state("networkidle")
    start = page.url.split("start=", 1)[1].split("&", 1)[0]
    body = page.request.get(f"/api/v1/scoring?start={start}").json()
    table = next(t for t in body["tables"] if t["name"] == "model_metrics")
    shown = page.locator("#model #table-model_metrics tbody tr")
    assert shown.count() == len(table["rows"]) >= 2
    for i, formatted in enumerate(table["formatted"]):
        row = shown.nth(i)
        for column in ("roc_auc", "pr_auc", "top_decile_lift"):
            assert row.locator(f"[data-col={column}]").inner_text() == formatted[column]
    assert page.locator("#calibration-chart[data-rendered='1'] .plot svg").count() >= 1
    assert page.locator("#calibration-chart .scatterlayer .trace").count() == 2  # the diagonal and the bins
    assert page.locator("#model figure.chart[data-rendered='1']").count() == 1  # lift by decile
    advice = page.locator("#threshold-advice").inner_text()
    assert advice == body["meta"]["backtest"]["threshold_sentence"] and "MQL" in advice
    context.close()
