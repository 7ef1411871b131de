"""Every parameter a page or API accepts is honoured or rejected by name; no filter combination is a 500.

On the tiny hand-made project (tests/interfaces/server/conftest.py): five opportunities of two owners (u1 has
o1, o2, o5; u2 has o3, o4), no spend, no targets.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from revalign.interfaces.cli import EXIT_OK
from revalign.interfaces.cli import app as cli_app
from revalign.interfaces.server import ServerSettings, create_app
from revalign.project import Project, init_project, open_project
from tests.interfaces.server.conftest import OPPORTUNITIES, USERS, assert_canonical_error, write_canonical

REPORTS = ("overview", "scorecards", "funnel", "channels", "attribution")
CLOSED = {"o1": "2025-02-10 12:00", "o3": "2025-03-05 12:00", "o4": "2025-03-20 12:00"}
"""Close times given to the closed deals of the tiny fixture (o1 and o3 won, o4 lost), all in 2025-Q1."""


@pytest.mark.parametrize("name", REPORTS)
def test_an_unknown_parameter_is_a_422_naming_it(as_user, name):
    body = assert_canonical_error(as_user("leader").get(f"/api/v1/{name}", params={"colour": "red"}), 422)
    assert body["errors"][0]["loc"] == ["query", "colour"]
    assert body["errors"][0]["rule"] == "unknown_parameter"
    assert "colour" in body["error"] and "accepts" in body["error"]


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        ("/api/v1/channels", {"grain": "week"}),  # channels count events in a date range: no grain
        ("/api/v1/channels", {"segment": "smb"}),  # nor a segment
        ("/api/v1/overview", {"by": "owner"}),  # the driver tree is company-wide: slicing is on Scorecards
        ("/api/v1/attribution", {"grain": "month"}),
        ("/api/v1/scorecards", {"start": "2025-01-01"}),  # a scorecard is for a period label
    ],
)
def test_a_parameter_the_page_would_ignore_is_a_422_naming_it(as_user, path, ignored):
    body = assert_canonical_error(as_user("leader").get(path, params=ignored), 422)
    (name,) = ignored
    assert body["errors"][0]["loc"] == ["query", name]
    assert f"{name} is not a parameter of {path}" in body["error"]


def test_a_page_with_an_unknown_parameter_is_an_error_page_naming_it(as_user):
    response = as_user("leader").get("/channels", params={"colour": "red"}, headers={"accept": "text/html"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "colour is not a parameter of /channels" in response.text


def test_a_by_value_a_page_cannot_show_is_a_422(as_user):
    body = assert_canonical_error(as_user("leader").get("/api/v1/channels", params={"by": "owner"}), 422)
    assert body["errors"][0]["loc"] == ["query", "by"]


def test_period_and_dates_together_are_a_422(as_user):
    params = {"period": "2025-Q1", "start": "2025-01-01"}
    body = assert_canonical_error(as_user("leader").get("/api/v1/funnel", params=params), 422)
    assert body["errors"][0]["rule"] == "period_or_dates"


def test_the_period_label_is_honoured_on_the_funnel_and_channels(typed_client):
    # new-business deals created in 2025-01: o1, o3; in 2025-02: o2 (2500); in 2025-03: o4, o5
    body = typed_client.get("/api/v1/funnel", params={"period": "2025-02"}).json()
    covers = body["meta"]["covers"]
    assert (covers["start"], covers["end"], covers["label"]) == ("2025-02-01", "2025-02-28", "2025-02")
    assert covers["text"] == "Covers 2025-02-01 – 2025-02-28 (2025-02)"
    pipeline = {t["name"]: t for t in body["tables"]}["pipeline"]["rows"]
    assert sum(r["opportunities_created"] for r in pipeline) == 1
    everything = typed_client.get("/api/v1/funnel").json()
    assert everything["meta"]["covers"]["text"] == "Covers every date loaded"
    rows = {t["name"]: t for t in everything["tables"]}["pipeline"]["rows"]
    assert sum(r["opportunities_created"] for r in rows) == 5
    channels = typed_client.get("/api/v1/channels", params={"period": "2025-02"}).json()
    sourced = {t["name"]: t for t in channels["tables"]}["sourced"]["rows"]
    assert sum(r["pipeline"] for r in sourced) == 2500.0


def test_scorecards_by_owner_slice_and_name_what_cannot_be_sliced(typed_client):
    response = typed_client.get("/api/v1/scorecards", params={"by": "owner", "department": "sales"})
    assert response.status_code == 200, response.text
    body = response.json()
    rows = {t["name"]: t for t in body["tables"]}["scorecard"]
    assert [c["name"] for c in rows["columns"]].count("owner") == 1  # was two columns named owner: a 500
    won = {r["owner"]: r["actual"] for r in rows["rows"] if r["kpi"] == "new_revenue"}
    assert won == {"u1": 1000.0, "u2": 4000.0}  # o1 (u1, 1000) and o3 (u2, 4000) won in 2025-Q1
    assert any("cannot be sliced by owner" in n for n in body["notices"])


@pytest.mark.parametrize("grain", ["day", "week"])  # month, quarter and year are the other tests' defaults
@pytest.mark.parametrize("name", ["overview", "scorecards"])
def test_every_grain_works_on_overview_and_scorecards(typed_client, name, grain):
    response = typed_client.get(f"/api/v1/{name}", params={"grain": grain})
    assert response.status_code == 200, response.text
    assert response.json()["meta"]["grain"] == grain


@pytest.fixture(scope="module")
def disk_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny fixture as new-business deals, in a project folder on disk (the CLI opens projects by folder)."""
    folder = tmp_path_factory.mktemp("tiny-cli")
    init_project(folder, name="tiny cli")
    project = open_project(folder)
    closed = pd.to_datetime([CLOSED.get(o) for o in OPPORTUNITIES["opportunity_id"]])
    write_canonical(project, "opportunities", OPPORTUNITIES.assign(deal_type="new_business", closed_at=closed))
    write_canonical(project, "users", USERS)
    project.close()
    return folder


