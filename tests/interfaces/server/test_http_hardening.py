"""Security headers on every response, no inline script in any page, body-size limits, and CSV exports that a
spreadsheet cannot run (a lead whose industry is ``=HYPERLINK(…)``, ingested from a file, downloaded as CSV)."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from revalign.interfaces.cli import EXIT_OK, main
from revalign.interfaces.server import ServerSettings, create_app
from revalign.interfaces.spreadsheet import FORMULA_PREFIXES
from revalign.project import Project
from tests.interfaces.server.conftest import assert_canonical_error

PAGES = ["/", "/scorecards", "/funnel", "/channels", "/attribution", "/glossary", "/account", "/admin"]
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csp_directives(response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("path", [*PAGES, "/api/v1/me", "/api/v1/overview?format=csv", "/no-such-page"])
def test_authenticated_responses_carry_the_policy_and_are_never_cached(as_user, path):
    response = as_user("admin").get(path)
    directives = csp_directives(response)
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval', no CDN
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"


def test_login_page_and_errors_get_the_headers_too(app):
    client = TestClient(app)
    for response in (client.get("/login"), client.get("/api/v1/overview")):
        assert csp_directives(response)["script-src"] == "'self'"
        assert response.headers["cache-control"] == "no-store"


def test_static_assets_keep_their_own_caching(as_user):
    client = as_user("admin")
    for path in ("/static/app.js", "/static/app.css", "/assets/plotly.min.js"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers.get("cache-control") != "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get("/assets/plotly.min.js").headers["cache-control"] == "max-age=86400"


class ScriptAudit(HTMLParser):
    """Everything in a page that a ``script-src 'self'`` policy would block."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: list[str] = []
        self._inline = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.blocked.append(f"<{tag} {name}=…> event handler")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.blocked.append(f"<{tag} {name}={value!r}>")
        if tag == "script":
            src, kind = named.get("src"), (named.get("type") or "").lower()
            if src and not src.startswith("/"):
                self.blocked.append(f"<script src={src!r}> from another site")
            self._inline = not src and kind != "application/json"

    def handle_data(self, data: str) -> None:
        if self._inline and data.strip():
            self.blocked.append(f"inline <script>: {data.strip()[:60]}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._inline = False


@pytest.mark.parametrize(
    "path", [*PAGES, "/glossary/new_revenue", "/records/opportunities", "/scorecards?grain=quarter", "/login"]
)
def test_pages_have_no_inline_script_or_event_handlers(as_user, path):
    response = as_user("admin").get(path)
    assert response.headers["content-type"].startswith("text/html")  # error pages (422 on the tiny project) too
    audit = ScriptAudit()
    audit.feed(response.text)
    assert audit.blocked == []


def test_oversized_saved_view_is_refused_with_413(as_user):
    client = as_user("marketer")
    csrf = {"X-CSRF-Token": client.get("/account").text.split('name="csrf_token" value="')[1].split('"')[0]}
    huge = {"name": "huge", "page": "overview", "query": {"segment": "x" * (50 * 1024 * 1024)}}
    body = assert_canonical_error(client.post("/api/v1/views", json=huge, headers=csrf), 413)
    assert body["errors"][0]["rule"] == "max_request_bytes"
    over_route_limit = {"name": "big", "page": "overview", "query": {"segment": "x" * (100 * 1024)}}
    assert_canonical_error(client.post("/api/v1/views", json=over_route_limit, headers=csrf), 413)
    fine = client.post(
        "/api/v1/views", json={"name": "ok", "page": "overview", "query": {"segment": "smb"}}, headers=csrf
    )
    assert fine.status_code == 201
    assert [v["name"] for v in client.get("/api/v1/views").json()["views"]] == ["ok"]


def test_every_write_route_has_a_body_limit_even_without_a_declared_length(as_user):
    client = as_user("admin")
    csrf = {"X-CSRF-Token": client.get("/account").text.split('name="csrf_token" value="')[1].split('"')[0]}
    two_mb = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    declared = client.post("/api/v1/tokens", content=two_mb, headers={**csrf, "Content-Type": "application/json"})
    assert_canonical_error(declared, 413)

    def chunks():  # streamed: no Content-Length header, the middleware counts what arrives
        for start in range(0, len(two_mb), 64 * 1024):
            yield two_mb[start : start + 64 * 1024]

    streamed = client.post("/api/v1/tokens", content=chunks(), headers={**csrf, "Content-Type": "application/json"})
    assert_canonical_error(streamed, 413)
    page_form = client.post("/account/views", data={"name": "v", "page": "overview", "query": "a=" + "b" * 70_000})
    assert page_form.status_code == 413


def test_body_limit_is_configurable(tiny_project):
    app = create_app(tiny_project, state_url="sqlite://", settings=ServerSettings(max_request_bytes=4096))
    app.state.store.add_user("boss", "password-123", "admin")
    token = app.state.store.create_token("boss", "t")
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    user = {"username": "new", "password": "password-123", "role": "sales", "display_name": "y" * 5000}
    assert_canonical_error(client.post("/api/v1/admin/users", json=user), 413)
    assert client.post("/api/v1/admin/users", json={**user, "display_name": "short"}).status_code == 201


LEADS = (
    "Lead ID,Created Date,Lead Source,Industry,Region,Email,Owner ID\n"
    'L1,2024-01-01,Email,"=HYPERLINK(""http://evil.example"",""x"")",+cmd|\' /C calc\'!A0,@SUM(1+1),-2+3\n'
    "L2,2024-01-02,Webinar,Software,-12.5,ok@example.com,u1\n"
)


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    """A project whose leads were ingested (with the real CLI) from an export holding formula strings."""
    root = tmp_path_factory.mktemp("hostile")
    (root / "exports").mkdir()
    (root / "exports" / "leads.csv").write_text(LEADS, encoding="utf-8")
    assert main(["init", str(root / "proj")]) == EXIT_OK
    assert main(["ingest", str(root / "exports"), "-m", "generic_crm", "-p", str(root / "proj")]) == EXIT_OK
    project = Project(root / "proj")
    app = create_app(project, state_url="sqlite://")
    app.state.store.add_user("analyst", "password-123", "revops")
    token = app.state.store.create_token("analyst", "csv")
    yield TestClient(app, headers={"Authorization": f"Bearer {token}"})
    project.close()


def test_exported_csv_cells_never_start_a_formula(hostile_app):
    response = hostile_app.get("/api/v1/records/leads?format=csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    cells = [cell for row in rows for cell in row]
    dangerous = [c for c in cells if c.startswith(FORMULA_PREFIXES) and not PLAIN_NUMBER.fullmatch(c)]
    assert dangerous == []
    by_id = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert by_id["L1"]["industry"] == '\'=HYPERLINK("http://evil.example","x")'
    assert by_id["L1"]["region"] == "'+cmd|' /C calc'!A0"
    assert by_id["L1"]["email"] == "'@SUM(1+1)" and by_id["L1"]["owner_id"] == "'-2+3"
    assert by_id["L2"]["region"] == "-12.5"  # a number stays a number
    as_json = hostile_app.get("/api/v1/records/leads").json()["tables"][0]["rows"]
    assert {r["lead_id"]: r["industry"] for r in as_json}["L1"].startswith("=HYPERLINK")  # JSON keeps the value


def test_the_script_audit_flags_what_the_policy_blocks():
    audit = ScriptAudit()
    audit.feed(
        '<a href="javascript:history.back()">back</a><button onclick="go()">x</button><script>alert(1)</script>'
        '<script type="application/json">{"ok": 1}</script><script src="/static/app.js"></script>'
        '<script src="https://cdn.example/x.js"></script>'
    )
    assert len(audit.blocked) == 4
