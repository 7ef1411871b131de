"""``revalign refresh`` end to end on a project folder, the inbox page and its JSON twin, the freshness footer, and
the server's scheduled refresh.

Hand-made input: ``exports/opportunities.csv`` (canonical mapping) with three rows, one of which has no
``opportunity_id`` (the primary key) → 2 rows loaded, 1 row quarantined. The rule ``bad_rows`` fires once for
that load; the second refresh skips the unchanged file and sends nothing new.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from revalign.interfaces.cli import app as cli
from revalign.interfaces.server import ServerSettings, create_app
from revalign.interfaces.server.state import StateStore
from revalign.interfaces.server.state.alerts import AlertStore
from revalign.project import Project
from tests.interfaces.server.conftest import login

runner = CliRunner()
ROWS = pd.DataFrame(
    {
        "opportunity_id": ["o1", "o2", ""],
        "owner_id": ["u1", "u2", "u1"],
        "created_at": ["2025-01-10 09:00:00", "2025-02-15 10:00:00", "2025-03-01 08:00:00"],
        "amount": [1000.0, 2500.0, 700.0],
        "deal_type": ["new_business"] * 3,
        "stage": ["discovery"] * 3,
        "is_closed": [False] * 3,
        "is_won": [False] * 3,
    }
)
RULES = {
    "alerts": {
        "bad_rows": {
            "condition": "quarantine_new",
            "severity": "warning",
            "audience": {"roles": ["revops"], "users": ["lead"]},
            "channels": ["inbox"],
        }
    }
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("refresh")
    (folder / "exports").mkdir()
    ROWS.to_csv(folder / "exports" / "opportunities.csv", index=False)
    settings = {
        "sources": [{"name": "crm", "path": "exports", "mapping": "canonical"}],
        "alerts": {"base_url": "http://revalign.test"},
    }
    (folder / "revalign.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    (folder / "alerts.yaml").write_text(yaml.safe_dump(RULES), encoding="utf-8")
    store = StateStore(f"sqlite:///{folder / 'state.sqlite'}")
    store.migrate()
    for name, role in (("lead", "leadership"), ("ops", "revops"), ("sam", "sales")):
        store.add_user(name, "password-123", role)
    store.close()
    return folder


def refresh(folder: Path) -> dict:
    result = runner.invoke(
        cli, ["refresh", "--project", str(folder), "--state-url", f"sqlite:///{folder / 'state.sqlite'}", "--json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_refresh_ingests_the_sources_and_alerts_once_per_load(folder):
    first = refresh(folder)
    assert first["ok"] and first["loads"][0]["rows_quarantined"] == int((ROWS["opportunity_id"] == "").sum()) == 1
    (alert,) = first["alerts"]["alerts"]
    assert alert["outcome"] == "sent" and alert["condition"] == "quarantine_new"
    assert alert["facts"]["rows"] == 1 and alert["facts"]["files"] == ["opportunities.csv"]
    assert sorted(alert["delivered"]) == ["inbox:lead", "inbox:ops"]  # revops and the named user, not sales

    second = refresh(folder)
    assert second["loads"][0]["skipped_as_duplicate"]
    assert [a["outcome"] for a in second["alerts"]["alerts"]] == ["duplicate"]
    store = StateStore(f"sqlite:///{folder / 'state.sqlite'}")
    state = AlertStore(store)
    lead = store.get_user("lead")
    assert len(state.inbox(lead.id)) == 1  # one alert, however many refreshes
    assert state.last_refresh()["ok"] is True
    store.close()


def csrf_of(client: TestClient) -> str:
    """The session's CSRF token, as the account page's forms carry it."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account").text)
    assert match is not None
    return match.group(1)


@pytest.fixture(scope="module")
def server(folder):
    project = Project(folder)
    application = create_app(project, state_url=f"sqlite:///{folder / 'state.sqlite'}")
    yield application
    project.close()


def test_inbox_page_and_api_show_the_alert_and_mark_it_read(folder, server):
    refresh(folder)  # the rows and the alert (duplicate if the test above ran first)
    lead, sam = login(TestClient(server), "lead", "password-123"), login(TestClient(server), "sam", "password-123")
    body = lead.get("/api/v1/inbox").json()
    assert body["unread"] == 1
    (item,) = body["items"]
    assert item["title"] == "1 new quarantined rows in load " + item["subject"].split(" ", 1)[1]
    assert item["links"] == [{"label": "What to fix (checks)", "url": "/api/v1/checks"}]

    page = lead.get("/inbox")
    assert page.status_code == 200 and item["title"] in page.text and "1 unread" in page.text
    assert sam.get("/api/v1/inbox").json() == {"unread": 0, "items": []}
    # someone else's item is not theirs to mark
    refused = sam.post(f"/api/v1/inbox/{item['id']}/read", headers={"X-CSRF-Token": csrf_of(sam)})
    assert refused.status_code == 404 and refused.json()["ok"] is False
    marked = lead.post(f"/inbox/{item['id']}/read", data={"csrf_token": csrf_of(lead)}, follow_redirects=False)
    assert marked.status_code == 303
    assert lead.get("/api/v1/inbox").json()["unread"] == 0
    assert lead.get("/api/v1/inbox", params={"unread": True}).json()["items"] == []


def test_every_page_and_the_api_say_how_fresh_the_data_is(folder, server):
    refresh(folder)
    lead = login(TestClient(server), "lead", "password-123")
    fresh = lead.get("/api/v1/freshness").json()
    loaded = pd.to_datetime(ROWS.loc[ROWS["opportunity_id"] != "", "created_at"]).max()
    assert fresh["latest_data"] == loaded.isoformat(timespec="minutes")  # 2025-02-15T10:00
    assert fresh["latest_load"] is not None and fresh["last_refresh"]["ok"] is True
    for path in ("/", "/inbox", "/glossary", "/scorecards", "/account"):
        footer = lead.get(path).text.split("<footer>", 1)[1]
        assert "data to 2025-02-15" in footer and "last refresh" in footer, path
    assert "freshness" not in TestClient(server).get("/login").text  # signed-in readers only


def test_the_server_runs_the_refresh_schedule_in_the_background(folder):
    settings = yaml.safe_load((folder / "revalign.yaml").read_text())
    settings["alerts"]["refresh"] = {"every": "1s"}
    (folder / "revalign.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    state_url = f"sqlite:///{folder / 'state.sqlite'}"
    store = StateStore(state_url)
    before = AlertStore(store).last_refresh()["finished_at"]
    project = Project(folder, read_only=True)
    try:
        with TestClient(create_app(project, state_url=state_url, settings=ServerSettings())) as client:
            deadline = time.monotonic() + 20
            while AlertStore(store).last_refresh()["finished_at"] == before and time.monotonic() < deadline:
                time.sleep(0.2)
            assert AlertStore(store).last_refresh()["finished_at"] > before
            assert client.app.state.scheduler.next_at is not None
    finally:
        project.close()
        store.close()
        settings["alerts"].pop("refresh")
        (folder / "revalign.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