@pytest.fixture(scope="module")
def typed_client(disk_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    project = open_project(disk_project)
    state = tmp_path_factory.mktemp("state-typed") / "state.sqlite"
    application = create_app(project, state_url=f"sqlite:///{state}")
    application.state.store.add_user("leader", "leader-pass-1", "leadership")
    token = application.state.store.create_token("leader", "params test")
    yield TestClient(application, headers={"Authorization": f"Bearer {token}"})
    project.close()


# -- the server keeps the connection after an error ---------------------------------------------------------------


@pytest.fixture(scope="module")
def failing_server(tiny_project: Project, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    import uvicorn

    state = tmp_path_factory.mktemp("state-ka") / "state.sqlite"
    application = create_app(tiny_project, state_url=f"sqlite:///{state}", settings=ServerSettings())

    @application.get("/api/v1/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("a bug nobody handled")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while time.time() < deadline and not server.started:
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(timeout=10)


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    """One HTTP/1.1 response (status, body) by its Content-Length; b"" status 0 when the server hung up."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return 0, b""
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = next(int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length"))
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split(b" ")[1]), body


def test_the_keep_alive_connection_survives_a_500(failing_server):
    with socket.create_connection(("127.0.0.1", failing_server), timeout=30) as sock:
        sock.sendall(b"GET /api/v1/boom HTTP/1.1\r\nHost: t\r\n\r\n")
        status, body = read_response(sock)
        assert status == 500 and json.loads(body)["error"].startswith("Internal error")
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")  # the same connection
        assert read_response(sock) == (200, b'{"ok":true}')


def test_docs_and_redoc_load_their_assets_from_this_server(failing_server):
    base = f"http://127.0.0.1:{failing_server}"
    for page, assets in (("/docs", ("swagger-ui-bundle.js", "swagger-ui.css")), ("/redoc", ("redoc.standalone.js",))):
        html = httpx.get(base + page).text
        assert "cdn" not in html.lower() and "https://" not in html
        for asset in assets:
            assert f"/assets/apidocs/{asset}" in html
            assert httpx.get(f"{base}/assets/apidocs/{asset}").status_code == 200


# -- the CLI -------------------------------------------------------------------------------------------------------


def test_cli_scorecard_by_owner_exits_ok(disk_project):
    result = CliRunner().invoke(
        cli_app, ["scorecard", "--by", "owner", "--period", "2025-Q1", "--json", "--project", str(disk_project)]
    )
    assert result.exit_code == EXIT_OK, result.output
    card = json.loads(result.stdout)["scorecard"]
    won = {r["dims"]["owner"]: r["actual"] for r in card["rows"] if r["kpi"] == "new_revenue"}
    assert won == {"u1": 1000.0, "u2": 4000.0}  # o1 (u1, 1000) and o3 (u2, 4000) won in 2025-Q1
    assert any("cannot be sliced by owner" in n for n in card["notices"])


@pytest.mark.parametrize("how", [["--template", "idc"], ["--department", "idc"]])
def test_cli_scorecard_template_by_name(disk_project, how):
    result = CliRunner().invoke(
        cli_app, ["scorecard", *how, "--period", "2025-Q1", "--json", "--project", str(disk_project)]
    )
    assert result.exit_code == EXIT_OK, result.output
    kpis = {r["kpi"] for r in json.loads(result.stdout)["scorecard"]["rows"]}
    assert {"cac", "deals_per_rep", "sales_enablement_score", "lead_management_score"} <= kpis
    assert "mqls" not in kpis and "new_revenue" not in kpis  # only the template's eight KPIs


def test_cli_scorecard_help_names_the_templates():
    result = CliRunner().invoke(cli_app, ["scorecard", "--help"], terminal_width=200)
    assert "--template" in result.output and "idc" in result.output
