"""A crawl in a real browser: every page reachable from the navigation, with every option of every control.

For each page the crawl reads the filter form the page itself renders (so a control added later is crawled
without editing this test) and opens the page once per option of each select (each grain, department, segment,
by-dimension, attribution model), once with the period the overview shows and once with that period's dates.
Every load must be HTTP 200, show no error page, log no console error, and ask no host but this server for
anything (the product works offline). ``/docs`` and ``/redoc`` must render from this server's assets alone.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlparse

import httpx
import pytest

from tests.interfaces.browser.conftest import log_in

pytestmark = pytest.mark.browser


def is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob", "about") or parsed.hostname in ("127.0.0.1", "localhost")


def watch(page) -> tuple[list[str], list[str]]:
    """Console errors and uncaught exceptions (with the page's URL), and requests to any other host (aborted)."""
    errors: list[str] = []
    foreign: list[str] = []
    page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))

    def guard(route) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    page.context.route("**/*", guard)
    return errors, foreign


def the_overviews_period(live_server) -> dict[str, str]:
    """The period the overview shows (label and first/last day), from its JSON twin."""
    headers = {"Authorization": f"Bearer {live_server.token}"}
    meta = httpx.get(live_server.url + "/api/v1/overview", headers=headers, timeout=600).json()["meta"]
    return meta["covers"]


def control_urls(page, path: str, period: dict[str, str]) -> list[str]:
    """One URL per option of each select of the page's filter form, plus the period and its dates."""
    urls = []
    for select in page.locator("#filters select").all():
        name = select.get_attribute("name")
        for value in select.locator("option").evaluate_all("options => options.map(o => o.value)"):
            if value:  # the blank option is the page itself
                urls.append(f"{path}?{urlencode({name: value})}")
    inputs = {i.get_attribute("name") for i in page.locator("#filters input").all()}
    if "period" in inputs:
        urls.append(f"{path}?{urlencode({'period': period['label']})}")
    if {"start", "end"} <= inputs:
        urls.append(f"{path}?{urlencode({'start': period['start'], 'end': period['end']})}")
    return urls


def open_ok(page, url: str) -> None:
    # "load": the page and its scripts and styles are in (pages are rendered on the server; charts draw from data
    # embedded in the page, so there is nothing to wait for after it)
    response = page.goto(url, wait_until="load")
    assert response is not None, url
    main = page.inner_text("main")[:600]
    assert response.status == 200, (url, response.status, main)
    assert page.locator(".error-page").count() == 0, (url, main)


@pytest.mark.timeout(1500)  # every option of every page: minutes on 2 cores, more than the suite's 600 s per test
def test_every_option_of_every_control_on_every_page(new_page, live_server):
    page = new_page()
    errors, foreign = watch(page)
    log_in(page, "admin")  # the admin sees every page of the navigation
    links = page.locator("header.top a[href^='/']").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    pages = list(dict.fromkeys(links))
    assert {"/", "/scorecards", "/funnel", "/channels", "/attribution", "/glossary", "/admin"} <= set(pages)
    star = page.context.request.get("/api/v1/kpis").json()["meta"]["north_star"][0]
    pages.append(f"/glossary/{star}")  # a KPI's page, one click from the glossary
    period = the_overviews_period(live_server)
    crawled = 0
    for path in pages:
        open_ok(page, path)
        for url in control_urls(page, path, period):
            open_ok(page, url)
            crawled += 1
    assert crawled >= 60  # every grain, department, segment, dimension and model: a form that lost its controls fails
    assert not errors, errors
    assert not foreign, foreign


def test_every_report_page_states_the_dates_it_covers(new_page, live_server):
    page = new_page()
    log_in(page, "leader")
    period = the_overviews_period(live_server)
    for path in ("/", "/scorecards", f"/funnel?period={period['label']}", f"/channels?period={period['label']}"):
        open_ok(page, path)
        assert page.inner_text("#covers").startswith(f"Covers {period['start']} – {period['end']}"), path
    open_ok(page, "/attribution")
    assert page.inner_text("#covers").startswith("Covers")


def test_an_unknown_parameter_shows_an_error_page_naming_it(new_page):
    page = new_page()
    log_in(page, "leader")
    response = page.goto("/channels?colour=red")
    assert response is not None and response.status == 422
    assert "colour is not a parameter of /channels" in page.inner_text("main")


REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
"""The one remote URL in ReDoc's bundle: the "API docs by Redocly" badge, which hides itself when it fails."""


@pytest.mark.parametrize(("path", "rendered"), [("/docs", ".swagger-ui .info .title"), ("/redoc", ".api-info h1")])
def test_api_docs_render_offline(new_page, path, rendered):
    page = new_page()
    errors, foreign = watch(page)
    response = page.goto(path)
    assert response is not None and response.status == 200
    page.wait_for_selector(rendered, timeout=60_000)
    assert "revalign" in page.inner_text(rendered).lower()
    if path == "/redoc":  # the badge is aborted here as offline it would fail: the page must not need it
        foreign = [u for u in foreign if u != REDOC_LOGO]
        errors = [e for e in errors if "Failed to load resource" not in e and REDOC_LOGO not in e]
    assert not foreign, foreign
    assert not errors, errors
