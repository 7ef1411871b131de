"""``revalign users`` and ``revalign demo --no-serve``: users land in the project's state store, the demo
builds a project whose dashboard a demo login can open."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from revalign.interfaces.cli import main
from revalign.interfaces.server import create_app
from revalign.interfaces.server.state import StateStore, default_state_url
from revalign.project import init_project, open_project


def test_users_add_list_and_token(tmp_path: Path, capsys):
    init_project(tmp_path)
    args = ["--project", str(tmp_path)]
    assert main(["users", "add", "ann", "--role", "revops", "--password", "long-password-1", *args]) == 0
    assert main(["users", "add", "rex", "--role", "rep", "--password", "long-password-1", *args]) != 0  # no owner
    assert main(["users", "token", "ann", "--name", "ci", *args]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    store = StateStore(default_state_url(tmp_path))
    assert store.user_for_token(token).username == "ann"
    assert store.get_user("ann").role == "revops"
    store.close()


@pytest.mark.slow
def test_demo_no_serve_builds_a_dashboard_a_demo_login_can_open(tmp_path: Path, capsys):
    folder = tmp_path / "demo"
    assert main(["demo", "--folder", str(folder), "--scale", "xs", "--seed", "1", "--no-serve"]) == 0
    out = capsys.readouterr().out
    assert "North star" in out and "leadership-demo-2026" in out and "rep-demo-2026" in out
    project = open_project(folder)
    client = TestClient(create_app(project))
    client.get("/login")
    client.post(
        "/login",
        data={"username": "rep", "password": "rep-demo-2026", "csrf_token": client.cookies.get("revalign_csrf")},
    )
    me = client.get("/api/v1/me").json()
    assert me["role"] == "rep" and me["owner_id"]
    owners = {r["owner_id"] for r in client.get("/api/v1/records/opportunities").json()["tables"][0]["rows"]}
    assert owners == {me["owner_id"]}
    # the agreement: v1 signed by every signatory, v2 proposed from the next quarter and waiting on /agreements
    assert main(["agreement", "versions", "--project", str(folder), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["version"], r["status"], r["counted"]) for r in rows] == [(1, "signed", True), (2, "proposed", False)]
    assert "v2 (from 2026-01-01) proposed" in out
    project.close()
