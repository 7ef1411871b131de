"""The Content-Security-Policy in a real browser: every page works under it (charts drawn by Plotly from
``/assets``, the back link from ``/static/app.js``) and Chromium reports no violation; and the login form
shows the throttle's message."""

from __future__ import annotations

import pytest

from tests.interfaces.browser.conftest import log_in
from tests.interfaces.browser.test_dashboard import PAGES

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def test_every_page_runs_under_the_policy_without_a_violation(new_page):
    page = new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    log_in(page, "leader")
    charts = 0
    for name, path in PAGES.items():
        response = page.goto(path)
        assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        for chart in page.locator("figure.chart").all():
            assert chart.get_attribute("data-rendered") == "1", f"{name}: chart not drawn under the CSP"
            charts += 1
        assert page.evaluate("window.__cspViolations") == [], name
    assert charts > 0  # Plotly really ran
    assert not [text for text in console if "Content Security Policy" in text]


def test_back_link_works_without_inline_script(new_page):
    page = new_page()
    log_in(page, "leader", target="/scorecards")
    page.goto(PAGES["records"])
    page.wait_for_load_state("networkidle")
    with page.expect_navigation():
        page.click("a[data-back]")
    assert page.url.endswith("/scorecards")


def test_login_page_shows_the_lock_message(new_page):
    page = new_page()
    page.goto("/login")
    for _ in range(6):  # the default policy locks a user name after 5 failures
        page.fill("#username", "no-such-person")
        page.fill("#password", "guess-guess-1")
        with page.expect_navigation():
            page.click("#login")
    assert "Too many failed logins" in page.locator("#login-error").inner_text()
